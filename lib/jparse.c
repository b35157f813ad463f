/* jparse: recursive descent over a buffer, straight into jansson values. */
#include "jparse.h"
#include "jrun.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 512

struct p {
	const char *s, *end, *start;
	struct buf *err;
	struct buf tmp;
	int depth;
	int check_utf8;         /* bytes above ASCII are checked in strings */
};

static json_t *fail(struct p *p, const char *what)
{
	if (!p->err->len)
		buf_addf(p->err, "%s (column %ld)", what, (long)(p->s - p->start) + 1);
	return NULL;
}

static void ws(struct p *p)
{
	while (p->s < p->end && (*p->s == ' ' || *p->s == '\n' || *p->s == '\r' || *p->s == '\t'))
		p->s++;
}

static int hex4(const char *s, unsigned *v)
{
	*v = 0;
	for (int i = 0; i < 4; i++) {
		char c = s[i];
		*v <<= 4;
		if (c >= '0' && c <= '9') *v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f') *v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F') *v |= (unsigned)(c - 'A' + 10);
		else return -1;
	}
	return 0;
}

/* Reads a string after its opening quote. On success *out and *n point either
 * into the input (no escapes) or into p->tmp. */
static int string(struct p *p, const char **out, size_t *n)
{
	const char *s = p->s, *run = s;
	int escaped = 0;
	buf_reset(&p->tmp);
	for (;;) {
		s = p->check_utf8 ? jrun_plain(s, p->end) : jrun_text(s, p->end);
		if (s >= p->end) {
			p->s = s;
			fail(p, "unterminated string");
			return -1;
		}
		if ((unsigned char)*s >= 0x80) {
			size_t n = utf8_seq(s, p->end);
			if (!n) {
				p->s = s;
				fail(p, "invalid UTF-8");
				return -1;
			}
			s += n;
			continue;
		}
		if (*s == '"')
			break;
		if ((unsigned char)*s < 0x20) {
			p->s = s;
			fail(p, "control character in a string");
			return -1;
		}
		/* a backslash */
		escaped = 1;
		buf_add(&p->tmp, run, (size_t)(s - run));
		if (s + 1 >= p->end) {
			p->s = s;
			fail(p, "unterminated string");
			return -1;
		}
		char c = s[1];
		s += 2;
		switch (c) {
		case '"': buf_addc(&p->tmp, '"'); break;
		case '\\': buf_addc(&p->tmp, '\\'); break;
		case '/': buf_addc(&p->tmp, '/'); break;
		case 'b': buf_addc(&p->tmp, '\b'); break;
		case 'f': buf_addc(&p->tmp, '\f'); break;
		case 'n': buf_addc(&p->tmp, '\n'); break;
		case 'r': buf_addc(&p->tmp, '\r'); break;
		case 't': buf_addc(&p->tmp, '\t'); break;
		case 'u': {
			unsigned cp, lo;
			if (p->end - s < 4 || hex4(s, &cp)) {
				p->s = s;
				fail(p, "bad \\u escape");
				return -1;
			}
			s += 4;
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (p->end - s < 6 || s[0] != '\\' || s[1] != 'u' || hex4(s + 2, &lo) ||
				    lo < 0xdc00 || lo > 0xdfff) {
					p->s = s;
					fail(p, "unpaired surrogate in \\u escape");
					return -1;
				}
				s += 6;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			} else if (cp >= 0xdc00 && cp <= 0xdfff) {
				p->s = s;
				fail(p, "unpaired surrogate in \\u escape");
				return -1;
			}
			buf_add_utf8(&p->tmp, cp);
			break;
		}
		default:
			p->s = s - 1;
			fail(p, "bad escape in a string");
			return -1;
		}
		run = s;
	}
	if (escaped) {
		buf_add(&p->tmp, run, (size_t)(s - run));
		*out = p->tmp.p;
		*n = p->tmp.len;
	} else {
		*out = p->s;
		*n = (size_t)(s - p->s);
	}
	p->s = s + 1;
	return 0;
}

/* Past one digit or more at *s: 0, or -1 with the error when none is there. */
static int digits(struct p *p, const char **s)
{
	if (*s >= p->end || **s < '0' || **s > '9') {
		p->s = *s;
		fail(p, "invalid number");
		return -1;
	}
	while (*s < p->end && **s >= '0' && **s <= '9')
		(*s)++;
	return 0;
}

static json_t *number(struct p *p)
{
	const char *s = p->s, *b = s;
	int real = 0;
	if (s < p->end && *s == '-')
		s++;
	if (s >= p->end || *s < '0' || *s > '9')
		return fail(p, "invalid value");
	if (*s == '0') {
		s++;
	} else {
		while (s < p->end && *s >= '0' && *s <= '9')
			s++;
	}
	if (s < p->end && *s == '.') {
		real = 1;
		s++;
		if (digits(p, &s))
			return NULL;
	}
	if (s < p->end && (*s == 'e' || *s == 'E')) {
		real = 1;
		s++;
		if (s < p->end && (*s == '+' || *s == '-'))
			s++;
		if (digits(p, &s))
			return NULL;
	}
	char tmp[64];
	size_t n = (size_t)(s - b);
	char *copy = n < sizeof tmp ? tmp : xmalloc(n + 1);
	memcpy(copy, b, n);
	copy[n] = 0;
	json_t *v = NULL;
	errno = 0;
	if (!real) {
		long long i = strtoll(copy, NULL, 10);
		if (errno == ERANGE)
			real = 1;   /* too large for an integer: read it as a real */
		else
			v = json_integer(i);
	}
	if (real) {
		errno = 0;
		double d = strtod(copy, NULL);
		if (errno == ERANGE && (d > 1 || d < -1)) {
			if (copy != tmp)
				free(copy);
			return fail(p, "number out of range");
		}
		v = json_real(d);
	}
	if (copy != tmp)
		free(copy);
	p->s = s;
	return v;
}

static json_t *value(struct p *p);

/* Past white space and close, when close comes next: 1, else 0. */
static inline int at_close(struct p *p, char close)
{
	ws(p);
	if (p->s < p->end && *p->s == close) {
		p->s++;
		return 1;
	}
	return 0;
}

/* After a member or an element: 1 past a comma (another follows), 0 past
 * close (the end), -1 with the error at anything else. */
static inline int after_item(struct p *p, char close)
{
	ws(p);
	if (p->s < p->end && *p->s == ',') {
		p->s++;
		return 1;
	}
	if (at_close(p, close))
		return 0;
	fail(p, close == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
	return -1;
}

static json_t *object(struct p *p)
{
	json_t *o = json_object();
	p->s++;
	int more = at_close(p, '}') ? 0 : 1;
	while (more > 0) {
		ws(p);
		if (p->s >= p->end || *p->s != '"') {
			fail(p, "expected a string key");
			break;
		}
		p->s++;
		const char *k;
		size_t kn;
		if (string(p, &k, &kn))
			break;
		/* the key may live in tmp, which the value reuses */
		char small[128];
		char *key = kn < sizeof small ? small : xmalloc(kn + 1);
		memcpy(key, k, kn);
		key[kn] = 0;
		ws(p);
		json_t *v = NULL;
		if (p->s >= p->end || *p->s != ':') {
			fail(p, "expected ':'");
		} else {
			p->s++;
			v = value(p);
		}
		if (v)
			json_object_setn_new_nocheck(o, key, kn, v);
		if (key != small)
			free(key);
		if (!v)
			break;
		more = after_item(p, '}');
	}
	if (!more)
		return o;
	json_decref(o);
	return NULL;
}

static json_t *array(struct p *p)
{
	json_t *a = json_array();
	p->s++;
	int more = at_close(p, ']') ? 0 : 1;
	while (more > 0) {
		json_t *v = value(p);
		if (!v)
			break;
		json_array_append_new(a, v);
		more = after_item(p, ']');
	}
	if (!more)
		return a;
	json_decref(a);
	return NULL;
}

static int word(struct p *p, const char *w, size_t n)
{
	if ((size_t)(p->end - p->s) >= n && !memcmp(p->s, w, n)) {
		p->s += n;
		return 1;
	}
	return 0;
}

static json_t *value(struct p *p)
{
	ws(p);
	if (p->s >= p->end)
		return fail(p, "unexpected end of input");
	json_t *v;
	switch (*p->s) {
	case '{':
	case '[':
		if (++p->depth > MAX_DEPTH)
			return fail(p, "nested too deeply");
		v = *p->s == '{' ? object(p) : array(p);
		p->depth--;
		return v;
	case '"': {
		p->s++;
		const char *s;
		size_t n;
		if (string(p, &s, &n))
			return NULL;
		return json_stringn_nocheck(s, n);
	}
	case 't':
		if (word(p, "true", 4))
			return json_true();
		break;
	case 'f':
		if (word(p, "false", 5))
			return json_false();
		break;
	case 'n':
		if (word(p, "null", 4))
			return json_null();
		break;
	default:
		return number(p);
	}
	return fail(p, "invalid value");
}

static json_t *parse(const char *s, size_t len, int check_utf8, struct buf *err)
{
	struct p p = {.s = s, .end = s + len, .start = s, .err = err, .check_utf8 = check_utf8};
	buf_reset(err);
	json_t *v = value(&p);
	if (v) {
		ws(&p);
		if (p.s != p.end) {
			json_decref(v);
			v = fail(&p, "text after the value");
		}
	}
	buf_free(&p.tmp);
	return v;
}

/* UTF-8 is checked where it may be, in strings (anywhere else a byte
 * above ASCII is no JSON); input that fails for any reason and is not
 * UTF-8 is named for that, at its first bad byte. */
json_t *jparse(const char *s, size_t len, struct buf *err)
{
	json_t *v = parse(s, len, 1, err);
	size_t bad;
	if (!v && !utf8_valid(s, len, &bad)) {
		buf_reset(err);
		buf_addf(err, "invalid UTF-8 at byte %zu", bad + 1);
	}
	return v;
}

json_t *jparse_utf8(const char *s, size_t len, struct buf *err)
{
	return parse(s, len, 0, err);
}
