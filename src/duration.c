/*
 * duration.c - parse and format durations ("250ms", "90s", "1h30m", "1d").
 *
 * Grammar: one or more NUMBER UNIT pairs, no spaces, units among d, h, m, s,
 * ms in decreasing order and each at most once; NUMBER is whole decimal
 * digits. The total must not exceed 31 days.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "duration.h"
#include "xmalloc.h"

#define DURATION_MAX_MS ((int64_t)31 * 24 * 60 * 60 * 1000)

struct duration_unit {
	const char *name;
	int64_t ms;
};

static const struct duration_unit duration_units[] = {
	{ "d", 24 * 60 * 60 * 1000 },
	{ "h", 60 * 60 * 1000 },
	{ "m", 60 * 1000 },
	{ "s", 1000 },
	{ "ms", 1 },
};
#define DURATION_NUNITS (sizeof duration_units / sizeof duration_units[0])

static int duration_unit_find(const char *, size_t);
static const char *duration_parse_number(const char **, int64_t *);
static const char *duration_fraction_hint(const char *);

/* The index of the unit named by the len letters at s, or -1. */
static int
duration_unit_find(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < DURATION_NUNITS; i++) {
		if (strlen(duration_units[i].name) == len &&
		    memcmp(duration_units[i].name, s, len) == 0)
			return (int)i;
	}
	return -1;
}

/*
 * Why the decimal at s ("1.5m") is refused, with its whole-number spelling
 * ("write 1m30s, not 1.5m") when it has one. The text is in a static buffer.
 */
static const char *
duration_fraction_hint(const char *s)
{
	static char msg[128];
	const char *p = s, *unit;
	int64_t whole = 0, frac = 0, scale = 1, ms, back;
	char d[64];
	const char *why;
	int u;

	for (; *p >= '0' && *p <= '9' && whole < DURATION_MAX_MS; p++)
		whole = whole * 10 + (*p - '0');
	if (*p == '.' || *p == ',')
		p++;
	for (; *p >= '0' && *p <= '9' && scale < 1000000000; p++, scale *= 10)
		frac = frac * 10 + (*p - '0');
	for (unit = p; *p >= 'a' && *p <= 'z'; p++)
		;
	u = duration_unit_find(unit, (size_t)(p - unit));
	if (u < 0 || (*p != '\0' && (*p < '0' || *p > '9')) ||
	    whole > DURATION_MAX_MS / duration_units[u].ms ||
	    frac * duration_units[u].ms % scale != 0 ||
	    (ms = whole * duration_units[u].ms +
	        frac * duration_units[u].ms / scale) > DURATION_MAX_MS)
		return "whole numbers only, such as 1h30m or 1m30s";
	duration_format(ms, d, sizeof d);
	if (duration_parse(d, &back, &why) != 0 || back != ms)
		return "whole numbers only, such as 1h30m or 1m30s";
	snprintf(msg, sizeof msg, "whole numbers only (write %s, not %.*s)", d,
	    (int)(p - s), s);
	return msg;
}

/* Read the digits at *sp into *v; NULL or why it is not a number. */
static const char *
duration_parse_number(const char **sp, int64_t *v)
{
	const char *s = *sp;

	if (*s == '-')
		return "negative durations are not allowed";
	if (*s == ' ' || *s == '\t')
		return "spaces are not allowed";
	if (*s < '0' || *s > '9')
		return "expected a number and a unit, such as 90s or 1h30m";
	*v = 0;
	while (*s >= '0' && *s <= '9') {
		if (*v <= DURATION_MAX_MS)
			*v = *v * 10 + (*s - '0');
		s++;
	}
	if (*s == '.' || *s == ',')
		return duration_fraction_hint(*sp);
	if (*s == '\0')
		return "missing unit (use ms, s, m, h or d)";
	*sp = s;
	return NULL;
}

int
duration_parse(const char *s, int64_t *ms, const char **why)
{
	const char *unit;
	int64_t v, total = 0;
	int u, last = -1;

	if (s == NULL || *s == '\0') {
		*why = "empty duration";
		return -1;
	}
	while (*s != '\0') {
		if ((*why = duration_parse_number(&s, &v)) != NULL)
			return -1;
		for (unit = s; (*s >= 'a' && *s <= 'z') || (*s >= 'A' &&
		    *s <= 'Z'); s++)
			;
		if (s == unit && (*s == ' ' || *s == '\t')) {
			*why = "spaces are not allowed";
			return -1;
		}
		u = duration_unit_find(unit, (size_t)(s - unit));
		if (u < 0) {
			*why = "unknown unit (use ms, s, m, h or d)";
			return -1;
		}
		if (u <= last) {
			*why = "units must go from largest to smallest, each "
			    "once (1h30m, not 30m1h)";
			return -1;
		}
		last = u;
		if (v > DURATION_MAX_MS / duration_units[u].ms ||
		    (total += v * duration_units[u].ms) > DURATION_MAX_MS) {
			*why = "longer than 31 days";
			return -1;
		}
	}
	*ms = total;
	*why = NULL;
	return 0;
}

/*
 * Format ms. Under a second: "250ms" ("0s" for zero). Under a minute: seconds
 * and any milliseconds ("1s", "2s500ms"), so the text parses back exactly.
 * From a minute up, milliseconds are dropped and the units run from the
 * largest non-zero one to the smallest non-zero one, zeros in between shown:
 * "1m30s", "2h", "1h30m", "1h0m5s", "1d2h".
 */
void
duration_format(int64_t ms, char *out, size_t len)
{
	int64_t part[DURATION_NUNITS], rest;
	size_t i, first, last, used = 0;
	int n;

	if (len == 0)
		return;
	out[0] = '\0';
	if (ms < 0)
		ms = 0;
	if (ms == 0 || ms < 1000) {
		snprintf(out, len, ms == 0 ? "0s" : "%lldms", (long long)ms);
		return;
	}
	rest = ms >= 60 * 1000 ? ms - ms % 1000 : ms;
	first = last = DURATION_NUNITS;
	for (i = 0; i < DURATION_NUNITS; i++) {
		part[i] = rest / duration_units[i].ms;
		rest %= duration_units[i].ms;
		if (part[i] != 0) {
			if (first == DURATION_NUNITS)
				first = i;
			last = i;
		}
	}
	for (i = first; i <= last && used < len; i++) {
		n = snprintf(out + used, len - used, "%lld%s",
		    (long long)part[i], duration_units[i].name);
		if (n < 0)
			break;
		used += (size_t)n;
	}
}

char *
duration_timed_out(int64_t ms)
{
	char d[32];

	duration_format(ms, d, sizeof d);
	return xprintf("timed out after %s", d);
}
