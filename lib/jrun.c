/* jrun: runs of plain string bytes (see jrun.h). Each pointer starts at a
 * chooser that sets it to the path simd_path() names, then runs it. */
#include "jrun.h"
#include "simd.h"

#include <stdint.h>

/* Eight bytes at a time: each test leaves its answer in the top bit of
 * each byte, exactly (no carry crosses a byte). */
static inline uint64_t stops64(uint64_t v, int high)
{
	const uint64_t ones = 0x0101010101010101ULL, low7 = 0x7f * ones, top = 0x80 * ones;
	uint64_t q = v ^ (0x22 * ones), b = v ^ (0x5c * ones);
	uint64_t quote = ~(((q & low7) + low7) | q | low7);
	uint64_t bslash = ~(((b & low7) + low7) | b | low7);
	uint64_t control = ~((v & low7) + 0x60 * ones) & ~v & top;
	return (high ? v & top : 0) | quote | bslash | control;
}

static inline int stop_byte(unsigned char c, int high)
{
	return c == '"' || c == '\\' || c < 0x20 || (high && c >= 0x80);
}

static inline const char *run_portable(const char *p, const char *end, int high)
{
	while (end - p >= 8) {
		uint64_t stop = stops64(simd_load64(p), high);
		if (stop)
			return p + __builtin_ctzll(stop) / 8;
		p += 8;
	}
	while (p < end && !stop_byte((unsigned char)*p, high))
		p++;
	return p;
}

static const char *plain_portable(const char *p, const char *end)
{
	return run_portable(p, end, 1);
}

static const char *text_portable(const char *p, const char *end)
{
	return run_portable(p, end, 0);
}

#ifdef SIMD_HAVE_X86
#include <immintrin.h>

/* 32 bytes at a time. A signed compare with 0x20 catches the control
 * characters and the bytes above ASCII at once; an unsigned one (the
 * minimum with 0x1f) the control characters alone. */
__attribute__((target("avx2")))
static inline const char *run_avx2(const char *p, const char *end, int high)
{
	const __m256i quote = _mm256_set1_epi8('"'), bslash = _mm256_set1_epi8('\\');
	const __m256i space = _mm256_set1_epi8(' '), us = _mm256_set1_epi8(0x1f);
	while (end - p >= 32) {
		__m256i x = _mm256_loadu_si256((const __m256i *)(const void *)p);
		__m256i low = high ? _mm256_cmpgt_epi8(space, x)
				   : _mm256_cmpeq_epi8(_mm256_min_epu8(x, us), x);
		__m256i stop = _mm256_or_si256(_mm256_or_si256(_mm256_cmpeq_epi8(x, quote),
								_mm256_cmpeq_epi8(x, bslash)), low);
		unsigned m = (unsigned)_mm256_movemask_epi8(stop);
		if (m)
			return p + __builtin_ctz(m);
		p += 32;
	}
	return run_portable(p, end, high);
}

__attribute__((target("avx2")))
static const char *plain_avx2(const char *p, const char *end)
{
	return run_avx2(p, end, 1);
}

__attribute__((target("avx2")))
static const char *text_avx2(const char *p, const char *end)
{
	return run_avx2(p, end, 0);
}
#endif

#ifdef SIMD_HAVE_NEON
#include <arm_neon.h>

static inline const char *run_neon(const char *p, const char *end, int high)
{
	while (end - p >= 16) {
		uint8x16_t x = vld1q_u8((const uint8_t *)p);
		uint8x16_t stop = vorrq_u8(vorrq_u8(vceqq_u8(x, vdupq_n_u8('"')),
						    vceqq_u8(x, vdupq_n_u8('\\'))),
					   vcltq_u8(x, vdupq_n_u8(0x20)));
		if (high)
			stop = vorrq_u8(stop, vcgeq_u8(x, vdupq_n_u8(0x80)));
		/* four bits a byte */
		uint64_t m = vget_lane_u64(vreinterpret_u64_u8(
			vshrn_n_u16(vreinterpretq_u16_u8(stop), 4)), 0);
		if (m)
			return p + __builtin_ctzll(m) / 4;
		p += 16;
	}
	return run_portable(p, end, high);
}

static const char *plain_neon(const char *p, const char *end)
{
	return run_neon(p, end, 1);
}

static const char *text_neon(const char *p, const char *end)
{
	return run_neon(p, end, 0);
}
#endif

static void choose(void)
{
	jrun_plain = plain_portable;
	jrun_text = text_portable;
#ifdef SIMD_HAVE_X86
	if (simd_path() == SIMD_AVX2 || simd_path() == SIMD_AVX512) {
		jrun_plain = plain_avx2;
		jrun_text = text_avx2;
	}
#endif
#ifdef SIMD_HAVE_NEON
	if (simd_path() == SIMD_NEON) {
		jrun_plain = plain_neon;
		jrun_text = text_neon;
	}
#endif
}

static const char *plain_first(const char *p, const char *end)
{
	choose();
	return jrun_plain(p, end);
}

static const char *text_first(const char *p, const char *end)
{
	choose();
	return jrun_text(p, end);
}

const char *(*jrun_plain)(const char *p, const char *end) = plain_first;
const char *(*jrun_text)(const char *p, const char *end) = text_first;
