/* dedup: texts decided one at a time as they come, the first of a
 * cluster kept: a later text that is the same as a kept one (once
 * normalised, lib/neardup.h) is an exact duplicate of it; one whose
 * shingle set is at Jaccard >= the threshold from a kept one's is a near
 * duplicate. MinHash LSH finds the candidates and the exact Jaccard of the
 * stored shingle sets decides, or with no_verify a 1-bit MinHash sketch
 * (about 60 bytes a kept text). scg-dedup runs its records through it. */
#ifndef SCG_DEDUP_H
#define SCG_DEDUP_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct dedup_config {
	int exact;              /* exact duplicates only */
	double threshold;       /* near duplicate at Jaccard >= this, in (0, 1] */
	int ngram;              /* words a shingle */
	int char_ngrams;        /* > 0: shingles of this many characters instead */
	int perm;               /* MinHash signature length */
	int no_verify;          /* decide on the sketch's estimate */
	uint64_t seed;
	int quiet;              /* no warning about a weak signature */
	int verbose;            /* the vector path and the LSH shape on stderr */
};

struct dedup;
struct dedup *dedup_new(const struct dedup_config *c);
void dedup_free(struct dedup *d);

enum dedup_verdict { DEDUP_KEPT, DEDUP_EXACT, DEDUP_NEAR };

/* Decides the normalised text norm[0..len): kept (remembered with id, the
 * raw JSON of the record's id), or a duplicate of the kept text *of at
 * Jaccard *j (1 for an exact one). */
enum dedup_verdict dedup_decide(struct dedup *d, const char *norm, size_t len,
				const char *id, size_t idlen, uint32_t *of, double *j);
/* The id a kept text was remembered with. */
const char *dedup_id(const struct dedup *d, uint32_t kept, size_t *len);

/* Sizes the indexes once for the texts the input will likely keep: total
 * bytes of input, of which seen are read, in texts of which kept were
 * kept. No regrowing, no pages touched twice. */
void dedup_presize(struct dedup *d, double total, double seen, long in, long kept);
/* "memory: index N bytes (N a kept record), ..." for -v; empty when
 * nothing was kept. */
void dedup_memory(const struct dedup *d, struct buf *out);

#endif
