/* pg.c - small libpq helpers shared by sql and reconcile steps. */
#include "config.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pg.h"
#include "xmalloc.h"

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
