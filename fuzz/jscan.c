/* libFuzzer target: jscan against a full parser. jansson reads the same
 * line into a tree; jscan must accept exactly the lines jansson accepts
 * that are objects no deeper than its limit, and for each of a few paths
 * find the same values, give the same text (strings decoded, numbers as
 * written: compared by value) and the same first value as written. Lines
 * jansson rejects for reasons jscan does not share (a repeated key, a NUL
 * in a key, a number too large for a double) are only scanned; a line
 * with a NUL byte (which jansson takes for the end) must be refused. */
#include "jscan.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define JSCAN_MAX_DEPTH 512     /* lib/jscan.c */
#define CHECK(c) do { if (!(c)) __builtin_trap(); } while (0)

static const char *const paths[] = {
	"messages.*.content", "id", "*", "a.*", "a.0.b", "persona.description", "*.*.*",
};
#define NPATHS (int)(sizeof paths / sizeof *paths)

static int depth(json_t *v)
{
	int d = 0;
	size_t i;
	json_t *x;
	if (json_is_array(v)) {
		json_array_foreach(v, i, x) {
			int k = depth(x);
			d = k > d ? k : d;
		}
		return d + 1;
	}
	if (json_is_object(v)) {
		const char *key;
		json_object_foreach(v, key, x) {
			int k = depth(x);
			d = k > d ? k : d;
		}
		return d + 1;
	}
	return 0;
}

/* What jscan gives for one path, checked as the walk goes. */
struct want {
	const char *text;       /* jscan's text, consumed from the front */
	size_t left, total;
	int found;
	json_t *first;
};

/* Every scalar at or under v, in order: jscan joins them with newlines
 * (a newline only after some text) and writes numbers as they were. */
static void take_text(struct want *w, json_t *v)
{
	size_t i;
	json_t *x;
	if (json_is_array(v)) {
		json_array_foreach(v, i, x)
			take_text(w, x);
		return;
	}
	if (json_is_object(v)) {
		const char *key;
		json_object_foreach(v, key, x)
			take_text(w, x);
		return;
	}
	if (json_is_null(v))
		return;
	if (w->total > w->left) {
		CHECK(w->left && *w->text == '\n');
		w->text++, w->left--;
	}
	if (json_is_string(v)) {
		size_t n = json_string_length(v);
		CHECK(w->left >= n && !memcmp(w->text, json_string_value(v), n));
		w->text += n, w->left -= n;
	} else if (json_is_boolean(v)) {
		const char *s = json_is_true(v) ? "true" : "false";
		size_t n = strlen(s);
		CHECK(w->left >= n && !memcmp(w->text, s, n));
		w->text += n, w->left -= n;
	} else {
		size_t n = 0;
		while (n < w->left && strchr("+-.0123456789eE", w->text[n]) && w->text[n])
			n++;
		CHECK(n > 0);
		char tok[512];
		CHECK(n < sizeof tok);
		memcpy(tok, w->text, n);
		tok[n] = 0;
		CHECK(strtod(tok, NULL) == json_number_value(v));
		w->text += n, w->left -= n;
	}
}

/* The values path selects from v, segment by segment. */
static void walk(struct want *w, json_t *v, const char *path)
{
	if (!*path) {
		if (json_is_null(v))
			return;
		if (!w->found++)
			w->first = v;
		take_text(w, v);
		return;
	}
	const char *dot = strchr(path, '.');
	size_t len = dot ? (size_t)(dot - path) : strlen(path);
	const char *rest = dot ? dot + 1 : path + len;
	int any = len == 1 && *path == '*';
	char seg[64];
	memcpy(seg, path, len);
	seg[len] = 0;
	char *e;
	long idx = strtol(seg, &e, 10);
	if (!len || *e || *seg == '-' || *seg == '+')
		idx = -1;
	if (json_is_object(v)) {
		const char *key;
		size_t klen;
		json_t *x;
		json_object_keylen_foreach(v, key, klen, x)
			if (any || (klen == len && !memcmp(key, seg, len)))
				walk(w, x, rest);
	} else if (json_is_array(v)) {
		size_t i;
		json_t *x;
		json_array_foreach(v, i, x)
			if (any || (long)i == idx)
				walk(w, x, rest);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct jscan *js;
	if (!js)
		js = jscan_new(NPATHS, paths);
	const char *line = (const char *)data;
	struct buf err = {0};
	int ok = !jscan_line(js, line, size, &err);
	if (memchr(line, 0, size)) {
		/* a NUL byte is never JSON; jansson stops reading there */
		CHECK(!ok);
		buf_free(&err);
		return 0;
	}
	json_error_t jerr;
	json_t *ref = json_loadb(line, size,
				 JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL |
				 JSON_DECODE_INT_AS_REAL, &jerr);
	if (!ref) {
		enum json_error_code code = json_error_code(&jerr);
		if (code != json_error_duplicate_key && code != json_error_numeric_overflow &&
		    code != json_error_null_byte_in_key)
			CHECK(!ok);
		if (code == json_error_invalid_utf8)
			CHECK(!strncmp(err.p, "invalid UTF-8 at byte ", 22));
		buf_free(&err);
		return 0;
	}
	if (depth(ref) > JSCAN_MAX_DEPTH) {
		CHECK(!ok && strstr(err.p, "nesting too deep"));
	} else if (!json_is_object(ref)) {
		CHECK(!ok && !strcmp(err.p, "not a JSON object"));
	} else {
		CHECK(ok);
		for (int i = 0; i < NPATHS; i++) {
			struct want w = {0};
			w.text = jscan_text(js, i, &w.left);
			w.total = w.left;
			walk(&w, ref, paths[i]);
			CHECK(w.left == 0);
			CHECK(jscan_found(js, i) == w.found);
			size_t rawlen;
			const char *raw = jscan_raw(js, i, &rawlen);
			CHECK(!raw == !w.first);
			if (!raw)
				continue;
			json_t *back = json_loadb(raw, rawlen, JSON_DECODE_ANY | JSON_ALLOW_NUL |
						  JSON_DECODE_INT_AS_REAL, &jerr);
			CHECK(back && json_equal(back, w.first));
			json_decref(back);
		}
	}
	json_decref(ref);
	buf_free(&err);
	return 0;
}
