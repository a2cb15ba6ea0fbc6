/*
 * pg-conn.h - one asynchronous libpq connection, driven by the event loop.
 *
 * A struct pg_conn owns one PGconn and the loop handles that drive it:
 * connecting (PQconnectStartParams, then PQconnectPoll each time the socket
 * is ready, under a time limit), pushing out what libpq has buffered
 * (PQflush when the socket is writable), reading what arrives
 * (PQconsumeInput when it is readable), cancelling the query in flight (a
 * forked PQcancel, which blocks), and handing NOTICEs over. It knows
 * nothing of steps, runbooks or what is sent: its users (sql steps,
 * reconcile steps, and later a PostgreSQL state store) send with libpq's
 * PQsend* calls on pg_conn_pg() and read results with PQisBusy and
 * PQgetResult (or PQgetCopyData) from their input() callback.
 *
 * Life:
 *
 *   pg_conn_new()      makes the handle; nothing is sent.
 *   pg_conn_start()    starts connecting. connected() follows exactly once,
 *                      always from the loop (never inside this call): with
 *                      err NULL the connection is ready (nonblocking mode,
 *                      nothing watched until the user asks), else err says
 *                      why not, in one line (libpq's first line, or "no
 *                      answer within 10s"), and the connection is closed.
 *   pg_conn_flush()    after each PQsend*: pushes the bytes out; what does
 *                      not fit is pushed when the socket becomes writable.
 *   pg_conn_read()     watch (1) or stop watching (0) for input. A user
 *                      that does not read stops the server at a full TCP
 *                      window: that is how memory stays bounded.
 *   pg_conn_free()     closes the connection (the server rolls back what
 *                      was in flight) and removes every loop handle. It may
 *                      be called from inside any callback; the callback
 *                      must then return without touching the handle.
 *
 * Callbacks (struct pg_conn_cb), each from the loop, with arg:
 *
 *   connected(c, err)  see pg_conn_start.
 *   input(c)           the socket was readable and PQconsumeInput took what
 *                      had arrived: results may be complete. Called only
 *                      while reading is on.
 *   lost(c, why)       sending or reading failed: the connection is broken
 *                      (why: libpq's message, valid during the call). The
 *                      user frees it or lets PQgetResult hand over what was
 *                      parsed (often the server's FATAL saying why).
 *   notice(c, msg)     a NOTICE or WARNING (may be NULL: dropped).
 *
 * Memory: pg_conn_new copies conninfo and the names; the PGconn belongs to
 * the handle (never PQfinish it). Strings passed to callbacks are valid
 * only during the call. conninfo may hold a password: nothing here shows
 * it, but libpq's messages passed on may quote a host or user name.
 */
#ifndef CUTOVER_PG_CONN_H
#define CUTOVER_PG_CONN_H

#include <stdint.h>
#include <sys/types.h>

#include <libpq-fe.h>

struct loop;
struct pg_conn;

#define PG_CONN_TIMEOUT_MS 10000 /* connecting gives up after this */

struct pg_conn_cb {
	void (*connected)(struct pg_conn *, const char *err, void *arg);
	void (*input)(struct pg_conn *, void *arg);
	void (*lost)(struct pg_conn *, const char *why, void *arg);
	void (*notice)(struct pg_conn *, const char *msg, void *arg);
	void *arg;
};

/*
 * A connection to conninfo (a connection string or URI; its keywords win
 * over the TCP keepalive settings given here). appname, if not NULL, is
 * the session's application_name; fallback names it when conninfo does
 * not.
 */
struct pg_conn *pg_conn_new(struct loop *, const char *conninfo,
    const char *appname, const char *fallback, const struct pg_conn_cb *);
void pg_conn_start(struct pg_conn *);
/* Connected and ready for a query. */
int pg_conn_ready(const struct pg_conn *);
/* The libpq connection, for PQsend* and PQgetResult (NULL until started). */
PGconn *pg_conn_pg(struct pg_conn *);
/* 0: all sent; 1: the rest goes when the socket is writable; -1: broken
 * (lost() is not called for this: the caller handles it). */
int pg_conn_flush(struct pg_conn *);
void pg_conn_read(struct pg_conn *, int on);
/*
 * Is an idle connection still good? Reads what waits without blocking (the
 * server may have said goodbye): connected and outside any transaction.
 */
int pg_conn_alive(struct pg_conn *);
/* Ask the server to cancel the query in flight (pg_cancel_in_child); the
 * child's pid to reap, or 0. The query's end still arrives as results. */
pid_t pg_conn_cancel(struct pg_conn *);
void pg_conn_free(struct pg_conn *);

#endif
