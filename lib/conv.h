/* conv: small questions about a conversation's messages list (the OpenAI
 * chat format) that several programs ask: who spoke last, how many turns
 * the user has taken, the conversation as plain text for a prompt. */
#ifndef SCG_CONV_H
#define SCG_CONV_H

#include <jansson.h>

/* The role of the last message that is not a system message, or NULL. */
const char *conv_last_role(json_t *msgs);
/* The number of user messages. */
long conv_user_turns(json_t *msgs);
/* "User: …" and "Assistant: …" paragraphs, system messages left out.
 * A new string (caller frees). */
char *conv_transcript(json_t *msgs);

#endif
