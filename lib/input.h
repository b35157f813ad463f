/* input: reading JSONL input, files named as operands (like cat) or
 * stdin, lines of any length, with the input's name and line number kept
 * for every error. Reading never blocks in the event loop (lib/exec.h):
 * stdin and pipes are polled there. */
#ifndef SCG_INPUT_H
#define SCG_INPUT_H

#include <stddef.h>

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

#endif
