/* libtest: runs the library's test cases in test/lib/NAME.test (test/lib.bats).
 *
 *   libtest FILE...   runs every case; prints each case whose output differs
 *                     with its file and line, then "FILE: N cases, M failed".
 *                     Exits 1 when a case failed or a file is malformed.
 *   libtest --kinds   lists the kinds of case.
 *
 * A case is a few lines, cases apart by blank lines, '#' lines between them:
 *
 *   KIND ARGS        what to call (the kinds table below), with arguments
 *   INPUT            one line: JSON, or the raw text for the parsers; a line
 *                    "%%hex 22 c3 28" gives bytes that text cannot show
 *   OUTPUT...        the expected output, one JSON value a line, or
 *                    "error: MESSAGE" for an error
 *
 * Outputs compare as compact JSON, so spacing does not matter but key order
 * does. A new kind is one function and one row of the table. */
#include "chunk.h"
#include "conv.h"
#include "jparse.h"
#include "llm.h"
#include "record.h"
#include "rng.h"
#include "tmpl.h"
#include "util.h"
#include "wiki.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tcase {
	const char *args;       /* the rest of the kind line, "" when none */
	const char *in;         /* the input bytes */
	size_t in_len;
	json_t *json;           /* the input as JSON, for kinds that take JSON */
};

/* Output: one line per value. */
static void put_json(struct buf *out, json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	if (!s)
		die("cannot write the output as JSON");
	buf_adds(out, s);
	buf_addc(out, '\n');
	free(s);
}

static void put_string(struct buf *out, const char *s, size_t n)
{
	json_t *v = json_stringn(s, n);
	if (!v) {
		buf_adds(out, "error: (the output is not UTF-8)\n");
		return;
	}
	put_json(out, v);
	json_decref(v);
}

static void put_error(struct buf *out, const char *msg)
{
	buf_addf(out, "error: %s\n", msg);
}

/* A mistake in the .test file itself, reported like a failed case. */
static void put_bad_case(struct buf *out, const char *what)
{
	buf_addf(out, "(bad case: %s)\n", what);
}

/* ---- the kinds ---------------------------------------------------------- */

/* render CONTEXT: the input, a template as a JSON string, rendered */
static void k_render(struct tcase *c, struct buf *out)
{
	json_error_t je;
	json_t *ctx = json_loads(c->args, 0, &je);
	if (!json_is_string(c->json) || !json_is_object(ctx)) {
		put_bad_case(out, "render takes a context object and a template string");
		json_decref(ctx);
		return;
	}
	struct buf text = {0}, err = {0};
	if (tmpl_render(json_string_value(c->json), ctx, &text, &err))
		put_error(out, err.p);
	else
		put_string(out, text.p ? text.p : "", text.len);
	buf_free(&text);
	buf_free(&err);
	json_decref(ctx);
}

/* tmpl-check: true, or the syntax error of a template without a context */
static void k_tmpl_check(struct tcase *c, struct buf *out)
{
	if (!json_is_string(c->json)) {
		put_bad_case(out, "tmpl-check takes a template string");
		return;
	}
	struct buf err = {0};
	if (tmpl_check(json_string_value(c->json), &err))
		put_error(out, err.p);
	else
		put_json(out, json_true());
	buf_free(&err);
}

static void k_last_role(struct tcase *c, struct buf *out)
{
	const char *role = conv_last_role(c->json);
	json_t *v = role ? json_string(role) : json_null();
	put_json(out, v);
	json_decref(v);
}

static void k_user_turns(struct tcase *c, struct buf *out)
{
	json_t *v = json_integer(conv_user_turns(c->json));
	put_json(out, v);
	json_decref(v);
}

static void k_transcript(struct tcase *c, struct buf *out)
{
	char *t = conv_transcript(c->json);
	put_string(out, t, strlen(t));
	free(t);
}

static void k_transcript_turns(struct tcase *c, struct buf *out)
{
	char *t = conv_transcript_turns(c->json);
	put_string(out, t, strlen(t));
	free(t);
}

static void k_flipped(struct tcase *c, struct buf *out)
{
	json_t *v = conv_flipped(c->json);
	put_json(out, v);
	json_decref(v);
}

/* skip-label NAMES: the input text past a speaker label of one of NAMES, trimmed */
static void k_skip_label(struct tcase *c, struct buf *out)
{
	json_error_t je;
	json_t *names = json_loads(c->args, 0, &je);
	if (!json_is_string(c->json) || !json_is_array(names)) {
		put_bad_case(out, "skip-label takes a list of names and a text string");
		json_decref(names);
		return;
	}
	char *t = conv_trim(conv_skip_label(json_string_value(c->json), names));
	put_string(out, t, strlen(t));
	free(t);
	json_decref(names);
}

/* A parser's result: the value (which this releases), or the error. */
static void put_parsed(struct buf *out, json_t *v, struct buf *err)
{
	if (v)
		put_json(out, v);
	else
		put_error(out, err->p);
	json_decref(v);
	buf_free(err);
}

/* openai-body: {model, reasoning, official, messages, tools, temperature,
 * top_p, max_tokens, seed} -> the body llm_build sends for it, then true
 * when the direct writer (lib/llm-openai.c) and the jansson path (taken
 * whenever there is an --extra-body, here an empty one) wrote the same
 * bytes, else the jansson path's body */
static void k_openai_body(struct tcase *c, struct buf *out)
{
	json_t *in = c->json;
	char url[] = "http://127.0.0.1/v1", chat[] = "http://127.0.0.1/v1/chat/completions";
	struct model m = {.provider = P_OPENAI, .provider_name = "openai",
			  .name = (char *)json_string_value(json_object_get(in, "model")), .base_url = url,
			  .chat_url = chat, .name_utf8 = 1,
			  .reasoning = json_is_true(json_object_get(in, "reasoning")),
			  .official = json_is_true(json_object_get(in, "official"))};
	json_t *t = json_object_get(in, "temperature"), *p = json_object_get(in, "top_p");
	struct llm_req r = {.model = &m, .messages = json_object_get(in, "messages"),
			    .tools = json_object_get(in, "tools"),
			    .temperature = t ? json_number_value(t) : -1, .top_p = p ? json_number_value(p) : -1,
			    .max_tokens = (int)json_integer_value(json_object_get(in, "max_tokens")),
			    .seed = (long)json_integer_value(json_object_get(in, "seed"))};
	struct http_req direct, jansson;
	llm_build(&r, &direct);
	m.extra = json_object();
	llm_build(&r, &jansson);
	json_decref(m.extra);
	struct buf err = {0};
	put_parsed(out, jparse(direct.body, strlen(direct.body), &err), &err);
	if (!strcmp(direct.body, jansson.body))
		buf_adds(out, "true\n");
	else
		put_json(out, json_string(jansson.body));
	http_req_free(&direct);
	http_req_free(&jansson);
}

/* json: the input text through jparse */
static void k_json(struct tcase *c, struct buf *out)
{
	struct buf err = {0};
	put_parsed(out, jparse(c->in, c->in_len, &err), &err);
}

/* record: the input line through record_parse */
static void k_record(struct tcase *c, struct buf *out)
{
	struct buf err = {0};
	put_parsed(out, record_parse(c->in, c->in_len, &err), &err);
}

/* rng SEED ID PROGRAM PURPOSE ("-" for an empty part): the draws the input
 * lists, "next" (as hex), ["below", N], "double" or ["range", LO, HI] */
static void k_rng(struct tcase *c, struct buf *out)
{
	char id[256], prog[256], purpose[256];
	unsigned long long seed;
	if (sscanf(c->args, "%llu %255s %255s %255s", &seed, id, prog, purpose) != 4 ||
	    !json_is_array(c->json)) {
		put_bad_case(out, "rng takes SEED ID PROGRAM PURPOSE and a list of draws");
		return;
	}
	struct rng g;
	rng_init(&g, seed, strcmp(id, "-") ? id : "", strcmp(prog, "-") ? prog : "",
		 strcmp(purpose, "-") ? purpose : "");
	size_t i;
	json_t *d;
	json_array_foreach(c->json, i, d) {
		const char *op = json_is_array(d) ? json_string_value(json_array_get(d, 0))
						  : json_string_value(d);
		json_t *v;
		char hex[17];
		if (!op) {
			put_bad_case(out, "a draw is a name or [name, arguments...]");
			return;
		} else if (!strcmp(op, "next")) {
			snprintf(hex, sizeof hex, "%016" PRIx64, rng_next(&g));
			v = json_string(hex);
		} else if (!strcmp(op, "below") && json_integer_value(json_array_get(d, 1)) > 0) {
			v = json_integer((json_int_t)rng_below(&g, (uint64_t)json_integer_value(
				json_array_get(d, 1))));
		} else if (!strcmp(op, "double")) {
			v = json_real(rng_double(&g));
		} else if (!strcmp(op, "range")) {
			v = json_real(rng_range(&g, json_number_value(json_array_get(d, 1)),
						json_number_value(json_array_get(d, 2))));
		} else {
			put_bad_case(out, "unknown draw (next, below N, double, range LO HI)");
			return;
		}
		put_json(out, v);
		json_decref(v);
	}
}

/* cut-at TITLE: a text (a JSON string) -> what chunk_cut_at keeps of it */
static void k_cut_at(struct tcase *c, struct buf *out)
{
	if (!json_is_string(c->json) || !*c->args) {
		put_bad_case(out, "cut-at takes a title and a text string");
		return;
	}
	const char *t = json_string_value(c->json);
	put_string(out, t, chunk_cut_at(t, json_string_length(c->json), c->args));
}

/* wiki-page: an API answer -> {title, redirected, text}, or why there is no page */
static void k_wiki_page(struct tcase *c, struct buf *out)
{
	struct wiki_page pg;
	struct buf err = {0};
	if (wiki_page_read(c->json, &pg, &err)) {
		put_error(out, err.p);
	} else {
		json_t *v = json_pack("{s:s, s:s?, s:s%}", "title", pg.title,
				      "redirected", pg.redirected, "text", pg.text, pg.len);
		put_json(out, v);
		json_decref(v);
		wiki_page_free(&pg);
	}
	buf_free(&err);
}

/* wiki-headings: an extract (a JSON string) -> the titles of its heading lines */
static void k_wiki_headings(struct tcase *c, struct buf *out)
{
	if (!json_is_string(c->json)) {
		put_bad_case(out, "wiki-headings takes a text string");
		return;
	}
	const char *t = json_string_value(c->json), *w;
	size_t len = json_string_length(c->json), next, wlen;
	json_t *v = json_array();
	for (size_t at = 0; wiki_next_heading(t, len, at, &next, &w, &wlen) < len; at = next)
		json_array_append_new(v, json_stringn(w, wlen));
	put_json(out, v);
	json_decref(v);
}

enum takes { TAKES_JSON, TAKES_TEXT };

static const struct kind {
	const char *name;
	enum takes takes;
	void (*run)(struct tcase *c, struct buf *out);
	const char *help;
} kinds[] = {
	{"render", TAKES_JSON, k_render, "render CONTEXT; a template string -> the text (lib/tmpl.h)"},
	{"tmpl-check", TAKES_JSON, k_tmpl_check, "a template string -> true or its syntax error"},
	{"last-role", TAKES_JSON, k_last_role, "messages -> the role of the last one not system, or null (lib/conv.h)"},
	{"user-turns", TAKES_JSON, k_user_turns, "messages -> the number of user messages"},
	{"transcript", TAKES_JSON, k_transcript, "messages -> the \"User: ...\" transcript"},
	{"transcript-turns", TAKES_JSON, k_transcript_turns, "messages -> the transcript in numbered turns"},
	{"flipped", TAKES_JSON, k_flipped, "messages -> the spoken ones with user and assistant swapped"},
	{"skip-label", TAKES_JSON, k_skip_label, "skip-label NAMES; a text string -> the text past a NAME: label, trimmed"},
	{"openai-body", TAKES_JSON, k_openai_body, "a request -> its OpenAI body, then true when both ways of writing it agree (lib/llm.h)"},
	{"json", TAKES_TEXT, k_json, "text -> the value jparse reads, or its error (lib/jparse.h)"},
	{"record", TAKES_TEXT, k_record, "a line -> the record record_parse reads, or its error (lib/record.h)"},
	{"rng", TAKES_JSON, k_rng, "rng SEED ID PROGRAM PURPOSE; a list of draws -> one value each (lib/rng.h)"},
	{"cut-at", TAKES_JSON, k_cut_at, "cut-at TITLE; a text string -> the text before the heading TITLE (lib/chunk.h)"},
	{"wiki-page", TAKES_JSON, k_wiki_page, "a MediaWiki API answer -> {title, redirected, text} or why not (lib/wiki.h)"},
	{"wiki-headings", TAKES_JSON, k_wiki_headings, "an extract string -> the titles of its \"== T ==\" lines"},
};

static const struct kind *kind_find(const char *name, size_t n)
{
	for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
		if (strlen(kinds[i].name) == n && !memcmp(kinds[i].name, name, n))
			return &kinds[i];
	return NULL;
}

/* ---- the file ----------------------------------------------------------- */

struct line {
	char *p;
	size_t len;
};

/* "%%hex 22 c3 28" -> bytes; -1 on a bad digit. */
static int unhex(const char *s, struct buf *b)
{
	while (*s) {
		unsigned v;
		int n;
		if (*s == ' ') {
			s++;
		} else if (sscanf(s, "%2x%n", &v, &n) == 1 && n == 2) {
			buf_addc(b, (char)v);
			s += 2;
		} else {
			return -1;
		}
	}
	return 0;
}

/* The expected output, each line as compact JSON (or as written, for an
 * error); 0, or -1 with a line that is neither. */
static int normalize(struct line *exp, size_t n, struct buf *out, size_t *bad)
{
	for (size_t i = 0; i < n; i++) {
		if (!strncmp(exp[i].p, "error: ", 7)) {
			buf_add(out, exp[i].p, exp[i].len);
			buf_addc(out, '\n');
			continue;
		}
		json_t *v = json_loadb(exp[i].p, exp[i].len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
		if (!v) {
			*bad = i;
			return -1;
		}
		put_json(out, v);
		json_decref(v);
	}
	return 0;
}

static void show(const char *what, const char *text)
{
	fprintf(stderr, "%s\n", what);
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		fprintf(stderr, "\t%.*s\n", (int)n, p);
		p += n + (nl != NULL);
	}
}

/* Runs the case on lines l[0..n) (l[0] at line number lineno); 0 when it passes. */
static int run_case(const char *path, long lineno, struct line *l, size_t n)
{
	const char *name = l[0].p, *sp = strchr(name, ' ');
	size_t name_len = sp ? (size_t)(sp - name) : l[0].len;
	const struct kind *k = kind_find(name, name_len);
	if (!k) {
		fprintf(stderr, "%s:%ld: unknown kind '%.*s' (libtest --kinds lists them)\n", path,
			lineno, (int)name_len, name);
		return 1;
	}
	if (n < 3) {
		fprintf(stderr, "%s:%ld: a case needs a kind line, an input line and its output\n",
			path, lineno);
		return 1;
	}
	struct buf in = {0}, want = {0}, got = {0};
	struct tcase c = {.args = sp ? sp + 1 : ""};
	int failed = 1;
	size_t bad;
	if (!strncmp(l[1].p, "%%hex", 5)) {
		if (unhex(l[1].p + 5, &in)) {
			fprintf(stderr, "%s:%ld: %%%%hex takes pairs of hex digits\n", path, lineno + 1);
			goto out;
		}
	} else {
		buf_add(&in, l[1].p, l[1].len);
	}
	c.in = in.p ? in.p : "";
	c.in_len = in.len;
	if (k->takes == TAKES_JSON) {
		json_error_t je;
		c.json = json_loadb(c.in, c.in_len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
		if (!c.json) {
			fprintf(stderr, "%s:%ld: the input is not JSON: %s\n", path, lineno + 1, je.text);
			goto out;
		}
	}
	if (normalize(l + 2, n - 2, &want, &bad)) {
		fprintf(stderr, "%s:%ld: an expected output is JSON or \"error: ...\"\n", path,
			lineno + 2 + (long)bad);
		goto out;
	}
	k->run(&c, &got);
	failed = strcmp(want.p ? want.p : "", got.p ? got.p : "") != 0;
	if (failed) {
		fprintf(stderr, "%s:%ld: %s: the output differs\n", path, lineno, k->name);
		show("want", want.p ? want.p : "");
		show("got", got.p ? got.p : "");
	}
out:
	json_decref(c.json);
	buf_free(&in);
	buf_free(&want);
	buf_free(&got);
	return failed;
}

/* Splits the file into lines and runs each block of non-blank lines that
 * does not start with '#'. Returns the number of failed cases, or -1. */
static int run_file(const char *path)
{
	size_t len;
	char *text = read_file(path, &len);
	if (!text) {
		warn_("%s: %s", path, strerror(errno));
		return -1;
	}
	size_t cap = 16, n = 0;
	struct line *l = xmalloc(cap * sizeof *l);
	for (char *p = text; p < text + len;) {
		char *nl = memchr(p, '\n', (size_t)(text + len - p));
		char *end = nl ? nl : text + len;
		if (n == cap)
			l = xrealloc(l, (cap *= 2) * sizeof *l);
		*end = 0;
		l[n++] = (struct line){p, (size_t)(end - p)};
		p = end + 1;
	}
	int cases = 0, failed = 0;
	for (size_t i = 0; i < n;) {
		if (!l[i].len || l[i].p[0] == '#') {
			i++;
			continue;
		}
		size_t j = i;
		while (j < n && l[j].len)
			j++;
		cases++;
		failed += run_case(path, (long)i + 1, l + i, j - i);
		i = j;
	}
	if (cases)
		fprintf(stderr, "%s: %d cases, %d failed\n", path, cases, failed);
	else
		fprintf(stderr, "%s: no cases\n", path);
	free(l);
	free(text);
	return cases ? failed : -1;
}

int main(int argc, char **argv)
{
	prog_name = "libtest";
	if (argc == 2 && !strcmp(argv[1], "--kinds")) {
		for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
			printf("%-12s %s\n", kinds[i].name, kinds[i].help);
		return 0;
	}
	if (argc < 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: libtest FILE.test... | --kinds\n");
		return 2;
	}
	int status = 0;
	for (int i = 1; i < argc; i++)
		if (run_file(argv[i]))
			status = 1;
	return status;
}
