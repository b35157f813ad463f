/* scg-show: scg records for a person to read in a terminal or less -R:
 * a header (id, persona, scene or source, stop reason), the messages
 * wrapped to the width with the roles coloured on a terminal, the original
 * beside the restyled text, a DPO pair's chosen beside its rejected answer.
 * Or each record laid out by a template of the user's (--template), as the
 * original knowledge generator's output-format file did. See scg-show(1). */
#include "conv.h"
#include "layout.h"
#include "jv.h"
#include "opt.h"
#include "record.h"
#include "run.h"
#include "util.h"
#include "wrap.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct {
	int width, color;   /* color: -1 auto */
	const char **ids;
	int nids;
	const char *template_path;
	struct layout *layout;
} cf = {.color = -1};

static void color_opt(const char *name, const char *arg)
{
	static const int colors[] = {-1, 1, 0};
	cf.color = colors[opt_choice(name, arg, "auto|always|never")];
}

static void id_opt(const char *name, const char *arg)
{
	(void)name;
	cf.ids = xrealloc(cf.ids, (size_t)(cf.nids + 1) * sizeof *cf.ids);
	cf.ids[cf.nids++] = arg;
}

static const struct opt options[] = {
	OPT_INT('w', "width", &cf.width, "N", 20, 1000,
		"wrap to N columns (default: the terminal's, $COLUMNS, or 80)"),
	OPT_CALL(0, "color", "auto|always|never", color_opt,
		 "colour the roles (auto: when stdout is a terminal)"),
	OPT_ALIAS("colour"),
	OPT_CALL(0, "id", "ID", id_opt, "show only the records with this id (may be repeated)"),
	OPT_STRING(0, "template", &cf.template_path, "FILE",
		   "lay each record out by FILE: a JSON layout (one JSON line a record) or "
		   "text, with {{path}} and {{transcript}}"),
	OPT_END,
};

/* ---- output ------------------------------------------------------------- */

static struct buf o;
#define SGR_BOLD "\033[1m"
#define SGR_DIM "\033[2m"
#define SGR_OFF "\033[0m"

static const char *paint(const char *role)
{
	if (!cf.color || !role)
		return "";
	if (!strcmp(role, "user"))
		return "\033[1;36m";
	if (!strcmp(role, "assistant"))
		return "\033[1;32m";
	if (!strcmp(role, "system"))
		return "\033[1;33m";
	if (!strcmp(role, "tool"))
		return "\033[1;35m";
	if (!strcmp(role, "bold"))
		return SGR_BOLD;
	if (!strcmp(role, "dim"))
		return SGR_DIM;
	return SGR_BOLD;
}

static const char *off(void)
{
	return cf.color ? SGR_OFF : "";
}

static void flush_lines(void)
{
	if (o.len)
		out_line(o.p, o.len - 1);
	buf_reset(&o);
}

/* "label: text", wrapped, the label in bold; nothing when text is NULL. */
static void field(const char *label, const char *text)
{
	if (!text || !*text)
		return;
	struct lines ls = {0};
	int lw = (int)strlen(label) + 2;
	wrap_text(text, cf.width - lw, &ls);
	for (size_t i = 0; i < ls.n; i++)
		if (i)
			buf_addf(&o, "%*s%s\n", lw, "", ls.l[i]);
		else
			buf_addf(&o, "%s%s:%s %s\n", paint("bold"), label, off(), ls.l[i]);
	lines_free(&ls);
}

/* Every string member of obj as one "key: value; ..." text. */
static char *members(json_t *obj)
{
	struct buf b = {0};
	const char *k;
	json_t *v;
	json_object_foreach(obj, k, v) {
		if (json_is_string(v))
			buf_addf(&b, "%s%s: %s", b.len ? "; " : "", k, json_string_value(v));
		else if (json_is_number(v))
			buf_addf(&b, "%s%s: %g", b.len ? "; " : "", k, json_number_value(v));
	}
	return buf_steal(&b);
}

static void header(json_t *rec)
{
	const char *id = jv_str(rec, "id");
	int w = wrap_width(id ? id : "");
	buf_addf(&o, "%s── %s ", paint("bold"), id ? id : "(no id)");
	for (int i = w + 4; i < cf.width; i++)
		buf_adds(&o, "─");
	buf_addf(&o, "%s\n", off());

	json_t *p = json_object_get(rec, "persona");
	if (json_is_object(p)) {
		struct buf t = {0};
		buf_adds(&t, jv_str(p, "name") ? jv_str(p, "name") : "");
		json_t *axes = json_object_get(p, "axes");
		if (json_object_size(axes)) {
			char *m = members(axes);
			buf_addf(&t, " (%s)", m);
			free(m);
		}
		const char *goal = jv_str(p, "goal") ? jv_str(p, "goal") : jv_str(p, "scenario");
		if (goal)
			buf_addf(&t, " — %s", goal);
		field("persona", t.p);
		buf_free(&t);
	}
	json_t *ch = json_object_get(rec, "character");
	if (json_is_object(ch))
		field("character", jv_str(ch, "name"));
	const char *kind = jv_str(rec, "kind");
	field("kind", kind);
	json_t *scene = json_object_get(rec, "scene");
	if (json_is_object(scene)) {
		char *m = members(scene);
		field("scene", m);
		free(m);
	}
	json_t *task = json_object_get(rec, "task");
	if (json_is_object(task)) {
		struct buf t = {0};
		buf_adds(&t, jv_str(task, "goal") ? jv_str(task, "goal") : "");
		if (jv_str(task, "outcome"))
			buf_addf(&t, " → %s", jv_str(task, "outcome"));
		field("task", t.p);
		buf_free(&t);
	}
	json_t *src = json_object_get(rec, "source");
	if (json_is_object(src)) {
		struct buf t = {0};
		const char *file = jv_str(src, "file");
		json_t *chunk = json_object_get(src, "chunk");
		if (file)
			buf_addf(&t, "%s", file);
		if (json_is_integer(chunk))
			buf_addf(&t, " #%lld", (long long)json_integer_value(chunk));
		if (jv_str(src, "text"))
			buf_addf(&t, "%s%s", t.len ? ": " : "", jv_str(src, "text"));
		field("source", t.p);
		buf_free(&t);
	}
	json_t *stop = json_object_get(rec, "stop");
	if (json_is_object(stop)) {
		struct buf t = {0};
		buf_addf(&t, "%s", jv_str(stop, "reason") ? jv_str(stop, "reason") : "?");
		if (jv_str(stop, "by"))
			buf_addf(&t, " by %s", jv_str(stop, "by"));
		json_t *turn = json_object_get(stop, "turn");
		if (json_is_integer(turn))
			buf_addf(&t, " at turn %lld", (long long)json_integer_value(turn));
		if (jv_str(stop, "outcome"))
			buf_addf(&t, ", outcome %s", jv_str(stop, "outcome"));
		if (jv_str(stop, "rationale"))
			buf_addf(&t, " — %s", jv_str(stop, "rationale"));
		field("stop", t.p);
		buf_free(&t);
		json_t *failed = json_object_get(stop, "failed");
		size_t i;
		json_t *f;
		json_array_foreach(failed, i, f)
			field("failed", json_string_value(f));
	}
	json_t *state = json_object_get(rec, "tool_state");
	if (state) {
		char *s = jv_compact(state);
		field("tool state", s);
		free(s);
	}
}

static void wrapped(const char *text, int indent)
{
	struct lines ls = {0};
	wrap_text(text, cf.width - indent - 2, &ls);
	for (size_t i = 0; i < ls.n; i++)
		buf_addf(&o, "%*s%s\n", indent + 2, "", ls.l[i]);
	lines_free(&ls);
}

/* A message: its role (a tool's result with the tool's name), its text,
 * and each tool call as "→ NAME ARGUMENTS". */
static void message(json_t *msgs, json_t *m, int indent)
{
	const char *role = jv_str(m, "role");
	const char *text = jv_str(m, "content");
	const char *tool = role && !strcmp(role, "tool")
		? conv_tool_name(conv_tool_call(msgs, jv_str(m, "tool_call_id"))) : NULL;
	buf_addf(&o, "%*s%s%s%s%s%s\n", indent, "", paint(role), role ? role : "?", tool ? " " : "",
		 tool ? tool : "", off());
	json_t *calls = json_object_get(m, "tool_calls");
	if (text || !json_array_size(calls))
		wrapped(text ? text : "", indent);
	size_t i;
	json_t *c;
	json_array_foreach(calls, i, c) {
		json_t *f = json_object_get(c, "function");
		char *line = xasprintf("→ %s %s", jv_str(f, "name") ? jv_str(f, "name") : "?",
				       jv_str(f, "arguments") ? jv_str(f, "arguments") : "");
		wrapped(line, indent);
		free(line);
	}
}

/* Two lists of messages in two columns, message by message. */
static void side_by_side(const char *left_title, json_t *left, const char *right_title, json_t *right)
{
	int col = (cf.width - 3) / 2;
	buf_addf(&o, "%s%-*s%s │ %s%s%s\n", paint("dim"), col, left_title, off(), paint("dim"),
		 right_title, off());
	size_t n = json_array_size(left) > json_array_size(right) ? json_array_size(left)
								   : json_array_size(right);
	for (size_t i = 0; i < n; i++) {
		json_t *side[2] = {json_array_get(left, i), json_array_get(right, i)};
		struct lines ls[2] = {{0}, {0}};
		const char *role[2];
		for (int s = 0; s < 2; s++) {
			role[s] = jv_str(side[s], "role");
			const char *text = jv_str(side[s], "content");
			if (side[s])
				wrap_text(text ? text : "", col - 2, &ls[s]);
		}
		int lw = wrap_width(role[0] ? role[0] : "");
		buf_addf(&o, "%s%s%s%*s │ %s%s%s\n", paint(role[0]), role[0] ? role[0] : "", off(),
			 col - lw, "", paint(role[1]), role[1] ? role[1] : "", off());
		size_t rows = ls[0].n > ls[1].n ? ls[0].n : ls[1].n;
		for (size_t r = 0; r < rows; r++) {
			const char *a = r < ls[0].n ? ls[0].l[r] : "";
			const char *b = r < ls[1].n ? ls[1].l[r] : "";
			buf_addf(&o, "  %s%*s │%s%s\n", a, col - 2 - wrap_width(a), "", *b ? "   " : "", b);
		}
		lines_free(&ls[0]);
		lines_free(&ls[1]);
	}
}

static int wanted(json_t *rec);

/* --template: the record laid out by the user's file (lib/layout.h) */
static void show_templated(json_t *rec)
{
	struct buf err = {0}, out = {0};
	json_t *line = layout_apply(cf.layout, rec, &out, &err);
	if (line)
		out_record(line);
	else if (!err.len)
		out_line(out.len ? out.p : "", out.len);
	if (err.len) {
		char *why = xasprintf("--template: %s", err.p);
		record_reject(rec, why);
		free(why);
	}
	json_decref(line);
	buf_free(&err);
	buf_free(&out);
}

static void show(json_t *rec, void *ctx)
{
	(void)ctx;
	if (!wanted(rec))
		return;
	if (cf.template_path) {
		show_templated(rec);
		return;
	}
	header(rec);
	json_t *msgs = json_object_get(rec, "messages");
	json_t *orig = json_object_get(rec, "original_messages");
	json_t *prompt = json_object_get(rec, "prompt");
	size_t i;
	json_t *m;
	if (json_is_array(msgs) && json_is_array(orig)) {
		buf_addc(&o, '\n');
		side_by_side("original", orig, "restyled", msgs);
	} else if (json_is_array(msgs)) {
		json_array_foreach(msgs, i, m) {
			buf_addc(&o, '\n');
			message(msgs, m, 0);
		}
	}
	if (json_is_array(prompt)) {
		json_array_foreach(prompt, i, m) {
			buf_addc(&o, '\n');
			message(prompt, m, 0);
		}
	}
	json_t *chosen = json_object_get(rec, "chosen"), *rejected = json_object_get(rec, "rejected");
	if (json_is_array(chosen) && json_is_array(rejected)) {
		buf_addc(&o, '\n');
		side_by_side("chosen", chosen, "rejected", rejected);
	}
	buf_addc(&o, '\n');
	flush_lines();
}

static int wanted(json_t *rec)
{
	if (!cf.nids)
		return 1;
	const char *id = jv_str(rec, "id");
	for (int i = 0; id && i < cf.nids; i++)
		if (!strcmp(cf.ids[i], id))
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct opt_prog prog = {
		.name = "scg-show",
		.synopsis = "[-w N] [--color auto|always|never] [--id ID] [--template FILE] [file ...]",
		.summary = "Show scg records for reading: conversations, DPO pairs, scenes.",
		.common = OPT_BASIC, .opts = options,
	};
	int first = opt_parse(&prog, argc, argv);
	run_configure();
	if (!cf.width)
		cf.width = wrap_terminal_width();
	if (cf.color < 0) {
		const char *term = getenv("TERM");
		cf.color = isatty(1) && !getenv("NO_COLOR") && !(term && !strcmp(term, "dumb"));
	}
	if (cf.template_path)
		cf.layout = layout_load(cf.template_path, "--template");
	struct input *in = input_new(argc - first, argv + first);
	int status = record_each(in, show, NULL);
	if (records_rejected)
		status = 1;
	out_flush();
	input_free(in);
	buf_free(&o);
	free(cf.ids);
	layout_free(cf.layout);
	return status;
}
