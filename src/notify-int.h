/*
 * notify-int.h - shared by the notifier (notify.c), its sink kinds
 * (notify-webhook.c, notify-command.c) and payload formats
 * (notify-format.c). Not for other modules.
 *
 * A sink kind is one const struct notify_sink_ops and a row in kinds[] of
 * notify.c: the kind of a sink is the first row whose field of struct
 * rb_notify is set.
 */
#ifndef CUTOVER_NOTIFY_INT_H
#define CUTOVER_NOTIFY_INT_H

#include <stddef.h>
#include <stdint.h>

#include "notify-event.h"
#include "state.h"

struct buf;
struct loop;
struct notify;
struct rb_notify;
struct runbook;

/* One outbox row on its way to its sink. */
struct notify_try {
	struct notify *n;
	struct loop *loop;
	const struct runbook *rb;
	const struct rb_notify *sink;
	const struct notify_sink_ops *ops;
	struct outbox_row row; /* owned */
	void *priv;            /* the kind's */
};

struct notify_sink_ops {
	const char *name; /* "webhook" */
	/*
	 * Start sending t->row to t->sink without blocking: 0, and the kind
	 * calls notify_try_done exactly once later, from the loop; or -1
	 * with *err (a new string, no address in it) when it cannot start.
	 */
	int (*send)(struct notify_try *t, char **err);
	/* Abandon a try under way (notify_try_done is not called). */
	void (*cancel)(struct notify_try *t);
	/* Release what the kind keeps for all its tries (the notifier
	 * stops); may be NULL. */
	void (*shutdown)(void);
};

extern const struct notify_sink_ops notify_webhook_ops;
extern const struct notify_sink_ops notify_command_ops;

/* Report the outcome of a try: ok, or a failure saying why (one line, no
 * address). Frees t. */
void notify_try_done(struct notify_try *t, int ok, const char *err);

/* The value of field f of an event row as text ("" when absent): for
 * payloads and ${event.FIELD}. The result is valid until row changes; num
 * is room for numbers and times. */
const char *notify_field_value(const struct outbox_row *, enum notify_field,
    char num[32]);
/* The body of row in format f, appended to b. */
void notify_format_body(enum notify_format f, const struct outbox_row *,
    struct buf *b);
/* One line for a person: "nt run 1: step a failed: exited with status 1". */
void notify_format_line(const struct outbox_row *, struct buf *b);

#endif
