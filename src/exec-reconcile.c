/*
 * exec-reconcile.c - reconcile steps: a source against a dest.
 *
 * Each side is a struct rec_conn driven through its implementation's
 * struct rec_side_ops (rec-int.h): a query on a postgres target
 * (rec-side-pg.c: libpq in the loop, sorted by the server), or a query on
 * an odbc target or a file (rec-side.c: read and sorted by the tool in a
 * worker thread). Nothing here blocks.
 *
 * compare: value runs each query and compares the one value.
 *
 * compare: rows waits until both sides know their columns, sets up the
 * merge (reconcile.h: how each column compares, by meaning, from both
 * sides' kinds), asks each side to stream its rows in the merge's key
 * order, and merges one row of each side at a time: a side whose current
 * row waits for the other side is not read from, so memory stays bounded
 * whatever the row counts. Each row is checked to come at or after the
 * previous one, so an order the merge does not expect fails the step
 * instead of miscounting. Every difference is kept in the state
 * (state_diffs_add), in batches, besides the samples of the result.
 *
 * A timeout or a cancel closes both sides at once (each cancels what runs
 * on its server).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "exec.h"
#include "exec-stop.h"
#include "expand.h"
#include "json.h"
#include "loop.h"
#include "outbuf.h"
#include "pg.h"
#include "rec-checksum.h"
#include "rec-int.h"
#include "rec-side.h"
#include "reconcile.h"
#include "runbook.h"
#include "state.h"
#include "xmalloc.h"

#define REC_BATCH 8192         /* merge steps per pass of the loop */
#define REC_PROGRESS_MS 1000
#define REC_DIFF_BATCH 512     /* differences stored per transaction */

struct exec {
	struct exec_req req;
	struct rec_conn side[2];
	char *appname; /* "cutover TOKEN": both sessions carry it */
	char **secrets;
	struct rec_merge merge;
	int merging;
	const char *method; /* compare: rows: "stream" or "checksum" */
	struct rec_checksum *cs; /* method: checksum or auto, on postgres */
	int checksum;            /* cs compares (else both sides stream) */
	void (*rows_done)(struct exec *); /* both sides' rows merged */
	int released, finished;
	int64_t compared;
	int64_t stream_start;
	struct exec_stop *stop; /* the deadline and the reason */
	struct loop_timer *progress;
	struct exec_result result;
	/* every difference, kept in the state in batches */
	struct state *st;
	int64_t run;
	char *token;
	int64_t diff_seq;
	struct diff_row diffs[REC_DIFF_BATCH];
	size_t ndiffs;
	int diff_failed;
};

static struct exec *reconcile_start(const struct exec_req *, char **);
static int64_t reconcile_pgid(struct exec *);
static void reconcile_release(struct exec *);
static void reconcile_cancel(struct exec *, const char *);
static void reconcile_free(struct exec *);

static int rec_side_init(struct exec *, enum rec_side,
    const struct rb_query *, char **);
static void rec_diffs_setup(struct exec *, const struct exec_req *);
static void rec_on_diff(void *, int, const struct rec_field *,
    const struct rec_field *, const char *);
static void rec_diffs_flush(struct exec *);
static void rec_watch_all(struct exec *);
static void rec_value_end(struct exec *);
static void rec_rows_begin(struct exec *);
static void rec_rows_announce(struct exec *);
static void rec_method_decide(struct exec *);
static void rec_method_run(struct exec *, int, const char *);
static void rec_result_method(struct exec *, struct buf *);
static void rec_cs_merge(void *);
static void rec_cs_done(void *);
static void rec_cs_chosen(void *, int, const char *);
static void rec_cs_output(void *, const char *);
static void rec_cs_range_end(struct exec *);

static const struct rec_checksum_cbs rec_cs_cbs = {
	.merge = rec_cs_merge,
	.done = rec_cs_done,
	.chosen = rec_cs_chosen,
	.output = rec_cs_output,
};
static void rec_pump(struct exec *);
static int rec_conn_fetch(struct rec_conn *);
static void rec_rows_end(struct exec *);
static void rec_on_more(void *);
static void rec_on_progress(void *);
static int rec_stop_cancel(void *);
static void rec_stop(struct exec *, const char *);
static void rec_finish(struct exec *, int, const char *);
static void rec_on_done(void *);
static void rec_output(struct exec *, const char *);

/* A stop closes both sides at once: no grace period. */
static const struct exec_stop_ops rec_stop_ops = {
	.cancel = rec_stop_cancel,
};

const struct exec_ops exec_reconcile_ops = {
	.name = "reconcile",
	.start = reconcile_start,
	.pgid = reconcile_pgid,
	.release = reconcile_release,
	.cancel = reconcile_cancel,
	.free = reconcile_free,
	.recover = exec_reconcile_recover,
};

/* Check the step, open both sides (expanded now). */
static struct exec *
reconcile_start(const struct exec_req *req, char **err)
{
	const struct rb_step *d = req->def;
	struct exec *e;

	if (d == NULL || (d->compare != COMPARE_VALUE &&
	    d->compare != COMPARE_ROWS)) {
		xasprintf(err, "step %s: reconcile needs compare: value or rows",
		    req->step);
		return NULL;
	}
	e = xcalloc(1, sizeof *e);
	e->req = *req;
	e->stop = exec_stop_new(req->loop, &rec_stop_ops, e, 0);
	e->req.command = NULL;
	e->appname = pg_appname_from_env(req->env);
	e->result.exit_code = -1;
	e->secrets = expand_secret_values(req->rb);
	rec_diffs_setup(e, req);
	if (rec_side_init(e, REC_SOURCE, &d->source, err) != 0 ||
	    rec_side_init(e, REC_DEST, &d->dest, err) != 0) {
		reconcile_free(e);
		return NULL;
	}
	e->side[0].env = e->side[1].env = NULL;
	e->req.env = NULL;
	return e;
}

/* Where the differences go: the attempt's run and token, from its
 * environment. */
static void
rec_diffs_setup(struct exec *e, const struct exec_req *req)
{
	const char *const *v;

	e->st = req->st;
	for (v = req->env; v != NULL && *v != NULL; v++) {
		if (strncmp(*v, "CUTOVER_RUN=", 12) == 0)
			e->run = strtoll(*v + 12, NULL, 10);
		else if (strncmp(*v, "CUTOVER_ATTEMPT=", 16) == 0)
			e->token = xstrdup(*v + 16);
	}
	if (e->token == NULL || e->run <= 0)
		e->st = NULL;
}

/* A row's values as a JSON array (n of them), redacted. */
static char *
rec_diff_values(struct exec *e, const struct rec_field *f, int n)
{
	struct buf b = { 0 };
	char *v, *clean;
	int i;

	buf_addc(&b, '[');
	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_addc(&b, ',');
		if (f[i].null) {
			buf_adds(&b, "null");
			continue;
		}
		v = xstrndup(f[i].p, f[i].len);
		json_str(&b, v);
		free(v);
	}
	buf_addc(&b, ']');
	clean = outbuf_redact(e->secrets, buf_str(&b));
	buf_free(&b);
	return clean;
}

/* One difference: queued, stored when the batch is full. */
static void
rec_on_diff(void *arg, int kind, const struct rec_field *s,
    const struct rec_field *d, const char *columns)
{
	static const char *const kinds[] = { "missing", "extra", "changed" };
	struct exec *e = arg;
	struct diff_row *r;

	if (e->st == NULL || e->diff_failed)
		return;
	r = &e->diffs[e->ndiffs++];
	r->seq = ++e->diff_seq;
	r->kind = kinds[kind];
	r->key = rec_diff_values(e, s != NULL ? s : d, e->merge.nkeys);
	r->source = s != NULL ? rec_diff_values(e, s, e->merge.ncols) : NULL;
	r->dest = d != NULL ? rec_diff_values(e, d, e->merge.ncols) : NULL;
	r->columns = columns != NULL ? xstrdup(columns) : NULL;
	if (e->ndiffs == REC_DIFF_BATCH)
		rec_diffs_flush(e);
}

/* Store the queued differences; a store that fails stops the keeping
 * (the samples and counts still stand), and says so. */
static void
rec_diffs_flush(struct exec *e)
{
	size_t i;

	if (e->ndiffs > 0 && e->st != NULL && !e->diff_failed &&
	    state_diffs_add(e->st, e->run, e->req.step, e->token, e->diffs,
	    e->ndiffs) != STATE_OK) {
		char *line;

		e->diff_failed = 1;
		xasprintf(&line, "[cutover: the differences could not all be "
		    "stored (%s); `cutover diff` will show only part of them]\n",
		    state_error(e->st));
		rec_output(e, line);
		free(line);
	}
	for (i = 0; i < e->ndiffs; i++) {
		free((char *)e->diffs[i].key);
		free((char *)e->diffs[i].source);
		free((char *)e->diffs[i].dest);
		free((char *)e->diffs[i].columns);
	}
	e->ndiffs = 0;
}

/* One side: its implementation, opened now. */
static int
rec_side_init(struct exec *e, enum rec_side which, const struct rb_query *q,
    char **err)
{
	struct rec_conn *c = &e->side[which];

	c->e = e;
	c->which = which;
	c->label = which == REC_SOURCE ? "source" : "dest";
	c->tz = q->timezone;
	c->loop = e->req.loop;
	c->rb = e->req.rb;
	c->entity = e->req.entity;
	c->step = e->req.step;
	c->appname = e->appname;
	c->env = e->req.env;
	c->value_mode = e->req.def->compare == COMPARE_VALUE;
	c->timeout_ms = e->req.timeout_ms;
	c->target = "?";
	c->ops = rec_side_ops_for(q);
	return c->ops->open(c, q, err);
}

/* ------------------------------------------- what sides call back */

void
rec_side_secret(struct rec_conn *c, const char *value)
{
	struct exec *e = c->e;
	size_t n;

	for (n = 0; e->secrets[n] != NULL; n++)
		;
	e->secrets = xreallocarray(e->secrets, n + 2, sizeof *e->secrets);
	e->secrets[n] = xstrdup(value);
	e->secrets[n + 1] = NULL;
}

int
rec_side_over(const struct rec_conn *c)
{
	return c->e->finished;
}

void
rec_side_described(struct rec_conn *c)
{
	rec_rows_begin(c->e);
}

void
rec_side_value_done(struct rec_conn *c)
{
	rec_value_end(c->e);
}

/* A side has input, or a row after a wait: merge, then watch again. */
void
rec_side_input(struct rec_conn *c)
{
	struct exec *e = c->e;

	if (!e->finished && e->merging)
		rec_pump(e);
	if (!e->finished)
		rec_watch_all(e);
}

/* An answer for the checksum (nothing else asks). */
void
rec_side_answer(struct rec_conn *c, int nrows, int ncols, char **cells)
{
	int i;

	if (c->e->cs != NULL && !c->e->finished) {
		rec_checksum_answer(c->e->cs, c->which, nrows, ncols, cells);
		return;
	}
	for (i = 0; i < nrows * ncols; i++)
		free(cells[i]);
	free(cells);
}

void
rec_side_output(struct rec_conn *c, const char *text)
{
	rec_output(c->e, text);
}

/* The attempt fails because of one side: "source legacy_db: WHY". */
void
rec_side_fail(struct rec_conn *c, const char *why)
{
	char *msg;

	if (c->e->finished)
		return;
	xasprintf(&msg, "%s %s: %s", c->label, c->target, why);
	rec_output(c->e, msg);
	rec_output(c->e, "\n");
	rec_finish(c->e, 0, msg);
	free(msg);
}

/* ------------------------------------------------------ the attempt */

static int64_t
reconcile_pgid(struct exec *e)
{
	(void)e;
	return 0;
}

/* Recorded as running: begin both sides, start the clocks. */
static void
reconcile_release(struct exec *e)
{
	const struct rb_step *d = e->req.def;
	char *msg;

	if (e->finished || e->released)
		return;
	e->released = 1;
	exec_stop_arm(e->stop, e->req.timeout_ms);
	e->progress = loop_timer_add(e->req.loop, REC_PROGRESS_MS,
	    rec_on_progress, e);
	if (d->compare == COMPARE_VALUE) {
		xasprintf(&msg, "comparing a value: source %s, dest %s\n",
		    e->side[0].target, e->side[1].target);
		rec_output(e, msg);
		free(msg);
	}
	e->side[REC_SOURCE].ops->begin(&e->side[REC_SOURCE]);
	if (!e->finished)
		e->side[REC_DEST].ops->begin(&e->side[REC_DEST]);
}

static void
reconcile_cancel(struct exec *e, const char *why)
{
	exec_stop_cancel(e->stop, why);
}

/* Each side reads from the network only while it has no row waiting. */
static void
rec_watch_all(struct exec *e)
{
	int i;

	for (i = 0; i < 2; i++) {
		if (e->side[i].ops->watch != NULL)
			e->side[i].ops->watch(&e->side[i]);
	}
}

/* Both values are in: compare them. */
static void
rec_value_end(struct exec *e)
{
	struct rec_conn *s = &e->side[0], *d = &e->side[1];
	struct buf json = { 0 }, human = { 0 };
	const char *diff;
	char *msg;
	int i, ok;

	if (!s->value_done || !d->value_done)
		return;
	for (i = 0; i < 2; i++) {
		if (e->side[i].nrows == 1 && e->side[i].ncols == 1)
			continue;
		xasprintf(&msg, "the query returned %lld row%s of %d column%s; "
		    "compare: value needs one row of one column",
		    (long long)e->side[i].nrows, e->side[i].nrows == 1 ? "" : "s",
		    e->side[i].ncols, e->side[i].ncols == 1 ? "" : "s");
		rec_side_fail(&e->side[i], msg);
		free(msg);
		return;
	}
	ok = rec_value_compare(s->value, s->value_oid, d->value, d->value_oid,
	    e->req.def->tolerance, &json, &human);
	diff = strstr(buf_str(&json), "\"difference\":");
	if (!ok)
		xasprintf(&msg, "the values differ: source %s, dest %s "
		    "(tolerance %g)", s->value != NULL ? s->value : "NULL",
		    d->value != NULL ? d->value : "NULL", e->req.def->tolerance);
	else if (diff != NULL && strtod(diff + 13, NULL) != 0)
		xasprintf(&msg, "within tolerance: difference %.*s <= %g",
		    (int)strcspn(diff + 13, ",}"), diff + 13,
		    e->req.def->tolerance);
	else
		msg = NULL;
	e->result.result = buf_steal(&json);
	rec_output(e, buf_str(&human));
	buf_free(&human);
	rec_finish(e, ok, msg);
	free(msg);
}

/* Both sides described: check they can be compared, then read both. */
static void
rec_rows_begin(struct exec *e)
{
	struct rec_conn *s = &e->side[0], *d = &e->side[1];
	struct rec_opts opts = { 0 };
	char *err = NULL;

	if (!s->described || !d->described)
		return;
	if (s->ncols != d->ncols) {
		xasprintf(&err, "source returns %d column%s, dest %d: compare: "
		    "rows needs the same number", s->ncols, s->ncols == 1 ? "" :
		    "s", d->ncols);
		rec_finish(e, 0, err);
		free(err);
		return;
	}
	opts.empty_is_null = e->req.def->empty_is_null;
	opts.tz[0] = s->tz;
	opts.tz[1] = d->tz;
	if (rec_merge_init_cols(&e->merge, s->ncols, e->req.def->key, s->names,
	    s->cols, d->cols, &opts, &err) != 0) {
		rec_finish(e, 0, err);
		free(err);
		return;
	}
	e->merge.on_diff = rec_on_diff;
	e->merge.diff_arg = e;
	rec_method_decide(e);
}

/* Say which columns are the key and which are compared. */
static void
rec_rows_announce(struct exec *e)
{
	struct buf b = { 0 };
	int i;

	for (i = 0; i < e->merge.ncols; i++)
		buf_printf(&b, "%s%s", i == 0 ? "key: " : i == e->merge.nkeys ?
		    "; compared: " : ", ", e->merge.names[i]);
	if (e->merge.ncols == e->merge.nkeys)
		buf_adds(&b, "; no other columns");
	buf_addc(&b, '\n');
	rec_output(e, buf_str(&b));
	buf_free(&b);
}

/*
 * Which method reads the rows: stream when the step says so; checksum
 * when it says so and both sides can hash their rows in SQL (else the
 * attempt fails saying why); auto: stream when a side cannot, or when
 * both servers are on this machine (no link to spare), else checksum
 * when the servers estimate many rows.
 */
static void
rec_method_decide(struct exec *e)
{
	struct rec_conn *sides[2] = { &e->side[0], &e->side[1] };
	enum rb_method want = e->req.def->method;
	char *why, *msg;

	if (want == RB_METHOD_STREAM) {
		rec_method_run(e, 0, "the step says stream");
		return;
	}
	if ((why = rec_checksum_cannot(sides, &e->merge)) != NULL) {
		xasprintf(&msg, "%s: %s", want == RB_METHOD_CHECKSUM ?
		    "method: checksum cannot be used" : "auto", why);
		if (want == RB_METHOD_CHECKSUM)
			rec_finish(e, 0, msg);
		else
			rec_method_run(e, 0, msg);
		free(msg);
		free(why);
		return;
	}
	e->cs = rec_checksum_new(sides, &e->merge, e->req.def->bisection_factor,
	    e->req.def->bisection_threshold, &rec_cs_cbs, e);
	if (want == RB_METHOD_CHECKSUM)
		rec_method_run(e, 1, "the step says checksum");
	else if (sides[0]->ops->hash->local(sides[0]) &&
	    sides[1]->ops->hash->local(sides[1]))
		rec_method_run(e, 0, "auto: both servers on this machine, "
		    "fetching rows costs no link");
	else
		rec_checksum_auto(e->cs);
}

/* Say the method and why (the attempt's first line of rows), then run. */
static void
rec_method_run(struct exec *e, int checksum, const char *why)
{
	char *line;
	int i;

	e->checksum = checksum;
	e->method = checksum ? "checksum" : "stream";
	e->rows_done = checksum ? rec_cs_range_end : rec_rows_end;
	xasprintf(&line, "method: %s (%s)\ncomparing rows: source %s, dest "
	    "%s\n", e->method, why, e->side[0].target, e->side[1].target);
	rec_output(e, line);
	free(line);
	rec_rows_announce(e);
	e->stream_start = loop_now();
	if (checksum) {
		rec_checksum_start(e->cs);
		return;
	}
	e->merging = 1;
	for (i = 0; i < 2 && !e->finished; i++) {
		e->side[i].ahead = 1;
		e->side[i].ops->stream(&e->side[i], &e->merge);
	}
	/* A side read by a worker says nothing until asked: start. */
	if (!e->finished)
		loop_defer(e->req.loop, rec_on_more, e);
}

/* checksum: a range streams on both sides: merge it. */
static void
rec_cs_merge(void *arg)
{
	struct exec *e = arg;

	e->merging = 1;
	loop_defer(e->req.loop, rec_on_more, e);
}

/* checksum: the range's rows are merged: the next range. */
static void
rec_cs_range_end(struct exec *e)
{
	e->merging = 0;
	rec_checksum_fetched(e->cs);
}

static void
rec_cs_done(void *arg)
{
	rec_rows_end(arg);
}

static void
rec_cs_chosen(void *arg, int checksum, const char *why)
{
	rec_method_run(arg, checksum, why);
}

static void
rec_cs_output(void *arg, const char *line)
{
	rec_output(arg, line);
}

/* The result object gains "method" (and, for checksum, what it did). */
static void
rec_result_method(struct exec *e, struct buf *json)
{
	if (json->len == 0 || json->data[json->len - 1] != '}')
		return;
	json->len--;
	buf_printf(json, ",\"method\":\"%s\"", e->method);
	if (e->checksum)
		rec_checksum_json(e->cs, json);
	buf_addc(json, '}');
}

/*
 * Merge what both sides have, a batch at a time; stop when a side must
 * wait (a postgres side's socket is then watched, the other's not).
 */
static void
rec_pump(struct exec *e)
{
	struct rec_conn *s = &e->side[0], *d = &e->side[1];
	int n, take;

	for (n = 0; n < REC_BATCH; n++) {
		if (!rec_conn_fetch(s) || e->finished || !rec_conn_fetch(d) ||
		    e->finished)
			return;
		if (s->eof && d->eof) {
			e->rows_done(e);
			return;
		}
		take = rec_merge_step(&e->merge, s->have_row ? s->fields : NULL,
		    d->have_row ? d->fields : NULL);
		s->ahead = d->ahead = 0;
		if (take & REC_TAKE_SOURCE)
			s->ops->drop(s);
		if (take & REC_TAKE_DEST)
			d->ops->drop(d);
		e->compared++;
	}
	/* More may be buffered: come back after the loop has looked around. */
	loop_defer(e->req.loop, rec_on_more, e);
}

/*
 * Make sure the side has a current row or has ended; 0: must wait. A new
 * row is made canonical and checked to come in key order.
 */
static int
rec_conn_fetch(struct rec_conn *c)
{
	char *err = NULL;
	int had = c->have_row || c->eof;

	if (c->ops->fetch(c) <= 0)
		return 0;
	if (had || !c->have_row)
		return 1;
	if (!c->canonical && !c->row_canonical)
		rec_merge_normalize(&c->e->merge, c->which, c->fields);
	if (rec_merge_arrive(&c->e->merge, c->which, c->fields, &err) == 0)
		return 1;
	rec_side_fail(c, err);
	free(err);
	return 0;
}

static void
rec_on_more(void *arg)
{
	struct exec *e = arg;

	if (e->finished)
		return;
	rec_pump(e);
	if (!e->finished)
		rec_watch_all(e);
}

/* Both streams ended: the verdict, the result, and a summary. */
static void
rec_rows_end(struct exec *e)
{
	struct buf json = { 0 }, human = { 0 };
	double tol = e->req.def->tolerance;
	int64_t diffs = rec_merge_differences(&e->merge);
	char *msg = NULL;
	int ok = (double)diffs <= tol;

	rec_diffs_flush(e);
	rec_merge_json(&e->merge, &json);
	rec_result_method(e, &json);
	e->result.result = buf_steal(&json);
	rec_merge_summary(&e->merge, tol, &human);
	rec_output(e, buf_str(&human));
	buf_free(&human);
	if (diffs > 0)
		xasprintf(&msg, "%s%lld difference%s (missing %lld, extra %lld, "
		    "changed %lld) %s %g", ok ? "within tolerance: " : "",
		    (long long)diffs, diffs == 1 ? "" : "s",
		    (long long)e->merge.missing, (long long)e->merge.extra,
		    (long long)e->merge.changed, ok ? "<=" :
		    "exceed the tolerance of", tol);
	rec_finish(e, ok, msg);
	free(msg);
}

/* Once a second while rows stream: how far, how fast. */
static void
rec_on_progress(void *arg)
{
	struct exec *e = arg;
	int64_t ms;
	char *line;

	e->progress = loop_timer_add(e->req.loop, REC_PROGRESS_MS,
	    rec_on_progress, e);
	if (e->checksum) {
		struct buf b = { 0 };

		rec_checksum_progress(e->cs, &b);
		rec_output(e, buf_str(&b));
		buf_free(&b);
		return;
	}
	if (!e->merging || e->compared == 0)
		return;
	ms = loop_now() - e->stream_start;
	xasprintf(&line, "compared %lld rows (%lld rows/s)\n",
	    (long long)e->compared, (long long)(ms > 0 ? e->compared * 1000 /
	    ms : e->compared));
	rec_output(e, line);
	free(line);
}

/* The deadline passed or the step was cancelled (exec-stop.h). */
static int
rec_stop_cancel(void *arg)
{
	struct exec *e = arg;

	rec_stop(e, exec_stop_why(e->stop));
	return 0;
}

/* Stop now: cancel what runs, close both connections, fail with why. */
static void
rec_stop(struct exec *e, const char *why)
{
	char *line;

	if (e->finished)
		return;
	if (e->released) {
		if (e->merging)
			xasprintf(&line, "%s (%lld rows compared)\n", why,
			    (long long)e->compared);
		else
			xasprintf(&line, "%s\n", why);
		rec_output(e, line);
		free(line);
	}
	rec_finish(e, 0, why);
}

/* Record the outcome and let both connections go; done() follows. */
static void
rec_finish(struct exec *e, int ok, const char *msg)
{
	int i;

	if (e->finished)
		return;
	e->finished = 1;
	rec_diffs_flush(e); /* what was found before a failure is kept */
	exec_stop_finish(e->stop);
	loop_timer_cancel(e->req.loop, e->progress);
	loop_defer_cancel(e->req.loop, rec_on_more, e);
	e->progress = NULL;
	for (i = 0; i < 2; i++) {
		if (e->side[i].ops != NULL)
			e->side[i].ops->close(&e->side[i]);
	}
	e->result.ok = ok;
	e->result.timed_out = exec_stop_timed_out(e->stop);
	/* A pass says so only when there were differences it tolerated. */
	if (!ok || msg != NULL)
		e->result.message = outbuf_redact(e->secrets, msg != NULL ? msg :
		    "failed");
	loop_defer(e->req.loop, rec_on_done, e);
}

static void
rec_on_done(void *arg)
{
	struct exec *e = arg;

	e->req.done(&e->result, e->req.arg);
}

/* Output, less any secret. */
static void
rec_output(struct exec *e, const char *s)
{
	char *clean = outbuf_redact(e->secrets, s);

	e->req.output(clean, strlen(clean), e->req.arg);
	free(clean);
}

/* Both sides' sessions of the attempt, ended (see exec_sql_recover). */
int
exec_reconcile_recover(const struct exec_orphan *o, int64_t wait_ms,
    char **why)
{
	const struct rb_query *q[2];
	struct exec_orphan side = *o;
	char *w[2] = { NULL, NULL };
	int rc[2], i;

	*why = NULL;
	if (o->def == NULL)
		return exec_sql_recover(o, wait_ms, why);
	q[0] = &o->def->source;
	q[1] = &o->def->dest;
	for (i = 0; i < 2; i++) {
		side.target = q[i]->target;
		/* A worker side only read, on a connection that died with
		 * its driver: nothing to end. */
		rc[i] = rec_side_ops_for(q[i]) != &rec_side_pg_ops ?
		    EXEC_ORPHAN_GONE :
		    exec_sql_recover(&side, wait_ms, &w[i]);
	}
	i = rc[0] == EXEC_ORPHAN_STUCK || (rc[0] == EXEC_ORPHAN_UNKNOWN &&
	    rc[1] != EXEC_ORPHAN_STUCK) ? 0 : 1;
	*why = w[i];
	w[i] = NULL;
	free(w[0]);
	free(w[1]);
	return rc[i];
}

static void
reconcile_free(struct exec *e)
{
	struct rec_conn *c;
	int i, j;

	exec_stop_free(e->stop);
	loop_timer_cancel(e->req.loop, e->progress);
	loop_defer_cancel(e->req.loop, rec_on_more, e);
	loop_defer_cancel(e->req.loop, rec_on_done, e);
	for (i = 0; i < 2; i++) {
		c = &e->side[i];
		if (c->ops != NULL) {
			c->ops->close(c);
			c->ops->free(c);
		}
		for (j = 0; c->names != NULL && j < c->ncols; j++)
			free(c->names[j]);
		free(c->names);
		free(c->cols);
		free(c->value);
		if (c->ops == &rec_side_pg_ops)
			free(c->fields);
	}
	e->st = NULL;
	rec_diffs_flush(e); /* frees what is queued */
	free(e->token);
	rec_checksum_free(e->cs);
	rec_merge_free(&e->merge);
	free(e->appname);
	expand_free_list(e->secrets);
	free(e->result.message);
	free(e->result.result);
	free(e);
}
