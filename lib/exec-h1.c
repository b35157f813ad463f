/* exec-h1: a plain HTTP/1.1 client for http:// upstreams: scg-mock, a
 * model served on this machine or the LAN (vLLM, llama.cpp, Ollama), an
 * assistant under test. A request on libcurl costs about 75,000
 * instructions of libcurl's own (its printf writes the request head a
 * character at a time; bench/README.md); here it is a few thousand: the
 * head written with memcpy, sent with the body in one writev, the answer
 * read into one buffer and parsed in place.
 *
 * It takes a POST to an http:// URL without userinfo when no proxy
 * variable is set; libcurl keeps https, proxies, userinfo and the batch
 * APIs' calls, and everything when SCG_HTTP=curl. It behaves as libcurl
 * does for those requests: the same headers, the same bounds (the answer's
 * size after decompression, --timeout over the whole request, 10 s to
 * connect), keep-alive connections reused, a request sent again once on a
 * new connection when a kept one turns out closed before any answer, and
 * the same CURLcode results, so req_http_done cannot tell them apart.
 *
 * Each connection is an ev of the loop's event set and has a deadline in
 * a heap; an idle one waits in its host's list, watched so that one the
 * server closes is closed here too. */
#include "exec-int.h"
#include "dheap.h"
#include "opt.h"      /* SCG_VERSION */

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zlib.h>

#define HEAD_MAX (100 * 1024)   /* an answer's head, libcurl's bound too */
#define LINE_MAX_ (4 * 1024)    /* a chunk's size line */
#define READ_SIZE (16 * 1024)

struct host {
	char *authority;        /* host[:port], the Host header */
	char *node, *service;   /* for getaddrinfo */
	struct addrinfo *ai;    /* resolved at the first request, kept for the run */
	struct conn *idle;      /* kept-alive connections, last used first */
	int nidle;
	struct host *next;
};

/* A URL seen before: its host and path, or no host when libcurl takes it. */
struct target {
	char *url;
	struct host *host;
	char *path;
	struct target *next;
};

enum state { C_FAILED, C_CONNECT, C_SEND, C_RECV, C_IDLE, C_CLOSED };
enum phase { P_HEAD, P_LEN, P_CHUNK_SIZE, P_CHUNK_DATA, P_CHUNK_END, P_TRAILER, P_EOF, P_DONE };

struct conn {
	struct ev ev;           /* first: evset_retire frees the connection */
	struct host *host;
	struct req *req;
	enum state state;
	CURLcode failed;        /* C_FAILED: the result, given after the wait */
	struct addrinfo *ai;    /* the address connected to */
	int reused;             /* the request went on a kept-alive connection */
	double started;
	struct dl dl;
	struct buf out;         /* the request head */
	size_t sent;            /* bytes of head and body sent */
	char *in;               /* bytes read and not yet taken */
	size_t in_len, in_cap, scanned;
	enum phase phase;
	unsigned long long left; /* bytes left of the body or of its chunk */
	int keep;               /* may carry another request after this one */
	int got;                /* a byte of the answer came */
	z_stream *z;            /* a gzip or deflate body */
	struct conn *idle_next, *idle_prev;
};

static struct target *targets;
static struct host *hosts;
static struct dheap heap;
static int nidle_all;

/* ---- where a URL goes ---------------------------------------------------- */

static struct host *host_for(const char *auth, size_t len)
{
	struct host *h;
	for (h = hosts; h; h = h->next)
		if (strlen(h->authority) == len && !memcmp(h->authority, auth, len))
			return h;
	const char *host = auth, *hend, *port = NULL;
	if (*auth == '[') {
		const char *rb = memchr(auth, ']', len);
		if (!rb)
			return NULL;
		host = auth + 1;
		hend = rb;
		if (rb + 1 < auth + len) {
			if (rb[1] != ':')
				return NULL;
			port = rb + 2;
		}
	} else {
		const char *colon = memchr(auth, ':', len);
		hend = colon ? colon : auth + len;
		if (colon) {
			if (memchr(colon + 1, ':', (size_t)(auth + len - colon - 1)))
				return NULL;
			port = colon + 1;
		}
	}
	if (hend == host)
		return NULL;
	size_t plen = port ? (size_t)(auth + len - port) : 0;
	if (port && (plen == 0 || plen > 5 || strspn(port, "0123456789") < plen || atoi(port) > 65535 ||
		     atoi(port) == 0))
		return NULL;
	h = xcalloc(1, sizeof *h);
	h->authority = xstrndup(auth, len);
	h->node = xstrndup(host, (size_t)(hend - host));
	h->service = port ? xstrndup(port, plen) : xstrdup("80");
	h->next = hosts;
	hosts = h;
	return h;
}

/* The target of url, or NULL when libcurl is to take it. */
static struct target *target_of(const char *url)
{
	struct target *t;
	for (t = targets; t; t = t->next)
		if (!strcmp(t->url, url))
			return t->host ? t : NULL;
	t = xcalloc(1, sizeof *t);
	t->url = xstrdup(url);
	t->next = targets;
	targets = t;
	if (strncasecmp(url, "http://", 7))
		return NULL;
	const char *auth = url + 7;
	size_t alen = strcspn(auth, "/?#");
	const char *rest = auth + alen;
	if (!alen || memchr(auth, '@', alen))
		return NULL;   /* userinfo: libcurl makes it Basic auth */
	for (const char *p = url; *p; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f || *p == '#')
			return NULL;   /* what libcurl would encode or cut */
	if (!(t->host = host_for(auth, alen)))
		return NULL;
	t->path = *rest == '/' ? xstrdup(rest) : xasprintf("/%s", rest);
	return t;
}

/* ---- connections ----------------------------------------------------------- */

static void idle_remove(struct conn *c)
{
	if (c->idle_prev)
		c->idle_prev->idle_next = c->idle_next;
	else
		c->host->idle = c->idle_next;
	if (c->idle_next)
		c->idle_next->idle_prev = c->idle_prev;
	c->idle_next = c->idle_prev = NULL;
	c->host->nidle--;
	nidle_all--;
}

static void conn_close(struct conn *c)
{
	if (c->state == C_IDLE)
		idle_remove(c);
	dheap_set(&heap, &c->dl, -1);
	if (c->ev.fd >= 0) {
		evset_forget(c->ev.fd);
		close(c->ev.fd);
		c->ev.fd = -1;
	}
	if (c->z) {
		inflateEnd(c->z);
		free(c->z);
	}
	buf_free(&c->out);
	free(c->in);
	c->in = NULL;
	c->state = C_CLOSED;
	evset_retire(&c->ev);
}

static void watch(struct conn *c, unsigned flags)
{
	if (evset_watch(c->ev.fd, flags, &c->ev))
		die("epoll_ctl: socket %d: %s", c->ev.fd, strerror(errno));
}

/* Connects to c->ai or the addresses after it; 0, or -1 when none is left. */
static int conn_connect(struct conn *c)
{
	for (; c->ai; c->ai = c->ai->ai_next) {
		int fd = socket(c->ai->ai_family, c->ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
				c->ai->ai_protocol);
		if (fd < 0)
			continue;
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
		if (connect(fd, c->ai->ai_addr, c->ai->ai_addrlen) == 0 || errno == EINPROGRESS) {
			c->ev.fd = fd;
			c->state = C_CONNECT;
			watch(c, EVF_OUT);
			return 0;
		}
		close(fd);
	}
	return -1;
}

static struct conn *conn_new(struct host *h)
{
	struct conn *c = xcalloc(1, sizeof *c);
	c->ev.type = EV_H1;
	c->ev.fd = -1;
	c->host = h;
	c->dl = DL_NONE;
	return c;
}

/* ---- the answer -------------------------------------------------------------- */

static void finish(struct conn *c, CURLcode cc);

/* Body bytes: inflated when encoded, kept up to --max-answer-bytes.
 * Returns -1 when the request has ended. */
static int body(struct conn *c, const char *p, size_t n)
{
	struct req *r = c->req;
	if (!c->z) {
		if (n > (size_t)ex.cfg.max_answer - r->resp.len) {
			r->too_big = 1;
			finish(c, CURLE_WRITE_ERROR);
			return -1;
		}
		buf_add(&r->resp, p, n);
		return 0;
	}
	c->z->next_in = (unsigned char *)p;
	c->z->avail_in = (unsigned)n;
	while (c->z->avail_in) {
		unsigned char tmp[READ_SIZE];
		c->z->next_out = tmp;
		c->z->avail_out = sizeof tmp;
		int zr = inflate(c->z, Z_NO_FLUSH);
		if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR) {
			finish(c, CURLE_BAD_CONTENT_ENCODING);
			return -1;
		}
		size_t got = sizeof tmp - c->z->avail_out;
		if (got > (size_t)ex.cfg.max_answer - r->resp.len) {
			r->too_big = 1;
			finish(c, CURLE_WRITE_ERROR);
			return -1;
		}
		buf_add(&r->resp, tmp, got);
		if (zr == Z_STREAM_END || (zr == Z_BUF_ERROR && !got))
			break;
	}
	return 0;
}

/* The end of the line starting at p, past its '\n', or NULL. */
static const char *line_end(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	return nl ? nl + 1 : NULL;
}

/* A line without its CR LF is empty. */
static int blank(const char *p, const char *e)
{
	return e - p == 1 || (e - p == 2 && *p == '\r');
}

static int is_header(const char *p, size_t len, const char *name)
{
	size_t n = strlen(name);
	return len > n && p[n] == ':' && !strncasecmp(p, name, n);
}

/* The header's value without white space around it, in v (NUL-ended). */
static void header_text(const char *p, size_t len, size_t skip, char *v, size_t vsize)
{
	const char *s = p + skip, *e = p + len;
	while (s < e && (*s == ' ' || *s == '\t'))
		s++;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		e--;
	size_t n = (size_t)(e - s) < vsize ? (size_t)(e - s) : vsize - 1;
	memcpy(v, s, n);
	v[n] = 0;
}

/* Reads the head from h to he (blank line included): the status, the
 * body's framing, the headers req_http_done reads. 0, or a CURLcode. */
static CURLcode head(struct conn *c, const char *h, const char *he)
{
	struct req *r = c->req;
	const char *le = line_end(h, he);
	if (he - h < 12 || strncmp(h, "HTTP/1.", 7) || (h[7] != '0' && h[7] != '1') || h[8] != ' ' ||
	    !strchr("123456789", h[9]) || h[10] < '0' || h[10] > '9' || h[11] < '0' || h[11] > '9')
		return CURLE_WEIRD_SERVER_REPLY;
	r->status = (h[9] - '0') * 100 + (h[10] - '0') * 10 + (h[11] - '0');
	c->keep = h[7] == '1';
	long long clen = -1;
	int chunked = 0, enc = 0;
	for (const char *p = le; p < he; p = le) {
		le = line_end(p, he);
		size_t len = (size_t)(le - p);
		char v[64];
		if (blank(p, le))
			break;
		http_header_seen(r, p, len);
		if (is_header(p, len, "content-length")) {
			header_text(p, len, 15, v, sizeof v);
			char *end;
			errno = 0;
			long long n = strtoll(v, &end, 10);
			if (!*v || *end || n < 0 || errno || (clen >= 0 && clen != n))
				return CURLE_WEIRD_SERVER_REPLY;
			clen = n;
		} else if (is_header(p, len, "transfer-encoding")) {
			header_text(p, len, 18, v, sizeof v);
			if (strcasecmp(v, "chunked"))
				return CURLE_BAD_CONTENT_ENCODING;
			chunked = 1;
		} else if (is_header(p, len, "content-encoding")) {
			header_text(p, len, 17, v, sizeof v);
			if (!strcasecmp(v, "gzip") || !strcasecmp(v, "x-gzip") || !strcasecmp(v, "deflate"))
				enc = 1;
			else if (strcasecmp(v, "identity"))
				return CURLE_BAD_CONTENT_ENCODING;
		} else if (is_header(p, len, "connection")) {
			header_text(p, len, 11, v, sizeof v);
			if (!strcasecmp(v, "close"))
				c->keep = 0;
			else if (!strcasecmp(v, "keep-alive"))
				c->keep = 1;
		}
	}
	if (r->status < 200)
		return CURLE_OK;   /* an interim answer: the real one follows */
	if (enc) {
		c->z = xcalloc(1, sizeof *c->z);
		if (inflateInit2(c->z, 15 + 32) != Z_OK)   /* gzip or zlib, told by the header */
			die("zlib: cannot start inflating");
	}
	if (r->status == 204 || r->status == 304) {
		c->phase = P_DONE;
	} else if (chunked) {
		c->phase = P_CHUNK_SIZE;
	} else if (clen >= 0) {
		/* a declared size past the cap fails before the body comes */
		if ((unsigned long long)clen > (unsigned long long)ex.cfg.max_answer)
			return CURLE_FILESIZE_EXCEEDED;
		c->phase = clen ? P_LEN : P_DONE;
		c->left = (unsigned long long)clen;
	} else {
		c->phase = P_EOF;
		c->keep = 0;
	}
	return CURLE_OK;
}

/* Takes what c->in holds; the request may end in here. */
static void take(struct conn *c)
{
	const char *p = c->in, *end = c->in + c->in_len;
	while (c->phase != P_DONE && p < end) {
		const char *le;
		size_t n = (size_t)(end - p);
		switch (c->phase) {
		case P_HEAD: {
			/* the blank line that ends the head, searched from where
			 * the last read left off */
			const char *s = c->in + (c->scanned > 2 ? c->scanned - 2 : 0), *he = NULL;
			while ((le = line_end(s, end))) {
				const char *next = line_end(le, end);
				if (next && blank(le, next)) {
					he = next;
					break;
				}
				s = le;
			}
			c->scanned = c->in_len;
			if (!he) {
				if (c->in_len > HEAD_MAX) {
					finish(c, CURLE_WEIRD_SERVER_REPLY);
					return;
				}
				goto keep;
			}
			CURLcode cc = head(c, p, he);
			if (cc != CURLE_OK) {
				finish(c, cc);
				return;
			}
			p = he;
			c->scanned = 0;
			if (c->req->status < 200) {   /* drop it and read on */
				c->req->status = 0;
				memmove(c->in, p, (size_t)(end - p));
				c->in_len = (size_t)(end - p);
				p = c->in;
				end = c->in + c->in_len;
			}
			break;
		}
		case P_LEN:
		case P_CHUNK_DATA:
			if (n > c->left)
				n = (size_t)c->left;
			if (body(c, p, n))
				return;
			p += n;
			if (!(c->left -= n))
				c->phase = c->phase == P_LEN ? P_DONE : P_CHUNK_END;
			break;
		case P_EOF:
			if (body(c, p, n))
				return;
			p = end;
			break;
		case P_CHUNK_SIZE:
		case P_CHUNK_END:
		case P_TRAILER:
			if (!(le = line_end(p, end))) {
				if (n > LINE_MAX_) {
					finish(c, CURLE_WEIRD_SERVER_REPLY);
					return;
				}
				goto keep;
			}
			if (c->phase == P_CHUNK_END) {
				if (!blank(p, le)) {
					finish(c, CURLE_WEIRD_SERVER_REPLY);
					return;
				}
				c->phase = P_CHUNK_SIZE;
			} else if (c->phase == P_TRAILER) {
				if (blank(p, le))
					c->phase = P_DONE;
			} else {
				char *e;
				errno = 0;
				unsigned long long size = strtoull(p, &e, 16);
				if (e == p || errno || !strchr(";\r\n \t", *e)) {
					finish(c, CURLE_WEIRD_SERVER_REPLY);
					return;
				}
				c->left = size;
				c->phase = size ? P_CHUNK_DATA : P_TRAILER;
			}
			p = le;
			break;
		case P_DONE:
			break;
		}
	}
	if (c->phase == P_DONE) {
		if (p < end)
			c->keep = 0;   /* more than was asked for */
		finish(c, CURLE_OK);
		return;
	}
keep:
	/* what is not taken yet moves to the front */
	if (p != c->in) {
		memmove(c->in, p, (size_t)(end - p));
		c->in_len = (size_t)(end - p);
		c->scanned = c->scanned > (size_t)(p - c->in) ? c->scanned - (size_t)(p - c->in) : 0;
	}
}

/* ---- sending and receiving ------------------------------------------------ */

static void send_on(struct conn *c);
static void request_on(struct conn *c, struct req *r);

/* A kept-alive connection the server had closed before any answer: the
 * request goes again on a new one (libcurl does the same). */
static int stale(struct conn *c)
{
	if (!c->reused || c->got)
		return 0;
	struct req *r = c->req;
	double started = c->started;
	c->req = NULL;
	conn_close(c);
	struct conn *n = conn_new(r->h1_host);
	n->started = started;
	request_on(n, r);
	return 1;
}

static void send_on(struct conn *c)
{
	struct req *r = c->req;
	size_t blen = strlen(r->h.body), hlen = c->out.len;
	while (c->sent < hlen + blen) {
		struct iovec iov[2];
		int k = 0;
		if (c->sent < hlen)
			iov[k++] = (struct iovec){c->out.p + c->sent, hlen - c->sent};
		size_t boff = c->sent > hlen ? c->sent - hlen : 0;
		if (blen > boff)
			iov[k++] = (struct iovec){r->h.body + boff, blen - boff};
		ssize_t w = writev(c->ev.fd, iov, k);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				watch(c, EVF_OUT);
				return;
			}
			if (!stale(c))
				finish(c, CURLE_SEND_ERROR);
			return;
		}
		c->sent += (size_t)w;
	}
	c->state = C_RECV;
	watch(c, EVF_IN);
}

static void recv_on(struct conn *c)
{
	for (;;) {
		if (c->in_cap - c->in_len < READ_SIZE / 2) {
			c->in_cap = c->in_cap ? 2 * c->in_cap : READ_SIZE;
			c->in = xrealloc(c->in, c->in_cap);
		}
		size_t room = c->in_cap - c->in_len;
		ssize_t n = read(c->ev.fd, c->in + c->in_len, room);
		if (n > 0) {
			c->got = 1;
			c->in_len += (size_t)n;
			take(c);
			/* a short read took what there was: the next comes as an event */
			if (c->state != C_RECV || (size_t)n < room)
				return;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (stale(c))
			return;
		if (n == 0 && c->phase == P_EOF)
			finish(c, CURLE_OK);
		else if (n == 0)
			finish(c, c->got ? CURLE_PARTIAL_FILE : CURLE_GOT_NOTHING);
		else
			finish(c, CURLE_RECV_ERROR);
		return;
	}
}

/* The request's head: what libcurl sends for a POST with these headers. */
static void write_head(struct conn *c, struct req *r, const struct target *t)
{
	static const char *const ours[] = {"host", "user-agent", "accept", "content-type"};
	int mine[4] = {1, 1, 1, 1};
	struct buf *b = &c->out;
	buf_reset(b);
	for (struct curl_slist *s = r->h.headers; s; s = s->next)
		for (int i = 0; i < 4; i++)
			if (!strncasecmp(s->data, ours[i], strlen(ours[i])) &&
			    strchr(":;", s->data[strlen(ours[i])]))
				mine[i] = 0;
	buf_adds(b, "POST ");
	buf_adds(b, t->path);
	buf_adds(b, " HTTP/1.1\r\n");
	if (mine[0]) {
		buf_adds(b, "Host: ");
		buf_adds(b, t->host->authority);
		buf_adds(b, "\r\n");
	}
	if (mine[1])
		buf_adds(b, "User-Agent: scg/" SCG_VERSION "\r\n");
	if (mine[2])
		buf_adds(b, "Accept: */*\r\n");
	for (struct curl_slist *s = r->h.headers; s; s = s->next) {
		const char *d = s->data, *sep = d + strcspn(d, ":;");
		if (!*sep || (!strncasecmp(d, "content-length", 14) && sep == d + 14))
			continue;
		if (*sep == ';') {   /* "Name;": sent with no value */
			if (sep[1])
				continue;
			buf_add(b, d, (size_t)(sep - d));
			buf_adds(b, ":\r\n");
			continue;
		}
		const char *v = sep + 1;
		while (*v == ' ')
			v++;
		if (!*v)
			continue;   /* "Name:": not sent */
		buf_adds(b, d);
		buf_adds(b, "\r\n");
	}
	char num[24];
	int nl = snprintf(num, sizeof num, "%zu", strlen(r->h.body));
	buf_adds(b, "Content-Length: ");
	buf_add(b, num, (size_t)nl);
	buf_adds(b, "\r\n");
	if (mine[3])
		buf_adds(b, "Content-Type: application/x-www-form-urlencoded\r\n");
	buf_adds(b, "\r\n");
}

/* Sends r on c, a new connection (connected here) or a kept one. */
static void request_on(struct conn *c, struct req *r)
{
	const struct target *t = r->h1_target;
	c->req = r;
	c->sent = 0;
	c->in_len = c->scanned = 0;
	c->phase = P_HEAD;
	c->got = 0;
	c->keep = 0;
	write_head(c, r, t);
	double timeout = r->timeout;
	if (c->ev.fd < 0) {
		c->ai = c->host->ai;
		if (conn_connect(c)) {
			c->state = C_FAILED;
			c->failed = CURLE_COULDNT_CONNECT;
			dheap_set(&heap, &c->dl, 0);
			return;
		}
		if (timeout > 10)
			timeout = 10;
		dheap_set(&heap, &c->dl, c->started + timeout);
		return;
	}
	dheap_set(&heap, &c->dl, c->started + timeout);
	c->state = C_SEND;
	send_on(c);
}

static void connected(struct conn *c)
{
	int err = 0;
	socklen_t len = sizeof err;
	if (getsockopt(c->ev.fd, SOL_SOCKET, SO_ERROR, &err, &len) || err) {
		evset_forget(c->ev.fd);
		close(c->ev.fd);
		c->ev.fd = -1;
		c->ai = c->ai->ai_next;
		if (conn_connect(c))
			finish(c, CURLE_COULDNT_CONNECT);
		return;
	}
	dheap_set(&heap, &c->dl, c->started + c->req->timeout);
	c->state = C_SEND;
	send_on(c);
}

/* The request on c has ended with cc: c is kept for the next one or
 * closed, and the request goes to req_http_done. */
static void finish(struct conn *c, CURLcode cc)
{
	struct req *r = c->req;
	c->req = NULL;
	dheap_set(&heap, &c->dl, -1);
	if (c->z) {
		inflateEnd(c->z);
		free(c->z);
		c->z = NULL;
	}
	if (cc == CURLE_OK && c->keep && c->phase == P_DONE && nidle_all < ex.cfg.jobs) {
		c->state = C_IDLE;
		c->reused = 1;
		c->idle_next = c->host->idle;
		c->idle_prev = NULL;
		if (c->idle_next)
			c->idle_next->idle_prev = c;
		c->host->idle = c;
		c->host->nidle++;
		nidle_all++;
		watch(c, EVF_IN);
		buf_reset(&c->out);
	} else {
		conn_close(c);
	}
	req_http_done(r, cc);
}

/* ---- the executor's side ------------------------------------------------- */

int h1_start(struct req *r)
{
	static int off = -1;
	if (off < 0) {
		const char *e = getenv("SCG_HTTP");
		off = e && !strcmp(e, "curl");
	}
	struct target *t;
	if (off || !(t = target_of(r->h.url)))
		return 0;
	struct host *h = t->host;
	http_reset(r);
	r->h1_target = t;
	r->h1_host = h;
	struct conn *c = h->idle;
	if (c) {
		idle_remove(c);
	} else {
		c = conn_new(h);
		if (!h->ai) {
			/* once a run, at the host's first request; a failure is tried
			 * again at the next */
			struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
			if (getaddrinfo(h->node, h->service, &hints, &h->ai)) {
				h->ai = NULL;
				c->req = r;
				c->state = C_FAILED;
				c->failed = CURLE_COULDNT_RESOLVE_HOST;
				dheap_set(&heap, &c->dl, 0);
				return 1;
			}
		}
	}
	c->started = now_mono();
	request_on(c, r);
	return 1;
}

void h1_ready(struct ev *e, unsigned flags)
{
	struct conn *c = (struct conn *)e;
	switch (c->state) {
	case C_IDLE: {
		/* the server closed it, or says what was not asked for */
		char b;
		ssize_t n = recv(c->ev.fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return;
		conn_close(c);
		return;
	}
	case C_CONNECT:
		connected(c);
		return;
	case C_SEND:
		send_on(c);
		return;
	case C_RECV:
		if (flags & (EVF_IN | EVF_ERR))
			recv_on(c);
		return;
	case C_FAILED:
	case C_CLOSED:
		return;
	}
}

double h1_deadline(void)
{
	return dheap_first(&heap);
}

void h1_after_wait(double now)
{
	struct dl *d;
	while ((d = dheap_pop_due(&heap, now))) {
		struct conn *c = container_of(d, struct conn, dl);
		finish(c, c->state == C_FAILED ? c->failed : CURLE_OPERATION_TIMEDOUT);
	}
}

void h1_cleanup(void)
{
	for (struct host *h = hosts; h; h = h->next)
		while (h->idle)
			conn_close(h->idle);
	evset_free_retired();
	while (hosts) {
		struct host *h = hosts;
		hosts = h->next;
		if (h->ai)
			freeaddrinfo(h->ai);
		free(h->authority);
		free(h->node);
		free(h->service);
		free(h);
	}
	while (targets) {
		struct target *t = targets;
		targets = t->next;
		free(t->url);
		free(t->path);
		free(t);
	}
	dheap_free(&heap);
}
