/*
 * rec-int.h - inside reconcile steps: one side as exec-reconcile.c drives
 * it, the interface every kind of side implements (struct rec_side_ops),
 * and what an implementation calls back.
 *
 * The implementations, one file each, chosen by rec_side_ops_for():
 *
 *   rec-side-pg.c   a query on a postgres target, through libpq's
 *                   asynchronous API in the loop, sorted by the server
 *   rec-side.c      a side read in a worker thread and sorted by the tool:
 *                   a query on an odbc target (rec-side-odbc.c) or a file
 *                   (rec-side-file.c), behind struct rec_source_ops
 *
 * A side goes: open (check, expand) -> begin (connect, describe; then
 * rec_side_described, or rec_side_value_done for compare: value) ->
 * columns -> stream (rows in the merge's order) -> fetch/drop, one row at
 * a time (rec_side_input when a side that had to wait can go on) ->
 * close -> free. A failure anywhere is rec_side_fail.
 */
#ifndef CUTOVER_REC_INT_H
#define CUTOVER_REC_INT_H

#include <stdint.h>

#include "reconcile.h"

struct exec;
struct loop;
struct rb_query;
struct runbook;

/* One side of a reconcile attempt. */
struct rec_conn {
	struct exec *e; /* the attempt: only for the callbacks below */
	const struct rec_side_ops *ops;
	void *impl;       /* the implementation's own */
	enum rec_side which;
	const char *label; /* "source" or "dest" */
	const char *target; /* target name or file, as shown */
	const char *tz;     /* timezone: of the side, or NULL */
	/* what the attempt gives every side */
	struct loop *loop;
	const struct runbook *rb;
	const struct rb_entity *entity; /* the instance's, or NULL */
	const char *step;
	const char *appname; /* "cutover TOKEN", or NULL */
	const char *const *env; /* while opening only */
	int value_mode;      /* compare: value */
	int64_t timeout_ms;
	/* filled by the implementation */
	int described;  /* columns known */
	int ncols;
	char **names;
	struct rec_col *cols;
	int value_done; /* compare: value: the query ended */
	int64_t nrows;  /* compare: value: rows returned */
	char *value;    /* compare: value: the first row's first column */
	unsigned value_oid; /* its PostgreSQL type, 0 if none */
	struct rec_field *fields; /* the current row, while have_row */
	int have_row;
	int eof;        /* every row was fetched */
	int streaming;  /* stream was called */
};

struct rec_side_ops {
	const char *name;
	/* Check side q, expand what it needs; 0, or -1 with *err (new,
	 * without secrets). Secrets go to rec_side_secret. */
	int (*open)(struct rec_conn *, const struct rb_query *, char **err);
	/* Connect and describe (or, compare: value, run the query). */
	void (*begin)(struct rec_conn *);
	/* Rows in the merge's key order: m says how columns compare. */
	void (*stream)(struct rec_conn *, const struct rec_merge *m);
	/* Make sure there is a current row (have_row) or the end (eof): 1,
	 * or 0 to wait for rec_side_input. -1 after rec_side_fail. */
	int (*fetch)(struct rec_conn *);
	void (*drop)(struct rec_conn *);
	/* Read from the network only while no row waits (or NULL). */
	void (*watch)(struct rec_conn *);
	/* Stop what runs (cancel on the server) and close; idempotent. */
	void (*close)(struct rec_conn *);
	/* Free the implementation's own (after close). */
	void (*free)(struct rec_conn *);
};

extern const struct rec_side_ops rec_side_pg_ops;
extern const struct rec_side_ops rec_side_worker_ops;

/* The implementation for side q. */
const struct rec_side_ops *rec_side_ops_for(const struct rb_query *);

/* Callbacks into exec-reconcile.c, always from the loop. */
void rec_side_described(struct rec_conn *);
void rec_side_value_done(struct rec_conn *);
void rec_side_input(struct rec_conn *);
void rec_side_fail(struct rec_conn *, const char *why);
void rec_side_output(struct rec_conn *, const char *text);
/* A value to mask in every message and output (copied). */
void rec_side_secret(struct rec_conn *, const char *value);
/* Has the attempt ended (a callback must not go on)? */
int rec_side_over(const struct rec_conn *);

#endif
