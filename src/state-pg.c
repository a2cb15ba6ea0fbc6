/*
 * state-pg.c - the PostgreSQL store: the war room's database, which drivers,
 * consoles and people on many machines share; the store of a path of the
 * form postgresql://..., postgres://... or pg:CONNINFO (see store.h for what
 * every store must do).
 *
 * The tables live in schema cutover, each keyed by runbook name as well as
 * run, so that one database serves many runbooks: every runbook has its own
 * run numbers and its own audit chain. migrations[] builds the schema and
 * cutover.version records the version reached.
 *
 * Sessions run with synchronous_commit=on, so that a committed transition
 * is on the server's disk. Every write is a transaction that first takes
 * the runbook's advisory lock (writers of one runbook wait for each other,
 * and its audit chain grows one entry at a time) and, just before COMMIT,
 * checks the fencing token of the lease this handle holds with the lease
 * row locked FOR SHARE: a driver that lost its lease can never commit again
 * once another has taken over (STATE_CONFLICT, "fenced: ..."). The age of a
 * lease is measured by the server's clock, the same for every machine.
 *
 * Round trips are what a step costs (each one waits for the server): BEGIN,
 * the lock, the newest audit entry and the lease row go in one (pg_begin);
 * writes whose result nobody needs (audit entries, an attempt's end, a new
 * step) are kept with their values quoted in and go with the COMMIT
 * (pq_defer, pg_commit); statements are prepared once per session.
 *
 * Every statement is sent without blocking and waited for at most
 * PG_IO_TIMEOUT_MS: silence (a cut network, a frozen proxy) counts as a
 * lost connection. A lost connection is dropped (state_unreachable says
 * why) and made again without ever blocking (pg_reconnect): started by
 * the next call outside a transaction, then after a backoff, and taken a
 * step further by each call while its socket is ready (an event loop
 * watches it: pg_reconnect_fd); every statement fails at once meanwhile.
 * (A handle no loop drives, a command's, connects again at once, waiting
 * up to PG_CONNECT_S.)
 * Commits notify the runbook's channel; a handle that listens
 * (pg_watch_fd) hears of other connections' commits without a round trip
 * (pg_notified, pg_changed).
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "buf.h"
#include "outbuf.h"
#include "pg.h"
#include "state.h"
#include "store.h"
#include "xmalloc.h"

#define PG_MAXP 16          /* parameters of one statement */
#define PG_BYTEA_OID 17     /* pg_type.oid of bytea */
#define PG_LOCK_SCHEMA 7301 /* advisory lock key of schema migrations */
/*
 * PG_IO_TIMEOUT_MS: the store's own statements are small (a transition, a
 * lease renewal, a few rows) and a healthy server answers them in
 * milliseconds. Silence this long is taken for a cut network, so that the
 * one wait a statement in flight costs the event loop (the console,
 * running steps' output) stays short. A loaded server slower than this is
 * taken for unreachable too: that is safe (a driver holds its outcomes and
 * writes them once the store answers again; nothing is lost or done
 * twice), only noisier. PG_IDLE_TX_TIMEOUT is shorter, so that a writer
 * waiting for the runbook's lock held by a client frozen in mid-transaction
 * gets it before its own wait counts as silence.
 */
#define PG_IO_TIMEOUT_S 3
#define PG_IO_TIMEOUT_MS (PG_IO_TIMEOUT_S * 1000)
#define PG_STR(x) PG_STR_(x)
#define PG_STR_(x) #x
#define PG_IDLE_TX_TIMEOUT "2s" /* a frozen client's lock is let go */
#define PG_CONNECT_S 2 /* a reconnection may take this long */
#define PG_CONNECT_MS (PG_CONNECT_S * 1000)
/* TCP keepalives and tcp_user_timeout (ms: data unacknowledged this long
 * closes the connection): a dead network is noticed by the kernel too,
 * idle or not. The connection string may override them. */
#define PG_KEEPALIVE_IDLE "5"
#define PG_KEEPALIVE_INTERVAL "2"
#define PG_KEEPALIVE_COUNT "3"
#define PG_TCP_USER_TIMEOUT "3000"
#define PG_BACKOFF_MIN_MS 250 /* first wait before connecting again */
#define PG_BACKOFF_MAX_MS 4000
#define PG_DEFER_MAX 8 /* writes kept for the COMMIT at most */
#define PG_STMT_MAX 64 /* statements prepared in a session at most */
#define PG_CHANNEL "cutover." /* and md5(runbook): NOTIFY at each commit */

struct store {
	PGconn *conn;      /* NULL while the server cannot be reached */
	PGconn *next;      /* the reconnection under way, or NULL */
	int next_wait;     /* what it waits for (PostgresPollingStatusType) */
	int64_t next_end;  /* state_now_ms() when it is given up */
	int driven;        /* an event loop drives reconnecting (never block) */
	char *conninfo;    /* to connect again */
	char *down;        /* why the server cannot be reached, or NULL */
	int64_t next_try;  /* state_now_ms() before which no reconnection */
	int backoff_ms;    /* the wait after the next failed one */
	int pending;       /* another connection's commit was notified */
	int missed;        /* reconnected: notifications may have been lost */
	int durable;       /* commits wait for the disk (set_durable) */
	int fence_ok;      /* the lease was found this handle's in this tx */
	char *fenced_by;   /* who took over, for messages, or NULL */
	int last_ok;       /* last_* hold the newest audit entry in this tx */
	int64_t last_id;
	char *last_hash, *last_at;
	struct buf deferred; /* writes sent with COMMIT (pq_defer) */
	char *stmt[PG_STMT_MAX]; /* statements prepared in this session */
	char stmt_name[PG_STMT_MAX][16];
	int nstmt;
	int ndeferred;
	int64_t serial;    /* the runbook's change count, as last seen */
	int64_t lease_run; /* run whose lease this handle took, or 0 */
	int64_t token;     /* its fencing token (0: none) */
	int fenced;        /* another driver took over: never commit */
	int listening;     /* LISTEN on the runbook's channel was done */
	int tx;            /* BEGIN was sent, COMMIT or ROLLBACK not yet */
	char *shown;       /* the database, for messages: no password */
};

/*
 * The schema, as the steps that build it: migrations[v] takes the schema
 * from version v to v + 1. Never edit a step once released; append one.
 */
static const char *const migrations[] = {
	/* 1: the tables of the SQLite store, keyed by runbook too */
	"CREATE TABLE cutover.version(version integer NOT NULL);"
	"INSERT INTO cutover.version VALUES(0);"
	"CREATE TABLE cutover.runbooks(name text PRIMARY KEY,"
	" serial bigint NOT NULL DEFAULT 0);"
	"CREATE TABLE cutover.runs(runbook text NOT NULL, id bigint NOT NULL,"
	" mode text NOT NULL, state text NOT NULL, runbook_text text NOT NULL,"
	" runbook_sha text NOT NULL, created_at text NOT NULL, ended_at text,"
	" operator text, os_user text, rollback_to text,"
	" step_hash integer NOT NULL DEFAULT 1, PRIMARY KEY(runbook, id));"
	"CREATE TABLE cutover.steps(runbook text NOT NULL, run bigint NOT NULL,"
	" id text NOT NULL, idx integer NOT NULL, state text NOT NULL,"
	" attempts integer NOT NULL DEFAULT 0, def_sha text NOT NULL,"
	" started_at bigint, ended_at bigint, duration_ms bigint, note text,"
	" result text, done_at bigint, undo integer NOT NULL DEFAULT 0,"
	" PRIMARY KEY(runbook, run, id),"
	" FOREIGN KEY(runbook, run) REFERENCES cutover.runs(runbook, id));"
	"CREATE TABLE cutover.attempts(runbook text NOT NULL,"
	" run bigint NOT NULL, step text NOT NULL, n integer NOT NULL,"
	" kind text NOT NULL, state text NOT NULL, started_at bigint NOT NULL,"
	" ended_at bigint, exit_code integer, message text, host text,"
	" pid bigint, pgid bigint, output bytea,"
	" output_total bigint NOT NULL DEFAULT 0, operator text, token text,"
	" PRIMARY KEY(runbook, run, step, n));"
	"CREATE TABLE cutover.decisions(runbook text NOT NULL,"
	" run bigint NOT NULL, id bigserial, step text NOT NULL,"
	" operator text NOT NULL, os_user text, decision text NOT NULL,"
	" reason text, at bigint NOT NULL, active integer NOT NULL DEFAULT 1,"
	" PRIMARY KEY(runbook, run, id));"
	"CREATE SEQUENCE cutover.lease_token;"
	"CREATE TABLE cutover.lease(runbook text NOT NULL, run bigint NOT NULL,"
	" pid bigint NOT NULL, host text NOT NULL, operator text,"
	" started_at timestamptz NOT NULL, renewed_at timestamptz NOT NULL,"
	" token bigint NOT NULL, PRIMARY KEY(runbook, run));"
	"CREATE TABLE cutover.audit(runbook text NOT NULL, id bigint NOT NULL,"
	" at text NOT NULL, run bigint, step text, operator text, os_user text,"
	" action text NOT NULL, details text, prev text NOT NULL,"
	" hash text NOT NULL, PRIMARY KEY(runbook, id));",
	/* 2: entities and waves: a run's selection, the entities excluded
	 * from it, and the evidence a decision was taken on */
	"ALTER TABLE cutover.runs ADD COLUMN selection text;"
	"ALTER TABLE cutover.decisions ADD COLUMN evidence text;"
	"CREATE TABLE cutover.entities(runbook text NOT NULL,"
	" run bigint NOT NULL, entity text NOT NULL, state text NOT NULL,"
	" reason text, at bigint NOT NULL, operator text, os_user text,"
	" PRIMARY KEY(runbook, run, entity),"
	" FOREIGN KEY(runbook, run) REFERENCES cutover.runs(runbook, id));",
	/* 3: the notify: outbox, one row per event and sink (state.h) */
	"CREATE TABLE cutover.outbox(id bigserial PRIMARY KEY,"
	" runbook text NOT NULL, event text NOT NULL, run bigint NOT NULL,"
	" sink text NOT NULL, type text NOT NULL, step text, entity text,"
	" state text, operator text, message text, at bigint NOT NULL,"
	" tries integer NOT NULL DEFAULT 0, fails integer NOT NULL DEFAULT 0,"
	" next_at bigint NOT NULL DEFAULT 0, sent_at bigint, error text,"
	" error_at bigint);"
	"CREATE INDEX outbox_due ON cutover.outbox(runbook, next_at)"
	" WHERE sent_at IS NULL;",
	/* 4: every difference of a reconcile attempt */
	"CREATE TABLE cutover.diffs(runbook text NOT NULL, run bigint NOT NULL,"
	" step text NOT NULL, token text NOT NULL, seq bigint NOT NULL,"
	" kind text NOT NULL, key text NOT NULL, source text, dest text,"
	" columns text, PRIMARY KEY(runbook, run, step, token, seq));",
};
#define PG_SCHEMA_VERSION (int)(sizeof migrations / sizeof migrations[0])

/* The tables a run's rows are copied from and into, and their run column. */
static const struct {
	const char *name;
	const char *run_col;
	const char *order;
} copy_tables[] = {
	{ "runs", "id", "id" },
	{ "steps", "run", "idx" },
	{ "attempts", "run", "step, n" },
	{ "decisions", "run", "id" },
	{ "entities", "run", "at, entity" },
};

static int pq_fail(struct state *, const char *);
static int pq_fail_res(struct state *, const char *, const PGresult *);
static PGresult *pq_vexec(struct state *, const char *, const char *,
    va_list);
static int pg_reconnect(struct state *);
static PGresult *pq_timed(struct state *, const char *, int,
    const char *const *, const int *, const int *);
static PGresult *pq_collect(struct state *);
static const char *pq_prepared(struct state *, const char *);
static void pq_prepared_forget(struct store *);
static int pq_results(struct state *, PGresult **, int);
static void pq_clear_all(PGresult **, int);
static int pq_batch(struct state *, const char *, PGresult **, int);
static int pq_params(struct state *, const char *, const char *, va_list,
    const char **, int *, int *, char (*)[24]);
static int pq_defer(struct state *, const char *, const char *, ...);
static int pq_defer_flush(struct state *);
static char *state_array(unsigned);
static char *pg_literal(struct state *, const char *);
static char *pg_bytea_literal(struct state *, const char *, size_t);
static int pg_fence_row(struct state *, const PGresult *);
static int pg_begin_once(struct state *);
static void pg_tx_end(struct state *);
static void pg_drop(struct state *, const char *);
static int pg_session_user(struct state *);
static int pg_tx(struct state *, const char *);
static PGresult *pq_query(struct state *, const char *, const char *, ...);
static int pq_run(struct state *, const char *, const char *, ...);
static int pq_run_n(struct state *, int64_t *, const char *, const char *,
    ...);
static int col_index(const PGresult *, const char *);
static char *col_text(const PGresult *, int, const char *);
static int64_t col_int(const PGresult *, int, const char *, int64_t);
static char *pg_shown(const char *);
static PGconn *pg_connect(const char *, int);
static void pg_connect_begin(struct state *);
static void pg_connect_blocking(struct state *);
static void pg_connect_step(struct state *);
static void pg_connect_done(struct state *);
static void pg_connect_failed(struct state *, const char *);
static int pg_socket_ready(PGconn *, int);
static int pg_reconnect_fd(struct state *, short *);
static int pg_schema(struct state *, int);
static int schema_version(struct state *, int *, int *);
static int schema_migrate(struct state *, int);
static int pg_fence(struct state *);
static int pg_need_runbook(struct state *);
static int pg_session(struct state *);
static void pg_notice_drop(void *, const char *);
static char *pg_redacted(const char *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
static int pg_serial(struct state *, int64_t *);
static int pg_listen(struct state *);
static int pg_notified(struct state *);
static int pg_watch_fd(struct state *);
static const char *pg_unreachable(struct state *);
static int pg_reconnect_now(struct state *);
static int pg_wait(struct state *, int);
static int step_in(struct state *, int64_t, const char *, unsigned);
static void run_info_fill(const PGresult *, int, struct run_info *);
static void step_row_fill(const PGresult *, int, struct step_row *);
static void attempt_row_fill(const PGresult *, int, struct attempt_row *);
static int attempts_collect(struct state *, PGresult *, struct attempt_row **,
    size_t *);
static int copy_table(const char *);
static void copy_row_fill(const PGresult *, int, int, struct state_row *);
static void copy_row_clear(struct state_row *);
static char *copy_insert_sql(struct state *, int, const struct state_row *,
    int *);
static int run_one(PGresult *, struct run_info *);
static void audit_row_fill(const PGresult *, int, struct audit_row *);
static void audit_row_clear(struct audit_row *);
static int pg_open(struct state *, const char *, int, char **);
static void pg_close(struct state *);
static int pg_changed(struct state *);
static void pg_set_durable(struct state *, int);
static int pg_begin(struct state *);
static int pg_commit(struct state *);
static void pg_rollback(struct state *);
static int pg_run_latest(struct state *, int, struct run_info *);
static int pg_run_get(struct state *, int64_t, struct run_info *);
static int pg_run_list(struct state *, struct run_info **, size_t *);
static int pg_run_create(struct state *, const char *, const char *,
    const char *, const char *, int64_t *);
static int pg_run_set_state(struct state *, int64_t, const char *);
static int pg_run_rollback_to(struct state *, int64_t, const char *,
    char **);
static int pg_run_set_runbook(struct state *, int64_t, const char *,
    const char *);
static int pg_steps_load(struct state *, int64_t, struct step_row **,
    size_t *);
static int pg_step_get(struct state *, int64_t, const char *,
    struct step_row *);
static int pg_step_insert(struct state *, int64_t, const char *, int,
    const char *);
static int pg_step_delete(struct state *, int64_t, const char *);
static int pg_step_update_def(struct state *, int64_t, const char *, int,
    const char *);
static int pg_step_set_undo(struct state *, int64_t, const char *, int);
static int pg_step_transition(struct state *, int64_t, const char *,
    unsigned, enum step_state, const char *, const char *, const char *);
static int pg_diff_add(struct state *, int64_t, const char *,
    const char *, const struct diff_row *);
static int pg_diffs_each(struct state *, int64_t, const char *,
    const char *, int (*)(const struct diff_row *, void *), void *);
static int pg_step_set_result(struct state *, int64_t, const char *,
    const char *);
static int pg_attempt_begin(struct state *, int64_t, const char *,
    enum attempt_kind, unsigned, const char *, int64_t, int64_t,
    const char *, int *);
static int pg_attempt_set_pid(struct state *, int64_t, const char *, int,
    int64_t, int64_t);
static int pg_attempt_output(struct state *, int64_t, const char *, int,
    const char *, size_t, int64_t);
static int pg_attempt_finish(struct state *, int64_t, const char *, int,
    const char *, int, const char *, const char *, size_t, int64_t,
    enum step_state);
static int pg_attempts_list(struct state *, int64_t, const char *, int,
    struct attempt_row **, size_t *);
static int pg_attempts_running(struct state *, int64_t,
    struct attempt_row **, size_t *);
static int pg_attempt_interrupt(struct state *, int64_t, const char *, int,
    const char *);
static int pg_decision_add(struct state *, int64_t, const char *,
    const char *, const char *, const char *);
static int pg_decision_void(struct state *, int64_t, const char *,
    const char *, int *);
static int pg_entity_exclude(struct state *, int64_t, const char *,
    const char *);
static int pg_entities_load(struct state *, int64_t, struct entity_row **,
    size_t *);
static int pg_run_set_selection(struct state *, int64_t, const char *);
static int pg_decision_count(struct state *, int64_t, const char *, int *,
    int *, int *);
static int pg_decision_reset(struct state *, int64_t, const char *);
static int pg_decision_list(struct state *, int64_t, const char *,
    struct decision_row **, size_t *);
static int pg_lease_read(struct state *, int64_t, struct lease_holder *);
static int pg_lease_write(struct state *, int64_t, const char *, int64_t);
static int pg_lease_heartbeat(struct state *, int64_t);
static int pg_lease_check(struct state *, int64_t);
static int pg_lease_release(struct state *, int64_t);
static int pg_audit_last(struct state *, int64_t *, char **, char **);
static int pg_audit_append(struct state *, const struct audit_row *);
static int pg_audit_each(struct state *, int64_t,
    int (*)(const struct audit_row *, void *), void *);
static int pg_rows_each(struct state *, const char *, int64_t,
    int (*)(const struct state_row *, void *), void *);
static int pg_outbox_add(struct state *, const struct outbox_row *);
static int pg_outbox_due(struct state *, int64_t, size_t,
    struct outbox_row **, size_t *);
static int pg_outbox_mark(struct state *, int64_t, int, const char *,
    int64_t);
static int pg_outbox_stats(struct state *, int64_t, struct outbox_stats *);
static int pg_row_put(struct state *, const char *, const struct state_row *,
    int64_t *);

/* Keep libpq's message (its first line) as the last error; STATE_ERR. */
static int
pq_fail(struct state *st, const char *what)
{
	const char *m = PQerrorMessage(st->store->conn);

	return store_fail(st, "%s: %.*s", what, (int)strcspn(m, "\n"), m);
}

/* Keep the server's own words on a failed result, else libpq's. */
static int
pq_fail_res(struct state *st, const char *what, const PGresult *res)
{
	const char *m = res != NULL
	    ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;

	if (m == NULL)
		return pq_fail(st, what);
	return store_fail(st, "%s: %.*s", what, (int)strcspn(m, "\n"), m);
}

/*
 * Run sql with parameters described by fmt, one letter for each $n: R the
 * handle's runbook, t text (NULL binds NULL), i int, I int64, b bytes
 * (pointer, size_t length). Returns the result, or NULL with the error kept.
 */
static PGresult *
pq_vexec(struct state *st, const char *sql, const char *fmt, va_list ap)
{
	const char *v[PG_MAXP];
	int len[PG_MAXP], bin[PG_MAXP], n;
	char num[PG_MAXP][24];
	PGresult *res;

	n = pq_params(st, sql, fmt, ap, v, len, bin, num);
	res = pq_timed(st, sql, n, v, len, bin);
	if (res == NULL && pg_reconnect(st) == 0)
		res = pq_timed(st, sql, n, v, len, bin);
	if (PQresultStatus(res) == PGRES_COMMAND_OK ||
	    PQresultStatus(res) == PGRES_TUPLES_OK)
		return res;
	if (res == NULL)
		store_fail(st, "database: %s", st->store->down != NULL
		        ? st->store->down : "no connection");
	else
		pq_fail_res(st, "database", res);
	PQclear(res);
	return NULL;
}

/* The parameters of sql as fmt says (see pq_vexec) into v, len and bin
 * (num holds numbers' text); how many. */
static int
pq_params(struct state *st, const char *sql, const char *fmt, va_list ap,
    const char **v, int *len, int *bin, char (*num)[24])
{
	const char *p;
	int n = 0;

	for (p = fmt; *p != '\0'; p++, n++) {
		if (n == PG_MAXP)
			fatalx(1, "state: too many parameters in %s", sql);
		len[n] = bin[n] = 0;
		switch (*p) {
		case 'R':
			v[n] = st->runbook;
			break;
		case 't':
			v[n] = va_arg(ap, const char *);
			break;
		case 'i':
			snprintf(num[n], 24, "%d", va_arg(ap, int));
			v[n] = num[n];
			break;
		case 'I':
			snprintf(num[n], 24, "%lld",
			    (long long)va_arg(ap, int64_t));
			v[n] = num[n];
			break;
		case 'b':
			v[n] = va_arg(ap, const char *);
			len[n] = (int)va_arg(ap, size_t);
			bin[n] = 1;
			if (v[n] == NULL)
				v[n] = "";
			break;
		default:
			fatalx(1, "state: bind type %c in %s", *p, sql);
		}
	}
	return n;
}

/*
 * A write whose result nobody waits for, inside a transaction: kept, with
 * its parameters quoted into it, and sent with the COMMIT (pg_commit), in
 * the same round trip; its failure is the commit's. Outside a transaction
 * it runs at once.
 */
static int
pq_defer(struct state *st, const char *sql, const char *fmt, ...)
{
	struct store *s = st->store;
	const char *v[PG_MAXP];
	int len[PG_MAXP], bin[PG_MAXP], n, i;
	char num[PG_MAXP][24], *lit[PG_MAXP];
	const char *p;
	va_list ap;

	va_start(ap, fmt);
	if (!s->tx || s->conn == NULL) {
		PGresult *res = pq_vexec(st, sql, fmt, ap);

		va_end(ap);
		PQclear(res);
		return res != NULL ? STATE_OK : STATE_ERR;
	}
	n = pq_params(st, sql, fmt, ap, v, len, bin, num);
	va_end(ap);
	for (i = 0; i < n; i++)
		lit[i] = bin[i] ? pg_bytea_literal(st, v[i], (size_t)len[i])
		    : v[i] != NULL ? pg_literal(st, v[i]) : xstrdup("NULL");
	for (p = sql; *p != '\0'; p++) {
		if (*p == '$' && p[1] >= '1' && p[1] <= '9') {
			i = (int)strtol(p + 1, (char **)&p, 10) - 1;
			p--;
			buf_adds(&s->deferred, i < n && lit[i] != NULL ? lit[i]
			                                              : "NULL");
		} else
			buf_addc(&s->deferred, *p);
	}
	buf_adds(&s->deferred, "; ");
	for (i = 0; i < n; i++)
		free(lit[i]);
	if (++s->ndeferred < PG_DEFER_MAX)
		return STATE_OK;
	return pq_defer_flush(st);
}

/* Send the kept writes now (PG_DEFER_MAX of them wait). */
static int
pq_defer_flush(struct state *st)
{
	struct store *s = st->store;
	PGresult *v[PG_DEFER_MAX];
	char *sql = buf_steal(&s->deferred);
	int n, i, rc = STATE_OK;

	s->ndeferred = 0;
	n = pq_batch(st, sql, v, PG_DEFER_MAX);
	free(sql);
	if (n < 0)
		return STATE_ERR;
	for (i = 0; i < n && rc == STATE_OK; i++) {
		if (PQresultStatus(v[i]) != PGRES_COMMAND_OK &&
		    PQresultStatus(v[i]) != PGRES_TUPLES_OK)
			rc = pq_fail_res(st, "database", v[i]);
	}
	pq_clear_all(v, n);
	return rc;
}

/*
 * Send one statement and wait for its result, at most PG_IO_TIMEOUT_MS: a
 * server that does not answer (a network cut, a frozen proxy) is as
 * unreachable as one that refuses. The result, or NULL when the
 * connection is lost (pg_drop says why).
 */
static PGresult *
pq_timed(struct state *st, const char *sql, int n, const char *const *v,
    const int *len, const int *bin)
{
	struct store *s = st->store;
	const char *name;
	int sent;

	if (s->conn == NULL)
		return NULL;
	if ((name = pq_prepared(st, sql)) != NULL)
		sent = PQsendQueryPrepared(s->conn, name, n, v, len, bin, 0);
	else if (s->conn == NULL)
		return NULL;
	else
		sent = PQsendQueryParams(s->conn, sql, n, NULL, v, len, bin, 0);
	if (!sent) {
		pg_drop(st, PQerrorMessage(s->conn));
		return NULL;
	}
	return pq_collect(st);
}

/*
 * The name of sql prepared in this session (the server parses and plans
 * it once), preparing it on first use, or NULL: the session keeps
 * PG_STMT_MAX at most, and one that cannot be prepared (inside a
 * failed transaction) runs unprepared.
 */
static const char *
pq_prepared(struct state *st, const char *sql)
{
	struct store *s = st->store;
	PGresult *res;
	int i;

	for (i = 0; i < s->nstmt; i++) {
		if (strcmp(s->stmt[i], sql) == 0)
			return s->stmt_name[i];
	}
	if (s->nstmt == PG_STMT_MAX)
		return NULL;
	snprintf(s->stmt_name[i], sizeof s->stmt_name[i], "cutover%d", i);
	if (!PQsendPrepare(s->conn, s->stmt_name[i], sql, 0, NULL)) {
		pg_drop(st, PQerrorMessage(s->conn));
		return NULL;
	}
	res = pq_collect(st);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		PQclear(res);
		return NULL;
	}
	PQclear(res);
	s->stmt[s->nstmt++] = xstrdup(sql);
	return s->stmt_name[i];
}

/* The session ended: its prepared statements with it. */
static void
pq_prepared_forget(struct store *s)
{
	int i;

	for (i = 0; i < s->nstmt; i++)
		free(s->stmt[i]);
	s->nstmt = 0;
}

/* The result of what was sent (the first failure, else the last), or
 * NULL when the connection broke or no answer came in time. */
static PGresult *
pq_collect(struct state *st)
{
	PGresult *v[PG_MAXP], *keep = NULL;
	int n = pq_results(st, v, PG_MAXP), i;

	for (i = 0; i < n; i++) {
		if (keep == NULL || PQresultStatus(keep) == PGRES_COMMAND_OK ||
		    PQresultStatus(keep) == PGRES_TUPLES_OK) {
			PQclear(keep);
			keep = v[i];
		} else
			PQclear(v[i]);
	}
	return n < 0 ? NULL : keep;
}

/*
 * The results of what was sent, in order, into v (at most max; the rest
 * are dropped): how many, or -1 when the connection broke or no answer
 * came within PG_IO_TIMEOUT_MS (the connection is then dropped).
 */
static int
pq_results(struct state *st, PGresult **v, int max)
{
	PGconn *c = st->store->conn;
	int64_t end = state_now_ms() + PG_IO_TIMEOUT_MS, left;
	struct pollfd p;
	PGresult *res;
	int f, n = 0;

	for (;;) {
		if ((f = PQflush(c)) < 0)
			break;
		if (f == 0 && !PQisBusy(c)) {
			if ((res = PQgetResult(c)) == NULL)
				break;
			if (n < max)
				v[n++] = res;
			else
				PQclear(res);
			continue;
		}
		if ((left = end - state_now_ms()) <= 0) {
			pq_clear_all(v, n);
			pg_drop(st, "no answer within "
			    PG_STR(PG_IO_TIMEOUT_S) "s");
			return -1;
		}
		p.fd = PQsocket(c);
		p.events = (short)(POLLIN | (f == 1 ? POLLOUT : 0));
		p.revents = 0;
		if (poll(&p, 1, (int)left) < 0 && errno != EINTR)
			break;
		if ((p.revents & (POLLIN | POLLERR | POLLHUP)) &&
		    !PQconsumeInput(c))
			break;
	}
	if (PQstatus(c) != CONNECTION_BAD)
		return n;
	pq_clear_all(v, n);
	pg_drop(st, PQerrorMessage(c));
	return -1;
}

static void
pq_clear_all(PGresult **v, int n)
{
	int i;

	for (i = 0; i < n; i++)
		PQclear(v[i]);
}

/*
 * Send statements with no parameters (values are quoted into them with
 * pg_literal) in one round trip, and keep their results in v: how many,
 * or -1 (connection lost, st's error set). Each statement sees what the
 * ones before it did, as if sent one by one.
 */
static int
pq_batch(struct state *st, const char *sql, PGresult **v, int max)
{
	int n;

	if (st->store->conn == NULL ||
	    !PQsendQuery(st->store->conn, sql)) {
		if (st->store->conn != NULL)
			pg_drop(st, PQerrorMessage(st->store->conn));
		n = -1;
	} else
		n = pq_results(st, v, max);
	if (n < 0)
		store_fail(st, "database: %s", st->store->down != NULL
		        ? st->store->down : "no connection");
	return n;
}

/* Bytes as an SQL literal of type bytea (a new string), or NULL. */
static char *
pg_bytea_literal(struct state *st, const char *p, size_t len)
{
	unsigned char *q;
	size_t n;
	char *out;

	if (st->store->conn == NULL ||
	    (q = PQescapeByteaConn(st->store->conn, (const unsigned char *)p,
	         len, &n)) == NULL)
		return NULL;
	out = xprintf("'%s'::bytea", (char *)q);
	PQfreemem(q);
	return out;
}

/* text as an SQL literal, for pq_batch (a new string), or NULL. */
static char *
pg_literal(struct state *st, const char *text)
{
	char *q, *out;

	if (st->store->conn == NULL || (q = PQescapeLiteral(st->store->conn,
	                                      text, strlen(text))) == NULL)
		return NULL;
	out = xstrdup(q);
	PQfreemem(q);
	return out;
}

/*
 * The connection is lost (why: libpq's words, or ours): close it. What a
 * transaction did is lost with the session (its statements fail until
 * the caller ends it, and only then may a new session start); the lease's token is the
 * store's, not the session's, so fencing holds across. The next call
 * starts connecting again at once, later ones after a growing wait
 * (pg_reconnect).
 */
static void
pg_drop(struct state *st, const char *why)
{
	struct store *s = st->store;
	char *line = pg_first_line(why != NULL && *why ? why
	                                               : "connection lost");

	free(s->down);
	xasprintf(&s->down, "%s unreachable: %s", s->shown, line);
	free(line);
	PQfinish(s->conn);
	s->conn = NULL; /* a transaction under way fails to its end */
	pq_prepared_forget(s);
	s->listening = 0;
	s->fence_ok = s->last_ok = 0;
	s->missed = 1;
	if (s->backoff_ms == 0)
		s->next_try = 0;
}

/*
 * Connect again if the connection was lost, outside a transaction and not
 * before the backoff allows (PG_BACKOFF_MIN_MS, doubling to
 * PG_BACKOFF_MAX_MS while it fails). A handle an event loop drives (it
 * asked pg_reconnect_fd) never blocks: the first call
 * starts connecting (PQconnectStartParams), each later one takes the
 * steps its socket is ready for (PQconnectPoll), and the attempt is given
 * up after PG_CONNECT_MS. Meanwhile every statement fails at once. An
 * event loop watches the socket through pg_reconnect_fd. (A host name in
 * the connection string is looked up by libpq when connecting starts,
 * which may block: war-room databases are best named by hostaddr.)
 * 0 when connected.
 */
static int
pg_reconnect(struct state *st)
{
	struct store *s = st->store;

	if (s->conn != NULL && PQstatus(s->conn) == CONNECTION_BAD)
		pg_drop(st, PQerrorMessage(s->conn));
	if (s->conn != NULL)
		return 0;
	if (s->tx)
		return -1;
	if (s->next == NULL && state_now_ms() >= s->next_try) {
		if (!s->driven) {
			pg_connect_blocking(st);
			return s->conn != NULL ? 0 : -1;
		}
		pg_connect_begin(st);
	}
	if (s->next != NULL)
		pg_connect_step(st);
	return s->conn != NULL ? 0 : -1;
}

/* A handle no event loop drives (a command that runs a few statements and
 * ends) connects again at once, waiting up to PG_CONNECT_S seconds. */
static void
pg_connect_blocking(struct state *st)
{
	struct store *s = st->store;

	s->next = pg_connect(s->conninfo, PG_CONNECT_S);
	if (PQstatus(s->next) == CONNECTION_OK)
		pg_connect_done(st);
	else
		pg_connect_failed(st, s->next != NULL ? PQerrorMessage(s->next)
		                                      : "out of memory");
}

static void
pg_connect_begin(struct state *st)
{
	struct store *s = st->store;

	s->next = pg_connect(s->conninfo, 0);
	s->next_wait = PGRES_POLLING_WRITING; /* as libpq's docs say */
	s->next_end = state_now_ms() + PG_CONNECT_MS;
	if (s->next == NULL || PQstatus(s->next) == CONNECTION_BAD)
		pg_connect_failed(st, s->next != NULL ? PQerrorMessage(s->next)
		                                      : "out of memory");
}

/* Take the steps of connecting the socket is ready for; give up late. */
static void
pg_connect_step(struct state *st)
{
	struct store *s = st->store;

	while (s->next != NULL && pg_socket_ready(s->next, s->next_wait)) {
		s->next_wait = PQconnectPoll(s->next);
		if (s->next_wait == PGRES_POLLING_FAILED)
			pg_connect_failed(st, PQerrorMessage(s->next));
		else if (s->next_wait == PGRES_POLLING_OK)
			pg_connect_done(st);
	}
	if (s->next != NULL && state_now_ms() >= s->next_end)
		pg_connect_failed(st, "no answer within "
		    PG_STR(PG_CONNECT_S) "s");
}

/* Is the connection's socket ready for what it waits for? Never waits. */
static int
pg_socket_ready(PGconn *c, int wait)
{
	struct pollfd p;

	p.fd = PQsocket(c);
	p.events = wait == PGRES_POLLING_READING ? POLLIN : POLLOUT;
	p.revents = 0;
	return p.fd >= 0 && poll(&p, 1, 0) == 1 && p.revents != 0;
}

/* Connected: set the session up (its one round trip is timed), and the
 * store is back. */
static void
pg_connect_done(struct state *st)
{
	struct store *s = st->store;

	s->conn = s->next;
	s->next = NULL;
	if (pg_session(st) != STATE_OK) {
		/* lost meanwhile: pg_drop said why */
		pg_connect_failed(st, s->conn != NULL ? state_error(st) : NULL);
		return;
	}
	free(s->down);
	s->down = NULL;
	s->backoff_ms = 0;
}

/* Connecting failed (why: libpq's words, or ours; NULL: as pg_drop said
 * already): wait longer next time. */
static void
pg_connect_failed(struct state *st, const char *why)
{
	struct store *s = st->store;
	char *w = why != NULL ? xstrdup(why) : NULL;

	PQfinish(s->next);
	s->next = NULL;
	s->backoff_ms = s->backoff_ms == 0 ? PG_BACKOFF_MIN_MS
	    : s->backoff_ms * 2 > PG_BACKOFF_MAX_MS ? PG_BACKOFF_MAX_MS
	    : s->backoff_ms * 2;
	if (w != NULL || s->conn != NULL)
		pg_drop(st, w);
	s->next_try = state_now_ms() + s->backoff_ms;
	free(w);
}

/* The socket of the reconnection under way and what it waits for, or -1;
 * from now on an event loop drives reconnecting: it never blocks. */
static int
pg_reconnect_fd(struct state *st, short *events)
{
	struct store *s = st->store;

	s->driven = 1;
	if (s->next == NULL)
		return -1;
	*events = s->next_wait == PGRES_POLLING_READING ? POLLIN : POLLOUT;
	return PQsocket(s->next);
}

/* Send BEGIN, COMMIT or ROLLBACK, and keep track of which. */
static int
pg_tx(struct state *st, const char *what)
{
	PGresult *res;
	int rc;

	if (strcmp(what, "BEGIN") == 0) {
		rc = pq_run(st, "BEGIN", "");
		st->store->tx = rc == STATE_OK;
		return rc;
	}
	res = pq_timed(st, what, 0, NULL, NULL, NULL);
	pg_tx_end(st);
	if (res == NULL)
		rc = store_fail(st, "%s: %s", what, st->store->down != NULL
		        ? st->store->down : "no connection");
	else if (PQresultStatus(res) != PGRES_COMMAND_OK)
		rc = pq_fail_res(st, what, res);
	else if (strcmp(PQcmdStatus(res), what) != 0)
		rc = store_fail(st, "%s: the transaction was rolled back",
		    what);
	else
		rc = STATE_OK;
	PQclear(res);
	return rc;
}

/* A query's result (the caller clears it), or NULL on failure. */
static PGresult *
pq_query(struct state *st, const char *sql, const char *fmt, ...)
{
	PGresult *res;
	va_list ap;

	va_start(ap, fmt);
	res = pq_vexec(st, sql, fmt, ap);
	va_end(ap);
	return res;
}

/* Run a statement whose rows are not wanted. */
static int
pq_run(struct state *st, const char *sql, const char *fmt, ...)
{
	PGresult *res;
	va_list ap;

	va_start(ap, fmt);
	res = pq_vexec(st, sql, fmt, ap);
	va_end(ap);
	if (res == NULL)
		return STATE_ERR;
	PQclear(res);
	return STATE_OK;
}

/* Run a statement and count the rows it changed into *n. */
static int
pq_run_n(struct state *st, int64_t *n, const char *sql, const char *fmt, ...)
{
	PGresult *res;
	va_list ap;

	va_start(ap, fmt);
	res = pq_vexec(st, sql, fmt, ap);
	va_end(ap);
	if (res == NULL)
		return STATE_ERR;
	*n = strtoll(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	return STATE_OK;
}

/* The result column called name; asking for one the query lacks is a bug. */
static int
col_index(const PGresult *res, const char *name)
{
	int i = PQfnumber(res, name);

	if (i < 0)
		fatalx(1, "state: no column %s in a result", name);
	return i;
}

static char *
col_text(const PGresult *res, int row, const char *name)
{
	int i = col_index(res, name);

	if (PQgetisnull(res, row, i))
		return NULL;
	return xstrdup(PQgetvalue(res, row, i));
}

static int64_t
col_int(const PGresult *res, int row, const char *name, int64_t dflt)
{
	int i = col_index(res, name);

	if (PQgetisnull(res, row, i))
		return dflt;
	return strtoll(PQgetvalue(res, row, i), NULL, 10);
}

/*
 * The database as messages name it: "pg:" and the connection's host,
 * port, database, user and service, never its password (a new string).
 */
static char *
pg_shown(const char *conninfo)
{
	static const char *keep[] = { "service", "host", "hostaddr", "port",
		"dbname", "user" };
	PQconninfoOption *opts, *o;
	char *out = xstrdup("pg:"), *more;
	size_t i;

	if ((opts = PQconninfoParse(conninfo, NULL)) == NULL) {
		free(out);
		return xstrdup("the PostgreSQL address");
	}
	for (o = opts; o->keyword != NULL; o++) {
		for (i = 0; i < sizeof keep / sizeof keep[0]; i++) {
			if (strcmp(o->keyword, keep[i]) != 0 ||
			    o->val == NULL || *o->val == '\0')
				continue;
			more = xprintf("%s%s%s=%s", out, out[3] ? " " : "",
			    o->keyword, o->val);
			free(out);
			out = more;
		}
	}
	PQconninfoFree(opts);
	return out;
}

/*
 * Connect with the store's own settings first (TCP keepalives and a TCP
 * user timeout that notice a dead network in seconds), which the
 * connection string may override: blocking for at most timeout_s seconds,
 * or (timeout_s 0) only started, for pg_reconnect to finish.
 */
static PGconn *
pg_connect(const char *conninfo, int timeout_s)
{
	static const char *const keys[] = { "keepalives", "keepalives_idle",
		"keepalives_interval", "keepalives_count", "tcp_user_timeout",
		"fallback_application_name", "connect_timeout", "dbname",
		NULL };
	const char *values[] = { "1", PG_KEEPALIVE_IDLE,
		PG_KEEPALIVE_INTERVAL, PG_KEEPALIVE_COUNT, PG_TCP_USER_TIMEOUT,
		"cutover", NULL, conninfo, NULL };
	char timeout[16];

	snprintf(timeout, sizeof timeout, "%d", timeout_s);
	values[6] = timeout;
	if (timeout_s == 0)
		return PQconnectStartParams(keys, values, 1);
	return PQconnectdbParams(keys, values, 1);
}

/* Writes need to know whose runs they change. */
static int
pg_need_runbook(struct state *st)
{
	if (st->runbook != NULL)
		return STATE_OK;
	return store_fail(st, "no runbook chosen for a write to %s",
	    st->store->shown);
}

/*
 * The schema's version into *version (0 if none) and whether the schema
 * cutover exists into *schema.
 */
static int
schema_version(struct state *st, int *version, int *schema)
{
	PGresult *res;
	int have;

	*version = 0;
	res = pq_query(st, "SELECT to_regnamespace('cutover') IS NOT NULL AS s,"
	    " to_regclass('cutover.version') IS NOT NULL AS v", "");
	if (res == NULL)
		return STATE_ERR;
	*schema = strcmp(PQgetvalue(res, 0, col_index(res, "s")), "t") == 0;
	have = strcmp(PQgetvalue(res, 0, col_index(res, "v")), "t") == 0;
	PQclear(res);
	if (!have)
		return STATE_OK;
	res = pq_query(st, "SELECT max(version) AS v FROM cutover.version", "");
	if (res == NULL)
		return STATE_ERR;
	*version = (int)col_int(res, 0, "v", 0);
	PQclear(res);
	return STATE_OK;
}

/* Take the schema from version v to v + 1 (inside a transaction). */
static int
schema_migrate(struct state *st, int v)
{
	PGresult *res = PQexec(st->store->conn, migrations[v]);

	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		pq_fail_res(st, "migrate schema cutover", res);
		PQclear(res);
		return STATE_ERR;
	}
	PQclear(res);
	return pq_run(st, "UPDATE cutover.version SET version=$1", "i", v + 1);
}

/*
 * Bring schema cutover to PG_SCHEMA_VERSION, creating it when create is set
 * (and the role may), in one transaction under an advisory lock (a second
 * cutover opening it at the same time waits, then finds the work done), or
 * refuse a schema of a newer cutover.
 */
static int
pg_schema(struct state *st, int create)
{
	int version, schema, rc, v;

	if ((rc = schema_version(st, &version, &schema)) != STATE_OK)
		return rc;
	if (version > PG_SCHEMA_VERSION)
		return STATE_NEWER;
	if (version == PG_SCHEMA_VERSION)
		return STATE_OK;
	if (version == 0 && !create)
		return store_fail(st, "no cutover schema in this database yet; "
		    "no run has started here (start one with `cutover run`)");
	if (pg_tx(st, "BEGIN") != STATE_OK)
		return STATE_ERR;
	rc = pq_run(st, "SELECT pg_advisory_xact_lock($1)", "I",
	    (int64_t)PG_LOCK_SCHEMA);
	if (rc == STATE_OK)
		rc = schema_version(st, &version, &schema);
	if (rc == STATE_OK && !schema &&
	    pq_run(st, "CREATE SCHEMA cutover", "") != STATE_OK)
		rc = store_fail(st, "cannot create schema cutover (%s); have "
		    "the database owner create it: see cutover(1)",
		    state_error(st));
	for (v = version; rc == STATE_OK && v < PG_SCHEMA_VERSION; v++)
		rc = schema_migrate(st, v);
	if (rc == STATE_OK && version > PG_SCHEMA_VERSION)
		rc = STATE_NEWER;
	if (rc == STATE_OK)
		rc = pg_tx(st, "COMMIT");
	else
		pg_tx(st, "ROLLBACK");
	return rc;
}

/* The server's notices and warnings: the store prints nothing. */
static void
pg_notice_drop(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/* Every commit durable on the server's disk; a transaction left open by a
 * frozen or vanished client does not hold the runbook's lock for long.
 * Statements are sent without blocking and waited for with a time limit
 * (pq_timed), this one too. */
static int
pg_session(struct state *st)
{
	PGconn *c = st->store->conn;
	PGresult *res;

	PQsetNoticeProcessor(c, pg_notice_drop, NULL);
	if (PQsetnonblocking(c, 1) != 0 ||
	    !PQsendQuery(c, "SET synchronous_commit = on;"
	        " SET idle_in_transaction_session_timeout = '"
	        PG_IDLE_TX_TIMEOUT "'; SET client_min_messages = warning"))
		return pq_fail(st, "session");
	if ((res = pq_collect(st)) == NULL)
		return store_fail(st, "session: %s", st->store->down != NULL
		        ? st->store->down : "no connection");
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		pq_fail_res(st, "session", res);
		PQclear(res);
		return STATE_ERR;
	}
	PQclear(res);
	return STATE_OK;
}

/* Who the server authenticated (session_user, which SET ROLE does not
 * change) into st->db_user. */
static int
pg_session_user(struct state *st)
{
	PGresult *res;

	res = pq_query(st, "SELECT session_user AS u", "");
	if (res == NULL)
		return STATE_ERR;
	st->db_user = col_text(res, 0, "u");
	PQclear(res);
	return st->db_user != NULL ? STATE_OK
	                           : store_fail(st, "no session user");
}

/*
 * Connect to the database the path names (postgresql://..., postgres://...
 * or pg:CONNINFO), set the session up for durable commits and bring the
 * schema up to date.
 */
static int
pg_open(struct state *st, const char *path, int flags, char **err)
{
	const char *conninfo = strncmp(path, "pg:", 3) == 0 ? path + 3 : path;
	struct store *s = xcalloc(1, sizeof *s);
	char *password = NULL;
	int rc;

	st->store = s;
	s->shown = pg_shown(conninfo);
	s->conninfo = xstrdup(conninfo);
	s->durable = 1;
	if (pg_conninfo_password(conninfo, &password, NULL) != 0) {
		/* libpq's words would quote the string, password and all. */
		rc = store_fail(st, "not a connection string libpq can read");
	} else if (PQstatus(s->conn = pg_connect(conninfo, 10)) !=
	    CONNECTION_OK)
		rc = pq_fail(st, "cannot connect");
	else
		rc = pg_session(st);
	if (rc == STATE_OK)
		rc = pg_schema(st, flags & STATE_CREATE);
	if (rc == STATE_OK)
		rc = pg_session_user(st);
	if (rc == STATE_NEWER)
		xasprintf(err, "%s: written by a newer cutover (schema cutover "
		    "version above %d); upgrade cutover", s->shown,
		    PG_SCHEMA_VERSION);
	else if (rc != STATE_OK)
		*err = pg_redacted(password, "%s: %s", s->shown,
		    state_error(st));
	free(password);
	if (rc != STATE_OK) {
		pg_close(st);
		return rc;
	}
	return STATE_OK;
}

/* A message made of fmt, with every copy of password in it starred out
 * (a new string). */
static char *
pg_redacted(const char *password, const char *fmt, ...)
{
	char *secrets[2] = { (char *)password, NULL }, *m, *out;
	va_list ap;

	va_start(ap, fmt);
	xvasprintf(&m, fmt, ap);
	va_end(ap);
	if (password == NULL || *password == '\0')
		return m;
	out = outbuf_redact(secrets, m);
	free(m);
	return out;
}

static void
pg_close(struct state *st)
{
	if (st->store == NULL)
		return;
	PQfinish(st->store->conn);
	PQfinish(st->store->next);
	free(st->store->shown);
	free(st->store->conninfo);
	free(st->store->down);
	free(st->store->fenced_by);
	free(st->store->last_hash);
	free(st->store->last_at);
	buf_free(&st->store->deferred);
	pq_prepared_forget(st->store);
	free(st->store);
	st->store = NULL;
}

/*
 * Has another connection committed a change to the runbook's runs? Once
 * the handle listens (pg_watch_fd, pg_wait), the notifications say so
 * without a round trip; before, the runbook's change count does.
 */
static int
pg_changed(struct state *st)
{
	struct store *s = st->store;
	int64_t v;

	if (s->listening) {
		if (!pg_notified(st))
			return 0;
		s->pending = s->missed = 0;
		return 1;
	}
	if (pg_serial(st, &v) != STATE_OK)
		return 0;
	if (v == s->serial)
		return 0;
	s->serial = v;
	return 1;
}

/* The runbook's change count now into *v (0 before its first change). */
static int
pg_serial(struct state *st, int64_t *v)
{
	PGresult *res;

	res = pq_query(st, "SELECT serial FROM cutover.runbooks WHERE name=$1",
	    "R");
	if (res == NULL)
		return STATE_ERR;
	*v = PQntuples(res) == 1 ? col_int(res, 0, "serial", 0) : 0;
	PQclear(res);
	return STATE_OK;
}

/* LISTEN on the runbook's channel, once. */
static int
pg_listen(struct state *st)
{
	PGresult *res;
	char *id, *sql;
	int rc;

	if (st->store->listening)
		return STATE_OK;
	res =
	    pq_query(st, "SELECT '" PG_CHANNEL "' || md5($1) AS channel", "R");
	if (res == NULL)
		return STATE_ERR;
	id = PQescapeIdentifier(st->store->conn, PQgetvalue(res, 0, 0),
	    strlen(PQgetvalue(res, 0, 0)));
	PQclear(res);
	if (id == NULL)
		return pq_fail(st, "listen");
	sql = xprintf("LISTEN %s", id);
	PQfreemem(id);
	rc = pq_run(st, sql, "");
	free(sql);
	st->store->listening = rc == STATE_OK;
	return rc;
}

/*
 * Has a notification of another connection's commit come (or may one
 * have been missed while the connection was lost)? Reads what arrived
 * without waiting, and keeps the answer until pg_changed takes it. A
 * connection found closed is dropped (its socket is watched no more).
 */
static int
pg_notified(struct state *st)
{
	struct store *s = st->store;
	PGnotify *n;

	if (s->conn != NULL && !PQconsumeInput(s->conn))
		pg_drop(st, PQerrorMessage(s->conn));
	while (s->conn != NULL && (n = PQnotifies(s->conn)) != NULL) {
		if (n->be_pid != PQbackendPID(s->conn))
			s->pending = 1;
		PQfreemem(n);
	}
	return s->pending || s->missed;
}

/* The socket to watch for notifications, listening (-1 if none now: the
 * server cannot be reached, or no runbook was chosen). */
static int
pg_watch_fd(struct state *st)
{
	if (st->runbook == NULL || pg_reconnect(st) != 0 ||
	    pg_listen(st) != STATE_OK)
		return -1;
	return PQsocket(st->store->conn);
}

/* Why the server cannot be reached, or NULL. */
static const char *
pg_unreachable(struct state *st)
{
	return st->store->conn == NULL ? st->store->down : NULL;
}

/* Connect again now if the backoff allows. */
static int
pg_reconnect_now(struct state *st)
{
	if (pg_reconnect(st) == 0)
		return STATE_OK;
	return store_fail(st, "%s", st->store->down != NULL
	        ? st->store->down : "not connected");
}

/*
 * Wait up to timeout_ms for a commit by another connection: the server
 * notifies the runbook's channel at each one. A change made before the
 * wait began counts too. 1, 0 on timeout, or STATE_ERR.
 */
static int
pg_wait(struct state *st, int timeout_ms)
{
	int64_t end = state_now_ms() + timeout_ms, v;
	struct pollfd p;

	if (pg_need_runbook(st) != STATE_OK || pg_listen(st) != STATE_OK ||
	    pg_serial(st, &v) != STATE_OK)
		return STATE_ERR;
	if (v != st->store->serial) {
		st->store->serial = v;
		st->store->pending = 1; /* pg_changed says so too */
		return 1;
	}
	for (;;) {
		if (pg_notified(st))
			return 1;
		if (st->store->conn == NULL)
			return store_fail(st, "wait: %s", st->store->down);
		if (state_now_ms() >= end)
			return 0;
		p.fd = PQsocket(st->store->conn);
		p.events = POLLIN;
		if (poll(&p, 1, (int)(end - state_now_ms())) == -1 &&
		    errno != EINTR)
			return store_fail(st, "wait: %s", strerror(errno));
	}
}

/* Later commits wait for the disk (on) or not: said with the commit
 * itself (pg_commit), at no cost of its own. */
static void
pg_set_durable(struct state *st, int on)
{
	st->store->durable = on != 0;
}

/* A transaction ended (or was lost): what was known inside it is not. */
static void
pg_tx_end(struct state *st)
{
	struct store *s = st->store;

	s->tx = s->fence_ok = s->last_ok = 0;
	buf_free(&s->deferred);
	s->ndeferred = 0;
	free(s->last_hash);
	free(s->last_at);
	s->last_hash = s->last_at = NULL;
}

/*
 * BEGIN, wait for the runbook's write lock, then read the newest audit
 * entry (kept for state.c, pg_audit_last) and, for a driver, its lease row
 * locked FOR SHARE (pg_fence_row): one round trip, each statement seeing
 * what the ones before did.
 */
static int
pg_begin(struct state *st)
{
	int rc;

	if (pg_need_runbook(st) != STATE_OK)
		return STATE_ERR;
	rc = pg_begin_once(st);
	/* A connection found lost (the server restarted meanwhile) is made
	 * again, once, as for any statement. */
	if (rc != STATE_OK && !st->store->tx && st->store->conn == NULL &&
	    pg_reconnect(st) == 0)
		rc = pg_begin_once(st);
	return rc;
}

static int
pg_begin_once(struct state *st)
{
	struct store *s = st->store;
	PGresult *v[4];
	char *rb, *sql, *fence = NULL;
	int n, ok;

	if (pg_reconnect(st) != 0 || (rb = pg_literal(st, st->runbook)) == NULL)
		return store_fail(st, "database: %s", s->down != NULL ? s->down
		        : "no connection");
	if (s->token != 0 && !s->fenced)
		fence = xprintf("; SELECT token, host, pid FROM cutover.lease"
		    " WHERE runbook=%s AND run=%lld FOR SHARE", rb,
		    (long long)s->lease_run);
	sql = xprintf("BEGIN; SELECT pg_advisory_xact_lock(hashtextextended("
	    "%s, 0)); SELECT id, hash, at FROM cutover.audit WHERE runbook=%s"
	    " ORDER BY id DESC LIMIT 1%s", rb, rb, fence != NULL ? fence : "");
	free(rb);
	free(fence);
	n = pq_batch(st, sql, v, 4);
	free(sql);
	if (n < 0)
		return STATE_ERR;
	s->tx = n > 0 && PQresultStatus(v[0]) == PGRES_COMMAND_OK;
	ok = n >= 3 && PQresultStatus(v[n - 1]) == PGRES_TUPLES_OK;
	if (ok && PQntuples(v[2]) == 1) {
		s->last_id = col_int(v[2], 0, "id", 0);
		s->last_hash = col_text(v[2], 0, "hash");
		s->last_at = col_text(v[2], 0, "at");
	}
	s->last_ok = ok;
	if (ok && n == 4)
		pg_fence_row(st, v[3]);
	if (!ok)
		pq_fail_res(st, "BEGIN", n > 0 ? v[n - 1] : NULL);
	pq_clear_all(v, n);
	if (!ok && s->tx)
		pg_tx(st, "ROLLBACK");
	return ok ? STATE_OK : STATE_ERR;
}

/*
 * Is the lease this handle took still its own? Checked with the row
 * locked FOR SHARE, so that no takeover can commit before this
 * transaction ends (once per transaction: pg_begin reads the row).
 * STATE_CONFLICT (error "fenced: ...") once another driver has taken
 * over; a handle without a lease passes.
 */
static int
pg_fence(struct state *st)
{
	struct store *s = st->store;
	PGresult *res;
	int rc;

	if ((s->token == 0 && !s->fenced) || (s->fence_ok && s->tx))
		return STATE_OK;
	if (!s->fenced) {
		res = pq_query(st,
		               "SELECT token, host, pid FROM cutover.lease"
		               " WHERE runbook=$1 AND run=$2 FOR SHARE",
		               "RI", s->lease_run);
		if (res == NULL)
			return STATE_ERR;
		rc = pg_fence_row(st, res);
		PQclear(res);
		if (rc == STATE_OK)
			return STATE_OK;
	}
	if (s->fenced_by != NULL)
		store_fail(st, "fenced: another driver (%s) took over run %lld",
		    s->fenced_by, (long long)s->lease_run);
	else
		store_fail(st, "fenced: another driver took over run %lld",
		    (long long)s->lease_run);
	return STATE_CONFLICT;
}

/* Judge the lease row read (token, host, pid): this handle's token sets
 * fence_ok (inside a transaction), another's fences the handle for good. */
static int
pg_fence_row(struct state *st, const PGresult *res)
{
	struct store *s = st->store;
	char *host;

	if (PQntuples(res) == 1 && col_int(res, 0, "token", 0) == s->token) {
		s->fence_ok = s->tx;
		return STATE_OK;
	}
	s->fenced = 1;
	free(s->fenced_by);
	s->fenced_by = NULL;
	if (PQntuples(res) == 1 && (host = col_text(res, 0, "host")) != NULL) {
		s->fenced_by = xprintf("%s, pid %lld", host,
		    (long long)col_int(res, 0, "pid", 0));
		free(host);
	}
	return STATE_CONFLICT;
}

/*
 * Fence, then in one round trip: the writes kept for now (pq_defer),
 * count the change in the runbook's serial (what pg_changed watches),
 * notify the runbook's channel (heard when this commits), say whether
 * this commit waits for the disk, and COMMIT. A failure rolls back.
 */
static int
pg_commit(struct state *st)
{
	struct store *s = st->store;
	PGresult *v[PG_DEFER_MAX + 2];
	char *rb, *sql;
	int rc = pg_fence(st), n, k = s->ndeferred, i;
	int64_t serial;

	if (rc != STATE_OK || (rb = pg_literal(st, st->runbook)) == NULL) {
		if (rc == STATE_OK)
			rc = store_fail(st, "COMMIT: %s", s->down != NULL
			        ? s->down : "no connection");
		if (s->tx)
			pg_tx(st, "ROLLBACK");
		return rc;
	}
	sql = xprintf("%sWITH b AS (INSERT INTO cutover.runbooks(name, serial)"
	    " VALUES(%s, 1) ON CONFLICT(name) DO UPDATE"
	    " SET serial = cutover.runbooks.serial + 1 RETURNING serial)"
	    " SELECT serial, pg_notify('" PG_CHANNEL "' || md5(%s),"
	    " serial::text) AS notified, set_config('synchronous_commit', '%s',"
	    " true) AS sync FROM b; COMMIT", s->deferred.len > 0
	        ? s->deferred.data : "", rb, rb, s->durable ? "on" : "off");
	free(rb);
	n = pq_batch(st, sql, v, PG_DEFER_MAX + 2);
	free(sql);
	pg_tx_end(st);
	if (n < 0)
		return STATE_ERR;
	for (i = 0; i < n && (PQresultStatus(v[i]) == PGRES_COMMAND_OK ||
	                         PQresultStatus(v[i]) == PGRES_TUPLES_OK); i++)
		;
	if (i == n && n == k + 2 && strcmp(PQcmdStatus(v[n - 1]), "COMMIT") == 0) {
		serial = col_int(v[k], 0, "serial", 0);
		if (serial == s->serial + 1)
			s->serial = serial; /* only this change: not another's */
	} else if (i < n)
		rc = pq_fail_res(st, "COMMIT", v[i]);
	else
		rc = store_fail(st, "COMMIT: the transaction was rolled back");
	pq_clear_all(v, n);
	if (rc != STATE_OK && PQtransactionStatus(s->conn) != PQTRANS_IDLE) {
		s->tx = 1;
		pg_tx(st, "ROLLBACK");
	}
	return rc;
}

static void
pg_rollback(struct state *st)
{
	pg_tx(st, "ROLLBACK");
}

/* Runs. */

#define RUN_COLS "id, runbook, mode, state, runbook_text, runbook_sha," \
	" created_at, ended_at, operator, step_hash, selection"
#define MY_RUNBOOK "($1::text IS NULL OR runbook=$1)"

static void
run_info_fill(const PGresult *res, int i, struct run_info *r)
{
	r->id = col_int(res, i, "id", 0);
	r->runbook = col_text(res, i, "runbook");
	r->mode = col_text(res, i, "mode");
	r->state = col_text(res, i, "state");
	r->runbook_text = col_text(res, i, "runbook_text");
	r->runbook_sha = col_text(res, i, "runbook_sha");
	r->created_at = col_text(res, i, "created_at");
	r->ended_at = col_text(res, i, "ended_at");
	r->operator = col_text(res, i, "operator");
	r->step_hash = (int)col_int(res, i, "step_hash", 1);
	r->selection = col_text(res, i, "selection");
}

/* The first run of a query into r: STATE_NOTFOUND if none. */
static int
run_one(PGresult *res, struct run_info *r)
{
	int rc;

	if (res == NULL)
		return STATE_ERR;
	rc = PQntuples(res) > 0 ? STATE_OK : STATE_NOTFOUND;
	if (rc == STATE_OK)
		run_info_fill(res, 0, r);
	PQclear(res);
	return rc;
}

static int
pg_run_latest(struct state *st, int open_only, struct run_info *r)
{
	return run_one(pq_query(st, open_only
	        ? "SELECT " RUN_COLS " FROM cutover.runs WHERE " MY_RUNBOOK
	          " AND state='open' ORDER BY id DESC LIMIT 1"
	        : "SELECT " RUN_COLS " FROM cutover.runs WHERE " MY_RUNBOOK
	          " ORDER BY id DESC LIMIT 1",
	    "R"), r);
}

static int
pg_run_get(struct state *st, int64_t id, struct run_info *r)
{
	if (pg_need_runbook(st) != STATE_OK)
		return STATE_ERR;
	return run_one(pq_query(st, "SELECT " RUN_COLS " FROM cutover.runs"
	    " WHERE runbook=$1 AND id=$2", "RI", id), r);
}

static int
pg_run_list(struct state *st, struct run_info **out, size_t *n)
{
	PGresult *res;
	int i;

	*out = NULL;
	*n = 0;
	res = pq_query(st, "SELECT " RUN_COLS " FROM cutover.runs WHERE "
	    MY_RUNBOOK " ORDER BY runbook, id", "R");
	if (res == NULL)
		return STATE_ERR;
	*n = (size_t)PQntuples(res);
	*out = xcalloc(*n ? *n : 1, sizeof **out);
	for (i = 0; i < PQntuples(res); i++)
		run_info_fill(res, i, &(*out)[i]);
	PQclear(res);
	return STATE_OK;
}

static int
pg_run_create(struct state *st, const char *runbook, const char *mode,
    const char *text, const char *sha, int64_t *id)
{
	char *now;
	PGresult *res;
	int opened, rc;

	if (st->runbook == NULL || strcmp(st->runbook, runbook) != 0)
		return store_fail(st, "a run of %s on a handle of %s", runbook,
		    st->runbook != NULL ? st->runbook : "no runbook");
	if ((opened = store_tx_enter(st)) < 0)
		return STATE_ERR;
	now = store_time_text(state_now_ms());
	res = pq_query(st, "INSERT INTO cutover.runs(runbook, id, mode, state,"
	    " runbook_text, runbook_sha, created_at, operator, os_user,"
	    " step_hash) VALUES($1, (SELECT coalesce(max(id), 0) + 1 FROM"
	    " cutover.runs WHERE runbook=$1), $2, 'open', $3, $4, $5, $6, $7,"
	    " $8) RETURNING id", "Rtttttti", mode, text, sha, now,
	    st->operator, st->os_user, STATE_STEP_HASH);
	free(now);
	rc = res != NULL ? STATE_OK : STATE_ERR;
	if (rc == STATE_OK) {
		*id = col_int(res, 0, "id", 0);
		PQclear(res);
		rc = state_audit(st, *id, NULL, "run-start",
		                 "runbook=%s mode=%s sha256=%s", runbook, mode,
		                 sha);
	}
	return store_tx_leave(st, opened, rc);
}

static int
pg_run_set_state(struct state *st, int64_t run, const char *state)
{
	char *now = store_time_text(state_now_ms());
	int opened = store_tx_enter(st), rc = STATE_ERR;

	if (opened >= 0)
		rc = pq_run(st, "UPDATE cutover.runs SET state=$2, ended_at=$3"
		    " WHERE runbook=$1 AND id=$4", "RttI", state,
		    strcmp(state, "open") == 0 ? NULL : now, run);
	free(now);
	if (opened < 0)
		return STATE_ERR;
	if (rc == STATE_OK)
		rc = state_audit(st, run, NULL, "run-state", "%s", state);
	return store_tx_leave(st, opened, rc);
}

/* One write in its own transaction unless the caller has one open. */
#define PG_WRITE(st, call)                                                   \
	do {                                                                 \
		int opened_ = store_tx_enter(st), rc_;                       \
		if (opened_ < 0)                                             \
			return STATE_ERR;                                    \
		rc_ = (call);                                                \
		return store_tx_leave(st, opened_, rc_);                     \
	} while (0)

static int
pg_run_rollback_to(struct state *st, int64_t run, const char *to, char **out)
{
	PGresult *res;
	int rc;

	if (out == NULL)
		PG_WRITE(st, pq_run(st, "UPDATE cutover.runs SET rollback_to=$2"
		    " WHERE runbook=$1 AND id=$3", "RtI", to, run));
	*out = NULL;
	res = pq_query(st, "SELECT rollback_to FROM cutover.runs"
	    " WHERE runbook=$1 AND id=$2", "RI", run);
	if (res == NULL)
		return STATE_ERR;
	rc = PQntuples(res) == 1 ? STATE_OK : STATE_NOTFOUND;
	if (rc == STATE_OK)
		*out = col_text(res, 0, "rollback_to");
	PQclear(res);
	return rc;
}

static int
pg_run_set_runbook(struct state *st, int64_t run, const char *text,
    const char *sha)
{
	PG_WRITE(st, pq_run(st, "UPDATE cutover.runs SET runbook_text=$2,"
	    " runbook_sha=$3 WHERE runbook=$1 AND id=$4", "RttI", text, sha,
	    run));
}

/* Steps. */

#define STEP_COLS "id, idx, state, attempts, def_sha, started_at, ended_at," \
	" duration_ms, note, result, done_at, undo"

static void
step_row_fill(const PGresult *res, int i, struct step_row *r)
{
	char *state = col_text(res, i, "state");

	r->id = col_text(res, i, "id");
	r->idx = (int)col_int(res, i, "idx", 0);
	if (state == NULL || step_state_parse(state, &r->state) != 0)
		r->state = ST_PENDING;
	free(state);
	r->attempts = (int)col_int(res, i, "attempts", 0);
	r->def_sha = col_text(res, i, "def_sha");
	r->started_ms = col_int(res, i, "started_at", -1);
	r->ended_ms = col_int(res, i, "ended_at", -1);
	r->started_at = store_time_text(r->started_ms);
	r->ended_at = store_time_text(r->ended_ms);
	r->duration_ms = col_int(res, i, "duration_ms", -1);
	r->note = col_text(res, i, "note");
	r->result = col_text(res, i, "result");
	r->done_ms = col_int(res, i, "done_at", -1);
	r->undo = (int)col_int(res, i, "undo", 0);
}

static int
pg_steps_load(struct state *st, int64_t run, struct step_row **out,
    size_t *n)
{
	PGresult *res;
	int i;

	*out = NULL;
	*n = 0;
	res = pq_query(st, "SELECT " STEP_COLS " FROM cutover.steps"
	    " WHERE runbook=$1 AND run=$2 ORDER BY idx", "RI", run);
	if (res == NULL)
		return STATE_ERR;
	*n = (size_t)PQntuples(res);
	*out = xcalloc(*n ? *n : 1, sizeof **out);
	for (i = 0; i < PQntuples(res); i++)
		step_row_fill(res, i, &(*out)[i]);
	PQclear(res);
	return STATE_OK;
}

static int
pg_step_get(struct state *st, int64_t run, const char *id, struct step_row *r)
{
	PGresult *res;
	int rc;

	res = pq_query(st, "SELECT " STEP_COLS " FROM cutover.steps"
	    " WHERE runbook=$1 AND run=$2 AND id=$3", "RIt", run, id);
	if (res == NULL)
		return STATE_ERR;
	rc = PQntuples(res) == 1 ? STATE_OK : STATE_NOTFOUND;
	if (rc == STATE_OK)
		step_row_fill(res, 0, r);
	PQclear(res);
	return rc;
}

static int
pg_step_insert(struct state *st, int64_t run, const char *id, int idx,
    const char *def_sha)
{
	PG_WRITE(
	    st, pq_defer(st,
	               "INSERT INTO cutover.steps(runbook, run, id, idx,"
	               " state, def_sha) VALUES($1, $2, $3, $4, 'pending', $5)",
	               "RItit", run, id, idx, def_sha));
}

static int
pg_step_delete(struct state *st, int64_t run, const char *id)
{
	PG_WRITE(st, pq_run(st, "DELETE FROM cutover.steps WHERE runbook=$1"
	    " AND run=$2 AND id=$3", "RIt", run, id));
}

static int
pg_step_update_def(struct state *st, int64_t run, const char *id, int idx,
    const char *def_sha)
{
	PG_WRITE(st, pq_run(st, "UPDATE cutover.steps SET idx=$4, def_sha=$5"
	    " WHERE runbook=$1 AND run=$2 AND id=$3", "RItit", run, id, idx,
	    def_sha));
}

static int
pg_step_set_undo(struct state *st, int64_t run, const char *id, int undo)
{
	PG_WRITE(st, pq_run(st, "UPDATE cutover.steps SET undo=$4"
	    " WHERE runbook=$1 AND run=$2 AND id=$3", "RIti", run, id, undo));
}

/* Is the step in one of the states of mask (its row locked until the
 * transaction ends)? STATE_NOTFOUND if no such step. */
static int
step_in(struct state *st, int64_t run, const char *id, unsigned mask)
{
	PGresult *res;
	enum step_state cur = ST_PENDING;
	int found;

	res = pq_query(st, "SELECT state FROM cutover.steps WHERE runbook=$1"
	    " AND run=$2 AND id=$3 FOR UPDATE", "RIt", run, id);
	if (res == NULL)
		return STATE_ERR;
	found = PQntuples(res) == 1;
	if (found && step_state_parse(PQgetvalue(res, 0, 0), &cur) != 0)
		cur = ST_PENDING;
	PQclear(res);
	if (!found)
		return STATE_NOTFOUND;
	return (mask & ST_BIT(cur)) ? STATE_OK : STATE_CONFLICT;
}

static int
pg_step_transition(struct state *st, int64_t run, const char *id,
    unsigned from_mask, enum step_state to, const char *note,
    const char *action, const char *details)
{
	int64_t now = state_now_ms();
	struct step_effects fx;
	int opened = store_tx_enter(st), rc;

	if (opened < 0)
		return STATE_ERR;
	store_step_effects(to, &fx);
	rc = step_in(st, run, id, from_mask);
	if (rc == STATE_OK)
		rc = pq_run(st,
		            "UPDATE cutover.steps SET state=$4,"
		            " note=coalesce($5, note),"
		            " started_at=CASE WHEN $6::int=1"
		            " THEN coalesce(started_at, $7::bigint)"
		            " ELSE started_at END,"
		            " ended_at=CASE WHEN $8::int=1"
		            " THEN $7::bigint ELSE ended_at END,"
		            " duration_ms=CASE WHEN $8::int=1"
		            " THEN $7::bigint - started_at ELSE duration_ms END,"
		            " done_at=CASE WHEN $9::int=1"
		            " THEN $7::bigint ELSE done_at END,"
		            " undo=CASE WHEN $10::int=1 THEN 0 ELSE undo END"
		            " WHERE runbook=$1 AND run=$2 AND id=$3",
		            "RItttiIiii", run, id, step_state_name(to), note,
		            fx.starts, now, fx.ends, fx.done, fx.undo_clears);
	if (rc == STATE_OK)
		rc = state_audit(st, run, id, action, "%s%s%s",
		    step_state_name(to), details != NULL ? ": " : "",
		    details != NULL ? details : "");
	return store_tx_leave(st, opened, rc);
}

static int
pg_step_set_result(struct state *st, int64_t run, const char *id,
    const char *json)
{
	int opened = store_tx_enter(st), rc;

	if (opened < 0)
		return STATE_ERR;
	rc = pq_run(st, "UPDATE cutover.steps SET result=$4"
	    " WHERE runbook=$1 AND run=$2 AND id=$3", "RItt", run, id, json);
	if (rc == STATE_OK)
		rc = store_audit_result(st, run, id, json);
	return store_tx_leave(st, opened, rc);
}

/* Attempts. */

/* The states of mask as an SQL array literal ("{pending,failed}"). */
static char *
state_array(unsigned mask)
{
	struct buf b = { 0 };
	int i;

	buf_addc(&b, '{');
	for (i = 0; i < ST_NSTATES; i++) {
		if (mask & ST_BIT(i))
			buf_printf(&b, "%s%s", b.len > 1 ? "," : "",
			    step_state_name((enum step_state)i));
	}
	buf_addc(&b, '}');
	return buf_steal(&b);
}

/*
 * In one statement: lock the step's row and, if it is in from_mask,
 * insert the attempt with the next number and move the step to running
 * (a run or verify counts an attempt and may start the step's time; a
 * rollback action marks the step as being undone). STATE_NOTFOUND
 * without the step, STATE_CONFLICT (nothing written) outside from_mask.
 */
static int
pg_attempt_begin(struct state *st, int64_t run, const char *step,
    enum attempt_kind kind, unsigned from_mask, const char *host,
    int64_t pid, int64_t pgid, const char *token, int *n)
{
	int64_t now = state_now_ms();
	int opened = store_tx_enter(st), rc = STATE_ERR;
	char *mask = state_array(from_mask);
	PGresult *res;

	if (opened < 0) {
		free(mask);
		return STATE_ERR;
	}
	res = pq_query(st,
	    "WITH s AS (SELECT state FROM cutover.steps WHERE runbook=$1"
	    " AND run=$2 AND id=$3 FOR UPDATE),"
	    " ok AS (SELECT 1 FROM s WHERE state = ANY($12::text[])),"
	    " a AS (INSERT INTO cutover.attempts(runbook, run, step,"
	    " n, kind, state, started_at, host, pid, pgid, operator,"
	    " token) SELECT $1, $2, $3, coalesce(max(n), 0) + 1, $4,"
	    " 'running', $5, $6, $7, $8, $9, $10 FROM cutover.attempts"
	    " WHERE runbook=$1 AND run=$2 AND step=$3"
	    " HAVING EXISTS (SELECT 1 FROM ok) RETURNING n),"
	    " u AS (UPDATE cutover.steps SET state='running',"
	    " attempts=attempts + CASE WHEN $11::int=1 THEN 0 ELSE 1 END,"
	    " started_at=CASE WHEN $11::int=1 THEN started_at"
	    " ELSE coalesce(started_at, $5) END,"
	    " undo=CASE WHEN $11::int=1 THEN 1 ELSE undo END"
	    " WHERE runbook=$1 AND run=$2 AND id=$3"
	    " AND EXISTS (SELECT 1 FROM ok))"
	    " SELECT (SELECT state FROM s) AS state, (SELECT n FROM a) AS n",
	    "RIttItIIttit", run, step, attempt_kind_name(kind), now, host, pid,
	    pgid, st->operator, token, kind == ATT_ROLLBACK, mask);
	free(mask);
	if (res != NULL) {
		rc = PQgetisnull(res, 0, 0) ? STATE_NOTFOUND
		    : PQgetisnull(res, 0, 1) ? STATE_CONFLICT : STATE_OK;
		if (rc == STATE_OK)
			*n = (int)col_int(res, 0, "n", 1);
		PQclear(res);
	}
	if (rc == STATE_OK)
		rc = state_audit(st, run, step, "attempt-start",
		    "attempt %d (%s) running, pid %lld", *n,
		    attempt_kind_name(kind), (long long)pid);
	return store_tx_leave(st, opened, rc);
}

static int
pg_attempt_set_pid(struct state *st, int64_t run, const char *step, int n,
    int64_t pid, int64_t pgid)
{
	PG_WRITE(st, pq_defer(st, "UPDATE cutover.attempts SET pid=$5, pgid=$6"
	    " WHERE runbook=$1 AND run=$2 AND step=$3 AND n=$4", "RItiII", run,
	    step, n, pid, pgid));
}

static int
pg_attempt_output(struct state *st, int64_t run, const char *step, int n,
    const char *out, size_t len, int64_t total)
{
	PG_WRITE(st, pq_run(st, "UPDATE cutover.attempts SET output=$5,"
	    " output_total=$6 WHERE runbook=$1 AND run=$2 AND step=$3 AND n=$4",
	    "RItibI", run, step, n, out, len, total));
}

/*
 * The attempt's outcome and the step's new state in one statement: a step
 * being undone keeps its forward times and stays undone unless the undo
 * is over (store_step_effects); the columns' old values decide.
 */
static int
pg_attempt_finish(struct state *st, int64_t run, const char *step, int n,
    const char *astate, int exit_code, const char *message, const char *out,
    size_t len, int64_t total, enum step_state to)
{
	int64_t now = store_now_ms(st); /* a held outcome: when it was */
	struct step_effects fx;
	int opened = store_tx_enter(st), rc;

	if (opened < 0)
		return STATE_ERR;
	store_step_effects(to, &fx);
	rc = pq_defer(st, "WITH a AS (UPDATE cutover.attempts SET state=$5,"
	    " ended_at=$6, exit_code=$7, message=$8, output=$9,"
	    " output_total=$10 WHERE runbook=$1 AND run=$2 AND step=$3"
	    " AND n=$4)"
	    " UPDATE cutover.steps SET state=$11, note=$8,"
	    " ended_at=CASE WHEN undo=1 THEN ended_at ELSE $6::bigint END,"
	    " duration_ms=CASE WHEN undo=1 THEN duration_ms"
	    " ELSE $6::bigint - started_at END,"
	    " done_at=CASE WHEN undo=0 AND $12::int=1 THEN $6::bigint"
	    " ELSE done_at END,"
	    " undo=CASE WHEN undo=1 AND $13::int=1 THEN 0 ELSE undo END"
	    " WHERE runbook=$1 AND run=$2 AND id=$3", "RItitIitbItii", run,
	    step, n, astate, now, exit_code, message, out, len, total,
	    step_state_name(to), fx.done, fx.undo_over);
	if (rc == STATE_OK)
		rc = store_audit_attempt_end(st, run, step, n, astate, exit_code,
		    message, out, len, total, to);
	return store_tx_leave(st, opened, rc);
}

#define ATTEMPT_COLS "step, n, kind, state, started_at, ended_at, exit_code," \
	" message, host, pid, pgid, output, output_total, operator, token"

static void
attempt_row_fill(const PGresult *res, int i, struct attempt_row *a)
{
	char *kind = col_text(res, i, "kind");
	int64_t start = col_int(res, i, "started_at", -1);
	int64_t end = col_int(res, i, "ended_at", -1);
	unsigned char *out = NULL;
	size_t len = 0;
	int c = col_index(res, "output");

	a->step = col_text(res, i, "step");
	a->n = (int)col_int(res, i, "n", 0);
	a->kind = store_kind_parse(kind);
	free(kind);
	a->state = col_text(res, i, "state");
	a->started_at = store_time_text(start);
	a->ended_at = store_time_text(end);
	a->duration_ms = (start >= 0 && end >= 0) ? end - start : -1;
	a->exit_code = (int)col_int(res, i, "exit_code", -1);
	a->message = col_text(res, i, "message");
	a->host = col_text(res, i, "host");
	a->pid = col_int(res, i, "pid", 0);
	a->pgid = col_int(res, i, "pgid", 0);
	if (!PQgetisnull(res, i, c))
		out = PQunescapeBytea(
		    (const unsigned char *)PQgetvalue(res, i, c), &len);
	a->output_len = out != NULL ? len : 0;
	a->output = xmalloc(a->output_len + 1);
	if (a->output_len > 0)
		memcpy(a->output, out, a->output_len);
	a->output[a->output_len] = '\0';
	PQfreemem(out);
	a->output_total = col_int(res, i, "output_total", 0);
	a->operator = col_text(res, i, "operator");
	a->token = col_text(res, i, "token");
}

/* The rows of an attempts query (cleared here). */
static int
attempts_collect(struct state *st, PGresult *res, struct attempt_row **out,
    size_t *n)
{
	int i;

	(void)st;
	*out = NULL;
	*n = 0;
	if (res == NULL)
		return STATE_ERR;
	*n = (size_t)PQntuples(res);
	*out = xcalloc(*n ? *n : 1, sizeof **out);
	for (i = 0; i < PQntuples(res); i++)
		attempt_row_fill(res, i, &(*out)[i]);
	PQclear(res);
	if (*n == 0) {
		free(*out);
		*out = NULL;
	}
	return STATE_OK;
}

static int
pg_attempts_list(struct state *st, int64_t run, const char *step, int n,
    struct attempt_row **out, size_t *len)
{
	return attempts_collect(st, pq_query(st, "SELECT " ATTEMPT_COLS
	    " FROM cutover.attempts WHERE runbook=$1 AND run=$2 AND step=$3"
	    " AND ($4::int=0 OR n=$4::int) ORDER BY n", "RIti", run, step, n),
	    out, len);
}

static int
pg_attempts_running(struct state *st, int64_t run, struct attempt_row **out,
    size_t *len)
{
	return attempts_collect(st, pq_query(st, "SELECT " ATTEMPT_COLS
	    " FROM cutover.attempts WHERE runbook=$1 AND run=$2"
	    " AND state='running' ORDER BY started_at", "RI", run), out, len);
}

static int
pg_attempt_interrupt(struct state *st, int64_t run, const char *step, int n,
    const char *message)
{
	int opened = store_tx_enter(st), rc;

	if (opened < 0)
		return STATE_ERR;
	rc = pq_run(st, "UPDATE cutover.attempts SET state='interrupted',"
	    " message=$5 WHERE runbook=$1 AND run=$2 AND step=$3 AND n=$4",
	    "RItit", run, step, n, message);
	if (rc == STATE_OK)
		rc = state_audit(st, run, step, "attempt-interrupted",
		    "attempt %d: %s", n, message);
	return store_tx_leave(st, opened, rc);
}

/* Decisions. */

static int
pg_decision_add(struct state *st, int64_t run, const char *step,
    const char *decision, const char *reason, const char *evidence)
{
	int opened = store_tx_enter(st), rc;

	if (opened < 0)
		return STATE_ERR;
	rc = pq_run(st, "INSERT INTO cutover.decisions(runbook, run, step,"
	    " operator, os_user, decision, reason, at, evidence)"
	    " VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9)", "RItttttIt", run,
	    step, st->operator, st->os_user, decision, reason, state_now_ms(),
	    evidence);
	if (rc == STATE_OK)
		rc = state_audit(st, run, step, "decide", "%s: %s", decision,
		    reason != NULL ? reason : "");
	return store_tx_leave(st, opened, rc);
}

static int
pg_decision_count(struct state *st, int64_t run, const char *step, int *go,
    int *nogo, int *by_me)
{
	PGresult *res;

	res = pq_query(st, "SELECT"
	    " count(DISTINCT CASE WHEN decision='go' THEN"
	    "  coalesce(os_user, operator) END) AS go,"
	    " count(CASE WHEN decision='no-go' THEN 1 END) AS nogo,"
	    " count(CASE WHEN coalesce(os_user, operator)=$4 THEN 1 END)"
	    "  AS mine"
	    " FROM cutover.decisions WHERE runbook=$1 AND run=$2 AND step=$3"
	    " AND active=1", "RItt", run, step, st->os_user);
	if (res == NULL)
		return STATE_ERR;
	*go = (int)col_int(res, 0, "go", 0);
	*nogo = (int)col_int(res, 0, "nogo", 0);
	*by_me = (int)col_int(res, 0, "mine", 0);
	PQclear(res);
	return STATE_OK;
}

static int
pg_decision_reset(struct state *st, int64_t run, const char *step)
{
	PG_WRITE(st, pq_run(st, "UPDATE cutover.decisions SET active=0"
	    " WHERE runbook=$1 AND run=$2 AND step=$3", "RIt", run, step));
}

static int
pg_decision_void(struct state *st, int64_t run, const char *step,
    const char *sha, int *n)
{
	int64_t k = 0;
	int rc = pq_run_n(st, &k, "UPDATE cutover.decisions SET active=0"
	    " WHERE runbook=$1 AND run=$2 AND step=$3 AND active=1"
	    " AND decision='go' AND evidence IS NOT NULL AND evidence<>$4",
	    "RItt", run, step, sha);

	*n = rc == STATE_OK ? (int)k : 0;
	return rc;
}

static int
pg_run_set_selection(struct state *st, int64_t run, const char *sel)
{
	PG_WRITE(st, pq_run(st, "UPDATE cutover.runs SET selection=$2"
	    " WHERE runbook=$1 AND id=$3", "RtI", sel, run));
}

static int
pg_entity_exclude(struct state *st, int64_t run, const char *entity,
    const char *reason)
{
	int64_t k = 0;
	int rc = pq_run_n(st, &k, "INSERT INTO cutover.entities(runbook, run,"
	    " entity, state, reason, at, operator, os_user)"
	    " VALUES($1, $2, $3, 'excluded', $4, $5, $6, $7)"
	    " ON CONFLICT DO NOTHING", "RIttItt", run, entity, reason,
	    state_now_ms(), st->operator, st->os_user);

	return rc == STATE_OK && k == 0 ? STATE_CONFLICT : rc;
}

static int
pg_entities_load(struct state *st, int64_t run, struct entity_row **out,
    size_t *n)
{
	PGresult *res;
	int i;

	res = pq_query(st, "SELECT entity, state, reason, at, operator"
	    " FROM cutover.entities WHERE runbook=$1 AND run=$2"
	    " ORDER BY at, entity", "RI", run);
	if (res == NULL)
		return STATE_ERR;
	*n = (size_t)PQntuples(res);
	*out = *n > 0 ? xcalloc(*n, sizeof **out) : NULL;
	for (i = 0; i < PQntuples(res); i++) {
		(*out)[i].entity = col_text(res, i, "entity");
		(*out)[i].state = col_text(res, i, "state");
		(*out)[i].reason = col_text(res, i, "reason");
		(*out)[i].at_ms = col_int(res, i, "at", 0);
		(*out)[i].at = store_time_text((*out)[i].at_ms);
		(*out)[i].operator = col_text(res, i, "operator");
	}
	PQclear(res);
	return STATE_OK;
}

/* The decisions at a step, oldest first. */
static int
pg_decision_list(struct state *st, int64_t run, const char *step,
    struct decision_row **out, size_t *n)
{
	PGresult *res;
	int i;

	res = pq_query(st, "SELECT operator, decision, reason, at, active,"
	    " evidence FROM cutover.decisions WHERE runbook=$1 AND run=$2"
	    " AND step=$3"
	    " ORDER BY id", "RIt", run, step);
	if (res == NULL)
		return STATE_ERR;
	*n = (size_t)PQntuples(res);
	*out = *n > 0 ? xcalloc(*n, sizeof **out) : NULL;
	for (i = 0; i < PQntuples(res); i++) {
		(*out)[i].operator = col_text(res, i, "operator");
		(*out)[i].decision = col_text(res, i, "decision");
		(*out)[i].reason = col_text(res, i, "reason");
		(*out)[i].at_ms = col_int(res, i, "at", 0);
		(*out)[i].active = (int)col_int(res, i, "active", 1);
		(*out)[i].evidence = col_text(res, i, "evidence");
	}
	PQclear(res);
	return STATE_OK;
}

/* Lease. */

/*
 * The lease row of a run. Its heartbeat is given on this machine's clock
 * but measured on the server's: now less the row's age by the server, so
 * that state.c's staleness rule holds across machines whose clocks differ.
 * Inside a transaction the row stays locked until it ends.
 */
static int
pg_lease_read(struct state *st, int64_t run, struct lease_holder *h)
{
	PGresult *res;
	int rc;

	memset(h, 0, sizeof *h);
	res = pq_query(st, st->in_tx
	        ? "SELECT pid, host, operator, (extract(epoch FROM"
	          " clock_timestamp() - renewed_at) * 1000)::bigint AS age"
	          " FROM cutover.lease WHERE runbook=$1 AND run=$2 FOR UPDATE"
	        : "SELECT pid, host, operator, (extract(epoch FROM"
	          " clock_timestamp() - renewed_at) * 1000)::bigint AS age"
	          " FROM cutover.lease WHERE runbook=$1 AND run=$2",
	    "RI", run);
	if (res == NULL)
		return STATE_ERR;
	rc = PQntuples(res) == 1 ? STATE_OK : STATE_NOTFOUND;
	if (rc == STATE_OK) {
		h->pid = col_int(res, 0, "pid", 0);
		h->host = col_text(res, 0, "host");
		h->operator = col_text(res, 0, "operator");
		h->heartbeat_ms = state_now_ms() - col_int(res, 0, "age", 0);
	}
	PQclear(res);
	return rc;
}

/* Take the run's lease for this driver with a new fencing token (from a
 * sequence: tokens are never given twice), and remember the token. */
static int
pg_lease_write(struct state *st, int64_t run, const char *host, int64_t pid)
{
	PGresult *res;

	res = pq_query(
	    st,
	    "INSERT INTO cutover.lease(runbook, run, pid, host,"
	    " operator, started_at, renewed_at, token)"
	    " VALUES($1, $2, $3, $4, $5, clock_timestamp(), clock_timestamp(),"
	    " nextval('cutover.lease_token'))"
	    " ON CONFLICT(runbook, run) DO UPDATE SET pid=excluded.pid,"
	    " host=excluded.host, operator=excluded.operator,"
	    " started_at=excluded.started_at, renewed_at=excluded.renewed_at,"
	    " token=excluded.token RETURNING token",
	    "RIItt", run, pid, host, st->operator);
	if (res == NULL)
		return STATE_ERR;
	st->store->lease_run = run;
	st->store->token = col_int(res, 0, "token", 0);
	st->store->fenced = st->store->fence_ok = 0;
	PQclear(res);
	return STATE_OK;
}

/* The condition that matches this handle's lease row ($1 runbook, $2 run,
 * $3 token, $4 pid, $5 host): by token once one was taken. */
#define MY_LEASE "runbook=$1 AND run=$2 AND CASE WHEN $3::bigint > 0" \
	" THEN token=$3::bigint ELSE pid=$4::bigint AND host=$5 END"

static int
pg_lease_heartbeat(struct state *st, int64_t run)
{
	int64_t n = 0;
	int opened = store_tx_enter(st), rc;

	if (opened < 0)
		return STATE_ERR;
	rc = pq_run_n(st, &n, "UPDATE cutover.lease SET renewed_at="
	    "clock_timestamp() WHERE " MY_LEASE, "RIIIt", run, st->store->token,
	    (int64_t)getpid(), st->host);
	if (rc == STATE_OK && n == 0)
		rc = STATE_CONFLICT;
	return store_tx_leave(st, opened, rc);
}

static int
pg_lease_check(struct state *st, int64_t run)
{
	PGresult *res;
	int rc;

	if (st->store->token != 0 && st->store->lease_run == run)
		return pg_fence(st);
	res = pq_query(st, "SELECT 1 FROM cutover.lease WHERE " MY_LEASE,
	    "RIIIt", run, (int64_t)0, (int64_t)getpid(), st->host);
	if (res == NULL)
		return STATE_ERR;
	rc = PQntuples(res) > 0 ? STATE_OK : STATE_CONFLICT;
	PQclear(res);
	return rc;
}

static int
pg_lease_release(struct state *st, int64_t run)
{
	int opened = store_tx_enter(st), rc;

	if (opened < 0)
		return STATE_ERR;
	rc = pq_run(st, "DELETE FROM cutover.lease WHERE " MY_LEASE, "RIIIt",
	    run, st->store->token, (int64_t)getpid(), st->host);
	/* Gone by its token: nothing left to fence (a fenced handle, which
	 * deleted nothing, stays fenced). */
	if (rc == STATE_OK && st->store->lease_run == run && !st->store->fenced)
		st->store->token = st->store->lease_run = 0;
	return store_tx_leave(st, opened, rc);
}

/* Audit trail: one chain per runbook. */

/* The id and hash of the runbook's newest entry: 0 and NULL if none. The
 * caller holds the runbook's write lock (a transaction is open). */
static int
pg_audit_last(struct state *st, int64_t *id, char **hash, char **at)
{
	PGresult *res;

	*id = 0;
	*hash = NULL;
	*at = NULL;
	if (st->store->tx && st->store->last_ok) {
		/* read at BEGIN, under the runbook's lock: still the newest */
		*id = st->store->last_id;
		*hash = st->store->last_hash ? xstrdup(st->store->last_hash) : NULL;
		*at = st->store->last_at ? xstrdup(st->store->last_at) : NULL;
		return STATE_OK;
	}
	res = pq_query(st, "SELECT id, hash, at FROM cutover.audit WHERE"
	    " runbook=$1 ORDER BY id DESC LIMIT 1", "R");
	if (res == NULL)
		return STATE_ERR;
	if (PQntuples(res) == 1) {
		*id = col_int(res, 0, "id", 0);
		*hash = col_text(res, 0, "hash");
		*at = col_text(res, 0, "at");
	}
	PQclear(res);
	return STATE_OK;
}

static int
pg_audit_append(struct state *st, const struct audit_row *a)
{
	struct store *s = st->store;
	int rc = pq_defer(st,
	              "INSERT INTO cutover.audit(runbook, id, at, run, step,"
	              " operator, os_user, action, details, prev, hash)"
	              " VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
	              "RItIttttttt", a->id, a->at, a->run, a->step, a->operator,
	              a->os_user, a->action, a->details, a->prev, a->hash);

	if (rc == STATE_OK && s->tx && s->last_ok) { /* the newest now */
		s->last_id = a->id;
		free(s->last_hash);
		free(s->last_at);
		s->last_hash = xstrdup(a->hash);
		s->last_at = xstrdup(a->at);
	}
	return rc;
}

static void
audit_row_fill(const PGresult *res, int i, struct audit_row *a)
{
	a->id = col_int(res, i, "id", 0);
	a->at = col_text(res, i, "at");
	a->run = col_int(res, i, "run", 0);
	a->step = col_text(res, i, "step");
	a->operator = col_text(res, i, "operator");
	a->os_user = col_text(res, i, "os_user");
	a->action = col_text(res, i, "action");
	a->details = col_text(res, i, "details");
	a->prev = col_text(res, i, "prev");
	a->hash = col_text(res, i, "hash");
}

static void
audit_row_clear(struct audit_row *a)
{
	free(a->at);
	free(a->step);
	free(a->operator);
	free(a->os_user);
	free(a->action);
	free(a->details);
	free(a->prev);
	free(a->hash);
}

static int
pg_audit_each(struct state *st, int64_t run,
    int (*fn)(const struct audit_row *, void *), void *arg)
{
	struct audit_row a;
	PGresult *res;
	int i, stop = 0;

	if (pg_need_runbook(st) != STATE_OK)
		return STATE_ERR;
	res =
	    pq_query(st,
	             "SELECT id, at, run, step, operator, os_user, action,"
	             " details, prev, hash FROM cutover.audit WHERE runbook=$1"
	             " AND ($2::bigint <= 0 OR run=$2::bigint) ORDER BY id",
	             "RI", run);
	if (res == NULL)
		return STATE_ERR;
	for (i = 0; !stop && i < PQntuples(res); i++) {
		audit_row_fill(res, i, &a);
		stop = fn(&a, arg);
		audit_row_clear(&a);
	}
	PQclear(res);
	return STATE_OK;
}

/* One reconcile difference, inside the caller's transaction (store.h). */
static int
pg_diff_add(struct state *st, int64_t run, const char *step,
    const char *token, const struct diff_row *d)
{
	return pq_run(st, "INSERT INTO cutover.diffs(runbook, run, step,"
	    " token, seq, kind, key, source, dest, columns) VALUES($1,"
	    "$2,$3,$4,$5,$6,$7,$8,$9,$10)", "RIttIttttt", run, step, token,
	    d->seq, d->kind, d->key, d->source, d->dest, d->columns);
}

#define PG_DIFFS_PAGE 10000

/* A page at a time, so that memory stays bounded. */
static int
pg_diffs_each(struct state *st, int64_t run, const char *step,
    const char *token, int (*fn)(const struct diff_row *, void *), void *arg)
{
	struct diff_row d;
	PGresult *res;
	int64_t after = -1;
	int i, n, stop = 0;

	if (pg_need_runbook(st) != STATE_OK)
		return STATE_ERR;
	do {
		res = pq_query(st, "SELECT seq, kind, key, source, dest, columns"
		    " FROM cutover.diffs WHERE runbook=$1 AND run=$2 AND step=$3"
		    " AND token=$4 AND seq > $5 ORDER BY seq LIMIT 10000",
		    "RIttI", run, step, token, after);
		if (res == NULL)
			return STATE_ERR;
		n = PQntuples(res);
		for (i = 0; !stop && i < n; i++) {
			d.seq = strtoll(PQgetvalue(res, i, 0), NULL, 10);
			d.kind = PQgetvalue(res, i, 1);
			d.key = PQgetvalue(res, i, 2);
			d.source = PQgetisnull(res, i, 3) ? NULL :
			    PQgetvalue(res, i, 3);
			d.dest = PQgetisnull(res, i, 4) ? NULL :
			    PQgetvalue(res, i, 4);
			d.columns = PQgetisnull(res, i, 5) ? NULL :
			    PQgetvalue(res, i, 5);
			after = d.seq;
			stop = fn(&d, arg);
		}
		PQclear(res);
	} while (!stop && n == PG_DIFFS_PAGE);
	return STATE_OK;
}

/* Copying. */

/* Index of a table rows are copied between stores, or -1. */
static int
copy_table(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof copy_tables / sizeof copy_tables[0]; i++)
		if (strcmp(copy_tables[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* One row of a result as a state_row: the runbook column only for runs
 * (table 0), never a decision's (table 3) own id. */
static void
copy_row_fill(const PGresult *res, int i, int t, struct state_row *r)
{
	const char *name;
	size_t len;
	int c;

	memset(r, 0, sizeof *r);
	for (c = 0; c < PQnfields(res) && r->n < STATE_ROW_MAX; c++) {
		name = PQfname(res, c);
		if ((t != 0 && strcmp(name, "runbook") == 0) ||
		    (t == 3 && strcmp(name, "id") == 0))
			continue;
		r->name[r->n] = xstrdup(name);
		if (PQgetisnull(res, i, c))
			r->value[r->n] = NULL;
		else if (PQftype(res, c) == PG_BYTEA_OID) {
			unsigned char *b = PQunescapeBytea(
			    (const unsigned char *)PQgetvalue(res, i, c), &len);

			r->value[r->n] = xmalloc(len + 1);
			memcpy(r->value[r->n], b, len);
			r->value[r->n][len] = '\0';
			r->len[r->n] = len;
			r->blob[r->n] = 1;
			PQfreemem(b);
		} else {
			r->value[r->n] = xstrdup(PQgetvalue(res, i, c));
			r->len[r->n] = strlen(r->value[r->n]);
		}
		r->n++;
	}
}

static void
copy_row_clear(struct state_row *r)
{
	int i;

	for (i = 0; i < r->n; i++) {
		free(r->name[i]);
		free(r->value[i]);
	}
}

static int
pg_rows_each(struct state *st, const char *table, int64_t run,
    int (*fn)(const struct state_row *, void *), void *arg)
{
	struct state_row r;
	PGresult *res;
	char *sql;
	int t = copy_table(table), i, stop = 0;

	if (t < 0 || pg_need_runbook(st) != STATE_OK)
		return t < 0 ? store_fail(st, "no table %s", table) : STATE_ERR;
	sql = xprintf("SELECT * FROM cutover.%s WHERE runbook=$1 AND %s=$2"
	    " ORDER BY %s", copy_tables[t].name, copy_tables[t].run_col,
	    copy_tables[t].order);
	res = pq_query(st, sql, "RI", run);
	free(sql);
	if (res == NULL)
		return STATE_ERR;
	for (i = 0; !stop && i < PQntuples(res); i++) {
		copy_row_fill(res, i, t, &r);
		stop = fn(&r, arg);
		copy_row_clear(&r);
	}
	PQclear(res);
	return STATE_OK;
}

/* INSERT text of a copied row: its columns but runbook (the handle's) and
 * its own id for runs (the next of the runbook) and decisions. */
static char *
copy_insert_sql(struct state *st, int t, const struct state_row *r, int *map)
{
	char *cols = xstrdup("runbook"), *vals = xstrdup("$1"), *more, *q;
	int i, n = 1;

	if (t == 0) {
		more = xprintf("%s, id", cols);
		free(cols);
		cols = more;
		more = xprintf("%s, (SELECT coalesce(max(id), 0) + 1 FROM"
		    " cutover.runs WHERE runbook=$1)", vals);
		free(vals);
		vals = more;
	}
	for (i = 0; i < r->n; i++) {
		map[i] = -1;
		if (strcmp(r->name[i], "runbook") == 0 ||
		    (strcmp(r->name[i], "id") == 0 && (t == 0 || t == 3)))
			continue;
		q = PQescapeIdentifier(st->store->conn, r->name[i],
		    strlen(r->name[i]));
		more = xprintf("%s, %s", cols, q);
		PQfreemem(q);
		free(cols);
		cols = more;
		map[i] = ++n;
		more = xprintf("%s, $%d", vals, map[i]);
		free(vals);
		vals = more;
	}
	more = xprintf("INSERT INTO cutover.%s(%s) VALUES(%s)%s",
	    copy_tables[t].name, cols, vals, t == 0 ? " RETURNING id" : "");
	free(cols);
	free(vals);
	return more;
}

static int
pg_row_put(struct state *st, const char *table, const struct state_row *r,
    int64_t *id)
{
	const char *v[STATE_ROW_MAX + 1];
	int len[STATE_ROW_MAX + 1], bin[STATE_ROW_MAX + 1], map[STATE_ROW_MAX];
	int t = copy_table(table), i, n = 1, opened;
	PGresult *res;
	char *sql;

	if (t < 0 || pg_need_runbook(st) != STATE_OK)
		return t < 0 ? store_fail(st, "no table %s", table) : STATE_ERR;
	if ((opened = store_tx_enter(st)) < 0)
		return STATE_ERR;
	sql = copy_insert_sql(st, t, r, map);
	v[0] = st->runbook;
	len[0] = bin[0] = 0;
	for (i = 0; i < r->n; i++) {
		if (map[i] < 0)
			continue;
		v[n] = r->value[i];
		len[n] = (int)r->len[i];
		bin[n++] = r->blob[i];
	}
	res = PQexecParams(st->store->conn, sql, n, NULL, v, len, bin, 0);
	free(sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK &&
	    PQresultStatus(res) != PGRES_TUPLES_OK) {
		pq_fail_res(st, "copy", res);
		PQclear(res);
		return store_tx_leave(st, opened, STATE_ERR);
	}
	if (t == 0 && id != NULL)
		*id = col_int(res, 0, "id", 0);
	PQclear(res);
	return store_tx_leave(st, opened, STATE_OK);
}

/* The outbox. */

static int
pg_outbox_add(struct state *st, const struct outbox_row *r)
{
	return pq_run(st, "INSERT INTO cutover.outbox(runbook, event, run,"
	    " sink, type, step, entity, state, operator, message, at)"
	    " VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
	    "RtItttttttI", r->event, r->run, r->sink, r->type, r->step,
	    r->entity, r->state, r->operator, r->message, r->at_ms);
}

/* Undelivered rows of the runbook due at now, oldest first. */
static int
pg_outbox_due(struct state *st, int64_t now, size_t max,
    struct outbox_row **out, size_t *n)
{
	struct outbox_row *r;
	PGresult *res;
	int i;

	res = pq_query(st, "SELECT id, runbook, event, run, sink, type, step,"
	    " entity, state, operator, message, at, tries, fails, next_at"
	    " FROM cutover.outbox WHERE runbook=$1 AND sent_at IS NULL"
	    " AND next_at<=$2 ORDER BY id LIMIT $3", "RII", now,
	    (int64_t)max);
	if (res == NULL)
		return STATE_ERR;
	*n = (size_t)PQntuples(res);
	*out = *n > 0 ? xcalloc(*n, sizeof **out) : NULL;
	for (i = 0; i < PQntuples(res); i++) {
		r = &(*out)[i];
		r->id = col_int(res, i, "id", 0);
		r->runbook = col_text(res, i, "runbook");
		r->event = col_text(res, i, "event");
		r->run = col_int(res, i, "run", 0);
		r->sink = col_text(res, i, "sink");
		r->type = col_text(res, i, "type");
		r->step = col_text(res, i, "step");
		r->entity = col_text(res, i, "entity");
		r->state = col_text(res, i, "state");
		r->operator = col_text(res, i, "operator");
		r->message = col_text(res, i, "message");
		r->at_ms = col_int(res, i, "at", 0);
		r->tries = (int)col_int(res, i, "tries", 0);
		r->fails = (int)col_int(res, i, "fails", 0);
		r->next_ms = col_int(res, i, "next_at", 0);
	}
	PQclear(res);
	return STATE_OK;
}

static int
pg_outbox_mark(struct state *st, int64_t id, int ok, const char *error,
    int64_t next_ms)
{
	int64_t now = state_now_ms();

	if (ok)
		return pq_run(st, "UPDATE cutover.outbox SET tries=tries+1,"
		    " sent_at=$1 WHERE id=$2", "II", now, id);
	return pq_run(st, "UPDATE cutover.outbox SET tries=tries+1,"
	    " fails=fails+1, error=$1, error_at=$2, next_at=$3 WHERE id=$4",
	    "tIII", error, now, next_ms, id);
}

static int
pg_outbox_stats(struct state *st, int64_t run, struct outbox_stats *o)
{
	PGresult *res;

	res = pq_query(st, "SELECT count(CASE WHEN sent_at IS NULL THEN 1"
	    " END) AS pending, count(CASE WHEN sent_at IS NULL AND tries>0"
	    " THEN 1 END) AS failing, coalesce(sum(fails), 0) AS failures,"
	    " count(sent_at) AS delivered, (SELECT sink || ': ' || error"
	    " FROM cutover.outbox WHERE runbook=$1 AND error IS NOT NULL"
	    " AND ($2::bigint<=0 OR run=$2::bigint)"
	    " ORDER BY error_at DESC, id DESC LIMIT 1) AS last_error,"
	    " max(error_at) AS last_error_at FROM cutover.outbox"
	    " WHERE runbook=$1 AND ($2::bigint<=0 OR run=$2::bigint)",
	    "RI", run);
	if (res == NULL)
		return STATE_ERR;
	o->pending = col_int(res, 0, "pending", 0);
	o->failing = col_int(res, 0, "failing", 0);
	o->failures = col_int(res, 0, "failures", 0);
	o->delivered = col_int(res, 0, "delivered", 0);
	o->last_error = col_text(res, 0, "last_error");
	o->last_error_ms = col_int(res, 0, "last_error_at", -1);
	PQclear(res);
	return STATE_OK;
}

const struct store_ops store_pg = {
	.name = "postgresql",
	.open = pg_open,
	.close = pg_close,
	.changed = pg_changed,
	.wait = pg_wait,
	.set_durable = pg_set_durable,
	.begin = pg_begin,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.run_latest = pg_run_latest,
	.run_get = pg_run_get,
	.run_list = pg_run_list,
	.run_create = pg_run_create,
	.run_set_state = pg_run_set_state,
	.run_set_runbook = pg_run_set_runbook,
	.run_rollback_to = pg_run_rollback_to,
	.steps_load = pg_steps_load,
	.step_get = pg_step_get,
	.step_insert = pg_step_insert,
	.step_delete = pg_step_delete,
	.step_update_def = pg_step_update_def,
	.step_set_undo = pg_step_set_undo,
	.step_transition = pg_step_transition,
	.step_set_result = pg_step_set_result,
	.diff_add = pg_diff_add,
	.diffs_each = pg_diffs_each,
	.attempt_begin = pg_attempt_begin,
	.attempt_set_pid = pg_attempt_set_pid,
	.attempt_output = pg_attempt_output,
	.attempt_finish = pg_attempt_finish,
	.attempts_list = pg_attempts_list,
	.attempts_running = pg_attempts_running,
	.attempt_interrupt = pg_attempt_interrupt,
	.decision_add = pg_decision_add,
	.decision_count = pg_decision_count,
	.decision_reset = pg_decision_reset,
	.decision_void = pg_decision_void,
	.entity_exclude = pg_entity_exclude,
	.entities_load = pg_entities_load,
	.run_set_selection = pg_run_set_selection,
	.decision_list = pg_decision_list,
	.lease_read = pg_lease_read,
	.lease_write = pg_lease_write,
	.lease_heartbeat = pg_lease_heartbeat,
	.lease_check = pg_lease_check,
	.lease_release = pg_lease_release,
	.audit_last = pg_audit_last,
	.audit_append = pg_audit_append,
	.audit_each = pg_audit_each,
	.rows_each = pg_rows_each,
	.row_put = pg_row_put,
	.watch_fd = pg_watch_fd,
	.notified = pg_notified,
	.unreachable = pg_unreachable,
	.reconnect = pg_reconnect_now,
	.reconnect_fd = pg_reconnect_fd,
	.outbox_add = pg_outbox_add,
	.outbox_due = pg_outbox_due,
	.outbox_mark = pg_outbox_mark,
	.outbox_stats = pg_outbox_stats,
};
