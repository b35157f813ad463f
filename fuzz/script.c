/* libFuzzer target: the script-answer parser (speaker mapping, stage
 * directions, merging) on arbitrary model answers. */
#include "jparse.h"
#include "script.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static json_t *names, *msgs;
	if (!names) {
		names = json_pack("[s, s, s]", "Mary Anning", "Mary", "Miss Anning");
		msgs = json_pack("[{s:s, s:s}]", "role", "user", "content", "Hello?");
	}
	struct buf err = {0};
	json_t *answer = jparse((const char *)data, size, &err);
	if (answer) {
		json_t *out = script_map(answer, names, msgs, 4, &err);
		json_decref(out);
		json_t *t = json_object_get(json_array_get(json_object_get(answer, "turns"), 0), "text");
		if (json_is_string(t)) {
			free(script_clean(json_string_value(t)));
			script_is(names, json_string_value(t));
		}
		json_decref(answer);
	}
	buf_free(&err);
	return 0;
}
