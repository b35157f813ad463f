/* wiki: an article's plain text from a MediaWiki API (Wikipedia or a
 * mirror with the TextExtracts extension), with its section headings kept
 * as "== Title ==" lines. One request a title (libcurl, http and https
 * only, a size cap and a time limit); the wiki follows redirects of titles
 * itself; answers go to the response cache (lib/cache.h) like a model's. */
#ifndef SCG_WIKI_H
#define SCG_WIKI_H

#include <jansson.h>
#include <stddef.h>

#include "util.h"

struct wiki_page {
	char *title;          /* after normalisation and redirects */
	char *redirected;     /* the title of the redirect followed, or NULL */
	char *text;           /* the extract: paragraphs a line, headings as "== T ==" */
	size_t len;
	int cached;           /* 1 when it came from the cache */
};

#define WIKI_DEFAULT_URL "https://{lang}.wikipedia.org/w/api.php"

/* The API URL: url (WIKI_DEFAULT_URL when NULL) with each "{lang}" in it
 * replaced by lang. NULL when lang is not a language code (letters,
 * digits and '-': en, de, zh-yue, simple). */
char *wiki_api_url(const char *lang, const char *url);

/* Fetches the article title from the API at api_url (http or https; a
 * user:password@ in it is used but never shown) with a time limit of
 * timeout seconds and an answer of at most max_bytes (after
 * decompression; --max-answer-bytes). 0, or -1 with err "TITLE: what went
 * wrong" (no such page, a disambiguation page, the wiki's error, HTTP
 * status, network, size). */
int wiki_fetch(const char *api_url, const char *title, double timeout, long max_bytes,
	       struct wiki_page *page, struct buf *err);

/* Reads the API's answer (format=json, formatversion 2 or 1): 0 with the
 * page filled, or -1 with err saying why there is none. */
int wiki_page_read(json_t *answer, struct wiki_page *page, struct buf *err);

void wiki_page_free(struct wiki_page *page);

/* The offset of the first heading line ("== Title ==", any level) at or
 * after from in text[0, len), or len when there is none; *next is where
 * the line after it starts and words/wlen the title in it. */
size_t wiki_next_heading(const char *text, size_t len, size_t from, size_t *next,
			 const char **words, size_t *wlen);

#endif
