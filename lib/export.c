/* export: one training example, many trainers' field names. */
#include "export.h"
#include "conv.h"
#include "hfcard.h"
#include "jv.h"
#include "record.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const format_names[] = {
	[EXPORT_OPENAI] = "openai", [EXPORT_OPENAI_DPO] = "openai-dpo", [EXPORT_TRL] = "trl",
	[EXPORT_SHAREGPT] = "sharegpt", [EXPORT_HF] = "hf",
};

int export_format_parse(const char *name, enum export_format *f)
{
	for (size_t i = 0; i < sizeof format_names / sizeof *format_names; i++)
		if (!strcmp(name, format_names[i])) {
			*f = (enum export_format)i;
			return 0;
		}
	return -1;
}

int export_takes(enum export_format f, enum export_kind k)
{
	if (f == EXPORT_OPENAI)
		return k == EXPORT_SFT;
	if (f == EXPORT_OPENAI_DPO)
		return k == EXPORT_PAIR;
	return k != EXPORT_NONE;
}

int export_allows_keep(enum export_format f)
{
	return f != EXPORT_OPENAI && f != EXPORT_OPENAI_DPO;
}

const char *const *export_keys(enum export_format f)
{
	static const char *const trl[] = {"messages", "tools", "prompt", "completion", "chosen",
					  "rejected", NULL};
	static const char *const sharegpt[] = {"conversations", "tools", "chosen", "rejected", NULL};
	static const char *const openai[] = {"messages", "tools", "input", "preferred_output",
					     "non_preferred_output", NULL};
	return f == EXPORT_SHAREGPT ? sharegpt : f == EXPORT_TRL || f == EXPORT_HF ? trl : openai;
}

/* Sets the first message's text when it is a system message, else puts
 * one first. */
static void set_system(json_t *msgs, const char *system)
{
	json_t *first = json_array_get(msgs, 0);
	const char *role = jv_str(first, "role");
	if (role && !strcmp(role, "system"))
		json_object_set_new(first, "content", json_string(system));
	else
		json_array_insert_new(msgs, 0, conv_msg("system", system));
}

enum export_kind export_example(json_t *rec, const char *system, struct example *ex)
{
	memset(ex, 0, sizeof *ex);
	json_t *prompt = json_object_get(rec, "prompt"), *chosen = json_object_get(rec, "chosen"),
	       *rejected = json_object_get(rec, "rejected"), *tools = json_object_get(rec, "tools");
	json_t *msgs = json_object_get(rec, "messages");
	if (prompt && chosen && rejected) {
		ex->kind = EXPORT_PAIR;
		ex->prompt = json_deep_copy(prompt);
		ex->chosen = json_deep_copy(chosen);
		ex->rejected = json_deep_copy(rejected);
		msgs = ex->prompt;
	} else if (msgs) {
		ex->kind = EXPORT_SFT;
		msgs = ex->messages = json_deep_copy(msgs);
	} else {
		return EXPORT_NONE;
	}
	if (tools)
		ex->tools = json_deep_copy(tools);
	if (system && json_is_array(msgs))
		set_system(msgs, system);
	return ex->kind;
}

void example_free(struct example *ex)
{
	json_decref(ex->messages);
	json_decref(ex->tools);
	json_decref(ex->prompt);
	json_decref(ex->chosen);
	json_decref(ex->rejected);
	memset(ex, 0, sizeof *ex);
}

static int is_assistant(json_t *m)
{
	const char *r = jv_str(m, "role");
	return r && !strcmp(r, "assistant");
}

/* OpenAI's weights: every assistant message 1, or only the last. */
static json_t *weighted(json_t *msgs, enum train_on t)
{
	json_t *out = json_deep_copy(msgs);
	size_t last = 0, i;
	json_t *m;
	json_array_foreach(out, i, m)
		if (is_assistant(m))
			last = i;
	if (t != TRAIN_AS_IS)
		json_array_foreach(out, i, m)
			if (is_assistant(m))
				json_object_set_new(m, "weight", json_integer(t == TRAIN_ALL || i == last));
	return out;
}

/* The messages without OpenAI's weights, which TRL and ShareGPT do not read. */
static json_t *unweighted(json_t *msgs)
{
	json_t *out = json_deep_copy(msgs);
	size_t i;
	json_t *m;
	json_array_foreach(out, i, m)
		json_object_del(m, "weight");
	return out;
}

static json_t *openai_line(enum train_on t, const struct example *ex)
{
	json_t *line = json_object();
	if (ex->kind == EXPORT_SFT) {
		json_object_set_new(line, "messages", weighted(ex->messages, t));
		if (ex->tools)
			json_object_set(line, "tools", ex->tools);
		return line;
	}
	json_t *input = json_pack("{s:o}", "messages", unweighted(ex->prompt));
	if (ex->tools)
		json_object_set(input, "tools", ex->tools);
	json_object_set_new(line, "input", input);
	json_object_set_new(line, "preferred_output", unweighted(ex->chosen));
	json_object_set_new(line, "non_preferred_output", unweighted(ex->rejected));
	return line;
}

static json_t *trl_line(enum train_on t, const struct example *ex)
{
	json_t *line = json_object();
	if (ex->kind == EXPORT_PAIR) {
		json_object_set_new(line, "prompt", unweighted(ex->prompt));
		json_object_set_new(line, "chosen", unweighted(ex->chosen));
		json_object_set_new(line, "rejected", unweighted(ex->rejected));
	} else if (t == TRAIN_LAST) {
		/* prompt-completion: the loss falls on the completion only */
		json_t *msgs = unweighted(ex->messages);
		size_t n = json_array_size(msgs);
		json_t *completion = json_pack("[O]", json_array_get(msgs, n - 1));
		json_array_remove(msgs, n - 1);
		json_object_set_new(line, "prompt", msgs);
		json_object_set_new(line, "completion", completion);
	} else {
		json_object_set_new(line, "messages", unweighted(ex->messages));
	}
	if (ex->tools)
		json_object_set(line, "tools", ex->tools);
	return line;
}

/* ShareGPT's speakers. */
static const char *from_of(const char *role)
{
	return !strcmp(role, "user") ? "human" : !strcmp(role, "assistant") ? "gpt"
		: !strcmp(role, "tool") ? "observation" : "system";
}

/* A tool call as LLaMA-Factory's function_call value holds it: name and
 * arguments (parsed when they are JSON). */
static json_t *call_value(json_t *call)
{
	json_t *f = json_object_get(call, "function");
	const char *args = jv_str(f, "arguments");
	json_t *a = args ? json_loads(args, JSON_DECODE_ANY, NULL) : NULL;
	if (!a)
		a = json_string(args ? args : "");
	return json_pack("{s:O, s:o}", "name", json_object_get(f, "name"), "arguments", a);
}

static json_t *sharegpt_turns(json_t *msgs, struct buf *why)
{
	json_t *out = json_array();
	size_t i;
	json_t *m;
	json_array_foreach(msgs, i, m) {
		json_t *calls = json_object_get(m, "tool_calls");
		const char *text = jv_str(m, "content");
		if (calls) {
			if (text && *text) {
				buf_addf(why, "message %zu has both text and tool calls, which ShareGPT "
					 "writes as two turns of one speaker", i + 1);
				json_decref(out);
				return NULL;
			}
			json_t *v = json_array();
			size_t k;
			json_t *c;
			json_array_foreach(calls, k, c)
				json_array_append_new(v, call_value(c));
			if (json_array_size(v) == 1) {
				json_t *one = json_incref(json_array_get(v, 0));
				json_decref(v);
				v = one;
			}
			char *s = jv_compact(v);
			json_decref(v);
			json_array_append_new(out, json_pack("{s:s, s:s}", "from", "function_call", "value", s));
			free(s);
			continue;
		}
		json_array_append_new(out, json_pack("{s:s, s:s}", "from", from_of(jv_str(m, "role")),
						     "value", text ? text : ""));
	}
	return out;
}

static json_t *sharegpt_line(const struct example *ex, struct buf *why)
{
	json_t *turns = sharegpt_turns(ex->kind == EXPORT_SFT ? ex->messages : ex->prompt, why);
	if (!turns)
		return NULL;
	json_t *line = json_pack("{s:o}", "conversations", turns);
	if (ex->kind == EXPORT_PAIR) {
		json_t *c = sharegpt_turns(ex->chosen, why), *r = sharegpt_turns(ex->rejected, why);
		json_object_set(line, "chosen", json_array_get(c, 0));
		json_object_set(line, "rejected", json_array_get(r, 0));
		json_decref(c);
		json_decref(r);
	}
	if (ex->tools) {
		/* LLaMA-Factory reads the tools as a JSON string */
		char *s = jv_compact(ex->tools);
		json_object_set_new(line, "tools", json_string(s));
		free(s);
	}
	return line;
}

json_t *export_line(enum export_format f, enum train_on t, const struct example *ex,
		    struct buf *why)
{
	switch (f) {
	case EXPORT_OPENAI:
	case EXPORT_OPENAI_DPO:
		return openai_line(t, ex);
	case EXPORT_SHAREGPT:
		return sharegpt_line(ex, why);
	default:
		return trl_line(t, ex);
	}
}

void export_keep(json_t *line, json_t *rec, char *const *paths, int n)
{
	for (int i = 0; i < n; i++) {
		json_t *v = jv_path(rec, paths[i]);
		json_t *at = line;
		char *p = xstrdup(paths[i]), *save = NULL;
		char *key = strtok_r(p, ".", &save), *next;
		while ((next = strtok_r(NULL, ".", &save))) {
			json_t *sub = json_object_get(at, key);
			if (!json_is_object(sub)) {
				sub = json_object();
				json_object_set_new(at, key, sub);
			}
			at = sub;
			key = next;
		}
		json_object_set_new(at, key, v ? json_deep_copy(v) : json_null());
		free(p);
	}
}

json_t *export_group(json_t *rec, const char *path)
{
	if (path)
		return jv_path(rec, path);
	static const char *const dflt[] = {"persona.name", "source", "id"};
	for (size_t i = 0; i < sizeof dflt / sizeof *dflt; i++) {
		json_t *v = jv_path(rec, dflt[i]);
		if (v && !json_is_null(v))
			return v;
	}
	return NULL;
}

double export_split_point(json_t *group, uint64_t seed)
{
	uint64_t h;
	if (json_is_string(group)) {
		h = hash64(json_string_value(group), json_string_length(group), seed);
	} else {
		char *s = jv_compact(group);
		h = hash64(s, strlen(s), seed);
		free(s);
	}
	return (double)(h >> 11) * 0x1.0p-53;
}

enum vproblem export_check(const struct example *ex, long max_tokens, struct buf *why)
{
	enum vproblem p = ex->kind == EXPORT_SFT ? validate_messages(ex->messages, VEND_ASSISTANT, why)
		: validate_pair(ex->prompt, ex->chosen, ex->rejected, why);
	if (!p && ex->tools)
		p = validate_tools(ex->tools, why);
	if (p || !max_tokens)
		return p;
	double t = ex->kind == EXPORT_SFT ? validate_tokens(ex->messages, ex->tools)
		: validate_tokens(ex->prompt, ex->tools) +
		  fmax(validate_tokens(ex->chosen, NULL), validate_tokens(ex->rejected, NULL));
	if (t > (double)max_tokens) {
		buf_addf(why, "about %.0f tokens, over --max-tokens %ld", t, max_tokens);
		return V_TOO_LONG;
	}
	return V_OK;
}

const char *export_about(enum export_kind k, enum train_on t)
{
	if (k == EXPORT_PAIR)
		return "TRL's conversational preference format: `prompt` (the messages before "
		       "the answer), `chosen` and `rejected` (one assistant message each).";
	if (t == TRAIN_LAST)
		return "TRL's conversational prompt-completion format: `prompt` (the messages "
		       "before the last answer) and `completion` (the assistant's last message).";
	return "TRL's conversational format: `messages`, the whole conversation as "
	       "`{role, content}` messages (system first where there is one, then user and "
	       "assistant by turns).";
}

/* ---- where the lines go ---- */

struct export_out {
	enum export_format format;
	const char *dir;
	FILE *files[HF_NSPLITS];
};

static char *out_path(const struct export_out *o, int split)
{
	if (o->format == EXPORT_HF)
		return xasprintf("%s/%s", o->dir, hfcard_split_file(split));
	return xasprintf("%s/%s.jsonl", o->dir, hfcard_split_name(split));
}

static void make_dir(const char *path)
{
	if (mkdir(path, 0777) && errno != EEXIST)
		die_status(2, "%s: %s", path, strerror(errno));
}

struct export_out *export_out_open(enum export_format f, const char *dir)
{
	struct export_out *o = xcalloc(1, sizeof *o);
	o->format = f;
	o->dir = dir;
	if (!dir)
		return o;
	make_dir(dir);
	if (f == EXPORT_HF) {
		char *data = xasprintf("%s/data", dir);
		make_dir(data);
		free(data);
	}
	char *v = out_path(o, HF_VALIDATION);
	if (unlink(v) && errno != ENOENT)
		die_status(2, "%s: %s", v, strerror(errno));
	free(v);
	return o;
}

static FILE *split_file(struct export_out *o, int split)
{
	if (!o->files[split]) {
		char *p = out_path(o, split);
		if (!(o->files[split] = fopen(p, "w")))
			die_status(2, "%s: %s", p, strerror(errno));
		free(p);
	}
	return o->files[split];
}

void export_out_line(struct export_out *o, int split, json_t *line)
{
	char *s = jv_compact(line);
	if (!o->dir) {
		out_line(s, strlen(s));
	} else {
		FILE *f = split_file(o, split);
		if (fputs(s, f) == EOF || putc('\n', f) == EOF)
			die("%s: %s", o->dir, strerror(errno));
	}
	free(s);
}

void export_out_close(struct export_out *o)
{
	for (int i = 0; i < HF_NSPLITS; i++) {
		if (o->dir && !i)
			split_file(o, i);   /* train.jsonl is written even when empty */
		if (o->files[i] && fclose(o->files[i]))
			die("%s: %s", o->dir, strerror(errno));
		o->files[i] = NULL;
	}
	out_flush();
	free(o);
}
