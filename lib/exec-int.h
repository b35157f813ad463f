/* exec-int: the executor's private header, shared by its parts and by
 * nothing else. One executor per process; its parts, one concern each:
 *
 *   exec-jobs.c      the job list: records in, their output written in
 *                    input order, usage per job, exec_add
 *   exec-reorder.c   the reorder buffer: output that waits for an earlier
 *                    job, in memory up to --reorder-mb, then in a file
 *   exec-request.c   a request's life: the cache, the queue, retries,
 *                    re-asks, the budget, the answer handed to done()
 *   exec-limit.c     the limiter: a window and rate buckets per upstream
 *   exec-http.c      libcurl's multi interface: transfers, their sockets
 *                    and timer, the easy handles
 *   exec-cmd.c       child commands (--endpoint-cmd): pipes, deadlines,
 *                    process groups, reaping
 *   exec-events.c    the event set: epoll, or poll() where there is none
 *   exec-batch.c     --batch: requests collected into the providers'
 *                    batch APIs, submitted, polled, their answers taken
 *   exec-progress.c  the progress line and the summary
 *   exec-loop.c      exec_run: signals, the input, the loop itself */
#ifndef SCG_EXEC_INT_H
#define SCG_EXEC_INT_H

#include "exec.h"

#include <signal.h>
#include <sys/types.h>

enum req_kind { K_LLM, K_HTTP, K_CMD, K_BATCH };

/* What a descriptor in the event set is; the loop dispatches on type. */
enum ev_type { EV_STDIN = 1, EV_SOCK, EV_H1, EV_CMD_IN, EV_CMD_OUT, EV_DEAD };

struct ev {
	enum ev_type type;
	int fd;
	struct req *req;        /* EV_CMD_*: the command's request */
	struct slot *slot;      /* EV_SOCK: the transfer slot it belongs to */
	struct ev *next_dead;
};

/* A window and rate buckets per upstream (a base URL or an endpoint). */
struct limiter {
	char *key;
	double window, last_cut, pause_until;
	int inflight;
	double rpm_tokens, tpm_tokens, refilled;
	struct limiter *next;
};

struct req {
	enum req_kind kind;
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
	int batched;            /* in a batch: priced at the batch price */
	int online;             /* sent online even with --batch */
	void *batch;            /* K_BATCH: the batch it is a call of */
	/* the request on the wire */
	struct http_req h;
	double timeout;
	int max_retries, attempt;
	double not_before;
	CURL *easy;             /* on libcurl */
	void *h1_target;        /* on exec-h1's own client: where it goes */
	struct buf resp;
	long status;
	double retry_after;     /* seconds, < 0 when absent */
	int should_retry;       /* -1 absent, 0, 1 */
	int too_big;            /* the answer passed --max-answer-bytes */
	char *answer_text;
	json_t *answer_json;
	char *reply;            /* K_HTTP: the reply found in the body */
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

/* What the parts share. */
struct exec {
	struct exec_config cfg;
	const struct exec_ops *ops;
	struct req *queue, *queue_tail;   /* waiting to be sent, oldest first */
	struct req *done_q, *done_tail;   /* finished, done() not yet called, in order */
	int inflight;                     /* requests on the wire or running */
	struct job *jobs_head, *jobs_tail;
	long njobs, records_in, records_out;
};
extern struct exec ex;

/* exec-jobs.c */
/* A record becomes a job: started at once (ops->start). Steals rec. */
void jobs_start(json_t *rec);
/* A line of the input becomes a job, or goes to record_bad (*stop set
 * when the program must stop reading). */
void jobs_add_line(struct input *in, char *line, size_t len, int *stop);
/* Starts records given to exec_add while fewer than cap jobs are open. */
void jobs_start_added(long cap);
/* How many records given to exec_add wait to be started. */
long jobs_added_waiting(void);
/* Writes the jobs that are over: in input order (holding what must wait),
 * or with --unordered as they end. */
void jobs_flush(void);
/* Interrupted: writes what has been answered (in input order, skipping
 * the records still waiting); returns how many were not written. */
long jobs_write_answered(void);
/* Whether another record may be read: fewer than cap jobs open, and room
 * in the reorder buffer's index. */
int jobs_room(long cap);
/* After a job's start or one of its calls: a job with no call out that
 * did not end is a bug (it is rejected); one that is over is queued to
 * be written by jobs_flush. */
void jobs_settle(struct job *j);
/* Counts one model call in the job's usage (model, stage, tokens, and
 * usd, its cost at the price it was bought at: online or a batch API's). */
void jobs_usage_add(struct job *j, const char *model, long pt, long ct, double usd);

/* exec-reorder.c */
/* The job (its seq) whose records are written next. */
long reorder_next(void);
/* The records of job seq (a later one than reorder_next), as the bytes
 * they are written as (taken from bytes), held until their turn. */
void reorder_hold(long seq, struct buf *bytes, long records);
/* Job seq (reorder_next) was written: what was held behind it, up to the
 * next gap, is written too. */
void reorder_written(long seq);
/* Whether the index of held records, for the jobs up to seq_next, leaves
 * room within --reorder-mb. */
int reorder_room(long seq_next);
/* Interrupted: writes every held record in order, over the gaps; returns
 * how many jobs before seq_end had nothing held. */
long reorder_write_all(long seq_end);
/* Records that went through the temporary file. */
long reorder_spilled(void);

/* exec-request.c */
void requests_init(void);
/* Starts what the limits allow; returns the seconds until the next may. */
double requests_pump(void);
/* Hands every finished request to its job's done(), in order. */
void requests_run_done(void);
/* The request is over: queued for done(). */
void req_finish(struct req *r);
/* The request failed for good: why (secrets masked) goes to done(). */
void req_fail(struct req *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* An endpoint's or a command's reply is kept in the cache, within the
 * run (none: not kept). */
void req_store_reply(struct req *r);
/* A failure worth another try, while retries are left. */
void req_retry_or_fail(struct req *r, const char *why);
/* A transfer ended (exec-http.c): cc is libcurl's result, r->status the
 * HTTP status, r->resp the body. */
void req_http_done(struct req *r, CURLcode cc);
/* A model's answer body, from a transfer or (batch set) from a batch:
 * parsed, cached, then taken as below. Returns the answer (the caller
 * decrefs), or NULL with why when the body holds none. */
json_t *req_llm_body(struct req *r, const char *body, size_t len, int batch, struct buf *why);
/* An answer: counted (a cache hit when cached), checked against the
 * schema and the program's check (re-asked when it fails), delivered. */
void req_take_answer(struct req *r, json_t *ans, int cached);
/* The request goes online after all (a batch did not answer it): what
 * it reserved at the batch price is given back, and it is queued. */
void req_online(struct req *r);
/* --budget: whether r may start, reserving its estimate when it first
 * does (see exec-request.c). */
int budget_allows(struct req *r);
/* r fails as over budget (the run's, in a run). */
void req_fail_over_budget(struct req *r);

/* exec-limit.c */
/* The limiter of an upstream, made at its first use. */
struct limiter *limiter_for(const char *key);
/* 0 when r may start now; else the seconds to wait (or a large number). */
double limiter_wait(struct limiter *l, const struct req *r, double now);
void limiter_take(struct limiter *l, const struct req *r);
/* A 429: the window shrinks and the upstream pauses for wait seconds. */
void limiter_throttled(struct limiter *l, double wait, double now);
/* An answer: the window grows back. */
void limiter_ok(struct limiter *l);

/* exec-http.c, and exec-h1.c for http:// upstreams */
#define CONNECT_TIMEOUT 10.0    /* seconds to connect, within --timeout */
void http_init(void);
void http_cleanup(void);
void http_start(struct req *r);
/* http_start in two: the easy handle set up for r (a POST of r->h), which
 * the caller may change before http_add sends it. */
CURL *http_prepare(struct req *r);
void http_add(struct req *r);
/* A socket of a transfer is ready (EVF_* flags). */
void http_socket_ready(struct ev *e, unsigned flags);
/* When libcurl wants to be called next (monotonic seconds), or -1. */
double http_deadline(void);
/* Calls libcurl when its deadline has passed, then takes what ended. */
void http_after_wait(double now);
/* r's answer emptied before it is sent (again). */
void http_reset(struct req *r);
/* A header line of an answer (without or with its CR LF): retry-after,
 * retry-after-ms and x-should-retry are noted in r. */
void http_header_seen(struct req *r, const char *line, size_t len);

/* exec-h1.c: plain HTTP/1.1 to http:// upstreams without libcurl */
/* Sends r when it is a request exec-h1 takes (1); 0 leaves it to libcurl. */
int h1_start(struct req *r);
void h1_ready(struct ev *e, unsigned flags);
double h1_deadline(void);
void h1_after_wait(double now);
void h1_cleanup(void);

/* exec-cmd.c */
void cmd_start(struct req *r);
/* A command's pipe is ready. */
void cmd_io(struct ev *e);
/* The earlier of t and the first command deadline, as seconds from now. */
double cmd_wait(double now, double t);
/* After a wait: commands past their deadline are stopped, ended ones
 * taken; killed ones reaped when a child has exited. */
void cmd_after_wait(double now, int child_exited);
/* At the end: every command still running is stopped and reaped. */
void cmds_end_all(void);

/* exec-batch.c: --batch */
/* A model request the cache did not answer: collected into the next
 * batch (or attached to a batch a stopped run left); 0 when it goes
 * online instead. */
int batch_take(struct req *r);
/* Submits what is collected (at the provider's limits, or once nothing
 * else moves: the input over and no request online), starts the batch
 * calls that are due and lowers *wait to the next. Returns 1 with
 * --batch-wait=no once only waiting is left. */
int batch_pump(int input_over, double *wait);
/* --batch-wait=no holds every record back until no batch is left. */
int batch_holds_output(int input_over);
/* A batch call's transfer ended (exec-http.c). */
void batch_http_done(struct req *r, CURLcode cc);
/* The batches on the progress line, and in the summary. */
void batch_progress(struct buf *line);
void batch_summary(void);
/* Stopped by a signal: says which batches go on and how to collect them. */
void batch_interrupted(void);

/* exec-events.c: the event set */
enum { EVF_IN = 1, EVF_OUT = 2, EVF_ERR = 4 };
struct ev_ready {
	struct ev *ev;
	unsigned flags;         /* EVF_* */
};
void evset_init(void);
void evset_close(void);
/* Watches fd for flags (EVF_IN, EVF_OUT) on behalf of e; again for a
 * descriptor already watched changes what it is watched for. Returns 0,
 * or -1 with errno (EPERM: a regular file, always ready). */
int evset_watch(int fd, unsigned flags, struct ev *e);
/* Stops watching fd; one that is gone (closed) is no error. */
void evset_forget(int fd);
/* Waits up to ms milliseconds with the signal mask set to mask, and fills
 * ready (up to max); returns how many, 0 when a signal came. */
int evset_wait(int ms, const sigset_t *mask, struct ev_ready *ready, int max);
/* An ev the current batch may still name: freed after the batch. */
void evset_retire(struct ev *e);
void evset_free_retired(void);

/* exec-progress.c */
void progress_init(void);
/* The progress line (at most every 0.25 s unless final). */
void progress_draw(int final);
/* Whether the progress line is drawn, so the loop wakes to redraw it. */
int progress_shown(void);
/* The summary on stderr: records, then requests, tokens and cost per model. */
void progress_summary(void);

#endif
