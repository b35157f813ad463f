/* textnorm: the text normalisation that makes two texts comparable: letters
 * case folded (ASCII, Latin-1, Greek, Cyrillic), runs of white space made one
 * space, punctuation dropped. Input must be valid UTF-8. */
#ifndef SCG_TEXTNORM_H
#define SCG_TEXTNORM_H

#include <stddef.h>

#include "util.h"

enum {
	TEXTNORM_KEEP_PUNCT = 1,   /* keep punctuation characters */
};

/* Appends the normalised form of s[0..n) to out, with no leading or trailing
 * space; a space separates it from what out already holds. */
void textnorm_append(struct buf *out, const char *s, size_t n, unsigned flags);

#endif
