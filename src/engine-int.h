/*
 * engine-int.h - what engine.c shares with engine-rollback.c, and nobody
 * else: front ends use engine.h.
 */
#ifndef CUTOVER_ENGINE_INT_H
#define CUTOVER_ENGINE_INT_H

#include "engine.h"
#include "sha256.h"
#include "runbook.h"
#include "state.h"

/* A rollback driven step by step from the event loop (the console). */
struct engine_rollback {
	struct rollback_plan plan;
	size_t next;                 /* next step of the plan */
	struct engine_step *current; /* whose action runs now */
	int rc;                      /* -1 while under way, then its status */
};

/* An entity of the run's selection, as the engine follows it. */
struct engine_entity {
	struct rb_entity *ent;
	int excluded;
	char *reason; /* why it was excluded, or NULL */
	int halted;   /* an instance failed: nothing new starts in its lane */
};

struct engine {
	struct runbook *rb;
	struct state *st;
	struct loop *loop;
	struct notify *notify; /* delivers the outbox while driving */
	struct run_info run;
	struct engine_step *steps;
	size_t nsteps;
	char **secrets;
	char host[256];
	/* The runbook as runs keep it (literal secrets redacted) and its
	 * SHA-256: no stored or published hash covers a secret. */
	char *text;
	char text_sha[SHA256_HEX_LEN + 1];
	int driving;
	int quiet;
	int nrunning;
	int halted;   /* a step failed: start nothing new */
	int stopping; /* a signal asked us to stop */
	int accept_changes;
	int lost_lease; /* another driver took over */
	int64_t renewed; /* loop_now() when the lease was last renewed */
	int unrenewed;   /* renewal failing too long: start nothing new */
	int hold;       /* start automatic steps only through engine_start_one */
	int scheduling; /* each loop pass starts what may start */
	int until_idle; /* engine_run: end the loop once nothing can happen */
	int idle;
	struct engine_rollback *rollback; /* a rollback this engine drives */
	char *rollback_to; /* a rollback under way in the run ("" = start) */
	unsigned char *wanted; /* steps this invocation may start */
	struct loop_timer *heartbeat, *poll, *flush, *wake;
	char *why; /* the last refusal of engine_may */
	struct engine_hooks hooks;
	/* Entities (engine-lanes.c): the run's selection in runbook order,
	 * sel_of[rb_entity.index] its place there (SIZE_MAX: not selected),
	 * first[rb_step.index] the table index of a plain step or of the
	 * first instance of a for_each step (its instances follow, one per
	 * entity of the selection, in that order). */
	struct engine_entity *ents;
	size_t nents;
	size_t *sel_of;
	size_t *first;
	char *sel_text; /* engine_selection_text's */
	char *rollback_entity; /* engine_rollback_entity's, or NULL */
	int evidence_dirty; /* a state changed: look at the evidence again */
	char (*evidence_seen)[SHA256_HEX_LEN + 1]; /* [step]: last looked at */
	unsigned char *lane_place; /* [entity * nphases + phase]: LANE_* */
	size_t *phase_held;        /* [phase]: places held in it */
	struct engine_held *held; /* the store's connection (engine-held.c) */
};

#define DONE_MASK \
	(ST_BIT(ST_SUCCEEDED) | ST_BIT(ST_SKIPPED) | ST_BIT(ST_EXCLUDED))

/* Open a transaction in which this driver still holds the lease. */
int engine_own(struct engine *);
/* Commit (rc == STATE_OK) or roll back what engine_own opened. */
int engine_commit(struct engine *, int rc);
/* Start an attempt of kind on step s (a rollback runs s's rollback). */
void engine_start(struct engine *, struct engine_step *, enum attempt_kind);
/* A progress line on stdout (unless quiet) and a redraw for front ends. */
void engine_note(struct engine *, struct engine_step *, const char *, ...)
    __attribute__((format(printf, 3, 4)));
/* Tell the front end what changed (ENGINE_CHANGED_*). */
void engine_changed(struct engine *, unsigned what, struct engine_step *);
/* A one-line refusal or failure, to the error hook or stderr. */
void engine_error(struct engine *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
void engine_loop_init(struct engine *);
int deps_done(struct engine *, struct engine_step *);

/* Entities and lanes (engine-lanes.c). */
/* Resolve selection (run_info.selection's form; NULL or "": all) into
 * e->ents; 0, or -1 with *err naming what is unknown (strict) or
 * skipping it (not strict: a stored selection of a changed runbook). */
int engine_select(struct engine *, const char *selection, int strict,
    char **err);
/* Build the step table of the selection: steps, instances, deps. */
void engine_build(struct engine *);
void engine_lanes_free(struct engine *);
/* Free the step table (engine_build makes it again). */
void engine_unbuild(struct engine *);
/* The entity of instance s as the engine follows it, or NULL. */
struct engine_entity *engine_lane(struct engine *, const struct engine_step *);
/* Re-read the exclusions of the run. */
void engine_lanes_load(struct engine *);
/* Before a pass of the scheduler: which lanes are halted (an instance
 * failed) and, from the stored states, which hold one of their phase's
 * `parallel` places (an instance started, not all are succeeded or
 * skipped, none failed, the entity not excluded). */
void engine_lanes_pass(struct engine *);
/* Does s's lane hold a place (1 for a plain step)? If not, it is noted as
 * wanting one: s would start now but for it. */
int engine_lane_place(struct engine *, struct engine_step *);
/* Give the free places of each phase to the lanes that want one, in the
 * order of entities; 1 if any got one. */
int engine_lanes_grant(struct engine *);
/* Did s's lane get its place from engine_lanes_grant in this pass? */
int engine_lane_granted(struct engine *, struct engine_step *);
/* May step s start now, as the run-wide bound goes (its entity active, its
 * lane not halted, fewer than max(settings.parallel, phase parallel)
 * steps running; plain steps: settings.parallel)? */
int engine_lane_may_start(struct engine *, struct engine_step *);
/* Instance s was started in this pass: its lane holds a place. */
void engine_lane_started(struct engine *, struct engine_step *);
/* A step of a lane ended in failure (a failed step or no-go): exclude its
 * entity as on_failure/on_no_go say; 1 if it did, else 0 (lane halted). */
int engine_lane_failed(struct engine *, struct engine_step *, int nogo);
/* Undo one step (engine-rollback.c): 0 when it is rolled back,
 * ROLLBACK_STARTED when its action now runs, else an exit status. */
#define ROLLBACK_STARTED 100
int engine_undo_step(struct engine *, struct engine_step *);
/* Evidence (engine-evidence.c). Set aside the go decisions at checkpoint
 * s taken on other evidence than sha (NULL: as it stands now), audited;
 * 1 if any were, 0 if none, -1 on a store error. */
int engine_evidence_void(struct engine *, struct engine_step *,
    const char *sha);
/* After a change of states: at every checkpoint waiting for decisions
 * whose evidence changed since the last look, void the go decisions taken
 * on the old evidence. */
void engine_evidence_sweep(struct engine *);
/* Take the next step of the rollbacks of excluded entities under way. */
void engine_lanes_undo(struct engine *);
/* Is the dependency d of a step done for it (succeeded, skipped, or an
 * instance of an excluded entity that is not running)? */
int engine_dep_done(struct engine *, struct engine_step *d);
/* The states action applies to s from (the store's condition for the
 * transition it makes); 0 if not for its kind. */
unsigned engine_action_from(struct engine_step *, enum engine_action);
/* May the current operator decide at checkpoint s? */
int engine_is_approver(struct engine *, struct engine_step *);
/* Is the current operator in the role named role: by operator name, or by
 * the database user the store authenticated (state_db_user)? */
int engine_in_role(struct engine *, const char *role);
/* May the current operator roll back (settings.rollback_roles)? */
int engine_may_roll_back(struct engine *);

/*
 * engine-held.c: the driver while its store cannot be reached, and the
 * live notice of other processes' commits in its loop. init (from
 * engine_loop_init) and free; blocked: start nothing new (the store is
 * down, or outcomes are held); count: outcomes held; check: after a
 * failed write, is the store unreachable (1; said once, and retried)?
 * take: engine_finish's first call, holding the outcome behind others or
 * while down (1 if held); add: hold it after a write that failed because
 * the store is down; foreign: a failed verify after an interruption of
 * another machine's local command waits for a person (1) instead of
 * running the step again.
 */
void engine_held_init(struct engine *);
void engine_held_free(struct engine *);
int engine_held_blocked(struct engine *);
size_t engine_held_count(struct engine *);
int engine_held_check(struct engine *);
int engine_held_take(struct engine *, struct engine_step *, int ok,
    const char *msg);
void engine_held_add(struct engine *, struct engine_step *, int ok,
    const char *msg);
int engine_held_foreign(struct engine *, struct engine_step *);
/* Store a reconcile's result with s, or hold it with s's outcome while the
 * store is down (engine-held.c). */
void engine_held_result(struct engine *, struct engine_step *,
    const char *json);
/* Record an outcome held while the store was down (engine_finish). */
void engine_finish_again(struct engine *, struct engine_step *, int ok,
    const char *msg);

#endif
