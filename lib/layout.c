/* layout: a record through a user's template (see layout.h). */
#include "layout.h"
#include "conf.h"
#include "conv.h"
#include "tmpl.h"

#include <stdlib.h>
#include <string.h>

struct layout {
	char *text;             /* a text layout */
	json_t *json;           /* a JSON layout */
};

struct layout *layout_load(const char *path, const char *what)
{
	size_t len;
	char *text = read_text(path, what, &len);
	struct layout *l = xcalloc(1, sizeof *l);
	struct buf err = {0};
	const char *p = text;
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	if (*p == '{' || *p == '[') {
		l->json = conf_parse(path, text, len, &err);
		if (!l->json)
			die("%s: %s", what, err.p);
		free(text);
	} else {
		if (tmpl_check(text, &err))
			die("%s: %s: %s", what, path, err.p);
		l->text = text;
	}
	buf_free(&err);
	return l;
}

void layout_free(struct layout *l)
{
	if (!l)
		return;
	free(l->text);
	json_decref(l->json);
	free(l);
}

json_t *layout_apply(const struct layout *l, json_t *rec, struct buf *out, struct buf *err)
{
	json_t *ctx = json_copy(rec);
	json_t *msgs = json_object_get(rec, "messages");
	if (json_is_array(msgs)) {
		char *t = conv_transcript(msgs);
		json_object_set_new(ctx, "transcript", json_string(t));
		free(t);
	}
	json_t *line = NULL;
	if (l->json) {
		line = tmpl_render_json(l->json, ctx, err);
	} else if (!tmpl_render(l->text, ctx, out, err) && out->len && out->p[out->len - 1] == '\n') {
		out->p[--out->len] = 0;
	}
	json_decref(ctx);
	return line;
}
