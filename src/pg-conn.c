/* pg-conn.c - one asynchronous libpq connection (see pg-conn.h). */
#include "config.h"

#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "duration.h"
#include "loop.h"
#include "pg-conn.h"
#include "pg.h"
#include "xmalloc.h"

enum pg_conn_state { PC_NEW, PC_CONNECTING, PC_READY, PC_CLOSED };

struct pg_conn {
	struct loop *loop;
	struct pg_conn_cb cb;
	char *conninfo, *appname, *fallback;
	enum pg_conn_state state;
	PGconn *pg;
	struct loop_io *io;
	int fd;
	int want_write, want_read;
	struct loop_timer *timer; /* connect timeout, or a failure to report */
	char *failed;             /* why connecting failed, to report */
};

static void pg_conn_poll(struct pg_conn *);
static void pg_conn_on_io(int, short, void *);
static void pg_conn_on_timer(void *);
static void pg_conn_fail(struct pg_conn *, const char *);
static void pg_conn_watch(struct pg_conn *, short);
static void pg_conn_update(struct pg_conn *);
static void pg_conn_close(struct pg_conn *);
static void pg_conn_notice(void *, const char *);

struct pg_conn *
pg_conn_new(struct loop *loop, const char *conninfo, const char *appname,
    const char *fallback, const struct pg_conn_cb *cb)
{
	struct pg_conn *c = xcalloc(1, sizeof *c);

	c->loop = loop;
	c->cb = *cb;
	c->conninfo = xstrdup(conninfo);
	c->appname = appname != NULL ? xstrdup(appname) : NULL;
	c->fallback = xstrdup(fallback != NULL ? fallback : "cutover");
	c->fd = -1;
	return c;
}

/*
 * Start connecting. The keepalives come before dbname, so that the
 * conninfo's own settings win; application_name comes after it, so that
 * the attempt's name wins over the conninfo's.
 */
void
pg_conn_start(struct pg_conn *c)
{
	const char *keys[] = { "keepalives", "keepalives_idle",
		"keepalives_interval", "keepalives_count", "dbname",
		"fallback_application_name", "application_name", NULL };
	const char *values[] = { "1", "60", "10", "6", c->conninfo,
		c->fallback, c->appname, NULL };
	char *line;

	if (c->state != PC_NEW)
		return;
	if (c->appname == NULL)
		keys[6] = NULL;
	c->state = PC_CONNECTING;
	c->pg = PQconnectStartParams(keys, values, 1);
	if (c->pg == NULL || PQstatus(c->pg) == CONNECTION_BAD) {
		line = pg_first_line(c->pg != NULL ? PQerrorMessage(c->pg) :
		    "out of memory");
		c->failed = line;
		pg_conn_close(c);
		c->timer = loop_timer_add(c->loop, 0, pg_conn_on_timer, c);
		return;
	}
	PQsetNoticeProcessor(c->pg, pg_conn_notice, c);
	c->timer = loop_timer_add(c->loop, PG_CONN_TIMEOUT_MS, pg_conn_on_timer,
	    c);
	/* As if PQconnectPoll had said PGRES_POLLING_WRITING. */
	pg_conn_watch(c, POLLOUT);
}

int
pg_conn_ready(const struct pg_conn *c)
{
	return c->state == PC_READY;
}

PGconn *
pg_conn_pg(struct pg_conn *c)
{
	return c->pg;
}

/* One step of the connection sequence, when the socket is ready. */
static void
pg_conn_poll(struct pg_conn *c)
{
	char *line;

	switch (PQconnectPoll(c->pg)) {
	case PGRES_POLLING_READING:
		pg_conn_watch(c, POLLIN);
		return;
	case PGRES_POLLING_WRITING:
		pg_conn_watch(c, POLLOUT);
		return;
	case PGRES_POLLING_OK:
		c->state = PC_READY;
		loop_timer_cancel(c->loop, c->timer);
		c->timer = NULL;
		PQsetnonblocking(c->pg, 1);
		pg_conn_update(c);
		c->cb.connected(c, NULL, c->cb.arg);
		return;
	default:
		line = pg_first_line(PQerrorMessage(c->pg));
		pg_conn_fail(c, line);
		free(line);
		return;
	}
}

/* Connecting failed: close, then tell (the user may free c). */
static void
pg_conn_fail(struct pg_conn *c, const char *why)
{
	pg_conn_close(c);
	c->cb.connected(c, why, c->cb.arg);
}

/* The connect timeout, or a failure found inside pg_conn_start. */
static void
pg_conn_on_timer(void *arg)
{
	struct pg_conn *c = arg;
	char d[32], *why;

	c->timer = NULL;
	if (c->failed != NULL) {
		why = c->failed;
		c->failed = NULL;
	} else {
		duration_format(PG_CONN_TIMEOUT_MS, d, sizeof d);
		xasprintf(&why, "no answer within %s", d);
	}
	pg_conn_fail(c, why);
	free(why);
}

/*
 * Socket events: a step of connecting; else push what waits to be sent,
 * take what arrived, and tell the user. Each callback is the last thing
 * done here: it may free c.
 */
static void
pg_conn_on_io(int fd, short revents, void *arg)
{
	struct pg_conn *c = arg;
	short bad = POLLERR | POLLHUP | POLLNVAL;

	(void)fd;
	if (c->state == PC_CONNECTING) {
		pg_conn_poll(c);
		return;
	}
	if (c->want_write && (revents & (POLLOUT | bad)) &&
	    pg_conn_flush(c) < 0) {
		c->cb.lost(c, PQerrorMessage(c->pg), c->cb.arg);
		return;
	}
	/* A hang-up or an error is read even when input is not wanted. */
	if (!(revents & bad) && !(c->want_read && (revents & POLLIN)))
		return;
	if (!PQconsumeInput(c->pg) ||
	    (c->want_write && pg_conn_flush(c) < 0)) {
		c->cb.lost(c, PQerrorMessage(c->pg), c->cb.arg);
		return;
	}
	if (c->want_read)
		c->cb.input(c, c->cb.arg);
}

int
pg_conn_flush(struct pg_conn *c)
{
	int r;

	if (c->state != PC_READY)
		return -1;
	r = PQflush(c->pg);
	c->want_write = r == 1;
	pg_conn_update(c);
	return r < 0 ? -1 : r;
}

void
pg_conn_read(struct pg_conn *c, int on)
{
	c->want_read = on != 0;
	if (c->state == PC_READY)
		pg_conn_update(c);
}

int
pg_conn_alive(struct pg_conn *c)
{
	struct pollfd pfd;

	if (c->state != PC_READY || PQstatus(c->pg) != CONNECTION_OK ||
	    PQsocket(c->pg) < 0)
		return 0;
	pfd.fd = PQsocket(c->pg);
	pfd.events = POLLIN;
	pfd.revents = 0;
	if (poll(&pfd, 1, 0) == 1 && !PQconsumeInput(c->pg))
		return 0;
	return PQstatus(c->pg) == CONNECTION_OK &&
	    PQtransactionStatus(c->pg) == PQTRANS_IDLE;
}

pid_t
pg_conn_cancel(struct pg_conn *c)
{
	if (c->state != PC_READY)
		return 0;
	return pg_cancel_in_child(c->pg);
}

/* Watch for what the user wants: input if reading, output if pending. */
static void
pg_conn_update(struct pg_conn *c)
{
	pg_conn_watch(c, (short)((c->want_read ? POLLIN : 0) |
	    (c->want_write ? POLLOUT : 0)));
}

/* Watch the connection's socket (it may change while connecting). */
static void
pg_conn_watch(struct pg_conn *c, short events)
{
	int fd = c->pg != NULL ? PQsocket(c->pg) : -1;

	if (c->io != NULL && c->fd != fd) {
		loop_io_remove(c->loop, c->io);
		c->io = NULL;
	}
	c->fd = fd;
	if (fd < 0)
		return;
	if (c->io == NULL)
		c->io = loop_io_add(c->loop, fd, events, pg_conn_on_io, c);
	else
		loop_io_set(c->io, events);
}

static void
pg_conn_close(struct pg_conn *c)
{
	if (c->io != NULL)
		loop_io_remove(c->loop, c->io);
	c->io = NULL;
	c->fd = -1;
	loop_timer_cancel(c->loop, c->timer);
	c->timer = NULL;
	if (c->pg != NULL)
		PQfinish(c->pg);
	c->pg = NULL;
	c->state = PC_CLOSED;
	c->want_read = c->want_write = 0;
}

void
pg_conn_free(struct pg_conn *c)
{
	if (c == NULL)
		return;
	pg_conn_close(c);
	free(c->failed);
	free(c->conninfo);
	free(c->appname);
	free(c->fallback);
	free(c);
}

/* libpq's notice processor: to the user. */
static void
pg_conn_notice(void *arg, const char *msg)
{
	struct pg_conn *c = arg;

	if (c->cb.notice != NULL)
		c->cb.notice(c, msg, c->cb.arg);
}

