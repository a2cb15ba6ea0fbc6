/*
 * loop.h - the one event loop: file descriptors, timers and signals.
 *
 * Everything that waits in cutover waits here, in a single poll(): child
 * pipes, the terminal, (later) libssh2 and libpq sockets, timers and a
 * self-pipe that turns signals into events. Callbacks run on the loop's
 * stack and must not block. Handles returned are owned by the loop and stay
 * valid until removed (or, for timers, until they fire).
 */
#ifndef CUTOVER_LOOP_H
#define CUTOVER_LOOP_H

#include <stdint.h>

struct loop;
struct loop_io;
struct loop_timer;

typedef void (*loop_io_cb)(int fd, short revents, void *arg);
typedef void (*loop_timer_cb)(void *arg);
typedef void (*loop_signal_cb)(int sig, void *arg);

struct loop *loop_new(void);
void loop_free(struct loop *);

/* Monotonic milliseconds. */
int64_t loop_now(void);

/* Watch fd for events (POLLIN, POLLOUT). */
struct loop_io *loop_io_add(struct loop *, int fd, short events, loop_io_cb,
    void *arg);
void loop_io_set(struct loop_io *, short events);
void loop_io_remove(struct loop *, struct loop_io *);

/* Call fn once, after ms milliseconds. */
struct loop_timer *loop_timer_add(struct loop *, int64_t ms, loop_timer_cb,
    void *arg);
void loop_timer_cancel(struct loop *, struct loop_timer *);

/* Deliver sig (SIGCHLD, SIGINT, SIGTERM, SIGWINCH, ...) through the loop. */
void loop_signal(struct loop *, int sig, loop_signal_cb, void *arg);

/*
 * Call fn(arg) once, before the loop next sleeps (from loop_once, never
 * from inside the caller). Deferring the same fn and arg again before it
 * ran changes nothing; what a deferred call defers runs on the next pass,
 * which then does not sleep. Executors use it to report back later.
 */
void loop_defer(struct loop *, loop_timer_cb, void *arg);
/* Call fn(arg) on every pass, before the loop sleeps, after the deferred
 * calls; hooks run in the order added (Redis's beforesleep). */
void loop_before_poll(struct loop *, loop_timer_cb, void *arg);
void loop_before_poll_remove(struct loop *, loop_timer_cb, void *arg);
/* From a hook: once every hook has run, the pass under way ends without
 * waiting or dispatching (its caller has something to look at). */
void loop_break(struct loop *);

/*
 * One pass: run deferred calls and hooks, then wait at most max_ms (-1:
 * until something happens) and dispatch what happened. Drivers are
 * `while (!done) loop_once(loop, -1);` with done set by their hooks.
 */
int loop_once(struct loop *, int max_ms);

#endif
