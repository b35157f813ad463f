/* gen-value: scg-mock's values valid against a JSON schema, drawn from a
 * key with lib/rng, and the canned answers of --answers (gen.h). Strings
 * are the words of gen-text.c. */
#include "gen.h"
#include "conf.h"
#include "rng.h"
#include "util.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* The schema walk: root for local $refs, key and path seed each value. */
struct gen {
	const json_t *root;
	uint64_t key;
	int depth;
	long left;      /* bytes the value may still take (about) */
};

/* Counts n bytes against the budget; 0 once it is spent. */
static int spend(struct gen *g, double n)
{
	if (g->left < 0 || n > (double)g->left) {
		g->left = -1;
		return 0;
	}
	g->left -= (long)n;
	return 1;
}

static json_t *gen_value(struct gen *g, const json_t *s, const char *path);

static void value_rng(struct gen *g, struct rng *r, const char *path)
{
	rng_init(r, g->key, path, "scg-mock", "value");
}

/* "#/$defs/name" or "#/definitions/name" (any JSON pointer into the root). */
static const json_t *resolve_ref(const json_t *root, const char *ref)
{
	if (ref[0] != '#')
		return NULL;
	const json_t *v = root;
	const char *p = ref + 1;
	while (v && *p == '/') {
		p++;
		size_t n = strcspn(p, "/");
		struct buf tok = {0};
		for (size_t i = 0; i < n; i++) {
			if (p[i] == '~' && i + 1 < n && (p[i + 1] == '0' || p[i + 1] == '1')) {
				buf_addc(&tok, p[i + 1] == '0' ? '~' : '/');
				i++;
			} else {
				buf_addc(&tok, p[i]);
			}
		}
		if (json_is_object(v))
			v = json_object_get(v, tok.p ? tok.p : "");
		else if (json_is_array(v))
			v = json_array_get(v, (size_t)strtoul(tok.p ? tok.p : "", NULL, 10));
		else
			v = NULL;
		buf_free(&tok);
		p += n;
	}
	return *p ? NULL : v;
}

static double num_field(const json_t *s, const char *name, double dflt)
{
	json_t *v = json_object_get(s, name);
	return json_is_number(v) ? json_number_value(v) : dflt;
}

static json_t *gen_string(struct gen *g, const json_t *s, const char *path)
{
	struct rng r;
	value_rng(g, &r, path);
	/* examples the schema gives are the likeliest values (an order's id) */
	json_t *ex = json_object_get(s, "examples");
	json_t *pick = json_array_size(ex) ? json_array_get(ex, rng_below(&r, json_array_size(ex))) : NULL;
	if (json_is_string(pick) && spend(g, (double)json_string_length(pick) + 2))
		return json_copy(pick);
	const char *format = json_string_value(json_object_get(s, "format"));
	struct buf b = {0};
	if (format && !strcmp(format, "date-time"))
		buf_addf(&b, "20%02d-%02d-%02dT%02d:%02d:%02dZ", 20 + (int)rng_below(&r, 6),
			 1 + (int)rng_below(&r, 12), 1 + (int)rng_below(&r, 28),
			 (int)rng_below(&r, 24), (int)rng_below(&r, 60), (int)rng_below(&r, 60));
	else if (format && !strcmp(format, "date"))
		buf_addf(&b, "20%02d-%02d-%02d", 20 + (int)rng_below(&r, 6),
			 1 + (int)rng_below(&r, 12), 1 + (int)rng_below(&r, 28));
	else if (format && !strcmp(format, "email"))
		buf_addf(&b, "%s.%s@example.com", mock_word(&r),
			 mock_word(&r));
	else if (format && (!strcmp(format, "uri") || !strcmp(format, "url")))
		buf_addf(&b, "https://example.com/%s/%s", mock_word(&r),
			 mock_word(&r));
	else if (format && !strcmp(format, "uuid")) {
		uint64_t a = rng_next(&r), c = rng_next(&r);
		buf_addf(&b, "%08x-%04x-4%03x-%04x-%012llx", (unsigned)(a >> 32),
			 (unsigned)(a >> 16) & 0xffff, (unsigned)a & 0xfff,
			 0x8000 | ((unsigned)(c >> 48) & 0x3fff),
			 (unsigned long long)(c & 0xffffffffffffULL));
	} else
		mock_words(&b, &r, (int)rng_range(&r, 6, 17));

	/* lengths count characters; the vocabulary is ASCII */
	double minl = num_field(s, "minLength", 0), maxl = num_field(s, "maxLength", -1);
	if (!spend(g, fmax(minl, (double)b.len) + 2)) {
		buf_free(&b);
		return json_null();
	}
	while ((double)b.len < minl) {
		buf_addc(&b, ' ');
		mock_words(&b, &r, 1);
	}
	if (maxl >= 0 && (double)b.len > maxl) {
		size_t n = (size_t)maxl;
		b.len = n;
		b.p[n] = 0;
		while (b.len && b.p[b.len - 1] == ' ' && (double)b.len > minl)
			b.p[--b.len] = 0;
		while ((double)b.len < minl)
			buf_addc(&b, 'a');
	}
	json_t *v = json_stringn(b.p ? b.p : "", b.len);
	buf_free(&b);
	return v;
}

static json_t *gen_number(struct gen *g, const json_t *s, const char *path, int integer)
{
	struct rng r;
	value_rng(g, &r, path);
	double lo = num_field(s, "minimum", -INFINITY), hi = num_field(s, "maximum", INFINITY);
	/* draft 6+: exclusiveMinimum/Maximum are numbers */
	double xlo = num_field(s, "exclusiveMinimum", -INFINITY);
	double xhi = num_field(s, "exclusiveMaximum", INFINITY);
	if (integer) {
		if (isfinite(xlo) && floor(xlo) + 1 > lo)
			lo = floor(xlo) + 1;
		if (isfinite(xhi) && ceil(xhi) - 1 < hi)
			hi = ceil(xhi) - 1;
		lo = isfinite(lo) ? ceil(lo) : (isfinite(hi) ? floor(hi) - 100 : 0);
		hi = isfinite(hi) ? floor(hi) : lo + 100;
		if (hi < lo)
			hi = lo;
		double span = hi - lo + 1;
		if (span > 1e15)
			span = 1e15;
		return json_integer((json_int_t)(lo + (double)rng_below(&r, (uint64_t)span)));
	}
	if (xlo > lo)
		lo = xlo;
	if (xhi < hi)
		hi = xhi;
	if (!isfinite(lo))
		lo = isfinite(hi) ? hi - 100 : 0;
	if (!isfinite(hi))
		hi = lo + 100;
	if (hi < lo)
		hi = lo;
	double v = round(rng_range(&r, lo, hi) * 100) / 100;
	/* rounding must not step outside the bounds, exclusive ones included */
	if (v <= xlo || v < lo || v >= xhi || v > hi)
		v = lo + (hi - lo) / 2;
	return json_real(v);
}

/* Past this depth a recursive schema gets only what it requires. */
#define DEEP 12

static int required(const json_t *s, const char *name)
{
	size_t i;
	json_t *req;
	json_array_foreach(json_object_get(s, "required"), i, req)
		if (json_is_string(req) && !strcmp(json_string_value(req), name))
			return 1;
	return 0;
}

static json_t *gen_object(struct gen *g, const json_t *s, const char *path)
{
	json_t *o = json_object();
	const char *name;
	json_t *sub;
	json_object_foreach((json_t *)json_object_get(s, "properties"), name, sub) {
		if (g->depth > DEEP && !required(s, name))
			continue;
		char *p = xasprintf("%s.%s", path, name);
		json_object_set_new(o, name, gen_value(g, sub, p));
		free(p);
	}
	/* a required name without a schema still gets a value */
	size_t i;
	json_t *req;
	json_array_foreach(json_object_get(s, "required"), i, req) {
		name = json_string_value(req);
		if (name && !json_object_get(o, name)) {
			char *p = xasprintf("%s.%s", path, name);
			json_object_set_new(o, name, gen_value(g, NULL, p));
			free(p);
		}
	}
	return o;
}

static int array_has(const json_t *a, const json_t *v)
{
	size_t i;
	json_t *x;
	json_array_foreach(a, i, x)
		if (json_equal(x, v))
			return 1;
	return 0;
}

static json_t *gen_array(struct gen *g, const json_t *s, const char *path)
{
	struct rng r;
	value_rng(g, &r, path);
	json_t *items = json_object_get(s, "items");
	json_t *prefix = json_object_get(s, "prefixItems");
	if (json_is_array(items)) {   /* the old tuple form */
		prefix = items;
		items = json_object_get(s, "additionalItems");
	}
	double minn = num_field(s, "minItems", -1), maxn = num_field(s, "maxItems", -1);
	long lo = minn >= 0 ? (long)minn : (maxn >= 0 && maxn < 1) || g->depth > DEEP ? 0 : 1;
	long hi = g->depth > DEEP ? lo : maxn >= 0 ? (long)maxn : (lo > 3 ? lo : 3);
	if (hi < lo)
		hi = lo;
	/* every item takes a byte or two at least: a minItems past the
	 * budget fails at once instead of after a long build */
	if (!spend(g, 2 * fmax(minn, 0)))
		return json_array();
	long n = lo + (long)rng_below(&r, (uint64_t)(hi - lo + 1));
	long nprefix = (long)json_array_size(prefix);
	if (nprefix && !json_is_object(items) && n > nprefix)
		n = nprefix > lo ? nprefix : lo;
	int unique = json_is_true(json_object_get(s, "uniqueItems"));
	json_t *a = json_array();
	for (long i = 0, tries = 0; (long)json_array_size(a) < n && tries < 8 * n + 8 && g->left >= 0; tries++) {
		i = (long)json_array_size(a);
		char *p = tries > i ? xasprintf("%s[%ld]~%ld", path, i, tries)
				    : xasprintf("%s[%ld]", path, i);
		const json_t *sub = i < nprefix ? json_array_get(prefix, (size_t)i) : items;
		json_t *v = gen_value(g, sub, p);
		free(p);
		if (unique && array_has(a, v))
			json_decref(v);
		else
			json_array_append_new(a, v);
	}
	return a;
}

static json_t *gen_value(struct gen *g, const json_t *s, const char *path)
{
	struct rng r;
	if (!json_is_object(s) || g->depth > 32) {
		if (json_is_false(s) || g->depth > 32)
			return json_null();
		/* no schema (or true): any value will do; a string reads best */
		s = NULL;
	}
	/* a value in memory takes far more than its text: count it so */
	json_t *v;
	if (!spend(g, 16))
		return json_null();
	if ((v = json_object_get(s, "const")))
		return json_deep_copy(v);
	if (json_array_size(v = json_object_get(s, "enum"))) {
		value_rng(g, &r, path);
		return json_deep_copy(json_array_get(v, rng_below(&r, json_array_size(v))));
	}
	const char *ref = json_string_value(json_object_get(s, "$ref"));
	const json_t *branch = NULL;
	if (ref)
		branch = resolve_ref(g->root, ref);
	else if (json_array_size(v = json_object_get(s, "anyOf")) ||
		 json_array_size(v = json_object_get(s, "oneOf")) ||
		 json_array_size(v = json_object_get(s, "allOf")))
		branch = json_array_get(v, 0);
	if (ref || branch) {
		g->depth++;
		v = gen_value(g, branch, path);
		g->depth--;
		return v;
	}

	json_t *type = json_object_get(s, "type");
	const char *t = json_string_value(type);
	if (json_is_array(type)) {   /* ["string","null"]: the first that is not null */
		size_t i;
		json_t *x;
		json_array_foreach(type, i, x) {
			t = json_string_value(x);
			if (t && strcmp(t, "null"))
				break;
		}
	}
	if (!t)
		t = json_object_get(s, "properties") ? "object"
		  : json_object_get(s, "items") ? "array" : "string";

	g->depth++;
	if (!strcmp(t, "object"))
		v = gen_object(g, s, path);
	else if (!strcmp(t, "array"))
		v = gen_array(g, s, path);
	else if (!strcmp(t, "integer"))
		v = gen_number(g, s, path, 1);
	else if (!strcmp(t, "number"))
		v = gen_number(g, s, path, 0);
	else if (!strcmp(t, "boolean")) {
		value_rng(g, &r, path);
		v = json_boolean(rng_below(&r, 2));
	} else if (!strcmp(t, "null"))
		v = json_null();
	else
		v = gen_string(g, s, path);
	g->depth--;
	return v;
}

json_t *mock_value(const json_t *schema, uint64_t key)
{
	struct gen g = {.root = schema, .key = key, .left = MOCK_GEN_MAX};
	json_t *v = gen_value(&g, schema, "$");
	if (g.left < 0) {
		json_decref(v);
		return NULL;
	}
	return v;
}

json_t *mock_canned_load(const char *path, struct buf *err)
{
	json_t *list = conf_load_records(path, err);
	if (!list)
		return NULL;
	json_t *out = json_array(), *e;
	size_t i;
	json_array_foreach(list, i, e) {
		json_t *m = json_object_get(e, "match"), *a = json_object_get(e, "answer");
		json_t *texts = json_is_string(m) ? json_pack("[O]", m) : json_incref(m);
		size_t j;
		json_t *t;
		int ok = json_is_object(e) && a && json_is_array(texts) && json_array_size(texts) &&
			 json_object_size(e) == 2;
		json_array_foreach(texts, j, t)
			ok &= json_is_string(t) && json_string_length(t) > 0;
		if (!ok) {
			buf_reset(err);
			buf_addf(err, "%s: entry %zu: expected {\"match\": TEXT or [TEXT, ...], \"answer\": VALUE}",
				 path, i + 1);
			json_decref(texts);
			json_decref(out);
			json_decref(list);
			return NULL;
		}
		json_array_append_new(out, json_pack("{s:o, s:{s:O}}", "match", texts, "schema", "const", a));
	}
	json_decref(list);
	return out;
}

const json_t *mock_canned_find(const json_t *canned, const char *body, size_t len)
{
	size_t i, j;
	json_t *e, *t;
	json_array_foreach(canned, i, e) {
		int all = 1;
		json_array_foreach(json_object_get(e, "match"), j, t)
			all &= memmem(body, len, json_string_value(t), json_string_length(t)) != NULL;
		if (all)
			return json_object_get(e, "schema");
	}
	return NULL;
}
