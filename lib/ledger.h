/* ledger: the account of a run (--run NAME) that the processes of the
 * run share: the stages of a pipeline, and the shards of GNU parallel
 * that share a cache folder. It is a small file, $SCG_CACHE/runs/NAME,
 * that each process maps and changes with atomic operations only, so a
 * reservation costs no system call and no lock. Money is counted in
 * nano-USD, as integers. lib/budget.c spends from it; exec counts its
 * requests and records into it; scg-ledger(1) reads it. */
#ifndef SCG_LEDGER_H
#define SCG_LEDGER_H

#include <stdint.h>

/* The file's layout. Every counter only grows, but committed, which
 * settling also lowers. */
struct ledger {
	char magic[8];          /* "scg-run1" */
	int64_t created;        /* when the run began, Unix seconds */
	int64_t committed;      /* nano-USD spent or reserved */
	int64_t spent;          /* nano-USD of the answers settled */
	int64_t refused;        /* the largest --budget (nano-USD) a request was
				 * refused under, 0: none */
	int64_t requests, cached, retries, failed, reasks;
	int64_t prompt_tokens, completion_tokens;
	int64_t written;        /* records written by the run's output stages
				 * (those started with SCG_RUN_OUTPUT=1) */
	int64_t rejected;       /* records any stage rejected */
	int64_t spare[16];
};

/* Whether name can name a run: 1 to 100 letters, digits, '.', '_' or
 * '-', not starting with '.'. */
int ledger_name_ok(const char *name);
/* The ledger of run name, mapped shared: made (with its folder) when
 * create is set and it is not there. NULL with errno when it cannot be
 * opened (ENOENT: no such run) or is not a ledger (EINVAL). */
struct ledger *ledger_map(const char *name, int create);
/* Removes run name's ledger; 0, or -1 with errno. */
int ledger_remove(const char *name);
/* The file of run name (the caller frees), or NULL when there is no
 * cache folder. */
char *ledger_path(const char *name);

static inline void ledger_add(int64_t *counter, int64_t n)
{
	if (n)
		__atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

static inline int64_t ledger_get(const int64_t *counter)
{
	return __atomic_load_n(counter, __ATOMIC_RELAXED);
}

/* USD as nano-USD, and back. */
int64_t ledger_nusd(double usd);
double ledger_usd(int64_t nusd);

#endif
