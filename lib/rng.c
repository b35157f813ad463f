/* rng: xoshiro256** seeded through splitmix64 from a hash of the key. */
#include "rng.h"
#include "util.h"

#include <string.h>

void rng_init(struct rng *r, uint64_t seed, const char *id, const char *prog, const char *purpose)
{
	uint64_t h = hash64(&seed, sizeof seed, 0x5c6);
	const char *parts[3] = {id ? id : "", prog ? prog : "", purpose ? purpose : ""};
	for (int i = 0; i < 3; i++) {
		h = hash64(parts[i], strlen(parts[i]), h);
		h = hash64("\x1f", 1, h);
	}
	for (int i = 0; i < 4; i++)
		r->s[i] = rng_splitmix(&h);
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

double rng_double(struct rng *r)
{
	return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

uint64_t rng_below(struct rng *r, uint64_t n)
{
	/* rejection sampling keeps the draw unbiased */
	uint64_t limit = UINT64_MAX - UINT64_MAX % n;
	uint64_t x;
	do
		x = rng_next(r);
	while (x >= limit);
	return x % n;
}

double rng_range(struct rng *r, double lo, double hi)
{
	return lo + (hi - lo) * rng_double(r);
}
