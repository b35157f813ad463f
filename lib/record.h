/* record: one record of JSONL: a line parsed into a JSON object (UTF-8
 * checked), a bad line or a failed record sent to the rejects with its
 * reason, a record derived from another with its fields in order. Lines
 * come from lib/input.h and records go out through lib/output.h. */
#ifndef SCG_RECORD_H
#define SCG_RECORD_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

#include "input.h"
#include "output.h"
#include "util.h"

/* Where rejects go and what a bad input line does (lib/run.c fills it
 * from --rejects and --on-error). Until it is called, rejects go to
 * stderr and a bad line stops the program. */
struct record_config {
	FILE *rejects;              /* NULL: stderr */
	const char *rejects_path;   /* its name, for a failed write */
	int skip_bad;               /* --on-error skip: reject a bad line and read on */
};
void record_configure(const struct record_config *c);

/* Parses a line into a JSON object, or returns NULL with the reason in err
 * ("invalid UTF-8 at byte 7", "not JSON: ...", "not a JSON object"). */
json_t *record_parse(const char *line, size_t len, struct buf *err);

/* A bad input line: "prog: NAME:LINE: reason" on stderr, and the line in the
 * rejects. Returns 1 when the program must stop (--on-error=fail). */
int record_bad(const struct input *in, const char *line, size_t len, const char *reason);

/* Reads every line of in as a record and calls fn(rec, ctx) on it (fn
 * borrows rec). A bad line goes to record_bad. Returns 0, or 1 when a line
 * was bad (reading stopped there unless --on-error=skip). */
int record_each(struct input *in, void (*fn)(json_t *rec, void *ctx), void *ctx);

/* A record that failed: the whole record plus "error":{"program","reason"}
 * goes to the rejects, and a one-line warning to stderr. */
void record_reject(json_t *rec, const char *reason);
extern long records_rejected;   /* counts record_bad + record_reject */

/* A record made from an input record. Every input field stays where it
 * was (DESIGN §2: order kept, so filters find their own fields), except
 * those the program sets or replaces: a new object of rec's fields in
 * their order, each field of `with` that rec also has replaced where it
 * stands, the field named `at` (may be NULL) replaced by the rest of
 * `with`, or else the rest appended at the end; an "id" that rec lacks
 * goes first. Steals `with`; rec's values are shared. */
json_t *record_derive(json_t *rec, json_t *with, const char *at);


#endif
