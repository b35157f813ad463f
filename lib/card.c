/* card: loading a character card and stamping it into records. */
#include "card.h"
#include "conf.h"
#include "jv.h"
#include "record.h"
#include "util.h"

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
