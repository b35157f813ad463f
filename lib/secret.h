/* secret: the values that must never be written anywhere: API keys, key
 * files, values expanded from ${VAR}, userinfo in a URL. Modules that learn
 * one hand it to secret_add(); every path that writes text (stderr, the
 * rejects, stdout, dry runs, the cache, scg-mock's log) passes it through
 * secret_redact() or secret_redact_json() first, so a server that echoes a
 * key, whole or in part, cannot make it leak. */
#ifndef SCG_SECRET_H
#define SCG_SECRET_H

#include <stddef.h>

/* Shortest run of a secret that is masked wherever it appears; a secret
 * shorter than this is masked where it appears whole, and one shorter
 * than SECRET_MIN not at all (it cannot be told from ordinary text). */
#define SECRET_RUN 8
#define SECRET_MIN 4

/* Remembers value (copied). Values of the same text count once. */
void secret_add(const char *value);
/* Any secret known? */
int secret_any(void);
/* Masks with '*' every run of SECRET_RUN or more bytes of s[0..len) that
 * also appears in a secret (and every whole short secret), widened to whole
 * UTF-8 characters. Returns how many bytes were masked. */
size_t secret_redact(char *s, size_t len);
/* The same for JSON text: only characters inside strings are masked, and
 * escapes and quotes are kept, so the text stays valid JSON. */
size_t secret_redact_json(char *s, size_t len);

#endif
