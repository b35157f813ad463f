/* agent: the assistant's turn when the assistant is a model that may call
 * tools (scg-turn --side assistant --tools). The model is asked with the
 * conversation and the tools; each call it makes is checked against the
 * tools (lib/tools.h) and run, one after another, by a command
 * (--tool-cmd) or by a model playing the tool (--tool-sim), its result
 * appended as a tool message; a malformed call is answered with an error
 * result instead. Then the model is asked again, until it answers in
 * text, or a limit ends the conversation: more rounds of calls than
 * max_rounds (stop.reason tool_limit), more malformed calls in the turn
 * than max_errors (tool_errors). With a tool state (--tool-state) each
 * command gets the conversation's state and may change it; the record
 * keeps it as tool_state. */
#ifndef SCG_AGENT_H
#define SCG_AGENT_H

#include "exec.h"
#include "opt.h"

/* The tool options of a program whose assistant may call tools
 * (opt_prog.more = agent_options): --tools, --tool-cmd, --tool-sim,
 * --tool-model, --tool-state, --max-tool-rounds, --max-tool-errors. */
struct agent_opts {
	const char *tools, *cmd, *state, *model;
	int sim, max_rounds, max_errors;
};
extern struct agent_opts agent_opts;
extern const struct opt agent_options[];
/* After opt_parse: the tool options checked together (usage errors) and,
 * with --tools, loaded and the agent configured for the assistant model
 * (--tool-sim's model set up). Returns 1 when --tools was given. */
int agent_setup(const struct model *model, int dry_run);

struct agent_config {
	const struct model *model;   /* the assistant */
	json_t *tools;               /* OpenAI function tools (tools_load) */
	const char *tool_cmd;        /* runs each call, or NULL */
	const struct model *sim;     /* plays each tool (prompt tool-sim), or NULL */
	json_t *state;               /* the state a conversation without
	                              * tool_state starts with, or NULL */
	int max_rounds;              /* rounds of calls in one turn */
	int max_errors;              /* malformed calls in one turn */
	int dry_run;                 /* only the first request is shown */
};
void agent_configure(const struct agent_config *c);

/* The tags of the turn's calls are AGENT_TAG and above; the program's
 * done() hands those calls to agent_done. */
enum { AGENT_TAG = 1000 };

/* Starts the assistant's turn for job j (system prompt turn-assistant).
 * Returns 0, or -1 when the record was rejected: the caller ends the job. */
int agent_start(struct job *j);

enum agent_step {
	AGENT_WAIT,       /* a call is out */
	AGENT_ANSWERED,   /* the model answered in text: c->text */
	AGENT_STOPPED,    /* a limit ended the conversation */
	AGENT_FAILED,     /* the record was rejected; the caller ends the job */
};
/* One of the turn's calls finished. */
enum agent_step agent_done(struct job *j, struct call *c);

/* Writes the turn into rec (the job's record, or its copy): the messages
 * it added (calls and results; not the final answer, which is the
 * caller's), tools, tool_state, the counts in meta.tool_calls (calls,
 * malformed, rounds) and, when a limit stopped it, done and stop (with
 * stop.outcome when the record's task has checks). Ends the turn. */
void agent_finish(struct job *j, json_t *rec);
/* Ends the turn without writing it (the record is rejected). */
void agent_drop(struct job *j);

#endif
