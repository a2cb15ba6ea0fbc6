/*
 * exec-sql.c - sql steps on postgres targets, on libpq's asynchronous API.
 *
 * Two layers, kept apart so that reconciliation can borrow connections too.
 *
 * The connection cache (sql_conn_*) keeps one connection per target for the
 * life of the process. Each is a struct pg_conn (pg-conn.h: connecting
 * under a time limit, flushing, reading, cancelling, driven by the loop),
 * lent to one user at a time: a connection runs one query at a time,
 * so other users of the same target wait in a queue, first come first
 * served. A second connection is deliberately not opened: two steps that
 * the runbook lets run in parallel on one database would otherwise hold
 * locks against each other in two sessions, and a cutover should not grow
 * its footprint on a production server behind the operator's back. While
 * nobody holds it, the cache watches the socket, so a connection the server
 * ended (restart, idle timeout) is closed at once and the next user gets a
 * fresh one; its liveness is also checked right before it is lent.
 *
 * The executor (sql_*) borrows the target's connection, sends the step's
 * whole text with PQsendQuery (in single-row mode, so memory stays bounded
 * whatever a statement returns), and reads every result as the socket
 * becomes readable. A timeout or cancel sends a cancel request
 * (pg_conn_cancel), then waits for the server to end the query. Before the
 * text, SET application_name names the session after the attempt, so that
 * a later driver finds it (pg_attempt_end) if this one dies.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "buf.h"
#include "exec.h"
#include "exec-stop.h"
#include "pg-conn.h"
#include "pg.h"
#include "expand.h"
#include "loop.h"
#include "outbuf.h"
#include "runbook.h"
#include "xmalloc.h"

#define SQL_CANCEL_GRACE_MS 5000 /* after a cancel, then the connection goes */
#define SQL_MAX_ROWS 20          /* rows shown per statement */
#define SQL_MAX_CELL 60          /* characters shown per value */
#define SQL_BATCH 512            /* results handled per pass of the loop */

/* Type OIDs shown right-aligned (from pg_type.h, stable since forever). */
#define SQL_INT8OID 20
#define SQL_INT2OID 21
#define SQL_INT4OID 23
#define SQL_OIDOID 26
#define SQL_FLOAT4OID 700
#define SQL_FLOAT8OID 701
#define SQL_NUMERICOID 1700

struct sql_conn;

/* One who borrows a connection: a step now, a reconciliation later. */
struct sql_user {
	/* The connection is lent to this user (err NULL), or could not be
	 * made (conn NULL). Always called from the loop. */
	void (*ready)(struct sql_user *, struct sql_conn *, const char *err);
	/* Input arrived, or the connection broke, while this user holds it. */
	void (*input)(struct sql_user *);
	void (*lost)(struct sql_user *);
	/* A NOTICE or WARNING while this user holds the connection. */
	void (*notice)(struct sql_user *, const char *);
	void *arg;
	struct sql_conn *conn; /* waiting for or holding */
	struct sql_user *next; /* in the queue */
};

struct sql_conn {
	char *name;     /* the target's name: the only thing ever shown */
	char *conninfo; /* expanded: may hold a password, never shown */
	char **secrets; /* the password in it, for redaction */
	int stale;      /* conninfo changed: reconnect when idle */
	struct loop *loop;
	struct pg_conn *pc; /* NULL: not connected */
	struct sql_user *holder;
	struct sql_user *queue;
	struct sql_conn *next;
};

/* What the last statement returned, for verify. */
enum sql_verdict { SQL_V_NONE, SQL_V_NOROWS, SQL_V_NOCOLS, SQL_V_NULL,
    SQL_V_VALUE };

/* The rows of the statement being read: column names and the first rows. */
struct sql_rows {
	int active;
	int ncols;
	char **names;
	int *right;
	char **cells; /* SQL_MAX_ROWS x ncols; NULL is SQL NULL */
	int64_t n;
};

struct exec {
	struct exec_req req;
	char *command;
	char *appname; /* "cutover TOKEN": set before the command runs */
	char *conninfo;
	char **secrets;
	struct sql_user user;
	struct sql_conn *conn; /* while holding it */
	int released, holding, sent, finished;
	int naming; /* the SET of application_name is in flight */
	int lost, must_drop;
	pid_t cancel_pid;
	struct exec_stop *stop; /* the deadline, the reason, the grace */
	char *error; /* the first error, one line */
	struct sql_rows rows;
	enum sql_verdict verdict;
	char *value; /* first column of first row of the last statement */
	struct exec_result result;
};

static struct sql_conn *sql_conns;

static struct sql_conn *sql_conn_get(struct loop *, const char *,
    const char *, char **, struct sql_user *);
static void sql_conn_kick(struct sql_conn *);
static void sql_conn_on_kick(void *);
static void sql_conn_serve(struct sql_conn *);
static void sql_conn_connect(struct sql_conn *);
static void sql_conn_on_connected(struct pg_conn *, const char *, void *);
static void sql_conn_on_input(struct pg_conn *, void *);
static void sql_conn_on_lost(struct pg_conn *, const char *, void *);
static void sql_conn_fail(struct sql_conn *, const char *);
static void sql_conn_put(struct sql_conn *, struct sql_user *);
static void sql_conn_drop(struct sql_conn *, struct sql_user *);
static void sql_conn_leave(struct sql_user *);
static void sql_conn_close(struct sql_conn *);
static void sql_conn_notice(struct pg_conn *, const char *, void *);
static PGconn *sql_conn_pg(struct sql_conn *);
static void sql_conn_free(struct sql_conn *);

static struct exec *sql_start(const struct exec_req *, char **);
static int64_t sql_pgid(struct exec *);
static void sql_release(struct exec *);
static void sql_cancel(struct exec *, const char *);
static void sql_free(struct exec *);
static char *sql_recover_message(const struct exec_orphan *, int,
    const char *, const char *);
static char **sql_conninfo_secrets(const struct exec_req *, const char *,
    char **);
static void sql_on_ready(struct sql_user *, struct sql_conn *, const char *);
static void sql_on_input(struct sql_user *);
static void sql_on_lost(struct sql_user *);
static void sql_on_notice(struct sql_user *, const char *);
static void sql_send(struct exec *);
static void sql_flush(struct exec *);
static void sql_read(struct exec *);
static void sql_on_more(void *);
static void sql_result(struct exec *, PGresult *);
static void sql_result_error(struct exec *, const PGresult *);
static void sql_statement_end(struct exec *, const PGresult *);
static void sql_lost(struct exec *);
static void sql_complete(struct exec *);
static char *sql_verify(struct exec *);
static int sql_stop_cancel(void *);
static void sql_send_cancel(struct exec *);
static void sql_stop_give_up(void *);
static void sql_finish(struct exec *, int, const char *);
static void sql_on_done(void *);
static void sql_output(struct exec *, const char *);

static void sql_rows_begin(struct sql_rows *, const PGresult *);
static void sql_rows_add(struct sql_rows *, const PGresult *);
static void sql_rows_render(const struct sql_rows *, struct buf *);
static void sql_rows_clear(struct sql_rows *);
static char *sql_cell(const char *);
static size_t sql_width(const char *);
static void sql_pad(struct buf *, const char *, size_t, int);

static const struct exec_stop_ops sql_stop_ops = {
	.cancel = sql_stop_cancel,
	.give_up = sql_stop_give_up,
};

const struct exec_ops exec_sql_ops = {
	.name = "sql",
	.start = sql_start,
	.pgid = sql_pgid,
	.release = sql_release,
	.cancel = sql_cancel,
	.free = sql_free,
	.shutdown = exec_sql_shutdown,
	.recover = exec_sql_recover,
};

/* The connection cache. */

/*
 * Queue user for the connection to target name, made from conninfo (which
 * the cache copies; secrets lists what to redact from its messages). The
 * user's ready() follows from the loop, never from inside this call.
 */
static struct sql_conn *
sql_conn_get(struct loop *loop, const char *name, const char *conninfo,
    char **secrets, struct sql_user *u)
{
	struct sql_conn *c;
	struct sql_user **pp;
	size_t i;

	/* One per target and conninfo: a target with ${entity.*} resolves
	 * to one database per entity, each kept for its instances. */
	for (c = sql_conns; c != NULL; c = c->next) {
		if (strcmp(c->name, name) == 0 && (c->conninfo == NULL ||
		    strcmp(c->conninfo, conninfo) == 0))
			break;
	}
	if (c != NULL && c->loop != loop)
		sql_conn_close(c);
	if (c == NULL) {
		c = xcalloc(1, sizeof *c);
		c->name = xstrdup(name);
		c->next = sql_conns;
		sql_conns = c;
	}
	c->loop = loop;
	if (c->conninfo == NULL || strcmp(c->conninfo, conninfo) != 0) {
		c->stale = c->conninfo != NULL;
		free(c->conninfo);
		c->conninfo = xstrdup(conninfo);
		expand_free_list(c->secrets);
		c->secrets = xcalloc(1, sizeof *c->secrets);
		for (i = 0; secrets != NULL && secrets[i] != NULL; i++) {
			c->secrets = xreallocarray(c->secrets, i + 2,
			    sizeof *c->secrets);
			c->secrets[i] = xstrdup(secrets[i]);
			c->secrets[i + 1] = NULL;
		}
	}
	u->conn = c;
	u->next = NULL;
	for (pp = &c->queue; *pp != NULL; pp = &(*pp)->next)
		;
	*pp = u;
	sql_conn_kick(c);
	return c;
}

/* Serve the queue from the loop, soon. */
static void
sql_conn_kick(struct sql_conn *c)
{
	loop_defer(c->loop, sql_conn_on_kick, c);
}

static void
sql_conn_on_kick(void *arg)
{
	struct sql_conn *c = arg;

	sql_conn_serve(c);
}

/* Lend the connection to the first in the queue, connecting if need be. */
static void
sql_conn_serve(struct sql_conn *c)
{
	struct sql_user *u;

	if (c->holder != NULL || (c->pc != NULL && !pg_conn_ready(c->pc)))
		return;
	if (c->pc != NULL && (c->stale || !pg_conn_alive(c->pc)))
		sql_conn_close(c);
	if ((u = c->queue) == NULL)
		return;
	c->stale = 0;
	if (c->pc == NULL) {
		sql_conn_connect(c);
		return;
	}
	c->queue = u->next;
	u->next = NULL;
	c->holder = u;
	u->ready(u, c, NULL);
}

/* Start connecting; sql_conn_on_connected follows from the loop. */
static void
sql_conn_connect(struct sql_conn *c)
{
	static const struct pg_conn_cb cb = {
		.connected = sql_conn_on_connected,
		.input = sql_conn_on_input,
		.lost = sql_conn_on_lost,
		.notice = sql_conn_notice,
	};
	struct pg_conn_cb mine = cb;

	mine.arg = c;
	c->pc = pg_conn_new(c->loop, c->conninfo, NULL, "cutover", &mine);
	pg_conn_read(c->pc, 1); /* held or idle, it is always read */
	pg_conn_start(c->pc);
}

/* Connected: serve the queue; or not: tell everyone waiting. */
static void
sql_conn_on_connected(struct pg_conn *pc, const char *err, void *arg)
{
	struct sql_conn *c = arg;
	char *msg, *clean;

	(void)pc;
	if (err == NULL) {
		sql_conn_serve(c);
		return;
	}
	xasprintf(&msg, "could not connect to %s: %s", c->name,
	    *err != '\0' ? err : "unknown error");
	clean = outbuf_redact(c->secrets, msg);
	sql_conn_fail(c, clean);
	free(clean);
	free(msg);
}

/* Input: the holder's; while idle, the server is most likely going. */
static void
sql_conn_on_input(struct pg_conn *pc, void *arg)
{
	struct sql_conn *c = arg;

	if (c->holder != NULL)
		c->holder->input(c->holder);
	else if (PQstatus(pg_conn_pg(pc)) != CONNECTION_OK)
		sql_conn_close(c);
}

static void
sql_conn_on_lost(struct pg_conn *pc, const char *why, void *arg)
{
	struct sql_conn *c = arg;

	(void)pc;
	(void)why;
	if (c->holder != NULL)
		c->holder->lost(c->holder);
	else
		sql_conn_close(c);
}

/* Connecting failed: close, and tell everyone waiting. */
static void
sql_conn_fail(struct sql_conn *c, const char *msg)
{
	struct sql_user *u, *next;

	sql_conn_close(c);
	u = c->queue;
	c->queue = NULL;
	for (; u != NULL; u = next) {
		next = u->next;
		u->next = NULL;
		u->conn = NULL;
		u->ready(u, NULL, msg);
	}
}

/*
 * The holder is done with the connection. One left inside a transaction is
 * closed (the server rolls the transaction back), never lent on.
 */
static void
sql_conn_put(struct sql_conn *c, struct sql_user *u)
{
	if (c->holder != u)
		return;
	c->holder = NULL;
	u->conn = NULL;
	if (PQstatus(sql_conn_pg(c)) != CONNECTION_OK ||
	    PQtransactionStatus(sql_conn_pg(c)) != PQTRANS_IDLE)
		sql_conn_close(c);
	sql_conn_kick(c);
}

/* The holder found the connection broken: close it; the next reconnects. */
static void
sql_conn_drop(struct sql_conn *c, struct sql_user *u)
{
	if (c->holder != u)
		return;
	c->holder = NULL;
	u->conn = NULL;
	sql_conn_close(c);
	sql_conn_kick(c);
}

/* A waiting user gives up its place in the queue. */
static void
sql_conn_leave(struct sql_user *u)
{
	struct sql_user **pp;

	if (u->conn == NULL || u->conn->holder == u)
		return;
	for (pp = &u->conn->queue; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == u) {
			*pp = u->next;
			break;
		}
	}
	u->conn = NULL;
	u->next = NULL;
}

static void
sql_conn_close(struct sql_conn *c)
{
	pg_conn_free(c->pc);
	c->pc = NULL;
}

/* libpq's notices: to the holder, if any. */
static void
sql_conn_notice(struct pg_conn *pc, const char *msg, void *arg)
{
	struct sql_conn *c = arg;

	(void)pc;
	if (c->holder != NULL && c->holder->notice != NULL)
		c->holder->notice(c->holder, msg);
}

/* The holder's libpq connection (valid until it puts or drops it). */
static PGconn *
sql_conn_pg(struct sql_conn *c)
{
	return pg_conn_pg(c->pc);
}

/* Users must have left by now; their handles are cut loose anyway. */
static void
sql_conn_free(struct sql_conn *c)
{
	struct sql_user *u;

	if (c->holder != NULL)
		c->holder->conn = NULL;
	for (u = c->queue; u != NULL; u = u->next)
		u->conn = NULL;
	sql_conn_close(c);
	loop_defer_cancel(c->loop, sql_conn_on_kick, c);
	free(c->name);
	free(c->conninfo);
	expand_free_list(c->secrets);
	free(c);
}

/*
 * The attempt's session on its target, ended before the step is verified
 * or run again (see pg_attempt_end); messages without secrets.
 */
int
exec_sql_recover(const struct exec_orphan *o, int64_t wait_ms, char **why)
{
	char *conninfo = NULL, *err = NULL, *password = NULL;
	int rc = EXEC_ORPHAN_UNKNOWN;

	*why = NULL;
	if (o->target == NULL || o->target->type != TARGET_POSTGRES ||
	    o->target->conninfo == NULL || o->token == NULL || *o->token == '\0')
		err = xstrdup("no postgres target or no attempt token");
	else if ((conninfo = pg_conninfo_expand_entity(o->rb, o->entity,
	    o->target->conninfo, &err)) == NULL)
		;
	else if (pg_conninfo_password(conninfo, &password, NULL) != 0)
		err = xstrdup("invalid conninfo");
	else
		rc = pg_attempt_end(conninfo, o->token, wait_ms, &err);
	if (rc != EXEC_ORPHAN_GONE)
		*why = sql_recover_message(o, rc, err, password);
	free(password);
	free(conninfo);
	free(err);
	return rc;
}

/* What recovery found, for a person, less the secrets and the password. */
static char *
sql_recover_message(const struct exec_orphan *o, int rc, const char *err,
    const char *password)
{
	const char *name = o->target != NULL ? o->target->name : "its target";
	const char *token = o->token != NULL ? o->token : "?";
	char *msg, *clean, **secrets = expand_secret_values(o->rb);
	size_t n;

	if (rc == EXEC_ORPHAN_STUCK)
		xasprintf(&msg, "attempt %s on %s: %s", token, name, err);
	else
		xasprintf(&msg, "cannot tell whether attempt %s still runs on %s "
		    "(%s): end any session whose application_name is \"cutover "
		    "%s\" (see pg_stat_activity), then confirm or retry the step",
		    token, name, err, token);
	for (n = 0; secrets[n] != NULL; n++)
		;
	secrets = xreallocarray(secrets, n + 2, sizeof *secrets);
	secrets[n] = password != NULL ? xstrdup(password) : NULL;
	secrets[n + 1] = NULL;
	clean = outbuf_redact(secrets, msg);
	expand_free_list(secrets);
	free(msg);
	return clean;
}

void
exec_sql_shutdown(void)
{
	struct sql_conn *c;

	while ((c = sql_conns) != NULL) {
		sql_conns = c->next;
		sql_conn_free(c);
	}
}

/* The executor. */

static struct exec *
sql_start(const struct exec_req *req, char **err)
{
	struct exec *e;
	char *conninfo, **secrets;

	if (req->target == NULL || req->target->type != TARGET_POSTGRES ||
	    req->target->conninfo == NULL) {
		xasprintf(err, "step %s has no postgres target", req->step);
		return NULL;
	}
	if ((conninfo = pg_conninfo_expand_entity(req->rb, req->entity,
	        req->target->conninfo, err)) == NULL)
		return NULL;
	if ((secrets = sql_conninfo_secrets(req, conninfo, err)) == NULL) {
		free(conninfo);
		return NULL;
	}
	if (pg_live_refuses(req->env, req->target->tls_insecure,
	    req->target->name, conninfo, err) != 0) {
		free(conninfo);
		expand_free_list(secrets);
		return NULL;
	}
	e = xcalloc(1, sizeof *e);
	e->req = *req;
	e->command = xstrdup(req->command);
	e->appname = pg_appname_from_env(req->env);
	e->conninfo = conninfo;
	e->secrets = secrets;
	e->result.exit_code = -1;
	e->user.ready = sql_on_ready;
	e->user.input = sql_on_input;
	e->user.lost = sql_on_lost;
	e->user.notice = sql_on_notice;
	e->user.arg = e;
	e->stop = exec_stop_new(req->loop, &sql_stop_ops, e,
	    SQL_CANCEL_GRACE_MS);
	return e;
}

/*
 * The values to redact from messages: the password in conninfo. A conninfo
 * libpq cannot parse is refused here, without its text.
 */
static char **
sql_conninfo_secrets(const struct exec_req *req, const char *conninfo,
    char **err)
{
	char **list = xcalloc(2, sizeof *list), *perr = NULL;

	if (pg_conninfo_password(conninfo, &list[0], &perr) == 0)
		return list;
	free(list);
	*err = pg_conninfo_error(req->target->name, perr);
	free(perr);
	return NULL;
}

static int64_t
sql_pgid(struct exec *e)
{
	(void)e;
	return 0;
}

/* Recorded as running: queue for the connection, start the clock. */
static void
sql_release(struct exec *e)
{
	if (e->finished || e->released)
		return;
	e->released = 1;
	exec_stop_arm(e->stop, e->req.timeout_ms);
	sql_conn_get(e->req.loop, e->req.target->name, e->conninfo, e->secrets,
	    &e->user);
}

static void
sql_cancel(struct exec *e, const char *why)
{
	exec_stop_cancel(e->stop, why);
}

/* The connection is ours (or could not be made). */
static void
sql_on_ready(struct sql_user *u, struct sql_conn *c, const char *err)
{
	struct exec *e = u->arg;

	if (c == NULL) {
		sql_finish(e, 0, err);
		return;
	}
	e->conn = c;
	e->holding = 1;
	sql_send(e);
}

/*
 * Name the session after the attempt first (SET application_name, on its
 * own, so that pg_stat_activity shows the name before the statements run);
 * then send the whole text: the server runs its statements in turn.
 */
static void
sql_send(struct exec *e)
{
	PGconn *pg = sql_conn_pg(e->conn);
	char *line, *msg, *lit = NULL, *set = NULL;
	int ok;

	e->naming = e->appname != NULL && !e->sent &&
	    (lit = PQescapeLiteral(pg, e->appname, strlen(e->appname))) != NULL;
	if (e->naming)
		xasprintf(&set, "SET application_name = %s", lit);
	PQfreemem(lit);
	ok = PQsendQuery(pg, e->naming ? set : e->command);
	free(set);
	if (!ok) {
		if (PQstatus(pg) != CONNECTION_OK) {
			sql_lost(e);
			return;
		}
		line = pg_first_line(PQerrorMessage(pg));
		xasprintf(&msg, "could not send the query: %s", line);
		e->must_drop = 1;
		sql_conn_drop(e->conn, &e->user);
		e->holding = 0;
		sql_finish(e, 0, msg);
		free(msg);
		free(line);
		return;
	}
	e->sent = 1;
	if (!e->naming)
		PQsetSingleRowMode(pg);
	sql_flush(e);
}

/* Push what libpq has buffered; the rest goes when the socket can take it. */
static void
sql_flush(struct exec *e)
{
	if (pg_conn_flush(e->conn->pc) < 0)
		sql_lost(e);
}

/* Input while the query runs: read what is complete. */
static void
sql_on_input(struct sql_user *u)
{
	sql_read(u->arg);
}

static void
sql_on_lost(struct sql_user *u)
{
	sql_lost(u->arg);
}

/* Handle every result libpq has complete, a batch at a time. */
static void
sql_read(struct exec *e)
{
	PGresult *res;
	int n;

	for (n = 0; n < SQL_BATCH; n++) {
		if (PQisBusy(sql_conn_pg(e->conn)))
			return;
		if ((res = PQgetResult(sql_conn_pg(e->conn))) == NULL) {
			if (e->naming && e->error == NULL &&
			    exec_stop_why(e->stop) == NULL) {
				e->naming = 0;
				sql_send(e);
				return;
			}
			sql_complete(e);
			return;
		}
		sql_result(e, res);
		PQclear(res);
		if (!e->holding)
			return;
	}
	/* More may be buffered with nothing left to read: come back. */
	loop_defer(e->req.loop, sql_on_more, e);
}

static void
sql_on_more(void *arg)
{
	struct exec *e = arg;

	if (e->holding)
		sql_read(e);
}

/* One result: rows, a statement's end, or an error. */
static void
sql_result(struct exec *e, PGresult *res)
{
	if (e->naming && PQresultStatus(res) == PGRES_COMMAND_OK)
		return;
	switch (PQresultStatus(res)) {
	case PGRES_SINGLE_TUPLE:
		sql_rows_begin(&e->rows, res);
		sql_rows_add(&e->rows, res);
		break;
	case PGRES_TUPLES_OK:
	case PGRES_COMMAND_OK:
	case PGRES_EMPTY_QUERY:
		sql_statement_end(e, res);
		break;
	case PGRES_COPY_IN:
	case PGRES_COPY_OUT:
	case PGRES_COPY_BOTH:
		sql_rows_clear(&e->rows);
		if (e->error == NULL)
			e->error = xstrdup("COPY to or from the client is not "
			    "supported in sql steps");
		sql_output(e, "COPY to or from the client is not supported "
		    "in sql steps; the connection is closed\n");
		e->must_drop = 1;
		sql_complete(e);
		break;
	default:
		sql_rows_clear(&e->rows);
		sql_result_error(e, res);
		break;
	}
}

/*
 * An error: the one-line message ("ERROR 42P01: relation "x" does not
 * exist") for the first, and every field a DBA wants in the output.
 */
static void
sql_result_error(struct exec *e, const PGresult *res)
{
	static const struct {
		int field;
		const char *label;
	} extra[] = {
		{ PG_DIAG_MESSAGE_DETAIL, "DETAIL" },
		{ PG_DIAG_MESSAGE_HINT, "HINT" },
		{ PG_DIAG_CONTEXT, "CONTEXT" },
		{ PG_DIAG_STATEMENT_POSITION, "POSITION" },
	};
	const char *sev, *state, *primary, *v;
	struct buf b = { 0 };
	char *line;
	size_t i;

	if ((sev = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED)) ==
	    NULL && (sev = PQresultErrorField(res, PG_DIAG_SEVERITY)) == NULL)
		sev = "ERROR";
	state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	if (primary == NULL)
		primary = PQresultErrorMessage(res);
	line = pg_first_line(*primary != '\0' ? primary : "unknown error");
	if (state != NULL)
		buf_printf(&b, "%s %s: %s", sev, state, line);
	else
		buf_printf(&b, "%s: %s", sev, line);
	free(line);
	if (e->error == NULL)
		e->error = xstrdup(buf_str(&b));
	buf_addc(&b, '\n');
	for (i = 0; i < sizeof extra / sizeof extra[0]; i++) {
		if ((v = PQresultErrorField(res, extra[i].field)) != NULL)
			buf_printf(&b, "%s: %s\n", extra[i].label, v);
	}
	sql_output(e, buf_str(&b));
	buf_free(&b);
}

/* A statement ended: show its tag and rows, and keep what verify needs. */
static void
sql_statement_end(struct exec *e, const PGresult *res)
{
	struct buf b = { 0 };
	const char *tag = PQcmdStatus((PGresult *)res);

	if (PQresultStatus(res) == PGRES_TUPLES_OK) {
		sql_rows_begin(&e->rows, res);
		sql_rows_add(&e->rows, res);
	}
	free(e->value);
	e->value = NULL;
	if (!e->rows.active || e->rows.n == 0)
		e->verdict = SQL_V_NOROWS;
	else if (e->rows.ncols == 0)
		e->verdict = SQL_V_NOCOLS;
	else if (e->rows.cells[0] == NULL)
		e->verdict = SQL_V_NULL;
	else {
		e->verdict = SQL_V_VALUE;
		e->value = xstrdup(e->rows.cells[0]);
	}
	if (PQresultStatus(res) == PGRES_EMPTY_QUERY)
		buf_adds(&b, "(empty query)\n");
	else if (tag != NULL && *tag != '\0')
		buf_printf(&b, "%s\n", tag);
	if (e->rows.active)
		sql_rows_render(&e->rows, &b);
	sql_rows_clear(&e->rows);
	sql_output(e, buf_str(&b));
	buf_free(&b);
}

/* The connection broke under the query. */
static void
sql_lost(struct exec *e)
{
	PGresult *res;
	int n = 0;

	e->lost = 1;
	/* With the socket closed, PQgetResult hands over what was parsed
	 * (often the server's FATAL saying why) and cannot block. */
	while (PQsocket(sql_conn_pg(e->conn)) < 0 && n++ < 16 &&
	    (res = PQgetResult(sql_conn_pg(e->conn))) != NULL) {
		sql_result(e, res);
		PQclear(res);
		if (!e->holding)
			return;
	}
	sql_complete(e);
}

/* The query is over: give the connection back, then judge the attempt. */
static void
sql_complete(struct exec *e)
{
	char *msg = NULL, *line;
	int intx;

	intx = !e->lost && PQtransactionStatus(sql_conn_pg(e->conn)) != PQTRANS_IDLE;
	if (e->lost || PQstatus(sql_conn_pg(e->conn)) != CONNECTION_OK) {
		e->lost = 1;
		line = e->error != NULL ? xstrdup(e->error) :
		    pg_first_line(PQerrorMessage(sql_conn_pg(e->conn)));
		xasprintf(&msg, "connection to %s lost: %s",
		    e->req.target->name, *line != '\0' ? line : "closed");
		free(line);
	}
	if (e->lost || e->must_drop || intx)
		sql_conn_drop(e->conn, &e->user);
	else
		sql_conn_put(e->conn, &e->user);
	e->holding = 0;
	e->conn = NULL;
	if (intx)
		sql_output(e, "[cutover: the statements left a transaction "
		    "open; it was rolled back]\n");
	if (exec_stop_why(e->stop) != NULL)
		sql_finish(e, 0, exec_stop_why(e->stop));
	else if (msg != NULL || e->error != NULL)
		sql_finish(e, 0, msg != NULL ? msg : e->error);
	else if (intx)
		sql_finish(e, 0, "the statements left a transaction open (no "
		    "COMMIT); it was rolled back");
	else if (e->req.verify && (msg = sql_verify(e)) != NULL)
		sql_finish(e, 0, msg);
	else
		sql_finish(e, 1, NULL);
	free(msg);
}

int
exec_sql_true(const char *value)
{
	char *end;
	double d;

	if (strcasecmp(value, "t") == 0 || strcasecmp(value, "true") == 0)
		return 1;
	errno = 0;
	d = strtod(value, &end);
	return end != value && *end == '\0' && errno == 0 && !isnan(d) &&
	    d != 0;
}

/*
 * The verify rule: the first column of the first row of the last statement
 * is true ("t", "true") or a non-zero number. NULL if so, else why not.
 */
static char *
sql_verify(struct exec *e)
{
	char *shown, *msg;

	switch (e->verdict) {
	case SQL_V_VALUE:
		break;
	case SQL_V_NULL:
		return xstrdup("verify returned NULL");
	case SQL_V_NOCOLS:
		return xstrdup("verify returned no columns");
	default:
		return xstrdup("verify returned no rows");
	}
	if (exec_sql_true(e->value))
		return NULL;
	shown = sql_cell(e->value);
	xasprintf(&msg, "verify returned %s", *shown != '\0' ? shown :
	    "an empty string");
	free(shown);
	return msg;
}

/*
 * Stop: a query in flight is cancelled and its end awaited (at most
 * SQL_CANCEL_GRACE_MS, exec-stop.h); a place in the queue is simply given up.
 */
static int
sql_stop_cancel(void *arg)
{
	struct exec *e = arg;

	if (!e->holding) {
		sql_conn_leave(&e->user);
		sql_finish(e, 0, exec_stop_why(e->stop));
		return 0;
	}
	sql_send_cancel(e);
	return 1;
}

/* PQcancel connects to the server and waits: do it in a child. */
static void
sql_send_cancel(struct exec *e)
{
	pid_t pid = pg_conn_cancel(e->conn->pc);

	if (pid > 0)
		e->cancel_pid = pid;
}

/* The server did not end the query after the cancel: close the line. */
static void
sql_stop_give_up(void *arg)
{
	struct exec *e = arg;

	if (!e->holding)
		return;
	sql_output(e, "[cutover: the server did not answer the cancel; "
	    "connection closed]\n");
	sql_conn_drop(e->conn, &e->user);
	e->holding = 0;
	e->conn = NULL;
	sql_finish(e, 0, exec_stop_why(e->stop));
}

/* Record the outcome; done() follows from the loop. */
static void
sql_finish(struct exec *e, int ok, const char *msg)
{
	if (e->finished)
		return;
	e->finished = 1;
	exec_stop_finish(e->stop);
	loop_defer_cancel(e->req.loop, sql_on_more, e);
	if (e->cancel_pid > 0)
		waitpid(e->cancel_pid, NULL, WNOHANG);
	e->result.ok = ok;
	e->result.timed_out = exec_stop_timed_out(e->stop);
	if (!ok)
		e->result.message = outbuf_redact(e->secrets, msg != NULL ? msg :
		    "failed");
	loop_defer(e->req.loop, sql_on_done, e);
}

static void
sql_on_done(void *arg)
{
	struct exec *e = arg;

	e->req.done(&e->result, e->req.arg);
}

static void
sql_on_notice(struct sql_user *u, const char *msg)
{
	sql_output(u->arg, msg);
}

/* Output, less the password. */
static void
sql_output(struct exec *e, const char *s)
{
	char *clean = outbuf_redact(e->secrets, s);

	e->req.output(clean, strlen(clean), e->req.arg);
	free(clean);
}

/* Freed mid-query (the engine is closing): cancel it, drop the line. */
static void
sql_free(struct exec *e)
{
	if (e->holding) {
		if (e->sent && !e->finished)
			sql_send_cancel(e);
		sql_conn_drop(e->conn, &e->user);
	} else
		sql_conn_leave(&e->user);
	exec_stop_free(e->stop);
	loop_defer_cancel(e->req.loop, sql_on_more, e);
	loop_defer_cancel(e->req.loop, sql_on_done, e);
	sql_rows_clear(&e->rows);
	free(e->result.message);
	free(e->value);
	free(e->error);
	free(e->command);
	free(e->appname);
	free(e->conninfo);
	expand_free_list(e->secrets);
	free(e);
}

/* Rows of a statement, shown as a small aligned table. */

/* The first result of a statement with rows: take its column names. */
static void
sql_rows_begin(struct sql_rows *r, const PGresult *res)
{
	Oid t;
	int i;

	if (r->active)
		return;
	r->active = 1;
	r->ncols = PQnfields(res);
	r->names = xcalloc((size_t)r->ncols + 1, sizeof *r->names);
	r->right = xcalloc((size_t)r->ncols + 1, sizeof *r->right);
	r->cells = xcalloc((size_t)r->ncols * SQL_MAX_ROWS + 1,
	    sizeof *r->cells);
	for (i = 0; i < r->ncols; i++) {
		r->names[i] = sql_cell(PQfname(res, i));
		t = PQftype(res, i);
		r->right[i] = t == SQL_INT2OID || t == SQL_INT4OID ||
		    t == SQL_INT8OID || t == SQL_OIDOID || t == SQL_FLOAT4OID ||
		    t == SQL_FLOAT8OID || t == SQL_NUMERICOID;
	}
	r->n = 0;
}

/* Count the rows; keep the first SQL_MAX_ROWS. */
static void
sql_rows_add(struct sql_rows *r, const PGresult *res)
{
	int i, j, n = PQntuples(res);

	for (i = 0; i < n; i++, r->n++) {
		if (r->n >= SQL_MAX_ROWS)
			continue;
		for (j = 0; j < r->ncols && j < PQnfields(res); j++) {
			if (!PQgetisnull(res, i, j))
				r->cells[r->n * r->ncols + j] =
				    xstrdup(PQgetvalue(res, i, j));
		}
	}
}

/* Column names, a rule, the kept rows, and the count. */
static void
sql_rows_render(const struct sql_rows *r, struct buf *b)
{
	int64_t shown = r->n < SQL_MAX_ROWS ? r->n : SQL_MAX_ROWS, i;
	size_t *w = xcalloc((size_t)r->ncols + 1, sizeof *w), k;
	char *cell;
	int j;

	for (j = 0; j < r->ncols; j++) {
		w[j] = sql_width(r->names[j]);
		for (i = 0; i < shown; i++) {
			cell = sql_cell(r->cells[i * r->ncols + j]);
			if (sql_width(cell) > w[j])
				w[j] = sql_width(cell);
			free(cell);
		}
	}
	for (j = 0; j < r->ncols; j++)
		sql_pad(b, r->names[j], w[j], j == r->ncols - 1 ? -1 : 0);
	for (j = 0; j < r->ncols; j++) {
		buf_adds(b, j == 0 ? "\n-" : "-+-");
		for (k = 0; k < w[j]; k++)
			buf_addc(b, '-');
	}
	for (i = 0; i < shown; i++) {
		buf_addc(b, '\n');
		for (j = 0; j < r->ncols; j++) {
			cell = sql_cell(r->cells[i * r->ncols + j]);
			sql_pad(b, cell, w[j], r->right[j] ? 1 :
			    j == r->ncols - 1 ? -1 : 0);
			free(cell);
		}
	}
	buf_printf(b, "\n(%lld row%s%s)\n", (long long)r->n, r->n == 1 ? "" :
	    "s", r->n > SQL_MAX_ROWS ? "; the first 20 shown" : "");
	free(w);
}

/* One padded cell with its separator; align 1 right, 0 left, -1 last. */
static void
sql_pad(struct buf *b, const char *s, size_t w, int align)
{
	size_t n = sql_width(s), k;

	buf_adds(b, b->len == 0 || b->data[b->len - 1] == '\n' ? " " : " | ");
	if (align > 0) {
		for (k = n; k < w; k++)
			buf_addc(b, ' ');
	}
	buf_adds(b, s);
	if (align == 0) {
		for (k = n; k < w; k++)
			buf_addc(b, ' ');
	}
}

static void
sql_rows_clear(struct sql_rows *r)
{
	int64_t i;

	if (!r->active)
		return;
	for (i = 0; i < (int64_t)r->ncols * SQL_MAX_ROWS; i++)
		free(r->cells[i]);
	for (i = 0; i < r->ncols; i++)
		free(r->names[i]);
	free(r->cells);
	free(r->names);
	free(r->right);
	memset(r, 0, sizeof *r);
}

/* A value as shown: one line, at most SQL_MAX_CELL characters; NULL empty. */
static char *
sql_cell(const char *s)
{
	struct buf b = { 0 };

	if (s != NULL)
		exec_sql_cell(&b, s, strlen(s));
	return buf_steal(&b);
}

void
exec_sql_cell(struct buf *b, const char *s, size_t len)
{
	size_t i, chars = 0;
	unsigned char c;

	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if ((c & 0xc0) != 0x80 && chars++ == SQL_MAX_CELL) {
			buf_adds(b, "...");
			return;
		}
		buf_addc(b, c < 0x20 || c == 0x7f ? ' ' : (char)c);
	}
}

/* Width in characters (UTF-8 code points). */
static size_t
sql_width(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++) {
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	}
	return n;
}

