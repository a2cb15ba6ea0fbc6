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
 *
 * A side that can hash key ranges in its server (method: checksum,
 * rec-checksum.h) also has struct rec_hash_ops: after describe it answers
 * statements (ask -> rec_side_answer) and streams the rows of one key
 * range at a time (stream_range, then fetch/drop to the end as above, and
 * again for the next range).
 */
#ifndef CUTOVER_REC_INT_H
#define CUTOVER_REC_INT_H

#include <stdint.h>

#include "reconcile.h"

struct exec;
struct loop;
struct rec_range;
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
	int canonical;  /* its rows come canonical: no rec_merge_normalize */
	int ahead;      /* the merge has not begun: read ahead of it */
	int row_canonical; /* the current row came canonical (fetch says) */
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
	/* Hashing in the server, or NULL if the side cannot. */
	const struct rec_hash_ops *hash;
};

/*
 * What method: checksum asks of a side (see rec-checksum.h for the
 * statements). Every statement is SQL text built here, for the side's own
 * dialect and column types.
 */
#define REC_HASH_GROUPED 1 /* stats_sql: count repeated keys */
#define REC_HASH_MD5 2     /* stats_sql: hash rows with md5 */

struct rec_hash_ops {
	/* Why the side cannot make its rows canonical in SQL as m compares
	 * them (a column's type), or NULL: a new string, or NULL. */
	char *(*cannot)(struct rec_conn *, const struct rec_merge *m);
	/* Is the side's server on this machine (loopback, a socket)? */
	int (*local)(struct rec_conn *);
	/* A statement whose answer's first cell contains "rows=N": the
	 * server's estimate of the query's rows. */
	char *(*estimate_sql)(struct rec_conn *);
	/* What probe_read reads: cheap (the plan and the catalog, no row). */
	char *(*probe_sql)(struct rec_conn *, const struct rec_merge *m);
	/* Its answer: are the query's keys unique for certain (then no pass
	 * counts repeated keys), *est the server's estimate of its rows, and
	 * *hashid what the server's row hash gives for fixed strings (a new
	 * string, or NULL): unequal on the two sides, rows are hashed with
	 * md5 on both. */
	int (*probe_read)(struct rec_conn *, int nrows, int ncols,
	    char *const *cells, int64_t *est, char **hashid);
	/* Per bucket of range r split at nb bounds (each nkeys key values):
	 * rows "bucket, count, hash, duplicate keys" (REC_HASH_GROUPED in
	 * flags: count the rows whose key repeats; else 0; REC_HASH_MD5: the
	 * rows hashed with md5), buckets without rows left out. */
	char *(*stats_sql)(struct rec_conn *, const struct rec_merge *m,
	    const struct rec_range *r, char **const *bounds, int nb,
	    int flags);
	/* Keys splitting range r into about parts parts of equal rows, in
	 * key order (nkeys columns, canonical, usable as bounds on either
	 * side), from a random fraction of r's rows (1: every row). */
	char *(*sample_sql)(struct rec_conn *, const struct rec_merge *m,
	    const struct rec_range *r, int64_t parts, double fraction);
	/* Run sql: rec_side_answer follows (or rec_side_fail). */
	void (*ask)(struct rec_conn *, const char *sql);
	/* Rows of range r in the merge's key order, as stream does. */
	void (*stream_range)(struct rec_conn *, const struct rec_merge *m,
	    const struct rec_range *r);
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
/* An answer of ask: nrows x ncols cells (NULL: SQL NULL); the callee
 * owns cells and every string in it. */
void rec_side_answer(struct rec_conn *, int nrows, int ncols, char **cells);
/* A value to mask in every message and output (copied). */
void rec_side_secret(struct rec_conn *, const char *value);
/* Has the attempt ended (a callback must not go on)? */
int rec_side_over(const struct rec_conn *);

#endif
