/*
 * test-state-pg.c - the PostgreSQL store through two handles at once:
 * fencing of a handle whose lease was taken over, liveness by the server's
 * clock, one audit chain per runbook, NOTIFY on commit (state_wait),
 * writes sent with the COMMIT, and connecting again after a server
 * restart.
 *
 * It needs a server: tests/scenario/state-pg.sh starts one and runs this
 * with PG_CONNINFO set; without it, it fails rather than pass untested.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "state.h"
#include "state-diffs.h"

static char *path;   /* pg:CONNINFO */
static PGconn *conn; /* for what a person would do by hand in psql */

/* A handle on runbook rb, acting as operator. */
static struct state *
handle(const char *rb, const char *operator)
{
	struct state *st = NULL;
	char *err = NULL;

	if (state_open(path, 1, &st, &err) != STATE_OK)
		fail_msg("open: %s", err);
	state_set_runbook(st, rb);
	state_set_actor(st, operator, "ops");
	return st;
}

/* The one value of a query run by hand. */
static long long
sql_value(const char *sql)
{
	PGresult *res = PQexec(conn, sql);
	long long v;

	if (PQresultStatus(res) != PGRES_TUPLES_OK &&
	    PQresultStatus(res) != PGRES_COMMAND_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(conn));
	v = PQntuples(res) > 0 ? strtoll(PQgetvalue(res, 0, 0), NULL, 10) : 0;
	PQclear(res);
	return v;
}

static int64_t
new_run(struct state *st, const char *rb)
{
	int64_t id;

	assert_int_equal(state_run_create(st, rb, "rehearsal", "text", "sha",
	    &id), STATE_OK);
	assert_int_equal(state_step_insert(st, id, "a", 0, "d1"), STATE_OK);
	assert_int_equal(state_step_insert(st, id, "b", 1, "d2"), STATE_OK);
	return id;
}

/* A handle whose lease was taken over commits nothing: not a transition,
 * not an audit entry, not an explicit transaction, not a heartbeat. */
static void
test_fenced(void **unused)
{
	struct state *a = handle("fence", "alice"), *b = handle("fence", "bob");
	struct lease_holder h;
	struct step_row r;
	int64_t run, bad;
	long long entries;
	char *why = NULL;
	int took;

	(void)unused;
	run = new_run(a, "fence");
	assert_int_equal(state_lease_acquire(a, run, "host-a", 1111, &h, &took),
	    STATE_OK);
	assert_int_equal(state_step_transition(a, run, "a", ST_BIT(ST_PENDING),
	    ST_SKIPPED, "by a", "skip", NULL), STATE_OK);
	/* Fresh: bob is refused, and told who drives. */
	assert_int_equal(state_lease_acquire(b, run, "host-b", 2222, &h, &took),
	    STATE_CONFLICT);
	assert_string_equal(h.host, "host-a");
	lease_holder_free(&h);
	/* A's laptop lid is shut: its lease runs out on the server's clock. */
	sql_value("UPDATE cutover.lease SET renewed_at = now() - interval"
	    " '1 hour' WHERE runbook='fence'");
	assert_int_equal(state_lease_acquire(b, run, "host-b", 2222, &h, &took),
	    STATE_OK);
	assert_int_equal(took, 1);
	entries = sql_value("SELECT count(*) FROM cutover.audit"
	    " WHERE runbook='fence'");

	assert_int_equal(state_step_transition(a, run, "b", ST_BIT(ST_PENDING),
	    ST_SKIPPED, "by a", "skip", NULL), STATE_CONFLICT);
	assert_string_equal(state_error(a),
	    "fenced: another driver (host-b, pid 2222) took over run 1");
	assert_int_equal(state_audit(a, run, NULL, "note", "late"),
	    STATE_CONFLICT);
	assert_int_equal(state_begin(a), STATE_OK);
	assert_int_equal(state_step_insert(a, run, "c", 2, "d3"), STATE_OK);
	assert_int_equal(state_commit(a), STATE_CONFLICT);
	assert_int_equal(state_lease_check(a, run), STATE_CONFLICT);
	assert_int_equal(state_lease_heartbeat(a, run), STATE_CONFLICT);
	assert_int_equal(state_lease_release(a, run), STATE_CONFLICT);

	assert_int_equal(state_step_get(b, run, "b", &r), STATE_OK);
	assert_int_equal(r.state, ST_PENDING);
	step_row_free(&r);
	assert_int_equal(state_step_get(b, run, "c", &r), STATE_NOTFOUND);
	assert_int_equal(sql_value("SELECT count(*) FROM cutover.audit"
	    " WHERE runbook='fence'"), entries);
	assert_int_equal(state_lease_check(b, run), STATE_OK);
	assert_int_equal(state_step_transition(b, run, "b", ST_BIT(ST_PENDING),
	    ST_SKIPPED, "by b", "skip", NULL), STATE_OK);
	assert_int_equal(state_audit_verify(b, &bad, &why), 0);
	state_close(a);
	state_close(b);
}

/* Alive by the server's clock: a fresh holder on another host is alive
 * whatever its pid; the pid rule is for holders on this host only. */
static void
test_liveness(void **unused)
{
	struct state *a = handle("live", "alice");
	struct lease_holder h;
	int64_t run;
	int took;

	(void)unused;
	run = new_run(a, "live");
	assert_int_equal(state_lease_acquire(a, run, "elsewhere", 999999, &h,
	    &took), STATE_OK);
	assert_int_equal(state_lease_get(a, run, &h), STATE_OK);
	assert_string_equal(h.host, "elsewhere");
	lease_holder_free(&h);
	sql_value("UPDATE cutover.lease SET renewed_at = now() - interval"
	    " '29 seconds' WHERE runbook='live'");
	assert_int_equal(state_lease_get(a, run, &h), STATE_OK);
	lease_holder_free(&h);
	sql_value("UPDATE cutover.lease SET renewed_at = now() - interval"
	    " '31 seconds' WHERE runbook='live'");
	assert_int_equal(state_lease_get(a, run, &h), STATE_NOTFOUND);
	state_close(a);
}

/* Runbooks of one database number their runs and chain their audit
 * entries each on their own. */
/* Decisions are listed oldest first, each with who, what, why, when, and
 * those a reset set aside stay listed; another runbook's are not. */
static void
test_decision_list(void **unused)
{
	struct state *a = handle("dec", "alice"), *b = handle("dec", "bob");
	struct state *o = handle("dec-other", "carol");
	struct decision_row *d;
	int64_t run;
	size_t n;

	(void)unused;
	run = new_run(a, "dec");
	new_run(o, "dec-other");
	assert_int_equal(state_decision_add(o, run, "b", "go", "other", NULL),
	    STATE_OK);
	assert_int_equal(state_decision_add(a, run, "b", "go", "fine", NULL),
	    STATE_OK);
	assert_int_equal(state_decision_add(b, run, "b", "no-go", NULL, NULL),
	    STATE_OK);
	assert_int_equal(state_decision_list(b, run, "b", &d, &n), STATE_OK);
	assert_int_equal(n, 2);
	assert_string_equal(d[0].operator, "alice");
	assert_string_equal(d[0].decision, "go");
	assert_string_equal(d[0].reason, "fine");
	assert_true(d[0].at_ms > 0 && d[0].active);
	assert_string_equal(d[1].decision, "no-go");
	assert_null(d[1].reason);
	decision_rows_free(d, n);
	assert_int_equal(state_decision_reset(a, run, "b"), STATE_OK);
	assert_int_equal(state_decision_list(a, run, "b", &d, &n), STATE_OK);
	assert_int_equal(n, 2);
	assert_false(d[0].active || d[1].active);
	decision_rows_free(d, n);
	state_close(a);
	state_close(b);
	state_close(o);
}

static void
test_runbooks(void **unused)
{
	struct state *x = handle("rb-x", "alice"), *y = handle("rb-y", "bob");
	struct run_info *v;
	size_t n;
	int64_t bad;
	char *why = NULL;

	(void)unused;
	assert_int_equal(new_run(x, "rb-x"), 1);
	assert_int_equal(new_run(y, "rb-y"), 1);
	assert_int_equal(new_run(x, "rb-x"), 2);
	assert_int_equal(state_run_list(y, &v, &n), STATE_OK);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].runbook, "rb-y");
	run_info_free_list(v, n);
	assert_int_equal(sql_value("SELECT max(id) FROM cutover.audit"
	    " WHERE runbook='rb-y'"), 1);
	assert_int_equal(state_audit_verify(x, &bad, &why), 0);
	assert_int_equal(state_audit_verify(y, &bad, &why), 0);
	state_close(x);
	state_close(y);
}

/* Every commit notifies: a waiting handle wakes at once, not at its
 * timeout, and its own commits do not wake it. */
static void
test_wait(void **unused)
{
	struct state *a = handle("notify", "alice"),
	             *b = handle("notify", "bob");
	int64_t run, t;
	pid_t pid_any;
	int status;

	(void)unused;
	run = new_run(a, "notify");
	assert_int_equal(state_wait(b, 100), 1); /* before b looked */
	assert_int_equal(state_changed(b), 1);
	assert_int_equal(state_wait(b, 100), 0);
	assert_int_equal(state_step_insert(b, run, "own", 5, "d"), STATE_OK);
	assert_int_equal(state_wait(b, 100), 0);
	if ((pid_any = fork()) == 0) {
		usleep(200000);
		_exit(state_step_insert(a, run, "c", 2, "d3") == STATE_OK ? 0
		                                                          : 1);
	}
	t = state_now_ms();
	assert_int_equal(state_wait(b, 5000), 1);
	t = state_now_ms() - t;
	assert_true(t >= 150 && t < 2000);
	assert_int_equal(state_changed(b), 1);
	assert_int_equal(wait(&status), pid_any);
	state_close(a);
	state_close(b);
}

/* Writes sent with the COMMIT (the audit entry, a new step) fail the
 * commit when one fails, and nothing of the transaction is kept; quotes,
 * backslashes and dollar signs in their values arrive as given. */
static void
test_deferred(void **unused)
{
	struct state *a = handle("defer", "alice");
	const char *odd = "it's \\ $1 $2 '' ; -- done";
	struct step_row r;
	int64_t run, bad, entries;
	char *why = NULL;

	(void)unused;
	run = new_run(a, "defer");
	entries = sql_value("SELECT count(*) FROM cutover.audit"
	    " WHERE runbook='defer'");
	assert_int_equal(state_begin(a), STATE_OK);
	assert_int_equal(state_step_insert(a, run, "c", 2, "d3"), STATE_OK);
	assert_int_equal(state_audit(a, run, "c", "note", "%s", odd), STATE_OK);
	assert_int_equal(state_step_insert(a, run, "a", 3, "again"), STATE_OK);
	assert_int_not_equal(state_commit(a), STATE_OK);
	assert_int_equal(state_step_get(a, run, "c", &r), STATE_NOTFOUND);
	assert_int_equal(sql_value("SELECT count(*) FROM cutover.audit"
	    " WHERE runbook='defer'"), entries);

	assert_int_equal(state_step_transition(a, run, "a", ST_BIT(ST_PENDING),
	    ST_SKIPPED, odd, "skip", odd), STATE_OK);
	assert_int_equal(state_step_get(a, run, "a", &r), STATE_OK);
	assert_string_equal(r.note, odd);
	step_row_free(&r);
	assert_int_equal(sql_value("SELECT count(*) FROM cutover.audit"
	    " WHERE runbook='defer' AND details LIKE '%$1 $2%'"), 1);
	assert_int_equal(state_audit_verify(a, &bad, &why), 0);
	state_close(a);
}

/* A server restart between transactions: the handle connects again and
 * goes on, its lease and fencing token still its own. */
static void
test_reconnect(void **unused)
{
	struct state *a = handle("restart", "alice");
	struct lease_holder h;
	struct run_info r;
	int64_t run;
	int took;

	(void)unused;
	run = new_run(a, "restart");
	assert_int_equal(state_lease_acquire(a, run, "host-a", 1, &h, &took),
	    STATE_OK);
	assert_int_equal(system(getenv("PG_RESTART")), 0);
	assert_int_equal(state_run_get(a, run, &r), STATE_OK);
	run_info_free(&r);
	assert_int_equal(system(getenv("PG_RESTART")), 0);
	assert_int_equal(state_step_transition(a, run, "a", ST_BIT(ST_PENDING),
	    ST_SKIPPED, "after a restart", "skip", NULL), STATE_OK);
	assert_int_equal(state_lease_check(a, run), STATE_OK);
	state_close(a);
}

static void
test_diffs(void **unused)
{
	struct state *a = handle("diffs", "alice");

	(void)unused;
	diffs_check(a, new_run(a, "diffs"));
	state_close(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fenced),
		cmocka_unit_test(test_liveness),
		cmocka_unit_test(test_runbooks),
		cmocka_unit_test(test_decision_list),
		cmocka_unit_test(test_wait),
		cmocka_unit_test(test_deferred),
		cmocka_unit_test(test_diffs),
		cmocka_unit_test(test_reconnect), /* last: it restarts */
	};
	const char *ci = getenv("PG_CONNINFO");

	if (ci == NULL || *ci == '\0' || getenv("PG_RESTART") == NULL) {
		fprintf(stderr, "test-state-pg: PG_CONNINFO or PG_RESTART is "
		    "not set; tests/scenario/state-pg.sh runs this with a "
		    "server\n");
		return 1;
	}
	path = malloc(strlen(ci) + 4);
	sprintf(path, "pg:%s", ci);
	conn = PQconnectdb(ci);
	if (PQstatus(conn) != CONNECTION_OK) {
		fprintf(stderr, "test-state-pg: %s", PQerrorMessage(conn));
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
