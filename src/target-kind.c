/*
 * target-kind.c - the target kinds, one row per type (see target-kind.h).
 */
#include "config.h"

#include <stdlib.h>

#include "exec.h"
#include "target-kind.h"
#include "xmalloc.h"

static const struct target_kind target_kind_ssh = {
	.type = TARGET_SSH,
	.name = "ssh",
};

static const struct target_kind target_kind_postgres = {
	.type = TARGET_POSTGRES,
	.name = "postgres",
	.sql = &exec_sql_ops,
};

static const struct target_kind target_kind_odbc = {
	.type = TARGET_ODBC,
	.name = "odbc",
	.sql = &exec_odbc_ops,
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
