/* pool: the personas made so far, which a new one must differ from
 * (scg-personas): their cards, the word-shingle sets of their
 * descriptions (lib/neardup.h), and what a prompt lists of them. */
#ifndef SCG_POOL_H
#define SCG_POOL_H

#include <jansson.h>
#include <stddef.h>

#include "neardup.h"

#define POOL_SHINGLE_WORDS 3   /* descriptions are short: 3-word shingles */

struct pool {
	json_t *personas;       /* array of cards */
	struct nd_set *sets;    /* sets[i]: the shingles of personas[i]'s description */
};

void pool_init(struct pool *p);
/* persona (referenced) joins the pool. */
void pool_add(struct pool *p, json_t *persona);
size_t pool_size(const struct pool *p);
/* A persona's one line: its summary, else its description, else its name. */
const char *pool_summary(json_t *persona);
/* The persona most like set among the pool and then the n cards of more
 * (their sets in more_sets): its similarity (-1 when there is none), the
 * card in *near. */
double pool_nearest(const struct pool *p, const struct nd_set *set, json_t *more,
		    const struct nd_set *more_sets, size_t n, json_t **near);
/* The prompt's variables for the first known personas of the pool: their
 * summaries as "- " lines under "previous", and with cards their fields
 * (the nfields of fields) under "previous_cards". */
void pool_prompt_vars(const struct pool *p, long known, const char *const *fields, size_t nfields,
		      int cards, json_t *ctx);

#endif
