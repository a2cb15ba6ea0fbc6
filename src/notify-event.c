/* notify-event.c - names of the events, fields and formats of
 * notify-event.h. */
#include "config.h"

#include <string.h>

#include "notify-event.h"

#define NOTIFY_NAME(e, name) name,
const char *const notify_event_names[NOTIFY_NEVENTS] = {
	NOTIFY_EVENTS(NOTIFY_NAME)
};
static const char *const field_names[NOTIFY_NFIELDS] = {
	NOTIFY_FIELDS(NOTIFY_NAME)
};
static const char *const format_names[NOTIFY_NFORMATS] = {
	NOTIFY_FORMATS(NOTIFY_NAME)
};
#undef NOTIFY_NAME

static int name_find(const char *const *, int, const char *, size_t);

/* The index of the name of len bytes among n names, or -1. */
static int
name_find(const char *const *names, int n, const char *name, size_t len)
{
	int i;

	for (i = 0; i < n; i++)
		if (strlen(names[i]) == len && memcmp(names[i], name, len) == 0)
			return i;
	return -1;
}

const char *
notify_event_name(enum notify_event e)
{
	if ((unsigned)e >= NOTIFY_NEVENTS)
		return "unknown";
	return notify_event_names[e];
}

int
notify_event_parse(const char *name, enum notify_event *out)
{
	int i = name_find(notify_event_names, NOTIFY_NEVENTS, name,
	    strlen(name));

	if (i < 0)
		return -1;
	*out = (enum notify_event)i;
	return 0;
}

const char *
notify_field_name(enum notify_field f)
{
	if ((unsigned)f >= NOTIFY_NFIELDS)
		return "unknown";
	return field_names[f];
}

int
notify_field_parse(const char *name, size_t len, enum notify_field *out)
{
	int i = name_find(field_names, NOTIFY_NFIELDS, name, len);

	if (i < 0)
		return -1;
	*out = (enum notify_field)i;
	return 0;
}

const char *
notify_format_name(enum notify_format f)
{
	if ((unsigned)f >= NOTIFY_NFORMATS)
		return "unknown";
	return format_names[f];
}

int
notify_format_parse(const char *name, enum notify_format *out)
{
	int i = name_find(format_names, NOTIFY_NFORMATS, name, strlen(name));

	if (i < 0)
		return -1;
	*out = (enum notify_format)i;
	return 0;
}
