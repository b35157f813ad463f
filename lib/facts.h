/* facts: what the records of a run say about how they were made, gathered
 * as they pass: the models and their usage (meta.usage), how the
 * conversations ended (stop.reason, stop.by), the seeds (meta.seed) and
 * the kinds (kind). scg-export writes them into a dataset card. */
#ifndef SCG_FACTS_H
#define SCG_FACTS_H

#include <jansson.h>

#include "util.h"

struct facts;

struct facts *facts_new(void);
void facts_free(struct facts *f);
void facts_add(struct facts *f, json_t *rec);
/* Markdown: a table of models (requests, tokens, estimated cost), of stop
 * reasons, the seeds and kinds, each where the records had any. */
void facts_markdown(const struct facts *f, struct buf *out);

#endif
