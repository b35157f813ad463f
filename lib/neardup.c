/* neardup: normalisation, words and shingles, sets and their Jaccard
 * similarity. The normaliser works by a table for ASCII and by code point
 * ranges above; runs of pure ASCII go through the vector path that simd.c
 * chose (neardup-vec.c), with the same bytes out. Shingles are a rolling
 * polynomial of word hashes, so word order counts. */
#include "neardup.h"
#include "neardup-vec.h"
#include "simd.h"

#include <stdlib.h>
#include <string.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

enum { KEEP, SPACE, DROP };

/* What to do with a code point above ASCII; *cp may be folded. */
static int classify(uint32_t *cp, unsigned flags)
{
	uint32_t c = *cp;
	int punct = flags & ND_KEEP_PUNCT ? KEEP : DROP;
	if (c == 0xa0 || c == 0x85 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 ||
	    c == 0x2029 || c == 0x202f || c == 0x205f || c == 0x3000)
		return SPACE;
	if ((c >= 0x200b && c <= 0x200d) || c == 0x2060 || c == 0xfeff || c == 0xad)
		return DROP;    /* zero-width and soft hyphen */
	if (c < 0xa0)
		return SPACE;   /* C1 controls */
	if (c == 0xa1 || c == 0xa7 || c == 0xab || c == 0xb6 || c == 0xb7 ||
	    c == 0xbb || c == 0xbf || (c >= 0x2010 && c <= 0x2027) ||
	    (c >= 0x2030 && c <= 0x205e) || (c >= 0x3001 && c <= 0x3003) ||
	    (c >= 0x3008 && c <= 0x3011) || (c >= 0xff01 && c <= 0xff0f))
		return punct;
	if ((c >= 0xc0 && c <= 0xde && c != 0xd7) || (c >= 0x391 && c <= 0x3a9) ||
	    (c >= 0x410 && c <= 0x42f))
		*cp = c + 0x20;
	else if (c >= 0x400 && c <= 0x40f)
		*cp = c + 0x50;
	return KEEP;
}

static char *put_cp(char *o, uint32_t c)
{
	if (c < 0x800) {
		*o++ = (char)(0xc0 | c >> 6);
	} else if (c < 0x10000) {
		*o++ = (char)(0xe0 | c >> 12);
		*o++ = (char)(0x80 | ((c >> 6) & 0x3f));
	} else {
		*o++ = (char)(0xf0 | c >> 18);
		*o++ = (char)(0x80 | ((c >> 12) & 0x3f));
		*o++ = (char)(0x80 | ((c >> 6) & 0x3f));
	}
	*o++ = (char)(0x80 | (c & 0x3f));
	return o;
}

/* ASCII: the folded character, 0 to drop it, ' ' for white space. */
static unsigned char ascii[2][128];
static nd_blocks_fn *blocks;
static nd_spaces_fn *spaces;

static void norm_init(void)
{
	for (int k = 0; k < 2; k++) {
		for (int c = 0; c < 128; c++) {
			unsigned char v = (unsigned char)c;
			if (c <= ' ' || c == 0x7f)
				v = ' ';
			else if (c >= 'A' && c <= 'Z')
				v = (unsigned char)(c + 'a' - 'A');
			else if (!k && !(c >= 'a' && c <= 'z') && !(c >= '0' && c <= '9'))
				v = 0;
			ascii[k][c] = v;
		}
	}
	nd_pack_init();
	blocks = nd_blocks_portable, spaces = nd_spaces_portable;
#ifdef SIMD_HAVE_X86
	if (simd_path() == SIMD_AVX512)
		blocks = nd_blocks_avx512, spaces = nd_spaces_avx512;
	if (simd_path() == SIMD_AVX2)
		blocks = nd_blocks_avx2, spaces = nd_spaces_avx2;
#endif
#ifdef SIMD_HAVE_NEON
	if (simd_path() == SIMD_NEON)
		blocks = nd_blocks_neon, spaces = nd_spaces_neon;
#endif
}

/* Folding never lengthens a character, so the output fits in n + 1 bytes
 * and is written straight into out (with 64 to spare for the vector path). */
void nd_norm_append(struct buf *out, const char *str, size_t n, unsigned flags)
{
	if (!blocks)
		norm_init();
	const unsigned char *s = (const unsigned char *)str;
	buf_grow(out, n + 66);
	char *o = out->p + out->len, *first = out->p;
	int owed = out->len > 0;   /* a separator is owed before the next word */
	const unsigned char *tab = ascii[(flags & ND_KEEP_PUNCT) != 0];
	for (size_t i = 0; i < n;) {
		if (!(i & 63)) {
			/* through copies: o and owed stay in registers below */
			char *vo = o;
			int vowed = owed;
			i += blocks(s + i, n - i, &vo, first, &vowed, flags & ND_KEEP_PUNCT);
			o = vo, owed = vowed;
			if (i >= n)
				break;
		}
		unsigned c = s[i];
		if (c < 0x80) {
			/* without branches on the kind of byte: words are short */
			i++;
			unsigned v = tab[c];
			int word = v > ' ';
			*o = ' ';
			o += owed & word & (o != first);
			*o = (char)v;
			o += word;
			owed = (owed | (v == ' ')) & !word;
			continue;
		}
		size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
		if (i + len > n)
			break;  /* cannot happen on valid UTF-8 */
		uint32_t cp = c & (len == 2 ? 0x1f : len == 3 ? 0x0f : 0x07);
		for (size_t k = 1; k < len; k++)
			cp = cp << 6 | (s[i + k] & 0x3f);
		i += len;
		int what = classify(&cp, flags);
		if (what == SPACE) {
			owed = 1;
			continue;
		}
		if (what == DROP)
			continue;
		if (owed && o > first)
			*o++ = ' ';
		owed = 0;
		o = put_cp(o, cp);
	}
	out->len = (size_t)(o - out->p);
	out->p[out->len] = 0;
}

void nd_set_free(struct nd_set *set)
{
	free(set->h);
	free(set->tab);
	memset(set, 0, sizeof *set);
}

static void set_reserve(struct nd_set *set, size_t n)
{
	if (n > set->cap) {
		set->cap = n + n / 2 + 16;
		set->h = xrealloc(set->h, set->cap * sizeof *set->h);
	}
}

/* Drops repeats from h[0..k), keeping first occurrences in order, and
 * leaves the set's table holding its members. Entries are stamp << 32 |
 * value, so the table never needs clearing. */
static size_t dedupe(struct nd_set *set, size_t k)
{
	size_t want = 64;
	while (want < 4 * k)
		want *= 2;
	if (want > set->tabcap || ++set->stamp == 0) {
		free(set->tab);
		set->tabcap = want > set->tabcap ? want : set->tabcap;
		set->tab = xcalloc(set->tabcap, sizeof *set->tab);
		set->stamp = 1;
	}
	set->shift = 64;
	for (size_t c = set->tabcap; c > 1; c /= 2)
		set->shift--;
	size_t u = 0, mask = set->tabcap - 1;
	uint64_t tag = (uint64_t)set->stamp << 32;
	for (size_t i = 0; i < k; i++) {
		uint32_t x = set->h[i];
		size_t j = (size_t)((x * 0x9e3779b97f4a7c15ULL) >> set->shift);
		for (;; j = (j + 1) & mask) {
			uint64_t e = set->tab[j];
			if (e == (tag | x))
				break;
			if ((e >> 32) != set->stamp) {
				set->tab[j] = tag | x;
				set->h[u++] = x;
				break;
			}
		}
	}
	return u;
}

size_t nd_common(const struct nd_set *set, const uint32_t *b, size_t nb, size_t need)
{
	if (need > nb || need > set->n)
		return 0;
	size_t k = 0, miss = 0, maxmiss = nb - need, mask = set->tabcap - 1;
	uint64_t tag = (uint64_t)set->stamp << 32;
	for (size_t i = 0; i < nb; i++) {
		size_t j = (size_t)((b[i] * 0x9e3779b97f4a7c15ULL) >> set->shift);
		for (;; j = (j + 1) & mask) {
			uint64_t e = set->tab[j];
			if (e == (tag | b[i])) {
				k++;
				break;
			}
			if ((e >> 32) != set->stamp) {
				if (++miss > maxmiss)
					return k;
				break;
			}
		}
	}
	return k;
}

int nd_at_least(size_t inter, size_t uni, double t)
{
	return (double)inter >= t * (double)uni - 1e-9 * (double)uni;
}

size_t nd_need(size_t na, size_t nb, double t)
{
	size_t u = na + nb;
	size_t k = (size_t)(t * (double)u / (1 + t));
	while (k > 0 && nd_at_least(k - 1, u - (k - 1), t))
		k--;
	while (k < u && !nd_at_least(k, u - k, t))
		k++;
	return k;
}

double nd_jaccard(const struct nd_set *a, const struct nd_set *b)
{
	if (!a->n || !b->n)
		return !a->n && !b->n;
	size_t inter = nd_common(a, b->h, b->n, 0);
	return (double)inter / (double)(a->n + b->n - inter);
}

static uint64_t fold64(uint64_t a, uint64_t b)
{
	unsigned __int128 p = (unsigned __int128)a * b;
	return (uint64_t)p ^ (uint64_t)(p >> 64);
}

/* Words are short: two 8-byte loads (the text has room past its end),
 * masked to the word, and one wide multiply; no branch on the length but
 * for the rare word of more than 16 bytes. */
static inline uint64_t word_hash(const unsigned char *p, size_t n)
{
	if (__builtin_expect(n > 16, 0))
		return XXH3_64bits(p, n);
	/* the bytes of a word of n bytes in the two words loaded */
	static const uint64_t lo_mask[17] = {
		0, 0xff, 0xffff, 0xffffff, 0xffffffff, 0xffffffffff, 0xffffffffffff,
		0xffffffffffffff, ~0ULL, ~0ULL, ~0ULL, ~0ULL, ~0ULL, ~0ULL, ~0ULL, ~0ULL, ~0ULL};
	uint64_t lo = simd_load64(p) & lo_mask[n];
	uint64_t hi = simd_load64(p + 8) & (n > 8 ? lo_mask[n - 8] : 0);
	return fold64(lo ^ 0x243f6a8885a308d3ULL ^ n, hi ^ 0x13198a2e03707344ULL);
}

#define POLY_K 0x9e3779b97f4a7c15ULL

static uint32_t mix_shingle(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return (uint32_t)(h >> 32);
}

/* The hashes of the words of text[0..n) into wh; returns how many. */
static size_t word_hashes(const unsigned char *text, size_t n, uint64_t *wh)
{
	size_t m = 0, start = 0;
	for (size_t i = 0; i < n; i += 64) {
		uint64_t z = spaces(text + i);
		if (n - i < 64)
			z &= ~(~0ULL << (n - i));
		while (z) {
			size_t at = i + (size_t)__builtin_ctzll(z);
			wh[m++] = word_hash(text + start, at - start);
			start = at + 1;
			z &= z - 1;
		}
	}
	if (n)
		wh[m++] = word_hash(text + start, n - start);
	return m;
}

static uint64_t poly(const uint64_t *wh, size_t n)
{
	uint64_t h = 0;
	for (size_t j = 0; j < n; j++)
		h = h * POLY_K + wh[j];
	return h;
}

/* The k shingles of w words from the word hashes, each rolled from the one
 * before; in two chains, from the start and from the middle, so that the
 * multiplies of one do not wait on the other's. */
static void roll(const uint64_t *wh, size_t w, size_t k, uint32_t *out)
{
	uint64_t kw = 1;
	for (size_t j = 0; j < w; j++)
		kw *= POLY_K;
	size_t half = k / 2;
	uint64_t a = poly(wh, w), b = poly(wh + half, w);
	out[0] = mix_shingle(a);
	out[half] = mix_shingle(b);
	for (size_t i = 1; i < half; i++) {
		a = a * POLY_K - wh[i - 1] * kw + wh[i + w - 1];
		b = b * POLY_K - wh[half + i - 1] * kw + wh[half + i + w - 1];
		out[i] = mix_shingle(a);
		out[half + i] = mix_shingle(b);
	}
	for (size_t i = half ? 2 * half : 1; i < k; i++) {
		b = b * POLY_K - wh[i - 1] * kw + wh[i + w - 1];
		out[i] = mix_shingle(b);
	}
}

int nd_shingles(const char *str, size_t n, int words, int chars, int repeats,
		struct nd_set *set)
{
	const unsigned char *text = (const unsigned char *)str;
	if (!spaces)
		norm_init();
	set->n = 0;
	size_t k = 0;   /* shingles */
	int whole = 1;
	if (chars > 0) {
		size_t w = (size_t)chars, ncp = 0;
		for (size_t i = 0; i < n; i++)
			ncp += (text[i] & 0xc0) != 0x80;
		set_reserve(set, ncp + 1);
		if (ncp < w) {
			if (n)
				set->h[k++] = (uint32_t)XXH3_64bits(text, n);
			whole = 0;
		}
		size_t start = 0, end = 0, have = 0;   /* window of `have` code points */
		while (whole && end < n) {
			end++;
			while (end < n && (text[end] & 0xc0) == 0x80)
				end++;
			if (++have < w)
				continue;
			set->h[k++] = (uint32_t)XXH3_64bits(text + start, end - start);
			start++;
			while (start < n && (text[start] & 0xc0) == 0x80)
				start++;
		}
	} else {
		size_t w = (size_t)words;
		/* word hashes first, in the set's spare room past the shingles:
		 * at most n / 2 + 1 words */
		size_t most = n / 2 + 1;
		set_reserve(set, 3 * most + 2);
		uint64_t *wh = (uint64_t *)(void *)(set->h + most + (most & 1));
		size_t m = word_hashes(text, n, wh);
		/* a polynomial of the word hashes: word order counts (a
		 * symmetric combination made "a b c d e" equal "b a c d e") */
		if (m < w) {
			if (m)
				set->h[k++] = mix_shingle(poly(wh, m));
			whole = 0;
		} else {
			k = m - w + 1;
			roll(wh, w, k, set->h);
		}
	}
	set->n = repeats ? k : dedupe(set, k);
	return whole;
}

void nd_text_set(const char *text, int words, struct nd_set *set)
{
	struct buf norm = {0};
	nd_norm_append(&norm, text, strlen(text), 0);
	nd_shingles(norm.p, norm.len, words, 0, 0, set);
	buf_free(&norm);
}

double nd_similarity(const char *a, const char *b, int words)
{
	struct nd_set sa = {0}, sb = {0};
	nd_text_set(a, words, &sa);
	nd_text_set(b, words, &sb);
	double j = nd_jaccard(&sa, &sb);
	nd_set_free(&sa);
	nd_set_free(&sb);
	return j;
}
