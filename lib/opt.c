/* opt: one parser for the options every program shares, so -j, --seed or
 * --rejects mean one thing in all of them, and one --help made from the
 * same tables that the parser reads. */
#include "opt.h"
#include "ledger.h"
#include "util.h"
#include "wrap.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct scg_opts opts = {
	.jobs = 8, .retries = 6, .timeout = 120, .temp_lo = -1, .top_p_lo = -1,
	.max_answer = OPT_MAX_ANSWER, .reorder_mb = 64,
};

static const struct opt_prog *cur;

void usage_error(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", prog_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help' for more information.\n", prog_name);
	exit(2);
}

/* "max-turns", "--max-turns" -> "--max-turns"; "n", "-n" -> "-n": callers
 * name an option either way, messages show it as it is typed. */
static const char *dashed(const char *optname, char *out, size_t size)
{
	while (*optname == '-')
		optname++;
	snprintf(out, size, "%s%s", optname[0] && !optname[1] ? "-" : "--", optname);
	return out;
}

long opt_long(const char *optname, const char *arg, long min, long max)
{
	char *end, name[64];
	errno = 0;
	long v = strtol(arg, &end, 10);
	if (end == arg || *end || errno || v < min || v > max)
		usage_error("%s: expected an integer from %ld to %ld, got '%s'",
			    dashed(optname, name, sizeof name), min, max, arg);
	return v;
}

double opt_double(const char *optname, const char *arg, double min, double max)
{
	char *end, name[64];
	errno = 0;
	double v = strtod(arg, &end);
	if (end == arg || *end || errno || v < min || v > max)
		usage_error("%s: expected a number from %g to %g, got '%s'",
			    dashed(optname, name, sizeof name), min, max, arg);
	return v;
}

long opt_bytes(const char *optname, const char *arg, long min, long max)
{
	char *end, name[64];
	errno = 0;
	long v = strtol(arg, &end, 10);
	long unit = !strcmp(end, "k") || !strcmp(end, "K") ? 1L << 10 : !strcmp(end, "M") ? 1L << 20
		  : !strcmp(end, "G") ? 1L << 30 : *end ? 0 : 1;
	if (end == arg || !unit || errno || v < 0 || v > max / unit || v * unit < min)
		usage_error("%s: expected a size from %ld to %ld bytes (a k, M or G suffix allowed), got '%s'",
			    dashed(optname, name, sizeof name), min, max, arg);
	return v * unit;
}

int opt_choice(const char *optname, const char *arg, const char *choices)
{
	int i = 0;
	for (const char *p = choices; *p; i++) {
		size_t n = strcspn(p, "|");
		if (strlen(arg) == n && !strncmp(arg, p, n))
			return i;
		p += n + (p[n] == '|');
	}
	/* "a|b|c" -> "a, b or c" */
	struct buf list = {0};
	for (const char *p = choices; *p;) {
		size_t n = strcspn(p, "|");
		buf_add(&list, p, n);
		p += n + (p[n] == '|');
		if (*p)
			buf_adds(&list, strchr(p, '|') ? ", " : " or ");
	}
	char name[64];
	usage_error("%s: expected %s, got '%s'", dashed(optname, name, sizeof name), list.p, arg);
}

/* ---- the common options' handlers ---------------------------------------- */

static void print_help(void);

static void help_opt(const char *name, const char *arg)
{
	(void)name;
	(void)arg;
	print_help();
	exit(0);
}

static void version_opt(const char *name, const char *arg)
{
	(void)name;
	(void)arg;
	printf("%s (scg) %s\n", cur->name, SCG_VERSION);
	exit(0);
}

static void seed_opt(const char *name, const char *arg)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(arg, &end, 10);
	if (end == arg || *end || errno || *arg == '-')
		usage_error("%s: expected a non-negative integer, got '%s'", name, arg);
	opts.seed = v;
}

void opt_max_answer(const char *name, const char *arg)
{
	opts.max_answer = opt_bytes(name, arg, 1024, 1L << 30);
}

static void provider_opt(const char *name, const char *arg)
{
	opt_choice(name, arg, "openai|anthropic|ollama");
	opts.provider = arg;
}

static void range_opt(const char *name, const char *arg, double max, double *lo, double *hi)
{
	if (parse_range(arg, lo, hi) || *lo < 0 || *hi > max)
		usage_error("%s: expected a number or LO..HI within 0..%g, got '%s'",
			    name, max, arg);
}

static void temperature_opt(const char *name, const char *arg)
{
	range_opt(name, arg, 2, &opts.temp_lo, &opts.temp_hi);
}

static void top_p_opt(const char *name, const char *arg)
{
	range_opt(name, arg, 1, &opts.top_p_lo, &opts.top_p_hi);
}

static void top_k_opt(const char *name, const char *arg)
{
	double lo, hi;
	if (parse_range(arg, &lo, &hi) || lo < 1 || hi > 100000 || lo != floor(lo) || hi != floor(hi))
		usage_error("%s: expected a whole number or LO..HI within 1..100000, got '%s'", name, arg);
	opts.top_k_lo = (int)lo;
	opts.top_k_hi = (int)hi;
}

static void add_kv(struct kv **list, int *n, const char *name, const char *arg)
{
	const char *eq = strchr(arg, '=');
	if (!eq || eq == arg || !eq[1])
		usage_error("%s: expected NAME=FILE, got '%s'", name, arg);
	*list = xrealloc(*list, sizeof **list * (size_t)(*n + 1));
	(*list)[*n].name = xstrndup(arg, (size_t)(eq - arg));
	(*list)[*n].value = xstrdup(eq + 1);
	(*n)++;
}

static void prompt_opt(const char *name, const char *arg)
{
	add_kv(&opts.prompts, &opts.nprompts, name, arg);
}

static void inject_opt(const char *name, const char *arg)
{
	add_kv(&opts.injects, &opts.ninjects, name, arg);
}

static void run_opt(const char *name, const char *arg)
{
	if (!ledger_name_ok(arg))
		usage_error("%s: expected a name of 1 to 100 letters, digits, '.', '_' or '-' "
			    "(not first '.'), got '%s'", name, arg);
	opts.run = arg;
}

/* Set by scg's prompt module; lets --print-prompt work in every program. */
int (*opt_print_prompt_hook)(const char *name);

static void print_prompt_opt(const char *name, const char *arg)
{
	if (!opt_print_prompt_hook || opt_print_prompt_hook(arg))
		usage_error("%s: no prompt named '%s'", name, arg);
	exit(0);
}

/* ---- the common options ------------------------------------------------- */

static const struct opt basic_opts[] = {
	OPT_CALL('h', "help", NULL, help_opt, "print this help and exit"),
	OPT_CALL(0, "version", NULL, version_opt, "print the version and exit"),
	OPT_FLAG('q', "quiet", &opts.quiet, "no progress line and no summary on stderr"),
	OPT_FLAG(0, "progress", &opts.progress,
		 "draw the progress line even when stderr is not a terminal"),
	OPT_FLAG(0, "no-progress", &opts.no_progress,
		 "no progress line, even on a terminal (the summary stays)"),
	OPT_CALL(0, "seed", "N", seed_opt, "seed for every random draw (default 0)"),
	OPT_STRING(0, "rejects", &opts.rejects_path, "FILE",
		   "write failed records and bad lines here (default: stderr)"),
	OPT_CHOICE(0, "on-error", &opts.on_error_skip, "fail|skip",
		   "stop at the first bad input line (default) or reject it"),
	OPT_END,
};

static const struct opt model_opts[] = {
	OPT_CALL(0, "provider", "NAME", provider_opt,
		 "openai, anthropic or ollama ($SCG_PROVIDER; default openai)"),
	OPT_STRING(0, "model", &opts.model, "NAME", "model name ($SCG_MODEL)"),
	OPT_STRING(0, "base-url", &opts.base_url, "URL", "API base URL ($SCG_BASE_URL)"),
	OPT_STRING(0, "key-file", &opts.key_file, "FILE",
		   "read the API key from FILE (else $SCG_API_KEY, $OPENAI_API_KEY or "
		   "$ANTHROPIC_API_KEY)"),
	OPT_INT(0, "max-tokens", &opts.max_tokens, "N", 1, 10000000, "cap on answer tokens"),
	OPT_CALL(0, "temperature", "T|LO..HI", temperature_opt,
		 "sampling temperature, or a range drawn per record"),
	OPT_CALL(0, "top-p", "P|LO..HI", top_p_opt,
		 "nucleus sampling, or a range drawn per record"),
	OPT_CALL(0, "top-k", "K", top_k_opt, "top-k sampling (anthropic, ollama)"),
	OPT_STRING(0, "params", &opts.params_path, "FILE",
		   "parameter ranges (temperature, top_p, top_k, max_tokens) from a JSON or "
		   "YAML file; options given win"),
	OPT_STRING(0, "extra-body", &opts.extra_body, "JSON|@FILE",
		   "members added to every request body; with the openai provider it also "
		   "sends top_k (never to api.openai.com)"),
	OPT_END,
};

static const struct opt prompt_opts[] = {
	OPT_CALL(0, "prompt", "NAME=FILE", prompt_opt, "replace a built-in prompt"),
	OPT_CALL(0, "print-prompt", "NAME", print_prompt_opt, "print a built-in prompt and exit"),
	OPT_CALL(0, "inject", "NAME=FILE|DIR", inject_opt,
		 "draw {{inject.NAME}} per record from a value list"),
	OPT_STRING(0, "templates", &opts.templates_path, "FILE",
		   "conversation templates, one drawn per record"),
	OPT_STRING(0, "examples", &opts.examples_path, "FILE",
		   "hand-written example conversations for the prompt"),
	OPT_END,
};

static const struct opt request_opts[] = {
	OPT_INT('j', "jobs", &opts.jobs, "N", 1, 4096, "requests in flight (default 8)"),
	OPT_FLAG(0, "unordered", &opts.unordered,
		 "write records as they finish, not in input order"),
	OPT_DOUBLE(0, "reorder-mb", &opts.reorder_mb, "MB", 0, 1e6,
		   "records waiting for an earlier one held in memory up to MB, the rest "
		   "in a temporary file (default 64)"),
	OPT_DOUBLE(0, "rpm", &opts.rpm, "N", 0, 1e9, "requests per minute at most"),
	OPT_DOUBLE(0, "tpm", &opts.tpm, "N", 0, 1e12, "tokens per minute at most"),
	OPT_INT(0, "retries", &opts.retries, "N", 0, 100,
		"retries of a failed request (default 6)"),
	OPT_DOUBLE(0, "timeout", &opts.timeout, "SEC", 0.001, 86400,
		   "time limit of one request (default 120)"),
	OPT_FLAG(0, "no-cache", &opts.no_cache, "neither read nor write the response cache"),
	OPT_FLAG(0, "dry-run", &opts.dry_run, "print the requests that would be sent; call nothing"),
	OPT_DOUBLE(0, "budget", &opts.budget, "USD", 0, 1e9,
		   "start no request once the estimated spend would pass USD (of the whole "
		   "run with --run)"),
	OPT_CALL(0, "run", "NAME", run_opt,
		 "join the run NAME ($SCG_RUN): its processes share one budget and one "
		 "ledger, and the assistant's replies are cached within it only"),
	OPT_CALL(0, "max-answer-bytes", "N[k|M|G]", opt_max_answer,
		 "largest answer or command output taken, counted after decompression "
		 "(default 4M); a larger one is rejected"),
	OPT_FLAG(0, "batch", &opts.batch,
		 "send the requests the cache does not answer through the provider's batch "
		 "API, at its lower price, and wait for the answers"),
	OPT_CHOICE(0, "batch-wait", &opts.batch_nowait, "yes|no",
		   "no: submit the batches, print their ids and exit 3; the same command "
		   "run again collects the answers (implies --batch)"),
	OPT_CHOICE(0, "batch-retry", &opts.batch_retry, "online|batch",
		   "what a batch did not answer, and re-asks, go online (default) or into a "
		   "new batch (implies --batch)"),
	OPT_FLAG(0, "batch-cancel", &opts.batch_cancel,
		 "cancel the batches this command's requests are in, keep what they "
		 "answered, send nothing new"),
	OPT_END,
};

/* The sections of --help, in order; the program's own come first. */
static const struct {
	const char *title;
	unsigned group;           /* 0: the program's own */
	const struct opt *opts;
} sections[] = {
	{"Options", 0, NULL},
	{NULL, OPT_MORE, NULL},
	{"Model", OPT_MODEL, model_opts},
	{"Prompts", OPT_MODEL, prompt_opts},
	{"Requests", OPT_MODEL, request_opts},
	{"Common options", OPT_BASIC, basic_opts},
};
#define NSECTIONS (sizeof sections / sizeof *sections)

/* The options of section i for the current program, or NULL. */
static const struct opt *section_opts(size_t i)
{
	if (!sections[i].group)
		return cur->opts;
	if (sections[i].group == OPT_MORE)
		return cur->more;
	/* every program takes the basic options */
	return sections[i].group == OPT_BASIC || (cur->common & sections[i].group)
		? sections[i].opts : NULL;
}

/* ---- --help --------------------------------------------------------------- */

#define HELP_COLUMN 25    /* where the descriptions start */
#define HELP_WIDTH 79     /* the longest line */

/* "  -e, --endpoint FILE", "      --color, --colour WHEN", "  -k N" */
static void option_column(struct buf *b, const struct opt *o)
{
	buf_adds(b, "  ");
	if (o->letter)
		buf_addf(b, "-%c%s", o->letter, o->name ? ", " : "");
	else
		buf_adds(b, "    ");
	if (o->name)
		buf_addf(b, "--%s", o->name);
	for (const struct opt *a = o + 1; a->type == OPT_TYPE_ALIAS; a++)
		buf_addf(b, ", --%s", a->name);
	if (o->arg)
		buf_addf(b, " %s", o->arg);
}

/* The option column, then the description wrapped at HELP_COLUMN; on the
 * next line when the column is wider. */
static void print_row(const struct opt *o)
{
	struct buf b = {0};
	option_column(&b, o);
	size_t col = b.len;
	if (col + 2 > HELP_COLUMN) {
		buf_adds(&b, "\n");
		col = 0;
	}
	struct lines ls = {0};
	wrap_text(o->help ? o->help : "", HELP_WIDTH - HELP_COLUMN, &ls);
	for (size_t i = 0; i < ls.n; i++, col = 0)
		buf_addf(&b, "%*s%s\n", (int)(HELP_COLUMN - col), "", ls.l[i]);
	fputs(b.p, stdout);
	lines_free(&ls);
	buf_free(&b);
}

static void print_help(void)
{
	printf("usage: %s %s\n", cur->name, cur->synopsis);
	struct lines ls = {0};
	wrap_text(cur->summary, HELP_WIDTH, &ls);
	for (size_t i = 0; i < ls.n; i++)
		printf("%s\n", ls.l[i]);
	lines_free(&ls);
	for (size_t i = 0; i < NSECTIONS; i++) {
		const struct opt *o = section_opts(i);
		if (!o || o->type == OPT_TYPE_END)
			continue;
		printf("\n%s:\n", sections[i].title ? sections[i].title : cur->more_title);
		for (; o->type != OPT_TYPE_END; o++)
			if (o->type != OPT_TYPE_ALIAS)
				print_row(o);
	}
	printf("\nSee %s(1) and scg(7).\n", cur->name);
}

/* ---- parsing ------------------------------------------------------------- */

/* getopt_long returns OPT_CODE + the row's index for a long option, the
 * letter for a short one. */
#define OPT_CODE 0x100

static void apply(const struct opt *o, const char *name, const char *arg)
{
	switch (o->type) {
	case OPT_TYPE_FLAG: *(int *)o->var = 1; break;
	case OPT_TYPE_STRING: *(const char **)o->var = arg; break;
	case OPT_TYPE_INT: *(int *)o->var = (int)opt_long(name, arg, (long)o->min, (long)o->max); break;
	case OPT_TYPE_LONG: *(long *)o->var = opt_long(name, arg, (long)o->min, (long)o->max); break;
	case OPT_TYPE_DOUBLE: *(double *)o->var = opt_double(name, arg, o->min, o->max); break;
	case OPT_TYPE_CHOICE: *(int *)o->var = opt_choice(name, arg, o->arg); break;
	case OPT_TYPE_CALL: o->fn(name, arg); break;
	case OPT_TYPE_ALIAS:
	case OPT_TYPE_END: break;
	}
}

static const char *env_or(const char *name, const char *dflt)
{
	const char *v = getenv(name);
	return v && *v ? v : dflt;
}

/* Every row the program takes, in rows; getopt_long's tables for them. */
struct parser {
	const struct opt **rows;
	int nrows;
	struct option *longs;
	struct buf shorts;
};

static void add_rows(struct parser *ps, const struct opt *o)
{
	for (; o && o->type != OPT_TYPE_END; o++) {
		if (o->letter) {
			if (strchr(ps->shorts.p, o->letter))
				die("option -%c is defined twice", o->letter);
			buf_addf(&ps->shorts, "%c%s", o->letter, o->arg ? ":" : "");
		}
		for (int i = 0; o->name && i < ps->nrows; i++)
			if (ps->longs[i].name && !strcmp(ps->longs[i].name, o->name))
				die("option --%s is defined twice", o->name);
		ps->rows = xrealloc(ps->rows, sizeof *ps->rows * (size_t)(ps->nrows + 1));
		ps->longs = xrealloc(ps->longs, sizeof *ps->longs * (size_t)(ps->nrows + 2));
		ps->rows[ps->nrows] = o;
		/* an alias returns the code of the row it stands for, so that
		 * getopt_long takes a prefix of both (--colo) as that row */
		ps->longs[ps->nrows] = o->type == OPT_TYPE_ALIAS
			? (struct option){o->name, ps->longs[ps->nrows - 1].has_arg, NULL,
					  ps->longs[ps->nrows - 1].val}
			: (struct option){o->name, o->arg ? required_argument : no_argument, NULL,
					  OPT_CODE + ps->nrows};
		ps->nrows++;
	}
}

static const struct opt *row_of_letter(const struct parser *ps, int letter)
{
	for (int i = 0; i < ps->nrows; i++)
		if (ps->rows[i]->letter == letter)
			return ps->rows[i];
	return NULL;
}

int opt_parse(const struct opt_prog *p, int argc, char **argv)
{
	cur = p;
	prog_name = p->name;
	opts.provider = env_or("SCG_PROVIDER", "openai");
	opts.model = env_or("SCG_MODEL", NULL);
	opts.base_url = env_or("SCG_BASE_URL", NULL);
	if (p->common & OPT_MODEL && (opts.run = env_or("SCG_RUN", NULL)))
		run_opt("SCG_RUN", opts.run);

	struct parser ps = {0};
	buf_adds(&ps.shorts, ":");
	for (size_t i = 0; i < NSECTIONS; i++)
		add_rows(&ps, section_opts(i));
	/* the rows without a long name end getopt_long's table early: moved out */
	int nlongs = 0;
	for (int i = 0; i < ps.nrows; i++)
		if (ps.longs[i].name)
			ps.longs[nlongs++] = ps.longs[i];
	memset(&ps.longs[nlongs], 0, sizeof *ps.longs);

	opterr = 0;
	int c, longindex = -1;
	while ((c = getopt_long(argc, argv, ps.shorts.p, ps.longs, &longindex)) != -1) {
		if (c == '?') {
			if (optopt && optopt < OPT_CODE)
				usage_error("unknown option '-%c'", optopt);
			usage_error("unknown option '%s'", argv[optind - 1]);
		}
		if (c == ':') {
			if (optopt && optopt < OPT_CODE)
				usage_error("option '-%c' needs a value", optopt);
			usage_error("option '%s' needs a value", argv[optind - 1]);
		}
		/* the option's name in messages, as given: -n, --count, --colour */
		char name[64];
		const struct opt *o;
		if (c >= OPT_CODE) {
			o = ps.rows[c - OPT_CODE];
			snprintf(name, sizeof name, "--%s", ps.longs[longindex].name);
		} else {
			o = row_of_letter(&ps, c);
			snprintf(name, sizeof name, "-%c", c);
		}
		longindex = -1;
		apply(o, name, optarg);
	}
	free(ps.rows);
	free(ps.longs);
	buf_free(&ps.shorts);

	opts.rejects = stderr;
	if (opts.rejects_path && strcmp(opts.rejects_path, "-")) {
		opts.rejects = fopen(opts.rejects_path, "ae");
		if (!opts.rejects)
			die("%s: %s", opts.rejects_path, strerror(errno));
		setvbuf(opts.rejects, NULL, _IOLBF, 0);
	}
	return optind;
}
