/* neardup-index: one-permutation MinHash signatures, LSH banding, and the
 * two indexes scg-dedup keeps. Band keys live in one Robin Hood hash table,
 * which doubles or, to save memory, grows by a quarter (load then between
 * 0.72 and 0.9); whole-text hashes in a table of linear probing. */
#include "neardup.h"
#include "rng.h"

#include <math.h>
#include <sys/mman.h>
#include <stdlib.h>
#include <string.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

#define NPROBE 32   /* bins an empty bin tries before it looks for the next */

struct nd_sketcher {
	int k;
	uint32_t xor;
	uint64_t mul;           /* odd */
	uint16_t *probe;        /* k rows of NPROBE bins */
};

struct nd_sketcher *nd_sketcher_new(int k, uint64_t seed)
{
	struct nd_sketcher *sk = xcalloc(1, sizeof *sk);
	if (k < 1 || k > 4096)
		die("MinHash signature of %d values", k);
	sk->k = k;
	uint64_t s = seed ^ 0x6d696e68617368ULL;
	sk->xor = (uint32_t)rng_splitmix(&s);
	sk->mul = rng_splitmix(&s) | 1;
	sk->probe = xmalloc((size_t)k * NPROBE * sizeof *sk->probe);
	for (size_t i = 0; i < (size_t)k * NPROBE; i++)
		sk->probe[i] = (uint16_t)(((rng_splitmix(&s) >> 32) * (uint64_t)k) >> 32);
	return sk;
}

void nd_sketcher_free(struct nd_sketcher *sk)
{
	if (!sk)
		return;
	free(sk->probe);
	free(sk);
}

#define FILLED(f, b) ((f)[(b) >> 6] >> ((b) & 63) & 1)

void nd_sketch(const struct nd_sketcher *sk, const uint32_t *h, size_t n, uint32_t *sig)
{
	uint32_t k = (uint32_t)sk->k;
	for (uint32_t i = 0; i < k; i++)
		sig[i] = UINT32_MAX;
	if (!n)
		return;
	/* the shingle hashes are uniform already: one multiply, whose high
	 * half picks the bin and whose low half (a permutation of the
	 * shingle hash) is the value */
	for (size_t i = 0; i < n; i++) {
		uint64_t v = (uint64_t)(h[i] ^ sk->xor) * sk->mul;
		uint32_t b = (uint32_t)(((v >> 32) * k) >> 32), x = (uint32_t)v;
		sig[b] = x < sig[b] ? x : sig[b];
	}
	/* a bin still at the largest value is empty (or, with a chance of
	 * 2^-32 a shingle, holds it: then it counts as empty, for every set
	 * alike); it copies the first filled bin of its fixed sequence, or
	 * failing that the next filled one: the same for two sets with the
	 * same empty bins */
	uint64_t filled[4096 / 64];
	uint32_t nfilled = 0;
	memset(filled, 0, (k + 63) / 64 * sizeof *filled);
	for (uint32_t i = 0; i < k; i++) {
		uint64_t f = sig[i] != UINT32_MAX;
		filled[i >> 6] |= f << (i & 63);
		nfilled += (uint32_t)f;
	}
	if (!nfilled || nfilled == k)
		return;
	for (uint32_t i = 0; i < k; i++) {
		if (FILLED(filled, i))
			continue;
		const uint16_t *p = sk->probe + (size_t)i * NPROBE;
		uint32_t j = i;
		int a = 0;
		while (a < NPROBE && !FILLED(filled, p[a]))
			a++;
		if (a < NPROBE)
			j = p[a];
		else
			do
				j = j + 1 == k ? 0 : j + 1;
			while (!FILLED(filled, j));
		sig[i] = sig[j];
	}
}

void nd_bits(const uint32_t *sig, int nvalues, uint64_t *bits)
{
	memset(bits, 0, (size_t)(2 * nvalues + 63) / 64 * sizeof *bits);
	/* bits of a hash of the value, not of the value: two values that
	 * differ must give independent bits */
	for (int i = 0; i < nvalues; i++) {
		uint32_t v = sig[i] ^ (uint32_t)i * 0x9e3779b9u;
		v = (v ^ v >> 16) * 0x85ebca6bu;
		v = (v ^ v >> 13) * 0xc2b2ae35u;
		bits[i / 32] |= (uint64_t)((v ^ v >> 16) & 3) << (2 * (i % 32));
	}
}

double nd_bits_estimate(const uint64_t *a, const uint64_t *b, int nvalues)
{
	int same = 0;
	for (int i = 0; i < (nvalues + 31) / 32; i++) {
		uint64_t x = a[i] ^ b[i];
		same += __builtin_popcountll(~(x | x >> 1) & 0x5555555555555555ULL &
					     (nvalues - 32 * i >= 32 ? ~0ULL
								     : (1ULL << (2 * (nvalues - 32 * i))) - 1));
	}
	/* equal pairs: a share J + (1 - J)/4 */
	double j = (4.0 * same / nvalues - 1) / 3;
	return j < 0 ? 0 : j;
}

double nd_candidate_prob(double j, int bands, int rows)
{
	return 1 - pow(1 - pow(j, rows), bands);
}

/* The fewest bands with r rows for which a pair at t is a candidate with
 * probability >= 0.99, or 0 when b*r passes perm or b passes maxb. */
static int bands_for(double t, int perm, int maxb, int r)
{
	double p = pow(t, r);
	double need = p >= 1 ? 1 : ceil(log(0.01) / log1p(-p));
	if (need * r > perm + r || (maxb > 0 && need > maxb + 1))
		return 0;  /* hopeless even allowing for rounding */
	int b = need < 1 ? 1 : (int)need;
	while (b > 1 && nd_candidate_prob(t, b - 1, r) >= 0.99)
		b--;
	while (nd_candidate_prob(t, b, r) < 0.99 && b * r <= perm)
		b++;
	if (b * r <= perm && (maxb <= 0 || b <= maxb) && nd_candidate_prob(t, b, r) >= 0.99)
		return b;
	return 0;
}

int nd_bands_choose(double t, int perm, int maxb, double fmax, int *bands, int *rows)
{
	if (fmax > 0) {
		int best = 0;
		for (int r = 1; r <= perm; r++) {
			int b = bands_for(t, perm, maxb, r);
			if (b && nd_candidate_prob(t / 2, b, r) <= fmax &&
			    (!best || b * r < *bands * *rows))
				*bands = b, *rows = r, best = 1;
		}
		if (best)
			return 0;
	}
	for (int r = perm; r >= 1; r--) {
		int b = bands_for(t, perm, maxb, r);
		if (b) {
			*bands = b, *rows = r;
			return 0;
		}
	}
	*rows = 1;
	*bands = maxb > 0 && maxb < perm ? maxb : perm;
	return -1;
}

void *nd_big(void *p, size_t n)
{
	/* large tables and arrays: ask for huge pages, which saves most of the
	 * page faults of touching them (a hint; failure costs nothing) */
	if (p && n >= (4u << 20)) {
		/* whole pages, the allocator's header included: advising part of
		 * a mapping splits it, and a split mapping cannot be remapped */
		uintptr_t a = (uintptr_t)p & ~(uintptr_t)4095;
		uintptr_t e = ((uintptr_t)p + n + 4095) & ~(uintptr_t)4095;
		madvise((void *)a, e - a, MADV_HUGEPAGE);
	}
	return p;
}

/* ---- LSH index: Robin Hood hashing of (key << 32 | rec + 1) ---- */

struct nd_lsh {
	int bands, rows, compact;
	uint64_t *slot;
	size_t size, used;
	struct nd_cand *cand;
	size_t ncand, candcap;
	uint32_t *map;          /* rec -> candidate index + 1, open addressing */
	size_t mapcap;
};

struct nd_lsh *nd_lsh_new(int bands, int rows, int compact)
{
	struct nd_lsh *l = xcalloc(1, sizeof *l);
	l->bands = bands, l->rows = rows, l->compact = compact;
	l->size = 4096;
	l->slot = xcalloc(l->size, sizeof *l->slot);
	return l;
}

void nd_lsh_free(struct nd_lsh *l)
{
	if (!l)
		return;
	free(l->slot);
	free(l->cand);
	free(l->map);
	free(l);
}

static size_t home(const struct nd_lsh *l, uint32_t key)
{
	return (size_t)(((uint64_t)key * l->size) >> 32);
}

void nd_lsh_keys(const struct nd_lsh *l, const uint32_t *sig, uint32_t *keys)
{
	for (int j = 0; j < l->bands; j++)
		keys[j] = (uint32_t)XXH3_64bits_withSeed(sig + (size_t)j * (size_t)l->rows,
							 (size_t)l->rows * sizeof *sig, (uint64_t)j);
}

void nd_lsh_prefetch(const struct nd_lsh *l, const uint32_t *keys)
{
	for (int j = 0; j < l->bands; j++)
		__builtin_prefetch(&l->slot[home(l, keys[j])]);
}

static size_t dist(const struct nd_lsh *l, size_t i, uint64_t s)
{
	size_t h = home(l, (uint32_t)(s >> 32));
	return i >= h ? i - h : i + l->size - h;
}

static void put(struct nd_lsh *l, uint64_t e)
{
	size_t i = home(l, (uint32_t)(e >> 32)), d = 0;
	for (;;) {
		uint64_t s = l->slot[i];
		if (!s) {
			l->slot[i] = e;
			l->used++;
			return;
		}
		size_t sd = dist(l, i, s);
		if (sd < d) {
			l->slot[i] = e;
			e = s;
			d = sd;
		}
		i = i + 1 == l->size ? 0 : i + 1;
		d++;
	}
}

static void resize(struct nd_lsh *l, size_t size)
{
	uint64_t *old = l->slot;
	size_t oldsize = l->size;
	if (size >= UINT32_MAX)
		die("band index too large");
	l->size = size;
	l->slot = nd_big(xcalloc(l->size, sizeof *l->slot), l->size * sizeof *l->slot);
	l->used = 0;
	for (size_t i = 0; i < oldsize; i++)
		if (old[i])
			put(l, old[i]);
	free(old);
}

/* Robin Hood probes stay short up to here */
#define LSH_MAX_LOAD 0.9

void nd_lsh_reserve(struct nd_lsh *l, size_t nrec)
{
	double want = (double)nrec * l->bands / (LSH_MAX_LOAD - 0.05) + 1;
	if (want > (double)l->size)
		resize(l, want < UINT32_MAX ? (size_t)want : UINT32_MAX);
}

void nd_lsh_insert(struct nd_lsh *l, const uint32_t *keys, uint32_t rec)
{
	if (rec == UINT32_MAX)
		die("too many records for the band index");
	if ((double)(l->used + (size_t)l->bands) > LSH_MAX_LOAD * (double)l->size)
		resize(l, l->compact ? l->size + l->size / 4 : 2 * l->size);
	for (int j = 0; j < l->bands; j++)
		__builtin_prefetch(&l->slot[home(l, keys[j])], 1);
	for (int j = 0; j < l->bands; j++) {
		put(l, (uint64_t)keys[j] << 32 | (rec + 1));
	}
}

static void add_cand(struct nd_lsh *l, uint32_t rec)
{
	if (2 * (l->ncand + 1) > l->mapcap) {
		l->mapcap = l->mapcap ? 2 * l->mapcap : 64;
		free(l->map);
		l->map = xcalloc(l->mapcap, sizeof *l->map);
		for (size_t c = 0; c < l->ncand; c++) {
			size_t i = (l->cand[c].rec * 0x9e3779b1u) & (l->mapcap - 1);
			while (l->map[i])
				i = (i + 1) & (l->mapcap - 1);
			l->map[i] = (uint32_t)c + 1;
		}
	}
	size_t i = (rec * 0x9e3779b1u) & (l->mapcap - 1);
	for (; l->map[i]; i = (i + 1) & (l->mapcap - 1)) {
		if (l->cand[l->map[i] - 1].rec == rec) {
			l->cand[l->map[i] - 1].nbands++;
			return;
		}
	}
	if (l->ncand == l->candcap) {
		l->candcap = l->candcap ? 2 * l->candcap : 32;
		l->cand = xrealloc(l->cand, l->candcap * sizeof *l->cand);
	}
	l->cand[l->ncand] = (struct nd_cand){rec, 1};
	l->map[i] = (uint32_t)++l->ncand;
}

size_t nd_lsh_query(struct nd_lsh *l, const uint32_t *keys, const struct nd_cand **out)
{
	for (size_t c = 0; c < l->ncand; c++) {
		size_t i = (l->cand[c].rec * 0x9e3779b1u) & (l->mapcap - 1);
		while (l->map[i])
			l->map[i] = 0, i = (i + 1) & (l->mapcap - 1);
	}
	l->ncand = 0;
	for (int j = 0; j < l->bands; j++)
		__builtin_prefetch(&l->slot[home(l, keys[j])]);
	for (int j = 0; j < l->bands; j++) {
		size_t i = home(l, keys[j]);
		for (size_t d = 0;; d++) {
			uint64_t s = l->slot[i];
			if (!s || dist(l, i, s) < d)
				break;
			if ((uint32_t)(s >> 32) == keys[j])
				add_cand(l, (uint32_t)s - 1);
			i = i + 1 == l->size ? 0 : i + 1;
		}
	}
	*out = l->cand;
	return l->ncand;
}

size_t nd_lsh_bytes(const struct nd_lsh *l)
{
	return l->size * sizeof *l->slot;
}

/* ---- exact index: linear probing on 96 bits of 128-bit hashes ---- */

/* 16 bytes: a false match needs two texts agreeing on 96 bits */
struct exact_slot {
	uint64_t lo;
	uint32_t hi;
	uint32_t rec1;  /* rec + 1; 0: empty */
};

struct nd_exact {
	struct exact_slot *slot;
	size_t size, used;      /* any size: the home slot is a multiply */
};

struct nd_exact *nd_exact_new(void)
{
	struct nd_exact *ex = xcalloc(1, sizeof *ex);
	ex->size = 1024;
	ex->slot = xcalloc(ex->size, sizeof *ex->slot);
	return ex;
}

void nd_exact_free(struct nd_exact *ex)
{
	if (!ex)
		return;
	free(ex->slot);
	free(ex);
}

void nd_exact_hash(const char *text, size_t n, uint64_t h[2])
{
	XXH128_hash_t x = XXH3_128bits(text, n);
	h[0] = x.low64, h[1] = x.high64;
}

static size_t exact_home(const struct nd_exact *ex, uint64_t lo)
{
	return (size_t)(((unsigned __int128)lo * ex->size) >> 64);
}

int nd_exact_find(const struct nd_exact *ex, const uint64_t h[2], uint32_t *rec)
{
	for (size_t i = exact_home(ex, h[0]); ex->slot[i].rec1;
	     i = i + 1 == ex->size ? 0 : i + 1) {
		if (ex->slot[i].lo == h[0] && ex->slot[i].hi == (uint32_t)h[1]) {
			*rec = ex->slot[i].rec1 - 1;
			return 1;
		}
	}
	return 0;
}

static void exact_put(struct nd_exact *ex, struct exact_slot s)
{
	size_t i = exact_home(ex, s.lo);
	while (ex->slot[i].rec1)
		i = i + 1 == ex->size ? 0 : i + 1;
	ex->slot[i] = s;
	ex->used++;
}

static void exact_resize(struct nd_exact *ex, size_t n)
{
	struct exact_slot *old = ex->slot;
	size_t oldn = ex->size;
	ex->size = n;
	ex->slot = nd_big(xcalloc(n, sizeof *ex->slot), n * sizeof *ex->slot);
	ex->used = 0;
	for (size_t i = 0; i < oldn; i++)
		if (old[i].rec1)
			exact_put(ex, old[i]);
	free(old);
}

/* at most 3/4 full: linear probing slows past that */
void nd_exact_reserve(struct nd_exact *ex, size_t nrec)
{
	size_t n = nrec / 3 * 4 + 4;
	if (n > ex->size)
		exact_resize(ex, n);
}

void nd_exact_prefetch(const struct nd_exact *ex, const uint64_t h[2])
{
	__builtin_prefetch(&ex->slot[exact_home(ex, h[0])]);
}

void nd_exact_add(struct nd_exact *ex, const uint64_t h[2], uint32_t rec)
{
	if (rec == UINT32_MAX)
		die("too many records for the exact index");
	if (4 * (ex->used + 1) > 3 * ex->size)
		exact_resize(ex, 2 * ex->size);
	exact_put(ex, (struct exact_slot){h[0], (uint32_t)h[1], rec + 1});
}

size_t nd_exact_bytes(const struct nd_exact *ex)
{
	return ex->size * sizeof *ex->slot;
}
