/* wiki: one query a title to the MediaWiki API (prop=extracts with
 * explaintext and exsectionformat=wiki), read back into a page. */
#include "wiki.h"
#include "cache.h"
#include "jparse.h"
#include "jv.h"
#include "opt.h"      /* SCG_VERSION */
#include "record.h"

#include <curl/curl.h>
#include <math.h>
#include <string.h>

char *wiki_api_url(const char *lang, const char *url)
{
	if (!*lang || strlen(lang) > 32 || lang[strspn(lang,
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")])
		return NULL;
	struct buf b = {0};
	const char *p = url ? url : WIKI_DEFAULT_URL, *at;
	while ((at = strstr(p, "{lang}"))) {
		buf_add(&b, p, (size_t)(at - p));
		buf_adds(&b, lang);
		p = at + 6;
	}
	buf_adds(&b, p);
	return buf_steal(&b);
}

/* Present and not false: formatversion 2 says "missing": true, 1 says "missing": "". */
static int flag(json_t *page, const char *key)
{
	json_t *v = json_object_get(page, key);
	return v && !json_is_false(v);
}

int wiki_page_read(json_t *answer, struct wiki_page *page, struct buf *err)
{
	memset(page, 0, sizeof *page);
	json_t *e = json_object_get(answer, "error");
	if (e) {
		const char *code = jv_str(e, "code"), *info = jv_str(e, "info");
		buf_addf(err, "the wiki refused the query: %s%s%s", code ? code : "an error",
			 info ? ": " : "", info ? info : "");
		return -1;
	}
	json_t *pages = jv_path(answer, "query.pages"), *p = NULL;
	if (json_is_array(pages))
		p = json_array_get(pages, 0);
	else if (json_is_object(pages))
		p = json_object_iter_value(json_object_iter(pages));
	if (!json_is_object(p)) {
		buf_adds(err, "the answer has no query.pages (is the URL a MediaWiki API?)");
		return -1;
	}
	if (flag(p, "missing")) {
		buf_adds(err, "no such page");
		return -1;
	}
	if (flag(p, "invalid")) {
		const char *why = jv_str(p, "invalidreason");
		buf_addf(err, "not a valid title%s%s", why ? ": " : "", why ? why : "");
		return -1;
	}
	if (jv_path(p, "pageprops.disambiguation")) {
		buf_adds(err, "a disambiguation page; name one of the articles it lists");
		return -1;
	}
	json_t *x = json_object_get(p, "extract");
	const char *title = jv_str(p, "title");
	if (!json_is_string(x) || !title) {
		buf_adds(err, "the answer has no extract (has the wiki the TextExtracts extension?)");
		return -1;
	}
	const char *text = json_string_value(x);
	size_t len = json_string_length(x);
	if (strspn(text, " \t\r\n") == len) {
		buf_adds(err, "the page has no text");
		return -1;
	}
	const char *from = jv_str(jv_path(answer, "query.redirects.0"), "from");
	page->title = xstrdup(title);
	page->redirected = from ? xstrdup(from) : NULL;
	page->text = xstrndup(text, len);
	page->len = len;
	return 0;
}

void wiki_page_free(struct wiki_page *page)
{
	free(page->title);
	free(page->redirected);
	free(page->text);
	memset(page, 0, sizeof *page);
}

/* The body of the answer, cut off past max bytes. */
struct body {
	struct buf b;
	size_t max;
	int over;
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct body *body = arg;
	n *= size;
	if (body->b.len + n > body->max) {
		body->over = 1;
		return 0;
	}
	buf_add(&body->b, p, n);
	return n;
}

/* The URL with its user name and password left out, for messages and
 * the cache key; NULL when curl cannot read it back. */
static char *url_shown(CURLU *u)
{
	CURLU *d = curl_url_dup(u);
	char *s = NULL, *out = NULL;
	if (d && !curl_url_set(d, CURLUPART_USER, NULL, 0) &&
	    !curl_url_set(d, CURLUPART_PASSWORD, NULL, 0) &&
	    !curl_url_get(d, CURLUPART_URL, &s, 0))
		out = xstrdup(s);
	curl_free(s);
	curl_url_cleanup(d);
	return out;
}

/* The query for title appended to u. */
static int add_query(CURLU *u, const char *title)
{
	static const char *const params[] = {
		"action=query", "format=json", "formatversion=2", "prop=extracts|pageprops",
		"ppprop=disambiguation", "explaintext=1", "exsectionformat=wiki", "redirects=1",
	};
	for (size_t i = 0; i < sizeof params / sizeof *params; i++)
		if (curl_url_set(u, CURLUPART_QUERY, params[i], CURLU_APPENDQUERY | CURLU_URLENCODE))
			return -1;
	char *t = xasprintf("titles=%s", title);
	int rc = curl_url_set(u, CURLUPART_QUERY, t, CURLU_APPENDQUERY | CURLU_URLENCODE) ? -1 : 0;
	free(t);
	return rc;
}

/* GETs url into body: 0, or -1 with err saying what went wrong. */
static int get(const char *url, double timeout, struct body *body, struct buf *err)
{
	char msg[CURL_ERROR_SIZE] = "";
	CURL *e = curl_easy_init();
	if (!e)
		die("out of memory");
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(e, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, body);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, msg);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(timeout * 1000));
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)fmin(timeout * 1000, 10000));
	curl_easy_setopt(e, CURLOPT_USERAGENT, "scg/" SCG_VERSION " (scg-chunk --wikipedia; libcurl)");
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	CURLcode rc = curl_easy_perform(e);
	long status = 0;
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(e);
	if (body->over) {
		buf_addf(err, "the answer is larger than --max-answer-bytes (%zu bytes)", body->max);
		return -1;
	}
	if (rc == CURLE_OPERATION_TIMEDOUT) {
		buf_addf(err, "no answer within %g s", timeout);
		return -1;
	}
	if (rc != CURLE_OK) {
		buf_adds(err, *msg ? msg : curl_easy_strerror(rc));
		return -1;
	}
	if (status != 200) {
		buf_addf(err, "HTTP %ld", status);
		return -1;
	}
	return 0;
}

/* MediaWiki's titles hold none of these; '|' would ask for two pages. */
static int title_ok(const char *t)
{
	if (!*t)
		return 0;
	for (; *t; t++)
		if ((unsigned char)*t < 0x20 || *t == 0x7f || strchr("|[]{}<>#", *t))
			return 0;
	return 1;
}

int wiki_fetch(const char *api_url, const char *title, double timeout, long max_bytes,
	       struct wiki_page *page, struct buf *err)
{
	memset(page, 0, sizeof *page);
	if (!title_ok(title)) {
		buf_addf(err, "'%s': not a valid title (empty, or with a control character or one of |[]{}<>#)",
			 title);
		return -1;
	}
	static int curl_ready;
	if (!curl_ready++ && curl_global_init(CURL_GLOBAL_DEFAULT))
		die("curl: cannot initialise");
	CURLU *u = curl_url();
	if (!u)
		die("out of memory");
	char *scheme = NULL, *base = NULL, *url = NULL, *shown = NULL;
	int rc = -1;
	if (curl_url_set(u, CURLUPART_URL, api_url, 0) ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) || !(base = url_shown(u))) {
		buf_addf(err, "%s: not a URL", title);
		goto out;
	}
	if (strcmp(scheme, "http") && strcmp(scheme, "https")) {
		buf_addf(err, "%s: %s: only http and https wikis are read", title, base);
		goto out;
	}
	if (add_query(u, title) || curl_url_get(u, CURLUPART_URL, &url, 0) || !(shown = url_shown(u))) {
		buf_addf(err, "%s: %s: cannot make the query URL", title, base);
		goto out;
	}

	char *key = xasprintf("wiki %s", shown);
	json_t *answer = cache_get(key);
	page->cached = answer != NULL;
	struct buf why = {0};
	if (!answer) {
		struct body body = {.max = (size_t)max_bytes};
		if (!get(url, timeout, &body, &why)) {
			struct buf jerr = {0};
			answer = jparse(body.b.p ? body.b.p : "", body.b.len, &jerr);
			if (!answer)
				buf_adds(&why, "the answer is not JSON (is the URL a MediaWiki API?)");
			buf_free(&jerr);
		}
		buf_free(&body.b);
	}
	if (answer && !wiki_page_read(answer, page, &why)) {
		if (!page->cached)
			cache_put(key, answer);
		rc = 0;
	} else {
		buf_addf(err, "%s: %s: %s", title, base, why.p);
	}
	json_decref(answer);
	buf_free(&why);
	free(key);
out:
	curl_free(scheme);
	curl_free(url);
	free(base);
	free(shown);
	curl_url_cleanup(u);
	return rc;
}

/* A line "== Title ==" (two or more '=' on each side): the title's span. */
static int heading(const char *s, size_t n, const char **words, size_t *wlen)
{
	size_t a = 0, b = n;
	while (a < n && s[a] == '=')
		a++;
	while (b > a && s[b - 1] == '=')
		b--;
	if (a < 2 || n - b < 2)
		return 0;
	while (a < b && (s[a] == ' ' || s[a] == '\t'))
		a++;
	while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t'))
		b--;
	if (a == b)
		return 0;
	*words = s + a;
	*wlen = b - a;
	return 1;
}

size_t wiki_next_heading(const char *text, size_t len, size_t from, size_t *next,
			 const char **words, size_t *wlen)
{
	for (size_t ls = from; ls < len;) {
		const char *nl = memchr(text + ls, '\n', len - ls);
		size_t le = nl ? (size_t)(nl - text) : len;
		size_t e = le;
		while (e > ls && (text[e - 1] == '\r' || text[e - 1] == ' '))
			e--;
		if (heading(text + ls, e - ls, words, wlen)) {
			*next = nl ? le + 1 : len;
			return ls;
		}
		ls = le + 1;
	}
	*next = len;
	return len;
}
