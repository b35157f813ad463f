/* axes: user profiles on named axes (DESIGN §2a, "motivation × disposition").
 * A file maps each axis to its values (NAME: text, or a folder of NAME.txt
 * files) and may list the allowed combinations; a record gets one drawn
 * combination, or every one, as persona.axes plus a name and a description
 * made of the value texts. */
#ifndef SCG_AXES_H
#define SCG_AXES_H

#include <jansson.h>

#include "util.h"

struct axes {
	const char *path;
	int naxes;
	char **names;          /* axis names, in file order */
	json_t **values;       /* per axis: an object VALUE_NAME -> text, file order */
	int ncombos;
	int *combos;           /* ncombos rows of naxes value indices */
};

/* Loads and checks the file; dies (exit 2) naming the file and the entry. */
void axes_load(struct axes *ax, const char *path);
/* Sets rec.persona to combination `combo`: name (values joined with "/"),
 * axes ({AXIS: VALUE}) and description (the texts joined). Fields of an
 * existing persona are kept; axes is always set. */
void axes_apply(const struct axes *ax, int combo, json_t *rec);
/* The name axes_apply gives a persona that has none: the values of a
 * persona.axes object joined with "/" ("grievance/sarcastic"), added to out. */
void axes_label(json_t *axes, struct buf *out);
/* Is name only that label of axes, not the name of a person? */
int axes_is_label(json_t *axes, const char *name);

#endif
