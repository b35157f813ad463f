/* stats: the summary of a set of scg records that scg-stats prints,
 * scg-report draws and a dataset card quotes: counts by kind, stop reason
 * and stop.by, user turns, message lengths, tokens and cost from
 * meta.usage (by model and by stage), rejects by program and reason,
 * health checks, diversity (distinct-n, near duplicates, coverage of
 * personas and axes), DPO pairs and, when conversations carry the judge's
 * "eval", its aggregates (lib/eval). Records are added one at a time; the
 * summary is one JSON object.
 *
 * It stands alone: a program that wants the summary facts links libscg and
 * calls stats_new, stats_add (or stats_add_record/stats_add_reject) for
 * each parsed record and stats_json once; nothing else is needed (no
 * options, no output code). scg-stats(1) documents every field. */
#ifndef SCG_STATS_H
#define SCG_STATS_H

#include <jansson.h>

/* The near-duplicate threshold (Jaccard of word 5-grams), scg-dedup's default. */
#define STATS_NEAR_THRESHOLD 0.8
/* How many ids a health check lists. */
#define STATS_IDS 5

struct stats;

/* axes_path: an axes file (scg-personas --axes) whose allowed combinations
 * the coverage is measured against, or NULL (then the combinations of the
 * values seen). Dies (exit 2) on a bad axes file. */
struct stats *stats_new(const char *axes_path);
void stats_free(struct stats *st);

/* Is rec a line of a rejects file (it has "error":{"program","reason"})? */
int stats_is_reject(json_t *rec);
/* Adds a record: a reject (stats_is_reject) or any other record. */
void stats_add(struct stats *st, json_t *rec);
void stats_add_record(struct stats *st, json_t *rec);
void stats_add_reject(struct stats *st, json_t *rej);

/* k of pass^k in the "eval" member (0, the default: the fewest
 * conversations any persona has). */
void stats_set_pass_k(struct stats *st, int k);
/* The verdicts taken so far (lib/eval), e.g. for eval_compare. */
struct eval *stats_eval(struct stats *st);

/* The summary as a new object (the caller owns it). It can be called more
 * than once; each call reflects the records added so far. */
json_t *stats_json(struct stats *st);

#endif
