/* stats-diversity: how varied the records are: distinct word 1- and
 * 2-grams by role, near-duplicate conversations (through lib/neardup, as
 * scg-dedup's default mode; neardup_add alone calls it), the coverage of
 * the axes' combinations and the conversations per persona. */
#include "stats-int.h"
#include "axes.h"
#include "jv.h"
#include "neardup.h"

#include <stdlib.h>
#include <string.h>

/* Distinct word 1- and 2-grams of a normalised text, by role. */
void diversity_ngrams(struct role_stats *r, const char *norm, size_t n)
{
	const char *prev = NULL;
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && norm[j] != ' ')
			j++;
		r->words++;
		hset_add(&r->uni, hash64(norm + i, j - i, 1));
		if (prev) {
			r->bigrams++;
			hset_add(&r->bi, hash64(prev, (size_t)(norm + j - prev), 2));
		}
		prev = norm + i;
		i = j + 1;
	}
}

/* The conversation's normalised text is in st->norm: marks it and any
 * earlier conversation at Jaccard >= STATS_NEAR_THRESHOLD (exact copies
 * included). The only place that calls lib/neardup's index. */
void diversity_neardup(struct stats *st, size_t conv)
{
	if (!st->sk) {
		int bands, rows;
		nd_bands_choose(STATS_NEAR_THRESHOLD, 128, 0, 0.25, &bands, &rows);
		st->sk = nd_sketcher_new(bands * rows, 0);
		st->lsh = nd_lsh_new(bands, rows, 0);
		st->exact = nd_exact_new();
		st->sig = xmalloc((size_t)(bands * rows) * sizeof *st->sig);
		st->keys = xmalloc((size_t)bands * sizeof *st->keys);
	}
	const char *text = st->norm.p ? st->norm.p : "";
	uint64_t h[2];
	uint32_t of = 0;
	long match = -1;
	nd_exact_hash(text, st->norm.len, h);
	int is_short = !nd_shingles(text, st->norm.len, 5, 0, 0, &st->set);
	if (nd_exact_find(st->exact, h, &of))
		match = of;
	else
		nd_exact_add(st->exact, h, (uint32_t)conv);
	if (match < 0 && !is_short) {
		nd_sketch(st->sk, st->set.h, st->set.n, st->sig);
		nd_lsh_keys(st->lsh, st->sig, st->keys);
		const struct nd_cand *cand;
		size_t nc = nd_lsh_query(st->lsh, st->keys, &cand);
		for (size_t c = 0; c < nc && match < 0; c++) {
			uint32_t r = cand[c].rec;
			size_t from = r ? st->sh_end[r - 1] : 0, n = st->sh_end[r] - from;
			size_t need = nd_need(st->set.n, n, STATS_NEAR_THRESHOLD);
			size_t inter = nd_common(&st->set, st->sh + from, n, need);
			if (inter >= need && nd_at_least(inter, st->set.n + n - inter, STATS_NEAR_THRESHOLD))
				match = r;
		}
		nd_lsh_insert(st->lsh, st->keys, (uint32_t)conv);
	}
	/* every conversation has its slot in the shingle store (short ones empty) */
	size_t add = is_short ? 0 : st->set.n;
	if (st->shlen + add > st->shcap) {
		st->shcap = (st->shlen + add) * 2;
		st->sh = xrealloc(st->sh, st->shcap * sizeof *st->sh);
	}
	if (add)
		memcpy(st->sh + st->shlen, st->set.h, add * sizeof *st->sh);
	st->shlen += add;
	st->sh_end[conv] = st->shlen;
	if (match >= 0) {
		st->near[conv] = st->near[match] = 1;
		if (json_array_size(st->near_pairs) < STATS_IDS)
			json_array_append_new(st->near_pairs, json_pack("[s,s]", st->conv_ids[match],
									 st->conv_ids[conv]));
	}
}

void diversity_axes(struct stats *st, json_t *axes)
{
	if (!json_is_object(axes) || !json_object_size(axes))
		return;
	struct buf label = {0};
	axes_label(axes, &label);
	jv_count(st->combos, label.p, 1);
	buf_free(&label);
	const char *k;
	json_t *v;
	json_object_foreach(axes, k, v) {
		json_t *vals = json_object_get(st->axis_values, k);
		if (!vals) {
			vals = json_object();
			json_object_set_new(st->axis_values, k, vals);
		}
		if (json_is_string(v))
			json_object_set_new(vals, json_string_value(v), json_true());
	}
}

static json_t *distinct_json(struct stats *st)
{
	json_t *d = json_object();
	for (struct role_stats *r = st->roles; r; r = r->next)
		json_object_set_new(d, r->role, json_pack("{s:I, s:I, s:f, s:I, s:I, s:f}",
			"words", (json_int_t)r->words, "distinct_words", (json_int_t)r->uni.n,
			"distinct_1", ratio((double)r->uni.n, (double)r->words),
			"bigrams", (json_int_t)r->bigrams, "distinct_bigrams", (json_int_t)r->bi.n,
			"distinct_2", ratio((double)r->bi.n, (double)r->bigrams)));
	return d;
}

static json_t *axes_json(struct stats *st)
{
	json_t *out = json_object();
	json_object_set_new(out, "seen", json_integer((json_int_t)json_object_size(st->combos)));
	if (st->have_axes) {
		json_t *missing = json_array();
		long covered = 0;
		for (int c = 0; c < st->axes.ncombos; c++) {
			json_t *a = json_object();
			for (int x = 0; x < st->axes.naxes; x++) {
				json_t *vals = st->axes.values[x];
				int want = st->axes.combos[c * st->axes.naxes + x], idx = 0;
				const char *name;
				json_t *text;
				json_object_foreach(vals, name, text)
					if (idx++ == want)
						json_object_set_new(a, st->axes.names[x], json_string(name));
			}
			struct buf label = {0};
			axes_label(a, &label);
			if (json_object_get(st->combos, label.p))
				covered++;
			else
				json_array_append_new(missing, json_string(label.p));
			buf_free(&label);
			json_decref(a);
		}
		json_object_set_new(out, "possible", json_integer(st->axes.ncombos));
		json_object_set_new(out, "covered", json_integer(covered));
		json_object_set_new(out, "coverage", json_real(ratio((double)covered, st->axes.ncombos)));
		json_object_set_new(out, "missing", missing);
	} else {
		/* without the axes file: every combination of the values seen */
		double possible = json_object_size(st->axis_values) ? 1 : 0;
		const char *k;
		json_t *v;
		json_object_foreach(st->axis_values, k, v)
			possible *= (double)json_object_size(v);
		json_object_set_new(out, "possible", json_integer((json_int_t)possible));
		json_object_set_new(out, "covered", json_integer((json_int_t)json_object_size(st->combos)));
		json_object_set_new(out, "coverage",
				    json_real(ratio((double)json_object_size(st->combos), possible)));
	}
	json_object_set_new(out, "combinations", sorted(st->combos, NULL, 0));
	return out;
}

static json_t *personas_json(struct stats *st)
{
	struct vals per = {0};
	const char *k;
	json_t *v;
	json_object_foreach(st->personas, k, v)
		vals_add(&per, (double)json_integer_value(v));
	json_t *s = summary_of(&per);
	free(per.v);
	json_object_del(s, "count");
	return json_pack("{s:I, s:o, s:o}", "count", (json_int_t)json_object_size(st->personas),
			 "conversations", s, "by_persona", sorted(st->personas, NULL, 0));
}

void diversity_free(struct stats *st)
{
	if (st->sk) {
		nd_sketcher_free(st->sk);
		nd_lsh_free(st->lsh);
		nd_exact_free(st->exact);
		nd_set_free(&st->set);
		free(st->sig);
		free(st->keys);
	}
	free(st->sh);
	free(st->sh_end);
	free(st->near);
	for (size_t i = 0; i < st->nconv; i++)
		free(st->conv_ids[i]);
	free(st->conv_ids);
}

json_t *diversity_json(struct stats *st)
{
	long near = 0;
	for (size_t i = 0; i < st->nconv; i++)
		near += st->near[i];
	return json_pack("{s:o, s:{s:f, s:I, s:f, s:O}, s:o, s:o}",
		"distinct", distinct_json(st),
		"near_duplicates", "threshold", STATS_NEAR_THRESHOLD, "conversations", (json_int_t)near,
		"share", ratio((double)near, (double)st->nconv), "examples", st->near_pairs,
		"axes", axes_json(st), "personas", personas_json(st));
}
