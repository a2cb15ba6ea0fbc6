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

/* Wait at most max_ms (-1: until something happens) and dispatch once. */
int loop_once(struct loop *, int max_ms);

#endif
