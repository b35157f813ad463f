/* dheap: deadlines kept in a binary heap, earliest first. An item is
 * embedded in what has the deadline (a libcurl slot, a connection) and
 * found back with container_of; setting a deadline puts the item in,
 * moves it, or (at -1) takes it out, in O(log n). */
#ifndef SCG_DHEAP_H
#define SCG_DHEAP_H

#include <stddef.h>

#define container_of(p, type, member) ((type *)((char *)(p) - offsetof(type, member)))

struct dl {
	double at;      /* monotonic seconds; -1: none */
	int pos;        /* where in the heap, -1 when not in it */
};
#define DL_NONE ((struct dl){-1, -1})

struct dheap {
	struct dl **v;
	int n, cap;
};

/* Gives d the deadline t (t < 0: none, out of the heap). */
void dheap_set(struct dheap *h, struct dl *d, double t);
/* The earliest deadline, or -1 when the heap is empty. */
static inline double dheap_first(const struct dheap *h)
{
	return h->n ? h->v[0]->at : -1;
}
/* Takes out the earliest item if its deadline is at or before now. */
struct dl *dheap_pop_due(struct dheap *h, double now);
void dheap_free(struct dheap *h);

#endif
