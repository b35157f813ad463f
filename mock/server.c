/* server: the requests, on libmicrohttpd's threads: each is counted and
 * its outcome decided when its headers arrive, its body read, its reply
 * decided at once and logged, and sent after the latency (or dropped). */
#include "mock.h"
#include "opt.h"
#include "rng.h"

#include <errno.h>
#include <math.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long arrivals, scripted;     /* under lock */
static long answering;              /* requests between their body and their reply (atomic) */

static pthread_mutex_t sleep_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake;
static int stopping;

/* Sleeps, but wakes at once when the server stops. */
static void nap(double ms)
{
	if (ms <= 0)
		return;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	double end = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9 + ms / 1000;
	ts.tv_sec = (time_t)end;
	ts.tv_nsec = (long)((end - floor(end)) * 1e9);
	pthread_mutex_lock(&sleep_lock);
	while (!__atomic_load_n(&stopping, __ATOMIC_RELAXED) &&
	       pthread_cond_timedwait(&wake, &sleep_lock, &ts) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&sleep_lock);
}

static enum api route(const char *method, const char *url)
{
	if (!strcmp(method, "GET") && !strcmp(url, "/health"))
		return API_HEALTH;
	if (batch_api(url) != API_NONE)
		return batch_api(url);
	if (strcmp(method, "POST"))
		return API_NONE;
	if (!strcmp(url, "/v1/chat/completions") || !strcmp(url, "/chat/completions"))
		return API_OPENAI;
	if (!strcmp(url, "/v1/messages"))
		return API_ANTHROPIC;
	if (!strcmp(url, "/api/chat"))
		return API_OLLAMA;
	return API_NONE;
}

static int authorized(struct MHD_Connection *c, struct reply *rp, enum api api)
{
	if (!conf.key || api == API_OLLAMA)
		return 1;
	if (api == API_ANTHROPIC) {
		const char *got = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "x-api-key");
		if (got && !strcmp(got, conf.key))
			return 1;
		reply_error(rp, api, 401, NULL, "authentication_error", NULL, NULL,
			    got ? "invalid x-api-key" : "x-api-key header is required");
		return 0;
	}
	const char *got = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	if (got && !strncasecmp(got, "Bearer ", 7) && !strcmp(got + 7, conf.key))
		return 1;
	reply_error(rp, api, 401, "invalid_request_error", NULL, got ? "invalid_api_key" : NULL,
		    NULL, got ? "Incorrect API key provided. You can find your API key at "
				"https://platform.openai.com/account/api-keys."
			      : "You didn't provide an API key. You need to provide your API key "
				"in an Authorization header using Bearer auth (i.e. "
				"Authorization: Bearer YOUR_KEY).");
	return 0;
}

/* Everything about the reply, decided at once so that it can be logged
 * before the latency passes. */
static void respond(struct MHD_Connection *c, const char *method, const char *url,
		    struct req *q, struct reply *rp)
{
	enum api api = q->api;
	rp->status = 200;
	rp->ctype = "application/json";
	rp->outcome = "ok";
	snprintf(rp->rid, sizeof rp->rid, "req_%016llx",
		 (unsigned long long)hash64(&q->n, sizeof q->n, opts.seed ^ 0x6d6f636bULL));
	if (api == API_HEALTH) {
		buf_adds(&rp->body, "{\"status\":\"ok\"}");
		return;
	}
	reply_header(rp, api == API_ANTHROPIC ? "request-id" : "x-request-id", "%s", rp->rid);
	if (api == API_NONE) {
		char *msg = xasprintf("Invalid URL (%s %s)", method, url);
		reply_error(rp, API_OPENAI, 404, "invalid_request_error", NULL, NULL, NULL, msg);
		free(msg);
		rp->outcome = "rejected";
		return;
	}
	if (q->too_large) {
		reply_error(rp, api, 413, "invalid_request_error", "request_too_large", NULL, NULL,
			    "Request exceeds the maximum allowed number of bytes.");
		rp->outcome = "rejected";
		return;
	}
	q->key = hash64(q->body.p ? q->body.p : "", q->body.len, opts.seed);
	q->doc = json_loadb(q->body.p ? q->body.p : "", q->body.len, 0, NULL);
	if (!json_is_object(q->doc)) {
		json_decref(q->doc);
		q->doc = NULL;
	}
	rp->outcome = kind_names[q->out.kind];
	if (q->out.kind == K_ECHO401) {
		/* before the key check: a server that echoes what it refuses */
		char *text = hostile_echo(c, q);
		rp->status = 401;
		rp->ctype = "text/plain";
		buf_addf(&rp->body, "401 Unauthorized. %s\n", text);
		free(text);
		return;
	}
	if (!authorized(c, rp, api)) {
		rp->outcome = "rejected";
		return;
	}
	const char *model = jv_str(q->doc, "model");
	if (q->out.rpm_limited)
		rp->outcome = "rpm";
	if (fault_reply(rp, api, &q->out, model ? model : "the model"))
		return;
	if (q->out.kind == K_ERROR200) {
		reply_error(rp, api, 200, "server_error", "api_error", NULL, NULL,
			    "The server had an error while processing your request.");
		return;
	}
	if (q->out.kind == K_HUGE || q->out.kind == K_GZIP) {
		hostile_big(rp, api, model ? model : "mock", q->out.bytes > 0 ? q->out.bytes : MOCK_HUGE_BYTES,
			    q->out.kind == K_GZIP);
		if (q->out.kind == K_GZIP)
			reply_header(rp, "content-encoding", "gzip");
		return;
	}
	if (q->out.kind == K_ECHO)
		q->echo = hostile_echo(c, q);
	if (api == API_ANTHROPIC && !MHD_lookup_connection_value(c, MHD_HEADER_KIND,
								 "anthropic-version")) {
		reply_invalid(rp, api, NULL, NULL, "anthropic-version: header is required");
	} else if (batch_api(url) != API_NONE) {
		batch_serve(rp, q, c, method, url);
	} else if (!q->doc) {
		reply_invalid(rp, api, NULL, NULL, api == API_OLLAMA ? "invalid character in JSON body"
			      : "We could not parse the JSON body of your request. The API expects a "
				"JSON payload, but what was sent was not valid JSON.");
	} else if (api == API_OPENAI) {
		openai_chat(rp, q);
	} else if (api == API_ANTHROPIC) {
		anthropic_messages(rp, q);
	} else {
		ollama_chat(rp, q);
	}
	if (rp->status != 200) {
		rp->outcome = "rejected";
	} else if (q->out.kind == K_GARBAGE) {
		buf_reset(&rp->body);
		buf_adds(&rp->body, "<!-- scg-mock --> {\"id\": \"truncated");
	}
	if (conf.rpm && !q->out.rpm_limited && api != API_ANTHROPIC) {
		reply_header(rp, "x-ratelimit-limit-requests", "%ld", conf.rpm);
		reply_header(rp, "x-ratelimit-reset-requests", "1m0s");
	}
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **con_cls)
{
	(void)cls;
	(void)version;
	struct req *q = *con_cls;
	if (!q) {   /* the headers have arrived: this is the request's arrival */
		q = *con_cls = xcalloc(1, sizeof *q);
		q->api = route(method, url);
		pthread_mutex_lock(&lock);
		q->n = ++arrivals;
		if (q->api != API_NONE && q->api != API_HEALTH) {
			q->seq = ++scripted;
			q->out = fault_decide(q->n, q->seq, &q->rpm_wait);
		}
		pthread_mutex_unlock(&lock);
		return MHD_YES;
	}
	if (*upload_size) {
		if (q->too_large || *upload_size > (size_t)MOCK_MAX_UPLOAD - q->body.len) {
			q->too_large = 1;   /* the rest is read and dropped */
			buf_free(&q->body);
		} else
			buf_add(&q->body, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}

	struct reply rp = {0};
	q->open = __atomic_add_fetch(&answering, 1, __ATOMIC_RELAXED);
	respond(c, method, url, q, &rp);
	log_request(c, method, url, q, &rp);
	if (q->api != API_HEALTH) {
		struct rng r;
		char id[32];
		snprintf(id, sizeof id, "%ld", q->n);
		rng_init(&r, opts.seed, id, "scg-mock", "latency");
		nap(rng_range(&r, conf.lat_lo, conf.lat_hi) +
		    (q->out.kind == K_STALL ? conf.stall_ms : 0));
	}
	__atomic_sub_fetch(&answering, 1, __ATOMIC_RELAXED);
	enum MHD_Result ret = MHD_NO;
	if (!rp.drop && !__atomic_load_n(&stopping, __ATOMIC_RELAXED)) {
		size_t len = rp.body.len;
		struct MHD_Response *resp = rp.big
			? hostile_big_response(rp.big)
			: MHD_create_response_from_buffer(len, len ? buf_steal(&rp.body) : (void *)"",
							  len ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
		rp.big = NULL;
		if (!resp)
			die("out of memory");
		MHD_add_response_header(resp, "content-type", rp.ctype);
		for (int i = 0; i < rp.nhdr; i++)
			MHD_add_response_header(resp, rp.hdr[i][0], rp.hdr[i][1]);
		ret = MHD_queue_response(c, (unsigned)rp.status, resp);
		MHD_destroy_response(resp);
	}
	for (int i = 0; i < rp.nhdr; i++) {
		free(rp.hdr[i][0]);
		free(rp.hdr[i][1]);
	}
	if (rp.big)
		hostile_big_free(rp.big);
	buf_free(&rp.body);
	return ret;
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)c;
	(void)toe;
	struct req *q = *con_cls;
	if (!q)
		return;
	buf_free(&q->body);
	json_decref(q->doc);
	free(q->echo);
	free(q);
	*con_cls = NULL;
}

struct MHD_Daemon *server_start(void)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *ai;
	char port[16];
	snprintf(port, sizeof port, "%d", conf.port);
	int err = getaddrinfo(conf.host, port, &hints, &ai);
	if (err)
		die("--host %s: %s", conf.host, gai_strerror(err));

	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&wake, &ca);
	pthread_condattr_destroy(&ca);

	/* no MHD_USE_ERROR_LOG: a drop (MHD_NO) is not an error here */
	unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL_INTERNAL_THREAD;
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	struct MHD_Daemon *d = MHD_start_daemon(
		flags, (uint16_t)conf.port, NULL, NULL, handle, NULL,
		MHD_OPTION_SOCK_ADDR, ai->ai_addr,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)4096,
		MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)600,
		MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
		MHD_OPTION_END);
	freeaddrinfo(ai);
	if (!d)
		die("cannot listen on %s port %d: %s", conf.host, conf.port, strerror(errno));
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	printf("%u\n", (unsigned)info->port);
	fflush(stdout);
	return d;
}

void server_stop(struct MHD_Daemon *d)
{
	pthread_mutex_lock(&sleep_lock);
	__atomic_store_n(&stopping, 1, __ATOMIC_RELAXED);
	pthread_cond_broadcast(&wake);
	pthread_mutex_unlock(&sleep_lock);
	MHD_stop_daemon(d);
}
