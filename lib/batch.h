/* batch: the providers' batch APIs on the wire (docs/providers.md, "Batch
 * APIs"): OpenAI's Batch API, a JSONL file of requests uploaded to
 * /v1/files and then a batch on /v1/chat/completions (lib/batch-openai.c),
 * and Anthropic's Message Batches, the requests inline
 * (lib/batch-anthropic.c). As in lib/llm.c there is no I/O here: the
 * executor (lib/exec-batch.c) sends what this builds and hands back what
 * came. Both answer in any order and match answers to requests only by the
 * caller's custom_id. */
#ifndef SCG_BATCH_H
#define SCG_BATCH_H

#include <jansson.h>

#include "llm.h"

/* Where a batch is, in words common to both providers. */
enum batch_phase {
	BATCH_RUNNING,          /* validating, in progress, finalizing */
	BATCH_CANCELLING,       /* a cancel was asked for; it goes on a while */
	BATCH_ENDED,            /* every request ran: the results are there */
	BATCH_EXPIRED,          /* not done within 24 h: partial results */
	BATCH_CANCELLED,        /* cancelled: partial results */
	BATCH_FAILED,           /* refused as a whole (OpenAI's validation) */
};

struct batch_status {
	char *id;
	enum batch_phase phase;
	char *status;           /* the provider's own word for it */
	long done, failed, total;
	char *results;          /* URL of the results, once there are any */
	char *errors;           /* OpenAI: URL of the error file, or NULL */
	char *set;              /* OpenAI: the request set scg named in its metadata */
	char *why;              /* BATCH_FAILED: the provider's reasons */
};
void batch_status_free(struct batch_status *s);

/* What one line of the results says of one request. */
enum batch_outcome {
	BATCH_ANSWER,           /* body: what the synchronous API would have said */
	BATCH_ERROR,            /* status and message: it ran and failed */
	BATCH_NOT_RUN,          /* expired or cancelled before it ran */
};

struct batch_result {
	char *custom_id;
	enum batch_outcome outcome;
	char *body;
	long status;            /* BATCH_ERROR: the HTTP status it got; 0 unknown */
	char *message;          /* BATCH_ERROR, BATCH_NOT_RUN: the provider's words */
};
void batch_result_free(struct batch_result *r);

struct batch_wire {
	const char *name;               /* "OpenAI's Batch API", for messages */
	long max_requests, max_bytes;   /* the provider's limits of one batch */
	int upload;                     /* the requests go up as a file first */
	/* The requests: head, then the items with sep between them, then tail. */
	const char *head, *sep, *tail;
	void (*item)(struct buf *b, const char *custom_id, const char *body);
	/* The bytes item() adds beyond the custom_id and the body. */
	size_t item_overhead;
	/* URLs; the caller frees them. list is NULL where the provider's list
	 * cannot find a batch by what scg put in it. */
	char *(*upload_url)(const struct model *m);
	char *(*create_url)(const struct model *m);
	char *(*status_url)(const struct model *m, const char *id);
	char *(*cancel_url)(const struct model *m, const char *id);
	char *(*list_url)(const struct model *m, const char *after);
	/* The body of the create call for an uploaded file (upload only). */
	char *(*create_body)(const char *file_id, const char *set);
	/* The id of an uploaded file, from the upload's answer. */
	int (*parse_file)(json_t *v, char **id, struct buf *why);
	/* A batch object (create, poll, cancel); m gives the results' URLs. */
	int (*parse_status)(const struct model *m, json_t *v, struct batch_status *s, struct buf *why);
	/* One line of the results (and of OpenAI's error file). */
	int (*parse_result)(json_t *line, struct batch_result *r, struct buf *why);
};

extern const struct batch_wire batch_openai, batch_anthropic;

/* The batch API of m's provider, or NULL (Ollama has none). */
const struct batch_wire *batch_wire_for(const struct model *m);

/* Whether an id a server gave may go into a URL and a file name:
 * letters, digits, _ and - only. */
int batch_id_ok(const char *id);
/* Whether url is on base's scheme, host and port: a results URL elsewhere
 * would be sent the key. */
int batch_same_origin(const char *base, const char *url);

#endif
