/* log: every request as one JSON line of --log, headers and body, with
 * the credential headers, --key and the --redact-env values redacted. */
#include "mock.h"
#include "secret.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

/* Any header whose name holds one of these words, in any case. */
int log_secret_header(const char *name)
{
	static const char *const words[] = {"key", "token", "secret", "auth", "cookie",
					    "pass", "session", "credential", "sig"};
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
		if (strcasestr(name, words[i]))
			return 1;
	return 0;
}

static enum MHD_Result add_header(void *cls, enum MHD_ValueKind kind, const char *name,
				  const char *value)
{
	(void)kind;
	char *lower = xstrdup(name);
	for (char *p = lower; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p += 'a' - 'A';
	json_t *v = log_secret_header(lower) ? json_string("[redacted]") : json_string(value ? value : "");
	json_object_set_new(cls, lower, v ? v : json_string("[not UTF-8]"));
	free(lower);
	return MHD_YES;
}

void log_request(struct MHD_Connection *c, const char *method, const char *url,
		 const struct req *q, const struct reply *rp)
{
	if (!conf.log)
		return;
	json_t *headers = json_object();
	MHD_get_connection_values(c, MHD_HEADER_KIND, add_header, headers);
	json_t *body = q->doc ? json_incref(q->doc)
		     : q->too_large ? json_string("[larger than 32 MiB: dropped]")
		     : json_stringn(q->body.p ? q->body.p : "", q->body.len);
	if (!body) {   /* not UTF-8: keep what can be read */
		char *s = xstrndup(q->body.p, q->body.len);
		for (char *p = s; *p; p++)
			if ((unsigned char)*p >= 0x80)
				*p = '?';
		body = json_string(s);
		free(s);
	}
	json_t *line = json_pack("{s:I, s:s, s:s, s:o, s:o, s:s, s:i, s:I}", "n", (json_int_t)q->n,
				 "method", method, "path", url, "headers", headers, "body", body,
				 "outcome", rp->outcome, "status", rp->drop ? 0 : rp->status,
				 "open", (json_int_t)q->open);
	char *s = reply_dump(line);
	json_decref(line);
	/* --key and the --redact-env values, wherever they are (a body too) */
	secret_redact_json(s, strlen(s));
	pthread_mutex_lock(&log_lock);
	fprintf(conf.log, "%s\n", s);
	fflush(conf.log);
	pthread_mutex_unlock(&log_lock);
	free(s);
}

