/* scg-report: one self-contained HTML file from scg records (and rejects):
 * the scg-stats summary as cards, charts and tables, and a browser of the
 * records with filters and a conversation view. No server, no network: it
 * opens from disk. The page is lib/report; the numbers lib/stats. See
 * scg-report(1). */
#include "eval.h"
#include "opt.h"
#include "record.h"
#include "report.h"
#include "run.h"
#include "stats.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct {
	const char *out, *title, *axes;
	int k, compare;
} cf = {.title = "scg report"};

static const struct opt options[] = {
	OPT_STRING('o', "output", &cf.out, "FILE", "write the page to FILE (default: stdout)"),
	OPT_STRING(0, "title", &cf.title, "TEXT", "the page's title (default: scg report)"),
	OPT_STRING(0, "axes", &cf.axes, "FILE", "the axes file for the coverage, as scg-stats --axes"),
	OPT_INT('k', NULL, &cf.k, "N", 1, 1000000, "pass^k: k tries per persona, as scg-stats -k"),
	OPT_FLAG(0, "compare", &cf.compare, "two operands, A and B: the page of B, compared with A"),
	OPT_END,
};

struct ctx {
	struct stats *st;
	struct report *rep;
};

static void add(json_t *rec, void *p)
{
	struct ctx *c = p;
	stats_add(c->st, rec);
	if (c->rep && !stats_is_reject(rec))
		report_add(c->rep, rec);
}

/* --compare: the baseline's verdicts, to set beside the page's own */
static struct stats *baseline(const char *path, int *status)
{
	struct ctx c = {stats_new(cf.axes), NULL};
	stats_set_pass_k(c.st, cf.k);
	struct input *in = input_new(1, (char **)&path);
	*status |= record_each(in, add, &c);
	input_free(in);
	return c.st;
}

int main(int argc, char **argv)
{
	static const struct opt_prog prog = {
		.name = "scg-report",
		.synopsis = "[-o FILE] [--title TEXT] [--axes FILE] [-k N] [file ...]\n"
			    "       scg-report --compare [options] A B",
		.summary = "Write one self-contained HTML report of scg records: summary, charts, browser.",
		.common = OPT_BASIC, .opts = options,
	};
	int first = opt_parse(&prog, argc, argv);
	run_configure();
	if (cf.compare && argc - first != 2)
		usage_error("--compare takes two files, A and B");
	int status = 0;
	struct stats *base = cf.compare ? baseline(argv[first++], &status) : NULL;
	if (status && !opts.on_error_skip)
		return 1;
	FILE *f = stdout;
	char *tmp = NULL;
	if (cf.out && strcmp(cf.out, "-")) {
		/* written beside the target and renamed: never half a page under its name */
		tmp = xasprintf("%s.tmp.%ld", cf.out, (long)getpid());
		if (!(f = fopen(tmp, "w")))
			die_status(2, "%s: %s", cf.out, strerror(errno));
	}
	struct ctx c = {stats_new(cf.axes), report_open(f, cf.title)};
	stats_set_pass_k(c.st, cf.k);
	struct input *in = input_new(argc - first, argv + first);
	status |= record_each(in, add, &c);
	input_free(in);
	json_t *s = stats_json(c.st);
	if (base) {
		json_t *a = stats_json(base);
		json_object_set_new(s, "compare", json_pack("{s:{s:s, s:O*}, s:{s:s}, s:o}",
			"a", "file", argv[first - 1], "eval", json_object_get(a, "eval"),
			"b", "file", argv[first], "compare", eval_compare(stats_eval(base), stats_eval(c.st))));
		json_decref(a);
		stats_free(base);
	}
	int werr = report_close(c.rep, s);
	json_decref(s);
	stats_free(c.st);
	if (!werr && fflush(f))
		werr = -1;
	if (werr && errno == EPIPE)
		return status;
	if (werr)
		die("%s: %s", cf.out ? cf.out : "stdout", strerror(errno));
	if (tmp) {
		if (fclose(f) || (status && !opts.on_error_skip ? unlink(tmp) : rename(tmp, cf.out)))
			die("%s: %s", cf.out, strerror(errno));
		if (!opts.quiet && !(status && !opts.on_error_skip))
			warnx_("wrote %s", cf.out);
		free(tmp);
	}
	return status;
}
