/* run: the common options into the configurations of the modules every
 * program uses (see run.h); lib/run-model.c does the model programs'. */
#include "run.h"
#include "cache.h"
#include "opt.h"
#include "record.h"

void run_configure(void)
{
	record_configure(&(struct record_config){
		.rejects = opts.rejects, .rejects_path = opts.rejects_path,
		.skip_bad = opts.on_error_skip,
	});
	cache_configure(&(struct cache_config){.off = opts.no_cache, .max_answer = opts.max_answer});
}
