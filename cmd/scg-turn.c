/* scg-turn: appends the next message to every conversation that is not
 * done: the synthetic user's (a model playing the persona), or the
 * assistant's (an HTTP endpoint, a command, or a model, which with --tools
 * may call tools first: lib/agent.h); or, with --script N, the whole rest
 * of the conversation in one structured call. */
#include "agent.h"
#include "ask.h"
#include "card.h"
#include "vary.h"
#include "endpoint.h"
#include "exec.h"
#include "jv.h"
#include "opt.h"
#include "prompt.h"
#include "conv.h"
#include "run.h"
#include "script.h"

#include <string.h>

enum side { SIDE_AUTO, SIDE_USER, SIDE_ASSISTANT, SIDE_SCRIPT };

static enum side side = SIDE_AUTO;
static int script_exchanges;    /* --script N */
static int no_system;           /* --no-system */
static const char *endpoint_path, *endpoint_cmd, *card_path;
static json_t *card;              /* --character FILE */
static struct endpoint ep;
static struct model model;
static int tools;                 /* --tools (lib/agent.h) */

static void side_opt(const char *name, const char *arg)
{
	static const enum side sides[] = {SIDE_USER, SIDE_ASSISTANT, SIDE_AUTO};
	side = sides[opt_choice(name, arg, "user|assistant|auto")];
}

static const struct opt options[] = {
	OPT_CALL(0, "side", "SIDE", side_opt,
		 "user, assistant or auto (default: whoever speaks next)"),
	OPT_STRING('e', "endpoint", &endpoint_path, "FILE",
		   "the assistant under test: an endpoint file (YAML or JSON)"),
	OPT_STRING(0, "endpoint-cmd", &endpoint_cmd, "CMD",
		   "the assistant under test: a command that reads the record on stdin and "
		   "writes the reply on stdout"),
	OPT_INT(0, "script", &script_exchanges, "N", 1, 1000,
		"write the rest of each conversation, up to N exchanges, in one structured "
		"call, and mark it done"),
	OPT_FLAG(0, "no-system", &no_system,
		 "do not put the assistant's system prompt first in the record"),
	OPT_STRING(0, "character", &card_path, "FILE",
		   "character card (YAML or JSON) for records that have none"),
	OPT_END,
};

/* Puts the system prompt the assistant answers under first in rec's
 * messages, unless they have one (or --no-system): text, else prompt NAME
 * rendered against the record, else nothing. The record carries what a
 * trainer needs; the user's side never sees it. */
static int put_system(struct job *j, json_t *rec, const char *text, const char *name,
		      struct buf *err)
{
	json_t *msgs = json_object_get(rec, "messages");
	if (no_system || conv_has_system(msgs))
		return 0;
	if (text || !name) {
		conv_put_system(msgs, text);
		return 0;
	}
	json_t *ctx = vary_context(rec, j->id);
	int bad = prompt_put_system(name, ctx, msgs, err);
	json_decref(ctx);
	return bad;
}

/* The assistant's system prompt for the record: the endpoint's (its file's
 * system:, or a body.system string as Anthropic's API takes it), else one
 * made from the assistant card (prompt assistant-system), else none. */
static int assistant_system(struct job *j, json_t *rec, struct buf *err)
{
	const char *text = NULL;
	if (endpoint_path)
		text = ep.system ? ep.system : jv_str(ep.body, "system");
	if (text)
		return put_system(j, rec, text, NULL, err);
	if (json_is_object(json_object_get(rec, "assistant")))
		return put_system(j, rec, NULL, "assistant-system", err);
	return 0;
}

/* The user model must not speak for the assistant, and must say something. */
static int check_user(struct job *j, const char *text, json_t *answer, struct buf *why, void *ctx)
{
	(void)answer;
	(void)ctx;
	const char *said = conv_skip_label(text, NULL);
	if (!*said) {
		buf_adds(why, "the message was empty; write the user's next message");
		return -1;
	}
	json_t *names = json_pack("[s, s]", "assistant", "ai");
	json_array_append(names, json_object_get(json_object_get(j->rec, "assistant"), "name"));
	int labelled = conv_skip_label(text, names) != said;
	json_decref(names);
	if (labelled) {
		buf_adds(why, "you wrote the assistant's part; write only the user's next message");
		return -1;
	}
	return 0;
}

/* Drops a speaker label ("User:", the persona's name) and wrapping quotes. */
static char *clean_user_text(struct job *j, const char *text)
{
	json_t *names = json_pack("[s]", "user");
	json_array_append(names, json_object_get(json_object_get(j->rec, "persona"), "name"));
	char *t = conv_trim(conv_skip_label(text, names));
	json_decref(names);
	size_t len = strlen(t);
	if (len >= 2 && t[0] == '"' && t[len - 1] == '"' && !memchr(t + 1, '"', len - 2)) {
		memmove(t, t + 1, len - 2);
		t[len - 2] = 0;
	}
	return t;
}

static void start_user(struct job *j, json_t *msgs)
{
	/* the model plays the user: every message is kept, roles flipped */
	json_t *flipped = conv_flipped(msgs);
	if (!conv_last_role(msgs))
		json_array_append_new(flipped, conv_msg("user", prompt_get("turn-user-first")));
	if (ask_model(j, &(struct ask){.model = &model, .prompt = "turn-user", .conversation = flipped,
				       .check = check_user, .tag = SIDE_USER}))
		job_end(j);
	json_decref(flipped);
}

static void start_assistant(struct job *j, json_t *msgs)
{
	if (endpoint_path) {
		/* the endpoint gets its file's system: only, never the record's */
		json_t *spoken = conv_spoken_messages(msgs);
		char *body = endpoint_body(&ep, spoken);
		json_decref(spoken);
		job_endpoint(j, &ep, body, SIDE_ASSISTANT, NULL);
		free(body);
		return;
	}
	if (endpoint_cmd) {
		char *in = jv_compact(j->rec);
		job_cmd(j, endpoint_cmd, in, SIDE_ASSISTANT, NULL);
		free(in);
		return;
	}
	if (tools) {
		if (agent_start(j))
			job_end(j);
		return;
	}
	json_t *spoken = conv_spoken_messages(msgs);
	if (ask_model(j, &(struct ask){.model = &model, .prompt = "turn-assistant", .conversation = spoken,
				       .tag = SIDE_ASSISTANT}))
		job_end(j);
	json_decref(spoken);
}

/* ---- --script N: the rest of the conversation in one structured call ---- */

/* The messages an answer adds, or NULL with why (naming the speakers). */
static json_t *script_messages(struct job *j, json_t *answer, struct buf *why)
{
	json_t *ctx = vary_context(j->rec, j->id);
	json_t *got = script_answer(answer, ctx, json_object_get(j->rec, "messages"), script_exchanges, why);
	json_decref(ctx);
	return got;
}

static int check_script(struct job *j, const char *text, json_t *answer, struct buf *why, void *ctx)
{
	(void)text;
	(void)ctx;
	json_t *got = script_messages(j, answer, why);
	int ok = got != NULL;
	json_decref(got);
	return ok ? 0 : -1;
}

static void finish_script(struct job *j, json_t *rec, const char *reason, const char *by)
{
	script_end(rec, reason, by);
	job_emit(j, rec);
	job_end(j);
}

static void start_script(struct job *j, json_t *msgs)
{
	const char *last = conv_last_role(msgs);
	if (last && !strcmp(last, "assistant") && conv_user_turns(msgs) >= script_exchanges) {
		finish_script(j, json_incref(j->rec), "max_turns", "limit");
		return;
	}
	struct script_cast cast;
	json_t *ctx = vary_context(j->rec, j->id);
	script_cast(ctx, &cast);
	struct buf err = {0};
	if (script_prompt_vars(ctx, &cast, msgs, script_exchanges, prompt_get("turn-script-protective"), &err)) {
		job_reject(j, "%s", err.p);
		job_end(j);
	} else {
		/* one exchange at least; room for a repeated seed and a last word */
		int left = script_max_user(msgs, script_exchanges) - conv_user_turns(msgs);
		json_t *schema = script_schema(&cast, last && !strcmp(last, "user") ? 1 : 2, 2 * left + 2);
		if (ask_model(j, &(struct ask){.model = &model, .prompt = "turn-script", .ctx = ctx,
					       .schema = schema, .schema_name = "script", .check = check_script,
					       .tag = SIDE_SCRIPT}))
			job_end(j);
		json_decref(schema);
	}
	json_decref(ctx);
	script_cast_free(&cast);
	buf_free(&err);
}

static void done_script(struct job *j, struct call *c)
{
	struct buf why = {0};
	json_t *got = c->ok ? script_messages(j, c->json, &why) : NULL;
	if (!got) {
		job_reject(j, "%s", c->ok ? why.p : c->error);
		job_end(j);
	} else if (jv_str(json_object_get(j->rec, "character"), "name") &&
		   put_system(j, j->rec, NULL, "dpo-system", &why)) {
		job_reject(j, "%s", why.p);
		job_end(j);
	} else {
		json_t *rec = json_incref(j->rec);
		json_array_extend(json_object_get(rec, "messages"), got);
		vary_meta(rec, j->id);
		finish_script(j, rec, "script", "script");
	}
	json_decref(got);
	buf_free(&why);
}

static void start(struct job *j)
{
	card_stamp(j->rec, card, CARD_IF_MISSING);
	if (json_is_true(json_object_get(j->rec, "done"))) {
		job_emit(j, json_incref(j->rec));
		job_end(j);
		return;
	}
	json_t *msgs = json_object_get(j->rec, "messages");
	if (msgs && !json_is_array(msgs)) {
		job_reject(j, "messages is not a list");
		job_end(j);
		return;
	}
	if (!msgs) {
		msgs = json_array();
		json_object_set_new(j->rec, "messages", msgs);
	}
	if (script_exchanges) {
		start_script(j, msgs);
		return;
	}
	const char *last = conv_last_role(msgs);
	enum side s = side;
	if (s == SIDE_AUTO)
		s = last && !strcmp(last, "user") ? SIDE_ASSISTANT : SIDE_USER;
	if (s == SIDE_ASSISTANT && !last) {
		job_reject(j, "no user message for the assistant to answer");
		job_end(j);
		return;
	}
	if (s == SIDE_USER)
		start_user(j, msgs);
	else
		start_assistant(j, msgs);
}

/* Writes the assistant's or the user's message (text; NULL when a limit
 * of the tool rounds ended the conversation instead) into the record. */
static void finish_turn(struct job *j, int user, const char *text)
{
	json_t *rec = json_incref(j->rec);
	struct buf err = {0};
	if (!user && assistant_system(j, rec, &err)) {
		job_reject(j, "%s", err.p);
		buf_free(&err);
		json_decref(rec);
		agent_drop(j);
		job_end(j);
		return;
	}
	if (user || !(endpoint_path || endpoint_cmd))
		vary_meta(rec, j->id);
	if (tools && !user)
		agent_finish(j, rec);
	if (text)
		json_array_append_new(json_object_get(rec, "messages"), conv_msg(user ? "user" : "assistant", text));
	job_emit(j, rec);
	job_end(j);
}

static void done(struct job *j, struct call *c)
{
	if (c->tag == SIDE_SCRIPT) {
		done_script(j, c);
		return;
	}
	if (c->tag >= AGENT_TAG) {
		switch (agent_done(j, c)) {
		case AGENT_WAIT:
			return;
		case AGENT_FAILED:
			job_end(j);
			return;
		case AGENT_STOPPED:
			finish_turn(j, 0, NULL);
			return;
		case AGENT_ANSWERED:
			break;
		}
	}
	if (job_failed(j, c))
		return;
	char *text = NULL;
	if (c->tag == SIDE_USER) {
		text = clean_user_text(j, c->text);
	} else if (endpoint_path) {
		text = xstrdup(c->text);   /* the reply exec found in the body */
	} else {
		text = conv_trim(c->text);   /* a command's stdout, or the model's answer */
	}
	if (!*text) {
		job_reject(j, "the %s's message was empty", c->tag == SIDE_USER ? "user" : "assistant");
		free(text);
		agent_drop(j);
		job_end(j);
		return;
	}
	finish_turn(j, c->tag == SIDE_USER, text);
	free(text);
}

int main(int argc, char **argv)
{
	static const struct opt_prog prog = {
		.name = "scg-turn",
		.synopsis = "[--side user|assistant|auto] [-e endpoint.yaml | --endpoint-cmd CMD] [options] [file ...]\n"
			    "       scg-turn --side assistant --tools FILE (--tool-cmd CMD | --tool-sim) [options] [file ...]\n"
			    "       scg-turn --script N [options] [file ...]",
		.summary = "Append the next message to every conversation that is not done.",
		.common = OPT_BASIC | OPT_MODEL,
		.opts = options,
		.more_title = "Tools",
		.more = agent_options,
	};
	int i = opt_parse(&prog, argc, argv);
	run_configure_model();
	if (endpoint_path && endpoint_cmd)
		usage_error("--endpoint and --endpoint-cmd exclude each other");
	if (script_exchanges && (side != SIDE_AUTO || endpoint_path || endpoint_cmd))
		usage_error("--script writes both sides; it does not go with --side or an endpoint");
	if (side == SIDE_USER && (endpoint_path || endpoint_cmd))
		usage_error("--endpoint plays the assistant; it does not go with --side user");
	if (opts.batch && (endpoint_path || endpoint_cmd))
		usage_error("--batch: the assistant under test (%s) has no batch API; it is asked online: "
			    "give --batch to the other stages only", endpoint_path ? "an endpoint file" : "a command");
	if (agent_opts.tools && (endpoint_path || endpoint_cmd || script_exchanges))
		usage_error("--tools is for an assistant that is a model; it does not go with %s",
			    script_exchanges ? "--script" : endpoint_path ? "--endpoint" : "--endpoint-cmd");
	prompt_init();
	vary_init();
	if (card_path)
		card = card_load(card_path);
	if (endpoint_path)
		endpoint_load(&ep, endpoint_path);
	tools = agent_setup(&model, opts.dry_run);
	if (!(side == SIDE_ASSISTANT && (endpoint_path || endpoint_cmd)))
		model_init(&model);
	/* an empty or garbled message is asked for once more; a script that
	 * maps to nothing usable three times */
	static const struct exec_ops ops = {.start = start, .done = done, .reasks = 1},
		script_ops = {.start = start, .done = done, .reasks = 3};
	return run_records(script_exchanges ? &script_ops : &ops, argc - i, argv + i);
}
