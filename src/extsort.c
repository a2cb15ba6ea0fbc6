/*
 * extsort.c - external merge sort (see extsort.h).
 *
 * In memory: the records' bytes in one arena and an index of (offset,
 * length, sequence). A run on disk is a stream of [u32 length][bytes].
 * The merge reads each run through a buffer whose size shrinks with the
 * number of runs, so that the buffers together stay under a fixed budget.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "extsort.h"
#include "xmalloc.h"

#define EXTSORT_READ_BUDGET (8u * 1024 * 1024) /* run buffers together */
#define EXTSORT_READ_MAX (256u * 1024)         /* one run's buffer */

struct extsort_item {
	size_t off, len;
	size_t seq;
};

struct extsort_run {
	FILE *f;
	char *vbuf;
	struct buf rec; /* its current record */
	size_t seq;     /* the run's number: ties go to the earlier run */
	int done;
};

struct extsort {
	extsort_cmp cmp;
	void *arg;
	size_t memory;
	struct buf arena;
	struct extsort_item *items;
	size_t nitems, cap, next; /* next: in memory, the next to hand out */
	size_t seq;
	struct extsort_run *runs;
	size_t nruns;
	size_t *heap; /* run indexes */
	size_t nheap;
	int merging, sorted;
	int handed; /* the top run's record was handed out */
};

/* The sorter qsort's comparator works for: one sort at a time a thread. */
static _Thread_local struct extsort *extsort_tls;

static int extsort_item_cmp(const void *, const void *);
static int extsort_spill(struct extsort *, char **);
static int extsort_start_merge(struct extsort *, char **);
static int extsort_run_read(struct extsort_run *, char **);
static int extsort_run_less(struct extsort *, size_t, size_t);
static void extsort_sift(struct extsort *, size_t);

struct extsort *
extsort_new(size_t memory, extsort_cmp cmp, void *arg)
{
	struct extsort *s = xcalloc(1, sizeof *s);

	s->memory = memory > 0 ? memory : EXTSORT_MEMORY;
	s->cmp = cmp;
	s->arg = arg;
	return s;
}

int
extsort_add(struct extsort *s, const void *rec, size_t len, char **err)
{
	if (s->nitems > 0 && s->arena.len + len + (s->nitems + 1) *
	    sizeof *s->items > s->memory && extsort_spill(s, err) != 0)
		return -1;
	if (s->nitems == s->cap) {
		s->cap = s->cap > 0 ? s->cap * 2 : 1024;
		s->items = xreallocarray(s->items, s->cap, sizeof *s->items);
	}
	s->items[s->nitems].off = s->arena.len;
	s->items[s->nitems].len = len;
	s->items[s->nitems].seq = s->seq++;
	s->nitems++;
	buf_add(&s->arena, rec, len);
	return 0;
}

/* By the caller's order, then by arrival: stable. */
static int
extsort_item_cmp(const void *a, const void *b)
{
	const struct extsort_item *x = a, *y = b;
	struct extsort *s = extsort_tls;
	int c = s->cmp(s->arena.data + x->off, x->len, s->arena.data + y->off,
	    y->len, s->arg);

	if (c != 0)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void
extsort_sort_memory(struct extsort *s)
{
	extsort_tls = s;
	if (s->nitems > 1)
		qsort(s->items, s->nitems, sizeof *s->items, extsort_item_cmp);
	extsort_tls = NULL;
}

/* Sort what is in memory and write it as a run to an unlinked file. */
static int
extsort_spill(struct extsort *s, char **err)
{
	const char *dir = getenv("TMPDIR");
	struct extsort_run *r;
	char *path;
	uint32_t n;
	size_t i;
	int fd;
	FILE *f;

	extsort_sort_memory(s);
	xasprintf(&path, "%s/cutover-sort.XXXXXX", dir != NULL && *dir != '\0'
	    ? dir : "/tmp");
	fd = mkstemp(path);
	if (fd >= 0)
		unlink(path); /* nothing is left behind, whatever happens */
	if (fd < 0 || (f = fdopen(fd, "w+")) == NULL) {
		xasprintf(err, "cannot create a temporary file in %s: %s",
		    dir != NULL && *dir != '\0' ? dir : "/tmp", strerror(errno));
		if (fd >= 0)
			close(fd);
		free(path);
		return -1;
	}
	free(path);
	for (i = 0; i < s->nitems; i++) {
		n = (uint32_t)s->items[i].len;
		if (fwrite(&n, sizeof n, 1, f) != 1 || (n > 0 &&
		    fwrite(s->arena.data + s->items[i].off, n, 1, f) != 1))
			break;
	}
	if (i < s->nitems || fflush(f) != 0) {
		xasprintf(err, "cannot write a temporary file: %s",
		    strerror(errno));
		fclose(f);
		return -1;
	}
	s->runs = xreallocarray(s->runs, s->nruns + 1, sizeof *s->runs);
	r = &s->runs[s->nruns];
	memset(r, 0, sizeof *r);
	r->f = f;
	r->seq = s->nruns++;
	s->nitems = 0;
	buf_reset(&s->arena);
	/* Give the arena back: the merge needs its own memory. */
	return 0;
}

/* Read a run's next record; 0, or -1 on an error (done at its end). */
static int
extsort_run_read(struct extsort_run *r, char **err)
{
	uint32_t n;
	char chunk[8192];
	size_t want, got;

	buf_reset(&r->rec);
	if (fread(&n, sizeof n, 1, r->f) != 1) {
		if (ferror(r->f)) {
			xasprintf(err, "cannot read a temporary file: %s",
			    strerror(errno));
			return -1;
		}
		r->done = 1;
		return 0;
	}
	while (n > 0) {
		want = n < sizeof chunk ? n : sizeof chunk;
		got = fread(chunk, 1, want, r->f);
		if (got != want) {
			xasprintf(err, "a temporary file is cut short");
			return -1;
		}
		buf_add(&r->rec, chunk, got);
		n -= (uint32_t)got;
	}
	return 0;
}

static int
extsort_run_less(struct extsort *s, size_t a, size_t b)
{
	struct extsort_run *x = &s->runs[a], *y = &s->runs[b];
	int c = s->cmp(x->rec.data != NULL ? x->rec.data : "", x->rec.len,
	    y->rec.data != NULL ? y->rec.data : "", y->rec.len, s->arg);

	return c < 0 || (c == 0 && x->seq < y->seq);
}

/* Restore the heap below position i. */
static void
extsort_sift(struct extsort *s, size_t i)
{
	size_t l, r, m, t;

	for (;;) {
		l = 2 * i + 1;
		r = l + 1;
		m = i;
		if (l < s->nheap && extsort_run_less(s, s->heap[l], s->heap[m]))
			m = l;
		if (r < s->nheap && extsort_run_less(s, s->heap[r], s->heap[m]))
			m = r;
		if (m == i)
			return;
		t = s->heap[i];
		s->heap[i] = s->heap[m];
		s->heap[m] = t;
		i = m;
	}
}

/* Spill the rest, rewind every run, fill the heap. */
static int
extsort_start_merge(struct extsort *s, char **err)
{
	size_t i, vsize;

	if (s->nitems > 0 && extsort_spill(s, err) != 0)
		return -1;
	buf_free(&s->arena);
	free(s->items);
	s->items = NULL;
	s->cap = 0;
	vsize = s->nruns > 0 ? EXTSORT_READ_BUDGET / s->nruns : 0;
	if (vsize > EXTSORT_READ_MAX)
		vsize = EXTSORT_READ_MAX;
	if (vsize < 512)
		vsize = 512;
	s->heap = xcalloc(s->nruns + 1, sizeof *s->heap);
	for (i = 0; i < s->nruns; i++) {
		rewind(s->runs[i].f);
		s->runs[i].vbuf = xmalloc(vsize);
		setvbuf(s->runs[i].f, s->runs[i].vbuf, _IOFBF, vsize);
		if (extsort_run_read(&s->runs[i], err) != 0)
			return -1;
		if (!s->runs[i].done)
			s->heap[s->nheap++] = i;
	}
	for (i = s->nheap; i-- > 0;)
		extsort_sift(s, i);
	return 0;
}

/* Advance the run whose record was handed out last. */
static int
extsort_pop(struct extsort *s, char **err)
{
	struct extsort_run *r = &s->runs[s->heap[0]];

	s->handed = 0;
	if (extsort_run_read(r, err) != 0)
		return -1;
	if (r->done)
		s->heap[0] = s->heap[--s->nheap];
	if (s->nheap > 0)
		extsort_sift(s, 0);
	return 0;
}

int
extsort_next(struct extsort *s, const char **rec, size_t *len, char **err)
{
	struct extsort_run *r;

	if (!s->merging) {
		s->merging = 1;
		if (s->nruns == 0) {
			extsort_sort_memory(s);
			s->sorted = 1;
		} else if (extsort_start_merge(s, err) != 0)
			return -1;
	}
	if (s->sorted) {
		if (s->next >= s->nitems)
			return 0;
		*rec = s->arena.data + s->items[s->next].off;
		*len = s->items[s->next].len;
		s->next++;
		return 1;
	}
	if (s->handed && s->nheap > 0 && extsort_pop(s, err) != 0)
		return -1;
	if (s->nheap == 0)
		return 0;
	r = &s->runs[s->heap[0]];
	*rec = r->rec.data != NULL ? r->rec.data : "";
	*len = r->rec.len;
	s->handed = 1;
	return 1;
}

size_t
extsort_runs(const struct extsort *s)
{
	return s->nruns;
}

void
extsort_free(struct extsort *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->nruns; i++) {
		if (s->runs[i].f != NULL)
			fclose(s->runs[i].f);
		free(s->runs[i].vbuf);
		buf_free(&s->runs[i].rec);
	}
	free(s->runs);
	free(s->heap);
	free(s->items);
	buf_free(&s->arena);
	free(s);
}
