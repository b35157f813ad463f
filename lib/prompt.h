/* prompt: the default prompts compiled from prompts/NAME.txt, replaced by
 * --prompt NAME=FILE. A prompt's text before a line "---" is the system
 * message; the rest is the user message. */
#ifndef SCG_PROMPT_H
#define SCG_PROMPT_H

#include <jansson.h>

#include "util.h"

/* The prompts' options (lib/run.c fills it): the --prompt NAME=FILE
 * overrides, the later one winning, and which dynamic-prompting options
 * were given, so that a prompt that does not use their values is named. */
struct prompt_config {
	const char *const *names;     /* names[i] is overridden by the file paths[i] */
	const char *const *paths;
	int n;
	int inject, templates, examples;  /* --inject, --templates, --examples given */
};
void prompt_configure(const struct prompt_config *c);

/* The text of prompt NAME (override or built-in); dies (exit 2) if none. */
const char *prompt_get(const char *name);
/* Renders prompt NAME against ctx into messages [{system},{user}], appended
 * to msgs. Returns 0, or -1 with the reason in err. */
int prompt_messages(const char *name, json_t *ctx, json_t *msgs, struct buf *err);
/* Renders the system part only (text before ---, or all of it). */
int prompt_render_system(const char *name, json_t *ctx, struct buf *out, struct buf *err);
/* The system part of prompt NAME rendered against ctx and put first in msgs,
 * unless msgs has a system message already (conv_put_system). Returns 0,
 * or -1 with the reason in err. */
int prompt_put_system(const char *name, json_t *ctx, json_t *msgs, struct buf *err);
/* Reads the overrides: dies (exit 2) unless every one names a known prompt
 * and its file is readable UTF-8 that parses as a template. */
void prompt_init(void);

#endif
