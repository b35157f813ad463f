/* script: a whole conversation written in one model answer,
 * {"turns":[{"speaker":…,"text":…}]}, made into chat messages. A speaker
 * who is one of the assistant's names (case-insensitively) speaks as the
 * assistant, everyone else as the user; stage directions in *asterisks*,
 * (parentheses) or [brackets] are removed; consecutive turns of one role are
 * merged; the new messages start with whoever speaks next after the
 * conversation so far and end with the assistant. The functions are pure:
 * the result depends on the arguments only (test/script-map drives them). */
#ifndef SCG_SCRIPT_H
#define SCG_SCRIPT_H

#include <jansson.h>

#include "util.h"

/* text without its stage directions, white space tidied. Caller frees. */
char *script_clean(const char *text);

/* Is speaker one of names (an array of strings)? Case is ignored (ASCII and
 * Latin-1 letters), and so are surrounding white space, quotes, asterisks,
 * a trailing colon and stage directions ("Lincoln (smiling):"). */
int script_is(json_t *names, const char *speaker);

/* The messages the answer adds to msgs (the conversation so far, not
 * changed); assistant_names as for script_is; at most max_user user
 * messages in the whole conversation, msgs included. Turns before the first
 * one of the role that speaks next are dropped, and so is a user message at
 * the end. Returns a new array of {role, content}, or NULL with the reason
 * in why when no answer of the assistant is left. */
json_t *script_map(json_t *answer, json_t *assistant_names, json_t *msgs, int max_user,
		   struct buf *why);

/* Who speaks in a script, from a prompt context (the record plus the drawn
 * template, lib/vary.h). The assistant: character.name and its aliases, else
 * assistant.name, else template.participants.assistant, else "Assistant".
 * The user: persona.name, unless it is only the label of persona.axes
 * (axes_is_label: "grievance/sarcastic"), else scene.participant, else
 * template.participants.user, else "User" (or "Visitor" when the assistant
 * bears that name). */
struct script_cast {
	json_t *assistant;      /* the name first, then the aliases */
	char *user;
};
void script_cast(json_t *ctx, struct script_cast *c);
void script_cast_free(struct script_cast *c);
/* msgs (system messages left out) as "Name: text" lines. */
void script_transcript(json_t *msgs, const struct script_cast *c, struct buf *out);

/* Adds the turn-script prompt's variables to ctx under "script":
 * assistant, aliases, user, exchanges (the most in all: N or what msgs
 * has), next (who speaks next), profile (persona.axes as "- axis: value"
 * lines), scene (the scene's fields but kind, as lines), transcript,
 * source (source.text, unless it is the first message itself) and guard
 * (the guard template rendered against ctx when scene.kind is
 * "adversarial"). Returns 0, or -1 with the reason in err. */
int script_prompt_vars(json_t *ctx, const struct script_cast *c, json_t *msgs, int exchanges,
		       const char *guard, struct buf *err);
/* {"turns":[{"speaker","text"}]}, the speakers limited to the cast's names. */
json_t *script_schema(const struct script_cast *c, int min_turns, int max_turns);

/* The most user messages a conversation of msgs may hold: exchanges, or
 * what it has. */
int script_max_user(json_t *msgs, int exchanges);
/* The messages a turn-script answer adds to msgs (script_map with the cast
 * of ctx, the prompt context), or NULL with why, which names the speakers. */
json_t *script_answer(json_t *answer, json_t *ctx, json_t *msgs, int exchanges, struct buf *why);
/* The record's conversation is over: done, stop {reason, by, turn}, and
 * kind "protective" for an adversarial scene, else "dialogue". */
void script_end(json_t *rec, const char *reason, const char *by);

#endif
