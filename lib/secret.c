/* secret: masking known secrets in any text on its way out. Every 8-byte
 * window of every secret is kept in a small hash set (a window is one
 * 64-bit word), so a text is scanned once, one probe a byte, however many
 * secrets there are; a bitmap in front answers most probes. */
#include "secret.h"
#include "util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static char **known;            /* every secret, for de-duplication */
static size_t nknown;
static char **shorts;           /* SECRET_MIN..SECRET_RUN-1 bytes: masked whole */
static size_t nshorts;
static uint64_t *grams;         /* open addressing; 0 is empty (secrets hold no NUL) */
static size_t gcap, gcount;
static uint64_t bloom[64];      /* 4096 bits */

#define GOLDEN 0x9e3779b97f4a7c15ULL

static uint64_t load64(const char *p)
{
	uint64_t w;
	memcpy(&w, p, sizeof w);
	return w;
}

static size_t slot(uint64_t w, size_t cap)
{
	return (size_t)((w * GOLDEN) >> 17) & (cap - 1);
}

static int gram_has(uint64_t w)
{
	unsigned b = (unsigned)((w * GOLDEN) >> 52);
	if (!(bloom[b >> 6] >> (b & 63) & 1))
		return 0;
	for (size_t i = slot(w, gcap);; i = (i + 1) & (gcap - 1)) {
		if (grams[i] == w)
			return 1;
		if (!grams[i])
			return 0;
	}
}

static void gram_put(uint64_t w)
{
	if ((gcount + 1) * 2 > gcap) {
		size_t ncap = gcap ? gcap * 2 : 256;
		uint64_t *n = xcalloc(ncap, sizeof *n);
		for (size_t i = 0; i < gcap; i++) {
			if (!grams[i])
				continue;
			size_t j = slot(grams[i], ncap);
			while (n[j])
				j = (j + 1) & (ncap - 1);
			n[j] = grams[i];
		}
		free(grams);
		grams = n;
		gcap = ncap;
	}
	size_t i = slot(w, gcap);
	for (; grams[i]; i = (i + 1) & (gcap - 1))
		if (grams[i] == w)
			return;
	grams[i] = w;
	gcount++;
	unsigned b = (unsigned)((w * GOLDEN) >> 52);
	bloom[b >> 6] |= 1ULL << (b & 63);
}

void secret_add(const char *value)
{
	size_t n = value ? strlen(value) : 0;
	if (n < SECRET_MIN)
		return;
	for (size_t i = 0; i < nknown; i++)
		if (!strcmp(known[i], value))
			return;
	known = xrealloc(known, (nknown + 1) * sizeof *known);
	known[nknown++] = xstrdup(value);
	if (n < SECRET_RUN) {
		shorts = xrealloc(shorts, (nshorts + 1) * sizeof *shorts);
		shorts[nshorts++] = known[nknown - 1];
		return;
	}
	for (size_t i = 0; i + SECRET_RUN <= n; i++)
		gram_put(load64(value + i));
}

int secret_any(void)
{
	return nknown > 0;
}

struct span {
	size_t a, b;
};

static int by_start(const void *x, const void *y)
{
	const struct span *p = x, *q = y;
	return p->a < q->a ? -1 : p->a > q->a;
}

/* The spans of s to mask, sorted and merged; returns their number. */
static size_t find(const char *s, size_t len, struct span **out)
{
	struct span *sp = NULL;
	size_t n = 0, cap = 0;
#define ADD(A, B) do { \
		if (n && sp[n - 1].b >= (A)) { \
			if (sp[n - 1].b < (B)) sp[n - 1].b = (B); \
		} else { \
			if (n == cap) sp = xrealloc(sp, (cap = cap ? cap * 2 : 8) * sizeof *sp); \
			sp[n++] = (struct span){(A), (B)}; \
		} \
	} while (0)
	if (gcount)
		for (size_t i = 0; i + SECRET_RUN <= len; i++)
			if (gram_has(load64(s + i)))
				ADD(i, i + SECRET_RUN);
	size_t sorted = n;
	for (size_t k = 0; k < nshorts; k++) {
		size_t m = strlen(shorts[k]);
		for (const char *p = s; (p = memmem(p, len - (size_t)(p - s), shorts[k], m)); p++) {
			size_t a = (size_t)(p - s);
			if (n == cap)
				sp = xrealloc(sp, (cap = cap ? cap * 2 : 8) * sizeof *sp);
			sp[n++] = (struct span){a, a + m};
		}
	}
#undef ADD
	if (n > sorted) {
		qsort(sp, n, sizeof *sp, by_start);
		size_t w = 0;
		for (size_t i = 0; i < n; i++) {
			if (w && sp[w - 1].b >= sp[i].a) {
				if (sp[w - 1].b < sp[i].b)
					sp[w - 1].b = sp[i].b;
			} else {
				sp[w++] = sp[i];
			}
		}
		n = w;
	}
	*out = sp;
	return n;
}

/* Widens a span to whole UTF-8 characters. */
static void widen(const char *s, size_t len, struct span *p)
{
	while (p->a > 0 && ((unsigned char)s[p->a] & 0xc0) == 0x80)
		p->a--;
	while (p->b < len && ((unsigned char)s[p->b] & 0xc0) == 0x80)
		p->b++;
}

size_t secret_redact(char *s, size_t len)
{
	if (!nknown || len < SECRET_MIN)
		return 0;
	struct span *sp;
	size_t n = find(s, len, &sp), masked = 0;
	for (size_t i = 0; i < n; i++) {
		widen(s, len, &sp[i]);
		memset(s + sp[i].a, '*', sp[i].b - sp[i].a);
		masked += sp[i].b - sp[i].a;
	}
	free(sp);
	return masked;
}

size_t secret_redact_json(char *s, size_t len)
{
	if (!nknown || len < SECRET_MIN)
		return 0;
	struct span *sp;
	size_t n = find(s, len, &sp), masked = 0;
	/* one pass over the text, knowing at each byte whether it is a plain
	 * character inside a string (not a quote, nor part of an escape) */
	int in_str = 0, esc = 0, hex = 0;
	size_t k = 0, pos = 0;
	while (k < n && pos < len) {
		struct span p = sp[k];
		widen(s, len, &p);
		unsigned char c = (unsigned char)s[pos];
		int plain = 0;
		if (!in_str)
			in_str = c == '"';
		else if (hex)
			hex--;
		else if (esc)
			esc = 0, hex = c == 'u' ? 4 : 0;
		else if (c == '\\')
			esc = 1;
		else if (c == '"')
			in_str = 0;
		else
			plain = 1;
		if (plain && pos >= p.a && pos < p.b) {
			s[pos] = '*';
			masked++;
		}
		if (++pos >= p.b)
			k++;
	}
	free(sp);
	return masked;
}
