/* output: what a program writes on stdout, through a buffer of its own
 * over write(2), so that a closed pipe is seen at once; a closed stdout
 * ends the program quietly (status 0). What goes out is masked where it
 * repeats a secret (lib/secret.h); a JSON line stays valid JSON. */
#ifndef SCG_OUTPUT_H
#define SCG_OUTPUT_H

#include <jansson.h>
#include <stddef.h>

void out_line(const char *s, size_t n);  /* s, then a newline */
void out_record(json_t *rec);           /* compact (lib/jv.h), key order kept */
void out_flush(void);

#endif
