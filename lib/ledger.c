/* ledger: a run's shared account, one mapped file per run (see ledger.h).
 * The file is made under flock, so that two processes starting the run
 * at once do not both set it up; after that it is only read and changed
 * in place, atomically. */
#include "ledger.h"
#include "cache.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char magic[8] = "scg-run1";

int ledger_name_ok(const char *name)
{
	size_t n = strlen(name);
	if (!n || n > 100 || name[0] == '.')
		return 0;
	return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

char *ledger_path(const char *name)
{
	char *dir = cache_folder();
	if (!dir)
		return NULL;
	char *path = xasprintf("%s/runs/%s", dir, name);
	free(dir);
	return path;
}

/* A new file gets its magic and birth; one of another size or magic is
 * not a ledger. Called under the file's lock. */
static int set_up(int fd)
{
	struct stat st;
	if (fstat(fd, &st))
		return -1;
	if (st.st_size == 0) {
		struct ledger head = {.created = (int64_t)time(NULL)};
		memcpy(head.magic, magic, sizeof magic);
		if (pwrite(fd, &head, sizeof head, 0) != (ssize_t)sizeof head)
			return -1;
		return 0;
	}
	char have[sizeof magic];
	if (st.st_size != (off_t)sizeof(struct ledger) ||
	    pread(fd, have, sizeof have, 0) != (ssize_t)sizeof have || memcmp(have, magic, sizeof magic)) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

struct ledger *ledger_map(const char *name, int create)
{
	char *path = ledger_path(name);
	if (!path) {
		errno = ENOENT;
		return NULL;
	}
	if (create) {
		char *slash = strrchr(path, '/');
		*slash = 0;
		mkdirs(path);
		*slash = '/';
	}
	int fd = open(path, O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0600);
	free(path);
	if (fd < 0)
		return NULL;
	int rc = flock(fd, LOCK_EX);
	if (!rc)
		rc = set_up(fd);
	int err = errno;
	void *p = rc ? MAP_FAILED : mmap(NULL, sizeof(struct ledger), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (!rc && p == MAP_FAILED)
		err = errno;
	/* the mapping holds the open file, and with it the lock: unlocked
	 * here, not by close */
	flock(fd, LOCK_UN);
	close(fd);
	if (p == MAP_FAILED) {
		errno = err;
		return NULL;
	}
	return p;
}

int ledger_remove(const char *name)
{
	char *path = ledger_path(name);
	if (!path) {
		errno = ENOENT;
		return -1;
	}
	int rc = unlink(path);
	free(path);
	return rc;
}

int64_t ledger_nusd(double usd)
{
	return (int64_t)llround(usd * 1e9);
}

double ledger_usd(int64_t nusd)
{
	return (double)nusd / 1e9;
}
