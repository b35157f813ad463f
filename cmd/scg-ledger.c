/* scg-ledger: a run's ledger (--run NAME, lib/ledger.h) as a line or a
 * JSON object, or, with --watch, the run's one progress line, redrawn on
 * stderr from the ledger while the run's processes fill it, until a
 * signal (or the end of the process that started it) clears it. See
 * scg-ledger(1). */
#include "ledger.h"
#include "opt.h"
#include "output.h"
#include "run.h"
#include "util.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static struct {
	int json, watch, remove;
	long expect;
	const char *label;
} cf;

static const struct opt options[] = {
	OPT_FLAG(0, "json", &cf.json, "print the ledger as one JSON object"),
	OPT_FLAG(0, "watch", &cf.watch,
		 "draw the run's progress line on stderr, redrawn four times a second, until "
		 "SIGTERM, SIGINT or SIGHUP, or the end of the process that started this one; "
		 "then clear it"),
	OPT_LONG(0, "expect", &cf.expect, "N", 0, 1000000000,
		 "with --watch: N records are expected from the run's output stages (done of N, "
		 "and the time left)"),
	OPT_STRING(0, "label", &cf.label, "TEXT", "with --watch: the line's first word (default: the run's name)"),
	OPT_FLAG(0, "remove", &cf.remove, "remove the run's ledger"),
	OPT_END,
};

/* A copy of every counter, each read atomically. */
static struct ledger snapshot(const struct ledger *l)
{
	struct ledger s = *l;   /* magic and spare: as they are */
	int64_t *to = &s.created;
	const int64_t *from = &l->created;
	for (size_t i = 0; i < (sizeof s - offsetof(struct ledger, created)) / sizeof *to; i++)
		to[i] = ledger_get(from + i);
	return s;
}

static json_t *ledger_json(const char *name, const struct ledger *s)
{
	char when[32];
	time_t t = (time_t)s->created;
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	return json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:f, s:b, s:I, s:I}",
		"run", name, "created", when,
		"requests", (json_int_t)s->requests, "cached", (json_int_t)s->cached,
		"retries", (json_int_t)s->retries, "failed", (json_int_t)s->failed,
		"reasks", (json_int_t)s->reasks,
		"prompt_tokens", (json_int_t)s->prompt_tokens,
		"completion_tokens", (json_int_t)s->completion_tokens,
		"spent", ledger_usd(s->spent), "reserved", ledger_usd(s->committed - s->spent),
		"over_budget", s->refused > 0,
		"written", (json_int_t)s->written, "rejected", (json_int_t)s->rejected);
}

static void show(const char *name, const struct ledger *l)
{
	struct ledger s = snapshot(l);
	if (cf.json) {
		json_t *j = ledger_json(name, &s);
		out_record(j);
		json_decref(j);
		return;
	}
	char *line = xasprintf("run %s: %lld requests, %lld cache hits, %lld retries, %lld failed, "
			       "%lld prompt + %lld completion tokens, $%.4f spent%s, %lld records written, "
			       "%lld rejected", name, (long long)s.requests, (long long)s.cached,
			       (long long)s.retries, (long long)s.failed, (long long)s.prompt_tokens,
			       (long long)s.completion_tokens, ledger_usd(s.spent),
			       s.refused ? " (a request was refused: over budget)" : "",
			       (long long)s.written, (long long)s.rejected);
	out_line(line, strlen(line));
	free(line);
}

/* "42s", "3m05s", "1h02m" */
static void duration(struct buf *b, double sec)
{
	long s = lround(sec);
	if (s < 60)
		buf_addf(b, "%lds", s);
	else if (s < 3600)
		buf_addf(b, "%ldm%02lds", s / 60, s % 60);
	else
		buf_addf(b, "%ldh%02ldm", s / 3600, s % 3600 / 60);
}

/* The line: what the run did since the watch began. */
static void draw(const char *label, const struct ledger *now, const struct ledger *was, double elapsed)
{
	struct buf b = {0};
	long long done = now->written - was->written, rejected = now->rejected - was->rejected;
	long long req = now->requests - was->requests;
	buf_addf(&b, "\r\033[K%s: %lld", label, done);
	if (cf.expect)
		buf_addf(&b, "/%ld", cf.expect);
	buf_addf(&b, " done");
	if (rejected)
		buf_addf(&b, ", %lld rejected", rejected);
	buf_addf(&b, ", %lld requests, %lld cache hits, %lld retries, $%.4f, %.1f req/s", req,
		 (long long)(now->cached - was->cached), (long long)(now->retries - was->retries),
		 ledger_usd(now->spent - was->spent), elapsed > 0 ? (double)req / elapsed : 0);
	if (cf.expect && done > 0 && done < cf.expect) {
		buf_adds(&b, ", ETA ");
		duration(&b, elapsed * (double)(cf.expect - done) / (double)done);
	}
	if (now->refused)
		buf_adds(&b, ", over budget");
	/* a closed stderr ends the watch */
	if (write(2, b.p, b.len) < 0 && errno == EPIPE)
		exit(0);
	buf_free(&b);
}

static int watch(const char *name, struct ledger *l)
{
	const char *label = cf.label ? cf.label : name;
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	pid_t parent = getppid();
	struct ledger was = snapshot(l);
	double start = now_mono();
	for (;;) {
		struct ledger now = snapshot(l);
		draw(label, &now, &was, now_mono() - start);
		struct timespec tick = {0, 250000000};
		if (sigtimedwait(&set, NULL, &tick) >= 0 || getppid() != parent)
			break;
	}
	(void)!write(2, "\r\033[K", 4);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct opt_prog prog = {
		.name = "scg-ledger",
		.synopsis = "[--json] NAME\n"
			    "       scg-ledger --watch [--expect N] [--label TEXT] NAME\n"
			    "       scg-ledger --remove NAME",
		.summary = "Show what the processes of run NAME (--run NAME) asked, spent and wrote, "
			   "or draw the run's progress line.",
		.common = OPT_BASIC, .opts = options,
	};
	int first = opt_parse(&prog, argc, argv);
	run_configure();
	if (argc - first != 1)
		usage_error("expected one run name");
	const char *name = argv[first];
	if (!ledger_name_ok(name))
		usage_error("expected a run name of 1 to 100 letters, digits, '.', '_' or '-' (not first '.'), "
			    "got '%s'", name);
	if (cf.watch + cf.remove + cf.json > 1)
		usage_error("--watch, --remove and --json exclude each other");
	if (cf.remove) {
		if (ledger_remove(name) && errno != ENOENT)
			die("run %s: %s", name, strerror(errno));
		return 0;
	}
	/* the watch may begin before the run's first process */
	struct ledger *l = ledger_map(name, cf.watch);
	if (!l) {
		char *path = ledger_path(name);
		/* no such run: exit 1, as grep finding nothing */
		die_status(errno == ENOENT ? 1 : 2, "run %s: %s: %s", name, path ? path : "no cache folder",
			   errno == ENOENT ? "no such run" : errno == EINVAL ? "not a run's ledger" : strerror(errno));
	}
	if (cf.watch)
		return watch(name, l);
	show(name, l);
	out_flush();
	return 0;
}
