/*
 * notify-event.h - the events a runbook's notify: sinks may take (SPEC
 * section 10), one list for the runbook loader, the state store that
 * writes them to the outbox and the deliverer that sends them.
 *
 * A sink takes a set of events: bit (1u << NOTIFY_EV_x) of a mask.
 */
#ifndef CUTOVER_NOTIFY_EVENT_H
#define CUTOVER_NOTIFY_EVENT_H

#include <stddef.h>

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

/* X(ENUM, name): the fields of an event, as a json payload names them and
 * as ${event.NAME} in a command sink gives them. */
#define NOTIFY_FIELDS(X)                                                    \
	X(ID, "id")             /* 32 hex digits: receivers dedupe on it */  \
	X(TYPE, "type")         /* the event's name */                       \
	X(RUNBOOK, "runbook")   /* the runbook's name */                     \
	X(RUN, "run")           /* the run's number */                       \
	X(STEP, "step")         /* the step's id, or empty */                \
	X(ENTITY, "entity")     /* the entity's id, or empty */              \
	X(STATE, "state")       /* the step's new state, go, no-go, ... */   \
	X(OPERATOR, "operator") /* who acted */                              \
	X(TIME, "time")         /* when, ISO 8601 UTC */                     \
	X(MESSAGE, "message")   /* one line for a person */

#define NOTIFY_F_ENUM(e, name) NOTIFY_F_##e,
enum notify_field { NOTIFY_FIELDS(NOTIFY_F_ENUM) NOTIFY_NFIELDS };
#undef NOTIFY_F_ENUM

/* X(ENUM, name): the payload formats of a webhook sink; json first (the
 * default). */
#define NOTIFY_FORMATS(X)                                                   \
	X(JSON, "json")   /* the fields above, as one JSON object */         \
	X(SLACK, "slack") /* a Slack incoming webhook message */             \
	X(TEAMS, "teams") /* a Microsoft Teams incoming webhook card */

#define NOTIFY_FMT_ENUM(e, name) NOTIFY_FMT_##e,
enum notify_format { NOTIFY_FORMATS(NOTIFY_FMT_ENUM) NOTIFY_NFORMATS };
#undef NOTIFY_FMT_ENUM

#define NOTIFY_EV_BIT(e) (1u << (e))
#define NOTIFY_EV_ALL ((1u << NOTIFY_NEVENTS) - 1)

/* The name of an event ("awaiting"), "unknown" if e is none. */
const char *notify_event_name(enum notify_event e);
/* The event called name: 0 and *out, or -1 if there is none. */
int notify_event_parse(const char *name, enum notify_event *out);
/* The same for fields and formats. */
const char *notify_field_name(enum notify_field f);
int notify_field_parse(const char *name, size_t len, enum notify_field *out);
const char *notify_format_name(enum notify_format f);
int notify_format_parse(const char *name, enum notify_format *out);
/* Every event name, NOTIFY_NEVENTS of them (for suggestions). */
extern const char *const notify_event_names[NOTIFY_NEVENTS];

#endif
