/* scg-chunk: knowledge files and folders become chunk records, one JSON
 * object per line: id, source.file, source.topic, source.chunk and
 * source.text. How the text is cut lives in lib/chunk.c. */
#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "chunk.h"
#include "opt.h"
#include "record.h"
#include "util.h"

enum { C_MAX_WORDS = OPT_PROG, C_OVERLAP, C_SEPARATOR, C_BY, C_CUT_AT, C_STRATEGY };

static const struct option longopts[] = {
	{"max-words", required_argument, 0, C_MAX_WORDS},
	{"overlap", required_argument, 0, C_OVERLAP},
	{"separator", required_argument, 0, C_SEPARATOR},
	{"by", required_argument, 0, C_BY},
	{"cut-at", required_argument, 0, C_CUT_AT},
	{"strategy", required_argument, 0, C_STRATEGY},
	{0, 0, 0, 0},
};

static const char help[] =
	"      --max-words N      at most N words a chunk (default 500)\n"
	"      --overlap N        each chunk repeats the last N words of the one before (default 0)\n"
	"      --separator REGEX  where sentences end (PCRE2; default '(?<=[.!?])\\s+')\n"
	"      --by paragraph|lines  one chunk per paragraph, or per non-blank line\n"
	"      --cut-at TITLE     drop everything from the line TITLE (or # TITLE) on\n"
	"      --strategy FILE    per-file max_words, overlap and separator (JSON or YAML)\n";

static struct chunk_rules rules = {
	.by = CHUNK_SENTENCES, .max_words = CHUNK_DEFAULT_MAX_WORDS,
};
static const char *separator, *strategy_path;
static struct chunk_strategies *strategies;
static json_t *ids_taken;     /* file part of the ids written so far */
static int failed;

static int handle(int code, const char *arg)
{
	switch (code) {
	case C_MAX_WORDS: rules.max_words = opt_long("max-words", arg, 1, 100000000); break;
	case C_OVERLAP: rules.overlap = opt_long("overlap", arg, 0, 100000000); break;
	case C_SEPARATOR: separator = arg; break;
	case C_BY:
		if (!strcmp(arg, "paragraph") || !strcmp(arg, "paragraphs"))
			rules.by = CHUNK_PARAGRAPHS;
		else if (!strcmp(arg, "lines") || !strcmp(arg, "line"))
			rules.by = CHUNK_LINES;
		else if (!strcmp(arg, "sentences") || !strcmp(arg, "sentence"))
			rules.by = CHUNK_SENTENCES;
		else
			usage_error("--by: expected paragraph, lines or sentences, got '%s'", arg);
		break;
	case C_CUT_AT: rules.cut_at = arg; break;
	case C_STRATEGY: strategy_path = arg; break;
	default: return -1;
	}
	return 0;
}

/* The name of the folder that holds path; "." and ".." are resolved. */
static char *topic_of(const char *path)
{
	char *copy = xstrdup(path);
	char *dir = dirname(copy);
	char *name = xstrdup(basename(dir));
	if (!strcmp(name, ".") || !strcmp(name, "..") || !strcmp(name, "/")) {
		char *real = realpath(dir, NULL);
		free(name);
		name = xstrdup(real && strcmp(real, "/") ? basename(real) : "");
		free(real);
	}
	free(copy);
	return name;
}

/* "FILE" for the id, or "FILE~2", "FILE~3"... when an earlier operand
 * already gave the same source.file. */
static char *id_file(const char *file)
{
	char *name = xstrdup(file);
	for (int k = 2; json_object_get(ids_taken, name); k++) {
		free(name);
		name = xasprintf("%s~%d", file, k);
	}
	json_object_set_new(ids_taken, name, json_true());
	return name;
}

static void bad_file(const char *path, long line, const char *why)
{
	if (line)
		warnx_("%s:%ld: %s", path, line, why);
	else
		warnx_("%s: %s", path, why);
	failed = 1;
}

/* Chunks the file at path; file is its name in the records. Its entry in
 * the strategy file is under that name or else under topic/file. */
static void chunk_file(const char *path, const char *file)
{
	size_t len, skip;
	long line;
	char *data = read_file_max(path, CHUNK_MAX_FILE, &len);
	if (!data) {
		if (errno == EFBIG) {
			char why[80];
			snprintf(why, sizeof why, "larger than %ld MiB; split it into smaller files",
				 CHUNK_MAX_FILE >> 20);
			bad_file(path, 0, why);
		} else {
			bad_file(path, 0, strerror(errno));
		}
		return;
	}
	struct buf why = {0};
	if (chunk_text_check(path, data, len, &skip, &line, &why)) {
		bad_file(path, line, why.p);
		buf_free(&why);
		free(data);
		return;
	}
	char *topic = topic_of(path);
	const struct chunk_rules *r = chunk_strategies_find(strategies, file);
	if (!r) {
		char *base = xstrdup(path);
		char *tf = xasprintf("%s/%s", topic, basename(base));
		r = chunk_strategies_find(strategies, tf);
		free(tf);
		free(base);
	}
	if (!r)
		r = &rules;

	const char *text = data + skip;
	len -= skip;
	if (r->cut_at)
		len = chunk_cut_at(text, len, r->cut_at);
	struct chunk_span *spans;
	long n = chunk_split(r, text, len, &spans, &why);
	if (n < 0)
		bad_file(path, 0, why.p);
	char *idf = n > 0 ? id_file(file) : NULL;
	for (long i = 0; i < n; i++) {
		char *id = xasprintf("%s#%ld", idf, i);
		json_t *rec = json_pack("{s:s, s:{s:s, s:s, s:I, s:s%}}", "id", id,
					"source", "file", file, "topic", topic,
					"chunk", (json_int_t)i,
					"text", text + spans[i].start, spans[i].len);
		if (!rec)
			die("%s: cannot make a record of chunk %ld", path, i);
		out_record(rec);
		json_decref(rec);
		free(id);
	}
	free(idf);
	free(spans);
	free(topic);
	buf_free(&why);
	free(data);
}

static void chunk_operand(const char *op)
{
	struct stat st;
	if (stat(op, &st)) {
		bad_file(op, 0, strerror(errno));
		return;
	}
	if (S_ISREG(st.st_mode) || S_ISFIFO(st.st_mode)) {
		chunk_file(op, op);   /* a pipe too: <(command) */
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		bad_file(op, 0, "not a regular file, a pipe or a folder");
		return;
	}
	char **files;
	struct buf err = {0};
	long n = chunk_walk(op, &files, &err);
	if (n < 0) {
		bad_file(op, 0, err.p);
		buf_free(&err);
		return;
	}
	for (long i = 0; i < n; i++) {
		const char *sep = op[strlen(op) - 1] == '/' ? "" : "/";
		char *path = xasprintf("%s%s%s", op, sep, files[i]);
		chunk_file(path, files[i]);
		free(path);
		free(files[i]);
	}
	free(files);
}

int main(int argc, char **argv)
{
	static const struct opt_prog prog = {
		.name = "scg-chunk",
		.synopsis = "[options] file|folder ...",
		.summary = "Split knowledge files (plain text or Markdown) into chunk records.",
		.help = help,
		.common = OPT_BASIC,
		.longopts = longopts,
		.handle = handle,
	};
	int i = opt_parse(&prog, argc, argv);
	if (i == argc)
		usage_error("no file or folder to chunk");
	if (rules.overlap >= rules.max_words)
		usage_error("--overlap (%ld) must be less than --max-words (%ld)",
			    rules.overlap, rules.max_words);
	if (separator && rules.by != CHUNK_SENTENCES)
		usage_error("--separator cuts sentences; it does not go with --by paragraph or lines");

	struct buf err = {0};
	rules.sep = chunk_sep_new(separator ? separator : CHUNK_DEFAULT_SEPARATOR, &err);
	if (!rules.sep)
		usage_error("--separator: %s", err.p);
	if (strategy_path && !(strategies = chunk_strategies_load(strategy_path, &rules, &err)))
		die("%s", err.p);

	ids_taken = json_object();
	for (; i < argc; i++)
		chunk_operand(argv[i]);
	out_flush();

	const char *key;
	for (size_t k = 0; !opts.quiet && (key = chunk_strategies_unused(strategies, &k));)
		warnx_("%s: '%s' names no file that was chunked", strategy_path, key);

	json_decref(ids_taken);
	chunk_strategies_free(strategies);
	chunk_sep_free(rules.sep);
	buf_free(&err);
	return failed ? 1 : 0;
}
