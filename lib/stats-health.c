/* stats-health: the health checks of a conversation, message by
 * message: roles out of order, empty messages, speaker labels written
 * into the text, a message said twice, an assistant refusing, a user
 * talking like an assistant. A check that fails names the record (the
 * first STATS_IDS ids are kept). */
#include "stats-int.h"
#include "jv.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const check_names[NCHECKS] = {
	"roles_out_of_order", "empty_message", "speaker_label", "repeated_message",
	"assistant_refusal", "user_as_assistant",
};

void health_init(struct stats *st)
{
	for (int i = 0; i < NCHECKS; i++) {
		st->checks[i].name = check_names[i];
		st->checks[i].ids = json_array();
	}
}

void health_free(struct stats *st)
{
	for (int i = 0; i < NCHECKS; i++)
		json_decref(st->checks[i].ids);
}

/* s lowered (ASCII) with the typographic apostrophe made plain, onto out. */
static void lower_plain(const char *s, struct buf *out)
{
	buf_reset(out);
	buf_adds(out, "");
	for (; *s; s++) {
		if (!strncmp(s, "\xe2\x80\x99", 3)) {
			buf_addc(out, '\'');
			s += 2;
		} else {
			buf_addc(out, (char)tolower((unsigned char)*s));
		}
	}
}

static int has_any(const char *low, const char *const *phrases)
{
	for (; *phrases; phrases++)
		if (strstr(low, *phrases))
			return 1;
	return 0;
}

static const char *const refusals[] = {
	"as an ai", "as a language model", "as an artificial intelligence",
	"i can't help with that", "i cannot help with that", "i can't assist with that",
	"i cannot assist with that", "i'm sorry, but i can't", "i'm sorry, but i cannot",
	"i am unable to help", "i'm unable to help", "i'm not able to help with that", NULL,
};
static const char *const assistant_phrases[] = {
	"how can i help you", "how can i assist you", "how may i help you", "how may i assist you",
	"is there anything else i can help", "is there anything else i can do for you",
	"i hope this helps", "let me know if you have any other questions", "as your assistant",
	NULL,
};

/* Does a line of low (lowered) begin with "name:"? */
static int line_label(const char *low, const char *name)
{
	if (!name || !*name)
		return 0;
	size_t n = strlen(name);
	for (const char *l = low; l; l = strchr(l, '\n')) {
		if (*l == '\n')
			l++;
		while (*l == ' ' || *l == '\t' || *l == '*')
			l++;
		if (!strncasecmp(l, name, n) && l[n] == ':')
			return 1;
	}
	return 0;
}

static int speaker_label(const char *low, json_t *rec)
{
	static const char *const generic[] = {"user", "assistant", "human", "ai", "bot", "system", NULL};
	for (int i = 0; generic[i]; i++)
		if (line_label(low, generic[i]))
			return 1;
	const char *names[] = {
		json_string_value(jv_path(rec, "persona.name")),
		json_string_value(jv_path(rec, "assistant.name")),
		json_string_value(jv_path(rec, "character.name")),
	};
	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		if (line_label(low, names[i]))
			return 1;
	size_t i;
	json_t *alias;
	json_array_foreach(jv_path(rec, "character.aliases"), i, alias)
		if (line_label(low, json_string_value(alias)))
			return 1;
	/* the whole message in quotes */
	const char *s = low;
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	int open = *s == '"' || !strncmp(s, "\xe2\x80\x9c", 3);
	int close = (n > 1 && s[n - 1] == '"') ||
		    (n > 3 && !strncmp(s + n - 3, "\xe2\x80\x9d", 3));
	return open && close && n > 2;
}

int health_message(struct health *h, const char *role, const char *content)
{
	if (!role || (strcmp(role, "system") && strcmp(role, "user") && strcmp(role, "assistant")))
		h->bad[H_ORDER] = 1;
	else if (!strcmp(role, "system") ? h->prev != NULL : h->prev && !strcmp(h->prev, role))
		h->bad[H_ORDER] = 1;
	if (role && strcmp(role, "system"))
		h->prev = role;
	if (is_blank(content)) {
		h->bad[H_EMPTY] = 1;
		return 0;
	}
	return role != NULL;
}

void health_said(struct health *h, json_t *rec, const char *role, const char *content)
{
	lower_plain(content, &h->low);
	if (speaker_label(h->low.p, rec))
		h->bad[H_LABEL] = 1;
	if (!hset_add(&h->seen, hash64(h->low.p, strlen(h->low.p), 3)))
		h->bad[H_REPEAT] = 1;
	if (!strcmp(role, "assistant") && has_any(h->low.p, refusals))
		h->bad[H_REFUSAL] = 1;
	if (!strcmp(role, "user") && (has_any(h->low.p, assistant_phrases) ||
				      line_label(h->low.p, "assistant")))
		h->bad[H_USER_AS_ASSISTANT] = 1;
}

void health_end(struct stats *st, struct health *h, const char *id)
{
	for (int c = 0; c < NCHECKS; c++) {
		struct check *k = &st->checks[c];
		if (!h->bad[c])
			continue;
		k->count++;
		if (json_array_size(k->ids) < STATS_IDS)
			json_array_append_new(k->ids, json_string(id));
	}
	free(h->seen.t);
	buf_free(&h->low);
}

json_t *health_json(struct stats *st)
{
	json_t *health = json_object();
	for (int c = 0; c < NCHECKS; c++)
		json_object_set_new(health, st->checks[c].name, json_pack("{s:I, s:O}",
			"count", (json_int_t)st->checks[c].count, "ids", st->checks[c].ids));
	return health;
}
