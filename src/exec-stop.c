/*
 * exec-stop.c - the deadline, cancel and grace policy of the executors
 * whose work runs on a server or in a driver (exec-stop.h).
 */
#include "config.h"

#include <stdlib.h>

#include "duration.h"
#include "exec-stop.h"
#include "loop.h"
#include "xmalloc.h"

struct exec_stop {
	struct loop *loop;
	const struct exec_stop_ops *ops;
	void *arg;
	int64_t timeout_ms, grace_ms;
	int timed_out, finished, sent;
	char *why;
	struct loop_timer *deadline, *grace;
};

static void stop_interrupt(struct exec_stop *);
static void stop_on_deadline(void *);
static void stop_on_grace(void *);

struct exec_stop *
exec_stop_new(struct loop *loop, const struct exec_stop_ops *ops, void *arg,
    int64_t grace_ms)
{
	struct exec_stop *s = xcalloc(1, sizeof *s);

	s->loop = loop;
	s->ops = ops;
	s->arg = arg;
	s->grace_ms = grace_ms;
	return s;
}

void
exec_stop_free(struct exec_stop *s)
{
	if (s == NULL)
		return;
	loop_timer_cancel(s->loop, s->deadline);
	loop_timer_cancel(s->loop, s->grace);
	free(s->why);
	free(s);
}

void
exec_stop_arm(struct exec_stop *s, int64_t timeout_ms)
{
	if (s->finished || s->deadline != NULL || timeout_ms <= 0)
		return;
	s->timeout_ms = timeout_ms;
	s->deadline = loop_timer_add(s->loop, timeout_ms, stop_on_deadline, s);
}

void
exec_stop_cancel(struct exec_stop *s, const char *why)
{
	if (!s->finished && s->why == NULL)
		s->why = xstrdup(why != NULL ? why : "cancelled");
	stop_interrupt(s);
}

void
exec_stop_finish(struct exec_stop *s)
{
	s->finished = 1;
	loop_timer_cancel(s->loop, s->deadline);
	loop_timer_cancel(s->loop, s->grace);
	s->deadline = s->grace = NULL;
}

int
exec_stop_timed_out(const struct exec_stop *s)
{
	return s->timed_out;
}

const char *
exec_stop_why(const struct exec_stop *s)
{
	return s->why;
}

/*
 * Ask once for the end of what runs, then wait for it at most grace_ms
 * (unless nothing ran, or the cancel ended the attempt before it returned).
 */
static void
stop_interrupt(struct exec_stop *s)
{
	if (s->finished || s->sent)
		return;
	s->sent = 1;
	if (s->ops->cancel(s->arg) && !s->finished)
		s->grace = loop_timer_add(s->loop, s->grace_ms, stop_on_grace,
		    s);
}

/* The step's time is up. */
static void
stop_on_deadline(void *arg)
{
	struct exec_stop *s = arg;

	s->deadline = NULL;
	if (s->finished)
		return;
	s->timed_out = 1;
	free(s->why);
	s->why = duration_timed_out(s->timeout_ms);
	stop_interrupt(s);
}

/* The cancel did not end the attempt in time. */
static void
stop_on_grace(void *arg)
{
	struct exec_stop *s = arg;

	s->grace = NULL;
	if (!s->finished)
		s->ops->give_up(s->arg);
}
