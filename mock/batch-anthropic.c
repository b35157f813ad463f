/* batch-anthropic: Anthropic's Message Batches as scg-mock serves them:
 * created with the requests inline (POST /v1/messages/batches), retrieved
 * (GET .../ID), cancelled (POST .../ID/cancel), and the results of an
 * ended one (GET .../ID/results, the results_url it gives), shuffled. Only
 * processing moves before a batch ends, as with the real one; times are
 * RFC 3339 strings. */
#include "batch.h"

#include <ctype.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

/* ---- the params of each request, as written in the body ---- */

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

/* Past the string whose opening quote p is at. */
static const char *skip_string(const char *p)
{
	for (p++; *p && *p != '"'; p++)
		if (*p == '\\' && p[1])
			p++;
	return *p ? p + 1 : p;
}

/* Past the JSON value at p (the body parsed already: it is valid). */
static const char *skip_value(const char *p)
{
	p = skip_ws(p);
	if (*p == '"')
		return skip_string(p);
	if (*p != '{' && *p != '[') {
		while (*p && *p != ',' && *p != '}' && *p != ']' && !isspace((unsigned char)*p))
			p++;
		return p;
	}
	int depth = 0;
	while (*p) {
		if (*p == '"') {
			p = skip_string(p);
			continue;
		}
		if (*p == '{' || *p == '[')
			depth++;
		else if ((*p == '}' || *p == ']') && --depth == 0)
			return p + 1;
		p++;
	}
	return p;
}

/* Calls found(i, start, len) for the member key of each element of the
 * array at member "requests" of the object at p: the bytes each request's
 * params were sent as, which the answer is keyed on, as online. */
static void each_member(const char *p, const char *array, const char *key, struct mbatch *b,
			json_t *requests)
{
	p = skip_ws(p);
	if (*p++ != '{')
		return;
	for (p = skip_ws(p); *p == '"'; p = skip_ws(p)) {
		const char *k = p + 1, *ke = skip_string(p);
		int is_array = (size_t)(ke - 1 - k) == strlen(array) && !strncmp(k, array, strlen(array));
		p = skip_ws(ke);
		p = skip_ws(p + 1);   /* ':' */
		if (!is_array) {
			p = skip_ws(skip_value(p));
			if (*p == ',')
				p++;
			continue;
		}
		long i = 0;
		for (p = skip_ws(p + 1); *p == '{'; i++) {
			for (p = skip_ws(p + 1); *p == '"'; p = skip_ws(p)) {
				const char *mk = p + 1, *mke = skip_string(p);
				p = skip_ws(skip_ws(mke) + 1);
				const char *v = p;
				p = skip_value(p);
				if ((size_t)(mke - 1 - mk) == strlen(key) && !strncmp(mk, key, strlen(key))) {
					json_t *r = json_array_get(requests, (size_t)i);
					mbatch_answer(b, i, json_string_value(json_object_get(r, "custom_id")), v,
						      (size_t)(p - v), json_object_get(r, key));
				}
				p = skip_ws(p);
				if (*p == ',')
					p++;
			}
			p = skip_ws(p + 1);   /* '}' */
			if (*p == ',')
				p = skip_ws(p + 1);
		}
		return;
	}
}

static int custom_id_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n < 1 || n > 64)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
			return 0;
	return 1;
}

static struct mbatch *create(struct reply *rp, struct req *q)
{
	json_t *requests = json_object_get(q->doc, "requests"), *r, *seen = json_object();
	size_t i;
	const char *bad = !json_is_array(requests) || !json_array_size(requests) ? "requests: Field required"
		: (long)json_array_size(requests) > conf.batch_max ? "requests: more than a batch may hold "
								    "(scg-mock --batch-max-requests)"
		: NULL;
	json_array_foreach(requests, i, r) {
		const char *cid = jv_str(r, "custom_id");
		if (bad)
			break;
		if (!custom_id_ok(cid))
			bad = "requests: custom_id must be 1 to 64 letters, digits, _ or -";
		else if (json_object_get(seen, cid))
			bad = "requests: custom_id must be unique within a batch";
		else if (!json_is_object(json_object_get(r, "params")))
			bad = "requests: params: Field required";
		else
			json_object_set_new(seen, cid, json_true());
	}
	json_decref(seen);
	if (bad) {
		reply_invalid(rp, API_ANTHROPIC, NULL, NULL, bad);
		return NULL;
	}
	struct mbatch *b = mbatch_new(API_ANTHROPIC, "msgbatch_", (long)json_array_size(requests));
	each_member(q->body.p, "requests", "params", b, requests);
	return b;
}

static json_t *time_or_null(double t)
{
	if (t <= 0)
		return json_null();
	char s[64];
	reply_rfc3339(s, sizeof s, t);
	return json_string(s);
}

static json_t *batch_object(struct mbatch *b, struct MHD_Connection *c, double now)
{
	int over = mbatch_over(b, now);
	long processing = 0, ok = 0, errored = 0, canceled = 0, expired = 0;
	for (long i = 0; i < b->n; i++) {
		int done = mbatch_req_done(b, i, now);
		if (!over)
			processing += !done;
		else if (done && b->reqs[i].status == 200 && !b->reqs[i].zero)
			ok++;
		else if (done)
			errored++;
		else if (b->cancelled)
			canceled++;
		else
			expired++;
	}
	const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
	json_t *url = over && host ? json_sprintf("http://%s/v1/messages/batches/%s/results", host, b->id) : json_null();
	json_t *o = json_pack("{s:s, s:s, s:s, s:{s:I, s:I, s:I, s:I, s:I}, s:o, s:o, s:o, s:o, s:o, s:o}",
		"id", b->id, "type", "message_batch", "processing_status",
		over ? "ended" : b->cancelled ? "canceling" : "in_progress", "request_counts",
		"processing", (json_int_t)processing, "succeeded", (json_int_t)ok, "errored", (json_int_t)errored,
		"canceled", (json_int_t)canceled, "expired", (json_int_t)expired,
		"ended_at", time_or_null(over ? now : 0), "created_at", time_or_null(b->created),
		"expires_at", time_or_null(b->created + 86400), "archived_at", json_null(),
		"cancel_initiated_at", time_or_null(b->cancelled), "results_url", url);
	if (b->cancelled)
		b->cancel_seen = 1;   /* ended at the next look */
	return o;
}

static void results(struct reply *rp, struct mbatch *b, double now)
{
	long *order = mbatch_order(b);
	rp->status = 200;
	rp->ctype = "application/binary";
	for (long k = 0; k < b->n; k++) {
		const struct mreq *m = &b->reqs[order[k]];
		json_t *res;
		if (!mbatch_req_done(b, order[k], now))
			res = json_pack("{s:s}", "type", b->cancelled ? "canceled" : "expired");
		else if (m->status == 200 && !m->zero)
			res = json_pack("{s:s, s:O}", "type", "succeeded", "message", m->body);
		else
			res = json_pack("{s:s, s:O}", "type", "errored", "error", m->body);
		json_t *line = json_pack("{s:s, s:o}", "custom_id", m->cid, "result", res);
		char *s = reply_dump(line);
		json_decref(line);
		buf_adds(&rp->body, s);
		buf_addc(&rp->body, '\n');
		free(s);
	}
	free(order);
}

void batch_anthropic_serve(struct reply *rp, struct req *q, struct MHD_Connection *c,
			   const char *method, const char *url)
{
	int get = !strcmp(method, "GET"), post = !strcmp(method, "POST");
	if (!strcmp(url, "/v1/messages/batches")) {
		if (!post || !q->doc) {
			mbatch_error(rp, API_ANTHROPIC, 400, "POST a JSON body of requests here");
		} else {
			struct mbatch *b = create(rp, q);
			if (b)
				reply_json(rp, 200, batch_object(b, c, now_real()));
		}
		return;
	}
	const char *s = url + 21;
	size_t n = strcspn(s, "/");
	char *id = xstrndup(s, n);
	const char *rest = s + n;
	struct mbatch *b = mbatch_find(API_ANTHROPIC, id);
	double now = now_real();
	if (!b) {
		char *msg = xasprintf("batch %s not found", id);
		mbatch_error(rp, API_ANTHROPIC, 404, msg);
		free(msg);
	} else if (get && !*rest) {
		reply_json(rp, 200, batch_object(b, c, now));
	} else if (post && !strcmp(rest, "/cancel")) {
		if (!b->cancelled && !mbatch_over(b, now))
			b->cancelled = now;
		reply_json(rp, 200, batch_object(b, c, now));
	} else if (get && !strcmp(rest, "/results")) {
		if (mbatch_over(b, now))
			results(rp, b, now);
		else
			mbatch_error(rp, API_ANTHROPIC, 400, "the batch has not ended: no results yet");
	} else {
		mbatch_error(rp, API_ANTHROPIC, 404, "Invalid URL");
	}
	free(id);
}
