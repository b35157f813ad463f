/* exec-loop: exec_run, one thread around one event set: the input (read
 * without blocking, a record a job), libcurl's sockets, commands' pipes,
 * and the signals that end a run. Each turn: read what input there is
 * room for, hand finished calls to done(), start what the limits allow,
 * write the jobs that are over, then wait for the first thing due. */
#include "exec-int.h"
#include "cache.h"
#include "jv.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static volatile sig_atomic_t got_signal, got_child;
static sigset_t wait_mask;            /* the mask while waiting: signals let in */

static void on_signal(int sig)
{
	got_signal = sig;
}

static void on_child(int sig)
{
	(void)sig;
	got_child = 1;
}

/* SIGINT, SIGTERM and SIGCHLD are blocked except while the loop waits, so one
 * that comes at any moment wakes the loop instead of being lost before a
 * wait. A command gets none of this: see cmd_child(). */
static void signals_init(void)
{
	sigset_t block;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGCHLD);
	sigprocmask(SIG_BLOCK, &block, &wait_mask);
	sigdelset(&wait_mask, SIGINT);
	sigdelset(&wait_mask, SIGTERM);
	sigdelset(&wait_mask, SIGCHLD);
	struct sigaction sa = {0};
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = on_child;
	sa.sa_flags = SA_NOCLDSTOP;
	sigaction(SIGCHLD, &sa, NULL);
	/* a full disk or file-size limit fails a write instead of killing us,
	 * and a command that closes its stdin early fails a write too */
	signal(SIGXFSZ, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
}

/* The input's descriptor joins the event set when a read would block. It
 * changes when one named pipe ends and the next input begins. */
struct input_watch {
	struct ev ev;
	int watched;    /* ev.fd is in the event set */
	int ready;      /* a read may find more */
};

static void watch_input(struct input_watch *w, struct input *in)
{
	w->ready = 0;
	int fd = input_fd(in);
	if (w->watched && w->ev.fd != fd)
		evset_forget(w->ev.fd);
	w->ev.fd = fd;
	if (evset_watch(fd, EVF_IN, &w->ev) == 0)
		w->watched = 1;
	else if (errno == EPERM)
		w->ready = 1;   /* a regular file: always ready */
	else
		die("epoll_ctl: %s: %s", in->name, strerror(errno));
}

/* Reads records while there is room for them; *stop when a bad line ends
 * the run. */
static void read_input(struct input_watch *w, struct input *in, long cap, int *stop)
{
	while (!*stop && !in->done && w->ready && jobs_room(cap)) {
		char *line;
		size_t len;
		int rc = input_line(in, &line, &len);
		if (rc == 1)
			jobs_add_line(in, line, len, stop);
		else if (rc == -1)
			watch_input(w, in);
	}
	if (w->watched && (in->done || *stop)) {
		evset_forget(w->ev.fd);
		w->watched = 0;
	}
}

/* How long the loop may sleep: until the first deadline (the limits',
 * libcurl's, a command's), redrawing the progress line meanwhile. */
static int wait_ms(double wait)
{
	double now = now_mono(), t = wait;
	double curl = http_deadline();
	if (curl >= 0 && curl - now < t)
		t = curl - now;
	t = cmd_wait(now, t);
	if (progress_shown() && t > 0.25)
		t = 0.25;
	return t <= 0 ? 0 : t > 1000 ? 1000000 : (int)ceil(t * 1000);
}

static void dispatch(struct ev_ready *ready, int n, struct input_watch *w)
{
	for (int i = 0; i < n; i++) {
		struct ev *e = ready[i].ev;
		if (e->type == EV_STDIN)
			w->ready = 1;
		else if (e->type == EV_SOCK)
			http_socket_ready(e, ready[i].flags);
		else if (e->type == EV_H1)
			h1_ready(e, ready[i].flags);
		else if ((e->type == EV_CMD_IN || e->type == EV_CMD_OUT) && e->fd >= 0)
			cmd_io(e);
	}
}

/* Interrupted: write what has been answered, the summary, and exit with
 * 128 + the signal. Commands still running end with us. */
static void interrupted(void)
{
	cmds_end_all();
	long left = jobs_write_answered();
	out_flush();
	progress_draw(1);
	if (!ex.cfg.quiet)
		warnx_("interrupted by %s: %ld records in flight not written; a rerun answers "
		       "from the cache what was answered", strsignal(got_signal), left);
	batch_interrupted();
	progress_summary();
	exit(128 + got_signal);
}

int exec_run(struct input *in, const struct exec_ops *ops)
{
	ex.ops = ops;
	jv_pool_on();   /* the loop is the only thread that touches JSON values */
	progress_init();
	requests_init();
	cache_init();
	http_init();
	evset_init();
	signals_init();

	if (in)
		input_set_nonblock(in);
	struct input_watch w = {.ev = {.type = EV_STDIN}, .ready = 1};
	int stop = 0, submitted = 0;
	/* records open: those in flight and a queue behind them (what waits
	 * for an earlier record waits in the reorder buffer, not here);
	 * --batch reads all, to put every request into as few batches as it can */
	long cap = ex.cfg.batch ? LONG_MAX : (long)ex.cfg.jobs * 4 + 16;

	for (;;) {
		if (got_signal)
			interrupted();
		jobs_start_added(cap);
		if (in)
			read_input(&w, in, cap, &stop);
		int input_over = !in || in->done || stop;
		requests_run_done();
		double wait = requests_pump();
		requests_run_done();
		long added = jobs_added_waiting();
		if (ex.cfg.batch && batch_pump(input_over && !added, &wait)) {
			submitted = 1;
			break;
		}
		if (!batch_holds_output(input_over && !added))
			jobs_flush();
		progress_draw(0);
		if (input_over && !added && !ex.njobs)
			break;
		if (ex.done_q || (ex.queue && wait <= 0))
			continue;
		if ((added || (!input_over && w.ready)) && jobs_room(cap))
			continue;

		int ms = wait_ms(wait);
		out_flush();
		struct ev_ready ready[64];
		int n = evset_wait(ms, &wait_mask, ready, 64);
		dispatch(ready, n, &w);
		double now = now_mono();
		http_after_wait(now);
		evset_free_retired();
		int child = got_child;
		got_child = 0;
		cmd_after_wait(now, child);
	}
	cmds_end_all();
	out_flush();
	progress_draw(1);
	progress_summary();
	if (!ex.cfg.quiet && reorder_spilled())
		warnx_("%ld records waited for their turn in a temporary file (past --reorder-mb %g)",
		       reorder_spilled(), ex.cfg.reorder_mb);
	http_cleanup();
	evset_close();
	return submitted ? 3 : records_rejected ? 1 : 0;
}
