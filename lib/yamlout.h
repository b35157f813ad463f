/* yamlout: writes a JSON value as a block-style YAML document, for files
 * people edit by hand (a persona list, a card). Strings are plain where
 * YAML allows it and quoted where it does not; key order is kept. */
#ifndef SCG_YAMLOUT_H
#define SCG_YAMLOUT_H

#include <jansson.h>

#include "util.h"

/* Appends the document to out; returns 0, or -1 (libyaml refused). */
int yamlout_write(json_t *v, struct buf *out);

#endif
