/* run-model: the model options into exec, llm, prompt and vary, and the
 * tail of a model program (see run.h). Apart from lib/run.c so that a
 * program without a model links neither these modules nor libcurl. */
#include "run.h"
#include "budget.h"
#include "ledger.h"
#include "llm.h"
#include "opt.h"
#include "prompt.h"
#include "vary.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* name=value pairs as two arrays, which outlive the program's run */
static void split_kv(const struct kv *kv, int n, const char ***names, const char ***values)
{
	*names = xcalloc((size_t)n + 1, sizeof **names);
	*values = xcalloc((size_t)n + 1, sizeof **values);
	for (int i = 0; i < n; i++) {
		(*names)[i] = kv[i].name;
		(*values)[i] = kv[i].value;
	}
}

void run_configure_model(void)
{
	run_configure();
	/* the other --batch options imply it */
	opts.batch |= opts.batch_nowait || opts.batch_retry || opts.batch_cancel;
	int batch = opts.batch;
	if (batch && opts.no_cache && !opts.dry_run)
		usage_error("--batch keeps the answers and the ids of its batches in the cache; "
			    "it does not go with --no-cache");
	if (batch && opts.provider && !strcmp(opts.provider, "ollama"))
		usage_error("--batch: ollama has no batch API (only openai and anthropic have one)");
	/* a dry run spends nothing, so it joins no run */
	struct ledger *ledger = NULL;
	if (opts.run && !opts.dry_run && !(ledger = ledger_map(opts.run, 1))) {
		char *path = ledger_path(opts.run);
		die("run %s: %s: %s", opts.run, path ? path : "no cache folder ($SCG_CACHE, $XDG_CACHE_HOME "
		    "or $HOME)", errno == EINVAL ? "not a run's ledger" : strerror(errno));
	}
	budget_configure(&(struct budget_config){.usd = opts.budget, .ledger = ledger});
	const char *output = getenv("SCG_RUN_OUTPUT");
	exec_configure(&(struct exec_config){
		.jobs = opts.jobs, .unordered = opts.unordered, .rpm = opts.rpm, .tpm = opts.tpm,
		.retries = opts.retries, .timeout = opts.timeout, .dry_run = opts.dry_run,
		.budget = opts.budget, .max_answer = opts.max_answer, .seed = opts.seed,
		.quiet = opts.quiet, .progress = opts.progress, .no_progress = opts.no_progress,
		.run = opts.run, .ledger = ledger, .run_output = output && !strcmp(output, "1"),
		.batch = batch, .batch_nowait = opts.batch_nowait, .batch_retry = opts.batch_retry,
		.batch_cancel = opts.batch_cancel, .reorder_mb = opts.reorder_mb,
	});
	llm_configure(&(struct llm_config){
		.provider = opts.provider, .model = opts.model, .base_url = opts.base_url,
		.key_file = opts.key_file, .extra_body = opts.extra_body, .dry_run = opts.dry_run,
	});
	const char **names, **paths;
	split_kv(opts.prompts, opts.nprompts, &names, &paths);
	prompt_configure(&(struct prompt_config){
		.names = names, .paths = paths, .n = opts.nprompts,
		.inject = opts.ninjects > 0, .templates = opts.templates_path != NULL,
		.examples = opts.examples_path != NULL,
	});
	split_kv(opts.injects, opts.ninjects, &names, &paths);
	vary_configure(&(struct vary_config){
		.seed = opts.seed, .temp_lo = opts.temp_lo, .temp_hi = opts.temp_hi,
		.top_p_lo = opts.top_p_lo, .top_p_hi = opts.top_p_hi,
		.top_k_lo = opts.top_k_lo, .top_k_hi = opts.top_k_hi, .max_tokens = opts.max_tokens,
		.inject_names = names, .inject_paths = paths, .ninjects = opts.ninjects,
		.templates_path = opts.templates_path, .examples_path = opts.examples_path,
		.params_path = opts.params_path,
	});
}

int run_records(const struct exec_ops *ops, int nfiles, char **files)
{
	struct input *in = input_new(nfiles, files);
	int rc = exec_run(in, ops);
	input_free(in);
	return rc;
}
