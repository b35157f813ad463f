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
	return *role && *content && strcmp(*role, "system");
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

char *conv_transcript(json_t *msgs)
{
	struct buf b = {0};
	conv_lines(msgs, "user", "User", "Assistant", "\n\n", &b);
	if (b.len >= 2)
		b.p[b.len -= 2] = 0;   /* paragraphs between, none after */
	return buf_steal(&b);
}

char *conv_transcript_turns(json_t *msgs)
{
	struct buf b = {0};
	size_t i;
	json_t *m;
	const char *role, *c;
	int turn = 0;
	json_array_foreach(msgs, i, m) {
		if (!conv_spoken(m, &role, &c))
			continue;
		int user = !strcmp(role, "user");
		if (b.len)
			buf_adds(&b, "\n\n");
		if (user)
			buf_addf(&b, "Turn %d\n", ++turn);
		buf_addf(&b, "%s: %s", user ? "User" : "Assistant", c);
	}
	return buf_steal(&b);
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
