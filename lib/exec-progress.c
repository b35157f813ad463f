/* exec-progress: what a run tells on stderr: the progress line while it
 * runs (on a terminal, or with --progress), the summary at the end (unless
 * -q): records in and out, then per model the requests, cache hits,
 * retries, re-asks, failures, tokens and cost. In a run (--run) the same
 * counts go to the run's ledger as they grow, for the run's progress line
 * (scg-ledger --watch). */
#include "exec-int.h"
#include "cost.h"
#include "ledger.h"

#include <stdio.h>
#include <unistd.h>

static double t_start, last_progress, last_sync;
static int progress_on;

void progress_init(void)
{
	t_start = now_mono();
	progress_on = !ex.cfg.no_progress && (ex.cfg.progress || (!ex.cfg.quiet && isatty(2)));
}

/* What this process added to the ledger so far. */
static struct ledger pushed;

static void push(int64_t *counter, int64_t *was, int64_t now)
{
	ledger_add(counter, now - *was);
	*was = now;
}

/* The run's ledger gets what this process did since the last time (the
 * spend goes there as it is settled: lib/budget.c). */
static void ledger_sync(void)
{
	struct ledger *l = ex.cfg.ledger, n = {0};
	for (struct model_stats *s = cost_all(); s; s = s->next) {
		n.requests += s->requests;
		n.cached += s->cached;
		n.retries += s->retries;
		n.failed += s->failed;
		n.reasks += s->reasks;
		n.prompt_tokens += (int64_t)s->prompt_tokens;
		n.completion_tokens += (int64_t)s->completion_tokens;
	}
	push(&l->requests, &pushed.requests, n.requests);
	push(&l->cached, &pushed.cached, n.cached);
	push(&l->retries, &pushed.retries, n.retries);
	push(&l->failed, &pushed.failed, n.failed);
	push(&l->reasks, &pushed.reasks, n.reasks);
	push(&l->prompt_tokens, &pushed.prompt_tokens, n.prompt_tokens);
	push(&l->completion_tokens, &pushed.completion_tokens, n.completion_tokens);
	push(&l->rejected, &pushed.rejected, records_rejected);
	if (ex.cfg.run_output)
		push(&l->written, &pushed.written, ex.records_out);
}

int progress_shown(void)
{
	return progress_on;
}

void progress_draw(int final)
{
	double now = now_mono();
	if (ex.cfg.ledger && (final || now - last_sync >= 0.1)) {
		last_sync = now;
		ledger_sync();
	}
	if (!progress_on || (!final && now - last_progress < 0.25))
		return;
	last_progress = now;
	double tok = 0;
	long req = 0;
	for (struct model_stats *s = cost_all(); s; s = s->next) {
		tok += s->prompt_tokens + s->completion_tokens;
		req += s->requests;
	}
	double el = now - t_start;
	struct buf batches = {0};
	batch_progress(&batches);
	fprintf(stderr, "\r\033[K%s: %ld in, %ld out, %d in flight%s, %.0f tokens, $%.4f, %.1f req/s",
		prog_name, ex.records_in, ex.records_out, ex.inflight, batches.p ? batches.p : "", tok,
		cost_total(), el > 0 ? (double)req / el : 0);
	buf_free(&batches);
	if (final)
		fputc('\n', stderr);
}

void progress_summary(void)
{
	if (ex.cfg.quiet)
		return;
	/* on a terminal, the run's progress line may stand where this goes */
	if (ex.cfg.ledger && isatty(2))
		fputs("\r\033[K", stderr);
	fprintf(stderr, "%s: %ld records in, %ld out, %ld rejected\n", prog_name, ex.records_in,
		ex.records_out, records_rejected);
	for (struct model_stats *s = cost_all(); s; s = s->next) {
		if (ex.cfg.dry_run) {
			fprintf(stderr, "%s: %s: %ld requests (dry run), ~%.0f prompt + ~%.0f completion tokens (estimated), ",
				prog_name, s->model, s->requests, s->est_prompt, s->est_completion);
		} else {
			fprintf(stderr, "%s: %s: %ld requests", prog_name, s->model, s->requests);
			if (s->batched)
				fprintf(stderr, " (%ld answered in batches, at the batch price)", s->batched);
			fprintf(stderr, ", %ld cache hits, %ld retries, %ld re-asks, %ld failed, "
				"%.0f prompt + %.0f completion tokens, ", s->cached, s->retries, s->reasks,
				s->failed, s->prompt_tokens, s->completion_tokens);
		}
		if (!s->priced)
			fprintf(stderr, "cost unknown (no price; see SCG_PRICES in scg(7))\n");
		else if (!ex.cfg.dry_run)
			fprintf(stderr, "$%.4f\n", s->cost);
		else if (ex.cfg.batch)
			fprintf(stderr, "$%.4f estimated at the batch price ($%.4f online)\n", s->batch_cost, s->cost);
		else
			fprintf(stderr, "$%.4f estimated ($%.4f with --batch)\n", s->cost, s->batch_cost);
	}
	batch_summary();
}
