/* exec-cmd: child commands (scg-turn --endpoint-cmd). A command runs as
 * sh -c CMD in a process group of its own, the record on its stdin and
 * its reply read from its stdout, both pipes in the event set; past its
 * deadline the whole group is killed. A command is reaped without ever
 * blocking the loop: its exit is noted (waitid WNOWAIT, so its pid stays
 * its group's id until then), and killed ones are reaped once gone. */
#include "exec-int.h"
#include "cost.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static struct req *cmds;              /* running commands */
static pid_t *orphans;                /* killed commands not reaped yet */
static size_t norphans;

static void set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		die("fcntl: %s", strerror(errno));
}

/* Only async-signal-safe calls between fork and exec. */
static void child_fail(const char *what)
{
	static const char msg[] = ": cannot start the command: ";
	(void)!write(2, prog_name, strlen(prog_name));
	(void)!write(2, msg, sizeof msg - 1);
	(void)!write(2, what, strlen(what));
	(void)!write(2, "\n", 1);
	_exit(126);
}

/* fd becomes descriptor to, open across exec. */
static void child_fd(int fd, int to)
{
	if (fd == to ? fcntl(fd, F_SETFD, 0) < 0 : dup2(fd, to) < 0)
		child_fail("dup2");
}

/* In the child: its own process group, so that a deadline stops all it
 * started; the record on stdin, the reply from stdout; and signals as a
 * shell would give them, not as scg holds them (blocked, ignored), or the
 * command could not be stopped and would outlive scg. */
static void cmd_child(const char *cmd, int in, int out)
{
	if (setpgid(0, 0))
		child_fail("setpgid");
	/* (with scg's stdin closed, a pipe end may be descriptor 0) */
	if (out == 0 && (out = fcntl(out, F_DUPFD_CLOEXEC, 3)) < 0)
		child_fail("dup");
	child_fd(in, 0);
	child_fd(out, 1);
	/* nothing else of ours: libcurl's sockets are not close-on-exec */
	if (close_range(3, ~0U, 0))
		for (int fd = 3; fd < 65536; fd++)
			close(fd);
	static const int reset[] = {SIGINT, SIGTERM, SIGCHLD, SIGPIPE, SIGXFSZ, SIGQUIT, SIGHUP};
	for (size_t i = 0; i < sizeof reset / sizeof reset[0]; i++)
		signal(reset[i], SIG_DFL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* the record reaches the command on stdin only, never in its words */
	execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
	_exit(127);
}

void cmd_start(struct req *r)
{
	int in[2], out[2];
	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC))
		die("pipe: %s", strerror(errno));
	pid_t pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0)
		cmd_child(r->cmd, in[0], out[1]);
	/* set here too, so that a kill before the child ran finds the group;
	 * EACCES: the child has exec'd (after its own setpgid); ESRCH: gone */
	if (setpgid(pid, pid) && errno != EACCES && errno != ESRCH)
		die("setpgid: %s", strerror(errno));
	close(in[0]);
	close(out[1]);
	r->pid = pid;
	r->input_off = 0;
	r->out_eof = r->exited = 0;
	buf_reset(&r->resp);
	set_nonblock(in[1]);
	set_nonblock(out[0]);
	r->in_ev = (struct ev){.type = EV_CMD_IN, .fd = in[1], .req = r};
	r->out_ev = (struct ev){.type = EV_CMD_OUT, .fd = out[0], .req = r};
	if (evset_watch(in[1], EVF_OUT, &r->in_ev) || evset_watch(out[0], EVF_IN, &r->out_ev))
		die("epoll_ctl: %s", strerror(errno));
	r->deadline = now_mono() + r->timeout;
	r->next = cmds;
	cmds = r;
}

static void cmd_close_fd(struct ev *e)
{
	if (e->fd < 0)
		return;
	evset_forget(e->fd);
	close(e->fd);
	e->fd = -1;
}

/* Notes whether the command has exited, without reaping it: until it is
 * reaped its pid stays its group's id, safe to signal. */
static void cmd_peek(struct req *r)
{
	if (r->exited)
		return;
	siginfo_t si = {0};
	if (waitid(P_PID, (id_t)r->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == r->pid) {
		r->exited = 1;
		r->exit_info = si;
	}
}

/* Killed commands are reaped once they are gone, never waited for. */
static void reap_orphans(void)
{
	for (size_t i = 0; i < norphans;) {
		pid_t p = waitpid(orphans[i], NULL, WNOHANG);
		if (p == orphans[i] || (p < 0 && errno == ECHILD))
			orphans[i] = orphans[--norphans];
		else
			i++;
	}
}

/* At the end: what was killed is gone in a moment; reap it rather than
 * leave zombies behind. Commands still running get SIGTERM, then SIGKILL
 * after a grace period. */
void cmds_end_all(void)
{
	for (struct req *c = cmds; c; c = c->next) {
		kill(-c->pid, SIGTERM);
		orphans = xrealloc(orphans, (norphans + 1) * sizeof *orphans);
		orphans[norphans++] = c->pid;
	}
	for (double end = now_mono() + 2; norphans && now_mono() < end; usleep(10000))
		reap_orphans();
	for (size_t i = 0; i < norphans; i++)
		kill(-orphans[i], SIGKILL);
	for (double end = now_mono() + 1; norphans && now_mono() < end; usleep(10000))
		reap_orphans();
}

/* The command is over (answered, failed or out of time): whatever is left
 * of its process group is killed, the command reaped (or left to
 * reap_orphans when it has not exited yet), its pipes closed. */
static void cmd_end(struct req *r)
{
	cmd_peek(r);
	kill(-r->pid, SIGKILL);
	if (r->exited) {
		if (waitpid(r->pid, NULL, 0) < 0 && errno != ECHILD)
			die("waitpid: %s", strerror(errno));
	} else {
		orphans = xrealloc(orphans, (norphans + 1) * sizeof *orphans);
		orphans[norphans++] = r->pid;
	}
	cmd_close_fd(&r->in_ev);
	cmd_close_fd(&r->out_ev);
	for (struct req **p = &cmds; *p; p = &(*p)->next)
		if (*p == r) {
			*p = r->next;
			break;
		}
	r->next = NULL;
	r->lim->inflight--;
	ex.inflight--;
	r->stats->requests++;
}

static void cmd_timed_out(struct req *r)
{
	cmd_end(r);
	char why[64];
	snprintf(why, sizeof why, "no answer within %gs", r->timeout);
	req_retry_or_fail(r, why);
}

/* Both ends reached: the command exited and its stdout is closed. */
static void cmd_finished(struct req *r)
{
	siginfo_t si = r->exit_info;
	cmd_end(r);
	char why[96];
	if (si.si_code != CLD_EXITED || si.si_status) {
		if (si.si_code == CLD_EXITED)
			snprintf(why, sizeof why, "the command exited with status %d", si.si_status);
		else
			snprintf(why, sizeof why, "the command was killed by signal %d", si.si_status);
		req_retry_or_fail(r, why);
		return;
	}
	size_t bad;
	const char *out = r->resp.p ? r->resp.p : "";
	const char *nul = memchr(out, 0, r->resp.len);
	if (nul) {
		snprintf(why, sizeof why, "the command's output holds a NUL byte (byte %zu)",
			 (size_t)(nul - out) + 1);
		req_retry_or_fail(r, why);
		return;
	}
	if (!utf8_valid(out, r->resp.len, &bad)) {
		snprintf(why, sizeof why, "the command's output is not UTF-8 (byte %zu)", bad + 1);
		req_retry_or_fail(r, why);
		return;
	}
	req_store_reply(r);
	r->call.ok = 1;
	r->call.body = out;
	r->call.body_len = r->resp.len;
	r->call.text = r->call.body;
	req_finish(r);
}

/* Whether a command is done is seen in two places: at the end of its
 * output and when SIGCHLD says a child exited. */
static void cmd_check(struct req *r)
{
	if (!r->out_eof)
		return;
	cmd_peek(r);
	if (r->exited)
		cmd_finished(r);
}

void cmd_io(struct ev *e)
{
	struct req *r = e->req;
	if (e->type == EV_CMD_IN) {
		size_t n = strlen(r->input);
		while (r->input_off < n) {
			ssize_t w = write(e->fd, r->input + r->input_off, n - r->input_off);
			if (w < 0) {
				if (errno == EAGAIN || errno == EINTR)
					return;
				break;  /* the command closed its stdin: fine */
			}
			r->input_off += (size_t)w;
		}
		cmd_close_fd(e);
		return;
	}
	char tmp[65536];
	for (;;) {
		ssize_t n = read(e->fd, tmp, sizeof tmp);
		if (n > 0) {
			if ((size_t)n > (size_t)ex.cfg.max_answer - r->resp.len) {
				cmd_end(r);
				req_fail(r, "the command's output passed --max-answer-bytes (%ld bytes)", ex.cfg.max_answer);
				return;
			}
			buf_add(&r->resp, tmp, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		r->out_eof = 1;
		cmd_close_fd(e);
		cmd_check(r);
		return;
	}
}

double cmd_wait(double now, double t)
{
	for (struct req *c = cmds; c; c = c->next)
		if (c->deadline - now < t)
			t = c->deadline - now;
	return t;
}

void cmd_after_wait(double now, int child_exited)
{
	if (child_exited)
		reap_orphans();
	/* a command that closed its stdout may live on: its exit is
	 * waited for here, never blocking, and its deadline holds */
	for (struct req *c = cmds, *nx; c; c = nx) {
		nx = c->next;
		if (now >= c->deadline)
			cmd_timed_out(c);
		else
			cmd_check(c);
	}
}
