/* exec-batch: --batch. A model request that the cache does not answer is
 * collected instead of sent, under a custom_id that is the hash of its
 * cache key; what is collected goes to the provider's batch API
 * (lib/batch.h) at its limits, or once nothing else can move (the input
 * read, no request online). Each batch is polled, at intervals that grow
 * to a minute, until it ends; its results go to the cache first and then
 * through the answer path every request takes (exec-request.c: the schema,
 * the program's check, re-asks), and what it did not answer is retried
 * online, or in a new batch with --batch-retry batch; a 4xx that online
 * would not be retried is the record's reject, with the provider's words.
 *
 * Waiting is safe: each batch is kept in a state file in the cache,
 * batches/SET.json, SET the hash of its request set, written before the
 * batch is created and again with its id before it is polled. A run that
 * is stopped and started again with the same command finds its requests
 * there and polls the same batches instead of submitting them twice. */
#include "exec-int.h"
#include "batch.h"
#include "cache.h"
#include "cost.h"
#include "jparse.h"
#include "jv.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

/* ---- a table of strings ---------------------------------------------- */

struct ent {
	const char *key;        /* borrowed from val's owner */
	void *val;
	struct ent *next;
};

struct map {
	struct ent **b;
	size_t size, n;
};

static size_t map_slot(const struct map *m, const char *key)
{
	return (size_t)hash64(key, strlen(key), 0) & (m->size - 1);
}

static void *map_get(const struct map *m, const char *key)
{
	if (!m->size)
		return NULL;
	for (struct ent *e = m->b[map_slot(m, key)]; e; e = e->next)
		if (!strcmp(e->key, key))
			return e->val;
	return NULL;
}

static void map_put(struct map *m, const char *key, void *val)
{
	if (m->n >= m->size) {
		struct map bigger = {.size = m->size ? m->size * 2 : 256};
		bigger.b = xcalloc(bigger.size, sizeof *bigger.b);
		for (size_t i = 0; i < m->size; i++)
			for (struct ent *e = m->b[i], *next; e; e = next) {
				next = e->next;
				size_t k = map_slot(&bigger, e->key);
				e->next = bigger.b[k];
				bigger.b[k] = e;
			}
		free(m->b);
		m->b = bigger.b;
		m->size = bigger.size;
	}
	struct ent *e = xmalloc(sizeof *e);
	size_t k = map_slot(m, key);
	*e = (struct ent){key, val, m->b[k]};
	m->b[k] = e;
	m->n++;
}

static void map_del(struct map *m, const char *key, const void *val)
{
	if (!m->size)
		return;
	for (struct ent **p = &m->b[map_slot(m, key)]; *p; p = &(*p)->next)
		if ((*p)->val == val && !strcmp((*p)->key, key)) {
			struct ent *e = *p;
			*p = e->next;
			free(e);
			m->n--;
			return;
		}
}

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

static struct {
	int ready;
	double poll_first, poll_max;    /* SCG_BATCH_POLL */
	long max_requests, max_bytes;   /* SCG_BATCH_MAX_REQUESTS, _BYTES; 0: the provider's */
	char *dir;                      /* $SCG_CACHE/batches */
	struct map items, saved_ids;
	struct saved *saved;
	struct pack *packs;
	struct bjob *bjobs;
	double since;                   /* the first batch of this run: waited since */
	long submitted, resumed, answered, retried, rejected;
} B;

static long env_long(const char *name, long dflt)
{
	const char *v = getenv(name);
	if (!v || !*v)
		return dflt;
	char *end;
	errno = 0;
	long n = strtol(v, &end, 10);
	if (*end || errno || n < 1)
		die_status(2, "%s: expected a positive whole number, got '%s'", name, v);
	return n;
}

/* A line on stderr about the batches, unless -q. */
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	if (ex.cfg.quiet)
		return;
	va_list ap;
	va_start(ap, fmt);
	char *s;
	if (vasprintf(&s, fmt, ap) < 0)
		die("out of memory");
	va_end(ap);
	if (progress_shown())
		fputs("\r\033[K", stderr);
	warnx_("%s", s);
	free(s);
}

/* ---- state files --------------------------------------------------------- */

/* The earlier runs' batch files, indexed by custom_id; a file that is not
 * one is left alone. */
static void load_saved(void)
{
	char **names;
	size_t n;
	if (dir_names(B.dir, &names, &n))
		return;
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(names[i]);
		char *path = xasprintf("%s/%s", B.dir, names[i]);
		char *text = len > 5 && !strcmp(names[i] + len - 5, ".json") ? read_file(path, &len) : NULL;
		struct buf err = {0};
		json_t *doc = text ? jparse(text, len, &err) : NULL;
		buf_free(&err);
		free(text);
		json_t *ids = json_object_get(doc, "custom_ids");
		if (!json_is_array(ids) || !jv_str(doc, "set")) {
			json_decref(doc);
			free(path);
			free(names[i]);
			continue;
		}
		struct saved *sv = xcalloc(1, sizeof *sv);
		sv->path = path;
		sv->doc = doc;
		sv->next = B.saved;
		B.saved = sv;
		size_t k;
		json_t *id;
		json_array_foreach(ids, k, id)
			if (json_is_string(id))
				map_put(&B.saved_ids, json_string_value(id), sv);
		free(names[i]);
	}
	free(names);
}

static void write_state(struct bjob *bj)
{
	json_t *v = json_pack("{s:i, s:s, s:s, s:s, s:s?, s:s?, s:b, s:I, s:O}", "scg_batch", 1,
			      "provider", bj->model->provider_name, "model", bj->model->name, "set", bj->set,
			      "id", bj->id, "file", bj->file_id, "cancel", bj->cancel_sent,
			      "written", (json_int_t)now_real(), "custom_ids", bj->ids);
	char *text = jv_compact(v);
	json_decref(v);
	int err = cache_write_file(bj->state, text);
	free(text);
	if (err)
		die("%s: %s: a run stopped now could not find its batch again", bj->state, strerror(err));
}

/* The batch is over for this run's requests: its file keeps the ones of
 * other commands that are in it, or goes. */
static void drop_state(struct bjob *bj)
{
	struct map ours = {0};
	for (struct item *it = bj->items; it; it = it->next)
		map_put(&ours, it->cid, it);
	json_t *left = json_array();
	size_t i;
	json_t *id;
	json_array_foreach(bj->ids, i, id)
		if (json_is_string(id) && !map_get(&ours, json_string_value(id)))
			json_array_append(left, id);
	for (size_t k = 0; k < ours.size; k++)
		for (struct ent *e = ours.b[k], *next; e; e = next) {
			next = e->next;
			free(e);
		}
	free(ours.b);
	if (!json_array_size(left) || bj->st.phase == BATCH_FAILED) {
		if (unlink(bj->state) && errno != ENOENT)
			warnx_("%s: %s", bj->state, strerror(errno));
	} else {
		json_decref(bj->ids);
		bj->ids = json_incref(left);
		write_state(bj);
	}
	json_decref(left);
}

/* ---- collecting ---------------------------------------------------------- */

static void cid_of(const char *key_text, char out[40])
{
	XXH128_hash_t h = XXH3_128bits(key_text, strlen(key_text));
	snprintf(out, 40, "scg-%016llx%016llx", (unsigned long long)h.high64, (unsigned long long)h.low64);
}

static long limit_requests(const struct batch_wire *w)
{
	return B.max_requests ? B.max_requests : w->max_requests;
}

static long limit_bytes(const struct batch_wire *w)
{
	return B.max_bytes ? B.max_bytes : w->max_bytes;
}

static struct bjob *bjob_new(const struct model *m)
{
	struct bjob *bj = xcalloc(1, sizeof *bj);
	bj->model = m;
	bj->w = batch_wire_for(m);
	bj->interval = B.poll_first;
	bj->since = now_mono();
	if (!B.since)
		B.since = bj->since;
	bj->next = B.bjobs;
	B.bjobs = bj;
	return bj;
}

static void build_payload(struct bjob *bj)
{
	const struct batch_wire *w = bj->w;
	buf_reset(&bj->payload);
	buf_adds(&bj->payload, w->head);
	for (struct item *it = bj->items; it; it = it->next) {
		if (it != bj->items)
			buf_adds(&bj->payload, w->sep);
		w->item(&bj->payload, it->cid, it->reqs->h.body);
	}
	buf_adds(&bj->payload, w->tail);
}

static int by_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A new batch of items (each with its bj set): its request set named,
 * its state file written before it is created. */
static void bjob_submit(struct bjob *bj)
{
	const char **cids = xcalloc((size_t)bj->n + 1, sizeof *cids);
	long n = 0;
	for (struct item *it = bj->items; it; it = it->next)
		cids[n++] = it->cid;
	qsort(cids, (size_t)n, sizeof *cids, by_str);
	XXH3_state_t *h = XXH3_createState();
	XXH3_128bits_reset(h);
	XXH3_128bits_update(h, bj->model->provider_name, strlen(bj->model->provider_name) + 1);
	XXH3_128bits_update(h, bj->model->base_url, strlen(bj->model->base_url) + 1);
	json_decref(bj->ids);
	bj->ids = json_array();
	for (long i = 0; i < n; i++) {
		XXH3_128bits_update(h, cids[i], strlen(cids[i]) + 1);
		json_array_append_new(bj->ids, json_string(cids[i]));
	}
	XXH128_hash_t d = XXH3_128bits_digest(h);
	XXH3_freeState(h);
	free(cids);
	snprintf(bj->set, sizeof bj->set, "%016llx%016llx", (unsigned long long)d.high64,
		 (unsigned long long)d.low64);
	free(bj->state);
	bj->state = xasprintf("%s/%s.json", B.dir, bj->set);
	free(bj->id);
	free(bj->file_id);
	bj->id = bj->file_id = NULL;
	build_payload(bj);
	write_state(bj);
	bj->step = bj->w->upload ? S_UPLOAD : S_CREATE;
	bj->next_at = 0;
	bj->tries = 0;
}

static void pack_submit(struct pack *p)
{
	if (!p->n)
		return;
	struct bjob *bj = bjob_new(p->model);
	bj->items = p->items;
	bj->n = p->n;
	for (struct item *it = bj->items; it; it = it->next)
		it->bj = bj;
	p->items = p->tail = NULL;
	p->n = 0;
	p->bytes = 0;
	bjob_submit(bj);
}

static struct pack *pack_for(const struct model *m)
{
	struct pack **p = &B.packs;
	for (; *p; p = &(*p)->next)
		if ((*p)->model == m)
			return *p;
	*p = xcalloc(1, sizeof **p);
	(*p)->model = m;
	(*p)->w = batch_wire_for(m);
	return *p;
}

static struct bjob *resume(struct saved *sv, const struct model *m)
{
	if (sv->bj)
		return sv->bj;
	struct bjob *bj = bjob_new(m);
	sv->bj = bj;
	bj->from = sv;
	snprintf(bj->set, sizeof bj->set, "%s", jv_str(sv->doc, "set"));
	bj->state = xstrdup(sv->path);
	bj->ids = json_incref(json_object_get(sv->doc, "custom_ids"));
	const char *id = jv_str(sv->doc, "id"), *file = jv_str(sv->doc, "file");
	bj->id = batch_id_ok(id) ? xstrdup(id) : NULL;
	bj->file_id = batch_id_ok(file) ? xstrdup(file) : NULL;
	bj->cancel_sent = json_is_true(json_object_get(sv->doc, "cancel"));
	bj->step = bj->id ? S_POLL : S_FIND;
	B.resumed++;
	if (bj->id)
		say("batch %s, submitted by an earlier run, is polled again", bj->id);
	return bj;
}

static void item_free(struct item *it)
{
	free(it);
}

static int collect(struct req *r);

/* An item's requests, taken off it: the item is done. */
static struct req *item_take(struct item *it)
{
	struct req *list = it->reqs;
	it->reqs = NULL;
	it->done = 1;
	map_del(&B.items, it->cid, it);
	return list;
}

/* Requests a batch did not answer (why): online again, into a new batch,
 * or, with --batch-cancel, rejected. */
static void retry(struct bjob *bj, struct req *list, const char *why)
{
	for (struct req *r = list, *next; r; r = next) {
		next = r->next;
		r->next = NULL;
		if (ex.cfg.batch_cancel) {
			req_fail(r, "%s; not sent again (--batch-cancel)", why);
			bj->rejected++;
			continue;
		}
		r->stats->retries++;
		bj->retried++;
		if (!ex.cfg.batch_retry) {
			req_online(r);
		} else if (++r->attempt > r->max_retries) {
			req_fail(r, "gave up after %d batches: %s", r->attempt, why);
			bj->retried--;
			bj->rejected++;
		} else if (!collect(r)) {
			req_online(r);
		}
	}
}

/* Collects r; 0 when it cannot go in a batch (larger than one may be). */
static int collect(struct req *r)
{
	char cid[40];
	cid_of(r->h.key_text, cid);
	struct item *it = map_get(&B.items, cid);
	r->batched = 1;
	if (it) {
		/* the same request twice: one answer serves both */
		r->next = it->reqs;
		it->reqs = r;
		return 1;
	}
	/* an earlier run's batch, unless it is gone or its results are being
	 * read (a request of it sent again goes into a new batch) */
	struct saved *sv = map_get(&B.saved_ids, cid);
	if (sv && (sv->dead || (sv->bj && sv->bj->step >= S_RESULTS)))
		sv = NULL;
	if (!sv && ex.cfg.batch_cancel) {
		req_fail(r, "not sent: --batch-cancel sends no new request");
		return 1;
	}
	const struct batch_wire *w = batch_wire_for(r->lr.model);
	size_t size = w->item_overhead + strlen(cid) + strlen(r->h.body) + strlen(w->sep);
	if (!sv) {
		if (size + strlen(w->head) + strlen(w->tail) > (size_t)limit_bytes(w)) {
			r->batched = 0;
			return 0;
		}
		if (ex.cfg.budget > 0 && !r->reserved && !budget_allows(r)) {
			req_fail_over_budget(r);
			return 1;
		}
	}
	it = xcalloc(1, sizeof *it);
	memcpy(it->cid, cid, sizeof cid);
	it->reqs = r;
	r->next = NULL;
	map_put(&B.items, it->cid, it);
	if (sv) {
		struct bjob *bj = resume(sv, r->lr.model);
		it->bj = bj;
		it->next = bj->items;
		bj->items = it;
		bj->n++;
		return 1;
	}
	struct pack *p = pack_for(r->lr.model);
	if (p->n && (p->n + 1 > limit_requests(w) ||
		     p->bytes + size + strlen(w->head) + strlen(w->tail) > (size_t)limit_bytes(w)))
		pack_submit(p);
	if (p->tail)
		p->tail->next = it;
	else
		p->items = it;
	p->tail = it;
	p->n++;
	p->bytes += size;
	if (p->n >= limit_requests(w))
		pack_submit(p);
	return 1;
}

static void init(void)
{
	B.ready = 1;
	double lo = 2, hi = 60;
	const char *poll = getenv("SCG_BATCH_POLL");
	if (poll && *poll && (parse_range(poll, &lo, &hi) || lo <= 0 || hi > 86400))
		die_status(2, "SCG_BATCH_POLL: expected SECONDS or FIRST..MOST, each above 0, got '%s'", poll);
	B.poll_first = lo;
	B.poll_max = hi;
	B.max_requests = env_long("SCG_BATCH_MAX_REQUESTS", 0);
	B.max_bytes = env_long("SCG_BATCH_MAX_BYTES", 0);
	const char *dir = cache_dir();
	if (!dir)
		die_status(2, "--batch: no cache directory to keep the batches in (set SCG_CACHE)");
	B.dir = xasprintf("%s/batches", dir);
	if (mkdir(B.dir, 0700) && errno != EEXIST)
		die_status(2, "%s: %s", B.dir, strerror(errno));
	load_saved();
}

int batch_take(struct req *r)
{
	if (!ex.cfg.batch || r->kind != K_LLM || r->online)
		return 0;
	if (!B.ready)
		init();
	/* a re-ask goes online, but with --batch-retry batch, or nowhere
	 * with --batch-cancel */
	if (r->reasks < ex.ops->reasks && !ex.cfg.batch_retry && !ex.cfg.batch_cancel) {
		r->online = 1;
		return 0;
	}
	return collect(r);
}

/* ---- the calls ------------------------------------------------------------- */

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct req *r = ud;
	struct bjob *bj = r->batch;
	size_t len = size * n;
	if (bj->sink)
		return fwrite(p, 1, len, bj->sink);
	if (r->resp.len + len > (64L << 20)) {
		r->too_big = 1;
		return 0;
	}
	buf_add(&r->resp, p, len);
	return len;
}

static size_t upload_read(char *out, size_t size, size_t n, void *arg)
{
	struct bjob *bj = arg;
	size_t k = bj->payload.len - bj->upload_off;
	if (k > size * n)
		k = size * n;
	memcpy(out, bj->payload.p + bj->upload_off, k);
	bj->upload_off += k;
	return k;
}

static int upload_seek(void *arg, curl_off_t off, int origin)
{
	struct bjob *bj = arg;
	if (origin != SEEK_SET || off < 0 || (size_t)off > bj->payload.len)
		return CURL_SEEKFUNC_CANTSEEK;
	bj->upload_off = (size_t)off;
	return CURL_SEEKFUNC_OK;
}

static void submit_anew(struct bjob *bj, const char *why);

enum method { GET, POST_JSON, POST_FILE };

/* Starts the call of bj's step: url (stolen); for POST_JSON, len bytes of
 * body, which must live until the call ends. */
static void call(struct bjob *bj, char *url, enum method how, const char *body, size_t len)
{
	struct req *r = xcalloc(1, sizeof *r);
	r->kind = K_BATCH;
	r->batch = bj;
	/* uploads and downloads may be hundreds of megabytes */
	r->timeout = how == POST_FILE || bj->sink ? fmax(ex.cfg.timeout, 3600) : ex.cfg.timeout;
	r->h.url = url;
	r->h.body = xstrdup("");
	r->h.headers = llm_auth_headers(bj->model);
	if (how == POST_JSON)
		r->h.headers = curl_slist_append(r->h.headers, "Content-Type: application/json");
	CURL *e = http_prepare(r);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)(bj->sink ? 1L << 40 : 64L << 20));
	if (how == GET) {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	} else if (how == POST_JSON) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	} else {
		bj->mime = curl_mime_init(e);
		curl_mimepart *part = curl_mime_addpart(bj->mime);
		curl_mime_name(part, "purpose");
		curl_mime_data(part, "batch", CURL_ZERO_TERMINATED);
		part = curl_mime_addpart(bj->mime);
		curl_mime_name(part, "file");
		curl_mime_filename(part, "scg-batch.jsonl");
		curl_mime_type(part, "application/jsonl");
		bj->upload_off = 0;
		curl_mime_data_cb(part, (curl_off_t)bj->payload.len, upload_read, upload_seek, NULL, bj);
		curl_easy_setopt(e, CURLOPT_MIMEPOST, bj->mime);
	}
	bj->call = r;
	http_add(r);
}

static void start_step(struct bjob *bj)
{
	const struct batch_wire *w = bj->w;
	switch (bj->step) {
	case S_UPLOAD:
		call(bj, w->upload_url(bj->model), POST_FILE, NULL, 0);
		break;
	case S_CREATE:
		free(bj->post);
		bj->post = w->upload ? w->create_body(bj->file_id, bj->set) : NULL;
		if (bj->post)
			call(bj, w->create_url(bj->model), POST_JSON, bj->post, strlen(bj->post));
		else
			call(bj, w->create_url(bj->model), POST_JSON, bj->payload.p, bj->payload.len);
		break;
	case S_FIND:
		if (!w->list_url) {
			submit_anew(bj, "a batch may have been made before an earlier run stopped, but "
				   "Anthropic's list cannot tell which");
			break;
		}
		call(bj, w->list_url(bj->model, bj->after), GET, NULL, 0);
		break;
	case S_POLL:
		call(bj, w->status_url(bj->model, bj->id), GET, NULL, 0);
		break;
	case S_CANCEL:
		call(bj, w->cancel_url(bj->model, bj->id), POST_JSON, "{}", 2);
		break;
	case S_RESULTS:
	case S_ERRORS:
		bj->sink = tmpfile();
		if (!bj->sink)
			die("a file for the results of batch %s: %s", bj->id, strerror(errno));
		call(bj, xstrdup(bj->step == S_RESULTS ? bj->st.results : bj->st.errors), GET, NULL, 0);
		break;
	case S_DONE:
		break;
	}
}

/* ---- results --------------------------------------------------------------- */

static int retryable(long status, const char *message)
{
	if (status == 429)
		return !(message && (strstr(message, "quota") || strstr(message, "Request too large") ||
				     strstr(message, "spend limit")));
	return status == 0 || status == 408 || status == 409 || status >= 500;
}

/* One line of the results for the requests waiting for it. */
static void take_result(struct bjob *bj, struct batch_result *res)
{
	struct item *it = map_get(&B.items, res->custom_id);
	if (!it || it->bj != bj || it->done)
		return;   /* another command's request, or taken already */
	struct req *list = item_take(it);
	struct model_stats *s = list->stats;
	s->requests++;
	if (res->outcome == BATCH_ANSWER) {
		/* the answer path may ask again: list's next is free for that */
		struct req *rest = list->next;
		list->next = NULL;
		struct buf why = {0};
		json_t *ans = req_llm_body(list, res->body, strlen(res->body), 1, &why);
		if (!ans) {
			char *w = xasprintf("its answer in batch %s: %s", bj->id, why.p);
			list->next = rest;
			retry(bj, list, w);
			free(w);
		} else {
			s->batched++;
			bj->answered++;
			for (struct req *r = rest, *next; r; r = next) {
				next = r->next;
				r->next = NULL;
				req_take_answer(r, ans, 1);
			}
		}
		json_decref(ans);
		buf_free(&why);
		return;
	}
	if (res->outcome == BATCH_ERROR && !retryable(res->status, res->message)) {
		for (struct req *r = list, *next; r; r = next) {
			next = r->next;
			r->next = NULL;
			req_fail(r, "HTTP %ld: %s (in batch %s)", res->status, res->message, bj->id);
			bj->rejected++;
		}
		return;
	}
	char *why = res->outcome == BATCH_ERROR
		? xasprintf("HTTP %ld: %s (in batch %s)", res->status, res->message, bj->id)
		: xasprintf("%s (batch %s)", res->message, bj->id);
	retry(bj, list, why);
	free(why);
}

static void read_results(struct bjob *bj)
{
	rewind(bj->sink);
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	long lineno = 0;
	while ((len = getline(&line, &cap, bj->sink)) > 0) {
		lineno++;
		if (is_blank(line))
			continue;
		struct buf err = {0};
		json_t *v = jparse(line, (size_t)len, &err);
		struct batch_result res;
		if (v && !bj->w->parse_result(v, &res, &err)) {
			take_result(bj, &res);
			batch_result_free(&res);
		} else {
			/* its request, if any, is retried as one without a result */
			warnx_("batch %s: results line %ld: %s", bj->id, lineno, err.p ? err.p : "not JSON");
		}
		json_decref(v);
		buf_free(&err);
	}
	free(line);
	fclose(bj->sink);
	bj->sink = NULL;
}

static void unlink_bjob(struct bjob *bj)
{
	for (struct bjob **p = &B.bjobs; *p; p = &(*p)->next)
		if (*p == bj) {
			*p = bj->next;
			break;
		}
}

static void bjob_free(struct bjob *bj)
{
	for (struct item *it = bj->items, *next; it; it = next) {
		next = it->next;
		item_free(it);
	}
	if (bj->from) {
		bj->from->bj = NULL;
		/* its requests that were this run's are answered now */
		size_t i;
		json_t *id;
		json_array_foreach(bj->ids, i, id)
			map_del(&B.saved_ids, json_string_value(id), bj->from);
	}
	json_decref(bj->ids);
	free(bj->state);
	free(bj->id);
	free(bj->file_id);
	free(bj->after);
	buf_free(&bj->payload);
	batch_status_free(&bj->st);
	free(bj);
}

/* The batch is over for this run: requests without a result are retried,
 * its state file keeps only other commands' requests. */
static void finish(struct bjob *bj, const char *why)
{
	for (struct item *it = bj->items; it; it = it->next) {
		if (it->done)
			continue;
		struct req *list = item_take(it);
		list->stats->requests++;
		retry(bj, list, why);
	}
	drop_state(bj);
	B.answered += bj->answered;
	B.retried += bj->retried;
	B.rejected += bj->rejected;
	say("batch %s %s after %.0fs: %ld answered, %ld %s, %ld rejected", bj->id ? bj->id : "(none)",
	    bj->st.status ? bj->st.status : "ended", now_mono() - bj->since, bj->answered, bj->retried,
	    ex.cfg.batch_retry ? "sent again in a new batch" : "retried online", bj->rejected);
	unlink_bjob(bj);
	bjob_free(bj);
}

/* Every request of the batch fails with why (the batch could not be
 * made, or was refused as a whole). */
static void fail_all(struct bjob *bj, const char *why)
{
	for (struct item *it = bj->items; it; it = it->next) {
		if (it->done)
			continue;
		for (struct req *r = item_take(it), *next; r; r = next) {
			next = r->next;
			r->next = NULL;
			req_fail(r, "%s", why);
			bj->rejected++;
		}
	}
}

/* The batch's requests go into a new batch: the one named in an earlier
 * run's file is not there. */
static void submit_anew(struct bjob *bj, const char *why)
{
	say("%s: its requests are submitted again", why);
	if (bj->from)
		bj->from->dead = 1;
	if (unlink(bj->state) && errno != ENOENT)
		warnx_("%s: %s", bj->state, strerror(errno));
	bj->from = NULL;
	if (!bj->n) {
		unlink_bjob(bj);
		bjob_free(bj);
		return;
	}
	bjob_submit(bj);
}

/* ---- a call's end ------------------------------------------------------------ */

static void next_poll(struct bjob *bj)
{
	bj->step = S_POLL;
	bj->next_at = now_mono() + bj->interval;
	bj->interval = fmin(bj->interval * 1.5, B.poll_max);
}

/* A batch object that came back (create, poll, cancel). */
static void took_status(struct bjob *bj, struct batch_status *st)
{
	const struct batch_wire *w = bj->w;
	if (bj->step == S_CREATE) {
		bj->id = xstrdup(st->id);
		write_state(bj);   /* before the first poll */
		buf_free(&bj->payload);
		B.submitted++;
		say("submitted batch %s: %ld requests to %s", bj->id, bj->n, w->name);
	} else if (bj->step == S_CANCEL) {
		bj->cancel_sent = 1;
		write_state(bj);
		say("batch %s: cancel asked for", bj->id);
	}
	batch_status_free(&bj->st);
	bj->st = *st;
	bj->polled = 1;
	if (bj->st.phase == BATCH_FAILED) {
		char *msg = xasprintf("batch %s failed: %s", bj->id, bj->st.why);
		fail_all(bj, msg);
		finish(bj, msg);
		free(msg);
	} else if (bj->st.phase >= BATCH_ENDED) {
		bj->step = bj->st.results ? S_RESULTS : S_ERRORS;
		bj->next_at = 0;
		if (!bj->st.results && !bj->st.errors)
			finish(bj, "the batch ended without results");
	} else if (ex.cfg.batch_cancel && !bj->cancel_sent) {
		bj->step = S_CANCEL;
		bj->next_at = 0;
	} else {
		next_poll(bj);
	}
}

/* A page of the list, newest first: the batch that names this set. */
static void took_list(struct bjob *bj, json_t *v)
{
	size_t i;
	json_t *b;
	json_array_foreach(json_object_get(v, "data"), i, b) {
		struct batch_status st;
		struct buf why = {0};
		int bad = bj->w->parse_status(bj->model, b, &st, &why);
		buf_free(&why);
		if (bad)
			continue;
		int found = st.set && !strcmp(st.set, bj->set);
		if (found) {
			bj->id = xstrdup(st.id);
			write_state(bj);
			say("found batch %s, made by a create call whose answer was lost", bj->id);
			B.submitted++;
			bj->step = S_POLL;
			bj->next_at = 0;
		}
		batch_status_free(&st);
		if (found)
			return;
	}
	const char *last = jv_str(v, "last_id");
	if (json_is_true(json_object_get(v, "has_more")) && batch_id_ok(last) && ++bj->pages < 20) {
		free(bj->after);
		bj->after = xstrdup(last);
		bj->next_at = 0;
		return;
	}
	if (bj->payload.len) {
		/* this run's create failed before it said: it made nothing */
		bj->step = S_CREATE;
		bj->next_at = 0;
		return;
	}
	submit_anew(bj, "the batch a stopped run was creating is not there");
}

/* The step's call answered 2xx. NULL, or (nothing done) why its body is
 * not what the step expects: tried again like a failed call. */
static char *step_ok(struct bjob *bj, struct req *r)
{
	const struct batch_wire *w = bj->w;
	int tries = bj->tries;
	bj->tries = 0;
	if (bj->step == S_RESULTS || bj->step == S_ERRORS) {
		read_results(bj);
		if (bj->step == S_RESULTS && bj->st.errors) {
			bj->step = S_ERRORS;
			bj->next_at = 0;
		} else {
			char *why = xasprintf("no result for it in batch %s (%s)", bj->id, bj->st.status);
			finish(bj, why);
			free(why);
		}
		return NULL;
	}
	struct buf why = {0};
	json_t *v = jparse(r->resp.p ? r->resp.p : "", r->resp.len, &why);
	struct batch_status st;
	if (!json_is_object(v)) {
		if (v)
			buf_adds(&why, "not a JSON object");
	} else if (bj->step == S_UPLOAD) {
		free(bj->file_id);
		bj->file_id = NULL;
		if (!w->parse_file(v, &bj->file_id, &why)) {
			bj->step = S_CREATE;
			bj->next_at = 0;
		}
	} else if (bj->step == S_FIND) {
		took_list(bj, v);
	} else if (!w->parse_status(bj->model, v, &st, &why)) {
		took_status(bj, &st);
	}
	json_decref(v);
	char *msg = NULL;
	if (why.len) {
		msg = xasprintf("%s: %s", w->name, why.p);
		bj->tries = tries;
	}
	buf_free(&why);
	return msg;
}

/* The step's call failed for good: what that means depends on the step. */
static void step_failed(struct bjob *bj, long status, const char *why)
{
	char *msg;
	switch (bj->step) {
	case S_UPLOAD:
	case S_CREATE:
		/* refused: no batch was made; else one may have been */
		if (status >= 400 && status < 500 && status != 408 && status != 409 && status != 429)
			unlink(bj->state);
		msg = xasprintf("the batch was not submitted: %s", why);
		break;
	case S_POLL:
		if (status == 404) {
			msg = xasprintf("batch %s is not known to %s (%s)", bj->id, bj->model->base_url, why);
			submit_anew(bj, msg);
			free(msg);
			return;
		}
		msg = xasprintf("gave up polling batch %s: %s; it goes on at the provider: run the same "
				"command again to collect its answers", bj->id, why);
		break;
	case S_CANCEL:
		say("batch %s: the cancel failed: %s", bj->id, why);
		next_poll(bj);
		return;
	case S_FIND:
		msg = xasprintf("cannot look for the batch a stopped run may have submitted: %s", why);
		break;
	default:
		msg = xasprintf("cannot download the results of batch %s: %s; run the same command "
				"again to collect them", bj->id, why);
		break;
	}
	fail_all(bj, msg);
	B.rejected += bj->rejected;
	say("%s", msg);
	unlink_bjob(bj);
	bjob_free(bj);   /* its state file stays: a rerun polls it again */
	free(msg);
}

void batch_http_done(struct req *r, CURLcode cc)
{
	struct bjob *bj = r->batch;
	bj->call = NULL;
	curl_mime_free(bj->mime);
	bj->mime = NULL;
	free(bj->post);
	bj->post = NULL;
	long st = r->status;
	char *why = NULL;
	int again = 0;
	if (r->too_big || cc == CURLE_FILESIZE_EXCEEDED) {
		why = xstrdup("the answer is too large");
	} else if (cc != CURLE_OK) {
		why = cc == CURLE_OPERATION_TIMEDOUT ? xasprintf("no answer within %gs", r->timeout)
						      : xstrdup(curl_easy_strerror(cc));
		again = 1;
	} else if (st < 200 || st >= 300) {
		struct buf msg = {0};
		if (bj->sink) {   /* an error body went to the file */
			rewind(bj->sink);
			char text[4096];
			size_t n = fread(text, 1, sizeof text, bj->sink);
			llm_error_text(text, n, &msg);
		} else {
			llm_error_text(r->resp.p ? r->resp.p : "", r->resp.len, &msg);
		}
		why = xasprintf("HTTP %ld: %s", st, msg.p ? msg.p : "");
		buf_free(&msg);
		again = r->retry_after <= 120 &&
			(r->should_retry >= 0 ? r->should_retry : st != 0 && retryable(st, why));
	} else {
		why = step_ok(bj, r);   /* may end bj */
		again = 1;
		bj = why ? bj : NULL;
	}
	if (why && bj->sink) {
		fclose(bj->sink);
		bj->sink = NULL;
	}
	if (!why) {
		/* done */
	} else if (again && bj->step == S_CREATE && bj->w->list_url && bj->creates++ < ex.cfg.retries) {
		/* it may have been made all the same: looked for before it is
		 * created again */
		bj->step = S_FIND;
		bj->pages = 0;
		free(bj->after);
		bj->after = NULL;
		bj->next_at = now_mono() + fmin(0.5 * pow(2, bj->creates), 8.0);
	} else if (again && bj->tries < ex.cfg.retries) {
		bj->tries++;
		double wait = r->retry_after > 0 ? r->retry_after : fmin(0.5 * pow(2, bj->tries), 8.0);
		if (bj->step == S_POLL)
			wait = fmax(wait, fmin(bj->interval, B.poll_max));
		bj->next_at = now_mono() + wait;
	} else {
		step_failed(bj, st, why);
	}
	free(why);
	http_req_free(&r->h);
	buf_free(&r->resp);
	free(r);
}


/* ---- the loop's side --------------------------------------------------------- */

static int idle(void)
{
	return !ex.queue && !ex.inflight && !ex.done_q;
}

int batch_pump(int input_over, double *wait)
{
	if (!B.ready)
		return 0;
	if (input_over && idle())
		for (struct pack *p = B.packs; p; p = p->next)
			pack_submit(p);
	double now = now_mono();
	int waiting = 0, busy = 0;
	for (struct bjob *bj = B.bjobs, *next; bj; bj = next) {
		next = bj->next;
		if (bj->call) {
			busy = 1;
			continue;
		}
		/* a stopped run's batch is polled once every record is read,
		 * so that one download serves all its requests */
		if (bj->from && !input_over) {
			busy = 1;
			continue;
		}
		if (bj->step == S_POLL && bj->polled && bj->st.phase < BATCH_ENDED)
			waiting++;
		else
			busy = 1;
		if (bj->next_at <= now) {
			if (bj->step == S_POLL && ex.cfg.batch_nowait && bj->polled)
				continue;   /* polled once: that is all without waiting */
			start_step(bj);
		} else if (bj->next_at - now < *wait) {
			*wait = bj->next_at - now;
		}
	}
	int packed = 0;
	for (struct pack *p = B.packs; p; p = p->next)
		packed += p->n > 0;
	if (!ex.cfg.batch_nowait || busy || packed || !waiting || !input_over || !idle())
		return 0;
	struct buf ids = {0};
	for (struct bjob *bj = B.bjobs; bj; bj = bj->next)
		buf_addf(&ids, "%s%s", ids.len ? ", " : "", bj->id);
	if (progress_shown())
		fputs("\r\033[K", stderr);
	warnx_("batches not ended yet: %s; no record is written: run the same command again to "
	       "collect the answers (--batch-wait=no)", ids.p);
	buf_free(&ids);
	return 1;
}

int batch_holds_output(int input_over)
{
	if (!ex.cfg.batch || !ex.cfg.batch_nowait)
		return 0;
	if (!input_over || !idle() || B.bjobs)
		return 1;
	for (struct pack *p = B.packs; p; p = p->next)
		if (p->n)
			return 1;
	return 0;
}

static void duration(struct buf *b, double s)
{
	long t = lround(s);
	if (t >= 3600)
		buf_addf(b, "%ldh%02ldm", t / 3600, t / 60 % 60);
	else if (t >= 60)
		buf_addf(b, "%ldm%02lds", t / 60, t % 60);
	else
		buf_addf(b, "%lds", t);
}

void batch_progress(struct buf *line)
{
	if (!B.bjobs)
		return;
	long done = 0, failed = 0, total = 0, n = 0;
	for (struct bjob *bj = B.bjobs; bj; bj = bj->next, n++) {
		done += bj->st.done;
		failed += bj->st.failed;
		total += bj->st.total ? bj->st.total : bj->n;
	}
	buf_addf(line, ", %ld batch%s: %ld done, %ld failed of %ld, waited ", n, n == 1 ? "" : "es", done,
		 failed, total);
	duration(line, now_mono() - B.since);
}

void batch_summary(void)
{
	if (!B.submitted && !B.resumed)
		return;
	struct buf b = {0};
	duration(&b, B.since ? now_mono() - B.since : 0);
	fprintf(stderr, "%s: batches: %ld submitted, %ld resumed; %ld answers, %ld %s, %ld rejected; "
		"waited %s\n", prog_name, B.submitted, B.resumed, B.answered, B.retried,
		ex.cfg.batch_retry ? "sent again in a batch" : "retried online", B.rejected, b.p);
	buf_free(&b);
}

void batch_interrupted(void)
{
	if (!B.bjobs || ex.cfg.quiet)
		return;
	struct buf ids = {0};
	for (struct bjob *bj = B.bjobs; bj; bj = bj->next)
		if (bj->id)
			buf_addf(&ids, "%s%s", ids.len ? ", " : "", bj->id);
	if (ids.len)
		warnx_("stopped waiting for batches %s, which go on at the provider: run the same "
		       "command again to collect their answers, or with --batch-cancel to cancel them",
		       ids.p);
	buf_free(&ids);
}
