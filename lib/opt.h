/* opt: the command line shared by every program (DESIGN §3-§5). A program
 * names its own options and a handler; the common ones (-h, --version, -q,
 * --seed, --rejects, the model and executor options...) are parsed here so
 * that each means the same everywhere. */
#ifndef SCG_OPT_H
#define SCG_OPT_H

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>

#define SCG_VERSION "0.1.0"

enum {
	OPT_BASIC = 1,   /* -h --version -q --progress --seed --rejects --on-error */
	OPT_MODEL = 2,   /* provider/model/base-url, -j, retries, cache, dry-run... */
	OPT_JOBS = 4,    /* -j and --unordered without the model options */
};

/* Program option codes start here (or use plain characters). */
#define OPT_PROG 0x400

struct kv {
	char *name, *value;
};

struct scg_opts {
	int quiet, progress;
	uint64_t seed;
	const char *rejects_path;
	FILE *rejects;            /* never NULL after opt_parse: stderr by default */
	int on_error_skip;
	/* executor */
	int jobs, unordered;
	double rpm, tpm;
	int retries;
	double timeout;
	int no_cache, dry_run;
	double budget;            /* USD, 0 = none */
	long max_answer;          /* bytes of one answer or command output, decompressed */
	/* model */
	const char *provider, *model, *base_url, *key_file;
	int max_tokens;           /* 0 = provider default */
	double temp_lo, temp_hi;  /* temperature range; temp_lo < 0: unset */
	double top_p_lo, top_p_hi;
	int top_k_lo, top_k_hi;   /* top_k range; 0: unset */
	/* prompts and dynamic prompting */
	struct kv *prompts; int nprompts;     /* --prompt NAME=FILE */
	struct kv *injects; int ninjects;     /* --inject NAME=FILE|DIR */
	const char *templates_path, *examples_path;
	const char *params_path;              /* --params FILE: parameter ranges */
	const char *extra_body;               /* --extra-body JSON|@FILE */
};

extern struct scg_opts opts;

struct opt_prog {
	const char *name;          /* "scg-turn" */
	const char *synopsis;      /* "[options] [file ...]" */
	const char *summary;       /* one line: what the program does */
	const char *help;          /* the program's own options, formatted */
	unsigned common;           /* OPT_BASIC | OPT_MODEL | OPT_JOBS */
	const struct option *longopts;  /* the program's own, {0}-terminated, may be NULL */
	const char *shortopts;     /* the program's own short options, may be NULL */
	/* Called for each program option; return 0, or -1 after usage_error(). */
	int (*handle)(int code, const char *arg);
};

/* Parses argv, fills opts, returns the index of the first operand.
 * Exits 0 for --help/--version and 2 for a bad option. */
int opt_parse(const struct opt_prog *p, int argc, char **argv);

/* One line on stderr, the usage hint, exit 2. */
void usage_error(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* Number parsing for option values: exits 2 with a message naming the option. */
long opt_long(const char *optname, const char *arg, long min, long max);
double opt_double(const char *optname, const char *arg, double min, double max);
/* A size in bytes, with an optional k, M or G suffix (powers of 1024). */
long opt_bytes(const char *optname, const char *arg, long min, long max);

/* The default of --max-answer-bytes: far above any real answer (a model's
 * longest is a few hundred kilobytes), far below what hurts. */
#define OPT_MAX_ANSWER (4L << 20)

#endif
