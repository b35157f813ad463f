/* libFuzzer target: the YAML/JSON configuration loader and ${VAR} expansion. */
#include "conf.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf err = {0};
	json_t *v = conf_parse("fuzz.yaml", (const char *)data, size, &err);
	if (v)
		conf_expand_env(v, "fuzz.yaml", &err);
	json_decref(v);
	buf_free(&err);
	return 0;
}
