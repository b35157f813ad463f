/* cost: the price table and running totals. */
#include "cost.h"
#include "conf.h"
#include "util.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* USD per million tokens, input and output; the longest matching prefix wins. */
static const struct {
	const char *prefix;
	double in, out;
} builtin[] = {
	{"gpt-4o-mini", 0.15, 0.60},
	{"gpt-4o", 2.50, 10.00},
	{"gpt-4.1-nano", 0.10, 0.40},
	{"gpt-4.1-mini", 0.40, 1.60},
	{"gpt-4.1", 2.00, 8.00},
	{"gpt-5-nano", 0.05, 0.40},
	{"gpt-5-mini", 0.25, 2.00},
	{"gpt-5", 1.25, 10.00},
	{"o4-mini", 1.10, 4.40},
	{"o3-mini", 1.10, 4.40},
	{"o3", 2.00, 8.00},
	{"o1", 15.00, 60.00},
	{"claude-haiku-4-5", 1.00, 5.00},
	{"claude-3-5-haiku", 0.80, 4.00},
	{"claude-sonnet-4", 3.00, 15.00},
	{"claude-3-7-sonnet", 3.00, 15.00},
	{"claude-opus-4", 15.00, 75.00},
	{"mock", 1.00, 2.00},   /* scg-mock's models, so dry runs and budgets can be tested */
};

static json_t *user_prices;
static int loaded;
static struct model_stats *all;

static void load(void)
{
	if (loaded)
		return;
	loaded = 1;
	const char *p = getenv("SCG_PRICES");
	if (p && *p) {
		struct buf err = {0};
		user_prices = conf_load(p, &err);
		if (!json_is_object(user_prices))
			die("SCG_PRICES: %s", err.len ? err.p : "expected a mapping of model to {input, output}");
		buf_free(&err);
	}
}

/* The price of model, online or in a batch: SCG_PRICES's batch_input
 * and batch_output, else half the online price. */
static int lookup(const char *model, int batch, double *in, double *out)
{
	load();
	json_t *u = json_object_get(user_prices, model);
	if (json_is_object(u)) {
		json_t *bi = json_object_get(u, "batch_input"), *bo = json_object_get(u, "batch_output");
		*in = json_number_value(json_object_get(u, "input"));
		*out = json_number_value(json_object_get(u, "output"));
		if (batch) {
			*in = json_is_number(bi) ? json_number_value(bi) : *in / 2;
			*out = json_is_number(bo) ? json_number_value(bo) : *out / 2;
		}
		return 1;
	}
	/* the longest prefix in the table; a request is priced from its
	 * model's stats (cost_stats_usd), which looked this up once */
	size_t best = 0, at = 0;
	for (size_t i = 0; i < sizeof builtin / sizeof builtin[0]; i++) {
		size_t n = strlen(builtin[i].prefix);
		if (n > best && !strncmp(model, builtin[i].prefix, n)) {
			best = n;
			at = i;
		}
	}
	if (!best)
		return 0;
	*in = builtin[at].in / (batch ? 2 : 1);
	*out = builtin[at].out / (batch ? 2 : 1);
	return 1;
}

static double usd(const char *model, int batch, double pt, double ct, int *known)
{
	double in = 0, out = 0;
	int k = lookup(model, batch, &in, &out);
	if (known)
		*known = k;
	return (pt * in + ct * out) / 1e6;
}

double cost_usd(const char *model, double pt, double ct, int *known)
{
	return usd(model, 0, pt, ct, known);
}

double cost_batch_usd(const char *model, double pt, double ct, int *known)
{
	return usd(model, 1, pt, ct, known);
}

struct model_stats *cost_stats(const char *model)
{
	struct model_stats **p = &all;
	for (; *p; p = &(*p)->next)
		if (!strcmp((*p)->model, model))
			return *p;
	*p = xcalloc(1, sizeof **p);
	(*p)->model = xstrdup(model);
	double *pr = &(*p)->price[0][0];
	(*p)->priced = lookup(model, 0, &pr[0], &pr[1]);
	lookup(model, 1, &pr[2], &pr[3]);
	return *p;
}

struct model_stats *cost_all(void)
{
	return all;
}

double cost_total(void)
{
	double t = 0;
	for (struct model_stats *s = all; s; s = s->next)
		t += s->cost;
	return t;
}
