/*
 * engine.h - drives a run: decides what may start, starts it through an
 * executor, records every transition in the state file, and recovers what a
 * dead driver left behind.
 *
 * Data flows one way: runbook -> engine -> executors -> state. Front ends
 * (headless commands, the console) read the engine through accessors
 * (struct engine is private to engine*.c; struct engine_step is shown, read
 * only), ask engine_may before they act, call engine_* to act, and hear
 * back through engine_hooks; they never talk to executors or the store
 * behind its back. A driver runs the engine's loop, `while (!done)
 * loop_once()`: the engine starts what may start before each sleep.
 */
#ifndef CUTOVER_ENGINE_H
#define CUTOVER_ENGINE_H

#include <stdint.h>

#include "buf.h"
#include "outbuf.h"
#include "runbook.h"
#include "state.h"

struct loop;
struct notify;
struct exec;

/* Exit statuses shared by every command (SPEC section 2). */
enum {
	EXIT_DONE = 0,
	EXIT_FAILED = 1,
	EXIT_USAGE = 2,
	EXIT_INVALID = 3,
	EXIT_CONFLICT = 4,
	EXIT_WAITING = 5,
};

enum engine_drive {
	ENGINE_READ,      /* no lease: act on the state file only */
	ENGINE_TRY_DRIVE, /* take the lease if nobody live holds it */
	ENGINE_DRIVE,     /* take the lease or fail with EXIT_CONFLICT */
};

struct engine_opts {
	enum engine_drive drive;
	int new_run;
	int accept_changes;
	int create;       /* start a run if there is no open one */
	const char *mode; /* for a new run; NULL: rehearsal */
	int64_t run;      /* a given run (0: the latest open one) */
	int quiet;        /* no progress lines on stdout */
	/* The entities a new run covers (run_info.selection's form: items
	 * "wave:NAME" and "entity:ID" joined by commas), NULL: not given
	 * (all, for a new run). Given for an open run that covers another
	 * selection: EXIT_USAGE (a new run needs --new-run); an unknown
	 * wave or entity: EXIT_USAGE naming it. */
	const char *selection;
};

enum step_phase { PH_IDLE, PH_RUN, PH_VERIFY };

struct engine_step {
	struct engine *e;
	struct rb_step *def;
	char *id;                 /* def->id, or "STEP@ENTITY" for an instance */
	struct rb_entity *entity; /* NULL outside for_each phases */
	size_t *deps;             /* indexes into the engine's step table */
	size_t ndeps;
	size_t index;             /* its own index in that table */
	enum step_state state;
	int attempts;
	char *note;
	/* while it runs */
	enum step_phase phase;
	enum attempt_kind kind;
	int attempt; /* attempt number being run */
	int exit_code; /* of its last command, -1 if none */
	char token[64]; /* CUTOVER_ATTEMPT of the attempt being run */
	struct exec *ex;
	const struct exec_ops *ops;
	struct outbuf out;
	int tries_left;
	int64_t not_before; /* loop_now() time before which no retry starts */
	int64_t started;    /* loop_now() at start */
	unsigned out_gen;   /* bumped on every chunk of output */
	int undo;           /* a rollback of it is under way */
	int64_t done_ms;    /* when it succeeded (rollback order), -1 */
};

struct engine;

/*
 * What a front end hears from the engine. changed() says what changed, as
 * ENGINE_CHANGED_* bits, and which step (NULL: the run or several); it is
 * called often (every chunk of output), so a front end only notes the
 * bits and looks at them once per loop pass. error() gets each one-line
 * refusal or failure of an engine_* call (without "cutover: "); with no
 * error hook they go to stderr.
 */
#define ENGINE_CHANGED_STATE 0x1u  /* a step's state, note or attempts */
#define ENGINE_CHANGED_OUTPUT 0x2u /* a running step printed */
#define ENGINE_CHANGED_RUN 0x4u    /* the run: hold, halt, stop, its state */
struct engine_hooks {
	void (*changed)(void *arg, unsigned what, struct engine_step *);
	void (*error)(void *arg, const char *msg);
	void *arg;
};
/* Set the hooks (copied); NULL: none, errors to stderr. */
void engine_set_hooks(struct engine *, const struct engine_hooks *);

/* What front ends read. */
const struct run_info *engine_run_info(struct engine *);
struct runbook *engine_runbook(struct engine *);
struct state *engine_state(struct engine *);
size_t engine_nsteps(struct engine *);
/* Step i of the runbook's order (i < engine_nsteps). */
struct engine_step *engine_step_at(struct engine *, size_t i);
/* May this invocation start step i (engine_set_until, engine_set_only)? */
int engine_wanted(struct engine *, size_t i);
/* Does this engine hold the run's lease? */
int engine_driving(struct engine *);
/* Steps running now. */
int engine_running(struct engine *);
/* A step failed: nothing new starts until it is retried or skipped. */
int engine_halted(struct engine *);
/* Stopping: what runs ends interrupted, nothing new starts. */
int engine_stopping(struct engine *);
/* Another driver took the run over. */
int engine_lost_lease(struct engine *);
/* Is a rollback driven by this engine under way? */
int engine_rolling_back(struct engine *);
/* Hold: automatic steps start only through engine_start_one. */
int engine_hold(struct engine *);
void engine_set_hold(struct engine *, int);
/* Is step s running here? */
int engine_step_running(struct engine_step *);


/*
 * Open the run of rb in st as opts say: pick or create the run, check the
 * runbook against it (EXIT_CONFLICT listing changed steps unless
 * accept_changes), take the lease and recover interrupted attempts when
 * driving. Prints a one-line error and returns an exit status on failure;
 * 0 and *out on success.
 */
int engine_open(struct runbook *, struct state *, const struct engine_opts *,
    struct engine **out);
void engine_close(struct engine *);

/* Restrict what may start to step id and everything it needs. */
int engine_set_until(struct engine *, const char *id);
/* Restrict what may start to this one step. */
void engine_set_only(struct engine *, struct engine_step *);

/* The event loop of a driving engine (created, with its timers and signal
 * handlers, on first use). Front ends add their own descriptors to it. */
struct loop *engine_loop(struct engine *);
/* The notifier delivering the outbox on that loop (notify.h), started
 * with it when driving a runbook with notify: sinks; else NULL. */
struct notify *engine_notify(struct engine *);
/*
 * Start step s now if it may run: an automatic step that is pending,
 * rolled back, interrupted (its verify runs first) or failed, whose needs
 * are done, and nothing of it running. Returns 0, or -1 with *why set to a
 * static reason a person can read.
 */
int engine_start_one(struct engine *, struct engine_step *, const char **why);

/* Start whatever may start now. */
void engine_schedule(struct engine *);
/* From now on, every pass of the engine's loop starts whatever may start
 * (and takes the next step of a rollback) before it sleeps. */
void engine_autostart(struct engine *);
/* Is anything running or due to start? */
int engine_busy(struct engine *);
/* Run until nothing more can happen; returns the exit status. */
int engine_run(struct engine *);
/* The exit status the run's present state calls for (it changes nothing;
 * a driver marks a finished run complete on its own). */
int engine_result(struct engine *);
/* Stop what runs, as SIGTERM does: its attempts end interrupted (with
 * why as their message) and nothing new starts. */
void engine_stop(struct engine *, const char *why);
/* Re-read step states changed by other processes. */
void engine_reload(struct engine *);

/* The step or instance named id (a plain step id, or STEP@ENTITY), or
 * NULL: a for_each step's bare id names no engine step (engine_find_why
 * says so, naming an instance to use). */
struct engine_step *engine_find(struct engine *, const char *id);
/* Why engine_find found nothing for id: one line for a person (new
 * string). */
char *engine_find_why(struct engine *, const char *id);

/*
 * Entities (SPEC section 8). The run covers a selection of the runbook's
 * entities, fixed when it starts; a for_each step has one instance per
 * entity of it, in the runbook's order of entities.
 */
enum entity_state { ENT_ACTIVE, ENT_EXCLUDED, ENT_DONE };
/* The entities of the run's selection (runbook order). */
size_t engine_nentities(struct engine *);
struct rb_entity *engine_entity_at(struct engine *, size_t i);
/* Excluded, done (every instance succeeded or skipped), else active. */
enum entity_state engine_entity_state(struct engine *,
    const struct rb_entity *);
const char *engine_entity_state_name(enum entity_state);
/* Why the entity was excluded, or NULL. */
const char *engine_entity_reason(struct engine *, const struct rb_entity *);
/* The selection for a person: "all entities", "wave pilot", "wave pilot,
 * wave-2", "store-017, store-042" (static until the next call). */
const char *engine_selection_text(struct engine *);
/* Counts by state (index enum step_state) of the instances of for_each
 * step def in the run. */
void engine_step_counts(struct engine *, const struct rb_step *def,
    size_t counts[ST_NSTATES]);
/* The instance of for_each step def for entity, or NULL. */
struct engine_step *engine_instance(struct engine *, const struct rb_step *def,
    const struct rb_entity *);
/*
 * Exclude an entity from the run (audited), with reason: its instances
 * that had not started become excluded, running ones finish. Works beside
 * a driver (the driver picks it up on its next poll). Returns an exit
 * status after a one-line error.
 */
int engine_exclude(struct engine *, struct rb_entity *, const char *reason);

/*
 * Evidence of a checkpoint (engine-evidence.c): the steps a decision at
 * checkpoint cp rests on: those in evidence:, else the steps it needs
 * (every instance of a for_each step). *out is a new array.
 */
size_t engine_evidence(struct engine *, struct engine_step *cp,
    struct engine_step ***out);
/* One line on s as evidence, e.g. "partners succeeded: 200 source, 199
 * dest, 1 missing, 0 extra, 1 changed" or "ready@store-3 failed: exit 1".
 * A new string. */
char *engine_evidence_line(struct engine *, struct engine_step *s);
/* SHA-256 (hex) of the evidence of cp as it stands now. */
void engine_evidence_sha(struct engine *, struct engine_step *cp,
    char out[65]);

/*
 * Why the driver's state store cannot be reached now (STATE STORE
 * UNREACHABLE: nothing new starts, outcomes are held), or NULL.
 */
const char *engine_store_down(struct engine *);
/*
 * Hear other processes' commits at once on loop (engine-live.c): fn(arg)
 * is called when one may have come, and calls state_changed itself to
 * know. A store that cannot notify (a state file) is not watched: poll
 * it. A driving engine watches its own loop already.
 */
struct engine_live *engine_live_watch(struct engine *, struct loop *,
    void (*fn)(void *), void *arg);
/* The same for a reader without an engine (cutover serve). */
struct engine_live *engine_live_watch_state(struct state *, struct loop *,
    void (*fn)(void *), void *arg);
void engine_live_stop(struct engine_live *);

/*
 * What a person may do to a step (engine-lifecycle.c holds the table).
 * Front ends ask engine_may before they prompt for anything.
 */
enum engine_action {
	ENGINE_RUN,            /* start it now (engine_start_one) */
	ENGINE_CONFIRM,        /* engine_confirm */
	ENGINE_SKIP,           /* engine_skip */
	ENGINE_DECIDE,         /* engine_decide, go or no-go */
	ENGINE_RETRY,          /* engine_retry */
	ENGINE_ROLLBACK_RETRY, /* engine_rollback_retry */
};
#define ENGINE_NACTIONS 6
/*
 * May action be done to s now? 0, or the exit status of the refusal
 * (EXIT_USAGE: not for this kind of step; EXIT_CONFLICT: not now) with
 * *why set to one line for a person, valid until the next call.
 */
int engine_may(struct engine *, struct engine_step *, enum engine_action,
    const char **why);
/* Does a live run want s's id typed before action is done to it? */
int engine_needs_id(struct engine *, struct engine_step *,
    enum engine_action);
/* Which retry applies to s: its rollback action again while it is being
 * undone and has one waiting, else a forward retry. */
enum engine_action engine_which_retry(struct engine_step *);
const char *engine_action_name(enum engine_action);

/* Operator actions; each prints its own error and returns an exit status. */
int engine_confirm(struct engine *, struct engine_step *, const char *note);
int engine_skip(struct engine *, struct engine_step *, const char *reason);
int engine_decide(struct engine *, struct engine_step *, int go,
    const char *reason);
/* Make a failed or interrupted step runnable again. */
int engine_retry(struct engine *, struct engine_step *);

/* What a rollback to a checkpoint (NULL: the default) would do. */
struct rollback_plan {
	struct engine_step *to; /* NULL: the run's start */
	struct engine_step **steps; /* to undo, in order (reverse completion) */
	size_t nsteps;
	struct engine_step **blocked; /* irreversible steps in the way */
	size_t nblocked;
	const char *entity; /* only this entity's instances, or NULL */
};
/* Work out the plan; prints an error and returns an exit status if the
 * target is not a checkpoint that passed. */
int engine_rollback_plan(struct engine *, const char *to,
    struct rollback_plan *);
/* Limit rollbacks of this engine to one entity's instances (NULL: all);
 * a `to` then names the entity's checkpoint without @ENTITY. */
int engine_rollback_entity(struct engine *, const char *entity);
void engine_rollback_plan_free(struct rollback_plan *);
/* The plan as lines for a person, appended to b: a heading, one line per
 * step saying how it is undone, one per irreversible step in the way,
 * left as it is only `forced` ("with --force"). */
void engine_rollback_plan_format(const struct rollback_plan *, struct buf *,
    const char *forced);
/*
 * Undo the plan: run each rollback action, in order; steps without one
 * wait for a person (EXIT_WAITING); a failed action stops (EXIT_FAILED);
 * irreversible steps refuse (EXIT_CONFLICT) unless force, with reason.
 */
int engine_rollback(struct engine *, const char *to, int force,
    const char *reason);
/* Start a rollback (0), or refuse with an exit status after an error on
 * stderr. engine_schedule then advances it; forward steps do not start. */
int engine_rollback_begin(struct engine *, const char *to, int force,
    const char *reason);
/* Take the next step of a rollback under way, when the last is done. */
void engine_rollback_advance(struct engine *);
/* -1 while a rollback is under way; then its exit status, once. */
int engine_rollback_end(struct engine *);
/* Start the rollback action of one step being undone again (its last one
 * was interrupted or failed); the loop reports back. 0 or exit status. */
int engine_rollback_retry(struct engine *, struct engine_step *);
/* Run the rollback action of one step being undone (retry of an
 * interrupted or failed rollback). Returns an exit status. */
int engine_rollback_one(struct engine *, struct engine_step *);

#endif
