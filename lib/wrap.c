/* wrap: display widths and word wrapping (see wrap.h). Widths come from
 * wcwidth(3) in a UTF-8 locale, set once here for LC_CTYPE. */
#include "wrap.h"
#include "util.h"

#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <wchar.h>

static void utf8_locale(void)
{
	static int done;
	if (done)
		return;
	done = 1;
	if (!setlocale(LC_CTYPE, "C.UTF-8"))
		setlocale(LC_CTYPE, "C.utf8");
}

/* The next character of s: its length in bytes and its columns. */
static size_t next_char(const char *s, size_t n, int *cols)
{
	mbstate_t st = {0};
	wchar_t wc;
	size_t len = mbrtowc(&wc, s, n, &st);
	if (len == (size_t)-1 || len == (size_t)-2 || len == 0) {
		*cols = 1;
		return 1;
	}
	int w = wcwidth(wc);
	*cols = w < 0 ? (wc == '\t' ? 1 : 0) : w;
	return len;
}

int wrap_width(const char *s)
{
	utf8_locale();
	size_t n = strlen(s);
	int w = 0, c;
	for (size_t i = 0; i < n; i += next_char(s + i, n - i, &c), w += c)
		;
	return w;
}

static void push(struct lines *out, const char *s, size_t n)
{
	if (out->n == out->cap) {
		out->cap = out->cap ? 2 * out->cap : 16;
		out->l = xrealloc(out->l, out->cap * sizeof *out->l);
	}
	out->l[out->n++] = xstrndup(s, n);
}

/* One paragraph (no newline in it). */
static void wrap_para(const char *s, size_t n, int width, struct lines *out)
{
	struct buf line = {0};
	int col = 0;
	size_t i = 0;
	while (i < n) {
		while (i < n && (s[i] == ' ' || s[i] == '\t'))
			i++;
		if (i == n)
			break;
		size_t start = i;
		int w = 0, c;
		while (i < n && s[i] != ' ' && s[i] != '\t') {
			i += next_char(s + i, n - i, &c);
			w += c;
		}
		if (col && col + 1 + w > width) {
			push(out, line.p, line.len);
			buf_reset(&line);
			col = 0;
		}
		if (col) {
			buf_addc(&line, ' ');
			col++;
		}
		/* a word wider than the line is cut at the width */
		for (size_t j = start; j < i;) {
			size_t k = next_char(s + j, i - j, &c);
			if (col + c > width && col) {
				push(out, line.p, line.len);
				buf_reset(&line);
				col = 0;
			}
			buf_add(&line, s + j, k);
			col += c;
			j += k;
		}
	}
	push(out, line.p ? line.p : "", line.len);
	buf_free(&line);
}

void wrap_text(const char *text, int width, struct lines *out)
{
	utf8_locale();
	if (width < 1)
		width = 1;
	const char *p = text;
	for (;;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		if (n && p[n - 1] == '\r')
			n--;
		wrap_para(p, n, width, out);
		if (!nl)
			break;
		p = nl + 1;
	}
}

void lines_free(struct lines *ls)
{
	for (size_t i = 0; i < ls->n; i++)
		free(ls->l[i]);
	free(ls->l);
	ls->l = NULL;
	ls->n = ls->cap = 0;
}

int wrap_terminal_width(void)
{
	struct winsize ws;
	if (isatty(1) && !ioctl(1, TIOCGWINSZ, &ws) && ws.ws_col >= 20)
		return ws.ws_col;
	const char *c = getenv("COLUMNS");
	int n = c ? atoi(c) : 0;
	return n >= 20 ? n : 80;
}
