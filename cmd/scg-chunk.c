/* scg-chunk: knowledge files and folders, and Wikipedia articles, become
 * chunk records, one JSON object per line: id, source.file, source.topic,
 * source.chunk and source.text (and source.section for an article). How
 * the text is cut lives in lib/chunk.c, how an article is fetched in
 * lib/wiki.c. */
#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cache.h"
#include "chunk.h"
#include "opt.h"
#include "record.h"
#include "run.h"
#include "util.h"
#include "wiki.h"

static struct chunk_rules rules = {
	.by = CHUNK_SENTENCES, .max_words = CHUNK_DEFAULT_MAX_WORDS,
};
static const char *separator, *strategy_path;
static const char **titles;   /* --wikipedia, in order */
static int ntitles, by_given;
static const char *wiki_lang = "en", *wiki_url;
static struct chunk_strategies *strategies;
static json_t *ids_taken;     /* file part of the ids written so far */
static int failed;

static void by_opt(const char *name, const char *arg)
{
	if (!strcmp(arg, "paragraph") || !strcmp(arg, "paragraphs"))
		rules.by = CHUNK_PARAGRAPHS;
	else if (!strcmp(arg, "lines") || !strcmp(arg, "line"))
		rules.by = CHUNK_LINES;
	else if (!strcmp(arg, "sentences") || !strcmp(arg, "sentence"))
		rules.by = CHUNK_SENTENCES;
	else
		usage_error("%s: expected paragraph, lines or sentences, got '%s'", name, arg);
	by_given = 1;
}

static void wikipedia_opt(const char *name, const char *arg)
{
	(void)name;
	titles = xrealloc(titles, sizeof *titles * (size_t)(ntitles + 1));
	titles[ntitles++] = arg;
}

static const struct opt options[] = {
	OPT_LONG(0, "max-words", &rules.max_words, "N", 1, 100000000,
		 "at most N words a chunk (default 500)"),
	OPT_LONG(0, "overlap", &rules.overlap, "N", 0, 100000000,
		 "each chunk repeats the last N words of the one before (default 0)"),
	OPT_STRING(0, "separator", &separator, "REGEX",
		   "where sentences end (PCRE2; default '(?<=[.!?])\\s+')"),
	OPT_CALL(0, "by", "paragraph|lines", by_opt, "one chunk per paragraph, or per non-blank line"),
	OPT_STRING(0, "cut-at", &rules.cut_at, "TITLE",
		   "drop everything from the heading TITLE on (TITLE, # TITLE, == TITLE ==, "
		   "TITLE[edit]; any case)"),
	OPT_STRING(0, "strategy", &strategy_path, "FILE",
		   "per-file max_words, overlap and separator (JSON or YAML)"),
	OPT_CALL(0, "wikipedia", "TITLE", wikipedia_opt,
		 "chunk the Wikipedia article TITLE (one record a paragraph unless --by is "
		 "given; repeatable)"),
	OPT_STRING(0, "wiki-lang", &wiki_lang, "LANG", "which Wikipedia (default en)"),
	OPT_STRING(0, "wiki-url", &wiki_url, "URL",
		   "the MediaWiki API to ask instead ($SCG_WIKI_URL)"),
	OPT_DOUBLE(0, "timeout", &opts.timeout, "SEC", 0.001, 86400,
		   "time limit of one article's request (default 120)"),
	OPT_CALL(0, "max-answer-bytes", "N[k|M|G]", opt_max_answer,
		 "largest article answer taken, counted after decompression (default 4M)"),
	OPT_FLAG(0, "no-cache", &opts.no_cache, "neither read nor write the response cache"),
	OPT_END,
};

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

/* Writes a record for each chunk of text[0, len) as r cuts it, numbered
 * on from *n; the file part of the ids (*idf) is taken at the first chunk.
 * name is the input for messages. */
static void put_chunks(const struct chunk_rules *r, const char *text, size_t len,
		       const char *name, const char *file, const char *topic,
		       const char *section, char **idf, long *n)
{
	struct buf why = {0};
	struct chunk_span *spans;
	long k = chunk_split(r, text, len, &spans, &why);
	if (k < 0)
		bad_file(name, 0, why.p);
	if (k > 0 && !*idf)
		*idf = id_file(file);
	for (long i = 0; i < k; i++, (*n)++) {
		char *id = xasprintf("%s#%ld", *idf, *n);
		json_t *src = json_pack("{s:s, s:s}", "file", file, "topic", topic);
		if (src && section)
			json_object_set_new(src, "section", json_string(section));
		json_t *rec = src ? json_pack("{s:s, s:o}", "id", id, "source", src) : NULL;
		if (!rec || json_object_set_new(src, "chunk", json_integer(*n)) ||
		    json_object_set_new(src, "text", json_stringn(text + spans[i].start, spans[i].len)))
			die("%s: cannot make a record of chunk %ld", name, *n);
		out_record(rec);
		json_decref(rec);
		free(id);
	}
	free(spans);
	buf_free(&why);
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
	char *idf = NULL;
	long n = 0;
	put_chunks(r, text, len, path, file, topic, NULL, &idf, &n);
	free(idf);
	free(topic);
	buf_free(&why);
	free(data);
}

/* Chunks an article section by section: a heading is no chunk of its own
 * but names the section of those under it (the lead has none). */
static void chunk_page(const struct wiki_page *pg)
{
	size_t len = pg->len, skip;
	long line;
	struct buf why = {0};
	if (chunk_text_check(pg->title, pg->text, len, &skip, &line, &why)) {
		bad_file(pg->title, line, why.p);
		buf_free(&why);
		return;
	}
	const char *text = pg->text + skip;
	len -= skip;
	if (rules.cut_at)
		len = chunk_cut_at(text, len, rules.cut_at);
	char *idf = NULL, *section = NULL;
	long n = 0;
	for (size_t at = 0; at < len;) {
		const char *words;
		size_t wlen, next;
		size_t h = wiki_next_heading(text, len, at, &next, &words, &wlen);
		put_chunks(&rules, text + at, h - at, pg->title, pg->title, "wikipedia",
			   section, &idf, &n);
		free(section);
		section = h < len ? xstrndup(words, wlen) : NULL;
		at = next;
	}
	free(section);
	free(idf);
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
		.common = OPT_BASIC,
		.opts = options,
	};
	int i = opt_parse(&prog, argc, argv);
	run_configure();
	if (i == argc && !ntitles)
		usage_error("no file, folder or --wikipedia title to chunk");
	if (rules.overlap >= rules.max_words)
		usage_error("--overlap (%ld) must be less than --max-words (%ld)",
			    rules.overlap, rules.max_words);
	if (separator && rules.by != CHUNK_SENTENCES)
		usage_error("--separator cuts sentences; it does not go with --by paragraph or lines");
	if (ntitles && !by_given && !separator)
		rules.by = CHUNK_LINES;

	struct buf err = {0};
	rules.sep = chunk_sep_new(separator ? separator : CHUNK_DEFAULT_SEPARATOR, &err);
	if (!rules.sep)
		usage_error("--separator: %s", err.p);
	if (strategy_path && !(strategies = chunk_strategies_load(strategy_path, &rules, &err)))
		die("%s", err.p);

	/* every article is fetched before anything is written */
	struct wiki_page *pages = xcalloc((size_t)ntitles, sizeof *pages);
	if (ntitles) {
		const char *tmpl = wiki_url ? wiki_url : getenv("SCG_WIKI_URL");
		char *api = wiki_api_url(wiki_lang, tmpl && *tmpl ? tmpl : NULL);
		if (!api)
			usage_error("--wiki-lang: expected a language code such as en or de, got '%s'",
				    wiki_lang);
		cache_init();
		for (int t = 0; t < ntitles; t++) {
			if (wiki_fetch(api, titles[t], opts.timeout, opts.max_answer, &pages[t], &err))
				die("%s", err.p);
			if (!opts.quiet && pages[t].redirected)
				warnx_("%s: redirected to %s", pages[t].redirected, pages[t].title);
		}
		free(api);
	}

	ids_taken = json_object();
	for (int t = 0; t < ntitles; t++) {
		chunk_page(&pages[t]);
		wiki_page_free(&pages[t]);
	}
	free(pages);
	free(titles);
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
