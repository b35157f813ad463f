/* libFuzzer target: the template engine, against a fixed record. The first
 * line of the input is the template; the rest, if JSON, is the context. */
#include "jparse.h"
#include "tmpl.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nl = memchr(data, '\n', size);
	size_t tn = nl ? (size_t)(nl - (const char *)data) : size;
	char *t = xstrndup((const char *)data, tn);
	struct buf err = {0}, out = {0};
	json_t *ctx = nl ? jparse(nl + 1, size - tn - 1, &err) : NULL;
	if (!json_is_object(ctx)) {
		json_decref(ctx);
		ctx = json_pack("{s:{s:s, s:[i, s]}, s:s}", "persona", "name", "Ann", "list", 1, "{{x}}",
				"assistant", "Bob");
	}
	tmpl_render(t, ctx, &out, &err);
	json_decref(ctx);
	free(t);
	buf_free(&err);
	buf_free(&out);
	return 0;
}
