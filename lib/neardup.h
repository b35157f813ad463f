/* neardup: how alike two texts are, with one definition of a word for every
 * program (prefix nd_). scg-personas asks again for a description too like
 * an earlier one, scg-dpo for an answer too like the other side, and
 * scg-dedup drops records too like an earlier record; all measure it here.
 *
 * A text is first normalised: letters case folded (ASCII, Latin-1, Greek,
 * Cyrillic), punctuation dropped (kept with ND_KEEP_PUNCT) and runs of white
 * space made one space. A word is what lies between two spaces of the
 * normalised text: "Don't stop, e-mail me!" is the words "dont", "stop",
 * "email" and "me". Texts are compared as sets of shingles, each n
 * consecutive words (or n characters) as a 32-bit hash; a text of fewer than
 * n words is one shingle of all its words. Their similarity is the Jaccard
 * index |A and B| / |A or B|, 1 for two texts without words.
 *
 * For many texts (neardup-index.c): one-permutation MinHash signatures of
 * the shingle sets, LSH banding that makes pairs above a threshold
 * candidates, an index of band keys and one of 128-bit hashes of whole
 * normalised texts. The vector paths of the normaliser (simd.h) give the
 * same bytes as the portable one. */
#ifndef SCG_NEARDUP_H
#define SCG_NEARDUP_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* ---- normalisation, words and shingles ---- */

enum {
	ND_KEEP_PUNCT = 1,   /* punctuation counts as part of words */
};

/* Appends the normalised form of s[0..n) (valid UTF-8) to out, with no
 * leading or trailing space; a space separates it from what out already
 * holds. Leaves at least 64 bytes of room past the end of out. */
void nd_norm_append(struct buf *out, const char *s, size_t n, unsigned flags);

/* A set of shingle hashes without repeats, in order of first occurrence,
 * with a hash table of its members for intersections. */
struct nd_set {
	uint32_t *h;
	size_t n, cap;
	uint64_t *tab;
	size_t tabcap;
	uint32_t stamp;
	int shift;
};
void nd_set_free(struct nd_set *set);

/* The shingles of a normalised text (64 bytes past text + n must be
 * readable, as nd_norm_append leaves them): `words` words each, or `chars`
 * characters when chars > 0. Returns 0 when the text is shorter than one
 * shingle: the set then holds the whole text as one shingle (none when it
 * is empty). With repeats, repeated shingles stay and the table is not
 * made: enough for nd_sketch, not for nd_common or nd_jaccard. */
int nd_shingles(const char *text, size_t n, int words, int chars, int repeats,
		struct nd_set *set);
/* Normalises text (valid UTF-8, NUL-terminated) and makes its set of
 * word shingles. */
void nd_text_set(const char *text, int words, struct nd_set *set);

/* |A and B| / |A or B|; 1 when both are empty. */
double nd_jaccard(const struct nd_set *a, const struct nd_set *b);
/* The Jaccard similarity of the word-shingle sets of two texts. */
double nd_similarity(const char *a, const char *b, int words);

/* Whether inter/uni >= t, without rounding trouble at the edge. */
int nd_at_least(size_t inter, size_t uni, double t);
/* The least intersection of sets of na and nb members with Jaccard >= t. */
size_t nd_need(size_t na, size_t nb, double t);
/* How many of b[0..nb) (distinct hashes, e.g. a set stored earlier) are in
 * set, stopping with a count below need once the count can no longer reach
 * need (need 0: the whole count). */
size_t nd_common(const struct nd_set *set, const uint32_t *b, size_t nb, size_t need);

/* ---- signatures and banding (neardup-index.c) ---- */

/* One-permutation MinHash: each shingle is hashed once into one of k bins,
 * a bin keeps its least value, and an empty bin takes the value of a
 * non-empty one chosen by a fixed sequence of bins (optimal densification),
 * so two sets agree on a bin with probability their Jaccard similarity, as
 * with k permutations at the cost of one. */
struct nd_sketcher;
struct nd_sketcher *nd_sketcher_new(int k, uint64_t seed);
void nd_sketcher_free(struct nd_sketcher *sk);
/* sig gets k values; h[0..n) need not be distinct; n > 0. */
void nd_sketch(const struct nd_sketcher *sk, const uint32_t *h, size_t n, uint32_t *sig);

/* 2-bit sketches: bits 2i and 2i+1 are two bits of a hash of sig[i], so
 * that a sketch of 2k bits holds k values (fewer bins than bits: fewer
 * empty ones to fill, at nearly the accuracy of 2k values of 1 bit); and
 * the Jaccard similarity two of them estimate. */
void nd_bits(const uint32_t *sig, int nvalues, uint64_t *bits);
double nd_bits_estimate(const uint64_t *a, const uint64_t *b, int nvalues);

/* LSH banding: the probability that a pair at similarity j shares a band,
 * and a bands x rows (b*r <= perm, b <= maxb when maxb > 0) for which a pair
 * at t is a candidate with probability >= 0.99: with fmax > 0 the one with
 * the fewest values among those where a pair at t/2 is a candidate with
 * probability <= fmax (fewer band keys a record against more false
 * candidates to verify), else (or when none has) the one with the most
 * rows. Returns 0, or -1 when no choice reaches 0.99 (the best one is
 * given). */
double nd_candidate_prob(double j, int bands, int rows);
int nd_bands_choose(double t, int perm, int maxb, double fmax, int *bands, int *rows);

/* ---- indexes (neardup-index.c) ---- */

/* An index of band keys: for each kept record its band keys; a query
 * returns the records that share at least one band, with how many. */
struct nd_lsh;
struct nd_cand {
	uint32_t rec;
	uint32_t nbands;
};
/* The table is kept at most 90% full; reserved, 85%. compact: it grows by
 * a quarter (load 0.72-0.9, at most 11 bytes a band key) instead of
 * doubling (load 0.45-0.9, less time spent growing). */
struct nd_lsh *nd_lsh_new(int bands, int rows, int compact);
void nd_lsh_free(struct nd_lsh *lsh);
void nd_lsh_keys(const struct nd_lsh *lsh, const uint32_t *sig, uint32_t *keys);
/* Starts loading the slots of keys, for a query a little later. */
void nd_lsh_prefetch(const struct nd_lsh *lsh, const uint32_t *keys);
/* The candidates, in the order found; valid until the next call. */
size_t nd_lsh_query(struct nd_lsh *lsh, const uint32_t *keys, const struct nd_cand **out);
void nd_lsh_insert(struct nd_lsh *lsh, const uint32_t *keys, uint32_t rec);
/* Makes room for nrec records at once (one allocation, no regrowing). */
void nd_lsh_reserve(struct nd_lsh *lsh, size_t nrec);
size_t nd_lsh_bytes(const struct nd_lsh *lsh);

/* An index of 128-bit hashes of whole texts. */
struct nd_exact;
struct nd_exact *nd_exact_new(void);
void nd_exact_free(struct nd_exact *ex);
void nd_exact_hash(const char *text, size_t n, uint64_t h[2]);
/* 1 and *rec when present, else 0. */
int nd_exact_find(const struct nd_exact *ex, const uint64_t h[2], uint32_t *rec);
void nd_exact_add(struct nd_exact *ex, const uint64_t h[2], uint32_t rec);
void nd_exact_reserve(struct nd_exact *ex, size_t nrec);
/* Starts loading the slot of h, for a find a little later. */
void nd_exact_prefetch(const struct nd_exact *ex, const uint64_t h[2]);
size_t nd_exact_bytes(const struct nd_exact *ex);

/* Hints that a large block (from malloc) be backed by huge pages; returns p. */
void *nd_big(void *p, size_t n);

#endif
