/*
 * notify-format.c - the payload of an event in each webhook format:
 * json (every field), slack (an incoming-webhook message: text and
 * blocks) and teams (a message with an Adaptive Card, what Teams
 * incoming webhooks and workflows take). One function per format, in a
 * table in the order of NOTIFY_FORMATS.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "json.h"
#include "notify-int.h"

static void format_json(const struct outbox_row *, struct buf *);
static void format_slack(const struct outbox_row *, struct buf *);
static void format_teams(const struct outbox_row *, struct buf *);
static void format_facts(const struct outbox_row *, struct buf *,
    const char *, const char *);

static void (*const formats[NOTIFY_NFORMATS])(const struct outbox_row *,
    struct buf *) = {
	[NOTIFY_FMT_JSON] = format_json,
	[NOTIFY_FMT_SLACK] = format_slack,
	[NOTIFY_FMT_TEAMS] = format_teams,
};

const char *
notify_field_value(const struct outbox_row *r, enum notify_field f,
    char num[32])
{
	const char *v = NULL;

	switch (f) {
	case NOTIFY_F_ID: v = r->event; break;
	case NOTIFY_F_TYPE: v = r->type; break;
	case NOTIFY_F_RUNBOOK: v = r->runbook; break;
	case NOTIFY_F_RUN:
		snprintf(num, 32, "%lld", (long long)r->run);
		return num;
	case NOTIFY_F_STEP: v = r->step; break;
	case NOTIFY_F_ENTITY: v = r->entity; break;
	case NOTIFY_F_STATE: v = r->state; break;
	case NOTIFY_F_OPERATOR: v = r->operator; break;
	case NOTIFY_F_TIME:
		state_format_time(r->at_ms, num);
		return num;
	case NOTIFY_F_MESSAGE: v = r->message; break;
	case NOTIFY_NFIELDS: break;
	}
	return v != NULL ? v : "";
}

void
notify_format_body(enum notify_format f, const struct outbox_row *r,
    struct buf *b)
{
	formats[(unsigned)f < NOTIFY_NFORMATS ? f : NOTIFY_FMT_JSON](r, b);
}

void
notify_format_line(const struct outbox_row *r, struct buf *b)
{
	buf_printf(b, "%s run %lld: ", r->runbook ? r->runbook : "cutover",
	    (long long)r->run);
	if (r->step != NULL)
		buf_printf(b, "%s %s%s%s ", r->type != NULL &&
		    strcmp(r->type, "checkpoint") == 0 ? "checkpoint" : "step",
		    r->step, r->entity ? "@" : "", r->entity ? r->entity : "");
	else if (r->entity != NULL)
		buf_printf(b, "entity %s ", r->entity);
	buf_adds(b, r->state != NULL ? r->state : r->type);
	if (r->message != NULL && *r->message != '\0')
		buf_printf(b, ": %s", r->message);
}

/* {"id": ..., "type": ..., every field}; run a number, empty ones null. */
static void
format_json(const struct outbox_row *r, struct buf *b)
{
	char num[32];
	const char *v;
	int first = 1, f;

	buf_addc(b, '{');
	for (f = 0; f < NOTIFY_NFIELDS; f++) {
		json_key(b, &first, notify_field_name((enum notify_field)f));
		if (f == NOTIFY_F_RUN) {
			json_int(b, r->run, 0);
			continue;
		}
		v = notify_field_value(r, (enum notify_field)f, num);
		json_str(b, *v != '\0' ? v : NULL);
	}
	buf_addc(b, '}');
}

/* Slack: text (shown in notifications), a section and a context line
 * with the event id. */
static void
format_slack(const struct outbox_row *r, struct buf *b)
{
	struct buf line = { 0 }, ctx = { 0 };
	char t[32];

	notify_format_line(r, &line);
	state_format_time(r->at_ms, t);
	buf_printf(&ctx, "event %s | %s | %s", r->event,
	    r->operator ? r->operator : "-", t);
	buf_adds(b, "{\"text\":");
	json_str(b, buf_str(&line));
	buf_adds(b, ",\"blocks\":[{\"type\":\"section\",\"text\":{\"type\":"
	    "\"plain_text\",\"text\":");
	json_str(b, buf_str(&line));
	buf_adds(b, "}},{\"type\":\"context\",\"elements\":[{\"type\":"
	    "\"plain_text\",\"text\":");
	json_str(b, buf_str(&ctx));
	buf_adds(b, "}]}]}");
	buf_free(&line);
	buf_free(&ctx);
}

/* Teams: a message carrying one Adaptive Card: a title and the facts. */
static void
format_teams(const struct outbox_row *r, struct buf *b)
{
	struct buf line = { 0 };

	notify_format_line(r, &line);
	buf_adds(b, "{\"type\":\"message\",\"summary\":");
	json_str(b, buf_str(&line));
	buf_adds(b, ",\"attachments\":[{\"contentType\":"
	    "\"application/vnd.microsoft.card.adaptive\",\"contentUrl\":null,"
	    "\"content\":{\"$schema\":"
	    "\"http://adaptivecards.io/schemas/adaptive-card.json\","
	    "\"type\":\"AdaptiveCard\",\"version\":\"1.4\",\"body\":["
	    "{\"type\":\"TextBlock\",\"weight\":\"Bolder\",\"wrap\":true,"
	    "\"text\":");
	json_str(b, buf_str(&line));
	buf_adds(b, "},{\"type\":\"FactSet\",\"facts\":[");
	format_facts(r, b, "title", "value");
	buf_adds(b, "]}]}}]}");
	buf_free(&line);
}

/* The fields that are set, as [{title: NAME, value: VALUE}, ...] items. */
static void
format_facts(const struct outbox_row *r, struct buf *b, const char *k,
    const char *v)
{
	char num[32];
	const char *val;
	int f, n = 0;

	for (f = 0; f < NOTIFY_NFIELDS; f++) {
		val = notify_field_value(r, (enum notify_field)f, num);
		if (*val == '\0')
			continue;
		buf_printf(b, "%s{\"%s\":", n++ ? "," : "", k);
		json_str(b, notify_field_name((enum notify_field)f));
		buf_printf(b, ",\"%s\":", v);
		json_str(b, val);
		buf_addc(b, '}');
	}
}
