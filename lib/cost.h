/* cost: prices per model (USD per million tokens) and the per-model totals
 * of a run, printed as the end-of-run summary. Prices come from a built-in
 * table that $SCG_PRICES (a YAML or JSON file {model: {input, output}})
 * extends or overrides. The batch APIs' prices are half of these unless
 * $SCG_PRICES gives batch_input and batch_output. */
#ifndef SCG_COST_H
#define SCG_COST_H

struct model_stats {
	char *model;
	long requests, cached, retries, failed, reasks;
	long batched;                        /* requests answered by a batch API */
	double prompt_tokens, completion_tokens;
	double est_prompt, est_completion;   /* estimates (dry run, budget) */
	double cost;
	double batch_cost;                   /* dry run: the estimate at the batch price */
	int priced;
	double price[2][2];                  /* USD a million tokens, [batch][input, output],
	                                      * looked up when the model is first seen */
	struct model_stats *next;
};

struct model_stats *cost_stats(const char *model);   /* found or created */
struct model_stats *cost_all(void);
/* USD for the tokens; *known = 0 when the model has no price. */
double cost_usd(const char *model, double prompt_tokens, double completion_tokens, int *known);
/* The same at the batch price. */
double cost_batch_usd(const char *model, double prompt_tokens, double completion_tokens, int *known);
/* USD for the tokens at the model's price, online or (batch) in a batch:
 * what cost_usd and cost_batch_usd give, without the lookup. */
static inline double cost_stats_usd(const struct model_stats *s, int batch, double prompt_tokens,
				    double completion_tokens)
{
	return (prompt_tokens * s->price[batch][0] + completion_tokens * s->price[batch][1]) / 1e6;
}
double cost_total(void);

#endif
