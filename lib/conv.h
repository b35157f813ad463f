/* conv: small questions about a conversation's messages list (the OpenAI
 * chat format) that several programs ask: who spoke last, how many turns
 * the user has taken, the conversation as plain text for a prompt. */
#ifndef SCG_CONV_H
#define SCG_CONV_H

#include <jansson.h>

#include "util.h"

/* A chat message {"role": role, "content": content}; content is copied,
 * or referenced when given as a value (conv_msg_v). */
json_t *conv_msg(const char *role, const char *content);
json_t *conv_msg_v(const char *role, json_t *content);
/* 1 with *role and *content when m is a message of the conversation
 * proper (a role and a text, not the system prompt), else 0. */
int conv_spoken(json_t *m, const char **role, const char **content);
/* Whether a message of role system is in msgs. */
int conv_has_system(json_t *msgs);
/* Puts {"role":"system","content":text} first in msgs unless msgs already
 * has a system message or text is empty; 1 when it put one. */
int conv_put_system(json_t *msgs, const char *text);
/* The role of the last message that is not a system message, or NULL. */
const char *conv_last_role(json_t *msgs);
/* The number of user messages. */
int conv_user_turns(json_t *msgs);
/* The spoken messages as "NAME: text", each followed by sep, onto out: a
 * message of role mine under the name me, any other under other. */
void conv_lines(json_t *msgs, const char *mine, const char *me, const char *other,
		const char *sep, struct buf *out);
/* "User: …" and "Assistant: …" paragraphs, system messages left out.
 * A new string (caller frees). */
char *conv_transcript(json_t *msgs);
/* The same with each user message opening a numbered turn ("Turn 2" on a
 * line of its own), so that a judge can name the turn it means. */
char *conv_transcript_turns(json_t *msgs);

#endif
