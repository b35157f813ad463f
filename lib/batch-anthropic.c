/* batch-anthropic: Anthropic's Message Batches (docs/providers.md,
 * "Anthropic Message Batches"): the requests inline, {"requests":
 * [{custom_id, params}...]}, posted to /v1/messages/batches; the batch's
 * processing status and counts (only processing moves before it ends);
 * its results, one line a request, at the results_url it gives once it has
 * ended. Anthropic's list has nothing of scg's in it to find a batch by. */
#include "batch.h"
#include "jv.h"

#include <stdlib.h>
#include <string.h>

static void item(struct buf *b, const char *custom_id, const char *body)
{
	buf_addf(b, "{\"custom_id\":\"%s\",\"params\":", custom_id);
	buf_adds(b, body);
	buf_addc(b, '}');
}

/* The batches' URL, with /v1 once, as the Messages URL (lib/llm.c). */
static char *batches(const struct model *m, const char *rest)
{
	size_t n = strlen(m->base_url);
	int v1 = n >= 3 && !strcmp(m->base_url + n - 3, "/v1");
	return xasprintf("%s%s/messages/batches%s", m->base_url, v1 ? "" : "/v1", rest);
}

static char *create_url(const struct model *m)
{
	return batches(m, "");
}

static char *status_url(const struct model *m, const char *id)
{
	char *rest = xasprintf("/%s", id);
	char *url = batches(m, rest);
	free(rest);
	return url;
}

static char *cancel_url(const struct model *m, const char *id)
{
	char *rest = xasprintf("/%s/cancel", id);
	char *url = batches(m, rest);
	free(rest);
	return url;
}

static long count(json_t *counts, const char *key)
{
	json_t *n = json_object_get(counts, key);
	return json_is_integer(n) && json_integer_value(n) > 0 ? (long)json_integer_value(n) : 0;
}

static int parse_status(const struct model *m, json_t *v, struct batch_status *s, struct buf *why)
{
	memset(s, 0, sizeof *s);
	const char *id = jv_str(v, "id"), *status = jv_str(v, "processing_status");
	if (!batch_id_ok(id) || !status) {
		buf_adds(why, "not a message batch (no id or processing_status)");
		return -1;
	}
	s->id = xstrdup(id);
	int cancelled = json_is_string(json_object_get(v, "cancel_initiated_at"));
	s->phase = !strcmp(status, "ended") ? (cancelled ? BATCH_CANCELLED : BATCH_ENDED)
		 : !strcmp(status, "canceling") ? BATCH_CANCELLING : BATCH_RUNNING;
	s->status = xstrdup(s->phase == BATCH_CANCELLED ? "ended (cancelled)" : status);
	json_t *c = json_object_get(v, "request_counts");
	long processing = count(c, "processing"), ok = count(c, "succeeded");
	long bad = count(c, "errored") + count(c, "canceled") + count(c, "expired");
	s->done = ok;
	s->failed = bad;
	s->total = processing + ok + bad;
	const char *url = jv_str(v, "results_url");
	if (url) {
		if (!batch_same_origin(m->base_url, url)) {
			buf_addf(why, "its results_url is not on %s's host: not followed (the key would go there)",
				 m->base_url);
			batch_status_free(s);
			return -1;
		}
		s->results = xstrdup(url);
	}
	return 0;
}

/* The HTTP status an error type stands for (docs/providers.md, Anthropic's
 * errors); 0 for one not known, which is retried. */
static long error_status(const char *type)
{
	static const struct {
		const char *type;
		long status;
	} map[] = {
		{"invalid_request_error", 400}, {"authentication_error", 401}, {"billing_error", 402},
		{"permission_error", 403}, {"not_found_error", 404}, {"request_too_large", 413},
		{"rate_limit_error", 429}, {"api_error", 500}, {"timeout_error", 504},
		{"overloaded_error", 529},
	};
	for (size_t i = 0; type && i < sizeof map / sizeof *map; i++)
		if (!strcmp(type, map[i].type))
			return map[i].status;
	return 0;
}

static int parse_result(json_t *line, struct batch_result *r, struct buf *why)
{
	memset(r, 0, sizeof *r);
	const char *cid = jv_str(line, "custom_id");
	json_t *res = json_object_get(line, "result");
	const char *type = jv_str(res, "type");
	if (!cid || !type) {
		buf_adds(why, "a result line without custom_id or result.type");
		return -1;
	}
	r->custom_id = xstrdup(cid);
	if (!strcmp(type, "succeeded")) {
		r->outcome = BATCH_ANSWER;
		json_t *msg = json_object_get(res, "message");
		r->body = jv_compact(msg ? msg : json_null());
	} else if (!strcmp(type, "errored")) {
		/* {"type": "error", "error": {"type", "message"}} */
		json_t *e = json_object_get(json_object_get(res, "error"), "error");
		r->outcome = BATCH_ERROR;
		r->status = error_status(jv_str(e, "type"));
		const char *msg = jv_str(e, "message");
		r->message = xstrdup(msg ? msg : "errored, with no message");
	} else {
		/* expired, canceled */
		r->outcome = BATCH_NOT_RUN;
		r->message = xstrdup(type);
	}
	return 0;
}

const struct batch_wire batch_anthropic = {
	.name = "Anthropic's Message Batches",
	.max_requests = 100000,
	.max_bytes = 256L * 1000 * 1000,
	.upload = 0,
	.head = "{\"requests\":[", .sep = ",", .tail = "]}",
	.item = item,
	.item_overhead = sizeof "{\"custom_id\":\"\",\"params\":}" - 1,
	.create_url = create_url,
	.status_url = status_url,
	.cancel_url = cancel_url,
	.parse_status = parse_status,
	.parse_result = parse_result,
};
