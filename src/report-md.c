/*
 * report-md.c - the Markdown report, with the sections of the HTML one: a
 * header with the outcome (LIVE or REHEARSAL, start and end in local
 * time, the audit head), the go/no-go decisions, the summary with the
 * ETA, failures with the tail of their output and what was done about
 * them, rollbacks, reconcile results as tables, phases and steps (planned
 * against actual, compared with another run when asked), attempts and
 * every operator action.
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
#include "report-table.h"

#define MD_TAIL_LINES 20 /* of a failed attempt's output */
#define MD_TAIL_BYTES 4000

static void md_cell(struct buf *, const char *);
static void md_text(struct buf *, const char *);
static void md_failure(struct buf *, struct report_run *,
    struct report_step *, size_t);
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
static void md_rec_step(struct buf *, struct report_step *);
static void md_rec_item(const char *, const char *, void *);
static void md_rec_list(struct buf *, const char *, const char *,
    const char *, const char *);
static void md_gonogo(struct buf *, struct report_run *);
static void md_rollbacks(struct buf *, struct report_run *);
static void md_output(struct buf *, const struct attempt_row *);
static void md_header_times(struct buf *, struct report_run *);
static void md_entities(struct buf *, struct report_run *);
static void md_waves(struct buf *, struct report_run *);
static void md_evidence(struct buf *, struct report_run *);
static void md_evidence_cp(struct buf *, struct report_run *,
    struct report_step *);
static void md_table_head(struct buf *, const char *const *, size_t);
static void md_table_row_begin(struct buf *);
static void md_table_cell(struct buf *, const char *, int);
static void md_table_mark(struct buf *, const char *, const char *);
static void md_table_nl(struct buf *);
static void md_lanes_compare(struct buf *, struct report_run *,
    struct report_run *);

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

/* The Markdown table format (report-table.h). */
static void
md_table_head(struct buf *b, const char *const *heads, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		buf_printf(b, "| %s ", heads[i]);
	buf_adds(b, "|\n");
	for (i = 0; i < n; i++)
		buf_adds(b, "|---");
	buf_adds(b, "|\n");
}

static void
md_table_row_begin(struct buf *b)
{
	buf_addc(b, '|');
}

static void
md_table_cell(struct buf *b, const char *s, int num)
{
	(void)num;
	md_cell(b, s);
}

static void
md_table_mark(struct buf *b, const char *s, const char *cls)
{
	(void)cls;
	md_cell(b, s);
}

static void
md_table_nl(struct buf *b)
{
	buf_addc(b, '\n');
}

const struct report_table_fmt report_table_md = {
	.head = md_table_head,
	.row_begin = md_table_row_begin,
	.cell = md_table_cell,
	.mark = md_table_mark,
	.row_end = md_table_nl,
	.end = md_table_nl,
};

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
	md_gonogo(b, r);
	md_evidence(b, r);
	md_summary(b, r);
	md_waves(b, r);
	md_entities(b, r);
	md_failures(b, r);
	md_rollbacks(b, r);
	md_reconcile(b, r);
	md_phases(b, r, cmp);
	md_lanes_compare(b, r, cmp);
	md_steps(b, r, cmp);
	md_attempts(b, r);
	md_acts(b, r);
}

/* Title lines: which run, LIVE or REHEARSAL, how it ended, when, who. */
static void
md_header(struct buf *b, struct report_run *r, struct report_run *cmp)
{
	struct run_info *i = &r->info;
	char sel[256];

	buf_adds(b, "# ");
	md_text(b, r->rb->title ? r->rb->title : r->rb->name);
	buf_printf(b, ": run %lld %s\n\n", (long long)i->id,
	    r->live ? "*** LIVE ***" : "REHEARSAL");
	buf_printf(b, "%s: **%s**\n\n", r->live ? "**LIVE** cutover" :
	    "Rehearsal", report_outcome_words(report_outcome(r)));
	buf_adds(b, "- Runbook: ");
	md_text(b, r->rb->name);
	buf_printf(b, ", SHA-256 of its text (secrets redacted) %s\n",
	    r->text_sha);
	buf_printf(b, "- Run: %lld, %s, ", (long long)i->id,
	    r->live ? "LIVE" : "rehearsal");
	md_text(b, i->state);
	md_header_times(b, r);
	buf_adds(b, "\n- Opened by: ");
	md_text(b, i->operator ? i->operator : "?");
	if (r->lanes) {
		report_selection(i->selection, sel, sizeof sel);
		buf_printf(b, "\n- Entities: %zu (", r->nents);
		md_text(b, sel);
		buf_adds(b, ")");
	}
	buf_printf(b, "\n- Audit head: entry %lld, SHA-256 %s",
	    (long long)r->audit_id, r->audit_hash[0] ? r->audit_hash : "-");
	if (cmp != NULL) {
		buf_printf(b, "\n- Compared with: run %lld (%s, ",
		    (long long)cmp->info.id, cmp->live ? "LIVE" : "rehearsal");
		md_text(b, cmp->info.state);
		if (cmp->lanes) {
			report_selection(cmp->info.selection, sel, sizeof sel);
			buf_adds(b, ", ");
			md_text(b, sel);
		}
		buf_adds(b, ")");
	}
	buf_adds(b, "\n\n");
}

/* Start, end and duration, in local time. */
static void
md_header_times(struct buf *b, struct report_run *r)
{
	char t[96], d[48];

	report_local_time(r->start_ms, t, sizeof t);
	buf_printf(b, "\n- Started: %s", t);
	report_human(r->now_ms - r->start_ms, d, sizeof d);
	report_local_time(r->end_ms, t, sizeof t);
	if (r->end_ms >= 0)
		buf_printf(b, "\n- Ended: %s\n- Duration: %s", t, d);
	else
		buf_printf(b, "\n- Ended: not yet: open for %s", d);
}

/* The go/no-go decisions: checkpoint, decision, who, when, why. */
static void
md_gonogo(struct buf *b, struct report_run *r)
{
	buf_adds(b, "## Go/no-go decisions\n\n");
	if (!report_table_gonogo(b, &report_table_md, r))
		buf_adds(b, "None\n\n");
}

/* Elapsed, critical path against plan, ETA, waiting, late steps. */
static void
md_summary(struct buf *b, struct report_run *r)
{
	struct eta *e = &r->eta;
	char d[48], words[64], t[96];
	int64_t wait = 0;
	size_t i;

	for (i = 0; i < r->nsteps; i++)
		wait += r->steps[i].wait_ms;
	buf_adds(b, "## Summary\n\n| What | Value |\n|---|---|\n");
	report_local_time(r->start_ms, t, sizeof t);
	buf_printf(b, "| Started | %s |\n", t);
	report_human(r->now_ms - r->start_ms, d, sizeof d);
	buf_printf(b, "| Elapsed | %s |\n", d);
	report_human(e->path_ms, d, sizeof d);
	buf_printf(b, "| Critical path (estimate) | %s |\n", d);
	report_human(e->plan_ms, d, sizeof d);
	buf_printf(b, "| Critical path (plan) | %s |\n", d);
	report_human_plan(e, words, sizeof words);
	report_human_delta(e->delta_ms, d, sizeof d);
	if (e->planned)
		buf_printf(b, "| Against plan | %s (%s) |\n", words, d);
	else
		buf_printf(b, "| Against plan | %s |\n", words);
	report_local_time(e->finish, t, sizeof t);
	report_human(e->remaining, d, sizeof d);
	if (e->complete)
		buf_printf(b, "| Finished | %s |\n", t);
	else if (report_outcome(r) == OUTCOME_OPEN)
		buf_printf(b, "| ETA | %s (in %s) |\n", t, d);
	report_human(wait, d, sizeof d);
	buf_printf(b, "| Waiting for people | %s |\n", d);
	buf_printf(b, "| Late steps | %d |\n| Rollbacks | %zu |\n\n",
	    e->nlate, r->nrollbacks);
}

/* One row per phase: planned critical path, actual span. */
static void
md_phases(struct buf *b, struct report_run *r, struct report_run *cmp)
{
	buf_adds(b, "## Phases\n\n");
	report_table_phases(b, &report_table_md, r, cmp);
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
	report_human(e->planned, d, sizeof d);
	md_cell(b, d);
	report_human(s->actual_ms, d, sizeof d);
	md_cell(b, d);
	report_human(s->nwaits ? s->wait_ms : -1, d, sizeof d);
	md_cell(b, d);
	snprintf(d, sizeof d, "%d", s->row.attempts);
	md_cell(b, d);
	report_human(e->estimate, d, sizeof d);
	buf_printf(b, " %s (%s) |", d, eta_source_name(e->source));
	snprintf(d, sizeof d, "%s%s%s", e->critical ? "critical" : "",
	    e->critical && e->late ? ", " : "", e->late ? "late" : "");
	md_cell(b, d);
	if (cmp != NULL) {
		c = report_find(cmp, s->row.id);
		report_human(c ? c->actual_ms : -1, d, sizeof d);
		md_cell(b, d);
		if (c != NULL && c->actual_ms >= 0 && s->actual_ms >= 0)
			report_human_delta(s->actual_ms - c->actual_ms, d, sizeof d);
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
	char d[48], ex[16];
	size_t i, k;
	int any = 0;

	buf_adds(b, "## Attempts\n\n");
	for (i = 0; i < r->nsteps; i++) {
		for (k = 0; k < r->steps[i].natt; k++) {
			a = &r->steps[i].att[k];
			if (!any++)
				buf_adds(b, "| Step | # | Kind | State | Started |"
				    " Ended | Duration | Exit | Message |\n"
				    "|---|---|---|---|---|---|---|---|---|\n");
			buf_adds(b, "|");
			md_cell(b, a->step);
			buf_printf(b, " %d |", a->n);
			md_cell(b, attempt_kind_name(a->kind));
			md_cell(b, a->state);
			md_cell(b, a->started_at);
			md_cell(b, a->ended_at);
			report_human(a->duration_ms, d, sizeof d);
			md_cell(b, d);
			snprintf(ex, sizeof ex, "%d", a->exit_code);
			md_cell(b, a->exit_code >= 0 ? ex : NULL);
			md_cell(b, a->message);
			buf_adds(b, "\n");
		}
	}
	buf_adds(b, any ? "\n" : "None\n\n");
}

/* Decisions, confirmations, skips: who and why. */
static void
md_acts(struct buf *b, struct report_run *r)
{
	buf_adds(b, "## Operator actions\n\n");
	report_table_acts(b, &report_table_md, r);
	if (r->nacts == 0)
		buf_adds(b, "None\n\n");
}

/* Failed attempts: message, output, what was done; steps failed now. */
static void
md_failures(struct buf *b, struct report_run *r)
{
	struct report_step *s;
	size_t i, k, n = 0;

	buf_adds(b, "## Failures\n\n");
	for (i = 0; i < r->nsteps; i++) {
		s = &r->steps[i];
		for (k = 0; k < s->natt; k++) {
			if (strcmp(s->att[k].state, "succeeded") == 0 ||
			    strcmp(s->att[k].state, "running") == 0)
				continue;
			md_failure(b, r, s, k);
			n++;
		}
		if (s->row.state == ST_FAILED && s->natt == 0) {
			buf_adds(b, "- ");
			md_text(b, s->row.id);
			buf_adds(b, " failed: ");
			md_text(b, s->row.note ? s->row.note : "?");
			buf_adds(b, "\n\n");
			n++;
		}
	}
	buf_adds(b, n == 0 ? "None\n\n" : "");
}

/* One failed attempt: which, when, its message, output and follow-up. */
static void
md_failure(struct buf *b, struct report_run *r, struct report_step *s,
    size_t k)
{
	const struct attempt_row *a = &s->att[k];
	struct buf f = { 0 };
	char t[96], d[48];

	buf_adds(b, "### ");
	md_text(b, s->row.id);
	buf_printf(b, ": attempt %d (%s) ", a->n, attempt_kind_name(a->kind));
	md_text(b, a->state);
	report_local_time(report_parse_time(a->ended_at), t, sizeof t);
	report_human(a->duration_ms, d, sizeof d);
	buf_adds(b, "\n\n- ");
	md_text(b, s->row.id);
	buf_printf(b, " attempt %d ", a->n);
	md_text(b, a->state);
	buf_printf(b, " at %s after %s", t, d);
	if (a->exit_code >= 0)
		buf_printf(b, ", exit %d", a->exit_code);
	buf_adds(b, ": ");
	md_text(b, a->message ? a->message : "(no message)");
	report_followup(r, s, k, &f);
	buf_adds(b, "\n- What was done: ");
	md_text(b, buf_str(&f));
	buf_adds(b, "\n\n");
	buf_free(&f);
	md_output(b, a);
}

/* The last lines of an attempt's output, escaped, in a fence longer than
 * any run of backticks in them. */
static void
md_output(struct buf *b, const struct attempt_row *a)
{
	size_t from = report_tail(a, MD_TAIL_LINES, MD_TAIL_BYTES), i, run = 0,
	       most = 0;
	struct buf e = { 0 };

	if (from >= a->output_len)
		return;
	escape_buf(&e, a->output + from, a->output_len - from, ESCAPE_BLOCK);
	for (i = 0; i < e.len; i++) {
		run = e.data[i] == '`' ? run + 1 : 0;
		most = run > most ? run : most;
	}
	most = most < 3 ? 3 : most + 1;
	buf_adds(b, "Last lines of its output:\n\n");
	for (i = 0; i < most; i++)
		buf_addc(b, '`');
	buf_addc(b, '\n');
	buf_add(b, e.data, e.len);
	if (e.len > 0 && e.data[e.len - 1] != '\n')
		buf_addc(b, '\n');
	for (i = 0; i < most; i++)
		buf_addc(b, '`');
	buf_adds(b, "\n\n");
	buf_free(&e);
}

/* Rollbacks: who started them, to where, and each step undone. */
static void
md_rollbacks(struct buf *b, struct report_run *r)
{
	char t[96];

	buf_adds(b, "## Rollbacks\n\n");
	if (!report_table_rollback_acts(b, &report_table_md, r)) {
		buf_adds(b, "None\n\n");
		return;
	}
	report_local_time(r->rollback_done_ms, t, sizeof t);
	if (r->rollback_done_ms >= r->rollback_start_ms)
		buf_printf(b, "The last rollback finished at %s.\n\n", t);
	else
		buf_adds(b, "**The last rollback has not finished.**\n\n");
	report_table_rollback_steps(b, &report_table_md, r);
}

/* Reconcile results, for the steps that have one. */
static void
md_reconcile(struct buf *b, struct report_run *r)
{
	size_t i;
	int any = 0;

	buf_adds(b, "## Reconciliation\n\n");
	for (i = 0; i < r->nsteps; i++) {
		if (r->steps[i].row.result == NULL)
			continue;
		md_rec_step(b, &r->steps[i]);
		any = 1;
	}
	if (!any)
		buf_adds(b, "None\n\n");
}

/* One reconcile step: its verdict, its counts, columns and samples. */
static void
md_rec_step(struct buf *b, struct report_step *s)
{
	static const char *keys[] = { "source_rows", "dest_rows", "matched",
		"missing", "extra", "changed", "source_value", "dest_value",
		"difference" };
	const char *j = s->row.result;
	struct buf v = { 0 };
	char words[128];
	size_t k, n = 0;

	report_reconcile(s, words, sizeof words);
	buf_adds(b, "### ");
	md_text(b, s->row.id);
	buf_adds(b, "\n\n");
	md_text(b, words);
	buf_adds(b, " (");
	md_text(b, step_state_name(s->row.state));
	buf_adds(b, ")\n\n|");
	for (k = 0; k < sizeof keys / sizeof keys[0]; k++) {
		if (report_result_text(j, keys[k], &v) != 0)
			continue;
		buf_printf(b, " %s |", report_result_label(keys[k]));
		n++;
	}
	buf_adds(b, "\n|");
	while (n-- > 0)
		buf_adds(b, "---|");
	buf_adds(b, "\n|");
	for (k = 0; k < sizeof keys / sizeof keys[0]; k++)
		if (report_result_text(j, keys[k], &v) == 0)
			md_cell(b, buf_str(&v));
	buf_adds(b, "\n\n");
	buf_free(&v);
	md_rec_list(b, j, "changed_columns", NULL, "| Changed column | Rows |");
	md_rec_list(b, j, "samples", "missing", "| Sample keys missing "
	    "(in source, not in dest) |");
	md_rec_list(b, j, "samples", "extra", "| Sample keys extra (in dest, "
	    "not in source) |");
	md_rec_list(b, j, "samples", "changed", "| Sample keys changed |");
}

/* One entry of a result list as a table row. */
static void
md_rec_item(const char *name, const char *value, void *arg)
{
	struct buf *b = arg;

	buf_adds(b, "|");
	if (name != NULL)
		md_cell(b, name);
	md_cell(b, value);
	buf_adds(b, "\n");
}

/* A list of a result (changed columns, sample keys) as a table. */
static void
md_rec_list(struct buf *b, const char *json, const char *key,
    const char *sub, const char *head)
{
	struct buf rows = { 0 };

	if (report_result_each(json, key, sub, md_rec_item, &rows) > 0)
		buf_printf(b, "%s\n%s\n%s\n", head, sub == NULL ? "|---|---|"
		    : "|---|", buf_str(&rows));
	buf_free(&rows);
}

/* The evidence each checkpoint rests on, beside who decided what and
 * why. */
static void
md_evidence(struct buf *b, struct report_run *r)
{
	size_t i;
	int any = 0;

	for (i = 0; i < r->nsteps; i++) {
		if (!report_evidence_shown(&r->steps[i]))
			continue;
		if (!any++)
			buf_adds(b, "## Checkpoint evidence\n\n");
		md_evidence_cp(b, r, &r->steps[i]);
	}
}

/* One checkpoint: its state, its decisions, what they rest on. */
static void
md_evidence_cp(struct buf *b, struct report_run *r, struct report_step *cp)
{
	struct report_act *a;
	char **lines, t[96];
	size_t n = report_evidence_lines(r, cp, &lines), k;

	buf_adds(b, "### ");
	md_text(b, cp->row.id);
	buf_adds(b, " (");
	md_text(b, step_state_name(cp->row.state));
	buf_adds(b, ")\n\n");
	for (k = 0; k < r->nacts; k++) {
		a = &r->acts[k];
		if (!report_act_at(a, cp))
			continue;
		report_local_time(a->at_ms, t, sizeof t);
		if (strcmp(a->action, "decide") != 0) {
			buf_adds(b, "- ");
			md_text(b, a->what);
			buf_printf(b, " at %s: ", t);
			md_text(b, a->why ? a->why : "");
			buf_adds(b, "\n");
			continue;
		}
		buf_printf(b, "- **%s** by ", strcmp(a->what, "go") == 0 ? "GO"
		    : strcmp(a->what, "no-go") == 0 ? "NO-GO" : a->what);
		md_text(b, a->operator);
		buf_printf(b, " at %s", t);
		if (a->why != NULL) {
			buf_adds(b, ": ");
			md_text(b, a->why);
		}
		buf_adds(b, "\n");
	}
	buf_adds(b, n > 0 ? "\nRests on:\n\n" : "\nRests on: nothing "
	    "(no needs, no evidence listed)\n");
	for (k = 0; k < n; k++) {
		buf_adds(b, "- ");
		md_text(b, lines[k]);
		buf_adds(b, "\n");
	}
	buf_adds(b, "\n");
	report_lines_free(lines, n);
}

/* Per wave: its entities by state, failures, span, median and slowest
 * entity. */
static void
md_waves(struct buf *b, struct report_run *r)
{
	struct report_wave *w;
	char d[3][48];
	size_t k;

	if (!r->lanes)
		return;
	buf_adds(b, "## Waves\n\n| Wave | Entities | Done | Excluded | Active |"
	    " Failures | Span | Median entity | Slowest entity |\n"
	    "|---|---|---|---|---|---|---|---|---|\n");
	for (k = 0; k < r->nwaves; k++) {
		w = &r->waves[k];
		report_human(w->start_ms >= 0 && w->end_ms >= 0
		    ? w->end_ms - w->start_ms : -1, d[0], sizeof d[0]);
		report_human(w->median_ms, d[1], sizeof d[1]);
		report_human(w->worst_ms, d[2], sizeof d[2]);
		buf_adds(b, "|");
		md_cell(b, *w->name ? w->name : "(none)");
		buf_printf(b, " %zu | %zu | %zu | %zu | %d |", w->nents, w->ndone,
		    w->nexcluded, w->nactive, w->failures);
		md_cell(b, d[0]);
		md_cell(b, d[1]);
		buf_printf(b, " %s%s%s%s |", d[2], w->worst ? " (" : "",
		    w->worst ? w->worst : "", w->worst ? ")" : "");
		buf_adds(b, "\n");
	}
	if (r->nwaves == 0)
		buf_adds(b, "| - | 0 | 0 | 0 | 0 | 0 | - | - | - |\n");
	buf_adds(b, "\n");
}

/* The per-entity table. */
static void
md_entities(struct buf *b, struct report_run *r)
{
	if (!r->lanes)
		return;
	buf_adds(b, "## Entities\n\n");
	if (r->nents == 0)
		buf_adds(b, "None\n\n");
	report_table_entities(b, &report_table_md, r);
}

/* With --compare: each for_each step's median over entities and its
 * slowest entity in both runs, so one wave's times predict the next. */
static void
md_lanes_compare(struct buf *b, struct report_run *r, struct report_run *cmp)
{
	if (cmp == NULL || !r->lanes)
		return;
	buf_printf(b, "## Lanes compared with run %lld\n\nPer step of a "
	    "for_each phase, over the entities of each run (n: instances "
	    "that\nsucceeded).\n\n", (long long)cmp->info.id);
	report_table_lanes_compare(b, &report_table_md, r, cmp);
}
