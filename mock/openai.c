/* openai: OpenAI's Chat Completions, /v1/chat/completions: its checks of
 * the model and the parameters, response_format, and the answer as one
 * object or as chunks of server-sent events. */
#include "mock.h"

#include <math.h>
#include <string.h>

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

void openai_chat(struct reply *rp, struct req *q)
{
	json_t *d = q->doc;
	const char *model = jv_str(d, "model");
	json_t *messages = json_object_get(d, "messages"), *v;
	if (!model) {
		reply_invalid(rp, API_OPENAI, "model", NULL, "you must provide a model parameter");
		return;
	}
	if (!json_is_array(messages)) {
		reply_invalid(rp, API_OPENAI, "messages", "missing_required_parameter",
			      "Missing required parameter: 'messages'.");
		return;
	}
	if (!answer_model_known(model)) {
		char *msg = xasprintf("The model `%s` does not exist or you do not have access "
				      "to it.", model);
		reply_error(rp, API_OPENAI, 404, "invalid_request_error", NULL,
			    "model_not_found", NULL, msg);
		free(msg);
		return;
	}
	if (reasoning_model(model)) {
		if (json_object_get(d, "max_tokens")) {
			reply_invalid(rp, API_OPENAI, "max_tokens", "unsupported_parameter",
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
			reply_invalid(rp, API_OPENAI, "temperature", "unsupported_value", msg);
			free(msg);
			return;
		}
	}
	struct ask ask = {0};
	json_t *rf = json_object_get(d, "response_format");
	const char *rft = jv_str(rf, "type");
	if (rft && !strcmp(rft, "json_schema")) {
		ask.schema = json_object_get(json_object_get(rf, "json_schema"), "schema");
		if (!ask.schema)
			ask.schema = json_object_get(rf, "schema");
		if (!ask.schema) {
			reply_invalid(rp, API_OPENAI, "response_format", NULL,
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
	struct mock_call call;
	int calling = !ask.schema && !ask.json_mode &&
		      tool_call_make(q, API_OPENAI, json_object_get(d, "tools"), messages, &a, &call);
	json_t *calls = calling ? json_pack("[{s:s, s:s, s:{s:s, s:s}}]", "id", call.id, "type", "function",
					    "function", "name", call.name, "arguments", call.arguments) : NULL;
	char id[64];
	reply_id(id, sizeof id, "chatcmpl-", q->key, "chatcmpl");
	double created = floor(now_real());
	const char *finish = calling ? "tool_calls" : a.cut ? "length" : "stop";
	rp->status = 200;
	if (json_is_true(json_object_get(d, "stream"))) {
		int usage = json_is_true(json_object_get(json_object_get(d, "stream_options"),
							 "include_usage"));
		rp->ctype = "text/event-stream";
		reply_sse(&rp->body, NULL, oa_chunk(id, created, model,
						    json_pack("{s:s, s:s}", "role", "assistant",
							      "content", ""), NULL, usage));
		const char *st[4];
		size_t len[4];
		int k = calling ? 0 : reply_pieces(a.text, st, len, 4);
		if (calling) {
			json_object_set_new(json_array_get(calls, 0), "index", json_integer(0));
			reply_sse(&rp->body, NULL, oa_chunk(id, created, model,
							    json_pack("{s:O}", "tool_calls", calls), NULL, usage));
		}
		for (int i = 0; i < k; i++)
			reply_sse(&rp->body, NULL, oa_chunk(id, created, model,
							    json_pack("{s:s%}", "content", st[i], len[i]),
							    NULL, usage));
		reply_sse(&rp->body, NULL, oa_chunk(id, created, model, json_object(), finish, usage));
		if (usage) {
			json_t *c = oa_chunk(id, created, model, json_object(), NULL, 0);
			json_object_set_new(c, "choices", json_array());
			json_object_set_new(c, "usage", json_pack(
				"{s:I, s:I, s:I}", "prompt_tokens", (json_int_t)a.prompt_tokens,
				"completion_tokens", (json_int_t)a.completion_tokens,
				"total_tokens", (json_int_t)(a.prompt_tokens + a.completion_tokens)));
			reply_sse(&rp->body, NULL, c);
		}
		buf_adds(&rp->body, "data: [DONE]\n\n");
	} else {
		json_t *msg = json_pack("{s:s, s:s, s:n, s:[]}", "role", "assistant", "content", a.text,
					"refusal", "annotations");
		if (calling) {
			json_object_set_new(msg, "content", json_null());
			json_object_set(msg, "tool_calls", calls);
		}
		reply_json(rp, 200, json_pack(
			"{s:s, s:s, s:I, s:s, s:[{s:i, s:o, s:n, s:s}],"
			" s:{s:I, s:I, s:I}, s:s, s:s}",
			"id", id, "object", "chat.completion", "created", (json_int_t)created,
			"model", model, "choices", "index", 0, "message", msg, "logprobs",
			"finish_reason", finish, "usage", "prompt_tokens",
			(json_int_t)a.prompt_tokens, "completion_tokens",
			(json_int_t)a.completion_tokens, "total_tokens",
			(json_int_t)(a.prompt_tokens + a.completion_tokens), "service_tier",
			"default", "system_fingerprint", "fp_mock"));
	}
	json_decref(calls);
	if (calling)
		tool_call_free(&call);
	answer_free(&a);
}

