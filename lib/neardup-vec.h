/* neardup-vec: the vector paths of the normaliser and of the search for
 * the spaces between words, private to neardup.c.
 * Each takes whole blocks of 64 ASCII bytes from s[0..n) (the last may be
 * short), stopping before a block with a byte above ASCII, and returns the
 * bytes consumed; *op advances, *owed is the separator owed before the next
 * word (the scalar path's meaning), first is the start of the output. Each
 * writes up to 64 bytes past the output, which the caller has room for. */
#ifndef SCG_NEARDUP_VEC_H
#define SCG_NEARDUP_VEC_H

#include <stddef.h>
#include <stdint.h>

#include "simd.h"

typedef size_t nd_blocks_fn(const unsigned char *s, size_t n, char **op, const char *first,
			    int *owed, int keep_punct);

/* Bit i of the result: byte i of p[0..64) is a space. */
typedef uint64_t nd_spaces_fn(const unsigned char *p);

nd_blocks_fn nd_blocks_portable;
nd_spaces_fn nd_spaces_portable;
#ifdef SIMD_HAVE_X86
nd_blocks_fn nd_blocks_avx512, nd_blocks_avx2;
nd_spaces_fn nd_spaces_avx512, nd_spaces_avx2;
#endif
#ifdef SIMD_HAVE_NEON
nd_blocks_fn nd_blocks_neon;
nd_spaces_fn nd_spaces_neon;
#endif

/* What every path does with the masks of one block (bit i: byte i): w the
 * bytes of words, sp the white space, valid the bytes of the block. Returns
 * the mask of bytes to keep (word bytes, and the blank before each word
 * that owes a separator), and writes the separator owed before the block's
 * first byte at *op. A word owes a separator when white space lies in the
 * gap before it: adding the white space bits to the gap bits carries each
 * gap's lowest one to the gap's end, the next word byte. */
static inline uint64_t nd_keep_mask(uint64_t w, uint64_t sp, uint64_t valid, const char *first,
				    char **op, int *owed)
{
	w &= valid, sp &= valid;
	if (*op == first) {
		/* nothing written yet: white space before the first word
		 * owes nothing */
		if (!w) {
			*owed |= sp != 0;
			return 0;
		}
		sp &= ~((w & -w) - 1);
		*owed = 0;
	}
	uint64_t sep = (~w + sp) & w;
	if (*owed)
		sep |= w & -w;
	if (w)
		*owed = ((sp >> (63 - __builtin_clzll(w))) >> 1) != 0;
	else
		*owed |= sp != 0;
	**op = ' ';
	*op += sep & 1;
	return w | sep >> 1;
}

/* For packing 8 bytes by a mask: entry m lists the set bits of m in order. */
extern uint8_t nd_pack_lut[256][8], nd_pack_count[256];
void nd_pack_init(void);

#endif
