/* simil: a quick near-duplicate estimate for short texts (persona
 * descriptions, summaries): MinHash over word shingles. A text is lowered,
 * split into words of letters and digits, and cut into shingles of a few
 * words; the estimate of two signatures is the share of permutations on
 * which their minima agree, an unbiased estimate of the Jaccard similarity
 * of the shingle sets. Meant to be folded into lib/minhash later. */
#ifndef SCG_SIMIL_H
#define SCG_SIMIL_H

#include <stdint.h>

#define SIMIL_PERMS 128

struct simil_sig {
	uint64_t min[SIMIL_PERMS];
	int empty;              /* no words at all */
};

/* Signs text with shingles of `words` words (a text shorter than that is
 * one shingle). */
void simil_sign(const char *text, int words, struct simil_sig *sig);
/* Estimated Jaccard similarity in [0, 1]; two empty texts are equal. */
double simil_estimate(const struct simil_sig *a, const struct simil_sig *b);

#endif
