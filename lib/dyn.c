/* dyn: per-record draws for prompts, keyed by seed and record id. */
#include "dyn.h"
#include "conf.h"
#include "conv.h"
#include "opt.h"
#include "record.h"
#include "rng.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static json_t *injects;     /* NAME -> [values] */
static json_t *templates;   /* [{name, text, ...}] */
static char *examples;      /* rendered text */

static void add_lines(json_t *vals, const char *path)
{
	size_t len;
	char *text = read_file(path, &len);
	if (!text)
		die("--inject: %s: %s", path, strerror(errno));
	if (!utf8_valid(text, len, NULL) || memchr(text, 0, len))
		die("--inject: %s: not UTF-8 text", path);
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

static void load_templates(const char *path)
{
	struct buf err = {0};
	json_t *v = conf_load(path, &err);
	if (!v)
		die("--templates: %s", err.p);
	json_t *list = json_is_object(v) && json_is_array(json_object_get(v, "templates"))
		? json_object_get(v, "templates") : v;
	if (!json_is_array(list) || !json_array_size(list))
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

static void load_examples(const char *path)
{
	struct buf err = {0}, b = {0};
	json_t *list = conf_load_records(path, &err);
	if (!list)
		die("--examples: %s", err.p);
	size_t i;
	json_t *e;
	json_array_foreach(list, i, e) {
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

void dyn_init(void)
{
	if (opts.ninjects) {
		injects = json_object();
		for (int i = 0; i < opts.ninjects; i++)
			json_object_set_new(injects, opts.injects[i].name, load_inject(opts.injects[i].value));
	}
	if (opts.templates_path)
		load_templates(opts.templates_path);
	if (opts.examples_path)
		load_examples(opts.examples_path);
}

static json_t *draw(json_t *list, const char *id, const char *purpose)
{
	struct rng g;
	rng_init(&g, opts.seed, id, prog_name, purpose);
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

json_t *dyn_context(json_t *rec, const char *id)
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

void dyn_params(const char *id, struct llm_req *r)
{
	struct rng g;
	rng_init(&g, opts.seed, id, prog_name, "params");
	double t = rng_range(&g, opts.temp_lo, opts.temp_hi);
	double p = rng_range(&g, opts.top_p_lo, opts.top_p_hi);
	r->temperature = opts.temp_lo < 0 ? -1 : round3(t);
	r->top_p = opts.top_p_lo < 0 ? -1 : round3(p);
	/* drawn after the others, so adding --top-k leaves their draws alone */
	double k = floor(rng_range(&g, opts.top_k_lo, opts.top_k_hi + 1));
	r->top_k = k > opts.top_k_hi ? opts.top_k_hi : (int)k;
	r->max_tokens = opts.max_tokens;
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

void dyn_meta(json_t *rec, const char *id)
{
	json_t *params = json_object();
	struct llm_req r = {0};
	dyn_params(id, &r);
	if (opts.temp_lo >= 0 && opts.temp_lo != opts.temp_hi)
		json_object_set_new(params, "temperature", json_real(r.temperature));
	if (opts.top_p_lo >= 0 && opts.top_p_lo != opts.top_p_hi)
		json_object_set_new(params, "top_p", json_real(r.top_p));
	if (opts.top_k_lo != opts.top_k_hi)
		json_object_set_new(params, "top_k", json_integer(r.top_k));
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
