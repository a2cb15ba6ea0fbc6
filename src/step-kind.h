/*
 * step-kind.h - what each step type is, in one table: its name, who acts
 * on it, how a rollback undoes it, and the executor that runs its commands.
 *
 * The shape is a class table: one const struct step_kind per type, with
 * designated initialisers, listed once in step-kind.c. Adding a step type
 * is its executor's file (exec-*.c, a const struct exec_ops) and one row
 * here; the engine, the rollback and the front ends ask the table, never
 * `type == STEP_...`.
 */
#ifndef CUTOVER_STEP_KIND_H
#define CUTOVER_STEP_KIND_H

#include "runbook.h"

struct exec_ops;

/* How a rollback undoes a step of the kind that succeeded. */
enum step_undo {
	UNDO_ACTION,  /* its rollback command runs (a person, if it has none) */
	UNDO_NOTHING, /* it only read: rolled back at once */
	UNDO_PERSON,  /* a person undoes it and confirms */
	UNDO_GATE,    /* a checkpoint: back to pending, decided again */
};

/* Who moves a step of the kind on: the engine, or a person. */
enum step_who {
	WHO_ENGINE,  /* it runs commands */
	WHO_CONFIRM, /* a person does it and confirms */
	WHO_DECIDE,  /* people decide go or no-go */
};
#define WHO_BIT(w) (1u << (w))

struct step_kind {
	enum step_type type;
	const char *name;   /* as runbooks spell it (step_type_name) */
	enum step_who who;
	const char *by;     /* what a person does instead of running it */
	enum step_undo undo;
	const char *undo_how; /* the rollback plan's words for undo */
	/* What runs its commands; NULL for steps a person acts on. */
	const struct exec_ops *ops;
};

/* The row of type t (never NULL for a type the loader accepts). */
const struct step_kind *step_kind(enum step_type);
/* Does a person act on steps of type t (manual, checkpoint)? */
int step_kind_is_person(enum step_type);
/* Is a step of type t a gate people decide go or no-go at (checkpoint)? */
int step_kind_is_gate(enum step_type);
/*
 * How step def is undone: its kind's way, except that a step whose kind
 * runs a rollback command but which has none is undone by a person.
 */
enum step_undo step_kind_undo(const struct rb_step *def);
/* The rollback plan's words for how def is undone. */
const char *step_kind_undo_how(const struct rb_step *def);
/* Close the cached connections of every executor (exec_ops.shutdown). */
void step_kind_shutdown(void);

#endif
