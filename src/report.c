/*
 * report.c - the model behind reports, the ETA in `status` and the console
 * header: a run's steps, attempts, waits, operator acts and critical path,
 * read from the state file.
 *
 * Waits and acts come from the audit trail because it is the only record
 * of when a step became awaiting and of who confirmed it and why; the
 * trail is written in the same transaction as every state change, so it
 * cannot disagree with the steps table.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "duration.h"
#include "report.h"
#include "sha256.h"
#include "xmalloc.h"

/* Light loads (the baseline rehearsals, the console's ETA) skip attempts
 * and operator acts: only step times and waits are needed. */
#define LOAD_LIGHT 1

struct audit_scan {
	struct report_run *r;
	int64_t *open; /* per step: start of an open wait, -1 */
	int light;
};

static int report_load(struct state *, struct runbook *, int64_t, int,
    struct report_run *);
static int report_steps(struct state *, struct report_run *, int);
static void report_deps(struct report_run *);
static void report_dep_add(struct report_run *, struct report_step *,
    const struct rb_step *);
static void report_index(struct report_run *);
static void report_out(struct state *, struct report_run *);
static int report_gone(const struct report_run *, const struct report_step *);
static int report_by_id_cmp(const void *, const void *);
static void report_median_fill(struct report_run *, struct report_run *,
    int64_t *);
static int report_scan(const struct audit_row *, void *);
static int report_head(const struct audit_row *, void *);
static void report_rollback_mark(struct report_run *,
    const struct audit_row *);
static char *report_act_scrub(const char *, const char *, char **);
static int audit_new_state(const struct audit_row *, enum step_state *);
static void report_wait_add(struct report_step *, int64_t, int64_t);
static void report_act_add(struct report_run *, const struct audit_row *);
static void report_times(struct report_run *);
static void report_step_times(struct report_run *, struct report_step *);
static void report_baseline(struct state *, struct report_run *);
static int report_baseline_fill(struct report_run *, struct report_run *);
static void report_estimate(struct report_run *);
static int state_done(enum step_state);

/* For qsort of report_run.by_id: the run being sorted. */
static const struct report_run *report_sorting;

/* Is the step done for the ETA rule (its actual time is final)? */
static int
state_done(enum step_state s)
{
	return s == ST_SUCCEEDED || s == ST_SKIPPED;
}

int64_t
report_parse_time(const char *s)
{
	struct tm tm;
	int y, mo, d, h, mi, sec, ms = 0;

	if (s == NULL || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d.%3d", &y, &mo, &d,
	        &h, &mi, &sec, &ms) < 6)
		return -1;
	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	return (int64_t)timegm(&tm) * 1000 + ms;
}

void
report_dur(int64_t ms, char *out, size_t len)
{
	if (ms < 0)
		snprintf(out, len, "-");
	else
		duration_format(ms, out, len);
}

void
report_delta(int64_t ms, char *out, size_t len)
{
	char d[24];

	duration_format(ms < 0 ? -ms : ms, d, sizeof d);
	snprintf(out, len, "%s%s", ms > 0 ? "+" : ms < 0 ? "-" : "", d);
}

void
report_plan_words(const struct eta *e, char *out, size_t len)
{
	char d[32];

	if (!e->planned) {
		snprintf(out, len, "no plan");
		return;
	}
	duration_format(e->delta_ms < 0 ? -e->delta_ms : e->delta_ms, d,
	    sizeof d);
	if (e->delta_ms == 0)
		snprintf(out, len, "on plan");
	else
		snprintf(out, len, "%s %s plan", d,
		    e->delta_ms > 0 ? "behind" : "ahead of");
}

struct report_step *
report_find(const struct report_run *r, const char *id)
{
	size_t lo = 0, hi = r->nsteps, mid;
	int c;

	if (r->by_id == NULL)
		return NULL;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = strcmp(r->steps[r->by_id[mid]].row.id, id);
		if (c == 0)
			return &r->steps[r->by_id[mid]];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int
report_by_id_cmp(const void *a, const void *b)
{
	const struct report_step *s = report_sorting->steps;

	return strcmp(s[*(const size_t *)a].row.id,
	    s[*(const size_t *)b].row.id);
}

/* Sort the steps by id for report_find (5,000 instances are looked up
 * once per audit entry). */
static void
report_index(struct report_run *r)
{
	size_t i;

	r->by_id = xcalloc(r->nsteps ? r->nsteps : 1, sizeof *r->by_id);
	for (i = 0; i < r->nsteps; i++)
		r->by_id[i] = i;
	report_sorting = r;
	qsort(r->by_id, r->nsteps, sizeof *r->by_id, report_by_id_cmp);
	report_sorting = NULL;
}

int
report_run_load(struct state *st, struct runbook *rb, int64_t id,
    struct report_run *out)
{
	return report_load(st, rb, id, 0, out);
}

int
report_run_timing(struct state *st, struct runbook *rb, int64_t id,
    struct report_run *out)
{
	int rc = report_load(st, rb, id, LOAD_LIGHT, out);

	if (rc == STATE_OK) {
		report_baseline(st, out);
		report_estimate(out);
	}
	return rc;
}

/* Load run id (0: latest) into out, lightly or whole. */
static int
report_load(struct state *st, struct runbook *rb, int64_t id, int light,
    struct report_run *out)
{
	struct lease_holder h = { 0 };
	const char *t;
	size_t i;
	int rc;

	memset(out, 0, sizeof *out);
	out->rb = rb;
	rc = id > 0 ? state_run_get(st, id, &out->info)
	            : state_run_latest(st, 0, &out->info);
	if (rc != STATE_OK)
		return rc;
	out->live = strcmp(out->info.mode, "live") == 0;
	if (state_lease_get(st, out->info.id, &h) == STATE_OK)
		out->driven = 1;
	lease_holder_free(&h);
	if ((rc = report_steps(st, out, light)) != STATE_OK)
		return rc;
	report_times(out);
	report_entities_build(light ? NULL : st, out);
	if (!light) {
		t = out->info.runbook_text ? out->info.runbook_text : "";
		sha256_hex(t, strlen(t), out->text_sha);
		state_audit_each(st, 0, report_head, out);
	}
	out->est = xcalloc(out->nsteps ? out->nsteps : 1, sizeof *out->est);
	for (i = 0; i < out->nsteps; i++)
		out->est[i].rehearsal = out->est[i].median = -1;
	if (!light)
		report_baseline(st, out);
	report_estimate(out);
	return STATE_OK;
}

/* The run's step rows (and attempts), their needs, and the audit trail. */
static int
report_steps(struct state *st, struct report_run *r, int light)
{
	struct step_row *rows = NULL;
	struct audit_scan sc = { r, NULL, light };
	size_t n = 0, i;
	int rc;

	r->rollback_start_ms = r->rollback_done_ms = -1;
	if ((rc = state_steps_load(st, r->info.id, &rows, &n)) != STATE_OK)
		return rc;
	r->steps = xcalloc(n ? n : 1, sizeof *r->steps);
	r->nsteps = n;
	for (i = 0; i < n; i++) {
		r->steps[i].row = rows[i];
		r->steps[i].ent = SIZE_MAX;
		if (runbook_instance_find(r->rb, rows[i].id, &r->steps[i].def,
		        &r->steps[i].entity) != 0)
			r->steps[i].def = NULL;
		/* With no live driver, what is left running was interrupted. */
		if (!r->driven && rows[i].state == ST_RUNNING)
			r->steps[i].row.state = ST_INTERRUPTED;
		if (!light)
			state_attempts_list(st, r->info.id, rows[i].id, 0,
			    &r->steps[i].att, &r->steps[i].natt);
	}
	free(rows); /* the strings now belong to r->steps */
	report_index(r);
	report_out(st, r);
	report_deps(r);
	sc.open = xcalloc(n ? n : 1, sizeof *sc.open);
	for (i = 0; i < n; i++)
		sc.open[i] = -1;
	rc = state_audit_each(st, r->info.id, report_scan, &sc);
	for (i = 0; i < n; i++)
		if (sc.open[i] >= 0)
			report_wait_add(&r->steps[i], sc.open[i], -1);
	free(sc.open);
	return rc;
}

/* Map each step's resolved needs to indexes into the run's steps: an
 * instance needs the same entity's instances of its phase; a step after a
 * for_each phase needs every instance of it but the excluded ones. */
static void
report_deps(struct report_run *r)
{
	struct report_step *s;
	size_t i, k;

	for (i = 0; i < r->nsteps; i++) {
		s = &r->steps[i];
		if (s->def == NULL)
			continue;
		for (k = 0; k < s->def->ndeps; k++)
			report_dep_add(r, s, &r->rb->steps[s->def->deps[k]]);
	}
}

/* Which entities the run excluded: what follows a phase does not wait for
 * their instances, and nothing more of them will run. */
static void
report_out(struct state *st, struct report_run *r)
{
	struct entity_row *rows = NULL;
	struct rb_entity *en;
	size_t n = 0, i;

	if (r->rb->nentities == 0)
		return;
	r->out = xcalloc(r->rb->nentities, 1);
	if (state_entities_load(st, r->info.id, &rows, &n) != STATE_OK)
		return;
	for (i = 0; i < n; i++)
		if (rows[i].state != NULL && strcmp(rows[i].state, "excluded") == 0 &&
		    (en = runbook_entity_find(r->rb, rows[i].entity)) != NULL)
			r->out[en->index] = 1;
	entity_rows_free(rows, n);
}

/* Is s an instance of an entity the run excluded, or excluded itself? */
static int
report_gone(const struct report_run *r, const struct report_step *s)
{
	return s->row.state == ST_EXCLUDED ||
	    (s->entity != NULL && r->out != NULL && r->out[s->entity->index]);
}

/* Add what step d stands for to s's needs. */
static void
report_dep_add(struct report_run *r, struct report_step *s,
    const struct rb_step *d)
{
	struct report_step *x;
	char *id;
	size_t i;

	if (!runbook_step_in_lanes(r->rb, d) || s->entity != NULL) {
		id = s->entity != NULL && runbook_step_in_lanes(r->rb, d)
		    ? xprintf("%s@%s", d->id, s->entity->id) : xstrdup(d->id);
		if ((x = report_find(r, id)) != NULL) {
			s->deps = xreallocarray(s->deps, s->ndeps + 1,
			    sizeof *s->deps);
			s->deps[s->ndeps++] = (size_t)(x - r->steps);
		}
		free(id);
		return;
	}
	for (i = 0; i < r->nsteps; i++) {
		x = &r->steps[i];
		if (x->def != d || report_gone(r, x))
			continue;
		s->deps = xreallocarray(s->deps, s->ndeps + 1, sizeof *s->deps);
		s->deps[s->ndeps++] = i;
	}
}

/* The state an audit entry moves its step to; 0 if it says one. */
static int
audit_new_state(const struct audit_row *a, enum step_state *to)
{
	const char *p;
	char word[32];
	size_t len;

	if (strcmp(a->action, "attempt-start") == 0) {
		*to = ST_RUNNING;
		return 0;
	}
	if (a->details == NULL)
		return -1;
	if (strcmp(a->action, "attempt-end") == 0) {
		if ((p = strstr(a->details, "; step ")) == NULL)
			return -1;
		return step_state_parse(p + 7, to);
	}
	if (strcmp(a->action, "decide") == 0)
		return -1;
	len = strcspn(a->details, ":");
	if (len >= sizeof word)
		return -1;
	memcpy(word, a->details, len);
	word[len] = '\0';
	return step_state_parse(word, to);
}

/* One audit entry: open or close a wait, keep an operator's act. */
static int
report_scan(const struct audit_row *a, void *arg)
{
	struct audit_scan *sc = arg;
	struct report_step *s;
	enum step_state to;
	int64_t at = report_parse_time(a->at);
	size_t i;

	if (!sc->light)
		report_act_add(sc->r, a);
	report_rollback_mark(sc->r, a);
	if (a->step == NULL || (s = report_find(sc->r, a->step)) == NULL)
		return 0;
	if (audit_new_state(a, &to) != 0)
		return 0;
	i = (size_t)(s - sc->r->steps);
	if (to == ST_AWAITING && sc->open[i] < 0)
		sc->open[i] = at;
	else if (to != ST_AWAITING && sc->open[i] >= 0) {
		report_wait_add(s, sc->open[i], at);
		sc->open[i] = -1;
	}
	return 0;
}

/* Keep the last entry of the whole trail: the head an operator notes. */
static int
report_head(const struct audit_row *a, void *arg)
{
	struct report_run *r = arg;

	r->audit_id = a->id;
	snprintf(r->audit_hash, sizeof r->audit_hash, "%s",
	    a->hash ? a->hash : "");
	free(r->audit_at);
	r->audit_at = xstrdup(a->at ? a->at : "");
	return 0;
}

/* Count the run's rollbacks and keep when the last began and ended. */
static void
report_rollback_mark(struct report_run *r, const struct audit_row *a)
{
	if (strcmp(a->action, "rollback-start") == 0) {
		r->nrollbacks++;
		r->rollback_start_ms = report_parse_time(a->at);
	} else if (strcmp(a->action, "rollback-done") == 0)
		r->rollback_done_ms = report_parse_time(a->at);
}

static void
report_wait_add(struct report_step *s, int64_t start, int64_t end)
{
	s->waits = xreallocarray(s->waits, s->nwaits + 1, sizeof *s->waits);
	s->waits[s->nwaits].start = start;
	s->waits[s->nwaits].end = end;
	s->nwaits++;
}

/* Keep an audit entry that records a person's act on the run. */
static void
report_act_add(struct report_run *r, const struct audit_row *a)
{
	static const char *acts[] = { "decide", "confirm", "confirm-undone",
		"skip", "retry", "rollback-start", "rollback-force",
		"runbook-change", "decisions-void", "exclude", NULL };
	struct report_act *x;
	const char *d = a->details ? a->details : "";
	size_t i, len = strcspn(d, ":");

	for (i = 0; acts[i] != NULL; i++)
		if (strcmp(a->action, acts[i]) == 0)
			break;
	if (acts[i] == NULL)
		return;
	r->acts = xreallocarray(r->acts, r->nacts + 1, sizeof *r->acts);
	x = &r->acts[r->nacts++];
	x->at = xstrdup(a->at);
	x->at_ms = report_parse_time(a->at);
	x->step = a->step ? xstrdup(a->step) : NULL;
	x->operator = xstrdup(a->operator ? a->operator : "?");
	x->action = xstrdup(a->action);
	x->what = xstrndup(d, len);
	x->why = d[len] == ':' && d[len + 1] != '\0'
	    ? xstrdup(d + len + (d[len + 1] == ' ' ? 2 : 1)) : NULL;
	if (strcmp(a->action, "runbook-change") == 0) {
		free(x->what);
		free(x->why);
		x->what = report_act_scrub(d, "; accepted changes: ", &x->why);
	}
}

/*
 * A runbook change as a report shows it: "changed", and the changes
 * accepted (after mark) in *why. The entry's sha256= is the hash of the
 * file as written, which reports never publish (see report.h).
 */
static char *
report_act_scrub(const char *details, const char *mark, char **why)
{
	const char *p = strstr(details, mark);

	*why = p != NULL && p[strlen(mark)] != '\0'
	    ? xstrdup(p + strlen(mark)) : NULL;
	return xstrdup("changed");
}

/* The run's start, end and present, and each step's span. */
static void
report_times(struct report_run *r)
{
	size_t i;
	int64_t last = -1;

	for (i = 0; i < r->nsteps; i++)
		if (r->steps[i].row.ended_ms > last)
			last = r->steps[i].row.ended_ms;
	r->end_ms = -1;
	r->now_ms = state_now_ms();
	if (strcmp(r->info.state, "open") != 0) {
		r->end_ms = last >= 0 ? last : report_parse_time(r->info.ended_at);
		r->now_ms = r->end_ms;
	}
	r->start_ms = -1;
	for (i = 0; i < r->nsteps; i++) {
		report_step_times(r, &r->steps[i]);
		if (r->steps[i].start_ms >= 0 &&
		    (r->start_ms < 0 || r->steps[i].start_ms < r->start_ms))
			r->start_ms = r->steps[i].start_ms;
	}
	if (r->start_ms < 0)
		r->start_ms = report_parse_time(r->info.created_at);
}

/* A step's first activity, its end, its actual time and its waiting. */
static void
report_step_times(struct report_run *r, struct report_step *s)
{
	enum step_state st = s->row.state;
	int64_t now = r->now_ms;
	size_t i;

	s->start_ms = s->row.started_ms;
	s->wait_ms = 0;
	for (i = 0; i < s->nwaits; i++) {
		if (s->start_ms < 0 || s->waits[i].start < s->start_ms)
			s->start_ms = s->waits[i].start;
		if (s->waits[i].end >= 0)
			s->wait_ms += s->waits[i].end - s->waits[i].start;
		else if (now > s->waits[i].start)
			s->wait_ms += now - s->waits[i].start;
	}
	s->end_ms = -1;
	if (st != ST_PENDING && st != ST_RUNNING && st != ST_AWAITING)
		s->end_ms = s->row.ended_ms;
	s->actual_ms = -1;
	if (s->start_ms >= 0 && s->end_ms >= s->start_ms)
		s->actual_ms = s->end_ms - s->start_ms;
	else if (state_done(st))
		s->actual_ms = 0;
}

/* Each step's rehearsal estimate: the latest earlier rehearsal in which
 * it succeeded. */
static void
report_baseline(struct state *st, struct report_run *r)
{
	struct run_info *runs = NULL;
	struct report_run b;
	size_t n = 0, i;
	int full = 0;

	if (state_run_list(st, &runs, &n) != STATE_OK)
		return;
	for (i = n; !full && i-- > 0;) {
		if (runs[i].id >= r->info.id ||
		    strcmp(runs[i].mode, "rehearsal") != 0)
			continue;
		if (report_load(st, r->rb, runs[i].id, LOAD_LIGHT, &b) !=
		    STATE_OK) {
			report_run_free(&b);
			continue;
		}
		full = report_baseline_fill(r, &b);
		report_run_free(&b);
	}
	run_info_free_list(runs, n);
}

/* Take from run b what r still lacks; non-zero when r lacks nothing. */
static int
report_baseline_fill(struct report_run *r, struct report_run *b)
{
	struct report_step *x;
	size_t i, left = 0;
	int64_t *med = xcalloc(r->rb->nsteps + 1, sizeof *med);

	report_median_fill(r, b, med);
	for (i = 0; i < r->nsteps; i++) {
		if (r->steps[i].entity != NULL && r->est[i].median < 0) {
			r->est[i].median = med[r->steps[i].def->index];
			left += r->est[i].median < 0;
		}
		if (r->steps[i].baseline_run != 0)
			continue;
		x = report_find(b, r->steps[i].row.id);
		if (x != NULL && x->row.state == ST_SUCCEEDED &&
		    x->actual_ms >= 0) {
			r->steps[i].baseline_run = b->info.id;
			r->est[i].rehearsal = x->actual_ms;
		} else
			left++;
	}
	free(med);
	return left == 0;
}

/* med[k]: the median over entities of rehearsal b's times of for_each
 * step k, where r still needs one; -1 elsewhere. */
static void
report_median_fill(struct report_run *r, struct report_run *b, int64_t *med)
{
	struct report_lane_stat ls;
	unsigned char *want = xcalloc(r->rb->nsteps + 1, 1);
	size_t i;

	for (i = 0; i < r->rb->nsteps; i++)
		med[i] = -1;
	for (i = 0; i < r->nsteps; i++)
		if (r->steps[i].entity != NULL && r->est[i].median < 0)
			want[r->steps[i].def->index] = 1;
	for (i = 0; i < r->rb->nsteps; i++) {
		if (!want[i])
			continue;
		report_lane_stat(b, &r->rb->steps[i], &ls);
		med[i] = ls.median_ms;
	}
	free(want);
}

/* Fill the ETA inputs from the steps and apply the rule. */
static void
report_estimate(struct report_run *r)
{
	struct report_step *s;
	struct eta_step *e;
	size_t i;

	for (i = 0; i < r->nsteps; i++) {
		s = &r->steps[i];
		e = &r->est[i];
		e->deps = s->deps;
		e->ndeps = s->ndeps;
		e->planned = s->def != NULL ? s->def->planned_ms : -1;
		e->actual = s->actual_ms;
		e->start = s->start_ms;
		e->end = s->end_ms;
		e->done = state_done(s->row.state);
		e->active = s->row.state == ST_RUNNING ||
		    s->row.state == ST_AWAITING;
		e->group = 0;
		if (report_gone(r, s) && !e->active) {
			/* nothing more of it will run: it takes no more time */
			e->done = 1;
			e->actual = s->actual_ms > 0 ? s->actual_ms : 0;
		} else if (s->entity != NULL) {
			e->group = 1 + s->def->phase;
			e->parallel = r->rb->phases[s->def->phase].parallel;
			e->lane = s->entity->index;
		}
	}
	eta_compute(r->est, r->nsteps, r->start_ms, r->now_ms, &r->eta);
}

void
report_phase_span(const struct report_run *r, size_t phase, int64_t *start,
    int64_t *end, int64_t *planned)
{
	unsigned char *mask = xcalloc(r->nsteps ? r->nsteps : 1, 1);
	const struct report_step *s;
	size_t i;
	int open = 0;

	*start = *end = -1;
	for (i = 0; i < r->nsteps; i++) {
		s = &r->steps[i];
		if (s->def == NULL || s->def->phase != phase)
			continue;
		mask[i] = 1;
		if (s->start_ms >= 0 && (*start < 0 || s->start_ms < *start))
			*start = s->start_ms;
		if (s->end_ms < 0 && s->start_ms < 0 && report_gone(r, s))
			continue; /* never ran, never will */
		if (s->end_ms < 0)
			open = 1;
		else if (s->end_ms > *end)
			*end = s->end_ms;
	}
	if (open)
		*end = -1;
	*planned = eta_plan_within(r->est, r->nsteps, mask);
	free(mask);
}

int
report_eta(struct state *st, struct runbook *rb, int64_t run,
    int64_t max_age_ms, struct eta *out)
{
	/* One entry: the console asks on every redraw of its header. */
	static struct {
		struct state *st;
		int64_t run, at;
		struct eta eta;
	} cache;
	struct report_run r;
	int64_t now = state_now_ms();
	int rc;

	if (max_age_ms > 0 && cache.st == st && cache.run == run &&
	    now - cache.at < max_age_ms) {
		*out = cache.eta;
		return STATE_OK;
	}
	rc = report_run_timing(st, rb, run, &r);
	if (rc == STATE_OK) {
		*out = r.eta;
		cache.st = st;
		cache.run = run;
		cache.at = now;
		cache.eta = r.eta;
	}
	report_run_free(&r);
	return rc;
}

int
report_result_field(const char *json, const char *key, char *out, size_t len)
{
	const char *p = json;
	size_t klen = strlen(key), n;
	int depth = 0;

	if (json == NULL)
		return -1;
	for (; *p != '\0'; p++) {
		if (*p == '{' || *p == '[')
			depth++;
		else if (*p == '}' || *p == ']')
			depth--;
		else if (*p == '"') {
			if (depth == 1 && strncmp(p + 1, key, klen) == 0 &&
			    p[klen + 1] == '"' && p[klen + 2] == ':') {
				p += klen + 3;
				n = strcspn(p, ",}]");
				if (*p == '{' || *p == '[' || n >= len)
					return -1;
				snprintf(out, len, "%.*s", (int)n, p);
				return 0;
			}
			for (p++; *p != '\0' && *p != '"'; p++)
				if (*p == '\\' && p[1] != '\0')
					p++;
			if (*p == '\0')
				break;
		}
	}
	return -1;
}

void
report_run_free(struct report_run *r)
{
	size_t i;

	for (i = 0; i < r->nsteps; i++) {
		step_row_free(&r->steps[i].row);
		attempt_rows_free(r->steps[i].att, r->steps[i].natt);
		free(r->steps[i].waits);
		free(r->steps[i].deps);
	}
	for (i = 0; i < r->nacts; i++) {
		free(r->acts[i].at);
		free(r->acts[i].step);
		free(r->acts[i].operator);
		free(r->acts[i].action);
		free(r->acts[i].what);
		free(r->acts[i].why);
	}
	free(r->acts);
	for (i = 0; i < r->nents; i++) {
		free(r->ents[i].reason);
		free(r->ents[i].excluded_by);
	}
	free(r->ents);
	free(r->waves);
	free(r->out);
	free(r->by_id);
	free(r->audit_at);
	free(r->steps);
	free(r->est);
	run_info_free(&r->info);
	memset(r, 0, sizeof *r);
}

void
report_phase_cells(const struct report_run *r, const struct report_run *cmp,
    size_t p, char cells[4][32])
{
	int64_t s, e, pl, cs, ce, cpl;

	report_phase_span(r, p, &s, &e, &pl);
	report_human(pl, cells[0], sizeof cells[0]);
	report_human(s >= 0 && e >= 0 ? e - s : -1, cells[1], sizeof cells[1]);
	snprintf(cells[2], sizeof cells[2], "-");
	snprintf(cells[3], sizeof cells[3], "-");
	if (cmp == NULL)
		return;
	report_phase_span(cmp, p, &cs, &ce, &cpl);
	report_human(cs >= 0 && ce >= 0 ? ce - cs : -1, cells[2],
	    sizeof cells[2]);
	if (s >= 0 && e >= 0 && cs >= 0 && ce >= 0)
		report_human_delta((e - s) - (ce - cs), cells[3], sizeof cells[3]);
}
