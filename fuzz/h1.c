/* libFuzzer target: an HTTP/1.1 answer as scg's own client reads it
 * (lib/exec-h1-answer.c): status line, headers, Content-Length, chunks,
 * the close, gzip and deflate. The first byte sets how many bytes each
 * read brings (1 to 256), so an answer is also cut at every place; the
 * body must stay within --max-answer-bytes. */
#include "exec-h1-int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t step = (size_t)data[0] + 1;
	data++;
	size--;
	ex.cfg.max_answer = 1 << 16;
	struct req r = {.retry_after = -1, .should_retry = -1};
	struct conn c = {.req = &r, .phase = P_HEAD};
	int cc = -1;
	for (size_t at = 0; at < size && cc < 0; at += step) {
		size_t n = size - at < step ? size - at : step;
		if (c.in_cap - c.in_len < n) {
			c.in_cap = c.in_len + n;
			c.in = realloc(c.in, c.in_cap);
		}
		memcpy(c.in + c.in_len, data + at, n);
		c.in_len += n;
		cc = h1_take(&c);
	}
	if (r.resp.len > (size_t)ex.cfg.max_answer || (cc == CURLE_OK && r.status < 200))
		abort();
	if (c.z) {
		inflateEnd(c.z);
		free(c.z);
	}
	free(c.in);
	buf_free(&r.resp);
	return 0;
}
