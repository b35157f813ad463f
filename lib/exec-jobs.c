/* exec-jobs: the job list. Every record read (or given to exec_add) is a
 * job; a job's records are written when it is over: in input order (what
 * must wait for an earlier job waits in the reorder buffer,
 * exec-reorder.c, and the job itself is freed), or with --unordered as
 * each ends. */
#include "exec-int.h"
#include "cost.h"
#include "jv.h"
#include "secret.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct exec ex = {.cfg = {.jobs = 8, .retries = 6, .timeout = 120, .max_answer = 4L << 20,
			  .reorder_mb = 64}};

/* A job's usage of one model: its calls, tokens and cost (USD, from the
 * price table, summed to 1e-10 at each addition so that the record's
 * bytes do not depend on the order of the roundings). model is the
 * model's name, which lives as long as the program. */
struct job_usage {
	const char *model;
	long requests, prompt_tokens, completion_tokens;
	double cost;
	struct job_usage *next;
};

static long seq_next;
/* records given to exec_add, not started yet, oldest first */
static json_t *added;
/* jobs that are over, not written yet, in the order they ended */
static struct job *over_head, *over_tail;

void exec_configure(const struct exec_config *c)
{
	ex.cfg = *c;
}

static void write_job(struct job *j)
{
	size_t i;
	json_t *r;
	json_array_foreach(j->out, i, r) {
		out_record(r);
		ex.records_out++;
	}
}

static void free_job(struct job *j)
{
	if (j->prev)
		j->prev->next = j->next;
	else
		ex.jobs_head = j->next;
	if (j->next)
		j->next->prev = j->prev;
	else
		ex.jobs_tail = j->prev;
	json_decref(j->rec);
	json_decref(j->out);
	while (j->usage) {
		struct job_usage *u = j->usage;
		j->usage = u->next;
		free(u);
	}
	free(j);
	ex.njobs--;
}

void jobs_flush(void)
{
	while (over_head) {
		struct job *j = over_head;
		over_head = j->over_next;
		if (!over_head)
			over_tail = NULL;
		if (ex.cfg.unordered || j->seq == reorder_next()) {
			write_job(j);
			if (!ex.cfg.unordered)
				reorder_written(j->seq);
		} else {
			struct buf b = {0};
			size_t i;
			json_t *r;
			json_array_foreach(j->out, i, r)
				out_record_to(&b, r);
			reorder_hold(j->seq, &b, (long)json_array_size(j->out));
		}
		free_job(j);
	}
}

/* Interrupted: write what has been answered (in input order, skipping the
 * records still waiting), then the summary. Answers are already cached. */
long jobs_write_answered(void)
{
	jobs_flush();
	return ex.cfg.unordered ? ex.njobs : reorder_write_all(seq_next);
}

int jobs_room(long cap)
{
	/* --batch holds every record until its batches are in: no reorder bound */
	return ex.njobs < cap && (ex.cfg.unordered || ex.cfg.batch || reorder_room(seq_next));
}

static double cost_sum(double a, double b)
{
	return round((a + b) * 1e10) / 1e10;
}

/* Adds n to the count o[k]: an integer stays one; a count that came as
 * a real stays a real; one of another type is left alone. */
static void usage_count(json_t *o, const char *k, long n)
{
	json_t *have = json_object_get(o, k);
	if (!have)
		json_object_set_new(o, k, json_integer(n));
	else if (json_is_integer(have))
		json_integer_set(have, json_integer_value(have) + n);
	else if (json_is_real(have))
		json_object_set_new(o, k, json_real(cost_sum(json_real_value(have), (double)n)));
}

static void usage_fill(json_t *o, const struct job_usage *u)
{
	usage_count(o, "requests", u->requests);
	usage_count(o, "prompt_tokens", u->prompt_tokens);
	usage_count(o, "completion_tokens", u->completion_tokens);
	json_t *have = json_object_get(o, "cost");
	if (!have)
		json_object_set_new(o, "cost", json_real(u->cost));
	else if (json_is_number(have))
		json_object_set_new(o, "cost", json_real(cost_sum(json_number_value(have), u->cost)));
}

/* The object o[k], made when absent; NULL when o[k] is something else. */
static json_t *usage_object(json_t *o, const char *k)
{
	json_t *have = json_object_get(o, k);
	if (!have) {
		have = json_object();
		json_object_set_new(o, k, have);
	}
	return json_is_object(have) ? have : NULL;
}

/* The counts of u as a new object. */
static json_t *usage_new(const struct job_usage *u)
{
	json_t *o = json_object();
	json_object_set_new_nocheck(o, "requests", json_integer(u->requests));
	json_object_set_new_nocheck(o, "prompt_tokens", json_integer(u->prompt_tokens));
	json_object_set_new_nocheck(o, "completion_tokens", json_integer(u->completion_tokens));
	json_object_set_new_nocheck(o, "cost", json_real(u->cost));
	return o;
}

/* Adds the job's usage into a record's meta.usage: per model, and the
 * same under stages.PROGRAM, so that a record that passes several
 * programs tells which one spent what. */
static void usage_merge(json_t *usage, const struct job_usage *u)
{
	for (; u; u = u->next) {
		json_t *m = json_object_get(usage, u->model);
		if (!m) {
			/* the first stage to use the model: no sums to make */
			m = usage_new(u);
			json_t *stages = json_object();
			json_object_set_new(stages, prog_name, usage_new(u));
			json_object_set_new_nocheck(m, "stages", stages);
			json_object_set_new(usage, u->model, m);
			continue;
		}
		if (!json_is_object(m))
			continue;
		usage_fill(m, u);
		json_t *stages = usage_object(m, "stages");
		json_t *st = stages ? usage_object(stages, prog_name) : NULL;
		if (st)
			usage_fill(st, u);
	}
}

void job_emit(struct job *j, json_t *rec)
{
	if (!j->emitted && j->usage) {
		json_t *meta = json_object_get(rec, "meta");
		if (!json_is_object(meta)) {
			meta = json_object();
			json_object_set_new(rec, "meta", meta);
		}
		json_t *usage = json_object_get(meta, "usage");
		if (!json_is_object(usage)) {
			usage = json_object();
			json_object_set_new(meta, "usage", usage);
		}
		usage_merge(usage, j->usage);
	}
	j->emitted++;
	json_array_append_new(j->out, rec);
}

void job_reject(struct job *j, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *why;
	if (vasprintf(&why, fmt, ap) < 0)
		die("out of memory");
	va_end(ap);
	secret_redact(why, strlen(why));
	record_reject(j->rec, why);
	free(why);
	j->rejected = 1;
	json_array_clear(j->out);
}

void job_end(struct job *j)
{
	j->ended = 1;
	if (j->held) {   /* perhaps ended from another job's done(): it is over now */
		j->held = 0;
		jobs_settle(j);
	}
}

void job_hold(struct job *j)
{
	j->held = 1;
}

int job_failed(struct job *j, const struct call *c)
{
	if (c->ok)
		return 0;
	job_reject(j, "%s", c->error);
	job_end(j);
	return 1;
}

void jobs_settle(struct job *j)
{
	if (!j->pending && !j->ended && !j->held) {
		warnx_("internal: record %s was left unfinished", j->id);
		job_reject(j, "internal: left unfinished");
		j->ended = 1;
	}
	if (j->ended && !j->pending && !j->over) {
		j->over = 1;
		if (over_tail)
			over_tail->over_next = j;
		else
			over_head = j;
		over_tail = j;
	}
}

/* Counts one model call in the job's usage (cost from the price table; at
 * the batch price for an answer bought from a batch API). */
void jobs_usage_add(struct job *j, const char *model, long pt, long ct, double usd)
{
	struct job_usage **p = &j->usage;
	while (*p && strcmp((*p)->model, model))
		p = &(*p)->next;
	double cost = round(usd * 1e10) / 1e10;
	if (!*p) {
		*p = xcalloc(1, sizeof **p);
		(*p)->model = model;
		(*p)->cost = cost;
	} else {
		(*p)->cost = cost_sum((*p)->cost, cost);
	}
	(*p)->requests++;
	(*p)->prompt_tokens += pt;
	(*p)->completion_tokens += ct;
}

/* A string with a NUL (\u0000) in it would be cut there wherever the
 * programs read it as text: such a record is refused, not cut. Returns 1
 * with the path of the first such string in where. */
static int holds_nul(json_t *v, struct buf *where)
{
	size_t at = where->len;
	if (json_is_string(v))
		return memchr(json_string_value(v), 0, json_string_length(v)) != NULL;
	if (json_is_array(v)) {
		size_t i;
		json_t *e;
		json_array_foreach(v, i, e) {
			buf_addf(where, "[%zu]", i);
			if (holds_nul(e, where))
				return 1;
			where->len = at;
			where->p[at] = 0;
		}
	} else if (json_is_object(v)) {
		const char *k;
		size_t klen;
		json_t *e;
		json_object_keylen_foreach(v, k, klen, e) {
			if (memchr(k, 0, klen))
				return 1;
			buf_addf(where, "%s%s", at ? "." : "", k);
			if (holds_nul(e, where))
				return 1;
			where->len = at;
			where->p[at] = 0;
		}
	}
	return 0;
}


void jobs_start(json_t *rec)
{
	ex.records_in++;
	struct job *j = xcalloc(1, sizeof *j);
	j->rec = rec;
	j->seq = seq_next++;
	const char *id = jv_str(rec, "id");
	j->id = id ? id : "";
	j->out = json_array();
	j->prev = ex.jobs_tail;
	if (ex.jobs_tail)
		ex.jobs_tail->next = j;
	else
		ex.jobs_head = j;
	ex.jobs_tail = j;
	ex.njobs++;
	ex.ops->start(j);
	jobs_settle(j);
}

/* A NUL comes only from a \u0000 escape: the walk is for such lines. */
static int escapes_nul(const char *line, size_t len)
{
	const char *p = line, *end = line + len;
	while ((p = memchr(p, '\\', (size_t)(end - p)))) {
		if (end - p >= 6 && !memcmp(p + 1, "u0000", 5))
			return 1;
		p += p + 1 < end && p[1] == '\\' ? 2 : 1;
		if (p >= end)
			break;
	}
	return 0;
}

void jobs_add_line(struct input *in, char *line, size_t len, int *stop)
{
	struct buf err = {0};
	json_t *rec = record_parse(line, len, &err);
	struct buf where = {0};
	if (rec && escapes_nul(line, len) && holds_nul(rec, &where)) {
		buf_addf(&err, "a string holds a NUL character (\\u0000) at %s", where.len ? where.p : "a key");
		json_decref(rec);
		rec = NULL;
	}
	buf_free(&where);
	if (!rec) {
		if (record_bad(in, line, len, err.p))
			*stop = 1;
		buf_free(&err);
		return;
	}
	buf_free(&err);
	jobs_start(rec);
}

void exec_add(json_t *rec)
{
	if (!added)
		added = json_array();
	json_array_append_new(added, rec);
}

void jobs_start_added(long cap)
{
	while (json_array_size(added) && jobs_room(cap)) {
		json_t *rec = json_incref(json_array_get(added, 0));
		json_array_remove(added, 0);
		jobs_start(rec);
	}
}

long jobs_added_waiting(void)
{
	return (long)json_array_size(added);
}
