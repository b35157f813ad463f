/* exec-http: the glue to libcurl's multi interface. Transfers run on
 * libcurl's sockets, which it hands to the event set (on_socket) with a
 * deadline of its own (on_timer); a transfer that ends goes to
 * req_http_done. Bodies and headers are read here: the size cap,
 * retry-after and x-should-retry.
 *
 * Each request in flight has a slot of its own, and each slot its own
 * multi handle, so its own connection cache: libcurl looks for a
 * connection to reuse by walking every connection to the host that its
 * cache holds, which with one multi handle for all is every connection
 * of the run, at each request. In a slot it finds the one its last
 * request used. The slots share what is worth sharing (the DNS cache
 * and TLS sessions); their deadlines are kept in a heap. */
#include "exec-int.h"
#include "dheap.h"
#include "opt.h"      /* SCG_VERSION */

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct slot {
	CURLM *multi;           /* made at the slot's first use */
	struct dl dl;           /* when libcurl wants to be called */
	int touched;            /* libcurl ran since its messages were read */
	struct slot *next_free, *next_touched, *next_due;
	struct slot *next_all;
};
/* a slot per transfer in flight: -j of them, and the batch APIs' calls */
static struct slot *all_slots, *free_slots, *touched;
static struct dheap heap;       /* the slots with a deadline */
static CURLSH *share;
static struct slot *slot_take(void);

static void touch(struct slot *sl)
{
	if (!sl->touched) {
		sl->touched = 1;
		sl->next_touched = touched;
		touched = sl;
	}
}

static void socket_action(struct slot *sl, curl_socket_t fd, int flags)
{
	int running;
	CURLMcode mc = curl_multi_socket_action(sl->multi, fd, flags, &running);
	if (mc != CURLM_OK)
		die("curl: %s", curl_multi_strerror(mc));
	touch(sl);
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

void http_header_seen(struct req *r, const char *p, size_t len)
{
	char tmp[128], *v;
	if (len < 12 || (p[0] | 0x20) == 'h')
		return;   /* the status line, or too short to be one we read */
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
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	http_header_seen(ud, p, size * n);
	return size * n;
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

/* libcurl reads its proxy variables from the environment for every
 * transfer (http_proxy, HTTPS_PROXY/https_proxy, ALL_PROXY/all_proxy,
 * NO_PROXY/no_proxy). When none of them is set, even empty, at the start,
 * a handle is told "no proxy" once, which is what libcurl would conclude
 * each time; when any is set, libcurl reads them itself as always. */
static int proxy_env_set(void)
{
	static const char *const vars[] = {
		"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY",
		"all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY",
	};
	static int set = -1;
	if (set < 0) {
		set = 0;
		for (size_t i = 0; i < sizeof vars / sizeof *vars; i++)
			if (getenv(vars[i]))
				set = 1;
	}
	return set;
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
	curl_easy_setopt(e, CURLOPT_SHARE, share);
	if (!proxy_env_set()) {
		curl_easy_setopt(e, CURLOPT_PROXY, "");
		curl_easy_setopt(e, CURLOPT_NOPROXY, "");
	}
	return e;
}

void http_reset(struct req *r)
{
	buf_reset(&r->resp);
	r->status = 0;
	r->retry_after = -1;
	r->should_retry = -1;
	r->too_big = 0;
}

CURL *http_prepare(struct req *r)
{
	http_reset(r);
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
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)(fmin(r->timeout, CONNECT_TIMEOUT) * 1000));
	return e;
}

void http_add(struct req *r)
{
	struct slot *sl = slot_take();
	CURLMcode mc = curl_multi_add_handle(sl->multi, r->easy);
	if (mc != CURLM_OK)
		die("curl: %s", curl_multi_strerror(mc));
}

void http_start(struct req *r)
{
	if (h1_start(r))
		return;
	http_prepare(r);
	http_add(r);
}

/* libcurl says which sockets to watch, for what, and when to stop. */
static int on_socket(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
	(void)e;
	struct slot *sl = userp;
	struct ev *ev = socketp;
	if (what == CURL_POLL_REMOVE) {
		if (ev) {
			evset_forget(s);
			evset_retire(ev);
			curl_multi_assign(sl->multi, s, NULL);
		}
		return 0;
	}
	unsigned flags = (what & CURL_POLL_IN ? EVF_IN : 0) | (what & CURL_POLL_OUT ? EVF_OUT : 0);
	if (!ev) {
		ev = xcalloc(1, sizeof *ev);
		ev->type = EV_SOCK;
		ev->fd = s;
		ev->slot = sl;
		curl_multi_assign(sl->multi, s, ev);
	}
	if (evset_watch(s, flags, ev))
		die("epoll_ctl: socket %d: %s", (int)s, strerror(errno));
	return 0;
}

static int on_timer(CURLM *m, long ms, void *userp)
{
	(void)m;
	dheap_set(&heap, &((struct slot *)userp)->dl, ms < 0 ? -1 : now_mono() + (double)ms / 1000);
	return 0;
}

static struct slot *slot_take(void)
{
	struct slot *sl = free_slots;
	if (sl) {
		free_slots = sl->next_free;
	} else {   /* made at its first use, kept for the run */
		sl = xcalloc(1, sizeof *sl);
		sl->dl = DL_NONE;
		sl->next_all = all_slots;
		all_slots = sl;
	}
	if (!sl->multi) {
		sl->multi = curl_multi_init();
		if (!sl->multi)
			die("out of memory");
		curl_multi_setopt(sl->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
		curl_multi_setopt(sl->multi, CURLMOPT_SOCKETDATA, sl);
		curl_multi_setopt(sl->multi, CURLMOPT_TIMERFUNCTION, on_timer);
		curl_multi_setopt(sl->multi, CURLMOPT_TIMERDATA, sl);
		/* the connection of the last request, and one to another host */
		curl_multi_setopt(sl->multi, CURLMOPT_MAXCONNECTS, 2L);
	}
	return sl;
}

/* Reads what ended in the slot's multi handle: at most its one transfer. */
static void check_slot(struct slot *sl)
{
	CURLMsg *msg;
	int left;
	while ((msg = curl_multi_info_read(sl->multi, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		struct req *r;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&r);
		curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &r->status);
		CURLcode result = msg->data.result;   /* msg lives in the handle */
		curl_multi_remove_handle(sl->multi, r->easy);
		if (r->kind == K_BATCH) {
			/* changed beyond what http_prepare sets: not pooled */
			curl_easy_cleanup(r->easy);
			r->easy = NULL;
			sl->next_free = free_slots;
			free_slots = sl;
			batch_http_done(r, result);
			continue;
		}
		easy_release(r->easy);
		r->easy = NULL;
		sl->next_free = free_slots;
		free_slots = sl;
		req_http_done(r, result);
	}
}

void http_init(void)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT))
		die("curl: cannot initialise");
	share = curl_share_init();
	if (!share)
		die("out of memory");
	curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
}

void http_cleanup(void)
{
	h1_cleanup();
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
	while (all_slots) {
		struct slot *sl = all_slots;
		all_slots = sl->next_all;
		if (sl->multi)
			curl_multi_cleanup(sl->multi);
		free(sl);
	}
	dheap_free(&heap);
	curl_share_cleanup(share);
	curl_global_cleanup();
}

void http_socket_ready(struct ev *e, unsigned flags)
{
	socket_action(e->slot, e->fd, (flags & EVF_IN ? CURL_CSELECT_IN : 0) |
		      (flags & EVF_OUT ? CURL_CSELECT_OUT : 0) | (flags & EVF_ERR ? CURL_CSELECT_ERR : 0));
}

double http_deadline(void)
{
	double a = dheap_first(&heap), b = h1_deadline();
	return a < 0 ? b : b < 0 || a < b ? a : b;
}

void http_after_wait(double now)
{
	h1_after_wait(now);
	/* the slots whose deadline has passed, each called once: a deadline
	 * set meanwhile (even of 0) waits for the next turn of the loop */
	struct slot *due = NULL;
	struct dl *d;
	while ((d = dheap_pop_due(&heap, now))) {   /* the timer callback sets the next */
		struct slot *sl = container_of(d, struct slot, dl);
		sl->next_due = due;
		due = sl;
	}
	while (due) {
		struct slot *sl = due;
		due = sl->next_due;
		socket_action(sl, CURL_SOCKET_TIMEOUT, 0);
	}
	while (touched) {
		struct slot *sl = touched;
		touched = sl->next_touched;
		sl->touched = 0;
		check_slot(sl);
	}
}
