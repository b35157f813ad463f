/* conv: reading a messages list. */
#include "conv.h"
#include "jv.h"
#include "record.h"
#include "util.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

int conv_spoken(json_t *m, const char **role, const char **content)
{
	*role = jv_str(m, "role");
	*content = jv_str(m, "content");
	return *role && *content && strcmp(*role, "system") && strcmp(*role, "tool") &&
	       !json_object_get(m, "tool_calls");
}

/* The spoken messages: the same objects, or flipped, new ones with the
 * user's and the assistant's roles swapped. */
static json_t *spoken(json_t *msgs, int flip)
{
	json_t *out = json_array();
	size_t i;
	json_t *m;
	const char *role, *c;
	json_array_foreach(msgs, i, m) {
		if (!conv_spoken(m, &role, &c))
			continue;
		if (flip)
			json_array_append_new(out, conv_msg(!strcmp(role, "user") ? "assistant" : "user", c));
		else
			json_array_append(out, m);
	}
	return out;
}

json_t *conv_spoken_messages(json_t *msgs)
{
	return spoken(msgs, 0);
}

json_t *conv_flipped(json_t *msgs)
{
	return spoken(msgs, 1);
}

json_t *conv_tool_call(json_t *msgs, const char *id)
{
	size_t i, k;
	json_t *m, *c;
	json_array_foreach(msgs, i, m)
		json_array_foreach(json_object_get(m, "tool_calls"), k, c)
			if (id && jv_str(c, "id") && !strcmp(jv_str(c, "id"), id))
				return c;
	return NULL;
}

const char *conv_tool_name(json_t *call)
{
	return jv_str(json_object_get(call, "function"), "name");
}

int conv_has_system(json_t *msgs)
{
	size_t i;
	json_t *m;
	json_array_foreach(msgs, i, m) {
		const char *r = jv_str(m, "role");
		if (r && !strcmp(r, "system"))
			return 1;
	}
	return 0;
}

int conv_put_system(json_t *msgs, const char *text)
{
	if (!json_is_array(msgs) || !text || !*text || conv_has_system(msgs))
		return 0;
	json_array_insert_new(msgs, 0, conv_msg("system", text));
	return 1;
}

const char *conv_last_role(json_t *msgs)
{
	for (size_t i = json_array_size(msgs); i > 0; i--) {
		const char *r = jv_str(json_array_get(msgs, i - 1), "role");
		if (r && strcmp(r, "system"))
			return r;
	}
	return NULL;
}

int conv_user_turns(json_t *msgs)
{
	int n = 0;
	size_t i;
	json_t *m;
	json_array_foreach(msgs, i, m) {
		const char *r = jv_str(m, "role");
		n += r && !strcmp(r, "user");
	}
	return n;
}

void conv_lines(json_t *msgs, const char *mine, const char *me, const char *other,
		const char *sep, struct buf *out)
{
	size_t i;
	json_t *m;
	const char *role, *c;
	json_array_foreach(msgs, i, m)
		if (conv_spoken(m, &role, &c))
			buf_addf(out, "%s: %s%s", !strcmp(role, mine) ? me : other, c, sep);
}

/* The tool calls of an assistant message and a tool's result, as the
 * transcript shows them; 0 when m is neither. */
static int tool_lines(json_t *msgs, json_t *m, struct buf *out)
{
	const char *role = jv_str(m, "role"), *c = jv_str(m, "content");
	json_t *calls = json_object_get(m, "tool_calls");
	if (role && !strcmp(role, "tool")) {
		const char *name = conv_tool_name(conv_tool_call(msgs, jv_str(m, "tool_call_id")));
		buf_addf(out, "Result of %s: %s", name ? name : "a tool", c ? c : "");
		return 1;
	}
	if (!json_is_array(calls))
		return 0;
	if (!is_blank(c))
		buf_addf(out, "Assistant: %s\n\n", c);
	size_t k;
	json_t *call;
	json_array_foreach(calls, k, call) {
		json_t *f = json_object_get(call, "function");
		buf_addf(out, "%sAssistant calls %s with %s", k ? "\n\n" : "",
			 jv_str(f, "name") ? jv_str(f, "name") : "?",
			 jv_str(f, "arguments") ? jv_str(f, "arguments") : "{}");
	}
	return 1;
}

/* The transcript; with turns, each user message opens "Turn N". */
static char *transcript(json_t *msgs, int turns)
{
	struct buf b = {0};
	size_t i;
	json_t *m;
	const char *role, *c;
	int turn = 0;
	json_array_foreach(msgs, i, m) {
		size_t before = b.len;
		if (b.len)
			buf_adds(&b, "\n\n");
		if (tool_lines(msgs, m, &b))
			continue;
		if (!conv_spoken(m, &role, &c)) {
			b.len = before;
			if (b.p)
				b.p[before] = 0;
			continue;
		}
		int user = !strcmp(role, "user");
		if (user && turns)
			buf_addf(&b, "Turn %d\n", ++turn);
		buf_addf(&b, "%s: %s", user ? "User" : "Assistant", c);
	}
	return buf_steal(&b);
}

char *conv_transcript(json_t *msgs)
{
	return transcript(msgs, 0);
}

char *conv_transcript_turns(json_t *msgs)
{
	return transcript(msgs, 1);
}

json_t *conv_msg_v(const char *role, json_t *content)
{
	json_t *m = json_object();
	json_object_set_new_nocheck(m, "role", json_string(role));
	json_object_set_nocheck(m, "content", content);
	return m;
}

void conv_reask(json_t *msgs, const char *answer, const char *why, int structured)
{
	json_array_append_new(msgs, conv_msg("assistant", answer));
	char *msg = xasprintf("That answer could not be used: %s. Answer again%s.", why,
			      structured ? ", with only the JSON object the schema describes" : "");
	json_array_append_new(msgs, conv_msg("user", msg));
	free(msg);
}

json_t *conv_msg(const char *role, const char *content)
{
	json_t *m = json_object();
	json_object_set_new_nocheck(m, "role", json_string(role));
	json_object_set_new_nocheck(m, "content", json_string(content));
	return m;
}

char *conv_trim(const char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	return xstrndup(s, n);
}

const char *conv_skip_label(const char *text, json_t *names)
{
	const char *p = text;
	while (isspace((unsigned char)*p))
		p++;
	size_t i;
	json_t *name;
	json_array_foreach(names, i, name) {
		const char *s = json_string_value(name);
		size_t n = s ? strlen(s) : 0;
		if (n && !strncasecmp(p, s, n) && p[n] == ':') {
			p += n + 1;
			while (isspace((unsigned char)*p))
				p++;
			break;
		}
	}
	return p;
}
