/*
 * notify.c - the notifier: reads the outbox, hands rows to their sinks
 * (notify-webhook.c, notify-command.c: a table of sink kinds), marks the
 * outcome, backs off.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loop.h"
#include "notify.h"
#include "state.h"
#include "xmalloc.h"

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
