/* tools: scg-mock's tool calls. A request that offers tools (OpenAI's and
 * Ollama's function tools, Anthropic's without a tool_choice that forces
 * one) gets, after a user's message, a call of one of them, drawn from the
 * request's key, with arguments valid against its parameters (gen.h);
 * after the tools' results it gets prose, unless a result was an error
 * ({"error": ...}, or Anthropic's is_error), which it answers with another
 * call, as a model correcting itself would. --tool-errors RATE makes that
 * share of the calls malformed: a tool that does not exist, arguments
 * without a required field or with one of the wrong type, or (OpenAI,
 * whose arguments are a JSON text) arguments that are not JSON. */
#include "mock.h"
#include "gen.h"
#include "rng.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A tool's name and parameters in either shape. */
static const char *tool_name(const json_t *t)
{
	const json_t *f = json_object_get(t, "function");
	return json_string_value(json_object_get(f ? f : t, "name"));
}

static const json_t *tool_params(const json_t *t)
{
	const json_t *f = json_object_get(t, "function");
	return f ? json_object_get(f, "parameters") : json_object_get(t, "input_schema");
}

static int is_error_text(const char *s)
{
	json_t *v = s ? json_loads(s, 0, NULL) : NULL;
	int err = json_is_object(v) && json_object_get(v, "error");
	json_decref(v);
	return err;
}

/* Whether the conversation asks for a call now: it ends with the user's
 * words, or with results one of which is an error. */
static int wants_call(const json_t *messages)
{
	const json_t *last = json_array_get(messages, json_array_size(messages) - 1);
	const char *role = json_string_value(json_object_get(last, "role"));
	if (!role)
		return 0;
	if (!strcmp(role, "tool")) {
		/* the results of one answer's calls: the last tool messages */
		for (size_t i = json_array_size(messages); i > 0; i--) {
			const json_t *m = json_array_get(messages, i - 1);
			const char *r = json_string_value(json_object_get(m, "role"));
			if (!r || strcmp(r, "tool"))
				break;
			if (is_error_text(json_string_value(json_object_get(m, "content"))))
				return 1;
		}
		return 0;
	}
	if (strcmp(role, "user"))
		return 0;
	const json_t *content = json_object_get(last, "content");
	if (!json_is_array(content))
		return 1;
	size_t i;
	json_t *b;
	int results = 0;
	json_array_foreach(content, i, b) {
		const char *type = json_string_value(json_object_get(b, "type"));
		if (!type || strcmp(type, "tool_result"))
			continue;
		results = 1;
		const json_t *c = json_object_get(b, "content");
		if (json_is_true(json_object_get(b, "is_error")) || is_error_text(json_string_value(c)))
			return 1;
	}
	return !results;
}

enum spoiled { GOOD, UNKNOWN_TOOL, BAD_ARGUMENTS, NOT_JSON };

/* Spoils a call as a model might; says how. */
static enum spoiled spoil(struct mock_call *c, const json_t *params, enum api api, struct rng *r)
{
	enum spoiled how = (enum spoiled)(1 + rng_below(r, api == API_OPENAI ? 3 : 2));
	if (how == NOT_JSON)
		return how;   /* the text is cut once it is made */
	if (how == BAD_ARGUMENTS) {
		const char *first = json_string_value(json_array_get(json_object_get(params, "required"), 0));
		if (first && json_object_get(c->input, first)) {
			json_object_del(c->input, first);
			return how;
		}
		const char *k;
		json_t *v;
		json_object_foreach(c->input, k, v) {
			json_object_set_new(c->input, k, json_is_string(v) ? json_integer(12345) : json_string("x"));
			return how;
		}
	}
	char *name = xasprintf("%s_v2", c->name);
	free(c->name);
	c->name = name;
	return UNKNOWN_TOOL;
}

int tool_call_make(const struct req *q, enum api api, const json_t *tools, const json_t *messages,
		   struct answer *a, struct mock_call *c)
{
	memset(c, 0, sizeof *c);
	if (!json_array_size(tools) || q->echo)
		return 0;
	/* the tools are part of the prompt, as with the real services */
	char *s = reply_dump(tools);
	a->prompt_tokens += mock_tokens(s);
	free(s);
	if (!wants_call(messages))
		return 0;
	struct rng r;
	char key[32];
	snprintf(key, sizeof key, "%016llx", (unsigned long long)q->key);
	rng_init(&r, q->key, key, "scg-mock", "tool");
	const json_t *t = json_array_get(tools, rng_below(&r, json_array_size(tools)));
	const json_t *params = tool_params(t);
	c->name = xstrdup(tool_name(t) ? tool_name(t) : "tool");
	c->input = params ? mock_value(params, q->key) : NULL;
	if (!json_is_object(c->input)) {
		json_decref(c->input);
		c->input = json_object();
	}
	enum spoiled how = conf.tool_errors > 0 && rng_double(&r) < conf.tool_errors
		? spoil(c, params, api, &r) : GOOD;
	c->arguments = reply_dump(c->input);
	if (how == NOT_JSON)
		c->arguments[strlen(c->arguments) - 1] = 0;   /* cut short */
	reply_id(c->id, sizeof c->id, api == API_ANTHROPIC ? "toolu_" : "call_", q->key, "call");
	a->completion_tokens = q->out.has_usage ? q->out.usage : mock_tokens(c->arguments) + 4;
	a->cut = 0;
	return 1;
}

void tool_call_free(struct mock_call *c)
{
	free(c->name);
	free(c->arguments);
	json_decref(c->input);
	memset(c, 0, sizeof *c);
}
