/*
 * state-sqlite.c - the SQLite store: a state file on a local disk, the
 * store of a plain path (see store.h for what every store must do).
 *
 * All writes go through BEGIN IMMEDIATE transactions so that a second
 * process (confirm, decide, skip from another terminal) waits its turn
 * rather than failing, and the journal is WAL with synchronous=FULL so that
 * a committed transaction survives kill -9 and power loss alike.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "buf.h"
#include "sha256.h"
#include "state.h"
#include "store.h"
#include "xmalloc.h"

/* Prepared statements by their SQL text: open addressing, grown to stay
 * under three quarters full. */
struct st_cache {
	sqlite3_stmt **slot;
	size_t cap; /* a power of two, or 0 */
	size_t n;
};

/* Where column name is in statement s's results (as s was prepared
 * reprep times: a schema change re-prepares it). A cache of col_index's
 * answers, emptied whenever statements are finalized. */
struct st_col {
	sqlite3_stmt *s;
	int reprep;
	int index;
	char name[40];
};
#define COL_CACHE_SIZE 512 /* a power of two, at most 512 */
static struct st_col col_cache[COL_CACHE_SIZE];

struct store {
	sqlite3 *db;
	struct st_cache cache;
	int64_t data_version;
};

/*
 * The schema, as the steps that build it: migrations[v] takes a file from
 * version v to v + 1, and PRAGMA user_version records the version reached
 * (mirrored in meta.schema_version, where cutover 0.1.0 looks, so that it
 * refuses a newer file). Never edit a step once released; append one.
 */
static const char *const migrations[] = {
	/* 1: cutover 0.1.0 */
	"CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE runs(id INTEGER PRIMARY KEY, runbook TEXT NOT NULL,"
	" mode TEXT NOT NULL, state TEXT NOT NULL, runbook_text TEXT NOT NULL,"
	" runbook_sha TEXT NOT NULL, created_at TEXT NOT NULL, ended_at TEXT,"
	" operator TEXT, os_user TEXT, rollback_to TEXT);"
	"CREATE TABLE steps(run INTEGER NOT NULL REFERENCES runs(id),"
	" id TEXT NOT NULL, idx INTEGER NOT NULL, state TEXT NOT NULL,"
	" attempts INTEGER NOT NULL DEFAULT 0, def_sha TEXT NOT NULL,"
	" started_at INTEGER, ended_at INTEGER, duration_ms INTEGER,"
	" note TEXT, result TEXT, done_at INTEGER, undo INTEGER NOT NULL DEFAULT 0,"
	" PRIMARY KEY(run, id));"
	"CREATE TABLE attempts(run INTEGER NOT NULL, step TEXT NOT NULL,"
	" n INTEGER NOT NULL, kind TEXT NOT NULL, state TEXT NOT NULL,"
	" started_at INTEGER NOT NULL, ended_at INTEGER, exit_code INTEGER,"
	" message TEXT, host TEXT, pid INTEGER, pgid INTEGER, output BLOB,"
	" output_total INTEGER NOT NULL DEFAULT 0, operator TEXT, token TEXT,"
	" PRIMARY KEY(run, step, n));"
	"CREATE TABLE decisions(id INTEGER PRIMARY KEY, run INTEGER NOT NULL,"
	" step TEXT NOT NULL, operator TEXT NOT NULL, os_user TEXT,"
	" decision TEXT NOT NULL, reason TEXT, at INTEGER NOT NULL,"
	" active INTEGER NOT NULL DEFAULT 1);"
	"CREATE TABLE drivers(run INTEGER PRIMARY KEY, pid INTEGER NOT NULL,"
	" host TEXT NOT NULL, operator TEXT, started_at INTEGER NOT NULL,"
	" heartbeat INTEGER NOT NULL);"
	"CREATE TABLE audit(id INTEGER PRIMARY KEY, at TEXT NOT NULL,"
	" run INTEGER, step TEXT, operator TEXT, os_user TEXT,"
	" action TEXT NOT NULL, details TEXT, prev TEXT NOT NULL,"
	" hash TEXT NOT NULL);"
	"INSERT INTO meta VALUES('schema_version', '1');",
	/* 2: runs record the rule of their steps' def_sha (runbook.h); those
	 * of 0.1.0 hashed every key it knew */
	"ALTER TABLE runs ADD COLUMN step_hash INTEGER NOT NULL DEFAULT 1;",
	/* 3: entities and waves: a run's selection, the entities excluded
	 * from it, and the evidence a decision was taken on */
	"ALTER TABLE runs ADD COLUMN selection TEXT;"
	"ALTER TABLE decisions ADD COLUMN evidence TEXT;"
	"CREATE TABLE entities(run INTEGER NOT NULL REFERENCES runs(id),"
	" entity TEXT NOT NULL, state TEXT NOT NULL, reason TEXT,"
	" at INTEGER NOT NULL, operator TEXT, os_user TEXT,"
	" PRIMARY KEY(run, entity));",
	/* 4: the notify: outbox, one row per event and sink (state.h) */
	"CREATE TABLE outbox(id INTEGER PRIMARY KEY, event TEXT NOT NULL,"
	" run INTEGER NOT NULL, sink TEXT NOT NULL, type TEXT NOT NULL,"
	" step TEXT, entity TEXT, state TEXT, operator TEXT, message TEXT,"
	" at INTEGER NOT NULL, tries INTEGER NOT NULL DEFAULT 0,"
	" fails INTEGER NOT NULL DEFAULT 0, next_at INTEGER NOT NULL DEFAULT 0,"
	" sent_at INTEGER, error TEXT, error_at INTEGER);"
	"CREATE INDEX outbox_due ON outbox(next_at) WHERE sent_at IS NULL;",
	/* 5: every difference of a reconcile attempt */
	"CREATE TABLE diffs(run INTEGER NOT NULL, step TEXT NOT NULL,"
	" token TEXT NOT NULL, seq INTEGER NOT NULL, kind TEXT NOT NULL,"
	" key TEXT NOT NULL, source TEXT, dest TEXT, columns TEXT,"
	" PRIMARY KEY(run, step, token, seq));",
};
/* sqlite_schema: a reader found a schema to bring up to date. */
#define SCHEMA_STALE 1

#define NMIGRATIONS (int)(sizeof migrations / sizeof migrations[0])
_Static_assert(NMIGRATIONS == STATE_SCHEMA_VERSION,
    "STATE_SCHEMA_VERSION is the number of migrations");

static int st_fail(struct state *, const char *);
static sqlite3_stmt *st_cached(struct state *, const char *);
static size_t cache_find(const struct st_cache *, const char *);
static void cache_grow(struct st_cache *);
static void cache_free(struct st_cache *);
static void st_done(struct state *, sqlite3_stmt *);
static sqlite3_stmt *st_prepare(struct state *, const char *, const char *,
    va_list);
static int st_run(struct state *, const char *, const char *, ...);
static sqlite3_stmt *st_query(struct state *, const char *, const char *, ...);
static int col_index(sqlite3_stmt *, const char *);
static size_t col_slot(sqlite3_stmt *, const char *);
static char *col_text(sqlite3_stmt *, const char *);
static int64_t col_int(sqlite3_stmt *, const char *, int64_t);
static void run_info_fill(sqlite3_stmt *, struct run_info *);
static void step_row_fill(sqlite3_stmt *, struct step_row *);
static void attempt_row_fill(sqlite3_stmt *, struct attempt_row *);
static void audit_row_fill(sqlite3_stmt *, struct audit_row *);
static int sqlite_schema(struct state *, int);
static int schema_version(struct state *, int *);
static int schema_migrate(struct state *, int);
static int step_undoing(struct state *, int64_t, const char *);
static void sqlite_set_durable(struct state *, int);
static int sqlite_begin(struct state *);
static int sqlite_commit(struct state *);
static void sqlite_rollback(struct state *);
static int sqlite_open(struct state *, const char *, int, char **);
static int file_check(int, const char *, char **);
static int file_open(const char *, int, char **);
static int stale_wal(const char *, char **);
static int side_files_check(const char *, char **);
static int schema_tables(struct state *);
static int schema_empty(struct state *);
static int sqlite_connect(struct state *, const char *, int, char **);
static const char *sqlite_why(sqlite3 *);
static char *snapshot_uri(const char *);
static int wal_empty(const char *);
static int sqlite_read_full_disk(struct state *, const char *, char **);
static int sqlite_same_file(struct state *, const struct stat *,
    const char *, char **);
static void sqlite_close(struct state *);
static int sqlite_changed(struct state *);
static int sqlite_wait(struct state *, int);
static int sqlite_moved(struct state *);
static int sqlite_save(struct state *, const char *);
static int sqlite_run_latest(struct state *, int, struct run_info *);
static int sqlite_run_get(struct state *, int64_t, struct run_info *);
static int sqlite_run_list(struct state *, struct run_info **, size_t *);
static int sqlite_run_create(struct state *, const char *, const char *,
    const char *, const char *, int64_t *);
static int sqlite_run_set_state(struct state *, int64_t, const char *);
static int sqlite_run_rollback_to(struct state *, int64_t, const char *,
    char **);
static int sqlite_step_set_undo(struct state *, int64_t, const char *, int);
static int sqlite_run_set_runbook(struct state *, int64_t, const char *,
    const char *);
static int sqlite_steps_load(struct state *, int64_t, struct step_row **,
    size_t *);
static int sqlite_step_get(struct state *, int64_t, const char *,
    struct step_row *);
static int sqlite_step_insert(struct state *, int64_t, const char *, int,
    const char *);
static int sqlite_step_delete(struct state *, int64_t, const char *);
static int sqlite_step_update_def(struct state *, int64_t, const char *, int,
    const char *);
static int sqlite_step_transition(struct state *, int64_t, const char *,
    unsigned, enum step_state, const char *,
    const char *, const char *);
static int sqlite_diff_add(struct state *, int64_t, const char *,
    const char *, const struct diff_row *);
static int sqlite_diffs_each(struct state *, int64_t, const char *,
    const char *, int (*)(const struct diff_row *, void *), void *);
static int sqlite_step_set_result(struct state *, int64_t, const char *,
    const char *);
static int sqlite_attempt_begin(struct state *, int64_t, const char *,
    enum attempt_kind, unsigned, const char *,
    int64_t, int64_t, const char *, int *);
static int sqlite_attempt_set_pid(struct state *, int64_t, const char *, int,
    int64_t, int64_t);
static int sqlite_attempt_output(struct state *, int64_t, const char *, int,
    const char *, size_t, int64_t);
static int sqlite_attempt_finish(struct state *, int64_t, const char *, int,
    const char *, int, const char *, const char *,
    size_t, int64_t, enum step_state);
static int sqlite_attempts_list(struct state *, int64_t, const char *, int,
    struct attempt_row **, size_t *);
static int sqlite_attempts_running(struct state *, int64_t,
    struct attempt_row **, size_t *);
static int sqlite_attempt_interrupt(struct state *, int64_t, const char *, int,
    const char *);
static int sqlite_decision_add(struct state *, int64_t, const char *,
    const char *, const char *, const char *);
static int sqlite_decision_count(struct state *, int64_t, const char *, int *,
    int *, int *);
static int sqlite_decision_reset(struct state *, int64_t, const char *);
static int sqlite_decision_void(struct state *, int64_t, const char *,
    const char *, int *);
static int sqlite_entity_exclude(struct state *, int64_t, const char *,
    const char *);
static int sqlite_entities_load(struct state *, int64_t, struct entity_row **,
    size_t *);
static int sqlite_run_set_selection(struct state *, int64_t, const char *);
static int sqlite_decision_list(struct state *, int64_t, const char *,
    struct decision_row **, size_t *);
static int sqlite_lease_read(struct state *, int64_t, struct lease_holder *);
static int sqlite_lease_write(struct state *, int64_t, const char *, int64_t);
static int sqlite_lease_heartbeat(struct state *, int64_t);
static int sqlite_lease_check(struct state *, int64_t);
static int sqlite_lease_release(struct state *, int64_t);
static int sqlite_audit_last(struct state *, int64_t *, char **, char **);
static int sqlite_audit_append(struct state *, const struct audit_row *);
static int sqlite_audit_each(struct state *, int64_t,
    int (*)(const struct audit_row *, void *), void *);
static int sqlite_rows_each(struct state *, const char *, int64_t,
    int (*)(const struct state_row *, void *), void *);
static int sqlite_outbox_add(struct state *, const struct outbox_row *);
static int sqlite_outbox_due(struct state *, int64_t, size_t,
    struct outbox_row **, size_t *);
static int sqlite_outbox_mark(struct state *, int64_t, int, const char *,
    int64_t);
static int sqlite_outbox_stats(struct state *, int64_t,
    struct outbox_stats *);
static int sqlite_row_put(struct state *, const char *,
    const struct state_row *, int64_t *);


/* Keep SQLite's message as the last error; returns STATE_ERR. */
static int
st_fail(struct state *st, const char *what)
{
	return store_fail(st, "%s: %s", what, sqlite_why(st->store->db));
}

/*
 * Prepare sql and bind arguments described by fmt, one letter for each
 * ?: t text (NULL binds NULL), i int, I int64, b blob (pointer, size_t
 * length), N null. A format that does not match the statement is a bug.
 */
static sqlite3_stmt *
st_prepare(struct state *st, const char *sql, const char *fmt, va_list ap)
{
	sqlite3_stmt *s;
	int i, rc = SQLITE_OK;
	const char *p;
	const void *blob;
	size_t len;

	if ((s = st_cached(st, sql)) == NULL)
		return NULL;
	if (sqlite3_bind_parameter_count(s) != (int)strlen(fmt))
		fatalx(1, "state: %d parameters, %zu bound in %s",
		    sqlite3_bind_parameter_count(s), strlen(fmt), sql);
	for (i = 1, p = fmt; *p != '\0' && rc == SQLITE_OK;
	     p++, i++) {
		switch (*p) {
		case 't':
			rc = sqlite3_bind_text(s, i, va_arg(ap, const char *), -1,
			    SQLITE_TRANSIENT);
			break;
		case 'i':
			rc = sqlite3_bind_int(s, i, va_arg(ap, int));
			break;
		case 'I':
			rc = sqlite3_bind_int64(s, i, va_arg(ap, int64_t));
			break;
		case 'b':
			blob = va_arg(ap, const void *);
			len = va_arg(ap, size_t);
			rc = sqlite3_bind_blob64(s, i, blob, len, SQLITE_TRANSIENT);
			break;
		case 'N':
			rc = sqlite3_bind_null(s, i);
			break;
		default:
			fatalx(1, "state: bind type %c in %s", *p, sql);
		}
	}
	if (rc != SQLITE_OK) {
		st_fail(st, "bind");
		st_done(st, s);
		return NULL;
	}
	return s;
}

/* The slot of sql in the cache: where it is, or the empty one it would
 * take. The cache is never full. */
static size_t
cache_find(const struct st_cache *c, const char *sql)
{
	uint64_t h = 14695981039346656037u;
	const char *p;
	size_t i;

	for (p = sql; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211u;
	for (i = h & (c->cap - 1); c->slot[i] != NULL; i = (i + 1) & (c->cap - 1))
		if (strcmp(sqlite3_sql(c->slot[i]), sql) == 0)
			break;
	return i;
}

/* Double the cache (or make it), placing every statement anew. */
static void
cache_grow(struct st_cache *c)
{
	struct st_cache old = *c;
	size_t i;

	c->cap = old.cap == 0 ? 64 : old.cap * 2;
	c->slot = xcalloc(c->cap, sizeof *c->slot);
	for (i = 0; i < old.cap; i++)
		if (old.slot[i] != NULL)
			c->slot[cache_find(c, sqlite3_sql(old.slot[i]))] =
			    old.slot[i];
	free(old.slot);
}

static void
cache_free(struct st_cache *c)
{
	size_t i;

	for (i = 0; i < c->cap; i++)
		sqlite3_finalize(c->slot[i]);
	free(c->slot);
	memset(c, 0, sizeof *c);
	memset(col_cache, 0, sizeof col_cache); /* their addresses are free */
}

/*
 * A prepared statement for sql, reset and unbound. Each SQL text is
 * prepared once and kept, so a run of a thousand steps prepares each
 * statement once; the texts are the program's own, a bounded set.
 */
static sqlite3_stmt *
st_cached(struct state *st, const char *sql)
{
	struct st_cache *c = &st->store->cache;
	sqlite3_stmt *s;
	size_t i;

	if ((c->n + 1) * 4 > c->cap * 3)
		cache_grow(c);
	i = cache_find(c, sql);
	if ((s = c->slot[i]) != NULL) {
		sqlite3_reset(s);
		sqlite3_clear_bindings(s);
		return s;
	}
	if (sqlite3_prepare_v3(st->store->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s,
	        NULL) != SQLITE_OK) {
		st_fail(st, "prepare");
		return NULL;
	}
	c->slot[i] = s;
	c->n++;
	return s;
}

/* Finish with a statement: reset it, keeping it for the next use. */
static void
st_done(struct state *st, sqlite3_stmt *s)
{
	(void)st;
	if (s != NULL)
		sqlite3_reset(s);
}

/* Run a statement that returns no rows. */
static int
st_run(struct state *st, const char *sql, const char *fmt, ...)
{
	sqlite3_stmt *s;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	s = st_prepare(st, sql, fmt, ap);
	va_end(ap);
	if (s == NULL)
		return STATE_ERR;
	rc = sqlite3_step(s);
	st_done(st, s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return st_fail(st, "write");
	return STATE_OK;
}

/* Prepare a query; the caller steps and finalizes it. */
static sqlite3_stmt *
st_query(struct state *st, const char *sql, const char *fmt, ...)
{
	sqlite3_stmt *s;
	va_list ap;

	va_start(ap, fmt);
	s = st_prepare(st, sql, fmt, ap);
	va_end(ap);
	return s;
}

/*
 * The result column called name. Rows are read by name, never by position,
 * so that a query and the code reading it cannot drift apart; asking for a
 * column the query lacks is a bug, and fatal. Where a name is in a
 * statement's results is cached (col_cache): looking it up among the
 * columns for every value of every row cost a third of `status` on a big
 * run.
 */
static int
col_index(sqlite3_stmt *s, const char *name)
{
	struct st_col *c = &col_cache[col_slot(s, name)];
	int i, n, reprep = sqlite3_stmt_status(s, SQLITE_STMTSTATUS_REPREPARE,
	    0);

	if (c->s == s && c->reprep == reprep && strcmp(c->name, name) == 0)
		return c->index;
	n = sqlite3_column_count(s);
	for (i = 0; i < n; i++)
		if (strcmp(sqlite3_column_name(s, i), name) == 0)
			break;
	if (i == n)
		fatalx(1, "state: no column %s in %s", name, sqlite3_sql(s));
	if (strlen(name) < sizeof c->name) {
		c->s = s;
		c->reprep = reprep;
		c->index = i;
		strcpy(c->name, name);
	}
	return i;
}

/* The slot of (s, name) in col_cache: by their addresses (names are the
 * program's literals; a slot's own copy of the name decides). */
static size_t
col_slot(sqlite3_stmt *s, const char *name)
{
	uint64_t h = (uint64_t)(uintptr_t)s * 11400714819323198485u ^
	    (uint64_t)(uintptr_t)name * 14029467366897019727u;

	return (size_t)(h >> 55) & (COL_CACHE_SIZE - 1);
}

/* A copy of the text of column name, or NULL. */
static char *
col_text(sqlite3_stmt *s, const char *name)
{
	const unsigned char *t = sqlite3_column_text(s, col_index(s, name));

	return t != NULL ? xstrdup((const char *)t) : NULL;
}

/* The integer in column name, or dflt when it is NULL. */
static int64_t
col_int(sqlite3_stmt *s, const char *name, int64_t dflt)
{
	int i = col_index(s, name);

	if (sqlite3_column_type(s, i) == SQLITE_NULL)
		return dflt;
	return sqlite3_column_int64(s, i);
}

static void
sqlite_set_durable(struct state *st, int on)
{
	sqlite3_exec(st->store->db, on ? "PRAGMA synchronous=FULL"
	    : "PRAGMA synchronous=NORMAL", NULL, NULL, NULL);
}

static int
sqlite_begin(struct state *st)
{
	if (sqlite3_exec(st->store->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK)
		return st_fail(st, "begin");
	return STATE_OK;
}

static int
sqlite_commit(struct state *st)
{
	if (sqlite3_exec(st->store->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		st_fail(st, "commit");
		sqlite3_exec(st->store->db, "ROLLBACK", NULL, NULL, NULL);
		return STATE_ERR;
	}
	return STATE_OK;
}

static void
sqlite_rollback(struct state *st)
{
	sqlite3_exec(st->store->db, "ROLLBACK", NULL, NULL, NULL);
}

/*
 * The version of the file: PRAGMA user_version or meta.schema_version,
 * whichever is higher (cutover 0.1.0 wrote only the second); 0 for a new,
 * empty file.
 */
static int
schema_version(struct state *st, int *version)
{
	sqlite3_stmt *s;
	int rc, meta = 0;

	*version = 0;
	s = st_query(st, "SELECT (SELECT user_version FROM pragma_user_version)"
	    " AS version, (SELECT count(*) FROM sqlite_master WHERE name='meta')"
	    " AS meta", "");
	if (s == NULL)
		return store_fail(st, "%s", sqlite_why(st->store->db));
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		*version = (int)col_int(s, "version", 0);
		meta = (int)col_int(s, "meta", 0);
	}
	st_done(st, s);
	if (rc != SQLITE_ROW)
		return store_fail(st, "%s", sqlite_why(st->store->db));
	if (!meta && !schema_empty(st))
		return store_fail(st, "not a cutover state file (an SQLite "
		    "database without cutover's tables); refusing to change it");
	if (!meta)
		return STATE_OK;
	s = st_query(st, "SELECT value FROM meta WHERE key='schema_version'", "");
	if (s == NULL)
		return STATE_ERR;
	if (sqlite3_step(s) == SQLITE_ROW && col_int(s, "value", 0) > *version)
		*version = (int)col_int(s, "value", 0);
	st_done(st, s);
	if (*version < 1)
		return store_fail(st, "not a cutover state file (no schema "
		    "version)");
	if (*version <= STATE_SCHEMA_VERSION && !schema_tables(st))
		return store_fail(st, "not a cutover state file (it lacks "
		    "cutover's tables); refusing to change it");
	return STATE_OK;
}

/* Take the file from version v to v + 1 (inside a transaction). */
static int
schema_migrate(struct state *st, int v)
{
	char *sql;
	int rc;

	if (sqlite3_exec(st->store->db, migrations[v], NULL, NULL, NULL) != SQLITE_OK)
		return st_fail(st, "migrate schema");
	xasprintf(&sql, "UPDATE meta SET value='%d' WHERE key='schema_version';"
	    " PRAGMA user_version=%d", v + 1, v + 1);
	rc = sqlite3_exec(st->store->db, sql, NULL, NULL, NULL);
	free(sql);
	return rc == SQLITE_OK ? STATE_OK : st_fail(st, "migrate schema");
}

/*
 * Bring the file to STATE_SCHEMA_VERSION, running the migrations it lacks
 * in one transaction (a second process opening it at the same time waits,
 * then finds the work done), or refuse a file of a newer cutover.
 */
static int
sqlite_schema(struct state *st, int flags)
{
	int version, rc, v;

	if ((rc = schema_version(st, &version)) != STATE_OK)
		return rc;
	if (version > STATE_SCHEMA_VERSION)
		return STATE_NEWER;
	if (version == STATE_SCHEMA_VERSION)
		return STATE_OK;
	if (flags & STATE_READONLY)
		return SCHEMA_STALE;
	if (sqlite3_exec(st->store->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK)
		return st_fail(st, "migrate schema");
	rc = schema_version(st, &version);
	for (v = version; rc == STATE_OK && v < STATE_SCHEMA_VERSION; v++)
		rc = schema_migrate(st, v);
	if (rc == STATE_OK && version > STATE_SCHEMA_VERSION)
		rc = STATE_NEWER;
	if (rc == STATE_OK &&
	    sqlite3_exec(st->store->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		rc = st_fail(st, "migrate schema");
	if (rc != STATE_OK)
		sqlite3_exec(st->store->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

/*
 * Is the file open on fd one cutover may use as the state file at path: a
 * regular file of the user running cutover that nobody else may write?
 * 0, or -1 with *err set.
 */
static int
file_check(int fd, const char *path, char **err)
{
	struct stat sb;

	if (fstat(fd, &sb) == -1) {
		xasprintf(err, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(sb.st_mode))
		xasprintf(err, "%s: not a regular file", path);
	else if (sb.st_uid != geteuid())
		xasprintf(err, "%s: owned by uid %lu, not by the user running "
		    "cutover (uid %lu); refusing it", path,
		    (unsigned long)sb.st_uid, (unsigned long)geteuid());
	else if (sb.st_mode & (S_IWGRP | S_IWOTH))
		xasprintf(err, "%s: writable by others (mode %04o); refusing "
		    "it: chmod 600 it if it is yours", path,
		    (unsigned)(sb.st_mode & 07777));
	return *err != NULL ? -1 : 0;
}

/* Is there a write-ahead log where path is not? SQLite would replay it
 * into a new file there: the changes of a file that was deleted. */
static int
stale_wal(const char *path, char **err)
{
	struct stat sb;
	char *wal;
	int rc = 0;

	if (lstat(path, &sb) == 0 || errno != ENOENT)
		return 0;
	xasprintf(&wal, "%s-wal", path);
	if (lstat(wal, &sb) == 0) {
		xasprintf(err, "%s: left by a state file that is gone; remove it "
		    "(and %s-shm) before a new state file is made there", wal,
		    path);
		rc = 1;
	}
	free(wal);
	return rc;
}

/* Open path itself, never through a symbolic link: created (0600, only
 * if absent) or existing; the descriptor, or -1 with *err set. */
static int
file_open(const char *path, int flags, char **err)
{
	int fd = -1, mode = (flags & STATE_READONLY) ? O_RDONLY : O_RDWR;

	if ((flags & STATE_CREATE) && stale_wal(path, err))
		return -1;
	if (flags & STATE_CREATE)
		fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
	if (fd == -1 && (!(flags & STATE_CREATE) || errno == EEXIST))
		fd = open(path, mode | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1) {
		if (errno == ELOOP)
			xasprintf(err, "%s: a symbolic link; give the path of "
			    "the state file itself", path);
		else
			xasprintf(err, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (file_check(fd, path, err) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The files SQLite keeps beside path (-wal, -shm, -journal), where they
 * exist, pass file_check and are no symbolic links. 0 or -1, *err set. */
static int
side_files_check(const char *path, char **err)
{
	static const char *const suffix[] = { "-wal", "-shm", "-journal" };
	char *side;
	size_t i;
	int fd, rc = 0;

	for (i = 0; rc == 0 && i < sizeof suffix / sizeof suffix[0]; i++) {
		xasprintf(&side, "%s%s", path, suffix[i]);
		fd = open(side, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd == -1 && errno == ELOOP) {
			xasprintf(err, "%s: a symbolic link; refusing it", side);
			rc = -1;
		} else if (fd == -1 && errno != ENOENT) {
			xasprintf(err, "%s: %s", side, strerror(errno));
			rc = -1;
		} else if (fd != -1) {
			rc = file_check(fd, side, err);
			close(fd);
		}
		free(side);
	}
	return rc;
}

/* Has the file every table of cutover 0.1.0? */
static int
schema_tables(struct state *st)
{
	sqlite3_stmt *s;
	int n = 0;

	s = st_query(st, "SELECT count(*) AS n FROM sqlite_master WHERE"
	    " type='table' AND name IN ('meta', 'runs', 'steps', 'attempts',"
	    " 'decisions', 'drivers', 'audit')", "");
	if (s != NULL && sqlite3_step(s) == SQLITE_ROW)
		n = (int)col_int(s, "n", 0);
	st_done(st, s);
	return n == 7;
}

/* Is the SQLite file st has open empty (no table at all)? */
static int
schema_empty(struct state *st)
{
	sqlite3_stmt *s;
	int n = -1;

	s = st_query(st, "SELECT count(*) AS n FROM sqlite_master", "");
	if (s != NULL && sqlite3_step(s) == SQLITE_ROW)
		n = (int)col_int(s, "n", 0);
	st_done(st, s);
	return n == 0;
}

/* Open the database of path with SQLite, WAL and synchronous=FULL (a
 * reader only reads). STATE_OK, or STATE_ERR with *err set. */
static int
sqlite_connect(struct state *st, const char *path, int flags, char **err)
{
	int oflags = (flags & STATE_READONLY) ? SQLITE_OPEN_READONLY
	                                      : SQLITE_OPEN_READWRITE;

	oflags |= SQLITE_OPEN_NOFOLLOW;
	st->store = xcalloc(1, sizeof *st->store);
	if (sqlite3_open_v2(path, &st->store->db, oflags, NULL) != SQLITE_OK ||
	    sqlite3_exec(st->store->db, (flags & STATE_READONLY)
	        ? "PRAGMA query_only=1;"
	        : "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
	          " PRAGMA foreign_keys=ON;", NULL, NULL, NULL) != SQLITE_OK) {
		xasprintf(err, "%s: %s", path, sqlite_why(st->store->db));
		sqlite_close(st);
		return STATE_ERR;
	}
	sqlite3_busy_timeout(st->store->db, 15000);
	return STATE_OK;
}

/* What went wrong in SQLite, in the words an operator needs. */
static const char *
sqlite_why(sqlite3 *db)
{
	int code = db != NULL ? sqlite3_errcode(db) : SQLITE_NOMEM;

	if (code == SQLITE_FULL || (db != NULL &&
	        (sqlite3_system_errno(db) == ENOSPC ||
	         sqlite3_system_errno(db) == EDQUOT)))
		return "disk full";
	if (code == SQLITE_NOTADB)
		return "not a cutover state file (not an SQLite database)";
	return db != NULL ? sqlite3_errmsg(db) : "out of memory";
}

/* The URI that opens path as an immutable file: no lock, no -shm. */
static char *
snapshot_uri(const char *path)
{
	static const char hex[] = "0123456789ABCDEF";
	struct buf b = { 0 };
	const unsigned char *p;
	char *uri;

	for (p = (const unsigned char *)path; *p != '\0'; p++) {
		if (isalnum(*p) || strchr("/._-~", *p) != NULL)
			buf_addc(&b, (char)*p);
		else {
			buf_addc(&b, '%');
			buf_addc(&b, hex[*p >> 4]);
			buf_addc(&b, hex[*p & 15]);
		}
	}
	xasprintf(&uri, "file:%s?immutable=1", b.data != NULL ? b.data : "");
	buf_free(&b);
	return uri;
}

/* Does the file at path hold everything committed: no write-ahead log,
 * or an empty one? */
static int
wal_empty(const char *path)
{
	struct stat sb;
	char *wal;
	int rc;

	xasprintf(&wal, "%s-wal", path);
	rc = lstat(wal, &sb) == -1 ? errno == ENOENT : sb.st_size == 0;
	free(wal);
	return rc;
}

/*
 * A reader on a full disk, where SQLite cannot make the shared memory file
 * a reader of a WAL database needs: when the file holds everything
 * committed, read it as an immutable file instead, and say so. STATE_OK,
 * or STATE_ERR (nothing changed).
 */
static int
sqlite_read_full_disk(struct state *st, const char *path, char **err)
{
	char *uri;
	sqlite3 *db;
	int rc;

	if (!wal_empty(path))
		return STATE_ERR;
	uri = snapshot_uri(path);
	rc = sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI |
	    SQLITE_OPEN_NOFOLLOW, NULL);
	free(uri);
	if (rc != SQLITE_OK) {
		sqlite3_close(db);
		return STATE_ERR;
	}
	cache_free(&st->store->cache);
	sqlite3_close(st->store->db);
	st->store->db = db;
	free(*err);
	*err = NULL;
	free(st->warning);
	xasprintf(&st->warning, "%s: disk full; read as last written to the "
	    "file, without a lock: free some space", path);
	return sqlite_schema(st, STATE_READONLY);
}

/*
 * SQLite opened the file that was checked (sb): path still names it, and
 * SQLite's own descriptor is on it (nothing was swapped in between).
 */
static int
sqlite_same_file(struct state *st, const struct stat *sb, const char *path,
    char **err)
{
	struct stat now;
	int moved = 0;

	sqlite3_file_control(st->store->db, "main", SQLITE_FCNTL_HAS_MOVED,
	    &moved);
	if (stat(path, &now) == 0 && !moved && now.st_dev == sb->st_dev &&
	    now.st_ino == sb->st_ino)
		return STATE_OK;
	xasprintf(err, "%s: the file changed while it was opened; try again",
	    path);
	return STATE_ERR;
}

/*
 * Open the state file (see file_open and side_files_check) in WAL mode with
 * synchronous=FULL and bring its schema up to date; refuse an SQLite file
 * that is not empty and lacks cutover's tables. A reader opens it read-only
 * (no write, no checkpoint: it reads on a full disk), unless its schema
 * must be brought up to date first.
 */
static int
sqlite_open(struct state *st, const char *path, int flags, char **err)
{
	struct stat sb;
	int fd, rc;

	/* Checked, then closed before SQLite opens it: closing a descriptor
	 * would drop the locks SQLite holds on the file. */
	if ((fd = file_open(path, flags, err)) == -1)
		return STATE_ERR;
	rc = fstat(fd, &sb);
	close(fd);
	if (rc == -1 || side_files_check(path, err) != 0 ||
	    sqlite_connect(st, path, flags, err) != STATE_OK) {
		if (*err == NULL)
			xasprintf(err, "%s: %s", path, strerror(errno));
		return STATE_ERR;
	}
	rc = sqlite_schema(st, flags);
	if (rc == STATE_ERR && (flags & STATE_READONLY) &&
	    strcmp(state_error(st), "disk full") == 0)
		rc = sqlite_read_full_disk(st, path, err);
	if (rc == STATE_OK)
		rc = sqlite_same_file(st, &sb, path, err);
	else if (rc == STATE_NEWER)
		xasprintf(err, "%s: written by a newer cutover (schema version "
		    "above %d); upgrade cutover", path, STATE_SCHEMA_VERSION);
	else if (rc != SCHEMA_STALE)
		xasprintf(err, "%s: %s", path, state_error(st));
	if (rc != STATE_OK)
		sqlite_close(st);
	if (rc == SCHEMA_STALE) /* a reader, but the schema must move on */
		return sqlite_open(st, path, flags & ~STATE_READONLY, err);
	if (rc == STATE_OK)
		sqlite_changed(st);
	return rc;
}

static void
sqlite_close(struct state *st)
{
	if (st->store == NULL)
		return;
	cache_free(&st->store->cache);
	sqlite3_close(st->store->db);
	free(st->store);
	st->store = NULL;
}

/* Deleted (1) or replaced (2): SQLite compares its descriptor with the
 * path (a deleted file has no path left). */
static int
sqlite_moved(struct state *st)
{
	struct stat sb;
	int moved = 0;

	if (sqlite3_file_control(st->store->db, "main", SQLITE_FCNTL_HAS_MOVED,
	        &moved) != SQLITE_OK || !moved)
		return 0;
	return stat(st->path, &sb) == -1 && errno == ENOENT ? 1 : 2;
}

/* A copy of the database, through SQLite's backup, into a new file. */
static int
sqlite_save(struct state *st, const char *path)
{
	sqlite3 *to = NULL;
	sqlite3_backup *b;
	int fd, rc = SQLITE_ERROR;

	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd == -1)
		return store_fail(st, "%s: %s", path, strerror(errno));
	close(fd);
	if (sqlite3_open_v2(path, &to, SQLITE_OPEN_READWRITE |
	        SQLITE_OPEN_NOFOLLOW, NULL) == SQLITE_OK &&
	    (b = sqlite3_backup_init(to, "main", st->store->db, "main")) !=
	        NULL) {
		sqlite3_backup_step(b, -1);
		rc = sqlite3_backup_finish(b);
	}
	if (rc != SQLITE_OK)
		store_fail(st, "%s: %s", path, sqlite_why(to));
	sqlite3_close(to);
	return rc == SQLITE_OK ? STATE_OK : STATE_ERR;
}

static int
sqlite_changed(struct state *st)
{
	sqlite3_stmt *s;
	int64_t v = -1;

	s = st_query(st, "PRAGMA data_version", "");
	if (s == NULL)
		return 0;
	if (sqlite3_step(s) == SQLITE_ROW)
		v = col_int(s, "data_version", -1);
	st_done(st, s);
	if (v == st->store->data_version)
		return 0;
	st->store->data_version = v;
	return 1;
}

/* Wait for another connection's commit: PRAGMA data_version every 50 ms,
 * left for sqlite_changed to take. */
static int
sqlite_wait(struct state *st, int timeout_ms)
{
	int64_t end = state_now_ms() + timeout_ms, v;
	sqlite3_stmt *s;

	for (;;) {
		if ((s = st_query(st, "PRAGMA data_version", "")) == NULL)
			return STATE_ERR;
		v = sqlite3_step(s) == SQLITE_ROW ? col_int(s, "data_version", -1)
		                                  : -1;
		st_done(st, s);
		if (v != st->store->data_version)
			return 1;
		if (state_now_ms() >= end)
			return 0;
		usleep(50000);
	}
}

/* Runs. */

static void
run_info_fill(sqlite3_stmt *s, struct run_info *r)
{
	r->id = col_int(s, "id", 0);
	r->runbook = col_text(s, "runbook");
	r->mode = col_text(s, "mode");
	r->state = col_text(s, "state");
	r->runbook_text = col_text(s, "runbook_text");
	r->runbook_sha = col_text(s, "runbook_sha");
	r->created_at = col_text(s, "created_at");
	r->ended_at = col_text(s, "ended_at");
	r->operator = col_text(s, "operator");
	r->step_hash = (int)col_int(s, "step_hash", 1);
	r->selection = col_text(s, "selection");
}

#define RUN_COLS "id, runbook, mode, state, runbook_text, runbook_sha," \
	" created_at, ended_at, operator, step_hash, selection"

static int
sqlite_run_latest(struct state *st, int open_only, struct run_info *r)
{
	sqlite3_stmt *s;
	int rc;

	s = st_query(st, open_only
	        ? "SELECT " RUN_COLS " FROM runs WHERE state='open'"
	          " ORDER BY id DESC LIMIT 1"
	        : "SELECT " RUN_COLS " FROM runs ORDER BY id DESC LIMIT 1",
	    "");
	if (s == NULL)
		return STATE_ERR;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		run_info_fill(s, r);
	st_done(st, s);
	if (rc == SQLITE_ROW)
		return STATE_OK;
	return rc == SQLITE_DONE ? STATE_NOTFOUND : st_fail(st, "read runs");
}

static int
sqlite_run_get(struct state *st, int64_t id, struct run_info *r)
{
	sqlite3_stmt *s;
	int rc;

	s = st_query(st, "SELECT " RUN_COLS " FROM runs WHERE id=?", "I", id);
	if (s == NULL)
		return STATE_ERR;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		run_info_fill(s, r);
	st_done(st, s);
	if (rc == SQLITE_ROW)
		return STATE_OK;
	return rc == SQLITE_DONE ? STATE_NOTFOUND : st_fail(st, "read runs");
}

static int
sqlite_run_list(struct state *st, struct run_info **out, size_t *n)
{
	sqlite3_stmt *s;
	struct run_info *v = NULL;
	size_t len = 0;
	int rc;

	s = st_query(st, "SELECT " RUN_COLS " FROM runs ORDER BY id", "");
	if (s == NULL)
		return STATE_ERR;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		v = xreallocarray(v, len + 1, sizeof *v);
		run_info_fill(s, &v[len++]);
	}
	st_done(st, s);
	*out = v;
	*n = len;
	return rc == SQLITE_DONE ? STATE_OK : st_fail(st, "read runs");
}

static int
sqlite_run_create(struct state *st, const char *runbook, const char *mode,
    const char *text, const char *sha, int64_t *id)
{
	char *now = store_time_text(state_now_ms());
	int opened = store_tx_enter(st), rc;

	if (opened < 0) {
		free(now);
		return STATE_ERR;
	}
	rc = st_run(st, "INSERT INTO runs(runbook, mode, state, runbook_text,"
	    " runbook_sha, created_at, operator, os_user, step_hash)"
	    " VALUES(?, ?, 'open', ?, ?, ?, ?, ?, ?)", "ttttttti", runbook, mode,
	    text, sha, now, st->operator, st->os_user, STATE_STEP_HASH);
	free(now);
	if (rc == STATE_OK) {
		*id = sqlite3_last_insert_rowid(st->store->db);
		rc = state_audit(st, *id, NULL, "run-start",
		    "runbook=%s mode=%s sha256=%s", runbook, mode, sha);
	}
	return store_tx_leave(st, opened, rc);
}

static int
sqlite_run_set_state(struct state *st, int64_t run, const char *state)
{
	char *now = store_time_text(state_now_ms());
	int opened = store_tx_enter(st), rc;

	if (opened < 0) {
		free(now);
		return STATE_ERR;
	}
	rc = st_run(st, "UPDATE runs SET state=?, ended_at=? WHERE id=?", "ttI",
	    state, strcmp(state, "open") == 0 ? NULL : now, run);
	free(now);
	if (rc == STATE_OK)
		rc = state_audit(st, run, NULL, "run-state", "%s", state);
	return store_tx_leave(st, opened, rc);
}

static int
sqlite_run_rollback_to(struct state *st, int64_t run, const char *to,
    char **out)
{
	sqlite3_stmt *s;
	int rc;

	if (out == NULL)
		return st_run(st, "UPDATE runs SET rollback_to=? WHERE id=?", "tI",
		    to, run);
	*out = NULL;
	s = st_query(st, "SELECT rollback_to FROM runs WHERE id=?", "I", run);
	if (s == NULL)
		return STATE_ERR;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*out = col_text(s, "rollback_to");
	st_done(st, s);
	return rc == SQLITE_ROW ? STATE_OK : STATE_NOTFOUND;
}

static int
sqlite_run_set_selection(struct state *st, int64_t run, const char *sel)
{
	return st_run(st, "UPDATE runs SET selection=? WHERE id=?", "tI", sel,
	    run);
}

static int
sqlite_step_set_undo(struct state *st, int64_t run, const char *id, int undo)
{
	return st_run(st, "UPDATE steps SET undo=? WHERE run=? AND id=?", "iIt",
	    undo, run, id);
}

static int
sqlite_run_set_runbook(struct state *st, int64_t run, const char *text,
    const char *sha)
{
	return st_run(st, "UPDATE runs SET runbook_text=?, runbook_sha=?"
	    " WHERE id=?", "ttI", text, sha, run);
}

/* Steps. */

#define STEP_COLS "id, idx, state, attempts, def_sha, started_at, ended_at," \
	" duration_ms, note, result, done_at, undo"

static void
step_row_fill(sqlite3_stmt *s, struct step_row *r)
{
	char *state = col_text(s, "state");

	r->id = col_text(s, "id");
	r->idx = (int)col_int(s, "idx", 0);
	if (state == NULL || step_state_parse(state, &r->state) != 0)
		r->state = ST_PENDING;
	free(state);
	r->attempts = (int)col_int(s, "attempts", 0);
	r->def_sha = col_text(s, "def_sha");
	r->started_ms = col_int(s, "started_at", -1);
	r->ended_ms = col_int(s, "ended_at", -1);
	r->started_at = store_time_text(r->started_ms);
	r->ended_at = store_time_text(r->ended_ms);
	r->duration_ms = col_int(s, "duration_ms", -1);
	r->note = col_text(s, "note");
	r->result = col_text(s, "result");
	r->done_ms = col_int(s, "done_at", -1);
	r->undo = (int)col_int(s, "undo", 0);
}

static int
sqlite_steps_load(struct state *st, int64_t run, struct step_row **out,
    size_t *n)
{
	sqlite3_stmt *s;
	struct step_row *v = NULL;
	size_t len = 0;
	int rc;

	s = st_query(st, "SELECT " STEP_COLS " FROM steps WHERE run=?"
	    " ORDER BY idx", "I", run);
	if (s == NULL)
		return STATE_ERR;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		v = xreallocarray(v, len + 1, sizeof *v);
		step_row_fill(s, &v[len++]);
	}
	st_done(st, s);
	*out = v;
	*n = len;
	return rc == SQLITE_DONE ? STATE_OK : st_fail(st, "read steps");
}

static int
sqlite_step_get(struct state *st, int64_t run, const char *id,
    struct step_row *r)
{
	sqlite3_stmt *s;
	int rc;

	s = st_query(st, "SELECT " STEP_COLS " FROM steps WHERE run=? AND id=?",
	    "It", run, id);
	if (s == NULL)
		return STATE_ERR;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		step_row_fill(s, r);
	st_done(st, s);
	if (rc == SQLITE_ROW)
		return STATE_OK;
	return rc == SQLITE_DONE ? STATE_NOTFOUND : st_fail(st, "read steps");
}

static int
sqlite_step_insert(struct state *st, int64_t run, const char *id, int idx,
    const char *def_sha)
{
	return st_run(st, "INSERT INTO steps(run, id, idx, state, def_sha)"
	    " VALUES(?, ?, ?, 'pending', ?)", "Itit", run, id, idx, def_sha);
}

static int
sqlite_step_delete(struct state *st, int64_t run, const char *id)
{
	return st_run(st, "DELETE FROM steps WHERE run=? AND id=?", "It", run,
	    id);
}

static int
sqlite_step_update_def(struct state *st, int64_t run, const char *id, int idx,
    const char *def_sha)
{
	return st_run(st, "UPDATE steps SET idx=?, def_sha=? WHERE run=? AND id=?",
	    "itIt", idx, def_sha, run, id);
}

/* Is a rollback of the step under way (its undo flag set)? */
static int
step_undoing(struct state *st, int64_t run, const char *id)
{
	sqlite3_stmt *s;
	int undo = 0;

	s = st_query(st, "SELECT undo FROM steps WHERE run=? AND id=?", "It",
	    run, id);
	if (s != NULL && sqlite3_step(s) == SQLITE_ROW)
		undo = (int)col_int(s, "undo", 0);
	st_done(st, s);
	return undo;
}

/* Is the step in one of the states of mask? STATE_NOTFOUND if no such step. */
static int
step_in(struct state *st, int64_t run, const char *id, unsigned mask)
{
	sqlite3_stmt *s;
	enum step_state cur = ST_PENDING;
	char *text = NULL;
	int rc;

	s = st_query(st, "SELECT state FROM steps WHERE run=? AND id=?", "It",
	    run, id);
	if (s == NULL)
		return STATE_ERR;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		text = col_text(s, "state");
	st_done(st, s);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? STATE_NOTFOUND : st_fail(st, "read");
	if (text == NULL || step_state_parse(text, &cur) != 0)
		cur = ST_PENDING;
	free(text);
	return (mask & ST_BIT(cur)) ? STATE_OK : STATE_CONFLICT;
}

static int
sqlite_step_transition(struct state *st, int64_t run, const char *id,
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
		rc = st_run(st, "UPDATE steps SET state=?, note=coalesce(?, note),"
		    " started_at=CASE WHEN ? THEN coalesce(started_at, ?)"
		    " ELSE started_at END,"
		    " ended_at=CASE WHEN ? THEN ? ELSE ended_at END,"
		    " duration_ms=CASE WHEN ? THEN ? - started_at"
		    " ELSE duration_ms END,"
		    " done_at=CASE WHEN ? THEN ? ELSE done_at END,"
		    " undo=CASE WHEN ? THEN 0 ELSE undo END"
		    " WHERE run=? AND id=?", "ttiIiIiIiIiIt",
		    step_state_name(to), note, fx.starts, now, fx.ends, now,
		    fx.ends, now, fx.done, now, fx.undo_clears, run, id);
	if (rc == STATE_OK)
		rc = state_audit(st, run, id, action, "%s%s%s",
		    step_state_name(to), details != NULL ? ": " : "",
		    details != NULL ? details : "");
	return store_tx_leave(st, opened, rc);
}

static int
sqlite_step_set_result(struct state *st, int64_t run, const char *id,
    const char *json)
{
	int opened = store_tx_enter(st), rc;

	if (opened < 0)
		return STATE_ERR;
	rc = st_run(st, "UPDATE steps SET result=? WHERE run=? AND id=?",
	    "tIt", json, run, id);
	if (rc == STATE_OK)
		rc = store_audit_result(st, run, id, json);
	return store_tx_leave(st, opened, rc);
}

/* Attempts. */

static int
sqlite_attempt_begin(struct state *st, int64_t run, const char *step,
    enum attempt_kind kind, unsigned from_mask, const char *host,
    int64_t pid, int64_t pgid, const char *token, int *n)
{
	sqlite3_stmt *s;
	int64_t now = state_now_ms();
	int opened = store_tx_enter(st), rc;

	if (opened < 0)
		return STATE_ERR;
	rc = step_in(st, run, step, from_mask);
	if (rc == STATE_OK) {
		s = st_query(st, "SELECT coalesce(max(n), 0) + 1 AS n FROM attempts"
		    " WHERE run=? AND step=?", "It", run, step);
		if (s == NULL || sqlite3_step(s) != SQLITE_ROW)
			rc = st_fail(st, "read attempts");
		else
			*n = (int)col_int(s, "n", 1);
		st_done(st, s);
	}
	if (rc == STATE_OK)
		rc = st_run(st, "INSERT INTO attempts(run, step, n, kind, state,"
		    " started_at, host, pid, pgid, operator, token)"
		    " VALUES(?, ?, ?, ?, 'running', ?, ?, ?, ?, ?, ?)",
		    "ItitItIItt", run, step, *n, attempt_kind_name(kind), now, host, pid,
		    pgid, st->operator, token);
	if (rc == STATE_OK && kind != ATT_ROLLBACK)
		rc = st_run(st, "UPDATE steps SET state='running',"
		    " attempts=attempts+1, started_at=coalesce(started_at, ?)"
		    " WHERE run=? AND id=?", "IIt", now, run, step);
	else if (rc == STATE_OK)
		rc = st_run(st, "UPDATE steps SET state='running', undo=1"
		    " WHERE run=? AND id=?", "It", run, step);
	if (rc == STATE_OK)
		rc = state_audit(st, run, step, "attempt-start",
		    pid > 0 ? "attempt %d (%s) running, pid %lld"
		            : "attempt %d (%s) running", *n,
		    attempt_kind_name(kind), (long long)pid);
	return store_tx_leave(st, opened, rc);
}

static int
sqlite_attempt_set_pid(struct state *st, int64_t run, const char *step, int n,
    int64_t pid, int64_t pgid)
{
	return st_run(st, "UPDATE attempts SET pid=?, pgid=? WHERE run=? AND"
	    " step=? AND n=?", "IIIti", pid, pgid, run, step, n);
}

static int
sqlite_attempt_output(struct state *st, int64_t run, const char *step, int n,
    const char *out, size_t len, int64_t total)
{
	return st_run(st, "UPDATE attempts SET output=?, output_total=?"
	    " WHERE run=? AND step=? AND n=?", "bIIti", out, len, total, run,
	    step, n);
}

static int
sqlite_attempt_finish(struct state *st, int64_t run, const char *step, int n,
    const char *astate, int exit_code, const char *message, const char *out,
    size_t len, int64_t total, enum step_state to)
{
	int64_t now = state_now_ms();
	struct step_effects fx;
	int opened = store_tx_enter(st), rc;

	if (opened < 0)
		return STATE_ERR;
	store_step_effects(to, &fx);
	rc = st_run(st, "UPDATE attempts SET state=?, ended_at=?, exit_code=?,"
	    " message=?, output=?, output_total=? WHERE run=? AND step=? AND n=?",
	    "tIitbIIti", astate, now, exit_code, message, out, len, total, run,
	    step, n);
	if (rc == STATE_OK && !step_undoing(st, run, step))
		rc = st_run(st, "UPDATE steps SET state=?, note=?, ended_at=?,"
		    " duration_ms=? - started_at, done_at=CASE WHEN ? THEN ?"
		    " ELSE done_at END WHERE run=? AND id=?", "ttIIiIIt",
		    step_state_name(to), message, now, now, fx.done, now, run,
		    step);
	else if (rc == STATE_OK)
		rc = st_run(st, "UPDATE steps SET state=?, note=?,"
		    " undo=CASE WHEN ? THEN 0 ELSE 1 END WHERE run=? AND id=?",
		    "ttiIt", step_state_name(to), message, fx.undo_over, run,
		    step);
	if (rc == STATE_OK)
		rc = store_audit_attempt_end(st, run, step, n, astate, exit_code,
		    message, out, len, total, to);
	return store_tx_leave(st, opened, rc);
}

#define ATTEMPT_COLS "step, n, kind, state, started_at, ended_at, exit_code," \
	" message, host, pid, pgid, output, output_total, operator, token"

static void
attempt_row_fill(sqlite3_stmt *s, struct attempt_row *a)
{
	char *kind = col_text(s, "kind");

	int64_t start = col_int(s, "started_at", -1);
	int64_t end = col_int(s, "ended_at", -1);
	const void *out;
	int i;

	a->step = col_text(s, "step");
	a->n = (int)col_int(s, "n", 0);
	a->kind = store_kind_parse(kind);
	free(kind);
	a->state = col_text(s, "state");
	a->started_at = store_time_text(start);
	a->ended_at = store_time_text(end);
	a->duration_ms = (start >= 0 && end >= 0) ? end - start : -1;
	a->exit_code = (int)col_int(s, "exit_code", -1);
	a->message = col_text(s, "message");
	a->host = col_text(s, "host");
	a->pid = col_int(s, "pid", 0);
	a->pgid = col_int(s, "pgid", 0);
	i = col_index(s, "output");
	out = sqlite3_column_blob(s, i);
	a->output_len = (size_t)sqlite3_column_bytes(s, i);
	a->output = xmalloc(a->output_len + 1);
	if (a->output_len > 0)
		memcpy(a->output, out, a->output_len);
	a->output[a->output_len] = '\0';
	a->output_total = col_int(s, "output_total", 0);
	a->operator = col_text(s, "operator");
	a->token = col_text(s, "token");
}

/* Collect the rows of a prepared attempts query. */
static int
attempts_collect(struct state *st, sqlite3_stmt *s, struct attempt_row **out,
    size_t *n)
{
	struct attempt_row *v = NULL;
	size_t len = 0;
	int rc;

	if (s == NULL)
		return STATE_ERR;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		v = xreallocarray(v, len + 1, sizeof *v);
		attempt_row_fill(s, &v[len++]);
	}
	st_done(st, s);
	*out = v;
	*n = len;
	return rc == SQLITE_DONE ? STATE_OK : st_fail(st, "read attempts");
}

static int
sqlite_attempts_list(struct state *st, int64_t run, const char *step, int n,
    struct attempt_row **out, size_t *len)
{
	return attempts_collect(st, st_query(st, "SELECT " ATTEMPT_COLS
	    " FROM attempts WHERE run=? AND step=? AND (?=0 OR n=?) ORDER BY n",
	    "Itii", run, step, n, n), out, len);
}

static int
sqlite_attempts_running(struct state *st, int64_t run, struct attempt_row **out,
    size_t *len)
{
	return attempts_collect(st, st_query(st, "SELECT " ATTEMPT_COLS
	    " FROM attempts WHERE run=? AND state='running' ORDER BY started_at",
	    "I", run), out, len);
}

static int
sqlite_attempt_interrupt(struct state *st, int64_t run, const char *step,
    int n, const char *message)
{
	int opened = store_tx_enter(st), rc;

	if (opened < 0)
		return STATE_ERR;
	rc = st_run(st, "UPDATE attempts SET state='interrupted', message=?"
	    " WHERE run=? AND step=? AND n=?", "tIti", message, run, step, n);
	if (rc == STATE_OK)
		rc = state_audit(st, run, step, "attempt-interrupted",
		    "attempt %d: %s", n, message);
	return store_tx_leave(st, opened, rc);
}

/* Decisions. */

static int
sqlite_decision_add(struct state *st, int64_t run, const char *step,
    const char *decision, const char *reason, const char *evidence)
{
	int opened = store_tx_enter(st), rc;

	if (opened < 0)
		return STATE_ERR;
	rc = st_run(st, "INSERT INTO decisions(run, step, operator, os_user,"
	    " decision, reason, at, evidence) VALUES(?, ?, ?, ?, ?, ?, ?, ?)",
	    "ItttttIt", run, step, st->operator, st->os_user, decision, reason,
	    state_now_ms(), evidence);
	if (rc == STATE_OK)
		rc = state_audit(st, run, step, "decide", "%s: %s", decision,
		    reason != NULL ? reason : "");
	return store_tx_leave(st, opened, rc);
}

static int
sqlite_decision_count(struct state *st, int64_t run, const char *step,
    int *go, int *nogo, int *by_me)
{
	sqlite3_stmt *s;
	int rc;

	s = st_query(st, "SELECT"
	    " count(DISTINCT CASE WHEN decision='go' THEN operator END) AS go,"
	    " count(CASE WHEN decision='no-go' THEN 1 END) AS nogo,"
	    " count(CASE WHEN operator=? THEN 1 END) AS mine"
	    " FROM decisions WHERE run=? AND step=? AND active=1", "tIt",
	    st->operator, run, step);
	if (s == NULL)
		return STATE_ERR;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*go = (int)col_int(s, "go", 0);
		*nogo = (int)col_int(s, "nogo", 0);
		*by_me = (int)col_int(s, "mine", 0);
	}
	st_done(st, s);
	return rc == SQLITE_ROW ? STATE_OK : st_fail(st, "read decisions");
}

static int
sqlite_decision_void(struct state *st, int64_t run, const char *step,
    const char *sha, int *n)
{
	int rc = st_run(st, "UPDATE decisions SET active=0 WHERE run=? AND"
	    " step=? AND active=1 AND decision='go' AND evidence IS NOT NULL"
	    " AND evidence<>?", "Itt", run, step, sha);

	*n = rc == STATE_OK ? sqlite3_changes(st->store->db) : 0;
	return rc;
}

static int
sqlite_entity_exclude(struct state *st, int64_t run, const char *entity,
    const char *reason)
{
	sqlite3_stmt *s;
	int rc;

	s = st_query(st, "SELECT 1 FROM entities WHERE run=? AND entity=?",
	    "It", run, entity);
	if (s == NULL)
		return STATE_ERR;
	rc = sqlite3_step(s);
	st_done(st, s);
	if (rc == SQLITE_ROW)
		return STATE_CONFLICT;
	if (rc != SQLITE_DONE)
		return st_fail(st, "read entities");
	return st_run(st, "INSERT INTO entities(run, entity, state, reason, at,"
	    " operator, os_user) VALUES(?, ?, 'excluded', ?, ?, ?, ?)",
	    "IttItt", run, entity, reason, state_now_ms(), st->operator,
	    st->os_user);
}

static int
sqlite_entities_load(struct state *st, int64_t run, struct entity_row **out,
    size_t *n)
{
	struct entity_row *v = NULL, *r;
	size_t len = 0;
	sqlite3_stmt *s;
	int rc;

	s = st_query(st, "SELECT entity, state, reason, at, operator"
	    " FROM entities WHERE run=? ORDER BY at, entity", "I", run);
	if (s == NULL)
		return STATE_ERR;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		v = xreallocarray(v, len + 1, sizeof *v);
		r = &v[len++];
		r->entity = col_text(s, "entity");
		r->state = col_text(s, "state");
		r->reason = col_text(s, "reason");
		r->at_ms = col_int(s, "at", 0);
		r->at = store_time_text(r->at_ms);
		r->operator = col_text(s, "operator");
	}
	st_done(st, s);
	*out = v;
	*n = len;
	return rc == SQLITE_DONE ? STATE_OK : st_fail(st, "read entities");
}

static int
sqlite_decision_reset(struct state *st, int64_t run, const char *step)
{
	return st_run(st, "UPDATE decisions SET active=0 WHERE run=? AND step=?",
	    "It", run, step);
}

/* The decisions at a step, oldest first. */
static int
sqlite_decision_list(struct state *st, int64_t run, const char *step,
    struct decision_row **out, size_t *n)
{
	struct decision_row *v = NULL, *d;
	size_t len = 0;
	sqlite3_stmt *s;
	int rc;

	s = st_query(st, "SELECT operator, decision, reason, at, active,"
	    " evidence FROM decisions WHERE run=? AND step=? ORDER BY id", "It",
	    run,
	    step);
	if (s == NULL)
		return STATE_ERR;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		v = xreallocarray(v, len + 1, sizeof *v);
		d = &v[len++];
		d->operator = col_text(s, "operator");
		d->decision = col_text(s, "decision");
		d->reason = col_text(s, "reason");
		d->at_ms = col_int(s, "at", 0);
		d->active = (int)col_int(s, "active", 1);
		d->evidence = col_text(s, "evidence");
	}
	st_done(st, s);
	*out = v;
	*n = len;
	return rc == SQLITE_DONE ? STATE_OK : st_fail(st, "read decisions");
}

/* Lease. */

/* Read the drivers row of a run. */
static int
sqlite_lease_read(struct state *st, int64_t run, struct lease_holder *h)
{
	sqlite3_stmt *s;
	int rc;

	memset(h, 0, sizeof *h);
	s = st_query(st, "SELECT pid, host, operator, heartbeat FROM drivers"
	    " WHERE run=?", "I", run);
	if (s == NULL)
		return STATE_ERR;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		h->pid = col_int(s, "pid", 0);
		h->host = col_text(s, "host");
		h->operator = col_text(s, "operator");
		h->heartbeat_ms = col_int(s, "heartbeat", 0);
	}
	st_done(st, s);
	if (rc == SQLITE_ROW)
		return STATE_OK;
	return rc == SQLITE_DONE ? STATE_NOTFOUND : st_fail(st, "read drivers");
}

/* Record this driver as the run's (replacing any other). */
static int
sqlite_lease_write(struct state *st, int64_t run, const char *host,
    int64_t pid)
{
	return st_run(st, "INSERT OR REPLACE INTO drivers(run, pid, host, operator,"
	    " started_at, heartbeat) VALUES(?, ?, ?, ?, ?, ?)", "IIttII", run,
	    pid, host, st->operator, state_now_ms(), state_now_ms());
}

static int
sqlite_lease_heartbeat(struct state *st, int64_t run)
{
	int rc;

	rc = st_run(st, "UPDATE drivers SET heartbeat=? WHERE run=? AND pid=?"
	    " AND host=?", "IIIt", state_now_ms(), run, (int64_t)getpid(),
	    st->host);
	if (rc == STATE_OK && sqlite3_changes(st->store->db) == 0)
		return STATE_CONFLICT;
	return rc;
}

static int
sqlite_lease_check(struct state *st, int64_t run)
{
	sqlite3_stmt *s;
	int rc;

	s = st_query(st, "SELECT 1 FROM drivers WHERE run=? AND pid=? AND host=?",
	    "IIt", run, (int64_t)getpid(), st->host);
	if (s == NULL)
		return STATE_ERR;
	rc = sqlite3_step(s);
	st_done(st, s);
	if (rc == SQLITE_ROW)
		return STATE_OK;
	return rc == SQLITE_DONE ? STATE_CONFLICT : st_fail(st, "read drivers");
}

static int
sqlite_lease_release(struct state *st, int64_t run)
{
	return st_run(st, "DELETE FROM drivers WHERE run=? AND pid=?", "II", run,
	    (int64_t)getpid());
}

/* Audit trail. */

/* The id, hash and time of the newest entry: 0 and NULLs in a new file. */
static int
sqlite_audit_last(struct state *st, int64_t *id, char **hash, char **at)
{
	sqlite3_stmt *s;
	int rc;

	*id = 0;
	*hash = NULL;
	*at = NULL;
	s = st_query(st, "SELECT id, hash, at FROM audit ORDER BY id DESC"
	    " LIMIT 1", "");
	if (s == NULL)
		return STATE_ERR;
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		*id = col_int(s, "id", 0);
		*hash = col_text(s, "hash");
		*at = col_text(s, "at");
	}
	st_done(st, s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? STATE_OK
	                                             : st_fail(st, "read audit");
}

static int
sqlite_audit_append(struct state *st, const struct audit_row *a)
{
	return st_run(st, "INSERT INTO audit(id, at, run, step, operator, os_user,"
	    " action, details, prev, hash) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	    "ItIttttttt", a->id, a->at, a->run, a->step, a->operator,
	    a->os_user, a->action, a->details, a->prev, a->hash);
}

static void
audit_row_fill(sqlite3_stmt *s, struct audit_row *a)
{
	a->id = col_int(s, "id", 0);
	a->at = col_text(s, "at");
	a->run = col_int(s, "run", 0);
	a->step = col_text(s, "step");
	a->operator = col_text(s, "operator");
	a->os_user = col_text(s, "os_user");
	a->action = col_text(s, "action");
	a->details = col_text(s, "details");
	a->prev = col_text(s, "prev");
	a->hash = col_text(s, "hash");
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
sqlite_audit_each(struct state *st, int64_t run,
    int (*fn)(const struct audit_row *, void *), void *arg)
{
	sqlite3_stmt *s;
	struct audit_row a;
	int rc, stop = 0;

	s = st_query(st, "SELECT id, at, run, step, operator, os_user, action,"
	    " details, prev, hash FROM audit WHERE (?<=0 OR run=?) ORDER BY id",
	    "II", run, run);
	if (s == NULL)
		return STATE_ERR;
	while (!stop && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		audit_row_fill(s, &a);
		stop = fn(&a, arg);
		audit_row_clear(&a);
	}
	st_done(st, s);
	return (stop || rc == SQLITE_DONE) ? STATE_OK : st_fail(st, "read audit");
}

/* One reconcile difference, inside the caller's transaction (store.h). */
static int
sqlite_diff_add(struct state *st, int64_t run, const char *step,
    const char *token, const struct diff_row *d)
{
	return st_run(st, "INSERT INTO diffs(run, step, token, seq, kind,"
	    " key, source, dest, columns) VALUES(?,?,?,?,?,?,?,?,?)",
	    "IttIttttt", run, step, token, d->seq, d->kind, d->key, d->source,
	    d->dest, d->columns);
}

static int
sqlite_diffs_each(struct state *st, int64_t run, const char *step,
    const char *token, int (*fn)(const struct diff_row *, void *), void *arg)
{
	sqlite3_stmt *s;
	struct diff_row d;
	int rc, stop = 0;

	s = st_query(st, "SELECT seq, kind, key, source, dest, columns FROM"
	    " diffs WHERE run=? AND step=? AND token=? ORDER BY seq", "Itt",
	    run, step, token);
	if (s == NULL)
		return STATE_ERR;
	while (!stop && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		d.seq = sqlite3_column_int64(s, 0);
		d.kind = (const char *)sqlite3_column_text(s, 1);
		d.key = (const char *)sqlite3_column_text(s, 2);
		d.source = (const char *)sqlite3_column_text(s, 3);
		d.dest = (const char *)sqlite3_column_text(s, 4);
		d.columns = (const char *)sqlite3_column_text(s, 5);
		stop = fn(&d, arg);
	}
	st_done(st, s);
	return (stop || rc == SQLITE_DONE) ? STATE_OK : st_fail(st,
	    "read differences");
}

/* Copying (state copy): the tables, and how their rows name their run. */
static const struct {
	const char *name, *run_col, *order;
} copy_tables[] = {
	{ "runs", "id", "id" },
	{ "steps", "run", "idx" },
	{ "attempts", "run", "step, n" },
	{ "decisions", "run", "id" },
	{ "entities", "run", "at, entity" },
};

static int
copy_table(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof copy_tables / sizeof copy_tables[0]; i++)
		if (strcmp(copy_tables[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* A row as a state_row, less a decision's own id (table 3). */
static void
copy_row_fill(sqlite3_stmt *s, int t, struct state_row *r)
{
	int c, type;
	size_t len;

	memset(r, 0, sizeof *r);
	for (c = 0; c < sqlite3_column_count(s) && r->n < STATE_ROW_MAX; c++) {
		if (t == 3 && strcmp(sqlite3_column_name(s, c), "id") == 0)
			continue;
		r->name[r->n] = xstrdup(sqlite3_column_name(s, c));
		type = sqlite3_column_type(s, c);
		if (type != SQLITE_NULL) {
			const void *v = type == SQLITE_BLOB
			    ? sqlite3_column_blob(s, c)
			    : (const void *)sqlite3_column_text(s, c);

			len = (size_t)sqlite3_column_bytes(s, c);
			r->value[r->n] = xmalloc(len + 1);
			if (len > 0)
				memcpy(r->value[r->n], v, len);
			r->value[r->n][len] = '\0';
			r->len[r->n] = len;
			r->blob[r->n] = type == SQLITE_BLOB;
		}
		r->n++;
	}
}

static int
sqlite_rows_each(struct state *st, const char *table, int64_t run,
    int (*fn)(const struct state_row *, void *), void *arg)
{
	struct state_row r;
	sqlite3_stmt *s;
	char *sql;
	int t = copy_table(table), i, rc, stop = 0;

	if (t < 0)
		return store_fail(st, "no table %s", table);
	sql = xprintf("SELECT * FROM %s WHERE %s=? ORDER BY %s",
	    copy_tables[t].name, copy_tables[t].run_col, copy_tables[t].order);
	s = st_query(st, sql, "I", run);
	free(sql);
	if (s == NULL)
		return STATE_ERR;
	while (!stop && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		copy_row_fill(s, t, &r);
		stop = fn(&r, arg);
		for (i = 0; i < r.n; i++) {
			free(r.name[i]);
			free(r.value[i]);
		}
	}
	st_done(st, s);
	return (stop || rc == SQLITE_DONE) ? STATE_OK : st_fail(st, "read");
}

/* Put a copied row in, as given, but a new id for a run (or decision). */
static int
sqlite_row_put(struct state *st, const char *table, const struct state_row *r,
    int64_t *id)
{
	sqlite3_stmt *s;
	char *cols = xstrdup(""), *vals = xstrdup(""), *more;
	int t = copy_table(table), i, n = 0, rc = SQLITE_OK;

	if (t < 0)
		return store_fail(st, "no table %s", table);
	for (i = 0; i < r->n; i++) {
		if (strcmp(r->name[i], "id") == 0 && (t == 0 || t == 3))
			continue;
		more = sqlite3_mprintf("%s%s\"%w\"", cols, n ? ", " : "",
		    r->name[i]);
		free(cols);
		cols = xstrdup(more);
		sqlite3_free(more);
		more = xprintf("%s%s?", vals, n++ ? ", " : "");
		free(vals);
		vals = more;
	}
	more = xprintf("INSERT INTO %s(%s) VALUES(%s)", table, cols, vals);
	free(cols);
	free(vals);
	if (sqlite3_prepare_v2(st->store->db, more, -1, &s, NULL) != SQLITE_OK) {
		free(more);
		return st_fail(st, "copy");
	}
	free(more);
	for (i = 0, n = 0; rc == SQLITE_OK && i < r->n; i++) {
		if (strcmp(r->name[i], "id") == 0 && (t == 0 || t == 3))
			continue;
		if (r->value[i] == NULL)
			rc = sqlite3_bind_null(s, ++n);
		else if (r->blob[i])
			rc = sqlite3_bind_blob64(s, ++n, r->value[i], r->len[i],
			    SQLITE_TRANSIENT);
		else
			rc = sqlite3_bind_text(s, ++n, r->value[i], -1,
			    SQLITE_TRANSIENT);
	}
	rc = rc == SQLITE_OK ? sqlite3_step(s) : rc;
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return st_fail(st, "copy");
	if (id != NULL)
		*id = sqlite3_last_insert_rowid(st->store->db);
	return STATE_OK;
}

/* The outbox. */

static int
sqlite_outbox_add(struct state *st, const struct outbox_row *r)
{
	return st_run(st, "INSERT INTO outbox(event, run, sink, type, step,"
	    " entity, state, operator, message, at)"
	    " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", "tItttttttI", r->event, r->run, r->sink, r->type, r->step,
	    r->entity, r->state, r->operator, r->message, r->at_ms);
}

/* Undelivered rows due at now, oldest first. */
static int
sqlite_outbox_due(struct state *st, int64_t now, size_t max,
    struct outbox_row **out, size_t *n)
{
	struct outbox_row *v = NULL, *r;
	size_t len = 0;
	sqlite3_stmt *s;
	int rc;

	s = st_query(st, "SELECT o.id, event, run, sink, type, step, entity,"
	    " o.state, o.operator, message, at, tries, fails, next_at,"
	    " r.runbook FROM outbox o JOIN runs r ON r.id=o.run"
	    " WHERE sent_at IS NULL AND next_at<=? ORDER BY o.id LIMIT ?",
	    "II", now, (int64_t)max);
	if (s == NULL)
		return STATE_ERR;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		v = xreallocarray(v, len + 1, sizeof *v);
		r = &v[len++];
		r->id = col_int(s, "id", 0);
		r->event = col_text(s, "event");
		r->run = col_int(s, "run", 0);
		r->runbook = col_text(s, "runbook");
		r->sink = col_text(s, "sink");
		r->type = col_text(s, "type");
		r->step = col_text(s, "step");
		r->entity = col_text(s, "entity");
		r->state = col_text(s, "state");
		r->operator = col_text(s, "operator");
		r->message = col_text(s, "message");
		r->at_ms = col_int(s, "at", 0);
		r->tries = (int)col_int(s, "tries", 0);
		r->fails = (int)col_int(s, "fails", 0);
		r->next_ms = col_int(s, "next_at", 0);
	}
	st_done(st, s);
	*out = v;
	*n = len;
	return rc == SQLITE_DONE ? STATE_OK : st_fail(st, "read the outbox");
}

static int
sqlite_outbox_mark(struct state *st, int64_t id, int ok, const char *error,
    int64_t next_ms)
{
	int64_t now = state_now_ms();

	if (ok)
		return st_run(st, "UPDATE outbox SET tries=tries+1, sent_at=?"
		    " WHERE id=?", "II", now, id);
	return st_run(st, "UPDATE outbox SET tries=tries+1, fails=fails+1,"
	    " error=?, error_at=?, next_at=? WHERE id=?", "tIII", error, now,
	    next_ms, id);
}

static int
sqlite_outbox_stats(struct state *st, int64_t run, struct outbox_stats *o)
{
	sqlite3_stmt *s;
	int rc;

	s = st_query(st, "SELECT count(CASE WHEN sent_at IS NULL THEN 1 END)"
	    " AS pending, count(CASE WHEN sent_at IS NULL AND tries>0 THEN 1"
	    " END) AS failing, coalesce(sum(fails), 0) AS failures,"
	    " count(sent_at) AS delivered, (SELECT sink || ': ' || error FROM"
	    " outbox WHERE error IS NOT NULL AND (?1<=0 OR run=?1)"
	    " ORDER BY error_at DESC, id DESC LIMIT 1) AS last_error,"
	    " max(error_at) AS last_error_at FROM outbox"
	    " WHERE ?1<=0 OR run=?1", "I", run);
	if (s == NULL)
		return STATE_ERR;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		o->pending = col_int(s, "pending", 0);
		o->failing = col_int(s, "failing", 0);
		o->failures = col_int(s, "failures", 0);
		o->delivered = col_int(s, "delivered", 0);
		o->last_error = col_text(s, "last_error");
		o->last_error_ms = col_int(s, "last_error_at", -1);
	}
	st_done(st, s);
	return rc == SQLITE_ROW ? STATE_OK : st_fail(st, "read the outbox");
}

const struct store_ops store_sqlite = {
	.name = "sqlite",
	.open = sqlite_open,
	.close = sqlite_close,
	.changed = sqlite_changed,
	.wait = sqlite_wait,
	.moved = sqlite_moved,
	.save = sqlite_save,
	.set_durable = sqlite_set_durable,
	.begin = sqlite_begin,
	.commit = sqlite_commit,
	.rollback = sqlite_rollback,
	.run_latest = sqlite_run_latest,
	.run_get = sqlite_run_get,
	.run_list = sqlite_run_list,
	.run_create = sqlite_run_create,
	.run_set_state = sqlite_run_set_state,
	.run_set_runbook = sqlite_run_set_runbook,
	.run_rollback_to = sqlite_run_rollback_to,
	.steps_load = sqlite_steps_load,
	.step_get = sqlite_step_get,
	.step_insert = sqlite_step_insert,
	.step_delete = sqlite_step_delete,
	.step_update_def = sqlite_step_update_def,
	.step_set_undo = sqlite_step_set_undo,
	.step_transition = sqlite_step_transition,
	.step_set_result = sqlite_step_set_result,
	.diff_add = sqlite_diff_add,
	.diffs_each = sqlite_diffs_each,
	.attempt_begin = sqlite_attempt_begin,
	.attempt_set_pid = sqlite_attempt_set_pid,
	.attempt_output = sqlite_attempt_output,
	.attempt_finish = sqlite_attempt_finish,
	.attempts_list = sqlite_attempts_list,
	.attempts_running = sqlite_attempts_running,
	.attempt_interrupt = sqlite_attempt_interrupt,
	.decision_add = sqlite_decision_add,
	.decision_count = sqlite_decision_count,
	.decision_reset = sqlite_decision_reset,
	.decision_void = sqlite_decision_void,
	.entity_exclude = sqlite_entity_exclude,
	.entities_load = sqlite_entities_load,
	.run_set_selection = sqlite_run_set_selection,
	.decision_list = sqlite_decision_list,
	.lease_read = sqlite_lease_read,
	.lease_write = sqlite_lease_write,
	.lease_heartbeat = sqlite_lease_heartbeat,
	.lease_check = sqlite_lease_check,
	.lease_release = sqlite_lease_release,
	.audit_last = sqlite_audit_last,
	.audit_append = sqlite_audit_append,
	.audit_each = sqlite_audit_each,
	.rows_each = sqlite_rows_each,
	.row_put = sqlite_row_put,
	.outbox_add = sqlite_outbox_add,
	.outbox_due = sqlite_outbox_due,
	.outbox_mark = sqlite_outbox_mark,
	.outbox_stats = sqlite_outbox_stats,
};
