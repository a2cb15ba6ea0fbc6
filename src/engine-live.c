/*
 * engine-live.c - hear at once what other processes commit (engine.h,
 * engine_live_watch): the store's watch descriptor (state_watch_fd) is
 * watched in an event loop, and a notice waiting in the store
 * (state_notified: it came while the connection was busy with a
 * statement) is looked at before each sleep. A store without one (a state
 * file) is not watched here: its users poll state_changed.
 *
 * The descriptor may change (the store connected again after it was
 * lost), so it is looked at again before each sleep. While the store
 * cannot be reached, the connection it is making again is driven from
 * here without blocking: its socket (state_reconnect_fd) is watched for
 * what it waits for, and a timer calls state_reconnect too (the store's
 * backoff and time limit are looked at then). Once it is back, fn is
 * called: what was missed meanwhile is looked at.
 */
#include "config.h"

#include <poll.h>
#include <stdlib.h>

#include "engine.h"
#include "loop.h"
#include "state.h"
#include "xmalloc.h"

struct engine_live {
	struct state *st;
	struct loop *loop;
	void (*fn)(void *);
	void *arg;
	struct loop_io *io;
	int fd;
	struct loop_io *rio; /* the reconnection's socket, or NULL */
	int rfd;
	short revents;
	struct loop_timer *retry;
};

#define LIVE_RETRY_MS 250 /* call state_reconnect at least this often */

static void live_before_poll(void *);
static void live_on_io(int, short, void *);
static void live_reconnect_watch(struct engine_live *);
static void live_reconnect_stop(struct engine_live *);
static void live_reconnect(struct engine_live *);
static void live_on_reconnect_io(int, short, void *);
static void live_on_retry(void *);

struct engine_live *
engine_live_watch(struct engine *e, struct loop *loop, void (*fn)(void *),
    void *arg)
{
	return engine_live_watch_state(engine_state(e), loop, fn, arg);
}

struct engine_live *
engine_live_watch_state(struct state *st, struct loop *loop,
    void (*fn)(void *), void *arg)
{
	struct engine_live *l = xcalloc(1, sizeof *l);

	l->st = st;
	l->loop = loop;
	l->fn = fn;
	l->arg = arg;
	l->fd = l->rfd = -1;
	state_reconnect_fd(l->st, &l->revents); /* never block from now on */
	loop_before_poll(loop, live_before_poll, l);
	return l;
}

void
engine_live_stop(struct engine_live *l)
{
	if (l == NULL)
		return;
	loop_before_poll_remove(l->loop, live_before_poll, l);
	if (l->io != NULL)
		loop_io_remove(l->loop, l->io);
	live_reconnect_stop(l);
	free(l);
}

/* Watch the store's descriptor as it is now; tell of a notice that came
 * while the connection was busy. */
static void
live_before_poll(void *arg)
{
	struct engine_live *l = arg;
	int fd = -1;

	if (state_unreachable(l->st) != NULL)
		live_reconnect_watch(l);
	else {
		live_reconnect_stop(l);
		fd = state_watch_fd(l->st);
	}

	if (fd != l->fd || (fd >= 0 && l->io == NULL)) {
		if (l->io != NULL)
			loop_io_remove(l->loop, l->io);
		l->io = fd >= 0 ? loop_io_add(l->loop, fd, POLLIN, live_on_io, l)
		                : NULL;
		l->fd = fd;
	}
	if (state_notified(l->st))
		l->fn(l->arg);
}

/* Something arrived on the store's connection: perhaps a notice. */
static void
live_on_io(int fd, short revents, void *arg)
{
	struct engine_live *l = arg;

	(void)fd;
	(void)revents;
	if (state_notified(l->st))
		l->fn(l->arg);
}

/* The store is unreachable: watch its reconnection's socket as it is now,
 * and keep a timer that calls state_reconnect. */
static void
live_reconnect_watch(struct engine_live *l)
{
	short ev = 0;
	int fd = state_reconnect_fd(l->st, &ev);

	if (fd != l->rfd && l->rio != NULL) {
		loop_io_remove(l->loop, l->rio);
		l->rio = NULL;
	}
	if (fd >= 0 && l->rio == NULL)
		l->rio = loop_io_add(l->loop, fd, ev, live_on_reconnect_io, l);
	else if (fd >= 0 && ev != l->revents)
		loop_io_set(l->rio, ev);
	l->rfd = fd;
	l->revents = ev;
	if (l->retry == NULL)
		l->retry =
		    loop_timer_add(l->loop, LIVE_RETRY_MS, live_on_retry, l);
}

static void
live_reconnect_stop(struct engine_live *l)
{
	if (l->rio != NULL)
		loop_io_remove(l->loop, l->rio);
	if (l->retry != NULL)
		loop_timer_cancel(l->loop, l->retry);
	l->rio = NULL;
	l->retry = NULL;
	l->rfd = -1;
}

/* One step of reconnecting; once back, look at what was missed. */
static void
live_reconnect(struct engine_live *l)
{
	if (state_unreachable(l->st) != NULL &&
	    state_reconnect(l->st) == STATE_OK)
		l->fn(l->arg);
}

static void
live_on_reconnect_io(int fd, short revents, void *arg)
{
	(void)fd;
	(void)revents;
	live_reconnect(arg);
}

static void
live_on_retry(void *arg)
{
	struct engine_live *l = arg;

	l->retry = NULL;
	live_reconnect(l);
}
