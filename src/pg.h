/*
 * pg.h - what the PostgreSQL users (sql steps, reconcile steps, the
 * engine's redaction) share about libpq.
 */
#ifndef CUTOVER_PG_H
#define CUTOVER_PG_H

#include <sys/types.h>

#include <libpq-fe.h>

#define PG_CANCEL_HELPER_S 10 /* the cancel helper's own time limit */

/*
 * The password in a conninfo string: 0 with *password a new string (NULL
 * when there is none), or -1 when libpq cannot parse it, with *why its
 * message (new, may quote the password: redact before showing it).
 */
int pg_conninfo_password(const char *conninfo, char **password, char **why);

/*
 * Ask the server to cancel what conn runs. PQcancel blocks, so it runs in
 * a child of its own, which gives up after PG_CANCEL_HELPER_S; returns the
 * child's pid to reap (0 if nothing was sent).
 */
pid_t pg_cancel_in_child(PGconn *conn);

#endif
