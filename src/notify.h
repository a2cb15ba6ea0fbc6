/*
 * notify.h - delivering the outbox (state.h) to the runbook's notify:
 * sinks, in the background of a driver's event loop.
 *
 * The events themselves are put in the outbox by the state layer, in the
 * transaction of the transition that caused them (state_set_notify tells
 * a handle the sinks, notify_subscribe does it from a runbook). A driver
 * starts a notifier on its loop: it reads the rows that are due, sends
 * each to its sink without ever blocking the loop (webhooks through the
 * libcurl multi interface on the loop's sockets and timers, commands
 * through the local executor), marks them delivered or failed, and tries
 * a failed one again after a back-off (1 s, doubling, at most
 * NOTIFY_BACKOFF_MAX_MS; a driver that starts tries every row at once).
 * Delivery is at least once: a row is marked
 * after its sink took it, so a driver killed in between sends it again;
 * receivers dedupe on the event id.
 *
 * Webhook addresses are expanded from ${env:NAME} (and vars) when sent and
 * never stored, logged or shown; errors name the sink and say what went
 * wrong ("HTTP 500", "Couldn't connect to server"), never the address.
 */
#ifndef CUTOVER_NOTIFY_H
#define CUTOVER_NOTIFY_H

#include <stdint.h>
#include <stdio.h>

struct loop;
struct runbook;
struct state;
struct notify;

#define NOTIFY_BACKOFF_MAX_MS (60 * 1000)
#define NOTIFY_TIMEOUT_MS (30 * 1000)  /* one try of one sink */
#define NOTIFY_DRAIN_MS (5 * 1000)     /* what `run` waits before it exits */
#define NOTIFY_INFLIGHT_MAX 8          /* tries under way at once */

/* Tell st the sinks of rb (state_set_notify), so that the transitions it
 * records put their events in the outbox. */
void notify_subscribe(struct state *, const struct runbook *);

/* Start delivering the outbox of st for rb's sinks on loop; NULL when rb
 * has no sink. Both must outlive the notifier. */
struct notify *notify_start(struct loop *, struct state *,
    const struct runbook *);
/* Run the loop until nothing is due or in flight, or ms have passed:
 * what a headless run does before it exits. Rows still failing stay in
 * the outbox for the next driver. NULL: nothing. */
void notify_drain(struct notify *, int64_t ms);
/* Stop: tries under way are abandoned (their rows stay undelivered). */
void notify_stop(struct notify *);

/* One short line about deliveries that fail, for a header ("notify: 2
 * failing, sink 1: HTTP 500"), or NULL when none fail. Reads the outbox
 * at most once a second per handle; the text is valid until the next
 * call. */
const char *notify_header_text(struct state *, int64_t run);

struct buf;
/* "notifications": {"pending": n, "failed": n, "failures": n,
 * "delivered": n, "last_error": "..."|null} for status --json, appended to
 * b as a member of an object (json_key's *first). Zeros when st cannot
 * say. */
void notify_status_json(struct state *, int64_t run, struct buf *b,
    int *first);
/* The same as a line for a person ("notify: 2 pending, 2 failing, last
 * error 11:32Z sink 1: HTTP 500"), on out; nothing when the run never had
 * an event for a sink. */
void notify_status_text(struct state *, int64_t run, FILE *out);

#endif
