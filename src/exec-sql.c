/*
 * exec-sql.c - sql steps. Not implemented in this version: starting one
 * fails with a clear message, so a runbook that uses them still lints and
 * its other steps still run.
 */
#include "config.h"

#include <stddef.h>

#include "exec.h"
#include "xmalloc.h"

static struct exec *sql_start(const struct exec_req *, char **);

const struct exec_ops exec_sql_ops = {
	.name = "sql",
	.start = sql_start,
};

static struct exec *
sql_start(const struct exec_req *req, char **err)
{
	(void)req;
	*err = xstrdup("sql steps are not supported yet");
	return NULL;
}

void
exec_sql_shutdown(void)
{
}
