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
/* Appends to msgs a model's answer and the message that asks again: why
 * it could not be used (structured: only the JSON object the schema
 * describes). */
void conv_reask(json_t *msgs, const char *answer, const char *why, int structured);
/* A new string: s without the white space (isspace) around it. */
char *conv_trim(const char *s);
/* text past a speaker's label the model put in front of what it wrote:
 * after leading white space, "NAME:" where NAME is one of names (an array;
 * strings tried in order, case ignored), and the white space after it.
 * Without such a label (or with names NULL), text past its leading white
 * space. */
const char *conv_skip_label(const char *text, json_t *names);
/* 1 with *role and *content when m is a message of the conversation
 * proper (a role and a text, not the system prompt, nor a tool call or a
 * tool's result), else 0. */
int conv_spoken(json_t *m, const char **role, const char **content);
/* A new array of the spoken messages of msgs (the same objects). */
json_t *conv_spoken_messages(json_t *msgs);
/* The spoken messages as new {role, content} objects with user and
 * assistant swapped: the conversation as a model playing the user sees it. */
json_t *conv_flipped(json_t *msgs);
/* The tool call ({id, type, function}) among the assistant messages of
 * msgs whose id is id, or NULL. */
json_t *conv_tool_call(json_t *msgs, const char *id);
/* The name of the tool that call made, or NULL. */
const char *conv_tool_name(json_t *call);
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
/* "User: …" and "Assistant: …" paragraphs, system messages left out;
 * the assistant's tool calls as "Assistant calls NAME with ARGS" and their
 * results as "Result of NAME: …". A new string (caller frees). */
char *conv_transcript(json_t *msgs);
/* The same with each user message opening a numbered turn ("Turn 2" on a
 * line of its own), so that a judge can name the turn it means. */
char *conv_transcript_turns(json_t *msgs);

#endif
