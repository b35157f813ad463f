/* exec-h1-int.h: what the two halves of scg's own HTTP/1.1 client share:
 * exec-h1.c (connections, sending, the executor's side) and
 * exec-h1-answer.c (reading an answer: head, framing, decoding). */
#ifndef SCG_EXEC_H1_INT_H
#define SCG_EXEC_H1_INT_H

#include "exec-int.h"
#include "dheap.h"

#include <sys/socket.h>
#include <zlib.h>

#define HEAD_MAX (100 * 1024)   /* an answer's head (libcurl bounds one header line so) */
#define CHUNK_LINE_MAX (4 * 1024)  /* a chunk's size line */
#define READ_SIZE (16 * 1024)

struct host {
	char *authority;        /* host[:port] as the URL has it */
	char *host_header;      /* the same without a port of 80 */
	struct sockaddr_storage addr[2];   /* tried in turn */
	socklen_t addrlen[2];
	int naddr;
	struct conn *idle;      /* kept-alive connections, last used first */
	struct host *next;
};

/* A URL seen before: its host and path, or no host when libcurl takes it. */
struct target {
	char *url;
	struct host *host;
	char *path;
	struct target *next;
};

enum state { C_FAILED, C_CONNECT, C_SEND, C_RECV, C_IDLE, C_CLOSED };
enum phase { P_HEAD, P_LEN, P_CHUNK_SIZE, P_CHUNK_DATA, P_CHUNK_END, P_TRAILER, P_EOF, P_DONE };

struct conn {
	struct ev ev;           /* first: evset_retire frees the connection */
	struct host *host;
	struct req *req;
	enum state state;
	CURLcode failed;        /* C_FAILED: the result, given after the wait */
	int addr_i;             /* the host's address connected to */
	int reused;             /* the request went on a kept-alive connection */
	double started;
	struct dl dl;
	struct buf out;         /* the request head */
	size_t body_len;        /* the request body's, sent from the request */
	size_t sent;            /* bytes of head and body sent */
	char *in;               /* bytes read and not yet taken */
	size_t in_len, in_cap, scanned;
	enum phase phase;
	unsigned long long left; /* bytes left of the body or of its chunk */
	int keep;               /* may carry another request after this one */
	int got;                /* a byte of the answer came */
	z_stream *z;            /* a gzip or deflate body */
	struct conn *idle_next, *idle_prev;
};

/* Takes what c->in holds: -1 while the answer is not over, else the
 * CURLcode the request ends with (CURLE_OK: the answer is whole) (in
 * exec-h1-answer.c; the parse, no request ended there, so a fuzz target
 * can drive it alone). */
int h1_take(struct conn *c);

#endif
