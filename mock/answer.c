/* answer: what a request gets when no fault replaces it: the generated
 * answer (prose, a JSON-mode object, or a value valid against the schema
 * asked for), a canned one that --answers matches on the body, or the echo
 * of the request; and the token counts the usage reports. */
#include "mock.h"
#include "gen.h"

#include <stdlib.h>
#include <string.h>

/* --answers FILE: canned structured answers, matched on the request body */
static json_t *canned;

void answer_canned_load(const char *path)
{
	struct buf err = {0};
	json_decref(canned);
	if (!(canned = mock_canned_load(path, &err)))
		die("%s", err.p);
}

void answer_canned_free(void)
{
	json_decref(canned);
	canned = NULL;
}

/* A structured request that a canned entry matches asks, in effect, for
 * the entry's answer: *out is ask with the entry's schema. */
static int canned_ask(const struct req *q, const struct ask *ask, struct ask *out)
{
	const json_t *schema;
	if (!canned || !(ask->schema || ask->json_mode) ||
	    !(schema = mock_canned_find(canned, q->body.p ? q->body.p : "", q->body.len)))
		return 0;
	*out = *ask;
	out->schema = schema;
	out->json_mode = 0;
	return 1;
}

static long content_tokens(const json_t *content)
{
	if (json_is_string(content))
		return mock_tokens(json_string_value(content));
	long t = 0;
	size_t i;
	json_t *part;
	json_array_foreach(content, i, part) {
		const char *s = json_string_value(json_object_get(part, "text"));
		if (s)
			t += mock_tokens(s);
		t += content_tokens(json_object_get(part, "content"));
	}
	return t;
}

static long prompt_tokens(const json_t *messages, const json_t *system)
{
	long t = system ? content_tokens(system) + 4 : 0;
	size_t i;
	json_t *m;
	json_array_foreach(messages, i, m)
		t += content_tokens(json_object_get(m, "content")) + 4;
	return t;
}

/* Makes the answer; -1 after a 400 when the schema asks for more than one
 * answer may hold (MOCK_GEN_MAX). */
int answer_make(struct reply *rp, enum api api, struct answer *a, const struct req *q,
		const struct ask *ask, const json_t *messages, const json_t *system)
{
	memset(a, 0, sizeof *a);
	a->prompt_tokens = prompt_tokens(messages, system);
	struct ask asked;
	if (canned_ask(q, ask, &asked))
		ask = &asked;
	if (ask->schema) {
		/* the schema is part of the prompt, as with the real services */
		char *s = reply_dump(ask->schema);
		a->prompt_tokens += mock_tokens(s);
		free(s);
	}
	a->cut = q->out.kind == K_INVALID;
	if (q->echo) {
		/* a server that repeats what it was sent, credentials included */
		a->text = xstrdup(q->echo);
		a->completion_tokens = q->out.has_usage ? q->out.usage : mock_tokens(a->text);
		return 0;
	}
	int structured = ask->schema || ask->json_mode;
	json_t *v = ask->schema ? mock_value(ask->schema, q->key)
		  : ask->json_mode ? mock_object(q->key) : NULL;
	if (ask->schema && !v) {
		char *msg = xasprintf("The response_format schema asks for a value larger than "
				      "scg-mock makes for one answer (%ld bytes).", (long)MOCK_GEN_MAX);
		reply_invalid(rp, api, "response_format", NULL, msg);
		free(msg);
		return -1;
	}
	if (v && ask->tool && !a->cut) {
		a->tool_input = v;
		char *s = reply_dump(v);
		a->completion_tokens = q->out.has_usage ? q->out.usage : mock_tokens(s);
		free(s);
		return 0;
	}
	a->text = v ? reply_dump(v) : mock_prose(q->key);
	json_decref(v);
	if (a->cut)
		a->text[structured ? strlen(a->text) / 2 : 0] = 0;
	a->completion_tokens = q->out.has_usage ? q->out.usage : mock_tokens(a->text);
	return 0;
}

void answer_free(struct answer *a)
{
	free(a->text);
	json_decref(a->tool_input);
}

int answer_model_known(const char *model)
{
	if (!conf.nmodels)
		return 1;
	for (int i = 0; i < conf.nmodels; i++)
		if (!strcmp(conf.models[i], model))
			return 1;
	return 0;
}

