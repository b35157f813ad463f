/* llm-openai: the common OpenAI request body (no --extra-body, no
 * schema) written straight from the record's values, without building
 * and dumping jansson values: a request's body is made for every request.
 * Its bytes are those llm_build's jansson path writes (checked by
 * build-aux/golden.sh and the cache keys of the tests). */
#include "llm.h"
#include "jv.h"

#include <math.h>
#include <string.h>

int llm_openai_body(const struct llm_req *r, struct buf *b)
{
	const struct model *m = r->model;
	if (m->provider != P_OPENAI || m->extra || r->schema || !m->name_utf8)
		return 0;
	buf_adds(b, "{\"model\":");
	jv_dump_string(b, m->name, strlen(m->name));
	buf_adds(b, ",\"messages\":[");
	size_t i;
	json_t *msg;
	json_array_foreach(r->messages, i, msg) {
		const char *role = jv_str(msg, "role");
		json_t *c = json_object_get(msg, "content");
		json_t *calls = json_object_get(msg, "tool_calls");
		const char *id = jv_str(msg, "tool_call_id");
		if (m->reasoning && role && !strcmp(role, "system"))
			role = "developer";
		if (!role)
			role = "user";
		if (i)
			buf_addc(b, ',');
		buf_adds(b, "{\"role\":");
		jv_dump_string(b, role, strlen(role));
		buf_adds(b, ",\"content\":");
		if (c)
			jv_dump(c, b);
		else
			buf_adds(b, "\"\"");
		if (json_is_array(calls)) {
			buf_adds(b, ",\"tool_calls\":");
			jv_dump(calls, b);
		}
		if (id) {
			buf_adds(b, ",\"tool_call_id\":");
			jv_dump_string(b, id, strlen(id));
		}
		buf_addc(b, '}');
	}
	buf_addc(b, ']');
	if (r->tools) {
		buf_adds(b, ",\"tools\":");
		jv_dump(r->tools, b);
	}
	/* jansson makes no value of a real that is not finite: no member */
	if (!m->reasoning) {
		if (r->temperature >= 0 && isfinite(r->temperature)) {
			buf_adds(b, ",\"temperature\":");
			jv_dump_real(b, r->temperature);
		}
		if (r->top_p >= 0 && isfinite(r->top_p)) {
			buf_adds(b, ",\"top_p\":");
			jv_dump_real(b, r->top_p);
		}
	}
	if (r->max_tokens > 0) {
		buf_adds(b, m->official || m->reasoning ? ",\"max_completion_tokens\":" : ",\"max_tokens\":");
		jv_dump_int(b, r->max_tokens);
	}
	/* top_k goes only with --extra-body: not here */
	buf_adds(b, ",\"seed\":");
	jv_dump_int(b, r->seed);
	buf_addc(b, '}');
	return 1;
}
