/*
 * notify.c - the notifier: before the loop sleeps (and at least every
 * NOTIFY_POLL_MS, for events other processes put in the outbox) it reads
 * the rows that are due, hands each to its sink's kind (kinds[]: webhook,
 * command), and when the kind reports back marks the row delivered, or
 * failed with a back-off before its next try.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "escape.h"
#include "json.h"
#include "loop.h"
#include "notify.h"
#include "notify-int.h"
#include "runbook.h"
#include "state.h"
#include "xmalloc.h"

#define NOTIFY_POLL_MS 1000      /* look for other processes' events */
#define NOTIFY_DRAIN_POLL_MS 200 /* the same while draining */

/* The kinds of sink: a sink is of the first kind whose field it sets. */
static const struct {
	size_t off; /* of a char * in struct rb_notify */
	const struct notify_sink_ops *ops;
} kinds[] = {
	{ offsetof(struct rb_notify, webhook), &notify_webhook_ops },
	{ offsetof(struct rb_notify, command), &notify_command_ops },
};
#define NKINDS (sizeof kinds / sizeof kinds[0])

struct notify {
	struct loop *loop;
	struct state *st;
	const struct runbook *rb;
	struct notify_try *tries[NOTIFY_INFLIGHT_MAX]; /* under way */
	size_t ntries;
	struct loop_timer *timer; /* the next look */
	uint64_t added;           /* state_outbox_added at the last look */
	int look;                 /* look before the loop next sleeps */
	int fresh;                /* no look yet: back-offs do not count */
	int64_t poll_ms;
};

static void notify_before_poll(void *);
static void notify_on_timer(void *);
static void notify_look(struct notify *);
static int notify_inflight(const struct notify *, int64_t);
static void notify_send(struct notify *, struct outbox_row *);
static const struct rb_notify *notify_sink(const struct notify *,
    const char *);
static const struct notify_sink_ops *notify_kind(const struct rb_notify *);
static int64_t notify_backoff(int);
static int64_t notify_pending(struct notify *);

void
notify_subscribe(struct state *st, const struct runbook *rb)
{
	const char **names;
	unsigned *masks;
	size_t i;

	if (rb->nnotify == 0)
		return;
	names = xcalloc(rb->nnotify, sizeof *names);
	masks = xcalloc(rb->nnotify, sizeof *masks);
	for (i = 0; i < rb->nnotify; i++) {
		names[i] = rb->notify[i].name;
		masks[i] = rb->notify[i].events;
	}
	state_set_notify(st, rb->nnotify, names, masks);
	free(names);
	free(masks);
}

struct notify *
notify_start(struct loop *loop, struct state *st, const struct runbook *rb)
{
	struct notify *n;

	if (rb->nnotify == 0)
		return NULL;
	n = xcalloc(1, sizeof *n);
	n->loop = loop;
	n->st = st;
	n->rb = rb;
	n->look = 1;
	n->fresh = 1;
	n->poll_ms = NOTIFY_POLL_MS;
	loop_before_poll(loop, notify_before_poll, n);
	return n;
}

/* Before the loop sleeps: look if this process put events in the
 * outbox, a try ended, or the timer says so. */
static void
notify_before_poll(void *arg)
{
	struct notify *n = arg;

	if (state_outbox_added(n->st) != n->added)
		n->look = 1;
	if (n->look)
		notify_look(n);
}

static void
notify_on_timer(void *arg)
{
	struct notify *n = arg;

	n->timer = NULL;
	n->look = 1;
}

/* Send the rows that are due, as many as may be under way at once. A
 * driver that starts tries every row at once: someone restarted it, maybe
 * because the receiver is back. */
static void
notify_look(struct notify *n)
{
	struct outbox_row *rows;
	size_t nrows, i;
	int64_t now = n->fresh ? INT64_MAX : state_now_ms();

	n->look = 0;
	n->fresh = 0;
	n->added = state_outbox_added(n->st);
	if (n->timer == NULL)
		n->timer = loop_timer_add(n->loop, n->poll_ms, notify_on_timer,
		    n);
	if (n->ntries == NOTIFY_INFLIGHT_MAX ||
	    state_outbox_due(n->st, now, 2 * NOTIFY_INFLIGHT_MAX, &rows,
	        &nrows) != STATE_OK)
		return;
	for (i = 0; i < nrows && n->ntries < NOTIFY_INFLIGHT_MAX; i++)
		if (!notify_inflight(n, rows[i].id))
			notify_send(n, &rows[i]);
	outbox_rows_free(rows, nrows);
}

static int
notify_inflight(const struct notify *n, int64_t id)
{
	size_t i;

	for (i = 0; i < n->ntries; i++)
		if (n->tries[i]->row.id == id)
			return 1;
	return 0;
}

/* Start a try of row (taken over) with its sink. */
static void
notify_send(struct notify *n, struct outbox_row *row)
{
	struct notify_try *t = xcalloc(1, sizeof *t);
	char *err = NULL;

	t->n = n;
	t->loop = n->loop;
	t->rb = n->rb;
	t->row = *row;
	memset(row, 0, sizeof *row);
	n->tries[n->ntries++] = t;
	if ((t->sink = notify_sink(n, t->row.sink)) == NULL) {
		notify_try_done(t, 0, "no sink of this name in the runbook");
		return;
	}
	t->ops = notify_kind(t->sink);
	if (t->ops->send(t, &err) != 0) {
		notify_try_done(t, 0, err != NULL ? err : "cannot send");
		free(err);
	}
}

static const struct rb_notify *
notify_sink(const struct notify *n, const char *name)
{
	size_t i;

	for (i = 0; i < n->rb->nnotify; i++)
		if (strcmp(n->rb->notify[i].name, name) == 0)
			return &n->rb->notify[i];
	return NULL;
}

static const struct notify_sink_ops *
notify_kind(const struct rb_notify *s)
{
	size_t i;

	for (i = 0; i < NKINDS; i++)
		if (*(char *const *)(const void *)((const char *)s +
		    kinds[i].off) != NULL)
			return kinds[i].ops;
	return kinds[0].ops;
}

/* 1 s after the first failure, doubling, at most NOTIFY_BACKOFF_MAX_MS. */
static int64_t
notify_backoff(int fails)
{
	int64_t ms = 1000;

	while (--fails > 0 && ms < NOTIFY_BACKOFF_MAX_MS)
		ms *= 2;
	return ms < NOTIFY_BACKOFF_MAX_MS ? ms : NOTIFY_BACKOFF_MAX_MS;
}

void
notify_try_done(struct notify_try *t, int ok, const char *err)
{
	struct notify *n = t->n;
	size_t i;

	for (i = 0; i < n->ntries; i++) {
		if (n->tries[i] == t) {
			n->tries[i] = n->tries[--n->ntries];
			break;
		}
	}
	/* Not durable at once: a mark lost sends the event again, which
	 * at least once allows; the next durable commit keeps it. */
	state_set_durable(n->st, 0);
	state_outbox_mark(n->st, t->row.id, ok, ok ? NULL : err,
	    state_now_ms() + notify_backoff(t->row.fails + 1));
	state_set_durable(n->st, 1);
	outbox_row_clear(&t->row);
	free(t);
	n->look = 1;
}

/* Undelivered rows of the runbook, or 0 when they cannot be read. */
static int64_t
notify_pending(struct notify *n)
{
	struct outbox_stats s;

	if (state_outbox_stats(n->st, 0, &s) != STATE_OK)
		return 0;
	outbox_stats_free(&s);
	return s.pending;
}

void
notify_drain(struct notify *n, int64_t ms)
{
	int64_t end = loop_now() + ms, left;

	if (n == NULL)
		return;
	n->poll_ms = NOTIFY_DRAIN_POLL_MS;
	if (n->timer != NULL)
		loop_timer_cancel(n->loop, n->timer);
	n->timer = NULL;
	n->look = 1;
	while ((left = end - loop_now()) > 0) {
		if (n->ntries == 0 && notify_pending(n) == 0)
			break;
		loop_once(n->loop, (int)(left < NOTIFY_DRAIN_POLL_MS ? left :
		    NOTIFY_DRAIN_POLL_MS));
	}
}

void
notify_stop(struct notify *n)
{
	size_t i;

	if (n == NULL)
		return;
	for (i = 0; i < n->ntries; i++) {
		n->tries[i]->ops->cancel(n->tries[i]);
		outbox_row_clear(&n->tries[i]->row);
		free(n->tries[i]);
	}
	for (i = 0; i < NKINDS; i++)
		if (kinds[i].ops->shutdown != NULL)
			kinds[i].ops->shutdown();
	if (n->timer != NULL)
		loop_timer_cancel(n->loop, n->timer);
	loop_before_poll_remove(n->loop, notify_before_poll, n);
	free(n);
}

const char *
notify_header_text(struct state *st, int64_t run)
{
	static struct state *last_st;
	static int64_t last_run, last_ms = -1;
	static char text[160];
	static int have;
	struct outbox_stats s;
	int64_t now = loop_now();

	if (st == last_st && run == last_run && last_ms >= 0 &&
	    now - last_ms < 1000)
		return have ? text : NULL;
	last_st = st;
	last_run = run;
	last_ms = now;
	have = 0;
	if (state_outbox_stats(st, run, &s) != STATE_OK)
		return NULL;
	if (s.failing > 0) {
		snprintf(text, sizeof text, "notify: %lld failing%s%s",
		    (long long)s.failing, s.last_error != NULL ? ", " : "",
		    s.last_error != NULL ? s.last_error : "");
		have = 1;
	}
	outbox_stats_free(&s);
	return have ? text : NULL;
}

void
notify_status_json(struct state *st, int64_t run, struct buf *b, int *first)
{
	struct outbox_stats s;
	int f = 1;

	if (state_outbox_stats(st, run, &s) != STATE_OK)
		memset(&s, 0, sizeof s);
	json_key(b, first, "notifications");
	buf_addc(b, '{');
	json_key(b, &f, "pending");
	json_int(b, s.pending, 0);
	json_key(b, &f, "failed");
	json_int(b, s.failing, 0);
	json_key(b, &f, "failures");
	json_int(b, s.failures, 0);
	json_key(b, &f, "delivered");
	json_int(b, s.delivered, 0);
	json_key(b, &f, "last_error");
	json_str(b, s.last_error);
	buf_addc(b, '}');
	outbox_stats_free(&s);
}

void
notify_status_text(struct state *st, int64_t run, FILE *out)
{
	struct escape_list l = { 0 };
	struct outbox_stats s;
	char t[32];

	if (state_outbox_stats(st, run, &s) != STATE_OK)
		return;
	if (s.pending + s.delivered > 0) {
		fprintf(out, "notify: %lld delivered, %lld pending, %lld "
		    "failing", (long long)s.delivered, (long long)s.pending,
		    (long long)s.failing);
		if (s.last_error != NULL) {
			state_format_time(s.last_error_ms, t);
			fprintf(out, "; last error %s %s", t,
			    escape_field(&l, out, s.last_error));
		}
		fputc('\n', out);
	}
	escape_list_free(&l);
	outbox_stats_free(&s);
}
