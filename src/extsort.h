/*
 * extsort.h - an external merge sort of byte records in bounded memory.
 *
 * Records are kept in memory up to a limit, then sorted and written as a
 * run to a temporary file in $TMPDIR (default /tmp); at the end the runs
 * are merged with a heap, each read through a small buffer. Every
 * temporary file is unlinked as soon as it is created, so that nothing is
 * left behind on any exit, kill -9 included. The sort is stable: records
 * that compare equal come out in the order they went in.
 *
 * Blocking file I/O: run it off the event loop (a worker thread).
 */
#ifndef CUTOVER_EXTSORT_H
#define CUTOVER_EXTSORT_H

#include <stddef.h>

#define EXTSORT_MEMORY (8u * 1024 * 1024) /* default in-memory bytes */

/* <0, 0, >0 as a sorts before, with or after b. */
typedef int (*extsort_cmp)(const char *a, size_t alen, const char *b,
    size_t blen, void *arg);

struct extsort;

/* A sorter keeping at most about memory bytes of records (0: default). */
struct extsort *extsort_new(size_t memory, extsort_cmp, void *arg);
/* Add a record; 0, or -1 with *err (new) if a run cannot be written. */
int extsort_add(struct extsort *, const void *rec, size_t len, char **err);
/* The records in order, one per call: 1 with *rec and *len (valid until the
 * next call), 0 at the end, -1 with *err (new) on a read error. The first
 * call ends the adding. */
int extsort_next(struct extsort *, const char **rec, size_t *len,
    char **err);
/* How many runs were written to disk (0: it all fit in memory). */
size_t extsort_runs(const struct extsort *);
void extsort_free(struct extsort *);

#endif
