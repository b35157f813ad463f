/* chunk: knowledge text into chunks. The text is first read as a list of
 * words (runs of non-blank bytes) with the start of each unit (sentence,
 * paragraph or line) marked; chunks are then spans of consecutive words,
 * so a chunk's text is the original bytes from its first word to its last. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "chunk.h"

#include "conf.h"
#include <errno.h>
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

struct chunk_sep {
	pcre2_code *re;
	pcre2_match_data *md;
};

struct chunk_sep *chunk_sep_new(const char *pattern, struct buf *err)
{
	int code;
	PCRE2_SIZE off;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
				       PCRE2_UTF | PCRE2_UCP, &code, &off, NULL);
	if (!re) {
		PCRE2_UCHAR msg[256];
		pcre2_get_error_message(code, msg, sizeof msg);
		buf_addf(err, "bad regular expression '%s': %s at offset %zu",
			 pattern, (char *)msg, (size_t)off);
		return NULL;
	}
	pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);  /* slower without, not wrong */
	struct chunk_sep *sep = xmalloc(sizeof *sep);
	sep->re = re;
	sep->md = pcre2_match_data_create_from_pattern(re, NULL);
	if (!sep->md)
		die("out of memory");
	return sep;
}

void chunk_sep_free(struct chunk_sep *sep)
{
	if (!sep)
		return;
	pcre2_match_data_free(sep->md);
	pcre2_code_free(sep->re);
	free(sep);
}

/* The words of a text and where its units begin. */
struct words {
	size_t *start, *end;
	unsigned char *first;     /* 1: the word starts a unit */
	size_t n, cap;
};

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Adds the words of t[from, to); the first one starts a unit when
 * new_unit is set. Returns the number added. */
static size_t add_words(struct words *w, const char *t, size_t from, size_t to, int new_unit)
{
	size_t added = 0;
	for (size_t i = from; i < to;) {
		if (is_space(t[i])) {
			i++;
			continue;
		}
		size_t s = i;
		while (i < to && !is_space(t[i]))
			i++;
		if (w->n == w->cap) {
			w->cap = w->cap ? 2 * w->cap : 256;
			w->start = xrealloc(w->start, w->cap * sizeof *w->start);
			w->end = xrealloc(w->end, w->cap * sizeof *w->end);
			w->first = xrealloc(w->first, w->cap);
		}
		w->start[w->n] = s;
		w->end[w->n] = i;
		w->first[w->n] = new_unit && added == 0;
		w->n++;
		added++;
	}
	return added;
}

/* Units are the pieces between the separator's matches. */
static int read_sentences(struct words *w, const struct chunk_sep *sep,
			  const char *t, size_t len, struct buf *err)
{
	size_t seg = 0, off = 0;
	while (off <= len) {
		int rc = pcre2_match(sep->re, (PCRE2_SPTR)t, len, off,
				     PCRE2_NO_UTF_CHECK, sep->md, NULL);
		if (rc == PCRE2_ERROR_NOMATCH)
			break;
		if (rc < 0) {
			PCRE2_UCHAR msg[256];
			pcre2_get_error_message(rc, msg, sizeof msg);
			buf_addf(err, "separator: %s", (char *)msg);
			return -1;
		}
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(sep->md);
		size_t s = ov[0], e = ov[1];
		if (e < s)      /* \K in a look-ahead can do this; take it as empty */
			e = s;
		if (e == s && s == seg) {
			/* an empty match where the unit begins: step one character */
			off = s + 1;
			while (off < len && ((unsigned char)t[off] & 0xc0) == 0x80)
				off++;
			continue;
		}
		add_words(w, t, seg, s, 1);
		seg = e;
		off = e;
	}
	add_words(w, t, seg, len, 1);
	return 0;
}

/* Units are lines, or runs of lines between blank lines. */
static void read_lines(struct words *w, enum chunk_by by, const char *t, size_t len)
{
	int new_unit = 1;
	for (size_t ls = 0; ls < len;) {
		const char *nl = memchr(t + ls, '\n', len - ls);
		size_t le = nl ? (size_t)(nl - t) : len;
		if (by == CHUNK_LINES)
			new_unit = 1;
		if (add_words(w, t, ls, le, new_unit))
			new_unit = 0;
		else
			new_unit = 1;   /* a blank line ends the paragraph */
		ls = le + 1;
	}
}

long chunk_split(const struct chunk_rules *r, const char *text, size_t len,
		 struct chunk_span **spans, struct buf *err)
{
	struct words w = {0};
	*spans = NULL;
	if (r->by == CHUNK_SENTENCES) {
		if (!r->sep)
			die("chunk_split: no separator");
		if (read_sentences(&w, r->sep, text, len, err)) {
			free(w.start), free(w.end), free(w.first);
			return -1;
		}
	} else {
		read_lines(&w, r->by, text, len);
	}

	int pack = r->by == CHUNK_SENTENCES;
	size_t max = (size_t)r->max_words, overlap = (size_t)r->overlap;
	size_t pos = 0, prev_start = 0, n = 0, cap = 0;
	while (pos < w.n) {
		/* Repeat the end of the previous chunk, but only between chunks of
		 * packed sentences or inside a unit too long for one chunk. */
		size_t start = pos;
		if (pos > 0 && (pack || !w.first[pos])) {
			size_t back = overlap < pos - prev_start ? overlap : pos - prev_start;
			start = pos - back;
		}
		size_t room = max - (pos - start), end = pos;
		for (;;) {
			size_t unit_end = end + 1;
			while (unit_end < w.n && !w.first[unit_end])
				unit_end++;
			if (unit_end - pos > room) {
				/* A unit that fits in a chunk is never cut: it
				 * repeats fewer words instead. A longer one is. */
				if (end == pos && unit_end - pos <= max) {
					start = unit_end - max > start ? unit_end - max : start;
					end = unit_end;
				} else if (end == pos) {
					end = pos + room;
				}
				break;
			}
			end = unit_end;
			if (!pack || end == w.n)
				break;
		}
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			*spans = xrealloc(*spans, cap * sizeof **spans);
		}
		(*spans)[n].start = w.start[start];
		(*spans)[n].len = w.end[end - 1] - w.start[start];
		n++;
		prev_start = start;
		pos = end;
	}
	free(w.start), free(w.end), free(w.first);
	return (long)n;
}

/* A heading's words, with what marks it as one trimmed: blanks, Markdown
 * '#' marks (a closing run only after a blank), wiki '=' marks and the
 * "[edit]" link a rendered wiki page leaves ("[edit source]", "[ edit |
 * edit source ]"). "## Legacy", "== Legacy ==", "Legacy[edit]" and
 * "Legacy" all give "Legacy". */
static void heading_text(const char *s, size_t n, const char **out, size_t *outlen)
{
	while (n && (is_space(*s) || *s == '#' || *s == '='))
		s++, n--;
	while (n && is_space(s[n - 1]))
		n--;
	const char *open = n && s[n - 1] == ']' ? memrchr(s, '[', n) : NULL;
	if (open) {
		const char *w = open + 1;
		while (w < s + n && is_space(*w))
			w++;
		if (s + n - w >= 4 && !strncasecmp(w, "edit", 4))
			n = (size_t)(open - s);
	}
	size_t k = n;
	while (k && s[k - 1] == '=')
		k--;
	if (k == n) {
		while (k && s[k - 1] == '#')
			k--;
		if (k < n && k && !is_space(s[k - 1]))
			k = n;
	}
	n = k;
	while (n && is_space(s[n - 1]))
		n--;
	*out = s;
	*outlen = n;
}

size_t chunk_cut_at(const char *text, size_t len, const char *title)
{
	const char *want;
	size_t wantlen;
	heading_text(title, strlen(title), &want, &wantlen);
	if (!wantlen)
		return len;
	for (size_t ls = 0; ls < len;) {
		const char *nl = memchr(text + ls, '\n', len - ls);
		size_t le = nl ? (size_t)(nl - text) : len;
		const char *got;
		size_t gotlen;
		heading_text(text + ls, le - ls, &got, &gotlen);
		if (gotlen == wantlen && !strncasecmp(got, want, wantlen))
			return ls;
		ls = le + 1;
	}
	return len;
}

/* path with its extension replaced by ext ("kb/a.pdf" -> "kb/a.txt"). */
static char *with_ext(const char *path, const char *ext)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	const char *dot = strrchr(base, '.');
	size_t stem = dot && dot > base ? (size_t)(dot - path) : strlen(path);
	return xasprintf("%.*s%s", (int)stem, path, ext);
}

static const struct {
	const char *magic;
	size_t len;
	const char *what, *to, *how, *ext;  /* how: a format of path, new path */
} kinds[] = {
	{"%PDF-", 5, "a PDF file", "text", "pdftotext %s %s", ".txt"},
	{"PK\3\4", 4, "a ZIP archive (.docx, .odt, .epub...)", "text", "pandoc %s -t plain -o %s", ".txt"},
	{"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8, "an old Microsoft Office file", "text",
	 "antiword %s > %s", ".txt"},
	{"\x1f\x8b", 2, "a gzip-compressed file", "text", "gunzip -c %s > %s", ""},
	{"\xff\xfe", 2, "UTF-16 text", "UTF-8", "iconv -f UTF-16 -t UTF-8 %s > %s", ".utf8.txt"},
	{"\xfe\xff", 2, "UTF-16 text", "UTF-8", "iconv -f UTF-16 -t UTF-8 %s > %s", ".utf8.txt"},
};

static void how_to(struct buf *why, const char *what, const char *to_what,
		   const char *how, const char *path, const char *ext)
{
	char *to = with_ext(path, ext);
	if (!strcmp(to, path)) {
		free(to);
		to = xasprintf("%s.txt", path);
	}
	buf_addf(why, "%s; convert it to %s first, e.g. ", what, to_what);
	buf_addf(why, how, path, to);
	free(to);
}

int chunk_text_check(const char *path, const char *data, size_t len,
		     size_t *skip, long *line, struct buf *why)
{
	*skip = 0;
	*line = 0;
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
		if (len >= kinds[i].len && !memcmp(data, kinds[i].magic, kinds[i].len)) {
			how_to(why, kinds[i].what, kinds[i].to, kinds[i].how, path, kinds[i].ext);
			return -1;
		}
	const char *nul = memchr(data, 0, len);
	if (nul) {
		buf_addf(why, "a binary file, not text (a NUL byte at offset %zu); "
			 "only plain text and Markdown can be chunked, "
			 "convert it to one of them first", (size_t)(nul - data));
		return -1;
	}
	if (len >= 3 && !memcmp(data, "\xef\xbb\xbf", 3))
		*skip = 3;
	size_t bad;
	if (!utf8_valid(data + *skip, len - *skip, &bad)) {
		bad += *skip;
		*line = 1;
		for (size_t i = 0; i < bad; i++)
			*line += data[i] == '\n';
		char *what = xasprintf("not UTF-8 (byte 0x%02x at offset %zu)",
				       (unsigned char)data[bad], bad);
		how_to(why, what, "UTF-8", "iconv -f WINDOWS-1252 -t UTF-8 %s > %s", path, ".utf8.txt");
		free(what);
		return -1;
	}
	return 0;
}

struct strategy {
	char *key;
	struct chunk_rules rules;
	struct chunk_sep *own_sep;
	char *own_cut_at;
	int used;
};

struct chunk_strategies {
	struct strategy *v;
	size_t n;
};

static const char *strip_dot_slash(const char *p)
{
	while (p[0] == '.' && p[1] == '/')
		for (p += 2; *p == '/'; p++)
			;
	return p;
}

static int whole_number(json_t *v, long min, long *out)
{
	if (!json_is_integer(v) || json_integer_value(v) < min ||
	    json_integer_value(v) > 100000000)
		return -1;
	*out = (long)json_integer_value(v);
	return 0;
}

/* Fills s from the entry obj; returns -1 with err set (without the name).
 * A key it does not know is named in a warning (the file, then the entry)
 * and skipped: files written for another tool still load. */
static int strategy_parse(struct strategy *s, json_t *obj, const char *path, const char *entry,
			  struct buf *err)
{
	if (!json_is_object(obj)) {
		buf_adds(err, "expected a mapping of max_words, overlap and separator");
		return -1;
	}
	const char *k;
	json_t *v;
	int by_set = 0;
	json_object_foreach(obj, k, v) {
		if (!strcmp(k, "max_words")) {
			if (whole_number(v, 1, &s->rules.max_words))
				return buf_adds(err, "max_words: expected a whole number of at least 1"), -1;
		} else if (!strcmp(k, "overlap")) {
			if (whole_number(v, 0, &s->rules.overlap))
				return buf_adds(err, "overlap: expected a whole number of at least 0"), -1;
		} else if (!strcmp(k, "separator")) {
			if (!json_is_string(v))
				return buf_adds(err, "separator: expected a regular expression"), -1;
			s->own_sep = chunk_sep_new(json_string_value(v), err);
			if (!s->own_sep)
				return -1;
			s->rules.sep = s->own_sep;
			s->rules.by = CHUNK_SENTENCES;
		} else if (!strcmp(k, "by")) {
			const char *by = json_string_value(v);
			by_set = 1;
			if (by && !strcmp(by, "sentences"))
				s->rules.by = CHUNK_SENTENCES;
			else if (by && !strcmp(by, "paragraph"))
				s->rules.by = CHUNK_PARAGRAPHS;
			else if (by && !strcmp(by, "lines"))
				s->rules.by = CHUNK_LINES;
			else
				return buf_adds(err, "by: expected sentences, paragraph or lines"), -1;
		} else if (!strcmp(k, "cut_at")) {
			if (!json_is_string(v) && !json_is_null(v))
				return buf_adds(err, "cut_at: expected a section title"), -1;
			free(s->own_cut_at);   /* the value goes with the document */
			s->own_cut_at = json_is_string(v) ? xstrdup(json_string_value(v)) : NULL;
			s->rules.cut_at = s->own_cut_at;
		} else {
			warnx_("%s: %s: unknown key '%s' ignored (scg reads max_words, overlap, separator, "
			       "by and cut_at)", path, entry, k);
		}
	}
	if (s->own_sep && by_set && s->rules.by != CHUNK_SENTENCES)
		return buf_adds(err, "a separator applies only with by: sentences"), -1;
	if (s->rules.overlap >= s->rules.max_words) {
		buf_addf(err, "overlap (%ld) must be less than max_words (%ld)",
			 s->rules.overlap, s->rules.max_words);
		return -1;
	}
	return 0;
}

struct chunk_strategies *chunk_strategies_load(const char *path,
		const struct chunk_rules *dflt, struct buf *err)
{
	json_t *root = conf_load(path, err);
	if (!root)
		return NULL;
	if (!json_is_object(root)) {
		buf_addf(err, "%s: expected a mapping of topic/file paths to strategies", path);
		json_decref(root);
		return NULL;
	}
	struct chunk_strategies *ss = xcalloc(1, sizeof *ss);
	ss->v = xcalloc(json_object_size(root) + 1, sizeof *ss->v);
	const char *key;
	json_t *val;
	json_object_foreach(root, key, val) {
		struct strategy *s = &ss->v[ss->n++];
		s->key = xstrdup(strip_dot_slash(key));
		s->rules = *dflt;
		struct buf why = {0};
		if (strategy_parse(s, val, path, key, &why)) {
			buf_addf(err, "%s: %s: %s", path, key, why.p);
			buf_free(&why);
			json_decref(root);
			chunk_strategies_free(ss);
			return NULL;
		}
	}
	json_decref(root);
	return ss;
}

const struct chunk_rules *chunk_strategies_find(struct chunk_strategies *ss, const char *key)
{
	if (!ss)
		return NULL;
	key = strip_dot_slash(key);
	for (size_t i = 0; i < ss->n; i++)
		if (!strcmp(ss->v[i].key, key)) {
			ss->v[i].used = 1;
			return &ss->v[i].rules;
		}
	return NULL;
}

const char *chunk_strategies_unused(const struct chunk_strategies *ss, size_t *i)
{
	for (; ss && *i < ss->n; (*i)++)
		if (!ss->v[*i].used)
			return ss->v[(*i)++].key;
	return NULL;
}

void chunk_strategies_free(struct chunk_strategies *ss)
{
	if (!ss)
		return;
	for (size_t i = 0; i < ss->n; i++) {
		free(ss->v[i].key);
		chunk_sep_free(ss->v[i].own_sep);
		free(ss->v[i].own_cut_at);
	}
	free(ss->v);
	free(ss);
}

/* Configuration and record files that live beside the knowledge (such as
 * the strategy file) are not prose. */
static int is_config(const char *name)
{
	static const char *const exts[] = {".json", ".jsonl", ".yaml", ".yml"};
	size_t n = strlen(name);
	for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++) {
		size_t k = strlen(exts[i]);
		if (n > k && !strcasecmp(name + n - k, exts[i]))
			return 1;
	}
	return 0;
}

/* Appends the files under dir/rel (rel "" for dir itself) to *paths. */
static int walk(const char *dir, const char *rel, char ***paths, size_t *n, struct buf *err)
{
	char *here = *rel ? xasprintf("%s/%s", dir, rel) : xstrdup(dir);
	char **names;
	size_t nn;
	if (dir_names(here, &names, &nn)) {
		buf_addf(err, "%s: %s", here, strerror(errno));
		free(here);
		return -1;
	}

	int rc = 0;
	for (size_t i = 0; i < nn; i++) {
		char *sub = *rel ? xasprintf("%s/%s", rel, names[i]) : xstrdup(names[i]);
		char *full = xasprintf("%s/%s", here, names[i]);
		struct stat st;
		int is_link = lstat(full, &st) == 0 && S_ISLNK(st.st_mode);
		if (rc == 0 && stat(full, &st) == 0) {
			if (S_ISDIR(st.st_mode) && !is_link) {
				rc = walk(dir, sub, paths, n, err);
			} else if (S_ISREG(st.st_mode) && !is_config(names[i])) {
				*paths = xrealloc(*paths, (*n + 1) * sizeof **paths);
				(*paths)[(*n)++] = sub;
				sub = NULL;
			}
		}
		free(sub);
		free(full);
		free(names[i]);
	}
	free(names);
	free(here);
	return rc;
}

long chunk_walk(const char *dir, char ***paths, struct buf *err)
{
	size_t n = 0;
	*paths = NULL;
	/* "kb/" and "kb" name the same folder; keep "/" itself */
	char *d = xstrdup(dir);
	for (size_t l = strlen(d); l > 1 && d[l - 1] == '/'; l--)
		d[l - 1] = 0;
	int rc = walk(d, "", paths, &n, err);
	free(d);
	if (rc) {
		for (size_t i = 0; i < n; i++)
			free((*paths)[i]);
		free(*paths);
		*paths = NULL;
		return -1;
	}
	return (long)n;
}
