/* ask: the model step of a model-calling program, the same in each:
 * render a prompt against the record's context, reject the record when it
 * does not render, build the request with the parameters drawn for the
 * record (lib/vary.h), and send it through exec with its schema and the
 * program's check (an answer that fails either is asked for again, as
 * many times as exec_ops.reasks says). */
#ifndef SCG_ASK_H
#define SCG_ASK_H

#include "exec.h"

struct ask {
	const struct model *model;
	const char *prompt;      /* the prompt's name (prompts/NAME.txt, --prompt) */
	json_t *ctx;             /* what it renders against (borrowed);
	                          * NULL: the record's context, vary_context */
	json_t *conversation;    /* NULL: the prompt makes the system and user
	                          * messages; else its system part comes first,
	                          * then these messages (borrowed) */
	json_t *follow_up;       /* messages after those (an answer and what was
	                          * wrong with it, to ask again), or NULL (borrowed) */
	json_t *schema;          /* the answer's JSON schema, or NULL: any text */
	json_t *tools;           /* tools the model may call (OpenAI's function
	                          * tools), or NULL; the calls come in call.json */
	const char *schema_name;
	answer_check check;      /* the program's check of an answer, or NULL */
	void *check_ctx;
	int tag;                 /* handed back in struct call */
	int sample;              /* which of several answers to the same request */
	int cold;                /* temperature 0 unless --temperature is given */
};

/* Sends the model call a describes for job j. Returns 0, or -1 when the
 * prompt does not render: the record is then rejected with the reason,
 * and the caller ends the job (it may have other calls out). */
int ask_model(struct job *j, const struct ask *a);

#endif
