/* scg-dpo: preference pairs in TRL's conversational format. From each
 * record's messages it takes the prompt (up to the last user turn) and
 * writes prompt, chosen and rejected (one assistant message each). The two
 * answers come from two independent requests, or chosen is the
 * conversation's own last assistant turn; a pair whose answers are the same
 * or nearly so is asked again, then rejected, never written. The rejected
 * answer is an anachronism in the character's voice, or (compliant, the
 * original tool's) the plain answer any assistant would give. */
#include "ask.h"
#include "card.h"
#include "conv.h"
#include "vary.h"
#include "exec.h"
#include "jv.h"
#include "neardup.h"
#include "opt.h"
#include "prompt.h"
#include "run.h"

#include <string.h>

enum { CHOSEN, REJECTED };

static int from_last, compliant, no_system;
static const char *card_path;
static json_t *card;             /* --character FILE */
static long tries = 3;
static const char *side_prompt[2] = {"dpo-chosen", "dpo-rejected"};
static struct model model;

struct pair {
	json_t *prompt;         /* the output's prompt */
	char *answer[2];
	int asked;              /* rejected answers asked for */
};

/* in-character is the older name of anachronism */
static void pair_opt(const char *name, const char *arg)
{
	from_last = !strcmp(arg, "from-last");
	compliant = !strcmp(arg, "compliant");
	if (!from_last && !compliant && strcmp(arg, "anachronism") && strcmp(arg, "in-character"))
		usage_error("%s: expected anachronism, compliant or from-last, got '%s'", name, arg);
}

static const struct opt options[] = {
	OPT_CALL(0, "pair", "STYLE", pair_opt,
		 "both answers generated, chosen in character, rejected: anachronism (default; "
		 "also in-character) in the character's voice with knowledge the character "
		 "cannot have, or compliant a plain answer as any assistant would give it; "
		 "from-last: chosen is the last assistant turn, rejected a generated answer "
		 "that breaks character"),
	OPT_STRING(0, "character", &card_path, "FILE",
		   "character card (YAML or JSON) for records that have none"),
	OPT_LONG(0, "tries", &tries, "N", 1, 20,
		 "rejected answers asked for before a pair whose answers are (nearly) the same "
		 "is rejected (default 3)"),
	OPT_FLAG(0, "no-system", &no_system,
		 "do not put a system message naming the character first"),
	OPT_END,
};

/* --prompt chosen=FILE, rejected=FILE and system=FILE name this program's prompts. */
static void short_prompt_names(void)
{
	for (int i = 0; i < opts.nprompts; i++) {
		const char *n = opts.prompts[i].name, *full = NULL;
		if (!strcmp(n, "chosen"))
			full = side_prompt[CHOSEN];
		else if (!strcmp(n, "rejected"))
			full = side_prompt[REJECTED];
		else if (!strcmp(n, "system"))
			full = "dpo-system";
		if (full)
			opts.prompts[i].name = xstrdup(full);
	}
}

static const char *role_of(json_t *m)
{
	const char *r = jv_str(m, "role");
	return r ? r : "";
}

/* The answer trimmed, without a speaker label the model may put in front. */
static char *clean(struct job *j, const char *text)
{
	json_t *names = json_pack("[s]", "assistant");
	json_t *ch = json_object_get(j->rec, "character");
	if (jv_str(ch, "name"))
		json_array_append(names, json_object_get(ch, "name"));
	if (json_is_array(json_object_get(ch, "aliases")))
		json_array_extend(names, json_object_get(ch, "aliases"));
	char *t = conv_trim(conv_skip_label(text, names));
	json_decref(names);
	return t;
}

static int check_answer(struct job *j, const char *text, json_t *answer, struct buf *why, void *ctx)
{
	(void)answer;
	(void)ctx;
	char *t = clean(j, text);
	if (!*t)
		buf_adds(why, "the answer was empty; write the reply");
	free(t);
	return why->len ? -1 : 0;
}

/* The messages to answer: up to the last user turn (from-last: before the
 * last assistant turn, which is the chosen answer). NULL with why. */
static json_t *take_prompt(struct job *j, struct pair *p, const char **why)
{
	json_t *msgs = json_object_get(j->rec, "messages");
	if (!json_is_array(msgs)) {
		*why = "no messages to take the prompt from";
		return NULL;
	}
	size_t n = json_array_size(msgs), i;
	json_t *m;
	json_array_foreach(msgs, i, m)
		if (!jv_str(m, "role") || !jv_str(m, "content")) {
			*why = "a message without a role or content";
			return NULL;
		}
	size_t last = n;
	while (last > 0 && !strcmp(role_of(json_array_get(msgs, last - 1)), "system"))
		last--;
	int ends_assistant = last > 0 && !strcmp(role_of(json_array_get(msgs, last - 1)), "assistant");
	if (from_last && !ends_assistant) {
		*why = "--pair from-last: the conversation does not end with an assistant turn";
		return NULL;
	}
	if (ends_assistant) {
		last--;
		if (from_last) {
			p->answer[CHOSEN] = clean(j, jv_str(json_array_get(msgs, last), "content"));
			if (!*p->answer[CHOSEN]) {
				*why = "the last assistant turn is empty";
				return NULL;
			}
		}
	}
	size_t cut = last;
	while (last > 0 && !strcmp(role_of(json_array_get(msgs, last - 1)), "system"))
		last--;
	if (!last || strcmp(role_of(json_array_get(msgs, last - 1)), "user")) {
		*why = "no user turn to answer";
		return NULL;
	}
	json_t *prompt = json_array();
	for (i = 0; i < cut; i++)
		json_array_append(prompt, json_array_get(msgs, i));
	return prompt;
}

/* Sends one side's request; -1 (the record rejected) when its prompt fails. */
static int ask(struct job *j, struct pair *p, int side)
{
	json_t *ctx = vary_context(j->rec, j->id);
	size_t i;
	json_t *m, *question = NULL;
	json_array_foreach(p->prompt, i, m)
		if (!strcmp(role_of(m), "user"))
			question = json_object_get(m, "content");
	json_object_set(ctx, "question", question);
	/* the model sees the conversation under the side's system prompt,
	 * not the conversation's own system message */
	json_t *conversation = json_array();
	json_array_foreach(p->prompt, i, m)
		if (strcmp(role_of(m), "system"))
			json_array_append(conversation, m);
	int bad = ask_model(j, &(struct ask){.model = &model, .prompt = side_prompt[side], .ctx = ctx,
		.conversation = conversation, .check = check_answer, .tag = side,
		.sample = side == CHOSEN ? 0 : ++p->asked});
	json_decref(conversation);
	json_decref(ctx);
	return bad;
}

/* A system message saying who speaks, where the prompt has none. */
static int add_system(struct job *j, json_t *prompt, struct buf *err)
{
	if (no_system || !jv_str(json_object_get(j->rec, "character"), "name"))
		return 0;
	json_t *ctx = vary_context(j->rec, j->id);
	int bad = prompt_put_system("dpo-system", ctx, prompt, err);
	json_decref(ctx);
	return bad;
}

static void pair_free(struct pair *p)
{
	json_decref(p->prompt);
	free(p->answer[CHOSEN]);
	free(p->answer[REJECTED]);
	free(p);
}

static void finish(struct job *j)
{
	pair_free(j->data);
	j->data = NULL;
	job_end(j);
}

static void start(struct job *j)
{
	card_stamp(j->rec, card, CARD_IF_MISSING);
	struct pair *p = xcalloc(1, sizeof *p);
	j->data = p;
	const char *why = NULL;
	struct buf err = {0};
	p->prompt = take_prompt(j, p, &why);
	if (!p->prompt || add_system(j, p->prompt, &err)) {
		job_reject(j, "%s", why ? why : err.p);
		finish(j);
	} else if ((!from_last && ask(j, p, CHOSEN)) || ask(j, p, REJECTED) || opts.dry_run) {
		finish(j);   /* rejected, or a dry run: no answers come */
	}
	buf_free(&err);
}

static json_t *one_answer(const char *text)
{
	return json_pack("[{s:s, s:s}]", "role", "assistant", "content", text);
}

static void done(struct job *j, struct call *c)
{
	struct pair *p = j->data;
	if (!c->ok) {
		job_reject(j, "the %s answer failed: %s", c->tag == CHOSEN ? "chosen" : "rejected", c->error);
		finish(j);
		return;
	}
	free(p->answer[c->tag]);
	p->answer[c->tag] = clean(j, c->text);
	if (!p->answer[CHOSEN] || !p->answer[REJECTED])
		return;   /* the other side is still on its way */
	/* the same words, or more than 90% of their distinct words shared */
	if (nd_similarity(p->answer[CHOSEN], p->answer[REJECTED], 1) > 0.9) {
		if (p->asked < tries) {
			ask(j, p, REJECTED);
			return;
		}
		job_reject(j, "chosen and rejected answers are the same or nearly so, after %d tries", p->asked);
		finish(j);
		return;
	}
	json_t *with = json_pack("{s:O, s:o, s:o}", "prompt", p->prompt,
		"chosen", one_answer(p->answer[CHOSEN]), "rejected", one_answer(p->answer[REJECTED]));
	json_t *out = record_derive(j->rec, with, "messages");
	vary_meta(out, j->id);
	job_emit(j, out);
	finish(j);
}

int main(int argc, char **argv)
{
	static const struct opt_prog prog = {
		.name = "scg-dpo",
		.synopsis = "[--pair anachronism|compliant|from-last] [--character FILE] [--prompt chosen=FILE]\n"
			    "       [--prompt rejected=FILE] [options] [file ...]",
		.summary = "Write preference pairs (prompt, chosen, rejected) in TRL's conversational format.",
		.common = OPT_BASIC | OPT_MODEL,
		.opts = options,
	};
	int i = opt_parse(&prog, argc, argv);
	if (from_last || compliant)
		side_prompt[REJECTED] = "dpo-break";
	if (card_path)
		card = card_load(card_path);
	short_prompt_names();
	run_configure_model();
	prompt_init();
	vary_init();
	model_init(&model);
	static const struct exec_ops ops = {.start = start, .done = done, .reasks = 2};
	return run_records(&ops, argc - i, argv + i);
}
