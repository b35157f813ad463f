/* agent: rounds of tool calls in the assistant's turn (see agent.h). */
#include "agent.h"
#include "ask.h"
#include "conf.h"
#include "conv.h"
#include "jv.h"
#include "tools.h"
#include "vary.h"

#include <stdio.h>
#include <string.h>

enum { TAG_MODEL = AGENT_TAG, TAG_CMD, TAG_SIM };

static struct agent_config cfg;

void agent_configure(const struct agent_config *c)
{
	cfg = *c;
}

struct agent_opts agent_opts = {.max_rounds = 8, .max_errors = 3};

const struct opt agent_options[] = {
	OPT_STRING(0, "tools", &agent_opts.tools, "FILE",
		   "the assistant model may call these tools (YAML or JSON, OpenAI's function "
		   "format); each call is run by --tool-cmd or --tool-sim"),
	OPT_STRING(0, "tool-cmd", &agent_opts.cmd, "CMD",
		   "run each tool call as a command: {\"name\", \"arguments\", \"id\", \"record\"} "
		   "on stdin (and \"state\" with --tool-state), the result on stdout"),
	OPT_FLAG(0, "tool-sim", &agent_opts.sim,
		 "a model plays each tool from its definition and the conversation "
		 "(prompt tool-sim)"),
	OPT_STRING(0, "tool-model", &agent_opts.model, "M",
		   "with --tool-sim, the model that plays the tools (default: --model)"),
	OPT_STRING(0, "tool-state", &agent_opts.state, "FILE",
		   "the state (JSON or YAML) a conversation's tools start from; --tool-cmd gets "
		   "it and prints {\"result\", \"state\"}; kept in the record as tool_state"),
	OPT_INT(0, "max-tool-rounds", &agent_opts.max_rounds, "N", 1, 1000,
		"rounds of tool calls in one assistant turn before the conversation stops "
		"(reason tool_limit; default 8)"),
	OPT_INT(0, "max-tool-errors", &agent_opts.max_errors, "N", 0, 1000,
		"malformed tool calls answered with an error in one turn before the "
		"conversation stops (reason tool_errors; default 3)"),
	OPT_END,
};

int agent_setup(const struct model *model, int dry_run)
{
	const struct agent_opts *o = &agent_opts;
	if (o->tools && !o->cmd == !o->sim)
		usage_error("--tools needs one of --tool-cmd CMD and --tool-sim to run the calls");
	if (!o->tools && (o->cmd || o->sim || o->state || o->model))
		usage_error("%s needs --tools FILE", o->cmd ? "--tool-cmd" : o->sim ? "--tool-sim"
			    : o->state ? "--tool-state" : "--tool-model");
	if (o->model && !o->sim)
		usage_error("--tool-model names the model of --tool-sim");
	if (!o->tools)
		return 0;
	json_t *tools = tools_load(o->tools);
	json_t *state = o->state ? conf_load_or_die(o->state) : NULL;
	static struct model sim;
	if (o->sim)
		model_init_named(&sim, o->model);
	agent_configure(&(struct agent_config){.model = model, .tools = tools,
		.tool_cmd = o->cmd, .sim = o->sim ? &sim : NULL, .state = state,
		.max_rounds = o->max_rounds, .max_errors = o->max_errors, .dry_run = dry_run});
	return 1;
}

/* A turn in progress: the job's data. */
struct turn {
	json_t *convo;          /* the conversation as the model sees it */
	json_t *added;          /* the messages the turn added */
	json_t *state;          /* the tool state, or NULL */
	json_t *calls;          /* the calls of the model's last answer */
	size_t next;            /* the next of them to run */
	int rounds, errors, ran;
	const char *stop;       /* tool_limit, tool_errors */
	char *stop_why;
};

static struct turn *turn_of(struct job *j)
{
	return j->data;
}

static void turn_free(struct job *j)
{
	struct turn *t = turn_of(j);
	if (!t)
		return;
	json_decref(t->convo);
	json_decref(t->added);
	json_decref(t->state);
	json_decref(t->calls);
	free(t->stop_why);
	free(t);
	j->data = NULL;
}

void agent_drop(struct job *j)
{
	turn_free(j);
}

static void add_message(struct turn *t, json_t *m)
{
	json_array_append(t->convo, m);
	json_array_append_new(t->added, m);
}

static int ask(struct job *j)
{
	struct turn *t = turn_of(j);
	return ask_model(j, &(struct ask){.model = cfg.model, .prompt = "turn-assistant",
					  .conversation = t ? t->convo : NULL, .tools = cfg.tools,
					  .tag = TAG_MODEL});
}

int agent_start(struct job *j)
{
	json_t *msgs = json_object_get(j->rec, "messages"), *m;
	struct turn *t = xcalloc(1, sizeof *t);
	t->convo = json_array();
	t->added = json_array();
	size_t i;
	json_array_foreach(msgs, i, m) {
		const char *role = jv_str(m, "role");
		if (role && strcmp(role, "system"))
			json_array_append(t->convo, m);
	}
	json_t *state = json_object_get(j->rec, "tool_state");
	if (!state)
		state = cfg.state;
	t->state = state ? json_deep_copy(state) : NULL;
	j->data = t;
	int rc = ask(j);
	if (rc || cfg.dry_run)
		turn_free(j);   /* rejected, or (a dry run) nothing comes back */
	return rc;
}

/* Whether id is the id of a call of calls other than the k-th. */
static int id_other(json_t *calls, size_t k, const char *id)
{
	for (size_t e = 0; e < json_array_size(calls); e++) {
		const char *x = jv_str(json_array_get(calls, e), "id");
		if (e != k && x && !strcmp(x, id))
			return 1;
	}
	return 0;
}

/* Gives each call an id unique in the conversation (some providers give
 * none, a broken one the same twice): call_N. */
static void name_calls(struct turn *t, json_t *calls)
{
	size_t k;
	json_t *c;
	int n = 0;
	json_array_foreach(calls, k, c) {
		const char *id = jv_str(c, "id");
		int dup = 0;
		for (size_t e = 0; e < k && id; e++)
			dup |= !strcmp(jv_str(json_array_get(calls, e), "id"), id);
		if (id && *id && !dup && !conv_tool_call(t->convo, id))
			continue;
		char fresh[32];
		do
			snprintf(fresh, sizeof fresh, "call_%d", ++n);
		while (conv_tool_call(t->convo, fresh) || id_other(calls, k, fresh));
		json_object_set_new(c, "id", json_string(fresh));
	}
}

static void add_result(struct turn *t, json_t *call, const char *content)
{
	add_message(t, json_pack("{s:s, s:s, s:s}", "role", "tool", "tool_call_id", jv_str(call, "id"),
				 "content", *content ? content : "(no output)"));
}

/* The input of --tool-cmd: the call, the record and the state. */
static char *cmd_input(struct job *j, struct turn *t, json_t *call, json_t *args)
{
	json_t *in = json_pack("{s:s, s:O, s:s, s:O}", "name", conv_tool_name(call), "arguments", args,
			       "id", jv_str(call, "id"), "record", j->rec);
	if (t->state)
		json_object_set(in, "state", t->state);
	char *s = jv_compact(in);
	json_decref(in);
	return s;
}

/* --tool-sim: the model that plays the tool is asked for its output. */
static int simulate(struct job *j, struct turn *t, json_t *call, json_t *args)
{
	json_t *ctx = vary_context(j->rec, j->id);
	json_t *def = tools_find(cfg.tools, conv_tool_name(call));
	json_object_set(ctx, "tool", def);
	char *a = jv_compact(args);
	json_object_set_new(ctx, "arguments", json_string(a));
	free(a);
	char *tr = conv_transcript(t->convo);
	json_object_set_new(ctx, "transcript", json_string(tr));
	free(tr);
	if (t->state)
		json_object_set(ctx, "state", t->state);
	int rc = ask_model(j, &(struct ask){.model = cfg.sim, .prompt = "tool-sim", .ctx = ctx,
					    .tag = TAG_SIM, .cold = 1});
	json_decref(ctx);
	return rc;
}

static enum agent_step stop(struct turn *t, const char *reason, char *why)
{
	t->stop = reason;
	t->stop_why = why;
	return AGENT_STOPPED;
}

/* Runs the calls not run yet: a malformed one gets its error at once,
 * the first good one is started; when none is left, the model is asked
 * again. */
static enum agent_step run_calls(struct job *j)
{
	struct turn *t = turn_of(j);
	struct buf why = {0};
	while (t->next < json_array_size(t->calls)) {
		json_t *call = json_array_get(t->calls, t->next), *args;
		if (tools_check_call(cfg.tools, call, &args, &why)) {
			t->errors++;
			char *err = tools_error(why.p);
			add_result(t, call, err);
			free(err);
			t->next++;
			continue;
		}
		buf_free(&why);
		int rc = 0;
		if (cfg.tool_cmd) {
			char *in = cmd_input(j, t, call, args);
			job_cmd(j, cfg.tool_cmd, in, TAG_CMD, NULL);
			free(in);
		} else {
			rc = simulate(j, t, call, args);
		}
		json_decref(args);
		if (rc) {
			turn_free(j);
			return AGENT_FAILED;
		}
		return AGENT_WAIT;
	}
	buf_free(&why);
	if (t->errors > cfg.max_errors)
		return stop(t, "tool_errors", xasprintf("the assistant made %d malformed tool calls in one turn, "
							 "more than --max-tool-errors %d", t->errors, cfg.max_errors));
	if (ask(j)) {
		turn_free(j);
		return AGENT_FAILED;
	}
	return AGENT_WAIT;
}

/* The model's answer: its calls start a round, or its text ends the turn. */
static enum agent_step answered(struct job *j, struct call *c)
{
	struct turn *t = turn_of(j);
	json_t *calls = c->json;
	if (!json_array_size(calls))
		return AGENT_ANSWERED;
	if (t->rounds >= cfg.max_rounds)
		return stop(t, "tool_limit", xasprintf("the assistant still called tools after %d rounds "
							"(--max-tool-rounds)", cfg.max_rounds));
	t->rounds++;
	json_decref(t->calls);
	t->calls = json_deep_copy(calls);
	name_calls(t, t->calls);
	char *text = conv_trim(c->text ? c->text : "");
	json_t *m = json_pack("{s:s, s:o, s:O}", "role", "assistant", "content",
			      *text ? json_string(text) : json_null(), "tool_calls", t->calls);
	free(text);
	add_message(t, m);
	t->next = 0;
	return run_calls(j);
}

/* A tool's output as the result the model gets: with a state, the
 * command prints {"result": ..., "state": ...}; NULL with why when not. */
static char *tool_result(struct turn *t, struct call *c, struct buf *why)
{
	if (c->tag == TAG_SIM || !t->state)
		return conv_trim(c->text);
	json_error_t je;
	json_t *out = json_loads(c->text, JSON_REJECT_DUPLICATES, &je);
	json_t *res = json_object_get(out, "result"), *st = json_object_get(out, "state");
	if (!json_is_object(out) || !res) {
		buf_addf(why, "--tool-cmd: with --tool-state the command prints {\"result\": ..., "
			 "\"state\": ...}; it printed %s", json_is_object(out) ? "an object without result"
			 : out ? "JSON that is not an object" : "no JSON");
		json_decref(out);
		return NULL;
	}
	if (st) {
		json_decref(t->state);
		t->state = json_incref(st);
	}
	char *s = json_is_string(res) ? conv_trim(json_string_value(res)) : jv_compact(res);
	json_decref(out);
	return s;
}

enum agent_step agent_done(struct job *j, struct call *c)
{
	struct turn *t = turn_of(j);
	if (!c->ok) {
		job_reject(j, "%s%s", c->tag == TAG_CMD ? "--tool-cmd: " : c->tag == TAG_SIM ? "--tool-sim: " : "",
			   c->error);
		turn_free(j);
		return AGENT_FAILED;
	}
	if (c->tag == TAG_MODEL)
		return answered(j, c);
	struct buf why = {0};
	char *result = tool_result(t, c, &why);
	if (!result) {
		job_reject(j, "%s", why.p);
		buf_free(&why);
		turn_free(j);
		return AGENT_FAILED;
	}
	add_result(t, json_array_get(t->calls, t->next), result);
	free(result);
	t->ran++;
	t->next++;
	return run_calls(j);
}

void agent_finish(struct job *j, json_t *rec)
{
	struct turn *t = turn_of(j);
	json_t *msgs = json_object_get(rec, "messages");
	json_array_extend(msgs, t->added);
	json_object_set(rec, "tools", cfg.tools);
	if (t->state)
		json_object_set(rec, "tool_state", t->state);
	json_t *meta = json_object_get(rec, "meta");
	if (!json_is_object(meta)) {
		meta = json_object();
		json_object_set_new(rec, "meta", meta);
	}
	json_t *counts = json_object_get(meta, "tool_calls");
	if (!json_is_object(counts)) {
		counts = json_object();
		json_object_set_new(meta, "tool_calls", counts);
	}
	jv_count(counts, "calls", t->ran);
	jv_count(counts, "malformed", t->errors);
	jv_count(counts, "rounds", t->rounds);
	if (t->stop) {
		json_t *failed;
		const char *outcome = tools_outcome(rec, &failed);
		json_object_set_new(rec, "done", json_true());
		json_t *s = json_pack("{s:s, s:s, s:i, s:s}", "reason", t->stop, "by", "limit", "turn",
				      conv_user_turns(msgs), "rationale", t->stop_why);
		if (outcome)
			json_object_set_new(s, "outcome", json_string(outcome));
		if (failed)
			json_object_set_new(s, "failed", failed);
		json_object_set_new(rec, "stop", s);
	}
	turn_free(j);
}
