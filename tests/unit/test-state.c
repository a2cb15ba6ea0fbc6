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

#include "sha256.h"
#include "state.h"
#include "state-diffs.h"

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

/* An audit entry of action whose details contain text. */
struct audit_find {
	const char *action, *text;
	int found;
	int64_t last_at;
};

static int
audit_find_one(const struct audit_row *a, void *arg)
{
	struct audit_find *w = arg;

	if (strcmp(a->action, w->action) == 0 && a->details != NULL &&
	    strstr(a->details, w->text) != NULL)
		w->found = 1;
	w->last_at = state_parse_time(a->at);
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
	struct decision_row *d;
	int go, nogo, mine;
	size_t n;

	assert_int_equal(state_decision_add(f->st, id, "b", "go", "ok", NULL),
	    STATE_OK);
	assert_int_equal(state_decision_add(f->st, id, "b", "go", "twice", NULL),
	    STATE_OK);
	state_set_actor(f->st, "bob", NULL);
	assert_int_equal(state_decision_count(f->st, id, "b", &go, &nogo,
	    &mine), STATE_OK);
	assert_int_equal(go, 1); /* distinct operators */
	assert_int_equal(nogo, 0);
	assert_int_equal(mine, 0);
	assert_int_equal(state_decision_add(f->st, id, "b", "no-go", "bad", NULL),
	    STATE_OK);
	assert_int_equal(state_decision_count(f->st, id, "b", &go, &nogo,
	    &mine), STATE_OK);
	assert_int_equal(nogo, 1);
	assert_int_equal(mine, 1);
	assert_int_equal(state_decision_list(f->st, id, "b", &d, &n), STATE_OK);
	assert_int_equal(n, 3);
	assert_string_equal(d[2].operator, "bob");
	assert_string_equal(d[2].decision, "no-go");
	assert_string_equal(d[2].reason, "bad");
	assert_true(d[2].at_ms > 0 && d[2].active);
	decision_rows_free(d, n);
	assert_int_equal(state_decision_reset(f->st, id, "b"), STATE_OK);
	assert_int_equal(state_decision_count(f->st, id, "b", &go, &nogo,
	    &mine), STATE_OK);
	assert_int_equal(go + nogo, 0);
	assert_int_equal(state_decision_list(f->st, id, "b", &d, &n), STATE_OK);
	assert_int_equal(n, 3); /* set aside, still listed */
	assert_false(d[0].active);
	decision_rows_free(d, n);
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

/* The head is the hash of the newest entry, 64 hex digits. */
static void
test_audit_head_is_last(struct fixture *f)
{
	char head[65], *want;
	sqlite3 *db;
	sqlite3_stmt *s;

	assert_int_equal(state_audit_head(f->st, head), STATE_OK);
	assert_int_equal(strlen(head), 64);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT hash FROM audit"
	    " ORDER BY id DESC LIMIT 1", -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	want = strdup((const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	sqlite3_close(db);
	assert_string_equal(head, want);
	free(want);
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
	test_audit_head_is_last(f);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "UPDATE audit SET operator='eve'"
	    " WHERE id=2", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(state_audit_verify(f->st, &bad, &why), 1);
	assert_int_equal(bad, 2);
	assert_non_null(strstr(why, "altered"));
	free(why);
}

/* Recompute every hash of the trail in the file at path, as a forger who
 * edited entries would: the chain is then intact, only the times tell. */
static void
audit_rechain(const char *path)
{
	sqlite3 *db;
	sqlite3_stmt *s, *u;
	char prev[SHA256_HEX_LEN + 1], hash[SHA256_HEX_LEN + 1];
	struct sha256_ctx *c;
	int i;

	memset(prev, '0', SHA256_HEX_LEN);
	prev[SHA256_HEX_LEN] = '\0';
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT id, at, run, step,"
	    " operator, os_user, action, details FROM audit ORDER BY id", -1,
	    &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "UPDATE audit SET prev=?,"
	    " hash=? WHERE id=?", -1, &u, NULL), SQLITE_OK);
	while (sqlite3_step(s) == SQLITE_ROW) {
		c = sha256_begin();
		for (i = 0; i < 8; i++)
			sha256_add_field(c, (const char *)sqlite3_column_text(s, i));
		sha256_add_field(c, prev);
		sha256_end(c, hash);
		sqlite3_bind_text(u, 1, prev, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(u, 2, hash, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(u, 3, sqlite3_column_int64(s, 0));
		assert_int_equal(sqlite3_step(u), SQLITE_DONE);
		sqlite3_reset(u);
		memcpy(prev, hash, sizeof prev);
	}
	sqlite3_finalize(s);
	sqlite3_finalize(u);
	sqlite3_close(db);
}

static void
sql_exec(const char *path, const char *sql)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

/* An entry earlier than the one before it breaks the trail, even when
 * every hash was made again. */
static void
test_audit_time_backwards(void **state)
{
	struct fixture *f = *state;
	int64_t id = new_run(f->st), bad = 0;
	char *why = NULL;

	assert_int_equal(state_audit(f->st, id, "a", "note", "x"), STATE_OK);
	assert_int_equal(state_audit(f->st, id, "b", "note", "y"), STATE_OK);
	sql_exec(f->path, "UPDATE audit SET at='2001-01-01T00:00:00.000Z'"
	    " WHERE id=3");
	audit_rechain(f->path);
	assert_int_equal(state_audit_verify(f->st, &bad, &why), 1);
	assert_int_equal(bad, 3);
	assert_non_null(strstr(why, "back in time"));
	free(why);
}

/* What reports show of an attempt and a reconcile result is in the chain:
 * the SHA-256 of the output kept, of the result. */
static void
test_audit_covers_output(void **state)
{
	struct fixture *f = *state;
	int64_t id = new_run(f->st);
	char out_sha[SHA256_HEX_LEN + 1], res_sha[SHA256_HEX_LEN + 1];
	const char *res = "{\"matched\": 3}";
	struct audit_find want = { 0 };
	int n;

	assert_int_equal(state_attempt_begin(f->st, id, "a", ATT_RUN,
	    ST_BIT(ST_PENDING), "h", 1, 1, NULL, &n), STATE_OK);
	assert_int_equal(state_attempt_finish(f->st, id, "a", n, "succeeded", 0,
	    NULL, "hello\n", 6, 6, ST_SUCCEEDED), STATE_OK);
	assert_int_equal(state_step_set_result(f->st, id, "a", res), STATE_OK);
	sha256_hex("hello\n", 6, out_sha);
	sha256_hex(res, strlen(res), res_sha);
	want.action = "attempt-end";
	want.text = out_sha;
	assert_int_equal(state_audit_each(f->st, id, audit_find_one, &want),
	    STATE_OK);
	assert_true(want.found);
	want.found = 0;
	want.action = "result";
	want.text = res_sha;
	assert_int_equal(state_audit_each(f->st, id, audit_find_one, &want),
	    STATE_OK);
	assert_true(want.found);
}

/* What is refused as a state file, and left as it was. */
static void
test_refuse_files(void **state)
{
	struct fixture *f = *state;
	struct state *st = NULL;
	char path[128], link[128], *err = NULL;

	snprintf(link, sizeof link, "%s/link.db", f->dir);
	assert_int_equal(symlink(f->path, link), 0);
	assert_int_equal(state_open(link, STATE_CREATE, &st, &err), STATE_ERR);
	assert_non_null(strstr(err, "a symbolic link"));
	free(err);
	snprintf(path, sizeof path, "%s/app.db", f->dir);
	sql_exec(path, "CREATE TABLE customers(id INTEGER)");
	chmod(path, 0600);
	assert_int_equal(state_open(path, STATE_CREATE, &st, &err), STATE_ERR);
	assert_non_null(strstr(err, "not a cutover state file"));
	free(err);
	chmod(path, 0666);
	assert_int_equal(state_open(path, 0, &st, &err), STATE_ERR);
	assert_non_null(strstr(err, "writable by others"));
	free(err);
	chmod(f->path, 0400);
	assert_int_equal(state_open(f->path, STATE_READONLY, &st, &err),
	    STATE_OK);
	assert_int_equal(state_runbook_check(st, "rb"), STATE_OK);
	state_close(st);
	chmod(f->path, 0600);
}

/* Every run of a file is of one runbook. */
static void
test_runbook_check(void **state)
{
	struct fixture *f = *state;

	new_run(f->st);
	assert_int_equal(state_runbook_check(f->st, "rb"), STATE_OK);
	assert_int_equal(state_runbook_check(f->st, "other"), STATE_ERR);
	assert_non_null(strstr(state_error(f->st), "of runbook rb, not other"));
}

/* A file deleted under its user: no more writes, a copy and a marker, and
 * the path refused until the marker goes. */
static void
test_gone(void **state)
{
	struct fixture *f = *state;
	int64_t id = new_run(f->st);
	struct state *st = NULL;
	char mark[128], *err = NULL;
	struct stat sb;

	assert_int_equal(unlink(f->path), 0);
	assert_int_equal(state_begin(f->st), STATE_GONE);
	assert_int_equal(state_audit(f->st, id, NULL, "note", "x"), STATE_ERR);
	assert_non_null(strstr(state_error(f->st), "was deleted"));
	assert_non_null(strstr(state_gone(f->st), "was deleted while run 1"));
	snprintf(mark, sizeof mark, "%s.gone", f->path);
	assert_int_equal(stat(mark, &sb), 0);
	assert_true(state_marked_gone(f->path));
	assert_int_equal(state_open(f->path, STATE_CREATE, &st, &err),
	    STATE_ERR);
	assert_non_null(strstr(err, "was deleted while run 1"));
	free(err);
	snprintf(mark, sizeof mark, "%s.gone.db", f->path);
	assert_int_equal(state_open(mark, 0, &st, &err), STATE_OK);
	assert_int_equal(state_audit_verify(st, &id, &err), 0);
	state_close(st);
}

/*
 * A writer whose clock is an hour behind the trail records the trail's
 * time, never an earlier one, says so in a clock-behind entry, and the
 * trail still verifies. (Last: it runs this process's clock ahead.)
 */
static void
test_clock_behind(void **state)
{
	struct fixture *f = *state;
	int64_t id = new_run(f->st), bad = 0;
	struct audit_find want = { 0 };
	char future[32], *why = NULL, *err = NULL, sql[160];
	struct state *st2;

	state_format_time(state_now_ms() + 3600000, future);
	snprintf(sql, sizeof sql, "UPDATE audit SET at='%s' WHERE id=1",
	    future);
	sql_exec(f->path, sql);
	audit_rechain(f->path);
	assert_int_equal(state_open(f->path, 0, &st2, &err), STATE_OK);
	assert_true(state_clock_behind(st2) > 3590000);
	assert_int_equal(state_audit(st2, id, "a", "note", "late"), STATE_OK);
	assert_int_equal(state_audit_verify(st2, &bad, &why), 0);
	want.action = "clock-behind";
	want.text = "behind the newest entry";
	assert_int_equal(state_audit_each(st2, id, audit_find_one, &want),
	    STATE_OK);
	assert_true(want.found);
	assert_true(want.last_at >= state_parse_time(future));
	state_close(st2);
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

static void
test_diffs(void **state)
{
	struct fixture *f = *state;

	diffs_check(f->st, new_run(f->st));
}

/* Events go to the outbox with the transition that causes them, one row
 * per sink that takes them, and never without it. */
static void
test_outbox(void **state)
{
	struct fixture *f = *state;
	const char *names[] = { "all", "chat" };
	unsigned masks[] = { NOTIFY_EV_ALL, NOTIFY_EV_BIT(NOTIFY_EV_FAILED) };
	struct outbox_row *v;
	struct outbox_stats s;
	int64_t id = new_run(f->st);
	size_t n;

	/* No sink: no event, nothing in the outbox. */
	assert_int_equal(state_step_transition(f->st, id, "a",
	    ST_BIT(ST_PENDING), ST_AWAITING, NULL, "await", NULL), STATE_OK);
	assert_int_equal(state_outbox_due(f->st, INT64_MAX, 10, &v, &n),
	    STATE_OK);
	assert_int_equal(n, 0);
	state_set_notify(f->st, 2, names, masks);
	/* A transition that loses writes no event. */
	assert_int_equal(state_step_transition(f->st, id, "b",
	    ST_BIT(ST_RUNNING), ST_FAILED, "x", "fail", NULL), STATE_CONFLICT);
	/* One rolled back takes its event with it. */
	assert_int_equal(state_begin(f->st), STATE_OK);
	assert_int_equal(state_step_transition(f->st, id, "b",
	    ST_BIT(ST_PENDING), ST_FAILED, "x", "fail", NULL), STATE_OK);
	state_rollback(f->st);
	assert_int_equal(state_outbox_due(f->st, INT64_MAX, 10, &v, &n),
	    STATE_OK);
	assert_int_equal(n, 0);
	/* One that commits: a row for each sink, one event id. */
	assert_int_equal(state_step_transition(f->st, id, "b",
	    ST_BIT(ST_PENDING), ST_FAILED, "exit 1", "fail", NULL), STATE_OK);
	assert_int_equal(state_outbox_due(f->st, INT64_MAX, 10, &v, &n),
	    STATE_OK);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].event, v[1].event);
	assert_int_equal(strlen(v[0].event), 32);
	assert_string_equal(v[0].sink, "all");
	assert_string_equal(v[1].sink, "chat");
	assert_string_equal(v[0].type, "failed");
	assert_string_equal(v[0].step, "b");
	assert_string_equal(v[0].state, "failed");
	assert_string_equal(v[0].message, "exit 1");
	assert_string_equal(v[0].operator, "alice");
	/* Delivered to one, failed for the other. */
	assert_int_equal(state_outbox_mark(f->st, v[0].id, 1, NULL, 0),
	    STATE_OK);
	assert_int_equal(state_outbox_mark(f->st, v[1].id, 0, "HTTP 500",
	    state_now_ms() + 60000), STATE_OK);
	outbox_rows_free(v, n);
	assert_int_equal(state_outbox_due(f->st, state_now_ms(), 10, &v, &n),
	    STATE_OK);
	assert_int_equal(n, 0); /* backing off */
	assert_int_equal(state_outbox_stats(f->st, 0, &s), STATE_OK);
	assert_int_equal(s.pending, 1);
	assert_int_equal(s.failing, 1);
	assert_int_equal(s.failures, 1);
	assert_int_equal(s.delivered, 1);
	assert_string_equal(s.last_error, "chat: HTTP 500");
	outbox_stats_free(&s);
	/* The decision at a checkpoint, and the run complete: only "all". */
	assert_int_equal(state_decision_add(f->st, id, "a", "go", "fine", NULL),
	    STATE_OK);
	assert_int_equal(state_run_set_state(f->st, id, "complete"), STATE_OK);
	assert_int_equal(state_outbox_due(f->st, INT64_MAX, 10, &v, &n),
	    STATE_OK);
	assert_int_equal(n, 3);
	assert_string_equal(v[1].type, "checkpoint");
	assert_string_equal(v[1].state, "go");
	assert_string_equal(v[1].message, "fine");
	assert_string_equal(v[2].type, "complete");
	outbox_rows_free(v, n);
}

/* An instance STEP@ENTITY gives the step and the entity apart. */
static void
test_outbox_entity(void **state)
{
	struct fixture *f = *state;
	const char *names[] = { "x" };
	unsigned masks[] = { NOTIFY_EV_ALL };
	struct outbox_row *v;
	int64_t id = new_run(f->st);
	size_t n;

	state_set_notify(f->st, 1, names, masks);
	assert_int_equal(state_outbox_event(f->st, id, NOTIFY_EV_EXCLUDED,
	    "load@store-7", NULL, "excluded", "no-go"), STATE_OK);
	assert_int_equal(state_outbox_due(f->st, INT64_MAX, 10, &v, &n),
	    STATE_OK);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].step, "load");
	assert_string_equal(v[0].entity, "store-7");
	assert_string_equal(v[0].type, "excluded");
	outbox_rows_free(v, n);
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
		cmocka_unit_test_setup_teardown(test_audit_time_backwards,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_covers_output,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuse_files, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_runbook_check, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_gone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clock_behind, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_outbox, setup, teardown),
		cmocka_unit_test_setup_teardown(test_diffs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outbox_entity, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
