/*
 * report-html.c - the report as one self-contained page: inline CSS, an
 * inline SVG timeline (Gantt) of the run, and the tables of the Markdown
 * report. No scripts, fonts or images from anywhere else.
 *
 * The page is well-formed XHTML (it parses as XML) so that any tool can
 * read it. In the timeline each step is one row: its attempts are bars
 * coloured by their state, its waits for people are hatched bars, its
 * planned duration is a thin line under them, and the state is also
 * written as text at the end of the row: colour never carries meaning
 * alone. The critical path is drawn with a thick outline. With --compare,
 * each row has a second, thinner bar for the other run, both timelines
 * measured from their own run's start.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "duration.h"
#include "report.h"

#define SVG_W 1120
#define SVG_LABEL 210   /* step names */
#define SVG_X0 220      /* time zero */
#define SVG_X1 890      /* end of the time scale */
#define SVG_TEXT 900    /* state words */
#define SVG_TOP 34
#define SVG_LEGEND 84

struct gantt {
	struct buf *b;
	int64_t span;  /* ms the scale covers */
	int row_h;
	int y;
};

static void h_text(struct buf *, const char *);
static void h_cell(struct buf *, const char *);
static double g_x(const struct gantt *, int64_t);
static const char *g_fill(const char *);
static void h_head(struct buf *, struct report_run *, struct report_run *);
static void h_summary(struct buf *, struct report_run *);
static void h_svg(struct buf *, struct report_run *, struct report_run *);
static int64_t g_span(struct report_run *);
static void g_defs(struct buf *);
static void g_axis(struct gantt *, int);
static void g_row(struct gantt *, struct report_run *, size_t,
    struct report_run *);
static void g_bars(struct gantt *, struct report_run *, struct report_step *,
    int, int, int);
static void g_rect(struct gantt *, double, double, int, int, const char *,
    const char *, const char *);
static void g_legend(struct gantt *, int, struct report_run *);
static void h_tables(struct buf *, struct report_run *, struct report_run *);
static void h_steps(struct buf *, struct report_run *, struct report_run *);
static void h_step(struct buf *, struct report_run *, size_t,
    struct report_run *);
static void h_phases(struct buf *, struct report_run *, struct report_run *);
static void h_acts(struct buf *, struct report_run *);
static void h_reconcile(struct buf *, struct report_run *);
static void h_failures(struct buf *, struct report_run *);

static const char *h_style =
    "body{font-family:sans-serif;margin:1.5em;color:#111;background:#fff}"
    "h1{font-size:1.4em;margin:0}h2{font-size:1.15em;margin-top:1.4em}"
    ".banner{padding:.6em 1em;border:3px solid #1d4e89;background:#e8f0fa}"
    ".banner.live{border-color:#b00000;background:#ffe5e5}"
    ".tag{font-weight:bold;letter-spacing:.1em;margin-left:.6em}"
    ".live .tag{color:#b00000}"
    "table{border-collapse:collapse;margin:.5em 0;font-size:.9em}"
    "th,td{border:1px solid #999;padding:.2em .5em;text-align:left;"
    "vertical-align:top}th{background:#eee}"
    "td.num{text-align:right;font-variant-numeric:tabular-nums}"
    "svg{display:block;max-width:100%;height:auto}"
    "svg text{font-family:sans-serif;font-size:12px;fill:#111}"
    "svg .phase{font-weight:bold}svg .axis{fill:#444;font-size:11px}"
    "@media print{body{margin:0;color:#000;background:#fff}"
    ".banner,.banner.live{background:#fff;color:#000;border-color:#000}"
    ".live .tag{color:#000}th{background:#fff}svg text{fill:#000}"
    "*{-webkit-print-color-adjust:exact;print-color-adjust:exact}"
    "section{break-inside:avoid}}";

/* Text with the XML specials escaped. */
static void
h_text(struct buf *b, const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		switch (*s) {
		case '&':
			buf_adds(b, "&amp;");
			break;
		case '<':
			buf_adds(b, "&lt;");
			break;
		case '>':
			buf_adds(b, "&gt;");
			break;
		case '"':
			buf_adds(b, "&quot;");
			break;
		default:
			if ((unsigned char)*s >= 0x20 || *s == '\n' || *s == '\t')
				buf_addc(b, *s);
		}
	}
}

static void
h_cell(struct buf *b, const char *s)
{
	buf_adds(b, "<td>");
	h_text(b, s != NULL && *s != '\0' ? s : "-");
	buf_adds(b, "</td>");
}

/* The x of a time relative to its run's start. */
static double
g_x(const struct gantt *g, int64_t rel)
{
	if (rel < 0)
		rel = 0;
	return SVG_X0 + (double)rel * (SVG_X1 - SVG_X0) / (double)g->span;
}

/* The fill of a bar in an attempt state or step state. */
static const char *
g_fill(const char *state)
{
	static const struct {
		const char *state, *fill;
	} fills[] = {
		{ "succeeded", "#3a9d5d" }, { "failed", "#d1343a" },
		{ "running", "#2f6fd0" }, { "interrupted", "#e08a1e" },
		{ "skipped", "#a0a0a0" }, { "rolled_back", "#8a5cc2" },
		{ "rollback_failed", "#7a0d12" },
	};
	size_t i;

	for (i = 0; i < sizeof fills / sizeof fills[0]; i++)
		if (strcmp(state, fills[i].state) == 0)
			return fills[i].fill;
	return "#777777";
}

void
report_html(struct buf *b, struct report_run *r, struct report_run *cmp)
{
	buf_adds(b, "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/"
	    "xhtml\" lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n<title>");
	h_text(b, r->rb->name);
	buf_printf(b, " run %lld %s</title>\n<style>%s</style>\n</head>\n"
	    "<body>\n", (long long)r->info.id, r->live ? "LIVE" : "rehearsal",
	    h_style);
	h_head(b, r, cmp);
	h_summary(b, r);
	h_svg(b, r, cmp);
	h_tables(b, r, cmp);
	buf_adds(b, "</body>\n</html>\n");
}

/* The banner: LIVE or REHEARSAL, the run, when and who. */
static void
h_head(struct buf *b, struct report_run *r, struct report_run *cmp)
{
	buf_printf(b, "<header class=\"banner %s\">\n<h1>", r->live ? "live"
	                                                           : "rehearsal");
	h_text(b, r->rb->title ? r->rb->title : r->rb->name);
	buf_printf(b, ": run %lld <span class=\"tag\">%s</span></h1>\n<p>",
	    (long long)r->info.id, r->live ? "*** LIVE ***" : "REHEARSAL");
	h_text(b, r->rb->name);
	buf_adds(b, ", ");
	h_text(b, r->info.state);
	buf_adds(b, ", opened ");
	h_text(b, r->info.created_at);
	buf_adds(b, " by ");
	h_text(b, r->info.operator ? r->info.operator : "?");
	if (cmp != NULL)
		buf_printf(b, "; compared with run %lld (%s)",
		    (long long)cmp->info.id, cmp->live ? "LIVE" : "rehearsal");
	buf_adds(b, "</p>\n</header>\n");
}

/* Elapsed, critical path against plan and the ETA. */
static void
h_summary(struct buf *b, struct report_run *r)
{
	struct eta *e = &r->eta;
	char d[32], p[32], words[64], t[32];

	report_dur(r->now_ms - r->start_ms, d, sizeof d);
	buf_printf(b, "<section>\n<h2>Summary</h2>\n<table>\n"
	    "<tr><th>Elapsed</th><td class=\"num\">%s</td></tr>\n", d);
	report_dur(e->path_ms, d, sizeof d);
	report_dur(e->plan_ms, p, sizeof p);
	report_plan_words(e, words, sizeof words);
	buf_printf(b, "<tr><th>Critical path</th><td>%s estimated, %s planned:"
	    " %s</td></tr>\n", d, p, words);
	state_format_time(e->finish, t);
	report_dur(e->remaining, d, sizeof d);
	if (e->complete)
		buf_printf(b, "<tr><th>Finished</th><td>%s</td></tr>\n", t);
	else
		buf_printf(b, "<tr><th>ETA</th><td>%s (in %s)</td></tr>\n", t, d);
	buf_printf(b, "<tr><th>Late steps</th><td class=\"num\">%d</td></tr>\n"
	    "</table>\n</section>\n", e->nlate);
}

/* The timeline. */
static void
h_svg(struct buf *b, struct report_run *r, struct report_run *cmp)
{
	struct gantt g = { b, 1, cmp ? 34 : 24, SVG_TOP };
	int64_t span = g_span(r);
	size_t i, p;
	int rows = (int)(r->rb->nphases + r->nsteps), h;

	if (cmp != NULL && g_span(cmp) > span)
		span = g_span(cmp);
	g.span = span > 0 ? span : 1000;
	h = SVG_TOP + rows * g.row_h + SVG_LEGEND;
	buf_printf(b, "<section>\n<h2>Timeline</h2>\n<svg xmlns=\"http://www.w3"
	    ".org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
	    "role=\"img\" aria-label=\"Timeline of run %lld\">\n", SVG_W, h,
	    SVG_W, h, (long long)r->info.id);
	g_defs(b);
	g_axis(&g, h - SVG_LEGEND);
	for (p = 0; p < r->rb->nphases; p++) {
		buf_printf(b, "<text class=\"phase\" x=\"4\" y=\"%d\">", g.y +
		    g.row_h - 8);
		h_text(b, r->rb->phases[p].title ? r->rb->phases[p].title
		                                 : r->rb->phases[p].id);
		buf_adds(b, "</text>\n");
		g.y += g.row_h;
		for (i = 0; i < r->nsteps; i++)
			if (r->steps[i].def && r->steps[i].def->phase == p)
				g_row(&g, r, i, cmp);
	}
	for (i = 0; i < r->nsteps; i++)
		if (r->steps[i].def == NULL)
			g_row(&g, r, i, cmp);
	g_legend(&g, h - SVG_LEGEND + 14, cmp);
	buf_adds(b, "</svg>\n</section>\n");
}

/* The time a run's timeline must show: to now, the forecast end, and the
 * end of every planned line. */
static int64_t
g_span(struct report_run *r)
{
	int64_t span = r->now_ms - r->start_ms, t;
	size_t i;

	if (r->eta.finish - r->start_ms > span)
		span = r->eta.finish - r->start_ms;
	for (i = 0; i < r->nsteps; i++) {
		if (r->steps[i].start_ms < 0 || r->est[i].planned < 0)
			continue;
		t = r->steps[i].start_ms - r->start_ms + r->est[i].planned;
		if (t > span)
			span = t;
	}
	return span;
}

/* The hatch pattern of waiting bars. */
static void
g_defs(struct buf *b)
{
	buf_adds(b, "<defs><pattern id=\"wait\" width=\"6\" height=\"6\" "
	    "patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">"
	    "<rect width=\"6\" height=\"6\" fill=\"#fff4c2\"/>"
	    "<rect width=\"3\" height=\"6\" fill=\"#b8860b\"/></pattern></defs>\n");
}

/* Time ticks along the top, with light lines down the chart. */
static void
g_axis(struct gantt *g, int bottom)
{
	static const int64_t steps[] = { 1000, 5000, 10000, 30000, 60000,
		120000, 300000, 600000, 900000, 1800000, 3600000, 7200000,
		10800000, 21600000, 43200000, 86400000 };
	int64_t step = steps[0], t;
	char d[32];
	size_t i;
	double x;

	for (i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		step = steps[i];
		if (g->span / step <= 8)
			break;
	}
	for (t = 0; t <= g->span; t += step) {
		x = g_x(g, t);
		duration_format(t, d, sizeof d);
		buf_printf(g->b, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" "
		    "stroke=\"#ccc\" stroke-width=\"1\"/><text class=\"axis\" x=\""
		    "%.1f\" y=\"%d\">T+%s</text>\n", x, SVG_TOP - 4, x, bottom, x +
		    2, SVG_TOP - 10, d);
	}
}

/* One step: its name, its bars (and the compared run's), its state. */
static void
g_row(struct gantt *g, struct report_run *r, size_t i, struct report_run *cmp)
{
	struct report_step *s = &r->steps[i], *c;
	struct eta_step *e = &r->est[i];
	int bar = cmp ? 14 : 16;
	char d[32];

	buf_printf(g->b, "<g><title>");
	h_text(g->b, s->row.id);
	buf_adds(g->b, ": ");
	h_text(g->b, step_state_name(s->row.state));
	buf_printf(g->b, "</title>\n<text x=\"14\" y=\"%d\">", g->y + bar - 3);
	h_text(g->b, s->row.id);
	buf_adds(g->b, "</text>\n");
	g_bars(g, r, s, g->y + 2, bar, 0);
	if (e->planned >= 0 && s->start_ms >= 0)
		g_rect(g, g_x(g, s->start_ms - r->start_ms), g_x(g, s->start_ms -
		    r->start_ms + e->planned), g->y + bar + 3, 2, "#222", NULL,
		    NULL);
	report_dur(s->actual_ms >= 0 ? s->actual_ms : e->elapsed, d, sizeof d);
	buf_printf(g->b, "<text x=\"%d\" y=\"%d\">", SVG_TEXT, g->y + bar - 3);
	h_text(g->b, step_state_name(s->row.state));
	buf_printf(g->b, " %s%s%s</text>\n", strcmp(d, "-") ? d : "",
	    e->critical ? " [critical]" : "", e->late ? " [late]" : "");
	if (cmp != NULL && (c = report_find(cmp, s->row.id)) != NULL) {
		buf_adds(g->b, "<g opacity=\"0.6\">\n");
		g_bars(g, cmp, c, g->y + bar + 7, 9, 1);
		buf_adds(g->b, "</g>\n");
		report_dur(c->actual_ms, d, sizeof d);
		buf_printf(g->b, "<text x=\"%d\" y=\"%d\" class=\"axis\">run %lld: "
		    "%s %s</text>\n", SVG_TEXT, g->y + bar + 15,
		    (long long)cmp->info.id, step_state_name(c->row.state), d);
	}
	buf_adds(g->b, "</g>\n");
	g->y += g->row_h;
}

/* A step's attempts, waits and (unless other, a compared run) critical
 * outline at y, h high. */
static void
g_bars(struct gantt *g, struct report_run *r, struct report_step *s, int y,
    int h, int other)
{
	struct attempt_row *a;
	int64_t st, en;
	size_t k;

	for (k = 0; k < s->nwaits; k++) {
		en = s->waits[k].end >= 0 ? s->waits[k].end : r->now_ms;
		g_rect(g, g_x(g, s->waits[k].start - r->start_ms),
		    g_x(g, en - r->start_ms), y, h, "url(#wait)", "#7a5a00",
		    "waiting");
	}
	for (k = 0; k < s->natt; k++) {
		a = &s->att[k];
		st = report_parse_time(a->started_at);
		en = a->ended_at ? report_parse_time(a->ended_at) : r->now_ms;
		g_rect(g, g_x(g, st - r->start_ms), g_x(g, en - r->start_ms), y,
		    h, g_fill(a->state), NULL, a->state);
	}
	if (s->natt == 0 && s->nwaits == 0 && s->end_ms >= 0)
		g_rect(g, g_x(g, s->end_ms - r->start_ms), g_x(g, s->end_ms -
		    r->start_ms), y, h, g_fill(step_state_name(s->row.state)),
		    NULL, step_state_name(s->row.state));
	if (!other && r->est[s - r->steps].critical && s->start_ms >= 0)
		buf_printf(g->b, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" "
		    "height=\"%d\" fill=\"none\" stroke=\"#000\" stroke-width="
		    "\"3\"/>\n", g_x(g, s->start_ms - r->start_ms) - 1.5, y - 2,
		    g_x(g, (s->end_ms >= 0 ? s->end_ms : r->now_ms) -
		        r->start_ms) - g_x(g, s->start_ms - r->start_ms) + 3,
		    h + 4);
}

/* A bar from x1 to x2 (at least 2 px wide), with a tooltip. */
static void
g_rect(struct gantt *g, double x1, double x2, int y, int h, const char *fill,
    const char *stroke, const char *tip)
{
	buf_printf(g->b, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\""
	    " fill=\"%s\"", x1, y, x2 - x1 < 2 ? 2 : x2 - x1, h, fill);
	if (stroke != NULL)
		buf_printf(g->b, " stroke=\"%s\" stroke-width=\"1\"", stroke);
	if (tip == NULL) {
		buf_adds(g->b, "/>\n");
		return;
	}
	buf_adds(g->b, "><title>");
	h_text(g->b, tip);
	buf_adds(g->b, "</title></rect>\n");
}

/* What the bars and outlines mean. */
static void
g_legend(struct gantt *g, int y, struct report_run *cmp)
{
	static const char *states[] = { "succeeded", "failed", "running",
		"interrupted", "skipped", "rolled_back" };
	size_t i;
	int x = 14;

	for (i = 0; i < sizeof states / sizeof states[0]; i++, x += 120) {
		g_rect(g, x, x + 16, y, 12, g_fill(states[i]), NULL, NULL);
		buf_printf(g->b, "<text x=\"%d\" y=\"%d\">%s</text>\n", x + 22,
		    y + 11, states[i]);
	}
	x = 14;
	y += 24;
	g_rect(g, x, x + 16, y, 12, "url(#wait)", "#7a5a00", NULL);
	buf_printf(g->b, "<text x=\"%d\" y=\"%d\">waiting for a person</text>\n"
	    "<rect x=\"%d\" y=\"%d\" width=\"16\" height=\"12\" fill=\"none\" "
	    "stroke=\"#000\" stroke-width=\"3\"/><text x=\"%d\" y=\"%d\">critical"
	    " path [critical]</text>\n", x + 22, y + 11, x + 180, y, x + 202,
	    y + 11);
	g_rect(g, x + 400, x + 416, y + 8, 2, "#222", NULL, NULL);
	buf_printf(g->b, "<text x=\"%d\" y=\"%d\">planned duration</text>\n",
	    x + 422, y + 11);
	if (cmp != NULL)
		buf_printf(g->b, "<text x=\"%d\" y=\"%d\">thin pale bar: run "
		    "%lld, from its own start</text>\n", x + 580, y + 11,
		    (long long)cmp->info.id);
}

/* The tables of the Markdown report. */
static void
h_tables(struct buf *b, struct report_run *r, struct report_run *cmp)
{
	h_phases(b, r, cmp);
	h_steps(b, r, cmp);
	h_acts(b, r);
	h_failures(b, r);
	h_reconcile(b, r);
}

/* Phases: planned critical path, actual span (and the compared run's). */
static void
h_phases(struct buf *b, struct report_run *r, struct report_run *cmp)
{
	char c[4][32];
	size_t p, i;

	buf_adds(b, "<section>\n<h2>Phases</h2>\n<table>\n<tr><th>Phase</th>"
	    "<th>Planned</th><th>Actual</th>");
	if (cmp != NULL)
		buf_printf(b, "<th>Run %lld</th><th>Difference</th>",
		    (long long)cmp->info.id);
	buf_adds(b, "</tr>\n");
	for (p = 0; p < r->rb->nphases; p++) {
		report_phase_cells(r, cmp, p, c);
		buf_adds(b, "<tr>");
		h_cell(b, r->rb->phases[p].id);
		for (i = 0; i < (cmp != NULL ? 4 : 2); i++)
			h_cell(b, c[i]);
		buf_adds(b, "</tr>\n");
	}
	buf_adds(b, "</table>\n</section>\n");
}

/* Reconcile results as stored (JSON text), for the steps that have one. */
static void
h_reconcile(struct buf *b, struct report_run *r)
{
	size_t i;
	int any = 0;

	for (i = 0; i < r->nsteps; i++) {
		if (r->steps[i].row.result == NULL)
			continue;
		if (!any)
			buf_adds(b, "<section>\n<h2>Reconciliation</h2>\n<table>\n"
			    "<tr><th>Step</th><th>State</th><th>Result</th></tr>\n");
		any = 1;
		buf_adds(b, "<tr>");
		h_cell(b, r->steps[i].row.id);
		h_cell(b, step_state_name(r->steps[i].row.state));
		buf_adds(b, "<td><code>");
		h_text(b, r->steps[i].row.result);
		buf_adds(b, "</code></td></tr>\n");
	}
	if (any)
		buf_adds(b, "</table>\n</section>\n");
}

/* Steps, planned against actual (and against the compared run). */
static void
h_steps(struct buf *b, struct report_run *r, struct report_run *cmp)
{
	size_t i;

	buf_adds(b, "<section>\n<h2>Steps</h2>\n<table>\n<tr><th>Step</th>"
	    "<th>State</th><th>Planned</th><th>Actual</th><th>Waiting</th>"
	    "<th>Tries</th><th>Estimate</th><th>Flags</th>");
	if (cmp != NULL)
		buf_printf(b, "<th>Run %lld</th><th>Difference</th>",
		    (long long)cmp->info.id);
	buf_adds(b, "</tr>\n");
	for (i = 0; i < r->nsteps; i++)
		h_step(b, r, i, cmp);
	buf_adds(b, "</table>\n</section>\n");
}

/* One row of the steps table. */
static void
h_step(struct buf *b, struct report_run *r, size_t i, struct report_run *cmp)
{
	struct report_step *s = &r->steps[i], *c;
	struct eta_step *e = &r->est[i];
	char d[64];

	buf_adds(b, "<tr>");
	h_cell(b, s->row.id);
	h_cell(b, step_state_name(s->row.state));
	report_dur(e->planned, d, sizeof d);
	h_cell(b, d);
	report_dur(s->actual_ms, d, sizeof d);
	h_cell(b, d);
	report_dur(s->nwaits ? s->wait_ms : -1, d, sizeof d);
	h_cell(b, d);
	buf_printf(b, "<td class=\"num\">%d</td>", s->row.attempts);
	report_dur(e->estimate, d, sizeof d);
	buf_printf(b, "<td>%s (%s)</td>", d, eta_source_name(e->source));
	snprintf(d, sizeof d, "%s%s%s", e->critical ? "critical" : "",
	    e->critical && e->late ? ", " : "", e->late ? "late" : "");
	h_cell(b, d);
	if (cmp != NULL) {
		c = report_find(cmp, s->row.id);
		report_dur(c ? c->actual_ms : -1, d, sizeof d);
		h_cell(b, d);
		if (c && c->actual_ms >= 0 && s->actual_ms >= 0)
			report_delta(s->actual_ms - c->actual_ms, d, sizeof d);
		else
			snprintf(d, sizeof d, "-");
		h_cell(b, d);
	}
	buf_adds(b, "</tr>\n");
}

/* Decisions and confirmations: who and why. */
static void
h_acts(struct buf *b, struct report_run *r)
{
	size_t i;

	buf_adds(b, "<section>\n<h2>Decisions</h2>\n<table>\n<tr><th>At</th>"
	    "<th>Step</th><th>Operator</th><th>Action</th><th>Outcome</th>"
	    "<th>Why</th></tr>\n");
	for (i = 0; i < r->nacts; i++) {
		buf_adds(b, "<tr>");
		h_cell(b, r->acts[i].at);
		h_cell(b, r->acts[i].step);
		h_cell(b, r->acts[i].operator);
		h_cell(b, r->acts[i].action);
		h_cell(b, r->acts[i].what);
		h_cell(b, r->acts[i].why);
		buf_adds(b, "</tr>\n");
	}
	buf_adds(b, "</table>\n</section>\n");
}

/* Attempts that did not succeed, with their messages. */
static void
h_failures(struct buf *b, struct report_run *r)
{
	struct attempt_row *a;
	size_t i, k;

	buf_adds(b, "<section>\n<h2>Failures</h2>\n<ul>\n");
	for (i = 0; i < r->nsteps; i++) {
		for (k = 0; k < r->steps[i].natt; k++) {
			a = &r->steps[i].att[k];
			if (strcmp(a->state, "succeeded") == 0 ||
			    strcmp(a->state, "running") == 0)
				continue;
			buf_adds(b, "<li>");
			h_text(b, a->step);
			buf_printf(b, " attempt %d ", a->n);
			h_text(b, a->state);
			buf_adds(b, ": ");
			h_text(b, a->message ? a->message : "(no message)");
			buf_adds(b, "</li>\n");
		}
	}
	buf_adds(b, "</ul>\n</section>\n");
}
