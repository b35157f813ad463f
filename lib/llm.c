/* llm: request bodies and answers per provider (docs/providers.md). */
#include "llm.h"
#include "conf.h"
#include "conv.h"
#include "jparse.h"
#include "jv.h"
#include "record.h"
#include "secret.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

double llm_chars_per_token = 4.7;
static struct llm_config cfg;

static int is_reasoning(const char *name)
{
	if (name[0] == 'o' && isdigit((unsigned char)name[1]))
		return 1;
	return !strncmp(name, "gpt-5", 5);
}

/* --extra-body JSON or @FILE (JSON or YAML): an object whose members go
 * into every request body beside scg's own. It says the server takes more
 * than OpenAI's fields, so top_k goes too: never to api.openai.com. */
static json_t *extra_body(const struct model *m)
{
	const char *arg = cfg.extra_body;
	struct buf err = {0};
	json_t *v;
	if (arg[0] == '@') {
		v = conf_load(arg + 1, &err);
		if (!v)
			die("--extra-body: %s", err.p);
	} else {
		json_error_t e;
		v = json_loads(arg, JSON_REJECT_DUPLICATES, &e);
		if (!v)
			die("--extra-body: not JSON: %s (at character %d)", e.text, e.position);
	}
	buf_free(&err);
	if (!json_is_object(v))
		die("--extra-body: expected a JSON object of fields to add to each request");
	if (m->official && json_object_get(v, "top_k"))
		die("--extra-body: api.openai.com has no top_k; send it only to servers that take it");
	return v;
}

void llm_configure(const struct llm_config *c)
{
	cfg = *c;
}

void model_init(struct model *m)
{
	model_init_named(m, NULL);
}

void model_init_named(struct model *m, const char *model_name)
{
	memset(m, 0, sizeof *m);
	const char *provider = cfg.provider ? cfg.provider : "openai";
	m->provider_name = provider;
	if (!strcmp(provider, "anthropic"))
		m->provider = P_ANTHROPIC;
	else if (!strcmp(provider, "ollama"))
		m->provider = P_OLLAMA;
	else
		m->provider = P_OPENAI;
	const char *name = model_name ? model_name : cfg.model;
	if (!name)
		die("no model named: give --model NAME or set SCG_MODEL (scg names no model of its own)");
	m->name = xstrdup(name);
	const char *base_url = cfg.base_url;
	if (!base_url)
		base_url = m->provider == P_ANTHROPIC ? "https://api.anthropic.com"
			 : m->provider == P_OLLAMA ? "http://localhost:11434"
			 : "https://api.openai.com/v1";
	url_check(base_url, "--base-url");
	m->base_url = xstrdup(base_url);
	size_t n = strlen(m->base_url);
	while (n && m->base_url[n - 1] == '/')
		m->base_url[--n] = 0;
	size_t bl = strlen(m->base_url);
	m->chat_url = m->provider == P_OPENAI ? xasprintf("%s/chat/completions", m->base_url)
		      : m->provider == P_OLLAMA ? xasprintf("%s/api/chat", m->base_url)
		      : bl >= 3 && !strcmp(m->base_url + bl - 3, "/v1") ? xasprintf("%s/messages", m->base_url)
		      : xasprintf("%s/v1/messages", m->base_url);
	m->name_utf8 = utf8_valid(m->name, strlen(m->name), NULL);
	m->official = strstr(m->base_url, "api.openai.com") != NULL;
	m->reasoning = m->provider == P_OPENAI && is_reasoning(m->name);
	if (cfg.extra_body)
		m->extra = extra_body(m);

	model_key(m, cfg.key_file, cfg.dry_run);
}

/* The arguments of a tool call (a JSON text) as an object, for the
 * providers that take them so; {} when they are not a JSON object. */
static json_t *call_input(json_t *call)
{
	const char *args = jv_str(json_object_get(call, "function"), "arguments");
	json_t *v = args ? json_loads(args, 0, NULL) : NULL;
	if (!json_is_object(v)) {
		json_decref(v);
		v = json_object();
	}
	return v;
}

/* OpenAI's messages as they are (system as developer for reasoning
 * models), tool calls and tool results included; Ollama's the same with
 * a call's arguments as an object and a result naming its tool. */
static json_t *copy_messages(json_t *msgs, int developer, int ollama)
{
	json_t *out = json_array();
	size_t i;
	json_t *m;
	json_array_foreach(msgs, i, m) {
		const char *role = jv_str(m, "role");
		json_t *c = json_object_get(m, "content");
		json_t *calls = json_object_get(m, "tool_calls");
		if (developer && role && !strcmp(role, "system"))
			role = "developer";
		json_t *o = c && !(ollama && !json_is_string(c)) ? conv_msg_v(role ? role : "user", c)
			  : conv_msg(role ? role : "user", "");
		if (json_is_array(calls) && !ollama) {
			json_object_set(o, "tool_calls", calls);
		} else if (json_is_array(calls)) {
			json_t *list = json_array(), *call;
			size_t k;
			json_array_foreach(calls, k, call)
				json_array_append_new(list, json_pack("{s:{s:s, s:o}}", "function", "name",
					jv_str(json_object_get(call, "function"), "name") ? jv_str(json_object_get(call, "function"), "name") : "",
					"arguments", call_input(call)));
			json_object_set_new(o, "tool_calls", list);
		}
		const char *id = jv_str(m, "tool_call_id");
		if (id && !ollama)
			json_object_set_new(o, "tool_call_id", json_string(id));
		const char *tool = ollama ? conv_tool_name(conv_tool_call(msgs, id)) : NULL;
		if (tool)
			json_object_set_new(o, "tool_name", json_string(tool));
		json_array_append_new(out, o);
	}
	return out;
}

/* Whether a tool's result reports an error: a JSON object with an error
 * member, as scg answers a malformed call (lib/tools.h). */
static int result_is_error(const char *text)
{
	json_t *v = json_loads(text, 0, NULL);
	int err = json_is_object(v) && json_object_get(v, "error");
	json_decref(v);
	return err;
}

/* Content blocks of either form of content: a text becomes a text block. */
static json_t *as_blocks(json_t *content)
{
	if (json_is_array(content))
		return json_incref(content);
	return json_pack("[{s:s, s:O}]", "type", "text", "text", content);
}

/* Anthropic: system text on top; user first; roles alternate; a tool
 * call is a tool_use block of the assistant's, its result a tool_result
 * block of the user's. */
static json_t *anthropic_messages(json_t *msgs, struct buf *system)
{
	json_t *out = json_array();
	size_t i;
	json_t *m;
	json_array_foreach(msgs, i, m) {
		const char *role = jv_str(m, "role");
		const char *c = jv_str(m, "content");
		json_t *calls = json_object_get(m, "tool_calls");
		if (!role)
			continue;
		if (!strcmp(role, "system") || !strcmp(role, "developer")) {
			if (!c)
				continue;
			if (system->len)
				buf_adds(system, "\n\n");
			buf_adds(system, c);
			continue;
		}
		json_t *content;
		if (!strcmp(role, "tool")) {
			role = "user";
			content = json_pack("[{s:s, s:s, s:s}]", "type", "tool_result", "tool_use_id",
					    jv_str(m, "tool_call_id") ? jv_str(m, "tool_call_id") : "",
					    "content", c ? c : "");
			if (c && result_is_error(c))
				json_object_set_new(json_array_get(content, 0), "is_error", json_true());
		} else if (!strcmp(role, "assistant") && json_array_size(calls)) {
			content = json_array();
			if (!is_blank(c))
				json_array_append_new(content, json_pack("{s:s, s:s}", "type", "text", "text", c));
			size_t k;
			json_t *call;
			json_array_foreach(calls, k, call) {
				const char *name = jv_str(json_object_get(call, "function"), "name");
				json_array_append_new(content, json_pack("{s:s, s:s, s:s, s:o}", "type", "tool_use",
					"id", jv_str(call, "id") ? jv_str(call, "id") : "", "name", name ? name : "",
					"input", call_input(call)));
			}
		} else if (c) {
			if (strcmp(role, "assistant"))
				role = "user";
			content = json_string(c);
		} else {
			continue;
		}
		size_t n = json_array_size(out);
		json_t *last = n ? json_array_get(out, n - 1) : NULL;
		if (!last && !strcmp(role, "assistant")) {
			/* a neutral opening turn rather than a dropped message */
			json_array_append_new(out, conv_msg("user", "(The conversation begins.)"));
		} else if (last && !strcmp(jv_str(last, "role"), role)) {
			json_t *before = json_object_get(last, "content");
			if (json_is_string(before) && json_is_string(content)) {
				char *joined = xasprintf("%s\n\n%s", json_string_value(before), json_string_value(content));
				json_object_set_new(last, "content", json_string(joined));
				free(joined);
			} else {
				json_t *blocks = as_blocks(before), *more = as_blocks(content);
				json_t *all = json_copy(blocks);
				json_array_extend(all, more);
				json_object_set_new(last, "content", all);
				json_decref(blocks);
				json_decref(more);
			}
			json_decref(content);
			continue;
		}
		json_array_append_new(out, conv_msg_v(role, content));
		json_decref(content);
	}
	return out;
}

/* OpenAI's function tools as Anthropic's: name, description, input_schema. */
static json_t *anthropic_tools(json_t *tools)
{
	json_t *out = json_array(), *t;
	size_t i;
	json_array_foreach(tools, i, t) {
		json_t *f = json_object_get(t, "function");
		json_t *o = json_pack("{s:s}", "name", jv_str(f, "name") ? jv_str(f, "name") : "");
		if (jv_str(f, "description"))
			json_object_set(o, "description", json_object_get(f, "description"));
		json_t *p = json_object_get(f, "parameters");
		json_object_set_new(o, "input_schema", p ? json_incref(p) : json_pack("{s:s, s:{}}", "type", "object", "properties"));
		json_array_append_new(out, o);
	}
	return out;
}

static struct curl_slist *add_header(struct curl_slist *l, const char *fmt, const char *v)
{
	char *line = xasprintf(fmt, v);
	l = curl_slist_append(l, line);
	free(line);
	return l;
}

struct curl_slist *llm_auth_headers(const struct model *m)
{
	struct curl_slist *l = NULL;
	if (m->provider == P_ANTHROPIC) {
		if (m->key)
			l = add_header(l, "x-api-key: %s", m->key);
		return add_header(l, "anthropic-version: %s", "2023-06-01");
	}
	return m->key ? add_header(l, "Authorization: Bearer %s", m->key) : NULL;
}

static void finish_build(const struct llm_req *r, struct http_req *h, char *body);

void llm_build(const struct llm_req *r, struct http_req *h)
{
	const struct model *m = r->model;
	memset(h, 0, sizeof *h);
	h->url = xstrdup(m->chat_url);
	struct buf direct = {0};
	if (llm_openai_body(r, &direct)) {
		finish_build(r, h, buf_steal(&direct));
		return;
	}
	json_t *body = json_object();
	json_object_set_new(body, "model", json_string(m->name));
	switch (m->provider) {
	case P_OPENAI:
		json_object_set_new(body, "messages", copy_messages(r->messages, m->reasoning, 0));
		if (r->tools)
			json_object_set(body, "tools", r->tools);
		if (!m->reasoning) {
			if (r->temperature >= 0)
				json_object_set_new(body, "temperature", json_real(r->temperature));
			if (r->top_p >= 0)
				json_object_set_new(body, "top_p", json_real(r->top_p));
		}
		if (r->max_tokens > 0)
			json_object_set_new(body, m->official || m->reasoning ? "max_completion_tokens" : "max_tokens",
					    json_integer(r->max_tokens));
		if (r->top_k > 0 && m->extra && !m->official)
			json_object_set_new(body, "top_k", json_integer(r->top_k));
		json_object_set_new(body, "seed", json_integer(r->seed));
		if (r->schema)
			json_object_set_new(body, "response_format",
				json_pack("{s:s, s:{s:s, s:O, s:b}}", "type", "json_schema", "json_schema",
					  "name", r->schema_name ? r->schema_name : "answer",
					  "schema", r->schema, "strict", 1));
		break;
	case P_ANTHROPIC: {
		struct buf sys = {0};
		json_t *msgs = anthropic_messages(r->messages, &sys);
		json_object_set_new(body, "max_tokens", json_integer(r->max_tokens > 0 ? r->max_tokens : 1024));
		if (sys.len)
			json_object_set_new(body, "system", json_string(sys.p));
		buf_free(&sys);
		json_object_set_new(body, "messages", msgs);
		/* newer models refuse temperature and top_p together */
		if (r->temperature >= 0)
			json_object_set_new(body, "temperature", json_real(r->temperature > 1 ? 1 : r->temperature));
		else if (r->top_p >= 0)
			json_object_set_new(body, "top_p", json_real(r->top_p));
		if (r->top_k > 0)
			json_object_set_new(body, "top_k", json_integer(r->top_k));
		if (r->schema) {
			const char *name = r->schema_name ? r->schema_name : "answer";
			json_object_set_new(body, "tools", json_pack("[{s:s, s:s, s:O}]", "name", name,
				"description", "Give the answer in this structure.", "input_schema", r->schema));
			json_object_set_new(body, "tool_choice", json_pack("{s:s, s:s}", "type", "tool", "name", name));
		} else if (r->tools) {
			json_object_set_new(body, "tools", anthropic_tools(r->tools));
		}
		break;
	}
	case P_OLLAMA: {
		json_object_set_new(body, "messages", copy_messages(r->messages, 0, 1));
		if (r->tools)
			json_object_set(body, "tools", r->tools);
		json_object_set_new(body, "stream", json_false());
		json_t *o = json_object();
		if (r->temperature >= 0)
			json_object_set_new(o, "temperature", json_real(r->temperature));
		if (r->top_p >= 0)
			json_object_set_new(o, "top_p", json_real(r->top_p));
		if (r->top_k > 0)
			json_object_set_new(o, "top_k", json_integer(r->top_k));
		if (r->max_tokens > 0)
			json_object_set_new(o, "num_predict", json_integer(r->max_tokens));
		json_object_set_new(o, "seed", json_integer(r->seed));
		json_object_set_new(body, "options", o);
		if (r->schema)
			json_object_set_new(body, "format", json_incref(r->schema));
		break;
	}
	}
	if (m->extra)
		json_object_update_missing(body, m->extra);   /* scg's own fields win */
	finish_build(r, h, jv_compact(body));
	json_decref(body);
}

/* The headers, the body and the cache key's text of a built request. */
static void finish_build(const struct llm_req *r, struct http_req *h, char *body)
{
	const struct model *m = r->model;
	h->headers = llm_auth_headers(m);
	h->headers = curl_slist_append(h->headers, "Content-Type: application/json");
	h->headers = curl_slist_append(h->headers, "Accept: application/json");
	h->body = body;
	struct buf key = {0};
	buf_adds(&key, "scg-cache-2\n");
	buf_adds(&key, m->provider_name);
	buf_addc(&key, '\n');
	buf_adds(&key, m->base_url);
	buf_addc(&key, '\n');
	jv_dump_int(&key, r->sample);   /* %d without printf */
	buf_addc(&key, '\n');
	buf_adds(&key, h->body);
	h->key_text = buf_steal(&key);
}

void http_req_free(struct http_req *h)
{
	free(h->url);
	free(h->body);
	free(h->key_text);
	curl_slist_free_all(h->headers);
	memset(h, 0, sizeof *h);
}

/* A token count; a negative one (a broken or hostile server) counts 0. */
static long int_field(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	long n = json_is_integer(v) ? (long)json_integer_value(v) : 0;
	return n < 0 ? 0 : n;
}

/* A text value, or NULL when it is not a string or holds a NUL, which
 * would cut it short. */
static const char *whole_text(json_t *v, const char *what, struct buf *why)
{
	if (!json_is_string(v))
		return NULL;
	if (memchr(json_string_value(v), 0, json_string_length(v))) {
		buf_addf(why, "%s holds a NUL character (\\u0000)", what);
		return NULL;
	}
	return json_string_value(v);
}

/* One call in OpenAI's shape; arguments given as an object (Ollama,
 * Anthropic's input) become their JSON text. */
static json_t *norm_call(const char *id, const char *name, json_t *args)
{
	char *text = json_is_string(args) ? xstrdup(json_string_value(args))
		   : args ? jv_compact(args) : xstrdup("");
	json_t *c = json_pack("{s:s, s:s, s:{s:s, s:s}}", "id", id ? id : "", "type", "function",
			      "function", "name", name ? name : "", "arguments", text);
	free(text);
	return c;
}

/* OpenAI's and Ollama's message.tool_calls, or NULL when there are none. */
static json_t *message_calls(json_t *msg)
{
	json_t *calls = json_object_get(msg, "tool_calls"), *c;
	if (!json_array_size(calls))
		return NULL;
	json_t *out = json_array();
	size_t i;
	json_array_foreach(calls, i, c) {
		json_t *f = json_object_get(c, "function");
		json_array_append_new(out, norm_call(jv_str(c, "id"), jv_str(f, "name"),
						     json_object_get(f, "arguments")));
	}
	return out;
}

int llm_parse(const struct model *m, int structured, const char *body, size_t len,
	      struct llm_answer *a, struct buf *why)
{
	memset(a, 0, sizeof *a);
	buf_reset(why);
	struct buf jerr = {0};
	json_t *root = jparse(body, len, &jerr);
	if (!json_is_object(root)) {
		buf_addf(why, "the response body is not JSON (%s)", root ? "not an object" : jerr.p);
		buf_free(&jerr);
		json_decref(root);
		return -1;
	}
	buf_free(&jerr);
	const char *finish = NULL;
	switch (m->provider) {
	case P_OPENAI: {
		json_t *msg = jv_path(root, "choices.0.message");
		json_t *c = json_object_get(msg, "content");
		const char *refusal = jv_str(msg, "refusal");
		if (refusal) {
			buf_addf(why, "the model refused: %s", refusal);
			goto bad;
		}
		a->tool_calls = structured ? NULL : message_calls(msg);
		const char *text = whole_text(c, "choices[0].message.content", why);
		if (!text && (why->len || !a->tool_calls)) {
			if (!why->len)
				buf_adds(why, "the response has no choices[0].message.content");
			goto bad;
		}
		a->text = xstrdup(text ? text : "");
		finish = jv_str(jv_path(root, "choices.0"), "finish_reason");
		json_t *u = json_object_get(root, "usage");
		a->prompt_tokens = int_field(u, "prompt_tokens");
		a->completion_tokens = int_field(u, "completion_tokens");
		break;
	}
	case P_ANTHROPIC: {
		json_t *content = json_object_get(root, "content");
		if (!json_is_array(content)) {
			buf_adds(why, "the response has no content array");
			goto bad;
		}
		struct buf t = {0};
		size_t i;
		json_t *blk;
		json_array_foreach(content, i, blk) {
			const char *type = jv_str(blk, "type");
			if (!type)
				continue;
			if (structured && !strcmp(type, "tool_use")) {
				json_t *in = json_object_get(blk, "input");
				buf_reset(&t);
				char *s = jv_compact(in ? in : json_null());
				buf_adds(&t, s);
				free(s);
				break;
			}
			if (!strcmp(type, "tool_use")) {
				if (!a->tool_calls)
					a->tool_calls = json_array();
				json_t *in = json_object_get(blk, "input");
				json_array_append_new(a->tool_calls, norm_call(jv_str(blk, "id"), jv_str(blk, "name"),
									       in ? in : json_null()));
			}
			if (!strcmp(type, "text")) {
				json_t *tv = json_object_get(blk, "text");
				const char *text = whole_text(tv, "a text block", why);
				if (!text && why->len) {
					buf_free(&t);
					goto bad;
				}
				buf_adds(&t, text ? text : "");
			}
		}
		a->text = buf_steal(&t);
		finish = jv_str(root, "stop_reason");
		json_t *u = json_object_get(root, "usage");
		a->prompt_tokens = int_field(u, "input_tokens") + int_field(u, "cache_creation_input_tokens") +
				   int_field(u, "cache_read_input_tokens");
		a->completion_tokens = int_field(u, "output_tokens");
		break;
	}
	case P_OLLAMA: {
		json_t *msg = json_object_get(root, "message");
		a->tool_calls = structured ? NULL : message_calls(msg);
		const char *c = whole_text(json_object_get(msg, "content"), "message.content", why);
		if (!c && (why->len || !a->tool_calls)) {
			if (!why->len)
				buf_adds(why, "the response has no message.content");
			goto bad;
		}
		a->text = xstrdup(c ? c : "");
		finish = jv_str(root, "done_reason");
		a->prompt_tokens = int_field(root, "prompt_eval_count");
		a->completion_tokens = int_field(root, "eval_count");
		break;
	}
	}
	a->finish = xstrdup(finish ? finish : "stop");
	json_decref(root);
	return 0;
bad:
	json_decref(a->tool_calls);
	a->tool_calls = NULL;
	json_decref(root);
	return -1;
}

void llm_answer_free(struct llm_answer *a)
{
	free(a->text);
	json_decref(a->tool_calls);
	free(a->finish);
	memset(a, 0, sizeof *a);
}

void llm_error_text(const char *body, size_t len, struct buf *out)
{
	json_t *root = json_loadb(body, len, 0, NULL);
	const char *msg = NULL;
	json_t *e = json_object_get(root, "error");
	if (json_is_string(e))
		msg = json_string_value(e);                 /* ollama */
	else if (json_is_object(e))
		msg = jv_str(e, "message");               /* openai, anthropic */
	else
		msg = jv_str(root, "message");            /* old vLLM, flat */
	if (msg) {
		buf_adds(out, msg);
	} else {
		/* not JSON (an HTML error page): the first line, shortened, but
		 * masked before it is cut, or the cut would leave a piece of an
		 * echoed key too short to be recognised */
		const char *nl = memchr(body, '\n', len);
		size_t n = nl ? (size_t)(nl - body) : len;
		char *line = xstrndup(body, n);
		secret_redact(line, n);
		if (n > 120) {
			n = 120;
			while (n && ((unsigned char)line[n] & 0xc0) == 0x80)
				n--;   /* whole characters */
		}
		if (n && utf8_valid(line, n, NULL) && !memchr(line, 0, n))
			buf_add(out, line, n);
		else
			buf_adds(out, "(no error message)");
		free(line);
	}
	json_decref(root);
}

int llm_permanent_429(const char *body, size_t len)
{
	json_t *root = json_loadb(body, len, 0, NULL);
	int perm = 0;
	json_t *e = json_object_get(root, "error");
	const char *type = jv_str(e, "type"), *code = jv_str(e, "code"), *msg = jv_str(e, "message");
	if ((type && !strcmp(type, "insufficient_quota")) || (code && !strcmp(code, "insufficient_quota")))
		perm = 1;
	if (msg && (strstr(msg, "Request too large") || strstr(msg, "exceeded your current quota")))
		perm = 1;
	const char *ec = jv_str(json_object_get(e, "details"), "error_code");
	if (ec && !strcmp(ec, "enforced_spend_limit_reached"))
		perm = 1;
	json_decref(root);
	return perm;
}

double llm_estimate_prompt(json_t *messages)
{
	size_t chars = 0, n = 0;
	size_t i;
	json_t *m;
	json_array_foreach(messages, i, m) {
		const char *c = jv_str(m, "content");
		if (c)
			chars += utf8_chars(c);   /* characters, not bytes */
		n++;
	}
	return (double)chars / llm_chars_per_token + 4.0 * (double)n;
}
