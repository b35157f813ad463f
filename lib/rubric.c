/* rubric: the questions of scg-judge --evaluate (see rubric.h). A criterion
 * is a name, what it means, a scale [lo, hi] (higher is better) or
 * pass/fail (0 or 1) and a weight; its name becomes a property of the
 * answer's schema and a key of scg-stats --fail-under, so it is kept to
 * letters, digits, _ and -. */
#include "rubric.h"
#include "conf.h"
#include "record.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct criterion {
	char *name, *description;
	double lo, hi, weight;
	int pass_fail;
};

struct rubric {
	struct criterion *c;
	int n;
};

static const struct {
	const char *name, *meaning;
} failures[] = {
	{"made_up", "wrong or made-up information"},
	{"ignored_request", "ignored what the user asked, or answered something else"},
	{"asked_again", "asked for something the user had already given"},
	{"policy", "broke a policy or a safety rule"},
	{"loop", "went round in a loop, or repeated itself"},
	{"tone", "a tone wrong for the user or for the assistant's role"},
	{"gave_up", "gave up before the user was helped, without handing over"},
};
#define NFAILURES (sizeof failures / sizeof failures[0])

static const struct {
	const char *name, *description;
} builtins[] = {
	{"role_adherence",
	 "The assistant keeps to the role its card describes: it does the job that assistant is "
	 "for, speaks as that assistant, and does not drift into another role or out of it."},
	{"knowledge_retention",
	 "The assistant remembers what the user said earlier in the conversation: it does not "
	 "forget or contradict facts it was given, nor ask for them again."},
	{"completeness",
	 "The assistant's answers cover every part of what the user asked for, so the user "
	 "leaves with all they need to act."},
	{"relevance",
	 "Each of the assistant's replies is to the point of the user's last message, without "
	 "padding or unrelated material."},
};
#define NBUILTINS (sizeof builtins / sizeof builtins[0])

const char *rubric_builtin_names(void)
{
	return "role_adherence, knowledge_retention, completeness, relevance";
}

struct rubric *rubric_new(void)
{
	return xcalloc(1, sizeof(struct rubric));
}

void rubric_free(struct rubric *rb)
{
	if (!rb)
		return;
	for (int i = 0; i < rb->n; i++) {
		free(rb->c[i].name);
		free(rb->c[i].description);
	}
	free(rb->c);
	free(rb);
}

int rubric_count(const struct rubric *rb)
{
	return rb->n;
}

static int builtin_index(const char *name, size_t len)
{
	for (size_t i = 0; i < NBUILTINS; i++)
		if (strlen(builtins[i].name) == len && !strncmp(builtins[i].name, name, len))
			return (int)i;
	return -1;
}

static int find(const struct rubric *rb, const char *name)
{
	for (int i = 0; i < rb->n; i++)
		if (!strcmp(rb->c[i].name, name))
			return i;
	return -1;
}

static void add(struct rubric *rb, const char *name, const char *description, double lo, double hi,
		int pass_fail, double weight)
{
	rb->c = xrealloc(rb->c, sizeof *rb->c * (size_t)(rb->n + 1));
	rb->c[rb->n++] = (struct criterion){xstrdup(name), xstrdup(description), lo, hi, weight, pass_fail};
}

static int add_builtin(struct rubric *rb, int b, struct buf *err)
{
	if (find(rb, builtins[b].name) >= 0) {
		buf_addf(err, "--criteria: criterion '%s' is given twice", builtins[b].name);
		return -1;
	}
	add(rb, builtins[b].name, builtins[b].description, 1, 5, 0, 1);
	return 0;
}

/* "FILE:LINE: criterion N: message", the line of the value at where */
static int bad(struct buf *err, const char *path, json_t *where, long item, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static int bad(struct buf *err, const char *path, json_t *where, long item, const char *fmt, ...)
{
	buf_reset(err);
	conf_where(err, path, where);
	if (item)
		buf_addf(err, "criterion %ld: ", item);
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(err, fmt, ap);
	va_end(ap);
	json_decref(where);
	return -1;
}

/* base + [i] (+ [key]): where a criterion, or one of its keys, is */
static json_t *at(json_t *base, size_t i, const char *key)
{
	json_t *w = json_copy(base);
	json_array_append_new(w, json_integer((json_int_t)i));
	if (key)
		json_array_append_new(w, json_string(key));
	return w;
}

static int valid_name(const char *s)
{
	size_t n = strlen(s);
	return n >= 1 && n <= 64 && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
}

static int criterion(struct rubric *rb, const char *path, json_t *base, size_t i, json_t *c, struct buf *err)
{
	long item = (long)i + 1;
	if (json_is_string(c)) {
		int b = builtin_index(json_string_value(c), json_string_length(c));
		if (b < 0)
			return bad(err, path, at(base, i, NULL), item,
				   "'%s' is not a built-in criterion (%s); give a mapping with name and description",
				   json_string_value(c), rubric_builtin_names());
		if (find(rb, builtins[b].name) >= 0)
			return bad(err, path, at(base, i, NULL), item, "'%s' is given twice", builtins[b].name);
		add(rb, builtins[b].name, builtins[b].description, 1, 5, 0, 1);
		return 0;
	}
	if (!json_is_object(c))
		return bad(err, path, at(base, i, NULL), item,
			   "expected a mapping (name, description, scale, weight) or a built-in name");
	const char *k;
	json_t *v;
	json_object_foreach(c, k, v)
		if (strcmp(k, "name") && strcmp(k, "description") && strcmp(k, "scale") && strcmp(k, "weight"))
			return bad(err, path, at(base, i, k), item,
				   "unknown key '%s' (expected name, description, scale, weight)", k);
	json_t *name = json_object_get(c, "name");
	if (!json_is_string(name))
		return bad(err, path, at(base, i, name ? "name" : NULL), item, "needs a name (a string)");
	const char *nm = json_string_value(name);
	if (!valid_name(nm))
		return bad(err, path, at(base, i, "name"), item,
			   "name '%.64s': use 1 to 64 letters, digits, _ and -", nm);
	if (find(rb, nm) >= 0)
		return bad(err, path, at(base, i, "name"), item, "'%s' is given twice", nm);
	int b = builtin_index(nm, strlen(nm));
	json_t *desc = json_object_get(c, "description");
	if (desc && (!json_is_string(desc) || !json_string_length(desc)))
		return bad(err, path, at(base, i, "description"), item, "description: expected a text");
	if (!desc && b < 0)
		return bad(err, path, at(base, i, NULL), item,
			   "'%s' needs a description (only the built-in criteria, %s, come with one)", nm,
			   rubric_builtin_names());
	double lo = 1, hi = 5, weight = 1;
	int pass_fail = 0;
	json_t *scale = json_object_get(c, "scale");
	if (json_is_string(scale) && !strcmp(json_string_value(scale), "pass/fail")) {
		lo = 0, hi = 1, pass_fail = 1;
	} else if (scale) {
		json_t *a = json_array_get(scale, 0), *z = json_array_get(scale, 1);
		if (!json_is_array(scale) || json_array_size(scale) != 2 || !json_is_number(a) || !json_is_number(z) ||
		    !(json_number_value(a) < json_number_value(z)) || !isfinite(json_number_value(a)) ||
		    !isfinite(json_number_value(z)))
			return bad(err, path, at(base, i, "scale"), item,
				   "scale: expected [LO, HI], two numbers with LO below HI, or pass/fail");
		lo = json_number_value(a);
		hi = json_number_value(z);
	}
	json_t *w = json_object_get(c, "weight");
	if (w) {
		if (!json_is_number(w) || !(json_number_value(w) >= 0) || !isfinite(json_number_value(w)))
			return bad(err, path, at(base, i, "weight"), item, "weight: expected a number, 0 or more");
		weight = json_number_value(w);
	}
	add(rb, nm, desc ? json_string_value(desc) : builtins[b].description, lo, hi, pass_fail, weight);
	return 0;
}

static int load_file(struct rubric *rb, const char *path, struct buf *err)
{
	json_t *doc = conf_load(path, err);
	if (!doc)
		return -1;
	json_t *list = doc, *base = json_array();
	int rc = 0;
	if (json_is_object(doc) && json_is_array(json_object_get(doc, "criteria"))) {
		const char *k;
		json_t *v;
		json_object_foreach(doc, k, v)
			if (strcmp(k, "criteria")) {
				json_t *w = json_pack("[s]", k);
				rc = bad(err, path, w, 0, "unknown key '%s' (expected criteria)", k);
				goto out;
			}
		list = json_object_get(doc, "criteria");
		json_array_append_new(base, json_string("criteria"));
	}
	if (!json_is_array(list)) {
		rc = bad(err, path, json_array(), 0, "expected a list of criteria, or criteria: and a list");
		goto out;
	}
	if (!json_array_size(list)) {
		rc = bad(err, path, json_incref(base), 0, "no criteria");
		goto out;
	}
	size_t i;
	json_t *c;
	json_array_foreach(list, i, c)
		if ((rc = criterion(rb, path, base, i, c, err)))
			break;
out:
	json_decref(base);
	json_decref(doc);
	return rc;
}

int rubric_add(struct rubric *rb, const char *arg, struct buf *err)
{
	buf_reset(err);
	if (!strcmp(arg, "builtin")) {
		for (size_t b = 0; b < NBUILTINS; b++)
			if (add_builtin(rb, (int)b, err))
				return -1;
		return 0;
	}
	if (!strncmp(arg, "builtin:", 8)) {
		const char *p = arg + 8;
		do {
			size_t n = strcspn(p, ",");
			int b = builtin_index(p, n);
			if (b < 0) {
				buf_addf(err, "--criteria: no built-in criterion '%.*s' (there are %s)", (int)n, p,
					 rubric_builtin_names());
				return -1;
			}
			if (add_builtin(rb, b, err))
				return -1;
			p += n + (p[n] == ',');
		} while (*p);
		return 0;
	}
	return load_file(rb, arg, err);
}

/* integral values as integers, so that a scale reads [1, 5] */
static json_t *number(double x)
{
	return x == floor(x) && fabs(x) < 1e15 ? json_integer((json_int_t)x) : json_real(x);
}

static int integral(const struct criterion *c)
{
	return c->lo == floor(c->lo) && c->hi == floor(c->hi);
}

json_t *rubric_schema(const struct rubric *rb, int turns)
{
	json_t *names = json_array();
	for (size_t i = 0; i < NFAILURES; i++)
		json_array_append_new(names, json_string(failures[i].name));
	json_t *props = json_pack(
		"{s:{s:s, s:[sss]}, s:{s:s, s:{s:{s:s, s:i, s:i}, s:{s:s}}, s:[ss], s:b},"
		" s:{s:s, s:{s:s, s:o}}}",
		"outcome", "type", "string", "enum", "met", "partly", "not met",
		"evidence", "type", "object", "properties", "turn", "type", "integer", "minimum", 1,
		"maximum", turns > 1 ? turns : 1, "text", "type", "string", "required", "turn", "text",
		"additionalProperties", 0,
		"failures", "type", "array", "items", "type", "string", "enum", names);
	json_t *required = json_pack("[sss]", "outcome", "evidence", "failures");
	if (rb->n) {
		json_t *cp = json_object(), *creq = json_array();
		for (int i = 0; i < rb->n; i++) {
			const struct criterion *c = &rb->c[i];
			/* the reason first: the score follows from it */
			json_object_set_new(cp, c->name, json_pack(
				"{s:s, s:{s:{s:s}, s:{s:s, s:o, s:o}}, s:[ss], s:b}", "type", "object",
				"properties", "reason", "type", "string", "score", "type",
				integral(c) ? "integer" : "number", "minimum", number(c->lo), "maximum",
				number(c->hi), "required", "reason", "score", "additionalProperties", 0));
			json_array_append_new(creq, json_string(c->name));
		}
		json_object_set_new(props, "criteria", json_pack("{s:s, s:o, s:o, s:b}", "type", "object",
								 "properties", cp, "required", creq,
								 "additionalProperties", 0));
		json_array_append_new(required, json_string("criteria"));
	}
	return json_pack("{s:s, s:o, s:o, s:b}", "type", "object", "properties", props, "required", required,
			 "additionalProperties", 0);
}

char *rubric_criteria_text(const struct rubric *rb)
{
	struct buf b = {0};
	for (int i = 0; i < rb->n; i++) {
		const struct criterion *c = &rb->c[i];
		if (c->pass_fail)
			buf_addf(&b, "  - %s (pass/fail: 1 if it holds, 0 if not): %s\n", c->name, c->description);
		else
			buf_addf(&b, "  - %s (%s from %g to %g, %g best): %s\n", c->name,
				 integral(c) ? "a whole number" : "a number", c->lo, c->hi, c->hi, c->description);
	}
	if (b.len)
		b.p[--b.len] = 0;
	return buf_steal(&b);
}

char *rubric_failures_text(void)
{
	struct buf b = {0};
	for (size_t i = 0; i < NFAILURES; i++)
		buf_addf(&b, "%s  - %s: %s", i ? "\n" : "", failures[i].name, failures[i].meaning);
	return buf_steal(&b);
}

json_t *rubric_eval(const struct rubric *rb, json_t *answer)
{
	json_t *ev = json_object(), *e = json_object_get(answer, "evidence");
	json_object_set(ev, "outcome", json_object_get(answer, "outcome"));
	json_object_set_new(ev, "evidence", json_pack("{s:O, s:O}", "turn", json_object_get(e, "turn"),
						      "text", json_object_get(e, "text")));
	/* each category once, in the order the judge gave them */
	json_t *f = json_array(), *x;
	size_t i, j;
	json_array_foreach(json_object_get(answer, "failures"), i, x) {
		int seen = 0;
		json_t *y;
		json_array_foreach(f, j, y)
			seen |= json_equal(x, y);
		if (!seen)
			json_array_append(f, x);
	}
	json_object_set_new(ev, "failures", f);
	json_t *crit = json_object(), *got = json_object_get(answer, "criteria");
	for (int k = 0; k < rb->n; k++) {
		const struct criterion *c = &rb->c[k];
		json_t *a = json_object_get(got, c->name);
		json_object_set_new(crit, c->name, json_pack("{s:O, s:[o,o], s:o, s:O}", "score",
			json_object_get(a, "score"), "scale", number(c->lo), number(c->hi), "weight",
			number(c->weight), "reason", json_object_get(a, "reason")));
	}
	json_object_set_new(ev, "criteria", crit);
	return ev;
}
