/* dyn: dynamic prompting (DESIGN §5), the same in every model-calling
 * program. Per record it draws, from --seed and the record id only:
 * {{inject.NAME}} values (--inject NAME=FILE|DIR), one conversation
 * template (--templates FILE, YAML/JSON or plain text), the sampling
 * parameters (--temperature, --top-p, --top-k ranges, and a --params file
 * of them and max_tokens); and it offers --examples as {{examples}}.
 * Everything drawn is written to the record's meta, so it can serve as a
 * label. */
#ifndef SCG_DYN_H
#define SCG_DYN_H

#include <jansson.h>

#include "llm.h"

/* Loads the files named by the options; exits 2 naming a bad file. */
void dyn_init(void);
/* The context prompts render against: the record's fields plus "inject"
 * (NAME -> value), "injections" (the same as "- NAME: value" lines, which
 * the built-in prompts use), "template" ({name, text, ...}) and "examples"
 * where given. New reference. */
json_t *dyn_context(json_t *rec, const char *id);
/* Sets temperature, top_p, top_k and max_tokens of r for this record. */
void dyn_params(const char *id, struct llm_req *r);
/* Adds meta.params, meta.injections and meta.template for this record. */
void dyn_meta(json_t *rec, const char *id);

#endif
