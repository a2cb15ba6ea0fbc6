/* status-json.c - the `status --json` object, for status and serve. */
#include "config.h"

#include "json.h"
#include "notify.h"
#include "status-json.h"

/* The status --json object of run r into b. */
void
status_json(struct buf *b, struct state *st, struct runbook *rb,
    struct run_info *r, struct step_row *v, size_t n, struct report_run *rr,
    int64_t behind, struct engine *e)
{
	struct rb_step *d;
	char t[32];
	size_t i;
	int first = 1, f;

	buf_addc(b, '{');
	json_key(b, &first, "runbook");
	json_str(b, r->runbook);
	json_key(b, &first, "run");
	json_int(b, r->id, 0);
	json_key(b, &first, "mode");
	json_str(b, r->mode);
	json_key(b, &first, "state");
	json_str(b, r->state);
	json_key(b, &first, "steps");
	buf_addc(b, '[');
	for (i = 0; i < n; i++) {
		d = runbook_find_step(rb, v[i].id);
		f = 1;
		buf_adds(b, i ? ",{" : "{");
		json_key(b, &f, "id");
		json_str(b, v[i].id);
		json_key(b, &f, "phase");
		json_str(b, d ? rb->phases[d->phase].id : NULL);
		json_key(b, &f, "type");
		json_str(b, d ? step_type_name(d->type) : NULL);
		json_key(b, &f, "state");
		json_str(b, step_state_name(v[i].state));
		json_key(b, &f, "attempts");
		json_int(b, v[i].attempts, 0);
		json_key(b, &f, "started_at");
		json_str(b, v[i].started_at);
		json_key(b, &f, "ended_at");
		json_str(b, v[i].ended_at);
		json_key(b, &f, "duration_ms");
		json_int(b, v[i].duration_ms, 1);
		if (d != NULL && d->type == STEP_RECONCILE) {
			json_key(b, &f, "result");
			buf_adds(b, v[i].result ? v[i].result : "null");
		}
		buf_addc(b, '}');
	}
	buf_addc(b, ']');
	/* Added keys: the forecast end and the distance from plan. */
	json_key(b, &first, "eta");
	if (rr != NULL) {
		state_format_time(rr->eta.finish, t);
		json_str(b, t);
	} else
		json_str(b, NULL);
	json_key(b, &first, "plan_delta_ms");
	if (rr != NULL && rr->eta.planned)
		json_int(b, rr->eta.delta_ms, 0);
	else
		json_str(b, NULL);
	/* How far this machine's clock is behind the audit trail (0: not). */
	json_key(b, &first, "clock_behind_ms");
	json_int(b, behind >= 1000 ? behind : 0, 0);
	notify_status_json(st, r->id, b, &first);
	buf_adds(b, "}\n");
}
