/* record: JSONL in and out. Input is read in large blocks and split on
 * newlines, so lines of any length work and memory is the longest line. */
#include "record.h"
#include "jparse.h"
#include "jv.h"
#include "secret.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

long records_rejected;
static struct record_config cfg;

void record_configure(const struct record_config *c)
{
	cfg = *c;
}

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

json_t *record_parse(const char *line, size_t len, struct buf *err)
{
	size_t bad;
	buf_reset(err);
	if (!utf8_valid(line, len, &bad)) {
		buf_addf(err, "invalid UTF-8 at byte %zu", bad + 1);
		return NULL;
	}
	if (len >= 3 && !memcmp(line, "\xef\xbb\xbf", 3)) {
		buf_adds(err, "starts with a byte-order mark; records are UTF-8 without one");
		return NULL;
	}
	struct buf why = {0};
	json_t *v = jparse_utf8(line, len, &why);   /* checked above */
	if (!v) {
		buf_addf(err, "not JSON: %s", why.p);
		buf_free(&why);
		return NULL;
	}
	buf_free(&why);
	if (!json_is_object(v)) {
		json_decref(v);
		buf_adds(err, "not a JSON object");
		return NULL;
	}
	return v;
}

/* A reject that cannot be written is a record lost: the run stops. */
static void reject_write(json_t *line)
{
	FILE *f = cfg.rejects ? cfg.rejects : stderr;
	struct buf b = {0};
	jv_dump(line, &b);
	secret_redact_json(b.p, b.len);
	buf_addc(&b, '\n');
	if (fwrite(b.p, 1, b.len, f) != b.len || fflush(f))
		die_status(2, "%s: %s", cfg.rejects_path && f != stderr ? cfg.rejects_path : "rejects",
			   strerror(errno));
	buf_free(&b);
}

int record_bad(const struct input *in, const char *line, size_t len, const char *reason)
{
	warnx_("%s:%ld: %s", in->name, in->lineno, reason);
	records_rejected++;
	if (!cfg.skip_bad)
		return 1;
	json_t *r = json_object();
	json_t *e = json_pack("{s:s, s:s, s:I, s:s}", "program", prog_name,
			      "input", in->name, "line", (json_int_t)in->lineno,
			      "reason", reason);
	json_object_set_new(r, "error", e);
	if (utf8_valid(line, len, NULL))
		json_object_set_new(r, "text", json_stringn(line, len));
	reject_write(r);
	json_decref(r);
	return 0;
}

int record_each(struct input *in, void (*fn)(json_t *rec, void *ctx), void *ctx)
{
	struct buf err = {0};
	char *line;
	size_t len;
	int status = 0;
	while (input_line(in, &line, &len) > 0) {
		buf_reset(&err);
		json_t *rec = record_parse(line, len, &err);
		if (!rec) {
			status = 1;
			if (record_bad(in, line, len, err.p))
				break;
			continue;
		}
		fn(rec, ctx);
		json_decref(rec);
	}
	buf_free(&err);
	return status;
}

void record_reject(json_t *rec, const char *reason)
{
	const char *id = jv_str(rec, "id");
	warnx_("record %s: %s", id ? id : "(no id)", reason);
	records_rejected++;
	json_t *r = json_deep_copy(rec);
	json_object_set_new(r, "error", json_pack("{s:s, s:s}", "program", prog_name,
						  "reason", reason));
	reject_write(r);
	json_decref(r);
}

/* Output: our own buffer over write(2) so a closed pipe is seen at once. */
static struct buf out;
static int exiting;      /* out_flush runs as an atexit handler */

void out_flush(void)
{
	size_t off = 0;
	while (off < out.len) {
		ssize_t w = write(1, out.p + off, out.len - off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EPIPE) {
				/* a closed stdout ends the program quietly; at exit
				 * already, exit() may not be called again */
				buf_reset(&out);
				if (exiting)
					return;
				exit(0);
			}
			if (errno == EAGAIN) {
				/* stdout is non-blocking (shared with stdin's file):
				 * wait until it takes more, without spinning */
				struct pollfd pfd = {.fd = 1, .events = POLLOUT};
				if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
					die_status(2, "stdout: %s", strerror(errno));
				continue;
			}
			buf_reset(&out);
			if (exiting)
				return;
			die_status(2, "stdout: %s", strerror(errno));
		}
		off += (size_t)w;
	}
	buf_reset(&out);
}

static void out_at_exit(void)
{
	exiting = 1;
	out_flush();
}

static void out_init(void)
{
	static int done;
	if (!done) {
		signal(SIGPIPE, SIG_IGN);
		atexit(out_at_exit);
		done = 1;
	}
}

/* What goes out is masked where it repeats a secret (a server that echoes
 * a key in its answer); a JSON line stays valid JSON. */
void out_line(const char *s, size_t n)
{
	out_init();
	size_t at = out.len;
	buf_add(&out, s, n);
	if (n && (s[0] == '{' || s[0] == '['))
		secret_redact_json(out.p + at, n);
	else
		secret_redact(out.p + at, n);
	buf_addc(&out, '\n');
	if (out.len >= 1 << 16)
		out_flush();
}

void out_record(json_t *rec)
{
	out_init();
	size_t at = out.len;
	jv_dump(rec, &out);
	secret_redact_json(out.p + at, out.len - at);
	buf_addc(&out, '\n');
	if (out.len >= 1 << 16)
		out_flush();
}

