/* jrun: where a run of bytes that a JSON string holds as they are ends,
 * found a vector at a time (the unit lib/simd.h chose: AVX2, NEON, else
 * eight bytes in a 64-bit word). Shared by the readers (lib/jparse.c,
 * lib/jscan.c) and the writer (lib/jv.c), which spend most of their time
 * in such runs. */
#ifndef SCG_JRUN_H
#define SCG_JRUN_H

/* The first byte at or after p (before end) that is a quote, a backslash,
 * a control character or a byte above ASCII; end when there is none. For
 * a reader that checks the UTF-8 of what is above ASCII. */
extern const char *(*jrun_plain)(const char *p, const char *end);
/* The same, but bytes above ASCII belong to the run: for text already
 * known to be UTF-8. */
extern const char *(*jrun_text)(const char *p, const char *end);

#endif
