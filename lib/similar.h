/* similar: whether two answers say the same thing, so that a preference
 * pair never holds one answer twice (DESIGN §9). Words are runs of letters
 * and digits (any non-ASCII byte counts as a letter), compared without case;
 * punctuation and white space do not count. */
#ifndef SCG_SIMILAR_H
#define SCG_SIMILAR_H

/* Share of distinct words the two texts have in common: |A ∩ B| / |A ∪ B|,
 * from 0 to 1; two texts without words give 1. */
double similar_overlap(const char *a, const char *b);

/* 1 when a and b have the same words in the same order, or their overlap
 * is above 0.9; else 0. */
int similar_near(const char *a, const char *b);

#endif
