/* script: a script answer into chat messages (see script.h). */
#include "script.h"
#include "conv.h"
#include "axes.h"
#include "jv.h"
#include "record.h"
#include "tmpl.h"

#include <stdlib.h>
#include <string.h>

#define GAP '\x01'   /* where a stage direction was, until the spaces are tidied */

/* The index just past the direction that opens at s[i], or 0 when it is
 * not closed. Asterisks close with a run at least as long as the opening
 * one (*sighs*, **sighs**); brackets nest. */
static size_t direction_end(const char *s, size_t i)
{
	if (s[i] == '*') {
		size_t k = strspn(s + i, "*");
		for (size_t j = i + k; s[j]; j++) {
			if (s[j] != '*')
				continue;
			size_t m = strspn(s + j, "*");
			if (m >= k)
				return j + m;
			j += m - 1;
		}
		return 0;
	}
	char open = s[i], close = open == '(' ? ')' : ']';
	int depth = 0;
	for (size_t j = i; s[j]; j++) {
		if (s[j] == open)
			depth++;
		else if (s[j] == close && --depth == 0)
			return j + 1;
	}
	return 0;
}

static int hspace(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == GAP;
}

/* Spaces and gaps: a gap leaves one space between words, nothing at the
 * start or end of a line and nothing before punctuation. */
static void tidy(const char *s, struct buf *out)
{
	for (size_t i = 0; s[i];) {
		if (!hspace(s[i])) {
			buf_addc(out, s[i++]);
			continue;
		}
		size_t j = i;
		int gap = 0;
		while (s[j] && hspace(s[j]))
			gap |= s[j++] == GAP;
		char prev = out->len ? out->p[out->len - 1] : '\n', next = s[j];
		if (!gap)
			buf_add(out, s + i, j - i);
		else if (prev == '\n' && next == '\n')
			j++;   /* a line that held only a direction goes */
		else if (prev != '\n' && next && next != '\n' && !strchr(",.!?;:)]", next))
			buf_addc(out, ' ');
		i = j;
	}
}

char *script_clean(const char *text)
{
	struct buf cut = {0}, out = {0};
	buf_adds(&cut, "");
	for (size_t i = 0; text[i];) {
		size_t end = strchr("*([", text[i]) ? direction_end(text, i) : 0;
		if (end) {
			buf_addc(&cut, GAP);
			i = end;
		} else if (text[i] == '*') {   /* an unclosed run stays as it is */
			size_t k = strspn(text + i, "*");
			buf_add(&cut, text + i, k);
			i += k;
		} else {
			buf_addc(&cut, text[i++]);
		}
	}
	buf_adds(&out, "");
	tidy(cut.p, &out);
	buf_free(&cut);
	char *r = conv_trim(out.p);
	buf_free(&out);
	return r;
}

/* Lower case of ASCII and Latin-1 letters (UTF-8 C3 80-9E, but not ×). */
static void fold(char *s)
{
	for (unsigned char *p = (unsigned char *)s; *p; p++) {
		if (*p >= 'A' && *p <= 'Z')
			*p += 32;
		else if (*p == 0xc3 && p[1] >= 0x80 && p[1] <= 0x9e && p[1] != 0x97)
			*++p += 32;
	}
}

/* A name as it is compared: folded, without wrapping or directions. */
static char *name_key(const char *name)
{
	const char *wrap = " \t\r\n*\"'_:";
	size_t a = strspn(name, wrap), n = strlen(name);
	while (n > a && strchr(wrap, name[n - 1]))
		n--;
	char *bare = xstrndup(name + a, n - a);
	char *clean = script_clean(bare);
	free(bare);
	n = strlen(clean);
	while (n && strchr(wrap, clean[n - 1]))
		clean[--n] = 0;
	fold(clean);
	return clean;
}

int script_is(json_t *names, const char *speaker)
{
	char *key = name_key(speaker);
	int found = 0;
	size_t i;
	json_t *v;
	json_array_foreach(names, i, v) {
		if (!json_is_string(v))
			continue;
		char *k = name_key(json_string_value(v));
		found = *k && !strcmp(k, key);
		free(k);
		if (found)
			break;
	}
	free(key);
	return found;
}

/* The text without the speaker's own name in front ("Lincoln: Good day"). */
static const char *unlabel(const char *text, const char *speaker)
{
	const char *colon = strchr(text, ':');
	if (!colon || colon - text > 80 || memchr(text, '\n', (size_t)(colon - text)))
		return text;
	char *label = xstrndup(text, (size_t)(colon - text));
	char *a = name_key(label), *b = name_key(speaker);
	int same = *a && !strcmp(a, b);
	free(label);
	free(a);
	free(b);
	return same ? colon + 1 : text;
}

enum { SAID_USER = 1, SAID_ASSISTANT = 2 };

json_t *script_map(json_t *answer, json_t *assistant_names, json_t *msgs, int max_user,
		   struct buf *why)
{
	const char *last = conv_last_role(msgs);
	const char *expect = last && !strcmp(last, "user") ? "assistant" : "user";
	int users = conv_user_turns(msgs), said = 0;
	json_t *out = json_array();
	size_t i;
	json_t *t;
	json_array_foreach(json_object_get(answer, "turns"), i, t) {
		const char *speaker = jv_str(t, "speaker"), *text = jv_str(t, "text");
		if (!speaker || !text)
			continue;
		int mine = script_is(assistant_names, speaker);
		const char *role = mine ? "assistant" : "user";
		char *clean = script_clean(unlabel(text, speaker));
		if (!*clean) {
			free(clean);
			continue;
		}
		said |= mine ? SAID_ASSISTANT : SAID_USER;
		json_t *prev = json_array_get(out, json_array_size(out) - 1);
		if (!prev && strcmp(role, expect)) {
			free(clean);
			continue;
		}
		if (prev && !strcmp(jv_str(prev, "role"), role)) {
			char *joined = xasprintf("%s\n%s", jv_str(prev, "content"), clean);
			json_object_set_new(prev, "content", json_string(joined));
			free(joined);
			free(clean);
			continue;
		}
		if (!mine && ++users > max_user) {
			free(clean);
			break;
		}
		json_array_append_new(out, json_pack("{s:s, s:s%}", "role", role, "content", clean,
						     strlen(clean)));
		free(clean);
	}
	size_t n = json_array_size(out);
	if (n && !strcmp(jv_str(json_array_get(out, n - 1), "role"), "user"))
		json_array_remove(out, --n);
	if (n)
		return out;
	json_decref(out);
	if (!said)
		buf_adds(why, json_array_size(json_object_get(answer, "turns"))
			 ? "no turn has any words once the stage directions are removed"
			 : "the script has no turns");
	else if (said == SAID_USER)
		buf_adds(why, "every turn is the user's; the assistant never answers");
	else if (said == SAID_ASSISTANT && !strcmp(expect, "user"))
		buf_adds(why, "every turn is the assistant's; the user must speak first");
	else
		buf_adds(why, "no answer of the assistant follows the user's message");
	return NULL;
}

/* The first of the context's paths that holds a string that is not blank. */
static const char *first_name(json_t *ctx, const char *const *paths)
{
	for (; *paths; paths++) {
		const char *s = json_string_value(jv_path(ctx, *paths));
		if (s && s[strspn(s, " \t\r\n")])
			return s;
	}
	return NULL;
}

void script_cast(json_t *ctx, struct script_cast *c)
{
	static const char *const assistant[] = {
		"character.name", "assistant.name", "template.participants.assistant", NULL};
	static const char *const user[] = {
		"persona.name", "scene.participant", "template.participants.user", NULL};
	const char *a = first_name(ctx, assistant);
	c->assistant = json_pack("[s]", a ? a : "Assistant");
	json_t *aliases = jv_path(ctx, "character.aliases");
	if (a && json_string_value(jv_path(ctx, "character.name")) == a) {
		if (json_is_string(aliases))
			json_array_append(c->assistant, aliases);
		size_t i;
		json_t *v;
		json_array_foreach(aliases, i, v)
			if (json_is_string(v) && json_string_length(v))
				json_array_append(c->assistant, v);
	}
	const char *u = first_name(ctx, user);
	/* a profile drawn on axes is named by its values; that is no person's name */
	if (u && u == json_string_value(jv_path(ctx, "persona.name"))
	    && axes_is_label(jv_path(ctx, "persona.axes"), u))
		u = first_name(ctx, user + 1);
	if (!u || script_is(c->assistant, u))
		u = script_is(c->assistant, "User") ? "Visitor" : "User";
	c->user = xstrdup(u);
}

void script_cast_free(struct script_cast *c)
{
	json_decref(c->assistant);
	free(c->user);
}

void script_transcript(json_t *msgs, const struct script_cast *c, struct buf *out)
{
	conv_lines(msgs, "assistant", json_string_value(json_array_get(c->assistant, 0)), c->user, "\n", out);
}

static void set_text(json_t *obj, const char *key, struct buf *b)
{
	json_object_set_new(obj, key, json_string(b->p ? b->p : ""));
	buf_reset(b);
}

/* "- name: value" lines of an object's fields (a string stays as it is). */
static void field_lines(json_t *v, const char *skip, struct buf *out)
{
	const char *k;
	json_t *x;
	if (json_is_string(v))
		buf_addf(out, "%s\n", json_string_value(v));
	json_object_foreach(v, k, x) {
		if (skip && !strcmp(k, skip))
			continue;
		buf_addf(out, "- %s: ", k);
		tmpl_value(x, out);
		buf_addc(out, '\n');
	}
}

int script_prompt_vars(json_t *ctx, const struct script_cast *cast, json_t *msgs, int exchanges,
		       const char *guard, struct buf *err)
{
	json_t *v = json_object();
	struct buf b = {0};
	const char *name = json_string_value(json_array_get(cast->assistant, 0));
	const char *last = conv_last_role(msgs);
	json_object_set_new(ctx, "script", v);
	json_object_set_new(v, "assistant", json_string(name));
	json_object_set_new(v, "user", json_string(cast->user));
	for (size_t i = 1; i < json_array_size(cast->assistant); i++)
		buf_addf(&b, "%s%s", i > 1 ? ", " : "", json_string_value(json_array_get(cast->assistant, i)));
	set_text(v, "aliases", &b);
	int users = conv_user_turns(msgs);
	json_object_set_new(v, "exchanges", json_integer(exchanges > users ? exchanges : users));
	json_object_set_new(v, "next", json_string(last && !strcmp(last, "user") ? name : cast->user));
	field_lines(jv_path(ctx, "persona.axes"), NULL, &b);
	set_text(v, "profile", &b);
	field_lines(json_object_get(ctx, "scene"), "kind", &b);
	set_text(v, "scene", &b);
	script_transcript(msgs, cast, &b);
	set_text(v, "transcript", &b);
	/* a seed is its own source: said once, in the transcript */
	const char *src = json_string_value(jv_path(ctx, "source.text"));
	const char *first = jv_str(json_array_get(msgs, 0), "content");
	if (src && !(first && !strcmp(src, first)))
		buf_adds(&b, src);
	set_text(v, "source", &b);
	const char *kind = json_string_value(jv_path(ctx, "scene.kind"));
	int bad = 0;
	if (kind && !strcmp(kind, "adversarial"))
		bad = tmpl_render(guard, ctx, &b, err);
	set_text(v, "guard", &b);
	buf_free(&b);
	return bad;
}

json_t *script_schema(const struct script_cast *cast, int min_turns, int max_turns)
{
	json_t *names = json_deep_copy(cast->assistant);
	json_array_append_new(names, json_string(cast->user));
	return json_pack("{s:s, s:{s:{s:s, s:i, s:i, s:{s:s, s:{s:{s:s, s:o}, s:{s:s}}, s:[s,s], s:b}}},"
			 " s:[s], s:b}",
		"type", "object", "properties", "turns", "type", "array", "minItems", min_turns,
		"maxItems", max_turns, "items", "type", "object", "properties",
		"speaker", "type", "string", "enum", names, "text", "type", "string",
		"required", "speaker", "text", "additionalProperties", 0,
		"required", "turns", "additionalProperties", 0);
}

int script_max_user(json_t *msgs, int exchanges)
{
	int users = conv_user_turns(msgs);
	return users > exchanges ? users : exchanges;
}

json_t *script_answer(json_t *answer, json_t *ctx, json_t *msgs, int exchanges, struct buf *why)
{
	struct script_cast cast;
	script_cast(ctx, &cast);
	json_t *got = script_map(answer, cast.assistant, msgs, script_max_user(msgs, exchanges), why);
	if (!got) {
		char *names = jv_compact(cast.assistant);
		buf_addf(why, " (the assistant is %s, the user \"%s\")", names, cast.user);
		free(names);
	}
	script_cast_free(&cast);
	return got;
}

void script_end(json_t *rec, const char *reason, const char *by)
{
	const char *kind = json_string_value(jv_path(rec, "scene.kind"));
	json_object_set_new(rec, "done", json_true());
	json_object_set_new(rec, "stop", json_pack("{s:s, s:s, s:i}", "reason", reason, "by", by,
		"turn", conv_user_turns(json_object_get(rec, "messages"))));
	json_object_set_new(rec, "kind", json_string(kind && !strcmp(kind, "adversarial")
						     ? "protective" : "dialogue"));
}
