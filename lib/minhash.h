/* minhash: near-duplicate detection for texts. Shingling (word n-grams or
 * character n-grams of the normalised text) into sets of 32-bit hashes, the
 * exact Jaccard of two such sets, MinHash signatures with multiply-shift
 * permutations, 1-bit sketches, LSH banding (the choice of bands x rows and
 * an index of band keys) and an index of 128-bit exact hashes.
 * scg-dedup (cmd/scg-dedup.c) shows them used together. */
#ifndef SCG_MINHASH_H
#define SCG_MINHASH_H

#include <stddef.h>
#include <stdint.h>

struct minhash_conf {
	int perm;           /* permutations (signature length), 1..1024 */
	int ngram;          /* words per shingle (0: 5) */
	int char_ngrams;    /* > 0: shingles of this many characters instead */
	unsigned norm;      /* textnorm flags */
	uint64_t seed;
};

/* A set of shingle hashes without repeats, in order of first occurrence,
 * with a hash table of its members for intersections. */
struct mh_set {
	uint32_t *h;
	size_t n, cap;
	uint64_t *tab;
	size_t tabcap;
	uint32_t stamp;
	int shift;
};
void mh_set_free(struct mh_set *set);

struct minhash;

struct minhash *minhash_new(const struct minhash_conf *conf);
void minhash_free(struct minhash *mh);
int minhash_perm(const struct minhash *mh);

/* The shingles of an already normalised text. Returns 0 when the text is
 * shorter than one shingle (then set->n is 0). */
int minhash_shingles(const struct minhash *mh, const char *text, size_t n, struct mh_set *set);
/* The first nperm (<= perm) values of the signature of a shingle set. */
void minhash_sig(const struct minhash *mh, const struct mh_set *set, uint32_t *sig, int nperm);

/* Whether inter/uni >= t, without rounding trouble at the edge. */
int mh_at_least(size_t inter, size_t uni, double t);
/* The least intersection of sets of na and nb members with Jaccard >= t;
 * and how many of b[0..nb) (distinct hashes, e.g. a set stored earlier)
 * are in set, stopping with a count below need once the count can no
 * longer reach need (need 0: the whole count). */
size_t mh_need(size_t na, size_t nb, double t);
size_t mh_intersect_need(const struct mh_set *set, const uint32_t *b, size_t nb, size_t need);

/* 1-bit sketches: bit i is a bit of a hash of sig[i]; nbits = perm. */
void mh_sketch(const uint32_t *sig, int nbits, uint64_t *bits);
double mh_sketch_estimate(const uint64_t *a, const uint64_t *b, int nbits);

/* LSH banding: the probability that a pair at similarity j shares a band,
 * and a bands x rows (b*r <= perm, b <= maxb when maxb > 0) for which a pair
 * at t is a candidate with probability >= 0.99: with fmax > 0 the one with
 * the fewest permutations among those where a pair at t/2 is a candidate
 * with probability <= fmax (fewer hashes and band keys a record against
 * more false candidates to verify), else (or when none has) the one with
 * the most rows. Returns 0, or -1 when no choice reaches 0.99 (the best one
 * is given). */
double mh_candidate_prob(double j, int bands, int rows);
int mh_bands_choose(double t, int perm, int maxb, double fmax, int *bands, int *rows);

/* An index of band keys: for each kept record its band keys; a query
 * returns the records that share at least one band, with how many. */
struct mh_lsh;
struct mh_cand {
	uint32_t rec;
	uint32_t nbands;
};
/* compact: the table grows by a quarter (load 0.72-0.9, at most 11 bytes
 * a band key) instead of doubling (load 0.4-0.8, fewer probes). */
struct mh_lsh *mh_lsh_new(int bands, int rows, int compact);
void mh_lsh_free(struct mh_lsh *lsh);
void mh_lsh_keys(const struct mh_lsh *lsh, const uint32_t *sig, uint32_t *keys);
/* The candidates, in the order found; valid until the next call. */
size_t mh_lsh_query(struct mh_lsh *lsh, const uint32_t *keys, const struct mh_cand **out);
void mh_lsh_insert(struct mh_lsh *lsh, const uint32_t *keys, uint32_t rec);
/* Makes room for nrec records at once (one allocation, no regrowing). */
void mh_lsh_reserve(struct mh_lsh *lsh, size_t nrec);
size_t mh_lsh_bytes(const struct mh_lsh *lsh);

/* An index of 128-bit hashes of whole texts. */
struct mh_exact;
struct mh_exact *mh_exact_new(void);
void mh_exact_free(struct mh_exact *ex);
void mh_exact_hash(const char *text, size_t n, uint64_t h[2]);
/* 1 and *rec when present, else 0. */
int mh_exact_find(const struct mh_exact *ex, const uint64_t h[2], uint32_t *rec);
void mh_exact_add(struct mh_exact *ex, const uint64_t h[2], uint32_t rec);
void mh_exact_reserve(struct mh_exact *ex, size_t nrec);
/* Starts loading the slot of h, for a find a little later. */
void mh_exact_prefetch(const struct mh_exact *ex, const uint64_t h[2]);
size_t mh_exact_bytes(const struct mh_exact *ex);

/* Hints that a large block (from malloc) be backed by huge pages; returns p. */
void *mh_big(void *p, size_t n);

#endif
