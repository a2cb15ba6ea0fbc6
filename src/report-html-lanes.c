/*
 * report-html-lanes.c - the HTML report's sections on checkpoint
 * evidence (what each go rests on, beside who decided what and why),
 * waves, entities (state, duration, failures, exclusions with reasons)
 * and, with --compare, the lanes of two runs side by side (a step's median
 * over entities and its slowest entity in each).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report-html.h"
#include "report-table.h"

static void hl_checkpoint(struct buf *, struct report_run *,
    struct report_step *);
static void hl_decisions(struct buf *, struct report_run *,
    struct report_step *);

void
report_html_evidence(struct buf *b, struct report_run *r)
{
	size_t i;
	int any = 0;

	for (i = 0; i < r->nsteps; i++) {
		if (!report_evidence_shown(&r->steps[i]))
			continue;
		if (!any++)
			buf_adds(b, "<section class=\"evidence\">\n<h2>Checkpoint "
			    "evidence</h2>\n");
		hl_checkpoint(b, r, &r->steps[i]);
	}
	if (any)
		buf_adds(b, "</section>\n");
}

/* One checkpoint: the decisions, then what they rest on. */
static void
hl_checkpoint(struct buf *b, struct report_run *r, struct report_step *cp)
{
	char **lines;
	size_t n = report_evidence_lines(r, cp, &lines), k;

	buf_adds(b, "<h3>");
	report_html_text(b, cp->row.id);
	buf_adds(b, " (");
	report_html_text(b, step_state_name(cp->row.state));
	buf_adds(b, ")</h3>\n");
	hl_decisions(b, r, cp);
	if (n == 0)
		buf_adds(b, "<p>Rests on: nothing (no needs, no evidence "
		    "listed).</p>\n");
	else
		buf_adds(b, "<p>Rests on:</p>\n<ul>\n");
	for (k = 0; k < n; k++) {
		buf_adds(b, "<li>");
		report_html_text(b, lines[k]);
		buf_adds(b, "</li>\n");
	}
	if (n > 0)
		buf_adds(b, "</ul>\n");
	report_lines_free(lines, n);
}

/* Who decided what at checkpoint cp, when and why. */
static void
hl_decisions(struct buf *b, struct report_run *r, struct report_step *cp)
{
	struct report_act *a;
	char t[96];
	size_t k;
	int any = 0;

	for (k = 0; k < r->nacts; k++) {
		a = &r->acts[k];
		if (!report_act_at(a, cp))
			continue;
		buf_adds(b, any++ ? "<li>" : "<ul class=\"decisions\">\n<li>");
		report_local_time(a->at_ms, t, sizeof t);
		if (strcmp(a->action, "decide") != 0) {
			report_html_text(b, a->what);
			buf_printf(b, " at %s: ", t);
			report_html_text(b, a->why);
			buf_adds(b, "</li>\n");
			continue;
		}
		buf_printf(b, "<span class=\"%s\">%s</span> by ",
		    strcmp(a->what, "go") == 0 ? "go" : "nogo",
		    strcmp(a->what, "go") == 0 ? "GO" : strcmp(a->what,
		    "no-go") == 0 ? "NO-GO" : "?");
		report_html_text(b, a->operator);
		buf_printf(b, " at %s", t);
		if (a->why != NULL) {
			buf_adds(b, ": ");
			report_html_text(b, a->why);
		}
		buf_adds(b, "</li>\n");
	}
	if (any)
		buf_adds(b, "</ul>\n");
}

void
report_html_waves(struct buf *b, struct report_run *r)
{
	struct report_wave *w;
	char d[48];
	size_t k;

	if (!r->lanes)
		return;
	buf_adds(b, "<section>\n<h2>Waves</h2>\n<div class=\"scroll\"><table>\n"
	    "<tr><th>Wave</th><th>Entities</th><th>Done</th><th>Excluded</th>"
	    "<th>Active</th><th>Failures</th><th>Span</th><th>Median entity"
	    "</th><th>Slowest entity</th></tr>\n");
	for (k = 0; k < r->nwaves; k++) {
		w = &r->waves[k];
		buf_adds(b, "<tr>");
		report_html_cell(b, *w->name ? w->name : "(none)");
		buf_printf(b, "<td class=\"num\">%zu</td><td class=\"num\">%zu"
		    "</td><td class=\"num\">%zu</td><td class=\"num\">%zu</td>"
		    "<td class=\"num\">%d</td>", w->nents, w->ndone,
		    w->nexcluded, w->nactive, w->failures);
		report_human(w->start_ms >= 0 && w->end_ms >= 0
		    ? w->end_ms - w->start_ms : -1, d, sizeof d);
		report_html_ncell(b, d);
		report_human(w->median_ms, d, sizeof d);
		report_html_ncell(b, d);
		report_human(w->worst_ms, d, sizeof d);
		buf_printf(b, "<td>%s", d);
		if (w->worst != NULL) {
			buf_adds(b, " (");
			report_html_text(b, w->worst);
			buf_adds(b, ")");
		}
		buf_adds(b, "</td></tr>\n");
	}
	buf_adds(b, "</table></div>\n</section>\n");
}

void
report_html_entities(struct buf *b, struct report_run *r)
{
	if (!r->lanes)
		return;
	buf_adds(b, "<section>\n<h2>Entities</h2>\n");
	if (r->nents == 0)
		buf_adds(b, "<p class=\"none\">None</p>\n");
	report_table_entities(b, &report_table_html, r);
	buf_adds(b, "</section>\n");
}

void
report_html_lanes_compare(struct buf *b, struct report_run *r,
    struct report_run *cmp)
{
	if (cmp == NULL || !r->lanes)
		return;
	buf_printf(b, "<section>\n<h2>Lanes compared with run %lld</h2>\n<p>"
	    "Per step of a for_each phase, over the entities of each run: "
	    "the median (n: instances that succeeded) and the slowest "
	    "entity.</p>\n", (long long)cmp->info.id);
	report_table_lanes_compare(b, &report_table_html, r, cmp);
	buf_adds(b, "</section>\n");
}
