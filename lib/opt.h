/* opt: the command line of every program (scg(7), Common options). Options are
 * data, as in git's parse-options: a program lists its own as rows of a
 * table (names, the value's name, the help, and what the option sets or
 * the handler it calls) and names the common groups it takes; opt_parse()
 * reads argv against those tables and --help is printed from the same
 * rows, so that what a program accepts and what its help lists cannot
 * drift apart. The common options (-h, --version, -q, --seed, --rejects,
 * the model and request options...) are rows of this module, so that each
 * means the same everywhere. */
#ifndef SCG_OPT_H
#define SCG_OPT_H

#include <stdint.h>
#include <stdio.h>

#define SCG_VERSION "0.1.0"

/* The common groups a program takes, besides its own options. */
enum {
	OPT_BASIC = 1,   /* -h --version -q --progress --seed --rejects --on-error:
			  * every program has these */
	OPT_MODEL = 2,   /* the model, prompt and request options, -j among them */
	OPT_MORE = 4,    /* (internal) the section of opt_prog.more */
};

struct kv {
	char *name, *value;
};

struct scg_opts {
	int quiet, progress, no_progress;
	uint64_t seed;
	const char *rejects_path;
	FILE *rejects;            /* never NULL after opt_parse: stderr by default */
	int on_error_skip;
	/* executor */
	int jobs, unordered;
	double reorder_mb;
	double rpm, tpm;
	int retries;
	double timeout;
	int no_cache, dry_run;
	double budget;            /* USD, 0 = none */
	const char *run;          /* --run NAME ($SCG_RUN), or NULL */
	long max_answer;          /* bytes of one answer or command output, decompressed */
	int batch, batch_nowait, batch_retry, batch_cancel;   /* --batch and its options */
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

/* A handler of an OPT_CALL row. name is the option as it was given,
 * "--side" or "-s", for messages; arg is its value, NULL for an option
 * that takes none. It returns only when the value is good: a bad one ends
 * the program through usage_error(). */
typedef void opt_fn(const char *name, const char *arg);

enum opt_type {
	OPT_TYPE_END, OPT_TYPE_FLAG, OPT_TYPE_STRING, OPT_TYPE_INT, OPT_TYPE_LONG,
	OPT_TYPE_DOUBLE, OPT_TYPE_CHOICE, OPT_TYPE_CALL, OPT_TYPE_ALIAS,
};

/* One option. Written with the macros below, never by hand. */
struct opt {
	enum opt_type type;
	int letter;               /* the short option, or 0 */
	const char *name;         /* the long option without its dashes, or NULL */
	const char *arg;          /* the value's name in --help ("N", "FILE"), or the
				   * choices; NULL: the option takes no value */
	const char *help;         /* what it does: a phrase, wrapped by --help */
	void *var;                /* what it sets: see the macros */
	double min, max;          /* INT, LONG, DOUBLE: the values allowed */
	opt_fn *fn;               /* CALL: the handler */
};

/* The rows of a table, ended by OPT_END. letter is a character or 0, name
 * a string or NULL (an option with only a short form); var's type is
 * checked. A value out of [min, max] is a usage error naming the option. */
#define OPT_VAR(type, p) ((void *)(1 ? (p) : (type)0))
/* var (int *) is set to 1 */
#define OPT_FLAG(letter, name, var, help) \
	{OPT_TYPE_FLAG, letter, name, NULL, help, OPT_VAR(int *, var), 0, 0, NULL}
/* var (const char **) is set to the value */
#define OPT_STRING(letter, name, var, arg, help) \
	{OPT_TYPE_STRING, letter, name, arg, help, OPT_VAR(const char **, var), 0, 0, NULL}
/* var (int *, long *, double *) is set to the value, a number from min to max */
#define OPT_INT(letter, name, var, arg, min, max, help) \
	{OPT_TYPE_INT, letter, name, arg, help, OPT_VAR(int *, var), min, max, NULL}
#define OPT_LONG(letter, name, var, arg, min, max, help) \
	{OPT_TYPE_LONG, letter, name, arg, help, OPT_VAR(long *, var), min, max, NULL}
#define OPT_DOUBLE(letter, name, var, arg, min, max, help) \
	{OPT_TYPE_DOUBLE, letter, name, arg, help, OPT_VAR(double *, var), min, max, NULL}
/* var (int *) is set to the index of the value among choices, "a|b|c",
 * which --help shows as the value's name */
#define OPT_CHOICE(letter, name, var, choices, help) \
	{OPT_TYPE_CHOICE, letter, name, choices, help, OPT_VAR(int *, var), 0, 0, NULL}
/* fn(name, value) is called; arg NULL: the option takes no value */
#define OPT_CALL(letter, name, arg, fn, help) \
	{OPT_TYPE_CALL, letter, name, arg, help, NULL, 0, 0, fn}
/* Another long name of the row just before it; --help shows it there. */
#define OPT_ALIAS(name) \
	{OPT_TYPE_ALIAS, 0, name, NULL, NULL, NULL, 0, 0, NULL}
#define OPT_END {OPT_TYPE_END, 0, NULL, NULL, NULL, NULL, 0, 0, NULL}

struct opt_prog {
	const char *name;          /* "scg-turn" */
	const char *synopsis;      /* "[options] [file ...]" */
	const char *summary;       /* one line: what the program does */
	unsigned common;           /* OPT_BASIC | OPT_MODEL */
	const struct opt *opts;    /* the program's own options; may be NULL */
	const char *more_title;    /* a section of options a library module */
	const struct opt *more;    /* defines (agent_options), or NULL */
};

/* Parses argv, fills opts and the program's variables, returns the index
 * of the first operand. Exits 0 for --help/--version and 2 for a bad
 * option. */
int opt_parse(const struct opt_prog *p, int argc, char **argv);

/* One line on stderr, the usage hint, exit 2. */
void usage_error(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* Number parsing for option values: exits 2 with a message naming the
 * option, with its dashes whether optname has them or not ("max-turns"
 * and "--max-turns" both show as --max-turns, "n" as -n). */
long opt_long(const char *optname, const char *arg, long min, long max);
double opt_double(const char *optname, const char *arg, double min, double max);
/* A size in bytes, with an optional k, M or G suffix (powers of 1024). */
long opt_bytes(const char *optname, const char *arg, long min, long max);
/* --max-answer-bytes N[k|M|G] into opts.max_answer (an OPT_CALL). */
void opt_max_answer(const char *name, const char *arg);
/* The index of arg among choices, "a|b|c"; else exits 2 with "expected a,
 * b or c". */
int opt_choice(const char *optname, const char *arg, const char *choices);

/* The default of --max-answer-bytes: far above any real answer (a model's
 * longest is a few hundred kilobytes), far below what hurts. */
#define OPT_MAX_ANSWER (4L << 20)

#endif
