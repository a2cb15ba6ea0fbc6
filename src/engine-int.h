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
};

#define DONE_MASK (ST_BIT(ST_SUCCEEDED) | ST_BIT(ST_SKIPPED))

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

#endif
