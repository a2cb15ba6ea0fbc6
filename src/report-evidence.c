/*
 * report-evidence.c - what a go at a checkpoint rests on, as a report
 * shows it: the results of the steps it needs (or of those its evidence:
 * names), from the run's rows: reconcile counts, verify outcomes,
 * failures and exclusions. A for_each step outside the checkpoint's lane
 * stands for its instances: one line for them together, then one for
 * each that did not succeed.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "xmalloc.h"

struct ev_list {
	size_t *v;
	size_t n;
};

static void ev_add(struct ev_list *, size_t);
static void ev_add_def(const struct report_run *, const struct report_step *,
    const struct rb_step *, struct ev_list *);
static void ev_add_name(const struct report_run *, const struct report_step *,
    const char *, struct ev_list *);
static void ev_counts(const struct report_step *, struct buf *);
static void ev_attempts(const struct report_step *, struct buf *);
static int ev_ok(const struct report_step *);
static void ev_line_push(char ***, size_t *, struct buf *);
static void ev_group_line(const struct report_run *, const size_t *, size_t,
    struct buf *);

int
report_act_at(const struct report_act *a, const struct report_step *cp)
{
	return a->step != NULL && strcmp(a->step, cp->row.id) == 0 &&
	    (strcmp(a->action, "decide") == 0 ||
	        strcmp(a->action, "decisions-void") == 0);
}

int
report_is_checkpoint(const struct report_step *s)
{
	return s->def != NULL && s->def->type == STEP_CHECKPOINT;
}

int
report_evidence_shown(const struct report_step *s)
{
	return report_is_checkpoint(s) && s->row.state != ST_PENDING &&
	    s->row.state != ST_EXCLUDED;
}

/* Add step i once. */
static void
ev_add(struct ev_list *l, size_t i)
{
	size_t k;

	for (k = 0; k < l->n; k++)
		if (l->v[k] == i)
			return;
	l->v = xreallocarray(l->v, l->n + 1, sizeof *l->v);
	l->v[l->n++] = i;
}

/* The rows step def stands for, seen from checkpoint cp. */
static void
ev_add_def(const struct report_run *r, const struct report_step *cp,
    const struct rb_step *d, struct ev_list *l)
{
	struct report_step *s;
	char *id;
	size_t i;

	if (!runbook_step_in_lanes(r->rb, d)) {
		if ((s = report_find(r, d->id)) != NULL)
			ev_add(l, (size_t)(s - r->steps));
		return;
	}
	if (cp->entity != NULL && d->phase == cp->def->phase) {
		id = xprintf("%s@%s", d->id, cp->entity->id);
		if ((s = report_find(r, id)) != NULL)
			ev_add(l, (size_t)(s - r->steps));
		free(id);
		return;
	}
	for (i = 0; i < r->nsteps; i++)
		if (r->steps[i].def == d && r->steps[i].entity != NULL)
			ev_add(l, i);
}

/* The rows an evidence: entry names: a step, or an instance. */
static void
ev_add_name(const struct report_run *r, const struct report_step *cp,
    const char *name, struct ev_list *l)
{
	struct rb_step *d = NULL;
	struct rb_entity *ent = NULL;
	struct report_step *s;

	if (runbook_instance_find(r->rb, name, &d, &ent) != 0)
		d = runbook_find_step(r->rb, name); /* a for_each step's id */
	if (d == NULL)
		return;
	if (ent == NULL)
		ev_add_def(r, cp, d, l);
	else if ((s = report_find(r, name)) != NULL)
		ev_add(l, (size_t)(s - r->steps));
}

size_t
report_evidence(const struct report_run *r, const struct report_step *cp,
    size_t **out)
{
	struct ev_list l = { NULL, 0 };
	size_t k;

	*out = NULL;
	if (cp->def == NULL)
		return 0;
	if (cp->def->nevidence > 0)
		for (k = 0; k < cp->def->nevidence; k++)
			ev_add_name(r, cp, cp->def->evidence[k], &l);
	else
		for (k = 0; k < cp->def->ndeps; k++)
			ev_add_def(r, cp, &r->rb->steps[cp->def->deps[k]], &l);
	*out = l.v;
	return l.n;
}

/* Did s end well (succeeded or skipped)? */
static int
ev_ok(const struct report_step *s)
{
	return s->row.state == ST_SUCCEEDED || s->row.state == ST_SKIPPED;
}

void
report_evidence_line(const struct report_run *r, const struct report_step *s,
    struct buf *b)
{
	const struct report_entity *e =
	    s->ent < r->nents ? &r->ents[s->ent] : NULL;
	char words[160];

	buf_printf(b, "%s %s", s->row.id, step_state_name(s->row.state));
	if (s->row.result != NULL &&
	    report_reconcile(s, words, sizeof words) != REC_NONE) {
		buf_printf(b, ": %s", words);
		ev_counts(s, b);
	} else if (s->row.state == ST_SUCCEEDED && s->def != NULL &&
	    s->def->verify != NULL)
		buf_adds(b, ": run and verify passed");
	else if (s->row.state == ST_SKIPPED || s->row.state == ST_FAILED)
		buf_printf(b, ": %s", s->row.note ? s->row.note : "?");
	if (e != NULL && e->state == RENT_EXCLUDED && s->row.state == ST_EXCLUDED)
		buf_printf(b, ": %s", e->reason ? e->reason : "no reason given");
	else if (e != NULL && e->state == RENT_EXCLUDED)
		buf_printf(b, "; %s excluded: %s", e->def->id,
		    e->reason ? e->reason : "no reason given");
	ev_attempts(s, b);
}

/* A reconcile result's counts: "(200 source, 199 dest, 1 missing, ...)". */
static void
ev_counts(const struct report_step *s, struct buf *b)
{
	static const struct {
		const char *key, *word;
	} f[] = {
		{ "source_rows", "source" }, { "dest_rows", "dest" },
		{ "missing", "missing" }, { "extra", "extra" },
		{ "changed", "changed" }, { "source_value", "source" },
		{ "dest_value", "dest" },
	};
	char v[64];
	size_t k;
	int n = 0;

	for (k = 0; k < sizeof f / sizeof f[0]; k++) {
		if (report_result_field(s->row.result, f[k].key, v, sizeof v) != 0)
			continue;
		buf_printf(b, "%s%s %s", n++ ? ", " : " (", v, f[k].word);
	}
	if (n > 0)
		buf_addc(b, ')');
}

/* A rollback done, failed attempts, and the last one's exit status. */
static void
ev_attempts(const struct report_step *s, struct buf *b)
{
	const struct attempt_row *last = NULL;
	size_t k;
	int failed = 0, undone = 0;

	for (k = 0; k < s->natt; k++) {
		if (s->att[k].kind == ATT_ROLLBACK) {
			undone = strcmp(s->att[k].state, "succeeded") == 0;
			continue;
		}
		if (strcmp(s->att[k].state, "succeeded") != 0 &&
		    strcmp(s->att[k].state, "running") != 0) {
			failed++;
			last = &s->att[k];
		}
	}
	if (undone && s->row.state != ST_ROLLED_BACK)
		buf_adds(b, "; rolled back");
	if (failed == 0)
		return;
	if (s->row.state == ST_FAILED && s->row.note == NULL &&
	    last->exit_code >= 0)
		buf_printf(b, " (exit %d)", last->exit_code);
	if (!ev_ok(s) && failed == 1)
		return;
	buf_printf(b, "; %d failed attempt%s", failed, failed > 1 ? "s" : "");
}

/* Move b's text to the end of the lines. */
static void
ev_line_push(char ***lines, size_t *n, struct buf *b)
{
	*lines = xreallocarray(*lines, *n + 1, sizeof **lines);
	(*lines)[(*n)++] = xstrdup(buf_str(b));
	b->len = 0;
}

/* One line for the instances of one step together: "ready: 2
 * succeeded, 1 excluded / 3 entities". */
static void
ev_group_line(const struct report_run *r, const size_t *v, size_t n,
    struct buf *b)
{
	size_t counts[ST_NSTATES] = { 0 }, k;
	int any = 0;

	for (k = 0; k < n; k++)
		counts[r->steps[v[k]].row.state]++;
	buf_printf(b, "%s:", r->steps[v[0]].def->id);
	for (k = 0; k < ST_NSTATES; k++)
		if (counts[k] > 0)
			buf_printf(b, "%s %zu %s", any++ ? "," : "", counts[k],
			    step_state_name((enum step_state)k));
	buf_printf(b, " / %zu entities", n);
}

size_t
report_evidence_lines(const struct report_run *r,
    const struct report_step *cp, char ***lines)
{
	struct buf b = { 0 };
	size_t *v, n = report_evidence(r, cp, &v), i, j, nl = 0;

	*lines = NULL;
	for (i = 0; i < n; i = j) {
		/* a run of instances of one step counts as one */
		for (j = i + 1; j < n && r->steps[v[i]].entity != NULL &&
		     r->steps[v[j]].def == r->steps[v[i]].def; j++)
			;
		if (j - i == 1) {
			report_evidence_line(r, &r->steps[v[i]], &b);
			ev_line_push(lines, &nl, &b);
			continue;
		}
		ev_group_line(r, v + i, j - i, &b);
		ev_line_push(lines, &nl, &b);
		for (; i < j; i++) {
			if (ev_ok(&r->steps[v[i]]))
				continue;
			report_evidence_line(r, &r->steps[v[i]], &b);
			ev_line_push(lines, &nl, &b);
		}
	}
	free(v);
	buf_free(&b);
	return nl;
}

void
report_lines_free(char **lines, size_t n)
{
	while (n-- > 0)
		free(lines[n]);
	free(lines);
}
