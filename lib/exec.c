/* exec: one thread, one epoll set: stdin, libcurl's sockets (through
 * curl_multi_socket_action) and the pipes of endpoint commands. */
#include "exec.h"
#include "cache.h"
#include "conv.h"
#include "cost.h"
#include "endpoint.h"
#include "jparse.h"
#include "jv.h"
#include "opt.h"      /* SCG_VERSION */
#include "rng.h"
#include "schema.h"
#include "secret.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xxhash.h>

static struct exec_config cfg = {.jobs = 8, .retries = 6, .timeout = 120, .max_answer = 4L << 20};

void exec_configure(const struct exec_config *c)
{
	cfg = *c;
}

enum { K_LLM, K_HTTP, K_CMD };
enum { EV_STDIN = 1, EV_SOCK, EV_CMD_IN, EV_CMD_OUT, EV_DEAD };

struct ev {
	int type, fd;
	struct req *req;
	struct ev *next_dead;
};

/* Events of one epoll batch may still point at a socket curl just closed:
 * such an ev is marked dead and freed only after the batch. */
static struct ev *dead_evs;

/* A window and rate buckets per upstream (a base URL or an endpoint). */
struct limiter {
	char *key;
	double window, last_cut, pause_until;
	int inflight;
	double rpm_tokens, tpm_tokens, refilled;
	struct limiter *next;
};

struct req {
	int kind;
	struct job *job;
	const struct endpoint *ep;  /* K_HTTP: what a reply must look like */
	struct call call;
	struct limiter *lim;
	struct model_stats *stats;
	/* model calls */
	struct llm_req lr;
	json_t *messages;
	answer_check check;
	void *check_ctx;
	int reasks;
	double est_prompt, est_completion, reserved;
	/* the request on the wire */
	struct http_req h;
	double timeout;
	int max_retries, attempt;
	double not_before;
	CURL *easy;
	struct buf resp;
	long status;
	double retry_after;     /* seconds, < 0 when absent */
	int should_retry;       /* -1 absent, 0, 1 */
	int too_big;            /* the answer passed --max-answer-bytes */
	char *answer_text;
	json_t *answer_json;
	char *error;
	/* commands */
	char *cmd, *input;
	size_t input_off;
	pid_t pid;
	struct ev in_ev, out_ev;
	double deadline;
	int out_eof, exited;    /* stdout closed; the process has exited (not reaped) */
	siginfo_t exit_info;
	struct req *next;
};

static const struct exec_ops *ops;
static CURLM *multi;
static int epfd;
static double curl_deadline = -1;
static struct req *queue, *queue_tail; /* waiting to be sent, oldest first */
static struct req *done_q, *done_tail; /* finished, done() not yet called, in order */
static struct limiter *limiters;
static int inflight;
static struct job *jobs_head, *jobs_tail;
static long njobs, seq_next, records_in, records_out;
static struct rng jitter;
static double avg_completion = 150, completions;
static double t_start, last_progress;
static int progress_on, progress_drawn;
static struct req *cmds;              /* running commands */
static pid_t *orphans;                /* killed commands not reaped yet */
static size_t norphans;
static volatile sig_atomic_t got_signal, got_child;
static sigset_t wait_mask;            /* the mask while waiting: signals let in */

static void on_signal(int sig)
{
	got_signal = sig;
}

static void on_child(int sig)
{
	(void)sig;
	got_child = 1;
}

/* SIGINT, SIGTERM and SIGCHLD are blocked except inside epoll_pwait, so one
 * that comes at any moment wakes the loop instead of being lost before a
 * wait. A command gets none of this: see cmd_child(). */
static void signals_init(void)
{
	sigset_t block;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGCHLD);
	sigprocmask(SIG_BLOCK, &block, &wait_mask);
	sigdelset(&wait_mask, SIGINT);
	sigdelset(&wait_mask, SIGTERM);
	sigdelset(&wait_mask, SIGCHLD);
	struct sigaction sa = {0};
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = on_child;
	sa.sa_flags = SA_NOCLDSTOP;
	sigaction(SIGCHLD, &sa, NULL);
	/* a full disk or file-size limit fails a write instead of killing us,
	 * and a command that closes its stdin early fails a write too */
	signal(SIGXFSZ, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
}

/* epoll_ctl, ending the program when it fails; removing a descriptor that
 * is already gone (closed, so out of the set by itself) is no failure. */
static void ep_ctl(int op, int fd, uint32_t events, void *ptr)
{
	struct epoll_event ee = {.events = events, .data.ptr = ptr};
	if (epoll_ctl(epfd, op, fd, &ee) == 0)
		return;
	if (op == EPOLL_CTL_DEL && (errno == ENOENT || errno == EBADF))
		return;
	die("epoll_ctl: %s", strerror(errno));
}

static void socket_action(curl_socket_t fd, int flags)
{
	int running;
	CURLMcode mc = curl_multi_socket_action(multi, fd, flags, &running);
	if (mc != CURLM_OK)
		die("curl: %s", curl_multi_strerror(mc));
}

static void write_job(struct job *j);

/* Interrupted: write what has been answered (in input order, skipping the
 * records still waiting), then the summary. Answers are already cached. */
static long write_answered(void)
{
	long unfinished = 0;
	for (struct job *j = jobs_head, *n; j; j = n) {
		n = j->next;
		if (j->ended && !j->pending)
			write_job(j);
		else
			unfinished++;
	}
	return unfinished;
}

static void submit(struct req *r);
static void take_answer(struct req *r, json_t *ans, int cached);

/* ---- jobs and output ------------------------------------------------ */

static void write_job(struct job *j)
{
	size_t i;
	json_t *r;
	json_array_foreach(j->out, i, r) {
		out_record(r);
		records_out++;
	}
}

static void free_job(struct job *j)
{
	if (j->prev)
		j->prev->next = j->next;
	else
		jobs_head = j->next;
	if (j->next)
		j->next->prev = j->prev;
	else
		jobs_tail = j->prev;
	json_decref(j->rec);
	json_decref(j->out);
	json_decref(j->usage);
	free(j);
	njobs--;
}

static void flush_jobs(void)
{
	if (cfg.unordered) {
		for (struct job *j = jobs_head, *n; j; j = n) {
			n = j->next;
			if (j->ended && !j->pending) {
				write_job(j);
				free_job(j);
			}
		}
	} else {
		while (jobs_head && jobs_head->ended && !jobs_head->pending) {
			write_job(jobs_head);
			free_job(jobs_head);
		}
	}
}

/* Adds the counts of add into usage, member by member: integers stay
 * integers, the cost (USD) is summed to 1e-10 so the record's bytes do not
 * depend on the order of the additions' rounding, objects (a model, its
 * stages) are merged the same way. */
static void add_usage(json_t *usage, json_t *add)
{
	const char *k;
	json_t *v;
	json_object_foreach(add, k, v) {
		json_t *have = json_object_get(usage, k);
		if (!have)
			json_object_set_new(usage, k, json_deep_copy(v));
		else if (json_is_object(v) && json_is_object(have))
			add_usage(have, v);
		else if (json_is_integer(v) && json_is_integer(have))
			json_integer_set(have, json_integer_value(have) + json_integer_value(v));
		else if (json_is_number(v) && json_is_number(have))
			json_object_set_new(usage, k, json_real(round((json_number_value(have) +
				json_number_value(v)) * 1e10) / 1e10));
	}
}

void job_emit(struct job *j, json_t *rec)
{
	if (!j->emitted && j->usage && json_object_size(j->usage)) {
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
		add_usage(usage, j->usage);
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
}

/* ---- limits ---------------------------------------------------------- */

static struct limiter *limiter_for(const char *key)
{
	struct limiter **p = &limiters;
	for (; *p; p = &(*p)->next)
		if (!strcmp((*p)->key, key))
			return *p;
	*p = xcalloc(1, sizeof **p);
	(*p)->key = xstrdup(key);
	(*p)->window = cfg.jobs;
	(*p)->rpm_tokens = cfg.rpm > 0 ? fmax(1, cfg.rpm / 60) : 0;
	(*p)->tpm_tokens = cfg.tpm > 0 ? cfg.tpm / 60 : 0;
	(*p)->refilled = now_mono();
	return *p;
}

static void refill(struct limiter *l, double now)
{
	double dt = now - l->refilled;
	l->refilled = now;
	if (cfg.rpm > 0)
		l->rpm_tokens = fmin(fmax(1, cfg.rpm / 60), l->rpm_tokens + dt * cfg.rpm / 60);
	if (cfg.tpm > 0)
		l->tpm_tokens = fmin(cfg.tpm / 60, l->tpm_tokens + dt * cfg.tpm / 60);
}

/* 0 when r may start now; else the seconds to wait (or a large number). */
static double limiter_wait(struct limiter *l, struct req *r, double now)
{
	if (l->pause_until > now)
		return l->pause_until - now;
	if (l->inflight >= (int)l->window)
		return 1e9;  /* woken by a completion */
	refill(l, now);
	if (cfg.rpm > 0 && l->rpm_tokens < 1)
		return (1 - l->rpm_tokens) * 60 / cfg.rpm;
	double need = r->est_prompt + r->est_completion;
	double cap = cfg.tpm / 60;
	if (need > cap)
		need = cap;   /* a request larger than the bucket waits for a full one */
	if (cfg.tpm > 0 && l->tpm_tokens < need)
		return (need - l->tpm_tokens) * 60 / cfg.tpm;
	return 0;
}

static void limiter_take(struct limiter *l, struct req *r)
{
	l->inflight++;
	if (cfg.rpm > 0)
		l->rpm_tokens -= 1;
	if (cfg.tpm > 0)
		l->tpm_tokens -= fmin(r->est_prompt + r->est_completion, cfg.tpm / 60);
}

/* AIMD: a 429 halves the window (once a second at most), answers grow it back. */
static void limiter_throttled(struct limiter *l, double wait, double now)
{
	if (now - l->last_cut > 1.0) {
		l->window = fmax(1, l->window / 2);
		l->last_cut = now;
	}
	if (now + wait > l->pause_until)
		l->pause_until = now + wait;
}

static void limiter_ok(struct limiter *l)
{
	if (l->window < cfg.jobs)
		l->window = fmin(cfg.jobs, l->window + 1 / l->window);
}

/* ---- requests ----------------------------------------------------------- */

static struct req *req_new(struct job *j, int kind, int tag, void *udata)
{
	struct req *r = xcalloc(1, sizeof *r);
	r->kind = kind;
	r->job = j;
	r->call.tag = tag;
	r->call.udata = udata;
	r->retry_after = -1;
	r->should_retry = -1;
	r->timeout = cfg.timeout;
	r->max_retries = cfg.retries;
	j->pending++;
	return r;
}

/* New requests queue at the back; retries and re-asks go to the front,
 * so records already started finish first. */
static void enqueue(struct req *r, double delay)
{
	r->not_before = now_mono() + delay;
	r->next = NULL;
	if (r->attempt > 0 || r->reasks < ops->reasks) {
		r->next = queue;
		queue = r;
		if (!queue_tail)
			queue_tail = r;
		return;
	}
	if (queue_tail)
		queue_tail->next = r;
	else
		queue = r;
	queue_tail = r;
}

/* Unlinks the request *p points at (p is &queue or &prev->next). */
static struct req *dequeue(struct req **p)
{
	struct req *r = *p;
	*p = r->next;
	if (queue_tail == r)
		queue_tail = p == &queue ? NULL : (struct req *)((char *)p - offsetof(struct req, next));
	r->next = NULL;
	return r;
}

static void finish(struct req *r)
{
	r->next = NULL;
	if (done_tail)
		done_tail->next = r;
	else
		done_q = r;
	done_tail = r;
}

static void fail(struct req *r, const char *fmt, ...)
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
	finish(r);
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
	r->est_completion = r->lr.max_tokens > 0 ? fmin(r->lr.max_tokens, avg_completion) : avg_completion;
}

/* A job's usage per model: requests, tokens and cost (USD, from the price
 * table), and the same under stages.PROGRAM, so that a record that passes
 * several programs tells which one spent what (merged by add_usage). */
static void usage_add(struct job *j, const char *model, long pt, long ct)
{
	if (!j->usage)
		j->usage = json_object();
	json_t *add = json_pack("{s:i, s:I, s:I, s:f}", "requests", 1, "prompt_tokens", (json_int_t)pt,
				"completion_tokens", (json_int_t)ct,
				"cost", round(cost_usd(model, (double)pt, (double)ct, NULL) * 1e10) / 1e10);
	json_object_set_new(add, "stages", json_pack("{s:o}", prog_name, json_deep_copy(add)));
	json_t *by_model = json_pack("{s:o}", model, add);
	add_usage(j->usage, by_model);
	json_decref(by_model);
}

static void dry_print(struct req *r)
{
	json_t *body = json_loads(r->h.body, 0, NULL);
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
	rng_init(&g, cfg.seed, j->id, prog_name, sample);
	r->lr.seed = (long)(rng_next(&g) >> 33);
	r->messages = json_copy(lr->messages);   /* re-asks append; messages are not changed */
	if (lr->schema)
		json_incref(lr->schema);
	r->check = check;
	r->check_ctx = check_ctx;
	r->reasks = ops->reasks;
	r->stats = cost_stats(lr->model->name);
	r->lim = limiter_for(lr->model->base_url);
	build_llm(r);
	if (cfg.dry_run) {
		r->stats->requests++;
		r->stats->est_prompt += r->est_prompt;
		r->stats->est_completion += r->est_completion;
		r->stats->cost += cost_usd(lr->model->name, r->est_prompt, r->est_completion, NULL);
		dry_print(r);
		r->call.ok = 0;
		r->call.error = "dry run";
		r->job->pending--;
		http_req_free(&r->h);
		json_decref(r->messages);
		json_decref(r->lr.schema);
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
	/* two endpoints that differ in a header only are two assistants */
	struct buf lines = {0};
	for (struct curl_slist *l = r->h.headers; l; l = l->next) {
		buf_adds(&lines, l->data);
		buf_addc(&lines, '\n');
	}
	XXH128_hash_t hh = XXH3_128bits(lines.p, lines.len);
	buf_free(&lines);
	r->h.key_text = xasprintf("scg-cache-2\nendpoint\n%s\n%016llx%016llx\n%s", url,
				  (unsigned long long)hh.high64, (unsigned long long)hh.low64, body);
	if (timeout > 0)
		r->timeout = timeout;
	if (retries >= 0)
		r->max_retries = retries;
	r->lim = limiter_for(url);
	r->stats = cost_stats("endpoint");
	if (cfg.dry_run) {
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

void job_cmd(struct job *j, const char *cmd, const char *input, int tag, void *udata)
{
	struct req *r = req_new(j, K_CMD, tag, udata);
	r->cmd = xstrdup(cmd);
	r->input = xstrdup(input);
	r->lim = limiter_for("command");
	r->stats = cost_stats("command");
	if (cfg.dry_run) {
		json_t *line = json_pack("{s:s, s:s, s:s}", "id", j->id, "command", cmd, "input", input);
		out_record(line);
		json_decref(line);
		j->pending--;
		free(r->cmd);
		free(r->input);
		free(r);
		j->ended = 1;
		return;
	}
	enqueue(r, 0);
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

/* A stored answer of the shape this call stores; else it is damaged. */
static int cached_ok(struct req *r, json_t *ans)
{
	if (!json_is_object(ans))
		return 0;
	if (r->kind == K_LLM) {
		json_t *pt = json_object_get(ans, "prompt_tokens"), *ct = json_object_get(ans, "completion_tokens");
		json_t *t = json_object_get(ans, "text");
		return json_is_string(t) && !memchr(json_string_value(t), 0, json_string_length(t)) &&
		       (!pt || json_is_integer(pt)) && (!ct || json_is_integer(ct));
	}
	json_t *b = json_object_get(ans, "body");
	if (!json_is_string(b))
		return 0;
	struct buf err = {0};
	char *reply = http_reply(r, json_string_value(b), json_string_length(b), &err);
	buf_free(&err);
	free(reply);
	return reply != NULL;
}

/* Serves a call from the cache, or queues it. */
static void submit(struct req *r)
{
	json_t *ans = r->kind == K_CMD ? NULL : cache_get(r->h.key_text);
	if (ans && !cached_ok(r, ans)) {
		cache_damaged(r->h.key_text, "an answer of the wrong shape");
		json_decref(ans);
		ans = NULL;
	}
	if (!ans) {
		enqueue(r, 0);
		return;
	}
	if (r->kind == K_LLM) {
		take_answer(r, ans, 1);
	} else {
		r->stats->cached++;
		buf_reset(&r->resp);
		json_t *b = json_object_get(ans, "body");
		buf_add(&r->resp, json_string_value(b), json_string_length(b));
		r->call.ok = 1;
		r->call.status = 200;
		r->call.body = r->resp.p;
		r->call.body_len = r->resp.len;
		finish(r);
	}
	json_decref(ans);
}

/* Bodies arrive decompressed: the cap holds against gzip bombs too. A
 * short count aborts the transfer (CURLE_WRITE_ERROR). */
static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct req *r = ud;
	size_t len = size * n;
	if (len > (size_t)cfg.max_answer - r->resp.len) {
		r->too_big = 1;
		return 0;
	}
	buf_add(&r->resp, p, len);
	return len;
}

static double parse_http_date(const char *s)
{
	struct tm tm = {0};
	if (!strptime(s, "%a, %d %b %Y %H:%M:%S GMT", &tm))
		return -1;
	return (double)timegm(&tm) - now_real();
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	struct req *r = ud;
	size_t len = size * n;
	char *line = xstrndup(p, len);
	while (len && (line[len - 1] == '\r' || line[len - 1] == '\n'))
		line[--len] = 0;
	char *colon = strchr(line, ':');
	if (colon) {
		*colon = 0;
		char *v = colon + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		if (!strcasecmp(line, "retry-after-ms")) {
			r->retry_after = atof(v) / 1000;
		} else if (!strcasecmp(line, "retry-after") && r->retry_after < 0) {
			char *end;
			double s = strtod(v, &end);
			r->retry_after = end != v && !*end ? s : parse_http_date(v);
		} else if (!strcasecmp(line, "x-should-retry")) {
			r->should_retry = !strcasecmp(v, "true") ? 1 : !strcasecmp(v, "false") ? 0 : -1;
		}
	}
	free(line);
	return size * n;
}

/* Finished easy handles are kept and reused: their buffers stay allocated. */
static CURL **easy_pool;
static int easy_pooled;

static void easy_release(CURL *e)
{
	if (easy_pooled < cfg.jobs) {
		if (!easy_pool)
			easy_pool = xcalloc((size_t)cfg.jobs, sizeof *easy_pool);
		easy_pool[easy_pooled++] = e;
	} else {
		curl_easy_cleanup(e);
	}
}

static void start_http(struct req *r)
{
	buf_reset(&r->resp);
	r->status = 0;
	r->retry_after = -1;
	r->should_retry = -1;
	r->too_big = 0;
	CURL *e = easy_pooled ? easy_pool[--easy_pooled] : curl_easy_init();
	if (!e)
		die("out of memory");
	r->easy = e;
	curl_easy_setopt(e, CURLOPT_URL, r->h.url);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->h.body);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(r->h.body));
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->h.headers);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(e, CURLOPT_PRIVATE, r);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(r->timeout * 1000));
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)fmin(r->timeout * 1000, 10000));
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "scg/" SCG_VERSION);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	/* a declared size past the cap fails before the body comes */
	curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)cfg.max_answer);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	CURLMcode mc = curl_multi_add_handle(multi, e);
	if (mc != CURLM_OK)
		die("curl: %s", curl_multi_strerror(mc));
}

/* ---- commands ------------------------------------------------------------ */

static void set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		die("fcntl: %s", strerror(errno));
}

/* Only async-signal-safe calls between fork and exec. */
static void child_fail(const char *what)
{
	static const char msg[] = ": cannot start the command: ";
	(void)!write(2, prog_name, strlen(prog_name));
	(void)!write(2, msg, sizeof msg - 1);
	(void)!write(2, what, strlen(what));
	(void)!write(2, "\n", 1);
	_exit(126);
}

/* fd becomes descriptor to, open across exec. */
static void child_fd(int fd, int to)
{
	if (fd == to ? fcntl(fd, F_SETFD, 0) < 0 : dup2(fd, to) < 0)
		child_fail("dup2");
}

/* In the child: its own process group, so that a deadline stops all it
 * started; the record on stdin, the reply from stdout; and signals as a
 * shell would give them, not as scg holds them (blocked, ignored), or the
 * command could not be stopped and would outlive scg. */
static void cmd_child(const char *cmd, int in, int out)
{
	if (setpgid(0, 0))
		child_fail("setpgid");
	/* (with scg's stdin closed, a pipe end may be descriptor 0) */
	if (out == 0 && (out = fcntl(out, F_DUPFD_CLOEXEC, 3)) < 0)
		child_fail("dup");
	child_fd(in, 0);
	child_fd(out, 1);
	/* nothing else of ours: libcurl's sockets are not close-on-exec */
	if (close_range(3, ~0U, 0))
		for (int fd = 3; fd < 65536; fd++)
			close(fd);
	static const int reset[] = {SIGINT, SIGTERM, SIGCHLD, SIGPIPE, SIGXFSZ, SIGQUIT, SIGHUP};
	for (size_t i = 0; i < sizeof reset / sizeof reset[0]; i++)
		signal(reset[i], SIG_DFL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* the record reaches the command on stdin only, never in its words */
	execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
	_exit(127);
}

static void start_cmd(struct req *r)
{
	int in[2], out[2];
	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC))
		die("pipe: %s", strerror(errno));
	pid_t pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0)
		cmd_child(r->cmd, in[0], out[1]);
	/* set here too, so that a kill before the child ran finds the group;
	 * EACCES: the child has exec'd (after its own setpgid); ESRCH: gone */
	if (setpgid(pid, pid) && errno != EACCES && errno != ESRCH)
		die("setpgid: %s", strerror(errno));
	close(in[0]);
	close(out[1]);
	r->pid = pid;
	r->input_off = 0;
	r->out_eof = r->exited = 0;
	buf_reset(&r->resp);
	set_nonblock(in[1]);
	set_nonblock(out[0]);
	r->in_ev = (struct ev){.type = EV_CMD_IN, .fd = in[1], .req = r};
	r->out_ev = (struct ev){.type = EV_CMD_OUT, .fd = out[0], .req = r};
	ep_ctl(EPOLL_CTL_ADD, in[1], EPOLLOUT, &r->in_ev);
	ep_ctl(EPOLL_CTL_ADD, out[0], EPOLLIN, &r->out_ev);
	r->deadline = now_mono() + r->timeout;
	r->next = cmds;
	cmds = r;
}

static int over_budget;   /* a request was refused: start no new one */

/* Every attempt passes here, retries too: a retry still holds what was
 * reserved for its first attempt (counted in cost_total), a new request
 * reserves its estimate. Once one attempt would pass the budget, none
 * starts any more, even when answers settle below what was reserved. */
static int budget_allows(struct req *r)
{
	double est = r->reserved ? 0 : cost_usd(r->lr.model->name, r->est_prompt, r->est_completion, NULL);
	if (over_budget || cost_total() + est > cfg.budget) {
		over_budget = 1;
		return 0;
	}
	if (!r->reserved) {
		r->reserved = est;   /* settled when the answer comes */
		r->stats->cost += est;
	}
	return 1;
}

/* Starts what the limits allow; returns the seconds until the next may. */
static double pump(void)
{
	double now = now_mono(), wait = 1e9;
	struct req **p = &queue;
	while (*p && inflight < cfg.jobs) {
		struct req *r = *p;
		double w = r->not_before > now ? r->not_before - now : 0;
		if (w == 0)
			w = limiter_wait(r->lim, r, now);
		if (w == 0 && inflight >= cfg.jobs)
			w = 1e9;
		if (w == 0 && r->kind == K_LLM && cfg.budget > 0 && !budget_allows(r)) {
			dequeue(p);
			fail(r, "over budget: --budget %g would be passed", cfg.budget);
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
		inflight++;
		if (r->kind == K_CMD)
			start_cmd(r);
		else
			start_http(r);
	}
	return wait;
}

/* ---- answers ------------------------------------------------------------- */

static void retry_or_fail(struct req *r, const char *why)
{
	if (r->attempt >= r->max_retries) {
		fail(r, "gave up after %d retries: %s", r->attempt, why);
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
	json_array_append_new(r->messages, conv_msg("assistant", r->answer_text ? r->answer_text : ""));
	char *msg = xasprintf("That answer could not be used: %s. Answer again%s.", why,
			      r->lr.schema ? ", with only the JSON object the schema describes" : "");
	json_array_append_new(r->messages, conv_msg("user", msg));
	free(msg);
	r->reasks--;
	r->stats->reasks++;
	r->attempt = 0;
	build_llm(r);
	submit(r);
}

/* An answer from the wire or the cache: count it, check it, deliver it. */
static void take_answer(struct req *r, json_t *ans, int cached)
{
	const char *text = jv_str(ans, "text");
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
	if (!cached) {
		/* settle the reserved estimate against the real cost */
		s->cost -= r->reserved;
		r->reserved = 0;
		s->cost += cost_usd(r->lr.model->name, (double)pt, (double)ct, NULL);
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
	usage_add(r->job, r->lr.model->name, pt, ct);
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
	}
	if (!why.len && r->check)
		r->check(r->job, r->answer_text, r->answer_json, &why, r->check_ctx);
	if (why.len) {
		if (r->reasks > 0)
			reask(r, why.p);
		else
			fail(r, "unusable answer after %d tries: %s", ops->reasks + 1, why.p);
		buf_free(&why);
		return;
	}
	buf_free(&why);
	r->call.ok = 1;
	r->call.text = r->answer_text;
	r->call.json = r->answer_json;
	finish(r);
}

static void http_done(struct req *r, CURLcode cc)
{
	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &r->status);
	curl_multi_remove_handle(multi, r->easy);
	easy_release(r->easy);
	r->easy = NULL;
	r->lim->inflight--;
	inflight--;
	if (r->stats)
		r->stats->requests++;
	double now = now_mono();
	if (r->too_big || cc == CURLE_FILESIZE_EXCEEDED) {
		/* the server would send as much again: not retried */
		fail(r, "the answer passed --max-answer-bytes (%ld bytes, counted after decompression)",
		     cfg.max_answer);
		return;
	}
	if (cc != CURLE_OK) {
		char why[160];
		if (cc == CURLE_OPERATION_TIMEDOUT)
			snprintf(why, sizeof why, "no answer within %gs", r->timeout);
		else
			snprintf(why, sizeof why, "%s", curl_easy_strerror(cc));
		retry_or_fail(r, why);
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
			char *reply = http_reply(r, r->resp.p ? r->resp.p : "", r->resp.len, &err);
			if (!reply) {
				retry_or_fail(r, err.p);
				buf_free(&err);
				return;
			}
			free(reply);
			buf_free(&err);
			json_t *c = json_object();
			json_object_set_new_nocheck(c, "body", json_stringn_nocheck(r->resp.p, r->resp.len));
			cache_put(r->h.key_text, c);
			json_decref(c);
			r->call.ok = 1;
			r->call.status = st;
			r->call.body = r->resp.p ? r->resp.p : "";
			r->call.body_len = r->resp.len;
			finish(r);
			return;
		}
		struct llm_answer a;
		struct buf why = {0};
		if (llm_parse(r->lr.model, r->lr.schema != NULL, r->resp.p ? r->resp.p : "", r->resp.len, &a, &why)) {
			retry_or_fail(r, why.p);
			buf_free(&why);
			return;
		}
		buf_free(&why);
		json_t *ans = json_object();
		json_object_set_new_nocheck(ans, "text", json_string(a.text));
		json_object_set_new_nocheck(ans, "prompt_tokens", json_integer(a.prompt_tokens));
		json_object_set_new_nocheck(ans, "completion_tokens", json_integer(a.completion_tokens));
		json_object_set_new_nocheck(ans, "finish", json_string(a.finish));
		llm_answer_free(&a);
		cache_put(r->h.key_text, ans);
		take_answer(r, ans, 0);
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
		retry_or_fail(r, why);
	else
		fail(r, "%s", why);
	free(why);
}

static void cmd_close_fd(struct ev *e)
{
	if (e->fd < 0)
		return;
	ep_ctl(EPOLL_CTL_DEL, e->fd, 0, NULL);
	close(e->fd);
	e->fd = -1;
}

/* Notes whether the command has exited, without reaping it: until it is
 * reaped its pid stays its group's id, safe to signal. */
static void cmd_peek(struct req *r)
{
	if (r->exited)
		return;
	siginfo_t si = {0};
	if (waitid(P_PID, (id_t)r->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == r->pid) {
		r->exited = 1;
		r->exit_info = si;
	}
}

/* Killed commands are reaped once they are gone, never waited for. */
static void reap_orphans(void)
{
	for (size_t i = 0; i < norphans;) {
		pid_t p = waitpid(orphans[i], NULL, WNOHANG);
		if (p == orphans[i] || (p < 0 && errno == ECHILD))
			orphans[i] = orphans[--norphans];
		else
			i++;
	}
}

/* At the end: what was killed is gone in a moment; reap it rather than
 * leave zombies behind. Commands still running get SIGTERM, then SIGKILL
 * after a grace period. */
static void cmds_end_all(void)
{
	for (struct req *c = cmds; c; c = c->next) {
		kill(-c->pid, SIGTERM);
		orphans = xrealloc(orphans, (norphans + 1) * sizeof *orphans);
		orphans[norphans++] = c->pid;
	}
	for (double end = now_mono() + 2; norphans && now_mono() < end; usleep(10000))
		reap_orphans();
	for (size_t i = 0; i < norphans; i++)
		kill(-orphans[i], SIGKILL);
	for (double end = now_mono() + 1; norphans && now_mono() < end; usleep(10000))
		reap_orphans();
}

/* The command is over (answered, failed or out of time): whatever is left
 * of its process group is killed, the command reaped (or left to
 * reap_orphans when it has not exited yet), its pipes closed. */
static void cmd_end(struct req *r)
{
	cmd_peek(r);
	kill(-r->pid, SIGKILL);
	if (r->exited) {
		if (waitpid(r->pid, NULL, 0) < 0 && errno != ECHILD)
			die("waitpid: %s", strerror(errno));
	} else {
		orphans = xrealloc(orphans, (norphans + 1) * sizeof *orphans);
		orphans[norphans++] = r->pid;
	}
	cmd_close_fd(&r->in_ev);
	cmd_close_fd(&r->out_ev);
	for (struct req **p = &cmds; *p; p = &(*p)->next)
		if (*p == r) {
			*p = r->next;
			break;
		}
	r->next = NULL;
	r->lim->inflight--;
	inflight--;
	r->stats->requests++;
}

static void cmd_timed_out(struct req *r)
{
	cmd_end(r);
	char why[64];
	snprintf(why, sizeof why, "no answer within %gs", r->timeout);
	retry_or_fail(r, why);
}

/* Both ends reached: the command exited and its stdout is closed. */
static void cmd_finished(struct req *r)
{
	siginfo_t si = r->exit_info;
	cmd_end(r);
	char why[96];
	if (si.si_code != CLD_EXITED || si.si_status) {
		if (si.si_code == CLD_EXITED)
			snprintf(why, sizeof why, "the command exited with status %d", si.si_status);
		else
			snprintf(why, sizeof why, "the command was killed by signal %d", si.si_status);
		retry_or_fail(r, why);
		return;
	}
	size_t bad;
	const char *out = r->resp.p ? r->resp.p : "";
	const char *nul = memchr(out, 0, r->resp.len);
	if (nul) {
		snprintf(why, sizeof why, "the command's output holds a NUL byte (byte %zu)",
			 (size_t)(nul - out) + 1);
		retry_or_fail(r, why);
		return;
	}
	if (!utf8_valid(out, r->resp.len, &bad)) {
		snprintf(why, sizeof why, "the command's output is not UTF-8 (byte %zu)", bad + 1);
		retry_or_fail(r, why);
		return;
	}
	r->call.ok = 1;
	r->call.body = out;
	r->call.body_len = r->resp.len;
	r->call.text = r->call.body;
	finish(r);
}

/* Whether a command is done is seen in two places: at the end of its
 * output and when SIGCHLD says a child exited. */
static void cmd_check(struct req *r)
{
	if (!r->out_eof)
		return;
	cmd_peek(r);
	if (r->exited)
		cmd_finished(r);
}

static void cmd_io(struct ev *e)
{
	struct req *r = e->req;
	if (e->type == EV_CMD_IN) {
		size_t n = strlen(r->input);
		while (r->input_off < n) {
			ssize_t w = write(e->fd, r->input + r->input_off, n - r->input_off);
			if (w < 0) {
				if (errno == EAGAIN || errno == EINTR)
					return;
				break;  /* the command closed its stdin: fine */
			}
			r->input_off += (size_t)w;
		}
		cmd_close_fd(e);
		return;
	}
	char tmp[65536];
	for (;;) {
		ssize_t n = read(e->fd, tmp, sizeof tmp);
		if (n > 0) {
			if ((size_t)n > (size_t)cfg.max_answer - r->resp.len) {
				cmd_end(r);
				fail(r, "the command's output passed --max-answer-bytes (%ld bytes)", cfg.max_answer);
				return;
			}
			buf_add(&r->resp, tmp, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		r->out_eof = 1;
		cmd_close_fd(e);
		cmd_check(r);
		return;
	}
}

/* ---- the loop ------------------------------------------------------------- */

static int on_socket(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
	(void)e;
	(void)userp;
	struct ev *ev = socketp;
	if (what == CURL_POLL_REMOVE) {
		if (ev) {
			ep_ctl(EPOLL_CTL_DEL, s, 0, NULL);
			ev->type = EV_DEAD;
			ev->next_dead = dead_evs;
			dead_evs = ev;
			curl_multi_assign(multi, s, NULL);
		}
		return 0;
	}
	struct epoll_event ee = {0};
	ee.events = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0);
	if (!ev) {
		ev = xcalloc(1, sizeof *ev);
		ev->type = EV_SOCK;
		ev->fd = s;
		curl_multi_assign(multi, s, ev);
		ee.data.ptr = ev;
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, s, &ee) && (errno != EEXIST || epoll_ctl(epfd, EPOLL_CTL_MOD, s, &ee)))
			die("epoll_ctl: socket %d: %s", (int)s, strerror(errno));
	} else {
		ee.data.ptr = ev;
		if (epoll_ctl(epfd, EPOLL_CTL_MOD, s, &ee) && (errno != ENOENT || epoll_ctl(epfd, EPOLL_CTL_ADD, s, &ee)))
			die("epoll_ctl: socket %d: %s", (int)s, strerror(errno));
	}
	return 0;
}

static int on_timer(CURLM *m, long ms, void *userp)
{
	(void)m;
	(void)userp;
	curl_deadline = ms < 0 ? -1 : now_mono() + (double)ms / 1000;
	return 0;
}

static void check_multi(void)
{
	CURLMsg *msg;
	int left;
	while ((msg = curl_multi_info_read(multi, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		struct req *r;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&r);
		http_done(r, msg->data.result);
	}
}

static void free_req(struct req *r)
{
	http_req_free(&r->h);
	buf_free(&r->resp);
	json_decref(r->messages);
	json_decref(r->lr.schema);
	json_decref(r->answer_json);
	free(r->answer_text);
	free(r->error);
	free(r->cmd);
	free(r->input);
	free(r);
}

static void end_if_idle(struct job *j)
{
	if (!j->pending && !j->ended) {
		warnx_("internal: record %s was left unfinished", j->id);
		job_reject(j, "internal: left unfinished");
		j->ended = 1;
	}
}

static void run_done(void)
{
	while (done_q) {
		struct req *r = done_q;
		done_q = r->next;
		if (!done_q)
			done_tail = NULL;
		struct job *j = r->job;
		j->pending--;
		if (!j->ended)
			ops->done(j, &r->call);
		free_req(r);
		end_if_idle(j);
	}
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

static void new_record(struct input *in, char *line, size_t len, int *stop)
{
	struct buf err = {0};
	json_t *rec = record_parse(line, len, &err);
	struct buf where = {0};
	if (rec && holds_nul(rec, &where)) {
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
	records_in++;
	struct job *j = xcalloc(1, sizeof *j);
	j->rec = rec;
	j->seq = seq_next++;
	const char *id = jv_str(rec, "id");
	j->id = id ? id : "";
	j->out = json_array();
	j->prev = jobs_tail;
	if (jobs_tail)
		jobs_tail->next = j;
	else
		jobs_head = j;
	jobs_tail = j;
	njobs++;
	ops->start(j);
	end_if_idle(j);
}

static void progress(int final)
{
	double now = now_mono();
	if (!progress_on || (!final && now - last_progress < 0.25))
		return;
	last_progress = now;
	double tok = 0;
	long req = 0;
	for (struct model_stats *s = cost_all(); s; s = s->next) {
		tok += s->prompt_tokens + s->completion_tokens;
		req += s->requests;
	}
	double el = now - t_start;
	fprintf(stderr, "\r\033[K%s: %ld in, %ld out, %d in flight, %.0f tokens, $%.4f, %.1f req/s",
		prog_name, records_in, records_out, inflight, tok, cost_total(), el > 0 ? (double)req / el : 0);
	if (final)
		fputc('\n', stderr);
	progress_drawn = 1;
}

static void summary(void)
{
	if (cfg.quiet)
		return;
	fprintf(stderr, "%s: %ld records in, %ld out, %ld rejected\n", prog_name, records_in,
		records_out, records_rejected);
	for (struct model_stats *s = cost_all(); s; s = s->next) {
		if (cfg.dry_run) {
			fprintf(stderr, "%s: %s: %ld requests (dry run), ~%.0f prompt + ~%.0f completion tokens (estimated), ",
				prog_name, s->model, s->requests, s->est_prompt, s->est_completion);
		} else {
			fprintf(stderr, "%s: %s: %ld requests, %ld cache hits, %ld retries, %ld re-asks, %ld failed, "
				"%.0f prompt + %.0f completion tokens, ", prog_name, s->model, s->requests,
				s->cached, s->retries, s->reasks, s->failed, s->prompt_tokens, s->completion_tokens);
		}
		if (s->priced)
			fprintf(stderr, "$%.4f%s\n", s->cost, cfg.dry_run ? " estimated" : "");
		else
			fprintf(stderr, "cost unknown (no price; see SCG_PRICES in scg(7))\n");
	}
}

int exec_run(struct input *in, const struct exec_ops *o)
{
	ops = o;
	t_start = now_mono();
	progress_on = cfg.progress || (!cfg.quiet && isatty(2));
	rng_init(&jitter, (uint64_t)getpid() ^ (uint64_t)(now_real() * 1e6), "", prog_name, "jitter");
	cache_init();
	if (curl_global_init(CURL_GLOBAL_DEFAULT))
		die("curl: cannot initialise");
	multi = curl_multi_init();
	curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, on_timer);
	curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long)cfg.jobs * 2);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		die("epoll: %s", strerror(errno));
	signals_init();

	input_set_nonblock(in);
	int stdin_polled = 0, stdin_ready = 1, stop = 0;
	struct ev stdin_ev = {.type = EV_STDIN};
	/* room for records in flight plus the reorder buffer */
	long cap = (long)cfg.jobs * 4 + 16;

	for (;;) {
		if (got_signal)
			break;
		/* input */
		while (!stop && !in->done && stdin_ready && njobs < cap) {
			char *line;
			size_t len;
			int rc = input_line(in, &line, &len);
			if (rc == 1) {
				new_record(in, line, len, &stop);
				continue;
			}
			if (rc == -1) {
				/* wait for the input's descriptor, which changes when one
				 * named pipe ends and the next input begins (a closed
				 * descriptor has left the epoll set by itself) */
				stdin_ready = 0;
				int fd = input_fd(in);
				if (stdin_polled && stdin_ev.fd != fd)
					ep_ctl(EPOLL_CTL_DEL, stdin_ev.fd, 0, NULL);
				stdin_ev.fd = fd;
				struct epoll_event ee = {.events = EPOLLIN, .data.ptr = &stdin_ev};
				if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ee) == 0 || errno == EEXIST)
					stdin_polled = 1;
				else if (errno == EPERM)
					stdin_ready = 1;   /* a regular file: always ready */
				else
					die("epoll_ctl: %s: %s", in->name, strerror(errno));
			}
		}
		if (stdin_polled && (in->done || stop)) {
			ep_ctl(EPOLL_CTL_DEL, stdin_ev.fd, 0, NULL);
			stdin_polled = 0;
		}
		run_done();
		double wait = pump();
		run_done();
		flush_jobs();
		progress(0);
		if ((in->done || stop) && !njobs)
			break;
		if (done_q || (queue && wait <= 0))
			continue;
		if (!stop && !in->done && stdin_ready && njobs < cap)
			continue;

		double now = now_mono(), t = wait;
		if (curl_deadline >= 0 && curl_deadline - now < t)
			t = curl_deadline - now;
		for (struct req *c = cmds; c; c = c->next)
			if (c->deadline - now < t)
				t = c->deadline - now;
		if (progress_on && t > 0.25)
			t = 0.25;
		int ms = t <= 0 ? 0 : t > 1000 ? 1000000 : (int)ceil(t * 1000);
		out_flush();
		struct epoll_event evs[64];
		int n = epoll_pwait(epfd, evs, 64, ms, &wait_mask);
		if (n < 0 && errno != EINTR)
			die("epoll_wait: %s", strerror(errno));
		for (int i = 0; i < n; i++) {
			struct ev *e = evs[i].data.ptr;
			if (e->type == EV_STDIN) {
				stdin_ready = 1;
			} else if (e->type == EV_SOCK) {
				int flags = (evs[i].events & EPOLLIN ? CURL_CSELECT_IN : 0) |
					    (evs[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
					    (evs[i].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
				socket_action(e->fd, flags);
			} else if (e->type == EV_CMD_IN || e->type == EV_CMD_OUT) {
				if (e->fd >= 0)
					cmd_io(e);
			}
		}
		now = now_mono();
		if (curl_deadline >= 0 && now >= curl_deadline) {
			/* forget the deadline: the timer callback sets the next one */
			curl_deadline = -1;
			socket_action(CURL_SOCKET_TIMEOUT, 0);
		}
		check_multi();
		while (dead_evs) {
			struct ev *d = dead_evs;
			dead_evs = d->next_dead;
			free(d);
		}
		if (got_child) {
			got_child = 0;
			reap_orphans();
		}
		/* a command that closed its stdout may live on: its exit is
		 * waited for here, never blocking, and its deadline holds */
		for (struct req *c = cmds, *nx; c; c = nx) {
			nx = c->next;
			if (now >= c->deadline)
				cmd_timed_out(c);
			else
				cmd_check(c);
		}
	}
	if (got_signal) {
		cmds_end_all();   /* commands still running end with us */
		long left = write_answered();
		out_flush();
		progress(1);
		if (!cfg.quiet)
			warnx_("interrupted by %s: %ld records in flight not written; a rerun answers "
			       "from the cache what was answered", strsignal(got_signal), left);
		summary();
		exit(128 + got_signal);
	}
	cmds_end_all();
	out_flush();
	progress(1);
	summary();
	while (easy_pooled)
		curl_easy_cleanup(easy_pool[--easy_pooled]);
	free(easy_pool);
	curl_multi_cleanup(multi);
	curl_global_cleanup();
	close(epfd);
	return records_rejected ? 1 : 0;
}
