/*
 * exec-reconcile.c - reconcile steps: a source query against a dest query.
 *
 * Each step opens two connections of its own, one per side, even when both
 * sides name the same target: both sides stream at once, and a connection
 * carries one query at a time. (The sql executor's cache would make the
 * second side wait for the first to finish, and hold every row meanwhile.)
 * Both connections are driven by the loop with libpq's asynchronous calls;
 * nothing here blocks. The sessions are set so that a value's text form
 * says what it means: UTF-8, TimeZone UTC (timestamptz as instants), ISO
 * dates, extra_float_digits 3 (floats exact), read-only transactions.
 *
 * compare: value runs each query as it is (one statement, single-row mode,
 * so a query that returns too much costs no memory) and compares the one
 * value.
 *
 * compare: rows first prepares each query wrapped in SELECT * FROM (...)
 * and describes it, which gives the column names and types without running
 * anything. With the types it asks each server for
 *   COPY (SELECT * FROM (query) q(c1, ...) ORDER BY keys) TO STDOUT
 * where text keys sort COLLATE "C" (bytes), numbers numerically, other
 * types by their text form COLLATE "C" (rec_order_by): two servers with
 * different collations then sort alike, in the order the merge compares
 * keys in (reconcile.c). COPY's text format is the cheapest way to stream
 * a result (no per-row protocol overhead beyond one message, no result
 * object), and PQgetCopyData(async) hands over one row at a time. The merge
 * holds one row per side: a side whose current row waits for the other
 * side is not read from at all (its socket is not watched), so the server
 * blocks on a full TCP window and memory stays bounded whatever the row
 * counts. Each row is checked to come at or after the previous one, so an
 * order the merge does not expect fails the step instead of miscounting.
 *
 * Each side is a struct pg_conn (pg-conn.h), named after the attempt
 * (application_name "cutover TOKEN"). A timeout or a cancel sends each
 * active query a cancel request (pg_conn_cancel) and closes both
 * connections at once: they are ours, nobody reuses them.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "buf.h"
#include "duration.h"
#include "exec.h"
#include "pg-conn.h"
#include "pg.h"
#include "expand.h"
#include "json.h"
#include "loop.h"
#include "outbuf.h"
#include "rec-side.h"
#include "reconcile.h"
#include "runbook.h"
#include "state.h"
#include "xmalloc.h"

#define REC_BATCH 8192         /* merge steps per pass of the loop */
#define REC_PROGRESS_MS 1000
#define REC_DIFF_BATCH 512     /* differences stored per transaction */

/* Make each value's text canonical, and keep the sessions read-only. */
static const char rec_session_sql[] =
    "SET client_encoding = 'UTF8'; SET TimeZone = 'UTC'; "
    "SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres'; "
    "SET extra_float_digits = 3; SET bytea_output = 'hex'; "
    "SET lc_monetary = 'C'; SET default_transaction_read_only = on";

enum rec_phase {
	RP_IDLE,
	RP_CONNECTING,
	RP_SETUP,     /* the SETs above */
	RP_PREPARE,   /* rows: the wrapped query */
	RP_DESCRIBE,  /* rows: its columns */
	RP_DESCRIBED, /* rows: waiting for the other side */
	RP_QUERY,     /* value: the query itself */
	RP_COPY_START,
	RP_COPY,     /* rows streaming */
	RP_COPY_END, /* the COPY's own result */
	RP_DONE,
};

/* One side: its connection and where it is. */
struct rec_conn {
	struct exec *e;
	enum rec_side which;
	const char *label; /* "source" or "dest" */
	const char *target;
	char *conninfo; /* expanded: may hold a password, never shown */
	char *query;    /* expanded, trailing ';' and blanks removed */
	struct pg_conn *pc;
	PGconn *pg; /* pc's, while it is open */
	enum rec_phase phase;
	pid_t cancel_pid;
	int ncols;
	unsigned *oids;
	char **names;
	int64_t nrows;  /* value: rows returned */
	char *value;    /* value: the first row's first column */
	int have_row;   /* rows: fields hold the current row */
	int eof;        /* rows: the COPY ended cleanly */
	char *row;      /* from PQgetCopyData */
	struct rec_field *fields;
	struct rec_col *cols; /* postgres: from the oids */
	/* A side read by a worker and sorted by the tool (rec-side.h):
	 * odbc targets and files; NULL ops for postgres. */
	const struct rec_side_ops *ops;
	void *state;          /* until the worker has it */
	struct rec_wside *ts;
	const char *tz;
	char *failure; /* a worker side's, until reported */
};

struct exec {
	struct exec_req req;
	struct rec_conn side[2];
	char *appname; /* "cutover TOKEN": both sessions carry it */
	const char *const *env; /* the request's, while starting */
	char **secrets;
	struct rec_merge merge;
	int merging;
	int released, finished, timed_out;
	int64_t compared;
	int64_t stream_start;
	struct loop_timer *timeout, *progress;
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
static int rec_side_open(struct exec *, struct rec_conn *,
    const struct rb_query *, char **);
static void rec_conn_begin(struct rec_conn *);
static void rec_ts_on_described(void *);
static void rec_ts_on_ready(void *);
static void rec_ts_on_failed(void *, const char *);
static void rec_ts_fail_now(void *);
static int rec_secrets_add(struct exec *, const char *, const char *,
    char **);
static char *rec_trim_query(char *);
static void rec_conn_connect(struct rec_conn *);
static void rec_conn_on_connected(struct pg_conn *, const char *, void *);
static void rec_conn_on_input(struct pg_conn *, void *);
static void rec_conn_on_lost(struct pg_conn *, const char *, void *);
static int rec_conn_reads(const struct rec_conn *);
static void rec_watch_all(struct exec *);
static int rec_conn_sent(struct rec_conn *, int, enum rec_phase);
static void rec_conn_flush(struct rec_conn *);
static void rec_conn_results(struct rec_conn *);
static void rec_conn_result(struct rec_conn *, PGresult *);
static void rec_conn_next(struct rec_conn *);
static void rec_conn_describe(struct rec_conn *, const PGresult *);
static void rec_conn_value(struct rec_conn *, const PGresult *);
static void rec_conn_sql_error(struct rec_conn *, const PGresult *);
static void rec_conn_lost(struct rec_conn *, const char *);
static void rec_conn_cancel(struct rec_conn *);
static void rec_conn_close(struct rec_conn *);
static void rec_conn_notice(struct pg_conn *, const char *, void *);
static void rec_value_end(struct exec *);
static void rec_rows_begin(struct exec *);
static void rec_rows_announce(struct exec *);
static void rec_conn_cols(struct rec_conn *);
static char *rec_copy_sql(const struct rec_conn *, int);
static void rec_pump(struct exec *);
static int rec_conn_fetch(struct rec_conn *);
static int rec_ts_fetch(struct rec_conn *);
static void rec_conn_drop_row(struct rec_conn *);
static void rec_rows_end(struct exec *);
static void rec_on_more(void *);
static void rec_on_progress(void *);
static void rec_on_timeout(void *);
static void rec_stop(struct exec *, const char *);
static void rec_finish(struct exec *, int, const char *);
static void rec_on_done(void *);
static void rec_output(struct exec *, const char *);
static void rec_fail_side(struct rec_conn *, const char *);

const struct exec_ops exec_reconcile_ops = {
	.name = "reconcile",
	.start = reconcile_start,
	.pgid = reconcile_pgid,
	.release = reconcile_release,
	.cancel = reconcile_cancel,
	.free = reconcile_free,
	.recover = exec_reconcile_recover,
};

/* Check the step, expand both sides' conninfo and query. */
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
	e->req.command = NULL;
	e->appname = pg_appname_from_env(req->env);
	e->env = req->env; /* while starting only */
	e->result.exit_code = -1;
	e->secrets = expand_secret_values(req->rb);
	rec_diffs_setup(e, req);
	if (rec_side_init(e, REC_SOURCE, &d->source, err) != 0 ||
	    rec_side_init(e, REC_DEST, &d->dest, err) != 0) {
		reconcile_free(e);
		return NULL;
	}
	e->env = e->req.env = NULL;
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

/* One side's target, conninfo and query, expanded now. */
static int
rec_side_init(struct exec *e, enum rec_side which, const struct rb_query *q,
    char **err)
{
	struct rec_conn *c = &e->side[which];
	const char *label = which == REC_SOURCE ? "source" : "dest";
	char *why = NULL;

	c->e = e;
	c->which = which;
	c->label = label;
	c->tz = q->timezone;
	if ((c->ops = rec_side_ops_of(q)) != NULL)
		return rec_side_open(e, c, q, err);
	if (q->target == NULL || q->target->type != TARGET_POSTGRES ||
	    q->target->conninfo == NULL || q->query == NULL) {
		xasprintf(err, "step %s: %s needs a postgres target and a query",
		    e->req.step, label);
		return -1;
	}
	c->target = q->target->name;
	if ((c->conninfo = pg_conninfo_expand(e->req.rb, q->target->conninfo,
	    &why)) == NULL || (c->query = expand_text(e->req.rb, q->query,
	    &why)) == NULL ||
	    pg_live_refuses(e->env, q->target->tls_insecure, c->target,
	    c->conninfo, &why) != 0) {
		xasprintf(err, "%s %s: %s", label, c->target, why);
		free(why);
		return -1;
	}
	rec_trim_query(c->query);
	return rec_secrets_add(e, label, c->conninfo, err);
}

/* A side read by a worker: check it and keep what it needs. */
static int
rec_side_open(struct exec *e, struct rec_conn *c, const struct rb_query *q,
    char **err)
{
	const char *secret;
	char *why = NULL;
	size_t n;

	c->target = q->file != NULL ? q->file : q->target->name;
	if (e->req.def->compare != COMPARE_ROWS) {
		xasprintf(err, "step %s: %s: compare: value needs a postgres "
		    "side", e->req.step, c->label);
		return -1;
	}
	if ((c->state = c->ops->open(e->req.rb, q, &why)) == NULL) {
		xasprintf(err, "%s %s: %s", c->label, c->target, why);
		free(why);
		return -1;
	}
	if ((secret = c->ops->secret(c->state)) == NULL || *secret == '\0')
		return 0;
	for (n = 0; e->secrets[n] != NULL; n++)
		;
	e->secrets = xreallocarray(e->secrets, n + 2, sizeof *e->secrets);
	e->secrets[n] = xstrdup(secret);
	e->secrets[n + 1] = NULL;
	return 0;
}

/*
 * Add the password in conninfo to what is redacted. A conninfo libpq
 * cannot parse is refused; its message is not repeated (it may quote the
 * password).
 */
static int
rec_secrets_add(struct exec *e, const char *label, const char *conninfo,
    char **err)
{
	char *password;
	size_t n;

	if (pg_conninfo_password(conninfo, &password, NULL) != 0) {
		xasprintf(err, "%s: invalid conninfo for target %s", label,
		    e->side[label[0] == 's' ? REC_SOURCE : REC_DEST].target);
		return -1;
	}
	if (password == NULL)
		return 0;
	for (n = 0; e->secrets[n] != NULL; n++)
		;
	e->secrets = xreallocarray(e->secrets, n + 2, sizeof *e->secrets);
	e->secrets[n] = password;
	e->secrets[n + 1] = NULL;
	return 0;
}

/* Drop trailing blanks and semicolons: the query is wrapped in (...). */
static char *
rec_trim_query(char *q)
{
	size_t n = strlen(q);

	while (n > 0 && (q[n - 1] == ';' || q[n - 1] == ' ' ||
	    q[n - 1] == '\t' || q[n - 1] == '\n' || q[n - 1] == '\r'))
		q[--n] = '\0';
	return q;
}

static int64_t
reconcile_pgid(struct exec *e)
{
	(void)e;
	return 0;
}

/* Recorded as running: connect both sides, start the clocks. */
static void
reconcile_release(struct exec *e)
{
	const struct rb_step *d = e->req.def;
	char *msg;

	if (e->finished || e->released)
		return;
	e->released = 1;
	if (e->req.timeout_ms > 0)
		e->timeout = loop_timer_add(e->req.loop, e->req.timeout_ms,
		    rec_on_timeout, e);
	e->progress = loop_timer_add(e->req.loop, REC_PROGRESS_MS,
	    rec_on_progress, e);
	xasprintf(&msg, "comparing %s: source %s, dest %s\n",
	    d->compare == COMPARE_VALUE ? "a value" : "rows", e->side[0].target,
	    e->side[1].target);
	rec_output(e, msg);
	free(msg);
	rec_conn_begin(&e->side[REC_SOURCE]);
	if (!e->finished)
		rec_conn_begin(&e->side[REC_DEST]);
}

/* Start a side: connect (postgres), or start its worker. */
static void
rec_conn_begin(struct rec_conn *c)
{
	static const struct rec_side_cbs cbs = {
		.described = rec_ts_on_described,
		.ready = rec_ts_on_ready,
		.failed = rec_ts_on_failed,
	};

	if (c->ops == NULL) {
		rec_conn_connect(c);
		return;
	}
	c->phase = RP_CONNECTING;
	c->ts = rec_side_start(c->e->req.loop, c->ops, c->state, c->target,
	    c->e->req.timeout_ms, &cbs, c);
	c->state = NULL; /* the worker's now */
}

/* A worker side knows its columns. */
static void
rec_ts_on_described(void *arg)
{
	struct rec_conn *c = arg;

	c->phase = RP_DESCRIBED;
	rec_rows_begin(c->e);
}

/* A worker side has a row (or ended): merge on, from the loop. */
static void
rec_ts_on_ready(void *arg)
{
	struct rec_conn *c = arg;

	if (!c->e->finished)
		loop_defer(c->e->req.loop, rec_on_more, c->e);
}

/* A worker side failed: from the loop, not from inside the side. */
static void
rec_ts_on_failed(void *arg, const char *why)
{
	struct rec_conn *c = arg;

	if (c->e->finished || c->failure != NULL)
		return;
	c->failure = xstrdup(why);
	loop_defer(c->e->req.loop, rec_ts_fail_now, c);
}

static void
rec_ts_fail_now(void *arg)
{
	struct rec_conn *c = arg;

	if (!c->e->finished)
		rec_fail_side(c, c->failure);
}

static void
reconcile_cancel(struct exec *e, const char *why)
{
	rec_stop(e, why != NULL ? why : "cancelled");
}

/* Start connecting; rec_conn_on_connected follows from the loop. */
static void
rec_conn_connect(struct rec_conn *c)
{
	static const struct pg_conn_cb cb = {
		.connected = rec_conn_on_connected,
		.input = rec_conn_on_input,
		.lost = rec_conn_on_lost,
		.notice = rec_conn_notice,
	};
	struct pg_conn_cb mine = cb;

	mine.arg = c;
	c->pc = pg_conn_new(c->e->req.loop, c->conninfo, c->e->appname,
	    "cutover-reconcile", &mine);
	c->phase = RP_CONNECTING;
	pg_conn_start(c->pc);
	c->pg = pg_conn_pg(c->pc);
}

/* Connected: set the session up; or fail the attempt. */
static void
rec_conn_on_connected(struct pg_conn *pc, const char *err, void *arg)
{
	struct rec_conn *c = arg;
	char *msg;

	(void)pc;
	if (err != NULL) {
		c->pg = NULL; /* closed */
		xasprintf(&msg, "could not connect: %s", *err != '\0' ? err :
		    "unknown error");
		rec_fail_side(c, msg);
		free(msg);
		return;
	}
	if (rec_conn_sent(c, PQsendQuery(c->pg, rec_session_sql),
	    RP_SETUP) != 0)
		return;
	rec_watch_all(c->e);
}

/* Input: results, rows to merge; then watch what each side waits for. */
static void
rec_conn_on_input(struct pg_conn *pc, void *arg)
{
	struct rec_conn *c = arg;
	struct exec *e = c->e;

	(void)pc;
	if (e->finished)
		return;
	if (c->phase != RP_COPY)
		rec_conn_results(c);
	if (!e->finished && e->merging)
		rec_pump(e);
	if (!e->finished)
		rec_watch_all(e);
}

static void
rec_conn_on_lost(struct pg_conn *pc, const char *why, void *arg)
{
	(void)pc;
	rec_conn_lost(arg, why);
}

/*
 * Does a side read? Not while it holds a row that waits for the other
 * side: that is what bounds memory.
 */
static int
rec_conn_reads(const struct rec_conn *c)
{
	switch (c->phase) {
	case RP_SETUP:
	case RP_PREPARE:
	case RP_DESCRIBE:
	case RP_QUERY:
	case RP_COPY_START:
	case RP_COPY_END:
		return 1;
	case RP_COPY:
		return !c->have_row;
	default:
		return 0;
	}
}

static void
rec_watch_all(struct exec *e)
{
	int i;

	for (i = 0; i < 2; i++) {
		if (e->side[i].pc != NULL && e->side[i].phase > RP_CONNECTING)
			pg_conn_read(e->side[i].pc,
			    rec_conn_reads(&e->side[i]));
	}
}

/* A PQsend* call returned ok: enter phase and push the bytes out. */
static int
rec_conn_sent(struct rec_conn *c, int ok, enum rec_phase phase)
{
	if (!ok) {
		rec_conn_lost(c, PQerrorMessage(c->pg));
		return -1;
	}
	c->phase = phase;
	rec_conn_flush(c);
	return c->e->finished ? -1 : 0;
}

/* Push what libpq has buffered; the rest goes when the socket can take it. */
static void
rec_conn_flush(struct rec_conn *c)
{
	if (pg_conn_flush(c->pc) < 0) {
		rec_conn_lost(c, PQerrorMessage(c->pg));
		return;
	}
	pg_conn_read(c->pc, rec_conn_reads(c));
}

/* Handle every result libpq has complete, until the side must wait. */
static void
rec_conn_results(struct rec_conn *c)
{
	PGresult *res;

	while (!c->e->finished && c->phase != RP_COPY &&
	    c->phase != RP_DONE && c->phase != RP_DESCRIBED) {
		if (PQisBusy(c->pg))
			return;
		if ((res = PQgetResult(c->pg)) == NULL) {
			rec_conn_next(c);
			continue;
		}
		rec_conn_result(c, res);
		PQclear(res);
	}
}

/* One result of the side's current phase. */
static void
rec_conn_result(struct rec_conn *c, PGresult *res)
{
	switch (PQresultStatus(res)) {
	case PGRES_FATAL_ERROR:
	case PGRES_BAD_RESPONSE:
		rec_conn_sql_error(c, res);
		break;
	case PGRES_COPY_OUT:
		if (c->phase == RP_COPY_START)
			c->phase = RP_COPY;
		break;
	case PGRES_SINGLE_TUPLE:
	case PGRES_TUPLES_OK:
		if (c->phase == RP_QUERY)
			rec_conn_value(c, res);
		break;
	case PGRES_COMMAND_OK:
		if (c->phase == RP_DESCRIBE)
			rec_conn_describe(c, res);
		else if (c->phase == RP_QUERY)
			rec_fail_side(c, "the query returned no rows (is it a "
			    "SELECT?)");
		break;
	default:
		if (c->phase != RP_SETUP)
			rec_fail_side(c, "unexpected result from the server");
		break;
	}
}

/* The current phase's results are all in: go on. */
static void
rec_conn_next(struct rec_conn *c)
{
	char *sql;
	int ok;

	switch (c->phase) {
	case RP_SETUP:
		if (c->e->req.def->compare == COMPARE_VALUE) {
			ok = PQsendQueryParams(c->pg, c->query, 0, NULL, NULL,
			    NULL, NULL, 0);
			if (ok)
				PQsetSingleRowMode(c->pg);
			rec_conn_sent(c, ok, RP_QUERY);
			break;
		}
		xasprintf(&sql, "SELECT * FROM (\n%s\n) AS q", c->query);
		rec_conn_sent(c, PQsendPrepare(c->pg, "", sql, 0, NULL),
		    RP_PREPARE);
		free(sql);
		break;
	case RP_PREPARE:
		rec_conn_sent(c, PQsendDescribePrepared(c->pg, ""), RP_DESCRIBE);
		break;
	case RP_DESCRIBE:
		c->phase = RP_DESCRIBED;
		rec_rows_begin(c->e);
		break;
	case RP_QUERY:
		c->phase = RP_DONE;
		rec_value_end(c->e);
		break;
	case RP_COPY_END:
		c->phase = RP_DONE;
		c->eof = 1;
		break;
	default:
		break;
	}
}

/* The wrapped query's columns: names and types. */
static void
rec_conn_describe(struct rec_conn *c, const PGresult *res)
{
	int i;

	c->ncols = PQnfields(res);
	c->oids = xcalloc((size_t)c->ncols + 1, sizeof *c->oids);
	c->names = xcalloc((size_t)c->ncols + 1, sizeof *c->names);
	for (i = 0; i < c->ncols; i++) {
		c->oids[i] = PQftype(res, i);
		c->names[i] = xstrdup(PQfname(res, i));
	}
}

/* compare: value: count the rows; keep the first row's first column. */
static void
rec_conn_value(struct rec_conn *c, const PGresult *res)
{
	int n = PQntuples(res);

	if (c->oids == NULL) {
		c->ncols = PQnfields(res);
		c->oids = xcalloc(2, sizeof *c->oids);
		c->oids[0] = c->ncols > 0 ? PQftype(res, 0) : 0;
	}
	if (c->nrows == 0 && n > 0 && c->ncols > 0 && !PQgetisnull(res, 0, 0))
		c->value = xstrdup(PQgetvalue(res, 0, 0));
	c->nrows += n;
}

/* Both values are in: compare them. */
static void
rec_value_end(struct exec *e)
{
	struct rec_conn *s = &e->side[0], *d = &e->side[1];
	struct buf json = { 0 }, human = { 0 };
	char *msg;
	int i, ok;

	if (s->phase != RP_DONE || d->phase != RP_DONE)
		return;
	for (i = 0; i < 2; i++) {
		if (e->side[i].nrows == 1 && e->side[i].ncols == 1)
			continue;
		xasprintf(&msg, "the query returned %lld row%s of %d column%s; "
		    "compare: value needs one row of one column",
		    (long long)e->side[i].nrows, e->side[i].nrows == 1 ? "" : "s",
		    e->side[i].ncols, e->side[i].ncols == 1 ? "" : "s");
		rec_fail_side(&e->side[i], msg);
		free(msg);
		return;
	}
	ok = rec_value_compare(s->value, s->oids[0], d->value, d->oids[0],
	    e->req.def->tolerance, &json, &human);
	e->result.result = buf_steal(&json);
	rec_output(e, buf_str(&human));
	buf_free(&human);
	xasprintf(&msg, "the values differ: source %s, dest %s (tolerance %g)",
	    s->value != NULL ? s->value : "NULL", d->value != NULL ? d->value :
	    "NULL", e->req.def->tolerance);
	rec_finish(e, ok, msg);
	free(msg);
}

/* Both sides described: check they can be compared, then stream both. */
static void
rec_rows_begin(struct exec *e)
{
	struct rec_conn *s = &e->side[0], *d = &e->side[1];
	struct rec_opts opts = { 0 };
	char *err = NULL, *sql;
	int i;

	if (s->phase != RP_DESCRIBED || d->phase != RP_DESCRIBED)
		return;
	rec_conn_cols(s);
	rec_conn_cols(d);
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
	rec_rows_announce(e);
	e->merging = 1;
	e->stream_start = loop_now();
	for (i = 0; i < 2 && !e->finished; i++) {
		if (e->side[i].ts != NULL) {
			rec_side_stream(e->side[i].ts, e->merge.eff,
			    e->req.def->key, e->req.def->empty_is_null);
			e->side[i].phase = RP_COPY;
			/* Nothing else may start the merge: start it. */
			loop_defer(e->req.loop, rec_on_more, e);
			continue;
		}
		e->side[i].fields = xcalloc((size_t)s->ncols + 1,
		    sizeof *e->side[i].fields);
		sql = rec_copy_sql(&e->side[i], e->req.def->key);
		rec_conn_sent(&e->side[i], PQsendQuery(e->side[i].pg, sql),
		    RP_COPY_START);
		free(sql);
	}
}

/* A side's columns as names and kinds, whatever reads it. */
static void
rec_conn_cols(struct rec_conn *c)
{
	char *const *names;
	const struct rec_col *cols;
	char tmp[32];
	int i;

	if (c->ts != NULL) {
		rec_side_columns(c->ts, &c->ncols, &names, &cols);
		c->names = xcalloc((size_t)c->ncols + 1, sizeof *c->names);
		c->cols = xcalloc((size_t)c->ncols + 1, sizeof *c->cols);
		for (i = 0; i < c->ncols; i++) {
			c->names[i] = xstrdup(names[i]);
			c->cols[i] = cols[i];
		}
		return;
	}
	c->cols = xcalloc((size_t)c->ncols + 1, sizeof *c->cols);
	for (i = 0; i < c->ncols; i++) {
		c->cols[i].kind = rec_kind_of(c->oids[i]);
		c->cols[i].type = rec_type_name(c->oids[i], tmp, sizeof tmp) ==
		    tmp ? "another type" : rec_type_name(c->oids[i], tmp,
		    sizeof tmp);
	}
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

/* COPY (SELECT * FROM (query) q(c1, ...) ORDER BY keys) TO STDOUT. */
static char *
rec_copy_sql(const struct rec_conn *c, int nkeys)
{
	struct buf b = { 0 };
	char name[16];
	int i;

	buf_printf(&b, "COPY (SELECT * FROM (\n%s\n) AS q(", c->query);
	for (i = 0; i < c->ncols; i++)
		buf_printf(&b, "%sc%d", i > 0 ? ", " : "", i + 1);
	buf_adds(&b, ") ORDER BY ");
	for (i = 0; i < nkeys; i++) {
		snprintf(name, sizeof name, "c%d", i + 1);
		if (i > 0)
			buf_adds(&b, ", ");
		rec_order_by(&b, name, rec_kind_of(c->oids[i]));
	}
	buf_adds(&b, ") TO STDOUT");
	return buf_steal(&b);
}

/*
 * Merge what both sides have, a batch at a time; stop when a side must
 * wait for the network (its socket is then watched, the other's not).
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
			rec_rows_end(e);
			return;
		}
		take = rec_merge_step(&e->merge, s->have_row ? s->fields : NULL,
		    d->have_row ? d->fields : NULL);
		if (take & REC_TAKE_SOURCE)
			rec_conn_drop_row(s);
		if (take & REC_TAKE_DEST)
			rec_conn_drop_row(d);
		e->compared++;
	}
	/* More may be buffered: come back after the loop has looked around. */
	loop_defer(e->req.loop, rec_on_more, e);
}

/* Make sure the side has a current row or has ended; 0: must wait. */
static int
rec_conn_fetch(struct rec_conn *c)
{
	struct exec *e = c->e;
	char *err = NULL;
	int r, n;

	if (c->have_row || c->eof)
		return 1;
	if (c->phase != RP_COPY)
		return 0;
	if (c->ts != NULL)
		return rec_ts_fetch(c);
	r = PQgetCopyData(c->pg, &c->row, 1);
	if (r == 0)
		return 0;
	if (r == -1) {
		c->phase = RP_COPY_END;
		rec_conn_results(c);
		return c->eof;
	}
	if (r < 0) {
		rec_conn_lost(c, PQerrorMessage(c->pg));
		return 0;
	}
	n = rec_copy_split(c->row, (size_t)r, c->fields, e->merge.ncols);
	c->have_row = 1;
	if (n == e->merge.ncols)
		rec_merge_normalize(&e->merge, c->which, c->fields);
	if (n != e->merge.ncols)
		xasprintf(&err, "a row came with %d fields, not %d", n,
		    e->merge.ncols);
	else if (rec_merge_arrive(&e->merge, c->which, c->fields, &err) == 0)
		return 1;
	rec_fail_side(c, err);
	free(err);
	return 0;
}

/* A worker side's next row; as rec_conn_fetch. */
static int
rec_ts_fetch(struct rec_conn *c)
{
	struct rec_field *row;
	char *err = NULL;
	int r = rec_side_fetch(c->ts, &row);

	if (r == 0)
		return 0;
	if (r < 0) {
		c->eof = 1;
		return 1;
	}
	c->fields = row;
	c->have_row = 1;
	rec_merge_normalize(&c->e->merge, c->which, c->fields);
	if (rec_merge_arrive(&c->e->merge, c->which, c->fields, &err) == 0)
		return 1;
	rec_fail_side(c, err);
	free(err);
	return 0;
}

static void
rec_conn_drop_row(struct rec_conn *c)
{
	if (c->ts != NULL) {
		if (c->have_row)
			rec_side_drop(c->ts);
		c->have_row = 0;
		return;
	}
	if (c->row != NULL)
		PQfreemem(c->row);
	c->row = NULL;
	c->have_row = 0;
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
	e->result.result = buf_steal(&json);
	rec_merge_summary(&e->merge, tol, &human);
	rec_output(e, buf_str(&human));
	buf_free(&human);
	if (!ok)
		xasprintf(&msg, "%lld difference%s (missing %lld, extra %lld, "
		    "changed %lld) exceed the tolerance of %g", (long long)diffs,
		    diffs == 1 ? "" : "s", (long long)e->merge.missing,
		    (long long)e->merge.extra, (long long)e->merge.changed, tol);
	rec_finish(e, ok, msg);
	free(msg);
}

/*
 * A side's SQL error: "source legacy_db: ERROR 42P01: relation "x" does
 * not exist" fails the attempt; details go to the output.
 */
static void
rec_conn_sql_error(struct rec_conn *c, const PGresult *res)
{
	static const int fields[] = { PG_DIAG_MESSAGE_DETAIL,
		PG_DIAG_MESSAGE_HINT };
	const char *state, *primary, *v;
	struct buf b = { 0 };
	char *line;
	int i;

	state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	if (primary == NULL)
		primary = PQresultErrorMessage(res);
	line = pg_first_line(*primary != '\0' ? primary : "unknown error");
	buf_printf(&b, "ERROR%s%s: %s", state != NULL ? " " : "",
	    state != NULL ? state : "", line);
	free(line);
	for (i = 0; i < 2; i++) {
		if ((v = PQresultErrorField(res, fields[i])) == NULL)
			continue;
		xasprintf(&line, "%s %s: %s: %s\n", c->label, c->target,
		    i == 0 ? "DETAIL" : "HINT", v);
		rec_output(c->e, line);
		free(line);
	}
	rec_fail_side(c, buf_str(&b));
	buf_free(&b);
}

/* The connection broke (or could not be used). */
static void
rec_conn_lost(struct rec_conn *c, const char *why)
{
	char *line, *msg;

	line = pg_first_line(why != NULL && *why != '\0' ? why : "closed");
	xasprintf(&msg, "connection lost: %s", line);
	rec_fail_side(c, msg);
	free(msg);
	free(line);
}

/* The attempt fails because of one side: "source legacy_db: WHY". */
static void
rec_fail_side(struct rec_conn *c, const char *why)
{
	char *msg;

	xasprintf(&msg, "%s %s: %s", c->label, c->target, why);
	rec_output(c->e, msg);
	rec_output(c->e, "\n");
	rec_finish(c->e, 0, msg);
	free(msg);
}

/* Ask the server to stop this side's query; PQcancel blocks: a child. */
static void
rec_conn_cancel(struct rec_conn *c)
{
	pid_t pid;

	if (c->pg == NULL || c->phase <= RP_SETUP || c->phase == RP_DONE ||
	    c->phase == RP_DESCRIBED)
		return;
	if ((pid = pg_conn_cancel(c->pc)) > 0)
		c->cancel_pid = pid;
}

static void
rec_conn_close(struct rec_conn *c)
{
	if (c->ts != NULL) {
		rec_side_free(c->ts); /* cancels and lets the worker go */
		c->ts = NULL;
		c->have_row = 0;
		c->fields = NULL;
		return;
	}
	rec_conn_drop_row(c);
	pg_conn_free(c->pc);
	c->pc = NULL;
	c->pg = NULL;
}

/* NOTICE and WARNING from either side go to the output. */
static void
rec_conn_notice(struct pg_conn *pc, const char *msg, void *arg)
{
	struct rec_conn *c = arg;
	char *line;

	(void)pc;
	xasprintf(&line, "%s %s: %s", c->label, c->target, msg);
	rec_output(c->e, line);
	free(line);
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
	if (!e->merging || e->compared == 0)
		return;
	ms = loop_now() - e->stream_start;
	xasprintf(&line, "compared %lld rows (%lld rows/s)\n",
	    (long long)e->compared, (long long)(ms > 0 ? e->compared * 1000 /
	    ms : e->compared));
	rec_output(e, line);
	free(line);
}

static void
rec_on_timeout(void *arg)
{
	struct exec *e = arg;
	char *why = duration_timed_out(e->req.timeout_ms);

	e->timeout = NULL;
	e->timed_out = 1;
	rec_stop(e, why);
	free(why);
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
	loop_timer_cancel(e->req.loop, e->timeout);
	loop_timer_cancel(e->req.loop, e->progress);
	loop_defer_cancel(e->req.loop, rec_on_more, e);
	e->timeout = e->progress = NULL;
	for (i = 0; i < 2; i++) {
		rec_conn_cancel(&e->side[i]);
		rec_conn_close(&e->side[i]);
	}
	e->result.ok = ok;
	e->result.timed_out = e->timed_out;
	if (!ok)
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
		rc[i] = rec_side_ops_of(q[i]) != NULL ? EXEC_ORPHAN_GONE :
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
	int i;

	if (e->released && !e->finished) {
		for (i = 0; i < 2; i++)
			rec_conn_cancel(&e->side[i]);
	}
	loop_timer_cancel(e->req.loop, e->timeout);
	loop_timer_cancel(e->req.loop, e->progress);
	loop_defer_cancel(e->req.loop, rec_on_more, e);
	loop_defer_cancel(e->req.loop, rec_on_done, e);
	for (i = 0; i < 2; i++) {
		if (e->side[i].e != NULL)
			rec_conn_close(&e->side[i]);
		free(e->side[i].conninfo);
		free(e->side[i].query);
		free(e->side[i].oids);
		expand_free_list(e->side[i].names);
		free(e->side[i].value);
		if (e->side[i].ops == NULL)
			free(e->side[i].fields);
		free(e->side[i].cols);
		loop_defer_cancel(e->req.loop, rec_ts_fail_now, &e->side[i]);
		free(e->side[i].failure);
		if (e->side[i].state != NULL)
			e->side[i].ops->free(e->side[i].state);
	}
	e->st = NULL;
	rec_diffs_flush(e); /* frees what is queued */
	free(e->token);
	rec_merge_free(&e->merge);
	free(e->appname);
	expand_free_list(e->secrets);
	free(e->result.message);
	free(e->result.result);
	free(e);
}
