/*
 * metrics.c - the run as Prometheus metrics (metrics.h). Families are
 * written whole (HELP, TYPE, then every series), label values escaped as
 * the format says (backslash, double quote, newline).
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "xmalloc.h"

#define ENTITY_STATES 3

struct mx {
	struct buf *b;
	const char *runbook;
};

static void mx_family(struct mx *, const char *, const char *,
    const char *);
static void mx_escape(struct buf *, const char *);
static void mx_label(struct buf *, const char *, const char *);
static void mx_series(struct mx *, const char *, const char *,
    const char *, const char *, const char *, double);
static void mx_value(struct mx *, const char *, const char *, double);
static void mx_run(struct mx *, const struct metrics_in *);
static void mx_eta(struct mx *, const struct metrics_in *);
static void mx_states(struct mx *, const struct metrics_in *);
static void mx_awaiting(struct mx *, const struct metrics_in *);
static void mx_steps(struct mx *, const struct metrics_in *);
static void mx_reconcile(struct mx *, const struct metrics_in *);
static void mx_entities(struct mx *, const struct metrics_in *);
static void mx_notify(struct mx *, const struct metrics_in *);
static int mx_row_cmp(const void *, const void *);

/* "# HELP" and "# TYPE" of a family. */
static void
mx_family(struct mx *m, const char *name, const char *type, const char *help)
{
	buf_printf(m->b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value, escaped as the format says. */
static void
mx_escape(struct buf *b, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\')
			buf_adds(b, "\\\\");
		else if (*v == '"')
			buf_adds(b, "\\\"");
		else if (*v == '\n')
			buf_adds(b, "\\n");
		else
			buf_addc(b, *v);
	}
}

/* ,name="value" with the value escaped. */
static void
mx_label(struct buf *b, const char *name, const char *v)
{
	buf_printf(b, ",%s=\"", name);
	mx_escape(b, v);
	buf_addc(b, '"');
}

/* One series with up to two labels besides runbook (NULL: none). */
static void
mx_series(struct mx *m, const char *name, const char *l1, const char *v1,
    const char *l2, const char *v2, double value)
{
	buf_printf(m->b, "%s{runbook=\"", name);
	mx_escape(m->b, m->runbook);
	buf_addc(m->b, '"');
	if (l1 != NULL)
		mx_label(m->b, l1, v1 != NULL ? v1 : "");
	if (l2 != NULL)
		mx_label(m->b, l2, v2 != NULL ? v2 : "");
	if (value == floor(value) && fabs(value) < 1e15)
		buf_printf(m->b, "} %.0f\n", value);
	else
		buf_printf(m->b, "} %.3f\n", value);
}

/* A family of one unlabelled series. */
static void
mx_value(struct mx *m, const char *name, const char *help, double value)
{
	mx_family(m, name, "gauge", help);
	mx_series(m, name, NULL, NULL, NULL, NULL, value);
}

void
metrics_write(struct buf *b, const struct metrics_in *in)
{
	struct mx m = { b, in->rb->name };

	mx_value(&m, "cutover_up", "1 if the state store could be read.",
	    in->store_ok);
	if (in->run != NULL) {
		mx_run(&m, in);
		mx_eta(&m, in);
	}
	mx_states(&m, in);
	mx_awaiting(&m, in);
	mx_steps(&m, in);
	mx_reconcile(&m, in);
	mx_entities(&m, in);
	mx_notify(&m, in);
}

/* The run: which, its mode, whether driven. */
static void
mx_run(struct mx *m, const struct metrics_in *in)
{
	char id[32];

	snprintf(id, sizeof id, "%lld", (long long)in->run->id);
	mx_family(m, "cutover_run_info", "gauge",
	    "The run shown: its number, mode and state (always 1).");
	buf_adds(m->b, "cutover_run_info{runbook=\"");
	mx_escape(m->b, m->runbook);
	buf_addc(m->b, '"');
	mx_label(m->b, "run", id);
	mx_label(m->b, "mode", in->run->mode);
	mx_label(m->b, "state", in->run->state);
	buf_adds(m->b, "} 1\n");
	mx_value(m, "cutover_run_live", "1 on a LIVE run, 0 on a rehearsal.",
	    strcmp(in->run->mode, "live") == 0);
	mx_value(m, "cutover_run_driven", "1 while a driver holds the run.",
	    in->driven);
}

/* Time: start, elapsed, the ETA and the plan. */
static void
mx_eta(struct mx *m, const struct metrics_in *in)
{
	struct report_run *r = in->timing;
	struct eta *e;
	int64_t now;

	if (r == NULL)
		return;
	e = &r->eta;
	now = r->end_ms >= 0 ? r->end_ms : r->now_ms;
	mx_value(m, "cutover_run_start_timestamp_seconds",
	    "When the run began (Unix time).", r->start_ms / 1000.0);
	mx_value(m, "cutover_run_elapsed_seconds",
	    "Time since the run began (to its end once it is over).",
	    (now - r->start_ms) / 1000.0);
	mx_value(m, "cutover_run_eta_timestamp_seconds",
	    "The forecast end of the run (Unix time).", e->finish / 1000.0);
	mx_value(m, "cutover_run_remaining_seconds",
	    "Time from now to the forecast end.", e->remaining / 1000.0);
	mx_value(m, "cutover_run_critical_path_seconds",
	    "The critical path by estimates (actuals, rehearsals, plan).",
	    e->path_ms / 1000.0);
	if (!e->planned)
		return;
	mx_value(m, "cutover_run_plan_seconds",
	    "The critical path by planned durations.", e->plan_ms / 1000.0);
	mx_value(m, "cutover_run_plan_delta_seconds",
	    "Estimated minus planned critical path: above 0 behind plan, "
	    "below 0 ahead.", e->delta_ms / 1000.0);
}

/* Steps by state: every state, 0 included, so that sums are stable. */
static void
mx_states(struct mx *m, const struct metrics_in *in)
{
	size_t count[ST_NSTATES] = { 0 }, i;
	int s;

	for (i = 0; i < in->nrows; i++)
		if ((unsigned)in->rows[i].state < ST_NSTATES)
			count[in->rows[i].state]++;
	mx_family(m, "cutover_steps", "gauge",
	    "Steps (and instances of for_each steps) of the run by state.");
	for (s = 0; s < ST_NSTATES; s++)
		mx_series(m, "cutover_steps", "state",
		    step_state_name((enum step_state)s), NULL, NULL,
		    (double)count[s]);
}

/* Steps that wait for a person: how many, and which. */
static void
mx_awaiting(struct mx *m, const struct metrics_in *in)
{
	struct rb_step *d;
	size_t i, n = 0;

	for (i = 0; i < in->nrows; i++)
		n += in->rows[i].state == ST_AWAITING;
	mx_value(m, "cutover_steps_awaiting_person",
	    "Steps waiting for a person (a manual step, a checkpoint, an "
	    "interrupted step).", (double)n);
	mx_family(m, "cutover_step_awaiting", "gauge",
	    "1 for each step waiting for a person, with its type.");
	for (i = 0; i < in->nrows; i++) {
		if (in->rows[i].state != ST_AWAITING)
			continue;
		d = runbook_find_step(in->rb, in->rows[i].id);
		mx_series(m, "cutover_step_awaiting", "step", in->rows[i].id,
		    "type", d ? step_type_name(d->type) : "unknown", 1);
	}
}

/* Per step: time taken (so far, while under way), planned, attempts. */
static void
mx_steps(struct mx *m, const struct metrics_in *in)
{
	struct report_run *r = in->timing;
	struct report_step *s;
	const char *ph;
	int64_t ms;
	size_t i;

	if (r == NULL)
		return;
	mx_family(m, "cutover_step_duration_seconds", "gauge",
	    "Time a step took, or has taken so far while under way.");
	for (i = 0; i < r->nsteps; i++) {
		s = &r->steps[i];
		ms = s->row.duration_ms >= 0 ? s->row.duration_ms
		                              : r->est[i].elapsed;
		if (ms < 0)
			continue;
		ph = s->def ? in->rb->phases[s->def->phase].id : "";
		mx_series(m, "cutover_step_duration_seconds", "step", s->row.id,
		    "phase", ph, ms / 1000.0);
	}
	mx_family(m, "cutover_step_planned_seconds", "gauge",
	    "A step's planned duration (steps with planned: only).");
	for (i = 0; i < r->nsteps; i++) {
		s = &r->steps[i];
		if (s->def == NULL || s->def->planned_ms < 0)
			continue;
		mx_series(m, "cutover_step_planned_seconds", "step", s->row.id,
		    "phase", in->rb->phases[s->def->phase].id,
		    s->def->planned_ms / 1000.0);
	}
	mx_family(m, "cutover_step_attempts", "gauge",
	    "Attempts made of a step (runs and verifies).");
	for (i = 0; i < r->nsteps; i++)
		if (r->steps[i].row.attempts > 0)
			mx_series(m, "cutover_step_attempts", "step",
			    r->steps[i].row.id, NULL, NULL,
			    r->steps[i].row.attempts);
}

/* Reconcile results: differences by kind, rows by side. */
static void
mx_reconcile(struct mx *m, const struct metrics_in *in)
{
	static const char *kinds[] = { "missing", "extra", "changed" };
	const char *j;
	char v[64];
	size_t i, k;

	mx_family(m, "cutover_reconcile_differences", "gauge",
	    "Differences a reconcile step found: kind missing, extra or "
	    "changed rows, or value (the absolute difference of a value).");
	for (i = 0; i < in->nrows; i++) {
		if ((j = in->rows[i].result) == NULL)
			continue;
		for (k = 0; k < 3; k++)
			if (report_result_field(j, kinds[k], v, sizeof v) == 0)
				mx_series(m, "cutover_reconcile_differences",
				    "step", in->rows[i].id, "kind", kinds[k],
				    strtod(v, NULL));
		if (report_result_field(j, "difference", v, sizeof v) == 0)
			mx_series(m, "cutover_reconcile_differences", "step",
			    in->rows[i].id, "kind", "value",
			    fabs(strtod(v, NULL)));
	}
	mx_family(m, "cutover_reconcile_rows", "gauge",
	    "Rows a reconcile step read from each side.");
	for (i = 0; i < in->nrows; i++) {
		if ((j = in->rows[i].result) == NULL)
			continue;
		if (report_result_field(j, "source_rows", v, sizeof v) == 0)
			mx_series(m, "cutover_reconcile_rows", "step",
			    in->rows[i].id, "side", "source", strtod(v, NULL));
		if (report_result_field(j, "dest_rows", v, sizeof v) == 0)
			mx_series(m, "cutover_reconcile_rows", "step",
			    in->rows[i].id, "side", "dest", strtod(v, NULL));
	}
}

static int
mx_row_cmp(const void *a, const void *b)
{
	return strcmp(((const struct step_row *)a)->id,
	    ((const struct step_row *)b)->id);
}

const char *
metrics_entity_state(const struct runbook *rb, const struct step_row *rows,
    size_t nrows, const char *id)
{
	const struct rb_phase *p;
	struct step_row key = { 0 };
	const struct step_row *r;
	const char *st;
	size_t i, k, found = 0, done = 0;
	char name[512];

	for (i = 0; i < rb->nphases; i++) {
		p = &rb->phases[i];
		for (k = p->first; p->for_each && k < p->first + p->nsteps;
		     k++) {
			snprintf(name, sizeof name, "%s@%s", rb->steps[k].id, id);
			key.id = name;
			r = bsearch(&key, rows, nrows, sizeof *rows, mx_row_cmp);
			if (r == NULL)
				continue;
			found++;
			st = step_state_name(r->state);
			if (strcmp(st, "excluded") == 0)
				return "excluded";
			done += r->state == ST_SUCCEEDED || r->state == ST_SKIPPED;
		}
	}
	if (found == 0)
		return NULL;
	return done == found ? "done" : "active";
}

/* Entities by state, when the runbook has any. */
static void
mx_entities(struct mx *m, const struct metrics_in *in)
{
	static const char *states[ENTITY_STATES] = { "active", "excluded",
		"done" };
	size_t count[ENTITY_STATES] = { 0 }, i, k;
	struct step_row *sorted;
	const char *st;

	mx_family(m, "cutover_entities", "gauge",
	    "Entities of the run (for_each phases) by state.");
	if (in->rb->nentities == 0 || in->nrows == 0)
		return;
	sorted = xreallocarray(NULL, in->nrows, sizeof *sorted);
	memcpy(sorted, in->rows, in->nrows * sizeof *sorted);
	qsort(sorted, in->nrows, sizeof *sorted, mx_row_cmp);
	for (i = 0; i < in->rb->nentities; i++) {
		st = metrics_entity_state(in->rb, sorted, in->nrows,
		    in->rb->entities[i].id);
		for (k = 0; st != NULL && k < ENTITY_STATES; k++)
			count[k] += strcmp(st, states[k]) == 0;
	}
	free(sorted);
	for (k = 0; k < ENTITY_STATES; k++)
		mx_series(m, "cutover_entities", "state", states[k], NULL, NULL,
		    (double)count[k]);
}

/* Notification deliveries (the outbox of notify:), for every run of the
 * runbook: a receiver that has been failing shows whichever run it was. */
static void
mx_notify(struct mx *m, const struct metrics_in *in)
{
	struct outbox_stats o = { 0 };

	if (in->st == NULL || state_outbox_stats(in->st, 0, &o) != STATE_OK) {
		outbox_stats_free(&o);
		memset(&o, 0, sizeof o);
	}
	mx_value(m, "cutover_notify_pending",
	    "Notification deliveries not made yet.", (double)o.pending);
	mx_value(m, "cutover_notify_failing",
	    "Pending deliveries whose last try failed.", (double)o.failing);
	mx_family(m, "cutover_notify_failures_total", "counter",
	    "Notification delivery tries that failed, ever.");
	mx_series(m, "cutover_notify_failures_total", NULL, NULL, NULL, NULL,
	    (double)o.failures);
	mx_family(m, "cutover_notify_delivered_total", "counter",
	    "Notification deliveries made, ever.");
	mx_series(m, "cutover_notify_delivered_total", NULL, NULL, NULL, NULL,
	    (double)o.delivered);
	outbox_stats_free(&o);
}
