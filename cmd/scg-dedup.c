/* scg-dedup: drops exact and near-duplicate records from a JSONL stream.
 * Each record is decided as it arrives (the first of a cluster wins) and a
 * kept line is written byte for byte. Near duplicates: MinHash LSH finds the
 * candidates, the exact Jaccard of the stored shingle sets decides (or, with
 * --no-verify, a 1-bit MinHash sketch). See scg-dedup(1). */
#include "jscan.h"
#include "neardup.h"
#include "opt.h"
#include "record.h"
#include "run.h"
#include "simd.h"
#include "util.h"

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define NOVERIFY_BANDS 4   /* keeps the --no-verify index near 60 bytes a record */
/* The default mode verifies candidates exactly, so it trades a steep
 * S-curve for fewer hashes and band keys a record: the fewest values
 * for which a pair at half the threshold is a candidate with probability
 * at most this (at 0.8: 9 bands x 4 rows, not 16 x 6; bench/README.md). */
#define VERIFY_FMAX 0.25

enum { C_KEY = OPT_PROG, C_EXACT, C_NGRAM, C_CHARNG, C_PERM, C_THRESH, C_NOVERIFY,
       C_KEEPPUNCT, C_MISSING, C_DUPS, C_VERBOSE };

static const struct option longopts[] = {
	{"key", required_argument, 0, C_KEY},
	{"exact", no_argument, 0, C_EXACT},
	{"ngram", required_argument, 0, C_NGRAM},
	{"char-ngrams", required_argument, 0, C_CHARNG},
	{"perm", required_argument, 0, C_PERM},
	{"threshold", required_argument, 0, C_THRESH},
	{"no-verify", no_argument, 0, C_NOVERIFY},
	{"keep-punct", no_argument, 0, C_KEEPPUNCT},
	{"missing", required_argument, 0, C_MISSING},
	{"dups", required_argument, 0, C_DUPS},
	{"verbose", no_argument, 0, C_VERBOSE},
	{0, 0, 0, 0},
};

static const char help[] =
	"      --key PATH[,PATH...]  fields whose text is compared (default messages.*.content)\n"
	"      --exact            drop exact duplicates (of the normalised text) only\n"
	"      --threshold J      near duplicate at Jaccard >= J, 0 < J <= 1 (default 0.8)\n"
	"      --ngram N          words per shingle (default 5)\n"
	"      --char-ngrams N    shingles of N characters instead of words\n"
	"      --perm N           MinHash signature length, up to 512 (default 128)\n"
	"      --no-verify        decide on a MinHash estimate; about 60 bytes a kept record\n"
	"      --keep-punct       compare punctuation too\n"
	"      --missing error|keep  a record without the key is an error (default) or kept\n"
	"      --dups FILE        write each dropped record there with dup_of and jaccard\n"
	"  -v, --verbose          print the LSH bands x rows and the memory used\n";

static struct {
	const char *key;
	int exact, ngram, char_ngrams, perm, no_verify, keep_punct, missing_keep, verbose;
	double threshold;
	const char *dups_path;
} cf = {.key = "messages.*.content", .ngram = 5, .perm = 128, .threshold = 0.8};

static int handle(int c, const char *arg)
{
	switch (c) {
	case C_KEY:
		if (!*arg || strstr(arg, ",,") || *arg == ',' || arg[strlen(arg) - 1] == ',')
			usage_error("--key: expected PATH[,PATH...], got '%s'", arg);
		cf.key = arg;
		break;
	case C_EXACT: cf.exact = 1; break;
	case C_NGRAM: cf.ngram = (int)opt_long("ngram", arg, 1, 64); break;
	case C_CHARNG: cf.char_ngrams = (int)opt_long("char-ngrams", arg, 1, 64); break;
	case C_PERM: cf.perm = (int)opt_long("perm", arg, 1, 512); break;
	case C_THRESH:
		cf.threshold = opt_double("threshold", arg, 0, 1);
		if (cf.threshold <= 0)
			usage_error("--threshold: expected a number in (0, 1], got '%s'", arg);
		break;
	case C_NOVERIFY: cf.no_verify = 1; break;
	case C_KEEPPUNCT: cf.keep_punct = 1; break;
	case C_MISSING:
		if (strcmp(arg, "error") && strcmp(arg, "keep"))
			usage_error("--missing: expected error or keep, got '%s'", arg);
		cf.missing_keep = !strcmp(arg, "keep");
		break;
	case C_DUPS: cf.dups_path = arg; break;
	case 'v':
	case C_VERBOSE: cf.verbose = 1; break;
	default: return 1;
	}
	return 0;
}

/* What is kept per kept record, indexed by its number among the kept. */
static struct {
	uint32_t n, cap;
	struct buf ids;             /* dup_of values, as JSON */
	uint32_t *id_end;
	uint32_t *sh;               /* default mode: the shingle hashes */
	uint64_t *sh_end, shlen, shcap;
	uint64_t *sketch;           /* --no-verify: 1-bit MinHash sketches */
	int skwords;
} kept;

static struct nd_sketcher *band_sk, *bits_sk;
static struct nd_lsh *lsh;
static struct nd_exact *exact;
static struct nd_set set;
static uint32_t *sig, *bits_sig, *keys;
static uint64_t *sketch;
static int bands, rows;

/* --no-verify: a sketch of --perm bits holds half as many MinHash values */
static int sketch_values(void)
{
	return (cf.perm + 1) / 2;
}

static void setup(void)
{
	exact = nd_exact_new();
	simd_path();   /* a bad SCG_SIMD ends the run here */
	if (cf.verbose)
		warnx_("vector path: %s", simd_describe());
	if (cf.exact)
		return;
	int fit = nd_bands_choose(cf.threshold, cf.perm, cf.no_verify ? NOVERIFY_BANDS : 0,
				  cf.no_verify ? 0 : VERIFY_FMAX, &bands, &rows);
	if (fit && !opts.quiet)
		warnx_("with a signature of %d values a pair at J = %g is a candidate with "
		       "probability %.3f only; raise --perm or --threshold", cf.perm, cf.threshold,
		       nd_candidate_prob(cf.threshold, bands, rows));
	band_sk = nd_sketcher_new(bands * rows, opts.seed);
	lsh = nd_lsh_new(bands, rows, cf.no_verify);
	sig = xmalloc((size_t)bands * (size_t)rows * sizeof *sig);
	if (cf.no_verify) {
		bits_sk = nd_sketcher_new(sketch_values(), opts.seed + 1);
		bits_sig = xmalloc((size_t)sketch_values() * sizeof *bits_sig);
	}
	keys = xmalloc((size_t)bands * sizeof *keys);
	kept.skwords = (2 * sketch_values() + 63) / 64;
	sketch = xmalloc((size_t)kept.skwords * sizeof *sketch);
	if (cf.verbose)
		warnx_("LSH %d bands x %d rows (%d of %d values): a pair is a candidate "
		       "with probability %.4f at J = %g, %.4f at %g", bands, rows,
		       bands * rows, cf.perm, nd_candidate_prob(cf.threshold, bands, rows),
		       cf.threshold, nd_candidate_prob(cf.threshold * 0.75, bands, rows),
		       cf.threshold * 0.75);
}

/* Remembers a kept record: its id, and what a later record is compared with. */
static void keep(const char *id, size_t idlen, const uint64_t h[2], int is_short)
{
	uint32_t rec = kept.n++;
	if (rec == kept.cap) {
		kept.cap = kept.cap ? 2 * kept.cap : 1024;
		kept.id_end = xrealloc(kept.id_end, kept.cap * sizeof *kept.id_end);
		if (!cf.exact && !cf.no_verify)
			kept.sh_end = xrealloc(kept.sh_end, kept.cap * sizeof *kept.sh_end);
		if (cf.no_verify)
			kept.sketch = xrealloc(kept.sketch, kept.cap * (size_t)kept.skwords *
					       sizeof *kept.sketch);
	}
	buf_add(&kept.ids, id, idlen);
	if (kept.ids.len > UINT32_MAX)
		die("the ids of the kept records pass 4 GiB");
	kept.id_end[rec] = (uint32_t)kept.ids.len;
	if (cf.exact || is_short || !cf.no_verify)
		nd_exact_add(exact, h, rec);
	if (cf.exact)
		return;
	if (!is_short)
		nd_lsh_insert(lsh, keys, rec);
	if (cf.no_verify) {
		uint64_t *sk = kept.sketch + (size_t)rec * (size_t)kept.skwords;
		for (int w = 0; w < kept.skwords; w++)
			sk[w] = is_short ? 0 : sketch[w];
		return;
	}
	if (kept.shlen + set.n > kept.shcap) {
		kept.shcap = (kept.shlen + set.n) * 2;
		kept.sh = nd_big(xrealloc(kept.sh, kept.shcap * sizeof *kept.sh),
				 kept.shcap * sizeof *kept.sh);
	}
	if (!is_short)
		memcpy(kept.sh + kept.shlen, set.h, set.n * sizeof *set.h);
	kept.shlen += is_short ? 0 : set.n;
	kept.sh_end[rec] = kept.shlen;
}

/* The best near duplicate among the kept records, or -1. */
static long nearest(double *jbest)
{
	const struct nd_cand *cand;
	size_t nc = nd_lsh_query(lsh, keys, &cand);
	long best = -1;
	*jbest = 0;
	for (size_t c = 0; c < nc; c++) {
		uint32_t r = cand[c].rec;
		double j;
		if (cf.no_verify) {
			j = nd_bits_estimate(sketch, kept.sketch + (size_t)r * (size_t)kept.skwords,
					     sketch_values());
			if (j < cf.threshold)
				continue;
		} else {
			uint64_t from = r ? kept.sh_end[r - 1] : 0;
			size_t n = (size_t)(kept.sh_end[r] - from);
			/* sizes too far apart, or too many misses: no need to go on */
			size_t need = nd_need(set.n, n, cf.threshold);
			size_t inter = nd_common(&set, kept.sh + from, n, need);
			if (inter < need || !nd_at_least(inter, set.n + n - inter, cf.threshold))
				continue;
			j = (double)inter / (double)(set.n + n - inter);
		}
		if (j > *jbest || (j == *jbest && r < (uint32_t)best))
			*jbest = j, best = r;
	}
	return best;
}

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
	uint32_t from = of ? kept.id_end[of - 1] : 0;
	fwrite(line, 1, close - 1, dups);
	fprintf(dups, "%s\"dup_of\":%.*s,\"jaccard\":%.4g}\n", p == line + close - 1 ? "" : ",",
		(int)(kept.id_end[of] - from), kept.ids.p + from, j);
}

/* Decides one record whose normalised text is in norm. */
static void decide(const char *line, size_t len, const struct buf *norm,
		   const char *id, size_t idlen)
{
	const char *text = norm->p ? norm->p : "";
	uint64_t h[2];
	uint32_t of;
	nd_exact_hash(text, norm->len, h);
	nd_exact_prefetch(exact, h);   /* shingling hides the cache miss */
	int is_short = !cf.exact &&
		       !nd_shingles(text, norm->len, cf.ngram, cf.char_ngrams, cf.no_verify, &set);
	/* --no-verify keeps exact hashes of short records only */
	if (!cf.no_verify && nd_exact_find(exact, h, &of)) {
		count.exact++;
		write_dup(line, len, of, 1);
		return;
	}
	if (cf.no_verify && is_short && nd_exact_find(exact, h, &of)) {
		count.exact++;
		write_dup(line, len, of, 1);
		return;
	}
	if (!cf.exact && !is_short) {
		nd_sketch(band_sk, set.h, set.n, sig);
		nd_lsh_keys(lsh, sig, keys);
		nd_lsh_prefetch(lsh, keys);
		if (cf.no_verify) {
			nd_sketch(bits_sk, set.h, set.n, bits_sig);
			nd_bits(bits_sig, sketch_values(), sketch);
		}
		double j;
		long best = nearest(&j);
		if (best >= 0) {
			count.near++;
			write_dup(line, len, (uint32_t)best, j);
			return;
		}
	}
	keep(id, idlen, h, is_short);
	count.kept++;
	out_line(line, len);
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

/* Sizes the indexes once for the records the input will likely keep, from
 * its size and the share kept among the first lines: no regrowing, no
 * pages touched twice. --no-verify aims a little low, so that its table
 * ends at least 72% full if that share holds (its bound of 64 bytes a kept
 * record), and grows by a quarter past that. */
static void presize(double total, double seen)
{
	if (total <= seen || seen <= 0 || !count.in)
		return;
	double share = (double)(count.kept + 1) / (double)count.in;
	double est = total / seen * (double)count.in * share * (cf.no_verify ? 0.9 : 1.05);
	if (!cf.no_verify)   /* which keeps the hashes of short records only */
		nd_exact_reserve(exact, (size_t)est + 1024);
	if (lsh)
		nd_lsh_reserve(lsh, (size_t)est + 1024);
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
	buf_free(&extra);
	if (!cf.verbose || !kept.n)
		return;
	size_t idx = nd_exact_bytes(exact) + (lsh ? nd_lsh_bytes(lsh) : 0);
	if (cf.no_verify)
		idx += (size_t)kept.n * (size_t)kept.skwords * sizeof *kept.sketch;
	size_t sh = kept.sh_end ? kept.shlen * sizeof *kept.sh + kept.n * sizeof *kept.sh_end : 0;
	size_t ids = kept.ids.len + kept.n * sizeof *kept.id_end;
	warnx_("memory: index %zu bytes (%.1f a kept record), shingles %zu (%.1f), ids %zu (%.1f)",
	       idx, (double)idx / kept.n, sh, (double)sh / kept.n, ids, (double)ids / kept.n);
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
		.help = help, .common = OPT_BASIC, .longopts = longopts, .shortopts = "v",
		.handle = handle,
	};
	int first = opt_parse(&prog, argc, argv);
	run_configure();
	/* a fixed threshold keeps the big arrays mmapped, so that growing them
	 * is a remap, not a copy */
	mallopt(M_MMAP_THRESHOLD, 1 << 20);
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
	setup();

	double total = input_size(argc - first, argv + first), seen = 0;
	struct input *in = input_new(argc - first, argv + first);
	struct buf err = {0}, norm = {0}, lineno = {0};
	char *line;
	size_t len;
	int stop = 0;
	while (!stop && input_line(in, &line, &len) > 0) {
		seen += (double)len + 1;
		if (++count.in == 2048)
			presize(total, seen);
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
	return records_rejected ? 1 : 0;
}
