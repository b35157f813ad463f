/* scg-scenes: turns source records (knowledge chunks, profile paragraphs)
 * into conversation set-ups, k of them per record from one structured
 * call; with --kind tasks, any records (personas) into tasks that need
 * the tools of --tools; or, with --kind opening, seed messages into
 * conversations that open with them, without a model call. */
#include "ask.h"
#include "card.h"
#include "conf.h"
#include "vary.h"
#include "exec.h"
#include "jv.h"
#include "opt.h"
#include "prompt.h"
#include "run.h"
#include "tools.h"

#include <ctype.h>
#include <string.h>

struct field {
	const char *name, *about;
};

static const struct kind {
	const char *name;       /* --kind */
	const char *label;      /* scene.kind */
	char suffix;            /* id suffix: p0007.s2 */
	const char *list;       /* the answer's array */
	struct field fields[6];
} kinds[] = {
	{"topic", "topic", 't', "topics", {
		{"goal", "what the user wants to know or do"},
		{"user", "who the user is: situation, expertise, mood"},
		{"flow", "how the conversation should go"}}},
	{"scene", "scene", 's', "scenes", {
		{"location", "where the scene takes place"},
		{"situation", "what is going on when the conversation starts"},
		{"interaction", "the kind of interaction: interview, lesson, argument, chance meeting..."},
		{"participant", "the other person: name, who they are, their relation to the character"}}},
	{"adversarial", "adversarial", 'a', "scenes", {
		{"location", "where the scene takes place"},
		{"situation", "what is going on when the conversation starts"},
		{"interaction", "the kind of interaction"},
		{"participant", "the other person: name, who they are, their relation to the character"},
		{"trap", "the false premise or out-of-time knowledge the participant tries to make the character accept"}}},
	{"questions", "question", 'q', "questions", {
		{"topic", "the subject, in a few words"},
		{"question", "the question, as the person would put it to the character"},
		{"why_unknown", "why the character cannot know the answer"}}},
	{"tasks", "task", 'g', "tasks", {
		{"goal", "what the user wants done, as the user sees it"},
		{"facts", "what the user knows and can tell: names, numbers, ids, dates"},
		{"outcome", "what should be true once the task is done"}}},
	{"opening", "opening", 0, NULL, {{0}}},
};

static const struct kind *kind = &kinds[0];
static long k = 3;
static const char *card_path, *field = "text", *tools_path, *state_path;
static json_t *card, *schema, *tools, *state;
static struct model model;

static void kind_opt(const char *name, const char *arg)
{
	for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
		if (!strcmp(arg, kinds[i].name)) {
			kind = &kinds[i];
			return;
		}
	usage_error("%s: expected topic, scene, adversarial, questions, tasks or opening, got '%s'", name, arg);
}

static const struct opt options[] = {
	OPT_CALL(0, "kind", "KIND", kind_opt,
		 "topic (default), scene, adversarial, questions, tasks, or opening"),
	OPT_LONG('k', NULL, &k, "N", 1, 100, "set-ups per input record (default 3)"),
	OPT_STRING(0, "character", &card_path, "FILE",
		   "character card (YAML or JSON: name, aliases, era, description)"),
	OPT_STRING(0, "field", &field, "PATH",
		   "opening: where JSON input records hold the seed (default text)"),
	OPT_STRING(0, "tools", &tools_path, "FILE",
		   "tasks: the tools the assistant can call (YAML or JSON, OpenAI's function format)"),
	OPT_STRING(0, "tool-state", &state_path, "FILE",
		   "tasks: the data the tools work on (JSON or YAML); each task then says how to "
		   "check it was done (task.checks)"),
	OPT_END,
};

/* {"<list>": [k items of the kind's fields, all strings]} */
static json_t *make_schema(void)
{
	json_t *props = json_object(), *req = json_array();
	for (const struct field *f = kind->fields; f->name; f++) {
		json_object_set_new(props, f->name, json_pack("{s:s, s:s}", "type", "string", "description", f->about));
		json_array_append_new(req, json_string(f->name));
	}
	char *about = xasprintf("exactly %ld, each different from the others", k);
	json_t *s = json_pack("{s:s, s:{s:{s:s, s:s, s:I, s:{s:s, s:o, s:o, s:b}}}, s:[s], s:b}",
		"type", "object", "properties", kind->list, "type", "array", "description", about,
		"minItems", (json_int_t)k, "items", "type", "object", "properties", props,
		"required", req, "additionalProperties", 0, "required", kind->list,
		"additionalProperties", 0);
	free(about);
	if (state) {
		/* a task over a state says how to check it was done */
		json_object_set_new(props, "checks", json_pack("{s:s, s:s, s:{s:s, s:{s:{s:s}, s:{s:s}}, s:[ss], s:b}}",
			"type", "array", "description", "values of the data that show the task was done",
			"items", "type", "object", "properties", "path", "type", "string", "equals", "type",
			"string", "required", "path", "equals", "additionalProperties", 0));
		json_array_append_new(req, json_string("checks"));
	}
	return s;
}

static int needs_character(void)
{
	return kind->suffix != 't' && kind->suffix != 'g';
}

static void start(struct job *j)
{
	card_stamp(j->rec, card, CARD_REPLACE);
	const char *why = NULL;
	if (!tools && !json_is_string(jv_path(j->rec, "source.text")))
		why = "no source.text to ground the set-ups in";
	else if (needs_character() && !json_is_string(jv_path(j->rec, "character.name")))
		why = "no character.name (give --character FILE)";
	if (why) {
		job_reject(j, "%s", why);
		job_end(j);
		return;
	}
	json_t *ctx = vary_context(j->rec, j->id);
	json_object_set_new(ctx, "k", json_integer(k));
	if (tools)
		json_object_set(ctx, "tools", tools);
	if (state)
		json_object_set(ctx, "state", state);
	char *name = xasprintf("scenes-%s", kind->name);
	if (ask_model(j, &(struct ask){.model = &model, .prompt = name, .ctx = ctx, .schema = schema,
				       .schema_name = kind->list}))
		job_end(j);
	free(name);
	json_decref(ctx);
}

static void done(struct job *j, struct call *c)
{
	if (job_failed(j, c))
		return;
	/* the schema asks for at least k; more are cut */
	json_t *items = json_object_get(c->json, kind->list);
	char *base = *j->id ? xstrdup(j->id) : xasprintf("r%ld", j->seq + 1);
	for (long i = 0; i < k; i++) {
		json_t *scene = tools ? json_object() : json_pack("{s:s}", "kind", kind->label);
		json_object_update(scene, json_array_get(items, (size_t)i));
		json_t *with = json_pack("{s:o, s:o}", "id",
			json_sprintf("%s.%c%ld", base, kind->suffix, i + 1), tools ? "task" : "scene", scene);
		/* each its own meta; the usage so far goes once, with the first,
		 * or a stage that sums the records would count it k times */
		json_t *meta = json_object_get(j->rec, "meta");
		if (json_is_object(meta)) {
			meta = json_deep_copy(meta);
			if (i)
				json_object_del(meta, "usage");
			json_object_set_new(with, "meta", meta);
		}
		if (kind->suffix == 'q')
			json_object_set_new(with, "messages", json_pack("[{s:s, s:O}]", "role", "user",
				"content", json_object_get(scene, "question")));
		json_t *out = record_derive(j->rec, with, NULL);
		vary_meta(out, j->id);
		job_emit(j, out);
	}
	free(base);
	job_end(j);
}

/* --kind opening: one seed message a line, or a JSON record a line. */
static json_t *opening(json_t *rec, const char *seed, const char *id)
{
	json_t *src = json_object_get(rec, "source");
	src = json_is_object(src) ? json_copy(src) : json_object();
	json_object_set_new(src, "text", json_string(seed));
	json_t *with = json_pack("{s:s, s:o, s:{s:s}, s:[{s:s, s:s}]}", "id", id, "source", src,
				 "scene", "kind", "opening", "messages", "role", "user", "content", seed);
	card_stamp(with, card, CARD_REPLACE);
	return record_derive(rec, with, NULL);
}

static int run_opening(int nfiles, char **files)
{
	struct input *in = input_new(nfiles, files);
	char *line;
	size_t len;
	const char *file = NULL;
	long base = 0, last = 0;
	while (input_line(in, &line, &len) == 1) {
		if (in->name != file) {
			base += last;   /* line numbers run on over several files */
			file = in->name;
		}
		last = in->lineno;
		while (len && isspace((unsigned char)line[len - 1]))
			line[--len] = 0;
		char *p = line;
		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			continue;
		struct buf err = {0};
		json_t *rec = NULL;
		const char *seed = p;
		if (*p == '{') {
			rec = record_parse(line, len, &err);
			json_t *t = rec ? jv_path(rec, field) : NULL;
			seed = json_string_value(t);
			if (rec && (!seed || !*seed))
				buf_addf(&err, "no text at %s (see --field)", field);
		} else if (!utf8_valid(line, len, NULL)) {
			buf_adds(&err, "invalid UTF-8");
		}
		if (err.len) {
			json_decref(rec);
			int stop = record_bad(in, line, len, err.p);
			buf_free(&err);
			if (stop)
				break;
			continue;
		}
		buf_free(&err);
		const char *rid = rec ? jv_str(rec, "id") : NULL;
		char *id = rid ? xstrdup(rid) : xasprintf("s%04ld", base + in->lineno);
		json_t *empty = rec ? NULL : json_object();
		json_t *out = opening(rec ? rec : empty, seed, id);
		out_record(out);
		json_decref(out);
		json_decref(rec);
		json_decref(empty);
		free(id);
	}
	out_flush();
	input_free(in);
	return records_rejected ? 1 : 0;
}

int main(int argc, char **argv)
{
	static const struct opt_prog prog = {
		.name = "scg-scenes",
		.synopsis = "[--kind topic|scene|adversarial|questions|opening] [-k N] [--character FILE] [options] [file ...]\n"
			    "       scg-scenes --kind tasks --tools FILE [--tool-state FILE] [-k N] [options] [file ...]",
		.summary = "Turn source records into conversation set-ups, or seed messages into openings.",
		.common = OPT_BASIC | OPT_MODEL,
		.opts = options,
	};
	int i = opt_parse(&prog, argc, argv);
	run_configure_model();
	if (card_path)
		card = card_load(card_path);
	if ((kind->suffix == 'g') != !!tools_path)
		usage_error(tools_path ? "--tools goes with --kind tasks" : "--kind tasks needs --tools FILE");
	if (state_path && !tools_path)
		usage_error("--tool-state goes with --kind tasks and --tools");
	if (tools_path)
		tools = tools_load(tools_path);
	if (state_path)
		state = conf_load_or_die(state_path);
	if (!kind->list)
		return run_opening(argc - i, argv + i);
	prompt_init();
	vary_init();
	model_init(&model);
	schema = make_schema();
	static const struct exec_ops ops = {.start = start, .done = done, .reasks = 2};
	int rc = run_records(&ops, argc - i, argv + i);
	json_decref(tools);
	json_decref(state);
	return rc;
}
