/* scg-restyle: rewrites the messages of each conversation in a target
 * style of writing (the discourse of the platform a seed came from),
 * keeping what they mean. The originals stay in original_messages; every
 * other field passes through. One structured call per conversation, or one
 * per message (--per-message); --max-chars is enforced by asking again. */
#include "ask.h"
#include "conv.h"
#include "vary.h"
#include "exec.h"
#include "jv.h"
#include "opt.h"
#include "prompt.h"
#include "run.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

/* The built-in styles: prompts/restyle-NAME.txt, and their length limit. */
static const struct {
	const char *name;
	long max_chars;
} builtin_styles[] = {
	{"thread", 280},
};

static const char *roles_arg = "all";
static const char *style_arg = "thread";
static const char *style_text, *style_label;
static long max_chars = -1;     /* -1: the style's own; 0: none */
static int per_message;
static struct model model;

static const struct opt options[] = {
	OPT_STRING(0, "style", &style_arg, "STYLE",
		   "thread (built in), a file that describes the style, or the description "
		   "itself (default: thread)"),
	OPT_STRING(0, "roles", &roles_arg, "LIST",
		   "whose messages to rewrite: user, assistant, system, comma-separated, or all "
		   "(default: all)"),
	OPT_LONG(0, "max-chars", &max_chars, "N", 0, 1000000,
		 "longest rewritten message; longer ones are asked for again (default: 280 for "
		 "thread, else none; 0: none)"),
	OPT_FLAG(0, "per-message", &per_message,
		 "one call per message instead of one per conversation"),
	OPT_END,
};

/* --style: a built-in name, else a file of that name, else the text itself. */
static void style_init(void)
{
	for (size_t i = 0; i < sizeof builtin_styles / sizeof *builtin_styles; i++) {
		if (strcmp(style_arg, builtin_styles[i].name))
			continue;
		char *prompt = xasprintf("restyle-%s", style_arg);
		style_text = prompt_get(prompt);
		free(prompt);
		style_label = style_arg;
		if (max_chars < 0)
			max_chars = builtin_styles[i].max_chars;
		return;
	}
	struct stat st;
	if (!stat(style_arg, &st) && S_ISREG(st.st_mode)) {
		if (!(style_text = read_file(style_arg, NULL)))
			die("--style: %s: %s", style_arg, strerror(errno));
		style_label = style_arg;
	} else {
		style_text = style_arg;
		style_label = "custom";
	}
	if (!style_text[strspn(style_text, " \t\r\n")])
		usage_error("--style: the style is empty");
	if (max_chars < 0)
		max_chars = 0;
}

/* Is role one of --roles? */
static int chosen(const char *role)
{
	size_t n = strlen(role);
	for (const char *p = roles_arg; *p; p += strcspn(p, ","), p += *p == ',')
		if (strcspn(p, ",") == n && !strncmp(p, role, n))
			return 1;
	return 0;
}

static void roles_init(void)
{
	if (!strcmp(roles_arg, "all"))
		roles_arg = "user,assistant,system";
	for (const char *p = roles_arg; *p; p += strcspn(p, ","), p += *p == ',') {
		size_t n = strcspn(p, ",");
		if (!((n == 4 && !strncmp(p, "user", 4)) || (n == 9 && !strncmp(p, "assistant", 9)) ||
		      (n == 6 && !strncmp(p, "system", 6))))
			usage_error("--roles: expected user, assistant or system, got '%.*s'", (int)n, p);
	}
}

/* The indices of the messages to rewrite. */
static json_t *targets(json_t *msgs)
{
	json_t *t = json_array();
	size_t i;
	json_t *m;
	json_array_foreach(msgs, i, m) {
		const char *role = jv_str(m, "role");
		if (role && jv_str(m, "content") && chosen(role))
			json_array_append_new(t, json_integer((json_int_t)i));
	}
	return t;
}

/* Every text must say something and fit --max-chars. */
static int check(struct job *j, const char *text, json_t *answer, struct buf *why, void *ctx)
{
	(void)j;
	(void)text;
	(void)ctx;
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(answer, "messages"), i, v) {
		const char *s = json_string_value(v);
		size_t n = utf8_chars(s);
		if (!s[strspn(s, " \t\r\n")])
			buf_addf(why, "%stext %zu is empty", why->len ? "; " : "", i + 1);
		else if (max_chars > 0 && n > (size_t)max_chars)
			buf_addf(why, "%stext %zu has %zu characters, more than %ld: shorten it",
				 why->len ? "; " : "", i + 1, n, max_chars);
	}
	return why->len ? -1 : 0;
}

/* Asks for the messages at indices which (an array) to be rewritten. */
static int ask(struct job *j, json_t *msgs, json_t *which, int tag)
{
	struct buf b = {0};
	json_t *ctx = vary_context(j->rec, j->id), *v = json_object();
	json_object_set_new(ctx, "restyle", v);
	char *style = conv_trim(style_text);
	json_object_set_new(v, "style", json_string(style));
	free(style);
	if (max_chars > 0)
		json_object_set_new(v, "max_chars", json_integer(max_chars));
	size_t i;
	json_t *m;
	json_array_foreach(msgs, i, m)
		if (jv_str(m, "role") && jv_str(m, "content"))
			buf_addf(&b, "[%zu] %s: %s\n", i + 1, jv_str(m, "role"), jv_str(m, "content"));
	json_object_set_new(v, "transcript", json_string(b.p));
	buf_reset(&b);
	size_t n = json_array_size(which);
	buf_adds(&b, n == 1 ? "message " : "messages ");
	json_array_foreach(which, i, m)
		buf_addf(&b, "%s%lld", !i ? "" : i + 1 == n ? " and " : ", ", (long long)json_integer_value(m) + 1);
	json_object_set_new(v, "which", json_string(b.p));
	json_object_set_new(v, "count", json_integer((json_int_t)n));
	json_t *schema = json_pack("{s:s, s:{s:{s:s, s:i, s:i, s:{s:s}}}, s:[s], s:b}",
		"type", "object", "properties", "messages", "type", "array",
		"minItems", (int)n, "maxItems", (int)n, "items", "type", "string",
		"required", "messages", "additionalProperties", 0);
	int bad = ask_model(j, &(struct ask){.model = &model, .prompt = "restyle", .ctx = ctx,
		.schema = schema, .schema_name = "restyled", .check = check, .tag = tag});
	json_decref(schema);
	json_decref(ctx);
	buf_free(&b);
	return bad;
}

/* What a job waits for: the rewritten texts by target, and the calls out. */
struct state {
	json_t *which, *texts;
	int pending, failed;
};

static void state_free(struct job *j)
{
	struct state *s = j->data;
	json_decref(s->which);
	json_decref(s->texts);
	free(s);
	j->data = NULL;
}

static void start(struct job *j)
{
	json_t *msgs = json_object_get(j->rec, "messages");
	if (!json_is_array(msgs)) {
		job_reject(j, msgs ? "messages is not a list" : "no messages to restyle");
		job_end(j);
		return;
	}
	struct state *s = xcalloc(1, sizeof *s);
	s->which = targets(msgs);
	s->texts = json_array();
	j->data = s;
	size_t n = json_array_size(s->which);
	if (!n) {
		state_free(j);
		job_emit(j, json_incref(j->rec));
		job_end(j);
		return;
	}
	if (!per_message) {
		s->failed = ask(j, msgs, s->which, -1);
		s->pending = !s->failed;
	} else {
		for (size_t i = 0; i < n && !s->failed; i++) {
			json_t *one = json_pack("[O]", json_array_get(s->which, i));
			s->failed = ask(j, msgs, one, (int)i);
			s->pending += !s->failed;
			json_decref(one);
		}
	}
	/* a dry run answers nothing; a failed prompt waits for the calls out */
	if (!s->pending || opts.dry_run) {
		state_free(j);
		job_end(j);
	}
}

static void done(struct job *j, struct call *c)
{
	struct state *s = j->data;
	s->pending--;
	if (!c->ok && !s->failed) {
		s->failed = 1;
		job_reject(j, "%s", c->error);
	}
	if (c->ok) {
		json_t *got = json_object_get(c->json, "messages");
		size_t at = c->tag < 0 ? 0 : (size_t)c->tag;
		for (size_t i = 0; i < json_array_size(got); i++) {
			while (json_array_size(s->texts) <= at + i)
				json_array_append_new(s->texts, json_null());
			char *t = conv_trim(json_string_value(json_array_get(got, i)));
			json_array_set_new(s->texts, at + i, json_string(t));
			free(t);
		}
	}
	if (s->pending)
		return;
	if (!s->failed) {
		json_t *rec = json_incref(j->rec), *msgs = json_object_get(rec, "messages");
		if (!json_object_get(rec, "original_messages"))
			json_object_set_new(rec, "original_messages", json_deep_copy(msgs));
		size_t i;
		json_t *k;
		json_array_foreach(s->which, i, k)
			json_object_set(json_array_get(msgs, (size_t)json_integer_value(k)), "content",
					json_array_get(s->texts, i));
		vary_meta(rec, j->id);
		json_t *meta = json_object_get(rec, "meta");
		if (!json_is_object(meta))
			json_object_set_new(rec, "meta", meta = json_object());
		json_object_set_new(meta, "restyle", json_pack("{s:s}", "style", style_label));
		if (max_chars > 0)
			json_object_set_new(json_object_get(meta, "restyle"), "max_chars", json_integer(max_chars));
		job_emit(j, rec);
	}
	state_free(j);
	job_end(j);
}

int main(int argc, char **argv)
{
	static const struct opt_prog prog = {
		.name = "scg-restyle",
		.synopsis = "[--style thread|TEXT|FILE] [--roles LIST] [--max-chars N] [--per-message] [options] [file ...]",
		.summary = "Rewrite the messages of each conversation in a target style, keeping their meaning.",
		.common = OPT_BASIC | OPT_MODEL,
		.opts = options,
	};
	int i = opt_parse(&prog, argc, argv);
	run_configure_model();
	prompt_init();
	roles_init();
	style_init();
	vary_init();
	model_init(&model);
	/* a text too long or a count that does not match is asked for twice more */
	static const struct exec_ops ops = {.start = start, .done = done, .reasks = 2};
	return run_records(&ops, argc - i, argv + i);
}
