/*
 * rec-side.c - reconcile sides read and sorted in a worker (rec-side.h).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "extsort.h"
#include "loop.h"
#include "odbc.h"
#include "rec-int.h"
#include "rec-side.h"
#include "runbook.h"
#include "xmalloc.h"

#define REC_SIDE_CHECK 4096 /* rows between looks at a cancel */
#define REC_SIDE_BATCH (32 * 1024) /* bytes of rows sent at once */
#define REC_PREFIX_INT 1   /* sort prefix: the first key, an int64 */
#define REC_PREFIX_BYTES 2 /* sort prefix: the first key's first 8 bytes */

/* Frames: worker to loop, and loop to worker. */
enum { RS_COLS = ODBC_MSG_USER, RS_ROW, RS_ERR };
enum { RS_STREAM = 1 };

/* What the worker owns. */
struct rec_work {
	const struct rec_source_ops *ops;
	void *state;
};

struct rec_wside {
	struct loop *loop;
	struct odbc_job *job;
	struct rec_side_cbs cbs;
	void *arg;
	int ncols;
	char **names;
	struct rec_col *cols;
	struct buf types; /* the cols' type names */
	struct rec_field *fields;
	int have_row, eof, described, waiting, failed;
};

/* How the worker makes values canonical (rec_canon_field). */
struct rec_how {
	enum rec_kind *kinds; /* per column */
	int empty;         /* empty_is_null */
	const char *tz;    /* the side's timezone:, or NULL */
	int skip_time;     /* a named zone: timestamps are the loop's */
	struct rec_field *g; /* a row's fields, made canonical */
	size_t *off;       /* rec_canon_fields' room */
};

/* A row's key prefix and its class (rec_sort_prefix). */
struct rec_pk {
	uint64_t prefix;
	unsigned cls;
};

/* The worker's sort: how keys compare. */
struct rec_sortctx {
	int nkeys;
	int *numkey;
	struct rec_field *a, *b;
};

static int rec_side_on_msg(int, const char *, size_t, void *);
static void rec_side_on_end(enum odbc_end, void *);
static void rec_side_cols(struct rec_wside *, const char *, size_t);
static void rec_work(struct odbc_job *, void *);
static void rec_work_free(void *);
static int rec_work_sort(struct odbc_job *, struct rec_work *, int,
    const char *, size_t, char **);
static int rec_sort_cmp(const char *, size_t, const char *, size_t, void *);
static void rec_row_keys(const char *, size_t, struct rec_field *, int);
static void rec_work_canon(const struct rec_how *, int,
    const struct rec_field *,
    struct buf *, struct buf *);
static int rec_work_ordered(struct rec_work *, struct rec_sortctx *, int,
    const struct rec_how *, char **);
static int rec_work_before(struct rec_sortctx *, const struct buf *,
    struct rec_pk *, const struct buf *);
static int rec_work_put(struct odbc_job *, struct buf *, const char *,
    size_t);
static int rec_work_direct(struct odbc_job *, struct rec_work *,
    struct rec_sortctx *, int, const struct rec_how *, char **);
static int rec_work_sorted(struct odbc_job *, struct rec_work *,
    struct rec_sortctx *, int, const struct rec_how *, char **);

const struct rec_source_ops *
rec_source_ops_of(const struct rb_query *q)
{
	if (q->file != NULL)
		return &rec_source_file_ops;
	if (q->target != NULL && q->target->type == TARGET_ODBC)
		return &rec_source_odbc_ops;
	return NULL;
}

/* ------------------------------------------------------------ packing */

static void
rec_put32(struct buf *b, uint32_t n)
{
	unsigned char c[4] = { (unsigned char)(n >> 24),
		(unsigned char)(n >> 16), (unsigned char)(n >> 8),
		(unsigned char)n };

	buf_add(b, c, 4);
}

static uint32_t
rec_get32(const char *p)
{
	const unsigned char *u = (const unsigned char *)p;

	return (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 |
	    (uint32_t)u[2] << 8 | u[3];
}

void
rec_row_pack(struct buf *b, const struct rec_field *f, int n)
{
	char tmp[512];
	size_t at = 0, len;
	int i;

	/* Small fields gather in tmp: one append for most rows. */
	for (i = 0; i < n; i++) {
		len = f[i].null ? 0 : f[i].len;
		if (at + 5 + len > sizeof tmp) {
			buf_add(b, tmp, at);
			at = 0;
		}
		tmp[at] = f[i].null ? 1 : 0;
		tmp[at + 1] = (char)(len >> 24);
		tmp[at + 2] = (char)(len >> 16);
		tmp[at + 3] = (char)(len >> 8);
		tmp[at + 4] = (char)len;
		at += 5;
		if (5 + len > sizeof tmp) {
			buf_add(b, tmp, at);
			buf_add(b, f[i].p, len);
			at = 0;
		} else if (len > 0) {
			memcpy(tmp + at, f[i].p, len);
			at += len;
		}
	}
	if (at > 0)
		buf_add(b, tmp, at);
}

int
rec_row_unpack(const char *data, size_t len, struct rec_field *f, int n)
{
	size_t at = 0, l;
	int i;

	for (i = 0; at < len; i++) {
		if (len - at < 5)
			return -1;
		l = rec_get32(data + at + 1);
		if (len - at - 5 < l)
			return -1;
		if (i < n) {
			f[i].null = data[at] != 0;
			f[i].p = data + at + 5;
			f[i].len = l;
		}
		at += 5 + l;
	}
	return i;
}

size_t
rec_row_take(const char *p, struct rec_field *f, int n)
{
	size_t at = 0;
	int i;

	for (i = 0; i < n; i++) {
		f[i].null = p[at] != 0;
		f[i].len = rec_get32(p + at + 1);
		f[i].p = p + at + 5;
		at += 5 + f[i].len;
	}
	return at;
}

/* ------------------------------------------------------- the loop side */

struct rec_wside *
rec_side_start(struct loop *loop, const struct rec_source_ops *ops,
    void *state, const char *name, int64_t timeout_ms,
    const struct rec_side_cbs *cbs, void *arg)
{
	static const struct odbc_job_cbs jcbs = {
		.work = rec_work,
		.msg = rec_side_on_msg,
		.end = rec_side_on_end,
		.free_arg = rec_work_free,
	};
	struct rec_wside *t = xcalloc(1, sizeof *t);
	struct rec_work *w = xcalloc(1, sizeof *w);

	t->loop = loop;
	t->cbs = *cbs;
	t->arg = arg;
	w->ops = ops;
	w->state = state;
	t->job = odbc_job_start(loop, name, ops->connstr(state), 1, timeout_ms,
	    &jcbs, w, t);
	return t;
}

void
rec_side_columns(const struct rec_wside *t, int *ncols, char *const **names,
    const struct rec_col **cols)
{
	*ncols = t->ncols;
	*names = t->names;
	*cols = t->cols;
}

/* COLS: [u32 n] then per column [kind byte][u32 len][name][u32 len][type]. */
static void
rec_side_cols(struct rec_wside *t, const char *p, size_t len)
{
	size_t at = 4, l;
	int i;

	if (len < 4)
		return;
	t->ncols = (int)rec_get32(p);
	t->names = xcalloc((size_t)t->ncols + 1, sizeof *t->names);
	t->cols = xcalloc((size_t)t->ncols + 1, sizeof *t->cols);
	t->fields = xcalloc((size_t)t->ncols + 1, sizeof *t->fields);
	for (i = 0; i < t->ncols && at + 5 <= len; i++) {
		t->cols[i].kind = (enum rec_kind)p[at];
		l = rec_get32(p + at + 1);
		t->names[i] = xstrndup(p + at + 5, l);
		at += 5 + l;
		l = rec_get32(p + at);
		t->cols[i].type = xstrndup(p + at + 4, l);
		at += 4 + l;
	}
}

/* A frame: the columns, a row (then pause: one row at a time), an error. */
static int
rec_side_on_msg(int type, const char *data, size_t len, void *arg)
{
	struct rec_wside *t = arg;

	switch (type) {
	case RS_COLS:
		rec_side_cols(t, data, len);
		t->described = 1;
		t->cbs.described(t->arg);
		return 0;
	case RS_ROW:
		/* the fields point into the frame: it stays until resumed */
		if (rec_row_unpack(data, len, t->fields, t->ncols) != t->ncols) {
			t->failed = 1;
			t->cbs.failed(t->arg, "a malformed row from the worker");
			return 1;
		}
		t->have_row = 1;
		if (t->waiting) {
			t->waiting = 0;
			t->cbs.ready(t->arg);
		}
		return 1;
	case RS_ERR:
		if (!t->failed) {
			char *msg = xstrndup(data, len);

			t->failed = 1;
			t->cbs.failed(t->arg, msg);
			free(msg);
		}
		return 1;
	}
	return 0;
}

static void
rec_side_on_end(enum odbc_end end, void *arg)
{
	struct rec_wside *t = arg;

	t->job = NULL;
	if (t->failed)
		return;
	if (end != ODBC_END_OK) {
		t->failed = 1;
		t->cbs.failed(t->arg, "the reading stopped");
		return;
	}
	t->eof = 1;
	if (t->waiting) {
		t->waiting = 0;
		t->cbs.ready(t->arg);
	}
}

int
rec_side_stream(struct rec_wside *t, const enum rec_kind *kinds, int nkeys,
    int empty_is_null, const char *tz)
{
	struct buf b = { 0 };
	long off;
	int i;

	rec_put32(&b, (uint32_t)nkeys);
	buf_addc(&b, empty_is_null ? 1 : 0);
	for (i = 0; i < t->ncols; i++)
		buf_addc(&b, (char)kinds[i]);
	if (tz != NULL)
		buf_adds(&b, tz);
	if (t->job != NULL)
		odbc_job_tell(t->job, RS_STREAM, b.data, b.len);
	buf_free(&b);
	return rec_tz_fixed(tz, &off);
}

int
rec_side_fetch(struct rec_wside *t, struct rec_field **row)
{
	if (!t->have_row && !t->eof && !t->failed && t->job != NULL) {
		odbc_job_resume(t->job); /* the next frame, if one waits */
		if (!t->have_row && !t->eof && !t->failed && t->job != NULL &&
		    odbc_job_resumed(t->job))
			t->waiting = 1;
	}
	if (t->have_row) {
		*row = t->fields;
		return 1;
	}
	return t->eof ? -1 : 0;
}

void
rec_side_drop(struct rec_wside *t)
{
	t->have_row = 0;
}

void
rec_side_free(struct rec_wside *t)
{
	int i;

	if (t == NULL)
		return;
	if (t->job != NULL) {
		t->cbs.failed = NULL;
		odbc_job_cancel(t->job);
		if (t->job != NULL)
			odbc_job_abandon(t->job);
	}
	for (i = 0; t->names != NULL && i < t->ncols; i++) {
		free(t->names[i]);
		free((char *)t->cols[i].type);
	}
	free(t->names);
	free(t->cols);
	free(t->fields);
	buf_free(&t->types);
	free(t);
}

/* ------------------------------------------------------ the worker side */

static void
rec_work_free(void *arg)
{
	struct rec_work *w = arg;

	w->ops->free(w->state);
	free(w);
}

/* Send the error as the side's failure. */
static void
rec_work_fail(struct odbc_job *job, const char *msg)
{
	odbc_job_send(job, RS_ERR, msg, strlen(msg));
	odbc_job_set_end(job, ODBC_END_ERROR);
}

/* Describe, wait for how to compare, then read, sort and send. */
static void
rec_work(struct odbc_job *job, void *arg)
{
	struct rec_work *w = arg;
	struct buf b = { 0 }, cmd = { 0 };
	struct rec_col *cols;
	char **names, *err = NULL;
	int ncols, i, type;

	if (w->ops->describe(w->state, job, &ncols, &names, &cols, &err) != 0) {
		rec_work_fail(job, err);
		free(err);
		w->ops->close(w->state);
		return;
	}
	rec_put32(&b, (uint32_t)ncols);
	for (i = 0; i < ncols; i++) {
		buf_addc(&b, (char)cols[i].kind);
		rec_put32(&b, (uint32_t)strlen(names[i]));
		buf_adds(&b, names[i]);
		rec_put32(&b, (uint32_t)strlen(cols[i].type));
		buf_adds(&b, cols[i].type);
	}
	if (odbc_job_send(job, RS_COLS, b.data, b.len) == 0 &&
	    odbc_job_recv(job, &type, &cmd) == 0 && type == RS_STREAM &&
	    rec_work_sort(job, w, ncols, cmd.data, cmd.len, &err) != 0) {
		rec_work_fail(job, err);
		free(err);
	}
	w->ops->close(w->state);
	buf_free(&b);
	buf_free(&cmd);
}

/* The first n fields of row f, canonical (how), packed into row (reset
 * first); f stays as the source gave it. */
static void
rec_work_canon(const struct rec_how *how, int n, const struct rec_field *f,
    struct buf *row, struct buf *tmp)
{
	memcpy(how->g, f, (size_t)n * sizeof *f);
	rec_canon_fields(how->kinds, n, how->empty, how->tz, how->skip_time,
	    how->g, tmp, how->off);
	buf_reset(row);
	rec_row_pack(row, how->g, n);
}

/*
 * Does row (packed) sort before prev, the row before it? Decided by their
 * key prefixes where those can (rec_sort_prefix), else by the keys; *pk
 * holds prev's prefix and class, and gets row's.
 */
static int
rec_work_before(struct rec_sortctx *ctx, const struct buf *prev,
    struct rec_pk *pk, const struct buf *row)
{
	uint64_t prefix;
	unsigned cls;
	int c;

	cls = rec_sort_prefix(ctx->numkey, ctx->nkeys, row->data, row->len,
	    &prefix);
	c = prev->len == 0 ? -1 : extsort_prefix_order(pk->prefix, pk->cls,
	    prefix, cls);
	if (c == 2)
		c = rec_sort_cmp(prev->data, prev->len, row->data, row->len, ctx);
	pk->prefix = prefix;
	pk->cls = cls;
	return c > 0;
}

/* Does the side read rows in key order? By its own say (order), else by
 * a first pass over them (rewind). 1, 0, or -1 with *err. */
static int
rec_work_ordered(struct rec_work *w, struct rec_sortctx *ctx, int ncols,
    const struct rec_how *how, char **err)
{
	struct buf prev = { 0 }, row = { 0 }, tmp = { 0 }, t;
	struct rec_pk pk = { 0 };
	struct rec_field *f;
	int nk, r = 0;

	if (w->ops->order != NULL)
		r = w->ops->order(w->state, how->kinds, ctx->nkeys, err);
	if (r != 0 || w->ops->rewind == NULL)
		return r;
	r = 1;
	nk = ctx->nkeys < ncols ? ctx->nkeys : ncols;
	while (r == 1 && (r = w->ops->next_keys != NULL ?
	    w->ops->next_keys(w->state, nk, &f) :
	    w->ops->next(w->state, &f, err)) == 1) {
		rec_work_canon(how, nk, f, &row, &tmp);
		if (rec_work_before(ctx, &prev, &pk, &row))
			r = 2; /* out of order: sort */
		t = prev, prev = row, row = t;
	}
	/* 2 from next_keys: bad input, which the sort's full read reports */
	buf_free(&prev);
	buf_free(&row);
	buf_free(&tmp);
	if (r < 0 || w->ops->rewind(w->state, err) != 0)
		return -1;
	return r == 0;
}

/* Send a row (batched); 0, or -1 when nobody listens any more. */
static int
rec_work_put(struct odbc_job *job, struct buf *out, const char *rec,
    size_t len)
{
	odbc_frame(out, RS_ROW, rec, len);
	if (out->len < REC_SIDE_BATCH)
		return 0;
	if (odbc_job_send_frames(job, out->data, out->len) != 0)
		return -1;
	buf_reset(out);
	return 0;
}

/* Rows in key order straight out, each checked against the one before. */
static int
rec_work_direct(struct odbc_job *job, struct rec_work *w,
    struct rec_sortctx *ctx, int ncols, const struct rec_how *how, char **err)
{
	struct buf prev = { 0 }, row = { 0 }, tmp = { 0 }, out = { 0 }, t;
	struct rec_pk pk = { 0 };
	struct rec_field *f;
	int64_t n = 0;
	int r;

	while ((r = w->ops->next(w->state, &f, err)) == 1) {
		rec_work_canon(how, ncols, f, &row, &tmp);
		if (rec_work_before(ctx, &prev, &pk, &row)) {
			*err = xstrdup("the rows came out of key order");
			r = -1;
			break;
		}
		if (rec_work_put(job, &out, row.data, row.len) != 0 ||
		    (++n % REC_SIDE_CHECK == 0 && odbc_job_cancelled(job))) {
			r = 0;
			out.len = 0;
			break;
		}
		t = prev, prev = row, row = t;
	}
	if (r == 0 && out.len > 0)
		odbc_job_send_frames(job, out.data, out.len);
	buf_free(&prev);
	buf_free(&row);
	buf_free(&tmp);
	buf_free(&out);
	return r < 0 ? -1 : 0;
}

/* Every row, canonical, into the sorter; then out in order. */
static int
rec_work_sorted(struct odbc_job *job, struct rec_work *w,
    struct rec_sortctx *ctx, int ncols, const struct rec_how *how, char **err)
{
	struct buf row = { 0 }, tmp = { 0 };
	struct extsort *sorter;
	struct rec_field *f;
	const char *rec;
	size_t len;
	int64_t n = 0;
	uint64_t prefix;
	unsigned cls;
	int r;

	sorter = extsort_new(0, rec_sort_cmp, ctx);
	while ((r = w->ops->next(w->state, &f, err)) == 1) {
		rec_work_canon(how, ncols, f, &row, &tmp);
		cls = rec_sort_prefix(ctx->numkey, ctx->nkeys, row.data,
		    row.len, &prefix);
		if (extsort_add_key(sorter, row.data, row.len, prefix, cls,
		    err) != 0) {
			r = -1;
			break;
		}
		if (++n % REC_SIDE_CHECK == 0 && odbc_job_cancelled(job)) {
			r = 0;
			break;
		}
	}
	/* Rows go out in batches of frames: one system call per batch. */
	buf_reset(&row);
	n = 0; /* a cancel is looked for first, then every REC_SIDE_CHECK */
	while (r == 0 && (n++ % REC_SIDE_CHECK != 0 ||
	    !odbc_job_cancelled(job))) {
		if ((r = extsort_next(sorter, &rec, &len, err)) != 1)
			break;
		r = 0;
		if (rec_work_put(job, &row, rec, len) != 0) {
			row.len = 0;
			break; /* nobody listens any more */
		}
	}
	if (r == 0 && row.len > 0)
		odbc_job_send_frames(job, row.data, row.len);
	extsort_free(sorter);
	buf_free(&row);
	buf_free(&tmp);
	return r < 0 ? -1 : 0;
}

/* Send the rows in key order: straight if they are, else sorted. */
static int
rec_work_sort(struct odbc_job *job, struct rec_work *w, int ncols,
    const char *cmd, size_t cmdlen, char **err)
{
	struct rec_sortctx ctx = { 0 };
	struct rec_how how = { 0 };
	char *tz = NULL;
	long off;
	int i, r;

	if (cmdlen < 5 + (size_t)ncols) {
		*err = xstrdup("a malformed command from the loop");
		return -1;
	}
	/* [u32 nkeys][empty_is_null][kind per column][the side's zone] */
	how.kinds = xcalloc((size_t)ncols + 1, sizeof *how.kinds);
	for (i = 0; i < ncols; i++)
		how.kinds[i] = (enum rec_kind)cmd[5 + i];
	how.g = xcalloc((size_t)ncols + 1, sizeof *how.g);
	how.off = xcalloc((size_t)ncols + 1, sizeof *how.off);
	how.empty = cmd[4];
	if (cmdlen > 5 + (size_t)ncols)
		tz = xstrndup(cmd + 5 + ncols, cmdlen - 5 - (size_t)ncols);
	how.tz = tz;
	how.skip_time = !rec_tz_fixed(tz, &off);
	ctx.nkeys = (int)rec_get32(cmd);
	ctx.numkey = xcalloc((size_t)ncols + 1, sizeof *ctx.numkey);
	for (i = 0; i < ncols && i < ctx.nkeys; i++)
		ctx.numkey[i] = how.kinds[i] == REC_NUMBER;
	ctx.a = xcalloc((size_t)ncols + 1, sizeof *ctx.a);
	ctx.b = xcalloc((size_t)ncols + 1, sizeof *ctx.b);
	r = rec_work_ordered(w, &ctx, ncols, &how, err);
	if (r == 1)
		r = rec_work_direct(job, w, &ctx, ncols, &how, err);
	else if (r == 0)
		r = rec_work_sorted(job, w, &ctx, ncols, &how, err);
	free(ctx.numkey);
	free(ctx.a);
	free(ctx.b);
	free(how.kinds);
	free(how.g);
	free(how.off);
	free(tz);
	return r;
}

/* The first n fields of a packed row (the sort reads only the key). */
static void
rec_row_keys(const char *data, size_t len, struct rec_field *f, int n)
{
	size_t at = 0, l;
	int i;

	for (i = 0; i < n && len - at >= 5; i++) {
		l = rec_get32(data + at + 1);
		f[i].null = data[at] != 0;
		f[i].p = data + at + 5;
		f[i].len = l <= len - at - 5 ? l : len - at - 5;
		at += 5 + f[i].len;
	}
}

/* Field f as a sort prefix if rec_is_int (reconcile.c) takes it for an
 * integer (0 or -?[1-9][0-9]*) and it fits in an int64: the value plus
 * 2^63, so that unsigned order is numeric order. 1, or 0 if not one. */
static int
rec_prefix_int(const struct rec_field *f, uint64_t *prefix)
{
	size_t neg = f->len > 0 && f->p[0] == '-', i = neg;
	uint64_t m = 0, top = (uint64_t)1 << 63;

	if (i >= f->len || f->len - i > 19 || (f->p[i] == '0' && (neg ||
	    f->len > 1)))
		return 0;
	for (; i < f->len; i++) {
		if (f->p[i] < '0' || f->p[i] > '9')
			return 0;
		m = m * 10 + (uint64_t)(f->p[i] - '0'); /* 19 digits fit */
	}
	if (m > (neg ? top : top - 1))
		return 0;
	*prefix = neg ? top - m : top + m;
	return 1;
}

/* The first 8 bytes of f, big-endian, zero-padded. */
static uint64_t
rec_prefix_bytes(const struct rec_field *f)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < 8; i++)
		v = v << 8 | (i < f->len ? (unsigned char)f->p[i] : 0);
	return v;
}

unsigned
rec_sort_prefix(const int *numkey, int nkeys, const char *row, size_t len,
    uint64_t *prefix)
{
	struct rec_field f = { .null = 1 };

	*prefix = 0;
	if (nkeys < 1)
		return 0;
	rec_row_keys(row, len, &f, 1);
	if (f.null)
		return 0; /* NULLs last: the comparator */
	if (!numkey[0]) {
		*prefix = rec_prefix_bytes(&f);
		return REC_PREFIX_BYTES;
	}
	/* a number: only integers have an order-keeping prefix */
	if (rec_prefix_int(&f, prefix))
		return REC_PREFIX_INT | (nkeys == 1 ? EXTSORT_EXACT : 0);
	return 0;
}

/* Two packed rows by their keys, as the merge orders them. */
static int
rec_sort_cmp(const char *a, size_t alen, const char *b, size_t blen,
    void *arg)
{
	struct rec_sortctx *c = arg;

	rec_row_keys(a, alen, c->a, c->nkeys);
	rec_row_keys(b, blen, c->b, c->nkeys);
	return rec_keys_order(c->numkey, c->nkeys, c->a, c->b);
}

/* -------------------------------------------- as a side of an attempt */

/* What the attempt's side keeps. */
struct rec_wimpl {
	const struct rec_source_ops *src;
	void *state;            /* until the worker has it */
	struct rec_wside *ts;
	char *failure;          /* reported from the loop, not from inside */
	struct rec_conn *c;
};

static void rw_on_described(void *);
static void rw_on_ready(void *);
static void rw_on_failed(void *, const char *);
static void rw_fail_now(void *);
static void rw_ready_now(void *);

const struct rec_side_ops *
rec_side_ops_for(const struct rb_query *q)
{
	return rec_source_ops_of(q) != NULL ? &rec_side_worker_ops :
	    &rec_side_pg_ops;
}

static int
rw_open(struct rec_conn *c, const struct rb_query *q, char **err)
{
	struct rec_wimpl *w = xcalloc(1, sizeof *w);
	const char *secret;
	char *why = NULL;

	c->impl = w;
	w->c = c;
	w->src = rec_source_ops_of(q);
	c->target = q->file != NULL ? q->file : q->target->name;
	if (c->value_mode) {
		xasprintf(err, "step %s: %s: compare: value needs a postgres "
		    "side", c->step, c->label);
		return -1;
	}
	if ((w->state = w->src->open(c->rb, c->entity, q, &why)) == NULL) {
		xasprintf(err, "%s %s: %s", c->label, c->target, why);
		free(why);
		return -1;
	}
	if ((secret = w->src->secret(w->state)) != NULL && *secret != '\0')
		rec_side_secret(c, secret);
	return 0;
}

/* Start the worker; it describes the columns, then waits. */
static void
rw_begin(struct rec_conn *c)
{
	static const struct rec_side_cbs cbs = {
		.described = rw_on_described,
		.ready = rw_on_ready,
		.failed = rw_on_failed,
	};
	struct rec_wimpl *w = c->impl;

	w->ts = rec_side_start(c->loop, w->src, w->state, c->target,
	    c->timeout_ms, &cbs, w);
	w->state = NULL; /* the worker's now */
}

/* The columns are known: copy them for the attempt. */
static void
rw_on_described(void *arg)
{
	struct rec_wimpl *w = arg;
	struct rec_conn *c = w->c;
	char *const *names;
	const struct rec_col *cols;
	int i;

	rec_side_columns(w->ts, &c->ncols, &names, &cols);
	c->names = xcalloc((size_t)c->ncols + 1, sizeof *c->names);
	c->cols = xcalloc((size_t)c->ncols + 1, sizeof *c->cols);
	for (i = 0; i < c->ncols; i++) {
		c->names[i] = xstrdup(names[i]);
		c->cols[i].kind = cols[i].kind;
		c->cols[i].type = xstrdup(cols[i].type);
	}
	c->described = 1;
	rec_side_described(c);
}

/*
 * A row (or the end) after a wait: the merge goes on from the loop, not
 * from inside the job's frame handling (which pauses after this).
 */
static void
rw_on_ready(void *arg)
{
	struct rec_wimpl *w = arg;

	loop_defer(w->c->loop, rw_ready_now, w);
}

static void
rw_ready_now(void *arg)
{
	struct rec_wimpl *w = arg;

	if (!rec_side_over(w->c))
		rec_side_input(w->c);
}

/* Reported later: the side may be inside the job's frame handling. */
static void
rw_on_failed(void *arg, const char *why)
{
	struct rec_wimpl *w = arg;

	if (rec_side_over(w->c) || w->failure != NULL)
		return;
	w->failure = xstrdup(why);
	loop_defer(w->c->loop, rw_fail_now, w);
}

static void
rw_fail_now(void *arg)
{
	struct rec_wimpl *w = arg;

	if (!rec_side_over(w->c))
		rec_side_fail(w->c, w->failure);
}

/* Rows come canonical from the worker, unless their timestamps are read
 * in a named zone (which needs the process's TZ: the loop's work). */
static void
rw_stream(struct rec_conn *c, const struct rec_merge *m)
{
	struct rec_wimpl *w = c->impl;

	c->streaming = 1;
	c->canonical = rec_side_stream(w->ts, m->eff, m->nkeys,
	    m->opts.empty_is_null, c->tz);
}

static int
rw_fetch(struct rec_conn *c)
{
	struct rec_wimpl *w = c->impl;
	struct rec_field *row;
	int r;

	if (c->have_row || c->eof)
		return 1;
	if (w->ts == NULL || !c->streaming)
		return 0;
	if ((r = rec_side_fetch(w->ts, &row)) == 0)
		return 0;
	if (r < 0) {
		c->eof = 1;
		return 1;
	}
	c->fields = row;
	c->have_row = 1;
	return 1;
}

static void
rw_drop(struct rec_conn *c)
{
	struct rec_wimpl *w = c->impl;

	if (c->have_row && w->ts != NULL)
		rec_side_drop(w->ts);
	c->have_row = 0;
}

/* Cancel the worker's statement and let it go. */
static void
rw_close(struct rec_conn *c)
{
	struct rec_wimpl *w = c->impl;

	if (w == NULL)
		return;
	loop_defer_cancel(c->loop, rw_fail_now, w);
	loop_defer_cancel(c->loop, rw_ready_now, w);
	rec_side_free(w->ts);
	w->ts = NULL;
	c->have_row = 0;
	c->fields = NULL;
}

static void
rw_free(struct rec_conn *c)
{
	struct rec_wimpl *w = c->impl;
	int i;

	if (w == NULL)
		return;
	rw_close(c);
	if (w->state != NULL)
		w->src->free(w->state);
	for (i = 0; c->cols != NULL && i < c->ncols; i++)
		free((char *)c->cols[i].type);
	free(w->failure);
	free(w);
	c->impl = NULL;
}

const struct rec_side_ops rec_side_worker_ops = {
	.name = "worker",
	.open = rw_open,
	.begin = rw_begin,
	.stream = rw_stream,
	.fetch = rw_fetch,
	.drop = rw_drop,
	.close = rw_close,
	.free = rw_free,
};
