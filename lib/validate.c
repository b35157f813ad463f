/* validate: training examples checked the way OpenAI's fine-tuning and
 * TRL's trainers read them, so a bad one is named here rather than
 * failing an upload or a training run hours later. */
#include "validate.h"
#include "jv.h"
#include "llm.h"
#include "neardup.h"
#include "record.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *name, *about;
} problems[V_NPROBLEMS] = {
	[V_OK] = {"ok", "no problem"},
	[V_BAD_LINE] = {"bad_line", "not a JSON object in UTF-8"},
	[V_NO_MESSAGES] = {"no_messages", "no messages list, or an empty one"},
	[V_BAD_MESSAGE] = {"bad_message", "a message that is not an object with a role"},
	[V_BAD_ROLE] = {"bad_role", "a role other than system, user, assistant or tool"},
	[V_UNKNOWN_KEY] = {"unknown_key", "a key in a message that trainers do not read"},
	[V_SYSTEM_NOT_FIRST] = {"system_not_first", "a system message after the first place"},
	[V_EMPTY_CONTENT] = {"empty_content", "a message without text"},
	[V_NOT_ALTERNATING] = {"not_alternating", "user and assistant do not take turns"},
	[V_BAD_TOOL_CALL] = {"bad_tool_call", "a malformed tool call or a tool answer to no call"},
	[V_BAD_TOOLS] = {"bad_tools", "tools that are not a list of functions"},
	[V_BAD_WEIGHT] = {"bad_weight", "a weight other than 0 or 1, or not on an assistant message"},
	[V_NO_ASSISTANT] = {"no_assistant", "no assistant message to learn from"},
	[V_LAST_NOT_ASSISTANT] = {"last_not_assistant", "the conversation does not end with the assistant"},
	[V_PROMPT_NOT_USER] = {"prompt_not_user", "a preference prompt that does not end with the user"},
	[V_BAD_ANSWER] = {"bad_answer", "chosen or rejected is not one assistant message with text"},
	[V_SAME_ANSWERS] = {"same_answers", "chosen and rejected are the same"},
	[V_WRONG_KIND] = {"wrong_kind", "a conversation where pairs are written, or a pair where conversations are"},
	[V_NOT_IN_FORMAT] = {"not_in_format", "something the output format has no place for"},
	[V_NO_GROUP] = {"no_group", "no value at the --group path"},
	[V_TOO_LONG] = {"too_long", "more estimated tokens than --max-tokens"},
	[V_DUPLICATE] = {"duplicate", "the same example as an earlier one"},
};

const char *validate_name(enum vproblem p)
{
	return problems[p].name;
}

const char *validate_about(enum vproblem p)
{
	return problems[p].about;
}

static enum vproblem fail(struct buf *why, enum vproblem p, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static enum vproblem fail(struct buf *why, enum vproblem p, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = NULL;
	if (vasprintf(&s, fmt, ap) < 0)
		die("out of memory");
	va_end(ap);
	buf_reset(why);
	buf_adds(why, s);
	free(s);
	return p;
}

static int blank(const char *s)
{
	while (*s && isspace((unsigned char)*s))
		s++;
	return !*s;
}

static int is_role(const char *r)
{
	return !strcmp(r, "system") || !strcmp(r, "user") || !strcmp(r, "assistant") ||
	       !strcmp(r, "tool");
}

static const char *const known_keys[] = {"role", "content", "name", "weight", "tool_calls",
					 "tool_call_id", NULL};

/* The ids of one assistant message's tool calls, into ids; a problem if a
 * call is malformed. */
static enum vproblem check_calls(json_t *calls, size_t n, json_t *ids, struct buf *why)
{
	if (!json_is_array(calls) || !json_array_size(calls))
		return fail(why, V_BAD_TOOL_CALL, "message %zu: tool_calls is not a list of calls", n);
	size_t k;
	json_t *c;
	json_array_foreach(calls, k, c) {
		json_t *f = json_object_get(c, "function");
		const char *id = jv_str(c, "id"), *type = jv_str(c, "type");
		if (!id || !*id)
			return fail(why, V_BAD_TOOL_CALL, "message %zu: tool call %zu has no id", n, k + 1);
		if (!type || strcmp(type, "function"))
			return fail(why, V_BAD_TOOL_CALL, "message %zu: tool call %zu is not of type function",
				    n, k + 1);
		if (!jv_str(f, "name") || !*jv_str(f, "name") || !jv_str(f, "arguments"))
			return fail(why, V_BAD_TOOL_CALL,
				    "message %zu: tool call %zu needs function.name and function.arguments (a string)",
				    n, k + 1);
		json_array_append(ids, json_object_get(c, "id"));
	}
	return V_OK;
}

/* Removes id from the calls still open; 0 when it was not open. */
static int answer_call(json_t *open, const char *id)
{
	size_t k;
	json_t *v;
	json_array_foreach(open, k, v)
		if (!strcmp(json_string_value(v), id)) {
			json_array_remove(open, k);
			return 1;
		}
	return 0;
}

/* One message: keys, role, content, weight; its tool calls into open. */
static enum vproblem check_message(json_t *m, size_t n, json_t *open, struct buf *why)
{
	if (!json_is_object(m))
		return fail(why, V_BAD_MESSAGE, "message %zu is not an object", n);
	const char *role = jv_str(m, "role");
	if (!role)
		return fail(why, V_BAD_MESSAGE, "message %zu has no role", n);
	if (!is_role(role))
		return fail(why, V_BAD_ROLE, "message %zu has role '%s' (system, user, assistant or tool)",
			    n, role);
	const char *key;
	json_t *v;
	json_object_foreach(m, key, v) {
		int ok = 0;
		for (int i = 0; known_keys[i]; i++)
			ok |= !strcmp(key, known_keys[i]);
		if (!ok)
			return fail(why, V_UNKNOWN_KEY, "message %zu has the key '%s'", n, key);
	}
	int assistant = !strcmp(role, "assistant");
	json_t *w = json_object_get(m, "weight");
	if (w && (!assistant || !json_is_integer(w) ||
		  (json_integer_value(w) != 0 && json_integer_value(w) != 1)))
		return fail(why, V_BAD_WEIGHT, "message %zu: weight must be 0 or 1 on an assistant message", n);
	json_t *calls = json_object_get(m, "tool_calls");
	if (calls && !assistant)
		return fail(why, V_BAD_TOOL_CALL, "message %zu: tool_calls on a %s message", n, role);
	if (json_object_get(m, "tool_call_id") && strcmp(role, "tool"))
		return fail(why, V_BAD_TOOL_CALL, "message %zu: tool_call_id on a %s message", n, role);
	if (calls) {
		enum vproblem p = check_calls(calls, n, open, why);
		if (p)
			return p;
	}
	json_t *c = json_object_get(m, "content");
	if (calls && (!c || json_is_null(c) || json_is_string(c)))
		return V_OK;
	if (!json_is_string(c))
		return fail(why, V_EMPTY_CONTENT, "message %zu (%s) has no text content", n, role);
	if (blank(json_string_value(c)))
		return fail(why, V_EMPTY_CONTENT, "message %zu (%s) is empty", n, role);
	return V_OK;
}

enum vproblem validate_messages(json_t *msgs, enum vend end, struct buf *why)
{
	if (!json_is_array(msgs) || !json_array_size(msgs))
		return fail(why, V_NO_MESSAGES, "%s", json_is_array(msgs) ? "messages is empty"
			    : msgs ? "messages is not a list" : "no messages");
	json_t *open = json_array();   /* ids of the calls not answered yet */
	enum vproblem p = V_OK;
	const char *prev = NULL;       /* the last role after the system message */
	int assistants = 0;
	size_t i;
	json_t *m;
	json_array_foreach(msgs, i, m) {
		size_t n = i + 1, waiting = json_array_size(open);
		if ((p = check_message(m, n, open, why)))   /* adds m's calls to open */
			break;
		const char *role = jv_str(m, "role");
		if (!strcmp(role, "system")) {
			if (i) {
				p = fail(why, V_SYSTEM_NOT_FIRST, "message %zu is a system message", n);
				break;
			}
			continue;
		}
		int calls = json_object_get(m, "tool_calls") != NULL;
		if (!strcmp(role, "tool")) {
			const char *id = jv_str(m, "tool_call_id");
			if (!id || !answer_call(open, id)) {
				p = fail(why, V_BAD_TOOL_CALL, "message %zu answers %s%s%s, which no call before it made",
					 n, id ? "the call '" : "no call id", id ? id : "", id ? "'" : "");
				break;
			}
		} else if (waiting) {
			p = fail(why, V_BAD_TOOL_CALL, "message %zu (%s) comes before the answer to tool call '%s'",
				 n, role, json_string_value(json_array_get(open, 0)));
			break;
		} else if (!strcmp(role, "user") ? prev && strcmp(prev, "assistant")
						 : !prev || !strcmp(prev, "assistant")) {
			p = fail(why, V_NOT_ALTERNATING, "message %zu: %s %s %s", n, role,
				 prev ? "after" : "speaks first, before", prev ? prev : "the user");
			break;
		}
		assistants += !strcmp(role, "assistant");
		prev = calls ? "tool_calls" : role;
	}
	if (!p && json_array_size(open))
		p = fail(why, V_BAD_TOOL_CALL, "tool call '%s' is never answered",
			 json_string_value(json_array_get(open, 0)));
	json_decref(open);
	if (p)
		return p;
	if (end == VEND_USER)
		return prev && !strcmp(prev, "user") ? V_OK
			: fail(why, V_PROMPT_NOT_USER, "the prompt ends with %s", prev ? prev : "no user message");
	if (!assistants)
		return fail(why, V_NO_ASSISTANT, "no assistant message");
	const char *last = jv_str(json_array_get(msgs, json_array_size(msgs) - 1), "role");
	if (strcmp(last, "assistant"))
		return fail(why, V_LAST_NOT_ASSISTANT, "the last message is the %s's", last);
	return V_OK;
}

enum vproblem validate_tools(json_t *tools, struct buf *why)
{
	if (!json_is_array(tools))
		return fail(why, V_BAD_TOOLS, "tools is not a list");
	size_t i;
	json_t *t;
	json_array_foreach(tools, i, t) {
		const char *type = jv_str(t, "type");
		json_t *f = json_object_get(t, "function");
		if (!type || strcmp(type, "function") || !jv_str(f, "name") || !*jv_str(f, "name"))
			return fail(why, V_BAD_TOOLS, "tool %zu is not {\"type\":\"function\",\"function\":{\"name\":...}}",
				    i + 1);
		json_t *params = json_object_get(f, "parameters");
		if (params && !json_is_object(params))
			return fail(why, V_BAD_TOOLS, "tool %zu: parameters is not a JSON schema object", i + 1);
	}
	return V_OK;
}

/* chosen or rejected: one assistant message with text. */
static enum vproblem check_answer(json_t *a, const char *name, struct buf *why)
{
	json_t *m = json_array_get(a, 0);
	json_t *open = json_array();
	enum vproblem p = json_array_size(a) != 1 ? V_BAD_ANSWER : check_message(m, 1, open, why);
	json_decref(open);
	if (p == V_BAD_ANSWER || (!p && strcmp(jv_str(m, "role"), "assistant")))
		return fail(why, V_BAD_ANSWER, "%s is not a list of one assistant message", name);
	if (p == V_EMPTY_CONTENT || (!p && !jv_str(m, "content")))
		return fail(why, V_BAD_ANSWER, "%s has no text", name);
	if (p) {
		struct buf b = {0};
		buf_addf(&b, "%s: %s", name, why->p);
		buf_reset(why);
		buf_adds(why, b.p);
		buf_free(&b);
	}
	return p;
}

enum vproblem validate_pair(json_t *prompt, json_t *chosen, json_t *rejected, struct buf *why)
{
	enum vproblem p = validate_messages(prompt, VEND_USER, why);
	if (p == V_NO_MESSAGES)
		return fail(why, V_PROMPT_NOT_USER, "no prompt messages");
	if (p || (p = check_answer(chosen, "chosen", why)) || (p = check_answer(rejected, "rejected", why)))
		return p;
	if (!strcmp(jv_str(json_array_get(chosen, 0), "content"),
		    jv_str(json_array_get(rejected, 0), "content")))
		return fail(why, V_SAME_ANSWERS, "chosen and rejected say the same");
	return V_OK;
}

double validate_tokens(json_t *msgs, json_t *tools)
{
	double t = llm_estimate_prompt(msgs);
	size_t i, chars = 0;
	json_t *m;
	json_array_foreach(msgs, i, m) {
		json_t *calls = json_object_get(m, "tool_calls");
		if (calls) {
			char *s = jv_compact(calls);
			chars += utf8_chars(s);
			free(s);
		}
	}
	if (tools) {
		char *s = jv_compact(tools);
		chars += utf8_chars(s);
		free(s);
	}
	return t + (double)chars / llm_chars_per_token;
}

struct vdups {
	struct nd_exact *seen;
	char **names;
	size_t n, cap;
};

struct vdups *vdups_new(void)
{
	struct vdups *d = xcalloc(1, sizeof *d);
	d->seen = nd_exact_new();
	return d;
}

void vdups_free(struct vdups *d)
{
	if (!d)
		return;
	nd_exact_free(d->seen);
	for (size_t i = 0; i < d->n; i++)
		free(d->names[i]);
	free(d->names);
	free(d);
}

const char *vdups_check(struct vdups *d, const char *text, size_t len, const char *name)
{
	uint64_t h[2];
	uint32_t rec;
	nd_exact_hash(text, len, h);
	if (nd_exact_find(d->seen, h, &rec))
		return d->names[rec];
	if (d->n == d->cap) {
		d->cap = d->cap ? 2 * d->cap : 256;
		d->names = xrealloc(d->names, d->cap * sizeof *d->names);
	}
	d->names[d->n] = xstrdup(name);
	nd_exact_add(d->seen, h, (uint32_t)d->n++);
	return NULL;
}
