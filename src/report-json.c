/*
 * report-json.c - the report as one JSON object, for tools: the run (and
 * the compared run) with its ETA, phases, steps with attempts and waits,
 * decisions and failures, and the differences between the two runs.
 * Times are ISO 8601 UTC, durations integer milliseconds (null: none).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "report.h"

static void js_time(struct buf *, int *, const char *, int64_t);
static void js_bool(struct buf *, int *, const char *, int);
static const char *js_outcome(enum report_outcome);
static void js_audit_head(struct buf *, struct report_run *);
static void js_reconcile(struct buf *, int *, struct report_step *);
static void js_failure(struct buf *, struct report_run *,
    struct report_step *, size_t);
static void js_run(struct buf *, struct report_run *);
static void js_eta(struct buf *, struct report_run *);
static void js_phases(struct buf *, struct report_run *);
static void js_steps(struct buf *, struct report_run *);
static void js_step(struct buf *, struct report_run *, size_t);
static void js_step_times(struct buf *, int *, struct report_run *, size_t);
static void js_waits(struct buf *, struct report_step *);
static void js_attempts(struct buf *, struct report_step *);
static void js_acts(struct buf *, struct report_run *);
static void js_failures(struct buf *, struct report_run *);
static void js_diff(struct buf *, struct report_run *, struct report_run *);
static void js_diff_phases(struct buf *, struct report_run *,
    struct report_run *);
static void js_diff_lanes(struct buf *, struct report_run *,
    struct report_run *);
static void js_stat(struct buf *, int *, const char *,
    const struct report_lane_stat *);
static void js_lanes(struct buf *, struct report_run *);
static void js_entity(struct buf *, struct report_entity *);
static void js_counts(struct buf *, const size_t *);
static void js_waves(struct buf *, struct report_run *);
static void js_checkpoints(struct buf *, struct report_run *);
static void js_checkpoint(struct buf *, struct report_run *,
    struct report_step *);
static void js_evidence(struct buf *, struct report_run *,
    struct report_step *);
static void js_decisions(struct buf *, struct report_run *,
    struct report_step *);

/* "key": an ISO time, or null. */
static void
js_time(struct buf *b, int *f, const char *key, int64_t ms)
{
	char t[32];

	json_key(b, f, key);
	if (ms < 0) {
		buf_adds(b, "null");
		return;
	}
	state_format_time(ms, t);
	json_str(b, t);
}

static void
js_bool(struct buf *b, int *f, const char *key, int v)
{
	json_key(b, f, key);
	buf_adds(b, v ? "true" : "false");
}

/* The outcome as one lower-case word or two. */
static const char *
js_outcome(enum report_outcome o)
{
	static const char *words[] = { "open", "complete", "rolled back",
		"rollback not finished", "aborted" };

	return words[o];
}

/* {"id", "hash", "at"}: the head of the audit trail when read. */
static void
js_audit_head(struct buf *b, struct report_run *r)
{
	int f = 1;

	buf_addc(b, '{');
	json_key(b, &f, "id");
	json_int(b, r->audit_id, 0);
	json_key(b, &f, "hash");
	json_str(b, r->audit_hash[0] ? r->audit_hash : NULL);
	json_key(b, &f, "at");
	json_str(b, r->audit_at);
	buf_addc(b, '}');
}

/* ,"reconcile":{verdict, differences, tolerance, words} of a step with a
 * result. */
static void
js_reconcile(struct buf *b, int *fp, struct report_step *s)
{
	static const char *verdicts[] = { NULL, "clean", "within_tolerance",
		"failed" };
	char words[128], v[32];
	enum report_rec rc = report_reconcile(s, words, sizeof words);
	int64_t n = 0;
	int f = 1;

	if (rc == REC_NONE)
		return;
	if (report_result_field(s->row.result, "source_rows", v, sizeof v) == 0)
		n = report_rec_differences(s->row.result);
	else
		n = rc != REC_CLEAN;
	json_key(b, fp, "reconcile");
	buf_addc(b, '{');
	json_key(b, &f, "verdict");
	json_str(b, verdicts[rc]);
	json_key(b, &f, "differences");
	json_int(b, n, 1);
	json_key(b, &f, "tolerance");
	if (s->def != NULL)
		buf_printf(b, "%g", s->def->tolerance);
	else
		buf_adds(b, "null");
	json_key(b, &f, "words");
	json_str(b, words);
	buf_addc(b, '}');
}

void
report_json(struct buf *b, struct report_run *r, struct report_run *cmp)
{
	int f = 1;

	buf_addc(b, '{');
	json_key(b, &f, "runbook");
	json_str(b, r->rb->name);
	json_key(b, &f, "title");
	json_str(b, r->rb->title);
	js_time(b, &f, "generated_at", state_now_ms());
	json_key(b, &f, "run");
	js_run(b, r);
	if (cmp != NULL) {
		json_key(b, &f, "compare");
		js_run(b, cmp);
		json_key(b, &f, "differences");
		js_diff(b, r, cmp);
	}
	buf_adds(b, "}\n");
}

/* One run, whole. */
static void
js_run(struct buf *b, struct report_run *r)
{
	int f = 1;

	buf_addc(b, '{');
	json_key(b, &f, "id");
	json_int(b, r->info.id, 0);
	json_key(b, &f, "mode");
	json_str(b, r->info.mode);
	js_bool(b, &f, "live", r->live);
	json_key(b, &f, "state");
	json_str(b, r->info.state);
	json_key(b, &f, "operator");
	json_str(b, r->info.operator);
	json_key(b, &f, "outcome");
	json_str(b, js_outcome(report_outcome(r)));
	json_key(b, &f, "runbook_redacted_sha256");
	json_str(b, r->text_sha);
	json_key(b, &f, "audit_head");
	js_audit_head(b, r);
	json_key(b, &f, "rollbacks");
	json_int(b, (int64_t)r->nrollbacks, 0);
	json_key(b, &f, "opened_at");
	json_str(b, r->info.created_at);
	json_key(b, &f, "closed_at");
	json_str(b, r->info.ended_at);
	js_time(b, &f, "started_at", r->start_ms);
	js_time(b, &f, "ended_at", r->end_ms);
	json_key(b, &f, "elapsed_ms");
	json_int(b, r->now_ms - r->start_ms, 1);
	json_key(b, &f, "eta");
	js_eta(b, r);
	js_lanes(b, r);
	js_phases(b, r);
	js_steps(b, r);
	js_checkpoints(b, r);
	js_acts(b, r);
	js_failures(b, r);
	buf_addc(b, '}');
}

/* ,"selection", "entities" and "waves", for a runbook with lanes. */
static void
js_lanes(struct buf *b, struct report_run *r)
{
	char sel[256];
	size_t i;

	if (!r->lanes)
		return;
	buf_adds(b, ",\"selection\":");
	json_str(b, r->info.selection && *r->info.selection
	        ? r->info.selection : NULL);
	report_selection(r->info.selection, sel, sizeof sel);
	buf_adds(b, ",\"selection_words\":");
	json_str(b, sel);
	buf_adds(b, ",\"entities\":[");
	for (i = 0; i < r->nents; i++) {
		if (i > 0)
			buf_addc(b, ',');
		js_entity(b, &r->ents[i]);
	}
	buf_addc(b, ']');
	js_waves(b, r);
}

/* One entity: where it stands, its instances, its exclusion. */
static void
js_entity(struct buf *b, struct report_entity *e)
{
	int f = 1, g = 1;

	buf_addc(b, '{');
	json_key(b, &f, "id");
	json_str(b, e->def->id);
	json_key(b, &f, "wave");
	json_str(b, e->def->wave);
	json_key(b, &f, "title");
	json_str(b, e->def->title);
	json_key(b, &f, "state");
	json_str(b, report_ent_state_name(e->state));
	json_key(b, &f, "instances");
	json_int(b, (int64_t)e->ninst, 0);
	json_key(b, &f, "counts");
	js_counts(b, e->counts);
	js_time(b, &f, "started_at", e->start_ms);
	js_time(b, &f, "ended_at", e->end_ms);
	json_key(b, &f, "actual_ms");
	json_int(b, e->actual_ms, 1);
	json_key(b, &f, "failures");
	json_int(b, e->failures, 0);
	json_key(b, &f, "excluded");
	if (e->state != RENT_EXCLUDED) {
		buf_adds(b, "null}");
		return;
	}
	buf_addc(b, '{');
	json_key(b, &g, "reason");
	json_str(b, e->reason);
	json_key(b, &g, "by");
	json_str(b, e->excluded_by);
	js_time(b, &g, "at", e->excluded_ms);
	buf_adds(b, "}}");
}

/* {"state": n, ...} of the states with instances. */
static void
js_counts(struct buf *b, const size_t *counts)
{
	size_t s;
	int f = 1;

	buf_addc(b, '{');
	for (s = 0; s < ST_NSTATES; s++) {
		if (counts[s] == 0)
			continue;
		json_key(b, &f, step_state_name((enum step_state)s));
		json_int(b, (int64_t)counts[s], 0);
	}
	buf_addc(b, '}');
}

/* ,"waves":[...] */
static void
js_waves(struct buf *b, struct report_run *r)
{
	struct report_wave *w;
	size_t k;
	int f;

	buf_adds(b, ",\"waves\":[");
	for (k = 0; k < r->nwaves; k++) {
		w = &r->waves[k];
		buf_adds(b, k ? ",{" : "{");
		f = 1;
		json_key(b, &f, "wave");
		json_str(b, *w->name ? w->name : NULL);
		json_key(b, &f, "entities");
		json_int(b, (int64_t)w->nents, 0);
		json_key(b, &f, "done");
		json_int(b, (int64_t)w->ndone, 0);
		json_key(b, &f, "excluded");
		json_int(b, (int64_t)w->nexcluded, 0);
		json_key(b, &f, "active");
		json_int(b, (int64_t)w->nactive, 0);
		json_key(b, &f, "failures");
		json_int(b, w->failures, 0);
		js_time(b, &f, "started_at", w->start_ms);
		js_time(b, &f, "ended_at", w->end_ms);
		json_key(b, &f, "median_entity_ms");
		json_int(b, w->median_ms, 1);
		json_key(b, &f, "slowest_entity_ms");
		json_int(b, w->worst_ms, 1);
		json_key(b, &f, "slowest_entity");
		json_str(b, w->worst);
		buf_addc(b, '}');
	}
	buf_addc(b, ']');
}

/* ,"checkpoints":[...]: what each decision rests on, and the
 * decisions. */
static void
js_checkpoints(struct buf *b, struct report_run *r)
{
	size_t i;
	int any = 0;

	buf_adds(b, ",\"checkpoints\":[");
	for (i = 0; i < r->nsteps; i++) {
		if (!report_is_checkpoint(&r->steps[i]))
			continue;
		if (any++)
			buf_addc(b, ',');
		js_checkpoint(b, r, &r->steps[i]);
	}
	buf_addc(b, ']');
}

/* One checkpoint: {"step", "entity", "state", "evidence": [{step, state,
 * line}], "summary": [lines], "decisions": [...]}. */
static void
js_checkpoint(struct buf *b, struct report_run *r, struct report_step *cp)
{
	char **lines;
	size_t n, k;
	int f = 1;

	buf_addc(b, '{');
	json_key(b, &f, "step");
	json_str(b, cp->row.id);
	json_key(b, &f, "entity");
	json_str(b, cp->entity ? cp->entity->id : NULL);
	json_key(b, &f, "state");
	json_str(b, step_state_name(cp->row.state));
	json_key(b, &f, "evidence");
	js_evidence(b, r, cp);
	n = report_evidence_lines(r, cp, &lines);
	json_key(b, &f, "summary");
	buf_addc(b, '[');
	for (k = 0; k < n; k++) {
		if (k > 0)
			buf_addc(b, ',');
		json_str(b, lines[k]);
	}
	buf_addc(b, ']');
	report_lines_free(lines, n);
	json_key(b, &f, "decisions");
	js_decisions(b, r, cp);
	buf_addc(b, '}');
}

/* [{step, state, line}] of the steps checkpoint cp rests on. */
static void
js_evidence(struct buf *b, struct report_run *r, struct report_step *cp)
{
	struct buf line = { 0 };
	size_t *v, n = report_evidence(r, cp, &v), k;
	int g;

	buf_addc(b, '[');
	for (k = 0; k < n; k++) {
		buf_adds(b, k ? ",{" : "{");
		g = 1;
		json_key(b, &g, "step");
		json_str(b, r->steps[v[k]].row.id);
		json_key(b, &g, "state");
		json_str(b, step_state_name(r->steps[v[k]].row.state));
		line.len = 0;
		report_evidence_line(r, &r->steps[v[k]], &line);
		json_key(b, &g, "line");
		json_str(b, buf_str(&line));
		buf_addc(b, '}');
	}
	buf_addc(b, ']');
	free(v);
	buf_free(&line);
}

/* [{decision, by, at, why}] at checkpoint cp: go, no-go, or voided. */
static void
js_decisions(struct buf *b, struct report_run *r, struct report_step *cp)
{
	struct report_act *a;
	size_t k;
	int f, any = 0;

	buf_addc(b, '[');
	for (k = 0; k < r->nacts; k++) {
		a = &r->acts[k];
		if (!report_act_at(a, cp))
			continue;
		buf_adds(b, any++ ? ",{" : "{");
		f = 1;
		json_key(b, &f, "decision");
		json_str(b, strcmp(a->action, "decide") == 0 ? a->what
		                                             : "voided");
		json_key(b, &f, "by");
		json_str(b, a->operator);
		json_key(b, &f, "at");
		json_str(b, a->at);
		json_key(b, &f, "why");
		json_str(b, a->why);
		buf_addc(b, '}');
	}
	buf_addc(b, ']');
}

/* The ETA object. */
static void
js_eta(struct buf *b, struct report_run *r)
{
	struct eta *e = &r->eta;
	int f = 1;

	buf_addc(b, '{');
	json_key(b, &f, "path_ms");
	json_int(b, e->path_ms, 0);
	json_key(b, &f, "plan_ms");
	json_int(b, e->plan_ms, 0);
	json_key(b, &f, "plan_delta_ms");
	json_int(b, e->delta_ms, 0);
	js_bool(b, &f, "planned", e->planned);
	js_time(b, &f, "finish", e->finish);
	json_key(b, &f, "remaining_ms");
	json_int(b, e->remaining, 0);
	js_bool(b, &f, "complete", e->complete);
	json_key(b, &f, "late_steps");
	json_int(b, e->nlate, 0);
	buf_addc(b, '}');
}

/* ,"phases":[...] */
static void
js_phases(struct buf *b, struct report_run *r)
{
	int64_t s, e, pl;
	size_t p;
	int f;

	buf_adds(b, ",\"phases\":[");
	for (p = 0; p < r->rb->nphases; p++) {
		report_phase_span(r, p, &s, &e, &pl);
		buf_adds(b, p ? ",{" : "{");
		f = 1;
		json_key(b, &f, "id");
		json_str(b, r->rb->phases[p].id);
		json_key(b, &f, "title");
		json_str(b, r->rb->phases[p].title);
		json_key(b, &f, "planned_ms");
		json_int(b, pl, 0);
		json_key(b, &f, "actual_ms");
		json_int(b, s >= 0 && e >= 0 ? e - s : -1, 1);
		js_time(b, &f, "started_at", s);
		js_time(b, &f, "ended_at", e);
		buf_addc(b, '}');
	}
	buf_addc(b, ']');
}

/* ,"steps":[...] */
static void
js_steps(struct buf *b, struct report_run *r)
{
	size_t i;

	buf_adds(b, ",\"steps\":[");
	for (i = 0; i < r->nsteps; i++) {
		if (i > 0)
			buf_addc(b, ',');
		js_step(b, r, i);
	}
	buf_addc(b, ']');
}

/* One step with its estimate, waits and attempts. */
static void
js_step(struct buf *b, struct report_run *r, size_t i)
{
	struct report_step *s = &r->steps[i];
	size_t k;
	int f = 1;

	buf_addc(b, '{');
	report_json_step_head(b, &f, r->rb, s->row.id, s->def, s->entity,
	    s->row.state, 1);
	json_key(b, &f, "needs");
	buf_addc(b, '[');
	for (k = 0; k < s->ndeps; k++) {
		if (k > 0)
			buf_addc(b, ',');
		json_str(b, r->steps[s->deps[k]].row.id);
	}
	buf_addc(b, ']');
	js_step_times(b, &f, r, i);
	json_key(b, &f, "note");
	json_str(b, s->row.note);
	js_waits(b, s);
	js_attempts(b, s);
	json_key(b, &f, "result");
	buf_adds(b, s->row.result ? s->row.result : "null");
	js_reconcile(b, &f, s);
	buf_addc(b, '}');
}

void
report_json_step_head(struct buf *b, int *f, const struct runbook *rb,
    const char *id, const struct rb_step *d, const struct rb_entity *en,
    enum step_state state, int titled)
{
	json_key(b, f, "id");
	json_str(b, id);
	json_key(b, f, "phase");
	json_str(b, d != NULL ? rb->phases[d->phase].id : NULL);
	json_key(b, f, "type");
	json_str(b, d != NULL ? step_type_name(d->type) : NULL);
	if (titled) {
		json_key(b, f, "title");
		json_str(b, d != NULL ? d->title : NULL);
	}
	json_key(b, f, "entity");
	json_str(b, en != NULL ? en->id : NULL);
	json_key(b, f, "state");
	json_str(b, step_state_name(state));
}

/* A step's times: planned, actual, waiting, its estimate by the rule. */
static void
js_step_times(struct buf *b, int *fp, struct report_run *r, size_t i)
{
	struct report_step *s = &r->steps[i];
	struct eta_step *e = &r->est[i];
	int f = *fp;

	json_key(b, &f, "tries");
	json_int(b, s->row.attempts, 0);
	js_time(b, &f, "started_at", s->start_ms);
	js_time(b, &f, "ended_at", s->end_ms);
	json_key(b, &f, "planned_ms");
	json_int(b, e->planned, 1);
	json_key(b, &f, "actual_ms");
	json_int(b, s->actual_ms, 1);
	json_key(b, &f, "elapsed_ms");
	json_int(b, e->elapsed, 1);
	json_key(b, &f, "wait_ms");
	json_int(b, s->wait_ms, 0);
	json_key(b, &f, "rehearsal_ms");
	json_int(b, e->rehearsal, 1);
	json_key(b, &f, "rehearsal_run");
	json_int(b, s->baseline_run ? s->baseline_run : -1, 1);
	json_key(b, &f, "estimate_ms");
	json_int(b, e->estimate, 0);
	json_key(b, &f, "estimate_source");
	json_str(b, eta_source_name(e->source));
	js_time(b, &f, "forecast_end", e->finish);
	js_bool(b, &f, "critical", e->critical);
	js_bool(b, &f, "late", e->late);
	*fp = f;
}

/* ,"waits":[{"start","end","ms"}] */
static void
js_waits(struct buf *b, struct report_step *s)
{
	size_t k;
	int f;

	buf_adds(b, ",\"waits\":[");
	for (k = 0; k < s->nwaits; k++) {
		buf_adds(b, k ? ",{" : "{");
		f = 1;
		js_time(b, &f, "start", s->waits[k].start);
		js_time(b, &f, "end", s->waits[k].end);
		json_key(b, &f, "ms");
		json_int(b, s->waits[k].end >= 0 ? s->waits[k].end -
		    s->waits[k].start : -1, 1);
		buf_addc(b, '}');
	}
	buf_addc(b, ']');
}

/* ,"attempts":[...] */
static void
js_attempts(struct buf *b, struct report_step *s)
{
	struct attempt_row *a;
	size_t k;
	int f;

	buf_adds(b, ",\"attempts\":[");
	for (k = 0; k < s->natt; k++) {
		a = &s->att[k];
		buf_adds(b, k ? ",{" : "{");
		f = 1;
		json_key(b, &f, "n");
		json_int(b, a->n, 0);
		json_key(b, &f, "kind");
		json_str(b, attempt_kind_name(a->kind));
		json_key(b, &f, "state");
		json_str(b, a->state);
		json_key(b, &f, "started_at");
		json_str(b, a->started_at);
		json_key(b, &f, "ended_at");
		json_str(b, a->ended_at);
		json_key(b, &f, "duration_ms");
		json_int(b, a->duration_ms, 1);
		json_key(b, &f, "exit_code");
		json_int(b, a->exit_code, 1);
		json_key(b, &f, "message");
		json_str(b, a->message);
		json_key(b, &f, "operator");
		json_str(b, a->operator);
		buf_addc(b, '}');
	}
	buf_addc(b, ']');
}

/* ,"decisions":[...]: every operator act with who and why. */
static void
js_acts(struct buf *b, struct report_run *r)
{
	struct report_act *a;
	size_t i;
	int f;

	buf_adds(b, ",\"decisions\":[");
	for (i = 0; i < r->nacts; i++) {
		a = &r->acts[i];
		buf_adds(b, i ? ",{" : "{");
		f = 1;
		json_key(b, &f, "at");
		json_str(b, a->at);
		json_key(b, &f, "step");
		json_str(b, a->step);
		json_key(b, &f, "operator");
		json_str(b, a->operator);
		json_key(b, &f, "action");
		json_str(b, a->action);
		json_key(b, &f, "outcome");
		json_str(b, a->what);
		json_key(b, &f, "why");
		json_str(b, a->why);
		buf_addc(b, '}');
	}
	buf_addc(b, ']');
}

/* ,"failures":[...]: attempts that did not succeed. */
static void
js_failures(struct buf *b, struct report_run *r)
{
	struct report_step *s;
	size_t i, k;
	int first = 1;

	buf_adds(b, ",\"failures\":[");
	for (i = 0; i < r->nsteps; i++) {
		s = &r->steps[i];
		for (k = 0; k < s->natt; k++) {
			if (strcmp(s->att[k].state, "succeeded") == 0 ||
			    strcmp(s->att[k].state, "running") == 0)
				continue;
			if (!first)
				buf_addc(b, ',');
			first = 0;
			js_failure(b, r, s, k);
		}
	}
	buf_addc(b, ']');
}

/* One failed attempt, with its output's tail and what was done. */
static void
js_failure(struct buf *b, struct report_run *r, struct report_step *s,
    size_t k)
{
	struct attempt_row *a = &s->att[k];
	size_t from = report_tail(a, 20, 4000);
	struct buf t = { 0 };
	int f = 1;

	buf_addc(b, '{');
	json_key(b, &f, "step");
	json_str(b, a->step);
	json_key(b, &f, "attempt");
	json_int(b, a->n, 0);
	json_key(b, &f, "kind");
	json_str(b, attempt_kind_name(a->kind));
	json_key(b, &f, "state");
	json_str(b, a->state);
	json_key(b, &f, "at");
	json_str(b, a->ended_at);
	json_key(b, &f, "exit_code");
	json_int(b, a->exit_code, 1);
	json_key(b, &f, "message");
	json_str(b, a->message);
	json_key(b, &f, "output_tail");
	buf_add(&t, a->output ? a->output + from : "", a->output_len - from);
	json_str(b, buf_str(&t));
	buf_reset(&t);
	report_followup(r, s, k, &t);
	json_key(b, &f, "done");
	json_str(b, buf_str(&t));
	buf_free(&t);
	buf_addc(b, '}');
}

/* {"steps":[...],"phases":[...]}: this run's actual time against cmp's. */
static void
js_diff(struct buf *b, struct report_run *r, struct report_run *cmp)
{
	struct report_step *s, *c;
	int64_t ca;
	size_t i;
	int f;

	buf_adds(b, "{\"steps\":[");
	for (i = 0; i < r->nsteps; i++) {
		s = &r->steps[i];
		c = report_find(cmp, s->row.id);
		ca = c != NULL ? c->actual_ms : -1;
		buf_adds(b, i ? ",{" : "{");
		f = 1;
		json_key(b, &f, "id");
		json_str(b, s->row.id);
		json_key(b, &f, "actual_ms");
		json_int(b, s->actual_ms, 1);
		json_key(b, &f, "compare_ms");
		json_int(b, ca, 1);
		json_key(b, &f, "delta_ms");
		if (s->actual_ms >= 0 && ca >= 0)
			json_int(b, s->actual_ms - ca, 0);
		else
			buf_adds(b, "null");
		buf_addc(b, '}');
	}
	buf_addc(b, ']');
	js_diff_phases(b, r, cmp);
	js_diff_lanes(b, r, cmp);
	buf_addc(b, '}');
}

/* ,"lanes":[...]: per for_each step, the median over entities and the
 * slowest entity of both runs. */
static void
js_diff_lanes(struct buf *b, struct report_run *r, struct report_run *cmp)
{
	struct report_lane_stat a, c;
	struct rb_step *d;
	size_t k;
	int f, any = 0;

	if (!r->lanes)
		return;
	buf_adds(b, ",\"lanes\":[");
	for (k = 0; k < r->rb->nsteps; k++) {
		d = &r->rb->steps[k];
		if (!runbook_step_in_lanes(r->rb, d))
			continue;
		report_lane_stat(r, d, &a);
		report_lane_stat(cmp, d, &c);
		buf_adds(b, any++ ? ",{" : "{");
		f = 1;
		json_key(b, &f, "step");
		json_str(b, d->id);
		js_stat(b, &f, "run", &a);
		js_stat(b, &f, "compare", &c);
		json_key(b, &f, "median_delta_ms");
		if (a.n > 0 && c.n > 0)
			json_int(b, a.median_ms - c.median_ms, 0);
		else
			buf_adds(b, "null");
		buf_addc(b, '}');
	}
	buf_addc(b, ']');
}

/* "key": {"instances", "median_ms", "slowest_ms", "slowest_entity"} */
static void
js_stat(struct buf *b, int *fp, const char *key,
    const struct report_lane_stat *s)
{
	int f = 1;

	json_key(b, fp, key);
	buf_addc(b, '{');
	json_key(b, &f, "instances");
	json_int(b, (int64_t)s->n, 0);
	json_key(b, &f, "median_ms");
	json_int(b, s->median_ms, 1);
	json_key(b, &f, "slowest_ms");
	json_int(b, s->worst_ms, 1);
	json_key(b, &f, "slowest_entity");
	json_str(b, s->worst);
	buf_addc(b, '}');
}

/* ,"phases":[...] of the differences. */
static void
js_diff_phases(struct buf *b, struct report_run *r, struct report_run *cmp)
{
	int64_t s, e, pl, a, ca;
	size_t p;
	int f;

	buf_adds(b, ",\"phases\":[");
	for (p = 0; p < r->rb->nphases; p++) {
		report_phase_span(r, p, &s, &e, &pl);
		a = s >= 0 && e >= 0 ? e - s : -1;
		report_phase_span(cmp, p, &s, &e, &pl);
		ca = s >= 0 && e >= 0 ? e - s : -1;
		buf_adds(b, p ? ",{" : "{");
		f = 1;
		json_key(b, &f, "id");
		json_str(b, r->rb->phases[p].id);
		json_key(b, &f, "actual_ms");
		json_int(b, a, 1);
		json_key(b, &f, "compare_ms");
		json_int(b, ca, 1);
		json_key(b, &f, "delta_ms");
		if (a >= 0 && ca >= 0)
			json_int(b, a - ca, 0);
		else
			buf_adds(b, "null");
		buf_addc(b, '}');
	}
	buf_addc(b, ']');
}
