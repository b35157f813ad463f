/* endpoint: the assistant under test behind HTTP, described by a YAML or
 * JSON file in the original tool's shape (url, body, headers,
 * response_path; ${VAR} from the environment) plus scg's optional timeout,
 * retries, system and messages_key. */
#ifndef SCG_ENDPOINT_H
#define SCG_ENDPOINT_H

#include <curl/curl.h>
#include <jansson.h>

#include "util.h"

struct endpoint {
	char *path;            /* the file, for messages */
	char *url;
	json_t *body;          /* template body */
	json_t *headers;       /* object name -> value, may be NULL */
	json_t *response_path; /* array of keys and indices */
	char *system;          /* may be NULL */
	char *messages_key;
	double timeout;        /* 0: the common --timeout */
	int retries;           /* -1: the common --retries */
};

/* Loads and checks the file; dies (exit 2) naming the file and field. */
void endpoint_load(struct endpoint *e, const char *path);
/* The JSON body for a conversation (messages: [{role, content}]). */
char *endpoint_body(const struct endpoint *e, json_t *messages);
/* The request headers (Content-Type and the file's own). */
struct curl_slist *endpoint_headers(const struct endpoint *e);
/* The reply text found by response_path in a response body, or NULL with
 * the reason in err. The result is a new string. */
char *endpoint_reply(const struct endpoint *e, const char *body, size_t len, struct buf *err);
/* Walks a path of keys and indices; NULL when a step is missing. */
json_t *endpoint_walk(json_t *v, json_t *path, struct buf *where);

#endif
