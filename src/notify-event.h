/*
 * notify-event.h - the events a runbook's notify: sinks may take (SPEC
 * section 10), one list for the runbook loader, the state store that
 * writes them to the outbox and the deliverer that sends them.
 *
 * A sink takes a set of events: bit (1u << NOTIFY_EV_x) of a mask.
 */
#ifndef CUTOVER_NOTIFY_EVENT_H
#define CUTOVER_NOTIFY_EVENT_H

/* X(ENUM, name): every event, in the order the man page lists them. */
#define NOTIFY_EVENTS(X)                                                    \
	X(AWAITING, "awaiting")     /* a step waits for a person */          \
	X(FAILED, "failed")         /* a step (or its rollback) failed */    \
	X(CHECKPOINT, "checkpoint") /* a decision at a checkpoint */         \
	X(EXCLUDED, "excluded")     /* an entity dropped out of the run */   \
	X(ROLLBACK, "rollback")     /* a rollback started or finished */     \
	X(COMPLETE, "complete")     /* the run is complete */

#define NOTIFY_EV_ENUM(e, name) NOTIFY_EV_##e,
enum notify_event { NOTIFY_EVENTS(NOTIFY_EV_ENUM) NOTIFY_NEVENTS };
#undef NOTIFY_EV_ENUM

#define NOTIFY_EV_BIT(e) (1u << (e))
#define NOTIFY_EV_ALL ((1u << NOTIFY_NEVENTS) - 1)

/* The name of an event ("awaiting"), "unknown" if e is none. */
const char *notify_event_name(enum notify_event e);
/* The event called name: 0 and *out, or -1 if there is none. */
int notify_event_parse(const char *name, enum notify_event *out);

#endif
