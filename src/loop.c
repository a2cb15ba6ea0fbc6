/*
 * loop.c - a small poll() loop with timers and a signal self-pipe.
 *
 * The sets are small (a few dozen descriptors, a handful of timers), so plain
 * arrays scanned linearly beat anything cleverer.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "loop.h"
#include "xmalloc.h"

#define LOOP_NSIG 65

struct loop_io {
	int fd;
	short events;
	loop_io_cb cb;
	void *arg;
	int dead;
};

struct loop_timer {
	int64_t at;
	loop_timer_cb cb;
	void *arg;
	int dead;
};

/* A call to make before the loop next sleeps: deferred or every pass. */
struct loop_call {
	loop_timer_cb cb;
	void *arg;
};

struct loop {
	struct loop_call *defers; /* once, before the next poll */
	size_t ndefers;
	struct loop_call *hooks;  /* before every poll, in order added */
	size_t nhooks;
	int brk;                  /* this pass does not wait */
	struct loop_io **ios;
	size_t nios;
	struct loop_timer **timers;
	size_t ntimers;
	loop_signal_cb sig_cb[LOOP_NSIG];
	void *sig_arg[LOOP_NSIG];
	struct loop_io *sig_io;
};

static int loop_sigpipe[2] = { -1, -1 };

static void loop_sig_handler(int);
static void loop_sig_read(int, short, void *);
static void loop_reap(struct loop *);
static int loop_timeout(struct loop *, int);
static void loop_run_timers(struct loop *);
static void loop_before(struct loop *);

int64_t
loop_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct loop *
loop_new(void)
{
	struct loop *l = xcalloc(1, sizeof *l);

	if (loop_sigpipe[0] == -1) {
		if (pipe2(loop_sigpipe, O_CLOEXEC | O_NONBLOCK) == -1)
			fatalx(1, "pipe: %s", strerror(errno));
	}
	l->sig_io = loop_io_add(l, loop_sigpipe[0], POLLIN, loop_sig_read, l);
	return l;
}

void
loop_free(struct loop *l)
{
	size_t i;

	for (i = 0; i < l->nios; i++)
		free(l->ios[i]);
	for (i = 0; i < l->ntimers; i++)
		free(l->timers[i]);
	free(l->ios);
	free(l->timers);
	free(l->defers);
	free(l->hooks);
	free(l);
}

struct loop_io *
loop_io_add(struct loop *l, int fd, short events, loop_io_cb cb, void *arg)
{
	struct loop_io *io = xcalloc(1, sizeof *io);

	io->fd = fd;
	io->events = events;
	io->cb = cb;
	io->arg = arg;
	l->ios = xreallocarray(l->ios, l->nios + 1, sizeof *l->ios);
	l->ios[l->nios++] = io;
	return io;
}

void
loop_io_set(struct loop_io *io, short events)
{
	io->events = events;
}

void
loop_io_remove(struct loop *l, struct loop_io *io)
{
	(void)l;
	io->dead = 1;
}

struct loop_timer *
loop_timer_add(struct loop *l, int64_t ms, loop_timer_cb cb, void *arg)
{
	struct loop_timer *t = xcalloc(1, sizeof *t);

	t->at = loop_now() + (ms < 0 ? 0 : ms);
	t->cb = cb;
	t->arg = arg;
	l->timers = xreallocarray(l->timers, l->ntimers + 1, sizeof *l->timers);
	l->timers[l->ntimers++] = t;
	return t;
}

void
loop_timer_cancel(struct loop *l, struct loop_timer *t)
{
	(void)l;
	if (t != NULL)
		t->dead = 1;
}

void
loop_defer(struct loop *l, loop_timer_cb cb, void *arg)
{
	size_t i;

	for (i = 0; i < l->ndefers; i++) {
		if (l->defers[i].cb == cb && l->defers[i].arg == arg)
			return;
	}
	l->defers = xreallocarray(l->defers, l->ndefers + 1, sizeof *l->defers);
	l->defers[l->ndefers].cb = cb;
	l->defers[l->ndefers++].arg = arg;
}

void
loop_before_poll(struct loop *l, loop_timer_cb cb, void *arg)
{
	l->hooks = xreallocarray(l->hooks, l->nhooks + 1, sizeof *l->hooks);
	l->hooks[l->nhooks].cb = cb;
	l->hooks[l->nhooks++].arg = arg;
}

void
loop_before_poll_remove(struct loop *l, loop_timer_cb cb, void *arg)
{
	size_t i;

	for (i = 0; i < l->nhooks; i++) {
		if (l->hooks[i].cb == cb && l->hooks[i].arg == arg) {
			memmove(&l->hooks[i], &l->hooks[i + 1],
			    (l->nhooks - i - 1) * sizeof *l->hooks);
			l->nhooks--;
			return;
		}
	}
}

void
loop_break(struct loop *l)
{
	l->brk = 1;
}

/*
 * Work before sleeping: the calls deferred so far (those they defer wait
 * for the next pass, so nothing hogs the loop), then every hook.
 */
static void
loop_before(struct loop *l)
{
	struct loop_call *d = l->defers;
	size_t i, n = l->ndefers;

	l->defers = NULL;
	l->ndefers = 0;
	for (i = 0; i < n; i++)
		d[i].cb(d[i].arg);
	free(d);
	for (i = 0; i < l->nhooks; i++)
		l->hooks[i].cb(l->hooks[i].arg);
}

/* Async-signal-safe: write the signal number to the self-pipe. */
static void
loop_sig_handler(int sig)
{
	unsigned char c = (unsigned char)sig;
	int saved = errno;

	(void)!write(loop_sigpipe[1], &c, 1);
	errno = saved;
}

void
loop_signal(struct loop *l, int sig, loop_signal_cb cb, void *arg)
{
	struct sigaction sa;

	l->sig_cb[sig] = cb;
	l->sig_arg[sig] = arg;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = cb != NULL ? loop_sig_handler : SIG_DFL;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

/* Dispatch the signals queued in the self-pipe. */
static void
loop_sig_read(int fd, short revents, void *arg)
{
	struct loop *l = arg;
	unsigned char buf[64];
	ssize_t n, i;

	(void)revents;
	while ((n = read(fd, buf, sizeof buf)) > 0) {
		for (i = 0; i < n; i++) {
			if (buf[i] < LOOP_NSIG && l->sig_cb[buf[i]] != NULL)
				l->sig_cb[buf[i]](buf[i], l->sig_arg[buf[i]]);
		}
	}
}

/* Free removed watchers and fired timers. */
static void
loop_reap(struct loop *l)
{
	size_t i, j;

	for (i = j = 0; i < l->nios; i++) {
		if (l->ios[i]->dead)
			free(l->ios[i]);
		else
			l->ios[j++] = l->ios[i];
	}
	l->nios = j;
	for (i = j = 0; i < l->ntimers; i++) {
		if (l->timers[i]->dead)
			free(l->timers[i]);
		else
			l->timers[j++] = l->timers[i];
	}
	l->ntimers = j;
}

/* How long poll may sleep: until the next timer, at most max_ms. */
static int
loop_timeout(struct loop *l, int max_ms)
{
	int64_t now = loop_now(), wait = max_ms, d;
	size_t i;

	for (i = 0; i < l->ntimers; i++) {
		if (l->timers[i]->dead)
			continue;
		/* An overdue timer fires now: never a negative wait, which
		 * poll() would take as "forever". */
		d = l->timers[i]->at - now < 0 ? 0 : l->timers[i]->at - now;
		if (wait < 0 || d < wait)
			wait = d;
	}
	return (int)wait;
}

/* Fire every timer that is due. */
static void
loop_run_timers(struct loop *l)
{
	int64_t now = loop_now();
	size_t i, n = l->ntimers;

	for (i = 0; i < n; i++) {
		struct loop_timer *t = l->timers[i];

		if (!t->dead && t->at <= now) {
			t->dead = 1;
			t->cb(t->arg);
		}
	}
}

int
loop_once(struct loop *l, int max_ms)
{
	struct pollfd *pfd;
	struct loop_io **snap;
	size_t i, n;
	int rc;

	loop_reap(l);
	loop_before(l);
	if (l->brk) {
		l->brk = 0;
		return 0;
	}
	n = l->nios;
	pfd = xcalloc(n, sizeof *pfd);
	snap = xcalloc(n, sizeof *snap);
	for (i = 0; i < n; i++) {
		snap[i] = l->ios[i];
		pfd[i].fd = snap[i]->events != 0 ? snap[i]->fd : -1;
		pfd[i].events = snap[i]->events;
	}
	rc = poll(pfd, n, l->ndefers > 0 ? 0 : loop_timeout(l, max_ms));
	if (rc == -1 && errno != EINTR)
		fatalx(1, "poll: %s", strerror(errno));
	for (i = 0; rc > 0 && i < n; i++) {
		if (pfd[i].revents != 0 && !snap[i]->dead)
			snap[i]->cb(snap[i]->fd, pfd[i].revents, snap[i]->arg);
	}
	free(pfd);
	free(snap);
	loop_run_timers(l);
	return 0;
}
