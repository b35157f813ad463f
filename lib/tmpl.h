/* tmpl: prompt templates. {{path.into.record}} inserts a value from the
 * context, {{path?}} inserts it or nothing, {{#path}}...{{/path}} keeps its
 * text only when the value exists and is not empty. Inserted text is never
 * expanded again, and a missing value is an error naming it. */
#ifndef SCG_TMPL_H
#define SCG_TMPL_H

#include <jansson.h>

#include "util.h"

/* Renders tmpl against ctx (an object; paths as jv_path). Returns 0, or -1
 * with the reason in err ("missing value {{persona.goal}}"). */
int tmpl_render(const char *tmpl, json_t *ctx, struct buf *out, struct buf *err);

/* Checks a template's syntax (closed tags and sections) without a
 * context: 0, or -1 with the reason in err. */
int tmpl_check(const char *tmpl, struct buf *err);

/* Renders a JSON layout: every string in it (keys stay as they are) is a
 * template, and a string that is one tag alone, "{{path}}" or "{{path?}}",
 * becomes the value itself (a list stays a list; null for a missing
 * optional one). Returns a new value, or NULL with the reason in err. */
json_t *tmpl_render_json(json_t *layout, json_t *ctx, struct buf *err);

/* The text form of a value: strings as they are, other values as JSON. */
void tmpl_value(json_t *v, struct buf *out);

#endif
