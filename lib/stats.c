/* stats: the summary of a set of records (see stats.h): the records taken
 * in one at a time, and the summary written from the counts. Counters are
 * jansson objects (name -> integer), sorted by count when written; lengths
 * are kept whole for the percentiles (nearest rank); distinct n-grams are
 * 64-bit hashes in open-addressing sets. The health checks are in
 * stats-health.c, the diversity measures in stats-diversity.c. */
#include "stats-int.h"
#include "conv.h"
#include "jv.h"
#include "record.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- small containers ------------------------------------------------- */

void vals_add(struct vals *a, double x)
{
	if (a->n == a->cap) {
		a->cap = a->cap ? 2 * a->cap : 64;
		a->v = xrealloc(a->v, a->cap * sizeof *a->v);
	}
	a->v[a->n++] = x;
	a->sum += x;
}

int hset_add(struct hset *s, uint64_t h)
{
	if (!h)
		h = 1;
	if (2 * (s->n + 1) > s->cap) {
		struct hset g = {.cap = s->cap ? 2 * s->cap : 1024};
		g.t = xcalloc(g.cap, sizeof *g.t);
		for (size_t i = 0; i < s->cap; i++)
			if (s->t[i])
				hset_add(&g, s->t[i]);
		free(s->t);
		*s = g;
	}
	size_t i = (size_t)(h * 0x9E3779B97F4A7C15ULL >> 7) & (s->cap - 1);
	while (s->t[i]) {
		if (s->t[i] == h)
			return 0;
		i = (i + 1) & (s->cap - 1);
	}
	s->t[i] = h;
	s->n++;
	return 1;
}

double round4(double x)
{
	return round(x * 1e4) / 1e4;
}

struct stats *stats_new(const char *axes_path)
{
	struct stats *st = xcalloc(1, sizeof *st);
	st->kinds = json_object();
	st->reasons = json_object();
	st->by = json_object();
	st->turn_hist = json_object();
	st->personas = json_object();
	st->combos = json_object();
	st->axis_values = json_object();
	st->models = json_object();
	st->stages = json_object();
	st->reject_programs = json_object();
	st->near_pairs = json_array();
	st->eval = eval_new();
	health_init(st);
	if (axes_path) {
		axes_load(&st->axes, axes_path);
		st->have_axes = 1;
	}
	return st;
}

static void role_free(struct role_stats *r)
{
	free(r->role);
	free(r->chars.v);
	free(r->uni.t);
	free(r->bi.t);
	free(r);
}

void stats_free(struct stats *st)
{
	if (!st)
		return;
	json_decref(st->kinds);
	json_decref(st->reasons);
	json_decref(st->by);
	json_decref(st->turn_hist);
	json_decref(st->personas);
	json_decref(st->combos);
	json_decref(st->axis_values);
	json_decref(st->models);
	json_decref(st->stages);
	json_decref(st->reject_programs);
	json_decref(st->near_pairs);
	health_free(st);
	free(st->turns.v);
	free(st->chosen.v);
	free(st->rejected.v);
	for (struct role_stats *r = st->roles, *n; r; r = n) {
		n = r->next;
		role_free(r);
	}
	diversity_free(st);
	buf_free(&st->norm);
	eval_free(st->eval);
	free(st);
}

void stats_set_pass_k(struct stats *st, int k)
{
	st->pass_k = k;
}

struct eval *stats_eval(struct stats *st)
{
	return st->eval;
}

/* ---- one record -------------------------------------------------------- */

static struct role_stats *role_get(struct stats *st, const char *role)
{
	struct role_stats **p = &st->roles;
	for (; *p; p = &(*p)->next)
		if (!strcmp((*p)->role, role))
			return *p;
	*p = xcalloc(1, sizeof **p);
	(*p)->role = xstrdup(role);
	return *p;
}

static void add_usage(json_t *into, const char *name, json_t *u)
{
	json_t *t = json_object_get(into, name);
	if (!t) {
		t = json_pack("{s:I, s:I, s:I, s:f}", "requests", (json_int_t)0, "prompt_tokens",
			      (json_int_t)0, "completion_tokens", (json_int_t)0, "cost", 0.0);
		json_object_set_new(into, name, t);
	}
	static const char *const ints[] = {"requests", "prompt_tokens", "completion_tokens"};
	for (int i = 0; i < 3; i++) {
		json_t *c = json_object_get(t, ints[i]);
		json_integer_set(c, json_integer_value(c) +
				 (json_int_t)json_number_value(json_object_get(u, ints[i])));
	}
	json_t *c = json_object_get(t, "cost");
	json_real_set(c, json_real_value(c) + json_number_value(json_object_get(u, "cost")));
}

static void usage_record(struct stats *st, json_t *rec)
{
	json_t *usage = jv_path(rec, "meta.usage");
	const char *model;
	json_t *u;
	int costless = 0;
	json_object_foreach(usage, model, u) {
		if (!json_is_object(u))
			continue;
		add_usage(st->models, model, u);
		costless |= !json_is_number(json_object_get(u, "cost"));
		json_t *stages = json_object_get(u, "stages");
		if (!json_is_object(stages) || !json_object_size(stages)) {
			add_usage(st->stages, "(unknown)", u);
			continue;
		}
		const char *stage;
		json_t *su;
		json_object_foreach(stages, stage, su)
			if (json_is_object(su))
				add_usage(st->stages, stage, su);
	}
	st->without_cost += costless;
}

/* The concatenated assistant texts of a DPO side. */
static void side_text(json_t *side, struct buf *out)
{
	buf_reset(out);
	buf_adds(out, "");
	size_t i;
	json_t *m;
	json_array_foreach(side, i, m) {
		const char *c = jv_str(m, "content");
		if (c)
			buf_adds(out, c);
	}
}

/* The first five words of the normalised text. */
static void opening(const char *s, struct buf *out)
{
	buf_reset(out);
	nd_norm_append(out, s, strlen(s), 0);
	size_t words = 0, i = 0;
	for (; i < out->len; i++)
		if (out->p[i] == ' ' && ++words == 5)
			break;
	if (out->p)
		out->p[i] = 0;
}

static void dpo_record(struct stats *st, json_t *rec)
{
	st->pairs++;
	struct buf c = {0}, r = {0}, oc = {0}, orr = {0};
	side_text(json_object_get(rec, "chosen"), &c);
	side_text(json_object_get(rec, "rejected"), &r);
	vals_add(&st->chosen, (double)utf8_chars(c.p));
	vals_add(&st->rejected, (double)utf8_chars(r.p));
	opening(c.p, &oc);
	opening(r.p, &orr);
	if (oc.p && orr.p && !strcmp(oc.p, orr.p))
		st->same_opening++;
	buf_free(&c);
	buf_free(&r);
	buf_free(&oc);
	buf_free(&orr);
}

static const char *kind_of(json_t *rec)
{
	const char *k = jv_str(rec, "kind");
	if (k)
		return k;
	if (json_object_get(rec, "chosen") && json_object_get(rec, "rejected"))
		return "dpo";
	if (json_is_array(json_object_get(rec, "messages")))
		return "conversation";
	if (json_object_get(rec, "scene"))
		return "scene";
	return "other";
}

static void conversation(struct stats *st, json_t *rec, json_t *msgs, const char *id)
{
	size_t conv = st->nconv++;
	if (st->nconv > st->convcap) {
		st->convcap = st->convcap ? 2 * st->convcap : 256;
		st->conv_ids = xrealloc(st->conv_ids, st->convcap * sizeof *st->conv_ids);
		st->near = xrealloc(st->near, st->convcap);
		st->sh_end = xrealloc(st->sh_end, st->convcap * sizeof *st->sh_end);
	}
	st->conv_ids[conv] = xstrdup(id);
	st->near[conv] = 0;
	st->conversations++;

	int turns = conv_user_turns(msgs);
	vals_add(&st->turns, turns);
	char key[24];
	snprintf(key, sizeof key, "%d", turns);
	jv_count(st->turn_hist, key, 1);

	json_t *stop = json_object_get(rec, "stop");
	const char *reason = jv_str(stop, "reason"), *by = jv_str(stop, "by");
	jv_count(st->reasons, reason ? reason : "(none)", 1);
	jv_count(st->by, by ? by : "(none)", 1);

	const char *pname = json_string_value(jv_path(rec, "persona.name"));
	if (pname)
		jv_count(st->personas, pname, 1);
	diversity_axes(st, jv_path(rec, "persona.axes"));

	struct health h = {0};
	struct buf norm = {0};
	buf_reset(&st->norm);
	size_t i;
	json_t *m;
	json_array_foreach(msgs, i, m) {
		const char *role = jv_str(m, "role");
		json_t *cv = json_object_get(m, "content");
		const char *content = json_string_value(cv);
		if (!health_message(&h, role, content))
			continue;
		struct role_stats *r = role_get(st, role);
		vals_add(&r->chars, (double)utf8_chars(content));
		buf_reset(&norm);
		nd_norm_append(&norm, content, json_string_length(cv), 0);
		if (norm.len)
			diversity_ngrams(r, norm.p, norm.len);
		nd_norm_append(&st->norm, content, json_string_length(cv), 0);
		if (!strcmp(role, "system"))
			continue;
		health_said(&h, rec, role, content);
	}
	buf_free(&norm);
	health_end(st, &h, id);
	diversity_neardup(st, conv);
}

void stats_add_record(struct stats *st, json_t *rec)
{
	st->records++;
	jv_count(st->kinds, kind_of(rec), 1);
	usage_record(st, rec);
	const char *id = jv_str(rec, "id");
	char fallback[32];
	if (!id) {
		snprintf(fallback, sizeof fallback, "#%ld", st->records);
		id = fallback;
	}
	json_t *msgs = json_object_get(rec, "messages");
	if (json_is_array(msgs))
		conversation(st, rec, msgs, id);
	eval_add(st->eval, rec);
	if (json_is_array(json_object_get(rec, "chosen")) && json_is_array(json_object_get(rec, "rejected")))
		dpo_record(st, rec);
}

int stats_is_reject(json_t *rec)
{
	json_t *e = json_object_get(rec, "error");
	return json_is_object(e) && json_is_string(json_object_get(e, "program")) &&
	       json_is_string(json_object_get(e, "reason"));
}

void stats_add_reject(struct stats *st, json_t *rej)
{
	json_t *e = json_object_get(rej, "error");
	const char *program = jv_str(e, "program"), *reason = jv_str(e, "reason");
	st->rejects++;
	if (!program)
		program = "(unknown)";
	json_t *p = json_object_get(st->reject_programs, program);
	if (!p) {
		p = json_pack("{s:I, s:o}", "count", (json_int_t)0, "reasons", json_object());
		json_object_set_new(st->reject_programs, program, p);
	}
	json_integer_set(json_object_get(p, "count"), json_integer_value(json_object_get(p, "count")) + 1);
	jv_count(json_object_get(p, "reasons"), reason ? reason : "(none)", 1);
}

void stats_add(struct stats *st, json_t *rec)
{
	if (stats_is_reject(rec))
		stats_add_reject(st, rec);
	else
		stats_add_record(st, rec);
}

/* ---- the summary -------------------------------------------------------- */

struct kv_count {
	const char *key;
	json_int_t n;
	json_t *v;
};

static int by_count(const void *a, const void *b)
{
	const struct kv_count *x = a, *y = b;
	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	return strcmp(x->key, y->key);
}

static int by_number(const void *a, const void *b)
{
	const struct kv_count *x = a, *y = b;
	long p = atol(x->key), q = atol(y->key);
	return (p > q) - (p < q);
}

/* A copy of obj with its members sorted: by count (descending, then name),
 * or by their names as numbers. count_of: the member's count, or NULL for
 * the member itself (an integer). */
json_t *sorted(json_t *obj, const char *count_of, int numeric)
{
	size_t n = json_object_size(obj), i = 0;
	struct kv_count *a = xcalloc(n ? n : 1, sizeof *a);
	const char *k;
	json_t *v;
	json_object_foreach(obj, k, v) {
		a[i].key = k;
		a[i].v = v;
		a[i++].n = json_integer_value(count_of ? json_object_get(v, count_of) : v);
	}
	qsort(a, n, sizeof *a, numeric ? by_number : by_count);
	json_t *out = json_object();
	for (i = 0; i < n; i++)
		json_object_set(out, a[i].key, a[i].v);
	free(a);
	return out;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Nearest rank: the smallest value with at least p of the values at or below it. */
static double rank(const struct vals *a, double p)
{
	size_t k = (size_t)ceil(p * (double)a->n);
	return a->v[k ? k - 1 : 0];
}

json_t *summary_of(struct vals *a)
{
	if (!a->n)
		return json_pack("{s:i}", "count", 0);
	qsort(a->v, a->n, sizeof *a->v, cmp_double);
	return json_pack("{s:I, s:f, s:f, s:f, s:f, s:f}", "count", (json_int_t)a->n, "min", a->v[0],
			 "mean", round4(a->sum / (double)a->n), "p50", rank(a, 0.5),
			 "p90", rank(a, 0.9), "max", a->v[a->n - 1]);
}

static json_t *length_histogram(const struct vals *a)
{
	static const double edges[] = {0, 50, 100, 200, 400, 800, 1600, 3200};
	const int ne = sizeof edges / sizeof *edges;
	json_t *h = json_array();
	for (int e = 0; e < ne; e++) {
		long c = 0;
		for (size_t i = 0; i < a->n; i++)
			c += a->v[i] >= edges[e] && (e == ne - 1 || a->v[i] < edges[e + 1]);
		json_array_append_new(h, json_pack("{s:f, s:o, s:I}", "lo", edges[e], "hi",
						   e == ne - 1 ? json_null() : json_real(edges[e + 1]),
						   "count", (json_int_t)c));
	}
	return h;
}

static void round_costs(json_t *by_name)
{
	const char *k;
	json_t *v;
	json_object_foreach(by_name, k, v) {
		json_t *c = json_object_get(v, "cost");
		json_real_set(c, round(json_real_value(c) * 1e10) / 1e10);
	}
}

static json_t *usage_json(struct stats *st)
{
	json_int_t req = 0, pt = 0, ct = 0;
	double cost = 0;
	const char *k;
	json_t *v;
	round_costs(st->models);
	round_costs(st->stages);
	json_object_foreach(st->models, k, v) {
		req += json_integer_value(json_object_get(v, "requests"));
		pt += json_integer_value(json_object_get(v, "prompt_tokens"));
		ct += json_integer_value(json_object_get(v, "completion_tokens"));
		cost += json_real_value(json_object_get(v, "cost"));
	}
	return json_pack("{s:I, s:I, s:I, s:f, s:o, s:o, s:I}", "requests", req, "prompt_tokens", pt,
			 "completion_tokens", ct, "cost", round(cost * 1e10) / 1e10,
			 "models", sorted(st->models, "requests", 0),
			 "stages", sorted(st->stages, "requests", 0),
			 "records_without_cost", (json_int_t)st->without_cost);
}

static json_t *rejects_json(struct stats *st)
{
	json_t *programs = sorted(st->reject_programs, "count", 0);
	const char *k;
	json_t *v;
	json_object_foreach(programs, k, v) {
		json_t *p = json_pack("{s:O, s:o}", "count", json_object_get(v, "count"), "reasons",
				      sorted(json_object_get(v, "reasons"), NULL, 0));
		json_object_set_new(programs, k, p);
	}
	return json_pack("{s:I, s:o}", "count", (json_int_t)st->rejects, "programs", programs);
}

double ratio(double a, double b)
{
	return b > 0 ? round4(a / b) : 0;
}

json_t *stats_json(struct stats *st)
{
	json_t *chars = json_object();
	for (struct role_stats *r = st->roles; r; r = r->next) {
		json_t *s = summary_of(&r->chars);
		json_object_set_new(s, "histogram", length_histogram(&r->chars));
		json_object_set_new(chars, r->role, s);
	}
	json_t *turns = summary_of(&st->turns);
	json_object_set_new(turns, "histogram", sorted(st->turn_hist, NULL, 1));

	json_t *health = health_json(st);
	json_t *diversity = diversity_json(st);

	json_t *dpo = json_pack("{s:I, s:o, s:o, s:I, s:f}", "pairs", (json_int_t)st->pairs,
		"chosen_chars", summary_of(&st->chosen), "rejected_chars", summary_of(&st->rejected),
		"identical_openings", (json_int_t)st->same_opening,
		"identical_openings_share", ratio((double)st->same_opening, (double)st->pairs));

	json_t *out = json_pack("{s:I, s:I, s:I, s:o, s:{s:o, s:o}, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
		"records", (json_int_t)st->records, "conversations", (json_int_t)st->conversations,
		"dpo_pairs", (json_int_t)st->pairs,
		"kinds", sorted(st->kinds, NULL, 0),
		"stop", "reason", sorted(st->reasons, NULL, 0), "by", sorted(st->by, NULL, 0),
		"turns", turns, "chars", chars, "usage", usage_json(st),
		"rejected", rejects_json(st), "health", health, "diversity", diversity, "dpo", dpo);
	if (eval_count(st->eval))
		json_object_set_new(out, "eval", eval_json(st->eval, st->pass_k));
	return out;
}
