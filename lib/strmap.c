/* strmap: chained hashing on hash64, the table doubled as it fills. */
#include "strmap.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

struct strmap_ent {
	const char *key;
	void *val;
	struct strmap_ent *next;
};

static size_t slot(const struct strmap *m, const char *key)
{
	return (size_t)hash64(key, strlen(key), 0) & (m->size - 1);
}

void *strmap_get(const struct strmap *m, const char *key)
{
	if (!m->size)
		return NULL;
	for (struct strmap_ent *e = m->b[slot(m, key)]; e; e = e->next)
		if (!strcmp(e->key, key))
			return e->val;
	return NULL;
}

void strmap_put(struct strmap *m, const char *key, void *val)
{
	if (m->n >= m->size) {
		struct strmap bigger = {.size = m->size ? m->size * 2 : 256};
		bigger.b = xcalloc(bigger.size, sizeof *bigger.b);
		for (size_t i = 0; i < m->size; i++)
			for (struct strmap_ent *e = m->b[i], *next; e; e = next) {
				next = e->next;
				size_t k = slot(&bigger, e->key);
				e->next = bigger.b[k];
				bigger.b[k] = e;
			}
		free(m->b);
		m->b = bigger.b;
		m->size = bigger.size;
	}
	struct strmap_ent *e = xmalloc(sizeof *e);
	size_t k = slot(m, key);
	*e = (struct strmap_ent){key, val, m->b[k]};
	m->b[k] = e;
	m->n++;
}

void strmap_del(struct strmap *m, const char *key, const void *val)
{
	if (!m->size)
		return;
	for (struct strmap_ent **p = &m->b[slot(m, key)]; *p; p = &(*p)->next)
		if ((*p)->val == val && !strcmp((*p)->key, key)) {
			struct strmap_ent *e = *p;
			*p = e->next;
			free(e);
			m->n--;
			return;
		}
}

void strmap_free(struct strmap *m)
{
	for (size_t k = 0; k < m->size; k++)
		for (struct strmap_ent *e = m->b[k], *next; e; e = next) {
			next = e->next;
			free(e);
		}
	free(m->b);
	*m = (struct strmap){0};
}
