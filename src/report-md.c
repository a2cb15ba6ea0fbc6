/*
 * report-md.c - the Markdown report: a header, the summary with the ETA,
 * phases and steps (planned against actual, compared with another run when
 * asked), attempts, decisions, failures and reconcile results, as tables.
 *
 * Text from the state file is always escaped (escape.h), wherever the
 * report goes: it is read in terminals and renderers alike.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "report.h"

static void md_cell(struct buf *, const char *);
static void md_text(struct buf *, const char *);
static void md_failure(struct buf *, const struct attempt_row *);
static void md_header(struct buf *, struct report_run *, struct report_run *);
static void md_summary(struct buf *, struct report_run *);
static void md_phases(struct buf *, struct report_run *, struct report_run *);
static void md_steps(struct buf *, struct report_run *, struct report_run *);
static void md_step(struct buf *, struct report_run *, size_t,
    struct report_run *);
static void md_attempts(struct buf *, struct report_run *);
static void md_acts(struct buf *, struct report_run *);
static void md_failures(struct buf *, struct report_run *);
static void md_reconcile(struct buf *, struct report_run *);
static void md_result(struct buf *, const char *);

/* A table cell: escaped, pipes escaped, line breaks and tabs folded, "-"
 * when empty. */
static void
md_cell(struct buf *b, const char *s)
{
	char *e = escape_str(s != NULL ? s : "", ESCAPE_BLOCK), *p;

	buf_adds(b, " ");
	if (*e == '\0')
		buf_adds(b, "-");
	for (p = e; *p != '\0'; p++) {
		if (*p == '|')
			buf_adds(b, "\\|");
		else if (*p == '\n' || *p == '\t')
			buf_addc(b, ' ');
		else
			buf_addc(b, *p);
	}
	buf_adds(b, " |");
	free(e);
}

/* Append s escaped, on one line. */
static void
md_text(struct buf *b, const char *s)
{
	escape_buf(b, s, strlen(s), ESCAPE_LINE);
}

void
report_md(struct buf *b, struct report_run *r, struct report_run *cmp)
{
	md_header(b, r, cmp);
	md_summary(b, r);
	md_phases(b, r, cmp);
	md_steps(b, r, cmp);
	md_attempts(b, r);
	md_acts(b, r);
	md_failures(b, r);
	md_reconcile(b, r);
}

/* Title lines: which run, LIVE or REHEARSAL, when and by whom. */
static void
md_header(struct buf *b, struct report_run *r, struct report_run *cmp)
{
	struct run_info *i = &r->info;

	buf_adds(b, "# ");
	md_text(b, r->rb->title ? r->rb->title : r->rb->name);
	buf_printf(b, ": run %lld %s\n\n", (long long)i->id,
	    r->live ? "*** LIVE ***" : "REHEARSAL");
	buf_printf(b, "- Runbook: %s (sha256 %.12s)\n", r->rb->name,
	    i->runbook_sha);
	buf_printf(b, "- Run: %lld, %s, ", (long long)i->id,
	    r->live ? "LIVE" : "rehearsal");
	md_text(b, i->state);
	buf_adds(b, "\n- Opened: ");
	md_text(b, i->created_at);
	buf_adds(b, " by ");
	md_text(b, i->operator ? i->operator : "?");
	if (i->ended_at != NULL) {
		buf_adds(b, "\n- Closed: ");
		md_text(b, i->ended_at);
	}
	if (cmp != NULL) {
		buf_printf(b, "\n- Compared with: run %lld (%s, ",
		    (long long)cmp->info.id, cmp->live ? "LIVE" : "rehearsal");
		md_text(b, cmp->info.state);
		buf_adds(b, ")");
	}
	buf_adds(b, "\n\n");
}

/* Elapsed, critical path against plan, ETA, waiting, late steps. */
static void
md_summary(struct buf *b, struct report_run *r)
{
	struct eta *e = &r->eta;
	char d[32], words[64], t[32];
	int64_t wait = 0;
	size_t i;

	for (i = 0; i < r->nsteps; i++)
		wait += r->steps[i].wait_ms;
	buf_adds(b, "## Summary\n\n| What | Value |\n|---|---|\n");
	state_format_time(r->start_ms, t);
	buf_printf(b, "| Started | %s |\n", t);
	report_dur(r->now_ms - r->start_ms, d, sizeof d);
	buf_printf(b, "| Elapsed | %s |\n", d);
	report_dur(e->path_ms, d, sizeof d);
	buf_printf(b, "| Critical path (estimate) | %s |\n", d);
	report_dur(e->plan_ms, d, sizeof d);
	buf_printf(b, "| Critical path (plan) | %s |\n", d);
	report_plan_words(e, words, sizeof words);
	report_delta(e->delta_ms, d, sizeof d);
	if (e->planned)
		buf_printf(b, "| Against plan | %s (%s) |\n", words, d);
	else
		buf_printf(b, "| Against plan | %s |\n", words);
	state_format_time(e->finish, t);
	report_dur(e->remaining, d, sizeof d);
	if (e->complete)
		buf_printf(b, "| Finished | %s |\n", t);
	else
		buf_printf(b, "| ETA | %s (in %s) |\n", t, d);
	report_dur(wait, d, sizeof d);
	buf_printf(b, "| Waiting for people | %s |\n", d);
	buf_printf(b, "| Late steps | %d |\n\n", e->nlate);
}

/* One row per phase: planned critical path, actual span. */
static void
md_phases(struct buf *b, struct report_run *r, struct report_run *cmp)
{
	char c[4][32];
	size_t p, i;

	buf_adds(b, "## Phases\n\n| Phase | Planned | Actual |");
	if (cmp != NULL)
		buf_printf(b, " Run %lld | Difference |",
		    (long long)cmp->info.id);
	buf_adds(b, cmp ? "\n|---|---|---|---|---|\n" : "\n|---|---|---|\n");
	for (p = 0; p < r->rb->nphases; p++) {
		report_phase_cells(r, cmp, p, c);
		buf_adds(b, "|");
		md_cell(b, r->rb->phases[p].id);
		for (i = 0; i < (cmp != NULL ? 4 : 2); i++)
			md_cell(b, c[i]);
		buf_adds(b, "\n");
	}
	buf_adds(b, "\n");
}

/* The step table, runbook order. */
static void
md_steps(struct buf *b, struct report_run *r, struct report_run *cmp)
{
	size_t i;

	buf_adds(b, "## Steps\n\n| Phase | Step | Type | State | Planned |"
	    " Actual | Waiting | Tries | Estimate | Flags |");
	if (cmp != NULL)
		buf_printf(b, " Run %lld | Difference |", (long long)cmp->info.id);
	buf_adds(b, "\n|---|---|---|---|---|---|---|---|---|---|");
	buf_adds(b, cmp != NULL ? "---|---|\n" : "\n");
	for (i = 0; i < r->nsteps; i++)
		md_step(b, r, i, cmp);
	buf_adds(b, "\nFlags: *critical* is on the critical path; *late* took"
	    " (or is taking) longer than planned.\n\n");
}

/* One step row. */
static void
md_step(struct buf *b, struct report_run *r, size_t i, struct report_run *cmp)
{
	struct report_step *s = &r->steps[i], *c;
	struct eta_step *e = &r->est[i];
	char d[64];

	buf_adds(b, "|");
	md_cell(b, s->def ? r->rb->phases[s->def->phase].id : "?");
	md_cell(b, s->row.id);
	md_cell(b, s->def ? step_type_name(s->def->type) : "?");
	md_cell(b, step_state_name(s->row.state));
	report_dur(e->planned, d, sizeof d);
	md_cell(b, d);
	report_dur(s->actual_ms, d, sizeof d);
	md_cell(b, d);
	report_dur(s->nwaits ? s->wait_ms : -1, d, sizeof d);
	md_cell(b, d);
	snprintf(d, sizeof d, "%d", s->row.attempts);
	md_cell(b, d);
	report_dur(e->estimate, d, sizeof d);
	buf_printf(b, " %s (%s) |", d, eta_source_name(e->source));
	snprintf(d, sizeof d, "%s%s%s", e->critical ? "critical" : "",
	    e->critical && e->late ? ", " : "", e->late ? "late" : "");
	md_cell(b, d);
	if (cmp != NULL) {
		c = report_find(cmp, s->row.id);
		report_dur(c ? c->actual_ms : -1, d, sizeof d);
		md_cell(b, d);
		if (c != NULL && c->actual_ms >= 0 && s->actual_ms >= 0)
			report_delta(s->actual_ms - c->actual_ms, d, sizeof d);
		else
			snprintf(d, sizeof d, "-");
		md_cell(b, d);
	}
	buf_adds(b, "\n");
}

/* Every attempt of every step. */
static void
md_attempts(struct buf *b, struct report_run *r)
{
	struct attempt_row *a;
	char d[32], ex[16];
	size_t i, k;

	buf_adds(b, "## Attempts\n\n| Step | # | Kind | State | Started |"
	    " Ended | Duration | Exit | Message |\n"
	    "|---|---|---|---|---|---|---|---|---|\n");
	for (i = 0; i < r->nsteps; i++) {
		for (k = 0; k < r->steps[i].natt; k++) {
			a = &r->steps[i].att[k];
			buf_adds(b, "|");
			md_cell(b, a->step);
			buf_printf(b, " %d |", a->n);
			md_cell(b, attempt_kind_name(a->kind));
			md_cell(b, a->state);
			md_cell(b, a->started_at);
			md_cell(b, a->ended_at);
			report_dur(a->duration_ms, d, sizeof d);
			md_cell(b, d);
			snprintf(ex, sizeof ex, "%d", a->exit_code);
			md_cell(b, a->exit_code >= 0 ? ex : NULL);
			md_cell(b, a->message);
			buf_adds(b, "\n");
		}
	}
	buf_adds(b, "\n");
}

/* Decisions, confirmations, skips: who and why. */
static void
md_acts(struct buf *b, struct report_run *r)
{
	struct report_act *a;
	size_t i;

	buf_adds(b, "## Decisions\n\n| At | Step | Operator | Action |"
	    " Outcome | Why |\n|---|---|---|---|---|---|\n");
	for (i = 0; i < r->nacts; i++) {
		a = &r->acts[i];
		buf_adds(b, "|");
		md_cell(b, a->at);
		md_cell(b, a->step);
		md_cell(b, a->operator);
		md_cell(b, a->action);
		md_cell(b, a->what);
		md_cell(b, a->why);
		buf_adds(b, "\n");
	}
	buf_adds(b, "\n");
}

/* Failed attempts with their messages, and steps failed now. */
static void
md_failures(struct buf *b, struct report_run *r)
{
	struct attempt_row *a;
	size_t i, k, n = 0;

	buf_adds(b, "## Failures\n\n");
	for (i = 0; i < r->nsteps; i++) {
		for (k = 0; k < r->steps[i].natt; k++) {
			a = &r->steps[i].att[k];
			if (strcmp(a->state, "succeeded") == 0 ||
			    strcmp(a->state, "running") == 0)
				continue;
			md_failure(b, a);
			n++;
		}
		if (r->steps[i].row.state == ST_FAILED && r->steps[i].natt == 0) {
			buf_adds(b, "- ");
			md_text(b, r->steps[i].row.id);
			buf_adds(b, " failed: ");
			md_text(b, r->steps[i].row.note ? r->steps[i].row.note
			                                : "?");
			buf_adds(b, "\n");
			n++;
		}
	}
	buf_adds(b, n == 0 ? "None.\n\n" : "\n");
}

/* One failed attempt: which, when, and its message. */
static void
md_failure(struct buf *b, const struct attempt_row *a)
{
	buf_adds(b, "- ");
	md_text(b, a->step);
	buf_printf(b, " attempt %d ", a->n);
	md_text(b, a->state);
	buf_adds(b, " at ");
	md_text(b, a->ended_at ? a->ended_at : "?");
	buf_adds(b, ": ");
	md_text(b, a->message ? a->message : "(no message)");
	buf_adds(b, "\n");
}

/* Reconcile results, for the steps that have one. */
static void
md_reconcile(struct buf *b, struct report_run *r)
{
	size_t i;
	int any = 0;

	for (i = 0; i < r->nsteps; i++) {
		if (r->steps[i].row.result == NULL)
			continue;
		if (!any)
			buf_adds(b, "## Reconciliation\n\n| Step | State |"
			    " Result |\n|---|---|---|\n");
		any = 1;
		buf_adds(b, "|");
		md_cell(b, r->steps[i].row.id);
		md_cell(b, step_state_name(r->steps[i].row.state));
		md_result(b, r->steps[i].row.result);
		buf_adds(b, "\n");
	}
	if (any)
		buf_adds(b, "\n");
}

/* The numbers of a reconcile result as "name value, ..." in a cell. */
static void
md_result(struct buf *b, const char *json)
{
	static const char *keys[] = { "source_rows", "dest_rows", "matched",
		"missing", "extra", "changed", "source_value", "dest_value",
		"difference", NULL };
	struct buf c = { 0 };
	char v[128];
	size_t k;

	for (k = 0; keys[k] != NULL; k++) {
		if (report_result_field(json, keys[k], v, sizeof v) != 0)
			continue;
		buf_printf(&c, "%s%s %s", c.len ? ", " : "", keys[k], v);
	}
	md_cell(b, c.len ? buf_str(&c) : json);
	buf_free(&c);
}
