/* jscan: a recursive-descent JSON checker that follows the wanted paths as
 * it goes. Every byte is checked, the UTF-8 of strings too, but only strings
 * under a selected value are decoded, so scanning costs little more than
 * reading the line. Runs of plain string bytes are skipped a vector at a
 * time (lib/jrun.h). */
#include "jscan.h"
#include "jrun.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define JSCAN_MAX_DEPTH 512
#define DEAD (-1)

struct seg {
	char *key;
	size_t klen;
	long idx;       /* the key as an array index, or -1 */
	int any;        /* "*" */
};

struct jpath {
	struct seg *seg;
	int nseg;
};

struct jscan {
	int n;
	struct jpath *path;
	struct buf *text;
	int *found;
	const char **raw;
	size_t *rawlen;
	const char *line, *end;
	const char *err;        /* static reason, NULL when fine */
	const char *errat;
	struct buf str, key;
	short *pos;             /* JSCAN_MAX_DEPTH+1 rows of n path positions */
};

struct jscan *jscan_new(int npaths, const char *const *paths)
{
	struct jscan *js = xcalloc(1, sizeof *js);
	js->n = npaths;
	js->path = xcalloc((size_t)npaths, sizeof *js->path);
	js->text = xcalloc((size_t)npaths, sizeof *js->text);
	js->found = xcalloc((size_t)npaths, sizeof *js->found);
	js->raw = xcalloc((size_t)npaths, sizeof *js->raw);
	js->rawlen = xcalloc((size_t)npaths, sizeof *js->rawlen);
	js->pos = xcalloc((size_t)(JSCAN_MAX_DEPTH + 2) * (size_t)(npaths ? npaths : 1),
			  sizeof *js->pos);
	for (int i = 0; i < npaths; i++) {
		struct jpath *p = &js->path[i];
		const char *s = paths[i];
		for (;;) {
			const char *dot = strchr(s, '.');
			size_t len = dot ? (size_t)(dot - s) : strlen(s);
			p->seg = xrealloc(p->seg, sizeof *p->seg * (size_t)(p->nseg + 1));
			struct seg *g = &p->seg[p->nseg++];
			g->key = xstrndup(s, len);
			g->klen = len;
			g->any = len == 1 && *s == '*';
			char *e;
			long v = strtol(g->key, &e, 10);
			g->idx = len && !*e && *g->key != '-' && *g->key != '+' ? v : -1;
			if (!dot)
				break;
			s = dot + 1;
		}
	}
	return js;
}

void jscan_free(struct jscan *js)
{
	if (!js)
		return;
	for (int i = 0; i < js->n; i++) {
		for (int k = 0; k < js->path[i].nseg; k++)
			free(js->path[i].seg[k].key);
		free(js->path[i].seg);
		buf_free(&js->text[i]);
	}
	free(js->path);
	free(js->text);
	free(js->found);
	free(js->raw);
	free(js->rawlen);
	free(js->pos);
	buf_free(&js->str);
	buf_free(&js->key);
	free(js);
}

static const char *fail(struct jscan *js, const char *at, const char *why)
{
	if (!js->err) {
		js->err = why;
		js->errat = at;
	}
	return NULL;
}

static const char *skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static const char *hex4(struct jscan *js, const char *p, unsigned *v)
{
	if (js->end - p < 4)
		return fail(js, p, "truncated \\u escape");
	*v = 0;
	for (int k = 0; k < 4; k++) {
		int h = hexval((unsigned char)p[k]);
		if (h < 0)
			return fail(js, p + k, "bad \\u escape");
		*v = *v << 4 | (unsigned)h;
	}
	return p + 4;
}

/* p is just past the opening quote. With out, the decoded text is appended
 * there; without, the string is only checked. Returns the byte after the
 * closing quote. Bytes above ASCII must be UTF-8; they are allowed in
 * strings only, so a line that scans is valid UTF-8. */
static const char *string(struct jscan *js, const char *p, struct buf *out)
{
	const char *end = js->end;
	for (;;) {
		const char *run = p;
		for (;;) {
			p = jrun_plain(p, end);
			if (p >= end || (unsigned char)*p < 0x80)
				break;
			size_t n = utf8_seq(p, end);
			if (!n)
				return fail(js, p, "invalid UTF-8");
			p += n;
		}
		if (out)
			buf_add(out, run, (size_t)(p - run));
		if (p >= end)
			return fail(js, p, "unterminated string");
		if (*p == '"')
			return p + 1;
		if (*p != '\\')
			return fail(js, p, "control character in string");
		p++;
		if (p >= end)
			return fail(js, p, "unterminated string");
		char c = *p++;
		unsigned u;
		switch (c) {
		case '"': case '\\': case '/': break;
		case 'b': c = '\b'; break;
		case 'f': c = '\f'; break;
		case 'n': c = '\n'; break;
		case 'r': c = '\r'; break;
		case 't': c = '\t'; break;
		case 'u':
			if (!(p = hex4(js, p, &u)))
				return NULL;
			if (u >= 0xdc00 && u <= 0xdfff)
				return fail(js, p - 6, "lone surrogate in \\u escape");
			if (u >= 0xd800 && u <= 0xdbff) {
				unsigned lo;
				if (end - p < 2 || p[0] != '\\' || p[1] != 'u')
					return fail(js, p - 6, "lone surrogate in \\u escape");
				if (!(p = hex4(js, p + 2, &lo)))
					return NULL;
				if (lo < 0xdc00 || lo > 0xdfff)
					return fail(js, p - 12, "lone surrogate in \\u escape");
				u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
			}
			if (out)
				buf_add_utf8(out, u);
			continue;
		default:
			return fail(js, p - 2, "bad escape in string");
		}
		if (out)
			buf_addc(out, c);
	}
}

static const char *number(struct jscan *js, const char *p)
{
	const char *end = js->end, *s = p;
	if (p < end && *p == '-')
		p++;
	if (p < end && *p == '0')
		p++;
	else if (p < end && *p >= '1' && *p <= '9')
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	else
		return fail(js, s, "bad number");
	if (p < end && *p == '.') {
		p++;
		if (p >= end || *p < '0' || *p > '9')
			return fail(js, p, "bad number");
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (p >= end || *p < '0' || *p > '9')
			return fail(js, p, "bad number");
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	}
	return p;
}

static void add_text(struct jscan *js, int i, const char *s, size_t n)
{
	if (js->text[i].len)
		buf_addc(&js->text[i], '\n');
	buf_add(&js->text[i], s, n);
}

/* pos: this value's position in each path (DEAD, a segment index, or nseg
 * when the value is at or under a selected one); NULL when no path is
 * alive here. */
static const char *value(struct jscan *js, const char *p, int depth, const short *pos);

static const char *scalar_or_string(struct jscan *js, const char *p, const short *pos)
{
	int collect = 0;
	for (int i = 0; pos && i < js->n; i++)
		collect |= pos[i] == js->path[i].nseg;
	const char *s = p, *q;
	if (*p == '"' && collect) {
		/* one path takes it (the usual case): decoded straight there */
		int only = -1;
		for (int i = 0; i < js->n; i++)
			if (pos[i] == js->path[i].nseg)
				only = only < 0 ? i : js->n;
		if (only < js->n) {
			if (js->text[only].len)
				buf_addc(&js->text[only], '\n');
			return string(js, p + 1, &js->text[only]);
		}
	}
	if (*p == '"') {
		buf_reset(&js->str);
		if (!(q = string(js, p + 1, collect ? &js->str : NULL)))
			return NULL;
		for (int i = 0; collect && i < js->n; i++)
			if (pos[i] == js->path[i].nseg)
				add_text(js, i, js->str.p, js->str.len);
		return q;
	}
	size_t left = (size_t)(js->end - p);
	if (*p == 't' && left >= 4 && !memcmp(p, "true", 4))
		q = p + 4;
	else if (*p == 'f' && left >= 5 && !memcmp(p, "false", 5))
		q = p + 5;
	else if (*p == 'n' && left >= 4 && !memcmp(p, "null", 4))
		return p + 4;
	else if (*p == '-' || (*p >= '0' && *p <= '9'))
		q = number(js, p);
	else
		return fail(js, p, "unexpected character");
	for (int i = 0; q && collect && i < js->n; i++)
		if (pos[i] == js->path[i].nseg)
			add_text(js, i, s, (size_t)(q - s));
	return q;
}

/* The positions of a member (key) or element (index) of a container at pos. */
static const short *child_pos(struct jscan *js, const short *pos, int depth,
			      const char *key, size_t klen, long index)
{
	if (!pos)
		return NULL;
	short *c = js->pos + (size_t)(depth + 1) * (size_t)js->n;
	int alive = 0;
	for (int i = 0; i < js->n; i++) {
		const struct jpath *jp = &js->path[i];
		short v = pos[i];
		if (v == DEAD || v == jp->nseg) {
			c[i] = v;
		} else {
			const struct seg *g = &jp->seg[v];
			int hit = g->any || (key ? g->klen == klen && !memcmp(g->key, key, klen)
					     : g->idx == index);
			c[i] = hit ? (short)(v + 1) : DEAD;
		}
		alive |= c[i] != DEAD;
	}
	return alive ? c : NULL;
}

/* Notes the values a path selects exactly here (for jscan_raw and found). */
static void selected(struct jscan *js, const short *pos, const short *cpos,
		     const char *s, const char *e)
{
	for (int i = 0; cpos && i < js->n; i++) {
		if (cpos[i] != js->path[i].nseg || pos[i] == js->path[i].nseg)
			continue;
		if (e - s == 4 && !memcmp(s, "null", 4))
			continue;
		if (!js->found[i]++) {
			js->raw[i] = s;
			js->rawlen[i] = (size_t)(e - s);
		}
	}
}

static const char *container(struct jscan *js, const char *p, int depth, const short *pos)
{
	int obj = *p == '{';
	char close = obj ? '}' : ']';
	if (depth >= JSCAN_MAX_DEPTH)
		return fail(js, p, "nesting too deep");
	p = skip_ws(p + 1, js->end);
	if (p < js->end && *p == close)
		return p + 1;
	for (long index = 0;; index++) {
		const char *key = NULL;
		size_t klen = 0;
		if (obj) {
			if (p >= js->end || *p != '"')
				return fail(js, p, "expected a string key");
			const char *k = p + 1;
			if (!(p = string(js, k, NULL)))
				return NULL;
			key = k, klen = (size_t)(p - 1 - k);
			if (pos && memchr(k, '\\', klen)) {
				buf_reset(&js->key);
				string(js, k, &js->key);
				key = js->key.p, klen = js->key.len;
			}
			p = skip_ws(p, js->end);
			if (p >= js->end || *p != ':')
				return fail(js, p, "expected ':'");
			p = skip_ws(p + 1, js->end);
		}
		const short *cpos = child_pos(js, pos, depth, key, klen, index);
		const char *s = p;
		if (!(p = value(js, p, depth + 1, cpos)))
			return NULL;
		selected(js, pos, cpos, s, p);
		p = skip_ws(p, js->end);
		if (p < js->end && *p == ',') {
			p = skip_ws(p + 1, js->end);
			continue;
		}
		if (p < js->end && *p == close)
			return p + 1;
		return fail(js, p, obj ? "expected ',' or '}'" : "expected ',' or ']'");
	}
}

static const char *value(struct jscan *js, const char *p, int depth, const short *pos)
{
	if (p >= js->end)
		return fail(js, p, "unexpected end of line");
	if (*p == '{' || *p == '[')
		return container(js, p, depth, pos);
	return scalar_or_string(js, p, pos);
}

int jscan_line(struct jscan *js, const char *line, size_t len, struct buf *err)
{
	js->line = line;
	js->end = line + len;
	js->err = NULL;
	for (int i = 0; i < js->n; i++) {
		buf_reset(&js->text[i]);
		js->found[i] = 0;
		js->raw[i] = NULL;
		js->pos[i] = 0;
	}
	const char *p = skip_ws(line, js->end);
	if (p < js->end && *p != '{' && *p != '[' && *p != '"' && *p != '-' &&
	    *p != 't' && *p != 'f' && *p != 'n' && !(*p >= '0' && *p <= '9'))
		fail(js, p, "unexpected character");
	else if (p < js->end && *p != '{') {
		/* a JSON value, but not an object: say so only if it is JSON */
		if ((p = value(js, p, 0, NULL)) && skip_ws(p, js->end) == js->end) {
			buf_reset(err);
			buf_adds(err, "not a JSON object");
			return -1;
		}
		if (p)
			fail(js, p, "text after the JSON value");
	} else if ((p = value(js, p, 0, js->n ? js->pos : NULL)) &&
		   skip_ws(p, js->end) != js->end) {
		fail(js, p, "text after the JSON value");
	}
	if (!js->err)
		return 0;
	/* as if the whole line had been checked for UTF-8 first */
	size_t bad;
	buf_reset(err);
	if (!utf8_valid(line, len, &bad))
		buf_addf(err, "invalid UTF-8 at byte %zu", bad + 1);
	else
		buf_addf(err, "not JSON: %s (column %zu)", js->err, (size_t)(js->errat - line) + 1);
	return -1;
}

int jscan_found(const struct jscan *js, int i)
{
	return js->found[i];
}

const char *jscan_text(const struct jscan *js, int i, size_t *len)
{
	*len = js->text[i].len;
	return js->text[i].len ? js->text[i].p : "";
}

const char *jscan_raw(const struct jscan *js, int i, size_t *len)
{
	*len = js->rawlen[i];
	return js->raw[i];
}
