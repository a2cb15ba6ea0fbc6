/*
 * engine-held.c - a driver whose state store cannot be reached (the
 * PostgreSQL server restarted, the network cut), and the live notice of
 * other processes' commits in the driver's loop.
 *
 * When a write fails and the store says it cannot be reached
 * (state_unreachable), the driver says STATE STORE UNREACHABLE (through the
 * error hook, else on stderr; engine_store_down for the console's
 * header), starts nothing new, and lets what runs go on. Each outcome it
 * could not write is held, in order, with what engine_finish needs to
 * record it again, and every later outcome is held behind it. A timer
 * asks the store to connect again (the store's own backoff paces the
 * tries); once it is back, the held outcomes are written, oldest first,
 * each only while its attempt is still recorded running (a commit that
 * went through before the connection broke is not made twice; an attempt
 * another driver interrupted after taking over is not touched, and this
 * driver is fenced anyway), and steps start again.
 *
 * Nothing is lost by holding: the attempt is recorded running, so a
 * driver that dies meanwhile leaves it to the next one's recovery.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine-int.h"
#include "loop.h"
#include "step-kind.h"
#include "xmalloc.h"

#define HELD_RETRY_MS 250 /* look whether the store is back this often */

struct held_outcome {
	struct engine_step *s;
	int attempt;
	int ok;
	char *msg;
	char *result; /* a reconcile's result JSON, or NULL */
	int64_t at;   /* when it ended (state_now_ms) */
};

struct engine_held {
	struct held_outcome *v;
	size_t n;
	struct held_outcome *r; /* results waiting for their outcome */
	size_t nr;
	char *down; /* why the store cannot be reached, or NULL */
	int64_t at; /* while held_flush writes one: when it ended */
	struct loop_timer *retry;
	struct engine_live *live;
};

static void held_on_retry(void *);
static void held_back(struct engine *);
static size_t held_flush(struct engine *);
static int held_written(struct engine *, const struct held_outcome *);
static void held_orphans(struct engine *);
static int held_ours(struct engine *, const struct attempt_row *);
static void held_on_live(void *);
static char *held_result_take(struct engine *, struct engine_step *);
static void held_result_keep(struct engine *, struct engine_step *,
    const char *);
static void held_result_write(struct engine *, struct held_outcome *);

void
engine_held_init(struct engine *e)
{
	if (e->held != NULL)
		return;
	e->held = xcalloc(1, sizeof *e->held);
	e->held->live = engine_live_watch(e, e->loop, held_on_live, e);
}

void
engine_held_free(struct engine *e)
{
	size_t i;

	if (e->held == NULL)
		return;
	for (i = 0; i < e->held->n; i++) {
		free(e->held->v[i].msg);
		free(e->held->v[i].result);
	}
	for (i = 0; i < e->held->nr; i++)
		free(e->held->r[i].result);
	free(e->held->v);
	free(e->held->r);
	free(e->held->down);
	if (e->loop != NULL) {
		loop_timer_cancel(e->loop, e->held->retry);
		engine_live_stop(e->held->live);
	}
	free(e->held);
	e->held = NULL;
}

/* Another process committed: look again, and tell the front end. */
static void
held_on_live(void *arg)
{
	struct engine *e = arg;

	if (e->held->down == NULL && state_changed(e->st)) {
		engine_reload(e);
		engine_changed(e, ENGINE_CHANGED_STATE | ENGINE_CHANGED_RUN,
		    NULL);
	}
	engine_held_check(e); /* the connection closed: say so now */
}

const char *
engine_store_down(struct engine *e)
{
	return e->held != NULL ? e->held->down : NULL;
}

int
engine_held_blocked(struct engine *e)
{
	return e->held != NULL && (e->held->down != NULL || e->held->n > 0);
}

size_t
engine_held_count(struct engine *e)
{
	return e->held != NULL && !e->lost_lease ? e->held->n : 0;
}

/*
 * A write failed: is it because the store cannot be reached? The first
 * time, say so and start trying to connect again. 1 if it is down.
 */
int
engine_held_check(struct engine *e)
{
	const char *why = state_unreachable(e->st);

	if (e->held == NULL || why == NULL)
		return e->held != NULL && e->held->down != NULL;
	if (e->held->down != NULL)
		return 1;
	e->held->down = xstrdup(why);
	engine_error(e, "STATE STORE UNREACHABLE (%s): starting nothing new; "
	    "running steps go on, their outcomes are held until it is back",
	    why);
	engine_changed(e, ENGINE_CHANGED_RUN, NULL);
	e->held->retry = loop_timer_add(e->loop, HELD_RETRY_MS, held_on_retry,
	    e);
	return 1;
}

/* Hold the outcome of s's attempt (as engine_finish was given it). */
void
engine_held_add(struct engine *e, struct engine_step *s, int ok,
    const char *msg)
{
	struct engine_held *h = e->held;
	struct held_outcome *o;

	h->v = xreallocarray(h->v, h->n + 1, sizeof *h->v);
	o = &h->v[h->n++];
	o->s = s;
	o->attempt = s->attempt;
	o->ok = ok;
	o->msg = msg != NULL ? xstrdup(msg) : NULL;
	o->result = held_result_take(e, s);
	o->at = h->at > 0 ? h->at : state_now_ms();
	engine_changed(e, ENGINE_CHANGED_STATE, s);
}

/* engine_finish, first: hold the outcome if the store is down or others
 * are held before it (their order is kept). 1 if held. */
int
engine_held_take(struct engine *e, struct engine_step *s, int ok,
    const char *msg)
{
	if (!engine_held_blocked(e) || e->lost_lease)
		return 0;
	engine_held_add(e, s, ok, msg);
	return 1;
}

/* Try the store again; once it answers, write what was held. */
static void
held_on_retry(void *arg)
{
	struct engine *e = arg;

	e->held->retry = NULL;
	if (e->lost_lease)
		return;
	if (state_reconnect(e->st) == STATE_OK) {
		held_back(e);
		return;
	}
	e->held->retry = loop_timer_add(e->loop, HELD_RETRY_MS, held_on_retry,
	    e);
}

/*
 * The store is back: first make sure this driver still holds the lease
 * (engine_own stops it, fenced, if another took over meanwhile), then
 * write the held outcomes, look again, and go on.
 */
static void
held_back(struct engine *e)
{
	size_t written;

	free(e->held->down);
	e->held->down = NULL;
	if (e->driving && engine_own(e) == 0)
		state_rollback(e->st);
	if (e->lost_lease || e->held->down != NULL)
		return; /* fenced, or lost again (its retry is set) */
	written = held_flush(e);
	if (e->held->down != NULL)
		return; /* lost again: held_flush held what is left */
	held_orphans(e);
	engine_note(e, NULL, "state store reachable again%s%zu held "
	    "outcome%s written", written ? ": " : "", written,
	    written == 1 ? "" : "s");
	engine_reload(e);
	engine_changed(e, ENGINE_CHANGED_STATE | ENGINE_CHANGED_RUN, NULL);
}

/* Write the held outcomes, oldest first (engine_finish holds again what
 * it cannot write, and everything after it); how many were written. */
static size_t
held_flush(struct engine *e)
{
	struct held_outcome *v = e->held->v;
	size_t n = e->held->n, i, written = 0;

	e->held->v = NULL;
	e->held->n = 0;
	for (i = 0; i < n; i++) {
		held_result_write(e, &v[i]);
		if (!e->lost_lease && e->held->down == NULL &&
		    held_written(e, &v[i]))
			v[i].s->phase = PH_IDLE; /* engine_reload reads it */
		else if (!e->lost_lease) {
			state_set_time(e->st, e->held->at = v[i].at);
			engine_finish_again(e, v[i].s, v[i].ok, v[i].msg);
			state_set_time(e->st, e->held->at = 0);
			written += e->held->down == NULL && !e->lost_lease;
		}
		free(v[i].msg);
		free(v[i].result);
	}
	free(v);
	return written;
}

/*
 * A reconcile's result (engine_done): stored with its step now, or, while
 * the store is down or outcomes are held, kept with the attempt's held
 * outcome and stored just before it when the store is back.
 */
void
engine_held_result(struct engine *e, struct engine_step *s, const char *json)
{
	if (!engine_held_blocked(e) && engine_own(e) == 0 &&
	    engine_commit(e, state_step_set_result(e->st, e->run.id, s->id,
	        json)) == STATE_OK)
		return;
	if (e->held != NULL && !e->lost_lease && engine_held_check(e))
		held_result_keep(e, s, json);
}

/* Keep s's result until its outcome is held (engine_held_add). */
static void
held_result_keep(struct engine *e, struct engine_step *s, const char *json)
{
	struct engine_held *h = e->held;
	struct held_outcome *o;

	free(held_result_take(e, s)); /* a newer one replaces it */
	h->r = xreallocarray(h->r, h->nr + 1, sizeof *h->r);
	o = &h->r[h->nr++];
	memset(o, 0, sizeof *o);
	o->s = s;
	o->attempt = s->attempt;
	o->result = xstrdup(json);
}

/* The result kept for s's current attempt (the caller frees it), or NULL. */
static char *
held_result_take(struct engine *e, struct engine_step *s)
{
	struct engine_held *h = e->held;
	char *json;
	size_t i;

	for (i = 0; i < h->nr; i++) {
		if (h->r[i].s != s)
			continue;
		json = h->r[i].attempt == s->attempt ? h->r[i].result : NULL;
		if (json == NULL)
			free(h->r[i].result);
		h->r[i] = h->r[--h->nr];
		return json;
	}
	return NULL;
}

/* Store the result held with o (kept again if the store is down again). */
static void
held_result_write(struct engine *e, struct held_outcome *o)
{
	char *json = o->result;

	if (json == NULL || e->lost_lease)
		return;
	o->result = NULL;
	if (e->held->down != NULL || engine_own(e) != 0 ||
	    engine_commit(e, state_step_set_result(e->st, e->run.id, o->s->id,
	        json)) != STATE_OK) {
		if (!e->lost_lease && engine_held_check(e))
			held_result_keep(e, o->s, json);
	}
	free(json);
}

/* Was the outcome written before the connection broke (or the attempt
 * ended by another driver)? Not when its attempt is still running. */
static int
held_written(struct engine *e, const struct held_outcome *o)
{
	struct attempt_row *a = NULL;
	size_t n = 0;
	int done;

	if (state_attempts_list(e->st, e->run.id, o->s->id, o->attempt, &a,
	        &n) != STATE_OK)
		return 0; /* engine_finish finds out */
	done = n == 1 && strcmp(a[0].state, "running") != 0;
	attempt_rows_free(a, n);
	return done;
}

/*
 * Attempts recorded running that run nowhere: their begin was committed,
 * but the answer was lost with the connection, so this driver cancelled
 * the command before releasing it. Each is interrupted, as after a
 * driver's death: verified, or waiting for a person (a rollback action).
 */
static void
held_orphans(struct engine *e)
{
	struct attempt_row *v = NULL;
	size_t n = 0, i;
	int rc, person;

	if (state_attempts_running(e->st, e->run.id, &v, &n) != STATE_OK)
		return;
	for (i = 0; i < n && !e->lost_lease; i++) {
		if (held_ours(e, &v[i]) || engine_own(e) != 0)
			continue;
		person = v[i].kind == ATT_ROLLBACK;
		rc = state_attempt_interrupt(e->st, e->run.id, v[i].step, v[i].n,
		    "interrupted: the state store's answer to its start was "
		    "lost, so it was never started");
		if (rc == STATE_OK)
			rc = state_step_transition(e->st, e->run.id, v[i].step,
			    ST_BIT(ST_RUNNING), person ? ST_AWAITING
			                               : ST_INTERRUPTED,
			    "never started: the state store was unreachable",
			    "interrupt", NULL);
		engine_commit(e, rc);
	}
	attempt_rows_free(v, n);
}

/* Is attempt a running here, or held? */
static int
held_ours(struct engine *e, const struct attempt_row *a)
{
	struct engine_step *s = engine_find(e, a->step);
	size_t i;

	if (s == NULL)
		return 0;
	if (s->ex != NULL && a->token != NULL && strcmp(a->token, s->token) == 0)
		return 1;
	for (i = 0; i < e->held->n; i++) {
		if (e->held->v[i].s == s && e->held->v[i].attempt == a->n)
			return 1;
	}
	return 0;
}

/*
 * The verify after an interruption failed: run the step again, unless the
 * interrupted attempt was a local command on another machine (its driver
 * was lost, not dead here): only a person may say it did not run, or
 * should run again. 1 if a person must decide.
 */
int
engine_held_foreign(struct engine *e, struct engine_step *s)
{
	struct attempt_row *a = NULL;
	size_t n = 0, i;
	int foreign = 0;

	if (s->def->type != STEP_LOCAL ||
	    state_attempts_list(e->st, e->run.id, s->id, 0, &a, &n) !=
	        STATE_OK)
		return 0;
	for (i = n; i-- > 0;) {
		if (a[i].n >= s->attempt || a[i].kind != ATT_RUN)
			continue;
		foreign = strcmp(a[i].state, "interrupted") == 0 &&
		    a[i].host != NULL && strcmp(a[i].host, e->host) != 0;
		break;
	}
	attempt_rows_free(a, n);
	return foreign;
}
