/* neardup-vec: 64 ASCII bytes at a time. Each path folds case with a
 * compare and an add, makes masks of word bytes and white space, lets
 * nd_keep_mask decide what stays, and packs the kept bytes: AVX-512 VBMI2
 * with one compress, AVX2 and NEON 8 bytes at a time through a table of
 * shuffles, portable C eight bytes in a 64-bit word (SWAR) and through the
 * same table. The functions carry their own target attributes, so the file
 * builds with the project's flags and each runs only where simd.c found
 * its unit; they ask for nothing beside it (no BMI, POPCNT or LZCNT). */
#include "neardup-vec.h"
#include "simd.h"

#include <string.h>

uint8_t nd_pack_lut[256][8], nd_pack_count[256];

void nd_pack_init(void)
{
	for (int m = 0; m < 256; m++) {
		int k = 0;
		for (int b = 0; b < 8; b++)
			if (m >> b & 1)
				nd_pack_lut[m][k++] = (uint8_t)b;
		nd_pack_count[m] = (uint8_t)k;
		while (k < 8)
			nd_pack_lut[m][k++] = 0;
	}
}

/* The block at s + i as a full 64 bytes: the input itself, or its tail
 * copied and padded with zeros (which count as neither word nor space
 * once masked with valid). */
static inline const unsigned char *block(const unsigned char *s, size_t i, size_t n,
					 unsigned char *pad, uint64_t *valid)
{
	if (n - i >= 64) {
		*valid = ~0ULL;
		return s + i;
	}
	memset(pad, 0, 64);
	memcpy(pad, s + i, n - i);
	*valid = (1ULL << (n - i)) - 1;
	return pad;
}

/* SWAR: the top bit of each byte of the result says whether that byte of
 * v (below 0x80) is in [lo, hi]; no carry crosses a byte. */
#define ONES 0x0101010101010101ULL
static uint64_t in_range(uint64_t v, unsigned lo, unsigned hi)
{
	return (v + (0x80 - lo) * ONES) & ~(v + (0x7f - hi) * ONES) & 0x80 * ONES;
}

/* The eight top bits of v as a byte: one multiply gathers them. */
static unsigned top_bits(uint64_t v)
{
	return (unsigned)(((v >> 7) * 0x0102040810204080ULL) >> 56);
}

/* The portable path: the same algorithm in plain 64-bit arithmetic, eight
 * bytes a word, and the kept bytes packed by the table. */
size_t nd_blocks_portable(const unsigned char *s, size_t n, char **op, const char *first,
			  int *owed, int keep_punct)
{
	char *o = *op;
	size_t i = 0;
	unsigned char pad[64], y[64];
	while (i < n) {
		uint64_t valid, v[8], any = 0;
		const unsigned char *b = block(s, i, n, pad, &valid);
		for (int c = 0; c < 8; c++)
			any |= v[c] = simd_load64(b + 8 * c);
		if (any & 0x80 * ONES)
			break;
		uint64_t w = 0, sp = 0;
		for (int c = 0; c < 8; c++) {
			uint64_t x = v[c] + (in_range(v[c], 'A', 'Z') >> 2);
			uint64_t del = x ^ 0x7f * ONES;
			uint64_t white = (~(x + 0x5f * ONES) & 0x80 * ONES) |
					 ~(((del & 0x7f * ONES) + 0x7f * ONES) | del | 0x7f * ONES);
			uint64_t word = keep_punct ? ~white & 0x80 * ONES
						   : in_range(x, 'a', 'z') | in_range(x, '0', '9');
			uint64_t wbytes = (word >> 7) * 0xff;
			simd_store64(y + 8 * c, (x & wbytes) | (' ' * ONES & ~wbytes));
			w |= (uint64_t)top_bits(word) << (8 * c);
			sp |= (uint64_t)top_bits(white) << (8 * c);
		}
		i += n - i < 64 ? n - i : 64;
		uint64_t keep = nd_keep_mask(w, sp, valid, first, &o, owed);
		for (int c = 0; c < 8; c++) {
			unsigned m = (unsigned)(keep >> (8 * c)) & 0xff;
			if (m == 0xff) {
				memcpy(o, y + 8 * c, 8);
			} else {
				const uint8_t *l = nd_pack_lut[m];
				for (int k = 0; k < 8; k++)
					o[k] = (char)y[8 * c + l[k]];
			}
			o += nd_pack_count[m];
		}
	}
	*op = o;
	return i;
}

/* After a xor with spaces, a byte whose low seven bits do not carry into
 * its top bit is a zero byte; the eight top bits of a word are then
 * gathered by one multiply. */
uint64_t nd_spaces_portable(const unsigned char *p)
{
	const uint64_t low7 = 0x7f * ONES, blank = ' ' * ONES;
	uint64_t mask = 0;
	for (int k = 0; k < 8; k++) {
		uint64_t x = simd_load64(p + 8 * k) ^ blank;
		mask |= (uint64_t)top_bits(~(((x & low7) + low7) | x | low7)) << (8 * k);
	}
	return mask;
}

#ifdef SIMD_HAVE_X86
#include <immintrin.h>

__attribute__((target("avx512f,avx512bw")))
uint64_t nd_spaces_avx512(const unsigned char *p)
{
	return _mm512_cmpeq_epi8_mask(_mm512_loadu_si512(p), _mm512_set1_epi8(' '));
}

__attribute__((target("avx2")))
uint64_t nd_spaces_avx2(const unsigned char *p)
{
	const __m256i blank = _mm256_set1_epi8(' ');
	__m256i lo = _mm256_loadu_si256((const __m256i *)(const void *)p);
	__m256i hi = _mm256_loadu_si256((const __m256i *)(const void *)(p + 32));
	return (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(lo, blank)) |
	       (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(hi, blank)) << 32;
}

__attribute__((target("avx512f,avx512bw,avx512vbmi2")))
size_t nd_blocks_avx512(const unsigned char *s, size_t n, char **op, const char *first,
			int *owed, int keep_punct)
{
	char *o = *op;
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
		i += n - i < 64 ? n - i : 64;
		uint64_t keep = nd_keep_mask(w, sp, valid, first, &o, owed);
		__m512i y = _mm512_mask_blend_epi8(w, blank, x);
		_mm512_storeu_si512(o, _mm512_maskz_compress_epi8(keep, y));
		o += __builtin_popcountll(keep);
	}
	*op = o;
	return i;
}

__attribute__((target("avx2")))
size_t nd_blocks_avx2(const unsigned char *s, size_t n, char **op, const char *first,
		      int *owed, int keep_punct)
{
	char *o = *op;
	size_t i = 0;
	unsigned char pad[64], y[64];
	const __m256i blank = _mm256_set1_epi8(' ');
	while (i < n) {
		uint64_t valid;
		const unsigned char *b = block(s, i, n, pad, &valid);
		__m256i x[2] = {_mm256_loadu_si256((const __m256i *)(const void *)b),
				_mm256_loadu_si256((const __m256i *)(const void *)(b + 32))};
		if (_mm256_movemask_epi8(_mm256_or_si256(x[0], x[1])))
			break;
		uint64_t w = 0, sp = 0;
		for (int h = 0; h < 2; h++) {
			/* all bytes are below 0x80 here, so signed compares do */
			__m256i up = _mm256_and_si256(_mm256_cmpgt_epi8(x[h], _mm256_set1_epi8('A' - 1)),
						      _mm256_cmpgt_epi8(_mm256_set1_epi8('Z' + 1), x[h]));
			x[h] = _mm256_add_epi8(x[h], _mm256_and_si256(up, _mm256_set1_epi8(32)));
			__m256i white = _mm256_or_si256(
				_mm256_cmpgt_epi8(_mm256_set1_epi8(' ' + 1), x[h]),
				_mm256_cmpeq_epi8(x[h], _mm256_set1_epi8(0x7f)));
			__m256i word;
			if (keep_punct) {
				word = _mm256_xor_si256(white, _mm256_set1_epi8(-1));
			} else {
				__m256i lower = _mm256_and_si256(
					_mm256_cmpgt_epi8(x[h], _mm256_set1_epi8('a' - 1)),
					_mm256_cmpgt_epi8(_mm256_set1_epi8('z' + 1), x[h]));
				__m256i digit = _mm256_and_si256(
					_mm256_cmpgt_epi8(x[h], _mm256_set1_epi8('0' - 1)),
					_mm256_cmpgt_epi8(_mm256_set1_epi8('9' + 1), x[h]));
				word = _mm256_or_si256(lower, digit);
			}
			sp |= (uint64_t)(uint32_t)_mm256_movemask_epi8(white) << (32 * h);
			w |= (uint64_t)(uint32_t)_mm256_movemask_epi8(word) << (32 * h);
			_mm256_storeu_si256((__m256i *)(void *)(y + 32 * h),
					    _mm256_blendv_epi8(blank, x[h], word));
		}
		i += n - i < 64 ? n - i : 64;
		uint64_t keep = nd_keep_mask(w, sp, valid, first, &o, owed);
		for (int c = 0; c < 8; c++) {
			unsigned m = (unsigned)(keep >> (8 * c)) & 0xff;
			__m128i v = _mm_loadl_epi64((const __m128i *)(const void *)(y + 8 * c));
			__m128i idx = _mm_loadl_epi64((const __m128i *)(const void *)nd_pack_lut[m]);
			_mm_storel_epi64((__m128i *)(void *)o, _mm_shuffle_epi8(v, idx));
			o += nd_pack_count[m];
		}
	}
	*op = o;
	return i;
}
#endif

#ifdef SIMD_HAVE_NEON
#include <arm_neon.h>

/* bit i of the result: the top bit of byte i of the four vectors */
static uint64_t neon_mask(const uint8x16_t v[4])
{
	static const uint8_t bit[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
	const uint8x16_t b = vld1q_u8(bit);
	uint8x16_t a0 = vandq_u8(v[0], b), a1 = vandq_u8(v[1], b);
	uint8x16_t a2 = vandq_u8(v[2], b), a3 = vandq_u8(v[3], b);
	uint8x16_t s = vpaddq_u8(vpaddq_u8(a0, a1), vpaddq_u8(a2, a3));
	s = vpaddq_u8(s, s);
	return vgetq_lane_u64(vreinterpretq_u64_u8(s), 0);
}

uint64_t nd_spaces_neon(const unsigned char *p)
{
	uint8x16_t v[4];
	for (int q = 0; q < 4; q++)
		v[q] = vceqq_u8(vld1q_u8(p + 16 * q), vdupq_n_u8(' '));
	return neon_mask(v);
}

size_t nd_blocks_neon(const unsigned char *s, size_t n, char **op, const char *first,
		      int *owed, int keep_punct)
{
	char *o = *op;
	size_t i = 0;
	unsigned char pad[64], y[64];
	while (i < n) {
		uint64_t valid;
		const unsigned char *b = block(s, i, n, pad, &valid);
		uint8x16_t x[4], white[4], word[4];
		uint8x16_t any = vdupq_n_u8(0);
		for (int q = 0; q < 4; q++) {
			x[q] = vld1q_u8(b + 16 * q);
			any = vorrq_u8(any, x[q]);
		}
		if (vmaxvq_u8(any) >= 0x80)
			break;
		for (int q = 0; q < 4; q++) {
			uint8x16_t up = vcltq_u8(vsubq_u8(x[q], vdupq_n_u8('A')), vdupq_n_u8(26));
			x[q] = vaddq_u8(x[q], vandq_u8(up, vdupq_n_u8(32)));
			white[q] = vorrq_u8(vcleq_u8(x[q], vdupq_n_u8(' ')),
					    vceqq_u8(x[q], vdupq_n_u8(0x7f)));
			if (keep_punct)
				word[q] = vmvnq_u8(white[q]);
			else
				word[q] = vorrq_u8(
					vcltq_u8(vsubq_u8(x[q], vdupq_n_u8('a')), vdupq_n_u8(26)),
					vcltq_u8(vsubq_u8(x[q], vdupq_n_u8('0')), vdupq_n_u8(10)));
			vst1q_u8(y + 16 * q, vbslq_u8(word[q], x[q], vdupq_n_u8(' ')));
		}
		uint64_t w = neon_mask(word), sp = neon_mask(white);
		i += n - i < 64 ? n - i : 64;
		uint64_t keep = nd_keep_mask(w, sp, valid, first, &o, owed);
		for (int c = 0; c < 8; c++) {
			unsigned m = (unsigned)(keep >> (8 * c)) & 0xff;
			vst1_u8((uint8_t *)o, vtbl1_u8(vld1_u8(y + 8 * c), vld1_u8(nd_pack_lut[m])));
			o += nd_pack_count[m];
		}
	}
	*op = o;
	return i;
}
#endif
