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
 * cannot be reached nothing is watched: whoever uses the store connects
 * it again (engine-held.c for a driver, the poll of a watcher).
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
};

static void live_before_poll(void *);
static void live_on_io(int, short, void *);

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
	l->fd = -1;
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
	free(l);
}

/* Watch the store's descriptor as it is now; tell of a notice that came
 * while the connection was busy. */
static void
live_before_poll(void *arg)
{
	struct engine_live *l = arg;
	int fd = state_unreachable(l->st) != NULL ? -1 : state_watch_fd(l->st);

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
