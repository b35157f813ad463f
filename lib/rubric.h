/* rubric: what scg-judge --evaluate asks about a conversation that is over:
 * whether the user's goal was met (met, partly, not met), the evidence (a
 * turn and what happened there), failure categories from a fixed list, and
 * criteria scored on a scale, each with a reason. Criteria come from files
 * (YAML or JSON) or are built in (role_adherence, knowledge_retention,
 * completeness, relevance). The module builds the answer's JSON schema and
 * the prompt's texts, and turns an answer into the record's "eval" object,
 * the shape lib/eval reads back:
 *   {"outcome", "evidence": {"turn", "text"}, "failures": [...],
 *    "criteria": {NAME: {"score", "scale": [LO, HI], "weight", "reason"}}} */
#ifndef SCG_RUBRIC_H
#define SCG_RUBRIC_H

#include <jansson.h>

#include "util.h"

struct rubric;

struct rubric *rubric_new(void);
void rubric_free(struct rubric *rb);

/* Adds the criteria that arg names: "builtin" (all the built-in ones),
 * "builtin:NAME,..." (some of them) or a YAML or JSON file. 0, or -1 with
 * the reason in err ("FILE:LINE: ..." for a bad file). */
int rubric_add(struct rubric *rb, const char *arg, struct buf *err);
int rubric_count(const struct rubric *rb);

/* The names and meanings of the built-in criteria, for --help and errors:
 * "NAME, NAME, ..." (a static string). */
const char *rubric_builtin_names(void);

/* The schema of the judge's answer about a conversation of turns user
 * turns. New reference. */
json_t *rubric_schema(const struct rubric *rb, int turns);
/* For the prompt: the criteria, one "- NAME (how it is scored): what it
 * means" line each ("" when there are none), and the failure categories,
 * one "- NAME: what it means" line each. Caller frees. */
char *rubric_criteria_text(const struct rubric *rb);
char *rubric_failures_text(void);

/* The record's "eval" object from an answer valid against rubric_schema.
 * New reference. */
json_t *rubric_eval(const struct rubric *rb, json_t *answer);

#endif
