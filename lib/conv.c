/* conv: reading a messages list. */
#include "conv.h"
#include "record.h"
#include "util.h"

#include <string.h>

const char *conv_last_role(json_t *msgs)
{
	for (size_t i = json_array_size(msgs); i > 0; i--) {
		const char *r = json_str(json_array_get(msgs, i - 1), "role");
		if (r && strcmp(r, "system"))
			return r;
	}
	return NULL;
}

long conv_user_turns(json_t *msgs)
{
	long n = 0;
	size_t i;
	json_t *m;
	json_array_foreach(msgs, i, m) {
		const char *r = json_str(m, "role");
		n += r && !strcmp(r, "user");
	}
	return n;
}

char *conv_transcript(json_t *msgs)
{
	struct buf b = {0};
	size_t i;
	json_t *m;
	json_array_foreach(msgs, i, m) {
		const char *role = json_str(m, "role"), *c = json_str(m, "content");
		if (!role || !c || !strcmp(role, "system"))
			continue;
		buf_addf(&b, "%s%s: %s", b.len ? "\n\n" : "", !strcmp(role, "user") ? "User" : "Assistant", c);
	}
	return buf_steal(&b);
}
