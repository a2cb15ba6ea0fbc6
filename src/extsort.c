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
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "extsort.h"
#include "xmalloc.h"

#define EXTSORT_READ_BUDGET (8u * 1024 * 1024) /* run buffers together */
#define EXTSORT_READ_MAX (256u * 1024)         /* one run's buffer */
#define EXTSORT_WRITE (256u * 1024) /* bytes of a run written at once */
#define EXTSORT_HEAD 13   /* a run record's header: length, class, prefix */
#define EXTSORT_INSERTION 16 /* slices the merge sort sorts by insertion */

/* A record in memory; off also orders arrivals. */
struct extsort_item {
	uint64_t prefix;
	size_t off;
	uint32_t len;
	uint32_t cls;
};

/* A run on disk and, while merging, its read buffer: bytes [pos, end) of
 * buf are read and not yet handed out. */
struct extsort_run {
	int fd;
	char *buf;
	size_t cap, pos, end;
	struct extsort_item key; /* its current record's prefix, length */
	const char *rec;         /* its bytes, in buf */
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
	struct buf out; /* a run being written */
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

	if (len > UINT32_MAX) { /* a run file's length field */
		xasprintf(err, "a record of %zu bytes is too large to sort",
		    len);
		return -1;
	}
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
	int c = extsort_prefix_order(x->prefix, x->cls, y->prefix, y->cls);

	return c != 2 ? c : s->cmp(xrec, x->len, yrec, y->len, s->arg);
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

/*
 * A new temporary file in $TMPDIR without a name (O_TMPFILE: nothing is
 * ever left behind, even by a kill -9), or where the file system cannot,
 * one unlinked as soon as it is created; -1 with *err.
 */
static int
extsort_tmpfile(char **err)
{
	const char *dir = getenv("TMPDIR");
	char *path;
	int fd;

	if (dir == NULL || *dir == '\0')
		dir = "/tmp";
#ifdef O_TMPFILE
	if ((fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600)) >= 0)
		return fd;
#endif
	xasprintf(&path, "%s/cutover-sort.XXXXXX", dir);
	fd = mkstemp(path);
	if (fd >= 0)
		unlink(path); /* nothing is left behind, whatever happens */
	else
		xasprintf(err, "cannot create a temporary file in %s: %s", dir,
		    strerror(errno));
	free(path);
	return fd;
}

/* Write out what s->out holds to fd; 0, or -1 with errno. */
static int
extsort_flush(struct extsort *s, int fd)
{
	size_t at = 0;
	ssize_t n;

	while (at < s->out.len) {
		n = write(fd, s->out.data + at, s->out.len - at);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		at += (size_t)n;
	}
	buf_reset(&s->out);
	return 0;
}

/* Add one record with its header to the run being written; 0, or -1. */
static int
extsort_write(struct extsort *s, int fd, const struct extsort_item *it)
{
	unsigned char h[EXTSORT_HEAD];
	int i;

	for (i = 0; i < 4; i++)
		h[i] = (unsigned char)(it->len >> (8 * i));
	h[4] = (unsigned char)it->cls;
	for (i = 0; i < 8; i++)
		h[5 + i] = (unsigned char)(it->prefix >> (8 * i));
	buf_add(&s->out, h, sizeof h);
	buf_add(&s->out, s->arena.data + it->off, it->len);
	return s->out.len >= EXTSORT_WRITE ? extsort_flush(s, fd) : 0;
}

/* Sort what is in memory and write it as a run to an unlinked file. */
static int
extsort_spill(struct extsort *s, char **err)
{
	struct extsort_run *r;
	size_t i;
	int fd;

	extsort_sort_memory(s);
	if ((fd = extsort_tmpfile(err)) < 0)
		return -1;
	buf_reset(&s->out);
	for (i = 0; i < s->nitems; i++)
		if (extsort_write(s, fd, &s->items[i]) != 0)
			break;
	if (i < s->nitems || extsort_flush(s, fd) != 0) {
		xasprintf(err, "cannot write a temporary file: %s",
		    strerror(errno));
		close(fd);
		return -1;
	}
	s->runs = xreallocarray(s->runs, s->nruns + 1, sizeof *s->runs);
	r = &s->runs[s->nruns];
	memset(r, 0, sizeof *r);
	r->fd = fd;
	r->seq = s->nruns++;
	s->nitems = 0;
	buf_reset(&s->arena);
	return 0;
}

/* Have at least need bytes of run r in its buffer from pos: 1, 0 at the
 * end of the file with none left, or -1 with *err (cut short, or read). */
static int
extsort_run_fill(struct extsort_run *r, size_t need, char **err)
{
	ssize_t n;

	if (r->end - r->pos >= need)
		return 1;
	memmove(r->buf, r->buf + r->pos, r->end - r->pos);
	r->end -= r->pos;
	r->pos = 0;
	if (need > r->cap) {
		r->cap = need;
		r->buf = xrealloc(r->buf, r->cap);
	}
	while (r->end < need) {
		n = read(r->fd, r->buf + r->end, r->cap - r->end);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			xasprintf(err, "cannot read a temporary file: %s",
			    strerror(errno));
		else if (n == 0 && r->end > 0)
			xasprintf(err, "a temporary file is cut short");
		if (n <= 0)
			return n == 0 && r->end == 0 ? 0 : -1;
		r->end += (size_t)n;
	}
	return 1;
}

/* Read a run's next record; 0, or -1 on an error (done at its end). */
static int
extsort_run_read(struct extsort_run *r, char **err)
{
	const unsigned char *h;
	int i, k;

	if ((k = extsort_run_fill(r, EXTSORT_HEAD, err)) <= 0) {
		r->done = k == 0;
		return k;
	}
	h = (const unsigned char *)r->buf + r->pos;
	r->key.len = 0;
	r->key.prefix = 0;
	for (i = 0; i < 4; i++)
		r->key.len |= (uint32_t)h[i] << (8 * i);
	r->key.cls = h[4];
	for (i = 0; i < 8; i++)
		r->key.prefix |= (uint64_t)h[5 + i] << (8 * i);
	/* the header is in: never 0 (the end) here */
	if (extsort_run_fill(r, EXTSORT_HEAD + (size_t)r->key.len, err) != 1)
		return -1;
	r->rec = r->buf + r->pos + EXTSORT_HEAD;
	r->pos += EXTSORT_HEAD + (size_t)r->key.len;
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
	buf_free(&s->out);
	s->heap = xcalloc(s->nruns + 1, sizeof *s->heap);
	for (i = 0; i < s->nruns; i++) {
		if (lseek(s->runs[i].fd, 0, SEEK_SET) != 0) {
			xasprintf(err, "cannot read a temporary file: %s",
			    strerror(errno));
			return -1;
		}
		s->runs[i].cap = vsize;
		s->runs[i].buf = xmalloc(vsize);
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
		close(s->runs[i].fd);
		free(s->runs[i].buf);
	}
	free(s->runs);
	free(s->heap);
	free(s->items);
	free(s->tmp);
	buf_free(&s->arena);
	buf_free(&s->out);
	free(s);
}
