/*
 * rec-side.h - reconcile sides read in a worker thread and ordered by the
 * tool: queries on odbc targets (rec-side-odbc.c) and files
 * (rec-side-file.c). Sides on postgres targets are read by
 * exec-reconcile.c through libpq and ordered by the server.
 *
 * rec_side_worker_ops (rec-int.h) drives such a side for the attempt.
 *
 * A source is a const struct rec_source_ops: open() runs in the
 * loop and copies what the worker needs; describe(), next() and close()
 * run in the worker. The driver here (rec_side_*) runs them in a worker
 * (odbc.h jobs), in two halves: the worker describes the columns and waits;
 * once both sides are described the loop says how each column compares
 * (rec_side_stream: the kinds of the pair), and the worker reads every
 * row, makes it canonical (reconcile.h), sorts it with an external merge
 * sort (extsort.h, bounded memory, unlinked temporary files) and sends the
 * rows in key order, one frame each, as fast as the loop takes them: the
 * loop takes one row at a time (rec_side_fetch), so memory stays bounded
 * whatever the row count. Rows already in key order skip the sort and go
 * out as they are read, while the loop merges: a source that orders them
 * (order(): the server sorts) or that can be read twice (rewind(): a
 * first pass finds them in order). The worker checks the order of every
 * row it sends unsorted; a row out of order fails the side.
 */
#ifndef CUTOVER_REC_SIDE_H
#define CUTOVER_REC_SIDE_H

#include <stdint.h>

#include "reconcile.h"

struct loop;
struct runbook;
struct rb_query;
struct rb_entity;
struct odbc_job;

struct rec_source_ops {
	const char *name;
	/* Loop: check side q and expand what the worker needs; NULL with
	 * *err (new). */
	void *(*open)(const struct runbook *, const struct rb_entity *,
	    const struct rb_query *,
	    char **err);
	/* The connection string for the side's own connection, or NULL. */
	const char *(*connstr)(void *);
	/* A value to redact from messages (a password), or NULL. */
	const char *(*secret)(void *);
	/* Worker: start reading; the columns (names and cols belong to the
	 * side). 0, or -1 with *err (new). */
	int (*describe)(void *, struct odbc_job *, int *ncols,
	    char ***names, struct rec_col **cols, char **err);
	/* Worker, optional (NULL: 0): before the first row, how the columns
	 * compare and the key's length. 1: next() gives the rows in the
	 * merge's key order (the tool checks it), 0: in any order, -1 with
	 * *err (new). */
	int (*order)(void *, const enum rec_kind *kinds, int nkeys,
	    char **err);
	/* Worker, optional: read again from the first row; 0, or -1 with
	 * *err (new). A side that can does not pay for a sort when its rows
	 * are already in key order (one pass checks, a second one sends). */
	int (*rewind)(void *, char **err);
	/* Worker, optional, in the first pass of a side that can rewind:
	 * the next row with only its first nkeys columns right, read as
	 * cheaply as the side can: 1, 0 at the end, 2 when the pass cannot
	 * tell (bad input: the full read after rewind reports it). */
	int (*next_keys)(void *, int nkeys, struct rec_field **);
	/* Worker: the next row (valid until the next call): 1, 0 at the
	 * end, -1 with *err (new). */
	int (*next)(void *, struct rec_field **, char **err);
	/* Worker: release what the reading holds (handles, files). */
	void (*close)(void *);
	/* Any thread, once, after close (or without a worker): free. */
	void (*free)(void *);
};

extern const struct rec_source_ops rec_source_odbc_ops;
extern const struct rec_source_ops rec_source_file_ops;

/* The implementation that reads side q, or NULL for a postgres side. */
const struct rec_source_ops *rec_source_ops_of(const struct rb_query *);

struct rec_wside;

struct rec_side_cbs {
	void (*described)(void *arg);
	void (*ready)(void *arg); /* a row, or the end, can be fetched */
	void (*failed)(void *arg, const char *why);
};

/* Start reading a side opened with ops (state is the side's now). */
struct rec_wside *rec_side_start(struct loop *, const struct rec_source_ops *,
    void *state, const char *name, int64_t timeout_ms,
    const struct rec_side_cbs *, void *arg);
void rec_side_columns(const struct rec_wside *, int *ncols,
    char *const **names, const struct rec_col **cols);
/* How each column compares (ncols kinds), the key's length, the step's
 * empty_is_null and the side's timezone: (or NULL): the worker reads,
 * makes canonical, sorts and sends the rows. 1: the rows come canonical
 * (rec_canon_field), 0: their timestamps are not (a named zone). */
int rec_side_stream(struct rec_wside *, const enum rec_kind *, int nkeys,
    int empty_is_null, const char *tz);
/* 1 with *row (valid until rec_side_drop), 0: wait for ready(), -1: the
 * side ended. */
int rec_side_fetch(struct rec_wside *, struct rec_field **row);
void rec_side_drop(struct rec_wside *);
/* Stop the worker's statement; then free. */
void rec_side_free(struct rec_wside *);

/* Rows as bytes: [null byte][u32 length][bytes] per field. */
void rec_row_pack(struct buf *, const struct rec_field *, int n);
/* The fields of a packed row into f (n of them); the count found, or -1
 * if malformed. f points into data. */
int rec_row_unpack(const char *data, size_t len, struct rec_field *f, int n);
/* The n fields of the row packed at p (by this process: not checked) into
 * f, pointing there; the bytes the row takes. */
size_t rec_row_take(const char *p, struct rec_field *f, int n);
/* A packed row's cached sort prefix for extsort_add_key (extsort.h), by
 * the order of rec_keys_order over nkeys keys: its class (0: none, the
 * comparator decides) and *prefix. */
unsigned rec_sort_prefix(const int *numkey, int nkeys, const char *row,
    size_t len, uint64_t *prefix);

#endif
