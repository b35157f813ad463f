/* budget: --budget, the most a run may spend, checked before every
 * attempt of a request is sent. An attempt asks budget_reserve first: the
 * request's estimated cost on its first attempt, 0 on a retry (which still
 * holds the first one's reservation); the answer settles the reservation
 * against what it cost. In a run (--run, lib/ledger.c) the spend and the
 * reservations are the run's, shared with its other processes, so the
 * stages of a pipeline and its shards spend from one budget; otherwise
 * they are this process's own. Once one attempt is refused, none starts
 * any more, in the whole run, even when answers settle below what was
 * reserved: a run stops at its budget rather than trickle on. So a run
 * spends at most the budget plus what answers cost beyond their
 * estimates (one request's worth, as a rule). */
#ifndef SCG_BUDGET_H
#define SCG_BUDGET_H

struct ledger;

struct budget_config {
	double usd;             /* --budget; 0: no limit (the spend is still counted) */
	struct ledger *ledger;  /* the run's; NULL: this process's own */
};
void budget_configure(const struct budget_config *c);

/* 1 when the spend so far (answers and reservations) plus usd is within
 * the budget: usd is then reserved. 0 when it would pass the budget, or
 * an attempt was refused before (in any process of the run). */
int budget_reserve(double usd);
/* An answer came: what was reserved for it becomes what it cost. */
void budget_settle(double reserved, double actual);
/* What was reserved is given back, nothing being owed for it (a request
 * that was never sent, a batch that was cancelled). */
void budget_release(double reserved);

#endif
