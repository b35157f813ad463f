/* stats-int: the private header of lib/stats (see stats.h), shared by
 * its parts: stats.c takes the records in and writes the summary,
 * stats-health.c checks each conversation, stats-diversity.c measures
 * how varied they are. */
#ifndef SCG_STATS_INT_H
#define SCG_STATS_INT_H

#include "stats.h"
#include "axes.h"
#include "eval.h"
#include "neardup.h"
#include "util.h"

#include <stdint.h>

/* Values kept whole, for the percentiles. */
struct vals {
	double *v;
	size_t n, cap;
	double sum;
};
void vals_add(struct vals *a, double x);

/* A set of 64-bit hashes (0 stands for the empty slot, so 0 is stored as 1). */
struct hset {
	uint64_t *t;
	size_t n, cap;
};
/* 1 when h was not in the set before. */
int hset_add(struct hset *s, uint64_t h);

/* A health check: how many records fail it, and the first ids. */
struct check {
	const char *name;
	long count;
	json_t *ids;
};

enum { H_ORDER, H_EMPTY, H_LABEL, H_REPEAT, H_REFUSAL, H_USER_AS_ASSISTANT, NCHECKS };

struct role_stats {
	char *role;
	struct vals chars;
	long words, bigrams;
	struct hset uni, bi;
	struct role_stats *next;
};

struct stats {
	long records, conversations, pairs;
	json_t *kinds, *reasons, *by, *turn_hist, *personas, *combos;
	json_t *axis_values;       /* axis name -> {value: 1} */
	struct axes axes;
	int have_axes;
	struct vals turns;
	struct role_stats *roles;
	json_t *models, *stages;   /* name -> {requests, prompt_tokens, completion_tokens, cost} */
	long without_cost;
	long rejects;
	json_t *reject_programs;   /* program -> {count, reasons: {reason: n}} */
	struct check checks[NCHECKS];
	/* DPO */
	struct vals chosen, rejected;
	long same_opening;
	/* near duplicates */
	struct nd_sketcher *sk;
	struct nd_lsh *lsh;
	struct nd_exact *exact;
	struct nd_set set;
	uint32_t *sig, *keys;
	uint32_t *sh;              /* the stored shingle sets, one after another */
	size_t shlen, shcap;
	size_t *sh_end;
	unsigned char *near;       /* per conversation: has a near duplicate */
	char **conv_ids;
	size_t nconv, convcap;
	json_t *near_pairs;
	struct buf norm;
	struct eval *eval;
	int pass_k;
};

/* stats.c: the summary's pieces */
double round4(double x);
double ratio(double a, double b);   /* a / b to 4 places; 0 when b is 0 */
/* A copy of obj with its members sorted: by count (descending, then name),
 * or by their names as numbers. count_of: the member's count, or NULL for
 * the member itself (an integer). */
json_t *sorted(json_t *obj, const char *count_of, int numeric);
/* {count, min, mean, p50, p90, max} of the values (sorted in place). */
json_t *summary_of(struct vals *a);

/* stats-health.c: one conversation's messages checked as they come */
struct health {
	int bad[NCHECKS];
	const char *prev;       /* the last role but system */
	struct hset seen;
	struct buf low;
};
void health_init(struct stats *st);
void health_free(struct stats *st);
/* Order and emptiness; 1 when the message has a role and a text to count. */
int health_message(struct health *h, const char *role, const char *content);
/* The checks of what was said (a message not of the system). */
void health_said(struct health *h, json_t *rec, const char *role, const char *content);
/* The conversation is over: its failed checks are counted under id. */
void health_end(struct stats *st, struct health *h, const char *id);
json_t *health_json(struct stats *st);

/* stats-diversity.c */
/* Distinct word 1- and 2-grams of a normalised text, by role. */
void diversity_ngrams(struct role_stats *r, const char *norm, size_t n);
/* Conversation conv, its normalised text in st->norm, against the earlier ones. */
void diversity_neardup(struct stats *st, size_t conv);
/* A persona's axes (persona.axes): its combination and values counted. */
void diversity_axes(struct stats *st, json_t *axes);
void diversity_free(struct stats *st);
json_t *diversity_json(struct stats *st);

#endif
