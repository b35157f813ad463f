/* layout: a whole record laid out by a template of the user's, as
 * scg-show --template does it and the original knowledge generator's
 * output-format file did: a file whose text is a JSON object or list is a
 * JSON layout (each string in it a template, lib/tmpl.h), any other file a
 * text template. The record's messages are offered as {{transcript}}
 * ("User: ..." paragraphs). */
#ifndef SCG_LAYOUT_H
#define SCG_LAYOUT_H

#include <jansson.h>

#include "util.h"

struct layout;

/* Loads path; dies (exit 2) with what (the option that named it), path
 * and why when it is not UTF-8 or does not parse. */
struct layout *layout_load(const char *path, const char *what);
void layout_free(struct layout *l);

/* rec laid out: for a JSON layout, a new value (out untouched); for a text
 * one, NULL with the text in out, without its last newline. NULL with the
 * reason in err when it does not render. */
json_t *layout_apply(const struct layout *l, json_t *rec, struct buf *out, struct buf *err);

#endif
