/* input: JSONL input, read in large blocks and split on newlines, so
 * lines of any length work and memory is the longest line. */
#include "input.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* stdin's file status flags as they came: O_NONBLOCK is set on the open
 * file, which a terminal shares with the shell, so it is put back. */
static int stdin_flags = -1;

static void stdin_restore(void)
{
	/* at exit, or with stdin closed already, a failure leaves nothing to do */
	if (stdin_flags >= 0 && !(stdin_flags & O_NONBLOCK) && fcntl(0, F_SETFL, stdin_flags) < 0)
		stdin_flags = -1;
}

struct input *input_new(int nfiles, char **files)
{
	struct input *in = xcalloc(1, sizeof *in);
	in->files = files;
	in->nfiles = nfiles;
	in->fd = -1;
	in->name = "stdin";
	return in;
}

void input_set_nonblock(struct input *in)
{
	in->nonblock = 1;
}

static int open_next(struct input *in)
{
	if (in->nfiles == 0 && in->idx == 0) {
		in->idx = 1;
		in->fd = 0;
		in->name = "stdin";
	} else if (in->idx < in->nfiles) {
		const char *f = in->files[in->idx++];
		if (!strcmp(f, "-")) {
			in->fd = 0;
			in->name = "stdin";
		} else {
			in->fd = open(f, O_RDONLY | O_CLOEXEC);
			if (in->fd < 0)
				die_status(2, "%s: %s", f, strerror(errno));
			in->name = f;
		}
	} else {
		in->done = 1;
		return 0;
	}
	in->lineno = 0;
	/* stdin, and a named pipe or <(process substitution) as much, is read
	 * inside the event loop; a regular file is always ready */
	struct stat st;
	if (in->nonblock && (in->fd == 0 || (!fstat(in->fd, &st) && !S_ISREG(st.st_mode)))) {
		int fl = fcntl(in->fd, F_GETFL);
		if (fl < 0)
			die_status(2, "%s: %s", in->name, strerror(errno));
		if (in->fd == 0 && stdin_flags < 0) {
			stdin_flags = fl;
			atexit(stdin_restore);
		}
		if (fcntl(in->fd, F_SETFL, fl | O_NONBLOCK) < 0)
			die_status(2, "%s: %s", in->name, strerror(errno));
	}
	return 1;
}

int input_fd(const struct input *in)
{
	return in->fd;
}

static void close_cur(struct input *in)
{
	if (in->fd > 0)
		close(in->fd);
	else if (in->fd == 0)
		stdin_restore();
	in->fd = -1;
}

int input_line(struct input *in, char **line, size_t *len)
{
	for (;;) {
		if (in->done)
			return 0;
		if (in->fd < 0 && !open_next(in))
			return 0;
		char *base = in->buf.p + in->start;
		size_t avail = in->buf.len - in->start;
		char *nl = avail ? memchr(base, '\n', avail) : NULL;
		if (nl) {
			*nl = 0;
			in->start += (size_t)(nl - base) + 1;
			in->lineno++;
			size_t n = (size_t)(nl - base);
			if (n && base[n - 1] == '\r')
				base[--n] = 0;
			if (strspn(base, " \t") == n)
				continue;  /* blank line */
			*line = base;
			*len = n;
			return 1;
		}
		/* compact, then read more */
		if (in->start) {
			memmove(in->buf.p, in->buf.p + in->start, avail);
			in->buf.len = avail;
			in->start = 0;
		}
		buf_grow(&in->buf, 1 << 16);
		ssize_t r = read(in->fd, in->buf.p + in->buf.len, in->buf.cap - in->buf.len - 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return -1;
			die_status(2, "%s: %s", in->name, strerror(errno));
		}
		if (r == 0) {
			if (in->buf.len > in->start) {
				/* last line without a newline */
				buf_addc(&in->buf, '\n');
				continue;
			}
			close_cur(in);
			buf_reset(&in->buf);
			in->start = 0;
			continue;
		}
		in->buf.len += (size_t)r;
		in->buf.p[in->buf.len] = 0;
	}
}

void input_free(struct input *in)
{
	if (!in)
		return;
	close_cur(in);
	buf_free(&in->buf);
	free(in);
}
