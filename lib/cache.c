/* cache: one file per answer, named by a 128-bit hash of the request. */
#include "cache.h"
#include "jparse.h"
#include "opt.h"
#include "record.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

static char *dir;
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
	if (opts.no_cache)
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
	char *text = read_file(path, &len);
	json_t *v = NULL;
	if (text) {
		struct buf err = {0};
		v = jparse(text, len, &err);
		buf_free(&err);
		/* the key text is stored too: a hash collision is a miss */
		const char *k = json_str(v, "key");
		if (!json_is_object(v) || !k || strcmp(k, key_text) || !json_object_get(v, "answer")) {
			if (!warned_damage++)
				warnx_("cache: %s is damaged; treated as a miss", path);
			json_decref(v);
			v = NULL;
		}
		free(text);
	}
	free(path);
	if (!v)
		return NULL;
	json_t *a = json_incref(json_object_get(v, "answer"));
	json_decref(v);
	return a;
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
	char *tmp = xasprintf("%s.%ld.tmp", path, (long)getpid());
	json_t *v = json_pack("{s:s, s:O}", "key", key_text, "answer", answer);
	char *s = json_compact(v);
	json_decref(v);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int err = fd < 0 ? errno : 0;
	size_t n = strlen(s), off = 0;
	while (!err && off < n) {
		ssize_t w = write(fd, s + off, n - off);
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
	if (err) {
		/* a full disk must not stop the run: go on without the cache */
		warnx_("cache: cannot write %s: %s; going on without caching", path, strerror(err));
		unlink(tmp);
		free(dir);
		dir = NULL;
	}
	free(s);
	free(tmp);
	free(path);
}
