/* libFuzzer target: the record reader (UTF-8 check, JSON parse, object
 * check) and the writer: what is written must read back and write again
 * to the same bytes (json_equal cannot compare keys holding NUL). */
#include "record.h"
#include "jv.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf err = {0};
	json_t *v = record_parse((const char *)data, size, &err);
	if (v) {
		char *s = jv_compact(v);
		json_t *back = record_parse(s, strlen(s), &err);
		char *s2 = back ? jv_compact(back) : NULL;
		if (!s2 || strcmp(s, s2))
			__builtin_trap();
		json_decref(back);
		free(s2);
		free(s);
		json_decref(v);
	}
	buf_free(&err);
	return 0;
}
