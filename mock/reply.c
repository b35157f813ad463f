/* reply: the pieces of a reply that every API uses: headers, compact JSON,
 * errors in the provider's shape, server-sent events, ids and times. */
#include "mock.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

void reply_header(struct reply *rp, const char *name, const char *fmt, ...)
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
char *reply_dump(const json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
	if (!s)
		die("out of memory");
	return s;
}

void reply_json(struct reply *rp, int status, json_t *v)
{
	char *s = reply_dump(v);
	json_decref(v);
	rp->status = status;
	buf_reset(&rp->body);
	buf_adds(&rp->body, s);
	free(s);
}

/* An error in the provider's shape; the type names differ by provider. */
void reply_error(struct reply *rp, enum api api, int status, const char *oa_type,
		 const char *an_type, const char *code, const char *param, const char *msg)
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

void reply_invalid(struct reply *rp, enum api api, const char *param, const char *code,
		   const char *msg)
{
	reply_error(rp, api, 400, "invalid_request_error", "invalid_request_error", code,
		    param, msg);
}

void reply_rfc3339(char *out, size_t size, double t)
{
	time_t secs = (time_t)ceil(t);
	struct tm tm;
	gmtime_r(&secs, &tm);
	strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Pieces of a text for streaming: about four, cut after spaces. */
int reply_pieces(const char *text, const char **start, size_t *len, int max)
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

void reply_id(char *out, size_t size, const char *prefix, uint64_t key, const char *salt)
{
	uint64_t a = hash64(salt, strlen(salt), key), b = hash64(&a, sizeof a, key);
	snprintf(out, size, "%s%016llx%08llx", prefix, (unsigned long long)a,
		 (unsigned long long)(b >> 32));
}

void reply_sse(struct buf *b, const char *event, json_t *v)
{
	char *s = reply_dump(v);
	json_decref(v);
	if (event)
		buf_addf(b, "event: %s\n", event);
	buf_addf(b, "data: %s\n\n", s);
	free(s);
}
