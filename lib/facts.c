/* facts: counts kept in small JSON objects (few distinct keys: models,
 * reasons, seeds), in the order first seen. */
#include "facts.h"
#include "cost.h"
#include "record.h"

#include <inttypes.h>
#include <string.h>

struct facts {
	long records;
	json_t *usage;     /* model -> {requests, prompt_tokens, completion_tokens} */
	json_t *stops;     /* "reason\tby" -> count */
	json_t *seeds;     /* seed as text -> count */
	json_t *kinds;     /* kind -> count */
};

struct facts *facts_new(void)
{
	struct facts *f = xcalloc(1, sizeof *f);
	f->usage = json_object();
	f->stops = json_object();
	f->seeds = json_object();
	f->kinds = json_object();
	return f;
}

void facts_free(struct facts *f)
{
	if (!f)
		return;
	json_decref(f->usage);
	json_decref(f->stops);
	json_decref(f->seeds);
	json_decref(f->kinds);
	free(f);
}

static void count(json_t *counts, const char *key, json_int_t n)
{
	json_t *c = json_object_get(counts, key);
	json_object_set_new(counts, key, json_integer(json_integer_value(c) + n));
}

void facts_add(struct facts *f, json_t *rec)
{
	f->records++;
	const char *model;
	json_t *u;
	json_object_foreach(json_path(rec, "meta.usage"), model, u) {
		json_t *have = json_object_get(f->usage, model);
		if (!have) {
			have = json_object();
			json_object_set_new(f->usage, model, have);
		}
		static const char *const keys[] = {"requests", "prompt_tokens", "completion_tokens"};
		for (int i = 0; i < 3; i++)
			count(have, keys[i], json_integer_value(json_object_get(u, keys[i])));
	}
	const char *reason = json_string_value(json_path(rec, "stop.reason"));
	if (reason) {
		const char *by = json_string_value(json_path(rec, "stop.by"));
		char *key = xasprintf("%s\t%s", reason, by ? by : "");
		count(f->stops, key, 1);
		free(key);
	}
	json_t *seed = json_path(rec, "meta.seed");
	if (json_is_integer(seed)) {
		char *key = xasprintf("%" JSON_INTEGER_FORMAT, json_integer_value(seed));
		count(f->seeds, key, 1);
		free(key);
	}
	const char *kind = json_str(rec, "kind");
	if (kind)
		count(f->kinds, kind, 1);
}

/* A table cell: no line breaks or pipes from a record's text. */
static void cell(struct buf *out, const char *s)
{
	for (; *s; s++)
		buf_addc(out, *s == '|' ? '/' : *s == '\n' || *s == '\r' ? ' ' : *s);
}

void facts_markdown(const struct facts *f, struct buf *out)
{
	const char *key;
	json_t *v;
	if (json_object_size(f->usage)) {
		buf_adds(out, "### Models\n\nAs the records' `meta.usage` has them (a call that made "
			 "several records counts in each).\n\n"
			 "| model | requests | prompt tokens | completion tokens | estimated cost (USD) |\n"
			 "|---|---:|---:|---:|---:|\n");
		json_object_foreach(f->usage, key, v) {
			json_int_t pt = json_integer_value(json_object_get(v, "prompt_tokens"));
			json_int_t ct = json_integer_value(json_object_get(v, "completion_tokens"));
			int known;
			double usd = cost_usd(key, (double)pt, (double)ct, &known);
			buf_adds(out, "| ");
			cell(out, key);
			buf_addf(out, " | %" JSON_INTEGER_FORMAT " | %" JSON_INTEGER_FORMAT " | %"
				 JSON_INTEGER_FORMAT " | ",
				 json_integer_value(json_object_get(v, "requests")), pt, ct);
			if (known)
				buf_addf(out, "%.4f |\n", usd);
			else
				buf_adds(out, "no price |\n");
		}
		buf_adds(out, "\n");
	}
	if (json_object_size(f->stops)) {
		buf_adds(out, "### How the conversations ended\n\n"
			 "| stop.reason | stop.by | records |\n|---|---|---:|\n");
		json_object_foreach(f->stops, key, v) {
			const char *tab = strchr(key, '\t');
			buf_adds(out, "| ");
			char *reason = xstrndup(key, (size_t)(tab - key));
			cell(out, reason);
			free(reason);
			buf_adds(out, " | ");
			cell(out, tab + 1);
			buf_addf(out, " | %" JSON_INTEGER_FORMAT " |\n", json_integer_value(v));
		}
		buf_adds(out, "\n");
	}
	struct {
		const char *title;
		json_t *counts;
	} lists[] = {{"Seeds (`meta.seed`)", f->seeds}, {"Kinds (`kind`)", f->kinds}};
	for (size_t i = 0; i < 2; i++) {
		if (!json_object_size(lists[i].counts))
			continue;
		buf_addf(out, "### %s\n\n", lists[i].title);
		json_object_foreach(lists[i].counts, key, v) {
			buf_adds(out, "- ");
			cell(out, key);
			buf_addf(out, ": %" JSON_INTEGER_FORMAT " records\n", json_integer_value(v));
		}
		buf_adds(out, "\n");
	}
}
