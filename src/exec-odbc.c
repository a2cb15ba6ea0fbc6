/*
 * exec-odbc.c - sql steps on odbc targets (unixODBC).
 *
 * The step's text is split into statements at semicolons outside quotes
 * and comments, and each runs in turn with SQLExecDirect in autocommit
 * mode, in a worker thread on the target's one connection (odbc.h: the
 * drivers we run on do not implement ODBC asynchronous execution, so a
 * thread per statement batch, handing its results back through a socket
 * the event loop reads, keeps the console from ever waiting on a driver).
 * The first failing statement ends the step; later ones do not run.
 *
 * What a statement returned is shown as for postgres targets: the
 * affected row count, or the first SQL_MAX_ROWS rows and the total. A
 * verify is true when the first column of the first row of its last
 * statement is true, t, or a non-zero number.
 *
 * A timeout, or a cancel, calls SQLCancel on the running statement (the
 * driver asks the server to stop it: MariaDB sends KILL QUERY); each
 * statement also carries SQL_ATTR_QUERY_TIMEOUT, for drivers that enforce
 * it on the server. If the driver has not returned ODBC_CANCEL_GRACE_MS
 * after the cancel, the connection is given up (closed when the driver
 * returns) and the step fails anyway.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "exec.h"
#include "exec-stop.h"
#include "expand.h"
#include "loop.h"
#include "odbc.h"
#include "outbuf.h"
#include "runbook.h"
#include "xmalloc.h"

#define ODBC_CANCEL_GRACE_MS 5000 /* after a cancel, then the line goes */
#define ODBC_MAX_ROWS 20          /* rows shown per statement */

/* Frames from the worker (odbc.h). */
enum {
	XO_OUT = ODBC_MSG_USER, /* text for the output */
	XO_ERROR,               /* the first error, one line */
	XO_VALUE,               /* verdict byte, then the value */
};

/* What the last statement returned, for verify. */
enum xo_verdict { XO_V_NOROWS, XO_V_NOCOLS, XO_V_NULL, XO_V_VALUE };

/* What the worker needs: its own copies. */
struct xo_work {
	char *command;
	int64_t timeout_ms;
};

struct exec {
	struct exec_req req;
	char *connstr;
	char **secrets;
	struct odbc_job *job;
	char *command; /* until release hands it to the worker */
	int released, finished;
	struct exec_stop *stop; /* the deadline, the reason, the grace */
	char *error; /* the first error */
	enum xo_verdict verdict;
	char *value;
	struct exec_result result;
};

static struct exec *xo_start(const struct exec_req *, char **);
static int64_t xo_pgid(struct exec *);
static void xo_release(struct exec *);
static void xo_cancel(struct exec *, const char *);
static void xo_free(struct exec *);
static void xo_shutdown(void);
static int xo_recover(const struct exec_orphan *, int64_t, char **);
static int xo_on_msg(int, const char *, size_t, void *);
static void xo_on_end(enum odbc_end, void *);
static int xo_stop_cancel(void *);
static void xo_stop_give_up(void *);
static void xo_finish(struct exec *, int, const char *);
static void xo_on_done(void *);
static char *xo_verify(const struct exec *);
static void xo_work(struct odbc_job *, void *);
static void xo_work_free(void *);
static int xo_run_one(struct odbc_job *, SQLHDBC, const char *, int64_t);
static int xo_results(struct odbc_job *, SQLHSTMT);
static int xo_rows(struct odbc_job *, SQLHSTMT, SQLSMALLINT, struct buf *);
static int xo_fail(struct odbc_job *, SQLSMALLINT, SQLHANDLE, SQLHDBC);
static size_t xo_statement_end(const char *);

static const struct exec_stop_ops xo_stop_ops = {
	.cancel = xo_stop_cancel,
	.give_up = xo_stop_give_up,
};

const struct exec_ops exec_odbc_ops = {
	.name = "odbc",
	.start = xo_start,
	.pgid = xo_pgid,
	.release = xo_release,
	.cancel = xo_cancel,
	.free = xo_free,
	.shutdown = xo_shutdown,
	.recover = xo_recover,
};

/* ------------------------------------------------------- the loop side */

static struct exec *
xo_start(const struct exec_req *req, char **err)
{
	struct exec *e;
	char *connstr;

	if (req->target == NULL || req->target->type != TARGET_ODBC ||
	    req->target->connection == NULL) {
		xasprintf(err, "step %s has no odbc target", req->step);
		return NULL;
	}
	if ((connstr = odbc_connection_expand(req->rb, req->target, err)) ==
	    NULL)
		return NULL;
	e = xcalloc(1, sizeof *e);
	e->req = *req;
	e->connstr = connstr;
	e->command = xstrdup(req->command);
	e->secrets = xcalloc(2, sizeof *e->secrets);
	e->secrets[0] = odbc_connection_password(connstr);
	if (e->secrets[0] != NULL && *e->secrets[0] == '\0') {
		free(e->secrets[0]);
		e->secrets[0] = NULL;
	}
	e->result.exit_code = -1;
	e->stop = exec_stop_new(req->loop, &xo_stop_ops, e,
	    ODBC_CANCEL_GRACE_MS);
	return e;
}

static int64_t
xo_pgid(struct exec *e)
{
	(void)e;
	return 0;
}

/* Recorded as running: queue for the connection, start the clock. */
static void
xo_release(struct exec *e)
{
	static const struct odbc_job_cbs cbs = {
		.work = xo_work,
		.msg = xo_on_msg,
		.end = xo_on_end,
		.free_arg = xo_work_free,
	};
	struct xo_work *w;

	if (e->finished || e->released)
		return;
	e->released = 1;
	exec_stop_arm(e->stop, e->req.timeout_ms);
	w = xcalloc(1, sizeof *w);
	w->command = e->command;
	e->command = NULL;
	w->timeout_ms = e->req.timeout_ms;
	e->job = odbc_job_start(e->req.loop, e->req.target->name, e->connstr,
	    0, e->req.timeout_ms, &cbs, w, e);
}

static void
xo_cancel(struct exec *e, const char *why)
{
	exec_stop_cancel(e->stop, why);
}

/* Output, less the password. */
static void
xo_output(struct exec *e, const char *s, size_t len)
{
	char *raw = xstrndup(s, len), *clean = outbuf_redact(e->secrets, raw);

	e->req.output(clean, strlen(clean), e->req.arg);
	free(clean);
	free(raw);
}

/* A frame from the worker. */
static int
xo_on_msg(int type, const char *data, size_t len, void *arg)
{
	struct exec *e = arg;

	switch (type) {
	case XO_OUT:
		xo_output(e, data, len);
		break;
	case XO_ERROR:
		if (e->error == NULL)
			e->error = xstrndup(data, len);
		break;
	case XO_VALUE:
		if (len < 1)
			break;
		e->verdict = (enum xo_verdict)data[0];
		free(e->value);
		e->value = e->verdict == XO_V_VALUE ? xstrndup(data + 1,
		    len - 1) : NULL;
		break;
	}
	return 0;
}

/* The worker is done: judge the attempt. */
static void
xo_on_end(enum odbc_end end, void *arg)
{
	struct exec *e = arg;
	char *msg = NULL;

	e->job = NULL;
	if (exec_stop_why(e->stop) != NULL)
		xo_finish(e, 0, exec_stop_why(e->stop));
	else if (e->error != NULL)
		xo_finish(e, 0, e->error);
	else if (end != ODBC_END_OK)
		xo_finish(e, 0, end == ODBC_END_LOST ? "connection lost" :
		    "cancelled");
	else if (e->req.verify && (msg = xo_verify(e)) != NULL)
		xo_finish(e, 0, msg);
	else
		xo_finish(e, 1, NULL);
	free(msg);
}

/* The verify rule, as for postgres targets; NULL if true, else why not. */
static char *
xo_verify(const struct exec *e)
{
	struct buf b = { 0 };

	switch (e->verdict) {
	case XO_V_VALUE:
		break;
	case XO_V_NULL:
		return xstrdup("verify returned NULL");
	case XO_V_NOCOLS:
		return xstrdup("verify returned no columns");
	default:
		return xstrdup("verify returned no rows");
	}
	if (exec_sql_true(e->value))
		return NULL;
	buf_adds(&b, "verify returned ");
	if (*e->value == '\0')
		buf_adds(&b, "an empty string");
	else
		exec_sql_cell(&b, e->value, strlen(e->value));
	return buf_steal(&b);
}

/* Stop: cancel the statement; the driver gets a grace period (exec-stop.h). */
static int
xo_stop_cancel(void *arg)
{
	struct exec *e = arg;

	if (e->job == NULL) {
		xo_finish(e, 0, exec_stop_why(e->stop));
		return 0;
	}
	odbc_job_cancel(e->job); /* a queued job ends here, at once */
	return 1;
}

/* The driver did not return after the cancel: give the connection up. */
static void
xo_stop_give_up(void *arg)
{
	struct exec *e = arg;
	static const char note[] = "[cutover: the driver did not end the "
	    "statement after the cancel; its connection is given up]\n";

	if (e->job == NULL || e->finished)
		return;
	odbc_job_abandon(e->job);
	e->job = NULL;
	xo_output(e, note, sizeof note - 1);
	xo_finish(e, 0, exec_stop_why(e->stop));
}

/* Record the outcome; done() follows from the loop. */
static void
xo_finish(struct exec *e, int ok, const char *msg)
{
	if (e->finished)
		return;
	e->finished = 1;
	exec_stop_finish(e->stop);
	e->result.ok = ok;
	e->result.timed_out = exec_stop_timed_out(e->stop);
	if (!ok)
		e->result.message = outbuf_redact(e->secrets, msg != NULL ? msg :
		    "failed");
	loop_defer(e->req.loop, xo_on_done, e);
}

static void
xo_on_done(void *arg)
{
	struct exec *e = arg;

	e->req.done(&e->result, e->req.arg);
}

/* Freed mid-statement (the engine is closing): cancel, let it go. */
static void
xo_free(struct exec *e)
{
	if (e == NULL)
		return;
	if (e->job != NULL) {
		odbc_job_cancel(e->job);
		if (e->job != NULL && !e->finished)
			odbc_job_abandon(e->job);
	}
	exec_stop_free(e->stop);
	loop_defer_cancel(e->req.loop, xo_on_done, e);
	free(e->connstr);
	free(e->command);
	expand_free_list(e->secrets);
	free(e->error);
	free(e->value);
	free(e->result.message);
	free(e);
}

static void
xo_shutdown(void)
{
	odbc_shutdown();
}

/*
 * A dead driver's statements: ODBC gives no way to find the session they
 * ran in, so whether they still run is for a person to check.
 */
static int
xo_recover(const struct exec_orphan *o, int64_t wait_ms, char **why)
{
	(void)wait_ms;
	xasprintf(why, "cannot tell whether the statements of step %s still "
	    "run on odbc target %s: check the server's sessions (SHOW "
	    "PROCESSLIST, sp_who, ...) before deciding", o->def->id,
	    o->target != NULL ? o->target->name : "?");
	return EXEC_ORPHAN_UNKNOWN;
}

/* ---------------------------------------------------- the worker side */

static void
xo_work_free(void *arg)
{
	struct xo_work *w = arg;

	free(w->command);
	free(w);
}

/* Run the statements in turn; the first failure ends the batch. */
static void
xo_work(struct odbc_job *job, void *arg)
{
	struct xo_work *w = arg;
	char *err = NULL, *line;
	const char *p = w->command;
	SQLHDBC dbc;
	size_t n;
	int rc = 0;

	if ((dbc = odbc_job_dbc(job, &err)) == NULL) {
		odbc_job_send(job, XO_ERROR, err, strlen(err));
		xasprintf(&line, "%s\n", err);
		odbc_job_send(job, XO_OUT, line, strlen(line));
		free(line);
		free(err);
		odbc_job_set_end(job, ODBC_END_LOST);
		return;
	}
	while (rc == 0 && *p != '\0') {
		n = xo_statement_end(p);
		line = xstrndup(p, n);
		if (line[strspn(line, " \t\r\n;")] != '\0')
			rc = xo_run_one(job, dbc, line, w->timeout_ms);
		free(line);
		p += n;
		if (*p == ';')
			p++;
		if (rc == 0 && odbc_job_cancelled(job)) {
			odbc_job_set_end(job, ODBC_END_ERROR);
			return;
		}
	}
}

/* One statement; 0 if it succeeded. */
static int
xo_run_one(struct odbc_job *job, SQLHDBC dbc, const char *sql,
    int64_t timeout_ms)
{
	SQLHSTMT h;
	SQLRETURN r;
	int rc;

	if (!SQL_SUCCEEDED(SQLAllocHandle(SQL_HANDLE_STMT, dbc, &h)))
		return xo_fail(job, SQL_HANDLE_DBC, dbc, dbc);
	if (timeout_ms > 0)
		SQLSetStmtAttr(h, SQL_ATTR_QUERY_TIMEOUT,
		    (SQLPOINTER)(intptr_t)((timeout_ms + 999) / 1000), 0);
	odbc_job_set_stmt(job, h);
	r = SQLExecDirect(h, (SQLCHAR *)sql, SQL_NTS);
	if (r == SQL_ERROR)
		rc = xo_fail(job, SQL_HANDLE_STMT, h, dbc);
	else
		rc = xo_results(job, h);
	odbc_job_set_stmt(job, NULL);
	SQLFreeHandle(SQL_HANDLE_STMT, h);
	return rc;
}

/* Every result of a statement: rows, or a count of rows affected. */
static int
xo_results(struct odbc_job *job, SQLHSTMT h)
{
	struct buf b = { 0 };
	SQLSMALLINT ncols = 0;
	SQLLEN count = -1;
	SQLRETURN r;
	int rc = 0;
	char v = XO_V_NOROWS;

	do {
		buf_reset(&b);
		if (!SQL_SUCCEEDED(SQLNumResultCols(h, &ncols)))
			ncols = 0;
		if (ncols > 0)
			rc = xo_rows(job, h, ncols, &b);
		else {
			if (!SQL_SUCCEEDED(SQLRowCount(h, &count)))
				count = -1;
			if (count >= 0)
				buf_printf(&b, "%lld row%s affected\n",
				    (long long)count, count == 1 ? "" : "s");
			else
				buf_adds(&b, "OK\n");
			odbc_job_send(job, XO_VALUE, &v, 1);
		}
		if (rc != 0)
			break;
		odbc_job_send(job, XO_OUT, b.data, b.len);
		r = SQLMoreResults(h);
	} while (SQL_SUCCEEDED(r));
	if (rc == 0 && r == SQL_ERROR)
		rc = xo_fail(job, SQL_HANDLE_STMT, h, NULL);
	buf_free(&b);
	return rc;
}

/* A result set: header, the first rows, the total; the verify verdict. */
static int
xo_rows(struct odbc_job *job, SQLHSTMT h, SQLSMALLINT ncols, struct buf *b)
{
	struct buf v = { 0 }, first = { 0 };
	SQLCHAR name[256];
	SQLSMALLINT len, i;
	SQLRETURN r;
	long long n = 0;
	int got, verdict = XO_V_NOROWS;

	for (i = 1; i <= ncols; i++) {
		if (!SQL_SUCCEEDED(SQLColAttribute(h, i, SQL_DESC_NAME, name,
		        sizeof name, &len, NULL)))
			name[0] = '\0';
		buf_printf(b, "%s%s", i > 1 ? " | " : "", (char *)name);
	}
	buf_addc(b, '\n');
	while ((r = SQLFetch(h)) != SQL_NO_DATA) {
		if (!SQL_SUCCEEDED(r)) {
			buf_free(&v);
			buf_free(&first);
			return xo_fail(job, SQL_HANDLE_STMT, h, NULL);
		}
		for (i = 1; n < ODBC_MAX_ROWS && i <= ncols; i++) {
			got = odbc_get_text(h, (SQLUSMALLINT)i, &v);
			if (i > 1)
				buf_adds(b, " | ");
			if (got > 0)
				exec_sql_cell(b, v.len > 0 ? v.data : "", v.len);
			else
				buf_adds(b, got == 0 ? "NULL" : "?");
			if (n == 0 && i == 1) {
				verdict = got > 0 ? XO_V_VALUE : XO_V_NULL;
				buf_addc(&first, (char)verdict);
				if (got > 0)
					buf_add(&first, v.data, v.len);
			}
		}
		if (n < ODBC_MAX_ROWS)
			buf_addc(b, '\n');
		n++;
		if (odbc_job_cancelled(job))
			break;
	}
	buf_printf(b, "(%lld row%s)\n", n, n == 1 ? "" : "s");
	if (verdict == XO_V_NOROWS)
		buf_addc(&first, XO_V_NOROWS);
	odbc_job_send(job, XO_VALUE, first.data, first.len);
	buf_free(&v);
	buf_free(&first);
	return 0;
}

/* A failed call: the diagnostics as the error and in the output. */
static int
xo_fail(struct odbc_job *job, SQLSMALLINT type, SQLHANDLE h, SQLHDBC dbc)
{
	struct buf b = { 0 };
	SQLUINTEGER dead = SQL_CD_FALSE;
	char state[6];

	buf_adds(&b, "ERROR ");
	odbc_diag(type, h, &b, state);
	if (state[0] == '\0')
		buf_adds(&b, "the driver gave no reason");
	odbc_job_send(job, XO_ERROR, b.data, b.len);
	buf_addc(&b, '\n');
	odbc_job_send(job, XO_OUT, b.data, b.len);
	buf_free(&b);
	if (odbc_state_lost(state) || (dbc != NULL &&
	    SQL_SUCCEEDED(SQLGetConnectAttr(dbc, SQL_ATTR_CONNECTION_DEAD,
	        &dead, 0, NULL)) && dead == SQL_CD_TRUE)) {
		odbc_job_broken(job);
		odbc_job_set_end(job, ODBC_END_LOST);
	} else
		odbc_job_set_end(job, ODBC_END_ERROR);
	return -1;
}

/*
 * The length of the statement at s: up to its ';' outside quotes ('', "",
 * ``, doubled to escape) and comments (-- to the end of the line, slash-
 * star to star-slash), or to the end.
 */
static size_t
xo_statement_end(const char *s)
{
	size_t i = 0;
	char q;

	while (s[i] != '\0' && s[i] != ';') {
		if (s[i] == '\'' || s[i] == '"' || s[i] == '`') {
			q = s[i++];
			while (s[i] != '\0' && !(s[i] == q && s[i + 1] != q))
				i += s[i] == q ? 2 : 1;
			if (s[i] != '\0')
				i++;
		} else if (s[i] == '-' && s[i + 1] == '-') {
			while (s[i] != '\0' && s[i] != '\n')
				i++;
		} else if (s[i] == '/' && s[i + 1] == '*') {
			for (i += 2; s[i] != '\0' && !(s[i] == '*' &&
			    s[i + 1] == '/'); i++)
				;
			if (s[i] != '\0')
				i += 2;
		} else
			i++;
	}
	return i;
}

