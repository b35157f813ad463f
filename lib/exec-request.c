/* exec-request: the life of a request. A call a program starts (a model,
 * an endpoint, a command) is answered from the cache or queued; the queue
 * is sent as the limits and the budget allow; a failure worth another try
 * is retried with backoff; a model's answer that fails its schema or the
 * program's check is asked for again with the reason; what comes out is
 * handed to the job's done(), in the order the calls finished. */
#include "exec-int.h"
#include "budget.h"
#include "cache.h"
#include "conv.h"
#include "cost.h"
#include "endpoint.h"
#include "jparse.h"
#include "jv.h"
#include "rng.h"
#include "schema.h"
#include "secret.h"

#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

static struct rng jitter;
static double avg_completion = 150, completions;

static void submit(struct req *r);

void requests_init(void)
{
	rng_init(&jitter, (uint64_t)getpid() ^ (uint64_t)(now_real() * 1e6), "", prog_name, "jitter");
}

static struct req *req_new(struct job *j, int kind, int tag, void *udata)
{
	struct req *r = xcalloc(1, sizeof *r);
	r->kind = kind;
	r->job = j;
	r->call.tag = tag;
	r->call.udata = udata;
	r->retry_after = -1;
	r->should_retry = -1;
	r->timeout = ex.cfg.timeout;
	r->max_retries = ex.cfg.retries;
	j->pending++;
	return r;
}

/* New requests queue at the back; retries and re-asks go to the front,
 * so records already started finish first. */
static void enqueue(struct req *r, double delay)
{
	r->not_before = now_mono() + delay;
	r->next = NULL;
	if (r->attempt > 0 || r->reasks < ex.ops->reasks) {
		r->next = ex.queue;
		ex.queue = r;
		if (!ex.queue_tail)
			ex.queue_tail = r;
		return;
	}
	if (ex.queue_tail)
		ex.queue_tail->next = r;
	else
		ex.queue = r;
	ex.queue_tail = r;
}

/* Unlinks the request *p points at (p is &ex.queue or &prev->next). */
static struct req *dequeue(struct req **p)
{
	struct req *r = *p;
	*p = r->next;
	if (ex.queue_tail == r)
		ex.queue_tail = p == &ex.queue ? NULL : (struct req *)((char *)p - offsetof(struct req, next));
	r->next = NULL;
	return r;
}

void req_finish(struct req *r)
{
	r->next = NULL;
	if (ex.done_tail)
		ex.done_tail->next = r;
	else
		ex.done_q = r;
	ex.done_tail = r;
}

void req_fail(struct req *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	free(r->error);
	if (vasprintf(&r->error, fmt, ap) < 0)
		die("out of memory");
	va_end(ap);
	secret_redact(r->error, strlen(r->error));
	if (r->stats)
		r->stats->failed++;
	r->call.ok = 0;
	r->call.error = r->error;
	req_finish(r);
}

static void build_llm(struct req *r)
{
	http_req_free(&r->h);
	r->lr.messages = r->messages;
	llm_build(&r->lr, &r->h);
	r->est_prompt = llm_estimate_prompt(r->messages);
	if (r->lr.schema) {
		char *s = jv_compact(r->lr.schema);
		r->est_prompt += (double)strlen(s) / 3.6;
		free(s);
	}
	if (r->lr.tools) {
		char *s = jv_compact(r->lr.tools);
		r->est_prompt += (double)strlen(s) / 3.6;
		free(s);
	}
	r->est_completion = r->lr.max_tokens > 0 ? fmin(r->lr.max_tokens, avg_completion) : avg_completion;
}

static void dry_print(struct req *r)
{
	struct buf err = {0};
	json_t *body = jparse(r->h.body, strlen(r->h.body), &err);
	buf_free(&err);
	json_t *line = json_pack("{s:s, s:s, s:s, s:s, s:o, s:i, s:i}",
		"id", r->job->id, "provider", r->lr.model->provider_name, "model", r->lr.model->name,
		"url", r->h.url, "body", body ? body : json_null(),
		"est_prompt_tokens", (int)lround(r->est_prompt),
		"est_completion_tokens", (int)lround(r->est_completion));
	out_record(line);
	json_decref(line);
}

void job_llm(struct job *j, const struct llm_req *lr, answer_check check, void *check_ctx,
	     int tag, void *udata)
{
	struct req *r = req_new(j, K_LLM, tag, udata);
	r->lr = *lr;
	/* the request's seed is the record's own: equal records still differ */
	struct rng g;
	char sample[32];
	snprintf(sample, sizeof sample, "sample %d", lr->sample);
	rng_init(&g, ex.cfg.seed, j->id, prog_name, sample);
	r->lr.seed = (long)(rng_next(&g) >> 33);
	r->messages = json_incref(lr->messages);   /* copied before a re-ask appends */
	if (lr->schema)
		json_incref(lr->schema);
	json_incref(lr->tools);
	r->check = check;
	r->check_ctx = check_ctx;
	r->reasks = ex.ops->reasks;
	r->stats = cost_stats(lr->model->name);
	r->lim = limiter_for(lr->model->base_url);
	build_llm(r);
	if (ex.cfg.dry_run) {
		r->stats->requests++;
		r->stats->est_prompt += r->est_prompt;
		r->stats->est_completion += r->est_completion;
		r->stats->cost += cost_stats_usd(r->stats, 0, r->est_prompt, r->est_completion);
		r->stats->batch_cost += cost_stats_usd(r->stats, 1, r->est_prompt, r->est_completion);
		dry_print(r);
		r->call.ok = 0;
		r->call.error = "dry run";
		r->job->pending--;
		http_req_free(&r->h);
		json_decref(r->messages);
		json_decref(r->lr.schema);
		json_decref(r->lr.tools);
		free(r);
		j->ended = 1;
		return;
	}
	submit(r);
}

/* The request of an endpoint call; ep may be NULL (any JSON answer will do). */
static void http_call(struct job *j, const struct endpoint *ep, const char *url,
		      struct curl_slist *headers, const char *body, double timeout, int retries,
		      int tag, void *udata)
{
	struct req *r = req_new(j, K_HTTP, tag, udata);
	r->ep = ep;
	r->h.url = xstrdup(url);
	r->h.headers = headers;
	r->h.body = xstrdup(body);
	/* the assistant under test is asked again in a new run: its replies
	 * are kept only under the run's name (none: not kept); two endpoints
	 * that differ in a header only are two assistants */
	if (ex.cfg.run) {
		struct buf lines = {0};
		for (struct curl_slist *l = r->h.headers; l; l = l->next) {
			buf_adds(&lines, l->data);
			buf_addc(&lines, '\n');
		}
		XXH128_hash_t hh = XXH3_128bits(lines.p, lines.len);
		buf_free(&lines);
		r->h.key_text = xasprintf("scg-cache-2\nendpoint\nrun %s\n%s\n%016llx%016llx\n%s", ex.cfg.run, url,
					  (unsigned long long)hh.high64, (unsigned long long)hh.low64, body);
	}
	if (timeout > 0)
		r->timeout = timeout;
	if (retries >= 0)
		r->max_retries = retries;
	r->lim = limiter_for(url);
	r->stats = cost_stats("endpoint");
	if (ex.cfg.dry_run) {
		json_t *line = json_pack("{s:s, s:s, s:s}", "id", j->id, "endpoint", url, "body", body);
		out_record(line);
		json_decref(line);
		r->stats->requests++;
		j->pending--;
		http_req_free(&r->h);
		free(r);
		j->ended = 1;
		return;
	}
	submit(r);
}

void job_endpoint(struct job *j, const struct endpoint *ep, const char *body, int tag, void *udata)
{
	http_call(j, ep, ep->url, endpoint_headers(ep), body, ep->timeout, ep->retries, tag, udata);
}

void job_http(struct job *j, const char *url, struct curl_slist *headers, const char *body,
	      double timeout, int retries, int tag, void *udata)
{
	http_call(j, NULL, url, headers, body, timeout, retries, tag, udata);
}

/* A command; keep: its reply is kept within the run (none: not kept). */
static void cmd_call(struct job *j, const char *cmd, const char *input, int tag, void *udata, int keep)
{
	struct req *r = req_new(j, K_CMD, tag, udata);
	r->cmd = xstrdup(cmd);
	r->input = xstrdup(input);
	if (keep && ex.cfg.run)
		r->h.key_text = xasprintf("scg-cache-2\ncommand\nrun %s\n%s\n%s", ex.cfg.run, cmd, input);
	r->lim = limiter_for("command");
	r->stats = cost_stats("command");
	if (ex.cfg.dry_run) {
		json_t *line = json_pack("{s:s, s:s, s:s}", "id", j->id, "command", cmd, "input", input);
		out_record(line);
		json_decref(line);
		j->pending--;
		http_req_free(&r->h);
		free(r->cmd);
		free(r->input);
		free(r);
		j->ended = 1;
		return;
	}
	submit(r);
}

void job_cmd(struct job *j, const char *cmd, const char *input, int tag, void *udata)
{
	cmd_call(j, cmd, input, tag, udata, 0);
}

void job_assistant_cmd(struct job *j, const char *cmd, const char *input, int tag, void *udata)
{
	cmd_call(j, cmd, input, tag, udata, 1);
}

/* The reply in an endpoint's answer (response_path), or for a call made
 * without an endpoint, the answer itself when it is JSON; else NULL and
 * why. */
static char *http_reply(struct req *r, const char *body, size_t len, struct buf *why)
{
	if (r->ep)
		return endpoint_reply(r->ep, body, len, why);
	struct buf jerr = {0};
	json_t *parsed = jparse(body, len, &jerr);
	if (!parsed)
		buf_addf(why, "the endpoint's answer is not JSON (%s)", jerr.p);
	json_decref(parsed);
	buf_free(&jerr);
	return parsed ? xstrndup(body, len) : NULL;
}

/* A stored answer of the shape this call stores (an endpoint's reply is
 * kept for done()); else it is damaged. */
static int cached_ok(struct req *r, json_t *ans)
{
	if (!json_is_object(ans))
		return 0;
	if (r->kind == K_LLM) {
		json_t *pt = json_object_get(ans, "prompt_tokens"), *ct = json_object_get(ans, "completion_tokens");
		json_t *t = json_object_get(ans, "text");
		json_t *tc = json_object_get(ans, "tool_calls");
		return json_is_string(t) && !memchr(json_string_value(t), 0, json_string_length(t)) &&
		       (!pt || json_is_integer(pt)) && (!ct || json_is_integer(ct)) &&
		       (!tc || json_is_array(tc));
	}
	json_t *b = json_object_get(ans, "body");
	if (!json_is_string(b))
		return 0;
	if (r->kind == K_CMD)
		return 1;   /* stored once it was found to be text */
	struct buf err = {0};
	free(r->reply);
	r->reply = http_reply(r, json_string_value(b), json_string_length(b), &err);
	buf_free(&err);
	return r->reply != NULL;
}

/* Serves a call from the cache, or queues it. */
static void submit(struct req *r)
{
	json_t *ans = r->h.key_text ? cache_get(r->h.key_text) : NULL;
	if (ans && !cached_ok(r, ans)) {
		cache_damaged(r->h.key_text, "an answer of the wrong shape");
		json_decref(ans);
		ans = NULL;
	}
	if (!ans) {
		if (!batch_take(r))
			enqueue(r, 0);
		return;
	}
	if (r->kind == K_LLM) {
		req_take_answer(r, ans, 1);
	} else {
		r->stats->cached++;
		buf_reset(&r->resp);
		json_t *b = json_object_get(ans, "body");
		buf_add(&r->resp, json_string_value(b), json_string_length(b));
		r->call.ok = 1;
		r->call.status = 200;
		r->call.body = r->resp.p;
		r->call.body_len = r->resp.len;
		r->call.text = r->kind == K_CMD ? r->resp.p : r->reply;
		req_finish(r);
	}
	json_decref(ans);
}

void req_store_reply(struct req *r)
{
	if (!r->h.key_text)
		return;
	json_t *c = json_object();
	json_object_set_new_nocheck(c, "body", json_stringn_nocheck(r->resp.p ? r->resp.p : "", r->resp.len));
	cache_put(r->h.key_text, c);
	json_decref(c);
}

/* USD for a request's tokens at its price: online, or in a batch. */
static double req_cost(const struct req *r, double pt, double ct)
{
	return cost_stats_usd(r->stats, r->batched != 0, pt, ct);
}

/* Every attempt passes here, retries too: a retry still holds what was
 * reserved for its first attempt, a new request reserves its estimate (a
 * request for a batch when it joins one), settled when the answer comes
 * (lib/budget.c: the run's budget in a run, else this process's). */
int budget_allows(struct req *r)
{
	double est = r->reserved ? 0 : req_cost(r, r->est_prompt, r->est_completion);
	if (!budget_reserve(est))
		return 0;
	if (!r->reserved)
		r->reserved = est;
	return 1;
}

void req_fail_over_budget(struct req *r)
{
	req_fail(r, "over budget: %s--budget %g would be passed", ex.cfg.ledger ? "the run's " : "", ex.cfg.budget);
}

/* Starts what the limits allow; returns the seconds until the next may. */
double requests_pump(void)
{
	double now = now_mono(), wait = 1e9;
	struct req **p = &ex.queue;
	while (*p && ex.inflight < ex.cfg.jobs) {
		struct req *r = *p;
		double w = r->not_before > now ? r->not_before - now : 0;
		if (w == 0)
			w = limiter_wait(r->lim, r, now);
		if (w == 0 && ex.inflight >= ex.cfg.jobs)
			w = 1e9;
		if (w == 0 && r->kind == K_LLM && !budget_allows(r)) {
			dequeue(p);
			req_fail_over_budget(r);
			continue;
		}
		if (w > 0) {
			if (w < wait)
				wait = w;
			p = &r->next;
			continue;
		}
		dequeue(p);
		limiter_take(r->lim, r);
		ex.inflight++;
		if (r->kind == K_CMD)
			cmd_start(r);
		else
			http_start(r);
	}
	return wait;
}

void req_retry_or_fail(struct req *r, const char *why)
{
	if (r->attempt >= r->max_retries) {
		req_fail(r, "gave up after %d retries: %s", r->attempt, why);
		return;
	}
	double delay;
	if (r->retry_after > 0 && r->retry_after <= 120) {
		delay = r->retry_after;
	} else {
		delay = fmin(0.5 * pow(2, r->attempt), 8.0) * (1 - 0.25 * rng_double(&jitter));
	}
	r->attempt++;
	if (r->stats)
		r->stats->retries++;
	enqueue(r, delay);
}

static void reask(struct req *r, const char *why)
{
	json_t *own = json_copy(r->messages);   /* the caller's list stays as it was */
	json_decref(r->messages);
	r->messages = own;
	conv_reask(r->messages, r->answer_text ? r->answer_text : "", why, r->lr.schema != NULL);
	r->reasks--;
	r->stats->reasks++;
	r->attempt = 0;
	build_llm(r);
	submit(r);
}

void req_online(struct req *r)
{
	if (r->reserved) {
		budget_release(r->reserved);   /* reserved again at the online price */
		r->reserved = 0;
	}
	r->batched = 0;
	r->online = 1;
	enqueue(r, 0);
}

/* An answer from the wire, a batch or the cache: count it, check it,
 * deliver it. One bought from a batch API is priced so, in the record too. */
void req_take_answer(struct req *r, json_t *ans, int cached)
{
	const char *text = jv_str(ans, "text");
	int batch = json_is_true(json_object_get(ans, "batch"));
	long pt = (long)json_integer_value(json_object_get(ans, "prompt_tokens"));
	long ct = (long)json_integer_value(json_object_get(ans, "completion_tokens"));
	/* a server's negative count would make the spend negative */
	pt = pt < 0 ? 0 : pt;
	ct = ct < 0 ? 0 : ct;
	struct model_stats *s = r->stats;
	if (cached)
		s->cached++;
	s->prompt_tokens += (double)pt;
	s->completion_tokens += (double)ct;
	double usd = cost_stats_usd(s, batch != 0, (double)pt, (double)ct);
	if (!cached) {
		/* settle the reserved estimate against the real cost */
		budget_settle(r->reserved, usd);
		r->reserved = 0;
		s->cost += usd;
	}
	if (ct > 0) {
		completions++;
		avg_completion += ((double)ct - avg_completion) / fmin(completions, 50);
	}
	if (pt > 0 && r->est_prompt > 0 && !r->lr.schema) {
		/* recalibrate characters per token from the real usage */
		double k = llm_chars_per_token * r->est_prompt / (double)pt;
		if (k > 1 && k < 10)
			llm_chars_per_token += (k - llm_chars_per_token) * 0.1;
	}
	jobs_usage_add(r->job, r->lr.model->name, pt, ct, usd);
	free(r->answer_text);
	r->answer_text = xstrdup(text ? text : "");
	json_decref(r->answer_json);
	r->answer_json = NULL;

	struct buf why = {0};
	if (r->lr.schema) {
		json_error_t je;
		r->answer_json = json_loads(r->answer_text, 0, &je);
		if (!r->answer_json)
			buf_addf(&why, "not valid JSON (%s)", je.text);
		else
			schema_check(r->lr.schema, r->answer_json, &why);
	} else if (json_object_get(ans, "tool_calls")) {
		r->answer_json = json_incref(json_object_get(ans, "tool_calls"));
	}
	if (!why.len && r->check)
		r->check(r->job, r->answer_text, r->answer_json, &why, r->check_ctx);
	if (why.len) {
		if (r->reasks > 0)
			reask(r, why.p);
		else
			req_fail(r, "unusable answer after %d tries: %s", ex.ops->reasks + 1, why.p);
		buf_free(&why);
		return;
	}
	buf_free(&why);
	r->call.ok = 1;
	r->call.text = r->answer_text;
	r->call.json = r->answer_json;
	req_finish(r);
}

json_t *req_llm_body(struct req *r, const char *body, size_t len, int batch, struct buf *why)
{
	struct llm_answer a;
	if (llm_parse(r->lr.model, r->lr.schema != NULL, body, len, &a, why))
		return NULL;
	json_t *ans = json_object();
	json_object_set_new_nocheck(ans, "text", json_string(a.text));
	json_object_set_new_nocheck(ans, "prompt_tokens", json_integer(a.prompt_tokens));
	json_object_set_new_nocheck(ans, "completion_tokens", json_integer(a.completion_tokens));
	json_object_set_new_nocheck(ans, "finish", json_string(a.finish));
	if (a.tool_calls)
		json_object_set_nocheck(ans, "tool_calls", a.tool_calls);
	if (batch)
		json_object_set_new_nocheck(ans, "batch", json_true());
	llm_answer_free(&a);
	cache_put(r->h.key_text, ans);
	req_take_answer(r, ans, 0);
	return ans;
}

void req_http_done(struct req *r, CURLcode cc)
{
	r->lim->inflight--;
	ex.inflight--;
	if (r->stats)
		r->stats->requests++;
	double now = now_mono();
	if (r->too_big || cc == CURLE_FILESIZE_EXCEEDED) {
		/* the server would send as much again: not retried */
		req_fail(r, "the answer passed --max-answer-bytes (%ld bytes, counted after decompression)",
		     ex.cfg.max_answer);
		return;
	}
	if (cc != CURLE_OK) {
		char why[160];
		if (cc == CURLE_OPERATION_TIMEDOUT)
			snprintf(why, sizeof why, "no answer within %gs", r->timeout);
		else
			snprintf(why, sizeof why, "%s", curl_easy_strerror(cc));
		req_retry_or_fail(r, why);
		return;
	}
	long st = r->status;
	if (st >= 200 && st < 300) {
		limiter_ok(r->lim);
		if (r->kind == K_HTTP) {
			/* an endpoint answers JSON with the reply at response_path;
			 * anything else (a garbage body, a 200 carrying an error) is
			 * retried and never cached */
			struct buf err = {0};
			free(r->reply);
			r->reply = http_reply(r, r->resp.p ? r->resp.p : "", r->resp.len, &err);
			if (!r->reply) {
				req_retry_or_fail(r, err.p);
				buf_free(&err);
				return;
			}
			buf_free(&err);
			req_store_reply(r);
			r->call.ok = 1;
			r->call.status = st;
			r->call.body = r->resp.p ? r->resp.p : "";
			r->call.body_len = r->resp.len;
			r->call.text = r->reply;
			req_finish(r);
			return;
		}
		struct buf why = {0};
		json_t *ans = req_llm_body(r, r->resp.p ? r->resp.p : "", r->resp.len, 0, &why);
		if (!ans)
			req_retry_or_fail(r, why.p);
		buf_free(&why);
		json_decref(ans);
		return;
	}
	struct buf msg = {0};
	llm_error_text(r->resp.p ? r->resp.p : "", r->resp.len, &msg);
	char *why = xasprintf("HTTP %ld: %s", st, msg.p ? msg.p : "");
	buf_free(&msg);
	int retry;
	if (r->retry_after > 120)
		retry = 0;      /* a long wait asked for: give up now, as the SDKs do */
	else if (r->should_retry >= 0)
		retry = r->should_retry;
	else if (st == 429)
		retry = !llm_permanent_429(r->resp.p ? r->resp.p : "", r->resp.len);
	else
		retry = st == 408 || st == 409 || st >= 500;
	if (st == 429 && retry) {
		double wait = r->retry_after > 0 ? r->retry_after
			    : fmin(0.5 * pow(2, r->attempt), 8.0);
		limiter_throttled(r->lim, wait, now);
	}
	if (retry)
		req_retry_or_fail(r, why);
	else
		req_fail(r, "%s", why);
	free(why);
}

static void free_req(struct req *r)
{
	http_req_free(&r->h);
	buf_free(&r->resp);
	json_decref(r->messages);
	json_decref(r->lr.schema);
	json_decref(r->lr.tools);
	json_decref(r->answer_json);
	free(r->answer_text);
	free(r->reply);
	free(r->error);
	free(r->cmd);
	free(r->input);
	free(r);
}

void requests_run_done(void)
{
	while (ex.done_q) {
		struct req *r = ex.done_q;
		ex.done_q = r->next;
		if (!ex.done_q)
			ex.done_tail = NULL;
		struct job *j = r->job;
		j->pending--;
		if (!j->ended)
			ex.ops->done(j, &r->call);
		free_req(r);
		jobs_settle(j);
	}
}
