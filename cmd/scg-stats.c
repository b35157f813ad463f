/* scg-stats: a summary of scg records (and of rejects, mixed in or in
 * their own file) as a table for the terminal or, with --json, one JSON
 * object. The numbers come from lib/stats; this file parses the options
 * and lays the table out. See scg-stats(1). */
#include "opt.h"
#include "record.h"
#include "stats.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

enum { C_JSON = OPT_PROG, C_AXES };

static const struct option longopts[] = {
	{"json", no_argument, 0, C_JSON},
	{"axes", required_argument, 0, C_AXES},
	{0, 0, 0, 0},
};

static const char help[] =
	"      --json             print one JSON object instead of the table\n"
	"      --axes FILE        measure the coverage of persona.axes against the\n"
	"                         combinations this axes file allows\n";

static struct {
	int json;
	const char *axes;
} cf;

static int handle(int c, const char *arg)
{
	switch (c) {
	case C_JSON: cf.json = 1; break;
	case C_AXES: cf.axes = arg; break;
	default: return 1;
	}
	return 0;
}

/* ---- the table ---------------------------------------------------------- */

/* The table is built here and written with out_line, so that a closed
 * stdout ends the program quietly, as for records. */
static struct buf tab;
#define printf(...) buf_addf(&tab, __VA_ARGS__)

static json_int_t num(json_t *v, const char *path)
{
	return (json_int_t)json_number_value(json_path(v, path));
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

static void table(json_t *s)
{
	long long convs = num(s, "conversations");
	printf("%-16s%lld (%lld conversations, %lld DPO pairs), %lld rejected\n", "records",
	       (long long)num(s, "records"), convs, (long long)num(s, "dpo_pairs"),
	       (long long)num(s, "rejected.count"));
	counts("kinds", json_object_get(s, "kinds"), 12);
	counts("stop reasons", json_path(s, "stop.reason"), 12);
	counts("stopped by", json_path(s, "stop.by"), 12);
	if (convs) {
		printf("%-16s", "user turns");
		spread(json_object_get(s, "turns"));
		printf("\n%-16s", "");
		const char *k;
		json_t *v;
		int i = 0;
		json_object_foreach(json_path(s, "turns.histogram"), k, v)
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
	json_object_foreach(json_path(s, "rejected.programs"), k, v) {
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
			       (long long)num(p, "count"), json_number_value(json_path(p, "conversations.min")),
			       json_number_value(json_path(p, "conversations.mean")),
			       json_number_value(json_path(p, "conversations.max")));
		json_t *a = json_object_get(d, "axes");
		if (num(a, "seen"))
			printf("  axes combinations: %lld of %lld (%.1f%%)\n", (long long)num(a, "covered"),
			       (long long)num(a, "possible"), 100 * json_number_value(json_object_get(a, "coverage")));
	}
	json_t *dpo = json_object_get(s, "dpo");
	if (num(dpo, "pairs"))
		printf("%-16s%lld pairs, chosen %.0f chars on average, rejected %.0f; "
		       "identical openings %lld (%.1f%%)\n", "DPO", (long long)num(dpo, "pairs"),
		       json_number_value(json_path(dpo, "chosen_chars.mean")),
		       json_number_value(json_path(dpo, "rejected_chars.mean")),
		       (long long)num(dpo, "identical_openings"),
		       100 * json_number_value(json_object_get(dpo, "identical_openings_share")));
}

static void add(json_t *rec, void *st)
{
	stats_add(st, rec);
}

int main(int argc, char **argv)
{
	static const struct opt_prog prog = {
		.name = "scg-stats",
		.synopsis = "[--json] [--axes FILE] [file ...]",
		.summary = "Summarise scg records and rejects: counts, turns, lengths, cost, health, diversity.",
		.help = help, .common = OPT_BASIC, .longopts = longopts, .handle = handle,
	};
	int first = opt_parse(&prog, argc, argv);
	struct stats *st = stats_new(cf.axes);
	struct input *in = input_new(argc - first, argv + first);
	int status = record_each(in, add, st);
	input_free(in);
	if (status && !opts.on_error_skip) {
		stats_free(st);
		return 1;
	}
	json_t *s = stats_json(st);
	if (cf.json) {
		out_record(s);
		out_flush();
	} else {
		table(s);
		if (tab.len)
			out_line(tab.p, tab.len - 1);
		out_flush();
		buf_free(&tab);
	}
	json_decref(s);
	stats_free(st);
	return status;
}
