/* batch-openai: OpenAI's Batch API as scg-mock serves it: files uploaded
 * as multipart forms (POST /v1/files) and read back (GET
 * /v1/files/ID/content); batches created over a file (POST /v1/batches),
 * which validates its lines as OpenAI does (a failed batch lists them),
 * retrieved (GET /v1/batches/ID), cancelled (POST .../cancel) and listed
 * newest first (GET /v1/batches?limit=&after=); the output and error
 * files of an ended batch, their lines shuffled. */
#include "batch.h"
#include "jscan.h"
#include "opt.h"

#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

#define ENDPOINT "/v1/chat/completions"

struct mfile {
	char id[64];
	char *name, *purpose;
	double created;
	struct buf data;
	struct mfile *next;
};

static struct mfile *files;
static long nfiles;

static struct mfile *file_new(const char *name, const char *purpose)
{
	struct mfile *f = xcalloc(1, sizeof *f);
	nfiles++;
	reply_id(f->id, sizeof f->id, "file-", hash64(&nfiles, sizeof nfiles, opts.seed), "file");
	f->name = xstrdup(name);
	f->purpose = xstrdup(purpose);
	f->created = now_real();
	f->next = files;
	files = f;
	return f;
}

static struct mfile *file_find(const char *id)
{
	for (struct mfile *f = files; f; f = f->next)
		if (!strcmp(f->id, id))
			return f;
	return NULL;
}

void batch_openai_free(void)
{
	for (struct mfile *f = files, *next; f; f = next) {
		next = f->next;
		free(f->name);
		free(f->purpose);
		buf_free(&f->data);
		free(f);
	}
	files = NULL;
}

static json_t *file_object(const struct mfile *f)
{
	return json_pack("{s:s, s:s, s:I, s:I, s:s, s:s, s:s}", "id", f->id, "object", "file", "bytes",
			 (json_int_t)f->data.len, "created_at", (json_int_t)f->created, "filename", f->name,
			 "purpose", f->purpose, "status", "processed");
}

/* ---- the upload: multipart/form-data with purpose and file ---- */

struct part {
	const char *data;
	size_t len;
	char *name, *filename;
};

/* The value of key="..." in a header line, or NULL. */
static char *header_param(const char *line, size_t len, const char *key)
{
	size_t k = strlen(key);
	for (const char *p = line; p + k + 2 < line + len; p++)
		if (!strncasecmp(p, key, k) && p[k] == '=' && p[k + 1] == '"' && (p == line || p[-1] == ' ' || p[-1] == ';')) {
			const char *v = p + k + 2, *end = memchr(v, '"', (size_t)(line + len - v));
			return end ? xstrndup(v, (size_t)(end - v)) : NULL;
		}
	return NULL;
}

/* The parts of a form; -1 when it is not one. */
static int form_parts(const struct req *q, const char *ctype, struct part *parts, int max)
{
	const char *b = ctype ? strstr(ctype, "boundary=") : NULL;
	if (!b || strncasecmp(ctype, "multipart/form-data", 19))
		return -1;
	b += 9;
	size_t blen = strcspn(b, "; ");
	if (*b == '"')
		blen = strcspn(++b, "\"");
	char *delim = xasprintf("--%.*s", (int)blen, b);
	size_t dlen = strlen(delim);
	const char *p = q->body.p, *end = p + q->body.len;
	int n = 0;
	p = p ? memmem(p, (size_t)(end - p), delim, dlen) : NULL;
	while (p && n < max) {
		p += dlen;
		if (end - p >= 2 && p[0] == '-' && p[1] == '-')
			break;   /* the closing delimiter */
		const char *head = p + 2, *body = memmem(head, (size_t)(end - head), "\r\n\r\n", 4);
		if (!body)
			break;
		const char *next = memmem(body + 4, (size_t)(end - body - 4), delim, dlen);
		if (!next || next - body < 6)
			break;
		struct part *pt = &parts[n++];
		pt->data = body + 4;
		pt->len = (size_t)(next - 2 - pt->data);   /* the CRLF before the delimiter */
		pt->name = header_param(head, (size_t)(body - head), "name");
		pt->filename = header_param(head, (size_t)(body - head), "filename");
		p = next;
	}
	free(delim);
	return n;
}

static void upload(struct reply *rp, struct req *q, struct MHD_Connection *c)
{
	struct part parts[8] = {{0}};
	int n = form_parts(q, MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type"), parts, 8);
	const struct part *purpose = NULL, *file = NULL;
	for (int i = 0; i < n; i++) {
		if (parts[i].name && !strcmp(parts[i].name, "purpose"))
			purpose = &parts[i];
		else if (parts[i].name && !strcmp(parts[i].name, "file"))
			file = &parts[i];
	}
	if (n < 0)
		reply_invalid(rp, API_OPENAI, NULL, NULL, "Expected a multipart/form-data body.");
	else if (!purpose || purpose->len != 5 || memcmp(purpose->data, "batch", 5))
		reply_invalid(rp, API_OPENAI, "purpose", NULL, "'purpose' must be 'batch' here (scg-mock)");
	else if (!file)
		reply_invalid(rp, API_OPENAI, "file", NULL, "Missing required parameter: 'file'.");
	else {
		struct mfile *f = file_new(file->filename ? file->filename : "upload.jsonl", "batch");
		buf_add(&f->data, file->data, file->len);
		reply_json(rp, 200, file_object(f));
	}
	for (int i = 0; i < n; i++) {
		free(parts[i].name);
		free(parts[i].filename);
	}
}

/* ---- batches ---- */

/* Checks the lines of the input file as OpenAI does and makes the batch;
 * its extra holds the errors of a file that fails. */
static struct mbatch *make_batch(const struct mfile *f, json_t *meta)
{
	json_t *errors = json_array(), *seen = json_object();
	const char *p = f->data.p ? f->data.p : "", *end = p + f->data.len;
	const char *paths[] = {"body"};
	struct jscan *js = jscan_new(1, paths);
	struct { char *raw; size_t len; json_t *doc; char *cid; } *lines = NULL;
	long n = 0, lineno = 0;
	char *model = NULL;
	for (const char *nl; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		lineno++;
		if (nl == p)
			continue;
		struct buf err = {0};
		json_t *v = json_loadb(p, (size_t)(nl - p), 0, NULL);
		const char *cid = jv_str(v, "custom_id"), *url = jv_str(v, "url"), *method = jv_str(v, "method");
		json_t *body = json_object_get(v, "body");
		const char *m = jv_str(body, "model");
		size_t rlen = 0;
		const char *raw = v && !jscan_line(js, p, (size_t)(nl - p), &err) ? jscan_raw(js, 0, &rlen) : NULL;
		const char *bad = !json_is_object(v) ? "not a JSON object"
			: !cid ? "custom_id is missing" : json_object_get(seen, cid) ? "custom_id is not unique"
			: !method || strcmp(method, "POST") ? "method must be POST"
			: !url || strcmp(url, ENDPOINT) ? "url must be the batch's endpoint, " ENDPOINT
			: !json_is_object(body) || !raw ? "body must be an object"
			: !m ? "body.model is missing" : model && strcmp(model, m) ? "all requests of a file must use one model"
			: NULL;
		buf_free(&err);
		if (bad) {
			json_array_append_new(errors, json_pack("{s:s, s:I, s:s, s:n}", "code", "invalid_request",
				"line", (json_int_t)lineno, "message", bad, "param"));
			json_decref(v);
			continue;
		}
		if (!model)
			model = xstrdup(m);
		json_object_set_new(seen, cid, json_true());
		lines = xrealloc(lines, sizeof *lines * (size_t)(n + 1));
		/* the body as sent: its answer is keyed on these bytes, as online */
		lines[n].raw = xstrndup(raw, rlen);
		lines[n].len = rlen;
		lines[n].doc = v;
		lines[n].cid = xstrdup(cid);
		n++;
	}
	jscan_free(js);
	if (!json_array_size(errors) && (n == 0 || n > conf.batch_max))
		json_array_append_new(errors, json_pack("{s:s, s:n, s:s, s:n}", "code", "invalid_request", "line",
			"message", n ? "the file holds more requests than a batch may (scg-mock --batch-max-requests)"
				     : "the file holds no request", "param"));
	struct mbatch *b = mbatch_new(API_OPENAI, "batch_", json_array_size(errors) ? 0 : n);
	b->extra = json_pack("{s:s, s:O, s:o}", "input_file_id", f->id, "metadata", meta ? meta : json_null(),
			     "errors", json_array_size(errors) ? json_incref(errors) : json_null());
	for (long i = 0; i < n; i++) {
		if (!json_array_size(errors))
			mbatch_answer(b, i, lines[i].cid, lines[i].raw, lines[i].len,
				      json_object_get(lines[i].doc, "body"));
		json_decref(lines[i].doc);
		free(lines[i].cid);
		free(lines[i].raw);
	}
	free(lines);
	free(model);
	json_decref(errors);
	json_decref(seen);
	return b;
}

/* Writes the output and error files of an ended batch, once. */
static void end_files(struct mbatch *b, double now)
{
	if (*b->out || *b->err || json_is_array(json_object_get(b->extra, "errors")))
		return;
	struct mfile *out = file_new("batch_output.jsonl", "batch_output");
	struct mfile *err = file_new("batch_errors.jsonl", "batch_output");
	long *order = mbatch_order(b);
	for (long k = 0; k < b->n; k++) {
		const struct mreq *m = &b->reqs[order[k]];
		char rid[64];
		reply_id(rid, sizeof rid, "batch_req_", hash64(m->cid, strlen(m->cid), opts.seed), "line");
		json_t *line;
		if (!mbatch_req_done(b, order[k], now))
			line = json_pack("{s:s, s:s, s:n, s:{s:s, s:s}}", "id", rid, "custom_id", m->cid, "response",
					 "error", "code", b->cancelled ? "batch_cancelled" : "batch_expired", "message",
					 b->cancelled ? "This request was cancelled before it ran."
						      : "This request could not be executed before the completion window expired.");
		else
			line = json_pack("{s:s, s:s, s:{s:i, s:s, s:O}, s:n}", "id", rid, "custom_id", m->cid,
					 "response", "status_code", m->zero ? 0 : m->status, "request_id", rid,
					 "body", m->body, "error");
		char *s = reply_dump(line);
		json_decref(line);
		struct mfile *to = m->status == 200 && !m->zero && mbatch_req_done(b, order[k], now) ? out : err;
		buf_adds(&to->data, s);
		buf_addc(&to->data, '\n');
		free(s);
	}
	free(order);
	if (out->data.len)
		snprintf(b->out, sizeof b->out, "%s", out->id);
	if (err->data.len)
		snprintf(b->err, sizeof b->err, "%s", err->id);
	if (!*b->out && !*b->err)
		snprintf(b->out, sizeof b->out, "%s", out->id);   /* an empty one */
}

static json_t *batch_object(struct mbatch *b, double now)
{
	double t = now - b->created;
	json_t *errors = json_object_get(b->extra, "errors");
	int failed = json_is_array(errors), over = !failed && mbatch_over(b, now);
	const char *status = failed ? "failed"
		: b->cancelled ? (b->cancel_seen ? "cancelled" : "cancelling")
		: over ? (b->expires ? "expired" : "completed")
		: t < b->secs / 10 ? "validating" : "in_progress";
	long ok = 0, bad = 0;
	for (long i = 0; i < b->n; i++)
		if (mbatch_req_done(b, i, now)) {
			if (b->reqs[i].status == 200 && !b->reqs[i].zero)
				ok++;
			else
				bad++;
		}
	if (over || (b->cancelled && b->cancel_seen))
		bad = b->n - ok;
	if (over || (b->cancelled && b->cancel_seen))
		end_files(b, now);
	int validating = !strcmp(status, "validating");
	json_int_t created = (json_int_t)b->created, at = (json_int_t)now;
	json_t *o = json_pack("{s:s, s:s, s:s, s:o, s:O, s:s, s:s, s:n, s:n, s:I, s:n, s:I, s:n, s:n, s:n, "
			      "s:n, s:n, s:n, s:{s:I, s:I, s:I}, s:O}",
		"id", b->id, "object", "batch", "endpoint", ENDPOINT, "errors",
		failed ? json_pack("{s:s, s:O}", "object", "list", "data", errors) : json_null(),
		"input_file_id", json_object_get(b->extra, "input_file_id"), "completion_window", "24h",
		"status", status, "output_file_id", "error_file_id", "created_at", created, "in_progress_at",
		"expires_at", created + 86400, "finalizing_at", "completed_at", "failed_at", "expired_at",
		"cancelling_at", "cancelled_at", "request_counts", "total", (json_int_t)(validating ? 0 : b->n),
		"completed", (json_int_t)ok, "failed", (json_int_t)bad, "metadata",
		json_object_get(b->extra, "metadata"));
	if (*b->out)
		json_object_set_new(o, "output_file_id", json_string(b->out));
	if (*b->err)
		json_object_set_new(o, "error_file_id", json_string(b->err));
	if (!validating && !failed)
		json_object_set_new(o, "in_progress_at", json_integer(created + 1));
	if (failed)
		json_object_set_new(o, "failed_at", json_integer(at));
	else if (b->cancelled)
		json_object_set_new(o, b->cancel_seen ? "cancelled_at" : "cancelling_at", json_integer(at));
	else if (over)
		json_object_set_new(o, b->expires ? "expired_at" : "completed_at", json_integer(at));
	if (b->cancelled && !b->cancel_seen)
		b->cancel_seen = 1;   /* cancelled at the next look */
	return o;
}

static void create(struct reply *rp, struct req *q)
{
	json_t *d = q->doc;
	const char *fid = jv_str(d, "input_file_id"), *ep = jv_str(d, "endpoint"), *win = jv_str(d, "completion_window");
	const struct mfile *f = fid ? file_find(fid) : NULL;
	if (!d)
		reply_invalid(rp, API_OPENAI, NULL, NULL, "We could not parse the JSON body of your request.");
	else if (!f || strcmp(f->purpose, "batch"))
		reply_invalid(rp, API_OPENAI, "input_file_id", NULL, "Invalid 'input_file_id': no such batch file.");
	else if (!ep || strcmp(ep, ENDPOINT))
		reply_invalid(rp, API_OPENAI, "endpoint", NULL, "scg-mock batches only " ENDPOINT ".");
	else if (!win || strcmp(win, "24h"))
		reply_invalid(rp, API_OPENAI, "completion_window", NULL, "completion_window must be '24h'.");
	else
		reply_json(rp, 200, batch_object(make_batch(f, json_object_get(d, "metadata")), now_real()));
}

static void list(struct reply *rp, struct MHD_Connection *c)
{
	const char *after = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "after");
	const char *lim = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "limit");
	long limit = lim ? strtol(lim, NULL, 10) : 20;
	if (limit < 1 || limit > 100)
		limit = 20;
	json_t *data = json_array();
	struct mbatch *b = mbatch_list(API_OPENAI, after);
	for (; b && (long)json_array_size(data) < limit; b = mbatch_list(API_OPENAI, b->id))
		json_array_append_new(data, batch_object(b, now_real()));
	size_t n = json_array_size(data);
	json_t *first = n ? json_object_get(json_array_get(data, 0), "id") : NULL;
	json_t *last = n ? json_object_get(json_array_get(data, n - 1), "id") : NULL;
	reply_json(rp, 200, json_pack("{s:s, s:o, s:O?, s:O?, s:b}", "object", "list", "data", data,
				      "first_id", first, "last_id", last, "has_more", b != NULL));
}

void batch_openai_serve(struct reply *rp, struct req *q, struct MHD_Connection *c, const char *method,
			const char *url)
{
	int get = !strcmp(method, "GET"), post = !strcmp(method, "POST");
	char id[128] = "";
	const char *rest = "";
	if (!strncmp(url, "/v1/files/", 10) || !strncmp(url, "/v1/batches/", 12)) {
		const char *s = url + (url[4] == 'f' ? 10 : 12);
		size_t n = strcspn(s, "/");
		if (n < sizeof id)
			snprintf(id, sizeof id, "%.*s", (int)n, s);
		rest = s + n;
	}
	if (post && !strcmp(url, "/v1/files")) {
		upload(rp, q, c);
	} else if (get && !strncmp(url, "/v1/files/", 10)) {
		struct mfile *f = file_find(id);
		if (!f) {
			mbatch_error(rp, API_OPENAI, 404, "No such File object.");
		} else if (!strcmp(rest, "/content")) {
			rp->status = 200;
			rp->ctype = "application/octet-stream";
			buf_add(&rp->body, f->data.p ? f->data.p : "", f->data.len);
		} else if (!*rest) {
			reply_json(rp, 200, file_object(f));
		} else {
			mbatch_error(rp, API_OPENAI, 404, "Invalid URL.");
		}
	} else if (post && !strcmp(url, "/v1/batches")) {
		create(rp, q);
	} else if (get && !strcmp(url, "/v1/batches")) {
		list(rp, c);
	} else if (!strncmp(url, "/v1/batches/", 12) && (get ? !*rest : post && !strcmp(rest, "/cancel"))) {
		struct mbatch *b = mbatch_find(API_OPENAI, id);
		double now = now_real();
		if (!b) {
			char *msg = xasprintf("No batch found with id '%s'.", id);
			mbatch_error(rp, API_OPENAI, 404, msg);
			free(msg);
		} else {
			if (post && !b->cancelled && !mbatch_over(b, now) && !json_is_array(json_object_get(b->extra, "errors")))
				b->cancelled = now;
			reply_json(rp, 200, batch_object(b, now));
		}
	} else {
		char *msg = xasprintf("Invalid URL (%s %s)", method, url);
		mbatch_error(rp, API_OPENAI, 404, msg);
		free(msg);
	}
}
