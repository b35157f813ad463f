/* tools: definitions, calls and outcomes (see tools.h). */
#include "tools.h"
#include "conf.h"
#include "jv.h"
#include "schema.h"
#include "validate.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Dies with "FILE:LINE: tool N (NAME): message", the line of item i. */
static void bad_tool(const char *path, int nested, size_t i, const char *name, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 5, 6)));
static void bad_tool(const char *path, int nested, size_t i, const char *name, const char *fmt, ...)
{
	json_t *where = nested ? json_pack("[s, I]", "tools", (json_int_t)i) : json_pack("[I]", (json_int_t)i);
	struct buf msg = {0};
	conf_where(&msg, path, where);
	json_decref(where);
	buf_addf(&msg, "tool %zu%s%s%s: ", i + 1, name ? " (" : "", name ? name : "", name ? ")" : "");
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(&msg, fmt, ap);
	va_end(ap);
	die("%s", msg.p);
}

static int good_name(const char *s)
{
	size_t n = strlen(s);
	if (!n || n > 64)
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
}

json_t *tools_load(const char *path)
{
	json_t *doc = conf_load_or_die(path);
	int nested = json_is_object(doc);
	json_t *tools = nested ? json_incref(json_object_get(doc, "tools")) : json_incref(doc);
	json_decref(doc);
	if (!json_is_array(tools) || !json_array_size(tools))
		die("%s: expected a list of tools ({type: function, function: {name, description, "
		    "parameters}}), or one under tools:", path);
	size_t i;
	json_t *t;
	struct buf why = {0};
	json_array_foreach(tools, i, t) {
		json_t *f = json_object_get(t, "function");
		const char *name = jv_str(f, "name");
		json_t *one = json_pack("[O]", t);
		if (validate_tools(one, &why))
			bad_tool(path, nested, i, name, "not {type: function, function: {name, description, "
				 "parameters}}");
		json_decref(one);
		if (!good_name(name))
			bad_tool(path, nested, i, name, "a name is 1 to 64 letters, digits, _ or -");
		for (size_t k = 0; k < i; k++)
			if (!strcmp(jv_str(json_object_get(json_array_get(tools, k), "function"), "name"), name))
				bad_tool(path, nested, i, name, "the name of tool %zu again", k + 1);
		json_t *d = json_object_get(f, "description");
		if (d && !json_is_string(d))
			bad_tool(path, nested, i, name, "description: expected a text");
		json_t *p = json_object_get(f, "parameters");
		if (!p)
			continue;
		const char *type = jv_str(p, "type");
		if (!type || strcmp(type, "object"))
			bad_tool(path, nested, i, name, "parameters: expected a schema of type object");
		if (schema_supported(p, &why))
			bad_tool(path, nested, i, name, "parameters: %s", why.p);
	}
	buf_free(&why);
	return tools;
}

json_t *tools_find(json_t *tools, const char *name)
{
	size_t i;
	json_t *t;
	json_array_foreach(tools, i, t) {
		json_t *f = json_object_get(t, "function");
		if (name && !strcmp(jv_str(f, "name"), name))
			return f;
	}
	return NULL;
}

int tools_check_call(json_t *tools, json_t *call, json_t **args, struct buf *why)
{
	*args = NULL;
	buf_reset(why);
	json_t *f = json_object_get(call, "function");
	const char *name = jv_str(f, "name"), *text = jv_str(f, "arguments");
	json_t *def = tools_find(tools, name);
	if (!def) {
		buf_addf(why, "there is no tool named '%s'; the tools are ", name ? name : "");
		size_t i;
		json_t *t;
		json_array_foreach(tools, i, t)
			buf_addf(why, "%s%s", i ? ", " : "", jv_str(json_object_get(t, "function"), "name"));
		return -1;
	}
	json_error_t je;
	json_t *v = json_loads(text && *text ? text : "{}", JSON_REJECT_DUPLICATES, &je);
	if (!v) {
		buf_addf(why, "the arguments of %s are not valid JSON (%s); give them as one JSON object", name,
			 je.text);
		return -1;
	}
	if (!json_is_object(v)) {
		buf_addf(why, "the arguments of %s are not a JSON object", name);
		json_decref(v);
		return -1;
	}
	json_t *params = json_object_get(def, "parameters");
	struct buf err = {0};
	if (params && schema_check(params, v, &err)) {
		buf_addf(why, "the arguments of %s do not fit its parameters: %s", name, err.p);
		buf_free(&err);
		json_decref(v);
		return -1;
	}
	buf_free(&err);
	*args = v;
	return 0;
}

char *tools_error(const char *why)
{
	json_t *o = json_pack("{s:s}", "error", why);
	char *s = jv_compact(o);
	json_decref(o);
	return s;
}

/* Whether the value at a check's path is what it says. */
static int holds(json_t *state, json_t *check, struct buf *fail)
{
	const char *path = jv_str(check, "path");
	json_t *want = json_object_get(check, "equals");
	json_t *got = path ? jv_path(state, path) : NULL;
	char *wtext = json_is_string(want) ? xstrdup(json_string_value(want)) : jv_compact(want ? want : json_null());
	int ok = 0;
	if (got) {
		char *gtext = json_is_string(got) ? xstrdup(json_string_value(got)) : jv_compact(got);
		ok = !strcmp(gtext, wtext) || (!json_is_string(want) && json_equal(got, want));
		if (!ok)
			buf_addf(fail, "%s is %s, not %s", path, gtext, wtext);
		free(gtext);
	} else {
		buf_addf(fail, "%s is missing (expected %s)", path ? path : "(no path)", wtext);
	}
	free(wtext);
	return ok;
}

const char *tools_outcome(json_t *rec, json_t **failed)
{
	*failed = NULL;
	json_t *checks = jv_path(rec, "task.checks"), *state = json_object_get(rec, "tool_state");
	if (!json_array_size(checks) || !state)
		return NULL;
	size_t i;
	json_t *c;
	json_array_foreach(checks, i, c) {
		struct buf fail = {0};
		if (!holds(state, c, &fail)) {
			if (!*failed)
				*failed = json_array();
			json_array_append_new(*failed, json_string(fail.p));
		}
		buf_free(&fail);
	}
	return *failed ? "not_met" : "met";
}
