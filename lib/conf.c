/* conf: YAML and JSON configuration files as jansson values. YAML goes
 * through libyaml's document API and is converted node by node. */
#include "conf.h"
#include "secret.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

static json_t *scalar(yaml_node_t *n)
{
	const char *s = (const char *)n->data.scalar.value;
	size_t len = n->data.scalar.length;
	if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return json_stringn(s, len);
	if (len == 0 || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL"))
		return json_null();
	if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE"))
		return json_true();
	if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE"))
		return json_false();
	char *end;
	errno = 0;
	long long i = strtoll(s, &end, 10);
	if (end != s && *end == 0 && !errno && (isdigit((unsigned char)s[0]) || s[0] == '-' || s[0] == '+'))
		return json_integer(i);
	double d = strtod(s, &end);
	if (end != s && *end == 0 && !errno && isfinite(d) &&
	    (isdigit((unsigned char)s[0]) || s[0] == '-' || s[0] == '+' || s[0] == '.'))
		return json_real(d);
	return json_stringn(s, len);
}

enum {
	MAX_DEPTH = 64,           /* collections in collections */
	MAX_ALIASED = 100000,     /* values that aliases add to those written out */
};

/* budget: the values still allowed; aliases can repeat a collection
 * exponentially often ("a billion laughs"). */
static json_t *convert(yaml_document_t *doc, yaml_node_t *n, int depth, long *budget,
		       const char *name, struct buf *err)
{
	if (!n)
		return json_null();
	if (depth > MAX_DEPTH) {
		buf_addf(err, "%s:%lu: nested too deeply", name, (unsigned long)n->start_mark.line + 1);
		return NULL;
	}
	if (--*budget < 0) {
		buf_addf(err, "%s:%lu: aliases repeat too much: more than %d values beyond those written",
			 name, (unsigned long)n->start_mark.line + 1, MAX_ALIASED);
		return NULL;
	}
	switch (n->type) {
	case YAML_SCALAR_NODE:
		return scalar(n);
	case YAML_SEQUENCE_NODE: {
		json_t *a = json_array();
		for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
			json_t *v = convert(doc, yaml_document_get_node(doc, *it), depth + 1, budget, name, err);
			if (!v) {
				json_decref(a);
				return NULL;
			}
			json_array_append_new(a, v);
		}
		return a;
	}
	case YAML_MAPPING_NODE: {
		json_t *o = json_object();
		for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
			yaml_node_t *k = yaml_document_get_node(doc, p->key);
			if (!k || k->type != YAML_SCALAR_NODE) {
				buf_addf(err, "%s:%lu: a mapping key must be a plain value",
					 name, k ? (unsigned long)k->start_mark.line + 1 : 0UL);
				json_decref(o);
				return NULL;
			}
			const char *key = (const char *)k->data.scalar.value;
			size_t klen = k->data.scalar.length;
			if (json_object_getn(o, key, klen)) {
				/* YAML keys are unique; a second one would silently win */
				buf_addf(err, "%s:%lu: the key '%.*s' appears twice in one mapping", name,
					 (unsigned long)k->start_mark.line + 1, (int)(klen > 60 ? 60 : klen), key);
				json_decref(o);
				return NULL;
			}
			json_t *v = convert(doc, yaml_document_get_node(doc, p->value), depth + 1, budget, name, err);
			if (!v) {
				json_decref(o);
				return NULL;
			}
			json_object_setn_new(o, key, klen, v);
		}
		return o;
	}
	default:
		return json_null();
	}
}

static void yaml_problem(const yaml_parser_t *p, const char *name, struct buf *err)
{
	buf_addf(err, "%s:%lu: %s", name, (unsigned long)(p->problem_mark.line + 1),
		 p->problem ? p->problem : "not valid YAML");
	if (p->context)
		buf_addf(err, " (%s)", p->context);
}

/* libyaml takes time quadratic in the depth of nested flow collections
 * ([[[[…), minutes for a few megabytes: a pass over the first document's
 * events refuses deep nesting before the document is built. */
static int check_depth(const char *name, const char *text, size_t len, struct buf *err)
{
	yaml_parser_t p;
	if (!yaml_parser_initialize(&p))
		die("out of memory");
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	int depth = 0, rc = 0;
	for (;;) {
		yaml_event_t ev;
		if (!yaml_parser_parse(&p, &ev)) {
			yaml_problem(&p, name, err);
			rc = -1;
			break;
		}
		/* depth: the collections around this event, as convert counts */
		yaml_event_type_t t = ev.type;
		if ((t == YAML_SEQUENCE_START_EVENT || t == YAML_MAPPING_START_EVENT) &&
		    depth++ > MAX_DEPTH) {
			buf_addf(err, "%s:%lu: nested too deeply", name, (unsigned long)ev.start_mark.line + 1);
			rc = -1;
		}
		if (t == YAML_SEQUENCE_END_EVENT || t == YAML_MAPPING_END_EVENT)
			depth--;
		yaml_event_delete(&ev);
		if (rc || t == YAML_DOCUMENT_END_EVENT || t == YAML_STREAM_END_EVENT)
			break;
	}
	yaml_parser_delete(&p);
	return rc;
}

static json_t *parse_yaml(const char *name, const char *text, size_t len, struct buf *err)
{
	yaml_parser_t p;
	yaml_document_t doc;
	if (check_depth(name, text, len, err))
		return NULL;
	if (!yaml_parser_initialize(&p))
		die("out of memory");
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	if (!yaml_parser_load(&p, &doc)) {
		yaml_problem(&p, name, err);
		yaml_parser_delete(&p);
		return NULL;
	}
	yaml_node_t *root = yaml_document_get_root_node(&doc);
	long budget = (long)(doc.nodes.top - doc.nodes.start) + MAX_ALIASED;
	json_t *v = root ? convert(&doc, root, 0, &budget, name, err) : json_null();
	yaml_document_delete(&doc);
	yaml_parser_delete(&p);
	return v;
}

json_t *conf_parse(const char *name, const char *text, size_t len, struct buf *err)
{
	buf_reset(err);
	size_t bad;
	if (memchr(text, 0, len)) {
		buf_addf(err, "%s: contains a NUL byte; not a text file", name);
		return NULL;
	}
	if (!utf8_valid(text, len, &bad)) {
		long line = 1;
		for (size_t i = 0; i < bad; i++)
			line += text[i] == '\n';
		buf_addf(err, "%s:%ld: invalid UTF-8", name, line);
		return NULL;
	}
	size_t i = 0;
	while (i < len && isspace((unsigned char)text[i]))
		i++;
	if (i < len && (text[i] == '{' || text[i] == '[')) {
		json_error_t je;
		json_t *v = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
		if (!v)
			buf_addf(err, "%s:%d: %s", name, je.line, je.text);
		return v;
	}
	return parse_yaml(name, text, len, err);
}

/* The file's text, or NULL with "PATH: why" in err. */
static char *read_conf(const char *path, size_t *len, struct buf *err)
{
	char *text = read_file(path, len);
	if (!text) {
		buf_reset(err);
		buf_addf(err, "%s: %s", path, strerror(errno));
	}
	return text;
}

json_t *conf_load(const char *path, struct buf *err)
{
	size_t len;
	char *text = read_conf(path, &len, err);
	if (!text)
		return NULL;
	json_t *v = conf_parse(path, text, len, err);
	free(text);
	return v;
}

long conf_line(const char *path, json_t *where)
{
	size_t len;
	char *text = read_file(path, &len);
	if (!text)
		return 0;
	struct buf err = {0};
	yaml_parser_t p;
	yaml_document_t doc;
	long line = 0;
	/* a JSON file is YAML too, so libyaml knows where its values start */
	if (check_depth(path, text, len, &err) || !yaml_parser_initialize(&p))
		goto out;
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	if (!yaml_parser_load(&p, &doc)) {
		yaml_parser_delete(&p);
		goto out;
	}
	yaml_node_t *n = yaml_document_get_root_node(&doc);
	size_t i;
	json_t *step;
	json_array_foreach(where, i, step) {
		yaml_node_t *next = NULL;
		if (n && n->type == YAML_SEQUENCE_NODE && json_is_integer(step)) {
			json_int_t at = json_integer_value(step);
			yaml_node_item_t *it = n->data.sequence.items.start;
			if (at >= 0 && at < n->data.sequence.items.top - it)
				next = yaml_document_get_node(&doc, it[at]);
		} else if (n && n->type == YAML_MAPPING_NODE && json_is_string(step)) {
			for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
				yaml_node_t *k = yaml_document_get_node(&doc, pr->key);
				if (k && k->type == YAML_SCALAR_NODE && k->data.scalar.length == json_string_length(step) &&
				    !memcmp(k->data.scalar.value, json_string_value(step), k->data.scalar.length)) {
					next = yaml_document_get_node(&doc, pr->value);
					break;
				}
			}
		}
		n = next;
	}
	if (n)
		line = (long)n->start_mark.line + 1;
	yaml_document_delete(&doc);
	yaml_parser_delete(&p);
out:
	buf_free(&err);
	free(text);
	return line;
}

json_t *conf_load_or_die(const char *path)
{
	struct buf err = {0};
	json_t *v = conf_load(path, &err);
	if (!v)
		die("%s", err.p);
	return v;
}

json_t *conf_load_records(const char *path, struct buf *err)
{
	size_t len;
	char *text = read_conf(path, &len, err);
	if (!text)
		return NULL;
	json_t *out = NULL;
	size_t i = 0;
	while (i < len && isspace((unsigned char)text[i]))
		i++;
	if (i < len && text[i] == '{') {
		/* JSONL, or one JSON object over several lines */
		json_error_t je;
		json_t *one = json_loadb(text, len, 0, &je);
		if (one) {
			out = json_array();
			json_array_append_new(out, one);
			goto done;
		}
		out = json_array();
		char *line = text;
		long lineno = 0;
		while (line < text + len) {
			char *nl = memchr(line, '\n', (size_t)(text + len - line));
			size_t n = nl ? (size_t)(nl - line) : (size_t)(text + len - line);
			lineno++;
			if (strspn(line, " \t\r") < n) {
				json_t *r = json_loadb(line, n, 0, &je);
				if (!json_is_object(r)) {
					buf_reset(err);
					buf_addf(err, "%s:%ld: %s", path, lineno,
						 r ? "not a JSON object" : je.text);
					json_decref(r);
					json_decref(out);
					out = NULL;
					goto done;
				}
				json_array_append_new(out, r);
			}
			line += n + 1;
		}
		goto done;
	}
	json_t *v = conf_parse(path, text, len, err);
	if (v && !json_is_array(v)) {
		out = json_array();
		json_array_append_new(out, v);
	} else {
		out = v;
	}
done:
	free(text);
	return out;
}

static int expand_str(const char *s, struct buf *o, const char *name, struct buf *err)
{
	while (*s) {
		const char *d = strstr(s, "${");
		if (!d) {
			buf_adds(o, s);
			break;
		}
		buf_add(o, s, (size_t)(d - s));
		const char *close = strchr(d + 2, '}');
		if (!close) {
			buf_adds(o, d);
			break;
		}
		char *var = xstrndup(d + 2, (size_t)(close - d - 2));
		const char *val = getenv(var);
		if (!val) {
			buf_reset(err);
			buf_addf(err, "%s: environment variable %s is not set", name, var);
			free(var);
			return -1;
		}
		free(var);
		/* what comes from the environment is a secret: never written */
		secret_add(val);
		buf_adds(o, val);
		s = close + 1;
	}
	return 0;
}

int conf_expand_env(json_t *v, const char *name, struct buf *err)
{
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		if (!strstr(s, "${"))
			return 0;
		struct buf o = {0};
		int rc = expand_str(s, &o, name, err);
		if (!rc)
			json_string_set(v, o.p ? o.p : "");
		buf_free(&o);
		return rc;
	}
	if (json_is_array(v)) {
		size_t i;
		json_t *e;
		json_array_foreach(v, i, e)
			if (conf_expand_env(e, name, err))
				return -1;
	}
	if (json_is_object(v)) {
		const char *k;
		json_t *e;
		json_object_foreach(v, k, e)
			if (conf_expand_env(e, name, err))
				return -1;
	}
	return 0;
}

void conf_where(struct buf *out, const char *path, json_t *where)
{
	long line = conf_line(path, where);
	if (line)
		buf_addf(out, "%s:%ld: ", path, line);
	else
		buf_addf(out, "%s: ", path);
}
