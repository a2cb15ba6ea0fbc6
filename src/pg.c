/*
 * pg.c - libpq helpers shared by sql and reconcile steps and the engine:
 * passwords and parse errors
 * without the conninfo, resolving a conninfo as libpq would (for the TLS
 * rule of live runs, pg-conninfo.c), the cancel helper, and
 * the attempt's sessions (application_name) and their ending by a later
 * driver. The loop-driven connection itself is pg-conn.c.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "expand.h"
#include "pg.h"
#include "xmalloc.h"

#define PG_END_CANCEL_MS 1000 /* then pg_terminate_backend */
#define PG_END_POLL_MS 50

static const char *pg_env_get(const char *const *, const char *);
static PGconn *pg_connect_blocking(const char *, const char *, char **);
static int pg_end_sessions(PGconn *, const char *, int64_t, char **);
static int pg_sessions(PGconn *, const char *, const char *, int *, char **);
static int pg_self_visible(PGconn *, const char *, char **);
static int64_t pg_now_ms(void);

int
pg_conninfo_password(const char *conninfo, char **password, char **why)
{
	PQconninfoOption *opts, *o;
	char *perr = NULL;

	*password = NULL;
	if (why != NULL)
		*why = NULL;
	if ((opts = PQconninfoParse(conninfo, &perr)) == NULL) {
		if (why != NULL)
			*why = xstrdup(perr != NULL ? perr : "cannot parse it");
		PQfreemem(perr);
		return -1;
	}
	for (o = opts; o->keyword != NULL; o++) {
		if (strcmp(o->keyword, "password") == 0 && o->val != NULL &&
		    *o->val != '\0') {
			free(*password);
			*password = xstrdup(o->val);
		}
	}
	PQconninfoFree(opts);
	return 0;
}

pid_t
pg_cancel_in_child(PGconn *conn)
{
	PGcancel *cancel;
	char err[256];
	pid_t pid;

	if (conn == NULL || (cancel = PQgetCancel(conn)) == NULL)
		return 0;
	pid = fork();
	if (pid == 0) {
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		signal(SIGCHLD, SIG_DFL);
		signal(SIGALRM, SIG_DFL);
		alarm(PG_CANCEL_HELPER_S);
		_exit(PQcancel(cancel, err, sizeof err) ? 0 : 1);
	}
	PQfreeCancel(cancel);
	return pid > 0 ? pid : 0;
}

char *
pg_appname(const char *token)
{
	char *name;

	xasprintf(&name, "cutover %s", token);
	if (strlen(name) > PG_APPNAME_MAX)
		name[PG_APPNAME_MAX] = '\0';
	return name;
}

/* The value of NAME in a NULL-terminated "NAME=value" list, or NULL. */
static const char *
pg_env_get(const char *const *env, const char *name)
{
	size_t n = strlen(name);

	for (; env != NULL && *env != NULL; env++) {
		if (strncmp(*env, name, n) == 0 && (*env)[n] == '=')
			return *env + n + 1;
	}
	return NULL;
}

char *
pg_appname_from_env(const char *const *env)
{
	const char *token = pg_env_get(env, "CUTOVER_ATTEMPT");

	return token != NULL && *token != '\0' ? pg_appname(token) : NULL;
}

int
pg_live_refuses(const char *const *env, int insecure, const char *target,
    const char *conninfo, char **err)
{
	const char *mode = pg_env_get(env, "CUTOVER_MODE");
	char *why;

	if (insecure || mode == NULL || strcmp(mode, "live") != 0 ||
	    pg_conninfo_tls(conninfo, &why) == 0)
		return 0;
	xasprintf(err, "target %s: a live run refuses it: %s; set "
	    "sslmode=verify-full (or verify-ca) in its conninfo, or tls: "
	    "insecure on the target", target, why);
	free(why);
	return -1;
}

int
pg_attempt_end(const char *conninfo, const char *token, int64_t wait_ms,
    char **why)
{
	char *name = pg_appname(token), *self, *recover_token;
	int rc = PG_END_UNKNOWN;
	PGconn *pg;

	*why = NULL;
	xasprintf(&recover_token, "recover %s", token);
	self = pg_appname(recover_token);
	free(recover_token);
	if ((pg = pg_connect_blocking(conninfo, self, why)) != NULL &&
	    pg_self_visible(pg, self, why) == 0)
		rc = pg_end_sessions(pg, name, wait_ms, why);
	if (pg != NULL)
		PQfinish(pg);
	free(name);
	free(self);
	return rc;
}

/* Cancel, then terminate, the sessions named name; wait until none is. */
static int
pg_end_sessions(PGconn *pg, const char *name, int64_t wait_ms, char **why)
{
	int64_t start = pg_now_ms(), elapsed;
	int n, pid = 0, round, terminated = 0;
	const char *call;

	for (round = 0;; round++) {
		elapsed = pg_now_ms() - start;
		call = "true";
		if (round == 0)
			call = "pg_cancel_backend(pid)";
		else if (!terminated && elapsed >= PG_END_CANCEL_MS) {
			call = "pg_terminate_backend(pid)";
			terminated = 1;
		}
		if ((n = pg_sessions(pg, name, call, &pid, why)) < 0)
			return PG_END_UNKNOWN;
		if (n == 0)
			return PG_END_GONE;
		if (elapsed >= wait_ms)
			break;
		usleep(PG_END_POLL_MS * 1000);
	}
	xasprintf(why, "session %d (application_name \"%s\") would not end; "
	    "end it on the server (SELECT pg_terminate_backend(%d)), then "
	    "try again", pid, name, pid);
	return PG_END_STUCK;
}

/* Connect and wait; NULL with *why if the server cannot be reached. */
static PGconn *
pg_connect_blocking(const char *conninfo, const char *appname, char **why)
{
	const char *keys[] = { "dbname", "application_name", "connect_timeout",
		NULL };
	const char *values[] = { conninfo, appname, "10", NULL };
	PGconn *pg = PQconnectdbParams(keys, values, 1);
	char *line;

	if (pg != NULL && PQstatus(pg) == CONNECTION_OK)
		return pg;
	line = pg_first_line(pg != NULL ? PQerrorMessage(pg) : "out of memory");
	xasprintf(why, "could not connect: %s", *line != '\0' ? line :
	    "unknown error");
	free(line);
	PQfinish(pg);
	return NULL;
}

/*
 * pg_stat_activity must show this very session under its name; if it does
 * not (no rights to read it, a pooler in between), it proves nothing.
 */
static int
pg_self_visible(PGconn *pg, const char *self, char **why)
{
	const char *params[] = { self };
	PGresult *res;
	char *line;
	int ok;

	res = PQexecParams(pg, "SELECT count(*) FROM pg_stat_activity WHERE "
	    "pid = pg_backend_pid() AND application_name = $1", 1, NULL,
	    params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		line = pg_first_line(PQerrorMessage(pg));
		xasprintf(why, "cannot read pg_stat_activity: %s", line);
		free(line);
		PQclear(res);
		return -1;
	}
	ok = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "1") == 0;
	PQclear(res);
	if (!ok)
		*why = xstrdup("pg_stat_activity does not show this session "
		    "(a connection pooler, or too few rights to read it)");
	return ok ? 0 : -1;
}

/*
 * The other sessions named name, each passed to call (a function of pid,
 * or "true"): their count, the last one's pid in *pid; -1 with *why.
 */
static int
pg_sessions(PGconn *pg, const char *name, const char *call, int *pid,
    char **why)
{
	const char *params[] = { name };
	PGresult *res;
	char *sql, *line;
	int n;

	xasprintf(&sql, "SELECT pid, %s FROM pg_stat_activity WHERE "
	    "application_name = $1 AND pid <> pg_backend_pid()", call);
	res = PQexecParams(pg, sql, 1, NULL, params, NULL, NULL, 0);
	free(sql);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		line = pg_first_line(PQerrorMessage(pg));
		xasprintf(why, "could not end session \"%s\": %s", name, line);
		free(line);
		PQclear(res);
		return -1;
	}
	if ((n = PQntuples(res)) > 0) {
		*pid = atoi(PQgetvalue(res, n - 1, 0));
	}
	PQclear(res);
	return n;
}

char *
pg_first_line(const char *s)
{
	return xstrndup(s, strcspn(s, "\n"));
}

static int64_t
pg_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

char *
pg_conninfo_error(const char *target, const char *perr)
{
	static const char option[] = "invalid connection option \"";
	char *msg, *line = xstrndup(perr != NULL ? perr : "",
	    strcspn(perr != NULL ? perr : "", "\n"));

	/* libpq's other messages may quote any part of it, the password too. */
	if (strncmp(line, option, sizeof option - 1) == 0)
		xasprintf(&msg, "invalid conninfo for target %s: %s", target,
		    line);
	else
		xasprintf(&msg, "invalid conninfo for target %s (libpq cannot "
		    "parse it; its message is not shown, as it may quote the "
		    "password)", target);
	free(line);
	return msg;
}

