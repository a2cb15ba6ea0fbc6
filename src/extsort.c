/*
 * extsort.c - external merge sort (see extsort.h).
 *
 * In memory: the records' bytes in one arena and an index of (prefix,
 * offset, length, class), sorted by a merge sort of our own (stable; the
 * prefixes are compared inline, the caller's comparator only when they
 * do not decide). A run on disk is a stream of [u32 length][u8 class]
 * [u64 prefix][bytes], so that the merge compares prefixes too. The merge
 * reads each run through a buffer whose size shrinks with the number of
 * runs, so that the buffers together stay under a fixed budget.
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
#define EXTSORT_HEAD 13   /* a run record's header: length, class, prefix */
#define EXTSORT_INSERTION 16 /* slices the merge sort sorts by insertion */

/* A record in memory; off also orders arrivals. */
struct extsort_item {
	uint64_t prefix;
	size_t off;
	uint32_t len;
	uint32_t cls;
};

struct extsort_run {
	FILE *f;
	char *vbuf;
	struct extsort_item key; /* its current record's prefix, length */
	char *rec;               /* its bytes */
	size_t cap;
	size_t seq; /* the run's number: ties go to the earlier run */
	int done;
};

struct extsort {
	extsort_cmp cmp;
	void *arg;
	size_t memory;
	struct buf arena;
	struct extsort_item *items, *tmp; /* tmp: the merge sort's */
	size_t nitems, cap, next; /* next: in memory, the next to hand out */
	struct extsort_run *runs;
	size_t nruns;
	size_t *heap; /* run indexes */
	size_t nheap;
	int merging, sorted;
	int handed; /* the top run's record was handed out */
};

static int extsort_key_cmp(const struct extsort *, const struct extsort_item *,
    const char *, const struct extsort_item *, const char *);
static void extsort_sort_memory(struct extsort *);
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
	return extsort_add_key(s, rec, len, 0, 0, err);
}

int
extsort_add_key(struct extsort *s, const void *rec, size_t len,
    uint64_t prefix, unsigned cls, char **err)
{
	struct extsort_item *it;

	/* the index counts twice: the merge sort's second array */
	if (s->nitems > 0 && s->arena.len + len + 2 * (s->nitems + 1) *
	    sizeof *s->items > s->memory && extsort_spill(s, err) != 0)
		return -1;
	if (s->nitems == s->cap) {
		s->cap = s->cap > 0 ? s->cap * 2 : 1024;
		s->items = xreallocarray(s->items, s->cap, sizeof *s->items);
	}
	it = &s->items[s->nitems++];
	it->prefix = prefix;
	it->off = s->arena.len;
	it->len = (uint32_t)len;
	it->cls = cls;
	buf_add(&s->arena, rec, len);
	return 0;
}

/* Two records by their prefixes where those decide, else the caller's
 * comparator (extsort.h). */
static int
extsort_key_cmp(const struct extsort *s, const struct extsort_item *x,
    const char *xrec, const struct extsort_item *y, const char *yrec)
{
	if (x->cls == y->cls && x->cls != 0) {
		if (x->prefix != y->prefix)
			return x->prefix < y->prefix ? -1 : 1;
		if (x->cls & EXTSORT_EXACT)
			return 0;
	}
	return s->cmp(xrec, x->len, yrec, y->len, s->arg);
}

/* Do two in-memory items go in the order x, y (x not after y)? */
static int
extsort_item_le(const struct extsort *s, const struct extsort_item *x,
    const struct extsort_item *y)
{
	return extsort_key_cmp(s, x, s->arena.data + x->off, y,
	    s->arena.data + y->off) <= 0;
}

/* Sort items[lo, hi) by insertion, stably. */
static void
extsort_insertion(struct extsort *s, size_t lo, size_t hi)
{
	struct extsort_item t;
	size_t i, j;

	for (i = lo + 1; i < hi; i++) {
		t = s->items[i];
		for (j = i; j > lo && !extsort_item_le(s, &s->items[j - 1], &t);
		    j--)
			s->items[j] = s->items[j - 1];
		s->items[j] = t;
	}
}

/* Merge the sorted slices src[lo, mid) and src[mid, hi) into dst[lo, hi);
 * on ties the left one first: stable. */
static void
extsort_merge(const struct extsort *s, const struct extsort_item *src,
    struct extsort_item *dst, size_t lo, size_t mid, size_t hi)
{
	size_t i = lo, j = mid, k = lo;

	while (i < mid && j < hi)
		dst[k++] = extsort_item_le(s, &src[i], &src[j]) ? src[i++] :
		    src[j++];
	memcpy(dst + k, src + i, (mid - i) * sizeof *dst);
	k += mid - i;
	memcpy(dst + k, src + j, (hi - j) * sizeof *dst);
}

/* A stable bottom-up merge sort of the index: slices sorted by insertion,
 * then merged in passes between items and tmp. */
static void
extsort_sort_memory(struct extsort *s)
{
	struct extsort_item *src = s->items, *dst, *t;
	size_t n = s->nitems, w, lo;

	for (lo = 0; lo < n; lo += EXTSORT_INSERTION)
		extsort_insertion(s, lo, lo + EXTSORT_INSERTION < n ? lo +
		    EXTSORT_INSERTION : n);
	if (n <= EXTSORT_INSERTION)
		return;
	s->tmp = xreallocarray(s->tmp, s->cap, sizeof *s->tmp);
	dst = s->tmp;
	for (w = EXTSORT_INSERTION; w < n; w *= 2) {
		for (lo = 0; lo < n; lo += 2 * w)
			extsort_merge(s, src, dst, lo, lo + w < n ? lo + w : n,
			    lo + 2 * w < n ? lo + 2 * w : n);
		t = src, src = dst, dst = t;
	}
	if (src != s->items) { /* the sorted index is in tmp: swap */
		s->tmp = s->items;
		s->items = src;
	}
}

/* A new temporary file in $TMPDIR, already unlinked; NULL with *err. */
static FILE *
extsort_tmpfile(char **err)
{
	const char *dir = getenv("TMPDIR");
	char *path;
	int fd;
	FILE *f = NULL;

	if (dir == NULL || *dir == '\0')
		dir = "/tmp";
	xasprintf(&path, "%s/cutover-sort.XXXXXX", dir);
	fd = mkstemp(path);
	if (fd >= 0)
		unlink(path); /* nothing is left behind, whatever happens */
	if (fd < 0 || (f = fdopen(fd, "w+")) == NULL) {
		xasprintf(err, "cannot create a temporary file in %s: %s", dir,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
	}
	free(path);
	return f;
}

/* Write one record with its header; 0, or -1. */
static int
extsort_write(FILE *f, const struct extsort_item *it, const char *rec)
{
	unsigned char h[EXTSORT_HEAD];
	int i;

	for (i = 0; i < 4; i++)
		h[i] = (unsigned char)(it->len >> (8 * i));
	h[4] = (unsigned char)it->cls;
	for (i = 0; i < 8; i++)
		h[5 + i] = (unsigned char)(it->prefix >> (8 * i));
	if (fwrite(h, sizeof h, 1, f) != 1)
		return -1;
	return it->len > 0 && fwrite(rec, it->len, 1, f) != 1 ? -1 : 0;
}

/* Sort what is in memory and write it as a run to an unlinked file. */
static int
extsort_spill(struct extsort *s, char **err)
{
	struct extsort_run *r;
	size_t i;
	FILE *f;

	extsort_sort_memory(s);
	if ((f = extsort_tmpfile(err)) == NULL)
		return -1;
	for (i = 0; i < s->nitems; i++)
		if (extsort_write(f, &s->items[i], s->arena.data +
		    s->items[i].off) != 0)
			break;
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
	return 0;
}

/* Read a run's next record; 0, or -1 on an error (done at its end). */
static int
extsort_run_read(struct extsort_run *r, char **err)
{
	unsigned char h[EXTSORT_HEAD];
	size_t got = fread(h, 1, sizeof h, r->f);
	int i;

	if (got == 0 && !ferror(r->f)) {
		r->done = 1;
		return 0;
	}
	if (got == sizeof h) {
		r->key.len = 0;
		r->key.prefix = 0;
		for (i = 0; i < 4; i++)
			r->key.len |= (uint32_t)h[i] << (8 * i);
		r->key.cls = h[4];
		for (i = 0; i < 8; i++)
			r->key.prefix |= (uint64_t)h[5 + i] << (8 * i);
		if (r->key.len >= r->cap) {
			r->cap = r->key.len + (size_t)1;
			r->rec = xrealloc(r->rec, r->cap);
		}
	}
	if (got != sizeof h || (r->key.len > 0 &&
	    fread(r->rec, r->key.len, 1, r->f) != 1)) {
		if (ferror(r->f))
			xasprintf(err, "cannot read a temporary file: %s",
			    strerror(errno));
		else
			xasprintf(err, "a temporary file is cut short");
		return -1;
	}
	return 0;
}

/* Is run a's record before run b's? Ties: the earlier run first. */
static int
extsort_run_less(struct extsort *s, size_t a, size_t b)
{
	struct extsort_run *x = &s->runs[a], *y = &s->runs[b];
	int c = extsort_key_cmp(s, &x->key, x->rec, &y->key, y->rec);

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
	free(s->tmp);
	s->items = s->tmp = NULL;
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
	*rec = r->rec;
	*len = r->key.len;
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
		free(s->runs[i].rec);
	}
	free(s->runs);
	free(s->heap);
	free(s->items);
	free(s->tmp);
	buf_free(&s->arena);
	free(s);
}
