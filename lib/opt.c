/* opt: one parser for the options every program shares, so -j, --seed or
 * --rejects mean one thing in all of them. */
#include "opt.h"
#include "util.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct scg_opts opts = {
	.jobs = 8, .retries = 6, .timeout = 120, .temp_lo = -1, .top_p_lo = -1,
	.max_answer = OPT_MAX_ANSWER,
};

static const struct opt_prog *cur;

enum {
	C_HELP = 0x100, C_VERSION, C_QUIET, C_PROGRESS, C_SEED, C_REJECTS, C_ONERR,
	C_JOBS, C_UNORDERED, C_RPM, C_TPM, C_RETRIES, C_TIMEOUT, C_NOCACHE,
	C_DRYRUN, C_BUDGET, C_PROVIDER, C_MODEL, C_BASEURL, C_KEYFILE,
	C_MAXTOK, C_TEMP, C_TOPP, C_TOPK, C_PROMPT, C_PRINTPROMPT, C_INJECT,
	C_TEMPLATES, C_EXAMPLES, C_PARAMS, C_EXTRA_BODY, C_MAXANSWER,
};

static const struct option basic_opts[] = {
	{"help", no_argument, 0, C_HELP},
	{"version", no_argument, 0, C_VERSION},
	{"quiet", no_argument, 0, C_QUIET},
	{"progress", no_argument, 0, C_PROGRESS},
	{"seed", required_argument, 0, C_SEED},
	{"rejects", required_argument, 0, C_REJECTS},
	{"on-error", required_argument, 0, C_ONERR},
	{0, 0, 0, 0},
};

static const struct option jobs_opts[] = {
	{"jobs", required_argument, 0, C_JOBS},
	{"unordered", no_argument, 0, C_UNORDERED},
	{0, 0, 0, 0},
};

static const struct option model_opts[] = {
	{"rpm", required_argument, 0, C_RPM},
	{"tpm", required_argument, 0, C_TPM},
	{"retries", required_argument, 0, C_RETRIES},
	{"timeout", required_argument, 0, C_TIMEOUT},
	{"no-cache", no_argument, 0, C_NOCACHE},
	{"dry-run", no_argument, 0, C_DRYRUN},
	{"budget", required_argument, 0, C_BUDGET},
	{"max-answer-bytes", required_argument, 0, C_MAXANSWER},
	{"provider", required_argument, 0, C_PROVIDER},
	{"model", required_argument, 0, C_MODEL},
	{"base-url", required_argument, 0, C_BASEURL},
	{"key-file", required_argument, 0, C_KEYFILE},
	{"max-tokens", required_argument, 0, C_MAXTOK},
	{"temperature", required_argument, 0, C_TEMP},
	{"top-p", required_argument, 0, C_TOPP},
	{"top-k", required_argument, 0, C_TOPK},
	{"prompt", required_argument, 0, C_PROMPT},
	{"print-prompt", required_argument, 0, C_PRINTPROMPT},
	{"inject", required_argument, 0, C_INJECT},
	{"templates", required_argument, 0, C_TEMPLATES},
	{"examples", required_argument, 0, C_EXAMPLES},
	{"params", required_argument, 0, C_PARAMS},
	{"extra-body", required_argument, 0, C_EXTRA_BODY},
	{0, 0, 0, 0},
};

static const char basic_help[] =
	"  -h, --help             print this help and exit\n"
	"      --version          print the version and exit\n"
	"  -q, --quiet            no progress line and no summary on stderr\n"
	"      --progress         draw the progress line even when stderr is not a terminal\n"
	"      --seed N           seed for every random draw (default 0)\n"
	"      --rejects FILE     write failed records and bad lines here (default: stderr)\n"
	"      --on-error fail|skip  stop at the first bad input line (default) or reject it\n";

static const char jobs_help[] =
	"  -j, --jobs N           requests in flight (default 8)\n"
	"      --unordered        write records as they finish, not in input order\n";

static const char model_help[] =
	"      --provider NAME    openai, anthropic or ollama ($SCG_PROVIDER; default openai)\n"
	"      --model NAME       model name ($SCG_MODEL)\n"
	"      --base-url URL     API base URL ($SCG_BASE_URL)\n"
	"      --key-file FILE    read the API key from FILE (else $SCG_API_KEY,\n"
	"                         $OPENAI_API_KEY or $ANTHROPIC_API_KEY)\n"
	"      --max-tokens N     cap on answer tokens\n"
	"      --temperature T|LO..HI  sampling temperature, or a range drawn per record\n"
	"      --top-p P|LO..HI   nucleus sampling, or a range drawn per record\n"
	"      --top-k K          top-k sampling (anthropic, ollama)\n"
	"      --params FILE      parameter ranges (temperature, top_p, top_k, max_tokens)\n"
	"                         from a JSON or YAML file; options given win\n"
	"      --extra-body JSON|@FILE  members added to every request body; with the\n"
	"                         openai provider it also sends top_k (never to api.openai.com)\n"
	"      --rpm N, --tpm N   requests and tokens per minute at most\n"
	"      --retries N        retries of a failed request (default 6)\n"
	"      --timeout SEC      time limit of one request (default 120)\n"
	"      --no-cache         neither read nor write the response cache\n"
	"      --dry-run          print the requests that would be sent; call nothing\n"
	"      --budget USD       start no request once the estimated spend would pass USD\n"
	"      --max-answer-bytes N[k|M|G]  largest answer or command output taken, counted\n"
	"                         after decompression (default 4M); a larger one is rejected\n"
	"      --prompt NAME=FILE replace a built-in prompt\n"
	"      --print-prompt NAME  print a built-in prompt and exit\n"
	"      --inject NAME=FILE|DIR  draw {{inject.NAME}} per record from a value list\n"
	"      --templates FILE   conversation templates, one drawn per record\n"
	"      --examples FILE    hand-written example conversations for the prompt\n";

static void print_usage(FILE *f)
{
	fprintf(f, "usage: %s %s\n", cur->name, cur->synopsis);
}

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

static void add_kv(struct kv **list, int *n, const char *optname, const char *arg)
{
	const char *eq = strchr(arg, '=');
	if (!eq || eq == arg || !eq[1])
		usage_error("--%s: expected NAME=FILE, got '%s'", optname, arg);
	*list = xrealloc(*list, sizeof **list * (size_t)(*n + 1));
	(*list)[*n].name = xstrndup(arg, (size_t)(eq - arg));
	(*list)[*n].value = xstrdup(eq + 1);
	(*n)++;
}

static void range_opt(const char *optname, const char *arg, double max,
		      double *lo, double *hi)
{
	if (parse_range(arg, lo, hi) || *lo < 0 || *hi > max)
		usage_error("--%s: expected a number or LO..HI within 0..%g, got '%s'",
			    optname, max, arg);
}

/* Set by scg's prompt module; lets --print-prompt work in every program. */
int (*opt_print_prompt_hook)(const char *name);

static int common(int c, const char *arg)
{
	switch (c) {
	case 'h':
	case C_HELP:
		print_usage(stdout);
		printf("%s\n\n", cur->summary);
		if (cur->help && *cur->help)
			printf("Options:\n%s", cur->help);
		printf("Common options:\n%s", basic_help);
		if (cur->common & (OPT_JOBS | OPT_MODEL))
			printf("%s", jobs_help);
		if (cur->common & OPT_MODEL)
			printf("%s", model_help);
		printf("\nSee %s(1) and scg(7).\n", cur->name);
		exit(0);
	case C_VERSION:
		printf("%s (scg) %s\n", cur->name, SCG_VERSION);
		exit(0);
	case 'q':
	case C_QUIET: opts.quiet = 1; break;
	case C_PROGRESS: opts.progress = 1; break;
	case C_SEED: {
		char *end;
		errno = 0;
		unsigned long long v = strtoull(arg, &end, 10);
		if (end == arg || *end || errno || *arg == '-')
			usage_error("--seed: expected a non-negative integer, got '%s'", arg);
		opts.seed = v;
		break;
	}
	case C_REJECTS: opts.rejects_path = arg; break;
	case C_ONERR:
		if (!strcmp(arg, "fail"))
			opts.on_error_skip = 0;
		else if (!strcmp(arg, "skip"))
			opts.on_error_skip = 1;
		else
			usage_error("--on-error: expected fail or skip, got '%s'", arg);
		break;
	case 'j':
	case C_JOBS: opts.jobs = (int)opt_long("jobs", arg, 1, 4096); break;
	case C_UNORDERED: opts.unordered = 1; break;
	case C_RPM: opts.rpm = opt_double("rpm", arg, 0, 1e9); break;
	case C_TPM: opts.tpm = opt_double("tpm", arg, 0, 1e12); break;
	case C_RETRIES: opts.retries = (int)opt_long("retries", arg, 0, 100); break;
	case C_TIMEOUT: opts.timeout = opt_double("timeout", arg, 0.001, 86400); break;
	case C_NOCACHE: opts.no_cache = 1; break;
	case C_DRYRUN: opts.dry_run = 1; break;
	case C_BUDGET: opts.budget = opt_double("budget", arg, 0, 1e9); break;
	case C_MAXANSWER: opts.max_answer = opt_bytes("max-answer-bytes", arg, 1024, 1L << 30); break;
	case C_PROVIDER:
		if (strcmp(arg, "openai") && strcmp(arg, "anthropic") && strcmp(arg, "ollama"))
			usage_error("--provider: expected openai, anthropic or ollama, got '%s'", arg);
		opts.provider = arg;
		break;
	case C_MODEL: opts.model = arg; break;
	case C_BASEURL: opts.base_url = arg; break;
	case C_KEYFILE: opts.key_file = arg; break;
	case C_MAXTOK: opts.max_tokens = (int)opt_long("max-tokens", arg, 1, 10000000); break;
	case C_TEMP: range_opt("temperature", arg, 2, &opts.temp_lo, &opts.temp_hi); break;
	case C_TOPP: range_opt("top-p", arg, 1, &opts.top_p_lo, &opts.top_p_hi); break;
	case C_TOPK: {
		double lo, hi;
		if (parse_range(arg, &lo, &hi) || lo < 1 || hi > 100000 || lo != floor(lo) || hi != floor(hi))
			usage_error("--top-k: expected a whole number or LO..HI within 1..100000, got '%s'", arg);
		opts.top_k_lo = (int)lo;
		opts.top_k_hi = (int)hi;
		break;
	}
	case C_PROMPT: add_kv(&opts.prompts, &opts.nprompts, "prompt", arg); break;
	case C_PRINTPROMPT:
		if (!opt_print_prompt_hook || opt_print_prompt_hook(arg))
			usage_error("--print-prompt: no prompt named '%s'", arg);
		exit(0);
	case C_INJECT: add_kv(&opts.injects, &opts.ninjects, "inject", arg); break;
	case C_TEMPLATES: opts.templates_path = arg; break;
	case C_EXAMPLES: opts.examples_path = arg; break;
	case C_PARAMS: opts.params_path = arg; break;
	case C_EXTRA_BODY: opts.extra_body = arg; break;
	default: return 1;
	}
	return 0;
}

static void append_opts(struct option **all, int *n, const struct option *o)
{
	for (; o && o->name; o++) {
		*all = xrealloc(*all, sizeof **all * (size_t)(*n + 2));
		(*all)[(*n)++] = *o;
	}
	memset(&(*all)[*n], 0, sizeof **all);
}

static const char *env_or(const char *name, const char *dflt)
{
	const char *v = getenv(name);
	return v && *v ? v : dflt;
}

int opt_parse(const struct opt_prog *p, int argc, char **argv)
{
	cur = p;
	prog_name = p->name;
	opts.provider = env_or("SCG_PROVIDER", "openai");
	opts.model = env_or("SCG_MODEL", NULL);
	opts.base_url = env_or("SCG_BASE_URL", NULL);

	struct option *all = NULL;
	int n = 0;
	append_opts(&all, &n, basic_opts);
	if (p->common & (OPT_JOBS | OPT_MODEL))
		append_opts(&all, &n, jobs_opts);
	if (p->common & OPT_MODEL)
		append_opts(&all, &n, model_opts);
	append_opts(&all, &n, p->longopts);

	struct buf shorts = {0};
	buf_adds(&shorts, ":hq");
	if (p->common & (OPT_JOBS | OPT_MODEL))
		buf_adds(&shorts, "j:");
	if (p->shortopts)
		buf_adds(&shorts, p->shortopts);

	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, shorts.p, all, NULL)) != -1) {
		if (c == '?') {
			if (optopt && optopt < 0x100)
				usage_error("unknown option '-%c'", optopt);
			usage_error("unknown option '%s'", argv[optind - 1]);
		}
		if (c == ':') {
			if (optopt && optopt < 0x100)
				usage_error("option '-%c' needs a value", optopt);
			usage_error("option '%s' needs a value", argv[optind - 1]);
		}
		if (common(c, optarg) == 0)
			continue;
		if (!p->handle || p->handle(c, optarg))
			usage_error("unknown option '%s'", argv[optind - 1]);
	}
	free(all);
	buf_free(&shorts);

	opts.rejects = stderr;
	if (opts.rejects_path && strcmp(opts.rejects_path, "-")) {
		opts.rejects = fopen(opts.rejects_path, "ae");
		if (!opts.rejects)
			die("%s: %s", opts.rejects_path, strerror(errno));
		setvbuf(opts.rejects, NULL, _IOLBF, 0);
	}
	return optind;
}
