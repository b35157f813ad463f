/* dheap: see dheap.h. */
#include "dheap.h"
#include "util.h"

#include <stdlib.h>

static void swap(struct dheap *h, int a, int b)
{
	struct dl *t = h->v[a];
	h->v[a] = h->v[b];
	h->v[b] = t;
	h->v[a]->pos = a;
	h->v[b]->pos = b;
}

static void up(struct dheap *h, int i)
{
	while (i > 0 && h->v[(i - 1) / 2]->at > h->v[i]->at) {
		swap(h, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void down(struct dheap *h, int i)
{
	for (;;) {
		int l = 2 * i + 1, m = i;
		if (l < h->n && h->v[l]->at < h->v[m]->at)
			m = l;
		if (l + 1 < h->n && h->v[l + 1]->at < h->v[m]->at)
			m = l + 1;
		if (m == i)
			return;
		swap(h, i, m);
		i = m;
	}
}

void dheap_set(struct dheap *h, struct dl *d, double t)
{
	int i = d->pos;
	d->at = t;
	if (t < 0) {
		if (i < 0)
			return;
		d->pos = -1;
		if (i != --h->n) {
			h->v[i] = h->v[h->n];
			h->v[i]->pos = i;
			down(h, i);
			up(h, i);
		}
		return;
	}
	if (i < 0) {
		if (h->n == h->cap) {
			h->cap = h->cap ? 2 * h->cap : 16;
			h->v = xrealloc(h->v, sizeof *h->v * (size_t)h->cap);
		}
		i = d->pos = h->n++;
		h->v[i] = d;
	}
	down(h, i);
	up(h, i);
}

struct dl *dheap_pop_due(struct dheap *h, double now)
{
	if (!h->n || h->v[0]->at > now)
		return NULL;
	struct dl *d = h->v[0];
	dheap_set(h, d, -1);
	return d;
}

void dheap_free(struct dheap *h)
{
	free(h->v);
	h->v = NULL;
	h->n = h->cap = 0;
}
