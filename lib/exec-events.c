/* exec-events: the set of descriptors the loop waits on (the input,
 * libcurl's sockets, commands' pipes), level-triggered. epoll on Linux;
 * elsewhere, or built with -DSCG_POLL (make check-poll), poll(): the
 * same behaviour, a scan of the set per wait. Either way the wait lets in
 * the signals that are blocked the rest of the time (epoll_pwait, ppoll),
 * so a signal is never lost between a check and a wait. */
#include "exec-int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Events of one batch may still point at a socket libcurl just closed:
 * such an ev is marked dead and freed only after the batch. */
static struct ev *retired;

void evset_retire(struct ev *e)
{
	e->type = EV_DEAD;
	e->next_dead = retired;
	retired = e;
}

void evset_free_retired(void)
{
	while (retired) {
		struct ev *d = retired;
		retired = d->next_dead;
		free(d);
	}
}

#if defined(__linux__) && !defined(SCG_POLL)

#include <sys/epoll.h>

static int epfd = -1;

void evset_init(void)
{
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		die("epoll: %s", strerror(errno));
}

void evset_close(void)
{
	close(epfd);
	epfd = -1;
}

int evset_watch(int fd, unsigned flags, struct ev *e)
{
	struct epoll_event ee = {.data.ptr = e};
	ee.events = (flags & EVF_IN ? EPOLLIN : 0) | (flags & EVF_OUT ? EPOLLOUT : 0);
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ee) == 0)
		return 0;
	if (errno == EEXIST && epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ee) == 0)
		return 0;
	return -1;
}

void evset_forget(int fd)
{
	/* a closed descriptor has left the set by itself */
	if (epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL) && errno != ENOENT && errno != EBADF)
		die("epoll_ctl: %s", strerror(errno));
}

int evset_wait(int ms, const sigset_t *mask, struct ev_ready *ready, int max)
{
	struct epoll_event evs[64];
	int n = epoll_pwait(epfd, evs, max < 64 ? max : 64, ms, mask);
	if (n < 0) {
		if (errno != EINTR)
			die("epoll_wait: %s", strerror(errno));
		return 0;
	}
	for (int i = 0; i < n; i++) {
		uint32_t got = evs[i].events;
		ready[i].ev = evs[i].data.ptr;
		ready[i].flags = (got & EPOLLIN ? EVF_IN : 0) | (got & EPOLLOUT ? EVF_OUT : 0) |
				 (got & (EPOLLERR | EPOLLHUP) ? EVF_ERR : 0);
	}
	return n;
}

#else

#include <poll.h>
#include <sys/stat.h>
#include <time.h>

static struct pollfd *fds;
static struct ev **evs;         /* evs[i] is what fds[i] is watched for */
static size_t nfds, capfds;

void evset_init(void)
{
}

void evset_close(void)
{
	free(fds);
	free(evs);
	fds = NULL;
	evs = NULL;
	nfds = capfds = 0;
}

static long slot_of(int fd)
{
	for (size_t i = 0; i < nfds; i++)
		if (fds[i].fd == fd)
			return (long)i;
	return -1;
}

int evset_watch(int fd, unsigned flags, struct ev *e)
{
	struct stat st;
	if (fstat(fd, &st))
		return -1;
	if (S_ISREG(st.st_mode)) {
		errno = EPERM;   /* as epoll says: a regular file is always ready */
		return -1;
	}
	long i = slot_of(fd);
	if (i < 0) {
		if (nfds == capfds) {
			capfds = capfds ? capfds * 2 : 16;
			fds = xrealloc(fds, capfds * sizeof *fds);
			evs = xrealloc(evs, capfds * sizeof *evs);
		}
		i = (long)nfds++;
	}
	fds[i] = (struct pollfd){.fd = fd};
	fds[i].events = (short)((flags & EVF_IN ? POLLIN : 0) | (flags & EVF_OUT ? POLLOUT : 0));
	evs[i] = e;
	return 0;
}

static void drop_slot(size_t i)
{
	fds[i] = fds[--nfds];
	evs[i] = evs[nfds];
}

void evset_forget(int fd)
{
	long i = slot_of(fd);
	if (i >= 0)
		drop_slot((size_t)i);
}

int evset_wait(int ms, const sigset_t *mask, struct ev_ready *ready, int max)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
	int n = ppoll(fds, (nfds_t)nfds, ms < 0 ? NULL : &ts, mask);
	if (n < 0) {
		if (errno != EINTR)
			die("poll: %s", strerror(errno));
		return 0;
	}
	int got = 0;
	for (size_t i = 0; i < nfds && got < max;) {
		short re = fds[i].revents;
		if (re & POLLNVAL) {
			drop_slot(i);   /* closed while watched: it leaves the set, as with epoll */
			continue;
		}
		if (re) {
			ready[got].ev = evs[i];
			ready[got].flags = (re & POLLIN ? EVF_IN : 0) | (re & POLLOUT ? EVF_OUT : 0) |
					   (re & (POLLERR | POLLHUP) ? EVF_ERR : 0);
			got++;
		}
		i++;
	}
	return got;
}

#endif
