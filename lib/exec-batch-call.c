/* exec-batch-call: a batch's calls to the provider (lib/batch.h has the
 * wire of each): the upload of its requests, the create call, the list
 * that finds a create whose answer was lost, the polls, a cancel and the
 * download of its results and errors, each retried as a request is; its
 * results taken into the answer path (exec-request.c). */
#include "exec-batch-int.h"
#include "cache.h"
#include "cost.h"
#include "jparse.h"
#include "jv.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

void bt_start_step(struct bjob *bj)
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
	struct item *it = strmap_get(&bt.items, res->custom_id);
	if (!it || it->bj != bj || it->done)
		return;   /* another command's request, or taken already */
	struct req *list = bt_item_take(it);
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
			bt_retry(bj, list, w);
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
	bt_retry(bj, list, why);
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
	for (struct bjob **p = &bt.bjobs; *p; p = &(*p)->next)
		if (*p == bj) {
			*p = bj->next;
			break;
		}
}

static void bjob_free(struct bjob *bj)
{
	for (struct item *it = bj->items, *next; it; it = next) {
		next = it->next;
		bt_item_free(it);
	}
	if (bj->from) {
		bj->from->bj = NULL;
		/* its requests that were this run's are answered now */
		size_t i;
		json_t *id;
		json_array_foreach(bj->ids, i, id)
			strmap_del(&bt.saved_ids, json_string_value(id), bj->from);
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
		struct req *list = bt_item_take(it);
		list->stats->requests++;
		bt_retry(bj, list, why);
	}
	bt_drop_state(bj);
	bt.answered += bj->answered;
	bt.retried += bj->retried;
	bt.rejected += bj->rejected;
	bt_say("batch %s %s after %.0fs: %ld answered, %ld %s, %ld rejected", bj->id ? bj->id : "(none)",
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
		for (struct req *r = bt_item_take(it), *next; r; r = next) {
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
	bt_say("%s: its requests are submitted again", why);
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
	bt_submit(bj);
}

/* ---- a call's end ------------------------------------------------------------ */

static void next_poll(struct bjob *bj)
{
	bj->step = S_POLL;
	bj->next_at = now_mono() + bj->interval;
	bj->interval = fmin(bj->interval * 1.5, bt.poll_max);
}

/* A batch object that came back (create, poll, cancel). */
static void took_status(struct bjob *bj, struct batch_status *st)
{
	const struct batch_wire *w = bj->w;
	if (bj->step == S_CREATE) {
		bj->id = xstrdup(st->id);
		bt_write_state(bj);   /* before the first poll */
		buf_free(&bj->payload);
		bt.submitted++;
		bt_say("submitted batch %s: %ld requests to %s", bj->id, bj->n, w->name);
	} else if (bj->step == S_CANCEL) {
		bj->cancel_sent = 1;
		bt_write_state(bj);
		bt_say("batch %s: cancel asked for", bj->id);
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
			bt_write_state(bj);
			bt_say("found batch %s, made by a create call whose answer was lost", bj->id);
			bt.submitted++;
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
		bt_say("batch %s: the cancel failed: %s", bj->id, why);
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
	bt.rejected += bj->rejected;
	bt_say("%s", msg);
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
			wait = fmax(wait, fmin(bj->interval, bt.poll_max));
		bj->next_at = now_mono() + wait;
	} else {
		step_failed(bj, st, why);
	}
	free(why);
	http_req_free(&r->h);
	buf_free(&r->resp);
	free(r);
}
