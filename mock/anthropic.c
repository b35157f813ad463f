/* anthropic: Anthropic's Messages, /v1/messages: its checks of the
 * request (roles, alternation with --strict), forced tools and output
 * formats, and the answer as one message or as a stream of events. */
#include "mock.h"

#include <stdlib.h>
#include <string.h>

static const char *anthropic_check(struct reply *rp, json_t *d, char **owned)
{
	json_t *messages = json_object_get(d, "messages"), *m;
	size_t i;
	const char *prev = NULL;
	if (!jv_str(d, "model"))
		return "model: Field required";
	if (!json_is_array(messages))
		return "messages: Field required";
	if (!json_object_get(d, "max_tokens"))
		return "max_tokens: Field required";
	if (json_object_get(d, "temperature") && json_object_get(d, "top_p"))
		return "`temperature` and `top_p` cannot both be specified for this model. "
		       "Please use only one.";
	json_array_foreach(messages, i, m) {
		const char *role = jv_str(m, "role");
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
			reply_header(rp, "x-should-retry", "false");
			return *owned = xasprintf("messages: roles must alternate between \"user\" "
						  "and \"assistant\", but found multiple \"%s\" "
						  "roles in a row", role);
		}
		prev = role;
	}
	return NULL;
}

void anthropic_messages(struct reply *rp, struct req *q)
{
	json_t *d = q->doc;
	char *owned = NULL;
	const char *bad = anthropic_check(rp, d, &owned);
	if (bad) {
		reply_invalid(rp, API_ANTHROPIC, NULL, NULL, bad);
		free(owned);
		return;
	}
	const char *model = jv_str(d, "model");
	if (!answer_model_known(model)) {
		char *msg = xasprintf("model: %s", model);
		reply_error(rp, API_ANTHROPIC, 404, NULL, "not_found_error", NULL, NULL, msg);
		free(msg);
		return;
	}
	struct ask ask = {0};
	json_t *choice = json_object_get(d, "tool_choice"), *tool;
	const char *ct = jv_str(choice, "type");
	size_t i;
	if (ct && (!strcmp(ct, "tool") || !strcmp(ct, "any"))) {
		const char *want = jv_str(choice, "name");
		json_array_foreach(json_object_get(d, "tools"), i, tool) {
			const char *name = jv_str(tool, "name");
			if (name && (!want || !strcmp(want, name))) {
				ask.tool = name;
				ask.schema = json_object_get(tool, "input_schema");
				break;
			}
		}
		if (!ask.tool) {
			reply_invalid(rp, API_ANTHROPIC, NULL, NULL,
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
	struct mock_call call;
	int calling = !ask.tool && !ask.schema && !ask.json_mode &&
		      tool_call_make(q, API_ANTHROPIC, json_object_get(d, "tools"),
				     json_object_get(d, "messages"), &a, &call);
	if (calling) {
		a.tool_input = json_incref(call.input);
		ask.tool = call.name;
	}
	char id[64], tid[64];
	reply_id(id, sizeof id, "msg_", q->key, "msg");
	reply_id(tid, sizeof tid, "toolu_", q->key, "toolu");
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
		if (calling)
			tool_call_free(&call);
		return;
	}
	rp->status = 200;
	rp->ctype = "text/event-stream";
	json_t *start = json_deep_copy(msg);
	json_object_set_new(start, "content", json_array());
	json_object_set_new(start, "stop_reason", json_null());
	json_object_set_new(json_object_get(start, "usage"), "output_tokens", json_integer(1));
	reply_sse(&rp->body, "message_start", json_pack("{s:s, s:o}", "type", "message_start",
							"message", start));
	json_t *empty = json_deep_copy(block);
	json_object_set_new(empty, a.tool_input ? "input" : "text",
			    a.tool_input ? json_object() : json_string(""));
	reply_sse(&rp->body, "content_block_start", json_pack("{s:s, s:i, s:o}", "type",
		"content_block_start", "index", 0, "content_block", empty));
	reply_sse(&rp->body, "ping", json_pack("{s:s}", "type", "ping"));
	char *text = a.tool_input ? reply_dump(a.tool_input) : xstrdup(a.text);
	const char *st[4];
	size_t len[4];
	int k = reply_pieces(text, st, len, 4);
	for (int j = 0; j < k; j++)
		reply_sse(&rp->body, "content_block_delta", json_pack(
			"{s:s, s:i, s:{s:s, s:s%}}", "type", "content_block_delta", "index", 0,
			"delta", "type", a.tool_input ? "input_json_delta" : "text_delta",
			a.tool_input ? "partial_json" : "text", st[j], len[j]));
	free(text);
	reply_sse(&rp->body, "content_block_stop", json_pack("{s:s, s:i}", "type",
							     "content_block_stop", "index", 0));
	reply_sse(&rp->body, "message_delta", json_pack(
		"{s:s, s:{s:s, s:n}, s:{s:I}}", "type", "message_delta", "delta", "stop_reason",
		stop, "stop_sequence", "usage", "output_tokens", (json_int_t)out_tokens));
	reply_sse(&rp->body, "message_stop", json_pack("{s:s}", "type", "message_stop"));
	json_decref(msg);
	answer_free(&a);
	if (calling)
		tool_call_free(&call);
}

