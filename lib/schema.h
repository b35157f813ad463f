/* schema: checks a structured answer against the JSON Schema subset scg
 * asks for (type, properties, required, additionalProperties, items,
 * minItems, maxItems, enum, minLength, maxLength, minimum, maximum). */
#ifndef SCG_SCHEMA_H
#define SCG_SCHEMA_H

#include <jansson.h>

#include "util.h"

/* 0 when v is valid; else -1 and err says where: "$.persona.name: expected a string". */
int schema_check(json_t *schema, json_t *v, struct buf *err);
/* 0 when schema uses only the keywords schema_check knows (and the
 * annotations description, title, default and examples), each of the
 * right kind; else -1 and err names the first other one and where it is
 * ("properties.id: pattern"), so that nothing a user wrote is silently
 * left unchecked. */
int schema_supported(json_t *schema, struct buf *err);

/* {key: [exactly n objects, each with the nfields string fields, all
 * required, no others]}, the only member: a schema for n records at once. */
json_t *schema_records(const char *key, const char *const *fields, size_t nfields, int n);

#endif
