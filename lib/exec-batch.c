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
#include "exec-batch-int.h"
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

struct batch_run bt;

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
void bt_say(const char *fmt, ...)
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
	if (dir_names(bt.dir, &names, &n))
		return;
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(names[i]);
		char *path = xasprintf("%s/%s", bt.dir, names[i]);
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
		sv->next = bt.saved;
		bt.saved = sv;
		size_t k;
		json_t *id;
		json_array_foreach(ids, k, id)
			if (json_is_string(id))
				strmap_put(&bt.saved_ids, json_string_value(id), sv);
		free(names[i]);
	}
	free(names);
}

void bt_write_state(struct bjob *bj)
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
void bt_drop_state(struct bjob *bj)
{
	struct strmap ours = {0};
	for (struct item *it = bj->items; it; it = it->next)
		strmap_put(&ours, it->cid, it);
	json_t *left = json_array();
	size_t i;
	json_t *id;
	json_array_foreach(bj->ids, i, id)
		if (json_is_string(id) && !strmap_get(&ours, json_string_value(id)))
			json_array_append(left, id);
	strmap_free(&ours);
	if (!json_array_size(left) || bj->st.phase == BATCH_FAILED) {
		if (unlink(bj->state) && errno != ENOENT)
			warnx_("%s: %s", bj->state, strerror(errno));
	} else {
		json_decref(bj->ids);
		bj->ids = json_incref(left);
		bt_write_state(bj);
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
	return bt.max_requests ? bt.max_requests : w->max_requests;
}

static long limit_bytes(const struct batch_wire *w)
{
	return bt.max_bytes ? bt.max_bytes : w->max_bytes;
}

static struct bjob *bjob_new(const struct model *m)
{
	struct bjob *bj = xcalloc(1, sizeof *bj);
	bj->model = m;
	bj->w = batch_wire_for(m);
	bj->interval = bt.poll_first;
	bj->since = now_mono();
	if (!bt.since)
		bt.since = bj->since;
	bj->next = bt.bjobs;
	bt.bjobs = bj;
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
void bt_submit(struct bjob *bj)
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
	bj->state = xasprintf("%s/%s.json", bt.dir, bj->set);
	free(bj->id);
	free(bj->file_id);
	bj->id = bj->file_id = NULL;
	build_payload(bj);
	bt_write_state(bj);
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
	bt_submit(bj);
}

static struct pack *pack_for(const struct model *m)
{
	struct pack **p = &bt.packs;
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
	bt.resumed++;
	if (bj->id)
		bt_say("batch %s, submitted by an earlier run, is polled again", bj->id);
	return bj;
}

void bt_item_free(struct item *it)
{
	free(it);
}

static int collect(struct req *r);

/* An item's requests, taken off it: the item is done. */
struct req *bt_item_take(struct item *it)
{
	struct req *list = it->reqs;
	it->reqs = NULL;
	it->done = 1;
	strmap_del(&bt.items, it->cid, it);
	return list;
}

/* Requests a batch did not answer (why): online again, into a new batch,
 * or, with --batch-cancel, rejected. */
void bt_retry(struct bjob *bj, struct req *list, const char *why)
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
	struct item *it = strmap_get(&bt.items, cid);
	r->batched = 1;
	if (it) {
		/* the same request twice: one answer serves both */
		r->next = it->reqs;
		it->reqs = r;
		return 1;
	}
	/* an earlier run's batch, unless it is gone or its results are being
	 * read (a request of it sent again goes into a new batch) */
	struct saved *sv = strmap_get(&bt.saved_ids, cid);
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
		/* reserved as online requests are, --budget or not: the run's
		 * ledger counts what is committed either way */
		if (!r->reserved && !budget_allows(r)) {
			req_fail_over_budget(r);
			return 1;
		}
	}
	it = xcalloc(1, sizeof *it);
	memcpy(it->cid, cid, sizeof cid);
	it->reqs = r;
	r->next = NULL;
	strmap_put(&bt.items, it->cid, it);
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
	bt.ready = 1;
	double lo = 2, hi = 60;
	const char *poll = getenv("SCG_BATCH_POLL");
	if (poll && *poll && (parse_range(poll, &lo, &hi) || lo <= 0 || hi > 86400))
		die_status(2, "SCG_BATCH_POLL: expected SECONDS or FIRST..MOST, each above 0, got '%s'", poll);
	bt.poll_first = lo;
	bt.poll_max = hi;
	bt.max_requests = env_long("SCG_BATCH_MAX_REQUESTS", 0);
	bt.max_bytes = env_long("SCG_BATCH_MAX_BYTES", 0);
	const char *dir = cache_dir();
	if (!dir)
		die_status(2, "--batch: no cache directory to keep the batches in (set SCG_CACHE)");
	bt.dir = xasprintf("%s/batches", dir);
	if (mkdir(bt.dir, 0700) && errno != EEXIST)
		die_status(2, "%s: %s", bt.dir, strerror(errno));
	load_saved();
}

int batch_take(struct req *r)
{
	if (!ex.cfg.batch || r->kind != K_LLM || r->online)
		return 0;
	if (!bt.ready)
		init();
	/* a re-ask goes online, but with --batch-retry batch, or nowhere
	 * with --batch-cancel */
	if (r->reasks < ex.ops->reasks && !ex.cfg.batch_retry && !ex.cfg.batch_cancel) {
		r->online = 1;
		return 0;
	}
	return collect(r);
}

/* ---- the loop's side --------------------------------------------------------- */

static int idle(void)
{
	return !ex.queue && !ex.inflight && !ex.done_q;
}

int batch_pump(int input_over, double *wait)
{
	if (!bt.ready)
		return 0;
	if (input_over && idle())
		for (struct pack *p = bt.packs; p; p = p->next)
			pack_submit(p);
	double now = now_mono();
	int waiting = 0, busy = 0;
	for (struct bjob *bj = bt.bjobs, *next; bj; bj = next) {
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
			bt_start_step(bj);
		} else if (bj->next_at - now < *wait) {
			*wait = bj->next_at - now;
		}
	}
	int packed = 0;
	for (struct pack *p = bt.packs; p; p = p->next)
		packed += p->n > 0;
	if (!ex.cfg.batch_nowait || busy || packed || !waiting || !input_over || !idle())
		return 0;
	struct buf ids = {0};
	for (struct bjob *bj = bt.bjobs; bj; bj = bj->next)
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
	if (!input_over || !idle() || bt.bjobs)
		return 1;
	for (struct pack *p = bt.packs; p; p = p->next)
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
	if (!bt.bjobs)
		return;
	long done = 0, failed = 0, total = 0, n = 0;
	for (struct bjob *bj = bt.bjobs; bj; bj = bj->next, n++) {
		done += bj->st.done;
		failed += bj->st.failed;
		total += bj->st.total ? bj->st.total : bj->n;
	}
	buf_addf(line, ", %ld batch%s: %ld done, %ld failed of %ld, waited ", n, n == 1 ? "" : "es", done,
		 failed, total);
	duration(line, now_mono() - bt.since);
}

void batch_summary(void)
{
	if (!bt.submitted && !bt.resumed)
		return;
	struct buf b = {0};
	duration(&b, bt.since ? now_mono() - bt.since : 0);
	fprintf(stderr, "%s: batches: %ld submitted, %ld resumed; %ld answers, %ld %s, %ld rejected; "
		"waited %s\n", prog_name, bt.submitted, bt.resumed, bt.answered, bt.retried,
		ex.cfg.batch_retry ? "sent again in a batch" : "retried online", bt.rejected, b.p);
	buf_free(&b);
}

void batch_interrupted(void)
{
	if (!bt.bjobs || ex.cfg.quiet)
		return;
	struct buf ids = {0};
	for (struct bjob *bj = bt.bjobs; bj; bj = bj->next)
		if (bj->id)
			buf_addf(&ids, "%s%s", ids.len ? ", " : "", bj->id);
	if (ids.len)
		warnx_("stopped waiting for batches %s, which go on at the provider: run the same "
		       "command again to collect their answers, or with --batch-cancel to cancel them",
		       ids.p);
	buf_free(&ids);
}
