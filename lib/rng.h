/* rng: reproducible randomness. Every stream is keyed by the run's --seed,
 * the record id, the program and a purpose, never by time or input order,
 * so a rerun or a sharded run draws the same values. */
#ifndef SCG_RNG_H
#define SCG_RNG_H

#include <stdint.h>

struct rng {
	uint64_t s[4];
};

/* splitmix64: the next of a fixed, well-spread sequence from *x. */
static inline uint64_t rng_splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void rng_init(struct rng *r, uint64_t seed, const char *id, const char *prog, const char *purpose);
uint64_t rng_next(struct rng *r);
double rng_double(struct rng *r);              /* [0, 1) */
uint64_t rng_below(struct rng *r, uint64_t n); /* [0, n), n > 0 */
double rng_range(struct rng *r, double lo, double hi);

#endif
