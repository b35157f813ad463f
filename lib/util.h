/* util: diagnostics prefixed with the program name, allocation that ends the
 * program on failure, a growing byte buffer, and small helpers every module
 * needs (clock, hashing of strings). */
#ifndef SCG_UTIL_H
#define SCG_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

extern const char *prog_name;   /* set by opt_parse() or by main */

void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
void die_status(int status, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 2, 3)));
void warnx_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#define warn_ warnx_

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A growing byte buffer, always NUL-terminated. */
struct buf {
	char *p;
	size_t len, cap;
};
void buf_grow(struct buf *b, size_t extra);
static inline void buf_add(struct buf *b, const void *data, size_t n)
{
	if (n >= b->cap - b->len)
		buf_grow(b, n);
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = 0;
}
void buf_adds(struct buf *b, const char *s);
static inline void buf_addc(struct buf *b, char c)
{
	if (b->len + 2 > b->cap)
		buf_grow(b, 1);
	b->p[b->len++] = c;
	b->p[b->len] = 0;
}
/* Appends the code point cp (at most U+10FFFF) encoded as UTF-8. */
void buf_add_utf8(struct buf *b, unsigned cp);
void buf_addf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vaddf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
void buf_reset(struct buf *b);
void buf_free(struct buf *b);
char *buf_steal(struct buf *b); /* returns the string, leaves b empty */

double now_mono(void);  /* seconds, monotonic clock */
double now_real(void);  /* seconds since the epoch */

/* 64-bit hash of bytes (xxh3) */
uint64_t hash64(const void *p, size_t n, uint64_t seed);

/* Whether s is NULL, empty or only white space (isspace). */
int is_blank(const char *s);
/* The characters (code points) of a UTF-8 string, not its bytes. */
size_t utf8_chars(const char *s);
/* Valid UTF-8 (no overlongs, no surrogates)? On failure *bad is the offset. */
int utf8_valid(const char *s, size_t n, size_t *bad);
/* The length of the UTF-8 sequence at p (before end; no overlong forms,
 * no surrogates), or 0 when it is not one. */
size_t utf8_seq(const char *p, const char *end);

/* Read a whole file; NULL and errno set on failure. */
char *read_file(const char *path, size_t *len);
/* A whole text file: UTF-8 without NUL bytes. Dies (exit 2) with
 * "WHAT: PATH: why" when it cannot be read or is not text; what names
 * where the path came from (an option). */
char *read_text(const char *path, const char *what, size_t *len);
/* The same as read_file, failing with EFBIG once the file passes max bytes. */
char *read_file_max(const char *path, size_t max, size_t *len);
/* The offset of the first control character (below 0x20, or DEL) in s, or
 * -1: such a value would break a header line or a URL. */
long ctl_at(const char *s);
/* The names in folder path that do not start with '.', sorted by strcmp:
 * 0 with *names (each and the array for the caller to free) and *n, or -1
 * with errno from opendir. */
int dir_names(const char *path, char ***names, size_t *n);

/* Makes the folder path and those above it that are missing (mode 0700);
 * a failure shows at the first use of the folder. */
void mkdirs(const char *path);

/* Parse "LO..HI" or a single number; returns 0 on success. */
int parse_range(const char *s, double *lo, double *hi);

#endif
