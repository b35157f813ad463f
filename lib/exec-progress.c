/* exec-progress: what a run tells on stderr: the progress line while it
 * runs (on a terminal, or with --progress), the summary at the end (unless
 * -q): records in and out, then per model the requests, cache hits,
 * retries, re-asks, failures, tokens and cost. */
#include "exec-int.h"
#include "cost.h"

#include <stdio.h>
#include <unistd.h>

static double t_start, last_progress;
static int progress_on;

void progress_init(void)
{
	t_start = now_mono();
	progress_on = ex.cfg.progress || (!ex.cfg.quiet && isatty(2));
}

int progress_shown(void)
{
	return progress_on;
}

void progress_draw(int final)
{
	double now = now_mono();
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
