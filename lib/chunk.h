/* chunk: cutting knowledge text into chunks. A text is cut into units
 * (sentences at a separator regular expression, paragraphs, or lines),
 * and units are packed whole into chunks of at most max_words words, each
 * chunk after the first repeating the last `overlap` words of the one
 * before. Also here: the per-file strategy map (the original tools'
 * chunk-strategy file), the check that a file is text, the cut at a
 * section title, and the sorted walk of a knowledge folder. */
#ifndef SCG_CHUNK_H
#define SCG_CHUNK_H

#include <stddef.h>

#include "util.h"

#define CHUNK_DEFAULT_SEPARATOR "(?<=[.!?])\\s+"
#define CHUNK_DEFAULT_MAX_WORDS 500
/* A knowledge file is read whole; past this it is refused, so that a
 * device or an endless pipe cannot take all memory. */
#define CHUNK_MAX_FILE (64L << 20)

enum chunk_by { CHUNK_SENTENCES, CHUNK_PARAGRAPHS, CHUNK_LINES };

/* A compiled separator (PCRE2, UTF and Unicode properties on). */
struct chunk_sep;

/* NULL on a bad pattern, with "PCRE2's message at offset N" in err. */
struct chunk_sep *chunk_sep_new(const char *pattern, struct buf *err);
void chunk_sep_free(struct chunk_sep *sep);

struct chunk_rules {
	enum chunk_by by;
	long max_words;           /* >= 1 */
	long overlap;             /* 0 <= overlap < max_words */
	struct chunk_sep *sep;    /* CHUNK_SENTENCES only; owned elsewhere */
	const char *cut_at;       /* a section title, or NULL */
};

/* A chunk is the bytes text[start, start + len) of the text it came from:
 * the original text from its first word to its last, white space and
 * Markdown kept. */
struct chunk_span {
	size_t start, len;
};

/* Cuts text, which must be valid UTF-8 (see chunk_text_check), into spans
 * (*spans is allocated, the caller frees it) and returns their number, or
 * -1 with err set when the separator fails. */
long chunk_split(const struct chunk_rules *r, const char *text, size_t len,
		 struct chunk_span **spans, struct buf *err);

/* The length of text before the first heading line whose words are
 * title's, ASCII case ignored: "Legacy" finds "Legacy", "## Legacy",
 * "== Legacy ==" and "Legacy[edit]" (blanks around allowed). */
size_t chunk_cut_at(const char *text, size_t len, const char *title);

/* 0 when data is UTF-8 text, with *skip the length of a UTF-8 byte-order
 * mark to ignore; -1 otherwise, with why set to what the file is and how
 * to convert it ("a PDF file; convert it to text first, e.g. ..."), and
 * *line the line of the first bad byte (0 when not about one byte). */
int chunk_text_check(const char *path, const char *data, size_t len,
		     size_t *skip, long *line, struct buf *why);

/* A strategy file: "topic/file" (relative to the knowledge folder) ->
 * {max_words, overlap, separator}; scg also reads "by" and "cut_at". */
struct chunk_strategies;

/* Loads a strategy file (JSON or YAML); entries start from dflt and
 * override what they name. NULL with err "FILE: KEY: what is wrong". */
struct chunk_strategies *chunk_strategies_load(const char *path,
		const struct chunk_rules *dflt, struct buf *err);
/* The rules for key, or NULL; marks the entry as used. */
const struct chunk_rules *chunk_strategies_find(struct chunk_strategies *s,
		const char *key);
/* The keys never found, one per call (i from 0), then NULL. */
const char *chunk_strategies_unused(const struct chunk_strategies *s, size_t *i);
void chunk_strategies_free(struct chunk_strategies *s);

/* The files under dir, recursively, as paths relative to dir: each
 * folder's entries in byte order of their names; hidden names ('.'),
 * symbolic links to folders and .json, .jsonl, .yaml and .yml files
 * (configuration such as a strategy file, not prose) left out. Returns the count; *paths is a
 * malloc'd array of malloc'd strings. -1 with err set when a folder
 * cannot be read. */
long chunk_walk(const char *dir, char ***paths, struct buf *err);

#endif
