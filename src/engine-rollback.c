/*
 * engine-rollback.c - the way back: undo, in reverse order of completion,
 * every step that succeeded after a checkpoint.
 *
 * A rollback under way is recorded in the run (its target), so a second
 * `rollback` after a failure, a person's confirm or a kill -9 resumes it
 * with the same target. Each step's own state says how far it got: a step
 * being undone carries the undo flag, an interrupted rollback action waits
 * for a person (it cannot be known whether it finished: confirm it, or
 * `retry` runs the action again), a failed one is rollback_failed and is
 * tried again by the next `rollback`.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine-int.h"
#include "loop.h"
#include "step-kind.h"
#include "xmalloc.h"

static int rollback_target(struct engine *, const char *,
    struct engine_step **);
static int rollback_stored_entity(struct engine *, const char *);
static int rollback_mine(struct engine *, struct engine_step *);
static int rollback_target_named(struct engine *, const char *,
    struct engine_step **);
static int by_done_desc(const void *, const void *);
static int rollback_begin(struct engine *, struct rollback_plan *, int,
    const char *);
static int rollback_person(struct engine *, struct engine_step *);
static int rollback_read_only(struct engine *, struct engine_step *);
static int rollback_gate(struct engine *, struct engine_step *);
static int rollback_finish(struct engine *);
static int rollback_outcome(struct engine *, struct engine_step *);


/* In a live run with rollback_roles, only members of those roles. */
int
engine_may_roll_back(struct engine *e)
{
	size_t i;

	if (strcmp(e->run.mode, "live") != 0 || e->rb->nrollback_roles == 0)
		return 1;
	for (i = 0; i < e->rb->nrollback_roles; i++) {
		if (engine_in_role(e, e->rb->rollback_roles[i]))
			return 1;
	}
	return 0;
}

/*
 * The checkpoint to go back to: as given, else the target of a rollback
 * under way, else the last checkpoint passed (NULL: the run's start).
 */
static int
rollback_target(struct engine *e, const char *to, struct engine_step **out)
{
	struct engine_step *s, *best = NULL;
	char *stored = NULL, *inst = NULL;
	size_t i;
	int rc;

	*out = NULL;
	if (to != NULL && strcmp(to, "start") == 0 &&
	    engine_find(e, "start") == NULL)
		return 0; /* the run's start */
	if (to == NULL &&
	    state_run_rollback_to(e->st, e->run.id, NULL, &stored) == STATE_OK &&
	    stored != NULL) {
		if ((rc = rollback_stored_entity(e, stored)) != 0 ||
		    *stored == '\0' || *stored == '@') {
			free(stored);
			return rc;
		}
		to = stored;
	} else if (to != NULL && e->rollback_entity != NULL &&
	    strchr(to, '@') == NULL) {
		/* --to names the entity's checkpoint without @ENTITY. */
		inst = xprintf("%s@%s", to, e->rollback_entity);
		to = inst;
	}
	rc = rollback_target_named(e, to, out);
	free(stored);
	free(inst);
	if (rc != 0 || *out != NULL || to != NULL)
		return rc;
	for (i = 0; i < e->nsteps; i++) {
		s = &e->steps[i];
		if (step_kind_is_gate(s->def->type) && s->state == ST_SUCCEEDED &&
		    rollback_mine(e, s) &&
		    (best == NULL || s->done_ms > best->done_ms))
			best = s;
	}
	*out = best;
	return 0;
}

/*
 * A stored target of an entity's rollback ("CP@ENTITY", or "@ENTITY" for
 * the start of its work): the rollback is that entity's. 0, or an exit
 * status when another entity was asked for.
 */
static int
rollback_stored_entity(struct engine *e, const char *stored)
{
	const char *at = strchr(stored, '@');

	if (at == NULL && e->rollback_entity != NULL) {
		engine_error(e, "a rollback to %s is under way; finish it "
		    "(without --entity) first", *stored ? stored
		                                        : "the run's start");
		return EXIT_CONFLICT;
	}
	if (at == NULL)
		return 0;
	if (e->rollback_entity != NULL &&
	    strcmp(e->rollback_entity, at + 1) != 0) {
		engine_error(e, "a rollback of entity %s is under way; finish "
		    "it (rollback --entity %s) first", at + 1, at + 1);
		return EXIT_CONFLICT;
	}
	return engine_rollback_entity(e, at + 1) != 0 ? EXIT_CONFLICT : 0;
}

/* Is s within the rollback asked for (one entity's, or everything)? */
static int
rollback_mine(struct engine *e, struct engine_step *s)
{
	return e->rollback_entity == NULL || (s->entity != NULL &&
	    strcmp(s->entity->id, e->rollback_entity) == 0);
}

/* The checkpoint named to (NULL: none named), or EXIT_USAGE. */
static int
rollback_target_named(struct engine *e, const char *to,
    struct engine_step **out)
{
	struct engine_step *s;

	if (to == NULL)
		return 0;
	s = engine_find(e, to);
	if (s == NULL || !step_kind_is_gate(s->def->type) ||
	    !rollback_mine(e, s)) {
		engine_error(e, "--to wants a checkpoint%s; %s is %s",
		    e->rollback_entity != NULL ? " of the entity" : "", to,
		    s == NULL ? "no step of this runbook"
		    : !step_kind_is_gate(s->def->type) ? "not a checkpoint"
		                                       : "another entity's");
		return EXIT_USAGE;
	}
	*out = s;
	return 0;
}

/* Latest completion first. */
static int
by_done_desc(const void *a, const void *b)
{
	const struct engine_step *x = *(struct engine_step *const *)a;
	const struct engine_step *y = *(struct engine_step *const *)b;

	if (x->done_ms != y->done_ms)
		return x->done_ms < y->done_ms ? 1 : -1;
	return x->index < y->index ? 1 : -1;
}

int
engine_rollback_plan(struct engine *e, const char *to,
    struct rollback_plan *p)
{
	struct engine_step *s;
	int64_t since;
	size_t i;
	int rc;

	memset(p, 0, sizeof *p);
	engine_reload(e);
	if ((rc = rollback_target(e, to, &p->to)) != 0)
		return rc;
	if (p->to != NULL && p->to->done_ms < 0) {
		engine_error(e, "checkpoint %s has not passed; there is "
		    "nothing after it to undo", p->to->id);
		return EXIT_CONFLICT;
	}
	since = p->to != NULL ? p->to->done_ms : -1;
	p->entity = e->rollback_entity;
	p->steps = xcalloc(e->nsteps, sizeof *p->steps);
	p->blocked = xcalloc(e->nsteps, sizeof *p->blocked);
	for (i = 0; i < e->nsteps; i++) {
		s = &e->steps[i];
		if (s == p->to || s->done_ms <= since || !rollback_mine(e, s))
			continue;
		if (s->state != ST_SUCCEEDED && s->state != ST_ROLLBACK_FAILED &&
		    !(s->undo && (s->state == ST_AWAITING ||
		                     s->state == ST_RUNNING)))
			continue;
		if (s->def->irreversible && s->state == ST_SUCCEEDED)
			p->blocked[p->nblocked++] = s;
		else
			p->steps[p->nsteps++] = s;
	}
	qsort(p->steps, p->nsteps, sizeof *p->steps, by_done_desc);
	return 0;
}

void
engine_rollback_plan_format(const struct rollback_plan *p, struct buf *b,
    const char *forced)
{
	size_t i;

	buf_printf(b, "rollback to %s: %zu step(s) to undo, latest first\n",
	    p->to != NULL ? p->to->id : p->entity != NULL
	        ? "the start of the entity's work" : "the run's start",
	    p->nsteps);
	for (i = 0; i < p->nsteps; i++)
		buf_printf(b, "  %2zu. %-24s %s\n", i + 1, p->steps[i]->id,
		    step_kind_undo_how(p->steps[i]->def));
	for (i = 0; i < p->nblocked; i++)
		buf_printf(b, "   !  %-24s irreversible: left as it is only %s\n",
		    p->blocked[i]->id, forced);
}

void
engine_rollback_plan_free(struct rollback_plan *p)
{
	free(p->steps);
	free(p->blocked);
	memset(p, 0, sizeof *p);
}

/* Record the rollback's target and any forced irreversible steps. */
static int
rollback_begin(struct engine *e, struct rollback_plan *p, int force,
    const char *reason)
{
	char *ent = e->rollback_entity != NULL && p->to == NULL
	    ? xprintf("@%s", e->rollback_entity) : NULL;
	const char *to = p->to != NULL ? p->to->id : ent != NULL ? ent : "";
	size_t i;
	int rc;

	if (engine_own(e) != 0) {
		free(ent);
		return -1;
	}
	rc = state_run_rollback_to(e->st, e->run.id, to, NULL);
	/* Undoing a finished run opens it again. */
	if (rc == STATE_OK && strcmp(e->run.state, "complete") == 0) {
		rc = state_run_set_state(e->st, e->run.id, "open");
		free(e->run.state);
		e->run.state = xstrdup("open");
	}
	if (rc == STATE_OK)
		rc = state_audit(e->st, e->run.id, NULL, "rollback-start",
		    "to %s: %zu step(s) to undo%s%s", *to == '@'
		        ? "the start of the entity's work" : *to ? to
		        : "the run's start",
		    p->nsteps, force ? "; forced: " : "", force ? reason : "");
	for (i = 0; rc == STATE_OK && force && i < p->nblocked; i++)
		rc = state_audit(e->st, e->run.id, p->blocked[i]->id,
		    "rollback-force", "irreversible step left as it is: %s",
		    reason);
	if (engine_commit(e, rc) != STATE_OK) {
		free(ent);
		return -1;
	}
	/* Until it is finished nothing goes forward, even between rounds. */
	free(e->rollback_to);
	e->rollback_to = xstrdup(to);
	free(ent);
	return 0;
}

/* A checkpoint passed after the target returns to pending. */
static int
rollback_gate(struct engine *e, struct engine_step *s)
{
	int rc;

	if (engine_own(e) != 0)
		return EXIT_CONFLICT;
	rc = state_decision_reset(e->st, e->run.id, s->id);
	if (rc == STATE_OK)
		rc = state_step_transition(e->st, e->run.id, s->id,
		    ST_BIT(ST_SUCCEEDED) | ST_BIT(ST_ROLLBACK_FAILED), ST_PENDING,
		    "rolled back: decide again", "rollback-reset",
		    "its decisions no longer count");
	if (engine_commit(e, rc) != STATE_OK)
		return EXIT_CONFLICT;
	s->state = ST_PENDING;
	engine_note(e, s, "back to pending: decide again when the run gets "
	    "here");
	return 0;
}

/* A step that only read (a reconciliation, rollback: none): nothing to
 * undo. */
static int
rollback_read_only(struct engine *e, struct engine_step *s)
{
	if (engine_own(e) != 0 ||
	    engine_commit(e, state_step_transition(e->st, e->run.id,
	        s->id, ST_BIT(ST_SUCCEEDED) | ST_BIT(ST_ROLLBACK_FAILED),
	        ST_ROLLED_BACK, "rolled back: nothing to undo",
	        "rollback-read-only", NULL)) != STATE_OK)
		return EXIT_CONFLICT;
	s->state = ST_ROLLED_BACK;
	engine_note(e, s, "rolled back (nothing to undo: it only read)");
	return 0;
}

/* A step undone by hand: it waits for a person's confirm. */
static int
rollback_person(struct engine *e, struct engine_step *s)
{
	char *note;
	int rc;

	if (s->state == ST_AWAITING && s->undo) {
		engine_error(e, "step %s waits for a person: confirm it "
		    "once it is undone%s", s->id,
		    step_kind_undo(s->def) == UNDO_ACTION
		        ? ", or retry its rollback" : "");
		return EXIT_WAITING;
	}
	xasprintf(&note, "rollback by hand: %s", s->def->rollback != NULL
	        ? s->def->rollback : "undo it, then confirm");
	if (engine_own(e) != 0) {
		free(note);
		return EXIT_CONFLICT;
	}
	rc = state_step_transition(e->st, e->run.id, s->id,
	    ST_BIT(ST_SUCCEEDED) | ST_BIT(ST_ROLLBACK_FAILED), ST_AWAITING, note,
	    "rollback-await", NULL);
	if (rc == STATE_OK)
		rc = state_step_set_undo(e->st, e->run.id, s->id, 1);
	if (engine_commit(e, rc) != STATE_OK) {
		free(note);
		return EXIT_CONFLICT;
	}
	s->state = ST_AWAITING;
	s->undo = 1;
	engine_note(e, s, "%s", note);
	engine_error(e, "step %s waits for a person: %.*s; confirm it "
	    "once it is undone", s->id, (int)(strlen(note) -
	    (note[strlen(note) - 1] == '.')), note);
	free(note);
	return EXIT_WAITING;
}

/*
 * Undo one step: 0 when it is rolled back, ROLLBACK_STARTED when its action
 * now runs (the loop reports back), else an exit status.
 */
int
engine_undo_step(struct engine *e, struct engine_step *s)
{
	switch (step_kind_undo(s->def)) {
	case UNDO_GATE:
		return rollback_gate(e, s);
	case UNDO_NOTHING:
		return rollback_read_only(e, s);
	case UNDO_PERSON:
		return rollback_person(e, s);
	case UNDO_ACTION:
		break;
	}
	if (s->state == ST_AWAITING)
		return rollback_person(e, s);
	engine_start(e, s, ATT_ROLLBACK);
	return s->ex != NULL ? ROLLBACK_STARTED : rollback_outcome(e, s);
}

/* What the end of a step's rollback action means for the rollback. */
static int
rollback_outcome(struct engine *e, struct engine_step *s)
{
	if (s->state == ST_ROLLED_BACK)
		return 0;
	if (e->lost_lease)
		return EXIT_CONFLICT;
	if (s->state == ST_AWAITING)
		return EXIT_WAITING;
	engine_error(e, "the rollback of %s failed%s%s; see `cutover "
	    "log`, fix it, then run rollback again to resume", s->id,
	    s->note ? ": " : "", s->note ? s->note : "");
	return EXIT_FAILED;
}

int
engine_rollback_retry(struct engine *e, struct engine_step *s)
{
	const char *why;
	int rc;

	if ((rc = engine_may(e, s, ENGINE_ROLLBACK_RETRY, &why)) != 0) {
		engine_error(e, "%s", why);
		return rc;
	}
	engine_loop_init(e);
	engine_start(e, s, ATT_ROLLBACK);
	return s->ex != NULL ? 0 : rollback_outcome(e, s);
}

int
engine_rollback_one(struct engine *e, struct engine_step *s)
{
	int rc;

	if ((rc = engine_rollback_retry(e, s)) != 0)
		return rc;
	while (s->ex != NULL)
		loop_once(e->loop, -1);
	return rollback_outcome(e, s);
}

/* All undone: forget the target; no-go checkpoints may be decided again. */
static int
rollback_finish(struct engine *e)
{
	struct engine_step *s;
	size_t i;
	int rc;

	if (engine_own(e) != 0)
		return EXIT_CONFLICT;
	rc = state_run_rollback_to(e->st, e->run.id, NULL, NULL);
	for (i = 0; rc == STATE_OK && i < e->nsteps; i++) {
		s = &e->steps[i];
		if (!step_kind_is_gate(s->def->type) || s->state != ST_FAILED ||
		    !rollback_mine(e, s))
			continue;
		rc = state_decision_reset(e->st, e->run.id, s->id);
		if (rc == STATE_OK)
			rc = state_step_transition(e->st, e->run.id, s->id,
			    ST_BIT(ST_FAILED), ST_PENDING, "rolled back: decide "
			    "again", "rollback-reset", "the no-go was answered by "
			    "a rollback");
		if (rc == STATE_OK)
			s->state = ST_PENDING;
	}
	if (rc == STATE_OK)
		rc = state_audit(e->st, e->run.id, NULL, "rollback-done", "%s",
		    "every step after the target is undone");
	if (engine_commit(e, rc) != STATE_OK)
		return EXIT_CONFLICT;
	free(e->rollback_to);
	e->rollback_to = NULL;
	e->halted = 0;
	return EXIT_DONE;
}

int
engine_rollback_begin(struct engine *e, const char *to, int force,
    const char *reason)
{
	struct rollback_plan p;
	int rc;

	if (e->rollback != NULL)
		return EXIT_CONFLICT;
	if (e->nrunning > 0) {
		engine_error(e, "steps are running; let them finish (or "
		    "stop them) before rolling back");
		return EXIT_CONFLICT;
	}
	engine_reload(e);
	if (to != NULL && e->rollback_to != NULL &&
	    strchr(e->rollback_to, '@') == NULL && e->rollback_entity == NULL &&
	    strcmp(to, *e->rollback_to ? e->rollback_to : "start") != 0) {
		engine_error(e, "a rollback to %s is under way; finish "
		    "it (without --to) before choosing another target",
		    *e->rollback_to ? e->rollback_to : "the run's start");
		return EXIT_CONFLICT;
	}
	if (!engine_may_roll_back(e)) {
		engine_error(e, "operator %s may not roll back this live "
		    "run (settings.rollback_roles)", state_operator(e->st));
		return EXIT_CONFLICT;
	}
	if ((rc = engine_rollback_plan(e, to, &p)) != 0)
		return rc;
	if (p.nblocked > 0 && !force) {
		engine_error(e, "rollback blocked: irreversible step %s "
		    "succeeded after %s; --force --reason TEXT leaves it as it "
		    "is and undoes the rest", p.blocked[0]->id,
		    p.to != NULL ? p.to->id : "the run's start");
		engine_rollback_plan_free(&p);
		return EXIT_CONFLICT;
	}
	engine_autostart(e); /* each pass takes the next step */
	if (rollback_begin(e, &p, force && p.nblocked > 0, reason) != 0) {
		engine_rollback_plan_free(&p);
		return EXIT_CONFLICT;
	}
	e->rollback = xcalloc(1, sizeof *e->rollback);
	e->rollback->plan = p;
	e->rollback->rc = -1;
	engine_rollback_advance(e);
	return 0;
}

void
engine_rollback_advance(struct engine *e)
{
	struct engine_rollback *r = e->rollback;
	struct engine_step *s;
	int rc = 0;

	if (r == NULL || r->rc >= 0)
		return;
	if (r->current != NULL) {
		if (r->current->ex != NULL)
			return;
		rc = rollback_outcome(e, r->current);
		r->current = NULL;
	}
	while (rc == 0 && r->next < r->plan.nsteps) {
		s = r->plan.steps[r->next++];
		rc = engine_undo_step(e, s);
		if (rc == ROLLBACK_STARTED) {
			r->current = s;
			return;
		}
	}
	if (rc == 0)
		rc = rollback_finish(e);
	r->rc = rc;
	engine_note(e, NULL, "rollback %s", rc == 0 ? "done"
	        : rc == EXIT_WAITING ? "waits for a person" : "stopped");
}

int
engine_rollback_end(struct engine *e)
{
	int rc;

	if (e->rollback == NULL)
		return -1;
	rc = e->rollback->rc;
	if (rc < 0)
		return -1;
	engine_rollback_plan_free(&e->rollback->plan);
	free(e->rollback);
	e->rollback = NULL;
	return rc;
}

int
engine_rollback(struct engine *e, const char *to, int force,
    const char *reason)
{
	int rc;

	if ((rc = engine_rollback_begin(e, to, force, reason)) != 0)
		return rc;
	while ((rc = engine_rollback_end(e)) < 0)
		loop_once(e->loop, -1);
	return rc;
}

int
engine_rollback_entity(struct engine *e, const char *entity)
{
	free(e->rollback_entity);
	e->rollback_entity = NULL;
	if (entity == NULL)
		return 0;
	if (runbook_entity_find(e->rb, entity) == NULL ||
	    e->sel_of[runbook_entity_find(e->rb, entity)->index] == SIZE_MAX) {
		engine_error(e, "entity %s is not in run %lld (%s)", entity,
		    (long long)e->run.id, engine_selection_text(e));
		return EXIT_USAGE;
	}
	e->rollback_entity = xstrdup(entity);
	return 0;
}
