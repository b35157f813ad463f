/* jv-alloc: jansson's allocator. A record, a request and an answer are
 * each a tree of a few dozen small values; with glibc's malloc their
 * allocation and release cost more than the rest of the client's own
 * work. Every block jansson takes carries a header naming its size
 * class; once jv_pool_on() is called, blocks of up to 384 bytes come
 * from free lists per class and go back to them, never to the system
 * (the pool is as large as the most values alive at once). Before that,
 * and for larger blocks, malloc and free. The functions are installed
 * before main (a constructor), so no value ever meets the wrong free.
 *
 * The pool has no lock: only a program whose values live in one thread
 * turns it on (exec's loop). Built with AddressSanitizer it stays off,
 * so that the sanitizer sees every block. */
#include "jv.h"

#include <stdint.h>
#include <stdlib.h>

#define GRAIN 16
#define CLASSES 24                 /* pooled: slots of 16 .. 384 bytes */
#define SYSTEM ((uint64_t)CLASSES) /* a block from malloc */
#define HEADER 8
#define SLAB (64 * 1024)

#if defined(__SANITIZE_ADDRESS__)
#define NO_POOL 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NO_POOL 1
#endif
#endif

struct free_slot {
	struct free_slot *next;
};

static struct free_slot *free_lists[CLASSES];
static char *slab, *slab_end;
static int pooling;

static void *system_block(size_t n)
{
	if (n > SIZE_MAX - HEADER)
		return NULL;
	uint64_t *h = malloc(n + HEADER);
	if (!h)
		return NULL;
	*h = SYSTEM;
	return (char *)h + HEADER;
}

static void *pool_malloc(size_t n)
{
	size_t grains = (n + HEADER + GRAIN - 1) / GRAIN;
	if (!pooling || grains > CLASSES)
		return system_block(n);
	size_t c = grains - 1;
	struct free_slot *s = free_lists[c];
	if (s) {
		free_lists[c] = s->next;
		/* the header is kept while the slot is free: only next moved in */
		return s;
	}
	size_t size = grains * GRAIN;
	if ((size_t)(slab_end - slab) < size) {
		slab = malloc(SLAB);
		if (!slab)
			return NULL;
		slab_end = slab + SLAB;
	}
	uint64_t *h = (uint64_t *)slab;
	slab += size;
	*h = c;
	return (char *)h + HEADER;
}

static void pool_free(void *p)
{
	if (!p)
		return;
	uint64_t *h = (uint64_t *)((char *)p - HEADER);
	if (*h == SYSTEM) {
		free(h);
		return;
	}
	struct free_slot *s = p;
	s->next = free_lists[*h];
	free_lists[*h] = s;
}

__attribute__((constructor)) static void jv_alloc_install(void)
{
	json_set_alloc_funcs(pool_malloc, pool_free);
}

void jv_pool_on(void)
{
#ifndef NO_POOL
	pooling = 1;
#endif
}
