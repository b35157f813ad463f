/* card: loading the cards (character, assistant, personas) and stamping
 * a character card into records. */
#include "card.h"
#include "conf.h"
#include "jv.h"
#include "record.h"
#include "util.h"
#include "yamlout.h"

json_t *card_load(const char *path)
{
	json_t *c = conf_load_or_die(path);
	const char *name = jv_str(c, "name");
	if (!json_is_object(c) || !name || !*name)
		die("%s: a character card needs a name", path);
	json_t *al = json_object_get(c, "aliases");
	if (json_is_string(al)) {
		json_object_set_new(c, "aliases", json_pack("[O]", al));
	} else if (al && !json_is_null(al)) {
		size_t i;
		json_t *a;
		if (!json_is_array(al))
			die("%s: aliases: expected a list of names", path);
		json_array_foreach(al, i, a)
			if (!json_is_string(a))
				die("%s: aliases: entry %zu is not a name", path, i + 1);
	}
	return c;
}

void card_stamp(json_t *rec, json_t *card, enum card_stamp how)
{
	if (!card || (how == CARD_IF_MISSING && json_is_object(json_object_get(rec, "character"))))
		return;
	json_object_set(rec, "character", card);
}

/* Whether persona p is one of list's already. */
static int seen(json_t *list, json_t *p)
{
	size_t i;
	json_t *q;
	json_array_foreach(list, i, q)
		if (json_equal(json_object_get(q, "persona"), p))
			return 1;
	return 0;
}

json_t *card_assistant(json_t *card, const char *path)
{
	const char *name = jv_str(card, "name"), *desc = jv_str(card, "description");
	if (!name || !desc)
		die("%s: an assistant card needs the strings name and description", path);
	return json_pack("{s:s, s:s}", "name", name, "description", desc);
}

json_t *card_personas_load(const char *path)
{
	struct buf err = {0};
	json_t *items = conf_load_records(path, &err);
	if (!items)
		die("%s", err.p);
	json_t *out = json_array();
	size_t i, j;
	json_t *it, *u;
	json_array_foreach(items, i, it) {
		json_t *list = json_object_get(it, "users");
		json_t *one = json_pack("[O]", it);
		json_t *beside = NULL;    /* the file's assistant: block */
		if (json_is_array(list)) {
			json_decref(one);
			one = json_incref(list);
			json_t *a = json_object_get(it, "assistant");
			if (a && !json_is_null(a))
				beside = card_assistant(a, path);
		}
		json_array_foreach(one, j, u) {
			json_t *p = json_object_get(u, "persona");
			json_t *rec = json_object();
			if (json_is_object(p)) {
				json_object_set(rec, "id", json_object_get(u, "id"));
				json_object_set(rec, "assistant", json_object_get(u, "assistant"));
			} else if (json_is_string(json_object_get(u, "name"))) {
				p = u;
				if (beside)
					json_object_set(rec, "assistant", beside);
			} else {
				die("%s: item %zu: not a persona (expected users:, a card with a name, or a record with persona)",
				    path, i + j + 1);
			}
			json_object_set(rec, "persona", p);
			if (!seen(out, p))
				json_array_append(out, rec);
			json_decref(rec);
		}
		json_decref(one);
		json_decref(beside);
	}
	json_decref(items);
	return out;
}

json_t *card_assistant_load(const char *path)
{
	json_t *card = conf_load_or_die(path);
	json_t *a = card_assistant(card, path);
	json_decref(card);
	return a;
}

void card_personas_write(json_t *personas)
{
	json_t *doc = json_pack("{s:O}", "users", personas);
	struct buf b = {0};
	if (yamlout_write(doc, &b))
		die("cannot write the personas as YAML");
	out_line(b.p, b.len && b.p[b.len - 1] == '\n' ? b.len - 1 : b.len);
	out_flush();
	buf_free(&b);
	json_decref(doc);
}
