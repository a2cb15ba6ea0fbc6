/*
 * report-entity.c - entities and waves in a report: where each entity of
 * the run stands (its instances by state, its span, its failures, why it
 * was excluded), each wave taken together, the spread of a for_each
 * step's times over entities (for --compare: wave 1's median and worst
 * entity predict wave 2), and the run's selection in words.
 *
 * Everything comes from the run's rows: the instances STEP@ENTITY of the
 * steps table and the exclusions of the entities table.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "xmalloc.h"

static void ent_collect(struct report_run *);
static void ent_add_step(struct report_run *, struct report_step *);
static void ent_exclusions(struct state *, struct report_run *);
static void ent_settle(struct report_entity *);
static void wave_build(struct report_run *);
static void wave_add(struct report_wave *, const struct report_entity *);
static void wave_finish(struct report_run *, struct report_wave *);
static int cmp_ms(const void *, const void *);
static int64_t median_of(int64_t *, size_t);

static const char *ent_states[] = { "active", "excluded", "done" };

const char *
report_ent_state_name(enum report_ent_state s)
{
	return ent_states[s];
}

/* Build r's entities and waves from its instances and exclusions. */
void
report_entities_build(struct state *st, struct report_run *r)
{
	size_t i;

	r->lanes = runbook_has_lanes(r->rb);
	for (i = 0; i < r->nsteps; i++)
		r->steps[i].ent = SIZE_MAX;
	if (!r->lanes)
		return;
	ent_collect(r);
	for (i = 0; i < r->nsteps; i++)
		if (r->steps[i].entity != NULL)
			ent_add_step(r, &r->steps[i]);
	if (st != NULL)
		ent_exclusions(st, r);
	for (i = 0; i < r->nents; i++)
		ent_settle(&r->ents[i]);
	wave_build(r);
}

/* The entities that have instances in the run, runbook order. */
static void
ent_collect(struct report_run *r)
{
	unsigned char *in = xcalloc(r->rb->nentities + 1, 1);
	size_t i, *place = xcalloc(r->rb->nentities + 1, sizeof *place);
	struct report_entity *e;

	for (i = 0; i < r->nsteps; i++)
		if (r->steps[i].entity != NULL)
			in[r->steps[i].entity->index] = 1;
	for (i = 0; i < r->rb->nentities; i++)
		r->nents += in[i];
	r->ents = xcalloc(r->nents ? r->nents : 1, sizeof *r->ents);
	r->nents = 0;
	for (i = 0; i < r->rb->nentities; i++) {
		if (!in[i])
			continue;
		place[i] = r->nents;
		e = &r->ents[r->nents++];
		e->def = &r->rb->entities[i];
		e->start_ms = e->end_ms = e->actual_ms = e->excluded_ms = -1;
	}
	for (i = 0; i < r->nsteps; i++)
		if (r->steps[i].entity != NULL)
			r->steps[i].ent = place[r->steps[i].entity->index];
	free(in);
	free(place);
}

/* Count instance s into its entity. */
static void
ent_add_step(struct report_run *r, struct report_step *s)
{
	struct report_entity *e = &r->ents[s->ent];
	size_t k;

	e->ninst++;
	e->counts[s->row.state]++;
	if (s->start_ms >= 0 && (e->start_ms < 0 || s->start_ms < e->start_ms))
		e->start_ms = s->start_ms;
	if (s->end_ms > e->end_ms)
		e->end_ms = s->end_ms;
	for (k = 0; k < s->natt; k++)
		if (s->att[k].kind != ATT_ROLLBACK &&
		    strcmp(s->att[k].state, "succeeded") != 0 &&
		    strcmp(s->att[k].state, "running") != 0)
			e->failures++;
	if (s->natt == 0 && s->row.state == ST_FAILED)
		e->failures++;
}

/* Who excluded which entity, when and why. */
static void
ent_exclusions(struct state *st, struct report_run *r)
{
	struct entity_row *rows = NULL;
	struct report_entity *e;
	size_t n = 0, i;

	if (state_entities_load(st, r->info.id, &rows, &n) != STATE_OK)
		return;
	for (i = 0; i < n; i++) {
		if (rows[i].state == NULL ||
		    strcmp(rows[i].state, "excluded") != 0 ||
		    (e = report_entity_find(r, rows[i].entity)) == NULL)
			continue;
		e->state = RENT_EXCLUDED;
		free(e->reason);
		free(e->excluded_by);
		e->reason = rows[i].reason ? xstrdup(rows[i].reason) : NULL;
		e->excluded_by = rows[i].operator ? xstrdup(rows[i].operator)
		                                  : NULL;
		e->excluded_ms = rows[i].at_ms > 0 ? rows[i].at_ms
		    : report_parse_time(rows[i].at);
	}
	entity_rows_free(rows, n);
}

/* An entity not excluded is done when every instance succeeded or was
 * skipped; its time counts once nothing of it is left to end. */
static void
ent_settle(struct report_entity *e)
{
	size_t open = e->counts[ST_PENDING] + e->counts[ST_RUNNING] +
	    e->counts[ST_AWAITING];

	if (e->state != RENT_EXCLUDED)
		e->state = e->counts[ST_SUCCEEDED] + e->counts[ST_SKIPPED] ==
		        e->ninst ? RENT_DONE : RENT_ACTIVE;
	if (open == 0 && e->start_ms >= 0 && e->end_ms >= e->start_ms)
		e->actual_ms = e->end_ms - e->start_ms;
}

/* The waves with entities in the run: the runbook's order, then the
 * entities without a wave. */
static void
wave_build(struct report_run *r)
{
	struct report_wave *w;
	size_t k, i;
	const char *name;

	r->waves = xcalloc(r->rb->nwaves + 1, sizeof *r->waves);
	for (k = 0; k <= r->rb->nwaves; k++) {
		name = k < r->rb->nwaves ? r->rb->waves[k] : "";
		w = &r->waves[r->nwaves];
		memset(w, 0, sizeof *w);
		w->name = name;
		w->start_ms = w->end_ms = w->median_ms = w->worst_ms = -1;
		for (i = 0; i < r->nents; i++)
			if (strcmp(r->ents[i].def->wave ? r->ents[i].def->wave
			                                : "", name) == 0)
				wave_add(w, &r->ents[i]);
		if (w->nents == 0)
			continue;
		wave_finish(r, w);
		r->nwaves++;
	}
}

/* Count entity e into wave w. */
static void
wave_add(struct report_wave *w, const struct report_entity *e)
{
	w->nents++;
	w->ndone += e->state == RENT_DONE;
	w->nexcluded += e->state == RENT_EXCLUDED;
	w->nactive += e->state == RENT_ACTIVE;
	w->failures += e->failures;
	if (e->start_ms >= 0 && (w->start_ms < 0 || e->start_ms < w->start_ms))
		w->start_ms = e->start_ms;
	if (e->end_ms > w->end_ms)
		w->end_ms = e->end_ms;
}

/* A wave's median and slowest entity, among those done. */
static void
wave_finish(struct report_run *r, struct report_wave *w)
{
	int64_t *t = xcalloc(w->nents, sizeof *t);
	size_t i, n = 0;
	const char *name;

	for (i = 0; i < r->nents; i++) {
		name = r->ents[i].def->wave ? r->ents[i].def->wave : "";
		if (strcmp(name, w->name) != 0 || r->ents[i].state != RENT_DONE ||
		    r->ents[i].actual_ms < 0)
			continue;
		t[n++] = r->ents[i].actual_ms;
		if (r->ents[i].actual_ms > w->worst_ms) {
			w->worst_ms = r->ents[i].actual_ms;
			w->worst = r->ents[i].def->id;
		}
	}
	w->median_ms = median_of(t, n);
	if (w->nactive > 0)
		w->end_ms = -1; /* not over yet */
	free(t);
}

static int
cmp_ms(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* The median of n times (sorted in place): the middle one, or the mean of
 * the two middle ones; -1 when n is 0. */
static int64_t
median_of(int64_t *t, size_t n)
{
	if (n == 0)
		return -1;
	qsort(t, n, sizeof *t, cmp_ms);
	return n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
}

struct report_entity *
report_entity_find(const struct report_run *r, const char *id)
{
	size_t i;

	for (i = 0; i < r->nents; i++)
		if (strcmp(r->ents[i].def->id, id) == 0)
			return &r->ents[i];
	return NULL;
}

void
report_ent_counts(const struct report_entity *e, char *out, size_t len)
{
	size_t s, off = 0;
	int n;

	out[0] = '\0';
	for (s = 0; s < ST_NSTATES; s++) {
		if (e->counts[s] == 0)
			continue;
		n = snprintf(out + off, len - off, "%s%zu %s", off ? ", " : "",
		    e->counts[s], step_state_name((enum step_state)s));
		if (n < 0 || (size_t)n >= len - off)
			return;
		off += (size_t)n;
	}
	snprintf(out + off, len - off, "%s/ %zu", off ? " " : "", e->ninst);
}

void
report_lane_stat(const struct report_run *r, const struct rb_step *def,
    struct report_lane_stat *out)
{
	int64_t *t = xcalloc(r->nsteps ? r->nsteps : 1, sizeof *t);
	const struct report_step *s;
	size_t i;

	memset(out, 0, sizeof *out);
	out->worst_ms = -1;
	for (i = 0; i < r->nsteps; i++) {
		s = &r->steps[i];
		if (s->def != def || s->entity == NULL ||
		    s->row.state != ST_SUCCEEDED || s->actual_ms < 0)
			continue;
		t[out->n++] = s->actual_ms;
		if (s->actual_ms > out->worst_ms) {
			out->worst_ms = s->actual_ms;
			out->worst = s->entity->id;
		}
	}
	out->median_ms = median_of(t, out->n);
	free(t);
}

void
report_selection(const char *sel, char *out, size_t len)
{
	struct buf w = { 0 }, e = { 0 };
	const char *p;
	size_t n, nw = 0, ne = 0;

	if (sel == NULL || *sel == '\0') {
		snprintf(out, len, "all entities");
		return;
	}
	/* "wave:a,wave:b", "entity:x,entity:y" or "entity:x,y" */
	for (p = sel; *p != '\0'; p += n + (p[n] == ',')) {
		if (strncmp(p, "wave:", 5) == 0) {
			p += 5;
			n = strcspn(p, ",");
			buf_printf(&w, "%s%.*s", nw++ ? ", " : "", (int)n, p);
			continue;
		}
		if (strncmp(p, "entity:", 7) == 0)
			p += 7;
		n = strcspn(p, ",");
		buf_printf(&e, "%s%.*s", ne++ ? ", " : "", (int)n, p);
	}
	snprintf(out, len, "%s%s%s%s%s", nw ? (nw > 1 ? "waves " : "wave ")
	    : "", buf_str(&w), nw && ne ? "; " : "", ne ? (ne > 1 ? "entities "
	    : "entity ") : "", buf_str(&e));
	buf_free(&w);
	buf_free(&e);
}
