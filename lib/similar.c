/* similar: word hashes, compared in order and as sets. */
#include "similar.h"
#include "util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct words {
	uint64_t *h;
	size_t n;
};

static int word_byte(unsigned char c)
{
	return c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static struct words split(const char *s)
{
	struct words w = {0};
	size_t cap = 0;
	struct buf word = {0};
	for (const unsigned char *p = (const unsigned char *)s;; p++) {
		if (*p && word_byte(*p)) {
			buf_addc(&word, (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p));
			continue;
		}
		if (word.len) {
			if (w.n == cap) {
				cap = cap ? 2 * cap : 32;
				w.h = xrealloc(w.h, cap * sizeof *w.h);
			}
			w.h[w.n++] = hash64(word.p, word.len, 0);
			buf_reset(&word);
		}
		if (!*p)
			break;
	}
	buf_free(&word);
	return w;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Sorts and drops repeats; returns the number of distinct words. */
static size_t distinct(struct words *w)
{
	if (!w->n)
		return 0;
	qsort(w->h, w->n, sizeof *w->h, cmp_u64);
	size_t k = 1;
	for (size_t i = 1; i < w->n; i++)
		if (w->h[i] != w->h[k - 1])
			w->h[k++] = w->h[i];
	return w->n = k;
}

static double overlap(struct words *a, struct words *b)
{
	size_t na = distinct(a), nb = distinct(b), both = 0;
	if (!na && !nb)
		return 1;
	for (size_t i = 0, j = 0; i < na && j < nb;) {
		if (a->h[i] == b->h[j]) {
			both++;
			i++;
			j++;
		} else if (a->h[i] < b->h[j]) {
			i++;
		} else {
			j++;
		}
	}
	return (double)both / (double)(na + nb - both);
}

double similar_overlap(const char *a, const char *b)
{
	struct words wa = split(a), wb = split(b);
	double r = overlap(&wa, &wb);
	free(wa.h);
	free(wb.h);
	return r;
}

int similar_near(const char *a, const char *b)
{
	/* the same words in the same order have an overlap of 1 */
	return similar_overlap(a, b) > 0.9;
}
