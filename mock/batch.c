/* batch: the batches scg-mock keeps for its two batch APIs (see batch.h),
 * the routing of their paths, and the options that shape them. */
#include "batch.h"
#include "opt.h"
#include "rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

pthread_mutex_t batch_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mbatch *batches;
static long made;

static const char *const fail_names[] = {"400", "500", "expired", "zero"};
enum { BF_400, BF_500, BF_EXPIRED, BF_ZERO, NBF };

/* --batch-fail 400=0.1,expired=0.05 */
void batch_fail_opt(const char *name, const char *arg)
{
	double sum = 0;
	for (const char *p = arg; *p;) {
		size_t n = strcspn(p, ",");
		const char *eq = memchr(p, '=', n);
		int k = NBF;
		for (int i = 0; eq && i < NBF; i++)
			if (strlen(fail_names[i]) == (size_t)(eq - p) && !strncmp(fail_names[i], p, (size_t)(eq - p)))
				k = i;
		char *end;
		double rate = eq ? strtod(eq + 1, &end) : -1;
		if (k == NBF || end != p + n || rate < 0 || rate > 1)
			usage_error("%s: expected KIND=RATE,... (KIND 400, 500, expired or zero; RATE in "
				    "0..1), got '%.*s'", name, (int)n, p);
		conf.batch_fail[k] = rate;
		sum += rate;
		p += n + (p[n] == ',');
	}
	if (sum > 1 + 1e-9)
		usage_error("%s: the rates add up to %g, more than 1", name, sum);
}

enum api batch_api(const char *url)
{
	if (!strcmp(url, "/v1/files") || !strncmp(url, "/v1/files/", 10) || !strcmp(url, "/v1/batches") ||
	    !strncmp(url, "/v1/batches/", 12))
		return API_OPENAI;
	if (!strcmp(url, "/v1/messages/batches") || !strncmp(url, "/v1/messages/batches/", 21))
		return API_ANTHROPIC;
	return API_NONE;
}

void batch_serve(struct reply *rp, struct req *q, struct MHD_Connection *c, const char *method,
		 const char *url)
{
	pthread_mutex_lock(&batch_lock);
	if (q->api == API_ANTHROPIC)
		batch_anthropic_serve(rp, q, c, method, url);
	else
		batch_openai_serve(rp, q, c, method, url);
	pthread_mutex_unlock(&batch_lock);
}

struct mbatch *mbatch_new(enum api api, const char *prefix, long n)
{
	struct mbatch *b = xcalloc(1, sizeof *b);
	made++;
	reply_id(b->id, sizeof b->id, prefix, hash64(&made, sizeof made, opts.seed), "batch");
	b->api = api;
	b->created = now_real();
	b->secs = conf.batch_ms / 1000;
	b->n = n;
	b->reqs = xcalloc(n ? (size_t)n : 1, sizeof *b->reqs);
	b->expires = conf.batch_expire >= 0;
	b->next = batches;
	batches = b;
	return b;
}

struct mbatch *mbatch_find(enum api api, const char *id)
{
	for (struct mbatch *b = batches; b; b = b->next)
		if (b->api == api && !strcmp(b->id, id))
			return b;
	return NULL;
}

struct mbatch *mbatch_list(enum api api, const char *after)
{
	struct mbatch *b = batches;
	if (after) {
		while (b && strcmp(b->id, after))
			b = b->next;
		if (b)
			b = b->next;
	}
	while (b && b->api != api)
		b = b->next;
	return b;
}

void mbatch_answer(struct mbatch *b, long i, const char *cid, const char *raw, size_t len, json_t *doc)
{
	struct mreq *m = &b->reqs[i];
	m->cid = xstrdup(cid);
	struct rng r;
	/* drawn anew in each batch: a request sent again may fare better */
	rng_init(&r, opts.seed, cid, "scg-mock batch-fail", b->id);
	double u = rng_double(&r), cum = 0;
	int fail = NBF;
	for (int k = 0; k < NBF && fail == NBF; k++)
		if (u < (cum += conf.batch_fail[k]))
			fail = k;
	struct reply rp = {.status = 200};
	snprintf(rp.rid, sizeof rp.rid, "req_%016llx", (unsigned long long)hash64(cid, strlen(cid), opts.seed));
	if (fail == BF_400) {
		reply_invalid(&rp, b->api, "messages", "invalid_value",
			      "scg-mock --batch-fail: this request is refused as invalid");
	} else if (fail == BF_500 || fail == BF_ZERO) {
		reply_error(&rp, b->api, 500, "server_error", "api_error", NULL, NULL,
			    "The server had an error while processing your request.");
		m->zero = fail == BF_ZERO;
	} else {
		m->expired = fail == BF_EXPIRED;
		/* the same answer as online: the same handler, the same key */
		struct req q = {.api = b->api, .doc = doc, .out = {.kind = K_OK, .retry_ms = -1, .should_retry = -1}};
		buf_add(&q.body, raw, len);
		q.key = hash64(raw, len, opts.seed);
		if (b->api == API_ANTHROPIC)
			anthropic_messages(&rp, &q);
		else
			openai_chat(&rp, &q);
		buf_free(&q.body);
	}
	m->status = rp.status;
	m->body = json_loadb(rp.body.p ? rp.body.p : "", rp.body.len, 0, NULL);
	if (!m->body)
		m->body = json_stringn(rp.body.p ? rp.body.p : "", rp.body.len);
	for (int h = 0; h < rp.nhdr; h++) {
		free(rp.hdr[h][0]);
		free(rp.hdr[h][1]);
	}
	buf_free(&rp.body);
}

/* When request i ends, counted from the batch's creation: one after
 * another over its time; never, past what --batch-expire lets end. */
static double ends_at(const struct mbatch *b, long i)
{
	if (b->reqs[i].expired || (b->expires && i >= (long)ceil(conf.batch_expire * (double)b->n)))
		return INFINITY;
	return b->secs * (double)(i + 1) / (double)b->n;
}

int mbatch_req_done(const struct mbatch *b, long i, double now)
{
	double at = b->created + ends_at(b, i);
	return at <= now && (!b->cancelled || at <= b->cancelled);
}

int mbatch_over(const struct mbatch *b, double now)
{
	return now >= b->created + b->secs || (b->cancelled && b->cancel_seen);
}

long *mbatch_order(const struct mbatch *b)
{
	long *order = xcalloc(b->n ? (size_t)b->n : 1, sizeof *order);
	for (long i = 0; i < b->n; i++)
		order[i] = i;
	struct rng r;
	rng_init(&r, opts.seed, b->id, "scg-mock", "batch-order");
	for (long i = b->n - 1; i > 0; i--) {
		long k = (long)rng_below(&r, (uint64_t)i + 1), t = order[i];
		order[i] = order[k];
		order[k] = t;
	}
	return order;
}

void mbatch_error(struct reply *rp, enum api api, int status, const char *msg)
{
	if (status == 404)
		reply_error(rp, api, 404, "invalid_request_error", "not_found_error", NULL, NULL, msg);
	else
		reply_invalid(rp, api, NULL, NULL, msg);
}

void batch_free(void)
{
	for (struct mbatch *b = batches, *next; b; b = next) {
		next = b->next;
		for (long i = 0; i < b->n; i++) {
			free(b->reqs[i].cid);
			json_decref(b->reqs[i].body);
		}
		free(b->reqs);
		json_decref(b->extra);
		free(b);
	}
	batches = NULL;
	batch_openai_free();
}
