/* faults: what happens to a request, decided when it arrives: the --script
 * line for its turn, else a 429 from --rpm, else a --fail draw; and the
 * replies of the fault kinds, each in the shape its provider sends. The
 * kinds of a hostile server's answer are in hostile.c. */
#include "mock.h"
#include "opt.h"
#include "rng.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *const kind_names[NKINDS] = {
	"ok", "429", "quota", "500", "502", "503", "529", "noretry", "drop",
	"stall", "garbage", "invalid", "400", "403", "408", "409", "toolarge",
	"echo401", "echo", "error200", "huge", "gzip",
};

static double *rpm_times;           /* ring of the last --rpm admissions */
static long rpm_next;

static enum kind kind_parse(const char *s, size_t n)
{
	for (int k = 0; k < NKINDS; k++)
		if (strlen(kind_names[k]) == n && !strncmp(kind_names[k], s, n))
			return (enum kind)k;
	return NKINDS;
}

/* --fail 429=0.1,500=0.05 */
void fault_rates_opt(const char *name, const char *arg)
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

void fault_init(const char *script_path)
{
	if (script_path)
		script_load(script_path);
	if (conf.rpm)
		rpm_times = xcalloc((size_t)conf.rpm, sizeof *rpm_times);
}

void fault_free(void)
{
	free(conf.script);
	free(rpm_times);
}

/* The outcome of the request that arrived n-th (the seq-th model request):
 * the script first, then --rpm, then the --fail draw. */
struct outcome fault_decide(long n, long seq, double *rpm_wait)
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

/* Sends the retry-after a script line gives, in seconds or as an HTTP
 * date; returns the seconds, 0 when it gives none. */
static double given_retry_after(struct reply *rp, const struct outcome *o)
{
	if (o->retry_s > 0) {
		reply_header(rp, "retry-after", "%g", o->retry_s);
		return o->retry_s;
	}
	if (o->retry_date > 0) {
		time_t at = (time_t)ceil(now_real() + o->retry_date);
		struct tm tm;
		char date[64];
		gmtime_r(&at, &tm);
		strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
		reply_header(rp, "retry-after", "%s", date);
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
	reply_rfc3339(reset, sizeof reset, now_real() + ms / 1000);
	if (after <= 0)
		reply_header(rp, "retry-after", "%.0f", ceil(ms / 1000));
	/* Anthropic sends no retry-after-ms of its own */
	int scripted_ms = o->retry_ms >= 0 && !o->rpm_limited;
	if (scripted_ms || (after <= 0 && api != API_ANTHROPIC))
		reply_header(rp, "retry-after-ms", "%.0f", ms);
	if (api == API_ANTHROPIC) {
		reply_header(rp, "anthropic-ratelimit-requests-limit", "%ld", limit);
		reply_header(rp, "anthropic-ratelimit-requests-remaining", "0");
		reply_header(rp, "anthropic-ratelimit-requests-reset", "%s", reset);
	} else {
		reply_header(rp, "x-ratelimit-limit-requests", "%ld", limit);
		reply_header(rp, "x-ratelimit-remaining-requests", "0");
		reply_header(rp, "x-ratelimit-reset-requests", "%s", dur);
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
int fault_reply(struct reply *rp, enum api api, const struct outcome *o, const char *model)
{
	if (o->should_retry >= 0)
		reply_header(rp, "x-should-retry", "%s", o->should_retry ? "true" : "false");
	else if (o->kind == K_NORETRY)
		reply_header(rp, "x-should-retry", "false");
	if (o->kind != K_429) {
		given_retry_after(rp, o);
		if (o->retry_ms >= 0)
			reply_header(rp, "retry-after-ms", "%.0f", o->retry_ms);
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
			reply_invalid(rp, api, NULL, NULL, "prompt is too long: 210000 tokens > 200000 maximum");
		else
			reply_invalid(rp, api, "messages", "context_length_exceeded",
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
