/* jv: our JSON layer over jansson's values, under a prefix of its own so
 * that jansson's json_* names stay jansson's. One writer (jv_dump): every
 * record, cache file and request body goes out through it, so a value is
 * written the same way everywhere; and the small getters every module
 * needs.
 *
 * Reading is done by three parsers, each for a reason:
 *   lib/jparse.h  records (lib/record.c), cached answers (lib/cache.c),
 *                 model and endpoint answers (lib/llm.c, lib/exec-*.c),
 *                 wiki pages: fast, a tree of jansson values;
 *   lib/jscan.h   scg-dedup: the text at a few paths pulled out of a line,
 *                 no tree built, the line passed through as it came;
 *   json_loadb    configuration files (lib/conf.c, which refuses duplicate
 *                 keys), --extra-body, and a structured answer checked
 *                 against its schema (jansson's message is what the model
 *                 is told when it is asked again): jansson's own reader. */
#ifndef SCG_JV_H
#define SCG_JV_H

#include <jansson.h>

#include "util.h"

/* Writes v compactly onto b: key order kept, strings escaped as JSON
 * requires (nothing else), reals in the shortest form that reads back the
 * same (0.83, not 0.82999999999999996), 1.0 stays a real. */
void jv_dump(const json_t *v, struct buf *b);
/* The same into a fresh string (the caller frees). */
char *jv_compact(const json_t *v);
/* The pieces of jv_dump, for a writer that builds no values: a string of
 * n bytes (valid UTF-8), a finite real, an integer, as jv_dump writes
 * them. */
void jv_dump_string(struct buf *b, const char *s, size_t n);
void jv_dump_real(struct buf *b, double d);
void jv_dump_int(struct buf *b, json_int_t i);

/* Looks up "a.b.0.c" (object keys and array indices, negative ones from
 * the end) in v, or NULL. */
json_t *jv_path(json_t *v, const char *path);
/* A string member of obj, or NULL when absent or not a string. */
const char *jv_str(json_t *obj, const char *key);
/* Adds n to the integer counter[key] (created at 0). */
void jv_count(json_t *counter, const char *key, json_int_t n);

/* lib/jv-alloc.c: jansson's values of up to 384 bytes come from free
 * lists per size and go back to them, for the rest of the process. Only
 * for a program whose JSON values all live in one thread (exec_run). */
void jv_pool_on(void);

#endif
