/* hfcard: features are kept as a small JSON tree: {"dtype": T} for a
 * value (string, int64, float64, bool, null), {"list": F}, or {"struct":
 * {name: F, ...}} in the order the names were first seen. Merging two
 * trees widens int64 to float64 and null to anything; other differences
 * are a conflict the datasets library could not load either. */
#include "hfcard.h"
#include "cost.h"
#include "jv.h"
#include "record.h"
#include "stats.h"
#include "yamlout.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

struct hfcard {
	long rows[HF_NSPLITS];
	json_t *features;      /* {"struct": {...}} of the rows */
	char *conflict;        /* the first conflict, or NULL */
	struct stats *stats;   /* of the records written */
	json_t *seeds;         /* meta.seed as text -> records */
};

static const char *const split_names[HF_NSPLITS] = {"train", "validation"};
static const char *const split_files[HF_NSPLITS] = {"data/train.jsonl", "data/validation.jsonl"};

const char *hfcard_split_name(int split)
{
	return split_names[split];
}

const char *hfcard_split_file(int split)
{
	return split_files[split];
}

struct hfcard *hfcard_new(void)
{
	struct hfcard *c = xcalloc(1, sizeof *c);
	c->features = json_pack("{s:{}}", "struct");
	c->stats = stats_new(NULL);
	c->seeds = json_object();
	return c;
}

void hfcard_free(struct hfcard *c)
{
	if (!c)
		return;
	json_decref(c->features);
	free(c->conflict);
	stats_free(c->stats);
	json_decref(c->seeds);
	free(c);
}

/* The path of member k under at, for messages ("persona.age"). */
static char *member_path(const char *at, const char *k)
{
	return *at ? xasprintf("%s.%s", at, k) : xstrdup(k);
}

static json_t *dtype(const char *t)
{
	return json_pack("{s:s}", "dtype", t);
}

static const char *dtype_of(json_t *f)
{
	return json_string_value(json_object_get(f, "dtype"));
}

/* a and b merged (a new reference), or NULL with the conflict in why
 * (at names the column). */
static json_t *merge(json_t *a, json_t *b, const char *at, char **why)
{
	const char *ta = dtype_of(a), *tb = dtype_of(b);
	if (ta && !strcmp(ta, "null"))
		return json_incref(b);
	if (tb && !strcmp(tb, "null"))
		return json_incref(a);
	if (ta && tb) {
		if (!strcmp(ta, tb))
			return json_incref(a);
		if ((!strcmp(ta, "int64") && !strcmp(tb, "float64")) ||
		    (!strcmp(ta, "float64") && !strcmp(tb, "int64")))
			return dtype("float64");
		if (!*why)
			*why = xasprintf("%s is %s in one row and %s in another", at, ta, tb);
		return NULL;
	}
	json_t *la = json_object_get(a, "list"), *lb = json_object_get(b, "list");
	if (la && lb) {
		json_t *m = merge(la, lb, at, why);
		return m ? json_pack("{s:o}", "list", m) : NULL;
	}
	json_t *sa = json_object_get(a, "struct"), *sb = json_object_get(b, "struct");
	if (sa && sb) {
		json_t *out = json_deep_copy(sa);
		const char *k;
		json_t *f;
		json_object_foreach(sb, k, f) {
			json_t *have = json_object_get(out, k);
			char *sub = member_path(at, k);
			json_t *m = have ? merge(have, f, sub, why) : json_incref(f);
			free(sub);
			if (!m) {
				json_decref(out);
				return NULL;
			}
			json_object_set_new(out, k, m);
		}
		return json_pack("{s:o}", "struct", out);
	}
	if (!*why)
		*why = xasprintf("%s has values of different shapes (a list, an object, a value)", at);
	return NULL;
}

/* The feature of a value, or NULL with why when a list's elements differ. */
static json_t *feature_of(json_t *v, const char *at, char **why)
{
	size_t i;
	json_t *x;
	const char *k;
	switch (json_typeof(v)) {
	case JSON_STRING: return dtype("string");
	case JSON_INTEGER: return dtype("int64");
	case JSON_REAL: return dtype("float64");
	case JSON_TRUE:
	case JSON_FALSE: return dtype("bool");
	case JSON_ARRAY: {
		json_t *elem = dtype("null");
		json_array_foreach(v, i, x) {
			json_t *f = feature_of(x, at, why), *m = f ? merge(elem, f, at, why) : NULL;
			json_decref(f);
			json_decref(elem);
			if (!(elem = m))
				return NULL;
		}
		return json_pack("{s:o}", "list", elem);
	}
	case JSON_OBJECT: {
		json_t *s = json_object();
		json_object_foreach(v, k, x) {
			char *sub = member_path(at, k);
			json_t *f = feature_of(x, sub, why);
			free(sub);
			if (!f) {
				json_decref(s);
				return NULL;
			}
			json_object_set_new(s, k, f);
		}
		return json_pack("{s:o}", "struct", s);
	}
	default: return dtype("null");
	}
}

void hfcard_row(struct hfcard *c, int split, json_t *row, json_t *rec)
{
	c->rows[split]++;
	stats_add_record(c->stats, rec);
	json_t *seed = jv_path(rec, "meta.seed");
	if (json_is_integer(seed)) {
		char *k = xasprintf("%" JSON_INTEGER_FORMAT, json_integer_value(seed));
		json_t *n = json_object_get(c->seeds, k);
		json_object_set_new(c->seeds, k, json_integer(json_integer_value(n) + 1));
		free(k);
	}
	if (c->conflict)
		return;
	json_t *f = feature_of(row, "", &c->conflict);
	json_t *m = f ? merge(c->features, f, "", &c->conflict) : NULL;
	json_decref(f);
	if (m) {
		json_decref(c->features);
		c->features = m;
	}
}

/* A feature in the card's YAML shape (datasets' Features._to_yaml_list):
 * {dtype: T}, {list: T} for a list of values, {list: [fields]} for a list
 * of objects, {struct: [fields]}; each field {name: N, ...}. */
static json_t *yaml_fields(json_t *s);

static json_t *yaml_inner(json_t *f)
{
	json_t *l = json_object_get(f, "list"), *s = json_object_get(f, "struct");
	if (s)
		return json_pack("{s:o}", "struct", yaml_fields(s));
	if (!l)
		return json_pack("{s:O}", "dtype", json_object_get(f, "dtype"));
	if (dtype_of(l))
		return json_pack("{s:O}", "list", json_object_get(l, "dtype"));
	if (json_object_get(l, "struct"))
		return json_pack("{s:o}", "list", yaml_fields(json_object_get(l, "struct")));
	return json_pack("{s:o}", "list", yaml_inner(l));
}

static json_t *yaml_fields(json_t *s)
{
	json_t *out = json_array();
	const char *k;
	json_t *f;
	json_object_foreach(s, k, f) {
		json_t *field = json_pack("{s:s}", "name", k);
		json_t *inner = yaml_inner(f);
		json_object_update(field, inner);
		json_decref(inner);
		json_array_append_new(out, field);
	}
	return out;
}

/* A table cell: no line breaks or pipes from a record's text. */
static void cell(struct buf *out, const char *s)
{
	for (; *s; s++)
		buf_addc(out, *s == '|' ? '/' : *s == '\n' || *s == '\r' ? ' ' : *s);
}

static json_int_t count_of(json_t *v, const char *key)
{
	return json_integer_value(json_object_get(v, key));
}

/* name -> count, as "- name: count records" lines. */
static void count_list(struct buf *out, const char *title, json_t *counts)
{
	if (!json_object_size(counts))
		return;
	buf_addf(out, "%s\n\n", title);
	const char *k;
	json_t *v;
	json_object_foreach(counts, k, v) {
		buf_adds(out, "- ");
		cell(out, k);
		buf_addf(out, ": %" JSON_INTEGER_FORMAT "\n", json_integer_value(v));
	}
	buf_adds(out, "\n");
}

/* The usage table of a stats "models" or "stages" object; the cost is the
 * records' own where every record has one, else estimated from the price
 * table (lib/cost). */
static void usage_table(struct buf *out, const char *what, json_t *by, int recorded)
{
	buf_addf(out, "| %s | requests | prompt tokens | completion tokens | cost (USD%s) |\n"
		 "|---|---:|---:|---:|---:|\n", what, recorded ? "" : ", estimated");
	const char *k;
	json_t *v;
	json_object_foreach(by, k, v) {
		json_int_t pt = count_of(v, "prompt_tokens"), ct = count_of(v, "completion_tokens");
		int known = 1;
		double usd = recorded ? json_number_value(json_object_get(v, "cost"))
			: cost_usd(k, (double)pt, (double)ct, &known);
		buf_adds(out, "| ");
		cell(out, k);
		buf_addf(out, " | %" JSON_INTEGER_FORMAT " | %" JSON_INTEGER_FORMAT " | %" JSON_INTEGER_FORMAT,
			 count_of(v, "requests"), pt, ct);
		if (known)
			buf_addf(out, " | %.4f |\n", usd);
		else
			buf_adds(out, " | no price |\n");
	}
	buf_adds(out, "\n");
}

/* What the records say about how they were made: lib/stats' summary. */
static void facts(const struct hfcard *c, struct buf *out)
{
	json_t *st = stats_json(c->stats);
	buf_addf(out, "### The records\n\n- %" JSON_INTEGER_FORMAT " conversations, %"
		 JSON_INTEGER_FORMAT " preference pairs\n", count_of(st, "conversations"),
		 count_of(st, "dpo_pairs"));
	json_t *turns = json_object_get(st, "turns");
	if (count_of(turns, "count"))
		buf_addf(out, "- user turns a conversation: %g to %g, mean %g\n",
			 json_number_value(json_object_get(turns, "min")),
			 json_number_value(json_object_get(turns, "max")),
			 json_number_value(json_object_get(turns, "mean")));
	json_t *personas = jv_path(st, "diversity.personas");
	if (count_of(personas, "count"))
		buf_addf(out, "- %" JSON_INTEGER_FORMAT " personas\n", count_of(personas, "count"));
	json_t *near = jv_path(st, "diversity.near_duplicates");
	buf_addf(out, "- near duplicates (Jaccard of word 5-grams at least %g): %" JSON_INTEGER_FORMAT
		 " conversations\n", json_number_value(json_object_get(near, "threshold")),
		 count_of(near, "conversations"));
	buf_adds(out, "\n");
	json_t *usage = json_object_get(st, "usage");
	if (json_object_size(json_object_get(usage, "models"))) {
		buf_adds(out, "### Models\n\nAs the records' `meta.usage` has them (a call that made "
			 "several records counts in each).\n\n");
		int recorded = !count_of(usage, "records_without_cost");
		usage_table(out, "model", json_object_get(usage, "models"), recorded);
		json_t *stages = json_object_get(usage, "stages");
		if (json_object_size(stages) > 1 || !json_object_get(stages, "(unknown)"))
			usage_table(out, "stage", stages, recorded);
	}
	count_list(out, "### How the conversations ended (`stop.reason`)", jv_path(st, "stop.reason"));
	count_list(out, "### Who ended them (`stop.by`)", jv_path(st, "stop.by"));
	count_list(out, "### Kinds", json_object_get(st, "kinds"));
	count_list(out, "### Seeds (`meta.seed`)", c->seeds);
	json_decref(st);
}

static const char *size_category(long n)
{
	return n < 1000 ? "n<1K" : n < 10000 ? "1K<n<10K" : n < 100000 ? "10K<n<100K"
		: n < 1000000 ? "100K<n<1M" : n < 10000000 ? "1M<n<10M" : "10M<n<100M";
}

int hfcard_write(const struct hfcard *c, const char *path, const char *name,
		 const char *about, const char *made, struct buf *err, char **warning)
{
	json_t *files = json_array(), *splits = json_array();
	long total = 0;
	for (int i = 0; i < HF_NSPLITS; i++) {
		total += c->rows[i];
		if (i && !c->rows[i])
			continue;   /* an empty split is not declared */
		json_array_append_new(files, json_pack("{s:s, s:s}", "split", split_names[i],
						       "path", split_files[i]));
		json_array_append_new(splits, json_pack("{s:s, s:I}", "name", split_names[i],
							"num_examples", (json_int_t)c->rows[i]));
	}
	json_t *info = json_object();
	if (!c->conflict)
		json_object_set_new(info, "features",
				    yaml_fields(json_object_get(c->features, "struct")));
	else if (warning)
		*warning = xasprintf("the card declares no features: %s", c->conflict);
	json_object_set_new(info, "splits", splits);
	json_t *head = json_pack("{s:s, s:[{s:s, s:o}], s:o, s:[s], s:[s, s], s:[s]}",
		"pretty_name", name,
		"configs", "config_name", "default", "data_files", files,
		"dataset_info", info,
		"task_categories", "text-generation",
		"tags", "synthetic", "scg",
		"size_categories", size_category(total));
	struct buf doc = {0};
	buf_adds(&doc, "---\n");
	int bad = yamlout_write(head, &doc);
	json_decref(head);
	if (bad) {
		buf_adds(err, "the card's header could not be written as YAML");
		buf_free(&doc);
		return -1;
	}
	buf_addf(&doc, "---\n\n# %s\n\n%s\n## How it was made\n\n%s", name, about, made);
	facts(c, &doc);
	buf_addf(&doc, "## Loading\n\n```python\nfrom datasets import load_dataset\n\n"
		 "ds = load_dataset(\"path/to/%s\")\n```\n", name);
	FILE *f = fopen(path, "w");
	int failed = !f;
	if (f) {
		failed = fwrite(doc.p, 1, doc.len, f) != doc.len;
		failed |= fclose(f) != 0;
	}
	if (failed)
		buf_addf(err, "%s: %s", path, strerror(errno));
	buf_free(&doc);
	return failed ? -1 : 0;
}
