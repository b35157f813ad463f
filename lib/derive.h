/* derive: a record made from an input record. Every input field stays
 * where it was (DESIGN §2: order kept, so filters find their own fields),
 * except those the program sets or replaces. */
#ifndef SCG_DERIVE_H
#define SCG_DERIVE_H

#include <jansson.h>

/* A new object: rec's fields in their order, each field of `with` that rec
 * also has replaced where it stands, the field named `at` (may be NULL)
 * replaced by the rest of `with`, or else the rest appended at the end; an
 * "id" that rec lacks goes first. Steals `with`; rec's values are shared. */
json_t *derive_record(json_t *rec, json_t *with, const char *at);

#endif
