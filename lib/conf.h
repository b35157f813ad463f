/* conf: files that configure a run (cards, endpoints, strategies, axes),
 * in YAML or JSON, loaded as jansson values; records files as JSONL. */
#ifndef SCG_CONF_H
#define SCG_CONF_H

#include <jansson.h>

#include "util.h"

/* Loads a YAML or JSON file. On failure returns NULL and err holds
 * "FILE:LINE: message". Plain YAML scalars become numbers, booleans and
 * null where they look like one; quoted ones stay strings. */
json_t *conf_load(const char *path, struct buf *err);
/* The same from memory; name is used in messages. */
json_t *conf_parse(const char *name, const char *text, size_t len, struct buf *err);
/* Loads records: a JSONL file, a JSON array, or a YAML/JSON document
 * (returned as a one-element array unless it is an array). */
json_t *conf_load_records(const char *path, struct buf *err);

/* Replaces every ${VAR} in the string values of v (recursively) from the
 * environment. A missing variable is an error naming it; returns -1. */
int conf_expand_env(json_t *v, const char *name, struct buf *err);

/* The line (from 1) where the value at where (a list of mapping keys and
 * list indices, [] for the whole document) starts in the YAML or JSON file
 * path, to name it in a message about its content; 0 when it cannot be
 * found. The file is read again: call it only for an error. */
long conf_line(const char *path, json_t *where);

/* "PATH:LINE: " onto out, the line of the value at where (as for
 * conf_line), or "PATH: " when it cannot be found: the start of a message
 * about a file's content. */
void conf_where(struct buf *out, const char *path, json_t *where);

/* Loads or dies (exit 2) with the message. */
json_t *conf_load_or_die(const char *path);

#endif
