/* eval: what the judge's verdicts say about the assistant, from the
 * "eval" object scg-judge writes into a conversation:
 *   {"outcome": "met"|"partly"|"not met", "evidence": {"turn", "text"},
 *    "failures": [CATEGORY...],
 *    "criteria": {NAME: {"score", "scale": [LO, HI], "weight", "reason"}}}
 * Success is outcome "met". Rates come with 95% Wilson intervals, criteria
 * means (each score normalised to its scale) with Student t intervals;
 * pass^k per persona is the unbiased C(c,k)/C(n,k); two runs are compared
 * pair by pair (persona and conversation index) with McNemar's test for
 * success and the Wilcoxon signed-rank and sign tests for the criteria. */
#ifndef SCG_EVAL_H
#define SCG_EVAL_H

#include <jansson.h>

#include "util.h"

struct eval;

struct eval *eval_new(void);
void eval_free(struct eval *ev);
/* Takes a record's eval, if it has one (others are ignored). */
void eval_add(struct eval *ev, json_t *rec);
long eval_count(const struct eval *ev);

/* The aggregates (a new object); k for pass^k, 0: the fewest
 * conversations any persona has. */
json_t *eval_json(struct eval *ev, int k);
/* A against B (a new object). */
json_t *eval_compare(struct eval *a, struct eval *b);

/* A gate (scg-stats --fail-under) against an eval summary (eval_json;
 * NULL when no conversation had an eval): the success rate (name NULL),
 * or criterion name's mean, at least min. 0 when it holds, else 1 with
 * what fell short added to why ("; " between). */
int eval_gate(json_t *e, const char *name, double min, struct buf *why);

/* The 95% Wilson score interval of c successes in n tries. */
void eval_wilson(long c, long n, double *lo, double *hi);
/* Two-sided p of the exact binomial (sign) test: k of n at p = 1/2. */
double eval_binom_p(long k, long n);

#endif
