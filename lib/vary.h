/* vary: what varies from record to record (the dynamic prompting of
 * DESIGN §5), the same in every model-calling program. Per record it
 * draws, from --seed and the record id only: {{inject.NAME}} values
 * (--inject NAME=FILE|DIR), one conversation template (--templates FILE,
 * YAML/JSON or plain text), the sampling parameters (--temperature,
 * --top-p, --top-k ranges, and a --params file of them and max_tokens);
 * and it offers --examples as {{examples}}. Everything drawn is written to
 * the record's meta, so it can serve as a label. */
#ifndef SCG_VARY_H
#define SCG_VARY_H

#include <jansson.h>
#include <stdint.h>

#include "llm.h"

/* The dynamic-prompting options (lib/run.c fills it). A range's low end
 * below 0 (top_k, max_tokens: 0) means the option was not given. */
struct vary_config {
	uint64_t seed;                  /* --seed: every draw depends on it */
	double temp_lo, temp_hi;        /* --temperature */
	double top_p_lo, top_p_hi;      /* --top-p */
	int top_k_lo, top_k_hi;         /* --top-k */
	int max_tokens;                 /* --max-tokens */
	const char *const *inject_names;    /* --inject NAME=FILE|DIR */
	const char *const *inject_paths;
	int ninjects;
	const char *templates_path;     /* --templates, or NULL */
	const char *examples_path;      /* --examples, or NULL */
	const char *params_path;        /* --params, or NULL */
};
void vary_configure(const struct vary_config *c);
/* Whether --temperature was given (a program with a default of its own,
 * such as scg-judge's 0, keeps it otherwise). */
int vary_temperature_given(void);

/* Loads the files the configuration names; exits 2 naming a bad file. */
void vary_init(void);
/* The context prompts render against: the record's fields plus "inject"
 * (NAME -> value), "injections" (the same as "- NAME: value" lines, which
 * the built-in prompts use), "template" ({name, text, ...}) and "examples"
 * where given. New reference. */
json_t *vary_context(json_t *rec, const char *id);
/* Sets temperature, top_p, top_k and max_tokens of r for this record. */
void vary_params(const char *id, struct llm_req *r);
/* Adds meta.params, meta.injections and meta.template for this record. */
void vary_meta(json_t *rec, const char *id);

#endif
