/*
 * engine-lifecycle.c - what a person may do to a step, and when: one table
 * of operator actions, each with the step kinds it applies to, the states
 * it applies from, whether a live run wants the step id typed first, and
 * why it is refused otherwise.
 *
 * engine_confirm, engine_skip, ... ask it before they act; front ends ask
 * it before they prompt, and draw their key hints from it. An action that
 * applies differently to some kinds (skip at a checkpoint) has a row per
 * kind. A new action is a row here and its engine_* call.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine-int.h"
#include "step-kind.h"
#include "xmalloc.h"

#define FROM(x) ST_BIT(ST_##x)

/* When a live run wants the step id typed before the action. */
enum engine_typed {
	TYPED_NEVER,
	TYPED_ALWAYS,
	TYPED_RISKY, /* only for an irreversible or a failed step */
};

/* What else must hold for an action: NULL, or why not (one line). */
typedef const char *engine_check_fn(struct engine *, struct engine_step *);

static const char *check_run(struct engine *, struct engine_step *);
static const char *check_approver(struct engine *, struct engine_step *);
static const char *check_excluded(struct engine *, struct engine_step *,
    enum engine_action);
static const char *check_undoing(struct engine *, struct engine_step *);
static const char *check_retry(struct engine *, struct engine_step *);
static const char *check_rollback_retry(struct engine *,
    struct engine_step *);

struct engine_rule {
	enum engine_action action;
	unsigned who;    /* WHO_BIT()s of the step kinds it applies to */
	unsigned from;   /* ST_BIT()s of the states it applies from */
	enum engine_typed typed;
	const char *not_now; /* "ID is STATE, <not_now>" */
	engine_check_fn *check;
};

/*
 * Each action: its name, why other kinds refuse it, and what is asked of
 * every step before its kind and state are looked at.
 */
static const struct {
	const char *name;
	const char *not_for; /* "ID is a TYPE step, <not_for>" */
	engine_check_fn *first;
} engine_actions[ENGINE_NACTIONS] = {
	[ENGINE_RUN] = { "run", "which a person acts on; it is not run",
	    NULL },
	[ENGINE_CONFIRM] = { "confirm",
	    "decided with go or no-go, not confirmed", NULL },
	[ENGINE_SKIP] = { "skip", "which cannot be skipped", NULL },
	[ENGINE_DECIDE] = { "decide", "not a checkpoint", NULL },
	[ENGINE_RETRY] = { "retry",
	    "which a person acts on; it is not retried", check_undoing },
	[ENGINE_ROLLBACK_RETRY] = { "rollback-retry",
	    "which has no rollback action to run again", NULL },
};

static const struct engine_rule *engine_rule(enum engine_action,
    enum step_who);
static const char *engine_why(struct engine *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static const struct engine_rule engine_rules[] = {
	{ ENGINE_RUN, WHO_BIT(WHO_ENGINE),
	    FROM(PENDING) | FROM(ROLLED_BACK) | FROM(INTERRUPTED) | FROM(FAILED),
	    TYPED_RISKY, "not pending, failed or interrupted; it does not run",
	    check_run },
	{ ENGINE_CONFIRM, WHO_BIT(WHO_ENGINE) | WHO_BIT(WHO_CONFIRM),
	    FROM(AWAITING) | FROM(INTERRUPTED), TYPED_NEVER,
	    "not awaiting a person; nothing to confirm", NULL },
	{ ENGINE_SKIP, WHO_BIT(WHO_ENGINE) | WHO_BIT(WHO_CONFIRM),
	    FROM(PENDING) | FROM(FAILED) | FROM(INTERRUPTED) | FROM(AWAITING) |
	        FROM(ROLLED_BACK),
	    TYPED_ALWAYS, "which cannot be skipped", NULL },
	/* A no-go stands; passing a gate is for those who decide. */
	{ ENGINE_SKIP, WHO_BIT(WHO_DECIDE),
	    FROM(PENDING) | FROM(INTERRUPTED) | FROM(AWAITING) |
	        FROM(ROLLED_BACK),
	    TYPED_ALWAYS, "which cannot be skipped (a no-go stands: roll "
	    "back, then decide again)", check_approver },
	{ ENGINE_DECIDE, WHO_BIT(WHO_DECIDE), FROM(AWAITING), TYPED_ALWAYS,
	    "not awaiting a decision", check_approver },
	{ ENGINE_RETRY, WHO_BIT(WHO_ENGINE),
	    FROM(FAILED) | FROM(INTERRUPTED) | FROM(AWAITING), TYPED_ALWAYS,
	    "not failed or interrupted; only a failed or interrupted step can "
	    "be retried", check_retry },
	{ ENGINE_ROLLBACK_RETRY, WHO_BIT(WHO_ENGINE),
	    FROM(AWAITING) | FROM(ROLLBACK_FAILED), TYPED_ALWAYS,
	    "not waiting for its rollback action to run again",
	    check_rollback_retry },
};
#define ENGINE_NRULES (sizeof engine_rules / sizeof engine_rules[0])

/* Set the engine's last refusal; valid until the next one. */
static const char *
engine_why(struct engine *e, const char *fmt, ...)
{
	va_list ap;

	free(e->why);
	va_start(ap, fmt);
	xvasprintf(&e->why, fmt, ap);
	va_end(ap);
	return e->why;
}

/* The rule of action for steps of kind who, or NULL: not for them. */
static const struct engine_rule *
engine_rule(enum engine_action action, enum step_who who)
{
	size_t i;

	for (i = 0; i < ENGINE_NRULES; i++) {
		if (engine_rules[i].action == action &&
		    (engine_rules[i].who & WHO_BIT(who)))
			return &engine_rules[i];
	}
	return NULL;
}

/* Starting a step: only a driver, when what it needs is done. */
static const char *
check_run(struct engine *e, struct engine_step *s)
{
	const char *no = NULL;

	if (!e->driving)
		no = "this console does not drive the run";
	else if (!deps_done(e, s))
		no = "the steps it needs are not done";
	else if (e->stopping)
		no = "the console is stopping";
	else if (e->rollback != NULL || e->rollback_to != NULL)
		no = "a rollback is under way: finish it first (R)";
	return no == NULL ? NULL
	                  : engine_why(e, "cannot run %s: %s", s->id, no);
}

/* Nothing goes forward for an excluded entity: only its undoing. */
static const char *
check_excluded(struct engine *e, struct engine_step *s,
    enum engine_action action)
{
	struct engine_entity *l = engine_lane(e, s);

	if (l == NULL || !l->excluded || s->undo ||
	    action == ENGINE_ROLLBACK_RETRY)
		return NULL;
	return engine_why(e, "entity %s is excluded from run %lld%s%s",
	    l->ent->id, (long long)e->run.id, l->reason ? ": " : "",
	    l->reason ? l->reason : "");
}

/* Deciding (or skipping) at a checkpoint: its approvers only. */
static const char *
check_approver(struct engine *e, struct engine_step *s)
{
	if (engine_is_approver(e, s))
		return NULL;
	return engine_why(e, "operator %s is not in the approver roles of %s",
	    state_operator(e->st), s->id);
}

/* No forward retry of a step, or in a run, being rolled back. */
static const char *
check_undoing(struct engine *e, struct engine_step *s)
{
	if (s->undo)
		return engine_why(e, "%s is being rolled back: confirm it once "
		    "it is undone%s", s->id,
		    step_kind_undo(s->def) == UNDO_ACTION
		        ? ", or retry runs its rollback action again" : "");
	if (e->rollback_to != NULL)
		return engine_why(e, "a rollback to %s is under way; finish it "
		    "with `cutover rollback` first",
		    *e->rollback_to ? e->rollback_to : "the run's start");
	return NULL;
}

/* A forward retry: what the step needs is done. */
static const char *
check_retry(struct engine *e, struct engine_step *s)
{
	if (!deps_done(e, s))
		return engine_why(e, "%s needs steps that are not done",
		    s->id);
	return NULL;
}

/* Running a rollback action again: a step being undone that has one. */
static const char *
check_rollback_retry(struct engine *e, struct engine_step *s)
{
	if (!s->undo || step_kind_undo(s->def) != UNDO_ACTION)
		return engine_why(e, "%s has no rollback action waiting to run "
		    "again", s->id);
	if (!engine_may_roll_back(e))
		return engine_why(e, "operator %s may not roll back this live "
		    "run (settings.rollback_roles)", state_operator(e->st));
	return NULL;
}

int
engine_may(struct engine *e, struct engine_step *s,
    enum engine_action action, const char **why)
{
	const struct step_kind *k = step_kind(s->def->type);
	const struct engine_rule *r = engine_rule(action, k->who);
	const char *no;

	if (engine_actions[action].first != NULL &&
	    (no = engine_actions[action].first(e, s)) != NULL) {
		*why = no;
		return EXIT_CONFLICT;
	}
	if ((no = check_excluded(e, s, action)) != NULL) {
		*why = no;
		return EXIT_CONFLICT;
	}
	if (r == NULL) {
		*why = engine_why(e, "%s is a %s step, %s", s->id, k->name,
		    engine_actions[action].not_for);
		return EXIT_USAGE;
	}
	if (!(r->from & ST_BIT(s->state)) || s->ex != NULL) {
		*why = engine_why(e, "%s is %s, %s", s->id,
		    step_state_name(s->ex != NULL ? ST_RUNNING : s->state),
		    r->not_now);
		return EXIT_CONFLICT;
	}
	if (r->check != NULL && (no = r->check(e, s)) != NULL) {
		*why = no;
		return EXIT_CONFLICT;
	}
	*why = NULL;
	return 0;
}

int
engine_needs_id(struct engine *e, struct engine_step *s,
    enum engine_action action)
{
	const struct engine_rule *r =
	    engine_rule(action, step_kind(s->def->type)->who);

	if (r == NULL || strcmp(e->run.mode, "live") != 0)
		return 0;
	if (r->typed == TYPED_RISKY)
		return s->def->irreversible || s->state == ST_FAILED;
	return r->typed == TYPED_ALWAYS;
}

/*
 * Its rollback action again when the rollback-retry rule's kind and state
 * fit a step being undone that has one (who may do it is engine_may's to
 * say); else a forward retry.
 */
unsigned
engine_action_from(struct engine_step *s, enum engine_action action)
{
	const struct engine_rule *r =
	    engine_rule(action, step_kind(s->def->type)->who);

	return r != NULL ? r->from : 0;
}

enum engine_action
engine_which_retry(struct engine_step *s)
{
	const struct engine_rule *r = engine_rule(ENGINE_ROLLBACK_RETRY,
	    step_kind(s->def->type)->who);

	if (s->undo && r != NULL && (r->from & ST_BIT(s->state)) &&
	    step_kind_undo(s->def) == UNDO_ACTION)
		return ENGINE_ROLLBACK_RETRY;
	return ENGINE_RETRY;
}

const char *
engine_action_name(enum engine_action action)
{
	return engine_actions[action].name;
}
