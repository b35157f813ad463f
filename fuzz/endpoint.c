/* libFuzzer target: the endpoint response-path walker on arbitrary bodies. */
#include "endpoint.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct endpoint e;
	if (!e.response_path)
		e.response_path = json_pack("[s, i, s, s]", "choices", 0, "message", "content");
	struct buf err = {0};
	char *reply = endpoint_reply(&e, (const char *)data, size, &err);
	free(reply);
	/* the first bytes also choose a path, to walk negative and odd indices */
	if (size > 2) {
		json_t *path = json_pack("[i, s, i]", (int)(signed char)data[0] % 5, "a", (int)(signed char)data[1]);
		json_t *root = json_loadb((const char *)data + 2, size - 2, 0, NULL);
		struct buf where = {0};
		endpoint_walk(root, path, &where);
		buf_free(&where);
		json_decref(root);
		json_decref(path);
	}
	buf_free(&err);
	return 0;
}
