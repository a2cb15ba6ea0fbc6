/* status-json.c - the `status --json` object, for status and serve. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "notify.h"
#include "status-json.h"

static void status_json_step(struct buf *, struct runbook *,
    const struct step_row *, struct engine *);
static void status_json_evidence(struct buf *, int *, struct engine *,
    struct engine_step *);
static void status_json_entities(struct buf *, int *, struct engine *);

/* ,"evidence":[lines] of checkpoint s: what a decision there rests on. */
static void
status_json_evidence(struct buf *b, int *f, struct engine *e,
    struct engine_step *s)
{
	struct engine_step **v = NULL;
	size_t n = engine_evidence(e, s, &v), i;
	char *line;

	json_key(b, f, "evidence");
	buf_addc(b, '[');
	for (i = 0; i < n; i++) {
		line = engine_evidence_line(e, v[i]);
		if (i > 0)
			buf_addc(b, ',');
		json_str(b, line);
		free(line);
	}
	buf_addc(b, ']');
	free(v);
}

/* One step object of "steps". */
static void
status_json_step(struct buf *b, struct runbook *rb, const struct step_row *v,
    struct engine *e)
{
	struct rb_step *d = NULL;
	struct rb_entity *en = NULL;
	struct engine_step *s;
	int f = 1;

	runbook_instance_find(rb, v->id, &d, &en);
	buf_addc(b, '{');
	report_json_step_head(b, &f, rb, v->id, d, en, v->state, 0);
	json_key(b, &f, "attempts");
	json_int(b, v->attempts, 0);
	json_key(b, &f, "started_at");
	json_str(b, v->started_at);
	json_key(b, &f, "ended_at");
	json_str(b, v->ended_at);
	json_key(b, &f, "duration_ms");
	json_int(b, v->duration_ms, 1);
	if (d != NULL && d->type == STEP_RECONCILE) {
		json_key(b, &f, "result");
		buf_adds(b, v->result ? v->result : "null");
	}
	if (d != NULL && d->type == STEP_CHECKPOINT && e != NULL &&
	    (s = engine_find(e, v->id)) != NULL)
		status_json_evidence(b, &f, e, s);
	buf_addc(b, '}');
}

/* ,"selection":"...","entities":[{id, wave, state, counts, ...}]. */
static void
status_json_entities(struct buf *b, int *first, struct engine *e)
{
	size_t counts[ST_NSTATES], i, j;
	struct rb_entity *en;
	struct engine_step *s;
	int f, fc;

	json_key(b, first, "selection");
	json_str(b, e != NULL ? engine_selection_text(e) : "all entities");
	json_key(b, first, "entities");
	buf_addc(b, '[');
	for (i = 0; e != NULL && i < engine_nentities(e); i++) {
		en = engine_entity_at(e, i);
		memset(counts, 0, sizeof counts);
		for (j = 0; j < engine_nsteps(e); j++) {
			s = engine_step_at(e, j);
			if (s->entity == en)
				counts[s->state]++;
		}
		f = 1;
		buf_adds(b, i ? ",{" : "{");
		json_key(b, &f, "id");
		json_str(b, en->id);
		json_key(b, &f, "wave");
		json_str(b, en->wave);
		json_key(b, &f, "title");
		json_str(b, en->title);
		json_key(b, &f, "state");
		json_str(b, engine_entity_state_name(engine_entity_state(e, en)));
		json_key(b, &f, "counts");
		buf_addc(b, '{');
		for (j = 0, fc = 1; j < ST_NSTATES; j++) {
			if (counts[j] == 0)
				continue;
			json_key(b, &fc, step_state_name((enum step_state)j));
			json_int(b, (int64_t)counts[j], 0);
		}
		buf_addc(b, '}');
		json_key(b, &f, "excluded_reason");
		json_str(b, engine_entity_reason(e, en));
		buf_addc(b, '}');
	}
	buf_addc(b, ']');
}

/* The status --json object of run r into b. */
void
status_json(struct buf *b, struct state *st, struct runbook *rb,
    struct run_info *r, struct step_row *v, size_t n, struct report_run *rr,
    int64_t behind, struct engine *e)
{
	char t[32];
	size_t i;
	int first = 1;

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
		if (i > 0)
			buf_addc(b, ',');
		status_json_step(b, rb, &v[i], e);
	}
	buf_addc(b, ']');
	status_json_entities(b, &first, e);
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
