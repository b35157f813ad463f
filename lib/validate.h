/* validate: the checks a fine-tuning service makes on a training example,
 * made before the example is written (scg-export). An example is a
 * conversation (messages, and tools when it has them) or a preference pair
 * (prompt, chosen, rejected). Each problem has a short name, which the
 * summary counts and a reject's reason starts with. */
#ifndef SCG_VALIDATE_H
#define SCG_VALIDATE_H

#include <jansson.h>

#include "util.h"

enum vproblem {
	V_OK,
	V_BAD_LINE,          /* not JSON, not an object, not UTF-8 */
	V_NO_MESSAGES,
	V_BAD_MESSAGE,
	V_BAD_ROLE,
	V_UNKNOWN_KEY,
	V_SYSTEM_NOT_FIRST,
	V_EMPTY_CONTENT,
	V_NOT_ALTERNATING,
	V_BAD_TOOL_CALL,
	V_BAD_TOOLS,
	V_BAD_WEIGHT,
	V_NO_ASSISTANT,
	V_LAST_NOT_ASSISTANT,
	V_PROMPT_NOT_USER,
	V_BAD_ANSWER,
	V_SAME_ANSWERS,
	V_WRONG_KIND,
	V_NOT_IN_FORMAT,
	V_NO_GROUP,
	V_TOO_LONG,
	V_DUPLICATE,
	V_NPROBLEMS
};

/* "empty_content", and what it means in a few words. */
const char *validate_name(enum vproblem p);
const char *validate_about(enum vproblem p);

/* What a messages list must end with: an assistant message (a
 * conversation to train on) or a user message (a preference prompt). */
enum vend { VEND_ASSISTANT, VEND_USER };

/* Roles (system, user, assistant, tool), keys (role, content, name,
 * weight, tool_calls, tool_call_id), the system message only first,
 * content that says something (an assistant message with tool_calls may
 * have none), user and assistant taking turns with tool answers after the
 * calls they answer, the end. V_OK, or a problem with why set. */
enum vproblem validate_messages(json_t *msgs, enum vend end, struct buf *why);
/* OpenAI's tools list: [{"type":"function","function":{"name",...}}]. */
enum vproblem validate_tools(json_t *tools, struct buf *why);
/* A prompt that ends with the user, and chosen and rejected each one
 * assistant message with text, the two not the same. */
enum vproblem validate_pair(json_t *prompt, json_t *chosen, json_t *rejected, struct buf *why);

/* Estimated tokens of messages (and tools, may be NULL): characters ÷ k
 * as for requests (DESIGN §4), tool calls included, 4 a message. */
double validate_tokens(json_t *msgs, json_t *tools);

/* Exact duplicates: the first example of each text is remembered with its
 * name; a later one gets that name back. */
struct vdups;
struct vdups *vdups_new(void);
void vdups_free(struct vdups *d);
/* NULL when text is new (then it is remembered under name), else the name
 * of the earlier example with the same text. */
const char *vdups_check(struct vdups *d, const char *text, size_t len, const char *name);

#endif
