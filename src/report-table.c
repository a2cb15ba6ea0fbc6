/* report-table.c - the tables that every report format shows alike. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report-table.h"
#include "xmalloc.h"

static void report_table_entity(const struct report_table_fmt *,
    struct buf *, const struct report_entity *);
static void report_table_stat(const struct report_table_fmt *, struct buf *,
    const struct report_lane_stat *);

int
report_table_rollback_acts(struct buf *b, const struct report_table_fmt *f,
    struct report_run *r)
{
	static const char *const heads[] = { "At", "By", "What", "Step",
		"Details" };
	struct report_act *a;
	struct buf d = { 0 };
	char t[96];
	size_t i;
	int any = 0;

	for (i = 0; i < r->nacts; i++) {
		a = &r->acts[i];
		if (report_act_words(a) == NULL)
			continue;
		if (!any++)
			f->head(b, heads, 5);
		report_local_time(a->at_ms, t, sizeof t);
		buf_reset(&d);
		buf_printf(&d, "%s%s%s", a->what, a->why ? ": " : "",
		    a->why ? a->why : "");
		f->row_begin(b);
		f->cell(b, t, 0);
		f->cell(b, a->operator, 0);
		f->cell(b, report_act_words(a), 0);
		f->cell(b, a->step, 0);
		f->cell(b, buf_str(&d), 0);
		f->row_end(b);
	}
	if (any)
		f->end(b);
	buf_free(&d);
	return any;
}

void
report_table_rollback_steps(struct buf *b, const struct report_table_fmt *f,
    struct report_run *r)
{
	static const char *const heads[] = { "Step undone", "Attempt",
		"Outcome", "At", "Took" };
	struct attempt_row *a;
	char t[96], d[48], n[24];
	size_t i, k;
	int any = 0;

	for (i = 0; i < r->nsteps; i++) {
		for (k = 0; k < r->steps[i].natt; k++) {
			a = &r->steps[i].att[k];
			if (a->kind != ATT_ROLLBACK)
				continue;
			if (!any++)
				f->head(b, heads, 5);
			report_local_time(report_parse_time(a->started_at), t,
			    sizeof t);
			report_human(a->duration_ms, d, sizeof d);
			snprintf(n, sizeof n, "%d", a->n);
			f->row_begin(b);
			f->cell(b, a->step, 0);
			f->cell(b, n, 1);
			f->cell(b, a->state, 0);
			f->cell(b, t, 0);
			f->cell(b, d, 1);
			f->row_end(b);
		}
	}
	if (any)
		f->end(b);
}

int
report_table_gonogo(struct buf *b, const struct report_table_fmt *f,
    struct report_run *r)
{
	static const char *const heads[] = { "Checkpoint", "Decision", "By",
		"At", "Reason" };
	struct report_act *a;
	char t[96];
	size_t i;
	int any = 0, go;

	for (i = 0; i < r->nacts; i++) {
		a = &r->acts[i];
		if (strcmp(a->action, "decide") != 0)
			continue;
		if (!any++)
			f->head(b, heads, 5);
		go = strcmp(a->what, "go") == 0;
		report_local_time(a->at_ms, t, sizeof t);
		f->row_begin(b);
		f->cell(b, a->step, 0);
		f->mark(b, go ? "GO" : strcmp(a->what, "no-go") == 0 ? "NO-GO" :
		    a->what, go ? "go" : "nogo");
		f->cell(b, a->operator, 0);
		f->cell(b, t, 0);
		f->cell(b, a->why, 0);
		f->row_end(b);
	}
	if (any)
		f->end(b);
	return any;
}

void
report_table_entities(struct buf *b, const struct report_table_fmt *f,
    struct report_run *r)
{
	static const char *const heads[] = { "Entity", "Wave", "Title",
		"State", "Instances", "Duration", "Failures", "Exclusion" };
	size_t i;

	if (r->nents == 0)
		return;
	f->head(b, heads, 8);
	for (i = 0; i < r->nents; i++)
		report_table_entity(f, b, &r->ents[i]);
	f->end(b);
}

/* One entity's row. */
static void
report_table_entity(const struct report_table_fmt *f, struct buf *b,
    const struct report_entity *e)
{
	struct buf x = { 0 };
	char c[256], d[48], t[96], n[24], cls[32];
	const char *state = report_ent_state_name(e->state);

	f->row_begin(b);
	f->cell(b, e->def->id, 0);
	f->cell(b, e->def->wave, 0);
	f->cell(b, e->def->title, 0);
	snprintf(cls, sizeof cls, "e-%s", state);
	f->mark(b, state, cls);
	report_ent_counts(e, c, sizeof c);
	f->cell(b, c, 0);
	report_human(e->actual_ms, d, sizeof d);
	f->cell(b, d, 1);
	snprintf(n, sizeof n, "%d", e->failures);
	f->cell(b, n, 1);
	if (e->state == RENT_EXCLUDED) {
		report_local_time(e->excluded_ms, t, sizeof t);
		buf_printf(&x, "%s (by %s at %s)", e->reason ? e->reason
		    : "no reason given", e->excluded_by ? e->excluded_by : "?", t);
	}
	f->cell(b, buf_str(&x), 0);
	f->row_end(b);
	buf_free(&x);
}

void
report_table_phases(struct buf *b, const struct report_table_fmt *f,
    struct report_run *r, struct report_run *cmp)
{
	const char *heads[5] = { "Phase", "Planned", "Actual", NULL,
		"Difference" };
	char c[4][32], *run = NULL;
	size_t p, i;

	if (cmp != NULL)
		xasprintf(&run, "Run %lld", (long long)cmp->info.id);
	heads[3] = run;
	f->head(b, heads, cmp != NULL ? 5 : 3);
	free(run);
	for (p = 0; p < r->rb->nphases; p++) {
		report_phase_cells(r, cmp, p, c);
		f->row_begin(b);
		f->cell(b, r->rb->phases[p].id, 0);
		for (i = 0; i < (cmp != NULL ? 4 : 2); i++)
			f->cell(b, c[i], 1);
		f->row_end(b);
	}
	f->end(b);
}

void
report_table_acts(struct buf *b, const struct report_table_fmt *f,
    struct report_run *r)
{
	static const char *const heads[] = { "At", "Step", "Operator",
		"Action", "Outcome", "Why" };
	struct report_act *a;
	char t[96];
	size_t i;

	if (r->nacts == 0)
		return;
	f->head(b, heads, 6);
	for (i = 0; i < r->nacts; i++) {
		a = &r->acts[i];
		report_local_time(a->at_ms, t, sizeof t);
		f->row_begin(b);
		f->cell(b, t, 0);
		f->cell(b, a->step, 0);
		f->cell(b, a->operator, 0);
		f->cell(b, a->action, 0);
		f->cell(b, a->what, 0);
		f->cell(b, a->why, 0);
		f->row_end(b);
	}
	f->end(b);
}

void
report_table_lanes_compare(struct buf *b, const struct report_table_fmt *f,
    struct report_run *r, struct report_run *cmp)
{
	struct report_lane_stat a, c;
	struct rb_step *d;
	char *heads[6], x[48];
	size_t k;

	heads[0] = xstrdup("Step");
	heads[1] = xstrdup("Median (n)");
	heads[2] = xstrdup("Slowest entity");
	xasprintf(&heads[3], "Run %lld median (n)", (long long)cmp->info.id);
	xasprintf(&heads[4], "Run %lld slowest", (long long)cmp->info.id);
	heads[5] = xstrdup("Median difference");
	f->head(b, (const char *const *)heads, 6);
	for (k = 0; k < 6; k++)
		free(heads[k]);
	for (k = 0; k < r->rb->nsteps; k++) {
		d = &r->rb->steps[k];
		if (!runbook_step_in_lanes(r->rb, d))
			continue;
		report_lane_stat(r, d, &a);
		report_lane_stat(cmp, d, &c);
		f->row_begin(b);
		f->cell(b, d->id, 0);
		report_table_stat(f, b, &a);
		report_table_stat(f, b, &c);
		if (a.n > 0 && c.n > 0)
			report_human_delta(a.median_ms - c.median_ms, x, sizeof x);
		else
			snprintf(x, sizeof x, "-");
		f->cell(b, x, 1);
		f->row_end(b);
	}
	f->end(b);
}

/* The median (n) and slowest entity cells of a step's spread. */
static void
report_table_stat(const struct report_table_fmt *f, struct buf *b,
    const struct report_lane_stat *s)
{
	char m[48], w[48], *cell;

	report_human(s->median_ms, m, sizeof m);
	report_human(s->worst_ms, w, sizeof w);
	xasprintf(&cell, "%s (%zu)", m, s->n);
	f->cell(b, cell, 1);
	free(cell);
	if (s->worst == NULL) {
		f->cell(b, "-", 0);
		return;
	}
	xasprintf(&cell, "%s (%s)", w, s->worst);
	f->cell(b, cell, 0);
	free(cell);
}
