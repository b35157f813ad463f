/* jv: the compact writer and the getters (see jv.h). */
#include "jv.h"
#include "jrun.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A compact writer of our own: jansson's dumper escapes character by
 * character through a callback and prints reals with 17 digits
 * (0.83 -> 0.82999999999999996); this one copies runs and prints the
 * shortest form that reads back the same. */
void jv_dump_string(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const char *end = s + n;
	buf_grow(b, n + 2);
	b->p[b->len++] = '"';
	for (;;) {
		const char *stop = jrun_text(s, end);
		buf_add(b, s, (size_t)(stop - s));
		if (stop == end)
			break;
		unsigned char c = (unsigned char)*stop;
		s = stop + 1;
		char esc[7] = {'\\', 0};
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		default:
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			buf_add(b, esc, 6);
			continue;
		}
		buf_add(b, esc, 2);
	}
	buf_addc(b, '"');
}

/* The common reals (a temperature, a cost summed to 1e-10) are n / 10^10
 * for an integer n of at most 15 digits. Then the division is the double
 * nearest that decimal, so its digits read back the same, and they are
 * what %.15g would print (in fixed notation from 1e-4 on): written
 * without printf. 0 when d is not such a number. */
static int dump_decimal(struct buf *b, double d)
{
	if (!(d >= 1e-4 && d < 1e5))
		return 0;
	double scaled = d * 1e10;
	long long n = llround(scaled);
	if ((double)n / 1e10 != d)
		return 0;
	char tmp[32], *e = tmp + sizeof tmp, *q = e;
	long long frac = n % 10000000000LL, whole = n / 10000000000LL;
	int digits = 10;
	while (digits && frac % 10 == 0) {
		frac /= 10;
		digits--;
	}
	if (!digits) {
		*--q = '0';
	} else {
		for (int i = 0; i < digits; i++, frac /= 10)
			*--q = (char)('0' + frac % 10);
	}
	*--q = '.';
	do
		*--q = (char)('0' + whole % 10);
	while (whole /= 10);
	buf_add(b, q, (size_t)(e - q));
	return 1;
}

void jv_dump_real(struct buf *b, double d)
{
	char tmp[40];
	if (!isfinite(d)) {
		buf_adds(b, "null");
		return;
	}
	if (dump_decimal(b, d))
		return;
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(tmp, sizeof tmp, "%.*g", prec, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	buf_adds(b, tmp);
	/* keep it a real: 1 -> 1.0 */
	if (!strpbrk(tmp, ".eEn"))
		buf_adds(b, ".0");
}

void jv_dump_int(struct buf *b, json_int_t i)
{
	char tmp[24], *e = tmp + sizeof tmp, *q = e;
	unsigned long long u = i < 0 ? 0ULL - (unsigned long long)i : (unsigned long long)i;
	do
		*--q = (char)('0' + u % 10);
	while (u /= 10);
	if (i < 0)
		*--q = '-';
	buf_add(b, q, (size_t)(e - q));
}

void jv_dump(const json_t *v, struct buf *b)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		buf_addc(b, '{');
		/* the iterator itself: the foreach macro looks each key up again */
		for (void *it = json_object_iter((json_t *)v); it; ) {
			jv_dump_string(b, json_object_iter_key(it), json_object_iter_key_len(it));
			buf_addc(b, ':');
			jv_dump(json_object_iter_value(it), b);
			if ((it = json_object_iter_next((json_t *)v, it)))
				buf_addc(b, ',');
		}
		buf_addc(b, '}');
		break;
	}
	case JSON_ARRAY: {
		buf_addc(b, '[');
		size_t n = json_array_size(v);
		for (size_t i = 0; i < n; i++) {
			if (i)
				buf_addc(b, ',');
			jv_dump(json_array_get(v, i), b);
		}
		buf_addc(b, ']');
		break;
	}
	case JSON_STRING:
		jv_dump_string(b, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		jv_dump_int(b, json_integer_value(v));
		break;
	case JSON_REAL:
		jv_dump_real(b, json_real_value(v));
		break;
	case JSON_TRUE: buf_add(b, "true", 4); break;
	case JSON_FALSE: buf_add(b, "false", 5); break;
	case JSON_NULL: buf_add(b, "null", 4); break;
	}
}

char *jv_compact(const json_t *v)
{
	struct buf b = {0};
	jv_dump(v, &b);
	return buf_steal(&b);
}

json_t *jv_path(json_t *v, const char *path)
{
	const char *p = path;
	while (v && *p) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		char key[256];
		if (n >= sizeof key)
			return NULL;
		memcpy(key, p, n);
		key[n] = 0;
		if (json_is_object(v)) {
			v = json_object_get(v, key);
		} else if (json_is_array(v)) {
			char *end;
			long i = strtol(key, &end, 10);
			if (end == key || *end)
				return NULL;
			if (i < 0)
				i += (long)json_array_size(v);
			v = i < 0 ? NULL : json_array_get(v, (size_t)i);
		} else {
			return NULL;
		}
		p += n;
		if (*p == '.')
			p++;
	}
	return v;
}

const char *jv_str(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

void jv_count(json_t *counter, const char *key, json_int_t n)
{
	json_t *c = json_object_get(counter, key);
	if (c)
		json_integer_set(c, json_integer_value(c) + n);
	else
		json_object_set_new(counter, key, json_integer(n));
}
