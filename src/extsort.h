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
 * A cached key prefix (extsort_add_key) spares most comparisons the
 * caller's comparator: each record may carry a 64-bit prefix and a class.
 * Two records of the same non-zero class whose prefixes differ are in the
 * order of their prefixes (as unsigned numbers); with EXTSORT_EXACT in the
 * class, equal prefixes mean the records compare equal. In every other
 * case (class 0, different classes, equal prefixes of a class that is
 * not exact) the comparator decides. The caller promises that the
 * prefixes agree with the comparator: for a and b of one class c != 0,
 * prefix(a) < prefix(b) implies cmp(a, b) < 0, and with EXTSORT_EXACT in c,
 * prefix(a) == prefix(b) implies cmp(a, b) == 0. Then every comparison
 * gives what the comparator would have, and the order out is the one
 * without prefixes, record for record.
 *
 * Blocking file I/O: run it off the event loop (a worker thread).
 */
#ifndef CUTOVER_EXTSORT_H
#define CUTOVER_EXTSORT_H

#include <stddef.h>
#include <stdint.h>

#define EXTSORT_MEMORY (2u * 1024 * 1024) /* default in-memory bytes */
#define EXTSORT_EXACT 0x80u /* in a class: equal prefixes, equal records */

/* How the prefixes of a (pa, class ca) and b (pb, cb) order a and b, as
 * above: -1, 0 or 1, or 2 when only the comparator can tell. */
static inline int
extsort_prefix_order(uint64_t pa, unsigned ca, uint64_t pb, unsigned cb)
{
	if (ca != cb || ca == 0)
		return 2;
	if (pa != pb)
		return pa < pb ? -1 : 1;
	return ca & EXTSORT_EXACT ? 0 : 2;
}

/* <0, 0, >0 as a sorts before, with or after b. */
typedef int (*extsort_cmp)(const char *a, size_t alen, const char *b,
    size_t blen, void *arg);

struct extsort;

/* A sorter keeping at most about memory bytes of records and their index
 * (0: default) before it writes a run. */
struct extsort *extsort_new(size_t memory, extsort_cmp, void *arg);
/* Add a record; 0, or -1 with *err (new) if a run cannot be written. */
int extsort_add(struct extsort *, const void *rec, size_t len, char **err);
/* The same with a cached prefix of class cls (0-255, 0: none; see above). */
int extsort_add_key(struct extsort *, const void *rec, size_t len,
    uint64_t prefix, unsigned cls, char **err);
/* The records in order, one per call: 1 with *rec and *len (valid until the
 * next call), 0 at the end, -1 with *err (new) on a read error. The first
 * call ends the adding. */
int extsort_next(struct extsort *, const char **rec, size_t *len,
    char **err);
/* How many runs were written to disk (0: it all fit in memory). */
size_t extsort_runs(const struct extsort *);
void extsort_free(struct extsort *);

#endif
