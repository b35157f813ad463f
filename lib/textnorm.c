/* textnorm: case folding, white space collapsing and punctuation dropping,
 * by a table for ASCII and by code point ranges above. Where the CPU has
 * AVX-512 VBMI2, runs of pure ASCII go 64 bytes at a time: masks of word
 * characters and white space, the owed separators found with one addition
 * (below), and the kept bytes packed with a compress. Both paths give the
 * same bytes. */
#include "textnorm.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define TEXTNORM_VEC 1
#endif

enum { KEEP, SPACE, DROP };

/* What to do with a code point above ASCII; *cp may be folded. */
static int classify(uint32_t *cp, unsigned flags)
{
	uint32_t c = *cp;
	int punct = flags & TEXTNORM_KEEP_PUNCT ? KEEP : DROP;
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

static void ascii_init(void)
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
}

#ifdef TEXTNORM_VEC
/* Normalises whole blocks of 64 ASCII bytes from s[0..n) (the last may be
 * short), stopping before a block with a byte above ASCII; returns the bytes
 * consumed. *o advances; *space is the separator owed (scalar meaning).
 * Writes up to 64 bytes past the output, which the caller has room for. */
__attribute__((target("avx512f,avx512bw,avx512vbmi2,bmi,bmi2,popcnt,lzcnt")))
static size_t ascii_blocks(const unsigned char *s, size_t n, char **op, const char *first,
			   int *space, int keep_punct)
{
	char *o = *op;
	int owed = *space;
	size_t i = 0;
	const __m512i blank = _mm512_set1_epi8(' ');
	while (i < n) {
		uint64_t valid = n - i >= 64 ? ~0ULL : (1ULL << (n - i)) - 1;
		__m512i x = _mm512_maskz_loadu_epi8(valid, s + i);
		if (_mm512_movepi8_mask(x))
			break;
		__mmask64 up = _mm512_cmplt_epu8_mask(_mm512_sub_epi8(x, _mm512_set1_epi8('A')),
						      _mm512_set1_epi8(26));
		x = _mm512_mask_add_epi8(x, up, x, _mm512_set1_epi8(32));
		uint64_t sp = _mm512_cmple_epu8_mask(x, blank) |
			      _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8(0x7f));
		uint64_t w;
		if (keep_punct)
			w = ~sp;
		else
			w = _mm512_cmplt_epu8_mask(_mm512_sub_epi8(x, _mm512_set1_epi8('a')),
						   _mm512_set1_epi8(26)) |
			    _mm512_cmplt_epu8_mask(_mm512_sub_epi8(x, _mm512_set1_epi8('0')),
						   _mm512_set1_epi8(10));
		w &= valid, sp &= valid;
		i += n - i >= 64 ? 64 : n - i;
		if (o == first) {
			/* nothing written yet: white space before the first word
			 * owes nothing */
			if (!w) {
				owed |= sp != 0;
				continue;
			}
			sp &= ~((w & -w) - 1);
			owed = 0;
		}
		/* a word starts owing a separator when white space lies in the gap
		 * before it: adding the white space bits to the gap bits carries
		 * each gap's lowest one to the gap's end, the next word byte */
		uint64_t gap = ~w;
		uint64_t sep = (gap + sp) & w;
		if (owed)
			sep |= w & -w;
		if (w)
			owed = ((sp >> (63 - __builtin_clzll(w))) >> 1) != 0;
		else
			owed |= sp != 0;
		if (sep & 1)
			*o++ = ' ';
		uint64_t keep = w | sep >> 1;
		__m512i y = _mm512_mask_blend_epi8(w, blank, x);
		_mm512_storeu_si512(o, _mm512_maskz_compress_epi8(keep, y));
		o += __builtin_popcountll(keep);
	}
	*op = o;
	*space = owed;
	return i;
}

static int has_vbmi2(void)
{
	static int have = -1;
	if (have < 0) {
		const char *e = getenv("SCG_NO_SIMD");
		__builtin_cpu_init();
		have = !(e && *e && strcmp(e, "0")) && __builtin_cpu_supports("avx512bw") &&
		       __builtin_cpu_supports("avx512vbmi2");
	}
	return have;
}
#endif

/* Folding never lengthens a character, so the output fits in n + 1 bytes
 * and is written straight into out (with 64 to spare for the vector path). */
void textnorm_append(struct buf *out, const char *str, size_t n, unsigned flags)
{
	const unsigned char *s = (const unsigned char *)str;
	buf_grow(out, n + 66);
	char *o = out->p + out->len, *first = out->p;
	int space = out->len > 0;   /* a separator is owed before the next character */
	if (!ascii[0]['a'])
		ascii_init();
	const unsigned char *tab = ascii[(flags & TEXTNORM_KEEP_PUNCT) != 0];
#ifdef TEXTNORM_VEC
	int vec = has_vbmi2();
#endif
	for (size_t i = 0; i < n;) {
#ifdef TEXTNORM_VEC
		if (vec && !(i & 63)) {
			i += ascii_blocks(s + i, n - i, &o, first, &space,
					  flags & TEXTNORM_KEEP_PUNCT);
			if (i >= n)
				break;
		}
#endif
		unsigned c = s[i];
		if (c < 0x80) {
			i++;
			unsigned char v = tab[c];
			if (v == ' ') {
				space = 1;
			} else if (v) {
				if (space && o > first)
					*o++ = ' ';
				space = 0;
				*o++ = (char)v;
			}
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
			space = 1;
			continue;
		}
		if (what == DROP)
			continue;
		if (space && o > first)
			*o++ = ' ';
		space = 0;
		o = put_cp(o, cp);
	}
	out->len = (size_t)(o - out->p);
	out->p[out->len] = 0;
}
