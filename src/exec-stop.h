/*
 * exec-stop.h - how an executor stops: the deadline, the cancel, the grace.
 *
 * One stop policy for executors whose work runs elsewhere (a server, a
 * driver in a worker thread) and can only be asked to end:
 *
 *  - exec_stop_arm starts the step's clock. When it runs out, the attempt
 *    is marked timed out, its reason becomes "timed out after DURATION"
 *    (duration_timed_out) and it is interrupted.
 *  - exec_stop_cancel (the engine's cancel) keeps the first reason given
 *    ("cancelled" if none) and interrupts.
 *  - An interrupt calls ops->cancel once. If nothing runs, the executor
 *    finishes at once; otherwise (unless the cancel itself ended the
 *    attempt) a grace timer of grace_ms starts. Later interrupts send
 *    nothing more.
 *  - If the grace period passes with the attempt unfinished, ops->give_up
 *    runs: the executor gives its connection up, says so in the output and
 *    finishes.
 *  - The executor calls exec_stop_finish when it records its outcome:
 *    both timers are cancelled, nothing fires afterwards, and later
 *    cancels and interrupts do nothing.
 *
 * The executor keeps its own notion of "finished" and its messages; this
 * module keeps the timers and the timed_out and reason state. Callbacks run
 * on the loop's stack, with arg as given to exec_stop_new; they may call
 * exec_stop_finish but must not free the stop.
 */
#ifndef CUTOVER_EXEC_STOP_H
#define CUTOVER_EXEC_STOP_H

#include <stdint.h>

struct loop;
struct exec_stop;

struct exec_stop_ops {
	/* Ask the server or driver to end what runs and return 1; if nothing
	 * runs there, end the attempt now (failing with exec_stop_why) and
	 * return 0. */
	int (*cancel)(void *arg);
	/* The grace period passed after the cancel: give the connection up,
	 * say so in the output and finish (if the attempt is still on). NULL
	 * for an executor whose cancel always returns 0. */
	void (*give_up)(void *arg);
};

struct exec_stop *exec_stop_new(struct loop *, const struct exec_stop_ops *,
    void *arg, int64_t grace_ms);
/* Cancel both timers and free the stop (NULL is fine). */
void exec_stop_free(struct exec_stop *);

/* Start the clock: timeout_ms from now (0 or less: no limit). */
void exec_stop_arm(struct exec_stop *, int64_t timeout_ms);
/* Stop the attempt for why (NULL: "cancelled"); the first reason stays. */
void exec_stop_cancel(struct exec_stop *, const char *why);
/* The outcome is recorded: cancel both timers; nothing fires after this. */
void exec_stop_finish(struct exec_stop *);

/* Whether the deadline passed. */
int exec_stop_timed_out(const struct exec_stop *);
/* Why the attempt is being stopped; NULL while nobody asked. */
const char *exec_stop_why(const struct exec_stop *);

#endif
