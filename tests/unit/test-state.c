/* test-state.c - the SQLite store: runs, steps, attempts, lease, audit. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "state.h"

struct fixture {
	char dir[64];
	char path[96];
	struct state *st;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	char *err = NULL;

	snprintf(f->dir, sizeof f->dir, "/tmp/cutover-unit.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof f->path, "%s/s.db", f->dir);
	assert_int_equal(state_open(f->path, 1, &f->st, &err), STATE_OK);
	state_set_actor(f->st, "alice", "ops");
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	state_close(f->st);
	snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static int64_t
new_run(struct state *st)
{
	int64_t id;

	assert_int_equal(state_run_create(st, "rb", "rehearsal", "text", "sha",
	    &id), STATE_OK);
	assert_int_equal(state_step_insert(st, id, "a", 0, "d1"), STATE_OK);
	assert_int_equal(state_step_insert(st, id, "b", 1, "d2"), STATE_OK);
	return id;
}

static void
test_mode_0600(void **state)
{
	struct fixture *f = *state;
	struct stat sb;

	assert_int_equal(stat(f->path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
}

static void
test_runs(void **state)
{
	struct fixture *f = *state;
	struct run_info r;
	int64_t id = new_run(f->st);

	assert_int_equal(state_run_latest(f->st, 1, &r), STATE_OK);
	assert_int_equal(r.id, id);
	assert_string_equal(r.state, "open");
	assert_string_equal(r.mode, "rehearsal");
	assert_int_equal(r.step_hash, STATE_STEP_HASH);
	run_info_free(&r);
	assert_int_equal(state_run_set_state(f->st, id, "complete"), STATE_OK);
	assert_int_equal(state_run_latest(f->st, 1, &r), STATE_NOTFOUND);
	assert_int_equal(state_run_latest(f->st, 0, &r), STATE_OK);
	assert_non_null(r.ended_at);
	run_info_free(&r);
}

static void
test_attempt_cycle(void **state)
{
	struct fixture *f = *state;
	int64_t id = new_run(f->st);
	struct step_row s;
	struct attempt_row *v;
	size_t n;
	int a;

	assert_int_equal(state_attempt_begin(f->st, id, "a", ATT_RUN,
	    ST_BIT(ST_PENDING), "h", 42, 42, "tok", &a), STATE_OK);
	assert_int_equal(a, 1);
	/* A second begin from pending fails: the step is running now. */
	assert_int_equal(state_attempt_begin(f->st, id, "a", ATT_RUN,
	    ST_BIT(ST_PENDING), "h", 43, 43, NULL, &a), STATE_CONFLICT);
	assert_int_equal(state_attempts_running(f->st, id, &v, &n), STATE_OK);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].pgid, 42);
	assert_string_equal(v[0].token, "tok");
	attempt_rows_free(v, n);
	assert_int_equal(state_attempt_finish(f->st, id, "a", 1, "succeeded", 0,
	    NULL, "out\n", 4, 4, ST_SUCCEEDED), STATE_OK);
	assert_int_equal(state_step_get(f->st, id, "a", &s), STATE_OK);
	assert_int_equal(s.state, ST_SUCCEEDED);
	assert_int_equal(s.attempts, 1);
	assert_true(s.duration_ms >= 0);
	step_row_free(&s);
	assert_int_equal(state_attempts_list(f->st, id, "a", 0, &v, &n),
	    STATE_OK);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].output, "out\n");
	assert_string_equal(v[0].state, "succeeded");
	attempt_rows_free(v, n);
}

static void
test_transition_conditional(void **state)
{
	struct fixture *f = *state;
	int64_t id = new_run(f->st);

	assert_int_equal(state_step_transition(f->st, id, "b",
	    ST_BIT(ST_AWAITING), ST_SUCCEEDED, NULL, "confirm", NULL),
	    STATE_CONFLICT);
	assert_int_equal(state_step_transition(f->st, id, "b",
	    ST_BIT(ST_PENDING), ST_AWAITING, NULL, "await", NULL), STATE_OK);
	assert_int_equal(state_step_transition(f->st, id, "b",
	    ST_BIT(ST_AWAITING), ST_SUCCEEDED, "done", "confirm", "done"),
	    STATE_OK);
	assert_int_equal(state_step_transition(f->st, id, "nope",
	    ST_BIT(ST_PENDING), ST_SKIPPED, NULL, "skip", NULL), STATE_NOTFOUND);
}

static void
test_decisions(void **state)
{
	struct fixture *f = *state;
	int64_t id = new_run(f->st);
	int go, nogo, mine;

	assert_int_equal(state_decision_add(f->st, id, "b", "go", "ok"),
	    STATE_OK);
	assert_int_equal(state_decision_add(f->st, id, "b", "go", "twice"),
	    STATE_OK);
	state_set_actor(f->st, "bob", NULL);
	assert_int_equal(state_decision_count(f->st, id, "b", &go, &nogo,
	    &mine), STATE_OK);
	assert_int_equal(go, 1); /* distinct operators */
	assert_int_equal(nogo, 0);
	assert_int_equal(mine, 0);
	assert_int_equal(state_decision_add(f->st, id, "b", "no-go", "bad"),
	    STATE_OK);
	assert_int_equal(state_decision_count(f->st, id, "b", &go, &nogo,
	    &mine), STATE_OK);
	assert_int_equal(nogo, 1);
	assert_int_equal(mine, 1);
	assert_int_equal(state_decision_reset(f->st, id, "b"), STATE_OK);
	assert_int_equal(state_decision_count(f->st, id, "b", &go, &nogo,
	    &mine), STATE_OK);
	assert_int_equal(go + nogo, 0);
}

static void
test_lease(void **state)
{
	struct fixture *f = *state;
	int64_t id = new_run(f->st);
	struct lease_holder h;
	int took;
	sqlite3 *db;

	assert_int_equal(state_lease_acquire(f->st, id, "h1", getpid(), &h,
	    &took), STATE_OK);
	assert_int_equal(took, 0);
	/* Another live process on another host with a fresh heartbeat wins. */
	assert_int_equal(state_lease_acquire(f->st, id, "h2", 1, &h, &took),
	    STATE_CONFLICT);
	assert_int_equal(h.pid, getpid());
	assert_string_equal(h.host, "h1");
	assert_string_equal(h.operator, "alice");
	lease_holder_free(&h);
	/* A heartbeat older than 30 s is a dead driver. */
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "UPDATE drivers SET heartbeat ="
	    " heartbeat - 31000", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(state_lease_acquire(f->st, id, "h2", 1, &h, &took),
	    STATE_OK);
	assert_int_equal(took, 1);
}

static void
test_audit_chain(void **state)
{
	struct fixture *f = *state;
	int64_t id = new_run(f->st), bad = 0;
	char *why = NULL;
	sqlite3 *db;

	assert_int_equal(state_audit(f->st, id, "a", "note", "x=%d", 1),
	    STATE_OK);
	assert_int_equal(state_audit(f->st, id, "b", "note", "y"), STATE_OK);
	assert_int_equal(state_audit_verify(f->st, &bad, &why), 0);
	assert_null(why);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "UPDATE audit SET operator='eve'"
	    " WHERE id=2", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(state_audit_verify(f->st, &bad, &why), 1);
	assert_int_equal(bad, 2);
	assert_non_null(strstr(why, "altered"));
	free(why);
}

static void
test_newer_schema(void **state)
{
	struct fixture *f = *state;
	struct state *st2;
	char *err = NULL;
	sqlite3 *db;

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "UPDATE meta SET value='99';"
	    " PRAGMA user_version=0", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(state_open(f->path, 0, &st2, &err), STATE_NEWER);
	assert_non_null(strstr(err, "newer"));
	free(err);
	/* Files after 0.1.0 have it in PRAGMA user_version too. */
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "UPDATE meta SET value='1';"
	    " PRAGMA user_version=99", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(state_open(f->path, 0, &st2, &err), STATE_NEWER);
	assert_non_null(strstr(err, "newer"));
	free(err);
}

/* A new file gets every migration: user_version and meta agree. */
static void
test_schema_version(void **state)
{
	struct fixture *f = *state;
	sqlite3 *db;
	sqlite3_stmt *s;

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT (SELECT user_version"
	    " FROM pragma_user_version), (SELECT value FROM meta WHERE"
	    " key='schema_version')", -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(s, 0), STATE_SCHEMA_VERSION);
	assert_int_equal(sqlite3_column_int(s, 1), STATE_SCHEMA_VERSION);
	sqlite3_finalize(s);
	sqlite3_close(db);
}

/* Addresses of a database server open the PostgreSQL store: with no
 * server there, refused in one line that names the database but never its
 * password, and nothing is created. */
static void
test_server_forms(void **state)
{
	const char *forms[] = { "postgresql://u:s3cr3t@127.0.0.1:1/cutover",
		"postgres://u:s3cr3t@127.0.0.1:1/db",
		"pg:host=127.0.0.1 port=1 password=s3cr3t dbname=cutover" };
	struct state *st;
	char *err = NULL;
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++) {
		assert_false(state_is_file(forms[i]));
		assert_int_equal(state_open(forms[i], 1, &st, &err), STATE_ERR);
		assert_null(st);
		assert_non_null(strstr(err, "cannot connect"));
		assert_non_null(strstr(err, "port=1"));
		assert_null(strstr(err, "s3cr3t"));
		assert_null(strchr(err, '\n'));
		free(err);
		assert_int_equal(access("postgresql:", F_OK), -1);
	}
	assert_true(state_is_file("/tmp/x.db"));
	assert_true(state_is_file("pgdata.db"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_mode_0600, setup, teardown),
		cmocka_unit_test_setup_teardown(test_runs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attempt_cycle, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_transition_conditional,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_decisions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lease, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_chain, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_newer_schema, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_schema_version, setup,
		    teardown),
		cmocka_unit_test(test_server_forms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
