/* report: the self-contained HTML page of scg-report: the page (HTML, CSS
 * and JavaScript from report/, compiled in), the records and the stats
 * object embedded as JSON in script elements, escaped so that no record
 * text can close the element or open a comment, and so that the file holds
 * no http: or https: reference at all. Written as the records come, so the
 * records are never all in memory. */
#ifndef SCG_REPORT_H
#define SCG_REPORT_H

#include <jansson.h>
#include <stdio.h>

#include "util.h"

struct report;

/* Starts the page on f (which stays the caller's) under title. */
struct report *report_open(FILE *f, const char *title);
/* Adds a record to the browser's list. */
void report_add(struct report *r, json_t *rec);
/* Embeds stats (a stats_json object), ends the page and frees r. Returns
 * 0, or -1 when writing failed (errno set). */
int report_close(struct report *r, json_t *stats);

/* JSON text made safe inside <script type="application/json">: <, >, &,
 * U+2028, U+2029 and the colon of "http:" / "https:" as \u escapes (only
 * valid for the text of a JSON value: these appear only inside strings). */
void report_json_escape(struct buf *out, const char *json, size_t n);

#endif
