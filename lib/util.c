/* util: the small things every module needs. Allocation failure ends the
 * program here, so callers never check for NULL. */
#include "util.h"
#include "secret.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <xxhash.h>

const char *prog_name = "scg";

/* Every message is formatted whole, then has the known secrets masked,
 * then goes out in one write. */
static void vmsg(const char *fmt, va_list ap)
{
	struct buf b = {0};
	buf_addf(&b, "%s: ", prog_name);
	va_list cp;
	va_copy(cp, ap);
	int n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n > 0) {
		buf_grow(&b, (size_t)n);
		vsnprintf(b.p + b.len, (size_t)n + 1, fmt, ap);
		b.len += (size_t)n;
	}
	buf_addc(&b, '\n');
	secret_redact(b.p, b.len);
	fwrite(b.p, 1, b.len, stderr);
	fflush(stderr);
	buf_free(&b);
}

void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
	exit(2);
}

void die_status(int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
	exit(status);
}

void warnx_(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

static void *oom(void)
{
	fprintf(stderr, "%s: out of memory\n", prog_name);
	exit(2);
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	return p ? p : oom();
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	return p ? p : oom();
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	return p ? p : oom();
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = 0;
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	char small[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0)
		oom();   /* only an impossible size fails vsnprintf */
	if (n < (int)sizeof small)
		return xstrndup(small, (size_t)n);
	char *p = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

void buf_grow(struct buf *b, size_t extra)
{
	if (extra > SIZE_MAX - 1 - b->len)
		oom();
	size_t need = b->len + extra + 1;
	if (need <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	b->p = xrealloc(b->p, cap);
	b->cap = cap;
}

void buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void buf_add_utf8(struct buf *b, unsigned c)
{
	char u[4];
	size_t n;
	if (c < 0x80)
		u[0] = (char)c, n = 1;
	else if (c < 0x800)
		u[0] = (char)(0xc0 | c >> 6), u[1] = (char)(0x80 | (c & 0x3f)), n = 2;
	else if (c < 0x10000)
		u[0] = (char)(0xe0 | c >> 12), u[1] = (char)(0x80 | ((c >> 6) & 0x3f)),
		u[2] = (char)(0x80 | (c & 0x3f)), n = 3;
	else
		u[0] = (char)(0xf0 | c >> 18), u[1] = (char)(0x80 | ((c >> 12) & 0x3f)),
		u[2] = (char)(0x80 | ((c >> 6) & 0x3f)), u[3] = (char)(0x80 | (c & 0x3f)), n = 4;
	buf_add(b, u, n);
}

void buf_vaddf(struct buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	va_copy(cp, ap);
	int n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		oom();
	buf_grow(b, (size_t)n);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(b, fmt, ap);
	va_end(ap);
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->p)
		b->p[0] = 0;
}

void buf_free(struct buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

char *buf_steal(struct buf *b)
{
	char *p = b->p ? b->p : xstrdup("");
	b->p = NULL;
	b->len = b->cap = 0;
	return p;
}

double now_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double now_real(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

uint64_t hash64(const void *p, size_t n, uint64_t seed)
{
	return XXH3_64bits_withSeed(p, n, seed);
}

int is_blank(const char *s)
{
	while (s && isspace((unsigned char)*s))
		s++;
	return !s || !*s;
}

size_t utf8_chars(const char *s)
{
	/* the bytes less the continuation bytes (10xxxxxx), eight at a time */
	size_t len = strlen(s), n = len, i = 0;
	for (; len - i >= 8; i += 8) {
		uint64_t v;
		memcpy(&v, s + i, 8);
		n -= (size_t)__builtin_popcountll(v & ~(v << 1) & 0x8080808080808080ULL);
	}
	for (; i < len; i++)
		n -= ((unsigned char)s[i] & 0xc0) == 0x80;
	return n;
}

size_t utf8_seq(const char *p, const char *end)
{
	const unsigned char *s = (const unsigned char *)p;
	unsigned c = s[0], min, cp;
	size_t len;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, min = 0x80, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, min = 0x800, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, min = 0x10000, cp = c & 0x07;
	else
		return 0;
	if ((size_t)(end - p) < len)
		return 0;
	for (size_t k = 1; k < len; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[k] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

int utf8_valid(const char *str, size_t n, size_t *bad)
{
	const char *end = str + n;
	size_t i = 0;
	while (i < n) {
		/* ASCII eight bytes at a time */
		uint64_t w;
		if (n - i >= 8 && (memcpy(&w, str + i, 8), !(w & 0x8080808080808080ULL))) {
			i += 8;
			continue;
		}
		if (!((unsigned char)str[i] & 0x80)) {
			i++;
			continue;
		}
		size_t len = utf8_seq(str + i, end);
		if (!len) {
			if (bad)
				*bad = i;
			return 0;
		}
		i += len;
	}
	return 1;
}

char *read_file(const char *path, size_t *len)
{
	return read_file_max(path, SIZE_MAX - 1, len);
}

char *read_text(const char *path, const char *what, size_t *len)
{
	size_t n;
	char *text = read_file(path, &n);
	if (!text)
		die("%s: %s: %s", what, path, strerror(errno));
	if (!utf8_valid(text, n, NULL) || memchr(text, 0, n))
		die("%s: %s: not UTF-8 text", what, path);
	if (len)
		*len = n;
	return text;
}

char *read_file_max(const char *path, size_t max, size_t *len)
{
	FILE *f = fopen(path, "rbe");
	if (!f)
		return NULL;
	struct buf b = {0};
	char tmp[65536];
	size_t n;
	int err = 0;
	while (!err && (n = fread(tmp, 1, sizeof tmp, f)) > 0) {
		if (n > max - b.len)
			err = EFBIG;
		else
			buf_add(&b, tmp, n);
	}
	if (!err && ferror(f))
		err = EIO;
	fclose(f);
	if (err) {
		buf_free(&b);
		errno = err;
		return NULL;
	}
	if (len)
		*len = b.len;
	return buf_steal(&b);
}

long ctl_at(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return (long)(p - (const unsigned char *)s);
	return -1;
}

int parse_range(const char *s, double *lo, double *hi)
{
	/* "1..60": strtod alone would read "1." as the first number */
	const char *dots = strstr(s, "..");
	char *first = dots ? xstrndup(s, (size_t)(dots - s)) : xstrdup(s);
	char *end;
	errno = 0;
	*lo = strtod(first, &end);
	int bad = end == first || *end || errno;
	free(first);
	if (bad)
		return -1;
	if (!dots) {
		*hi = *lo;
		return 0;
	}
	const char *t = dots + 2;
	*hi = strtod(t, &end);
	if (end == t || *end || errno || *hi < *lo)
		return -1;
	return 0;
}

static int by_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int dir_names(const char *path, char ***names, size_t *n)
{
	DIR *d = opendir(path);
	*names = NULL;
	*n = 0;
	if (!d)
		return -1;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		*names = xrealloc(*names, (*n + 1) * sizeof **names);
		(*names)[(*n)++] = xstrdup(e->d_name);
	}
	closedir(d);
	if (*n)   /* qsort of NULL, even for 0 items, is undefined */
		qsort(*names, *n, sizeof **names, by_str);
	return 0;
}

void mkdirs(const char *path)
{
	char *p = xstrdup(path);
	for (char *s = p + 1; *s; s++) {
		if (*s == '/') {
			*s = 0;
			mkdir(p, 0700);
			*s = '/';
		}
	}
	mkdir(p, 0700);
	free(p);
}
