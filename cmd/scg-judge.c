/* scg-judge: decides, for each conversation whose last message is the
 * assistant's, whether it ends here: a judge model weighs the user's need,
 * frustration, dead ends and closing signals; --max-turns ends it at a
 * limit without a call, and --min-turns withholds the choice before a turn.
 * With --evaluate it judges instead each conversation that is over: was
 * the user's goal met, where, what went wrong, and the --criteria scores
 * (lib/rubric), written to the record's eval. */
#include "ask.h"
#include "conv.h"
#include "vary.h"
#include "exec.h"
#include "jv.h"
#include "opt.h"
#include "prompt.h"
#include "rubric.h"
#include "run.h"
#include "tools.h"

#include <stdint.h>
#include <string.h>

static long max_turns, min_turns;
static struct model model;
static json_t *schema, *outcome_schema;
static int evaluate;
static const char **criteria_args;
static int ncriteria_args;
static struct rubric *rubric;
static char *criteria_text, *failures_text;

static void criteria_opt(const char *name, const char *arg)
{
	(void)name;
	criteria_args = xrealloc(criteria_args, sizeof *criteria_args * (size_t)(ncriteria_args + 1));
	criteria_args[ncriteria_args++] = arg;
}

static const struct opt options[] = {
	OPT_LONG(0, "max-turns", &max_turns, "T", 1, 100000,
		 "end a conversation that has T user turns (reason max_turns), without asking "
		 "the judge"),
	OPT_LONG(0, "min-turns", &min_turns, "M", 0, 100000,
		 "do not ask the judge before the user's M-th turn"),
	OPT_FLAG(0, "evaluate", &evaluate,
		 "judge each conversation that is over (done): outcome (met, partly, not met), "
		 "evidence, failures and the criteria's scores, written to eval; others pass "
		 "unchanged"),
	OPT_CALL(0, "criteria", "FILE", criteria_opt,
		 "score these criteria too (YAML or JSON: name, description, scale [LO, HI] or "
		 "pass/fail, weight); builtin: all of role_adherence, knowledge_retention, "
		 "completeness and relevance; builtin:NAME,... some; may be repeated"),
	OPT_END,
};

/* Ends the conversation. Its outcome, when its task says what should be
 * true: the task's checks held against the final tool state, else the
 * judge's word (verdict, may be NULL). */
static void set_stop(json_t *rec, const char *reason, const char *by, long turn, const char *rationale,
		     json_t *verdict)
{
	json_t *stop = json_pack("{s:s, s:s, s:I, s:s}", "reason", reason, "by", by, "turn", (json_int_t)turn,
				 "rationale", rationale);
	json_t *failed;
	const char *outcome = tools_outcome(rec, &failed);
	if (!outcome)
		outcome = jv_str(verdict, "outcome");
	if (outcome)
		json_object_set_new(stop, "outcome", json_string(outcome));
	if (failed)
		json_object_set_new(stop, "failed", failed);
	json_object_set_new(rec, "done", json_true());
	json_object_set_new(rec, "stop", stop);
}

/* The judge is asked for the outcome when the task says what should be
 * true and no checks of a tool state can tell. */
static int asks_outcome(json_t *rec)
{
	json_t *failed;
	const char *by_state = tools_outcome(rec, &failed);
	json_decref(failed);
	return json_is_string(jv_path(rec, "task.outcome")) && !by_state;
}

/* is_complete and reason must agree; asked again once, then is_complete rules. */
static int check(struct job *j, const char *text, json_t *answer, struct buf *why, void *ctx)
{
	(void)text;
	(void)ctx;
	int complete = json_is_true(json_object_get(answer, "is_complete"));
	int cont = !strcmp(jv_str(answer, "reason"), "continue");
	if (complete != cont || j->data)
		return 0;
	j->data = (void *)(intptr_t)1;
	buf_adds(why, complete ? "is_complete is true but the reason is continue"
			       : "is_complete is false but the reason is not continue");
	return -1;
}

/* One structured call of prompt name against ctx, at temperature 0 unless
 * --temperature says otherwise (a judge is deterministic; reasoning models
 * get none). */
static void ask(struct job *j, const char *name, json_t *ctx, json_t *sch, const char *sname,
		answer_check chk)
{
	if (ask_model(j, &(struct ask){.model = &model, .prompt = name, .ctx = ctx, .schema = sch,
				       .schema_name = sname, .check = chk, .cold = 1}))
		job_end(j);
}

static void start(struct job *j)
{
	json_t *msgs = json_object_get(j->rec, "messages");
	const char *last = conv_last_role(msgs);
	if (json_is_true(json_object_get(j->rec, "done")) || !last || strcmp(last, "assistant")) {
		job_emit(j, json_incref(j->rec));
		job_end(j);
		return;
	}
	long turn = conv_user_turns(msgs);
	if (max_turns && turn >= max_turns) {
		char *why = xasprintf("reached the limit of %ld user turns", max_turns);
		set_stop(j->rec, "max_turns", "limit", turn, why, NULL);
		free(why);
	}
	if ((max_turns && turn >= max_turns) || turn < min_turns) {
		if (turn < min_turns)
			json_object_set_new(j->rec, "done", json_false());
		job_emit(j, json_incref(j->rec));
		job_end(j);
		return;
	}
	json_t *ctx = vary_context(j->rec, j->id);
	char *t = conv_transcript(msgs);
	json_object_set_new(ctx, "transcript", json_string(t));
	free(t);
	ask(j, "judge", ctx, asks_outcome(j->rec) ? outcome_schema : schema, "verdict", check);
	json_decref(ctx);
}

/* --evaluate: a conversation that is over gets its eval; others pass */
static void evaluate_start(struct job *j)
{
	json_t *msgs = json_object_get(j->rec, "messages");
	if (!json_is_true(json_object_get(j->rec, "done"))) {
		job_emit(j, json_incref(j->rec));
		job_end(j);
		return;
	}
	if (!conv_last_role(msgs)) {
		job_reject(j, "the conversation has no messages to evaluate");
		job_end(j);
		return;
	}
	int turns = conv_user_turns(msgs);
	json_t *ctx = vary_context(j->rec, j->id);
	char *t = conv_transcript_turns(msgs);
	json_object_set_new(ctx, "transcript", json_string(t));
	free(t);
	json_object_set_new(ctx, "turns", json_integer(turns));
	json_object_set_new(ctx, "criteria", json_string(criteria_text));
	json_object_set_new(ctx, "failures", json_string(failures_text));
	json_t *s = rubric_schema(rubric, turns);
	ask(j, "evaluate", ctx, s, "evaluation", NULL);
	json_decref(s);
	json_decref(ctx);
}

static void done(struct job *j, struct call *c)
{
	if (job_failed(j, c))
		return;
	json_t *rec = json_incref(j->rec);
	vary_meta(rec, j->id);
	if (evaluate) {
		json_object_set_new(rec, "eval", rubric_eval(rubric, c->json));
		job_emit(j, rec);
		job_end(j);
		return;
	}
	const char *reason = jv_str(c->json, "reason");
	if (json_is_true(json_object_get(c->json, "is_complete")))
		set_stop(rec, strcmp(reason, "continue") ? reason : "unspecified", "judge",
			 conv_user_turns(json_object_get(rec, "messages")), jv_str(c->json, "rationale"), c->json);
	else
		json_object_set_new(rec, "done", json_false());
	job_emit(j, rec);
	job_end(j);
}

int main(int argc, char **argv)
{
	static const struct opt_prog prog = {
		.name = "scg-judge",
		.synopsis = "[--max-turns T] [--min-turns M] [options] [file ...]\n"
			    "       scg-judge --evaluate [--criteria FILE|builtin[:NAME,...]]... [options] [file ...]",
		.summary = "Decide for each conversation whether it ends after the assistant's last message, "
			   "or (--evaluate) whether a conversation that is over met the user's goal.",
		.common = OPT_BASIC | OPT_MODEL,
		.opts = options,
	};
	int i = opt_parse(&prog, argc, argv);
	run_configure_model();
	if (max_turns && min_turns > max_turns)
		usage_error("--min-turns %ld is above --max-turns %ld", min_turns, max_turns);
	if (evaluate && (max_turns || min_turns))
		usage_error("--evaluate judges conversations that are over; --max-turns and --min-turns "
			    "belong to the judge that ends them");
	if (ncriteria_args && !evaluate)
		usage_error("--criteria needs --evaluate");
	rubric = rubric_new();
	for (int k = 0; k < ncriteria_args; k++) {
		struct buf err = {0};
		if (rubric_add(rubric, criteria_args[k], &err))
			die("%s", err.p);
		buf_free(&err);
	}
	criteria_text = rubric_criteria_text(rubric);
	failures_text = rubric_failures_text();
	prompt_init();
	vary_init();
	model_init(&model);
	schema = json_pack("{s:s, s:{s:{s:s}, s:{s:s, s:[sssss]}, s:{s:s}}, s:[sss], s:b}", "type", "object",
			   "properties", "is_complete", "type", "boolean", "reason", "type", "string", "enum",
			   "goal_achieved", "frustrated", "dead_end", "closed", "continue", "rationale", "type",
			   "string", "required", "is_complete", "reason", "rationale", "additionalProperties", 0);
	outcome_schema = json_deep_copy(schema);
	json_object_set_new(json_object_get(outcome_schema, "properties"), "outcome",
			    json_pack("{s:s, s:[ss]}", "type", "string", "enum", "met", "not_met"));
	json_array_append_new(json_object_get(outcome_schema, "required"), json_string("outcome"));
	static const struct exec_ops ops = {.start = start, .done = done, .reasks = 2},
		eval_ops = {.start = evaluate_start, .done = done, .reasks = 2};
	int rc = run_records(evaluate ? &eval_ops : &ops, argc - i, argv + i);
	json_decref(schema);
	json_decref(outcome_schema);
	rubric_free(rubric);
	free(criteria_text);
	free(failures_text);
	free(criteria_args);
	return rc;
}
