/* output: what a program writes on stdout, through a buffer of its own
 * over write(2), so that a closed pipe is seen at once; a closed stdout
 * ends the program quietly (status 0). What goes out is masked where it
 * repeats a secret (lib/secret.h); a JSON line stays valid JSON. */
#ifndef SCG_OUTPUT_H
#define SCG_OUTPUT_H

#include <jansson.h>
#include <stddef.h>

#include "util.h"

void out_line(const char *s, size_t n);  /* s, then a newline */
void out_record(json_t *rec);           /* compact (lib/jv.h), key order kept */
/* The line out_record writes, appended to b instead, to be written later
 * with out_bytes (which writes lines made so, as they are). */
void out_record_to(struct buf *b, json_t *rec);
void out_bytes(const char *p, size_t n);
void out_flush(void);

#endif
