/*
 * target-kind.h - what each target type is, in one table: its name, the
 * executor of sql steps on it, and the secrets its definition holds.
 *
 * As step-kind.h for steps: one const struct target_kind per type, listed
 * once in target-kind.c. Adding a database type is its executor's file and
 * one row here; callers ask the table, never `type == TARGET_...`.
 */
#ifndef CUTOVER_TARGET_KIND_H
#define CUTOVER_TARGET_KIND_H

#include "runbook.h"

struct exec_ops;

struct target_kind {
	enum target_type type;
	const char *name; /* as runbooks spell it */
	/* Runs sql steps on targets of the type; NULL: none can. */
	const struct exec_ops *sql;
};

/* The row of type t (NULL for a type the loader does not accept). */
const struct target_kind *target_kind(enum target_type);

/* The executor of sql steps: the one of each step's target type. */
extern const struct exec_ops exec_target_sql_ops;

#endif
