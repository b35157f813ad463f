/* derive: field order of derived records. */
#include "derive.h"

#include <string.h>

/* Adds the fields of `with` that rec does not have. */
static void add_new(json_t *out, json_t *rec, json_t *with)
{
	const char *k;
	json_t *v;
	json_object_foreach(with, k, v)
		if (!json_object_get(rec, k) && !json_object_get(out, k))
			json_object_set(out, k, v);
}

json_t *derive_record(json_t *rec, json_t *with, const char *at)
{
	json_t *out = json_object();
	json_t *id = json_object_get(with, "id");
	if (id && !json_object_get(rec, "id"))
		json_object_set(out, "id", id);
	int placed = 0;
	const char *k;
	json_t *v;
	json_object_foreach(rec, k, v) {
		json_t *w = json_object_get(with, k);
		if (at && !strcmp(k, at)) {
			if (w)
				json_object_set(out, k, w);
			add_new(out, rec, with);
			placed = 1;
		} else {
			json_object_set(out, k, w ? w : v);
		}
	}
	if (!placed)
		add_new(out, rec, with);
	json_decref(with);
	return out;
}
