/* dedup: the kept texts and the indexes over them (see dedup.h). */
#include "dedup.h"
#include "neardup.h"
#include "simd.h"

#include <stdlib.h>
#include <string.h>

#define NOVERIFY_BANDS 4   /* keeps the --no-verify index near 60 bytes a record */
/* The default mode verifies candidates exactly, so it trades a steep
 * S-curve for fewer hashes and band keys a record: the fewest values
 * for which a pair at half the threshold is a candidate with probability
 * at most this (at 0.8: 9 bands x 4 rows, not 16 x 6; bench/README.md). */
#define VERIFY_FMAX 0.25

struct dedup {
	struct dedup_config cf;
	/* what is kept per kept text, indexed by its number among the kept */
	struct {
		uint32_t n, cap;
		struct buf ids;             /* their ids, as JSON */
		uint32_t *id_end;
		uint32_t *sh;               /* default mode: the shingle hashes */
		uint64_t *sh_end, shlen, shcap;
		uint64_t *sketch;           /* --no-verify: 1-bit MinHash sketches */
		int skwords;
	} kept;
	struct nd_sketcher *band_sk, *bits_sk;
	struct nd_lsh *lsh;
	struct nd_exact *exact;
	struct nd_set set;                  /* the text being decided */
	uint32_t *sig, *bits_sig, *keys;
	uint64_t *sketch;
	int bands, rows;
};

/* --no-verify: a sketch of --perm bits holds half as many MinHash values */
static int sketch_values(const struct dedup *d)
{
	return (d->cf.perm + 1) / 2;
}

struct dedup *dedup_new(const struct dedup_config *c)
{
	struct dedup *d = xcalloc(1, sizeof *d);
	d->cf = *c;
	d->exact = nd_exact_new();
	simd_path();   /* a bad SCG_SIMD ends the run here */
	if (c->verbose)
		warnx_("vector path: %s", simd_describe());
	if (c->exact)
		return d;
	int fit = nd_bands_choose(c->threshold, c->perm, c->no_verify ? NOVERIFY_BANDS : 0,
				  c->no_verify ? 0 : VERIFY_FMAX, &d->bands, &d->rows);
	if (fit && !c->quiet)
		warnx_("with a signature of %d values a pair at J = %g is a candidate with "
		       "probability %.3f only; raise --perm or --threshold", c->perm, c->threshold,
		       nd_candidate_prob(c->threshold, d->bands, d->rows));
	d->band_sk = nd_sketcher_new(d->bands * d->rows, c->seed);
	d->lsh = nd_lsh_new(d->bands, d->rows, c->no_verify);
	d->sig = xmalloc((size_t)d->bands * (size_t)d->rows * sizeof *d->sig);
	if (c->no_verify) {
		d->bits_sk = nd_sketcher_new(sketch_values(d), c->seed + 1);
		d->bits_sig = xmalloc((size_t)sketch_values(d) * sizeof *d->bits_sig);
	}
	d->keys = xmalloc((size_t)d->bands * sizeof *d->keys);
	d->kept.skwords = (2 * sketch_values(d) + 63) / 64;
	d->sketch = xmalloc((size_t)d->kept.skwords * sizeof *d->sketch);
	if (c->verbose)
		warnx_("LSH %d bands x %d rows (%d of %d values): a pair is a candidate "
		       "with probability %.4f at J = %g, %.4f at %g", d->bands, d->rows,
		       d->bands * d->rows, c->perm, nd_candidate_prob(c->threshold, d->bands, d->rows),
		       c->threshold, nd_candidate_prob(c->threshold * 0.75, d->bands, d->rows),
		       c->threshold * 0.75);
	return d;
}

void dedup_free(struct dedup *d)
{
	if (!d)
		return;
	buf_free(&d->kept.ids);
	free(d->kept.id_end);
	free(d->kept.sh);
	free(d->kept.sh_end);
	free(d->kept.sketch);
	if (d->band_sk)
		nd_sketcher_free(d->band_sk);
	if (d->bits_sk)
		nd_sketcher_free(d->bits_sk);
	if (d->lsh)
		nd_lsh_free(d->lsh);
	nd_exact_free(d->exact);
	nd_set_free(&d->set);
	free(d->sig);
	free(d->bits_sig);
	free(d->keys);
	free(d->sketch);
	free(d);
}

/* Remembers a kept text: its id, and what a later text is compared with. */
static void keep(struct dedup *d, const char *id, size_t idlen, const uint64_t h[2], int is_short)
{
	uint32_t rec = d->kept.n++;
	if (rec == d->kept.cap) {
		d->kept.cap = d->kept.cap ? 2 * d->kept.cap : 1024;
		d->kept.id_end = xrealloc(d->kept.id_end, d->kept.cap * sizeof *d->kept.id_end);
		if (!d->cf.exact && !d->cf.no_verify)
			d->kept.sh_end = xrealloc(d->kept.sh_end, d->kept.cap * sizeof *d->kept.sh_end);
		if (d->cf.no_verify)
			d->kept.sketch = xrealloc(d->kept.sketch, d->kept.cap * (size_t)d->kept.skwords *
						  sizeof *d->kept.sketch);
	}
	buf_add(&d->kept.ids, id, idlen);
	if (d->kept.ids.len > UINT32_MAX)
		die("the ids of the kept records pass 4 GiB");
	d->kept.id_end[rec] = (uint32_t)d->kept.ids.len;
	if (d->cf.exact || is_short || !d->cf.no_verify)
		nd_exact_add(d->exact, h, rec);
	if (d->cf.exact)
		return;
	if (!is_short)
		nd_lsh_insert(d->lsh, d->keys, rec);
	if (d->cf.no_verify) {
		uint64_t *sk = d->kept.sketch + (size_t)rec * (size_t)d->kept.skwords;
		for (int w = 0; w < d->kept.skwords; w++)
			sk[w] = is_short ? 0 : d->sketch[w];
		return;
	}
	if (d->kept.shlen + d->set.n > d->kept.shcap) {
		d->kept.shcap = (d->kept.shlen + d->set.n) * 2;
		d->kept.sh = nd_big(xrealloc(d->kept.sh, d->kept.shcap * sizeof *d->kept.sh),
				    d->kept.shcap * sizeof *d->kept.sh);
	}
	if (!is_short)
		memcpy(d->kept.sh + d->kept.shlen, d->set.h, d->set.n * sizeof *d->set.h);
	d->kept.shlen += is_short ? 0 : d->set.n;
	d->kept.sh_end[rec] = d->kept.shlen;
}

/* The best near duplicate among the kept texts, or -1. */
static long nearest(struct dedup *d, double *jbest)
{
	const struct nd_cand *cand;
	size_t nc = nd_lsh_query(d->lsh, d->keys, &cand);
	long best = -1;
	*jbest = 0;
	for (size_t c = 0; c < nc; c++) {
		uint32_t r = cand[c].rec;
		double j;
		if (d->cf.no_verify) {
			j = nd_bits_estimate(d->sketch, d->kept.sketch + (size_t)r * (size_t)d->kept.skwords,
					     sketch_values(d));
			if (j < d->cf.threshold)
				continue;
		} else {
			uint64_t from = r ? d->kept.sh_end[r - 1] : 0;
			size_t n = (size_t)(d->kept.sh_end[r] - from);
			/* sizes too far apart, or too many misses: no need to go on */
			size_t need = nd_need(d->set.n, n, d->cf.threshold);
			size_t inter = nd_common(&d->set, d->kept.sh + from, n, need);
			if (inter < need || !nd_at_least(inter, d->set.n + n - inter, d->cf.threshold))
				continue;
			j = (double)inter / (double)(d->set.n + n - inter);
		}
		if (j > *jbest || (j == *jbest && r < (uint32_t)best))
			*jbest = j, best = r;
	}
	return best;
}

enum dedup_verdict dedup_decide(struct dedup *d, const char *norm, size_t len,
				const char *id, size_t idlen, uint32_t *of, double *j)
{
	const char *text = norm ? norm : "";
	uint64_t h[2];
	nd_exact_hash(text, len, h);
	nd_exact_prefetch(d->exact, h);   /* shingling hides the cache miss */
	int is_short = !d->cf.exact &&
		       !nd_shingles(text, len, d->cf.ngram, d->cf.char_ngrams, d->cf.no_verify, &d->set);
	/* --no-verify keeps exact hashes of short texts only */
	if ((!d->cf.no_verify || is_short) && nd_exact_find(d->exact, h, of)) {
		*j = 1;
		return DEDUP_EXACT;
	}
	if (!d->cf.exact && !is_short) {
		nd_sketch(d->band_sk, d->set.h, d->set.n, d->sig);
		nd_lsh_keys(d->lsh, d->sig, d->keys);
		nd_lsh_prefetch(d->lsh, d->keys);
		if (d->cf.no_verify) {
			nd_sketch(d->bits_sk, d->set.h, d->set.n, d->bits_sig);
			nd_bits(d->bits_sig, sketch_values(d), d->sketch);
		}
		long best = nearest(d, j);
		if (best >= 0) {
			*of = (uint32_t)best;
			return DEDUP_NEAR;
		}
	}
	keep(d, id, idlen, h, is_short);
	return DEDUP_KEPT;
}

const char *dedup_id(const struct dedup *d, uint32_t kept, size_t *len)
{
	uint32_t from = kept ? d->kept.id_end[kept - 1] : 0;
	*len = d->kept.id_end[kept] - from;
	return d->kept.ids.p + from;
}

/* --no-verify aims a little low, so that its table ends at least 72% full
 * if the share kept holds (its bound of 64 bytes a kept text), and grows
 * by a quarter past that. */
void dedup_presize(struct dedup *d, double total, double seen, long in, long kept)
{
	if (total <= seen || seen <= 0 || !in)
		return;
	double share = (double)(kept + 1) / (double)in;
	double est = total / seen * (double)in * share * (d->cf.no_verify ? 0.9 : 1.05);
	if (!d->cf.no_verify)   /* which keeps the hashes of short texts only */
		nd_exact_reserve(d->exact, (size_t)est + 1024);
	if (d->lsh)
		nd_lsh_reserve(d->lsh, (size_t)est + 1024);
}

void dedup_memory(const struct dedup *d, struct buf *out)
{
	uint32_t n = d->kept.n;
	if (!n)
		return;
	size_t idx = nd_exact_bytes(d->exact) + (d->lsh ? nd_lsh_bytes(d->lsh) : 0);
	if (d->cf.no_verify)
		idx += (size_t)n * (size_t)d->kept.skwords * sizeof *d->kept.sketch;
	size_t sh = d->kept.sh_end ? d->kept.shlen * sizeof *d->kept.sh + n * sizeof *d->kept.sh_end : 0;
	size_t ids = d->kept.ids.len + n * sizeof *d->kept.id_end;
	buf_addf(out, "memory: index %zu bytes (%.1f a kept record), shingles %zu (%.1f), ids %zu (%.1f)",
		 idx, (double)idx / n, sh, (double)sh / n, ids, (double)ids / n);
}
