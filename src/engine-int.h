/*
 * engine-int.h - what engine.c shares with engine-rollback.c, and nobody
 * else: front ends use engine.h.
 */
#ifndef CUTOVER_ENGINE_INT_H
#define CUTOVER_ENGINE_INT_H

#include "engine.h"

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
void engine_loop_init(struct engine *);
int deps_done(struct engine *, struct engine_step *);
/* May the current operator decide at checkpoint s? */
int engine_is_approver(struct engine *, struct engine_step *);
/* May the current operator roll back (settings.rollback_roles)? */
int engine_may_roll_back(struct engine *);

#endif
