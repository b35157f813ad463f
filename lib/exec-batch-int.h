/* exec-batch-int: what the two files of --batch share: exec-batch.c
 * (the state files, collecting requests into batches, the loop's side)
 * and exec-batch-call.c (each batch's calls to the provider, from its
 * upload to its results). Private to them. */
#ifndef SCG_EXEC_BATCH_INT_H
#define SCG_EXEC_BATCH_INT_H

#include "exec-int.h"
#include "batch.h"
#include "strmap.h"

#include <stdio.h>

/* ---- what a run holds ---------------------------------------------------- */

/* One request of a batch: the answer some requests of this run wait for. */
struct item {
	char cid[40];           /* custom_id: "scg-" and the hash of the cache key */
	struct req *reqs;       /* waiting for it, by next */
	struct bjob *bj;        /* the batch it is in; NULL while collected */
	int done;               /* its result is taken */
	struct item *next;      /* in its pack or batch */
};

/* What is collected for the next batch of a model. */
struct pack {
	const struct model *model;
	const struct batch_wire *w;
	struct item *items, *tail;
	long n;
	size_t bytes;
	struct pack *next;
};

/* A batch file of an earlier run: its requests, found by custom_id. */
struct saved {
	char *path;
	json_t *doc;
	struct bjob *bj;        /* polled again in this run */
	int dead;               /* no batch behind it: its requests go anew */
	struct saved *next;
};

enum step { S_UPLOAD, S_CREATE, S_FIND, S_POLL, S_CANCEL, S_RESULTS, S_ERRORS, S_DONE };

/* A batch at the provider, from its submission to its results. */
struct bjob {
	const struct model *model;
	const struct batch_wire *w;
	char set[40];           /* the hash of its request set */
	char *state;            /* its state file */
	json_t *ids;            /* the custom_ids the state file lists */
	struct saved *from;     /* resumed from this earlier run's file */
	char *id, *file_id;
	struct item *items;     /* this run's, in it */
	long n;
	struct buf payload;     /* the requests, until the batch is created */
	size_t upload_off;
	curl_mime *mime;
	enum step step;
	int cancel_sent, polled, pages;
	int creates;            /* create calls that failed without an answer */
	double next_at, interval, since;
	struct batch_status st; /* as last polled */
	char *after;            /* S_FIND: where the next page of the list starts */
	struct req *call;       /* the call in flight, or NULL */
	char *post;             /* the body of the create call */
	int tries;              /* failed tries of the step's call */
	FILE *sink;             /* S_RESULTS, S_ERRORS: the download */
	long answered, retried, rejected;
	struct bjob *next;
};

struct batch_run {
	int ready;
	double poll_first, poll_max;    /* SCG_BATCH_POLL */
	long max_requests, max_bytes;   /* SCG_BATCH_MAX_REQUESTS, _BYTES; 0: the provider's */
	char *dir;                      /* $SCG_CACHE/batches */
	struct strmap items, saved_ids;
	struct saved *saved;
	struct pack *packs;
	struct bjob *bjobs;
	double since;                   /* the first batch of this run: waited since */
	long submitted, resumed, answered, retried, rejected;
};
extern struct batch_run bt;

/* exec-batch.c */
void bt_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* the state file of bj written (again), or dropped once its requests are
 * over for this run (the file keeps those of other commands) */
void bt_write_state(struct bjob *bj);
void bt_drop_state(struct bjob *bj);
/* bj's requests go to the provider: its first step starts */
void bt_submit(struct bjob *bj);
/* the requests waiting for it, taken off it; then it is freed */
struct req *bt_item_take(struct item *it);
void bt_item_free(struct item *it);
/* the requests of list go again: online, or into a new batch
 * (--batch-retry batch), with why */
void bt_retry(struct bjob *bj, struct req *list, const char *why);

/* exec-batch-call.c */
/* the call of bj's step starts */
void bt_start_step(struct bjob *bj);

#endif
