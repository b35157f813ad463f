/* endpoint: calling the assistant under test as the original tool did. */
#include "endpoint.h"
#include "conf.h"
#include "jv.h"
#include "llm.h"
#include "record.h"

#include <string.h>

void endpoint_load(struct endpoint *e, const char *path)
{
	memset(e, 0, sizeof *e);
	struct buf err = {0};
	json_t *v = conf_load(path, &err);
	if (!v)
		die("%s", err.p);
	if (!json_is_object(v))
		die("%s: expected a mapping with url, body and response_path", path);
	if (conf_expand_env(v, path, &err))
		die("%s", err.p);
	e->path = xstrdup(path);
	static const char *const known[] = {"url", "body", "headers", "response_path", "timeout",
					    "retries", "system", "messages_key", NULL};
	const char *key;
	json_t *val;
	json_object_foreach(v, key, val) {
		int ok = 0;
		for (int i = 0; known[i]; i++)
			ok |= !strcmp(key, known[i]);
		if (!ok)
			die("%s: unknown key '%s' (known: url, body, headers, response_path, timeout, "
			    "retries, system, messages_key)", path, key);
	}
	const char *url = jv_str(v, "url");
	if (!url || !*url)
		die("%s: missing field url", path);
	char *what = xasprintf("%s: url", path);
	url_check(url, what);
	free(what);
	e->url = xstrdup(url);
	json_t *body = json_object_get(v, "body");
	if (body && !json_is_object(body))
		die("%s: body must be a mapping", path);
	e->body = body ? json_incref(body) : json_object();
	json_t *h = json_object_get(v, "headers");
	if (h && !json_is_null(h)) {
		if (!json_is_object(h))
			die("%s: headers must be a mapping of name to value", path);
		const char *k;
		json_t *hv;
		json_object_foreach(h, k, hv) {
			if (!json_is_string(hv) && !json_is_number(hv))
				die("%s: header %s must be a string", path, k);
			/* a CR or LF (from a ${VAR} too) would add headers */
			if (!*k || ctl_at(k) >= 0 || strpbrk(k, ": "))
				die("%s: header name '%s' is not a valid name: refused", path, k);
			if (json_is_string(hv) && (ctl_at(json_string_value(hv)) >= 0 ||
						   strlen(json_string_value(hv)) != json_string_length(hv)))
				die("%s: header %s: the value holds a control character (CR, LF or "
				    "another): refused", path, k);
		}
		e->headers = json_incref(h);
	}
	json_t *rp = json_object_get(v, "response_path");
	if (!json_is_array(rp) || !json_array_size(rp))
		die("%s: response_path must be a list of keys and indices, e.g. [choices, 0, message, content]", path);
	size_t i;
	json_t *step;
	json_array_foreach(rp, i, step)
		if (!json_is_string(step) && !json_is_integer(step))
			die("%s: response_path item %zu must be a key or an index", path, i + 1);
	e->response_path = json_incref(rp);
	const char *sys = jv_str(v, "system");
	e->system = sys ? xstrdup(sys) : NULL;
	json_t *sysv = json_object_get(v, "system");
	if (sysv && !json_is_string(sysv))
		die("%s: system must be a string", path);
	json_t *mkv = json_object_get(v, "messages_key");
	if (mkv && (!json_is_string(mkv) || !*json_string_value(mkv)))
		die("%s: messages_key must be a non-empty string", path);
	const char *mk = jv_str(v, "messages_key");
	e->messages_key = xstrdup(mk ? mk : "messages");
	json_t *t = json_object_get(v, "timeout");
	if (t && (!json_is_number(t) || json_number_value(t) <= 0))
		die("%s: timeout must be a positive number of seconds", path);
	e->timeout = t ? json_number_value(t) : 0;
	json_t *r = json_object_get(v, "retries");
	if (r && (!json_is_integer(r) || json_integer_value(r) < 0))
		die("%s: retries must be a non-negative integer", path);
	e->retries = r ? (int)json_integer_value(r) : -1;
	json_decref(v);
	buf_free(&err);
}

char *endpoint_body(const struct endpoint *e, json_t *messages)
{
	json_t *b = json_deep_copy(e->body);
	json_t *msgs = json_array();
	if (e->system)
		json_array_append_new(msgs, json_pack("{s:s, s:s}", "role", "system", "content", e->system));
	size_t i;
	json_t *m;
	json_array_foreach(messages, i, m) {
		const char *role = jv_str(m, "role"), *c = jv_str(m, "content");
		if (role && c)
			json_array_append_new(msgs, json_pack("{s:s, s:s}", "role", role, "content", c));
	}
	json_object_set_new(b, e->messages_key, msgs);
	char *s = jv_compact(b);
	json_decref(b);
	return s;
}

struct curl_slist *endpoint_headers(const struct endpoint *e)
{
	struct curl_slist *l = curl_slist_append(NULL, "Content-Type: application/json");
	const char *k;
	json_t *v;
	json_object_foreach(e->headers, k, v) {
		char *line;
		if (json_is_string(v))
			line = xasprintf("%s: %s", k, json_string_value(v));
		else
			line = xasprintf("%s: %g", k, json_number_value(v));
		l = curl_slist_append(l, line);
		free(line);
	}
	return l;
}

json_t *endpoint_walk(json_t *v, json_t *path, struct buf *where)
{
	size_t i;
	json_t *step;
	json_array_foreach(path, i, step) {
		if (json_is_string(step)) {
			buf_addf(where, "%s%s", i ? "." : "", json_string_value(step));
			v = json_is_object(v) ? json_object_get(v, json_string_value(step)) : NULL;
		} else {
			json_int_t k = json_integer_value(step);
			buf_addf(where, "[%lld]", (long long)k);
			if (json_is_array(v) && k < 0)
				k += (json_int_t)json_array_size(v);
			v = json_is_array(v) && k >= 0 ? json_array_get(v, (size_t)k) : NULL;
		}
		if (!v)
			return NULL;
	}
	return v;
}

char *endpoint_reply(const struct endpoint *e, const char *body, size_t len, struct buf *err)
{
	json_error_t je;
	json_t *root = json_loadb(body, len, 0, &je);
	buf_reset(err);
	if (!root) {
		buf_addf(err, "the endpoint's answer is not JSON (%s)", je.text);
		return NULL;
	}
	struct buf where = {0};
	json_t *v = endpoint_walk(root, e->response_path, &where);
	char *out = NULL;
	if (!v)
		buf_addf(err, "the endpoint's answer has nothing at %s (response_path)", where.p);
	else if (json_is_string(v) && memchr(json_string_value(v), 0, json_string_length(v)))
		buf_addf(err, "the endpoint's answer at %s holds a NUL character (\\u0000)", where.p);
	else if (json_is_string(v))
		out = xstrdup(json_string_value(v));
	else
		buf_addf(err, "the endpoint's answer at %s is not a string", where.p);
	if (!out && json_object_get(root, "error")) {
		/* a 200 that carries an error: say which */
		struct buf msg = {0};
		llm_error_text(body, len, &msg);
		buf_addf(err, "; it carries an error: %s", msg.p ? msg.p : "");
		buf_free(&msg);
	}
	buf_free(&where);
	json_decref(root);
	return out;
}
