/* batch: what scg-mock's two batch APIs share (batch.c): the batches
 * themselves, under one lock, each with the answers of its requests made
 * when it is created, through the same handler an online request takes
 * (openai.c, anthropic.c); and the clock that says how far one is: its
 * requests end one after another over --batch-time, some fail as
 * --batch-fail draws, and with --batch-expire it ends early, expired. The
 * wire shapes are in batch-openai.c and batch-anthropic.c. */
#ifndef SCG_MOCK_BATCH_H
#define SCG_MOCK_BATCH_H

#include "mock.h"

#include <pthread.h>

/* What a request of a batch got. */
struct mreq {
	char *cid;
	int status;             /* its answer's HTTP status */
	json_t *body;           /* the answer, or the error body */
	int expired;            /* drawn by --batch-fail expired: never runs */
	int zero;               /* drawn by --batch-fail zero: OpenAI's status_code 0 */
};

struct mbatch {
	char id[64];
	enum api api;
	double created;         /* seconds since the epoch */
	double secs;            /* how long its requests take, all together */
	long n;
	struct mreq *reqs;
	int expires;            /* --batch-expire: ends expired at created + secs */
	double cancelled;       /* > 0: when the cancel came */
	int cancel_seen;        /* the cancelling status has been shown */
	json_t *extra;          /* the API's own members (input file, metadata) */
	char out[64], err[64];  /* OpenAI: the output and error files, once ended */
	struct mbatch *next;
};

/* The batches and OpenAI's files are only touched under this. */
extern pthread_mutex_t batch_lock;

/* A new batch of n requests (id with prefix), listed first. */
struct mbatch *mbatch_new(enum api api, const char *prefix, long n);
struct mbatch *mbatch_find(enum api api, const char *id);
/* The newest batch of api after the one named after (NULL: from the start). */
struct mbatch *mbatch_list(enum api api, const char *after);
/* Request i's answer: raw (len bytes) is its body as sent, doc the same
 * parsed; the fault --batch-fail draws for cid comes instead. */
void mbatch_answer(struct mbatch *b, long i, const char *cid, const char *raw, size_t len, json_t *doc);
/* Whether request i has ended by time now, and whether the whole batch
 * has (its results can then be had). */
int mbatch_req_done(const struct mbatch *b, long i, double now);
int mbatch_over(const struct mbatch *b, double now);
/* The order its results are written in: shuffled, as the real ones are.
 * Caller frees. */
long *mbatch_order(const struct mbatch *b);

/* An error reply in the API's shape for a bad batch request. */
void mbatch_error(struct reply *rp, enum api api, int status, const char *msg);

/* The two APIs (batch-openai.c, batch-anthropic.c): path is the URL
 * after the API's prefix. */
void batch_openai_serve(struct reply *rp, struct req *q, struct MHD_Connection *c, const char *method,
			const char *url);
void batch_anthropic_serve(struct reply *rp, struct req *q, struct MHD_Connection *c,
			   const char *method, const char *url);
void batch_openai_free(void);

#endif
