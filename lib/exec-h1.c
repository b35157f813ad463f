/* exec-h1: a plain HTTP/1.1 client for http:// upstreams: scg-mock, a
 * model served on this machine or the LAN (vLLM, llama.cpp, Ollama), an
 * assistant under test. A request on libcurl costs about 75,000
 * instructions of libcurl's own (its printf writes the request head a
 * character at a time; bench/README.md); here it is a few thousand: the
 * head written with memcpy, sent with the body in one writev, the answer
 * read into one buffer and parsed in place.
 *
 * It takes a POST to an http:// URL whose host is an IP address or
 * localhost (nothing to resolve, so nothing that blocks the loop), without
 * userinfo, when no proxy for http is set (http_proxy, all_proxy,
 * ALL_PROXY; libcurl reads no other for http://); libcurl keeps host
 * names, https, proxies, userinfo and the batch APIs' calls, and
 * everything when SCG_HTTP=curl. It behaves as libcurl
 * does for those requests: the same headers, the same bounds (the answer's
 * size after decompression, --timeout over the whole request, 10 s to
 * connect), keep-alive connections reused, a request sent again once on a
 * new connection when a kept one turns out closed before any answer, and
 * the same CURLcode results, so req_http_done cannot tell them apart.
 *
 * Each connection is an ev of the loop's event set and has a deadline in
 * a heap; an idle one waits in its host's list, watched so that one the
 * server closes is closed here too. */
#include "exec-h1-int.h"
#include "opt.h"      /* SCG_VERSION */

#include <errno.h>
#include <math.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

static void finish(struct conn *c, CURLcode cc);

static struct target *targets;
static struct host *hosts;
static struct dheap heap;
static int nidle_all;

/* ---- where a URL goes ---------------------------------------------------- */

/* The addresses of a host that needs no resolver: an IPv4 or IPv6
 * literal, or localhost, which is ::1 and 127.0.0.1 (RFC 6761; libcurl
 * too answers it so). Any other name goes to libcurl, which resolves in a
 * thread of its own and keeps what it found for a minute. */
static int host_addrs(struct host *h, const char *name, size_t len, int port)
{
	char node[64];
	if (len >= sizeof node)
		return -1;
	memcpy(node, name, len);
	node[len] = 0;
	struct sockaddr_in *v4 = (struct sockaddr_in *)&h->addr[h->naddr];
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&h->addr[h->naddr];
	if (!strcasecmp(node, "localhost")) {
		return host_addrs(h, "::1", 3, port) || host_addrs(h, "127.0.0.1", 9, port) ? -1 : 0;
	} else if (inet_pton(AF_INET, node, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
		h->addrlen[h->naddr++] = sizeof *v4;
	} else if (inet_pton(AF_INET6, node, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
		h->addrlen[h->naddr++] = sizeof *v6;
	} else {
		return -1;
	}
	return 0;
}

/* The host of an authority (host[:port]), or NULL when libcurl takes it. */
static struct host *host_for(const char *auth, size_t len)
{
	struct host *h;
	for (h = hosts; h; h = h->next)
		if (strlen(h->authority) == len && !memcmp(h->authority, auth, len))
			return h;
	const char *name = auth, *nend, *colon;
	if (*auth == '[') {
		if (!(nend = memchr(auth, ']', len)))
			return NULL;
		name = auth + 1;
		colon = nend + 1 < auth + len ? nend + 1 : NULL;
		if (colon && *colon != ':')
			return NULL;
	} else {
		colon = memchr(auth, ':', len);
		nend = colon ? colon : auth + len;
	}
	int port = 80;
	if (colon) {
		size_t plen = (size_t)(auth + len - colon - 1);
		if (plen == 0 || plen > 5 || strspn(colon + 1, "0123456789") < plen)
			return NULL;
		port = atoi(colon + 1);
		if (port == 0 || port > 65535)
			return NULL;
	}
	h = xcalloc(1, sizeof *h);
	if (host_addrs(h, name, (size_t)(nend - name), port) ||
	    (*auth == '[' && h->addr[0].ss_family != AF_INET6)) {
		free(h);
		return NULL;
	}
	h->authority = xstrndup(auth, len);
	/* the Host header, as libcurl writes it: without a port of 80 */
	h->host_header = port == 80 ? xstrndup(auth, (size_t)(nend - auth) + (*auth == '[')) : xstrdup(h->authority);
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
	nidle_all--;
}

/* Ends the inflate stream of a gzip or deflate body, if any. */
static void inflate_end(struct conn *c)
{
	if (c->z) {
		inflateEnd(c->z);
		free(c->z);
		c->z = NULL;
	}
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
	inflate_end(c);
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

/* Connects to the host's address c->addr_i or one after it; 0, or -1
 * when none is left. */
static int conn_connect(struct conn *c)
{
	for (; c->addr_i < c->host->naddr; c->addr_i++) {
		const struct sockaddr *sa = (const struct sockaddr *)&c->host->addr[c->addr_i];
		int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
		if (connect(fd, sa, c->host->addrlen[c->addr_i]) == 0 || errno == EINPROGRESS) {
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
	struct conn *n = conn_new(c->host);
	n->started = c->started;
	c->req = NULL;
	conn_close(c);
	request_on(n, r);
	return 1;
}

static void send_on(struct conn *c)
{
	struct req *r = c->req;
	size_t blen = c->body_len, hlen = c->out.len;
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
			int cc = h1_take(c);
			if (cc >= 0) {
				finish(c, (CURLcode)cc);
				return;
			}
			/* a short read took what there was: the next comes as an event */
			if ((size_t)n < room)
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
		else if (n == 0 && c->phase == P_HEAD)
			finish(c, c->got ? CURLE_WEIRD_SERVER_REPLY : CURLE_GOT_NOTHING);
		else if (n == 0)
			finish(c, CURLE_PARTIAL_FILE);
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
			if (!strncasecmp(s->data, ours[i], strlen(ours[i])) && s->data[strlen(ours[i])] &&
			    strchr(":;", s->data[strlen(ours[i])]))
				mine[i] = 0;
	buf_adds(b, "POST ");
	buf_adds(b, t->path);
	buf_adds(b, " HTTP/1.1\r\n");
	if (mine[0]) {
		buf_adds(b, "Host: ");
		buf_adds(b, t->host->host_header);
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
	int nl = snprintf(num, sizeof num, "%zu", c->body_len);
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
	c->body_len = strlen(r->h.body);
	write_head(c, r, t);
	if (c->ev.fd >= 0) {   /* a kept connection */
		dheap_set(&heap, &c->dl, c->started + r->timeout);
		c->state = C_SEND;
		send_on(c);
		return;
	}
	c->addr_i = 0;
	if (conn_connect(c)) {   /* answered after the wait, as a failure */
		c->state = C_FAILED;
		c->failed = CURLE_COULDNT_CONNECT;
		dheap_set(&heap, &c->dl, 0);
		return;
	}
	dheap_set(&heap, &c->dl, c->started + fmin(r->timeout, CONNECT_TIMEOUT));
}

static void connected(struct conn *c)
{
	int err = 0;
	socklen_t len = sizeof err;
	if (getsockopt(c->ev.fd, SOL_SOCKET, SO_ERROR, &err, &len) || err) {
		evset_forget(c->ev.fd);
		close(c->ev.fd);
		c->ev.fd = -1;
		c->addr_i++;
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
	inflate_end(c);
	if (cc == CURLE_OK && c->keep && c->phase == P_DONE && nidle_all < ex.cfg.jobs) {
		c->state = C_IDLE;
		c->reused = 1;
		c->idle_next = c->host->idle;
		c->idle_prev = NULL;
		if (c->idle_next)
			c->idle_next->idle_prev = c;
		c->host->idle = c;
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
		/* the variables libcurl takes a proxy for http:// from */
		static const char *const vars[] = {"SCG_HTTP", "http_proxy", "all_proxy", "ALL_PROXY"};
		off = 0;
		for (int i = 0; i < 4; i++) {
			const char *e = getenv(vars[i]);
			if (e && *e && (i || !strcmp(e, "curl")))
				off = 1;
		}
	}
	struct target *t;
	if (off || !(t = target_of(r->h.url)))
		return 0;
	http_reset(r);
	r->h1_target = t;
	struct conn *c = t->host->idle;
	if (c)
		idle_remove(c);
	else
		c = conn_new(t->host);
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
		free(h->authority);
		free(h->host_header);
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
