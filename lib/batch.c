/* batch: what both providers' batch APIs share (see batch.h). */
#include "batch.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

const struct batch_wire *batch_wire_for(const struct model *m)
{
	switch (m->provider) {
	case P_OPENAI:
		return &batch_openai;
	case P_ANTHROPIC:
		return &batch_anthropic;
	case P_OLLAMA:
		break;
	}
	return NULL;
}

void batch_status_free(struct batch_status *s)
{
	free(s->id);
	free(s->status);
	free(s->results);
	free(s->errors);
	free(s->set);
	free(s->why);
	memset(s, 0, sizeof *s);
}

void batch_result_free(struct batch_result *r)
{
	free(r->custom_id);
	free(r->body);
	free(r->message);
	memset(r, 0, sizeof *r);
}

int batch_id_ok(const char *id)
{
	if (!id || !*id || strlen(id) > 200)
		return 0;
	for (const char *p = id; *p; p++)
		if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') && !(*p >= '0' && *p <= '9') &&
		    *p != '_' && *p != '-')
			return 0;
	return 1;
}

/* "https://host:port/" of a URL: its length, scheme and authority. */
static size_t origin_len(const char *url)
{
	const char *p = strstr(url, "://");
	if (!p)
		return 0;
	p += 3;
	return (size_t)(p - url) + strcspn(p, "/?#");
}

int batch_same_origin(const char *base, const char *url)
{
	size_t n = origin_len(base);
	return n && origin_len(url) == n && !strncasecmp(base, url, n) && ctl_at(url) < 0;
}
