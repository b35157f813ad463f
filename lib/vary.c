/* vary: per-record draws for prompts, keyed by seed and record id. */
#include "vary.h"
#include "conf.h"
#include "conv.h"
#include "record.h"
#include "rng.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

static json_t *injects;     /* NAME -> [values] */
static json_t *templates;   /* [{name, text, ...}] */
static char *examples;      /* rendered text */
static struct vary_config cfg = {.temp_lo = -1, .top_p_lo = -1};

void vary_configure(const struct vary_config *c)
{
	cfg = *c;
}

int vary_temperature_given(void)
{
	return cfg.temp_lo >= 0;
}

static void add_lines(json_t *vals, const char *path)
{
	char *text = read_text(path, "--inject", NULL);
	char *save, *line = strtok_r(text, "\n", &save);
	for (; line; line = strtok_r(NULL, "\n", &save)) {
		size_t n = strlen(line);
		while (n && (line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t'))
			line[--n] = 0;
		if (n)
			json_array_append_new(vals, json_string(line));
	}
	free(text);
}

static json_t *load_inject(const char *path)
{
	json_t *vals = json_array();
	struct stat st;
	if (stat(path, &st))
		die("--inject: %s: %s", path, strerror(errno));
	if (S_ISDIR(st.st_mode)) {
		char **names;
		size_t n;
		if (dir_names(path, &names, &n))
			die("--inject: %s: %s", path, strerror(errno));
		for (size_t i = 0; i < n; i++) {
			char *fp = xasprintf("%s/%s", path, names[i]);
			add_lines(vals, fp);
			free(fp);
			free(names[i]);
		}
		free(names);
	} else {
		add_lines(vals, path);
	}
	if (!json_array_size(vals))
		die("--inject: %s: no values (one value a line)", path);
	return vals;
}

/* How a templates or examples file is written: by its extension (.txt is
 * plain text; .yaml, .yml, .json and .jsonl are structured), else by
 * whether it loads into the shape wanted. */
enum form { FORM_PLAIN, FORM_STRUCTURED, FORM_EITHER };

static enum form form_of(const char *path)
{
	const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
	if (!dot || (slash && dot < slash))
		return FORM_EITHER;
	if (!strcasecmp(dot, ".txt") || !strcasecmp(dot, ".text"))
		return FORM_PLAIN;
	if (!strcasecmp(dot, ".yaml") || !strcasecmp(dot, ".yml") || !strcasecmp(dot, ".json") ||
	    !strcasecmp(dot, ".jsonl"))
		return FORM_STRUCTURED;
	return FORM_EITHER;
}

static int only_dashes(const char *s, size_t n)
{
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		n--;
	if (n < 3)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] != '-')
			return 0;
	return 1;
}

static int blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return 0;
	return 1;
}

static void add_block(json_t *blocks, struct buf *b)
{
	size_t n = b->len;
	while (n && (b->p[n - 1] == '\n' || b->p[n - 1] == '\r' || b->p[n - 1] == ' ' || b->p[n - 1] == '\t'))
		n--;
	if (n)
		json_array_append_new(blocks, json_stringn(b->p, n));
	buf_reset(b);
}

/* The blocks of a plain-text file: the pieces between lines of three or
 * more dashes when it has such lines, else between blank lines. */
static json_t *plain_blocks(const char *opt, const char *path)
{
	size_t len;
	char *text = read_text(path, opt, &len);
	int dashes = 0;
	for (const char *l = text; l < text + len;) {
		const char *nl = memchr(l, '\n', (size_t)(text + len - l));
		size_t n = nl ? (size_t)(nl - l) : (size_t)(text + len - l);
		dashes |= only_dashes(l, n);
		l += n + 1;
	}
	json_t *blocks = json_array();
	struct buf b = {0};
	buf_adds(&b, "");
	for (const char *l = text; l < text + len;) {
		const char *nl = memchr(l, '\n', (size_t)(text + len - l));
		size_t n = nl ? (size_t)(nl - l) : (size_t)(text + len - l);
		if (dashes ? only_dashes(l, n) : blank(l, n)) {
			add_block(blocks, &b);
		} else if (b.len || !blank(l, n)) {
			buf_add(&b, l, n);
			buf_addc(&b, '\n');
		}
		l += n + 1;
	}
	add_block(blocks, &b);
	buf_free(&b);
	free(text);
	if (!json_array_size(blocks))
		die("%s: %s: empty", opt, path);
	return blocks;
}

/* The list of a templates file, or NULL when it holds none. */
static json_t *template_list(json_t *v)
{
	json_t *list = json_is_object(v) && json_is_array(json_object_get(v, "templates"))
		? json_object_get(v, "templates") : v;
	return json_is_array(list) && json_array_size(list) ? list : NULL;
}

static void load_templates(const char *path)
{
	struct buf err = {0};
	enum form form = form_of(path);
	json_t *v = form == FORM_PLAIN ? NULL : conf_load(path, &err);
	if (form == FORM_STRUCTURED && !v)
		die("--templates: %s", err.p);
	if (form == FORM_EITHER && !template_list(v)) {
		json_decref(v);
		v = NULL;
	}
	if (!v)
		v = plain_blocks("--templates", path);   /* one template a block */
	json_t *list = template_list(v);
	if (!list)
		die("--templates: %s: expected a list of templates (text, or {name, text})", path);
	templates = json_array();
	size_t i;
	json_t *t;
	json_array_foreach(list, i, t) {
		json_t *item;
		if (json_is_string(t)) {
			char name[32];
			snprintf(name, sizeof name, "t%zu", i + 1);
			item = json_pack("{s:s, s:O}", "name", name, "text", t);
		} else if (json_is_object(t) && json_is_string(json_object_get(t, "text"))) {
			item = json_deep_copy(t);
			if (!json_is_string(json_object_get(item, "name"))) {
				char name[32];
				snprintf(name, sizeof name, "t%zu", i + 1);
				json_object_set_new(item, "name", json_string(name));
			}
		} else {
			die("--templates: %s: template %zu needs a text", path, i + 1);
		}
		json_array_append_new(templates, item);
	}
	json_decref(v);
	buf_free(&err);
}

/* Whether every item of a records file is an example conversation. */
static int example_list(json_t *list)
{
	size_t i;
	json_t *e;
	if (!json_is_array(list) || !json_array_size(list))
		return 0;
	json_array_foreach(list, i, e)
		if (!json_is_array(e) && !json_is_array(json_object_get(e, "messages")))
			return 0;
	return 1;
}

static void load_examples(const char *path)
{
	struct buf err = {0}, b = {0};
	enum form form = form_of(path);
	json_t *list = form == FORM_PLAIN ? NULL : conf_load_records(path, &err);
	if (form == FORM_STRUCTURED && !list)
		die("--examples: %s", err.p);
	if (form == FORM_EITHER && !example_list(list)) {
		json_decref(list);
		list = NULL;
	}
	size_t i;
	json_t *e;
	if (!list) {
		/* plain text: one example a block, put in as written */
		list = plain_blocks("--examples", path);
		json_array_foreach(list, i, e)
			buf_addf(&b, "Example %zu:\n%s\n\n", i + 1, json_string_value(e));
	}
	json_array_foreach(list, i, e) {
		if (json_is_string(e))
			break;
		json_t *msgs = json_is_array(e) ? e : json_object_get(e, "messages");
		if (!json_is_array(msgs))
			die("--examples: %s: example %zu has no messages", path, i + 1);
		buf_addf(&b, "Example %zu:\n", i + 1);
		char *t = conv_transcript(msgs);
		buf_adds(&b, t);
		free(t);
		buf_adds(&b, "\n\n");
	}
	examples = buf_steal(&b);
	json_decref(list);
	buf_free(&err);
}

static json_t *draw(json_t *list, const char *id, const char *purpose)
{
	struct rng g;
	rng_init(&g, cfg.seed, id, prog_name, purpose);
	return json_array_get(list, rng_below(&g, json_array_size(list)));
}

static json_t *drawn_injections(const char *id)
{
	if (!injects)
		return NULL;
	json_t *o = json_object();
	const char *name;
	json_t *vals;
	json_object_foreach(injects, name, vals) {
		char *purpose = xasprintf("inject:%s", name);
		json_object_set(o, name, draw(vals, id, purpose));
		free(purpose);
	}
	return o;
}

json_t *vary_context(json_t *rec, const char *id)
{
	json_t *ctx = json_copy(rec);
	json_t *inj = drawn_injections(id);
	if (inj) {
		/* also as lines, for the built-in prompts, which cannot know the names */
		struct buf lines = {0};
		const char *name;
		json_t *v;
		json_object_foreach(inj, name, v)
			buf_addf(&lines, "- %s: %s\n", name, json_string_value(v));
		json_object_set_new(ctx, "injections", json_string(lines.p));
		buf_free(&lines);
		json_object_set_new(ctx, "inject", inj);
	}
	if (templates)
		json_object_set(ctx, "template", draw(templates, id, "template"));
	if (examples)
		json_object_set_new(ctx, "examples", json_string(examples));
	return ctx;
}

static double round3(double x)
{
	return round(x * 1000) / 1000;
}

/* A sampling parameter: a value, a range LO..HI (on a grid of step when
 * step > 0) or a list of values, from an option or from --params. */
struct param {
	int set, whole;           /* whole: drawn as an integer */
	double lo, hi, step;
	double *vals;
	size_t nvals;
};

enum { PAR_TEMPERATURE, PAR_TOP_P, PAR_TOP_K, PAR_MAX_TOKENS, NPARAMS };

static const struct {
	const char *name, *aliases[4];
	double max;
	int whole;
} param_kinds[NPARAMS] = {
	{"temperature", {"temp"}, 2, 0},
	{"top_p", {"top-p", "topP", "top_P"}, 1, 0},
	{"top_k", {"top-k", "topK", "top_K"}, 100000, 1},
	{"max_tokens", {"max-tokens", "max_new_tokens", "maxTokens", "max_completion_tokens"}, 10000000, 1},
};

static struct param file_params[NPARAMS];   /* from --params */

static int param_kind(const char *key)
{
	for (int i = 0; i < NPARAMS; i++) {
		if (!strcmp(key, param_kinds[i].name))
			return i;
		for (int a = 0; a < 4 && param_kinds[i].aliases[a]; a++)
			if (!strcmp(key, param_kinds[i].aliases[a]))
				return i;
	}
	return -1;
}

static int param_in_range(double x, int kind)
{
	double min = param_kinds[kind].whole ? 1 : 0;
	return x >= min && x <= param_kinds[kind].max && (!param_kinds[kind].whole || x == floor(x));
}

static int param_number(json_t *v, int kind, double *out)
{
	if (!json_is_number(v) || !param_in_range(json_number_value(v), kind))
		return -1;
	*out = json_number_value(v);
	return 0;
}

/* One entry of a --params file: 0.7, "0.6..1.0", [LO, HI], [A, B, C...]
 * (three or more: one of them), or {min, max, step?}. */
static void load_param(const char *path, const char *key, int kind, json_t *v)
{
	struct param *p = &file_params[kind];
	const char *what = param_kinds[kind].whole ? "whole numbers" : "numbers";
	p->whole = param_kinds[kind].whole;
	p->set = 1;
	if (json_is_string(v)) {
		if (parse_range(json_string_value(v), &p->lo, &p->hi) || !param_in_range(p->lo, kind) ||
		    !param_in_range(p->hi, kind))
			die("--params: %s: %s: expected a number or LO..HI within %g..%g, got '%s'", path, key,
			    p->whole ? 1.0 : 0.0, param_kinds[kind].max, json_string_value(v));
	} else if (json_is_array(v) && (json_array_size(v) == 2 || json_array_size(v) == 1)) {
		if (param_number(json_array_get(v, 0), kind, &p->lo) ||
		    param_number(json_array_get(v, json_array_size(v) - 1), kind, &p->hi) || p->hi < p->lo)
			die("--params: %s: %s: expected [LO, HI], %s within %g..%g", path, key, what,
			    p->whole ? 1.0 : 0.0, param_kinds[kind].max);
	} else if (json_is_array(v) && json_array_size(v) > 2) {
		p->nvals = json_array_size(v);
		p->vals = xcalloc(p->nvals, sizeof *p->vals);
		for (size_t i = 0; i < p->nvals; i++)
			if (param_number(json_array_get(v, i), kind, &p->vals[i]))
				die("--params: %s: %s[%zu]: expected %s within %g..%g", path, key, i, what,
				    p->whole ? 1.0 : 0.0, param_kinds[kind].max);
	} else if (json_is_object(v)) {
		const char *k;
		json_t *x;
		int have = 0;
		json_object_foreach(v, k, x) {
			double *to = !strcmp(k, "min") ? &p->lo : !strcmp(k, "max") ? &p->hi
				: !strcmp(k, "step") ? &p->step : NULL;
			if (!to) {
				warnx_("--params: %s: %s.%s: not used (min, max and step are)", path, key, k);
				continue;
			}
			if (to == &p->step ? !json_is_number(x) || json_number_value(x) <= 0
					   : param_number(x, kind, to))
				die("--params: %s: %s.%s: expected a number within %g..%g", path, key, k,
				    p->whole ? 1.0 : 0.0, param_kinds[kind].max);
			if (to != &p->step)
				have |= to == &p->lo ? 1 : 2;
			else
				p->step = json_number_value(x);
		}
		if (have != 3 || p->hi < p->lo)
			die("--params: %s: %s: expected min and max, min not above max", path, key);
	} else if (param_number(v, kind, &p->lo)) {
		die("--params: %s: %s: expected a number, LO..HI, [LO, HI], a list of values or {min, max}",
		    path, key);
	} else {
		p->hi = p->lo;
	}
}

static void load_params(const char *path)
{
	struct buf err = {0};
	json_t *doc = conf_load(path, &err);
	if (!doc)
		die("--params: %s", err.p);
	if (!json_is_object(doc))
		die("--params: %s: expected a mapping of parameter names to values or ranges", path);
	const char *key;
	json_t *v;
	json_object_foreach(doc, key, v) {
		int kind = param_kind(key);
		if (kind < 0)
			warnx_("--params: %s: '%s' is not used (temperature, top_p, top_k and max_tokens are)",
			       path, key);
		else if (!json_is_null(v))
			load_param(path, key, kind, v);
	}
	json_decref(doc);
	buf_free(&err);
}

/* The parameter in force: the option when given, else the file's. */
static struct param param_of(int kind)
{
	struct param p = {0};
	p.whole = param_kinds[kind].whole;
	switch (kind) {
	case PAR_TEMPERATURE:
		p.set = cfg.temp_lo >= 0, p.lo = cfg.temp_lo, p.hi = cfg.temp_hi;
		break;
	case PAR_TOP_P:
		p.set = cfg.top_p_lo >= 0, p.lo = cfg.top_p_lo, p.hi = cfg.top_p_hi;
		break;
	case PAR_TOP_K:
		p.set = cfg.top_k_lo > 0, p.lo = cfg.top_k_lo, p.hi = cfg.top_k_hi;
		break;
	case PAR_MAX_TOKENS:
		p.set = cfg.max_tokens > 0, p.lo = p.hi = cfg.max_tokens;
		break;
	}
	return p.set ? p : file_params[kind];
}

static int param_varies(const struct param *p)
{
	return p->set && (p->nvals ? p->nvals > 1 : p->lo != p->hi);
}

/* One draw from g whether the parameter is set or not, so that setting one
 * leaves the draws of the others alone. */
static double draw_param(struct rng *g, const struct param *p)
{
	double u = rng_double(g);
	if (!p->set)
		return -1;
	if (p->nvals) {
		size_t i = (size_t)(u * (double)p->nvals);
		return p->vals[i < p->nvals ? i : p->nvals - 1];
	}
	if (p->whole) {
		double k = floor(p->lo + (p->hi + 1 - p->lo) * u);
		if (p->step > 0)
			k = p->lo + round((k - p->lo) / p->step) * p->step;
		return k > p->hi ? p->hi : k;
	}
	double x = p->lo + (p->hi - p->lo) * u;
	if (p->step > 0) {
		x = p->lo + round((x - p->lo) / p->step) * p->step;
		if (x > p->hi)
			x -= p->step;
	}
	return round3(x);
}

static void draw_params(const char *id, double v[NPARAMS])
{
	struct rng g;
	rng_init(&g, cfg.seed, id, prog_name, "params");
	/* in this order, so that a parameter added later leaves the draws of
	 * the earlier ones alone */
	for (int k = 0; k < NPARAMS; k++) {
		struct param p = param_of(k);
		v[k] = draw_param(&g, &p);
	}
}

void vary_params(const char *id, struct llm_req *r)
{
	double v[NPARAMS];
	draw_params(id, v);
	r->temperature = v[PAR_TEMPERATURE];
	r->top_p = v[PAR_TOP_P];
	r->top_k = v[PAR_TOP_K] > 0 ? (int)v[PAR_TOP_K] : 0;
	r->max_tokens = v[PAR_MAX_TOKENS] > 0 ? (int)v[PAR_MAX_TOKENS] : 0;
}

void vary_init(void)
{
	if (cfg.ninjects) {
		injects = json_object();
		for (int i = 0; i < cfg.ninjects; i++)
			json_object_set_new(injects, cfg.inject_names[i], load_inject(cfg.inject_paths[i]));
	}
	if (cfg.templates_path)
		load_templates(cfg.templates_path);
	if (cfg.examples_path)
		load_examples(cfg.examples_path);
	if (cfg.params_path)
		load_params(cfg.params_path);
}

/* Adds the members of add to the object at key of meta (a later stage's
 * draw of the same name replaces the earlier one; other names stay). */
static void merge_into(json_t *meta, const char *key, json_t *add)
{
	json_t *have = json_object_get(meta, key);
	if (json_is_object(have)) {
		json_object_update(have, add);
		json_decref(add);
	} else {
		json_object_set_new(meta, key, add);
	}
}

void vary_meta(json_t *rec, const char *id)
{
	json_t *params = json_object();
	double v[NPARAMS];
	draw_params(id, v);
	for (int k = 0; k < NPARAMS; k++) {
		struct param p = param_of(k);
		if (param_varies(&p))
			json_object_set_new(params, param_kinds[k].name,
					    p.whole ? json_integer((json_int_t)v[k]) : json_real(v[k]));
	}
	json_t *inj = drawn_injections(id);
	json_t *tmpl = templates ? draw(templates, id, "template") : NULL;
	if (!json_object_size(params) && !inj && !tmpl) {
		json_decref(params);
		return;
	}
	json_t *meta = json_object_get(rec, "meta");
	if (!json_is_object(meta)) {
		meta = json_object();
		json_object_set_new(rec, "meta", meta);
	}
	if (json_object_size(params))
		merge_into(meta, "params", params);
	else
		json_decref(params);
	if (inj)
		merge_into(meta, "injections", inj);
	if (tmpl)
		json_object_set(meta, "template", json_object_get(tmpl, "name"));
}
