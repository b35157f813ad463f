/* scg-personas: the synthetic users of a test. From an assistant card it
 * asks a model for personas one request after another, each request told
 * to fill a gap that the earlier personas (their one-line summaries) leave;
 * --from writes the personas of a file as records; --axes is a filter that
 * gives each input record a profile drawn from named axes, without a model. */
#include "ask.h"
#include "conv.h"
#include "axes.h"
#include "card.h"
#include "vary.h"
#include "exec.h"
#include "jv.h"
#include "opt.h"
#include "prompt.h"
#include "rng.h"
#include "pool.h"
#include "schema.h"
#include "run.h"

#include <stdint.h>
#include <string.h>

#define DUP_REASKS 2      /* a near duplicate is asked for again this often */

static const char *card_path, *previous_path, *from_path, *axes_path, *guidance;
static long count = -1;
static int batch = 1, ahead = 1, conversations = 1, yaml_out, cross;
static double similar = 0.6;
static struct model model;
static struct axes axes;

static json_t *assistant;    /* {name, description} */
static struct pool earlier;  /* personas so far: --previous, then the new ones */
static long first_new;       /* number of the first new persona */
static json_t *users;        /* --format yaml: the personas to write at the end */

static const char *const fields[] = {"name", "description", "personality", "scenario", "summary"};
#define NFIELDS (sizeof fields / sizeof *fields)

static const struct opt options[] = {
	OPT_STRING('a', "assistant", &card_path, "FILE",
		   "the assistant card (YAML or JSON: name, description)"),
	OPT_LONG('n', "count", &count, "N", 0, 1000000,
		 "how many personas (default 10; with --from: at most N)"),
	OPT_STRING(0, "previous", &previous_path, "FILE",
		   "personas made before (users: YAML or JSONL records); new ones must differ "
		   "from them"),
	OPT_STRING(0, "guidance", &guidance, "TEXT", "what kind of personas to make"),
	OPT_INT(0, "per-request", &batch, "K", 1, 100, "personas per request (default 1)"),
	OPT_INT(0, "ahead", &ahead, "K", 1, 4096,
		"K requests in flight, each listing the personas taken when it was sent "
		"(default 1: one after another; -j is raised to K)"),
	OPT_DOUBLE(0, "similar", &similar, "X", 0, 1,
		   "ask again for a description whose estimated similarity to an earlier one "
		   "is X or more (default 0.6)"),
	OPT_INT('k', "conversations", &conversations, "K", 1, 10000,
		"K records per persona, ids ID.c1…ID.cK (default 1)"),
	OPT_CHOICE(0, "format", &yaml_out, "jsonl|yaml", "jsonl (default) or yaml (a users: file)"),
	OPT_STRING(0, "from", &from_path, "FILE", "write the personas of FILE as records; no model"),
	OPT_STRING(0, "axes", &axes_path, "FILE",
		   "filter: give each input record a profile drawn from the axes in FILE; no "
		   "model"),
	OPT_FLAG(0, "cross", &cross, "with --axes: one record per allowed combination"),
	OPT_END,
};

/* ---- personas from files ------------------------------------------------ */

/* Writes K records of one persona (ids ID or ID.c1…ID.cK), or keeps it for
 * the YAML file. With a job the records are its output, else stdout. */
static void write_persona(struct job *j, const char *id, json_t *asst, json_t *persona)
{
	if (yaml_out) {
		json_array_append(users, persona);
		return;
	}
	for (int c = 1; c <= conversations; c++) {
		char *cid = conversations > 1 ? xasprintf("%s.c%d", id, c) : xstrdup(id);
		json_t *rec = json_pack("{s:s, s:O, s:O, s:[]}", "id", cid, "assistant", asst ? asst : json_null(),
					"persona", persona, "messages");
		if (!asst)
			json_object_del(rec, "assistant");
		if (j) {
			vary_meta(rec, j->id);
			job_emit(j, rec);
		} else {
			out_record(rec);
			json_decref(rec);
		}
		free(cid);
	}
}

static int from_file(void)
{
	json_t *list = card_personas_load(from_path);
	size_t i;
	json_t *it;
	json_array_foreach(list, i, it) {
		if (count >= 0 && (long)i >= count)
			break;
		json_t *asst = assistant ? assistant : json_object_get(it, "assistant");
		char *id = jv_str(it, "id") ? xstrdup(jv_str(it, "id")) : xasprintf("p%04zu", i + 1);
		write_persona(NULL, id, json_is_object(asst) ? asst : NULL, json_object_get(it, "persona"));
		free(id);
	}
	json_decref(list);
	return 0;
}

/* ---- the model: K requests ahead ---------------------------------------
 *
 * Request r (from 0) is added once request r - K is done and its personas
 * taken, and lists the summaries of the personas known then (known[r]);
 * with K = 1 that is every persona before it. Answers are taken in order:
 * each is checked for near duplicates against every persona before it,
 * those its request did not know included, and asked for again when one
 * is too close. What a request lists and what it is compared with depend
 * only on the order of the requests, not on when answers come, so a seed
 * and K give the same personas every time. */

struct preq {
	struct job *j;
	long known;          /* personas in earlier when the request was added */
	json_t *ctx;         /* what its prompt rendered against, for re-asks */
	json_t *follow_up;   /* its answers and the re-asks that followed them */
	json_t *answer;      /* the personas of its answer, waiting for their turn */
	char *text;          /* that answer as the model wrote it */
	int dups;            /* re-asks for near duplicates so far */
	int answered;        /* answered, or failed (then answer is NULL) */
};

static struct preq *reqs;
static long nreqs, added, taken;

static long req_of(const struct job *j)
{
	return (strtol(j->id + 1, NULL, 10) - first_new) / batch;
}

/* Adds the next request as a record (see above). */
static void feed_next(void)
{
	if (added >= nreqs)
		return;
	reqs[added].known = (long)pool_size(&earlier);
	exec_add(json_pack("{s:o}", "id", json_sprintf("p%04ld", first_new + added * batch)));
	added++;
}

/* Every field said (the answer is asked for again by exec otherwise). */
static int check(struct job *j, const char *text, json_t *answer, struct buf *why, void *ctx)
{
	(void)j;
	(void)text;
	(void)ctx;
	json_t *list = json_object_get(answer, "personas");
	for (size_t i = 0; i < json_array_size(list) && !why->len; i++)
		for (size_t f = 0; f < NFIELDS; f++)
			if (is_blank(jv_str(json_array_get(list, i), fields[f])))
				buf_addf(why, "persona %zu has an empty %s", i + 1, fields[f]);
	return why->len ? -1 : 0;
}

/* No description of q's answer a near duplicate of an earlier one (every
 * persona taken so far, and those before it in the answer): else why, to
 * ask again, DUP_REASKS times; then kept with a warning. */
static void near_dups(struct preq *q, struct buf *why)
{
	json_t *list = q->answer;
	size_t n = json_array_size(list);
	struct nd_set *mine = xcalloc(n ? n : 1, sizeof *mine);
	for (size_t i = 0; i < n && !why->len; i++) {
		json_t *p = json_array_get(list, i), *near;
		nd_text_set(jv_str(p, "description"), POOL_SHINGLE_WORDS, &mine[i]);
		double best = pool_nearest(&earlier, &mine[i], list, mine, i, &near);
		if (best < similar)
			continue;
		if (q->dups >= DUP_REASKS) {
			warnx_("%s: kept '%s' though it is close to '%s' (similarity %.2f)", q->j->id,
			       jv_str(p, "name"), jv_str(near, "name"), best);
			continue;
		}
		buf_addf(why, "%s is too much like an earlier persona (\"%s\", similarity %.2f); "
			 "write a different kind of person", jv_str(p, "name"), pool_summary(near), best);
	}
	for (size_t i = 0; i < n; i++)
		nd_set_free(&mine[i]);
	free(mine);
}

/* Sends request q, or asks again with its follow-up; 0, or -1 when the
 * prompt does not render (the record is then rejected). */
static int ask(struct preq *q)
{
	long first = strtol(q->j->id + 1, NULL, 10);
	long n = first_new + count - first < batch ? first_new + count - first : batch;
	json_t *schema = schema_records("personas", fields, NFIELDS, (int)n);
	int rc = ask_model(q->j, &(struct ask){.model = &model, .prompt = "personas", .ctx = q->ctx,
					       .follow_up = q->follow_up, .schema = schema,
					       .schema_name = "personas", .check = check});
	json_decref(schema);
	return rc;
}

/* Takes the answers that are next in order: writes their personas, or
 * asks again for one with a near duplicate (and waits for it). */
static void take_answers(void)
{
	while (taken < added && reqs[taken].answered) {
		struct preq *q = &reqs[taken];
		if (q->answer) {
			struct buf why = {0};
			near_dups(q, &why);
			if (why.len) {
				q->dups++;
				conv_reask(q->follow_up, q->text, why.p, 1);
				json_decref(q->answer);
				q->answer = NULL;
				q->answered = 0;
				int bad = ask(q);
				buf_free(&why);
				if (!bad)
					return;
				q->answered = 1;
				continue;
			}
			long first = strtol(q->j->id + 1, NULL, 10);
			size_t i;
			json_t *p;
			json_array_foreach(q->answer, i, p) {
				json_t *persona = json_object();
				for (size_t f = 0; f < NFIELDS; f++)
					json_object_set(persona, fields[f], json_object_get(p, fields[f]));
				char id[32];
				snprintf(id, sizeof id, "p%04ld", first + (long)i);
				write_persona(q->j, id, assistant, persona);
				pool_add(&earlier, persona);
				json_decref(persona);
			}
		}
		job_end(q->j);
		json_decref(q->ctx);
		json_decref(q->follow_up);
		json_decref(q->answer);
		free(q->text);
		memset(q, 0, sizeof *q);
		taken++;
		feed_next();
	}
}

static void start_llm(struct job *j)
{
	struct preq *q = &reqs[req_of(j)];
	q->j = j;
	j->data = q;
	job_hold(j);   /* until its answer is taken, in order */
	q->ctx = vary_context(j->rec, j->id);
	json_object_set(q->ctx, "assistant", assistant);
	if (guidance)
		json_object_set_new(q->ctx, "guidance", json_string(guidance));
	pool_prompt_vars(&earlier, q->known, fields, NFIELDS,
			 strstr(prompt_get("personas"), "previous_cards") != NULL, q->ctx);
	long first = strtol(j->id + 1, NULL, 10);
	long n = first_new + count - first < batch ? first_new + count - first : batch;
	json_object_set_new(q->ctx, "count", json_integer(n));
	json_object_set_new(q->ctx, "several", json_boolean(n > 1));
	q->follow_up = json_array();
	if (ask(q)) {
		q->answered = 1;
		take_answers();
	} else if (opts.dry_run) {
		feed_next();   /* no answer will come: show every request */
	}
}

static void done_llm(struct job *j, struct call *c)
{
	struct preq *q = j->data;
	if (!c->ok) {
		job_reject(j, "%s", c->error);
	} else {
		q->answer = json_incref(json_object_get(c->json, "personas"));
		q->text = xstrdup(c->text ? c->text : "");
	}
	q->answered = 1;
	take_answers();
}

/* ---- axes: a filter ------------------------------------------------------ */

static void start_axes(struct job *j)
{
	if (assistant && !json_object_get(j->rec, "assistant"))
		json_object_set(j->rec, "assistant", assistant);
	if (!cross) {
		struct rng g;
		rng_init(&g, opts.seed, j->id, prog_name, "axes");
		axes_apply(&axes, (int)rng_below(&g, (uint64_t)axes.ncombos), j->rec);
		job_emit(j, json_incref(j->rec));
	}
	for (int i = 0; cross && i < axes.ncombos; i++) {
		json_t *rec = json_deep_copy(j->rec);
		char *id = xasprintf("%s%sx%d", j->id, *j->id ? "." : "", i + 1);
		json_object_set_new(rec, "id", json_string(id));
		free(id);
		axes_apply(&axes, i, rec);
		job_emit(j, rec);
	}
	job_end(j);
}

static void done_axes(struct job *j, struct call *c)
{
	(void)j;
	(void)c;
}

int main(int argc, char **argv)
{
	static const struct opt_prog prog = {
		.name = "scg-personas",
		.synopsis = "-a assistant.yaml [-n N] [--previous FILE] [options]\n"
			    "       scg-personas --from FILE [-a assistant.yaml] [options]\n"
			    "       scg-personas --axes FILE [--cross] [options] [file ...]",
		.summary = "Make diverse synthetic-user personas: with a model, from a file, or on axes.",
		.common = OPT_BASIC | OPT_MODEL,
		.opts = options,
	};
	int i = opt_parse(&prog, argc, argv);
	if (opts.jobs < ahead)
		opts.jobs = ahead;
	run_configure_model();
	if (!!from_path + !!axes_path > 1)
		usage_error("--from and --axes exclude each other");
	if (cross && !axes_path)
		usage_error("--cross goes with --axes");
	if (i < argc && !axes_path)
		usage_error("only --axes reads records; personas are made from -a, not from input");
	if (!axes_path && !from_path && !card_path)
		usage_error("an assistant card is needed: -a FILE");
	prompt_init();
	vary_init();
	if (card_path)
		assistant = card_assistant_load(card_path);
	users = json_array();

	if (axes_path) {
		axes_load(&axes, axes_path);
		static const struct exec_ops ops = {.start = start_axes, .done = done_axes};
		return run_records(&ops, argc - i, argv + i);
	}
	if (from_path) {
		int rc = from_file();
		if (yaml_out)
			card_personas_write(users);
		return rc;
	}

	pool_init(&earlier);
	if (previous_path) {
		json_t *prev = card_personas_load(previous_path);
		size_t k;
		json_t *it;
		json_array_foreach(prev, k, it)
			pool_add(&earlier, json_object_get(it, "persona"));
		json_decref(prev);
	}
	if (count < 0)
		count = 10;
	first_new = (long)pool_size(&earlier) + 1;
	model_init(&model);
	nreqs = (count + batch - 1) / batch;
	reqs = xcalloc(nreqs ? (size_t)nreqs : 1, sizeof *reqs);
	for (int k = 0; k < ahead; k++)
		feed_next();   /* the first K requests; each answer taken adds the next */
	static const struct exec_ops ops = {.start = start_llm, .done = done_llm, .reasks = DUP_REASKS + 1};
	int rc = run_records(&ops, 0, NULL);
	if (yaml_out)
		card_personas_write(users);
	return rc;
}
