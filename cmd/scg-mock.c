/* scg-mock: a local fake of the OpenAI Chat Completions, Anthropic Messages
 * and Ollama chat APIs. Answers are deterministic (lib/mockgen), faults are
 * injected by rate or by script (a hostile server's too: echoed
 * credentials, huge and gzip-bomb bodies, errors inside a 200, negative
 * usage), and every request is logged with its headers (secrets
 * redacted) so that tests can check what a client sent. */
#include "mockgen.h"
#include "opt.h"
#include "record.h"
#include "rng.h"
#include "secret.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <zlib.h>

/* ---- outcomes: what happens to a request ---- */

enum kind {
	K_OK, K_429, K_QUOTA, K_500, K_502, K_503, K_529, K_NORETRY, K_DROP,
	K_STALL, K_GARBAGE, K_INVALID, K_400, K_403, K_408, K_409, K_TOOLARGE,
	K_ECHO401, K_ECHO, K_ERROR200, K_HUGE, K_GZIP, NKINDS
};
static const char *const kind_names[NKINDS] = {
	"ok", "429", "quota", "500", "502", "503", "529", "noretry", "drop",
	"stall", "garbage", "invalid", "400", "403", "408", "409", "toolarge",
	"echo401", "echo", "error200", "huge", "gzip",
};

/* What one request may make the mock hold: a larger upload is a 413. */
#define MOCK_MAX_UPLOAD (32L << 20)
/* The answer of huge and gzip when the script gives no bytes=N. */
#define MOCK_HUGE_BYTES (64L << 20)

/* A script line's retry hints are sent as given; a 429 without any gets
 * retry-after and retry-after-ms from --retry-after-ms. */
struct outcome {
	enum kind kind;
	double retry_ms;    /* >= 0: retry-after-ms */
	double retry_s;     /* > 0: retry-after in seconds */
	double retry_date;  /* > 0: retry-after as an HTTP date this many seconds ahead */
	int should_retry;   /* >= 0: x-should-retry false or true */
	int rpm_limited;    /* the 429 comes from --rpm */
	long bytes;         /* > 0: the answer text of huge and gzip */
	int has_usage;      /* usage=N: the completion tokens reported */
	long usage;
};

enum api { API_NONE, API_OPENAI, API_ANTHROPIC, API_OLLAMA, API_HEALTH };

static struct {
	const char *host;
	int port;
	double lat_lo, lat_hi;          /* ms */
	long rpm;
	struct { enum kind kind; double rate; } fail[NKINDS];
	int nfail;
	struct outcome *script;
	long nscript;
	double retry_ms, stall_ms;
	FILE *log;
	const char *key;
	char **models;
	int nmodels, strict;
} conf = {.host = "127.0.0.1", .retry_ms = 100, .stall_ms = 30000};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long arrivals, scripted;     /* under lock */
static double *rpm_times;           /* ring of the last --rpm admissions */
static long rpm_next;

static pthread_mutex_t sleep_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake;
static int stopping;

static enum kind kind_parse(const char *s, size_t n)
{
	for (int k = 0; k < NKINDS; k++)
		if (strlen(kind_names[k]) == n && !strncmp(kind_names[k], s, n))
			return (enum kind)k;
	return NKINDS;
}

/* --fail 429=0.1,500=0.05 */
static void fail_opt(const char *name, const char *arg)
{
	double sum = 0;
	for (const char *p = arg; *p;) {
		size_t n = strcspn(p, ",");
		const char *eq = memchr(p, '=', n);
		enum kind k = eq ? kind_parse(p, (size_t)(eq - p)) : NKINDS;
		char *end;
		double rate = eq ? strtod(eq + 1, &end) : -1;
		if (k == NKINDS || k == K_OK || end != p + n || rate < 0 || rate > 1)
			usage_error("%s: expected KIND=RATE,... with RATE in 0..1, got '%.*s'",
				    name, (int)n, p);
		conf.fail[conf.nfail].kind = k;
		conf.fail[conf.nfail++].rate = rate;
		sum += rate;
		if (conf.nfail == NKINDS && p[n])
			usage_error("%s: too many kinds", name);
		p += n + (p[n] == ',');
	}
	if (sum > 1 + 1e-9)
		usage_error("%s: the rates add up to %g, more than 1", name, sum);
}

/* --script FILE: one outcome a line, "429 retry-after=3", "400 should-retry=true",
 * "503 times=20", "gzip bytes=100000000", "ok usage=-5" */
static void script_load(const char *path)
{
	char *text = read_file(path, NULL);
	if (!text)
		die("%s: %s", path, strerror(errno));
	long lineno = 0;
	for (char *line = text, *next; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		lineno++;
		line[strcspn(line, "#")] = 0;
		char *save, *tok = strtok_r(line, " \t\r", &save);
		if (!tok)
			continue;
		struct outcome o = {.kind = kind_parse(tok, strlen(tok)), .retry_ms = -1,
				    .should_retry = -1};
		if (o.kind == NKINDS)
			die("%s:%ld: unknown outcome '%s'", path, lineno, tok);
		long times = 1;
		while ((tok = strtok_r(NULL, " \t\r", &save))) {
			char *end = tok + strlen(tok);
			errno = 0;
			if (!strncmp(tok, "times=", 6)) {
				times = strtol(tok + 6, &end, 10);
				if (times < 1 || times > 1000000)
					die("%s:%ld: times must be from 1 to 1000000", path, lineno);
			} else if (!strncmp(tok, "bytes=", 6)) {
				o.bytes = strtol(tok + 6, &end, 10);
				if (o.bytes < 1 || o.bytes > (16L << 30))
					die("%s:%ld: bytes must be from 1 to 16 GiB", path, lineno);
			} else if (!strncmp(tok, "usage=", 6)) {
				o.usage = strtol(tok + 6, &end, 10);
				o.has_usage = 1;
			} else if (!strncmp(tok, "retry-after-ms=", 15))
				o.retry_ms = strtod(tok + 15, &end);
			else if (!strncmp(tok, "retry-after=", 12))
				o.retry_s = strtod(tok + 12, &end);
			else if (!strncmp(tok, "retry-after-date=", 17))
				o.retry_date = strtod(tok + 17, &end);
			else if (!strcmp(tok, "should-retry=true") || !strcmp(tok, "should-retry=false"))
				o.should_retry = tok[13] == 't';
			else
				die("%s:%ld: unknown setting '%s'", path, lineno, tok);
			if (*end || errno || o.retry_ms < -1 || o.retry_s < 0 || o.retry_date < 0)
				die("%s:%ld: bad number in '%s'", path, lineno, tok);
		}
		if (o.retry_s > 0 && o.retry_date > 0)
			die("%s:%ld: retry-after and retry-after-date exclude each other", path, lineno);
		if (conf.nscript + times > 10000000)
			die("%s:%ld: more than 10000000 outcomes", path, lineno);
		conf.script = xrealloc(conf.script, sizeof *conf.script * (size_t)(conf.nscript + times));
		while (times--)
			conf.script[conf.nscript++] = o;
	}
	free(text);
}

/* The outcome of the request that arrived n-th (the seq-th model request):
 * the script first, then --rpm, then the --fail draw. */
static struct outcome decide(long n, long seq, double *rpm_wait)
{
	if (seq <= conf.nscript)
		return conf.script[seq - 1];
	struct outcome o = {.kind = K_OK, .retry_ms = -1, .should_retry = -1};
	if (conf.rpm) {
		double now = now_mono(), oldest = rpm_times[rpm_next];
		if (oldest > 0 && now - oldest < 60) {
			o.kind = K_429;
			o.rpm_limited = 1;
			o.retry_ms = ceil((oldest + 60 - now) * 1000);
			*rpm_wait = o.retry_ms;
			return o;
		}
		rpm_times[rpm_next] = now;
		rpm_next = (rpm_next + 1) % conf.rpm;
	}
	if (conf.nfail) {
		char id[32];
		snprintf(id, sizeof id, "%ld", n);
		struct rng r;
		rng_init(&r, opts.seed, id, "scg-mock", "fail");
		double u = rng_double(&r), cum = 0;
		for (int i = 0; i < conf.nfail; i++)
			if (u < (cum += conf.fail[i].rate)) {
				o.kind = conf.fail[i].kind;
				break;
			}
	}
	return o;
}

/* ---- replies ---- */

/* A body too large to hold: made while it is sent, gzip-compressed for
 * the gzip kind (a bomb: megabytes that inflate to gigabytes). */
struct big {
	char *head, *tail;    /* the JSON around the answer text */
	uint64_t fill;        /* bytes of answer text ('a') */
	uint64_t at;          /* bytes of the plain body made so far */
	int gz, gz_done;
	z_stream zs;
	unsigned char *zout;  /* compressed bytes not yet sent */
	size_t zlen, zoff;
};

struct reply {
	int status;
	struct buf body;
	const char *ctype;
	char *hdr[24][2];
	int nhdr;
	int drop;
	const char *outcome;
	char rid[40];         /* request id */
	struct big *big;      /* sent instead of body */
};

static void header(struct reply *rp, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void header(struct reply *rp, const char *name, const char *fmt, ...)
{
	if (rp->nhdr == 24)
		return;
	va_list ap;
	va_start(ap, fmt);
	struct buf b = {0};
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	buf_grow(&b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b.p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	rp->hdr[rp->nhdr][0] = xstrdup(name);
	rp->hdr[rp->nhdr++][1] = b.p;
}

/* Compact JSON whose numbers read as written: 1.4, not 1.3999999999999999. */
static char *dump(const json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
	if (!s)
		die("out of memory");
	return s;
}

static void reply_json(struct reply *rp, int status, json_t *v)
{
	char *s = dump(v);
	json_decref(v);
	rp->status = status;
	buf_reset(&rp->body);
	buf_adds(&rp->body, s);
	free(s);
}

/* An error in the provider's shape; the type names differ by provider. */
static void reply_error(struct reply *rp, enum api api, int status, const char *oa_type,
			const char *an_type, const char *code, const char *param,
			const char *msg)
{
	json_t *v;
	if (api == API_ANTHROPIC)
		v = json_pack("{s:s, s:{s:s, s:s}, s:s}", "type", "error", "error",
			      "type", an_type, "message", msg, "request_id", rp->rid);
	else if (api == API_OLLAMA)
		v = json_pack("{s:s}", "error", msg);
	else
		v = json_pack("{s:{s:s, s:s, s:s?, s:s?}}", "error", "message", msg,
			      "type", oa_type, "param", param, "code", code);
	reply_json(rp, status, v);
}

static void invalid(struct reply *rp, enum api api, const char *param, const char *code,
		    const char *msg)
{
	reply_error(rp, api, 400, "invalid_request_error", "invalid_request_error", code,
		    param, msg);
}

/* Go duration: 100ms, 1.5s, 1m0s */
static void go_duration(char *out, size_t size, double ms)
{
	if (ms < 1000) {
		snprintf(out, size, "%.0fms", ms);
		return;
	}
	long h = (long)(ms / 3600000), m = (long)fmod(ms / 60000, 60);
	double s = fmod(ms, 60000) / 1000;
	int n = 0;
	if (h)
		n = snprintf(out, size, "%ldh", h);
	if (h || m)
		n += snprintf(out + n, size - (size_t)n, "%ldm", m);
	snprintf(out + n, size - (size_t)n, "%.3f", s);
	char *e = out + strlen(out) - 1;
	while (*e == '0')
		*e-- = 0;
	if (*e == '.')
		*e = 0;
	strcat(out, "s");
}

static void rfc3339(char *out, size_t size, double t)
{
	time_t secs = (time_t)ceil(t);
	struct tm tm;
	gmtime_r(&secs, &tm);
	strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Sends the retry-after a script line gives, in seconds or as an HTTP
 * date; returns the seconds, 0 when it gives none. */
static double given_retry_after(struct reply *rp, const struct outcome *o)
{
	if (o->retry_s > 0) {
		header(rp, "retry-after", "%g", o->retry_s);
		return o->retry_s;
	}
	if (o->retry_date > 0) {
		time_t at = (time_t)ceil(now_real() + o->retry_date);
		struct tm tm;
		char date[64];
		gmtime_r(&at, &tm);
		strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
		header(rp, "retry-after", "%s", date);
		return o->retry_date;
	}
	return 0;
}

static void rate_limited(struct reply *rp, enum api api, const struct outcome *o,
			 const char *model)
{
	double after = given_retry_after(rp, o);
	double ms = o->retry_ms >= 0 ? o->retry_ms : after > 0 ? after * 1000 : conf.retry_ms;
	long limit = conf.rpm ? conf.rpm : 60;
	char dur[64], reset[64];
	go_duration(dur, sizeof dur, ms);
	rfc3339(reset, sizeof reset, now_real() + ms / 1000);
	if (after <= 0)
		header(rp, "retry-after", "%.0f", ceil(ms / 1000));
	/* Anthropic sends no retry-after-ms of its own */
	int scripted_ms = o->retry_ms >= 0 && !o->rpm_limited;
	if (scripted_ms || (after <= 0 && api != API_ANTHROPIC))
		header(rp, "retry-after-ms", "%.0f", ms);
	if (api == API_ANTHROPIC) {
		header(rp, "anthropic-ratelimit-requests-limit", "%ld", limit);
		header(rp, "anthropic-ratelimit-requests-remaining", "0");
		header(rp, "anthropic-ratelimit-requests-reset", "%s", reset);
	} else {
		header(rp, "x-ratelimit-limit-requests", "%ld", limit);
		header(rp, "x-ratelimit-remaining-requests", "0");
		header(rp, "x-ratelimit-reset-requests", "%s", dur);
	}
	char *msg = xasprintf("Rate limit reached for %s in organization org-mock on requests "
			      "per min (RPM): Limit %ld, Used %ld, Requested 1. Please try "
			      "again in %s.", model, limit, limit, dur);
	reply_error(rp, api, 429, "requests", "rate_limit_error", "rate_limit_exceeded",
		    NULL, msg);
	free(msg);
}

static const char html_502[] =
	"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
	"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>cloudflare</center>\r\n"
	"</body>\r\n</html>\r\n";

/* The faults that replace the answer; 0 when the request goes on. */
static int fault(struct reply *rp, enum api api, const struct outcome *o, const char *model)
{
	if (o->should_retry >= 0)
		header(rp, "x-should-retry", "%s", o->should_retry ? "true" : "false");
	else if (o->kind == K_NORETRY)
		header(rp, "x-should-retry", "false");
	if (o->kind != K_429) {
		given_retry_after(rp, o);
		if (o->retry_ms >= 0)
			header(rp, "retry-after-ms", "%.0f", o->retry_ms);
	}
	switch (o->kind) {
	case K_429:
		rate_limited(rp, api, o, model);
		return 1;
	case K_TOOLARGE:
		if (api == API_ANTHROPIC) {
			reply_error(rp, api, 413, NULL, "request_too_large", NULL, NULL,
				    "Request exceeds the maximum allowed number of bytes.");
			return 1;
		}
		{
			char *msg = xasprintf("Request too large for %s in organization org-mock on "
					      "tokens per min (TPM): Limit 30000, Requested 31538. The "
					      "input or output tokens must be reduced in order to run "
					      "successfully.", model);
			reply_error(rp, api, 429, "tokens", NULL, "rate_limit_exceeded", NULL, msg);
			free(msg);
		}
		return 1;
	case K_QUOTA:
		if (api == API_ANTHROPIC) {
			reply_json(rp, 429, json_pack(
				"{s:s, s:{s:s, s:s, s:{s:s}}, s:s}", "type", "error", "error",
				"type", "rate_limit_error", "message",
				"You have reached your specified API usage limits.", "details",
				"error_code", "enforced_spend_limit_reached", "request_id", rp->rid));
			return 1;
		}
		reply_error(rp, api, 429, "insufficient_quota", "rate_limit_error",
			    "insufficient_quota", NULL,
			    "You exceeded your current quota, please check your plan and billing "
			    "details.");
		return 1;
	case K_NORETRY:
	case K_500:
		reply_error(rp, api, 500, "server_error", "api_error", NULL, NULL,
			    "The server had an error while processing your request. Sorry about that!");
		return 1;
	case K_502:
		rp->status = 502;
		rp->ctype = "text/html";
		buf_adds(&rp->body, html_502);
		return 1;
	case K_503:
		reply_error(rp, api, 503, "server_error", "api_error", NULL, NULL,
			    api == API_OLLAMA ? "server busy, please try again.  maximum pending "
						"requests exceeded"
					      : "The engine is currently overloaded, please try again later");
		return 1;
	case K_529:
		reply_json(rp, 529, json_pack("{s:s, s:{s:s, s:s}, s:s}", "type", "error",
					      "error", "type", "overloaded_error", "message",
					      "Overloaded", "request_id", rp->rid));
		return 1;
	case K_400:
		if (api == API_ANTHROPIC)
			invalid(rp, api, NULL, NULL, "prompt is too long: 210000 tokens > 200000 maximum");
		else
			invalid(rp, api, "messages", "context_length_exceeded",
				"This model's maximum context length is 8192 tokens. However, your "
				"messages resulted in 8227 tokens. Please reduce the length of the "
				"messages.");
		return 1;
	case K_403:
		reply_error(rp, api, 403, "invalid_request_error", "permission_error",
			    "unsupported_country_region_territory", NULL,
			    "Country, region, or territory not supported");
		return 1;
	case K_408:
		reply_error(rp, api, 408, "timeout_error", "timeout_error", NULL, NULL,
			    "Request timed out.");
		return 1;
	case K_409:
		reply_error(rp, api, 409, "conflict_error", "conflict_error", NULL, NULL,
			    "Conflict: another request holds this resource; try again.");
		return 1;
	case K_DROP:
		rp->drop = 1;
		return 1;
	default:
		return 0;
	}
}

/* ---- big bodies ---- */

static size_t big_plain(struct big *b, char *out, size_t max)
{
	uint64_t hl = strlen(b->head), tl = strlen(b->tail), total = hl + b->fill + tl;
	size_t n = 0;
	while (n < max && b->at < total) {
		if (b->at < hl) {
			out[n++] = b->head[b->at++];
		} else if (b->at < hl + b->fill) {
			uint64_t left = hl + b->fill - b->at;
			size_t k = max - n < left ? max - n : (size_t)left;
			memset(out + n, 'a', k);
			n += k;
			b->at += k;
		} else {
			out[n++] = b->tail[b->at++ - hl - b->fill];
		}
	}
	return n;
}

static ssize_t big_read(void *cls, uint64_t pos, char *out, size_t max)
{
	(void)pos;
	struct big *b = cls;
	if (!b->gz) {
		size_t n = big_plain(b, out, max);
		return n ? (ssize_t)n : MHD_CONTENT_READER_END_OF_STREAM;
	}
	while (b->zoff == b->zlen) {
		if (b->gz_done)
			return MHD_CONTENT_READER_END_OF_STREAM;
		static __thread char in[1 << 18];
		size_t n = big_plain(b, in, sizeof in);
		b->zs.next_in = (unsigned char *)in;
		b->zs.avail_in = (unsigned)n;
		b->zs.next_out = b->zout;
		b->zs.avail_out = 1 << 18;
		int flush = n < sizeof in ? Z_FINISH : Z_NO_FLUSH;
		int rc = deflate(&b->zs, flush);
		if (rc == Z_STREAM_ERROR || b->zs.avail_in)
			return MHD_CONTENT_READER_END_WITH_ERROR;
		b->gz_done = rc == Z_STREAM_END;
		b->zlen = (1 << 18) - b->zs.avail_out;
		b->zoff = 0;
	}
	size_t k = b->zlen - b->zoff < max ? b->zlen - b->zoff : max;
	memcpy(out, b->zout + b->zoff, k);
	b->zoff += k;
	return (ssize_t)k;
}

static void big_free(void *cls)
{
	struct big *b = cls;
	if (b->gz) {
		deflateEnd(&b->zs);
		free(b->zout);
	}
	free(b->head);
	free(b->tail);
	free(b);
}

/* A 200 whose answer text is bytes long, in the API's shape. */
static void big_reply(struct reply *rp, enum api api, const char *model, long bytes, int gz)
{
	struct big *b = xcalloc(1, sizeof *b);
	if (api == API_ANTHROPIC) {
		b->head = xasprintf("{\"id\":\"msg_big\",\"type\":\"message\",\"role\":\"assistant\","
				    "\"model\":\"%s\",\"content\":[{\"type\":\"text\",\"text\":\"", model);
		b->tail = xstrdup("\"}],\"stop_reason\":\"end_turn\",\"usage\":{\"input_tokens\":1,"
				  "\"output_tokens\":1}}");
	} else if (api == API_OLLAMA) {
		b->head = xasprintf("{\"model\":\"%s\",\"message\":{\"role\":\"assistant\",\"content\":\"", model);
		b->tail = xstrdup("\"},\"done\":true,\"prompt_eval_count\":1,\"eval_count\":1}");
	} else {
		b->head = xasprintf("{\"id\":\"chatcmpl-big\",\"object\":\"chat.completion\",\"model\":\"%s\","
				    "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"", model);
		b->tail = xstrdup("\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":1,"
				  "\"completion_tokens\":1,\"total_tokens\":2}}");
	}
	b->fill = (uint64_t)bytes;
	b->gz = gz;
	if (gz) {
		/* windowBits 15 + 16: a gzip wrapper */
		if (deflateInit2(&b->zs, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK)
			die("zlib: cannot start a gzip stream");
		b->zout = xmalloc(1 << 18);
	}
	rp->big = b;
	rp->status = 200;
	rp->ctype = "application/json";
}

/* ---- the request ---- */

struct req {
	enum api api;
	long n, seq;
	struct outcome out;
	double rpm_wait;
	struct buf body;
	int too_large;        /* the upload passed MOCK_MAX_UPLOAD */
	json_t *doc;          /* the parsed body, or NULL */
	uint64_t key;         /* hash of the body and --seed */
	char *echo;           /* echo kinds: what the request carried */
};

/* What a request asks for: prose, a JSON-mode object, or a schema value. */
struct ask {
	const json_t *schema;
	int json_mode;
	const char *tool;     /* anthropic forced tool */
};

struct answer {
	char *text;           /* the content text (JSON text when structured) */
	json_t *tool_input;   /* a forced tool call instead of text */
	long prompt_tokens, completion_tokens;
	int cut;              /* the invalid fault: truncated or empty */
};

/* --answers FILE: canned structured answers, matched on the request body */
static json_t *canned;

/* A structured request that a canned entry matches asks, in effect, for
 * the entry's answer: *out is ask with the entry's schema. */
static int canned_ask(const struct req *q, const struct ask *ask, struct ask *out)
{
	const json_t *schema;
	if (!canned || !(ask->schema || ask->json_mode) ||
	    !(schema = mock_canned_find(canned, q->body.p ? q->body.p : "", q->body.len)))
		return 0;
	*out = *ask;
	out->schema = schema;
	out->json_mode = 0;
	return 1;
}

static long content_tokens(const json_t *content)
{
	if (json_is_string(content))
		return mock_tokens(json_string_value(content));
	long t = 0;
	size_t i;
	json_t *part;
	json_array_foreach(content, i, part) {
		const char *s = json_string_value(json_object_get(part, "text"));
		if (s)
			t += mock_tokens(s);
		t += content_tokens(json_object_get(part, "content"));
	}
	return t;
}

static long prompt_tokens(const json_t *messages, const json_t *system)
{
	long t = system ? content_tokens(system) + 4 : 0;
	size_t i;
	json_t *m;
	json_array_foreach(messages, i, m)
		t += content_tokens(json_object_get(m, "content")) + 4;
	return t;
}

/* Makes the answer; -1 after a 400 when the schema asks for more than one
 * answer may hold (MOCK_GEN_MAX). */
static int answer_make(struct reply *rp, enum api api, struct answer *a, const struct req *q,
		       const struct ask *ask, const json_t *messages, const json_t *system)
{
	memset(a, 0, sizeof *a);
	a->prompt_tokens = prompt_tokens(messages, system);
	struct ask asked;
	if (canned_ask(q, ask, &asked))
		ask = &asked;
	if (ask->schema) {
		/* the schema is part of the prompt, as with the real services */
		char *s = dump(ask->schema);
		a->prompt_tokens += mock_tokens(s);
		free(s);
	}
	a->cut = q->out.kind == K_INVALID;
	if (q->echo) {
		/* a server that repeats what it was sent, credentials included */
		a->text = xstrdup(q->echo);
		a->completion_tokens = q->out.has_usage ? q->out.usage : mock_tokens(a->text);
		return 0;
	}
	int structured = ask->schema || ask->json_mode;
	json_t *v = ask->schema ? mock_value(ask->schema, q->key)
		  : ask->json_mode ? mock_object(q->key) : NULL;
	if (ask->schema && !v) {
		char *msg = xasprintf("The response_format schema asks for a value larger than "
				      "scg-mock makes for one answer (%ld bytes).", (long)MOCK_GEN_MAX);
		invalid(rp, api, "response_format", NULL, msg);
		free(msg);
		return -1;
	}
	if (v && ask->tool && !a->cut) {
		a->tool_input = v;
		char *s = dump(v);
		a->completion_tokens = q->out.has_usage ? q->out.usage : mock_tokens(s);
		free(s);
		return 0;
	}
	a->text = v ? dump(v) : mock_prose(q->key);
	json_decref(v);
	if (a->cut)
		a->text[structured ? strlen(a->text) / 2 : 0] = 0;
	a->completion_tokens = q->out.has_usage ? q->out.usage : mock_tokens(a->text);
	return 0;
}

static void answer_free(struct answer *a)
{
	free(a->text);
	json_decref(a->tool_input);
}

/* Pieces of a text for streaming: about four, cut after spaces. */
static int pieces(const char *text, const char **start, size_t *len, int max)
{
	size_t n = strlen(text), at = 0;
	int k = 0;
	while (at < n && k < max) {
		size_t end = k == max - 1 ? n : at + (n + 3) / 4;
		if (end > n)
			end = n;
		while (end < n && text[end - 1] != ' ')
			end++;
		start[k] = text + at;
		len[k++] = end - at;
		at = end;
	}
	return k;
}

static int model_known(const char *model)
{
	if (!conf.nmodels)
		return 1;
	for (int i = 0; i < conf.nmodels; i++)
		if (!strcmp(conf.models[i], model))
			return 1;
	return 0;
}

static void hex_id(char *out, size_t size, const char *prefix, uint64_t key, const char *salt)
{
	uint64_t a = hash64(salt, strlen(salt), key), b = hash64(&a, sizeof a, key);
	snprintf(out, size, "%s%016llx%08llx", prefix, (unsigned long long)a,
		 (unsigned long long)(b >> 32));
}

static void sse(struct buf *b, const char *event, json_t *v)
{
	char *s = dump(v);
	json_decref(v);
	if (event)
		buf_addf(b, "event: %s\n", event);
	buf_addf(b, "data: %s\n\n", s);
	free(s);
}

/* ---- OpenAI Chat Completions ---- */

static int reasoning_model(const char *m)
{
	return !strncmp(m, "o1", 2) || !strncmp(m, "o3", 2) || !strncmp(m, "o4", 2) ||
	       !strncmp(m, "gpt-5", 5);
}

static json_t *oa_chunk(const char *id, double created, const char *model, json_t *delta,
			const char *finish, int usage)
{
	json_t *c = json_pack("{s:s, s:s, s:I, s:s, s:s, s:[{s:i, s:o, s:n, s:s?}]}", "id", id,
			      "object", "chat.completion.chunk", "created", (json_int_t)created,
			      "model", model, "system_fingerprint", "fp_mock", "choices", "index",
			      0, "delta", delta, "logprobs", "finish_reason", finish);
	if (usage)
		json_object_set_new(c, "usage", json_null());
	return c;
}

static void openai_chat(struct reply *rp, struct req *q)
{
	json_t *d = q->doc;
	const char *model = json_str(d, "model");
	json_t *messages = json_object_get(d, "messages"), *v;
	if (!model) {
		invalid(rp, API_OPENAI, "model", NULL, "you must provide a model parameter");
		return;
	}
	if (!json_is_array(messages)) {
		invalid(rp, API_OPENAI, "messages", "missing_required_parameter",
			"Missing required parameter: 'messages'.");
		return;
	}
	if (!model_known(model)) {
		char *msg = xasprintf("The model `%s` does not exist or you do not have access "
				      "to it.", model);
		reply_error(rp, API_OPENAI, 404, "invalid_request_error", NULL,
			    "model_not_found", NULL, msg);
		free(msg);
		return;
	}
	if (reasoning_model(model)) {
		if (json_object_get(d, "max_tokens")) {
			invalid(rp, API_OPENAI, "max_tokens", "unsupported_parameter",
				"Unsupported parameter: 'max_tokens' is not supported with "
				"this model. Use 'max_completion_tokens' instead.");
			return;
		}
		v = json_object_get(d, "temperature");
		if (v && !(json_is_number(v) && json_number_value(v) == 1)) {
			char num[64], *msg;
			if (json_is_number(v))
				snprintf(num, sizeof num, "%.15g", json_number_value(v));
			else
				snprintf(num, sizeof num, "%s", json_is_null(v) ? "null" : "this value");
			msg = xasprintf("Unsupported value: 'temperature' does not support %s with "
					"this model. Only the default (1) value is supported.", num);
			invalid(rp, API_OPENAI, "temperature", "unsupported_value", msg);
			free(msg);
			return;
		}
	}
	struct ask ask = {0};
	json_t *rf = json_object_get(d, "response_format");
	const char *rft = json_str(rf, "type");
	if (rft && !strcmp(rft, "json_schema")) {
		ask.schema = json_object_get(json_object_get(rf, "json_schema"), "schema");
		if (!ask.schema)
			ask.schema = json_object_get(rf, "schema");
		if (!ask.schema) {
			invalid(rp, API_OPENAI, "response_format", NULL,
				"Missing required parameter: 'response_format.json_schema'.");
			return;
		}
	} else if (rft && !strcmp(rft, "json_object")) {
		ask.schema = json_object_get(rf, "schema");
		ask.json_mode = !ask.schema;
	}

	struct answer a;
	if (answer_make(rp, API_OPENAI, &a, q, &ask, messages, NULL))
		return;
	char id[64];
	hex_id(id, sizeof id, "chatcmpl-", q->key, "chatcmpl");
	double created = floor(now_real());
	const char *finish = a.cut ? "length" : "stop";
	rp->status = 200;
	if (json_is_true(json_object_get(d, "stream"))) {
		int usage = json_is_true(json_object_get(json_object_get(d, "stream_options"),
							 "include_usage"));
		rp->ctype = "text/event-stream";
		sse(&rp->body, NULL, oa_chunk(id, created, model,
					      json_pack("{s:s, s:s}", "role", "assistant",
							"content", ""), NULL, usage));
		const char *st[4];
		size_t len[4];
		int k = pieces(a.text, st, len, 4);
		for (int i = 0; i < k; i++)
			sse(&rp->body, NULL, oa_chunk(id, created, model,
						      json_pack("{s:s%}", "content", st[i], len[i]),
						      NULL, usage));
		sse(&rp->body, NULL, oa_chunk(id, created, model, json_object(), finish, usage));
		if (usage) {
			json_t *c = oa_chunk(id, created, model, json_object(), NULL, 0);
			json_object_set_new(c, "choices", json_array());
			json_object_set_new(c, "usage", json_pack(
				"{s:I, s:I, s:I}", "prompt_tokens", (json_int_t)a.prompt_tokens,
				"completion_tokens", (json_int_t)a.completion_tokens,
				"total_tokens", (json_int_t)(a.prompt_tokens + a.completion_tokens)));
			sse(&rp->body, NULL, c);
		}
		buf_adds(&rp->body, "data: [DONE]\n\n");
	} else {
		reply_json(rp, 200, json_pack(
			"{s:s, s:s, s:I, s:s, s:[{s:i, s:{s:s, s:s, s:n, s:[]}, s:n, s:s}],"
			" s:{s:I, s:I, s:I}, s:s, s:s}",
			"id", id, "object", "chat.completion", "created", (json_int_t)created,
			"model", model, "choices", "index", 0, "message", "role", "assistant",
			"content", a.text, "refusal", "annotations", "logprobs",
			"finish_reason", finish, "usage", "prompt_tokens",
			(json_int_t)a.prompt_tokens, "completion_tokens",
			(json_int_t)a.completion_tokens, "total_tokens",
			(json_int_t)(a.prompt_tokens + a.completion_tokens), "service_tier",
			"default", "system_fingerprint", "fp_mock"));
	}
	answer_free(&a);
}

/* ---- Anthropic Messages ---- */

static const char *anthropic_check(struct reply *rp, json_t *d, char **owned)
{
	json_t *messages = json_object_get(d, "messages"), *m;
	size_t i;
	const char *prev = NULL;
	if (!json_str(d, "model"))
		return "model: Field required";
	if (!json_is_array(messages))
		return "messages: Field required";
	if (!json_object_get(d, "max_tokens"))
		return "max_tokens: Field required";
	if (json_object_get(d, "temperature") && json_object_get(d, "top_p"))
		return "`temperature` and `top_p` cannot both be specified for this model. "
		       "Please use only one.";
	json_array_foreach(messages, i, m) {
		const char *role = json_str(m, "role");
		if (!role)
			return *owned = xasprintf("messages.%zu.role: Field required", i);
		if (!strcmp(role, "system"))
			return "messages: Unexpected role \"system\". The Messages API accepts a "
			       "top-level `system` parameter, not \"system\" as an input message role.";
		if (strcmp(role, "user") && strcmp(role, "assistant"))
			return *owned = xasprintf("messages.%zu.role: Input should be 'user' or "
						  "'assistant'", i);
		if (conf.strict && !prev && strcmp(role, "user"))
			return "messages: first message must use the \"user\" role";
		if (conf.strict && prev && !strcmp(prev, role)) {
			header(rp, "x-should-retry", "false");
			return *owned = xasprintf("messages: roles must alternate between \"user\" "
						  "and \"assistant\", but found multiple \"%s\" "
						  "roles in a row", role);
		}
		prev = role;
	}
	return NULL;
}

static void anthropic_messages(struct reply *rp, struct req *q)
{
	json_t *d = q->doc;
	char *owned = NULL;
	const char *bad = anthropic_check(rp, d, &owned);
	if (bad) {
		invalid(rp, API_ANTHROPIC, NULL, NULL, bad);
		free(owned);
		return;
	}
	const char *model = json_str(d, "model");
	if (!model_known(model)) {
		char *msg = xasprintf("model: %s", model);
		reply_error(rp, API_ANTHROPIC, 404, NULL, "not_found_error", NULL, NULL, msg);
		free(msg);
		return;
	}
	struct ask ask = {0};
	json_t *choice = json_object_get(d, "tool_choice"), *tool;
	const char *ct = json_str(choice, "type");
	size_t i;
	if (ct && (!strcmp(ct, "tool") || !strcmp(ct, "any"))) {
		const char *want = json_str(choice, "name");
		json_array_foreach(json_object_get(d, "tools"), i, tool) {
			const char *name = json_str(tool, "name");
			if (name && (!want || !strcmp(want, name))) {
				ask.tool = name;
				ask.schema = json_object_get(tool, "input_schema");
				break;
			}
		}
		if (!ask.tool) {
			invalid(rp, API_ANTHROPIC, NULL, NULL,
				"tool_choice: the named tool is not in tools");
			return;
		}
		if (!ask.schema)
			ask.json_mode = 1;
	} else {
		json_t *fmt = json_object_get(json_object_get(d, "output_config"), "format");
		if (!fmt)
			fmt = json_object_get(d, "output_format");
		if (fmt)
			ask.schema = json_object_get(fmt, "schema");
	}

	struct answer a;
	if (answer_make(rp, API_ANTHROPIC, &a, q, &ask, json_object_get(d, "messages"),
			json_object_get(d, "system")))
		return;
	char id[64], tid[64];
	hex_id(id, sizeof id, "msg_", q->key, "msg");
	hex_id(tid, sizeof tid, "toolu_", q->key, "toolu");
	const char *stop = a.tool_input ? "tool_use" : a.cut ? "max_tokens" : "end_turn";
	long out_tokens = a.completion_tokens ? a.completion_tokens : 1;
	json_t *block = a.tool_input
		? json_pack("{s:s, s:s, s:s, s:O}", "type", "tool_use", "id", tid, "name",
			    ask.tool, "input", a.tool_input)
		: json_pack("{s:s, s:s}", "type", "text", "text", a.text);
	json_t *usage = json_pack("{s:I, s:I, s:i, s:i, s:s}", "input_tokens",
				  (json_int_t)a.prompt_tokens, "output_tokens",
				  (json_int_t)out_tokens, "cache_creation_input_tokens", 0,
				  "cache_read_input_tokens", 0, "service_tier", "standard");
	json_t *msg = json_pack("{s:s, s:s, s:s, s:s, s:[o], s:s, s:n, s:o}", "id", id, "type",
				"message", "role", "assistant", "model", model, "content", block,
				"stop_reason", stop, "stop_sequence", "usage", usage);
	if (!json_is_true(json_object_get(d, "stream"))) {
		reply_json(rp, 200, msg);
		answer_free(&a);
		return;
	}
	rp->status = 200;
	rp->ctype = "text/event-stream";
	json_t *start = json_deep_copy(msg);
	json_object_set_new(start, "content", json_array());
	json_object_set_new(start, "stop_reason", json_null());
	json_object_set_new(json_object_get(start, "usage"), "output_tokens", json_integer(1));
	sse(&rp->body, "message_start", json_pack("{s:s, s:o}", "type", "message_start",
						  "message", start));
	json_t *empty = json_deep_copy(block);
	json_object_set_new(empty, a.tool_input ? "input" : "text",
			    a.tool_input ? json_object() : json_string(""));
	sse(&rp->body, "content_block_start", json_pack("{s:s, s:i, s:o}", "type",
		"content_block_start", "index", 0, "content_block", empty));
	sse(&rp->body, "ping", json_pack("{s:s}", "type", "ping"));
	char *text = a.tool_input ? dump(a.tool_input) : xstrdup(a.text);
	const char *st[4];
	size_t len[4];
	int k = pieces(text, st, len, 4);
	for (int j = 0; j < k; j++)
		sse(&rp->body, "content_block_delta", json_pack(
			"{s:s, s:i, s:{s:s, s:s%}}", "type", "content_block_delta", "index", 0,
			"delta", "type", a.tool_input ? "input_json_delta" : "text_delta",
			a.tool_input ? "partial_json" : "text", st[j], len[j]));
	free(text);
	sse(&rp->body, "content_block_stop", json_pack("{s:s, s:i}", "type",
						       "content_block_stop", "index", 0));
	sse(&rp->body, "message_delta", json_pack(
		"{s:s, s:{s:s, s:n}, s:{s:I}}", "type", "message_delta", "delta", "stop_reason",
		stop, "stop_sequence", "usage", "output_tokens", (json_int_t)out_tokens));
	sse(&rp->body, "message_stop", json_pack("{s:s}", "type", "message_stop"));
	json_decref(msg);
	answer_free(&a);
}

/* ---- Ollama /api/chat ---- */

static json_t *ollama_line(const char *model, const char *created, const char *text,
			   size_t len)
{
	return json_pack("{s:s, s:s, s:{s:s, s:s%}, s:b}", "model", model, "created_at",
			 created, "message", "role", "assistant", "content", text, len,
			 "done", 0);
}

static void ollama_chat(struct reply *rp, struct req *q)
{
	json_t *d = q->doc;
	const char *model = json_str(d, "model");
	json_t *messages = json_object_get(d, "messages");
	if (!model) {
		invalid(rp, API_OLLAMA, NULL, NULL, "model is required");
		return;
	}
	if (!json_is_array(messages)) {
		invalid(rp, API_OLLAMA, NULL, NULL, "messages is required");
		return;
	}
	if (!model_known(model)) {
		char *msg = xasprintf("model '%s' not found", model);
		reply_error(rp, API_OLLAMA, 404, NULL, NULL, NULL, NULL, msg);
		free(msg);
		return;
	}
	struct ask ask = {0};
	json_t *format = json_object_get(d, "format");
	if (json_is_object(format))
		ask.schema = format;
	else if (json_is_string(format) && !strcmp(json_string_value(format), "json"))
		ask.json_mode = 1;

	struct answer a;
	if (answer_make(rp, API_OLLAMA, &a, q, &ask, messages, NULL))
		return;
	char created[64];
	double now = now_real();
	rfc3339(created, sizeof created, floor(now));
	snprintf(created + 19, sizeof created - 19, ".%06dZ", (int)(fmod(now, 1) * 1e6));
	/* durations in ns, as if 60 tokens/s out and 600 in */
	json_int_t pe = (json_int_t)a.prompt_tokens * 1666667;
	json_int_t ev = (json_int_t)a.completion_tokens * 16666667;
	json_t *last = ollama_line(model, created, "", 0);
	json_object_set_new(last, "done", json_true());
	json_t *stats = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I}", "done_reason",
				  a.cut ? "length" : "stop", "total_duration", pe + ev + 2000000,
				  "load_duration", (json_int_t)2000000, "prompt_eval_count",
				  (json_int_t)a.prompt_tokens, "prompt_eval_duration", pe,
				  "eval_count", (json_int_t)a.completion_tokens, "eval_duration", ev);
	json_object_update(last, stats);
	json_decref(stats);
	rp->status = 200;
	if (json_is_false(json_object_get(d, "stream"))) {
		json_object_set_new(json_object_get(last, "message"), "content",
				    json_string(a.text));
		reply_json(rp, 200, last);
	} else {
		rp->ctype = "application/x-ndjson";
		const char *st[4];
		size_t len[4];
		int k = pieces(a.text, st, len, 4);
		for (int i = 0; i <= k; i++) {
			json_t *line = i < k ? ollama_line(model, created, st[i], len[i]) : last;
			char *s = dump(line);
			buf_addf(&rp->body, "%s\n", s);
			free(s);
			json_decref(line);
		}
	}
	answer_free(&a);
}

/* ---- the log ---- */

static int redacted(const char *name)
{
	static const char *const words[] = {"key", "token", "secret", "auth", "cookie",
					    "pass", "session", "credential", "sig"};
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
		if (strstr(name, words[i]))
			return 1;
	return 0;
}

static enum MHD_Result add_header(void *cls, enum MHD_ValueKind kind, const char *name,
				  const char *value)
{
	(void)kind;
	char *lower = xstrdup(name);
	for (char *p = lower; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p += 'a' - 'A';
	json_t *v = redacted(lower) ? json_string("[redacted]") : json_string(value ? value : "");
	json_object_set_new(cls, lower, v ? v : json_string("[not UTF-8]"));
	free(lower);
	return MHD_YES;
}

static void log_request(struct MHD_Connection *c, const char *method, const char *url,
			const struct req *q, const struct reply *rp)
{
	if (!conf.log)
		return;
	json_t *headers = json_object();
	MHD_get_connection_values(c, MHD_HEADER_KIND, add_header, headers);
	json_t *body = q->doc ? json_incref(q->doc)
		     : q->too_large ? json_string("[larger than 32 MiB: dropped]")
		     : json_stringn(q->body.p ? q->body.p : "", q->body.len);
	if (!body) {   /* not UTF-8: keep what can be read */
		char *s = xstrndup(q->body.p, q->body.len);
		for (char *p = s; *p; p++)
			if ((unsigned char)*p >= 0x80)
				*p = '?';
		body = json_string(s);
		free(s);
	}
	json_t *line = json_pack("{s:I, s:s, s:s, s:o, s:o, s:s, s:i}", "n", (json_int_t)q->n,
				 "method", method, "path", url, "headers", headers, "body", body,
				 "outcome", rp->outcome, "status", rp->drop ? 0 : rp->status);
	char *s = dump(line);
	json_decref(line);
	/* --key and the --redact-env values, wherever they are (a body too) */
	secret_redact_json(s, strlen(s));
	pthread_mutex_lock(&lock);
	fprintf(conf.log, "%s\n", s);
	fflush(conf.log);
	pthread_mutex_unlock(&lock);
	free(s);
}

/* ---- echoes ---- */

struct echo {
	struct buf b;
	int credentials;      /* this pass: the credential headers, or the rest */
};

static enum MHD_Result echo_header(void *cls, enum MHD_ValueKind kind, const char *name,
				   const char *value)
{
	(void)kind;
	struct echo *e = cls;
	char *lower = xstrdup(name);
	for (char *p = lower; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p += 'a' - 'A';
	if (redacted(lower) == e->credentials)
		buf_addf(&e->b, "%s: %s; ", name, value ? value : "");
	free(lower);
	return MHD_YES;
}

/* What a careless server repeats in an error or an answer: every header
 * as received, the credentials first, and the body, on one line. */
static char *echo_text(struct MHD_Connection *c, const struct req *q)
{
	struct echo e = {.credentials = 1};
	struct buf *b = &e.b;
	buf_adds(b, "We received these headers: ");
	MHD_get_connection_values(c, MHD_HEADER_KIND, echo_header, &e);
	e.credentials = 0;
	MHD_get_connection_values(c, MHD_HEADER_KIND, echo_header, &e);
	buf_adds(b, "and this body: ");
	buf_add(b, q->body.p ? q->body.p : "", q->body.len);
	for (size_t i = 0; i < b->len; i++)
		if (b->p[i] == '\n' || b->p[i] == '\r' || !b->p[i])
			b->p[i] = ' ';
	return buf_steal(b);
}

/* ---- serving ---- */

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
	header(rp, api == API_ANTHROPIC ? "request-id" : "x-request-id", "%s", rp->rid);
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
		char *text = echo_text(c, q);
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
	const char *model = json_str(q->doc, "model");
	if (q->out.rpm_limited)
		rp->outcome = "rpm";
	if (fault(rp, api, &q->out, model ? model : "the model"))
		return;
	if (q->out.kind == K_ERROR200) {
		reply_error(rp, api, 200, "server_error", "api_error", NULL, NULL,
			    "The server had an error while processing your request.");
		return;
	}
	if (q->out.kind == K_HUGE || q->out.kind == K_GZIP) {
		big_reply(rp, api, model ? model : "mock", q->out.bytes > 0 ? q->out.bytes : MOCK_HUGE_BYTES,
			  q->out.kind == K_GZIP);
		if (q->out.kind == K_GZIP)
			header(rp, "content-encoding", "gzip");
		return;
	}
	if (q->out.kind == K_ECHO)
		q->echo = echo_text(c, q);
	if (api == API_ANTHROPIC && !MHD_lookup_connection_value(c, MHD_HEADER_KIND,
								 "anthropic-version")) {
		invalid(rp, api, NULL, NULL, "anthropic-version: header is required");
	} else if (!q->doc) {
		invalid(rp, api, NULL, NULL, api == API_OLLAMA ? "invalid character in JSON body"
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
		header(rp, "x-ratelimit-limit-requests", "%ld", conf.rpm);
		header(rp, "x-ratelimit-reset-requests", "1m0s");
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
			q->out = decide(q->n, q->seq, &q->rpm_wait);
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
	enum MHD_Result ret = MHD_NO;
	if (!rp.drop && !__atomic_load_n(&stopping, __ATOMIC_RELAXED)) {
		size_t len = rp.body.len;
		/* a plain big body says its size; a gzip one cannot know it */
		struct MHD_Response *resp = rp.big
			? MHD_create_response_from_callback(rp.big->gz ? MHD_SIZE_UNKNOWN
					: strlen(rp.big->head) + rp.big->fill + strlen(rp.big->tail),
					1 << 16, big_read, rp.big, big_free)
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
		big_free(rp.big);
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

/* ---- options and main ---- */

static const char *script_path;

/* MS or MIN..MAX; parse_range() would read "300..800" as "300." and fail */
static void latency_opt(const char *name, const char *arg)
{
	const char *dots = strstr(arg, "..");
	char *lo = dots ? xstrndup(arg, (size_t)(dots - arg)) : xstrdup(arg), *end;
	conf.lat_lo = conf.lat_hi = strtod(lo, &end);
	int bad = end == lo || *end;
	if (dots) {
		conf.lat_hi = strtod(dots + 2, &end);
		bad |= end == dots + 2 || *end;
	}
	free(lo);
	if (bad || conf.lat_lo < 0 || conf.lat_hi < conf.lat_lo)
		usage_error("%s: expected MS or MIN..MAX, got '%s'", name, arg);
}

static void answers_opt(const char *name, const char *arg)
{
	(void)name;
	struct buf err = {0};
	if (!(canned = mock_canned_load(arg, &err)))
		die("%s", err.p);
}

/* emptied at start, then appended to: a log emptied while the server runs
 * (: >log) starts again at its beginning */
static void log_opt(const char *name, const char *arg)
{
	(void)name;
	int fd = open(arg, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0 || !(conf.log = fdopen(fd, "a")))
		die("%s: %s", arg, strerror(errno));
}

static void key_opt(const char *name, const char *arg)
{
	(void)name;
	conf.key = arg;
	secret_add(arg);
}

static void redact_env_opt(const char *name, const char *arg)
{
	(void)name;
	for (const char *p = arg; *p; p += strcspn(p, ",") + (p[strcspn(p, ",")] == ',')) {
		char *var = xstrndup(p, strcspn(p, ","));
		secret_add(getenv(var));
		free(var);
	}
}

static void models_opt(const char *name, const char *arg)
{
	(void)name;
	for (const char *p = arg; *p; p += strcspn(p, ",") + (p[strcspn(p, ",")] == ',')) {
		conf.models = xrealloc(conf.models, sizeof *conf.models * (size_t)(conf.nmodels + 1));
		conf.models[conf.nmodels++] = xstrndup(p, strcspn(p, ","));
	}
}

static const struct opt options[] = {
	OPT_INT(0, "port", &conf.port, "N", 0, 65535,
		"listen on port N; 0 (default) takes a free one; the port is the first line "
		"on stdout"),
	OPT_STRING(0, "host", &conf.host, "ADDR", "address to listen on (default 127.0.0.1)"),
	OPT_CALL(0, "answers", "FILE", answers_opt,
		 "canned structured answers: {\"match\": TEXT or [TEXT...], \"answer\": VALUE} "
		 "a line; a request for JSON whose body holds every TEXT gets the first such "
		 "VALUE"),
	OPT_CALL(0, "latency", "MS|MIN..MAX", latency_opt,
		 "delay of every answer, fixed or drawn per request"),
	OPT_LONG(0, "rpm", &conf.rpm, "N", 1, 10000000,
		 "answer 429 to more than N requests a minute"),
	OPT_CALL(0, "fail", "KIND=RATE,...", fail_opt,
		 "inject faults: 429 quota toolarge 500 502 503 529 noretry drop stall garbage "
		 "invalid 400 403 408 409 echo401 echo error200 huge gzip, each with a rate in "
		 "0..1"),
	OPT_STRING(0, "script", &script_path, "FILE",
		   "one outcome a line (ok or a KIND, optionally retry-after=S, "
		   "retry-after-date=S, retry-after-ms=MS, should-retry=true|false, times=N, "
		   "bytes=N, usage=N), in arrival order"),
	OPT_DOUBLE(0, "retry-after-ms", &conf.retry_ms, "MS", 0, 1e9,
		   "the wait a 429 asks for (default 100)"),
	OPT_DOUBLE(0, "stall-ms", &conf.stall_ms, "MS", 0, 1e9,
		   "how long a stall lasts (default 30000)"),
	OPT_CALL(0, "log", "FILE", log_opt,
		 "log every request as a JSON line (secrets redacted)"),
	OPT_CALL(0, "key", "KEY", key_opt, "require this API key (never logged)"),
	OPT_CALL(0, "redact-env", "VAR,...", redact_env_opt,
		 "never log the values of these environment variables"),
	OPT_CALL(0, "models", "LIST", models_opt, "only these models exist (comma-separated)"),
	OPT_FLAG(0, "strict", &conf.strict,
		 "enforce Anthropic's first-user and alternation rules"),
	OPT_END,
};

static const struct opt_prog prog = {
	.name = "scg-mock",
	.synopsis = "[--port N] [--latency MS|MIN..MAX] [--fail KIND=RATE,...] [--script FILE] [options]",
	.summary = "Serve fake OpenAI, Anthropic and Ollama chat APIs with deterministic answers.",
	.common = OPT_BASIC,
	.opts = options,
};

int main(int argc, char **argv)
{
	int i = opt_parse(&prog, argc, argv);
	if (i < argc)
		usage_error("unexpected operand '%s'", argv[i]);
	if (script_path)
		script_load(script_path);
	if (conf.rpm)
		rpm_times = xcalloc((size_t)conf.rpm, sizeof *rpm_times);

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

	/* the server threads inherit the mask: only main takes the signals */
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

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

	int sig;
	sigwait(&sigs, &sig);
	pthread_mutex_lock(&sleep_lock);
	__atomic_store_n(&stopping, 1, __ATOMIC_RELAXED);
	pthread_cond_broadcast(&wake);
	pthread_mutex_unlock(&sleep_lock);
	MHD_stop_daemon(d);

	if (conf.log)
		fclose(conf.log);
	free(conf.script);
	free(rpm_times);
	json_decref(canned);
	for (int m = 0; m < conf.nmodels; m++)
		free(conf.models[m]);
	free(conf.models);
	return 0;
}
