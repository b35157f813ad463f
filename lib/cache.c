/* cache: one file per answer, named by a 128-bit hash of the request.
 * The request itself is not stored (it may hold secrets: a URL's
 * userinfo, an endpoint's ${VAR} values), only a second, independent hash
 * of it that tells a collision from a hit. */
#include "cache.h"
#include "jparse.h"
#include "jv.h"
#include "record.h"
#include "secret.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

static char *dir;
static struct cache_config cfg = {.max_answer = 4L << 20};

void cache_configure(const struct cache_config *c)
{
	cfg = *c;
}
static int warned_damage;

static void mkdirs(const char *path)
{
	char *p = xstrdup(path);
	for (char *s = p + 1; *s; s++) {
		if (*s == '/') {
			*s = 0;
			mkdir(p, 0700);
			*s = '/';
		}
	}
	mkdir(p, 0700);
	free(p);
}

void cache_init(void)
{
	if (cfg.off)
		return;
	const char *d = getenv("SCG_CACHE");
	if (d && *d)
		dir = xstrdup(d);
	else if ((d = getenv("XDG_CACHE_HOME")) && *d)
		dir = xasprintf("%s/scg", d);
	else if ((d = getenv("HOME")) && *d)
		dir = xasprintf("%s/.cache/scg", d);
	else
		return;
	mkdirs(dir);
}

/* A hash of the key text independent of the file name's. */
static char *key_check(const char *key_text)
{
	XXH128_hash_t h = XXH3_128bits_withSeed(key_text, strlen(key_text), 0x73636763616368ULL);
	return xasprintf("%016llx%016llx", (unsigned long long)h.high64, (unsigned long long)h.low64);
}

static char *path_for(const char *key_text)
{
	XXH128_hash_t h = XXH3_128bits(key_text, strlen(key_text));
	return xasprintf("%s/%02x/%016llx%016llx.json", dir, (unsigned)(h.high64 >> 56),
			 (unsigned long long)h.high64, (unsigned long long)h.low64);
}

json_t *cache_get(const char *key_text)
{
	if (!dir)
		return NULL;
	char *path = path_for(key_text);
	size_t len;
	/* an answer is at most --max-answer-bytes, every byte of it escaped
	 * at worst as \u00XX: a larger file is not one of ours */
	char *text = read_file_max(path, (size_t)cfg.max_answer * 6 + 65536, &len);
	json_t *v = NULL;
	if (text || errno == EFBIG) {
		struct buf err = {0};
		v = text ? jparse(text, len, &err) : NULL;
		buf_free(&err);
		/* a hash collision is a miss too */
		char *check = key_check(key_text);
		const char *k = jv_str(v, "key");
		if (!json_is_object(v) || !k || strcmp(k, check) || !json_object_get(v, "answer")) {
			if (!warned_damage++)
				warnx_("cache: %s is damaged; treated as a miss", path);
			json_decref(v);
			v = NULL;
		}
		free(check);
		free(text);
	}
	free(path);
	if (!v)
		return NULL;
	json_t *a = json_incref(json_object_get(v, "answer"));
	json_decref(v);
	return a;
}

void cache_damaged(const char *key_text, const char *why)
{
	if (!dir || warned_damage++)
		return;
	char *path = path_for(key_text);
	warnx_("cache: %s holds %s; treated as a miss", path, why);
	free(path);
}

void cache_put(const char *key_text, json_t *answer)
{
	if (!dir)
		return;
	char *path = path_for(key_text);
	char *slash = strrchr(path, '/');
	*slash = 0;
	mkdir(path, 0700);
	*slash = '/';
	char *check = key_check(key_text);
	json_t *v = json_pack("{s:s, s:O}", "key", check, "answer", answer);
	free(check);
	char *s = jv_compact(v);
	json_decref(v);
	/* an answer that echoes a key is stored masked, as it is written */
	secret_redact_json(s, strlen(s));
	int err = cache_write_file(path, s);
	if (err) {
		/* a full disk must not stop the run: go on without the cache */
		warnx_("cache: cannot write %s: %s; going on without caching", path, strerror(err));
		free(dir);
		dir = NULL;
	}
	free(s);
	free(path);
}

const char *cache_dir(void)
{
	return dir;
}

int cache_write_file(const char *path, const char *text)
{
	char *tmp = xasprintf("%s.%ld.tmp", path, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int err = fd < 0 ? errno : 0;
	size_t n = strlen(text), off = 0;
	while (!err && off < n) {
		ssize_t w = write(fd, text + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			err = w < 0 ? errno : EIO;
		else
			off += (size_t)w;
	}
	if (fd >= 0 && close(fd) && !err)
		err = errno;
	if (!err && rename(tmp, path))
		err = errno;
	if (err)
		unlink(tmp);
	free(tmp);
	return err;
}
