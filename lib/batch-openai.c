/* batch-openai: OpenAI's Batch API (docs/providers.md, "OpenAI Batch"): the
 * requests as a JSONL file, one {custom_id, method, url, body} a line,
 * uploaded to /v1/files with purpose batch; a batch on /v1/chat/completions
 * over that file, with a 24 h window and the request set in its metadata
 * (so that a run stopped before it learnt the batch's id can find it in
 * the list); its status and counts; its output and error files, whose
 * lines carry each request's answer or error under its custom_id. */
#include "batch.h"
#include "jv.h"

#include <stdlib.h>
#include <string.h>

#define ENDPOINT "/v1/chat/completions"

static void item(struct buf *b, const char *custom_id, const char *body)
{
	buf_addf(b, "{\"custom_id\":\"%s\",\"method\":\"POST\",\"url\":\"" ENDPOINT "\",\"body\":", custom_id);
	buf_adds(b, body);
	buf_adds(b, "}\n");
}

static char *upload_url(const struct model *m)
{
	return xasprintf("%s/files", m->base_url);
}

static char *create_url(const struct model *m)
{
	return xasprintf("%s/batches", m->base_url);
}

static char *status_url(const struct model *m, const char *id)
{
	return xasprintf("%s/batches/%s", m->base_url, id);
}

static char *cancel_url(const struct model *m, const char *id)
{
	return xasprintf("%s/batches/%s/cancel", m->base_url, id);
}

static char *list_url(const struct model *m, const char *after)
{
	return after ? xasprintf("%s/batches?limit=100&after=%s", m->base_url, after)
		     : xasprintf("%s/batches?limit=100", m->base_url);
}

static char *create_body(const char *file_id, const char *set)
{
	json_t *v = json_pack("{s:s, s:s, s:s, s:{s:s}}", "input_file_id", file_id, "endpoint", ENDPOINT,
			      "completion_window", "24h", "metadata", "scg_set", set);
	char *s = jv_compact(v);
	json_decref(v);
	return s;
}

static int parse_file(json_t *v, char **id, struct buf *why)
{
	const char *s = jv_str(v, "id");
	if (!batch_id_ok(s)) {
		buf_adds(why, "the upload's answer has no file id");
		return -1;
	}
	*id = xstrdup(s);
	return 0;
}

static char *file_content_url(const struct model *m, json_t *v, const char *key)
{
	const char *id = jv_str(v, key);
	return batch_id_ok(id) ? xasprintf("%s/files/%s/content", m->base_url, id) : NULL;
}

static long count(json_t *counts, const char *key)
{
	json_t *n = json_object_get(counts, key);
	return json_is_integer(n) && json_integer_value(n) > 0 ? (long)json_integer_value(n) : 0;
}

static int parse_status(const struct model *m, json_t *v, struct batch_status *s, struct buf *why)
{
	static const struct {
		const char *word;
		enum batch_phase phase;
	} phases[] = {
		{"validating", BATCH_RUNNING}, {"in_progress", BATCH_RUNNING},
		{"finalizing", BATCH_RUNNING}, {"cancelling", BATCH_CANCELLING},
		{"completed", BATCH_ENDED}, {"expired", BATCH_EXPIRED},
		{"cancelled", BATCH_CANCELLED}, {"failed", BATCH_FAILED},
	};
	memset(s, 0, sizeof *s);
	const char *id = jv_str(v, "id"), *status = jv_str(v, "status");
	if (!batch_id_ok(id) || !status) {
		buf_adds(why, "not a batch object (no id or status)");
		return -1;
	}
	s->id = xstrdup(id);
	s->status = xstrdup(status);
	s->phase = BATCH_RUNNING;   /* a status added later: polled on */
	for (size_t i = 0; i < sizeof phases / sizeof *phases; i++)
		if (!strcmp(status, phases[i].word))
			s->phase = phases[i].phase;
	json_t *counts = json_object_get(v, "request_counts");
	s->done = count(counts, "completed");
	s->failed = count(counts, "failed");
	s->total = count(counts, "total");
	s->results = file_content_url(m, v, "output_file_id");
	s->errors = file_content_url(m, v, "error_file_id");
	const char *set = jv_str(json_object_get(v, "metadata"), "scg_set");
	s->set = set ? xstrdup(set) : NULL;
	if (s->phase == BATCH_FAILED) {
		struct buf e = {0};
		size_t i;
		json_t *d;
		json_array_foreach(json_object_get(json_object_get(v, "errors"), "data"), i, d) {
			json_t *line = json_object_get(d, "line");
			buf_addf(&e, "%s", e.len ? "; " : "");
			if (json_is_integer(line))
				buf_addf(&e, "line %lld: ", (long long)json_integer_value(line));
			buf_adds(&e, jv_str(d, "message") ? jv_str(d, "message") : "(no message)");
		}
		s->why = e.len ? buf_steal(&e) : xstrdup("the batch failed validation");
		buf_free(&e);
	}
	return 0;
}

static int parse_result(json_t *line, struct batch_result *r, struct buf *why)
{
	memset(r, 0, sizeof *r);
	const char *cid = jv_str(line, "custom_id");
	if (!cid) {
		buf_adds(why, "a result line without custom_id");
		return -1;
	}
	r->custom_id = xstrdup(cid);
	json_t *resp = json_object_get(line, "response"), *err = json_object_get(line, "error");
	if (json_is_object(resp)) {
		json_t *st = json_object_get(resp, "status_code"), *body = json_object_get(resp, "body");
		r->status = json_is_integer(st) ? (long)json_integer_value(st) : 0;
		char *text = jv_compact(body ? body : json_null());
		if (r->status >= 200 && r->status < 300) {
			r->outcome = BATCH_ANSWER;
			r->body = text;
			return 0;
		}
		r->outcome = BATCH_ERROR;
		struct buf msg = {0};
		llm_error_text(text, strlen(text), &msg);
		r->message = buf_steal(&msg);
		buf_free(&msg);
		free(text);
		return 0;
	}
	const char *code = jv_str(err, "code"), *msg = jv_str(err, "message");
	r->message = xstrdup(msg ? msg : code ? code : "no answer and no error");
	/* never ran: expired, or cancelled (batch_cancelled, presumably) */
	r->outcome = code && (!strcmp(code, "batch_expired") || !strcmp(code, "batch_cancelled"))
		? BATCH_NOT_RUN : BATCH_ERROR;
	return 0;
}

const struct batch_wire batch_openai = {
	.name = "OpenAI's Batch API",
	.max_requests = 50000,
	.max_bytes = 200L * 1000 * 1000,
	.upload = 1,
	.head = "", .sep = "", .tail = "",
	.item = item,
	.item_overhead = sizeof "{\"custom_id\":\"\",\"method\":\"POST\",\"url\":\"" ENDPOINT "\",\"body\":}\n" - 1,
	.upload_url = upload_url,
	.create_url = create_url,
	.status_url = status_url,
	.cancel_url = cancel_url,
	.list_url = list_url,
	.create_body = create_body,
	.parse_file = parse_file,
	.parse_status = parse_status,
	.parse_result = parse_result,
};
