/*
 * target-kind.c - the target kinds, one row per type (see target-kind.h).
 */
#include "config.h"

#include <stdlib.h>

#include "exec.h"
#include "odbc.h"
#include "target-kind.h"
#include "xmalloc.h"

static void target_odbc_secrets(const struct runbook *,
    const struct rb_target *, char ***, size_t *);

static const struct target_kind target_kind_ssh = {
	.type = TARGET_SSH,
	.name = "ssh",
};

/* Its conninfo's password is added by the engine (pg.h). */
static const struct target_kind target_kind_postgres = {
	.type = TARGET_POSTGRES,
	.name = "postgres",
	.sql = &exec_sql_ops,
};

static const struct target_kind target_kind_odbc = {
	.type = TARGET_ODBC,
	.name = "odbc",
	.sql = &exec_odbc_ops,
	.secrets = target_odbc_secrets,
};

/* The one list, in the order of enum target_type. */
static const struct target_kind *const target_kinds[TARGET_NTYPES] = {
	[TARGET_SSH] = &target_kind_ssh,
	[TARGET_POSTGRES] = &target_kind_postgres,
	[TARGET_ODBC] = &target_kind_odbc,
};

const struct target_kind *
target_kind(enum target_type t)
{
	if ((int)t < 0 || t >= TARGET_NTYPES)
		return NULL;
	return target_kinds[t];
}

void
target_kind_secrets(const struct runbook *rb, char ***list)
{
	const struct target_kind *k;
	size_t i, n;

	for (n = 0; (*list)[n] != NULL; n++)
		;
	for (i = 0; i < rb->ntargets; i++) {
		k = target_kind(rb->targets[i].type);
		if (k != NULL && k->secrets != NULL)
			k->secrets(rb, &rb->targets[i], list, &n);
	}
}

/* The password in the expanded connection string, if it can be had now. */
static void
target_odbc_secrets(const struct runbook *rb, const struct rb_target *t,
    char ***list, size_t *n)
{
	char *connstr, *pw, *err = NULL;

	if (t->connection == NULL ||
	    (connstr = odbc_connection_expand(rb, t, &err)) == NULL) {
		free(err);
		return;
	}
	pw = odbc_connection_password(connstr);
	free(connstr);
	if (pw == NULL || *pw == '\0') {
		free(pw);
		return;
	}
	*list = xreallocarray(*list, *n + 2, sizeof **list);
	(*list)[(*n)++] = pw;
	(*list)[*n] = NULL;
}
