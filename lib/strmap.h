/* strmap: a table from strings to pointers, for lookups by a key that the
 * value owns (the key is borrowed: it must live as long as its entry).
 * A key may be put more than once; strmap_get finds the latest. */
#ifndef SCG_STRMAP_H
#define SCG_STRMAP_H

#include <stddef.h>

struct strmap_ent;

struct strmap {
	struct strmap_ent **b;
	size_t size, n;
};

/* The value put last under key, or NULL. */
void *strmap_get(const struct strmap *m, const char *key);
void strmap_put(struct strmap *m, const char *key, void *val);
/* The entry of key whose value is val goes; nothing when there is none. */
void strmap_del(struct strmap *m, const char *key, const void *val);
/* Every entry goes (not the keys and values); m is empty again. */
void strmap_free(struct strmap *m);

#endif
