/*
 * rec-side-pg.c - a reconcile side that is a query on a postgres target
 * (rec-int.h), on libpq's asynchronous API driven by the loop; nothing
 * here blocks.
 *
 * Each side opens a connection of its own, even when both sides name the
 * same target: both sides stream at once, and a connection carries one
 * query at a time. The session is set so that a value's text form says
 * what it means: UTF-8, TimeZone UTC (timestamptz as instants), ISO
 * dates, extra_float_digits 3 (floats exact), read-only transactions.
 *
 * compare: value runs the query as it is (single-row mode, so a query
 * that returns too much costs no memory) and keeps the first value.
 *
 * compare: rows first prepares the query wrapped in SELECT * FROM (...)
 * and describes it, which gives the column names and types without
 * running anything. Then it asks the server for
 *   COPY (SELECT * FROM (query) q(c1, ...) ORDER BY keys, others)
 *   TO STDOUT
 * where text keys sort COLLATE "C" (bytes), numbers numerically, other
 * types by their text form COLLATE "C" (rec_order_by): two servers with
 * different collations then sort alike, in the order the merge compares
 * keys in (reconcile.c); rows of equal keys follow by their other columns
 * by the same rules, so that repeated keys pair alike in every run and
 * in both methods (the server's order of equal keys is its own), unless
 * the side's keys are proven unique (rec_pg_unique_sql, asked first: the
 * plan and the catalog, no row), which spares the server sorting on every
 * column. PQgetCopyData(async) hands over one row at a time. The side
 * reads ahead of the merge into a queue (rsp_watch takes every complete
 * row out of libpq's buffer into it, rsp_fetch hands them over in order
 * when the merge asks, so every row still arrives through
 * rec_conn_fetch): up to RSP_AHEAD bytes of rows while the merge has not
 * begun, because the other side is not ready yet (a file checked for its
 * order, or sorted) and the server should go on sending meanwhile; a
 * little once it has. When the queue is full the socket is not watched,
 * so the server blocks on a full TCP window and memory stays bounded
 * whatever the row count, even when the other side is the slower one.
 *
 * The session is named after the attempt (application_name "cutover
 * TOKEN"), so that a later driver finds it if this one dies. Closing
 * sends the active query a cancel request (pg_conn_cancel) and closes the
 * connection: it is the side's own, nobody reuses it.
 */
#include "config.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "buf.h"
#include "expand.h"
#include "pg-conn.h"
#include "pg.h"
#include "rec-checksum.h"
#include "rec-hash-pg.h"
#include "rec-int.h"
#include "rec-side.h"
#include "reconcile.h"
#include "runbook.h"
#include "xmalloc.h"

/* Make each value's text canonical, and keep the sessions read-only. */
static const char rsp_session_sql[] =
    "SET client_encoding = 'UTF8'; SET TimeZone = 'UTC'; "
    "SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres'; "
    "SET extra_float_digits = 3; SET bytea_output = 'hex'; "
    "SET lc_monetary = 'C'; SET standard_conforming_strings = on; "
    "SET default_transaction_read_only = on";

enum rsp_phase {
	RP_IDLE,
	RP_CONNECTING,
	RP_SETUP,     /* the SETs above */
	RP_PREPARE,   /* rows: the wrapped query */
	RP_DESCRIBE,  /* rows: its columns */
	RP_DESCRIBED, /* rows: waiting for the other side */
	RP_UNIQUE,    /* rows: are the keys unique (rec_pg_unique_sql)? */
	RP_QUERY,     /* value: the query itself */
	RP_COPY_START,
	RP_COPY,     /* rows streaming */
	RP_COPY_END, /* the COPY's own result */
	RP_DONE,
	RP_ASK,      /* checksum: a statement whose rows are kept */
};

#define RSP_EARLY (24u * 1024 * 1024) /* canonical rows, the merge not begun */
#define RSP_AHEAD (64u * 1024)          /* rows once it has: they stay warm */

/* A row read ahead: PQgetCopyData's buffer and length. */
struct rsp_ahead {
	char *row;
	int len;
};

struct rsp {
	struct rec_conn *c;
	char *conninfo; /* expanded: may hold a password, never shown */
	char *query;    /* expanded, trailing ';' and blanks removed */
	struct pg_conn *pc;
	PGconn *pg;     /* pc's, while it is open */
	enum rsp_phase phase;
	pid_t cancel_pid;
	unsigned *oids;
	unsigned *ftable; /* per column: its table (PQftable), or 0 */
	int *fcol;        /* per column: its number there (PQftablecol) */
	int nkeys;        /* the merge's */
	int unique;       /* keys proven unique: rows ordered by them only */
	char *row;      /* from PQgetCopyData */
	struct rsp_ahead *ahead; /* rows read ahead of the merge */
	size_t nahead, first, capahead;
	size_t aheadbytes;
	int ended;      /* PQgetCopyData's end (<0) seen ahead, or 0 */
	/* rows read before the merge began, canonical, packed
	 * (rec_row_pack) */
	const struct rec_merge *m; /* the merge's rules, while streaming */
	struct buf early;
	size_t earlyoff;   /* the next row in early */
	struct buf cur;    /* the row taken from early, while it is held */
	struct buf canon;  /* rec_canon_row's values */
	size_t *canonoff;
	struct rec_field *ef;
	int badn;          /* the fields of the queue's first row, malformed
			    * (split already: not to be split again), or 0 */
	struct buf ans; /* RP_ASK: the cells so far (char *s) */
	int ansrows, anscols;
};

static int rsp_open(struct rec_conn *, const struct rb_query *, char **);
static void rsp_begin(struct rec_conn *);
static void rsp_stream(struct rec_conn *, const struct rec_merge *);
static int rsp_fetch(struct rec_conn *);
static void rsp_drop(struct rec_conn *);
static void rsp_watch(struct rec_conn *);
static void rsp_close(struct rec_conn *);
static void rsp_free(struct rec_conn *);
static char *rsp_trim_query(char *);
static void rsp_on_connected(struct pg_conn *, const char *, void *);
static void rsp_on_input(struct pg_conn *, void *);
static void rsp_on_lost(struct pg_conn *, const char *, void *);
static void rsp_notice(struct pg_conn *, const char *, void *);
static int rsp_reads(const struct rsp *);
static void rsp_ahead_fill(struct rsp *);
static void rsp_ahead_push(struct rsp *, char *, int);
static int rsp_early_add(struct rsp *, char *, int);
static int rsp_early_take(struct rsp *);
static void rsp_ahead_grow(struct rsp *);
static int rsp_ahead_room(const struct rsp *);
static int rsp_ahead_take(struct rsp *);
static void rsp_ahead_clear(struct rsp *);
static int rsp_sent(struct rsp *, int, enum rsp_phase);
static void rsp_flush(struct rsp *);
static void rsp_results(struct rsp *);
static void rsp_result(struct rsp *, PGresult *);
static void rsp_next(struct rsp *);
static void rsp_describe(struct rsp *, const PGresult *);
static void rsp_value(struct rsp *, const PGresult *);
static char *rsp_copy_sql(const struct rsp *);
static void rsp_unique_done(struct rsp *);
static char **rsp_ans_take(struct rsp *, int *, int *);
static void rsp_sql_error(struct rsp *, const PGresult *);
static void rsp_lost(struct rsp *, const char *);
static void rsp_cancel(struct rsp *);
static char *rsp_copy_where_sql(const struct rsp *, const char *);
static void rsp_src(const struct rsp *, struct rec_pg_src *);
static char *rsp_cannot(struct rec_conn *, const struct rec_merge *);
static int rsp_local(struct rec_conn *);
static char *rsp_estimate_sql(struct rec_conn *);
static char *rsp_probe_sql(struct rec_conn *, const struct rec_merge *);
static char *rsp_stats_sql(struct rec_conn *, const struct rec_merge *,
    const struct rec_range *, char **const *, int, int);
static int rsp_probe_read(struct rec_conn *, int, int, char *const *,
    int64_t *, char **);
static char *rsp_sample_sql(struct rec_conn *, const struct rec_merge *,
    const struct rec_range *, int64_t, double);
static void rsp_ask(struct rec_conn *, const char *);
static void rsp_ask_rows(struct rsp *, const PGresult *);
static void rsp_ask_done(struct rsp *);
static void rsp_stream_range(struct rec_conn *, const struct rec_merge *,
    const struct rec_range *);

static const struct rec_hash_ops rsp_hash_ops = {
	.cannot = rsp_cannot,
	.local = rsp_local,
	.estimate_sql = rsp_estimate_sql,
	.probe_sql = rsp_probe_sql,
	.probe_read = rsp_probe_read,
	.stats_sql = rsp_stats_sql,
	.sample_sql = rsp_sample_sql,
	.ask = rsp_ask,
	.stream_range = rsp_stream_range,
};

const struct rec_side_ops rec_side_pg_ops = {
	.name = "postgres",
	.open = rsp_open,
	.begin = rsp_begin,
	.stream = rsp_stream,
	.fetch = rsp_fetch,
	.drop = rsp_drop,
	.watch = rsp_watch,
	.close = rsp_close,
	.free = rsp_free,
	.hash = &rsp_hash_ops,
};

/* The target, conninfo and query, expanded now; the password masked. A
 * conninfo libpq cannot parse is refused without its text. */
static int
rsp_open(struct rec_conn *c, const struct rb_query *q, char **err)
{
	struct rsp *p;
	char *why = NULL, *password = NULL;

	if (q->target == NULL || q->target->type != TARGET_POSTGRES ||
	    q->target->conninfo == NULL || q->query == NULL) {
		xasprintf(err, "step %s: %s needs a postgres target and a query",
		    c->step, c->label);
		return -1;
	}
	c->target = q->target->name;
	p = xcalloc(1, sizeof *p);
	p->c = c;
	c->impl = p;
	if ((p->conninfo = pg_conninfo_expand_entity(c->rb, c->entity,
	    q->target->conninfo, &why)) == NULL ||
	    (p->query = expand_text_entity(c->rb, c->entity, q->query,
	    &why)) == NULL ||
	    pg_live_refuses(c->env, q->target->tls_insecure, c->target,
	    p->conninfo, &why) != 0) {
		xasprintf(err, "%s %s: %s", c->label, c->target, why);
		free(why);
		return -1;
	}
	rsp_trim_query(p->query);
	if (pg_conninfo_password(p->conninfo, &password, NULL) != 0) {
		xasprintf(err, "%s: invalid conninfo for target %s", c->label,
		    c->target);
		return -1;
	}
	if (password != NULL)
		rec_side_secret(c, password);
	free(password);
	return 0;
}

/* Drop trailing blanks and semicolons: the query is wrapped in (...). */
static char *
rsp_trim_query(char *q)
{
	size_t n = strlen(q);

	while (n > 0 && (q[n - 1] == ';' || q[n - 1] == ' ' ||
	    q[n - 1] == '\t' || q[n - 1] == '\n' || q[n - 1] == '\r'))
		q[--n] = '\0';
	return q;
}

/* Start connecting; rsp_on_connected follows from the loop. */
static void
rsp_begin(struct rec_conn *c)
{
	static const struct pg_conn_cb cb = {
		.connected = rsp_on_connected,
		.input = rsp_on_input,
		.lost = rsp_on_lost,
		.notice = rsp_notice,
	};
	struct pg_conn_cb mine = cb;
	struct rsp *p = c->impl;

	mine.arg = p;
	p->pc = pg_conn_new(c->loop, p->conninfo, c->appname,
	    "cutover-reconcile", &mine);
	p->phase = RP_CONNECTING;
	pg_conn_start(p->pc);
	p->pg = pg_conn_pg(p->pc);
}

/* Connected: set the session up; or fail. */
static void
rsp_on_connected(struct pg_conn *pc, const char *err, void *arg)
{
	struct rsp *p = arg;
	char *msg;

	(void)pc;
	if (err != NULL) {
		p->pg = NULL; /* closed */
		xasprintf(&msg, "could not connect: %s", *err != '\0' ? err :
		    "unknown error");
		rec_side_fail(p->c, msg);
		free(msg);
		return;
	}
	if (rsp_sent(p, PQsendQuery(p->pg, rsp_session_sql), RP_SETUP) != 0)
		return;
	rsp_watch(p->c);
}

/* Input: results, or rows for the merge. */
static void
rsp_on_input(struct pg_conn *pc, void *arg)
{
	struct rsp *p = arg;

	(void)pc;
	if (rec_side_over(p->c))
		return;
	if (p->phase != RP_COPY)
		rsp_results(p);
	if (!rec_side_over(p->c))
		rec_side_input(p->c);
}

static void
rsp_on_lost(struct pg_conn *pc, const char *why, void *arg)
{
	(void)pc;
	rsp_lost(arg, why);
}

/*
 * Does the side read? Not while it holds a row that waits for the other
 * side: that is what bounds memory.
 */
static int
rsp_reads(const struct rsp *p)
{
	switch (p->phase) {
	case RP_SETUP:
	case RP_PREPARE:
	case RP_DESCRIBE:
	case RP_QUERY:
	case RP_COPY_START:
	case RP_COPY_END:
	case RP_ASK:
	case RP_UNIQUE:
		return 1;
	case RP_COPY:
		return p->ended == 0 && rsp_ahead_room(p);
	default:
		return 0;
	}
}

static void
rsp_watch(struct rec_conn *c)
{
	struct rsp *p = c->impl;

	if (p == NULL || p->pc == NULL || p->phase <= RP_CONNECTING)
		return;
	/* What libpq holds already is taken out first (and kept for
	 * rsp_fetch): the socket is read only when there is room in the
	 * queue, so libpq's buffer never grows ahead of the merge by more
	 * than a read. */
	if (p->phase == RP_COPY)
		rsp_ahead_fill(p);
	pg_conn_read(p->pc, rsp_reads(p));
}

/*
 * Take the complete rows libpq holds, while there is room: before the
 * merge begins, made canonical into early (the loop has nothing else to
 * do then, and packed rows are compact and read back in order); once it
 * has, as they are into the queue.
 */
static void
rsp_ahead_fill(struct rsp *p)
{
	char *row;
	int r;

	while (p->ended == 0 && rsp_ahead_room(p)) {
		if ((r = PQgetCopyData(p->pg, &row, 1)) == 0)
			return;
		if (r < 0) {
			p->ended = r;
			return;
		}
		if (!p->c->ahead || p->nahead > 0 || rsp_early_add(p, row, r) != 0)
			rsp_ahead_push(p, row, r);
		else
			PQfreemem(row);
	}
}

/* Queue a row as it came (PQgetCopyData's buffer: the queue's now). */
static void
rsp_ahead_push(struct rsp *p, char *row, int len)
{
	struct rsp_ahead *a;

	if (p->nahead == p->capahead)
		rsp_ahead_grow(p);
	a = &p->ahead[(p->first + p->nahead++) % p->capahead];
	a->row = row;
	a->len = len;
	p->aheadbytes += (size_t)len + 32; /* with the allocation's own */
}

/* A row split, made canonical and packed into early; -1 if malformed
 * (it is queued, and so are the rows after it: the fetch reports it in
 * its place, by the count kept in badn). */
static int
rsp_early_add(struct rsp *p, char *row, int len)
{
	struct rec_conn *c = p->c;
	int n;

	if (p->ef == NULL) {
		p->ef = xcalloc((size_t)c->ncols + 1, sizeof *p->ef);
		p->canonoff = xcalloc((size_t)c->ncols + 1,
		    sizeof *p->canonoff);
	}
	if ((n = rec_copy_split(row, (size_t)len, p->ef, c->ncols)) !=
	    c->ncols) {
		p->badn = n;
		return -1;
	}
	rec_canon_row(p->m, c->which, p->ef, &p->canon, p->canonoff);
	rec_row_pack(&p->early, p->ef, c->ncols);
	return 0;
}

/* The next row of early into c->fields (a copy while the merge has not
 * begun: early may grow while it is held): 1, or 0 when it is empty. */
static int
rsp_early_take(struct rsp *p)
{
	struct rec_conn *c = p->c;
	const char *at = p->early.data + p->earlyoff;
	size_t n;
	int i;

	if (p->earlyoff >= p->early.len)
		return 0;
	n = rec_row_take(at, c->fields, c->ncols);
	p->earlyoff += n;
	if (!c->ahead) /* early no longer grows or moves: no copy */
		return 1;
	buf_reset(&p->cur);
	buf_add(&p->cur, at, n);
	for (i = 0; i < c->ncols; i++)
		c->fields[i].p = p->cur.data + (c->fields[i].p - at);
	if (p->earlyoff == p->early.len) {
		buf_reset(&p->early);
		p->earlyoff = 0;
	} else if (p->earlyoff > p->early.len / 2 && p->earlyoff > 65536) {
		memmove(p->early.data, p->early.data + p->earlyoff,
		    p->early.len - p->earlyoff);
		p->early.len -= p->earlyoff;
		p->earlyoff = 0;
	}
	return 1;
}

/*
 * May the side read more? Before the merge begins, while early holds less
 * than RSP_EARLY bytes of rows (the other side is not ready: a file
 * checked or sorted first; the server works meanwhile); once it has, up
 * to RSP_AHEAD (rows read far ahead are out of the processor's caches by
 * the time the merge takes them, which costs more than the reading saved).
 */
static int
rsp_ahead_room(const struct rsp *p)
{
	if (p->c->ahead && p->nahead == 0)
		return p->early.len - p->earlyoff < RSP_EARLY;
	return p->aheadbytes < RSP_AHEAD;
}

/* Room for twice as many rows in the queue, in order from 0. */
static void
rsp_ahead_grow(struct rsp *p)
{
	struct rsp_ahead *n;
	size_t i, cap = p->capahead > 0 ? p->capahead * 2 : 1024;

	n = xcalloc(cap, sizeof *n);
	for (i = 0; i < p->nahead; i++)
		n[i] = p->ahead[(p->first + i) % p->capahead];
	free(p->ahead);
	p->ahead = n;
	p->capahead = cap;
	p->first = 0;
}

/* The next row into p->row: its length, 0 (none yet), or <0 (the end). */
static int
rsp_ahead_take(struct rsp *p)
{
	struct rsp_ahead *a;
	int r;

	if (p->nahead == 0) {
		if (p->ended != 0) {
			r = p->ended;
			p->ended = 0;
			return r;
		}
		return PQgetCopyData(p->pg, &p->row, 1);
	}
	a = &p->ahead[p->first];
	p->first = (p->first + 1) % p->capahead;
	p->nahead--;
	p->aheadbytes -= (size_t)a->len + 32;
	p->row = a->row;
	return a->len;
}

/* Forget the rows read ahead (the side stops, or streams anew). */
static void
rsp_ahead_clear(struct rsp *p)
{
	while (p->nahead > 0) {
		PQfreemem(p->ahead[p->first].row);
		p->first = (p->first + 1) % p->capahead;
		p->nahead--;
	}
	p->first = 0;
	p->aheadbytes = 0;
	p->ended = 0;
	buf_free(&p->early);
	p->earlyoff = 0;
	p->badn = 0;
}

/* A PQsend* call returned ok: enter phase and push the bytes out. */
static int
rsp_sent(struct rsp *p, int ok, enum rsp_phase phase)
{
	if (!ok) {
		rsp_lost(p, PQerrorMessage(p->pg));
		return -1;
	}
	p->phase = phase;
	rsp_flush(p);
	return rec_side_over(p->c) ? -1 : 0;
}

/* Push what libpq has buffered; the rest goes when the socket can take it. */
static void
rsp_flush(struct rsp *p)
{
	if (pg_conn_flush(p->pc) < 0) {
		rsp_lost(p, PQerrorMessage(p->pg));
		return;
	}
	pg_conn_read(p->pc, rsp_reads(p));
}

/* Handle every result libpq has complete, until the side must wait. */
static void
rsp_results(struct rsp *p)
{
	PGresult *res;

	while (!rec_side_over(p->c) && p->phase != RP_COPY &&
	    p->phase != RP_DONE && p->phase != RP_DESCRIBED) {
		if (PQisBusy(p->pg))
			return;
		if ((res = PQgetResult(p->pg)) == NULL) {
			rsp_next(p);
			continue;
		}
		rsp_result(p, res);
		PQclear(res);
	}
}

/* One result of the side's current phase. */
static void
rsp_result(struct rsp *p, PGresult *res)
{
	switch (PQresultStatus(res)) {
	case PGRES_FATAL_ERROR:
	case PGRES_BAD_RESPONSE:
		rsp_sql_error(p, res);
		break;
	case PGRES_COPY_OUT:
		if (p->phase == RP_COPY_START)
			p->phase = RP_COPY;
		break;
	case PGRES_SINGLE_TUPLE:
	case PGRES_TUPLES_OK:
		if (p->phase == RP_QUERY)
			rsp_value(p, res);
		else if (p->phase == RP_ASK || p->phase == RP_UNIQUE)
			rsp_ask_rows(p, res);
		break;
	case PGRES_COMMAND_OK:
		if (p->phase == RP_DESCRIBE)
			rsp_describe(p, res);
		else if (p->phase == RP_QUERY)
			rec_side_fail(p->c, "the query returned no rows (is it a "
			    "SELECT?)");
		break;
	default:
		if (p->phase != RP_SETUP)
			rec_side_fail(p->c, "unexpected result from the server");
		break;
	}
}

/* The current phase's results are all in: go on. */
static void
rsp_next(struct rsp *p)
{
	char *sql;
	int ok;

	switch (p->phase) {
	case RP_SETUP:
		if (p->c->value_mode) {
			ok = PQsendQueryParams(p->pg, p->query, 0, NULL, NULL,
			    NULL, NULL, 0);
			if (ok)
				PQsetSingleRowMode(p->pg);
			rsp_sent(p, ok, RP_QUERY);
			break;
		}
		xasprintf(&sql, "SELECT * FROM (\n%s\n) AS q", p->query);
		rsp_sent(p, PQsendPrepare(p->pg, "", sql, 0, NULL), RP_PREPARE);
		free(sql);
		break;
	case RP_PREPARE:
		rsp_sent(p, PQsendDescribePrepared(p->pg, ""), RP_DESCRIBE);
		break;
	case RP_DESCRIBE:
		p->phase = RP_DESCRIBED;
		p->c->described = 1;
		rec_side_described(p->c);
		break;
	case RP_QUERY:
		p->phase = RP_DONE;
		p->c->value_done = 1;
		rec_side_value_done(p->c);
		break;
	case RP_COPY_END:
		p->phase = RP_DONE;
		p->c->eof = 1;
		break;
	case RP_ASK:
		rsp_ask_done(p);
		break;
	case RP_UNIQUE:
		rsp_unique_done(p);
		break;
	default:
		break;
	}
}

/* The wrapped query's columns: names, types, and their kinds. */
static void
rsp_describe(struct rsp *p, const PGresult *res)
{
	struct rec_conn *c = p->c;
	char tmp[32];
	int i;

	c->ncols = PQnfields(res);
	p->oids = xcalloc((size_t)c->ncols + 1, sizeof *p->oids);
	p->ftable = xcalloc((size_t)c->ncols + 1, sizeof *p->ftable);
	p->fcol = xcalloc((size_t)c->ncols + 1, sizeof *p->fcol);
	c->names = xcalloc((size_t)c->ncols + 1, sizeof *c->names);
	c->cols = xcalloc((size_t)c->ncols + 1, sizeof *c->cols);
	c->fields = xcalloc((size_t)c->ncols + 1, sizeof *c->fields);
	for (i = 0; i < c->ncols; i++) {
		p->oids[i] = PQftype(res, i);
		p->ftable[i] = PQftable(res, i);
		p->fcol[i] = PQftablecol(res, i);
		c->names[i] = xstrdup(PQfname(res, i));
		c->cols[i].kind = rec_kind_of(p->oids[i]);
		c->cols[i].type = xstrdup(rec_type_name(p->oids[i], tmp,
		    sizeof tmp));
	}
}

/* compare: value: count the rows; keep the first row's first column. */
static void
rsp_value(struct rsp *p, const PGresult *res)
{
	struct rec_conn *c = p->c;
	int n = PQntuples(res);

	if (c->nrows == 0 && c->value_oid == 0) {
		c->ncols = PQnfields(res);
		c->value_oid = c->ncols > 0 ? PQftype(res, 0) : 0;
	}
	if (c->nrows == 0 && n > 0 && c->ncols > 0 && !PQgetisnull(res, 0, 0))
		c->value = xstrdup(PQgetvalue(res, 0, 0));
	c->nrows += n;
}

/*
 * Stream the rows, sorted by the server as the merge expects: first ask
 * whether the keys are unique (rsp_unique_done streams then); before
 * PostgreSQL 11 (no indnkeyatts) they are taken as not.
 */
static void
rsp_stream(struct rec_conn *c, const struct rec_merge *m)
{
	struct rsp *p = c->impl;
	struct rec_pg_src src;
	char *sql;

	c->streaming = 1;
	p->m = m;
	p->nkeys = m->nkeys;
	p->unique = 0;
	if (PQserverVersion(p->pg) < 110000) {
		sql = rsp_copy_sql(p);
		rsp_sent(p, PQsendQuery(p->pg, sql), RP_COPY_START);
		free(sql);
		return;
	}
	rsp_src(p, &src);
	sql = rec_pg_unique_sql(&src, m);
	rsp_sent(p, PQsendQuery(p->pg, sql), RP_UNIQUE);
	free(sql);
}

/* The probe answered: stream. */
static void
rsp_unique_done(struct rsp *p)
{
	size_t n = p->ans.len / sizeof(char *), i;
	int rows, cols;
	int64_t est;
	char **cells = rsp_ans_take(p, &rows, &cols);
	char *sql;

	p->unique = rec_pg_unique_read(rows, cols, cells, &est);
	for (i = 0; i < n; i++)
		free(cells[i]);
	free(cells);
	sql = rsp_copy_sql(p);
	rsp_sent(p, PQsendQuery(p->pg, sql), RP_COPY_START);
	free(sql);
}

/* COPY (SELECT * FROM (query) q(c1, ...) ORDER BY keys) TO STDOUT; rows
 * of equal keys in the order of their other columns (as keys are ordered),
 * so that they pair alike in every run and in both methods, unless the
 * keys are proven unique (p->unique: no equal keys to order). */
static char *
rsp_copy_sql(const struct rsp *p)
{
	return rsp_copy_where_sql(p, NULL);
}

/* The same, of the rows where cond holds (NULL: every row). */
static char *
rsp_copy_where_sql(const struct rsp *p, const char *cond)
{
	struct buf b = { 0 };
	char name[16];
	int i;

	buf_printf(&b, "COPY (SELECT * FROM (\n%s\n) AS q(", p->query);
	for (i = 0; i < p->c->ncols; i++)
		buf_printf(&b, "%sc%d", i > 0 ? ", " : "", i + 1);
	buf_addc(&b, ')');
	if (cond != NULL)
		buf_printf(&b, " WHERE %s", cond);
	buf_adds(&b, " ORDER BY ");
	for (i = 0; i < (p->unique ? p->nkeys : p->c->ncols); i++) {
		snprintf(name, sizeof name, "c%d", i + 1);
		if (i > 0)
			buf_adds(&b, ", ");
		rec_order_by(&b, name, rec_kind_of(p->oids[i]));
	}
	buf_adds(&b, ") TO STDOUT");
	return buf_steal(&b);
}

/* Make sure the side has a current row or has ended; 0: must wait. */
static int
rsp_fetch(struct rec_conn *c)
{
	struct rsp *p = c->impl;
	char *err = NULL;
	int r, n;

	if (c->have_row || c->eof)
		return 1;
	if (p->phase != RP_COPY)
		return 0;
	if (rsp_early_take(p)) {
		c->have_row = c->row_canonical = 1;
		return 1;
	}
	c->row_canonical = 0;
	if (p->early.data != NULL && !c->ahead) {
		buf_free(&p->early); /* no row will come there again */
		p->earlyoff = 0;
	}
	r = rsp_ahead_take(p);
	if (r == 0)
		return 0;
	if (r == -1) {
		p->phase = RP_COPY_END;
		rsp_results(p);
		return c->eof;
	}
	if (r < 0) {
		rsp_lost(p, PQerrorMessage(p->pg));
		return -1;
	}
	if (p->badn != 0) { /* rsp_early_add split it, and found it bad */
		n = p->badn;
		p->badn = 0;
	} else
		n = rec_copy_split(p->row, (size_t)r, c->fields, c->ncols);
	c->have_row = 1;
	if (n == c->ncols)
		return 1;
	xasprintf(&err, "a row came with %d fields, not %d", n, c->ncols);
	rec_side_fail(c, err);
	free(err);
	return -1;
}

static void
rsp_drop(struct rec_conn *c)
{
	struct rsp *p = c->impl;

	if (p != NULL && p->row != NULL)
		PQfreemem(p->row);
	if (p != NULL)
		p->row = NULL;
	c->have_row = 0;
}

/*
 * A side's SQL error: "ERROR 42P01: relation "x" does not exist" fails
 * the attempt; details go to the output.
 */
static void
rsp_sql_error(struct rsp *p, const PGresult *res)
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
		xasprintf(&line, "%s %s: %s: %s\n", p->c->label, p->c->target,
		    i == 0 ? "DETAIL" : "HINT", v);
		rec_side_output(p->c, line);
		free(line);
	}
	rec_side_fail(p->c, buf_str(&b));
	buf_free(&b);
}

/* The connection broke (or could not be used). */
static void
rsp_lost(struct rsp *p, const char *why)
{
	char *line, *msg;

	line = pg_first_line(why != NULL && *why != '\0' ? why : "closed");
	xasprintf(&msg, "connection lost: %s", line);
	rec_side_fail(p->c, msg);
	free(msg);
	free(line);
}

/* Ask the server to stop the side's query; PQcancel blocks: a child. */
static void
rsp_cancel(struct rsp *p)
{
	pid_t pid;

	if (p->pg == NULL || p->phase <= RP_SETUP || p->phase == RP_DONE ||
	    p->phase == RP_DESCRIBED)
		return;
	if ((pid = pg_conn_cancel(p->pc)) > 0)
		p->cancel_pid = pid;
}

static void
rsp_close(struct rec_conn *c)
{
	struct rsp *p = c->impl;

	if (p == NULL)
		return;
	rsp_cancel(p);
	rsp_drop(c);
	rsp_ahead_clear(p);
	pg_conn_free(p->pc);
	p->pc = NULL;
	p->pg = NULL;
	p->phase = RP_IDLE;
}

/* NOTICE and WARNING go to the output. */
static void
rsp_notice(struct pg_conn *pc, const char *msg, void *arg)
{
	struct rsp *p = arg;
	char *line;

	(void)pc;
	xasprintf(&line, "%s %s: %s", p->c->label, p->c->target, msg);
	rec_side_output(p->c, line);
	free(line);
}

static void
rsp_free(struct rec_conn *c)
{
	struct rsp *p = c->impl;
	int i;

	if (p == NULL)
		return;
	rsp_close(c);
	for (i = 0; c->cols != NULL && i < c->ncols; i++)
		free((char *)c->cols[i].type);
	free(p->conninfo);
	free(p->query);
	free(p->oids);
	free(p->ftable);
	free(p->fcol);
	free(p->ahead);
	buf_free(&p->cur);
	buf_free(&p->canon);
	free(p->canonoff);
	free(p->ef);
	rsp_ask_done(p);
	free(p);
	c->impl = NULL;
}

/* ------------------------------------------------- method: checksum */

/* What the statements of rec-hash-pg.c need of this side. */
static void
rsp_src(const struct rsp *p, struct rec_pg_src *src)
{
	const char *enc = p->pg != NULL ? PQparameterStatus(p->pg,
	    "server_encoding") : NULL;

	src->c = p->c;
	src->query = p->query;
	src->ftable = p->ftable;
	src->fcol = p->fcol;
	src->utf8 = enc != NULL && (strcmp(enc, "UTF8") == 0 ||
	    strcmp(enc, "SQL_ASCII") == 0);
}

/* Why checksum cannot hash this side: trim_scale is PostgreSQL 13's. */
static char *
rsp_cannot(struct rec_conn *c, const struct rec_merge *m)
{
	struct rsp *p = c->impl;
	struct rec_pg_src src;
	char *why;
	int v = p->pg != NULL ? PQserverVersion(p->pg) : 0;

	if (v < 130000) {
		xasprintf(&why, "%s %s: the server is PostgreSQL %d.%d; checksum "
		    "needs 13 or later", c->label, c->target, v / 10000,
		    v / 100 % 100);
		return why;
	}
	rsp_src(p, &src);
	return rec_pg_cannot(&src, m);
}

/* Loopback or a Unix socket: the rows do not cross a network. */
static int
rsp_local(struct rec_conn *c)
{
	struct rsp *p = c->impl;
	const char *h = p->pg != NULL ? PQhost(p->pg) : NULL;
	const char *a = p->pg != NULL ? PQhostaddr(p->pg) : NULL;

	if (h == NULL || *h == '/' || *h == '@' || strcmp(h, "localhost") == 0)
		return 1;
	if (a != NULL && *a != '\0')
		h = a;
	return strncmp(h, "127.", 4) == 0 || strcmp(h, "::1") == 0;
}

static char *
rsp_estimate_sql(struct rec_conn *c)
{
	struct rec_pg_src src;

	rsp_src(c->impl, &src);
	return rec_pg_estimate_sql(&src);
}

static char *
rsp_probe_sql(struct rec_conn *c, const struct rec_merge *m)
{
	struct rec_pg_src src;

	rsp_src(c->impl, &src);
	return rec_pg_probe_sql(&src, m);
}

/* Keys proven unique: stream_range orders rows by them only. */
static int
rsp_probe_read(struct rec_conn *c, int nrows, int ncols, char *const *cells,
    int64_t *est, char **hashid)
{
	struct rsp *p = c->impl;

	p->unique = rec_pg_probe_read(nrows, ncols, cells, est, hashid);
	return p->unique;
}

static char *
rsp_stats_sql(struct rec_conn *c, const struct rec_merge *m,
    const struct rec_range *r, char **const *bounds, int nb, int flags)
{
	struct rec_pg_src src;

	rsp_src(c->impl, &src);
	return rec_pg_stats_sql(&src, m, r, bounds, nb, flags);
}

static char *
rsp_sample_sql(struct rec_conn *c, const struct rec_merge *m,
    const struct rec_range *r, int64_t parts, double fraction)
{
	struct rec_pg_src src;

	rsp_src(c->impl, &src);
	return rec_pg_sample_sql(&src, m, r, parts, fraction);
}

/*
 * Run a statement of the checksum; rsp_ask_done answers. JIT is off: it
 * would compile the long expressions that find a row's range (a CASE per
 * bound) for longer than the statement runs.
 */
static void
rsp_ask(struct rec_conn *c, const char *sql)
{
	struct rsp *p = c->impl;
	char *all;

	rsp_ask_done(p); /* nothing left of an earlier answer */
	xasprintf(&all, "SET jit = off; %s", sql);
	if (rsp_sent(p, PQsendQuery(p->pg, all), RP_ASK) == 0)
		rsp_watch(c);
	free(all);
}

/* Keep an answer's cells. */
static void
rsp_ask_rows(struct rsp *p, const PGresult *res)
{
	int i, j, n = PQntuples(res), k = PQnfields(res);
	char *v;

	p->anscols = k;
	for (i = 0; i < n; i++) {
		for (j = 0; j < k; j++) {
			v = PQgetisnull(res, i, j) ? NULL :
			    xstrdup(PQgetvalue(res, i, j));
			buf_add(&p->ans, &v, sizeof v);
		}
	}
	p->ansrows += n;
}

/* The cells of the answer so far (never NULL), taken from p. */
static char **
rsp_ans_take(struct rsp *p, int *rows, int *cols)
{
	char **cells = (char **)(void *)p->ans.data;

	*rows = p->ansrows;
	*cols = p->anscols;
	p->ans.data = NULL;
	p->ans.len = p->ans.cap = 0;
	p->ansrows = p->anscols = 0;
	return cells != NULL ? cells : xcalloc(1, sizeof *cells);
}

/* The statement ended: hand its cells over (in RP_ASK), or drop them. */
static void
rsp_ask_done(struct rsp *p)
{
	size_t n = p->ans.len / sizeof(char *), i;
	int rows, cols;
	char **cells = rsp_ans_take(p, &rows, &cols);

	if (p->phase != RP_ASK) {
		for (i = 0; i < n; i++)
			free(cells[i]);
		free(cells);
		return;
	}
	p->phase = RP_DESCRIBED;
	rec_side_answer(p->c, rows, cols, cells);
}

/* Stream the rows of range r, as rsp_stream streams them all. */
static void
rsp_stream_range(struct rec_conn *c, const struct rec_merge *m,
    const struct rec_range *r)
{
	struct rsp *p = c->impl;
	struct rec_pg_src src;
	char *cond, *sql;

	rsp_src(p, &src);
	p->m = m;
	p->nkeys = m->nkeys;
	cond = rec_pg_range_where(&src, m, r);
	sql = rsp_copy_where_sql(p, cond);
	c->streaming = 1;
	c->eof = 0;
	rsp_drop(c);
	rsp_ahead_clear(p);
	rsp_sent(p, PQsendQuery(p->pg, sql), RP_COPY_START);
	free(sql);
	free(cond);
}
