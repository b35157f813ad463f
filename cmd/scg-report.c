/* scg-report: one self-contained HTML file from scg records (and rejects):
 * the scg-stats summary as cards, charts and tables, and a browser of the
 * records with filters and a conversation view. No server, no network: it
 * opens from disk. The page is lib/report; the numbers lib/stats. See
 * scg-report(1). */
#include "opt.h"
#include "record.h"
#include "report.h"
#include "stats.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { C_TITLE = OPT_PROG, C_AXES };

static const struct option longopts[] = {
	{"output", required_argument, 0, 'o'},
	{"title", required_argument, 0, C_TITLE},
	{"axes", required_argument, 0, C_AXES},
	{0, 0, 0, 0},
};

static const char help[] =
	"  -o, --output FILE      write the page to FILE (default: stdout)\n"
	"      --title TEXT       the page's title (default: scg report)\n"
	"      --axes FILE        the axes file for the coverage, as scg-stats --axes\n";

static struct {
	const char *out, *title, *axes;
} cf = {.title = "scg report"};

static int handle(int c, const char *arg)
{
	switch (c) {
	case 'o': cf.out = arg; break;
	case C_TITLE: cf.title = arg; break;
	case C_AXES: cf.axes = arg; break;
	default: return 1;
	}
	return 0;
}

struct ctx {
	struct stats *st;
	struct report *rep;
};

static void add(json_t *rec, void *p)
{
	struct ctx *c = p;
	stats_add(c->st, rec);
	if (!stats_is_reject(rec))
		report_add(c->rep, rec);
}

int main(int argc, char **argv)
{
	static const struct opt_prog prog = {
		.name = "scg-report",
		.synopsis = "[-o FILE] [--title TEXT] [--axes FILE] [file ...]",
		.summary = "Write one self-contained HTML report of scg records: summary, charts, browser.",
		.help = help, .common = OPT_BASIC, .longopts = longopts, .shortopts = "o:",
		.handle = handle,
	};
	int first = opt_parse(&prog, argc, argv);
	FILE *f = stdout;
	char *tmp = NULL;
	if (cf.out && strcmp(cf.out, "-")) {
		/* written beside the target and renamed: never half a page under its name */
		tmp = xasprintf("%s.tmp.%ld", cf.out, (long)getpid());
		if (!(f = fopen(tmp, "w")))
			die_status(2, "%s: %s", cf.out, strerror(errno));
	}
	struct ctx c = {stats_new(cf.axes), report_open(f, cf.title)};
	struct input *in = input_new(argc - first, argv + first);
	int status = record_each(in, add, &c);
	input_free(in);
	json_t *s = stats_json(c.st);
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
