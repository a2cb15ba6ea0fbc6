/*
 * step-kind.c - the step kinds, one row per type (see step-kind.h).
 */
#include "config.h"

#include <stddef.h>

#include "exec.h"
#include "step-kind.h"
#include "target-kind.h"

#define UNDO_HOW_ACTION "runs its rollback action"
#define UNDO_HOW_PERSON "by hand: a person confirms"

static const struct step_kind step_kind_local = {
	.type = STEP_LOCAL,
	.name = "local",
	.who = WHO_ENGINE,
	.undo = UNDO_ACTION,
	.undo_how = UNDO_HOW_ACTION,
	.ops = &exec_local_ops,
};

static const struct step_kind step_kind_ssh = {
	.type = STEP_SSH,
	.name = "ssh",
	.undo = UNDO_ACTION,
	.undo_how = UNDO_HOW_ACTION,
	.ops = &exec_ssh_ops,
	.lingers = 1,
};

static const struct step_kind step_kind_sql = {
	.type = STEP_SQL,
	.name = "sql",
	.undo = UNDO_ACTION,
	.undo_how = UNDO_HOW_ACTION,
	.ops = &exec_target_sql_ops, /* the target type's (target-kind.h) */
};

static const struct step_kind step_kind_reconcile = {
	.type = STEP_RECONCILE,
	.name = "reconcile",
	.undo = UNDO_NOTHING,
	.undo_how = "nothing to undo (it only read)",
	.ops = &exec_reconcile_ops,
};

static const struct step_kind step_kind_manual = {
	.type = STEP_MANUAL,
	.name = "manual",
	.who = WHO_CONFIRM,
	.by = "confirmed",
	.undo = UNDO_PERSON,
	.undo_how = UNDO_HOW_PERSON,
};

static const struct step_kind step_kind_checkpoint = {
	.type = STEP_CHECKPOINT,
	.name = "checkpoint",
	.who = WHO_DECIDE,
	.by = "decided",
	.undo = UNDO_GATE,
	.undo_how = "back to pending",
};

/* The one list, in the order of enum step_type. */
static const struct step_kind *const step_kinds[STEP_NTYPES] = {
	[STEP_LOCAL] = &step_kind_local,
	[STEP_SSH] = &step_kind_ssh,
	[STEP_SQL] = &step_kind_sql,
	[STEP_RECONCILE] = &step_kind_reconcile,
	[STEP_MANUAL] = &step_kind_manual,
	[STEP_CHECKPOINT] = &step_kind_checkpoint,
};

const struct step_kind *
step_kind(enum step_type t)
{
	if ((int)t < 0 || t >= STEP_NTYPES)
		return NULL;
	return step_kinds[t];
}

int
step_kind_is_person(enum step_type t)
{
	const struct step_kind *k = step_kind(t);

	return k != NULL && k->who != WHO_ENGINE;
}

int
step_kind_is_gate(enum step_type t)
{
	const struct step_kind *k = step_kind(t);

	return k != NULL && k->who == WHO_DECIDE;
}

enum step_undo
step_kind_undo(const struct rb_step *def)
{
	enum step_undo u = step_kind(def->type)->undo;

	if (def->rollback_none && u != UNDO_GATE)
		return UNDO_NOTHING;
	return u == UNDO_ACTION && def->rollback == NULL ? UNDO_PERSON : u;
}

const char *
step_kind_undo_how(const struct rb_step *def)
{
	enum step_undo u = step_kind_undo(def);

	if (u == UNDO_PERSON)
		return UNDO_HOW_PERSON;
	if (u == UNDO_NOTHING && def->rollback_none)
		return "nothing to undo (rollback: none)";
	return step_kind(def->type)->undo_how;
}

void
step_kind_shutdown(void)
{
	size_t i;

	for (i = 0; i < STEP_NTYPES; i++) {
		if (step_kinds[i]->ops != NULL &&
		    step_kinds[i]->ops->shutdown != NULL)
			step_kinds[i]->ops->shutdown();
	}
}
