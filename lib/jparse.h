/* jparse: a fast JSON parser that builds jansson values. jansson's own
 * reader goes through its lexer one character at a time; this one scans
 * runs, which makes reading records and answers several times cheaper.
 * Objects keep their key order; the last of duplicate keys wins.
 * Used where a whole value is needed and speed counts: records
 * (lib/record.c), cached answers (lib/cache.c), provider and endpoint
 * answers (lib/llm.c, lib/exec), wiki pages (lib/wiki.c). Programs that
 * only read a few fields of each line use lib/jscan.h instead; lib/jv.h
 * says which reader serves whom. */
#ifndef SCG_JPARSE_H
#define SCG_JPARSE_H

#include <jansson.h>
#include <stddef.h>

#include "util.h"

/* Parses exactly one JSON value (surrounding white space allowed). Returns
 * a new reference, or NULL with the reason and column in err. Input that is
 * not UTF-8 is an error too. */
json_t *jparse(const char *s, size_t len, struct buf *err);
/* The same for text already known to be valid UTF-8 (not checked again). */
json_t *jparse_utf8(const char *s, size_t len, struct buf *err);

#endif
