/* scg-export: conversations and preference pairs, checked the way
 * fine-tuning services check them, written in the format a trainer reads:
 * OpenAI's chat or preference files, TRL's datasets, ShareGPT, or a
 * Hugging Face dataset folder with its card. A record that fails a check
 * goes to the rejects with its problem; --check only counts the problems.
 * See scg-export(1). */
#include "export.h"
#include "hfcard.h"
#include "jv.h"
#include "opt.h"
#include "record.h"
#include "run.h"
#include "validate.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static struct {
	enum export_format format;
	int format_set, check;
	const char *out, *group;
	double split;             /* the share of groups in train; 0: no split */
	enum train_on train_on;
	char **keep;
	int nkeep;
	char *system;
	long max_tokens;
} cf;

static void keep_opt(const char *name, const char *arg)
{
	char *list = xstrdup(arg), *save = NULL;
	for (char *p = strtok_r(list, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
		if (*p == '.' || p[strlen(p) - 1] == '.' || strstr(p, ".."))
			usage_error("%s: '%s' is not a path like id or persona.name", name, p);
		cf.keep = xrealloc(cf.keep, sizeof *cf.keep * (size_t)(cf.nkeep + 1));
		cf.keep[cf.nkeep++] = xstrdup(p);
	}
	free(list);
	if (!cf.nkeep)
		usage_error("%s: expected PATH[,PATH...], got '%s'", name, arg);
}

static void format_opt(const char *name, const char *arg)
{
	if (export_format_parse(arg, &cf.format))
		usage_error("%s: expected openai, openai-dpo, trl, sharegpt or hf, got '%s'", name, arg);
	cf.format_set = 1;
}

static void split_opt(const char *name, const char *arg)
{
	cf.split = opt_double(name, arg, 0, 1);
	if (cf.split <= 0 || cf.split >= 1)
		usage_error("%s: expected the share of training examples, above 0 and below 1, got '%s'",
			    name, arg);
}

static void train_on_opt(const char *name, const char *arg)
{
	static const enum train_on ways[] = {TRAIN_LAST, TRAIN_ALL};
	cf.train_on = ways[opt_choice(name, arg, "last|all")];
}

/* TEXT, or @FILE: the file's text without its final line ends */
static void system_opt(const char *name, const char *arg)
{
	free(cf.system);
	if (*arg != '@') {
		cf.system = xstrdup(arg);
		return;
	}
	size_t len;
	char *t = read_file(arg + 1, &len);
	if (!t)
		die_status(2, "%s: %s: %s", name, arg + 1, strerror(errno));
	if (!utf8_valid(t, len, NULL) || strlen(t) != len)
		die_status(2, "%s: %s: not UTF-8 text", name, arg + 1);
	while (len && (t[len - 1] == '\n' || t[len - 1] == '\r'))
		t[--len] = 0;
	cf.system = t;
}

static const struct opt options[] = {
	OPT_CALL('f', "format", "FORMAT", format_opt,
		 "openai, openai-dpo, trl, sharegpt, or hf (a dataset folder)"),
	OPT_STRING('o', "out", &cf.out, "DIR",
		   "write DIR/train.jsonl (hf: DIR/data/ and DIR/README.md)"),
	OPT_FLAG(0, "check", &cf.check, "only check; print the count of each problem"),
	OPT_CALL(0, "split", "F", split_opt,
		 "put about F (0 < F < 1) of the groups in train, the rest in validation"),
	OPT_STRING(0, "group", &cf.group, "PATH",
		   "the field that groups records for --split (default persona.name, else "
		   "source, else id)"),
	OPT_CALL(0, "train-on", "last|all", train_on_opt,
		 "learn from the last assistant message only, or from all"),
	OPT_CALL(0, "keep", "PATH[,PATH...]", keep_opt,
		 "copy these fields as columns (trl, sharegpt, hf)"),
	OPT_CALL(0, "system", "TEXT|@FILE", system_opt,
		 "set or replace the system prompt of every example"),
	OPT_LONG(0, "max-tokens", &cf.max_tokens, "N", 1, 100000000,
		 "an example of more estimated tokens is a problem"),
	OPT_END,
};

static void check_options(void)
{
	if (!cf.format_set && !cf.check)
		usage_error("no format: -f openai, openai-dpo, trl, sharegpt or hf");
	if (!cf.format_set)
		cf.format = EXPORT_TRL;   /* --check alone: any kind of example */
	if (cf.format == EXPORT_HF && !cf.out && !cf.check)
		usage_error("-f hf writes a folder: -o DIR");
	if (cf.split && !cf.out && !cf.check)
		usage_error("--split writes two files: -o DIR");
	if (cf.nkeep && !export_allows_keep(cf.format))
		usage_error("--keep: OpenAI's files take no other fields; use trl, sharegpt or hf");
	if (cf.train_on == TRAIN_LAST && cf.format == EXPORT_SHAREGPT)
		usage_error("--train-on last: ShareGPT has no per-turn weights; use openai, trl or hf");
	for (int i = 0; i < cf.nkeep; i++) {
		size_t n = strcspn(cf.keep[i], ".");
		for (const char *const *k = export_keys(cf.format); *k; k++)
			if (strlen(*k) == n && !strncmp(cf.keep[i], *k, n))
				usage_error("--keep: '%s' would replace the format's own %s", cf.keep[i], *k);
	}
}

static struct export_out *out;
static struct hfcard *card;

/* ---- one record ---- */

static long counts[V_NPROBLEMS];
static long rows[HF_NSPLITS];
static enum export_kind kind_written;   /* the kind of the first example */
static struct vdups *dups;

static enum vproblem check_example(const struct example *ex, struct buf *why)
{
	if (!kind_written && export_takes(cf.format, ex->kind))
		kind_written = ex->kind;
	if (ex->kind != kind_written) {
		buf_addf(why, "a %s where %s are written", ex->kind == EXPORT_PAIR ? "preference pair"
			 : "conversation", kind_written == EXPORT_PAIR ? "preference pairs" : "conversations");
		return V_WRONG_KIND;
	}
	return export_check(ex, cf.max_tokens, why);
}

/* The problem of rec, or V_OK with the line written. */
static enum vproblem export_record(json_t *rec, long lineno, struct buf *why)
{
	struct example ex;
	if (!export_example(rec, cf.system, &ex)) {
		buf_adds(why, "neither messages nor prompt, chosen and rejected");
		return V_NO_MESSAGES;
	}
	enum vproblem p = check_example(&ex, why);
	json_t *group = NULL, *line = NULL;
	if (!p && (cf.split || cf.group) && !(group = export_group(rec, cf.group))) {
		buf_addf(why, "no %s to split by", cf.group ? cf.group : "persona.name, source or id");
		p = V_NO_GROUP;
	}
	if (!p && !(line = export_line(cf.format, cf.train_on, &ex, why)))
		p = V_NOT_IN_FORMAT;
	if (!p) {
		/* the example itself, not the columns kept beside it */
		char *text = jv_compact(line);
		const char *id = jv_str(rec, "id");
		char *name = id ? xasprintf("record %s", id) : xasprintf("line %ld", lineno);
		const char *first = vdups_check(dups, text, strlen(text), name);
		if (first) {
			buf_addf(why, "the same example as %s", first);
			p = V_DUPLICATE;
		}
		free(name);
		free(text);
	}
	if (!p) {
		int split = cf.split && export_split_point(group, opts.seed) >= cf.split;
		rows[split]++;
		if (!cf.check) {
			export_keep(line, rec, cf.keep, cf.nkeep);
			if (cf.format == EXPORT_HF)
				hfcard_row(card, split, line, rec);
			export_out_line(out, split, line);
		}
	}
	json_decref(line);
	example_free(&ex);
	return p;
}

static void problem(const struct input *in, json_t *rec, enum vproblem p, const char *why)
{
	counts[p]++;
	char *reason = xasprintf("%s: %s", validate_name(p), why);
	if (cf.check) {
		const char *id = jv_str(rec, "id");
		warnx_("%s:%ld: %s%s%s%s", in->name, in->lineno, id ? "record " : "", id ? id : "",
		       id ? ": " : "", reason);
	} else {
		record_reject(rec, reason);
	}
	free(reason);
}

/* ---- the end: summary and card ---- */

static long problems_total(void)
{
	long n = 0;
	for (int p = 1; p < V_NPROBLEMS; p++)
		n += counts[p];
	return n;
}

static void problem_counts(struct buf *b, const char *sep, int about)
{
	for (int p = 1; p < V_NPROBLEMS; p++)
		if (counts[p]) {
			buf_addf(b, "%s%s%s%ld", b->len ? sep : "", validate_name(p), about ? "\t" : " ",
				 counts[p]);
			if (about)
				buf_addf(b, "\t%s", validate_about(p));
		}
}

static void summary(long records)
{
	struct buf b = {0};
	long bad = problems_total();
	if (cf.check) {
		printf("%ld records: %ld pass, %ld fail\n", records, records - bad, bad);
		problem_counts(&b, "\n", 1);
		if (b.len)
			printf("%s\n", b.p);
		fflush(stdout);
	} else if (!opts.quiet) {
		problem_counts(&b, ", ", 0);
		char split[64] = "";
		if (cf.split)
			snprintf(split, sizeof split, " (%ld train, %ld validation)", rows[0], rows[1]);
		warnx_("%ld records: %ld written%s, %ld rejected%s%s", records, rows[0] + rows[1],
		       split, bad, b.len ? ": " : "", b.len ? b.p : "");
	}
	buf_free(&b);
}

static void write_card(int argc, char **argv, long records)
{
	struct buf about = {0}, made = {0}, err = {0}, b = {0};
	buf_addf(&about, "Synthetic conversations made with scg. Each row is one example in %s\n\n"
		 "| split | file | examples |\n|---|---|---:|\n", export_about(kind_written, cf.train_on));
	for (int i = 0; i < HF_NSPLITS; i++)
		if (!i || rows[i])
			buf_addf(&about, "| %s | %s | %ld |\n", hfcard_split_name(i), hfcard_split_file(i), rows[i]);
	if (cf.split)
		buf_addf(&about, "\nThe split is by a hash, under seed %llu, of each record's group "
			 "(`%s`), about %g of the groups in train: no group is in both splits.\n",
			 (unsigned long long)opts.seed,
			 cf.group ? cf.group : "persona.name`, else `source`, else `id", cf.split);
	if (cf.nkeep) {
		buf_adds(&about, "\nColumns kept from the records:");
		for (int i = 0; i < cf.nkeep; i++)
			buf_addf(&about, "%s `%s`", i ? "," : "", cf.keep[i]);
		buf_adds(&about, ".\n");
	}
	problem_counts(&b, ", ", 0);
	buf_addf(&made, "### Export\n\n- %ld records read, %ld written, %ld rejected%s%s%s\n- made by `",
		 records, rows[0] + rows[1], problems_total(), b.len ? " (" : "", b.len ? b.p : "",
		 b.len ? ")" : "");
	buf_adds(&made, prog_name);
	for (int i = 1; i < argc; i++)
		buf_addf(&made, " %s", argv[i]);
	buf_adds(&made, "`\n\n");
	const char *slash = strrchr(cf.out, '/');
	char *name = xstrdup(slash && slash[1] ? slash + 1 : cf.out);
	char *path = xasprintf("%s/README.md", cf.out), *warning = NULL;
	if (hfcard_write(card, path, name, about.p, made.p, &err, &warning))
		die("%s", err.p);
	if (warning)
		warnx_("%s", warning);
	free(warning);
	free(path);
	free(name);
	buf_free(&about);
	buf_free(&made);
	buf_free(&err);
	buf_free(&b);
}

int main(int argc, char **argv)
{
	static const struct opt_prog prog = {
		.name = "scg-export",
		.synopsis = "-f openai|openai-dpo|trl|sharegpt|hf [-o DIR] [options] [file ...]\n"
			    "       scg-export --check [-f FORMAT] [options] [file ...]",
		.summary = "Check conversations and preference pairs and write them in a trainer's format.",
		.common = OPT_BASIC,
		.opts = options,
	};
	int first = opt_parse(&prog, argc, argv);
	run_configure();
	check_options();
	out = export_out_open(cf.format, cf.check ? NULL : cf.out);
	dups = vdups_new();
	card = hfcard_new();
	struct input *in = input_new(argc - first, argv + first);
	struct buf err = {0}, why = {0};
	char *line;
	size_t len;
	long records = 0;
	int stop = 0;
	while (!stop && input_line(in, &line, &len) > 0) {
		records++;
		buf_reset(&err);
		json_t *rec = record_parse(line, len, &err);
		if (!rec) {
			if (cf.check) {
				counts[V_BAD_LINE]++;
				warnx_("%s:%ld: %s: %s", in->name, in->lineno, validate_name(V_BAD_LINE), err.p);
			} else {
				counts[V_BAD_LINE]++;
				stop = record_bad(in, line, len, err.p);
			}
			continue;
		}
		buf_reset(&why);
		enum vproblem p = export_record(rec, in->lineno, &why);
		if (p)
			problem(in, rec, p, why.p);
		json_decref(rec);
	}
	export_out_close(out);
	if (!cf.check && cf.format == EXPORT_HF)
		write_card(argc, argv, records);
	summary(records);
	input_free(in);
	vdups_free(dups);
	hfcard_free(card);
	buf_free(&err);
	buf_free(&why);
	return problems_total() ? 1 : 0;
}
