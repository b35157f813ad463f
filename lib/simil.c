/* simil: MinHash signatures of word shingles. Each permutation is a
 * multiply-shift hash of the shingle's 64-bit hash with odd multipliers
 * drawn once from a fixed seed, so signatures are the same in every run. */
#include "simil.h"
#include "rng.h"
#include "util.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static uint64_t mul[SIMIL_PERMS], add[SIMIL_PERMS];

static void init_perms(void)
{
	if (mul[0])
		return;
	uint64_t x = 0x9e3779b97f4a7c15u;
	for (int i = 0; i < SIMIL_PERMS; i++) {
		mul[i] = rng_splitmix(&x) | 1;
		add[i] = rng_splitmix(&x);
	}
}

static void take(struct simil_sig *sig, uint64_t h)
{
	for (int i = 0; i < SIMIL_PERMS; i++) {
		uint64_t v = mul[i] * h + add[i];
		if (v < sig->min[i])
			sig->min[i] = v;
	}
}

void simil_sign(const char *text, int words, struct simil_sig *sig)
{
	init_perms();
	if (words < 1)
		words = 1;
	memset(sig->min, 0xff, sizeof sig->min);
	/* the lowered words, each ended by one space */
	struct buf norm = {0};
	size_t *starts = NULL, nw = 0, cap = 0;
	for (const unsigned char *p = (const unsigned char *)text; *p;) {
		if (!isalnum(*p) && *p < 0x80) {
			p++;
			continue;
		}
		if (nw == cap) {
			cap = cap ? cap * 2 : 32;
			starts = xrealloc(starts, cap * sizeof *starts);
		}
		starts[nw++] = norm.len;
		while (*p && (isalnum(*p) || *p >= 0x80))
			buf_addc(&norm, (char)tolower(*p++));
		buf_addc(&norm, ' ');
	}
	sig->empty = nw == 0;
	if (nw && nw < (size_t)words)
		take(sig, hash64(norm.p, norm.len, 0));
	for (size_t i = 0; nw >= (size_t)words && i + (size_t)words <= nw; i++) {
		size_t end = i + (size_t)words < nw ? starts[i + (size_t)words] : norm.len;
		take(sig, hash64(norm.p + starts[i], end - starts[i], 0));
	}
	free(starts);
	buf_free(&norm);
}

double simil_estimate(const struct simil_sig *a, const struct simil_sig *b)
{
	if (a->empty || b->empty)
		return a->empty && b->empty ? 1.0 : 0.0;
	int same = 0;
	for (int i = 0; i < SIMIL_PERMS; i++)
		same += a->min[i] == b->min[i];
	return (double)same / SIMIL_PERMS;
}
