/*
 * rec-checksum.h - method: checksum of reconcile steps (compare: rows):
 * the data-diff bisection.
 *
 * Both sides count and hash the rows of key ranges inside their servers,
 * at once (each side its own connection); only ranges whose counts or
 * hashes differ are looked at further. A differing range is split into
 * bisection_factor ranges (the whole key space into its square, at most
 * REC_CHECKSUM_FIRST, so that one pass over every row finds ranges small
 * enough to fetch) at keys sampled from the side with more rows in it (so
 * the ranges follow the key distribution: text, composite and sparse keys
 * alike), and the split ranges are counted and hashed again;
 * a range of at most bisection_threshold rows on its larger side (or one
 * that cannot be split: a single key) is fetched from both sides in key
 * order and merged by the merge of method: stream (reconcile.h), so the
 * counts, samples and stored differences are those of stream. Ranges are
 * visited in key order (a stack of pending ranges: memory does not
 * depend on row counts); an equal range counts its rows as matched.
 *
 * A row's hash is a 64-bit hash of its values made canonical in SQL by
 * the rules of the merge (numbers by value, timestamps as UTC, CHAR
 * padding, uuid case, booleans, '' as NULL with empty_is_null); a range's
 * hash is the sum of its rows' hashes, as a numeric (nothing overflows): a
 * missing row, an extra row or any change moves it, and changes do not
 * cancel as they would in a sum of values or an XOR (two rows that are
 * the same hash the same). Nothing reads every row before the hash pass:
 * a probe (the plan and the catalog) tells whether a side's keys are
 * unique for certain (one table read once, a unique index on NOT NULL key
 * columns); a side where they may repeat counts its repeated keys per
 * range in every hash pass, and ranges that hold such rows are fetched,
 * so that duplicate keys pair and count as in stream. The whole key
 * space is never hashed as one: it is split at once, at keys of a random
 * sample of the side the server estimates larger (the ranges follow the
 * key distribution; where they fall changes no result).
 *
 * The driver says what it needs through callbacks; it never finishes the
 * attempt itself. Sides are driven through their struct rec_hash_ops
 * (rec-int.h).
 */
#ifndef CUTOVER_REC_CHECKSUM_H
#define CUTOVER_REC_CHECKSUM_H

#include <stdint.h>

#include "buf.h"
#include "reconcile.h"

#define REC_CHECKSUM_FACTOR 32       /* bisection_factor by default */
#define REC_CHECKSUM_THRESHOLD 16384 /* bisection_threshold by default */
#define REC_CHECKSUM_FIRST 1024      /* the first split's parts, at most */
#define REC_CHECKSUM_SAMPLE 32       /* rows sampled per part of the first */
/* auto: checksum only for at least this many bisection_thresholds of
 * rows (fewer are fetched about as fast as they are hashed). */
#define REC_CHECKSUM_AUTO_RANGES 10

struct rec_conn;

/* A key range [lo, hi) and what each side has in it. */
struct rec_range {
	char **lo;      /* nkeys canonical values (NULL: SQL NULL), or NULL:
	                   from the first key */
	char **hi;      /* likewise, excluded; NULL: to the last key */
	int64_t n[2];   /* rows per side */
	char *hash[2];  /* the sum of the rows' hashes */
	int64_t dups[2]; /* rows whose key repeats another's */
	int single;     /* cannot be split (one key): fetch it */
};

struct rec_checksum_cbs {
	/* Both sides stream the rows of a range: merge them until both
	 * end, then call rec_checksum_fetched. */
	void (*merge)(void *arg);
	/* Every range is done: the merge holds the result. */
	void (*done)(void *arg);
	/* auto: checksum (1) or stream (0), and why. */
	void (*chosen)(void *arg, int checksum, const char *why);
	/* Output for a person (progress). */
	void (*output)(void *arg, const char *line);
};

struct rec_checksum;

/* Why these two sides cannot be compared by checksum (a new string), or
 * NULL if they can. */
char *rec_checksum_cannot(struct rec_conn *const side[2],
    const struct rec_merge *);
/* A driver for the two sides (both described, m set up); factor and
 * threshold 0 for the defaults. */
struct rec_checksum *rec_checksum_new(struct rec_conn *const side[2],
    struct rec_merge *m, int factor, int threshold,
    const struct rec_checksum_cbs *, void *arg);
/* auto: estimate the rows on both sides; chosen() follows. */
void rec_checksum_auto(struct rec_checksum *);
/* Compare: merge() and done() follow. */
void rec_checksum_start(struct rec_checksum *);
/* A side's answer (see rec_side_answer): cells are the driver's. */
void rec_checksum_answer(struct rec_checksum *, int side, int nrows,
    int ncols, char **cells);
/* The range asked for by merge() was merged to its end. */
void rec_checksum_fetched(struct rec_checksum *);
/* "checksum: R ranges checked, D differ, F rows fetched". */
void rec_checksum_progress(const struct rec_checksum *, struct buf *);
/* Appends ,"ranges":{...},"fetched_rows":[S,D] for the result object. */
void rec_checksum_json(const struct rec_checksum *, struct buf *);
void rec_checksum_free(struct rec_checksum *);

#endif
