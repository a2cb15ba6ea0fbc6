/*
 * odbc.h - ODBC connections through unixODBC, off the event loop.
 *
 * ODBC calls block: connecting, running a statement, fetching. Drivers
 * rarely implement asynchronous execution (SQL_ATTR_ASYNC_ENABLE: the
 * MariaDB, SQLite and FreeTDS drivers do not), so every blocking call runs
 * in a worker thread, one per job: a job borrows its target's connection
 * (one per target, kept for the life of the process and lent to one job at
 * a time, the others queue), runs in its thread touching nothing but that
 * connection's handles and its own copy of what it needs, and hands its
 * results back as framed messages on a socket that the event loop reads.
 * The loop never waits on the driver.
 *
 * A job is stopped with odbc_job_cancel(): SQLCancel on the statement the
 * worker runs (the one ODBC call meant for another thread), made from a
 * short-lived thread of its own since drivers may connect to the server
 * to cancel (MariaDB sends KILL QUERY). A job that does not end after a
 * cancel is abandoned (odbc_job_abandon): the loop stops listening, the
 * connection leaves the cache, and the worker frees it when the driver
 * returns.
 * odbc_shutdown() waits a few seconds for the cancels in flight, so that
 * a process that ends right after stopping a statement still stops it.
 *
 * Connection strings: odbc-connstr.h.
 */
#ifndef CUTOVER_ODBC_H
#define CUTOVER_ODBC_H

#include <stddef.h>
#include <stdint.h>

#include <sql.h>
#include <sqlext.h>

#include "odbc-connstr.h"

struct loop;
struct buf;
struct runbook;
struct rb_target;
struct odbc_job;

/* Frames a worker sends; the caller's own types start at ODBC_MSG_USER. */
enum {
	ODBC_MSG_DONE = 0, /* the job ended: one byte, enum odbc_end */
	ODBC_MSG_USER = 1,
};

/* How a job ended. */
enum odbc_end {
	ODBC_END_OK,
	ODBC_END_ERROR, /* the statement failed; the connection is fine */
	ODBC_END_LOST,  /* the connection failed or broke */
};

struct odbc_job_cbs {
	/* Runs in the worker thread. */
	void (*work)(struct odbc_job *, void *arg);
	/* From the loop: a frame the worker sent. Non-zero: pause, handle
	 * no more frames until odbc_job_resume; data stays valid until then
	 * (a paused job reads nothing), so the frame need not be copied. */
	int (*msg)(int type, const char *data, size_t len, void *cbarg);
	/* From the loop, once: the job ended (or failed to start); the
	 * job is gone after it: do not cancel or abandon it any more. */
	void (*end)(enum odbc_end, void *cbarg);
	/* Frees arg once the worker is done with it (in either thread). */
	void (*free_arg)(void *arg);
};

/*
 * Queue a job for target name's connection (made with connstr, which may
 * hold a password and is never shown); with own, on a connection of its
 * own, closed at its end; with connstr NULL, on none (a worker for other
 * blocking work: files). arg belongs to the job from now on.
 * timeout_ms bounds connecting (login timeout), 0 for none. Returns the
 * job; cbs->end is always called (from the loop), even if the worker could
 * not start.
 */
struct odbc_job *odbc_job_start(struct loop *, const char *name,
    const char *connstr, int own, int64_t timeout_ms, const struct odbc_job_cbs *,
    void *arg, void *cbarg);
/* Ask the driver to cancel the running statement (asynchronously). A job
 * still waiting for its connection ends at once, as ODBC_END_ERROR. */
void odbc_job_cancel(struct odbc_job *);
/* Handle the frames that wait after a pause (msg may pause again; the
 * job may end, and be gone, when this returns: end() says so). Then call
 * odbc_job_resumed() to read the socket again unless paused again. */
void odbc_job_resume(struct odbc_job *);
int odbc_job_resumed(struct odbc_job *);
/* A frame to the worker (small: commands), which odbc_job_recv reads. */
int odbc_job_tell(struct odbc_job *, int type, const void *, size_t);

/* Stop listening: no callback follows. The connection is dropped unless
 * the worker had already returned. Frees the caller's side of the job;
 * only before end() was called. */
void odbc_job_abandon(struct odbc_job *);

/* Worker side. The connection, connected now if need be; NULL with a
 * message in *err (new) if it cannot be made. */
SQLHDBC odbc_job_dbc(struct odbc_job *, char **err);
/* The statement a cancel applies to (NULL when none); call with NULL
 * before freeing it. */
void odbc_job_set_stmt(struct odbc_job *, SQLHSTMT);
/* Has the job been cancelled? */
int odbc_job_cancelled(struct odbc_job *);
/* Send a frame to the loop; blocks while the loop is behind. -1 when
 * nobody listens any more (abandoned). */
int odbc_job_send(struct odbc_job *, int type, const void *, size_t);
/* How the job ends (ODBC_END_OK unless set). */
void odbc_job_set_end(struct odbc_job *, enum odbc_end);
/* Append a frame to b; send many at once with odbc_job_send_frames
 * (fewer system calls than one odbc_job_send each). */
void odbc_frame(struct buf *b, int type, const void *data, size_t len);
int odbc_job_send_frames(struct odbc_job *, const char *data, size_t len);
/* Worker side: wait for a frame from the loop; -1 if it stopped
 * listening. */
int odbc_job_recv(struct odbc_job *, int *type, struct buf *);
/* Mark the connection broken: it is closed at the job's end. */
void odbc_job_broken(struct odbc_job *);

/* The library file of the driver a connection string uses (its DRIVER=,
 * a path or a driver's name in odbcinst.ini, or the driver of its DSN=),
 * new; NULL when unixODBC's configuration does not say. Reads the
 * configuration only (SQLDataSources, SQLDrivers), connects to nothing. */
char *odbc_driver_file(const char *connstr);

/* Column col of the fetched row as text into v (reset first): 1 a value,
 * 0 NULL, -1 an error. */
int odbc_get_text(SQLHSTMT, SQLUSMALLINT col, struct buf *v);
/* Append "SQLSTATE: message" for every diagnostic record of handle h
 * (separated by "; "). Returns the first SQLSTATE in state[6] ("" none). */
void odbc_diag(SQLSMALLINT type, SQLHANDLE h, struct buf *, char state[6]);
/* Does SQLSTATE say the connection is gone (class 08, or HYT01)? */
int odbc_state_lost(const char *state);

/* Close every cached connection (at exit; blocks on the drivers). */
void odbc_shutdown(void);

#endif
