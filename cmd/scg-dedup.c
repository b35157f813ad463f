/* scg-dedup: drops exact and near-duplicate records from a JSONL stream.
 * The text at the --key paths of each line (read with lib/jscan, without
 * building a tree) is normalised and decided as it arrives by lib/dedup
 * (the first of a cluster wins); a kept line is written byte for byte.
 * See scg-dedup(1). */
#include "dedup.h"
#include "jscan.h"
#include "neardup.h"
#include "opt.h"
#include "record.h"
#include "run.h"
#include "util.h"

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>


static struct {
	const char *key;
	int exact, ngram, char_ngrams, perm, no_verify, keep_punct, missing_keep, verbose;
	double threshold;
	const char *dups_path;
} cf = {.key = "messages.*.content", .ngram = 5, .perm = 128, .threshold = 0.8};

static void key_opt(const char *name, const char *arg)
{
	if (!*arg || strstr(arg, ",,") || *arg == ',' || arg[strlen(arg) - 1] == ',')
		usage_error("%s: expected PATH[,PATH...], got '%s'", name, arg);
	cf.key = arg;
}

static void threshold_opt(const char *name, const char *arg)
{
	cf.threshold = opt_double(name, arg, 0, 1);
	if (cf.threshold <= 0)
		usage_error("%s: expected a number in (0, 1], got '%s'", name, arg);
}

static const struct opt options[] = {
	OPT_CALL(0, "key", "PATH[,PATH...]", key_opt,
		 "fields whose text is compared (default messages.*.content)"),
	OPT_FLAG(0, "exact", &cf.exact, "drop exact duplicates (of the normalised text) only"),
	OPT_CALL(0, "threshold", "J", threshold_opt,
		 "near duplicate at Jaccard >= J, 0 < J <= 1 (default 0.8)"),
	OPT_INT(0, "ngram", &cf.ngram, "N", 1, 64, "words per shingle (default 5)"),
	OPT_INT(0, "char-ngrams", &cf.char_ngrams, "N", 1, 64,
		"shingles of N characters instead of words"),
	OPT_INT(0, "perm", &cf.perm, "N", 1, 512,
		"MinHash signature length, up to 512 (default 128)"),
	OPT_FLAG(0, "no-verify", &cf.no_verify,
		 "decide on a MinHash estimate; about 60 bytes a kept record"),
	OPT_FLAG(0, "keep-punct", &cf.keep_punct, "compare punctuation too"),
	OPT_CHOICE(0, "missing", &cf.missing_keep, "error|keep",
		   "a record without the key is an error (default) or kept"),
	OPT_STRING(0, "dups", &cf.dups_path, "FILE",
		   "write each dropped record there with dup_of and jaccard"),
	OPT_FLAG('v', "verbose", &cf.verbose, "print the LSH bands x rows and the memory used"),
	OPT_END,
};

static struct dedup *dd;
static struct {
	long in, kept, exact, near, missing;
} count;
static FILE *dups;

static void write_dup(const char *line, size_t len, uint32_t of, double j)
{
	if (!dups)
		return;
	size_t close = len;
	while (close && line[close - 1] != '}')
		close--;
	size_t open = 0;
	while (line[open] != '{')
		open++;
	const char *p = line + open + 1;
	while (*p == ' ' || *p == '\t')
		p++;
	size_t idlen;
	const char *id = dedup_id(dd, of, &idlen);
	fwrite(line, 1, close - 1, dups);
	fprintf(dups, "%s\"dup_of\":%.*s,\"jaccard\":%.4g}\n", p == line + close - 1 ? "" : ",",
		(int)idlen, id, j);
}

/* Decides one record whose normalised text is in norm: written, or a
 * duplicate (written to --dups). */
static void decide(const char *line, size_t len, const struct buf *norm,
		   const char *id, size_t idlen)
{
	uint32_t of;
	double j;
	enum dedup_verdict v = dedup_decide(dd, norm->p, norm->len, id, idlen, &of, &j);
	if (v == DEDUP_KEPT) {
		count.kept++;
		out_line(line, len);
		return;
	}
	if (v == DEDUP_EXACT)
		count.exact++;
	else
		count.near++;
	write_dup(line, len, of, j);
}

/* The bytes of the input when it is all regular files, else 0. */
static double input_size(int n, char **paths)
{
	struct stat st;
	double sum = 0;
	for (int i = 0; i < (n ? n : 1); i++) {
		int r = !n || !strcmp(paths[i], "-") ? fstat(0, &st) : stat(paths[i], &st);
		if (r || !S_ISREG(st.st_mode))
			return 0;
		sum += (double)st.st_size;
	}
	return sum;
}

static void summary(void)
{
	if (opts.quiet)
		return;
	struct buf extra = {0};
	if (records_rejected)
		buf_addf(&extra, ", %ld bad", records_rejected);
	if (count.missing)
		buf_addf(&extra, ", %ld without the key kept", count.missing);
	warnx_("%ld in, %ld kept, %ld dropped (%ld exact, %ld near)%s", count.in, count.kept,
	       count.exact + count.near, count.exact, count.near, extra.p ? extra.p : "");
	buf_reset(&extra);
	if (cf.verbose)
		dedup_memory(dd, &extra);
	if (extra.len)
		warnx_("%s", extra.p);
	buf_free(&extra);
}

/* Moves *t past a leading system message's text: jscan joins the contents
 * of messages.*.content with newlines, the first message's first. */
static void skip_system(const struct jscan *js, int role_path, const char **t, size_t *n)
{
	size_t rlen, clen;
	const char *role = jscan_raw(js, role_path, &rlen);
	if (!role || rlen != 8 || memcmp(role, "\"system\"", 8) || !jscan_found(js, role_path + 1))
		return;
	const char *c = jscan_text(js, role_path + 1, &clen);
	if (clen > *n || memcmp(*t, c, clen))
		return;
	clen += clen < *n;   /* the newline after it */
	*t += clen;
	*n -= clen;
}

int main(int argc, char **argv)
{
	static const struct opt_prog prog = {
		.name = "scg-dedup",
		.synopsis = "[options] [file ...]",
		.summary = "Drop exact and near-duplicate records; kept lines pass unchanged.",
		.common = OPT_BASIC, .opts = options,
	};
	int first = opt_parse(&prog, argc, argv);
	/* a fixed threshold keeps the big arrays mmapped, so that growing them
	 * is a remap, not a copy (set before anything is allocated) */
	mallopt(M_MMAP_THRESHOLD, 1 << 20);
	run_configure();
	if (cf.dups_path && !(dups = fopen(cf.dups_path, "w")))
		die("%s: %s", cf.dups_path, strerror(errno));

	char *keylist = xstrdup(cf.key);
	const char *paths[66];
	int npaths = 0, msgs_path = -1;
	for (char *s = strtok(keylist, ","); s && npaths < 63; s = strtok(NULL, ","))
		paths[npaths++] = s;
	for (int i = 0; i < npaths && msgs_path < 0; i++)
		if (!strcmp(paths[i], "messages.*.content"))
			msgs_path = i;
	paths[npaths] = "id";
	/* the first message's role and content: a system prompt, the same in
	 * every record of a run, is left out of the comparison */
	paths[npaths + 1] = "messages.0.role";
	paths[npaths + 2] = "messages.0.content";
	struct jscan *js = jscan_new(npaths + 3, paths);
	dd = dedup_new(&(struct dedup_config){
		.exact = cf.exact, .threshold = cf.threshold, .ngram = cf.ngram,
		.char_ngrams = cf.char_ngrams, .perm = cf.perm, .no_verify = cf.no_verify,
		.seed = opts.seed, .quiet = opts.quiet, .verbose = cf.verbose,
	});

	double total = input_size(argc - first, argv + first), seen = 0;
	struct input *in = input_new(argc - first, argv + first);
	struct buf err = {0}, norm = {0}, lineno = {0};
	char *line;
	size_t len;
	int stop = 0;
	while (!stop && input_line(in, &line, &len) > 0) {
		seen += (double)len + 1;
		if (++count.in == 2048)
			dedup_presize(dd, total, seen, count.in, count.kept);
		if (jscan_line(js, line, len, &err)) {
			stop = record_bad(in, line, len, err.p);
			continue;
		}
		buf_reset(&norm);
		int missing = -1;
		for (int i = 0; i < npaths; i++) {
			size_t n;
			const char *t = jscan_text(js, i, &n);
			if (!jscan_found(js, i) && missing < 0)
				missing = i;
			if (i == msgs_path)
				skip_system(js, npaths + 1, &t, &n);
			nd_norm_append(&norm, t, n, cf.keep_punct ? ND_KEEP_PUNCT : 0);
		}
		if (missing >= 0) {
			if (cf.missing_keep) {
				count.missing++;
				count.kept++;
				out_line(line, len);
				continue;
			}
			buf_reset(&err);
			buf_addf(&err, "no field '%s' (--key)", paths[missing]);
			stop = record_bad(in, line, len, err.p);
			continue;
		}
		size_t idlen;
		const char *id = jscan_raw(js, npaths, &idlen);
		if (!id) {
			buf_reset(&lineno);
			buf_addf(&lineno, "%ld", in->lineno);
			id = lineno.p, idlen = lineno.len;
		}
		decide(line, len, &norm, id, idlen);
	}
	out_flush();
	if (dups && fclose(dups))
		die("%s: %s", cf.dups_path, strerror(errno));
	summary();
	dedup_free(dd);
	return records_rejected ? 1 : 0;
}
