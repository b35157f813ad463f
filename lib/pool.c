/* pool: a persona's description as a set of word shingles; the nearest
 * one found by trying every persona (a pool holds hundreds, not millions:
 * scg-dedup's index is for those). */
#include "pool.h"
#include "jv.h"
#include "util.h"

#include <string.h>

void pool_init(struct pool *p)
{
	p->personas = json_array();
	p->sets = NULL;
}

void pool_add(struct pool *p, json_t *persona)
{
	size_t n = json_array_size(p->personas);
	p->sets = xrealloc(p->sets, sizeof *p->sets * (n + 1));
	memset(&p->sets[n], 0, sizeof *p->sets);
	const char *d = jv_str(persona, "description");
	nd_text_set(d ? d : "", POOL_SHINGLE_WORDS, &p->sets[n]);
	json_array_append(p->personas, persona);
}

size_t pool_size(const struct pool *p)
{
	return json_array_size(p->personas);
}

const char *pool_summary(json_t *persona)
{
	const char *s = jv_str(persona, "summary");
	if (s && *s)
		return s;
	s = jv_str(persona, "description");
	return s ? s : jv_str(persona, "name");
}

double pool_nearest(const struct pool *p, const struct nd_set *set, json_t *more,
		    const struct nd_set *more_sets, size_t n, json_t **near)
{
	size_t have = pool_size(p);
	double best = -1;
	*near = NULL;
	for (size_t k = 0; k < have + n; k++) {
		double s = nd_jaccard(set, k < have ? &p->sets[k] : &more_sets[k - have]);
		if (s > best) {
			best = s;
			*near = k < have ? json_array_get(p->personas, k) : json_array_get(more, k - have);
		}
	}
	return best;
}

void pool_prompt_vars(const struct pool *p, long known, const char *const *fields, size_t nfields,
		      int cards, json_t *ctx)
{
	if (!known)
		return;
	struct buf lines = {0}, all = {0};
	for (long i = 0; i < known; i++) {
		json_t *q = json_array_get(p->personas, (size_t)i);
		buf_addf(&lines, "%s- %s", i ? "\n" : "", pool_summary(q));
		for (size_t f = 0; cards && f < nfields; f++) {
			const char *v = jv_str(q, fields[f]);
			buf_addf(&all, "%s%s: %s", f ? "\n  " : i ? "\n- " : "- ", fields[f], v ? v : "");
		}
	}
	json_object_set_new(ctx, "previous", json_string(lines.p));
	if (cards)
		json_object_set_new(ctx, "previous_cards", json_string(all.p));
	buf_free(&lines);
	buf_free(&all);
}
