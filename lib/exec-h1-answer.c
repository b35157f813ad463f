/* exec-h1-answer: an HTTP/1.1 answer read as its bytes come: the head
 * (status, framing, encoding, the retry headers), then the body by
 * Content-Length, chunks or the close, inflated when gzip or deflate, and
 * kept up to --max-answer-bytes. */
#include "exec-h1-int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Body bytes: inflated when encoded, kept up to --max-answer-bytes.
 * CURLE_OK, or what ends the request. */
static CURLcode body(struct conn *c, const char *p, size_t n)
{
	struct req *r = c->req;
	if (!c->z) {
		if (n > (size_t)ex.cfg.max_answer - r->resp.len) {
			r->too_big = 1;
			return CURLE_WRITE_ERROR;
		}
		buf_add(&r->resp, p, n);
		return CURLE_OK;
	}
	c->z->next_in = (unsigned char *)p;
	c->z->avail_in = (unsigned)n;
	while (c->z->avail_in) {
		unsigned char tmp[READ_SIZE];
		c->z->next_out = tmp;
		c->z->avail_out = sizeof tmp;
		int zr = inflate(c->z, Z_NO_FLUSH);
		if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR)
			return CURLE_BAD_CONTENT_ENCODING;
		size_t got = sizeof tmp - c->z->avail_out;
		if (got > (size_t)ex.cfg.max_answer - r->resp.len) {
			r->too_big = 1;
			return CURLE_WRITE_ERROR;
		}
		buf_add(&r->resp, tmp, got);
		if (zr == Z_STREAM_END || (zr == Z_BUF_ERROR && !got))
			break;
	}
	return CURLE_OK;
}

/* The end of the line starting at p, past its '\n', or NULL. */
static const char *line_end(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	return nl ? nl + 1 : NULL;
}

/* A line without its CR LF is empty. */
static int blank(const char *p, const char *e)
{
	return e - p == 1 || (e - p == 2 && *p == '\r');
}

static int is_header(const char *p, size_t len, const char *name)
{
	size_t n = strlen(name);
	return len > n && p[n] == ':' && !strncasecmp(p, name, n);
}

/* The header's value without white space around it, in v (NUL-ended);
 * -1 when it does not fit (no value scg reads is that long). */
static int header_text(const char *p, size_t len, size_t skip, char *v, size_t vsize)
{
	const char *s = p + skip, *e = p + len;
	while (s < e && (*s == ' ' || *s == '\t'))
		s++;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		e--;
	if ((size_t)(e - s) >= vsize)
		return -1;
	memcpy(v, s, (size_t)(e - s));
	v[e - s] = 0;
	return 0;
}

/* Whether the comma-separated list v holds token (case aside). */
static int has_token(const char *v, const char *token)
{
	size_t n = strlen(token);
	while (*v) {
		v += strspn(v, " \t,");
		size_t k = strcspn(v, " \t,");
		if (k == n && !strncasecmp(v, token, n))
			return 1;
		v += k;
	}
	return 0;
}

/* Reads the head from h to he (blank line included): the status, the
 * body's framing, the headers req_http_done reads. 0, or a CURLcode. */
static CURLcode head(struct conn *c, const char *h, const char *he)
{
	struct req *r = c->req;
	const char *le = line_end(h, he);
	if (he - h < 12 || strncmp(h, "HTTP/1.", 7) || (h[7] != '0' && h[7] != '1') || h[8] != ' ' ||
	    !strchr("123456789", h[9]) || h[10] < '0' || h[10] > '9' || h[11] < '0' || h[11] > '9')
		return CURLE_WEIRD_SERVER_REPLY;
	r->status = (h[9] - '0') * 100 + (h[10] - '0') * 10 + (h[11] - '0');
	c->keep = h[7] == '1';
	long long clen = -1;
	int chunked = 0, enc = 0;
	for (const char *p = le; p < he; p = le) {
		le = line_end(p, he);
		size_t len = (size_t)(le - p);
		char v[64];
		if (blank(p, le))
			break;
		http_header_seen(r, p, len);
		if (is_header(p, len, "content-length")) {
			if (header_text(p, len, 15, v, sizeof v) || !*v || strlen(v) > 18 ||
			    strspn(v, "0123456789") != strlen(v))
				return CURLE_WEIRD_SERVER_REPLY;
			long long n = atoll(v);
			if (clen >= 0 && clen != n)
				return CURLE_WEIRD_SERVER_REPLY;
			clen = n;
		} else if (is_header(p, len, "transfer-encoding")) {
			if (header_text(p, len, 18, v, sizeof v) || strcasecmp(v, "chunked"))
				return CURLE_BAD_CONTENT_ENCODING;
			chunked = 1;
		} else if (is_header(p, len, "content-encoding")) {
			if (header_text(p, len, 17, v, sizeof v))
				return CURLE_BAD_CONTENT_ENCODING;
			if (!strcasecmp(v, "gzip") || !strcasecmp(v, "x-gzip") || !strcasecmp(v, "deflate"))
				enc = 1;
			else if (strcasecmp(v, "identity"))
				return CURLE_BAD_CONTENT_ENCODING;
		} else if (is_header(p, len, "connection")) {
			/* a list too long to read: not kept, to be safe */
			if (header_text(p, len, 11, v, sizeof v) || has_token(v, "close"))
				c->keep = 0;
			else if (has_token(v, "keep-alive"))
				c->keep = 1;
		}
	}
	if (r->status < 200)
		return CURLE_OK;   /* an interim answer: the real one follows */
	if (enc) {
		c->z = xcalloc(1, sizeof *c->z);
		if (inflateInit2(c->z, 15 + 32) != Z_OK)   /* gzip or zlib, told by the header */
			die("zlib: cannot start inflating");
	}
	if (r->status == 204 || r->status == 304) {
		c->phase = P_DONE;
	} else if (chunked) {
		c->phase = P_CHUNK_SIZE;
	} else if (clen >= 0) {
		/* a declared size past the cap fails before the body comes */
		if ((unsigned long long)clen > (unsigned long long)ex.cfg.max_answer)
			return CURLE_FILESIZE_EXCEEDED;
		c->phase = clen ? P_LEN : P_DONE;
		c->left = (unsigned long long)clen;
	} else {
		c->phase = P_EOF;
		c->keep = 0;
	}
	return CURLE_OK;
}

int h1_take(struct conn *c)
{
	CURLcode cc;
	const char *p = c->in, *end = c->in + c->in_len;
	while (c->phase != P_DONE && p < end) {
		const char *le;
		size_t n = (size_t)(end - p);
		switch (c->phase) {
		case P_HEAD: {
			/* the blank line that ends the head, searched from where
			 * the last read left off */
			const char *s = c->in + (c->scanned > 2 ? c->scanned - 2 : 0), *he = NULL;
			while ((le = line_end(s, end))) {
				const char *next = line_end(le, end);
				if (next && blank(le, next)) {
					he = next;
					break;
				}
				s = le;
			}
			c->scanned = c->in_len;
			if (memcmp(c->in, "HTTP/", c->in_len < 5 ? c->in_len : 5))
				return CURLE_WEIRD_SERVER_REPLY;
			if (!he) {
				if (c->in_len > HEAD_MAX)
					return CURLE_WEIRD_SERVER_REPLY;
				goto keep;
			}
			cc = head(c, p, he);
			if (cc != CURLE_OK)
				return cc;
			p = he;
			c->scanned = 0;
			if (c->req->status < 200) {   /* drop it and read on */
				c->req->status = 0;
				memmove(c->in, p, (size_t)(end - p));
				c->in_len = (size_t)(end - p);
				p = c->in;
				end = c->in + c->in_len;
			}
			break;
		}
		case P_LEN:
		case P_CHUNK_DATA:
			if (n > c->left)
				n = (size_t)c->left;
			if ((cc = body(c, p, n)) != CURLE_OK)
				return cc;
			p += n;
			if (!(c->left -= n))
				c->phase = c->phase == P_LEN ? P_DONE : P_CHUNK_END;
			break;
		case P_EOF:
			if ((cc = body(c, p, n)) != CURLE_OK)
				return cc;
			p = end;
			break;
		case P_CHUNK_SIZE:
		case P_CHUNK_END:
		case P_TRAILER:
			if (!(le = line_end(p, end))) {
				if (n > CHUNK_LINE_MAX)
					return CURLE_RECV_ERROR;
				goto keep;
			}
			if (c->phase == P_CHUNK_END) {
				if (!blank(p, le))
					return CURLE_RECV_ERROR;
				c->phase = P_CHUNK_SIZE;
			} else if (c->phase == P_TRAILER) {
				if (blank(p, le))
					c->phase = P_DONE;
			} else {
				/* hexadecimal digits, at most 15 of them, then an
				 * extension, white space or the line's end */
				unsigned long long size = 0;
				const char *d = p;
				for (; d < le && d - p < 15 && isxdigit((unsigned char)*d); d++)
					size = size * 16 + (unsigned)(*d <= '9' ? *d - '0' : (*d | 0x20) - 'a' + 10);
				if (d == p || !memchr(";\r\n \t", *d, 5))
					return CURLE_RECV_ERROR;
				c->left = size;
				c->phase = size ? P_CHUNK_DATA : P_TRAILER;
			}
			p = le;
			break;
		case P_DONE:
			break;
		}
	}
	if (c->phase == P_DONE) {
		if (p < end)
			c->keep = 0;   /* more than was asked for */
		return CURLE_OK;
	}
keep:
	/* what is not taken yet moves to the front */
	if (p != c->in) {
		memmove(c->in, p, (size_t)(end - p));
		c->in_len = (size_t)(end - p);
		c->scanned = c->scanned > (size_t)(p - c->in) ? c->scanned - (size_t)(p - c->in) : 0;
	}
	return -1;
}
