/* exec: the loop every model-calling program runs. It reads records (the
 * input is one more descriptor in the event set), hands each to the program
 * as a job, sends the job's requests through libcurl's multi interface with
 * -j in flight, retries what docs/providers.md "Retries" says, honours rate
 * limits, caches answers, validates structured answers (re-asking when
 * invalid) and writes the jobs' records in input order (or as they finish).
 * Its parts, one concern a file, are listed in lib/exec-int.h. */
#ifndef SCG_EXEC_H
#define SCG_EXEC_H

#include <jansson.h>
#include <stdint.h>

#include "llm.h"
#include "record.h"

struct job {
	json_t *rec;            /* the input record; the job owns it */
	long seq;               /* input order */
	const char *id;         /* rec's id, or "" */
	void *data;             /* the program's per-job state */
	/* private to exec */
	int pending, ended, rejected, emitted, over, held;
	struct job *over_next;  /* over, not written yet (exec-jobs.c) */
	json_t *out;            /* records to write */
	struct job_usage *usage;  /* per-model usage of this job's calls */
	struct job *prev, *next;
};

struct call {
	int tag;                /* the program's label */
	void *udata;            /* the program's pointer */
	int ok;                 /* 1: answered; 0: failed after the retries */
	const char *error;      /* why it failed */
	const char *text;       /* the answer: a model's text, an endpoint's reply
	                         * (found at its response_path), a command's stdout */
	json_t *json;           /* a structured answer, valid against its schema;
	                         * of a model given tools, the calls it made
	                         * (llm_answer.tool_calls), else NULL */
	long status;            /* HTTP status of an endpoint call */
	const char *body;       /* raw body of an endpoint call */
	size_t body_len;
};

struct exec_ops {
	/* A record came in: start calls with job_llm/job_http/job_cmd, or emit
	 * and end at once. */
	void (*start)(struct job *j);
	/* One of the job's calls finished. */
	void (*done)(struct job *j, struct call *c);
	/* How many times a model is asked again for an answer that fails its
	 * schema or its check. */
	int reasks;
};

/* The executor's options (lib/run.c fills it from the common options). */
struct exec_config {
	int jobs;               /* -j: requests in flight */
	int unordered;          /* --unordered: records out as they finish */
	double rpm, tpm;        /* --rpm, --tpm per upstream; 0: no limit */
	int retries;            /* --retries of a failed request */
	double timeout;         /* --timeout of a request, seconds */
	int dry_run;            /* --dry-run: print the requests, send nothing */
	double budget;          /* --budget in USD; 0: none */
	long max_answer;        /* --max-answer-bytes of an answer or a command's output */
	uint64_t seed;          /* --seed: the requests' seeds depend on it */
	double reorder_mb;      /* --reorder-mb: records waiting for their turn
	                         * held in memory, the rest in a file */
	int quiet, progress;    /* -q: no summary; --progress: the progress line */
	int no_progress;        /* --no-progress: none, even on a terminal */
	const char *run;        /* --run: the run's name; endpoint and command
				 * replies are cached under it (NULL: not cached) */
	struct ledger *ledger;  /* the run's shared counts (lib/ledger.h), or NULL */
	int run_output;         /* $SCG_RUN_OUTPUT: the records written are the
				 * run's output, counted as done in its ledger */
	/* --batch (lib/exec-batch.c): model requests that miss the cache go
	 * to the provider's batch API */
	int batch;
	int batch_nowait;       /* --batch-wait=no: submit, then stop with status 3 */
	int batch_retry;        /* --batch-retry batch: what a batch did not answer,
	                         * and re-asks, go into a new batch, not online */
	int batch_cancel;       /* --batch-cancel: cancel the batches, send nothing new */
};
void exec_configure(const struct exec_config *c);

/* Extra check of an answer; 0 good, else -1 with why (the model is asked
 * again with why, up to the re-ask bound). */
typedef int (*answer_check)(struct job *j, const char *text, json_t *answer, struct buf *why, void *ctx);

/* A model call. r is copied (messages and schema are referenced). */
void job_llm(struct job *j, const struct llm_req *r, answer_check check, void *check_ctx,
	     int tag, void *udata);
/* An HTTP POST of body to an assistant endpoint (its url, headers, timeout
 * and retries). A reply that response_path does not find is retried like a
 * garbage body, and never cached; ep must outlive the call. */
struct endpoint;
void job_endpoint(struct job *j, const struct endpoint *ep, const char *body, int tag, void *udata);
/* The same without an endpoint file: any JSON answer is taken; headers
 * are stolen. */
void job_http(struct job *j, const char *url, struct curl_slist *headers, const char *body,
	      double timeout, int retries, int tag, void *udata);
/* A command (sh -c CMD) with input on its stdin; its stdout is the answer.
 * It runs in a process group of its own, with the default signal mask and
 * dispositions; past the timeout the whole group is killed. */
void job_cmd(struct job *j, const char *cmd, const char *input, int tag, void *udata);
/* The same for a command that plays the assistant under test: its reply
 * is cached within the run (--run), so the rerun of an interrupted run
 * gets it back and a new run asks again; a tool's command is never cached
 * (it may change the state it reads). */
void job_assistant_cmd(struct job *j, const char *cmd, const char *input, int tag, void *udata);

/* A record the job writes (steals rec); the job's usage so far is added to
 * its meta.usage. Records are written in input order once the job ends. */
void job_emit(struct job *j, json_t *rec);
/* The job's input record goes to the rejects with the reason (secrets
 * masked); what it emitted is dropped. */
void job_reject(struct job *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The job is over once its calls still out have finished (their done()
 * is then not called). */
void job_end(struct job *j);
/* The job stays open with no call out, until the program ends it (from
 * start() or done() of any job): for a job that waits for others, such as
 * a persona checked against those before it. */
void job_hold(struct job *j);
/* For done(): when call c failed, the record is rejected with its error
 * and the job ended; returns 1. Returns 0 when c has its answer. */
int job_failed(struct job *j, const struct call *c);

/* Adds a record as if it came after the input read so far (steals rec, an
 * object): for a program that makes its records as it goes, such as
 * scg-personas, which asks for the next persona once the answer before it
 * is in. Called before exec_run, or from start() or done(). */
void exec_add(json_t *rec);

/* Runs until all input is read, every record given to exec_add is done
 * and every job has ended; in may be NULL (records come from exec_add
 * only). Returns the exit status (0, or 1 when records were rejected; 3
 * with --batch-wait=no when batches were left running: no record is
 * then written). */
int exec_run(struct input *in, const struct exec_ops *ops);

#endif
