/* mock: what the files of scg-mock share. scg-mock is the test server,
 * kept apart from the programs: main.c reads the options and runs the
 * server of server.c, which takes each request through faults.c (what
 * happens to it: --script, --rpm, --fail, and the error replies),
 * hostile.c (huge and gzip bodies, echoes), answer.c (the answer, made by
 * gen.h or canned), tools.c (a tool call when tools are offered), the API
 * it was sent to (openai.c, anthropic.c, ollama.c, with the helpers of
 * reply.c) and log.c; the batch APIs in batch.c, batch-openai.c and
 * batch-anthropic.c (mock/batch.h). */
#ifndef SCG_MOCK_H
#define SCG_MOCK_H

#include "jv.h"
#include "util.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

struct MHD_Connection;
struct MHD_Daemon;
struct MHD_Response;

/* ---- the types ---- */

/* What happens to a request: ok, or a fault (faults.c, hostile.c) */
enum kind {
	K_OK, K_429, K_QUOTA, K_500, K_502, K_503, K_529, K_NORETRY, K_DROP,
	K_STALL, K_GARBAGE, K_INVALID, K_400, K_403, K_408, K_409, K_TOOLARGE,
	K_ECHO401, K_ECHO, K_ERROR200, K_HUGE, K_GZIP, NKINDS
};
extern const char *const kind_names[NKINDS];

/* What one request may make the mock hold: a larger upload is a 413. */
#define MOCK_MAX_UPLOAD (32L << 20)
/* The answer of huge and gzip when the script gives no bytes=N. */
#define MOCK_HUGE_BYTES (64L << 20)

/* A script line's retry hints are sent as given; a 429 without any gets
 * retry-after and retry-after-ms from --retry-after-ms. */
struct outcome {
	enum kind kind;
	double retry_ms;    /* >= 0: retry-after-ms */
	double retry_s;     /* > 0: retry-after in seconds */
	double retry_date;  /* > 0: retry-after as an HTTP date this many seconds ahead */
	int should_retry;   /* >= 0: x-should-retry false or true */
	int rpm_limited;    /* the 429 comes from --rpm */
	long bytes;         /* > 0: the answer text of huge and gzip */
	int has_usage;      /* usage=N: the completion tokens reported */
	long usage;
};

enum api { API_NONE, API_OPENAI, API_ANTHROPIC, API_OLLAMA, API_HEALTH };

/* The options (main.c). */
struct mock_conf {
	const char *host;
	int port;
	double lat_lo, lat_hi;          /* ms */
	long rpm;
	struct { enum kind kind; double rate; } fail[NKINDS];
	int nfail;
	struct outcome *script;
	long nscript;
	double retry_ms, stall_ms;
	FILE *log;
	const char *key;
	char **models;
	int nmodels, strict;
	/* the batch APIs */
	double batch_ms;                /* --batch-time: how long a batch takes */
	double batch_expire;            /* --batch-expire: the part done when it expires; < 0 none */
	double batch_fail[4];           /* --batch-fail: rates of 400, 500, expired, zero */
	long batch_max;                 /* --batch-max-requests */
	double tool_errors;             /* share of malformed tool calls */
};
extern struct mock_conf conf;

struct big;                     /* a body made while it is sent (hostile.c) */

/* A reply, decided at once when the request has arrived (server.c) */
struct reply {
	int status;
	struct buf body;
	const char *ctype;
	char *hdr[24][2];
	int nhdr;
	int drop;
	const char *outcome;
	char rid[40];         /* request id */
	struct big *big;      /* sent instead of body */
};

/* A request, from its arrival to its reply (server.c) */
struct req {
	enum api api;
	long n, seq;
	long open;            /* requests being answered when its body was in,
	                       * this one included (the log's "open") */
	struct outcome out;
	double rpm_wait;
	struct buf body;
	int too_large;        /* the upload passed MOCK_MAX_UPLOAD */
	json_t *doc;          /* the parsed body, or NULL */
	uint64_t key;         /* hash of the body and --seed */
	char *echo;           /* echo kinds: what the request carried */
};

/* What a request asks for: prose, a JSON-mode object, or a schema value. */
struct ask {
	const json_t *schema;
	int json_mode;
	const char *tool;     /* anthropic forced tool */
};

struct answer {
	char *text;           /* the content text (JSON text when structured) */
	json_t *tool_input;   /* a forced tool call instead of text */
	long prompt_tokens, completion_tokens;
	int cut;              /* the invalid fault: truncated or empty */
};

/* ---- faults (faults.c) ---- */

/* --fail KIND=RATE,...: the rates of the fault kinds (an option's handler). */
void fault_rates_opt(const char *name, const char *arg);
/* Loads --script FILE (NULL: none) and makes room for --rpm. */
void fault_init(const char *script_path);
void fault_free(void);
/* The outcome of the request that arrived n-th (the seq-th model request);
 * *rpm_wait is set for a 429 of --rpm. */
struct outcome fault_decide(long n, long seq, double *rpm_wait);
/* Makes the reply of a fault kind; 0 when the request goes on. */
int fault_reply(struct reply *rp, enum api api, const struct outcome *o, const char *model);

/* ---- replies (reply.c) ---- */

void reply_header(struct reply *rp, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Compact JSON whose numbers read as written: 1.4, not 1.3999999999999999. */
char *reply_dump(const json_t *v);
/* The reply is status and v (stolen). */
void reply_json(struct reply *rp, int status, json_t *v);
/* An error in the provider's shape; the type names differ by provider. */
void reply_error(struct reply *rp, enum api api, int status, const char *oa_type,
		 const char *an_type, const char *code, const char *param, const char *msg);
/* A 400 invalid_request_error. */
void reply_invalid(struct reply *rp, enum api api, const char *param, const char *code,
		   const char *msg);
/* "2026-01-02T03:04:05Z" for the time t (seconds since the epoch), rounded up. */
void reply_rfc3339(char *out, size_t size, double t);
/* Pieces of a text for streaming: about four, cut after spaces. */
int reply_pieces(const char *text, const char **start, size_t *len, int max);
/* prefix and 24 hex digits drawn from key and salt: an id that is the same
 * for the same request. */
void reply_id(char *out, size_t size, const char *prefix, uint64_t key, const char *salt);
/* Appends one server-sent event carrying v (stolen). */
void reply_sse(struct buf *b, const char *event, json_t *v);

/* ---- a hostile server (hostile.c) ---- */

/* A 200 whose answer text is bytes long, in the API's shape, made while it
 * is sent; gzip-compressed when gz. */
void hostile_big(struct reply *rp, enum api api, const char *model, long bytes, int gz);
/* The response that sends b, which it then owns. */
struct MHD_Response *hostile_big_response(struct big *b);
void hostile_big_free(void *b);
/* What a careless server repeats: every header as received, the
 * credentials first, and the body, on one line. Caller frees. */
char *hostile_echo(struct MHD_Connection *c, const struct req *q);

/* ---- the answer (answer.c) ---- */

/* --answers FILE: canned structured answers (exits on a bad file). */
void answer_canned_load(const char *path);
void answer_canned_free(void);
/* Whether model is one of --models (any model without it). */
int answer_model_known(const char *model);
/* Makes the answer; -1 after a 400 when the schema asks for more than one
 * answer may hold (MOCK_GEN_MAX). */
int answer_make(struct reply *rp, enum api api, struct answer *a, const struct req *q,
		const struct ask *ask, const json_t *messages, const json_t *system);
void answer_free(struct answer *a);

/* ---- tool calls (tools.c) ---- */

struct mock_call {
	char *name;
	char *arguments;      /* the JSON text (cut short when spoiled so) */
	json_t *input;        /* the arguments as an object */
	char id[64];
};
/* Whether a request that offers tools (either shape) gets a call now,
 * made into c: after the user's words, or after a result that was an
 * error; --tool-errors spoils that share of them. The tools count in a's
 * prompt tokens, a call's arguments are its completion. */
struct answer;
int tool_call_make(const struct req *q, enum api api, const json_t *tools, const json_t *messages,
		   struct answer *a, struct mock_call *c);
void tool_call_free(struct mock_call *c);

/* ---- the APIs (openai.c, anthropic.c, ollama.c) ---- */

void openai_chat(struct reply *rp, struct req *q);
void anthropic_messages(struct reply *rp, struct req *q);
void ollama_chat(struct reply *rp, struct req *q);

/* ---- the batch APIs (batch.c) ---- */

/* The API whose batch path url is (OpenAI's files and batches,
 * Anthropic's message batches), or API_NONE. */
enum api batch_api(const char *url);
/* Answers a request to a batch path (any method). */
void batch_serve(struct reply *rp, struct req *q, struct MHD_Connection *c, const char *method,
		 const char *url);
/* --batch-fail KIND=RATE,...: per-request failures inside batches. */
void batch_fail_opt(const char *name, const char *arg);
void batch_free(void);

/* ---- the log (log.c) ---- */

/* Whether the header name (any case) carries a credential. */
int log_secret_header(const char *name);
void log_request(struct MHD_Connection *c, const char *method, const char *url,
		 const struct req *q, const struct reply *rp);

/* ---- the server (server.c) ---- */

/* Listens on --host and --port and prints the port on stdout. */
struct MHD_Daemon *server_start(void);
/* Wakes the requests that wait out a latency, and stops. */
void server_stop(struct MHD_Daemon *d);

#endif
