/* tmpl: a small mustache-like renderer over jansson values. */
#include "tmpl.h"
#include "record.h"

#include <string.h>

void tmpl_value(json_t *v, struct buf *out)
{
	if (json_is_string(v)) {
		buf_add(out, json_string_value(v), json_string_length(v));
	} else if (v && !json_is_null(v)) {
		char *s = json_compact(v);
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

static int render(const char *t, size_t len, json_t *ctx, struct buf *out, struct buf *err, int depth)
{
	size_t i = 0;
	if (depth > 16) {
		buf_adds(err, "sections nested too deeply");
		return -1;
	}
	while (i < len) {
		const char *open = memmem(t + i, len - i, "{{", 2);
		if (!open) {
			if (out)
				buf_add(out, t + i, len - i);
			break;
		}
		size_t at = (size_t)(open - t);
		if (out)
			buf_add(out, t + i, at - i);
		const char *close = memmem(open + 2, len - at - 2, "}}", 2);
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
			int show = !empty(json_path(ctx, path));
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
		json_t *v = json_path(ctx, path);
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
