/* cost: prices per model (USD per million tokens) and the per-model totals
 * of a run, printed as the end-of-run summary. Prices come from a built-in
 * table that $SCG_PRICES (a YAML or JSON file {model: {input, output}})
 * extends or overrides. */
#ifndef SCG_COST_H
#define SCG_COST_H

struct model_stats {
	char *model;
	long requests, cached, retries, failed, reasks;
	double prompt_tokens, completion_tokens;
	double est_prompt, est_completion;   /* estimates (dry run, budget) */
	double cost;
	int priced;
	struct model_stats *next;
};

struct model_stats *cost_stats(const char *model);   /* found or created */
struct model_stats *cost_all(void);
/* USD for the tokens; *known = 0 when the model has no price. */
double cost_usd(const char *model, double prompt_tokens, double completion_tokens, int *known);
double cost_total(void);

#endif
