/*
 * pg.h - what the PostgreSQL users (sql steps, reconcile steps, the
 * engine's redaction) share about libpq.
 */
#ifndef CUTOVER_PG_H
#define CUTOVER_PG_H

#include <stdint.h>
#include <sys/types.h>

#include <libpq-fe.h>

struct runbook;
struct rb_entity;

#define PG_CANCEL_HELPER_S 10 /* the cancel helper's own time limit */

/* The first line of a libpq message, without its newline (new). */
char *pg_first_line(const char *);

/*
 * The password in a conninfo string: 0 with *password a new string (NULL
 * when there is none), or -1 when libpq cannot parse it, with *why its
 * message (new, may quote the password: redact before showing it).
 */
int pg_conninfo_password(const char *conninfo, char **password, char **why);

/*
 * Expand a target's conninfo. In keyword=value form, a ${...} that stands
 * in a value is inserted with its blanks, quotes and backslashes escaped
 * (libpq's rules), so that whatever it holds stays that one value and adds
 * no keyword; one that stands where a keyword would (a whole conninfo in a
 * variable) is inserted as it is, and so is every value of a URI. NULL with
 * *err (new) as expand_text.
 */
char *pg_conninfo_expand(const struct runbook *, const char *tmpl,
    char **err);
/* The same for a target used by an instance of a for_each phase: its
 * ${entity.*} are entity's (NULL: none, as pg_conninfo_expand). */
char *pg_conninfo_expand_entity(const struct runbook *,
    const struct rb_entity *, const char *tmpl, char **err);

/*
 * "invalid conninfo for target NAME: REASON" for libpq's parse error perr,
 * whose text is kept only when it names an unknown keyword: its other
 * messages may quote any part of the conninfo, the password too. New.
 */
char *pg_conninfo_error(const char *target, const char *perr);

/*
 * Would conninfo go to the network unverified? Its options are resolved
 * as libpq would (its service file entry, PGHOST, PGSSLMODE, ...). 0 if
 * each host is a Unix socket or loopback (127.0.0.0/8, ::1, localhost),
 * or sslmode is verify-full or verify-ca; -1 with *why (new) naming the
 * first other host; 1 with *why when libpq cannot parse or resolve it.
 * No name is looked up, nothing is contacted.
 */
int pg_conninfo_tls(const char *conninfo, char **why);

/*
 * The options libpq would connect to conninfo with, resolved (its service
 * file entry, PGHOST, PGSSLMODE, ...): 0 with host, hostaddr and sslmode
 * (new strings, "" when unset), or 1 with *why (new) when libpq cannot
 * parse or resolve it. Nothing is contacted. One implementation,
 * pg-resolve-dl.c, for both programs: it loads libpq on first use, so the
 * front (which lints and does not link libpq) pays for it only then; in
 * the engine, which links libpq, loading it finds the library loaded.
 */
int pg_conninfo_resolve(const char *conninfo, char **host, char **hostaddr,
    char **sslmode, char **why);

/*
 * In a live run (CUTOVER_MODE=live in env, a NULL-terminated "NAME=value"
 * list), refuse a conninfo that pg_conninfo_tls finds unverified, unless
 * the target says tls: insecure (insecure non-zero): -1 with *err (new,
 * naming target). 0 otherwise. Nothing is contacted.
 */
int pg_live_refuses(const char *const *env, int insecure, const char *target,
    const char *conninfo, char **err);

/*
 * Ask the server to cancel what conn runs. PQcancel blocks, so it runs in
 * a child of its own, which gives up after PG_CANCEL_HELPER_S; returns the
 * child's pid to reap (0 if nothing was sent).
 */
pid_t pg_cancel_in_child(PGconn *conn);

/*
 * Attempts and their sessions. Every session that runs an attempt's SQL
 * carries application_name "cutover TOKEN" (TOKEN: the attempt's
 * CUTOVER_ATTEMPT), so that a later driver finds it in pg_stat_activity
 * when the driver that started it died.
 */
#define PG_APPNAME_MAX 63 /* NAMEDATALEN - 1: the server cuts it there */

/* "cutover TOKEN" for the CUTOVER_ATTEMPT in env (NULL-terminated
 * "NAME=value" list), cut to PG_APPNAME_MAX bytes; NULL if env has none.
 * The caller frees it. */
char *pg_appname_from_env(const char *const *env);
/* The same for a token. */
char *pg_appname(const char *token);

/* What pg_attempt_end found (the values of EXEC_ORPHAN_*). */
enum { PG_END_GONE = 0, PG_END_UNKNOWN = 1, PG_END_STUCK = -1 };

/*
 * End every session carrying the application name of token on the server
 * conninfo leads to: pg_cancel_backend, and pg_terminate_backend for one
 * still there after a second; then wait until none is left in
 * pg_stat_activity (a session whose statement commits meanwhile leaves
 * too: its client is gone), at most wait_ms. Blocks; connecting is bounded
 * by connect_timeout.
 *   PG_END_GONE: no such session any more.
 *   PG_END_UNKNOWN: the server could not be reached, or pg_stat_activity
 *     could not be read or does not show this session, or a session could
 *     not be signalled (permissions): *why (new) says what happened.
 *   PG_END_STUCK: a session would not end within wait_ms: *why says which.
 * *why comes from libpq and the server and may quote the conninfo: redact
 * before showing it.
 */
int pg_attempt_end(const char *conninfo, const char *token, int64_t wait_ms,
    char **why);

#endif
