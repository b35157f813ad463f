/* record: a record read, rejected or derived from another. */
#include "record.h"
#include "jparse.h"
#include "jv.h"
#include "secret.h"

#include <errno.h>
#include <string.h>

long records_rejected;
static struct record_config cfg;

void record_configure(const struct record_config *c)
{
	cfg = *c;
}

json_t *record_parse(const char *line, size_t len, struct buf *err)
{
	buf_reset(err);
	int bom = len >= 3 && !memcmp(line, "\xef\xbb\xbf", 3);
	struct buf why = {0};
	json_t *v = bom ? NULL : jparse(line, len, &why);   /* checks the UTF-8 of strings */
	if (json_is_object(v)) {
		buf_free(&why);
		return v;
	}
	/* a bad line: the first of these reasons is the one told */
	size_t bad;
	if (!utf8_valid(line, len, &bad))
		buf_addf(err, "invalid UTF-8 at byte %zu", bad + 1);
	else if (bom)
		buf_adds(err, "starts with a byte-order mark; records are UTF-8 without one");
	else if (!v)
		buf_addf(err, "not JSON: %s", why.p);
	else
		buf_adds(err, "not a JSON object");
	json_decref(v);
	buf_free(&why);
	return NULL;
}

/* A reject that cannot be written is a record lost: the run stops. */
static void reject_write(json_t *line)
{
	FILE *f = cfg.rejects ? cfg.rejects : stderr;
	struct buf b = {0};
	jv_dump(line, &b);
	secret_redact_json(b.p, b.len);
	buf_addc(&b, '\n');
	if (fwrite(b.p, 1, b.len, f) != b.len || fflush(f))
		die_status(2, "%s: %s", cfg.rejects_path && f != stderr ? cfg.rejects_path : "rejects",
			   strerror(errno));
	buf_free(&b);
}

int record_bad(const struct input *in, const char *line, size_t len, const char *reason)
{
	warnx_("%s:%ld: %s", in->name, in->lineno, reason);
	records_rejected++;
	if (!cfg.skip_bad)
		return 1;
	json_t *r = json_object();
	json_t *e = json_pack("{s:s, s:s, s:I, s:s}", "program", prog_name,
			      "input", in->name, "line", (json_int_t)in->lineno,
			      "reason", reason);
	json_object_set_new(r, "error", e);
	if (utf8_valid(line, len, NULL))
		json_object_set_new(r, "text", json_stringn(line, len));
	reject_write(r);
	json_decref(r);
	return 0;
}

int record_each(struct input *in, void (*fn)(json_t *rec, void *ctx), void *ctx)
{
	struct buf err = {0};
	char *line;
	size_t len;
	int status = 0;
	while (input_line(in, &line, &len) > 0) {
		buf_reset(&err);
		json_t *rec = record_parse(line, len, &err);
		if (!rec) {
			status = 1;
			if (record_bad(in, line, len, err.p))
				break;
			continue;
		}
		fn(rec, ctx);
		json_decref(rec);
	}
	buf_free(&err);
	return status;
}

void record_reject(json_t *rec, const char *reason)
{
	const char *id = jv_str(rec, "id");
	warnx_("record %s: %s", id ? id : "(no id)", reason);
	records_rejected++;
	json_t *r = json_deep_copy(rec);
	json_object_set_new(r, "error", json_pack("{s:s, s:s}", "program", prog_name,
						  "reason", reason));
	reject_write(r);
	json_decref(r);
}

/* Adds the fields of `with` that rec does not have. */
static void add_new(json_t *out, json_t *rec, json_t *with)
{
	const char *k;
	json_t *v;
	json_object_foreach(with, k, v)
		if (!json_object_get(rec, k) && !json_object_get(out, k))
			json_object_set(out, k, v);
}

json_t *record_derive(json_t *rec, json_t *with, const char *at)
{
	json_t *out = json_object();
	json_t *id = json_object_get(with, "id");
	if (id && !json_object_get(rec, "id"))
		json_object_set(out, "id", id);
	int placed = 0;
	const char *k;
	json_t *v;
	json_object_foreach(rec, k, v) {
		json_t *w = json_object_get(with, k);
		if (at && !strcmp(k, at)) {
			if (w)
				json_object_set(out, k, w);
			add_new(out, rec, with);
			placed = 1;
		} else {
			json_object_set(out, k, w ? w : v);
		}
	}
	if (!placed)
		add_new(out, rec, with);
	json_decref(with);
	return out;
}
