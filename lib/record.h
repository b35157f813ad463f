/* record: reading JSONL input (files named as operands, like cat, or
 * stdin), lines of any length, UTF-8 checked, with the input name and line
 * number for every error; writing records and rejects. */
#ifndef SCG_RECORD_H
#define SCG_RECORD_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

#include "util.h"

struct input {
	char **files;
	int nfiles, idx;
	int fd;                 /* -1 between files */
	const char *name;       /* "stdin" or the file name */
	long lineno;            /* number of the line last returned */
	int nonblock;
	int done;               /* all input read */
	struct buf buf;         /* unread bytes are buf.p[start..buf.len) */
	size_t start;
	char *carry;            /* the line returned last (when it was copied) */
};

/* Operands as given to the program; none (or "-") means stdin. */
struct input *input_new(int nfiles, char **files);
/* For the event loop: reads never block (stdin is polled). */
void input_set_nonblock(struct input *in);
/* 1: *line (NUL-terminated, no newline) valid until the next call;
 * 0: end of all input; -1: no whole line available yet (non-blocking only).
 * Blank lines are skipped. A file that cannot be opened ends the program. */
int input_line(struct input *in, char **line, size_t *len);
int input_fd(const struct input *in);   /* the descriptor to poll, or -1 */
void input_free(struct input *in);

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

/* Output on stdout. A closed stdout ends the program quietly (status 0). */
void out_line(const char *s, size_t n);  /* s, then a newline */
void out_record(json_t *rec);           /* compact, key order kept */
void out_flush(void);

/* The old name of jv_str, for cmd/scg-mock.c only, until it moves to its
 * own folder (issue 20, item 5); nothing else uses it. */
#define json_str jv_str
#include "jv.h"

#endif
