/* exec-http: the glue to libcurl's multi interface. Transfers run on
 * libcurl's sockets, which it hands to the event set (on_socket) with a
 * deadline of its own (on_timer); a transfer that ends goes to
 * req_http_done. Bodies and headers are read here: the size cap,
 * retry-after and x-should-retry. */
#include "exec-int.h"
#include "opt.h"      /* SCG_VERSION */

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static CURLM *multi;
static double curl_deadline = -1;

static void socket_action(curl_socket_t fd, int flags)
{
	int running;
	CURLMcode mc = curl_multi_socket_action(multi, fd, flags, &running);
	if (mc != CURLM_OK)
		die("curl: %s", curl_multi_strerror(mc));
}

/* Bodies arrive decompressed: the cap holds against gzip bombs too. A
 * short count aborts the transfer (CURLE_WRITE_ERROR). */
static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct req *r = ud;
	size_t len = size * n;
	if (len > (size_t)ex.cfg.max_answer - r->resp.len) {
		r->too_big = 1;
		return 0;
	}
	buf_add(&r->resp, p, len);
	return len;
}

static double parse_http_date(const char *s)
{
	struct tm tm = {0};
	if (!strptime(s, "%a, %d %b %Y %H:%M:%S GMT", &tm))
		return -1;
	return (double)timegm(&tm) - now_real();
}

/* The value of a header line named name (case aside), or NULL: copied
 * into tmp (or, when longer, a string the caller frees), without the
 * white space around it. */
static char *header_value(const char *p, size_t len, const char *name, char *tmp, size_t tmpsize)
{
	size_t n = strlen(name);
	if (len <= n || p[n] != ':' || strncasecmp(p, name, n))
		return NULL;
	const char *v = p + n + 1, *end = p + len;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n'))
		end--;
	size_t vlen = (size_t)(end - v);
	char *out = vlen < tmpsize ? tmp : xmalloc(vlen + 1);
	memcpy(out, v, vlen);
	out[vlen] = 0;
	return out;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	struct req *r = ud;
	size_t len = size * n;
	char tmp[128], *v;
	if (len < 12 || (p[0] | 0x20) == 'h')
		return len;   /* the status line, or too short to be one we read */
	if ((v = header_value(p, len, "retry-after-ms", tmp, sizeof tmp))) {
		r->retry_after = atof(v) / 1000;
	} else if ((v = header_value(p, len, "retry-after", tmp, sizeof tmp))) {
		if (r->retry_after < 0) {
			char *end;
			double s = strtod(v, &end);
			r->retry_after = end != v && !*end ? s : parse_http_date(v);
		}
	} else if ((v = header_value(p, len, "x-should-retry", tmp, sizeof tmp))) {
		r->should_retry = !strcasecmp(v, "true") ? 1 : !strcasecmp(v, "false") ? 0 : -1;
	}
	if (v && v != tmp)
		free(v);
	return len;
}

/* URLs parsed once: given a parsed URL, libcurl copies it for a transfer
 * instead of parsing the string and printing it back each time. A URL
 * libcurl does not parse gets no handle: libcurl then tells why. */
struct parsed_url {
	char *url;
	CURLU *uh;
	struct parsed_url *next;
};
static struct parsed_url *parsed;

static CURLU *parsed_url(const char *url)
{
	struct parsed_url *u;
	for (u = parsed; u; u = u->next)
		if (!strcmp(u->url, url))
			return u->uh;
	u = xcalloc(1, sizeof *u);
	u->url = xstrdup(url);
	u->uh = curl_url();
	/* the flags libcurl parses a URL string with */
	if (u->uh && curl_url_set(u->uh, CURLUPART_URL, url, CURLU_GUESS_SCHEME | CURLU_NON_SUPPORT_SCHEME)) {
		curl_url_cleanup(u->uh);
		u->uh = NULL;
	}
	u->next = parsed;
	parsed = u;
	return u->uh;
}

/* Finished easy handles are kept and reused: their buffers stay allocated. */
static CURL **easy_pool;
static int easy_pooled;

static void easy_release(CURL *e)
{
	if (easy_pooled < ex.cfg.jobs) {
		if (!easy_pool)
			easy_pool = xcalloc((size_t)ex.cfg.jobs, sizeof *easy_pool);
		easy_pool[easy_pooled++] = e;
	} else {
		curl_easy_cleanup(e);
	}
}

static CURL *easy_new(void)
{
	CURL *e = curl_easy_init();
	if (!e)
		die("out of memory");
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "scg/" SCG_VERSION);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	/* a declared size past the cap fails before the body comes */
	curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)ex.cfg.max_answer);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	return e;
}

void http_start(struct req *r)
{
	buf_reset(&r->resp);
	r->status = 0;
	r->retry_after = -1;
	r->should_retry = -1;
	r->too_big = 0;
	CURL *e = easy_pooled ? easy_pool[--easy_pooled] : easy_new();
	r->easy = e;
	/* per request; what is the same for every request was set when the
	 * handle was made (easy_new), and a handle keeps its options */
	curl_easy_setopt(e, CURLOPT_CURLU, parsed_url(r->h.url));
	curl_easy_setopt(e, CURLOPT_URL, r->h.url);   /* what the handle reports */
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->h.body);   /* sent from here, not copied */
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(r->h.body));
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->h.headers);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(e, CURLOPT_PRIVATE, r);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(r->timeout * 1000));
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)fmin(r->timeout * 1000, 10000));
	CURLMcode mc = curl_multi_add_handle(multi, e);
	if (mc != CURLM_OK)
		die("curl: %s", curl_multi_strerror(mc));
}

/* libcurl says which sockets to watch, for what, and when to stop. */
static int on_socket(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
	(void)e;
	(void)userp;
	struct ev *ev = socketp;
	if (what == CURL_POLL_REMOVE) {
		if (ev) {
			evset_forget(s);
			evset_retire(ev);
			curl_multi_assign(multi, s, NULL);
		}
		return 0;
	}
	unsigned flags = (what & CURL_POLL_IN ? EVF_IN : 0) | (what & CURL_POLL_OUT ? EVF_OUT : 0);
	if (!ev) {
		ev = xcalloc(1, sizeof *ev);
		ev->type = EV_SOCK;
		ev->fd = s;
		curl_multi_assign(multi, s, ev);
	}
	if (evset_watch(s, flags, ev))
		die("epoll_ctl: socket %d: %s", (int)s, strerror(errno));
	return 0;
}

static int on_timer(CURLM *m, long ms, void *userp)
{
	(void)m;
	(void)userp;
	curl_deadline = ms < 0 ? -1 : now_mono() + (double)ms / 1000;
	return 0;
}

static void check_multi(void)
{
	CURLMsg *msg;
	int left;
	while ((msg = curl_multi_info_read(multi, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		struct req *r;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&r);
		curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &r->status);
		curl_multi_remove_handle(multi, r->easy);
		easy_release(r->easy);
		r->easy = NULL;
		req_http_done(r, msg->data.result);
	}
}

void http_init(void)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT))
		die("curl: cannot initialise");
	multi = curl_multi_init();
	curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, on_timer);
	curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long)ex.cfg.jobs * 2);
}

void http_cleanup(void)
{
	while (easy_pooled)
		curl_easy_cleanup(easy_pool[--easy_pooled]);
	free(easy_pool);
	while (parsed) {
		struct parsed_url *u = parsed;
		parsed = u->next;
		curl_url_cleanup(u->uh);
		free(u->url);
		free(u);
	}
	curl_multi_cleanup(multi);
	curl_global_cleanup();
}

void http_socket_ready(int fd, unsigned flags)
{
	socket_action(fd, (flags & EVF_IN ? CURL_CSELECT_IN : 0) | (flags & EVF_OUT ? CURL_CSELECT_OUT : 0) |
			  (flags & EVF_ERR ? CURL_CSELECT_ERR : 0));
}

double http_deadline(void)
{
	return curl_deadline;
}

void http_after_wait(double now)
{
	if (curl_deadline >= 0 && now >= curl_deadline) {
		/* forget the deadline: the timer callback sets the next one */
		curl_deadline = -1;
		socket_action(CURL_SOCKET_TIMEOUT, 0);
	}
	check_multi();
}
