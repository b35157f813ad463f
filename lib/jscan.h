/* jscan: pulls the values at a few paths out of one JSON line without
 * building a tree. One pass checks the whole line's syntax (so malformed
 * JSON is reported, with its column) and decodes only the strings the paths
 * select. Paths are dot-separated object keys and array indices; "*" matches
 * every member or element ("messages.*.content").
 * Used by scg-dedup, which reads millions of lines for the text of one or
 * two paths and passes the kept lines through unchanged: no tree is built,
 * so it is several times faster than lib/jparse.h there. Anything that
 * changes or writes a record parses it whole with jparse (lib/jv.h). */
#ifndef SCG_JSCAN_H
#define SCG_JSCAN_H

#include <stddef.h>

#include "util.h"

struct jscan;

/* paths[0..npaths) are copied. */
struct jscan *jscan_new(int npaths, const char *const *paths);
void jscan_free(struct jscan *js);

/* Scans one line. Returns 0 (the line is then valid UTF-8 too), or -1 with
 * the reason in err: "invalid UTF-8 at byte N" (when the line has any),
 * else "not JSON: ... (column N)" or "not a JSON object". */
int jscan_line(struct jscan *js, const char *line, size_t len, struct buf *err);

/* After jscan_line: how many values path i selected (null counts as absent). */
int jscan_found(const struct jscan *js, int i);
/* The text of path i: every string at or under the selected values, decoded,
 * and numbers and booleans as written, joined by newlines. */
const char *jscan_text(const struct jscan *js, int i, size_t *len);
/* The first selected value of path i as it is written in the line (a JSON
 * token, e.g. "\"p7\"" or "42"), or NULL. Valid until the next scan. */
const char *jscan_raw(const struct jscan *js, int i, size_t *len);

#endif
