/* llm-key: where a model's key comes from (--key-file, SCG_API_KEY, the
 * provider's variable) and what of a key or a URL is a secret
 * (lib/secret.h): every key, and the user name and password in a URL. */
#include "llm.h"
#include "secret.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A key goes into a header line as it is: a CR or LF in it would add
 * headers of the sender's choosing. */
static char *checked_key(char *key, const char *from)
{
	long at = ctl_at(key);
	if (at >= 0)
		die("%s: the key holds a control character (byte %ld; CR, LF or another): refused",
		    from, at + 1);
	secret_add(key);
	return key;
}

static char *env_key(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? checked_key(xstrdup(v), name) : NULL;
}

/* base64 of the percent-decoded user:password, as in a Basic auth header */
static char *basic_auth(const char *userinfo)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	struct buf raw = {0}, out = {0};
	for (const char *p = userinfo; *p; p++) {
		unsigned v;
		if (*p == '%' && sscanf(p + 1, "%2x", &v) == 1 && isxdigit((unsigned char)p[1]) &&
		    isxdigit((unsigned char)p[2])) {
			buf_addc(&raw, (char)v);
			p += 2;
		} else {
			buf_addc(&raw, *p);
		}
	}
	const unsigned char *r = (const unsigned char *)(raw.p ? raw.p : "");
	for (size_t i = 0; i < raw.len; i += 3) {
		unsigned n = (unsigned)r[i] << 16 | (i + 1 < raw.len ? (unsigned)r[i + 1] << 8 : 0) |
			     (i + 2 < raw.len ? r[i + 2] : 0);
		buf_addc(&out, b64[n >> 18 & 63]);
		buf_addc(&out, b64[n >> 12 & 63]);
		buf_addc(&out, i + 1 < raw.len ? b64[n >> 6 & 63] : '=');
		buf_addc(&out, i + 2 < raw.len ? b64[n & 63] : '=');
	}
	buf_free(&raw);
	return buf_steal(&out);
}

void url_check(const char *url, const char *what)
{
	/* http://user:password@host/...: the userinfo is a secret, even in
	 * the message that refuses the URL */
	const char *auth = strstr(url, "://");
	if (auth) {
		auth += 3;
		size_t n = strcspn(auth, "/?#");
		const char *at_sign = NULL;
		for (const char *p = auth; p < auth + n; p++)
			if (*p == '@')
				at_sign = p;
		if (at_sign) {
			char *userinfo = xstrndup(auth, (size_t)(at_sign - auth));
			secret_add(userinfo);
			char *colon = strchr(userinfo, ':');
			if (colon)
				secret_add(colon + 1);
			/* curl sends it as Basic auth: a server that echoes
			 * headers would show it in base64 */
			char *basic = basic_auth(userinfo);
			secret_add(basic);
			free(basic);
			free(userinfo);
		}
	}
	if (strncasecmp(url, "http://", 7) && strncasecmp(url, "https://", 8))
		die("%s: %s: only http:// and https:// URLs are allowed", what, url);
	long at = ctl_at(url);
	if (at >= 0)
		die("%s: the URL holds a control character (byte %ld): refused", what, at + 1);
}

void model_key(struct model *m, const char *key_file, int dry_run)
{
	if (key_file) {
		size_t len;
		char *k = read_file_max(key_file, 65536, &len);
		if (!k)
			die("--key-file: %s: %s", key_file, strerror(errno));
		while (len && isspace((unsigned char)k[len - 1]))
			k[--len] = 0;
		if (strlen(k) != len)
			die("--key-file: %s: the key holds a NUL byte: refused", key_file);
		char *from = xasprintf("--key-file: %s", key_file);
		m->key = checked_key(k, from);
		free(from);
	}
	if (!m->key)
		m->key = env_key("SCG_API_KEY");
	if (!m->key && m->provider == P_OPENAI)
		m->key = env_key("OPENAI_API_KEY");
	if (!m->key && m->provider == P_ANTHROPIC)
		m->key = env_key("ANTHROPIC_API_KEY");
	if (!m->key && !dry_run) {
		if (m->official)
			die("no API key for %s: set OPENAI_API_KEY or SCG_API_KEY", m->base_url);
		if (strstr(m->base_url, "api.anthropic.com"))
			die("no API key for %s: set ANTHROPIC_API_KEY or SCG_API_KEY", m->base_url);
	}
}
