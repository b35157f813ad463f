/* card: the character card (name, aliases, era or world, description)
 * that scg-scenes, scg-turn and scg-dpo take with --character FILE: loaded
 * and checked in one place, and stamped into the records as "character". */
#ifndef SCG_CARD_H
#define SCG_CARD_H

#include <jansson.h>

/* Loads a YAML or JSON card: a mapping with a non-empty name; aliases a
 * list of names, or one name (made a list). Dies (exit 2) naming the file. */
json_t *card_load(const char *path);

enum card_stamp {
	CARD_REPLACE,      /* every record gets the card */
	CARD_IF_MISSING,   /* only a record without a character object */
};

/* Puts card into rec as "character" (a shared reference). */
void card_stamp(json_t *rec, json_t *card, enum card_stamp how);

#endif
