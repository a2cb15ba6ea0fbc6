/*
 * state-outbox.c - the outbox part of the state API (state.h), the same
 * for every store: which sinks a handle knows, which transition causes
 * which event, the event's id, and the calls through to the store.
 *
 * state.c's writing calls ask store_outbox_wants before they wrap the
 * store's call and state_outbox_event in one transaction, so a handle
 * without sinks pays nothing.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "state.h"
#include "store.h"
#include "xmalloc.h"

static void outbox_event_id(char out[33]);
static int outbox_put(struct state *, struct outbox_row *);

void
state_set_notify(struct state *st, size_t n, const char *const *names,
    const unsigned *masks)
{
	size_t i;

	for (i = 0; i < st->nnotify; i++)
		free(st->notify_names[i]);
	free(st->notify_names);
	free(st->notify_masks);
	st->notify_names = NULL;
	st->notify_masks = NULL;
	st->nnotify = 0;
	if (n == 0)
		return;
	st->notify_names = xcalloc(n, sizeof *st->notify_names);
	st->notify_masks = xcalloc(n, sizeof *st->notify_masks);
	for (i = 0; i < n; i++) {
		st->notify_names[i] = xstrdup(names[i]);
		st->notify_masks[i] = masks[i];
	}
	st->nnotify = n;
}

uint64_t
state_outbox_added(const struct state *st)
{
	return st->outbox_added;
}

int
store_step_event(enum step_state to)
{
	switch (to) {
	case ST_AWAITING:
		return NOTIFY_EV_AWAITING;
	case ST_FAILED:
	case ST_ROLLBACK_FAILED:
		return NOTIFY_EV_FAILED;
	default:
		return -1;
	}
}

int
store_outbox_wants(const struct state *st, int ev)
{
	size_t i;

	if (ev < 0)
		return 0;
	for (i = 0; i < st->nnotify; i++)
		if (st->notify_masks[i] & NOTIFY_EV_BIT(ev))
			return 1;
	return 0;
}

/* 128 random bits as 32 hex digits: an id no other event has. */
static void
outbox_event_id(char out[33])
{
	unsigned char b[16];
	size_t got = 0;
	ssize_t r;
	int i;

	while (got < sizeof b) {
		r = getrandom(b + got, sizeof b - got, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			fatalx(1, "getrandom: %s", strerror(errno));
		got += (size_t)r;
	}
	for (i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

/* One row for each sink that takes the event. */
static int
outbox_put(struct state *st, struct outbox_row *r)
{
	enum notify_event ev;
	size_t i;
	int rc = STATE_OK;

	if (notify_event_parse(r->type, &ev) != 0)
		return store_fail(st, "outbox: unknown event %s", r->type);
	for (i = 0; i < st->nnotify && rc == STATE_OK; i++) {
		if (!(st->notify_masks[i] & NOTIFY_EV_BIT(ev)))
			continue;
		r->sink = st->notify_names[i];
		rc = st->ops->outbox_add(st, r);
	}
	r->sink = NULL;
	return rc;
}

int
state_outbox_event(struct state *st, int64_t run, enum notify_event type,
    const char *step, const char *entity, const char *state,
    const char *message)
{
	struct outbox_row r = { 0 };
	char id[33], *name = NULL, *at;
	int opened, rc;

	if (!store_outbox_wants(st, (int)type))
		return STATE_OK;
	outbox_event_id(id);
	if (step != NULL && (at = strchr(step, '@')) != NULL) {
		name = xstrndup(step, (size_t)(at - step));
		if (entity == NULL)
			entity = at + 1;
	}
	r.event = id;
	r.run = run;
	r.runbook = st->runbook;
	r.type = (char *)notify_event_name(type);
	r.step = name != NULL ? name : (char *)step;
	r.entity = (char *)entity;
	r.state = (char *)state;
	r.operator = st->operator;
	r.message = (char *)message;
	r.at_ms = state_now_ms();
	if ((opened = store_tx_enter(st)) < 0) {
		free(name);
		return STATE_ERR;
	}
	rc = outbox_put(st, &r);
	if (rc == STATE_OK)
		st->outbox_added++;
	free(name);
	return store_tx_leave(st, opened, rc);
}

int
state_outbox_due(struct state *st, int64_t now_ms, size_t max,
    struct outbox_row **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	return st->ops->outbox_due(st, now_ms, max, out, n);
}

int
state_outbox_mark(struct state *st, int64_t id, int ok, const char *error,
    int64_t next_ms)
{
	return st->ops->outbox_mark(st, id, ok, error, next_ms);
}

int
state_outbox_stats(struct state *st, int64_t run, struct outbox_stats *s)
{
	memset(s, 0, sizeof *s);
	s->last_error_ms = -1;
	return st->ops->outbox_stats(st, run, s);
}

void
outbox_stats_free(struct outbox_stats *s)
{
	free(s->last_error);
	s->last_error = NULL;
}

void
outbox_row_clear(struct outbox_row *r)
{
	free(r->event);
	free(r->runbook);
	free(r->sink);
	free(r->type);
	free(r->step);
	free(r->entity);
	free(r->state);
	free(r->operator);
	free(r->message);
	memset(r, 0, sizeof *r);
}

void
outbox_rows_free(struct outbox_row *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		outbox_row_clear(&v[i]);
	free(v);
}
