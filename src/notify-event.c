/* notify-event.c - names of the events of notify-event.h. */
#include "config.h"

#include <string.h>

#include "notify-event.h"

#define NOTIFY_EV_NAME(e, name) name,
static const char *const event_names[NOTIFY_NEVENTS] = {
	NOTIFY_EVENTS(NOTIFY_EV_NAME)
};
#undef NOTIFY_EV_NAME

const char *
notify_event_name(enum notify_event e)
{
	if ((unsigned)e >= NOTIFY_NEVENTS)
		return "unknown";
	return event_names[e];
}

int
notify_event_parse(const char *name, enum notify_event *out)
{
	int i;

	for (i = 0; i < NOTIFY_NEVENTS; i++) {
		if (strcmp(name, event_names[i]) == 0) {
			*out = (enum notify_event)i;
			return 0;
		}
	}
	return -1;
}
