/* output: records and lines on stdout, masked where they repeat a
 * secret. */
#include "output.h"
#include "jv.h"
#include "secret.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

void out_record_to(struct buf *b, json_t *rec)
{
	size_t at = b->len;
	jv_dump(rec, b);
	secret_redact_json(b->p + at, b->len - at);
	buf_addc(b, '\n');
}

void out_record(json_t *rec)
{
	out_init();
	out_record_to(&out, rec);
	if (out.len >= 1 << 16)
		out_flush();
}

void out_bytes(const char *p, size_t n)
{
	out_init();
	buf_add(&out, p, n);
	if (out.len >= 1 << 16)
		out_flush();
}
