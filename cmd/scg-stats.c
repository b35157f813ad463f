/* scg-stats: a summary of scg records (and of rejects, mixed in or in
 * their own file) as a table for the terminal or, with --json, one JSON
 * object. The numbers come from lib/stats; this file parses the options
 * and lays the table out. See scg-stats(1). */
#include "eval.h"
#include "jv.h"
#include "opt.h"
#include "record.h"
#include "run.h"
#include "stats.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

static struct {
	int json, k, compare;
	const char *axes;
	struct gate {
		char *name;         /* NULL: the success rate */
		double min;
	} *gates;
	int ngates;
} cf;

static void fail_under_opt(const char *name, const char *arg)
{
	const char *eq = strrchr(arg, '=');
	char *gate = eq ? xstrndup(arg, (size_t)(eq - arg)) : NULL;
	char *end;
	double x = strtod(eq ? eq + 1 : arg, &end);
	if ((eq && !*gate) || end == (eq ? eq + 1 : arg) || *end || !(x >= 0 && x <= 1))
		usage_error("%s: expected RATE or NAME=X with a number from 0 to 1, got '%s'", name, arg);
	cf.gates = xrealloc(cf.gates, (size_t)(cf.ngates + 1) * sizeof *cf.gates);
	cf.gates[cf.ngates++] = (struct gate){gate, x};
}

static const struct opt options[] = {
	OPT_FLAG(0, "json", &cf.json, "print one JSON object instead of the table"),
	OPT_STRING(0, "axes", &cf.axes, "FILE",
		   "measure the coverage of persona.axes against the combinations this axes "
		   "file allows"),
	OPT_INT('k', NULL, &cf.k, "N", 1, 1000000,
		"pass^k: k tries per persona (default: the fewest any has)"),
	OPT_FLAG(0, "compare", &cf.compare,
		 "two operands, A and B: the change from A to B, paired by persona and "
		 "conversation index"),
	OPT_CALL(0, "fail-under", "RATE|NAME=X", fail_under_opt,
		 "exit 1 when the success rate is under RATE, or criterion NAME's mean under "
		 "X (both 0..1); may be repeated"),
	OPT_END,
};

/* ---- the table ---------------------------------------------------------- */

/* The table is built here and written with out_line, so that a closed
 * stdout ends the program quietly, as for records. */
static struct buf tab;
#define printf(...) buf_addf(&tab, __VA_ARGS__)

static json_int_t num(json_t *v, const char *path)
{
	return (json_int_t)json_number_value(jv_path(v, path));
}

/* "name n, name n, ..." of a counter, at most max members. */
static void counts(const char *label, json_t *counter, int max)
{
	if (!json_object_size(counter))
		return;
	printf("%-16s", label);
	const char *k;
	json_t *v;
	int i = 0;
	json_object_foreach(counter, k, v) {
		if (i == max) {
			printf(", ... (%zu in all)", json_object_size(counter));
			break;
		}
		printf("%s%s %lld", i++ ? ", " : "", k, (long long)json_integer_value(v));
	}
	printf("\n");
}

static void spread(json_t *s)
{
	printf("mean %.1f  p50 %g  p90 %g  max %g", json_number_value(json_object_get(s, "mean")),
	       json_number_value(json_object_get(s, "p50")), json_number_value(json_object_get(s, "p90")),
	       json_number_value(json_object_get(s, "max")));
}

static void usage_rows(const char *what, json_t *by)
{
	const char *k;
	json_t *v;
	json_object_foreach(by, k, v)
		printf("  %-6s %-24s %9lld %12lld %12lld %11.4f\n", what, k, (long long)num(v, "requests"),
		       (long long)num(v, "prompt_tokens"), (long long)num(v, "completion_tokens"),
		       json_number_value(json_object_get(v, "cost")));
}

static double pct(double part, double whole)
{
	return whole > 0 ? 100 * part / whole : 0;
}

static void eval_table(json_t *e);

static void table(json_t *s)
{
	long long convs = num(s, "conversations");
	printf("%-16s%lld (%lld conversations, %lld DPO pairs), %lld rejected\n", "records",
	       (long long)num(s, "records"), convs, (long long)num(s, "dpo_pairs"),
	       (long long)num(s, "rejected.count"));
	counts("kinds", json_object_get(s, "kinds"), 12);
	counts("stop reasons", jv_path(s, "stop.reason"), 12);
	counts("stopped by", jv_path(s, "stop.by"), 12);
	if (convs) {
		printf("%-16s", "user turns");
		spread(json_object_get(s, "turns"));
		printf("\n%-16s", "");
		const char *k;
		json_t *v;
		int i = 0;
		json_object_foreach(jv_path(s, "turns.histogram"), k, v)
			printf("%s%s: %lld", i++ ? ", " : "", k, (long long)json_integer_value(v));
		printf("\n");
		int row = 0;
		json_object_foreach(json_object_get(s, "chars"), k, v) {
			printf("%-16s%-10s %6lld messages  ", row++ ? "" : "message chars", k,
			       (long long)num(v, "count"));
			spread(v);
			printf("\n");
		}
	}
	json_t *u = json_object_get(s, "usage");
	if (json_object_size(json_object_get(u, "models"))) {
		printf("%-16s%lld requests, %lld prompt + %lld completion tokens, $%.4f\n", "usage",
		       (long long)num(u, "requests"), (long long)num(u, "prompt_tokens"),
		       (long long)num(u, "completion_tokens"), json_number_value(json_object_get(u, "cost")));
		printf("  %-6s %-24s %9s %12s %12s %11s\n", "", "", "requests", "prompt", "completion", "USD");
		usage_rows("model", json_object_get(u, "models"));
		usage_rows("stage", json_object_get(u, "stages"));
		if (num(u, "records_without_cost"))
			printf("  %lld records have no cost in meta.usage (made before scg kept it)\n",
			       (long long)num(u, "records_without_cost"));
	}
	const char *k;
	json_t *v;
	json_object_foreach(jv_path(s, "rejected.programs"), k, v) {
		printf("%-16s%s: %lld\n", "rejects", k, (long long)num(v, "count"));
		const char *r;
		json_t *n;
		int i = 0;
		json_object_foreach(json_object_get(v, "reasons"), r, n) {
			if (i++ == 5)
				break;
			printf("  %6lld  %.100s\n", (long long)json_integer_value(n), r);
		}
	}
	if (convs) {
		printf("health\n");
		json_object_foreach(json_object_get(s, "health"), k, v) {
			printf("  %-20s %6lld", k, (long long)num(v, "count"));
			size_t i;
			json_t *id;
			json_array_foreach(json_object_get(v, "ids"), i, id)
				printf("%s%s", i ? ", " : "  ", json_string_value(id));
			printf("\n");
		}
		json_t *d = json_object_get(s, "diversity");
		printf("diversity\n");
		json_object_foreach(json_object_get(d, "distinct"), k, v)
			printf("  %-10s distinct-1 %.3f  distinct-2 %.3f  (%lld words)\n", k,
			       json_number_value(json_object_get(v, "distinct_1")),
			       json_number_value(json_object_get(v, "distinct_2")), (long long)num(v, "words"));
		json_t *nd = json_object_get(d, "near_duplicates");
		printf("  near duplicates: %lld of %lld conversations (%.1f%%) at Jaccard >= %g\n",
		       (long long)num(nd, "conversations"), convs, pct((double)num(nd, "conversations"),
		       (double)convs), json_number_value(json_object_get(nd, "threshold")));
		json_t *p = json_object_get(d, "personas");
		if (num(p, "count"))
			printf("  personas: %lld, conversations each: min %g, mean %.1f, max %g\n",
			       (long long)num(p, "count"), json_number_value(jv_path(p, "conversations.min")),
			       json_number_value(jv_path(p, "conversations.mean")),
			       json_number_value(jv_path(p, "conversations.max")));
		json_t *a = json_object_get(d, "axes");
		if (num(a, "seen"))
			printf("  axes combinations: %lld of %lld (%.1f%%)\n", (long long)num(a, "covered"),
			       (long long)num(a, "possible"), 100 * json_number_value(json_object_get(a, "coverage")));
	}
	json_t *dpo = json_object_get(s, "dpo");
	if (num(dpo, "pairs"))
		printf("%-16s%lld pairs, chosen %.0f chars on average, rejected %.0f; "
		       "identical openings %lld (%.1f%%)\n", "DPO", (long long)num(dpo, "pairs"),
		       json_number_value(jv_path(dpo, "chosen_chars.mean")),
		       json_number_value(jv_path(dpo, "rejected_chars.mean")),
		       (long long)num(dpo, "identical_openings"),
		       100 * json_number_value(json_object_get(dpo, "identical_openings_share")));
	if (json_object_get(s, "eval"))
		eval_table(json_object_get(s, "eval"));
}

/* "label r [lo, hi] (n N)" for each member of a rates object */
static void rate_rows(const char *label, json_t *rates, int max)
{
	const char *k;
	json_t *v;
	int i = 0;
	json_object_foreach(rates, k, v) {
		if (i == max) {
			printf("%-16s... (%zu in all)\n", "", json_object_size(rates));
			break;
		}
		printf("%-16s%.3f [%.3f, %.3f] (%lld of %lld)  %s\n", i++ ? "" : label,
		       json_number_value(json_object_get(v, "rate")), json_number_value(jv_path(v, "ci.0")),
		       json_number_value(jv_path(v, "ci.1")), (long long)num(v, "successes"),
		       (long long)num(v, "n"), k);
	}
}

static void eval_table(json_t *e)
{
	json_t *su = json_object_get(e, "success");
	printf("%-16s%.3f [%.3f, %.3f]: %lld of %lld conversations met the user's goal\n", "success",
	       json_number_value(json_object_get(su, "rate")), json_number_value(jv_path(su, "ci.0")),
	       json_number_value(jv_path(su, "ci.1")), (long long)num(su, "successes"),
	       (long long)num(su, "n"));
	counts("outcomes", json_object_get(e, "outcomes"), 12);
	rate_rows("by persona", json_object_get(e, "by_persona"), 20);
	rate_rows("by axis", json_object_get(e, "by_axis"), 20);
	rate_rows("by stop reason", json_object_get(e, "by_stop_reason"), 20);
	json_t *pk = json_object_get(e, "pass_k");
	printf("%-16sk = %lld: %.3f over %lld personas\n", "pass^k", (long long)num(pk, "k"),
	       json_number_value(json_object_get(pk, "mean")), (long long)num(pk, "personas"));
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(e, "criteria"), k, v)
		printf("  %-24s %.3f [%.3f, %.3f] (n %lld)\n", k, json_number_value(json_object_get(v, "mean")),
		       json_number_value(jv_path(v, "ci.0")), json_number_value(jv_path(v, "ci.1")),
		       (long long)num(v, "n"));
	json_t *sc = json_object_get(e, "score");
	if (num(sc, "n"))
		printf("  %-24s %.3f [%.3f, %.3f] (weighted mean of the criteria)\n", "score",
		       json_number_value(json_object_get(sc, "mean")), json_number_value(jv_path(sc, "ci.0")),
		       json_number_value(jv_path(sc, "ci.1")));
	counts("failures", json_object_get(e, "failures"), 12);
	json_t *ids = jv_path(e, "failed.ids");
	if (json_array_size(ids)) {
		printf("%-16s", "not met");
		size_t i;
		json_array_foreach(ids, i, v)
			printf("%s%s", i ? ", " : "", json_string_value(v));
		printf("\n");
	}
}

static void ids_line(const char *label, json_t *ids)
{
	printf("%-16s", label);
	size_t i;
	json_t *v;
	json_array_foreach(ids, i, v)
		printf("%s%s", i ? ", " : "", json_string_value(v));
	printf("%s\n", json_array_size(ids) ? "" : "none");
}

static void compare_table(json_t *c, const char *a, const char *b)
{
	printf("%-16s%s -> %s: %lld pairs (%lld only in A, %lld only in B)\n", "compare", a, b,
	       (long long)num(c, "pairs"), (long long)num(c, "only_a"), (long long)num(c, "only_b"));
	json_t *s = json_object_get(c, "success"), *m = json_object_get(s, "mcnemar");
	printf("%-16s%.3f -> %.3f (%+.3f); McNemar %s p = %.4g (%lld to met, %lld to not met)\n", "success",
	       json_number_value(jv_path(s, "a.rate")), json_number_value(jv_path(s, "b.rate")),
	       json_number_value(json_object_get(s, "change")), json_string_value(json_object_get(m, "method")),
	       json_number_value(json_object_get(m, "p")), (long long)num(m, "to_met"),
	       (long long)num(m, "to_not_met"));
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(c, "criteria"), k, v)
		printf("  %-24s %.3f -> %.3f (%+.3f); Wilcoxon p = %.4g, sign p = %.4g (n %lld)\n", k,
		       json_number_value(json_object_get(v, "a")), json_number_value(json_object_get(v, "b")),
		       json_number_value(json_object_get(v, "change")), json_number_value(jv_path(v, "wilcoxon.p")),
		       json_number_value(jv_path(v, "sign.p")), (long long)num(v, "n"));
	ids_line("now met", jv_path(c, "flipped.to_met"));
	ids_line("no longer met", jv_path(c, "flipped.to_not_met"));
}

/* The gates (--fail-under) against an eval summary (NULL: none): 0 when
 * all pass, else 1 after one line on stderr saying what fell short. */
static int gate(json_t *e)
{
	struct buf why = {0};
	for (int i = 0; i < cf.ngates && (e || !why.len); i++)
		eval_gate(e, cf.gates[i].name, cf.gates[i].min, &why);
	if (!why.len)
		return 0;
	warnx_("below --fail-under: %s", why.p);
	buf_free(&why);
	return 1;
}

static void add(json_t *rec, void *st)
{
	stats_add(st, rec);
}

int main(int argc, char **argv)
{
	static const struct opt_prog prog = {
		.name = "scg-stats",
		.synopsis = "[--json] [--axes FILE] [-k N] [--fail-under RATE|NAME=X] [file ...]\n"
			    "       scg-stats --compare [options] A B",
		.summary = "Summarise scg records and rejects: counts, turns, lengths, cost, health, diversity.",
		.common = OPT_BASIC, .opts = options,
	};
	int first = opt_parse(&prog, argc, argv);
	run_configure();
	if (cf.compare && argc - first != 2)
		usage_error("--compare takes two files, A and B");
	int nst = cf.compare ? 2 : 1, status = 0;
	struct stats *st[2] = {0};
	json_t *sum[2] = {0};
	for (int i = 0; i < nst; i++) {
		st[i] = stats_new(cf.axes);
		stats_set_pass_k(st[i], cf.k);
		struct input *in = cf.compare ? input_new(1, argv + first + i)
					      : input_new(argc - first, argv + first);
		status |= record_each(in, add, st[i]);
		input_free(in);
		if (status && !opts.on_error_skip)
			break;
	}
	if (status && !opts.on_error_skip) {
		stats_free(st[0]);
		stats_free(st[1]);
		return 1;
	}
	for (int i = 0; i < nst; i++)
		sum[i] = stats_json(st[i]);
	json_t *shown = sum[0];
	if (cf.compare)
		shown = json_pack("{s:{s:s, s:O*}, s:{s:s, s:O*}, s:o}",
			"a", "file", argv[first], "eval", json_object_get(sum[0], "eval"),
			"b", "file", argv[first + 1], "eval", json_object_get(sum[1], "eval"),
			"compare", eval_compare(stats_eval(st[0]), stats_eval(st[1])));
	if (cf.json) {
		out_record(shown);
	} else {
		if (cf.compare)
			compare_table(json_object_get(shown, "compare"), argv[first], argv[first + 1]);
		else
			table(shown);
		if (tab.len)
			out_line(tab.p, tab.len - 1);
		buf_free(&tab);
	}
	out_flush();
	status |= gate(json_object_get(sum[nst - 1], "eval"));
	if (cf.compare)
		json_decref(shown);
	for (int i = 0; i < nst; i++) {
		json_decref(sum[i]);
		stats_free(st[i]);
	}
	for (int i = 0; i < cf.ngates; i++)
		free(cf.gates[i].name);
	free(cf.gates);
	return status;
}
