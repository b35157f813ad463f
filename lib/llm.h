/* llm: the providers. Builds the HTTP request for a chat call (OpenAI Chat
 * Completions, Anthropic Messages, Ollama /api/chat) and reads the answer,
 * the usage and the errors out of each one's response shape. No I/O here:
 * lib/exec-http.c sends what this builds. */
#ifndef SCG_LLM_H
#define SCG_LLM_H

#include <curl/curl.h>
#include <jansson.h>

#include "util.h"

enum provider { P_OPENAI, P_ANTHROPIC, P_OLLAMA };

struct model {
	enum provider provider;
	const char *provider_name;
	char *name;
	char *base_url;
	char *chat_url;         /* where a chat request goes, made from base_url once */
	int name_utf8;          /* the name is valid UTF-8: the direct OpenAI body writes it */
	char *key;              /* from the environment or a key file; never printed */
	int reasoning;          /* o-series and gpt-5: no temperature/top_p */
	int official;           /* api.openai.com: max_completion_tokens */
	json_t *extra;          /* --extra-body: added to every body; the openai
	                         * provider then sends top_k too */
};

/* The model options (lib/run.c fills it from --provider, --model,
 * --base-url, --key-file, --extra-body and --dry-run). */
struct llm_config {
	const char *provider;   /* openai (the default), anthropic or ollama */
	const char *model;      /* NULL: the provider's default model */
	const char *base_url;   /* NULL: the provider's own */
	const char *key_file;   /* NULL: the key comes from the environment */
	const char *extra_body; /* JSON or @FILE added to every body, or NULL */
	int dry_run;            /* nothing is sent, so no key is needed */
};
void llm_configure(const struct llm_config *c);

/* Fills m from the configuration and the environment (the API key). Dies
 * (exit 2) when the official API is named and no key is set. */
void model_init(struct model *m);
/* The same for the model name (NULL: the configured one), with the same
 * provider, base URL and key: a second model of a program. */
void model_init_named(struct model *m, const char *name);

/* Dies (exit 2) unless url is http:// or https:// without control
 * characters; what names it in the message. Its userinfo becomes a secret. */
void url_check(const char *url, const char *what);
/* m->key from key_file, else SCG_API_KEY, else the provider's variable
 * (OPENAI_API_KEY, ANTHROPIC_API_KEY), each a secret; none for the
 * providers' own servers is an error unless dry_run (lib/llm-key.c). */
void model_key(struct model *m, const char *key_file, int dry_run);

struct llm_req {
	const struct model *model;
	json_t *messages;       /* [{role, content}], system messages included;
	                         * with tools, assistant tool_calls and tool
	                         * results too (OpenAI's shape, mapped per provider) */
	json_t *tools;          /* OpenAI function tools the model may call, or NULL */
	json_t *schema;         /* JSON schema of a structured answer, or NULL */
	const char *schema_name;
	double temperature;     /* < 0: not sent */
	double top_p;           /* < 0: not sent */
	int top_k;              /* 0: not sent */
	int max_tokens;         /* 0: provider default */
	int sample;             /* sample index; part of the cache key */
	long seed;              /* sent as the provider's seed (set by exec) */
};

struct http_req {
	char *url;
	char *body;
	struct curl_slist *headers;  /* includes the key: never log them */
	char *key_text;              /* what the cache key hashes (no secrets) */
};

/* The body of r when it is the common OpenAI request (no --extra-body, no
 * schema), written into b without jansson values: 1, or 0 when r is not
 * such a one (lib/llm-openai.c). */
int llm_openai_body(const struct llm_req *r, struct buf *b);

void llm_build(const struct llm_req *r, struct http_req *h);
/* The headers that carry m's key (and Anthropic's version): what every
 * call to the provider sends, its batch API's too. Never log them. */
struct curl_slist *llm_auth_headers(const struct model *m);
void http_req_free(struct http_req *h);

struct llm_answer {
	char *text;             /* the answer; for structured calls, the JSON text */
	json_t *tool_calls;     /* the calls of a model given tools, in OpenAI's
	                         * shape ({id, type, function: {name, arguments}},
	                         * arguments a string; id "" when the provider
	                         * gives none), or NULL */
	long prompt_tokens, completion_tokens;
	char *finish;           /* stop, length, ... as the provider says */
};

/* Reads a 2xx body. Returns 0, or -1 with the reason (a garbage body). */
int llm_parse(const struct model *m, int structured, const char *body, size_t len,
	      struct llm_answer *a, struct buf *why);
void llm_answer_free(struct llm_answer *a);

/* The human message of an error body of any provider's shape. */
void llm_error_text(const char *body, size_t len, struct buf *out);
/* A 429 that waiting does not cure (quota, request too large, spend limit). */
int llm_permanent_429(const char *body, size_t len);

/* Estimated tokens of a request's messages (characters ÷ k, DESIGN §4). */
double llm_estimate_prompt(json_t *messages);
extern double llm_chars_per_token;

#endif
