/* ask: one model call of a record (see ask.h). */
#include "ask.h"
#include "conv.h"
#include "vary.h"
#include "prompt.h"

/* The request's messages: the prompt's, or its system part and the
 * conversation; NULL with the reason in err. */
static json_t *messages(const struct ask *a, json_t *ctx, struct buf *err)
{
	json_t *msgs = json_array();
	int bad;
	if (!a->conversation) {
		bad = prompt_messages(a->prompt, ctx, msgs, err);
	} else {
		struct buf sys = {0};
		bad = prompt_render_system(a->prompt, ctx, &sys, err);
		if (!bad && sys.p)
			json_array_append_new(msgs, conv_msg("system", sys.p));
		json_array_extend(msgs, a->conversation);
		buf_free(&sys);
	}
	if (bad) {
		json_decref(msgs);
		return NULL;
	}
	if (a->follow_up)
		json_array_extend(msgs, a->follow_up);
	return msgs;
}

int ask_model(struct job *j, const struct ask *a)
{
	json_t *ctx = a->ctx ? json_incref(a->ctx) : vary_context(j->rec, j->id);
	struct buf err = {0};
	json_t *msgs = messages(a, ctx, &err);
	json_decref(ctx);
	if (!msgs) {
		job_reject(j, "%s", err.p);
		buf_free(&err);
		return -1;
	}
	struct llm_req r = {.model = a->model, .messages = msgs, .tools = a->tools,
			    .schema = a->schema, .schema_name = a->schema_name};
	vary_params(j->id, &r);
	if (a->cold && !vary_temperature_given())
		r.temperature = 0;
	r.sample = a->sample;
	job_llm(j, &r, a->check, a->check_ctx, a->tag, NULL);
	json_decref(msgs);
	buf_free(&err);
	return 0;
}
