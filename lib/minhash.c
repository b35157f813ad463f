/* minhash: shingles, signatures, banding and the two indexes scg-dedup keeps.
 * Permutations are multiply-add-shift hashes of the 32-bit shingle hashes
 * ((a*x + b) mod 2^64) >> 32, cheap enough to run 100 of them per shingle;
 * band keys live in one Robin Hood hash table, which doubles or, to save
 * memory, grows by a quarter (load then between 0.72 and 0.9). */
#include "minhash.h"
#include "rng.h"
#include "textnorm.h"
#include "util.h"

#include <math.h>
#include <sys/mman.h>
#include <stdlib.h>
#include <string.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

#define LANES 16
typedef uint32_t u32v __attribute__((vector_size(LANES * 4)));

struct minhash {
	struct minhash_conf conf;
	uint32_t *a, *b;
};

struct minhash *minhash_new(const struct minhash_conf *conf)
{
	struct minhash *mh = xcalloc(1, sizeof *mh);
	mh->conf = *conf;
	if (mh->conf.ngram <= 0)
		mh->conf.ngram = 5;
	if (mh->conf.perm <= 0)
		mh->conf.perm = 128;
	/* padded to whole vectors; the spare lanes are computed and dropped */
	size_t n = ((size_t)mh->conf.perm + LANES - 1) / LANES * LANES;
	mh->a = aligned_alloc(64, n * sizeof *mh->a);
	mh->b = aligned_alloc(64, n * sizeof *mh->b);
	if (!mh->a || !mh->b)
		die("out of memory");
	uint64_t s = conf->seed ^ 0x6d696e68617368ULL;
	for (size_t i = 0; i < n; i++) {
		mh->a[i] = (uint32_t)rng_splitmix(&s) | 1;
		mh->b[i] = (uint32_t)rng_splitmix(&s);
	}
	return mh;
}

void minhash_free(struct minhash *mh)
{
	if (!mh)
		return;
	free(mh->a);
	free(mh->b);
	free(mh);
}

void mh_set_free(struct mh_set *set)
{
	free(set->h);
	free(set->tab);
	memset(set, 0, sizeof *set);
}

int minhash_perm(const struct minhash *mh)
{
	return mh->conf.perm;
}

static void set_reserve(struct mh_set *set, size_t n)
{
	if (n > set->cap) {
		set->cap = n + n / 2 + 16;
		set->h = xrealloc(set->h, set->cap * sizeof *set->h);
	}
}

/* Drops repeats from h[0..k), keeping first occurrences in order, and
 * leaves the set's table holding its members. Entries are stamp << 32 |
 * value, so the table never needs clearing. */
static size_t dedupe(struct mh_set *set, size_t k)
{
	size_t want = 64;
	while (want < 2 * k)
		want *= 2;
	if (want > set->tabcap || ++set->stamp == 0) {
		free(set->tab);
		set->tabcap = want > set->tabcap ? want : set->tabcap;
		set->tab = xcalloc(set->tabcap, sizeof *set->tab);
		set->stamp = 1;
	}
	set->shift = 64;
	for (size_t c = set->tabcap; c > 1; c /= 2)
		set->shift--;
	size_t u = 0, mask = set->tabcap - 1;
	uint64_t tag = (uint64_t)set->stamp << 32;
	for (size_t i = 0; i < k; i++) {
		uint32_t x = set->h[i];
		size_t j = (size_t)((x * 0x9e3779b97f4a7c15ULL) >> set->shift);
		for (;; j = (j + 1) & mask) {
			uint64_t e = set->tab[j];
			if (e == (tag | x))
				break;
			if ((e >> 32) != set->stamp) {
				set->tab[j] = tag | x;
				set->h[u++] = x;
				break;
			}
		}
	}
	return u;
}

size_t mh_intersect_need(const struct mh_set *set, const uint32_t *b, size_t nb, size_t need)
{
	if (need > nb || need > set->n)
		return 0;
	size_t k = 0, miss = 0, maxmiss = nb - need, mask = set->tabcap - 1;
	uint64_t tag = (uint64_t)set->stamp << 32;
	for (size_t i = 0; i < nb; i++) {
		size_t j = (size_t)((b[i] * 0x9e3779b97f4a7c15ULL) >> set->shift);
		for (;; j = (j + 1) & mask) {
			uint64_t e = set->tab[j];
			if (e == (tag | b[i])) {
				k++;
				break;
			}
			if ((e >> 32) != set->stamp) {
				if (++miss > maxmiss)
					return k;
				break;
			}
		}
	}
	return k;
}

size_t mh_need(size_t na, size_t nb, double t)
{
	size_t u = na + nb;
	size_t k = (size_t)(t * (double)u / (1 + t));
	while (k > 0 && mh_at_least(k - 1, u - (k - 1), t))
		k--;
	while (k < u && !mh_at_least(k, u - k, t))
		k++;
	return k;
}

/* Words are short: two overlapping 8-byte loads and a multiply do. */
static uint64_t word_hash(const char *p, size_t n)
{
	if (n > 16)
		return XXH3_64bits(p, n);
	uint64_t lo = 0, hi = 0;
	if (n >= 8) {
		memcpy(&lo, p, 8);
		memcpy(&hi, p + n - 8, 8);
	} else {
		memcpy(&lo, p, n);
	}
	uint64_t h = (lo ^ 0x243f6a8885a308d3ULL) * 0x9e3779b97f4a7c15ULL;
	h ^= (hi + n) * 0xc2b2ae3d27d4eb4fULL;
	h ^= h >> 32;
	return h * 0x165667b19e3779f9ULL;
}

static uint32_t mix_shingle(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return (uint32_t)(h >> 32);
}

int minhash_shingles(const struct minhash *mh, const char *text, size_t n, struct mh_set *set)
{
	set->n = 0;
	size_t k = 0;   /* shingles */
	if (mh->conf.char_ngrams > 0) {
		size_t w = (size_t)mh->conf.char_ngrams, ncp = 0;
		for (size_t i = 0; i < n; i++)
			ncp += ((unsigned char)text[i] & 0xc0) != 0x80;
		if (ncp < w)
			return 0;
		set_reserve(set, ncp - w + 1);
		size_t start = 0, end = 0, have = 0;   /* window of `have` code points */
		while (end < n) {
			end++;
			while (end < n && ((unsigned char)text[end] & 0xc0) == 0x80)
				end++;
			if (++have < w)
				continue;
			set->h[k++] = (uint32_t)XXH3_64bits(text + start, end - start);
			start++;
			while (start < n && ((unsigned char)text[start] & 0xc0) == 0x80)
				start++;
		}
	} else {
		size_t w = (size_t)mh->conf.ngram, nw = 0;
		for (size_t i = 0; i < n; i++)
			nw += text[i] == ' ';
		nw += n > 0;
		if (nw < w)
			return 0;
		/* word hashes first (in the set's spare room past the shingles) */
		set_reserve(set, 3 * nw + 2);   /* shingles, then word hashes */
		uint64_t *wh = (uint64_t *)(void *)(set->h + nw + (nw & 1));
		size_t m = 0;
		for (size_t i = 0; i < n;) {
			const char *e = memchr(text + i, ' ', n - i);
			size_t len = e ? (size_t)(e - text) - i : n - i;
			wh[m++] = word_hash(text + i, len);
			i += len + 1;
		}
		/* a rolling polynomial of the word hashes: word order counts
		 * (a symmetric combination made "a b c d e" equal "b a c d e") */
		const uint64_t K = 0x9e3779b97f4a7c15ULL;
		uint64_t h = 0, kw = 1;
		for (size_t j = 0; j < w; j++)
			h = h * K + wh[j], kw *= K;
		set->h[k++] = mix_shingle(h);
		for (size_t i = w; i < m; i++) {
			h = h * K - wh[i - w] * kw + wh[i];
			set->h[k++] = mix_shingle(h);
		}
	}
	set->n = dedupe(set, k);
	return 1;
}

/* The hot loop: one vector of permutations against every shingle. The
 * shingle hashes are already uniformly mixed, so a*x + b mod 2^32 (a odd) is
 * enough of a permutation: on random sets its MinHash agreement has the
 * binomial mean and spread, and the LSH S-curve is the textbook one. Written
 * with vector types so that it compiles to SIMD on any target, and cloned
 * for AVX2 and AVX-512 where the compiler can. */
/* m = min(m, v) lane by lane (a macro: a function returning a vector
 * would change the ABI between the clones) */
#define VMIN(m, v) do { u32v v_ = (v), lt_ = (u32v)(v_ < (m)); \
		(m) = (v_ & lt_) | ((m) & ~lt_); } while (0)

#if defined(__x86_64__) && defined(__has_attribute)
#if __has_attribute(target_clones)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
#endif
static void sig_block(const uint32_t *a, const uint32_t *b, const uint32_t *h, size_t n,
		      uint32_t *out)
{
	u32v va, vb, m0, m1;
	memcpy(&va, a, sizeof va);
	memcpy(&vb, b, sizeof vb);
	for (int k = 0; k < LANES; k++)
		m0[k] = m1[k] = UINT32_MAX;
	/* two running minima, so that the compares do not wait on each other */
	size_t s = 0;
	for (; s + 2 <= n; s += 2) {
		VMIN(m0, va * h[s] + vb);
		VMIN(m1, va * h[s + 1] + vb);
	}
	if (s < n)
		VMIN(m0, va * h[s] + vb);
	VMIN(m0, m1);
	memcpy(out, &m0, sizeof m0);
}

void minhash_sig(const struct minhash *mh, const struct mh_set *set, uint32_t *sig, int nperm)
{
	uint32_t m[LANES];
	for (int i = 0; i < nperm; i += LANES) {
		sig_block(mh->a + i, mh->b + i, set->h, set->n, m);
		memcpy(sig + i, m, (size_t)(nperm - i < LANES ? nperm - i : LANES) * sizeof *m);
	}
}

int mh_at_least(size_t inter, size_t uni, double t)
{
	return (double)inter >= t * (double)uni - 1e-9 * (double)uni;
}

void mh_sketch(const uint32_t *sig, int nbits, uint64_t *bits)
{
	memset(bits, 0, (size_t)(nbits + 63) / 64 * sizeof *bits);
	/* a bit of a hash of the value, not of the value: the low bits of
	 * a*x + b follow the low bits of x alone */
	for (int i = 0; i < nbits; i++) {
		uint32_t v = sig[i] ^ (uint32_t)i * 0x9e3779b9u;
		v = (v ^ v >> 16) * 0x85ebca6bu;
		v = (v ^ v >> 13) * 0xc2b2ae35u;
		bits[i / 64] |= (uint64_t)((v ^ v >> 16) & 1) << (i % 64);
	}
}

double mh_sketch_estimate(const uint64_t *a, const uint64_t *b, int nbits)
{
	int diff = 0;
	for (int i = 0; i < (nbits + 63) / 64; i++)
		diff += __builtin_popcountll(a[i] ^ b[i]);
	/* equal bits: a share J + (1 - J)/2 */
	double j = 1 - 2.0 * diff / nbits;
	return j < 0 ? 0 : j;
}

double mh_candidate_prob(double j, int bands, int rows)
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
	while (b > 1 && mh_candidate_prob(t, b - 1, r) >= 0.99)
		b--;
	while (mh_candidate_prob(t, b, r) < 0.99 && b * r <= perm)
		b++;
	if (b * r <= perm && (maxb <= 0 || b <= maxb) && mh_candidate_prob(t, b, r) >= 0.99)
		return b;
	return 0;
}

int mh_bands_choose(double t, int perm, int maxb, double fmax, int *bands, int *rows)
{
	if (fmax > 0) {
		int best = 0;
		for (int r = 1; r <= perm; r++) {
			int b = bands_for(t, perm, maxb, r);
			if (b && mh_candidate_prob(t / 2, b, r) <= fmax &&
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

void *mh_big(void *p, size_t n)
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

struct mh_lsh {
	int bands, rows, compact;
	uint64_t *slot;
	size_t size, used;
	struct mh_cand *cand;
	size_t ncand, candcap;
	uint32_t *map;          /* rec -> candidate index + 1, open addressing */
	size_t mapcap;
};

struct mh_lsh *mh_lsh_new(int bands, int rows, int compact)
{
	struct mh_lsh *l = xcalloc(1, sizeof *l);
	l->bands = bands, l->rows = rows, l->compact = compact;
	l->size = 4096;
	l->slot = xcalloc(l->size, sizeof *l->slot);
	return l;
}

void mh_lsh_free(struct mh_lsh *l)
{
	if (!l)
		return;
	free(l->slot);
	free(l->cand);
	free(l->map);
	free(l);
}

void mh_lsh_keys(const struct mh_lsh *l, const uint32_t *sig, uint32_t *keys)
{
	for (int j = 0; j < l->bands; j++)
		keys[j] = (uint32_t)XXH3_64bits_withSeed(sig + (size_t)j * (size_t)l->rows,
							 (size_t)l->rows * sizeof *sig, (uint64_t)j);
}

static size_t home(const struct mh_lsh *l, uint32_t key)
{
	return (size_t)(((uint64_t)key * l->size) >> 32);
}

static size_t dist(const struct mh_lsh *l, size_t i, uint64_t s)
{
	size_t h = home(l, (uint32_t)(s >> 32));
	return i >= h ? i - h : i + l->size - h;
}

static void put(struct mh_lsh *l, uint64_t e)
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

static void resize(struct mh_lsh *l, size_t size)
{
	uint64_t *old = l->slot;
	size_t oldsize = l->size;
	if (size >= UINT32_MAX)
		die("band index too large");
	l->size = size;
	l->slot = mh_big(xcalloc(l->size, sizeof *l->slot), l->size * sizeof *l->slot);
	l->used = 0;
	for (size_t i = 0; i < oldsize; i++)
		if (old[i])
			put(l, old[i]);
	free(old);
}

static double max_load(const struct mh_lsh *l)
{
	return l->compact ? 0.9 : 0.8;
}

void mh_lsh_reserve(struct mh_lsh *l, size_t nrec)
{
	double want = (double)nrec * l->bands / (max_load(l) - 0.05) + 1;
	if (want > (double)l->size)
		resize(l, want < UINT32_MAX ? (size_t)want : UINT32_MAX);
}

void mh_lsh_insert(struct mh_lsh *l, const uint32_t *keys, uint32_t rec)
{
	if (rec == UINT32_MAX)
		die("too many records for the band index");
	if ((double)(l->used + (size_t)l->bands) > max_load(l) * (double)l->size)
		resize(l, l->compact ? l->size + l->size / 4 : 2 * l->size);
	for (int j = 0; j < l->bands; j++)
		__builtin_prefetch(&l->slot[home(l, keys[j])], 1);
	for (int j = 0; j < l->bands; j++) {
		put(l, (uint64_t)keys[j] << 32 | (rec + 1));
	}
}

static void add_cand(struct mh_lsh *l, uint32_t rec)
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
	l->cand[l->ncand] = (struct mh_cand){rec, 1};
	l->map[i] = (uint32_t)++l->ncand;
}

size_t mh_lsh_query(struct mh_lsh *l, const uint32_t *keys, const struct mh_cand **out)
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

size_t mh_lsh_bytes(const struct mh_lsh *l)
{
	return l->size * sizeof *l->slot;
}

/* ---- exact index: linear probing on 128-bit hashes ---- */

struct exact_slot {
	uint64_t lo, hi;
	uint32_t rec1;  /* rec + 1; 0: empty */
};

struct mh_exact {
	struct exact_slot *slot;
	size_t mask, used;
};

struct mh_exact *mh_exact_new(void)
{
	struct mh_exact *ex = xcalloc(1, sizeof *ex);
	ex->mask = 1023;
	ex->slot = xcalloc(ex->mask + 1, sizeof *ex->slot);
	return ex;
}

void mh_exact_free(struct mh_exact *ex)
{
	if (!ex)
		return;
	free(ex->slot);
	free(ex);
}

void mh_exact_hash(const char *text, size_t n, uint64_t h[2])
{
	XXH128_hash_t x = XXH3_128bits(text, n);
	h[0] = x.low64, h[1] = x.high64;
}

int mh_exact_find(const struct mh_exact *ex, const uint64_t h[2], uint32_t *rec)
{
	for (size_t i = h[0] & ex->mask; ex->slot[i].rec1; i = (i + 1) & ex->mask) {
		if (ex->slot[i].lo == h[0] && ex->slot[i].hi == h[1]) {
			*rec = ex->slot[i].rec1 - 1;
			return 1;
		}
	}
	return 0;
}

static void exact_put(struct mh_exact *ex, struct exact_slot s)
{
	size_t i = s.lo & ex->mask;
	while (ex->slot[i].rec1)
		i = (i + 1) & ex->mask;
	ex->slot[i] = s;
	ex->used++;
}

static void exact_resize(struct mh_exact *ex, size_t n)
{
	struct exact_slot *old = ex->slot;
	size_t oldn = ex->mask + 1;
	ex->mask = n - 1;
	ex->slot = mh_big(xcalloc(n, sizeof *ex->slot), n * sizeof *ex->slot);
	ex->used = 0;
	for (size_t i = 0; i < oldn; i++)
		if (old[i].rec1)
			exact_put(ex, old[i]);
	free(old);
}

void mh_exact_reserve(struct mh_exact *ex, size_t nrec)
{
	size_t n = ex->mask + 1;
	while (3 * n < 4 * nrec)
		n *= 2;
	if (n > ex->mask + 1)
		exact_resize(ex, n);
}

void mh_exact_prefetch(const struct mh_exact *ex, const uint64_t h[2])
{
	__builtin_prefetch(&ex->slot[h[0] & ex->mask]);
}

void mh_exact_add(struct mh_exact *ex, const uint64_t h[2], uint32_t rec)
{
	if (rec == UINT32_MAX)
		die("too many records for the exact index");
	if (4 * (ex->used + 1) > 3 * (ex->mask + 1))
		exact_resize(ex, 2 * (ex->mask + 1));
	exact_put(ex, (struct exact_slot){h[0], h[1], rec + 1});
}

size_t mh_exact_bytes(const struct mh_exact *ex)
{
	return (ex->mask + 1) * sizeof *ex->slot;
}
