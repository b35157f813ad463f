/* scg-personas: the synthetic users of a test. From an assistant card it
 * asks a model for personas one request after another, each request told
 * to fill a gap that the earlier personas (their one-line summaries) leave;
 * --from writes the personas of a file as records; --axes is a filter that
 * gives each input record a profile drawn from named axes, without a model. */
#include "ask.h"
#include "axes.h"
#include "card.h"
#include "vary.h"
#include "exec.h"
#include "jv.h"
#include "opt.h"
#include "prompt.h"
#include "rng.h"
#include "neardup.h"
#include "run.h"

#include <stdint.h>
#include <string.h>

#define SHINGLE_WORDS 3   /* descriptions are short: 3-word shingles */
#define DUP_REASKS 2      /* a near duplicate is asked for again this often */

static const char *card_path, *previous_path, *from_path, *axes_path, *guidance;
static long count = -1;
static int batch = 1, conversations = 1, yaml_out, cross;
static double similar = 0.6;
static struct model model;
static struct axes axes;

static json_t *assistant;    /* {name, description} */
static json_t *earlier;      /* personas so far: --previous, then the new ones */
static struct nd_set *sets;  /* their descriptions' shingle sets */
static long first_new;       /* number of the first new persona */
static long next_request;    /* number of the next request's first persona */
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

static void remember(json_t *persona)
{
	size_t n = json_array_size(earlier);
	sets = xrealloc(sets, sizeof *sets * (n + 1));
	memset(&sets[n], 0, sizeof *sets);
	nd_text_set(jv_str(persona, "description") ? jv_str(persona, "description") : "",
		    SHINGLE_WORDS, &sets[n]);
	json_array_append(earlier, persona);
}

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

/* ---- the model: one request after another ---------------------------- */

/* Adds the next request as a record, once the request before it has its
 * answer, so that every request knows every persona made before it. */
static void feed_next(void)
{
	if (next_request >= first_new + count)
		return;
	exec_add(json_pack("{s:o}", "id", json_sprintf("p%04ld", next_request)));
	next_request += batch;
}

static const char *summary_of(json_t *p)
{
	const char *s = jv_str(p, "summary");
	return s && *s ? s : jv_str(p, "description") ? jv_str(p, "description") : jv_str(p, "name");
}

static json_t *schema_for(int n)
{
	json_t *props = json_object();
	for (size_t i = 0; i < NFIELDS; i++)
		json_object_set_new(props, fields[i], json_pack("{s:s}", "type", "string"));
	json_t *req = json_array();
	for (size_t i = 0; i < NFIELDS; i++)
		json_array_append_new(req, json_string(fields[i]));
	json_t *item = json_pack("{s:s, s:o, s:o, s:b}", "type", "object", "properties", props,
				 "required", req, "additionalProperties", 0);
	return json_pack("{s:s, s:{s:{s:s, s:o, s:i, s:i}}, s:[s], s:b}", "type", "object", "properties",
			 "personas", "type", "array", "items", item, "minItems", n, "maxItems", n,
			 "required", "personas", "additionalProperties", 0);
}

/* The prompt's variables: the one-line summaries of earlier personas, and
 * (for a prompt that asks for them) their whole cards. */
static void add_previous(json_t *ctx)
{
	if (!json_array_size(earlier))
		return;
	struct buf lines = {0}, cards = {0};
	int want_cards = strstr(prompt_get("personas"), "previous_cards") != NULL;
	size_t i;
	json_t *p;
	json_array_foreach(earlier, i, p) {
		buf_addf(&lines, "%s- %s", i ? "\n" : "", summary_of(p));
		for (size_t f = 0; want_cards && f < NFIELDS; f++)
			buf_addf(&cards, "%s%s: %s", f ? "\n  " : i ? "\n- " : "- ", fields[f],
				 jv_str(p, fields[f]) ? jv_str(p, fields[f]) : "");
	}
	json_object_set_new(ctx, "previous", json_string(lines.p));
	if (want_cards)
		json_object_set_new(ctx, "previous_cards", json_string(cards.p));
	buf_free(&lines);
	buf_free(&cards);
}

/* Every field said, and no description a near duplicate of an earlier one
 * (asked again DUP_REASKS times, then kept with a warning). */
static int check(struct job *j, const char *text, json_t *answer, struct buf *why, void *ctx)
{
	(void)text;
	(void)ctx;
	json_t *list = json_object_get(answer, "personas");
	size_t n = json_array_size(list), have = json_array_size(earlier);
	struct nd_set *mine = xcalloc(n ? n : 1, sizeof *mine);
	for (size_t i = 0; i < n && !why->len; i++) {
		json_t *p = json_array_get(list, i);
		for (size_t f = 0; f < NFIELDS; f++)
			if (is_blank(jv_str(p, fields[f])))
				buf_addf(why, "persona %zu has an empty %s", i + 1, fields[f]);
		if (why->len)
			break;
		nd_text_set(jv_str(p, "description"), SHINGLE_WORDS, &mine[i]);
		double best = -1;
		json_t *near = NULL;
		for (size_t k = 0; k < have + i; k++) {
			double s = nd_jaccard(&mine[i], k < have ? &sets[k] : &mine[k - have]);
			if (s > best) {
				best = s;
				near = k < have ? json_array_get(earlier, k) : json_array_get(list, k - have);
			}
		}
		if (best < similar)
			continue;
		if ((intptr_t)j->data >= DUP_REASKS) {
			warnx_("%s: kept '%s' though it is close to '%s' (similarity %.2f)", j->id,
			       jv_str(p, "name"), jv_str(near, "name"), best);
			continue;
		}
		j->data = (void *)((intptr_t)j->data + 1);
		buf_addf(why, "%s is too much like an earlier persona (\"%s\", similarity %.2f); "
			 "write a different kind of person", jv_str(p, "name"), summary_of(near), best);
	}
	for (size_t i = 0; i < n; i++)
		nd_set_free(&mine[i]);
	free(mine);
	return why->len ? -1 : 0;
}

static void start_llm(struct job *j)
{
	long first = strtol(j->id + 1, NULL, 10);
	long n = first_new + count - first < batch ? first_new + count - first : batch;
	json_t *ctx = vary_context(j->rec, j->id);
	json_object_set(ctx, "assistant", assistant);
	if (guidance)
		json_object_set_new(ctx, "guidance", json_string(guidance));
	add_previous(ctx);
	json_object_set_new(ctx, "count", json_integer(n));
	json_object_set_new(ctx, "several", json_boolean(n > 1));
	json_t *schema = schema_for((int)n);
	if (ask_model(j, &(struct ask){.model = &model, .prompt = "personas", .ctx = ctx,
				       .schema = schema, .schema_name = "personas", .check = check})) {
		job_end(j);
		feed_next();
	} else if (opts.dry_run) {
		feed_next();   /* no answer will come: show every request */
	}
	json_decref(schema);
	json_decref(ctx);
}

static void done_llm(struct job *j, struct call *c)
{
	if (!c->ok) {
		job_reject(j, "%s", c->error);
	} else {
		long first = strtol(j->id + 1, NULL, 10);
		size_t i;
		json_t *p;
		json_array_foreach(json_object_get(c->json, "personas"), i, p) {
			json_t *persona = json_object();
			for (size_t f = 0; f < NFIELDS; f++)
				json_object_set(persona, fields[f], json_object_get(p, fields[f]));
			char id[32];
			snprintf(id, sizeof id, "p%04ld", first + (long)i);
			write_persona(j, id, assistant, persona);
			remember(persona);
			json_decref(persona);
		}
	}
	job_end(j);
	feed_next();
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

	earlier = json_array();
	if (previous_path) {
		json_t *prev = card_personas_load(previous_path);
		size_t k;
		json_t *it;
		json_array_foreach(prev, k, it)
			remember(json_object_get(it, "persona"));
		json_decref(prev);
	}
	if (count < 0)
		count = 10;
	first_new = next_request = (long)json_array_size(earlier) + 1;
	model_init(&model);
	feed_next();   /* the first request; each answer adds the next */
	static const struct exec_ops ops = {.start = start_llm, .done = done_llm, .reasks = DUP_REASKS + 1};
	int rc = run_records(&ops, 0, NULL);
	if (yaml_out)
		card_personas_write(users);
	return rc;
}
