/*
 * engine-lanes.c - entities and lanes (SPEC section 8): the run's
 * selection of entities, the step table with one instance per entity of
 * each for_each step, the dependencies between instances, exclusions and
 * the rollback of one excluded entity's work while the others go on.
 *
 * The step table: the runbook's steps in order; a plain step is one
 * engine step, a for_each step is one instance per entity of the
 * selection, in the runbook's order of entities, next to each other
 * (first[step] is the first). Inside a for_each phase an instance needs
 * its own entity's instances of the steps it needs there; a step needing
 * a step of a for_each phase from outside it needs every instance of it
 * (fan-in), where an instance of an excluded entity counts as done once
 * it is not running.
 *
 * Places: a for_each phase runs `parallel` entities at once. A lane (an
 * entity in the phase) takes a place when its first instance there
 * starts and keeps it until all its instances there are succeeded or
 * skipped, one failed, or the entity is excluded; waiting for a person
 * keeps it (the store is mid-cutover). Free places go to the lanes that
 * could start something, in the order of entities. Places are worked out
 * from the states of the instances on every pass (engine_lanes_pass), so
 * a driver killed and resumed finds the same ones.
 *
 * In the store, instances are step rows named STEP@ENTITY; their idx is
 * the table index, so that steps_load gives the table's order.
 *
 * An entity rollback (a no-go with on_no_go: rollback at a checkpoint of
 * the entity) is kept in the store only: the entity is excluded and its
 * instances to undo carry the undo flag, in one transaction. The loop
 * undoes them, latest completion first, one at a time per entity, beside
 * the other lanes; a driver killed meanwhile resumes from the flags.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine-int.h"
#include "step-kind.h"
#include "xmalloc.h"

static int select_item(struct engine *, const char *, size_t, int,
    char **);
static void select_entity(struct engine *, struct rb_entity *);
static void build_deps(struct engine *, struct engine_step *);
static void add_dep(struct engine_step *, size_t *, size_t);
static int lane_exclude_tx(struct engine *, struct engine_entity *,
    const char *, int);
static struct engine_step *lane_undo_next(struct engine *, size_t, int *);
static unsigned lane_flags_of(const struct engine_step *);

/* engine.lane_place[entity * nphases + phase], for one scheduling pass. */
#define LANE_STARTED 0x01 /* an instance has started */
#define LANE_OPEN 0x02    /* an instance is not succeeded or skipped */
#define LANE_FAILED 0x04  /* an instance failed */
#define LANE_HOLDS 0x08   /* the lane holds one of the phase's places */
#define LANE_WANTS 0x10   /* an instance would start, but for a place */
#define LANE_GRANTED 0x20 /* a free place went to it in this pass */

#define UNDO_WAITS (ST_BIT(ST_AWAITING) | ST_BIT(ST_ROLLBACK_FAILED) | \
	ST_BIT(ST_RUNNING))
/* States an instance of an entity being excluded leaves for excluded. */
#define EXCLUDABLE (ST_BIT(ST_PENDING) | ST_BIT(ST_ROLLED_BACK) | \
	ST_BIT(ST_AWAITING) | ST_BIT(ST_INTERRUPTED))

/* Add entity en to the selection (once). */
static void
select_entity(struct engine *e, struct rb_entity *en)
{
	if (e->sel_of[en->index] != SIZE_MAX)
		return;
	e->sel_of[en->index] = 0; /* placed in order below */
}

/* One item of a selection, "wave:NAME" or "entity:ID" (len bytes). */
static int
select_item(struct engine *e, const char *item, size_t len, int strict,
    char **err)
{
	struct rb_entity *en;
	char *v;
	size_t i;
	int found = 0, wave = len > 5 && strncmp(item, "wave:", 5) == 0;

	if (!wave && !(len > 7 && strncmp(item, "entity:", 7) == 0)) {
		if (strict)
			xasprintf(err, "bad selection item '%.*s'", (int)len,
			    item);
		return strict ? -1 : 0;
	}
	v = wave ? xstrndup(item + 5, len - 5) : xstrndup(item + 7, len - 7);
	if (wave) {
		for (i = 0; i < e->rb->nentities; i++) {
			en = &e->rb->entities[i];
			if (en->wave != NULL && strcmp(en->wave, v) == 0) {
				select_entity(e, en);
				found = 1;
			}
		}
		if (!found && runbook_wave_index(e->rb, v) >= 0)
			found = 1; /* a wave without entities: none */
	} else if ((en = runbook_entity_find(e->rb, v)) != NULL) {
		select_entity(e, en);
		found = 1;
	}
	if (!found && strict)
		xasprintf(err, "no %s %s in runbook %s", wave ? "wave" : "entity",
		    v, e->rb->name);
	free(v);
	return !found && strict ? -1 : 0;
}

int
engine_select(struct engine *e, const char *sel, int strict, char **err)
{
	const char *p, *comma;
	size_t i, k = 0, n = e->rb->nentities;

	*err = NULL;
	free(e->sel_of);
	e->sel_of = xmalloc((n ? n : 1) * sizeof *e->sel_of);
	for (i = 0; i < n; i++)
		e->sel_of[i] = sel == NULL || *sel == '\0' ? 0 : SIZE_MAX;
	for (p = sel; p != NULL && *p != '\0'; p = *comma ? comma + 1 : comma) {
		comma = p + strcspn(p, ",");
		if (select_item(e, p, (size_t)(comma - p), strict, err) != 0)
			return -1;
	}
	free(e->ents);
	e->ents = xcalloc(n ? n : 1, sizeof *e->ents);
	for (i = 0; i < n; i++) {
		if (e->sel_of[i] == SIZE_MAX)
			continue;
		e->sel_of[i] = k;
		e->ents[k++].ent = &e->rb->entities[i];
	}
	e->nents = k;
	return 0;
}

/* Add dependency j to s unless it is there already. */
static void
add_dep(struct engine_step *s, size_t *cap, size_t j)
{
	size_t i;

	for (i = 0; i < s->ndeps; i++) {
		if (s->deps[i] == j)
			return;
	}
	if (s->ndeps == *cap) {
		*cap = *cap ? *cap * 2 : 4;
		s->deps = xreallocarray(s->deps, *cap, sizeof *s->deps);
	}
	s->deps[s->ndeps++] = j;
}

/* The table indexes step s needs, from its definition's needs. */
static void
build_deps(struct engine *e, struct engine_step *s)
{
	struct rb_step *d;
	size_t i, k, cap = 0;

	for (i = 0; i < s->def->ndeps; i++) {
		d = &e->rb->steps[s->def->deps[i]];
		if (!runbook_step_in_lanes(e->rb, d))
			add_dep(s, &cap, e->first[d->index]);
		else if (s->entity != NULL && d->phase == s->def->phase)
			add_dep(s, &cap, e->first[d->index] +
			    e->sel_of[s->entity->index]);
		else
			for (k = 0; k < e->nents; k++)
				add_dep(s, &cap, e->first[d->index] + k);
	}
}

void
engine_build(struct engine *e)
{
	struct rb_step *d;
	struct engine_step *s;
	size_t i, k, n = 0;

	e->first = xcalloc(e->rb->nsteps + 1, sizeof *e->first);
	for (i = 0; i < e->rb->nsteps; i++) {
		e->first[i] = n;
		n += runbook_step_in_lanes(e->rb, &e->rb->steps[i]) ? e->nents
		                                                   : 1;
	}
	e->nsteps = n;
	e->steps = xcalloc(n ? n : 1, sizeof *e->steps);
	e->wanted = xmalloc(n ? n : 1);
	memset(e->wanted, 1, n);
	for (i = 0; i < e->rb->nsteps; i++) {
		d = &e->rb->steps[i];
		if (!runbook_step_in_lanes(e->rb, d)) {
			s = &e->steps[e->first[i]];
			s->def = d;
			s->id = xstrdup(d->id);
			continue;
		}
		for (k = 0; k < e->nents; k++) {
			s = &e->steps[e->first[i] + k];
			s->def = d;
			s->entity = e->ents[k].ent;
			xasprintf(&s->id, "%s@%s", d->id, s->entity->id);
		}
	}
	for (i = 0; i < n; i++) {
		e->steps[i].e = e;
		e->steps[i].index = i;
		e->steps[i].done_ms = -1;
		build_deps(e, &e->steps[i]);
	}
}

void
engine_unbuild(struct engine *e)
{
	engine_lanes_free(e);
	free(e->steps);
	free(e->wanted);
	e->steps = NULL;
	e->wanted = NULL;
	e->nsteps = 0;
	e->ents = NULL;
	e->nents = 0;
	e->sel_of = NULL;
	e->first = NULL;
	e->lane_place = NULL;
	e->phase_held = NULL;
	e->evidence_seen = NULL;
	e->sel_text = NULL;
	e->rollback_entity = NULL;
}

void
engine_lanes_free(struct engine *e)
{
	size_t i;

	for (i = 0; i < e->nsteps; i++) {
		free(e->steps[i].id);
		free(e->steps[i].deps);
	}
	for (i = 0; i < e->nents; i++)
		free(e->ents[i].reason);
	free(e->ents);
	free(e->sel_of);
	free(e->first);
	free(e->lane_place);
	free(e->phase_held);
	free(e->evidence_seen);
	free(e->sel_text);
	free(e->rollback_entity);
}

struct engine_step *
engine_find(struct engine *e, const char *id)
{
	struct rb_step *d;
	struct rb_entity *en;
	size_t k;

	if (e->first == NULL || runbook_instance_find(e->rb, id, &d, &en) != 0)
		return NULL;
	if (en == NULL)
		return &e->steps[e->first[d->index]];
	k = e->sel_of[en->index];
	return k == SIZE_MAX ? NULL : &e->steps[e->first[d->index] + k];
}

char *
engine_find_why(struct engine *e, const char *id)
{
	struct rb_step *d = runbook_find_step(e->rb, id);
	char *s = NULL, *en = NULL, *why;

	if (d != NULL && runbook_step_in_lanes(e->rb, d))
		return e->nents > 0
		    ? xprintf("%s runs once per entity: name an instance, "
		          "e.g. %s@%s", id, id, e->ents[0].ent->id)
		    : xprintf("%s runs once per entity, and run %lld covers "
		          "none", id, (long long)e->run.id);
	if (runbook_instance_parse(id, &s, &en) == 1 &&
	    (d = runbook_find_step(e->rb, s)) != NULL) {
		if (!runbook_step_in_lanes(e->rb, d))
			why = xprintf("%s is not in a for_each phase: name it "
			    "%s, without @%s", s, s, en);
		else if (runbook_entity_find(e->rb, en) == NULL)
			why = xprintf("no entity %s in runbook %s", en,
			    e->rb->name);
		else
			why = xprintf("entity %s is not in run %lld (%s)", en,
			    (long long)e->run.id, engine_selection_text(e));
	} else
		why = xprintf("no step %s in runbook %s", id, e->rb->name);
	free(s);
	free(en);
	return why;
}

size_t
engine_nentities(struct engine *e)
{
	return e->nents;
}

struct rb_entity *
engine_entity_at(struct engine *e, size_t i)
{
	return i < e->nents ? e->ents[i].ent : NULL;
}

struct engine_entity *
engine_lane(struct engine *e, const struct engine_step *s)
{
	size_t k;

	if (s->entity == NULL || e->sel_of == NULL ||
	    (k = e->sel_of[s->entity->index]) == SIZE_MAX)
		return NULL;
	return &e->ents[k];
}

struct engine_step *
engine_instance(struct engine *e, const struct rb_step *def,
    const struct rb_entity *en)
{
	size_t k;

	if (!runbook_step_in_lanes(e->rb, def) ||
	    (k = e->sel_of[en->index]) == SIZE_MAX)
		return NULL;
	return &e->steps[e->first[def->index] + k];
}

enum entity_state
engine_entity_state(struct engine *e, const struct rb_entity *en)
{
	size_t k = e->sel_of[en->index], i;
	struct engine_step *s;

	if (k == SIZE_MAX)
		return ENT_ACTIVE;
	if (e->ents[k].excluded)
		return ENT_EXCLUDED;
	for (i = 0; i < e->rb->nsteps; i++) {
		if (!runbook_step_in_lanes(e->rb, &e->rb->steps[i]))
			continue;
		s = &e->steps[e->first[i] + k];
		if (!(DONE_MASK & ST_BIT(s->state)))
			return ENT_ACTIVE;
	}
	return ENT_DONE;
}

const char *
engine_entity_state_name(enum entity_state st)
{
	return st == ENT_EXCLUDED ? "excluded" : st == ENT_DONE ? "done"
	                                                       : "active";
}

const char *
engine_entity_reason(struct engine *e, const struct rb_entity *en)
{
	size_t k = e->sel_of[en->index];

	return k == SIZE_MAX ? NULL : e->ents[k].reason;
}

const char *
engine_selection_text(struct engine *e)
{
	const char *sel = e->run.selection, *p, *comma;
	struct buf b = { 0 };

	if (sel == NULL || *sel == '\0')
		return "all entities";
	for (p = sel; *p != '\0'; p = *comma ? comma + 1 : comma) {
		comma = p + strcspn(p, ",");
		if (strncmp(p, "wave:", 5) == 0)
			buf_printf(&b, "%swave %.*s", b.len ? ", " : "",
			    (int)(comma - p - 5), p + 5);
		else
			buf_printf(&b, "%s%.*s", b.len ? ", " : "",
			    (int)(comma - p - 7), p + 7);
	}
	free(e->sel_text);
	e->sel_text = b.data != NULL ? b.data : xstrdup("");
	return e->sel_text;
}

void
engine_step_counts(struct engine *e, const struct rb_step *def,
    size_t counts[ST_NSTATES])
{
	size_t k;

	memset(counts, 0, ST_NSTATES * sizeof *counts);
	if (!runbook_step_in_lanes(e->rb, def))
		return;
	for (k = 0; k < e->nents; k++)
		counts[e->steps[e->first[def->index] + k].state]++;
}

void
engine_lanes_load(struct engine *e)
{
	struct entity_row *v = NULL;
	struct rb_entity *en;
	size_t n = 0, i, k;

	if (e->nents == 0 ||
	    state_entities_load(e->st, e->run.id, &v, &n) != STATE_OK)
		return;
	for (i = 0; i < n; i++) {
		if ((en = runbook_entity_find(e->rb, v[i].entity)) == NULL ||
		    (k = e->sel_of[en->index]) == SIZE_MAX ||
		    e->ents[k].excluded)
			continue;
		e->ents[k].excluded = 1;
		e->ents[k].reason = v[i].reason;
		v[i].reason = NULL;
	}
	entity_rows_free(v, n);
}

/*
 * A lane (entity k in phase p) as a scheduling pass sees it, from the
 * states of its instances: it holds one of the phase's places once an
 * instance has started (left pending for anything but skipped or
 * excluded) until all are succeeded or skipped, one failed, or the entity
 * is excluded. A lane waiting for a person keeps its place.
 */
static unsigned
lane_flags_of(const struct engine_step *s)
{
	unsigned f = 0;

	if (s->ex != NULL || !(ST_BIT(s->state) & (ST_BIT(ST_PENDING) |
	        ST_BIT(ST_SKIPPED) | ST_BIT(ST_EXCLUDED) |
	        ST_BIT(ST_ROLLED_BACK))))
		f |= LANE_STARTED;
	if (s->ex != NULL || !(ST_BIT(s->state) & (ST_BIT(ST_SUCCEEDED) |
	        ST_BIT(ST_SKIPPED))))
		f |= LANE_OPEN;
	if (s->state == ST_FAILED || s->state == ST_ROLLBACK_FAILED)
		f |= LANE_FAILED;
	return f;
}

void
engine_lanes_pass(struct engine *e)
{
	struct engine_entity *l;
	struct engine_step *s;
	size_t i, np = e->rb->nphases, k;

	if (e->nents == 0)
		return;
	if (e->lane_place == NULL) {
		e->lane_place = xcalloc(e->nents * np, 1);
		e->phase_held = xcalloc(np, sizeof *e->phase_held);
	}
	memset(e->lane_place, 0, e->nents * np);
	memset(e->phase_held, 0, np * sizeof *e->phase_held);
	for (i = 0; i < e->nents; i++)
		e->ents[i].halted = 0;
	for (i = 0; i < e->nsteps; i++) {
		s = &e->steps[i];
		if ((l = engine_lane(e, s)) == NULL)
			continue;
		if (s->state == ST_FAILED || s->state == ST_ROLLBACK_FAILED)
			l->halted = 1;
		k = (size_t)(l - e->ents) * np + s->def->phase;
		e->lane_place[k] |= lane_flags_of(s);
	}
	for (k = 0; k < e->nents * np; k++) {
		if ((e->lane_place[k] & (LANE_STARTED | LANE_OPEN |
		        LANE_FAILED)) != (LANE_STARTED | LANE_OPEN) ||
		    e->ents[k / np].excluded)
			continue;
		e->lane_place[k] |= LANE_HOLDS;
		e->phase_held[k % np]++;
	}
}

int
engine_lane_place(struct engine *e, struct engine_step *s)
{
	struct engine_entity *l = engine_lane(e, s);
	size_t k;

	if (l == NULL)
		return 1;
	if (l->excluded || l->halted || e->lane_place == NULL)
		return 0;
	k = (size_t)(l - e->ents) * e->rb->nphases + s->def->phase;
	if (e->lane_place[k] & LANE_HOLDS)
		return 1;
	e->lane_place[k] |= LANE_WANTS;
	return 0;
}

int
engine_lanes_grant(struct engine *e)
{
	size_t p, k, np = e->rb->nphases, cap;
	unsigned char *f;
	int any = 0;

	for (p = 0; p < np && e->lane_place != NULL; p++) {
		cap = (size_t)e->rb->phases[p].parallel;
		for (k = 0; k < e->nents && e->phase_held[p] < cap; k++) {
			f = &e->lane_place[k * np + p];
			if (!(*f & LANE_WANTS) || (*f & LANE_HOLDS))
				continue;
			*f |= LANE_HOLDS | LANE_GRANTED;
			e->phase_held[p]++;
			any = 1;
		}
	}
	return any;
}

int
engine_lane_granted(struct engine *e, struct engine_step *s)
{
	struct engine_entity *l = engine_lane(e, s);

	return l != NULL && e->lane_place != NULL &&
	    (e->lane_place[(size_t)(l - e->ents) * e->rb->nphases +
	         s->def->phase] & LANE_GRANTED);
}

int
engine_dep_done(struct engine *e, struct engine_step *d)
{
	struct engine_entity *l;

	if (DONE_MASK & ST_BIT(d->state))
		return 1;
	l = engine_lane(e, d);
	return l != NULL && l->excluded && d->ex == NULL &&
	    d->state != ST_RUNNING;
}

/*
 * In one transaction: exclude l's entity with reason; its instances that
 * had not started become excluded; with undo, those of phase `undo - 1`
 * that succeeded are marked to be undone (irreversible ones are left as
 * they are, and the trail says so).
 */
static int
lane_exclude_tx(struct engine *e, struct engine_entity *l,
    const char *reason, int undo)
{
	struct engine_step *s;
	size_t i;
	int rc;

	if (engine_own(e) != 0)
		return EXIT_CONFLICT;
	rc = state_entity_exclude(e->st, e->run.id, l->ent->id, reason);
	for (i = 0; rc == STATE_OK && i < e->nsteps; i++) {
		s = &e->steps[i];
		if (s->entity != l->ent || s->ex != NULL)
			continue;
		if ((EXCLUDABLE & ST_BIT(s->state)) && !s->undo)
			rc = state_step_transition(e->st, e->run.id, s->id,
			    EXCLUDABLE, ST_EXCLUDED, reason, "exclude", NULL);
		else if (undo && s->def->phase == (size_t)(undo - 1) &&
		    s->state == ST_SUCCEEDED && s->def->irreversible)
			rc = state_audit(e->st, e->run.id, s->id,
			    "rollback-force", "irreversible step left as it "
			    "is: %s", reason);
		else if (undo && s->def->phase == (size_t)(undo - 1) &&
		    s->state == ST_SUCCEEDED)
			rc = state_step_set_undo(e->st, e->run.id, s->id, 1);
	}
	if (engine_commit(e, rc) != STATE_OK) {
		if (rc == STATE_CONFLICT)
			engine_error(e, "entity %s is excluded already",
			    l->ent->id);
		else
			engine_error(e, "%s", state_error(e->st));
		engine_reload(e);
		return EXIT_CONFLICT;
	}
	engine_reload(e);
	return EXIT_DONE;
}

int
engine_exclude(struct engine *e, struct rb_entity *en, const char *reason)
{
	size_t k = e->sel_of != NULL ? e->sel_of[en->index] : SIZE_MAX;
	int rc;

	if (k == SIZE_MAX) {
		engine_error(e, "entity %s is not in run %lld (%s)", en->id,
		    (long long)e->run.id, engine_selection_text(e));
		return EXIT_USAGE;
	}
	engine_reload(e);
	if (e->ents[k].excluded) {
		engine_error(e, "entity %s is excluded already: %s", en->id,
		    e->ents[k].reason != NULL ? e->ents[k].reason : "");
		return EXIT_CONFLICT;
	}
	if ((rc = lane_exclude_tx(e, &e->ents[k], reason, 0)) == 0) {
		engine_note(e, NULL, "entity %s excluded: %s", en->id, reason);
		engine_evidence_sweep(e);
	}
	return rc;
}

int
engine_lane_failed(struct engine *e, struct engine_step *s, int nogo)
{
	struct engine_entity *l = engine_lane(e, s);
	char *why;
	int undo = 0;

	if (l == NULL || l->excluded)
		return 0;
	if (nogo)
		undo = s->def->on_no_go == RB_ON_NO_GO_ROLLBACK
		    ? (int)s->def->phase + 1 : 0;
	else if (s->def->on_failure != RB_ON_FAILURE_EXCLUDE_ENTITY)
		return 0;
	why = nogo ? xprintf("no-go at %s%s", s->id, undo ? "; its work in "
	                 "the phase is rolled back" : "")
	           : xprintf("%s failed%s%s", s->id, s->note ? ": " : "",
	                 s->note ? s->note : "");
	if (lane_exclude_tx(e, l, why, undo) == EXIT_DONE)
		engine_note(e, NULL, "entity %s excluded: %s", l->ent->id, why);
	free(why);
	return 1;
}

int
engine_lane_may_start(struct engine *e, struct engine_step *s)
{
	struct engine_entity *l = engine_lane(e, s);
	struct rb_phase *p;
	int cap;

	if (l == NULL)
		return e->nrunning < e->rb->parallel;
	if (l->excluded || l->halted)
		return 0;
	p = &e->rb->phases[s->def->phase];
	cap = p->parallel > e->rb->parallel ? p->parallel : e->rb->parallel;
	return e->nrunning < cap;
}

void
engine_lane_started(struct engine *e, struct engine_step *s)
{
	struct engine_entity *l = engine_lane(e, s);
	size_t k;

	if (l == NULL || e->lane_place == NULL)
		return;
	k = (size_t)(l - e->ents) * e->rb->nphases + s->def->phase;
	if (!(e->lane_place[k] & LANE_HOLDS)) {
		e->lane_place[k] |= LANE_HOLDS | LANE_STARTED;
		e->phase_held[s->def->phase]++;
	}
}

/* The next instance of entity k to undo: the latest done of those marked
 * (NULL if none, *stuck when one waits or runs). */
static struct engine_step *
lane_undo_next(struct engine *e, size_t k, int *stuck)
{
	struct engine_step *s, *best = NULL;
	size_t i;

	*stuck = 0;
	for (i = 0; i < e->rb->nsteps; i++) {
		if (!runbook_step_in_lanes(e->rb, &e->rb->steps[i]))
			continue;
		s = &e->steps[e->first[i] + k];
		if (!s->undo)
			continue;
		if ((UNDO_WAITS & ST_BIT(s->state)) || s->ex != NULL)
			*stuck = 1;
		else if (s->state == ST_SUCCEEDED &&
		    (best == NULL || s->done_ms > best->done_ms))
			best = s;
	}
	return *stuck ? NULL : best;
}

void
engine_lanes_undo(struct engine *e)
{
	struct engine_step *s;
	size_t k;
	int stuck;

	if (!e->driving || e->stopping || e->unrenewed || e->lost_lease)
		return;
	for (k = 0; k < e->nents; k++) {
		if (!e->ents[k].excluded)
			continue;
		while ((s = lane_undo_next(e, k, &stuck)) != NULL) {
			if (engine_undo_step(e, s) != 0)
				break;
		}
	}
}
