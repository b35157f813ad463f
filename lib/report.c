/* report: scg-report's page (see report.h). The page is report/report.html
 * with @TITLE@, @CSS@, @DATA@ and @JS@ marking where the title, the style
 * sheet, the data and the script go. */
#include "report.h"
#include "jv.h"
#include "record.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

extern const struct {
	const char *name, *text;
} scg_report_assets[];

struct report {
	FILE *f;
	char *title;
	const char *rest;       /* the page after @DATA@ */
	long n;
	struct buf json, esc;
};

static const char *asset(const char *name)
{
	for (int i = 0; scg_report_assets[i].name; i++)
		if (!strcmp(scg_report_assets[i].name, name))
			return scg_report_assets[i].text;
	die("report: no %s compiled in", name);
}

static void html_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		default: fputc(*s, f);
		}
	}
}

/* Writes the page from p up to @DATA@ (or the end), filling the other
 * markers; returns where it stopped. */
static const char *page(struct report *r, const char *p)
{
	for (;;) {
		const char *at = strchr(p, '@');
		if (!at) {
			fputs(p, r->f);
			return p + strlen(p);
		}
		fwrite(p, 1, (size_t)(at - p), r->f);
		if (!strncmp(at, "@TITLE@", 7)) {
			html_text(r->f, r->title);
			p = at + 7;
		} else if (!strncmp(at, "@CSS@", 5)) {
			fputs(asset("report.css"), r->f);
			p = at + 5;
		} else if (!strncmp(at, "@JS@", 4)) {
			fputs(asset("report.js"), r->f);
			p = at + 4;
		} else if (!strncmp(at, "@DATA@", 6)) {
			return at + 6;
		} else {
			fputc('@', r->f);
			p = at + 1;
		}
	}
}

void report_json_escape(struct buf *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '<' || c == '>' || c == '&') {
			buf_addf(out, "\\u%04x", c);
		} else if (c == 0xE2 && i + 2 < n && (unsigned char)s[i + 1] == 0x80 &&
			   ((unsigned char)s[i + 2] == 0xA8 || (unsigned char)s[i + 2] == 0xA9)) {
			buf_addf(out, "\\u%04x", (unsigned char)s[i + 2] == 0xA8 ? 0x2028 : 0x2029);
			i += 2;
		} else if (c == ':' && ((i >= 4 && !strncasecmp(s + i - 4, "http", 4)) ||
					(i >= 5 && !strncasecmp(s + i - 5, "https", 5)))) {
			buf_adds(out, "\\u003a");
		} else {
			buf_addc(out, (char)c);
		}
	}
}

struct report *report_open(FILE *f, const char *title)
{
	struct report *r = xcalloc(1, sizeof *r);
	r->f = f;
	r->title = xstrdup(title);
	r->rest = page(r, asset("report.html"));
	fputs("<script type=\"application/json\" id=\"scg-records\">[", f);
	return r;
}

static void embed(struct report *r, json_t *v)
{
	buf_reset(&r->json);
	buf_reset(&r->esc);
	jv_dump(v, &r->json);
	report_json_escape(&r->esc, r->json.p, r->json.len);
	fwrite(r->esc.p, 1, r->esc.len, r->f);
}

void report_add(struct report *r, json_t *rec)
{
	if (r->n++)
		fputs(",\n", r->f);
	embed(r, rec);
}

int report_close(struct report *r, json_t *stats)
{
	fputs("]</script>\n<script type=\"application/json\" id=\"scg-stats\">", r->f);
	embed(r, stats);
	fputs("</script>", r->f);
	page(r, r->rest);
	int bad = ferror(r->f);
	buf_free(&r->json);
	buf_free(&r->esc);
	free(r->title);
	free(r);
	if (bad && !errno)
		errno = EIO;
	return bad ? -1 : 0;
}
