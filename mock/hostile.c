/* hostile: the answers of a server that means harm or is broken: bodies
 * too large to hold (huge, and gzip bombs that inflate to gigabytes), made
 * while they are sent, and echoes of what the request carried, credentials
 * included. */
#include "mock.h"

#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* A body too large to hold: made while it is sent, gzip-compressed for
 * the gzip kind (a bomb: megabytes that inflate to gigabytes). */
struct big {
	char *head, *tail;    /* the JSON around the answer text */
	uint64_t fill;        /* bytes of answer text ('a') */
	uint64_t at;          /* bytes of the plain body made so far */
	int gz, gz_done;
	z_stream zs;
	unsigned char *zout;  /* compressed bytes not yet sent */
	size_t zlen, zoff;
};

static size_t big_plain(struct big *b, char *out, size_t max)
{
	uint64_t hl = strlen(b->head), tl = strlen(b->tail), total = hl + b->fill + tl;
	size_t n = 0;
	while (n < max && b->at < total) {
		if (b->at < hl) {
			out[n++] = b->head[b->at++];
		} else if (b->at < hl + b->fill) {
			uint64_t left = hl + b->fill - b->at;
			size_t k = max - n < left ? max - n : (size_t)left;
			memset(out + n, 'a', k);
			n += k;
			b->at += k;
		} else {
			out[n++] = b->tail[b->at++ - hl - b->fill];
		}
	}
	return n;
}

static ssize_t big_read(void *cls, uint64_t pos, char *out, size_t max)
{
	(void)pos;
	struct big *b = cls;
	if (!b->gz) {
		size_t n = big_plain(b, out, max);
		return n ? (ssize_t)n : MHD_CONTENT_READER_END_OF_STREAM;
	}
	while (b->zoff == b->zlen) {
		if (b->gz_done)
			return MHD_CONTENT_READER_END_OF_STREAM;
		static __thread char in[1 << 18];
		size_t n = big_plain(b, in, sizeof in);
		b->zs.next_in = (unsigned char *)in;
		b->zs.avail_in = (unsigned)n;
		b->zs.next_out = b->zout;
		b->zs.avail_out = 1 << 18;
		int flush = n < sizeof in ? Z_FINISH : Z_NO_FLUSH;
		int rc = deflate(&b->zs, flush);
		if (rc == Z_STREAM_ERROR || b->zs.avail_in)
			return MHD_CONTENT_READER_END_WITH_ERROR;
		b->gz_done = rc == Z_STREAM_END;
		b->zlen = (1 << 18) - b->zs.avail_out;
		b->zoff = 0;
	}
	size_t k = b->zlen - b->zoff < max ? b->zlen - b->zoff : max;
	memcpy(out, b->zout + b->zoff, k);
	b->zoff += k;
	return (ssize_t)k;
}

void hostile_big_free(void *cls)
{
	struct big *b = cls;
	if (b->gz) {
		deflateEnd(&b->zs);
		free(b->zout);
	}
	free(b->head);
	free(b->tail);
	free(b);
}

struct MHD_Response *hostile_big_response(struct big *b)
{
	/* a plain big body says its size; a gzip one cannot know it */
	uint64_t size = b->gz ? MHD_SIZE_UNKNOWN : strlen(b->head) + b->fill + strlen(b->tail);
	return MHD_create_response_from_callback(size, 1 << 16, big_read, b, hostile_big_free);
}

/* A 200 whose answer text is bytes long, in the API's shape. */
void hostile_big(struct reply *rp, enum api api, const char *model, long bytes, int gz)
{
	struct big *b = xcalloc(1, sizeof *b);
	if (api == API_ANTHROPIC) {
		b->head = xasprintf("{\"id\":\"msg_big\",\"type\":\"message\",\"role\":\"assistant\","
				    "\"model\":\"%s\",\"content\":[{\"type\":\"text\",\"text\":\"", model);
		b->tail = xstrdup("\"}],\"stop_reason\":\"end_turn\",\"usage\":{\"input_tokens\":1,"
				  "\"output_tokens\":1}}");
	} else if (api == API_OLLAMA) {
		b->head = xasprintf("{\"model\":\"%s\",\"message\":{\"role\":\"assistant\",\"content\":\"", model);
		b->tail = xstrdup("\"},\"done\":true,\"prompt_eval_count\":1,\"eval_count\":1}");
	} else {
		b->head = xasprintf("{\"id\":\"chatcmpl-big\",\"object\":\"chat.completion\",\"model\":\"%s\","
				    "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"", model);
		b->tail = xstrdup("\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":1,"
				  "\"completion_tokens\":1,\"total_tokens\":2}}");
	}
	b->fill = (uint64_t)bytes;
	b->gz = gz;
	if (gz) {
		/* windowBits 15 + 16: a gzip wrapper */
		if (deflateInit2(&b->zs, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK)
			die("zlib: cannot start a gzip stream");
		b->zout = xmalloc(1 << 18);
	}
	rp->big = b;
	rp->status = 200;
	rp->ctype = "application/json";
}

struct echo {
	struct buf b;
	int credentials;      /* this pass: the credential headers, or the rest */
};

static enum MHD_Result echo_header(void *cls, enum MHD_ValueKind kind, const char *name,
				   const char *value)
{
	(void)kind;
	struct echo *e = cls;
	if (log_secret_header(name) == e->credentials)
		buf_addf(&e->b, "%s: %s; ", name, value ? value : "");
	return MHD_YES;
}

/* What a careless server repeats in an error or an answer: every header
 * as received, the credentials first, and the body, on one line. */
char *hostile_echo(struct MHD_Connection *c, const struct req *q)
{
	struct echo e = {.credentials = 1};
	struct buf *b = &e.b;
	buf_adds(b, "We received these headers: ");
	MHD_get_connection_values(c, MHD_HEADER_KIND, echo_header, &e);
	e.credentials = 0;
	MHD_get_connection_values(c, MHD_HEADER_KIND, echo_header, &e);
	buf_adds(b, "and this body: ");
	buf_add(b, q->body.p ? q->body.p : "", q->body.len);
	for (size_t i = 0; i < b->len; i++)
		if (b->p[i] == '\n' || b->p[i] == '\r' || !b->p[i])
			b->p[i] = ' ';
	return buf_steal(b);
}
