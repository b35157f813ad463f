/* tmpl: a small mustache-like renderer over jansson values. */
#include "tmpl.h"
#include "jv.h"
#include "record.h"

#include <string.h>

void tmpl_value(json_t *v, struct buf *out)
{
	if (json_is_string(v)) {
		buf_add(out, json_string_value(v), json_string_length(v));
	} else if (v && !json_is_null(v)) {
		char *s = jv_compact(v);
		buf_adds(out, s);
		free(s);
	}
}

static int empty(json_t *v)
{
	if (!v || json_is_null(v) || json_is_false(v))
		return 1;
	if (json_is_string(v))
		return json_string_length(v) == 0;
	if (json_is_array(v))
		return json_array_size(v) == 0;
	if (json_is_object(v))
		return json_object_size(v) == 0;
	return 0;
}

static void trim(const char *s, size_t n, const char **ts, size_t *tn)
{
	while (n && (*s == ' ' || *s == '\t'))
		s++, n--;
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	*ts = s;
	*tn = n;
}

/* memmem(s, n, "cc", 2) by memchr: glibc's memmem sets up a general
 * search for each call, and a prompt is rendered for every request. */
static const char *find_pair(const char *s, size_t n, char c)
{
	const char *end = s + n;
	while (end - s >= 2) {
		const char *p = memchr(s, c, (size_t)(end - s) - 1);
		if (!p)
			return NULL;
		if (p[1] == c)
			return p;
		s = p + 1;
	}
	return NULL;
}

static int render(const char *t, size_t len, json_t *ctx, struct buf *out, struct buf *err, int depth)
{
	size_t i = 0;
	if (depth > 16) {
		buf_adds(err, "sections nested too deeply");
		return -1;
	}
	while (i < len) {
		const char *open = find_pair(t + i, len - i, '{');
		if (!open) {
			if (out)
				buf_add(out, t + i, len - i);
			break;
		}
		size_t at = (size_t)(open - t);
		if (out)
			buf_add(out, t + i, at - i);
		const char *close = find_pair(open + 2, len - at - 2, '}');
		if (!close) {
			buf_adds(err, "unclosed {{ in template");
			return -1;
		}
		const char *name;
		size_t n;
		trim(open + 2, (size_t)(close - open - 2), &name, &n);
		i = (size_t)(close - t) + 2;
		if (n == 0) {
			buf_adds(err, "empty {{}} in template");
			return -1;
		}
		char kind = name[0];
		if (kind == '#' || kind == '^') {
			const char *sn;
			size_t snn;
			trim(name + 1, n - 1, &sn, &snn);
			char *path = xstrndup(sn, snn);
			/* find the matching {{/path}} */
			struct buf end = {0};
			buf_addf(&end, "{{/%s}}", path);
			const char *e = memmem(t + i, len - i, end.p, end.len);
			if (!e) {
				buf_addf(err, "section {{%c%s}} has no {{/%s}}", kind, path, path);
				free(path);
				buf_free(&end);
				return -1;
			}
			int show = !empty(jv_path(ctx, path));
			if (kind == '^')
				show = !show;
			int rc = render(t + i, (size_t)(e - t) - i, ctx, show ? out : NULL, err, depth + 1);
			i = (size_t)(e - t) + end.len;
			free(path);
			buf_free(&end);
			if (rc)
				return rc;
			continue;
		}
		int optional = name[n - 1] == '?';
		char *path = xstrndup(name, optional ? n - 1 : n);
		json_t *v = jv_path(ctx, path);
		if (!v && !optional && out) {
			buf_addf(err, "missing value {{%s}}", path);
			free(path);
			return -1;
		}
		if (out)
			tmpl_value(v, out);
		free(path);
	}
	return 0;
}

int tmpl_render(const char *tmpl, json_t *ctx, struct buf *out, struct buf *err)
{
	buf_reset(err);
	return render(tmpl, strlen(tmpl), ctx, out, err, 0);
}

int tmpl_check(const char *tmpl, struct buf *err)
{
	json_t *empty = json_object();
	buf_reset(err);
	int rc = render(tmpl, strlen(tmpl), empty, NULL, err, 0);
	json_decref(empty);
	return rc;
}

/* The path of a string that is one {{path}} or {{path?}} tag alone, else
 * NULL; *optional says which. */
static char *lone_tag(const char *s, int *optional)
{
	size_t n = strlen(s);
	if (n < 5 || strncmp(s, "{{", 2) || strcmp(s + n - 2, "}}"))
		return NULL;
	const char *name;
	size_t nn;
	trim(s + 2, n - 4, &name, &nn);
	if (!nn || memchr(name, '{', nn) || memchr(name, '}', nn) || strchr("#^/", name[0]))
		return NULL;
	*optional = name[nn - 1] == '?';
	return xstrndup(name, *optional ? nn - 1 : nn);
}

static json_t *render_json(json_t *v, json_t *ctx, struct buf *err, int depth)
{
	if (depth > 64) {
		buf_adds(err, "layout nested too deeply");
		return NULL;
	}
	if (json_is_string(v)) {
		int optional;
		char *path = lone_tag(json_string_value(v), &optional);
		if (path) {
			json_t *got = jv_path(ctx, path);
			if (!got && !optional)
				buf_addf(err, "missing value {{%s}}", path);
			free(path);
			return got ? json_deep_copy(got) : optional ? json_null() : NULL;
		}
		struct buf out = {0};
		buf_adds(&out, "");
		if (render(json_string_value(v), json_string_length(v), ctx, &out, err, 0)) {
			buf_free(&out);
			return NULL;
		}
		json_t *s = json_stringn(out.p, out.len);
		buf_free(&out);
		return s;
	}
	if (json_is_array(v)) {
		json_t *a = json_array();
		size_t i;
		json_t *e;
		json_array_foreach(v, i, e) {
			json_t *r = render_json(e, ctx, err, depth + 1);
			if (!r) {
				json_decref(a);
				return NULL;
			}
			json_array_append_new(a, r);
		}
		return a;
	}
	if (json_is_object(v)) {
		json_t *o = json_object();
		const char *k;
		json_t *e;
		json_object_foreach(v, k, e) {
			json_t *r = render_json(e, ctx, err, depth + 1);
			if (!r) {
				json_decref(o);
				return NULL;
			}
			json_object_set_new(o, k, r);
		}
		return o;
	}
	return json_incref(v);
}

json_t *tmpl_render_json(json_t *layout, json_t *ctx, struct buf *err)
{
	buf_reset(err);
	return render_json(layout, ctx, err, 0);
}
