/* textnorm: case folding, white space collapsing and punctuation dropping,
 * table-free for ASCII (the common case) and by code point ranges above. */
#include "textnorm.h"

#include <stdint.h>
#include <string.h>

enum { KEEP, SPACE, DROP };

/* What to do with a code point above ASCII; *cp may be folded. */
static int classify(uint32_t *cp, unsigned flags)
{
	uint32_t c = *cp;
	int punct = flags & TEXTNORM_KEEP_PUNCT ? KEEP : DROP;
	if (c == 0xa0 || c == 0x85 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 ||
	    c == 0x2029 || c == 0x202f || c == 0x205f || c == 0x3000)
		return SPACE;
	if ((c >= 0x200b && c <= 0x200d) || c == 0x2060 || c == 0xfeff || c == 0xad)
		return DROP;    /* zero-width and soft hyphen */
	if (c < 0xa0)
		return SPACE;   /* C1 controls */
	if (c == 0xa1 || c == 0xa7 || c == 0xab || c == 0xb6 || c == 0xb7 ||
	    c == 0xbb || c == 0xbf || (c >= 0x2010 && c <= 0x2027) ||
	    (c >= 0x2030 && c <= 0x205e) || (c >= 0x3001 && c <= 0x3003) ||
	    (c >= 0x3008 && c <= 0x3011) || (c >= 0xff01 && c <= 0xff0f))
		return punct;
	if ((c >= 0xc0 && c <= 0xde && c != 0xd7) || (c >= 0x391 && c <= 0x3a9) ||
	    (c >= 0x410 && c <= 0x42f))
		*cp = c + 0x20;
	else if (c >= 0x400 && c <= 0x40f)
		*cp = c + 0x50;
	return KEEP;
}

static char *put_cp(char *o, uint32_t c)
{
	if (c < 0x800) {
		*o++ = (char)(0xc0 | c >> 6);
	} else if (c < 0x10000) {
		*o++ = (char)(0xe0 | c >> 12);
		*o++ = (char)(0x80 | ((c >> 6) & 0x3f));
	} else {
		*o++ = (char)(0xf0 | c >> 18);
		*o++ = (char)(0x80 | ((c >> 12) & 0x3f));
		*o++ = (char)(0x80 | ((c >> 6) & 0x3f));
	}
	*o++ = (char)(0x80 | (c & 0x3f));
	return o;
}

/* ASCII: the folded character, 0 to drop it, ' ' for white space. */
static unsigned char ascii[2][128];

static void ascii_init(void)
{
	for (int k = 0; k < 2; k++) {
		for (int c = 0; c < 128; c++) {
			unsigned char v = (unsigned char)c;
			if (c <= ' ' || c == 0x7f)
				v = ' ';
			else if (c >= 'A' && c <= 'Z')
				v = (unsigned char)(c + 'a' - 'A');
			else if (!k && !(c >= 'a' && c <= 'z') && !(c >= '0' && c <= '9'))
				v = 0;
			ascii[k][c] = v;
		}
	}
}

/* Folding never lengthens a character, so the output fits in n + 1 bytes
 * and is written straight into out. */
void textnorm_append(struct buf *out, const char *str, size_t n, unsigned flags)
{
	const unsigned char *s = (const unsigned char *)str;
	buf_grow(out, n + 2);
	char *o = out->p + out->len, *first = out->p;
	int space = out->len > 0;   /* a separator is owed before the next character */
	if (!ascii[0]['a'])
		ascii_init();
	const unsigned char *tab = ascii[(flags & TEXTNORM_KEEP_PUNCT) != 0];
	for (size_t i = 0; i < n;) {
		unsigned c = s[i];
		if (c < 0x80) {
			i++;
			unsigned char v = tab[c];
			if (v == ' ') {
				space = 1;
			} else if (v) {
				if (space && o > first)
					*o++ = ' ';
				space = 0;
				*o++ = (char)v;
			}
			continue;
		}
		size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
		if (i + len > n)
			break;  /* cannot happen on valid UTF-8 */
		uint32_t cp = c & (len == 2 ? 0x1f : len == 3 ? 0x0f : 0x07);
		for (size_t k = 1; k < len; k++)
			cp = cp << 6 | (s[i + k] & 0x3f);
		i += len;
		int what = classify(&cp, flags);
		if (what == SPACE) {
			space = 1;
			continue;
		}
		if (what == DROP)
			continue;
		if (space && o > first)
			*o++ = ' ';
		space = 0;
		o = put_cp(o, cp);
	}
	out->len = (size_t)(o - out->p);
	out->p[out->len] = 0;
}
