/* schema: a validator for the schemas scg's prompts use. */
#include "schema.h"
#include "jv.h"

#include <string.h>

static int type_ok(const char *t, json_t *v)
{
	if (!strcmp(t, "object")) return json_is_object(v);
	if (!strcmp(t, "array")) return json_is_array(v);
	if (!strcmp(t, "string")) return json_is_string(v);
	if (!strcmp(t, "integer")) return json_is_integer(v);
	if (!strcmp(t, "number")) return json_is_number(v);
	if (!strcmp(t, "boolean")) return json_is_boolean(v);
	if (!strcmp(t, "null")) return json_is_null(v);
	return 1;
}

static int check(json_t *s, json_t *v, struct buf *path, struct buf *err)
{
	if (!json_is_object(s))
		return 0;
	json_t *t = json_object_get(s, "type");
	if (json_is_string(t) && !type_ok(json_string_value(t), v)) {
		buf_addf(err, "%s: expected %s %s", path->p, 
			 strchr("aeiou", json_string_value(t)[0]) ? "an" : "a", json_string_value(t));
		return -1;
	}
	if (json_is_array(t)) {
		size_t i;
		json_t *e;
		int any = 0;
		json_array_foreach(t, i, e)
			any |= json_is_string(e) && type_ok(json_string_value(e), v);
		if (!any) {
			buf_addf(err, "%s: wrong type", path->p);
			return -1;
		}
	}
	json_t *en = json_object_get(s, "enum");
	if (json_is_array(en)) {
		size_t i;
		json_t *e;
		int found = 0;
		json_array_foreach(en, i, e)
			found |= json_equal(e, v);
		if (!found) {
			char *allowed = jv_compact(en);
			buf_addf(err, "%s: must be one of %s", path->p, allowed);
			free(allowed);
			return -1;
		}
	}
	if (json_is_string(v)) {
		size_t n = utf8_chars(json_string_value(v));
		json_t *mn = json_object_get(s, "minLength"), *mx = json_object_get(s, "maxLength");
		if (json_is_integer(mn) && (json_int_t)n < json_integer_value(mn)) {
			buf_addf(err, "%s: shorter than %lld characters", path->p, (long long)json_integer_value(mn));
			return -1;
		}
		if (json_is_integer(mx) && (json_int_t)n > json_integer_value(mx)) {
			buf_addf(err, "%s: longer than %lld characters", path->p, (long long)json_integer_value(mx));
			return -1;
		}
	}
	if (json_is_number(v)) {
		double d = json_number_value(v);
		json_t *mn = json_object_get(s, "minimum"), *mx = json_object_get(s, "maximum");
		if (json_is_number(mn) && d < json_number_value(mn)) {
			buf_addf(err, "%s: below the minimum %g", path->p, json_number_value(mn));
			return -1;
		}
		if (json_is_number(mx) && d > json_number_value(mx)) {
			buf_addf(err, "%s: above the maximum %g", path->p, json_number_value(mx));
			return -1;
		}
	}
	size_t plen = path->len;
	if (json_is_object(v)) {
		json_t *props = json_object_get(s, "properties");
		json_t *req = json_object_get(s, "required");
		size_t i;
		json_t *e;
		json_array_foreach(req, i, e) {
			if (json_is_string(e) && !json_object_get(v, json_string_value(e))) {
				buf_addf(err, "%s: missing field \"%s\"", path->p, json_string_value(e));
				return -1;
			}
		}
		const char *k;
		json_object_foreach(v, k, e) {
			json_t *ps = json_object_get(props, k);
			if (!ps) {
				if (json_is_false(json_object_get(s, "additionalProperties"))) {
					buf_addf(err, "%s: unexpected field \"%s\"", path->p, k);
					return -1;
				}
				continue;
			}
			buf_addf(path, ".%s", k);
			int rc = check(ps, e, path, err);
			path->len = plen;
			path->p[plen] = 0;
			if (rc)
				return rc;
		}
	}
	if (json_is_array(v)) {
		size_t n = json_array_size(v);
		json_t *mn = json_object_get(s, "minItems"), *mx = json_object_get(s, "maxItems");
		if (json_is_integer(mn) && (json_int_t)n < json_integer_value(mn)) {
			buf_addf(err, "%s: fewer than %lld items", path->p, (long long)json_integer_value(mn));
			return -1;
		}
		if (json_is_integer(mx) && (json_int_t)n > json_integer_value(mx)) {
			buf_addf(err, "%s: more than %lld items", path->p, (long long)json_integer_value(mx));
			return -1;
		}
		json_t *items = json_object_get(s, "items");
		size_t i;
		json_t *e;
		json_array_foreach(v, i, e) {
			buf_addf(path, "[%zu]", i);
			int rc = check(items, e, path, err);
			path->len = plen;
			path->p[plen] = 0;
			if (rc)
				return rc;
		}
	}
	return 0;
}

int schema_check(json_t *schema, json_t *v, struct buf *err)
{
	struct buf path = {0};
	buf_adds(&path, "$");
	buf_reset(err);
	int rc = check(schema, v, &path, err);
	buf_free(&path);
	return rc;
}

static const char *const known[] = {"type", "properties", "required", "additionalProperties", "items",
				    "minItems", "maxItems", "enum", "minLength", "maxLength", "minimum",
				    "maximum", "description", "title", "default", "examples", NULL};

static int supported(json_t *s, struct buf *path, struct buf *err)
{
	if (!json_is_object(s)) {
		buf_addf(err, "%s: not a schema (an object)", path->len ? path->p : "the schema");
		return -1;
	}
	const char *k;
	json_t *v;
	json_object_foreach(s, k, v) {
		int ok = 0;
		for (int i = 0; known[i] && !ok; i++)
			ok = !strcmp(k, known[i]);
		if (!ok) {
			buf_addf(err, "%s%s%s: not in the JSON Schema subset scg checks", path->p ? path->p : "",
				 path->len ? "." : "", k);
			return -1;
		}
	}
	size_t plen = path->len;
	json_t *ap = json_object_get(s, "additionalProperties");
	if (ap && !json_is_boolean(ap)) {
		buf_addf(err, "%s%sadditionalProperties: only true or false are checked",
			 path->p ? path->p : "", path->len ? "." : "");
		return -1;
	}
	json_t *props = json_object_get(s, "properties");
	if (props && !json_is_object(props)) {
		buf_addf(err, "%s%sproperties: not an object", path->p ? path->p : "", path->len ? "." : "");
		return -1;
	}
	json_object_foreach(props, k, v) {
		buf_addf(path, "%sproperties.%s", plen ? "." : "", k);
		int rc = supported(v, path, err);
		path->len = plen;
		if (path->p)
			path->p[plen] = 0;
		if (rc)
			return rc;
	}
	json_t *items = json_object_get(s, "items");
	if (items) {
		buf_addf(path, "%sitems", plen ? "." : "");
		int rc = supported(items, path, err);
		path->len = plen;
		path->p[plen] = 0;
		if (rc)
			return rc;
	}
	return 0;
}

int schema_supported(json_t *schema, struct buf *err)
{
	struct buf path = {0};
	buf_reset(err);
	int rc = supported(schema, &path, err);
	buf_free(&path);
	return rc;
}

json_t *schema_records(const char *key, const char *const *fields, size_t nfields, int n)
{
	json_t *props = json_object(), *req = json_array();
	for (size_t i = 0; i < nfields; i++) {
		json_object_set_new(props, fields[i], json_pack("{s:s}", "type", "string"));
		json_array_append_new(req, json_string(fields[i]));
	}
	json_t *item = json_pack("{s:s, s:o, s:o, s:b}", "type", "object", "properties", props,
				 "required", req, "additionalProperties", 0);
	return json_pack("{s:s, s:{s:{s:s, s:o, s:i, s:i}}, s:[s], s:b}", "type", "object", "properties",
			 key, "type", "array", "items", item, "minItems", n, "maxItems", n,
			 "required", key, "additionalProperties", 0);
}
