/* card: the cards a run is given, loaded and checked in one place: the
 * character card (name, aliases, era or world, description) that
 * scg-scenes, scg-turn and scg-dpo take with --character FILE, stamped
 * into the records as "character"; the assistant card (name,
 * description) and the persona cards of scg-personas. */
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

/* The assistant of a card: {name, description}, both strings; dies (exit
 * 2) naming path otherwise. */
json_t *card_assistant(json_t *card, const char *path);
/* Loads a YAML or JSON assistant card, as card_assistant. */
json_t *card_assistant_load(const char *path);

/* The personas of a users: file (YAML, the original tool's), a list of
 * persona cards, or records with a persona field, as [{id?, assistant?,
 * persona}], each persona once. A users: file may carry the assistant card
 * beside the list (assistant:); its personas get it. Dies (exit 2) naming
 * the file and item of a bad one. */
json_t *card_personas_load(const char *path);
/* Writes personas (an array of persona cards) on stdout as a users: file
 * that card_personas_load reads back. */
void card_personas_write(json_t *personas);

#endif
