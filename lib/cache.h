/* cache: answers stored on disk under a hash of the whole request, so a
 * rerun after a crash, ^C or a changed option pays only for the requests
 * that never finished or changed. Files are written under a temporary name
 * and renamed: several processes can share one cache. */
#ifndef SCG_CACHE_H
#define SCG_CACHE_H

#include <jansson.h>

/* Set before cache_init (lib/run.c fills it from --no-cache and
 * --max-answer-bytes); by default the cache is on and answers are up to
 * 4 MiB. */
struct cache_config {
	int off;                /* --no-cache: nothing is read or stored */
	long max_answer;        /* bytes of the largest answer: a larger file is not ours */
};
void cache_configure(const struct cache_config *c);
/* Opens $SCG_CACHE, else $XDG_CACHE_HOME/scg, else ~/.cache/scg, unless
 * the cache is off. */
void cache_init(void);
/* The stored answer (caller decrefs) or NULL. A damaged file is a miss,
 * reported once. */
json_t *cache_get(const char *key_text);
/* The caller found the stored answer unusable: reported once, a miss (the
 * next cache_put replaces it). */
void cache_damaged(const char *key_text, const char *why);
/* Stores an answer; failures are reported once and otherwise ignored. The
 * key text itself is not stored, and known secrets in the answer are
 * masked. */
void cache_put(const char *key_text, json_t *answer);
/* The cache's directory, or NULL when the cache is off (or cannot be
 * written): --batch keeps its state there too. */
const char *cache_dir(void);
/* Writes text to path under a temporary name and renames it into place,
 * so that a reader never sees half of it; 0, or the errno. */
int cache_write_file(const char *path, const char *text);

#endif
