/* ollama: Ollama's native /api/chat: format (a schema or "json"), and the
 * answer as one object or as JSON lines, with Ollama's durations. */
#include "mock.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static json_t *ollama_line(const char *model, const char *created, const char *text,
			   size_t len)
{
	return json_pack("{s:s, s:s, s:{s:s, s:s%}, s:b}", "model", model, "created_at",
			 created, "message", "role", "assistant", "content", text, len,
			 "done", 0);
}

void ollama_chat(struct reply *rp, struct req *q)
{
	json_t *d = q->doc;
	const char *model = jv_str(d, "model");
	json_t *messages = json_object_get(d, "messages");
	if (!model) {
		reply_invalid(rp, API_OLLAMA, NULL, NULL, "model is required");
		return;
	}
	if (!json_is_array(messages)) {
		reply_invalid(rp, API_OLLAMA, NULL, NULL, "messages is required");
		return;
	}
	if (!answer_model_known(model)) {
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
	struct mock_call call;
	int calling = !ask.schema && !ask.json_mode &&
		      tool_call_make(q, API_OLLAMA, json_object_get(d, "tools"), messages, &a, &call);
	if (calling)
		a.text[0] = 0;   /* a call, no words */
	char created[64];
	double now = now_real();
	reply_rfc3339(created, sizeof created, floor(now));
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
	if (calling)
		json_object_set_new(json_object_get(last, "message"), "tool_calls",
				    json_pack("[{s:{s:s, s:O}}]", "function", "name", call.name,
					      "arguments", call.input));
	rp->status = 200;
	if (json_is_false(json_object_get(d, "stream"))) {
		json_object_set_new(json_object_get(last, "message"), "content",
				    json_string(a.text));
		reply_json(rp, 200, last);
	} else {
		rp->ctype = "application/x-ndjson";
		const char *st[4];
		size_t len[4];
		int k = reply_pieces(a.text, st, len, 4);
		for (int i = 0; i <= k; i++) {
			json_t *line = i < k ? ollama_line(model, created, st[i], len[i]) : last;
			char *s = reply_dump(line);
			buf_addf(&rp->body, "%s\n", s);
			free(s);
			json_decref(line);
		}
	}
	answer_free(&a);
	if (calling)
		tool_call_free(&call);
}

