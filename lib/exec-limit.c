/* exec-limit: how many requests an upstream (a base URL, an endpoint, the
 * commands) may have in flight, and when the next may start: a window
 * that halves on a 429 and grows back with answers (AIMD), and token
 * buckets for --rpm and --tpm. */
#include "exec-int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static struct limiter *limiters;

struct limiter *limiter_for(const char *key)
{
	struct limiter **p = &limiters;
	for (; *p; p = &(*p)->next)
		if (!strcmp((*p)->key, key))
			return *p;
	*p = xcalloc(1, sizeof **p);
	(*p)->key = xstrdup(key);
	(*p)->window = ex.cfg.jobs;
	(*p)->rpm_tokens = ex.cfg.rpm > 0 ? fmax(1, ex.cfg.rpm / 60) : 0;
	(*p)->tpm_tokens = ex.cfg.tpm > 0 ? ex.cfg.tpm / 60 : 0;
	(*p)->refilled = now_mono();
	return *p;
}

static void refill(struct limiter *l, double now)
{
	double dt = now - l->refilled;
	l->refilled = now;
	if (ex.cfg.rpm > 0)
		l->rpm_tokens = fmin(fmax(1, ex.cfg.rpm / 60), l->rpm_tokens + dt * ex.cfg.rpm / 60);
	if (ex.cfg.tpm > 0)
		l->tpm_tokens = fmin(ex.cfg.tpm / 60, l->tpm_tokens + dt * ex.cfg.tpm / 60);
}

/* 0 when r may start now; else the seconds to wait (or a large number). */
double limiter_wait(struct limiter *l, const struct req *r, double now)
{
	if (l->pause_until > now)
		return l->pause_until - now;
	if (l->inflight >= (int)l->window)
		return 1e9;  /* woken by a completion */
	refill(l, now);
	if (ex.cfg.rpm > 0 && l->rpm_tokens < 1)
		return (1 - l->rpm_tokens) * 60 / ex.cfg.rpm;
	double need = r->est_prompt + r->est_completion;
	double cap = ex.cfg.tpm / 60;
	if (need > cap)
		need = cap;   /* a request larger than the bucket waits for a full one */
	if (ex.cfg.tpm > 0 && l->tpm_tokens < need)
		return (need - l->tpm_tokens) * 60 / ex.cfg.tpm;
	return 0;
}

void limiter_take(struct limiter *l, const struct req *r)
{
	l->inflight++;
	if (ex.cfg.rpm > 0)
		l->rpm_tokens -= 1;
	if (ex.cfg.tpm > 0)
		l->tpm_tokens -= fmin(r->est_prompt + r->est_completion, ex.cfg.tpm / 60);
}

/* AIMD: a 429 halves the window (once a second at most), answers grow it back. */
void limiter_throttled(struct limiter *l, double wait, double now)
{
	if (now - l->last_cut > 1.0) {
		l->window = fmax(1, l->window / 2);
		l->last_cut = now;
	}
	if (now + wait > l->pause_until)
		l->pause_until = now + wait;
}

void limiter_ok(struct limiter *l)
{
	if (l->window < ex.cfg.jobs)
		l->window = fmin(ex.cfg.jobs, l->window + 1 / l->window);
}
