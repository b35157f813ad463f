/* simd: which vector unit the hot loops use. The best one the CPU has is
 * chosen at run time (AVX-512 with VBMI2, AVX2, NEON where the compiler
 * targets ARM, else portable C); the environment variable SCG_SIMD
 * (avx512, avx2, neon or portable) forces one, so that each can be
 * measured and tested on one machine. Every path gives the same bytes. */
#ifndef SCG_SIMD_H
#define SCG_SIMD_H

#include <stdint.h>
#include <string.h>

enum simd_path { SIMD_PORTABLE, SIMD_AVX2, SIMD_AVX512, SIMD_NEON, SIMD_NPATHS };

/* Which vector code this build holds: x86-64 functions carry their own
 * target attributes (the build flags stay portable); NEON needs a compiler
 * that targets it. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SIMD_HAVE_X86 1
#endif
#if defined(__ARM_NEON) && defined(__aarch64__)
#define SIMD_HAVE_NEON 1
#endif

/* The path in use: SCG_SIMD, else the best available. A forced path the
 * CPU lacks, or an unknown name, ends the program with status 2. */
enum simd_path simd_path(void);
int simd_available(enum simd_path p);
const char *simd_name(enum simd_path p);
/* "avx2 (this machine: avx512 avx2 portable; SCG_SIMD chooses)" */
const char *simd_describe(void);

/* Eight bytes as a little-endian word, and back: byte i of memory is bits
 * 8i to 8i+7, for code that works on eight bytes in a 64-bit word. */
static inline uint64_t simd_load64(const void *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

static inline void simd_store64(void *p, uint64_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	memcpy(p, &v, 8);
}

#endif
