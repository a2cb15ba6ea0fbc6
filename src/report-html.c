/*
 * report-html.c - the report as one self-contained page, the document a
 * cutover night ends with: a banner with the outcome (complete, rolled
 * back, aborted or open; LIVE or REHEARSAL; start and end in local time),
 * the go/no-go decisions with names and reasons, the failures with the
 * tail of their output and what was done about them, the rollbacks, the
 * reconciliation results as tables, an inline SVG timeline (Gantt), the
 * phases, steps and every operator action, and the head of the audit
 * trail. Inline CSS for screens from a phone up and for A4 paper; no
 * scripts, fonts or images from anywhere else.
 *
 * The page is well-formed XHTML (it parses as XML) so that any tool can
 * read it. Text from the state file (output, database rows, notes) is
 * escaped as escape.h says, then as XML: control characters and bidi
 * overrides show as \e, \u202e, ..., never raw. In the timeline each step
 * is one row: its attempts are bars coloured by their state, its waits for
 * people are hatched bars, its planned duration is a thin line under
 * them, and the state is also written as text at the end of the row:
 * colour never carries meaning alone. The critical path is drawn with a
 * thick outline. With --compare, each row has a second, thinner bar for
 * the other run, both timelines measured from their own run's start.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duration.h"
#include "escape.h"
#include "report-html.h"
#include "report-table.h"

#define SVG_W 1120
#define SVG_LABEL 210   /* step names */
#define SVG_X0 220      /* time zero */
#define SVG_X1 890      /* end of the time scale */
#define SVG_TEXT 900    /* state words */
#define SVG_TOP 34
#define SVG_LEGEND 84
#define LANE_H 18       /* a lane's row: one entity of a for_each phase */
#define LANE_BAR 12
#define TAIL_LINES 20   /* of a failed attempt's output */
#define TAIL_BYTES 4000

struct gantt {
	struct buf *b;
	int64_t span;  /* ms the scale covers */
	int row_h;
	int y;
};

static void h_text(struct buf *, const char *);
static void h_textn(struct buf *, const char *, size_t);
static void h_cell(struct buf *, const char *);
static void h_ncell(struct buf *, const char *);
static void h_table_head(struct buf *, const char *const *, size_t);
static void h_table_row_begin(struct buf *);
static void h_table_cell(struct buf *, const char *, int);
static void h_table_mark(struct buf *, const char *, const char *);
static void h_table_row_end(struct buf *);
static void h_table_end(struct buf *);
static void h_none(struct buf *, int);
static double g_x(const struct gantt *, int64_t);
static const char *g_fill(const char *);
static void h_head(struct buf *, struct report_run *, struct report_run *);
static void h_head_facts(struct buf *, struct report_run *);
static void h_summary(struct buf *, struct report_run *);
static void h_svg(struct buf *, struct report_run *, struct report_run *);
static int64_t g_span(struct report_run *);
static void g_defs(struct buf *);
static void g_axis(struct gantt *, int);
static void h_short(struct buf *, const char *, size_t);
static int g_height(struct report_run *, int);
static int g_lane_in(struct report_run *, size_t, size_t);
static void g_lanes(struct gantt *, struct report_run *, size_t);
static void g_lane(struct gantt *, struct report_run *, size_t, size_t);
static void g_row(struct gantt *, struct report_run *, size_t,
    struct report_run *);
static void g_bars(struct gantt *, struct report_run *, struct report_step *,
    int, int, int);
static void g_rect(struct gantt *, double, double, int, int, const char *,
    const char *, const char *);
static void g_legend(struct gantt *, int, struct report_run *);
static void h_gonogo(struct buf *, struct report_run *);
static void h_steps(struct buf *, struct report_run *, struct report_run *);
static void h_step(struct buf *, struct report_run *, size_t,
    struct report_run *);
static void h_phases(struct buf *, struct report_run *, struct report_run *);
static void h_acts(struct buf *, struct report_run *);
static void h_reconcile(struct buf *, struct report_run *);
static void h_rec_step(struct buf *, struct report_step *);
static void h_rec_item(const char *, const char *, void *);
static void h_rec_list(struct buf *, const char *, const char *,
    const char *);
static void h_failures(struct buf *, struct report_run *);
static void h_failure(struct buf *, struct report_run *,
    struct report_step *, size_t);
static void h_rollbacks(struct buf *, struct report_run *);
static void h_audit(struct buf *, struct report_run *);

static const char *h_style =
    "body{font-family:sans-serif;margin:1.5em auto;padding:0 1em;"
    "max-width:72em;color:#111;background:#fff;line-height:1.35}"
    "h1{font-size:1.35em;margin:.2em 0}h2{font-size:1.15em;margin:1.4em 0 "
    ".4em;border-bottom:1px solid #999}h3{font-size:1em;margin:1em 0 .3em}"
    ".banner{padding:.7em 1em;border:3px solid #1d4e89;background:#e8f0fa}"
    ".banner.live{border-color:#b00000;background:#ffe5e5}"
    ".mode{display:inline-block;font-weight:bold;letter-spacing:.08em;"
    "padding:.1em .5em;border:2px solid #1d4e89;color:#1d4e89;"
    "margin-right:.5em}"
    ".live .mode{border-color:#b00000;color:#fff;background:#b00000}"
    ".outcome{font-size:1.5em;font-weight:bold;margin:.2em 0}"
    ".o-complete{color:#1f6b3a}.o-rolled-back,.o-rolling-back{color:#6a3d9a}"
    ".o-aborted{color:#8a1c1c}.o-open{color:#1d4e89}"
    ".facts{margin:.4em 0 0;display:grid;grid-template-columns:max-content "
    "1fr;gap:.1em .8em}.facts dt{font-weight:bold}.facts dd{margin:0;"
    "overflow-wrap:anywhere}"
    ".scroll{overflow-x:auto;max-width:100%}"
    "table{border-collapse:collapse;margin:.4em 0;font-size:.9em}"
    "th,td{border:1px solid #999;padding:.2em .5em;text-align:left;"
    "vertical-align:top;overflow-wrap:break-word}th{background:#eee}"
    "td.num{text-align:right;font-variant-numeric:tabular-nums}"
    ".go{color:#1f6b3a;font-weight:bold}.nogo{color:#b00000;font-weight:bold}"
    ".none{color:#555;font-style:italic}"
    ".verdict{font-weight:bold}.v-clean{color:#1f6b3a}"
    ".v-tolerated{color:#8a5a00}.v-failed{color:#b00000}"
    ".failure{border-left:4px solid #d1343a;padding:.1em .8em;margin:.8em 0}"
    "pre{background:#f5f5f5;border:1px solid #ccc;padding:.4em;"
    "font-size:.85em;white-space:pre-wrap;overflow-wrap:anywhere;margin:.3em 0}"
    "code,.hash{font-family:monospace;word-break:break-all}"
    "svg{display:block;max-width:100%;height:auto}"
    "svg text{font-family:sans-serif;font-size:12px;fill:#111}"
    "svg .phase{font-weight:bold}svg .axis{fill:#444;font-size:11px}"
    "svg .wave{font-style:italic;fill:#1d4e89}svg .e-excluded{fill:#8a1c1c}"
    ".e-excluded{color:#8a1c1c;font-weight:bold}.e-done{color:#1f6b3a}"
    ".evidence ul{margin:.2em 0 .6em}"
    "footer{margin-top:2em;font-size:.85em;color:#333}"
    "@media (max-width:40em){body{margin:.5em auto;padding:0 .5em}"
    ".outcome{font-size:1.25em}.facts{grid-template-columns:1fr}"
    ".facts dd{margin-bottom:.3em}table{font-size:.8em}"
    "th,td{padding:.15em .3em}}"
    "@page{size:A4;margin:14mm 12mm}"
    "@media print{body{margin:0;padding:0;max-width:none;font-size:9.5pt;"
    "color:#000}"
    ".banner,.banner.live{background:#fff;border-color:#000}"
    ".live .mode{background:#000;color:#fff;border-color:#000}"
    "th{background:#eee}svg text{fill:#000}.scroll{overflow:visible}"
    "table{width:100%}h2,h3{break-after:avoid}"
    "tr,pre,.banner,.failure,dl{break-inside:avoid}"
    "section.timeline{break-before:page}"
    "*{-webkit-print-color-adjust:exact;print-color-adjust:exact}}";

/* len bytes of s, escaped for a terminal (escape.h), then for XML. */
static void
h_textn(struct buf *b, const char *s, size_t len)
{
	struct buf e = { 0 };
	size_t i;

	escape_buf(&e, s, len, ESCAPE_BLOCK);
	for (i = 0; i < e.len; i++) {
		switch (e.data[i]) {
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
			buf_addc(b, e.data[i]);
		}
	}
	buf_free(&e);
}

/* A string, escaped (NULL appends nothing). */
static void
h_text(struct buf *b, const char *s)
{
	if (s != NULL)
		h_textn(b, s, strlen(s));
}

/* At most max bytes of s (cut at a character), "…" when cut. */
static void
h_short(struct buf *b, const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n <= max) {
		h_textn(b, s, n);
		return;
	}
	n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	h_textn(b, s, n);
	buf_adds(b, "…");
}

void
report_html_text(struct buf *b, const char *s)
{
	h_text(b, s);
}

void
report_html_cell(struct buf *b, const char *s)
{
	h_cell(b, s);
}

void
report_html_ncell(struct buf *b, const char *s)
{
	h_ncell(b, s);
}

static void
h_cell(struct buf *b, const char *s)
{
	buf_adds(b, "<td>");
	h_text(b, s != NULL && *s != '\0' ? s : "-");
	buf_adds(b, "</td>");
}

/* A number's cell, right-aligned. */
static void
h_ncell(struct buf *b, const char *s)
{
	buf_adds(b, "<td class=\"num\">");
	h_text(b, s != NULL && *s != '\0' ? s : "-");
	buf_adds(b, "</td>");
}

/* The HTML table format (report-table.h). */
static void
h_table_head(struct buf *b, const char *const *heads, size_t n)
{
	size_t i;

	buf_adds(b, "<div class=\"scroll\"><table>\n<tr>");
	for (i = 0; i < n; i++) {
		buf_adds(b, "<th>");
		h_text(b, heads[i]);
		buf_adds(b, "</th>");
	}
	buf_adds(b, "</tr>\n");
}

static void
h_table_row_begin(struct buf *b)
{
	buf_adds(b, "<tr>");
}

static void
h_table_cell(struct buf *b, const char *s, int num)
{
	if (num)
		h_ncell(b, s);
	else
		h_cell(b, s);
}

static void
h_table_mark(struct buf *b, const char *s, const char *cls)
{
	buf_printf(b, "<td class=\"%s\">", cls);
	h_text(b, s != NULL && *s != '\0' ? s : "-");
	buf_adds(b, "</td>");
}

static void
h_table_row_end(struct buf *b)
{
	buf_adds(b, "</tr>\n");
}

static void
h_table_end(struct buf *b)
{
	buf_adds(b, "</table></div>\n");
}

const struct report_table_fmt report_table_html = {
	.head = h_table_head,
	.row_begin = h_table_row_begin,
	.cell = h_table_cell,
	.mark = h_table_mark,
	.row_end = h_table_row_end,
	.end = h_table_end,
};

/* "None" under a section with nothing in it. */
static void
h_none(struct buf *b, int any)
{
	if (!any)
		buf_adds(b, "<p class=\"none\">None</p>\n");
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
		{ "rollback_failed", "#7a0d12" }, { "excluded", "#c9c9c9" },
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
	    "xhtml\" lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
	    "<meta name=\"viewport\" content=\"width=device-width, "
	    "initial-scale=1\"/>\n<title>");
	h_text(b, r->rb->name);
	buf_printf(b, " run %lld %s: %s</title>\n<style>%s</style>\n</head>\n"
	    "<body>\n", (long long)r->info.id, r->live ? "LIVE" : "rehearsal",
	    report_outcome_words(report_outcome(r)), h_style);
	h_head(b, r, cmp);
	h_gonogo(b, r);
	report_html_evidence(b, r);
	h_summary(b, r);
	report_html_waves(b, r);
	report_html_entities(b, r);
	h_failures(b, r);
	h_rollbacks(b, r);
	h_reconcile(b, r);
	h_svg(b, r, cmp);
	h_phases(b, r, cmp);
	report_html_lanes_compare(b, r, cmp);
	h_steps(b, r, cmp);
	h_acts(b, r);
	h_audit(b, r);
	buf_adds(b, "</body>\n</html>\n");
}

/* The banner: LIVE or REHEARSAL, the outcome, the run, when and who. */
static void
h_head(struct buf *b, struct report_run *r, struct report_run *cmp)
{
	static const char *cls[] = { "open", "complete", "rolled-back",
		"rolling-back", "aborted" };
	enum report_outcome o = report_outcome(r);
	char sel[256];

	buf_printf(b, "<header class=\"banner %s\">\n<h1><span class=\"mode\">"
	    "%s</span>", r->live ? "live" : "rehearsal",
	    r->live ? "LIVE" : "REHEARSAL");
	h_text(b, r->rb->title ? r->rb->title : r->rb->name);
	buf_printf(b, ": run %lld</h1>\n<p class=\"outcome o-%s\">%s %s</p>\n",
	    (long long)r->info.id, cls[o], r->live ? "Live cutover" :
	    "Rehearsal", report_outcome_words(o));
	h_head_facts(b, r);
	if (cmp != NULL) {
		buf_printf(b, "<p>Compared with run %lld (%s, %s", (long long)
		    cmp->info.id, cmp->live ? "LIVE" : "rehearsal",
		    cmp->info.state);
		if (cmp->lanes) {
			report_selection(cmp->info.selection, sel, sizeof sel);
			buf_adds(b, ", ");
			h_text(b, sel);
		}
		buf_adds(b, ").</p>\n");
	}
	buf_adds(b, "</header>\n");
}

/* The banner's facts: start, end, duration, who, runbook, audit head. */
static void
h_head_facts(struct buf *b, struct report_run *r)
{
	char t[96], d[48], sel[256];

	report_local_time(r->start_ms, t, sizeof t);
	buf_printf(b, "<dl class=\"facts\">\n<dt>Started</dt><dd>%s</dd>\n", t);
	report_local_time(r->end_ms, t, sizeof t);
	report_human(r->now_ms - r->start_ms, d, sizeof d);
	if (r->end_ms >= 0)
		buf_printf(b, "<dt>Ended</dt><dd>%s</dd>\n<dt>Duration</dt>"
		    "<dd>%s</dd>\n", t, d);
	else
		buf_printf(b, "<dt>Ended</dt><dd>not yet: open for %s</dd>\n", d);
	buf_adds(b, "<dt>Opened by</dt><dd>");
	h_text(b, r->info.operator ? r->info.operator : "?");
	if (r->lanes) {
		report_selection(r->info.selection, sel, sizeof sel);
		buf_printf(b, "</dd>\n<dt>Entities</dt><dd>%zu (", r->nents);
		h_text(b, sel);
		buf_adds(b, ")");
	}
	buf_adds(b, "</dd>\n<dt>Runbook</dt><dd>");
	h_text(b, r->rb->name);
	buf_printf(b, ", SHA-256 of its text (secrets redacted) <span class="
	    "\"hash\">%s</span></dd>\n", r->text_sha);
	buf_printf(b, "<dt>Audit head</dt><dd>entry %lld, SHA-256 <span class="
	    "\"hash\">%s</span></dd>\n</dl>\n", (long long)r->audit_id,
	    r->audit_hash[0] ? r->audit_hash : "-");
}

/* Elapsed, critical path against plan and the ETA. */
static void
h_summary(struct buf *b, struct report_run *r)
{
	struct eta *e = &r->eta;
	char d[48], p[48], words[64], t[96];
	int64_t wait = 0;
	size_t i;

	for (i = 0; i < r->nsteps; i++)
		wait += r->steps[i].wait_ms;
	report_human(r->now_ms - r->start_ms, d, sizeof d);
	buf_printf(b, "<section>\n<h2>Summary</h2>\n<div class=\"scroll\">"
	    "<table>\n<tr><th>Elapsed</th><td>%s</td></tr>\n", d);
	report_human(e->path_ms, d, sizeof d);
	report_human(e->plan_ms, p, sizeof p);
	report_human_plan(e, words, sizeof words);
	buf_printf(b, "<tr><th>Critical path</th><td>%s estimated, %s planned:"
	    " %s</td></tr>\n", d, p, words);
	report_local_time(e->finish, t, sizeof t);
	report_human(e->remaining, d, sizeof d);
	if (e->complete)
		buf_printf(b, "<tr><th>Finished</th><td>%s</td></tr>\n", t);
	else if (report_outcome(r) == OUTCOME_OPEN)
		buf_printf(b, "<tr><th>ETA</th><td>%s (in %s)</td></tr>\n", t, d);
	report_human(wait, d, sizeof d);
	buf_printf(b, "<tr><th>Waiting for people</th><td>%s</td></tr>\n"
	    "<tr><th>Late steps</th><td>%d</td></tr>\n<tr><th>Rollbacks"
	    "</th><td>%zu</td></tr>\n</table></div>\n</section>\n", d,
	    e->nlate, r->nrollbacks);
}

/* The timeline. */
static void
h_svg(struct buf *b, struct report_run *r, struct report_run *cmp)
{
	struct gantt g = { b, 1, cmp ? 34 : 24, SVG_TOP };
	int64_t span = g_span(r);
	size_t i, p;
	int h;

	if (cmp != NULL && g_span(cmp) > span)
		span = g_span(cmp);
	g.span = span > 0 ? span : 1000;
	h = SVG_TOP + g_height(r, g.row_h) + SVG_LEGEND;
	buf_printf(b, "<section class=\"timeline\">\n<h2>Timeline</h2>\n<svg xmlns=\"http://www.w3"
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
		if (r->rb->phases[p].for_each && r->lanes) {
			g_lanes(&g, r, p);
			continue;
		}
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

/* The height of the timeline's rows: a row per phase and per step, and
 * in a for_each phase a lane per entity, under a line per wave. */
static int
g_height(struct report_run *r, int row_h)
{
	const char *wave = NULL;
	size_t i, p;
	int h = 0;

	for (p = 0; p < r->rb->nphases; p++) {
		h += row_h;
		if (!(r->rb->phases[p].for_each && r->lanes)) {
			for (i = 0; i < r->nsteps; i++)
				if (r->steps[i].def && r->steps[i].def->phase == p)
					h += row_h;
			continue;
		}
		for (i = 0; i < r->nents; i++) {
			if (!g_lane_in(r, i, p))
				continue;
			if (r->nwaves > 1 && (wave == NULL || strcmp(wave,
			        r->ents[i].def->wave ? r->ents[i].def->wave : "")))
				h += LANE_H;
			wave = r->ents[i].def->wave ? r->ents[i].def->wave : "";
			h += LANE_H;
		}
		wave = NULL;
	}
	for (i = 0; i < r->nsteps; i++)
		if (r->steps[i].def == NULL)
			h += row_h;
	return h;
}

/* Has entity e instances in phase p? */
static int
g_lane_in(struct report_run *r, size_t e, size_t p)
{
	size_t i;

	for (i = 0; i < r->nsteps; i++)
		if (r->steps[i].ent == e && r->steps[i].def->phase == p)
			return 1;
	return 0;
}

/* A for_each phase: one lane per entity, under a line per wave when the
 * run has several. */
static void
g_lanes(struct gantt *g, struct report_run *r, size_t p)
{
	const char *wave = NULL, *w;
	size_t e;

	for (e = 0; e < r->nents; e++) {
		if (!g_lane_in(r, e, p))
			continue;
		w = r->ents[e].def->wave ? r->ents[e].def->wave : "";
		if (r->nwaves > 1 && (wave == NULL || strcmp(wave, w) != 0)) {
			buf_printf(g->b, "<text class=\"wave\" x=\"8\" y=\"%d\">"
			    "wave ", g->y + LANE_H - 5);
			h_text(g->b, *w ? w : "(none)");
			buf_adds(g->b, "</text>\n");
			g->y += LANE_H;
		}
		wave = w;
		g_lane(g, r, e, p);
	}
}

/* Entity e's lane in phase p: its instances' bars on one row, its state,
 * time and any exclusion at the end. */
static void
g_lane(struct gantt *g, struct report_run *r, size_t e, size_t p)
{
	struct report_entity *en = &r->ents[e];
	struct report_step *s;
	char d[48], c[256];
	int64_t first = -1, last = -1;
	size_t i;

	report_ent_counts(en, c, sizeof c);
	buf_adds(g->b, "<g><title>");
	h_text(g->b, en->def->id);
	if (en->def->title != NULL) {
		buf_adds(g->b, " ");
		h_text(g->b, en->def->title);
	}
	buf_printf(g->b, ": %s, %s</title>\n<text x=\"14\" y=\"%d\">",
	    report_ent_state_name(en->state), c, g->y + LANE_BAR - 2);
	h_text(g->b, en->def->id);
	buf_adds(g->b, "</text>\n");
	for (i = 0; i < r->nsteps; i++) {
		s = &r->steps[i];
		if (s->ent != e || s->def->phase != p)
			continue;
		g_bars(g, r, s, g->y + 2, LANE_BAR, 0);
		if (s->start_ms >= 0 && (first < 0 || s->start_ms < first))
			first = s->start_ms;
		if (s->end_ms > last)
			last = s->end_ms;
	}
	report_human(first >= 0 && last >= first ? last - first : -1, d,
	    sizeof d);
	buf_printf(g->b, "<text x=\"%d\" y=\"%d\" class=\"e-%s\">%s %s",
	    SVG_TEXT, g->y + LANE_BAR - 2, report_ent_state_name(en->state),
	    report_ent_state_name(en->state), strcmp(d, "-") ? d : "");
	if (en->state == RENT_EXCLUDED && en->reason != NULL) {
		buf_adds(g->b, ": ");
		h_short(g->b, en->reason, 28);
	}
	buf_adds(g->b, "</text>\n</g>\n");
	g->y += LANE_H;
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
	report_human(s->actual_ms >= 0 ? s->actual_ms : e->elapsed, d, sizeof d);
	buf_printf(g->b, "<text x=\"%d\" y=\"%d\">", SVG_TEXT, g->y + bar - 3);
	h_text(g->b, step_state_name(s->row.state));
	buf_printf(g->b, " %s%s%s</text>\n", strcmp(d, "-") ? d : "",
	    e->critical ? " [critical]" : "", e->late ? " [late]" : "");
	if (cmp != NULL && (c = report_find(cmp, s->row.id)) != NULL) {
		buf_adds(g->b, "<g opacity=\"0.6\">\n");
		g_bars(g, cmp, c, g->y + bar + 7, 9, 1);
		buf_adds(g->b, "</g>\n");
		report_human(c->actual_ms, d, sizeof d);
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
	struct buf tip = { 0 };
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
		tip.len = 0;
		buf_printf(&tip, "%s%s%s", s->entity ? s->row.id : "",
		    s->entity ? ": " : "", a->state);
		g_rect(g, g_x(g, st - r->start_ms), g_x(g, en - r->start_ms), y,
		    h, g_fill(a->state), s->entity ? "#fff" : NULL, buf_str(&tip));
	}
	buf_free(&tip);
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

/* The go/no-go decisions at checkpoints: who, what, why. */
static void
h_gonogo(struct buf *b, struct report_run *r)
{
	int any;

	buf_adds(b, "<section>\n<h2>Go/no-go decisions</h2>\n");
	any = report_table_gonogo(b, &report_table_html, r);
	h_none(b, any);
	buf_adds(b, "</section>\n");
}

/* Attempts that did not succeed: message, output, what was done. */
static void
h_failures(struct buf *b, struct report_run *r)
{
	struct report_step *s;
	size_t i, k;
	int any = 0;

	buf_adds(b, "<section>\n<h2>Failures</h2>\n");
	for (i = 0; i < r->nsteps; i++) {
		s = &r->steps[i];
		for (k = 0; k < s->natt; k++) {
			if (strcmp(s->att[k].state, "succeeded") == 0 ||
			    strcmp(s->att[k].state, "running") == 0)
				continue;
			h_failure(b, r, s, k);
			any = 1;
		}
		if (s->row.state == ST_FAILED && s->natt == 0) {
			buf_adds(b, "<div class=\"failure\">\n<h3>");
			h_text(b, s->row.id);
			buf_adds(b, ": failed</h3>\n<p>");
			h_text(b, s->row.note ? s->row.note : "?");
			buf_adds(b, "</p>\n</div>\n");
			any = 1;
		}
	}
	h_none(b, any);
	buf_adds(b, "</section>\n");
}

/* One failed attempt, with the tail of its output. */
static void
h_failure(struct buf *b, struct report_run *r, struct report_step *s,
    size_t k)
{
	struct attempt_row *a = &s->att[k];
	struct buf f = { 0 };
	size_t from = report_tail(a, TAIL_LINES, TAIL_BYTES);
	char t[96], d[48];

	buf_adds(b, "<div class=\"failure\">\n<h3>");
	h_text(b, s->row.id);
	buf_printf(b, ": attempt %d (%s) ", a->n, attempt_kind_name(a->kind));
	h_text(b, a->state);
	report_local_time(report_parse_time(a->ended_at), t, sizeof t);
	report_human(a->duration_ms, d, sizeof d);
	buf_printf(b, "</h3>\n<p>At %s after %s", t, d);
	if (a->exit_code >= 0)
		buf_printf(b, ", exit %d", a->exit_code);
	buf_adds(b, ": ");
	h_text(b, a->message ? a->message : "(no message)");
	buf_adds(b, "</p>\n");
	if (from < a->output_len) {
		buf_printf(b, "<p>Last lines of its output%s:</p>\n<pre>",
		    a->output_total > (int64_t)(a->output_len - from)
		    ? " (the rest: cutover log)" : "");
		h_textn(b, a->output + from, a->output_len - from);
		buf_adds(b, "</pre>\n");
	}
	report_followup(r, s, k, &f);
	buf_adds(b, "<p><b>What was done:</b> ");
	h_text(b, buf_str(&f));
	buf_adds(b, "</p>\n</div>\n");
	buf_free(&f);
}

/* Rollbacks: who started them, to where, and each step undone. */
static void
h_rollbacks(struct buf *b, struct report_run *r)
{
	char t[96];
	int any;

	buf_adds(b, "<section>\n<h2>Rollbacks</h2>\n");
	any = report_table_rollback_acts(b, &report_table_html, r);
	if (any && r->rollback_done_ms >= r->rollback_start_ms) {
		report_local_time(r->rollback_done_ms, t, sizeof t);
		buf_printf(b, "<p>The last rollback finished at %s.</p>\n", t);
	} else if (any)
		buf_adds(b, "<p><b>The last rollback has not finished.</b></p>\n");
	if (any)
		report_table_rollback_steps(b, &report_table_html, r);
	h_none(b, any);
	buf_adds(b, "</section>\n");
}

/* Reconcile results: the counts, the verdict, samples, columns. */
static void
h_reconcile(struct buf *b, struct report_run *r)
{
	size_t i;
	int any = 0;

	buf_adds(b, "<section>\n<h2>Reconciliation</h2>\n");
	for (i = 0; i < r->nsteps; i++) {
		if (r->steps[i].row.result == NULL)
			continue;
		h_rec_step(b, &r->steps[i]);
		any = 1;
	}
	h_none(b, any);
	buf_adds(b, "</section>\n");
}

/* One reconcile step's tables. */
static void
h_rec_step(struct buf *b, struct report_step *s)
{
	static const char *cls[] = { "none", "clean", "tolerated", "failed" };
	static const char *keys[] = { "source_rows", "dest_rows", "matched",
		"missing", "extra", "changed", "source_value", "dest_value",
		"difference" };
	const char *j = s->row.result;
	char words[128];
	enum report_rec rc = report_reconcile(s, words, sizeof words);
	struct buf v = { 0 };
	size_t k;

	buf_adds(b, "<h3>");
	h_text(b, s->row.id);
	buf_printf(b, "</h3>\n<p class=\"verdict v-%s\">", cls[rc]);
	h_text(b, words);
	buf_adds(b, "</p>\n<div class=\"scroll\"><table>\n<tr>");
	for (k = 0; k < sizeof keys / sizeof keys[0]; k++)
		if (report_result_text(j, keys[k], &v) == 0)
			buf_printf(b, "<th>%s</th>",
			    report_result_label(keys[k]));
	buf_adds(b, "</tr>\n<tr>");
	for (k = 0; k < sizeof keys / sizeof keys[0]; k++)
		if (report_result_text(j, keys[k], &v) == 0)
			h_ncell(b, buf_str(&v));
	buf_adds(b, "</tr>\n</table></div>\n");
	buf_free(&v);
	h_rec_list(b, j, "changed_columns", NULL);
	h_rec_list(b, j, "samples", "missing");
	h_rec_list(b, j, "samples", "extra");
	h_rec_list(b, j, "samples", "changed");
}

/* One entry of a result list into a table row. */
static void
h_rec_item(const char *name, const char *value, void *arg)
{
	struct buf *b = arg;

	buf_adds(b, "<tr>");
	if (name != NULL)
		h_cell(b, name);
	if (name != NULL)
		h_ncell(b, value);
	else
		h_cell(b, value);
	buf_adds(b, "</tr>\n");
}

/* A list of a result (changed columns, sample keys) as a table. */
static void
h_rec_list(struct buf *b, const char *json, const char *key, const char *sub)
{
	struct buf rows = { 0 };

	if (report_result_each(json, key, sub, h_rec_item, &rows) > 0) {
		if (sub == NULL)
			buf_adds(b, "<div class=\"scroll\"><table>\n<tr><th>"
			    "Changed column</th><th>Rows</th></tr>\n");
		else
			buf_printf(b, "<div class=\"scroll\"><table>\n<tr><th>"
			    "Sample keys %s</th></tr>\n", strcmp(sub, "missing")
			    == 0 ? "missing (in source, not in dest)" :
			    strcmp(sub, "extra") == 0 ? "extra (in dest, not in "
			    "source)" : "changed");
		buf_add(b, rows.data, rows.len);
		buf_adds(b, "</table></div>\n");
	}
	buf_free(&rows);
}

/* Phases: planned critical path, actual span (and the compared run's). */
static void
h_phases(struct buf *b, struct report_run *r, struct report_run *cmp)
{
	buf_adds(b, "<section>\n<h2>Phases</h2>\n");
	report_table_phases(b, &report_table_html, r, cmp);
	buf_adds(b, "</section>\n");
}

/* Steps, planned against actual (and against the compared run). */
static void
h_steps(struct buf *b, struct report_run *r, struct report_run *cmp)
{
	size_t i;

	buf_adds(b, "<section>\n<h2>Steps</h2>\n<div class=\"scroll\"><table>\n"
	    "<tr><th>Step</th><th>State</th><th>Planned</th><th>Actual</th>"
	    "<th>Waiting</th><th>Attempts</th><th>Estimate</th><th>Flags</th>");
	if (cmp != NULL)
		buf_printf(b, "<th>Run %lld</th><th>Difference</th>",
		    (long long)cmp->info.id);
	buf_adds(b, "</tr>\n");
	for (i = 0; i < r->nsteps; i++)
		h_step(b, r, i, cmp);
	buf_adds(b, "</table></div>\n");
	h_none(b, r->nsteps > 0);
	buf_adds(b, "</section>\n");
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
	report_human(e->planned, d, sizeof d);
	h_ncell(b, d);
	report_human(s->actual_ms, d, sizeof d);
	h_ncell(b, d);
	report_human(s->nwaits ? s->wait_ms : -1, d, sizeof d);
	h_ncell(b, d);
	buf_printf(b, "<td class=\"num\">%d</td>", s->row.attempts);
	report_human(e->estimate, d, sizeof d);
	buf_printf(b, "<td>%s (%s)</td>", d, eta_source_name(e->source));
	snprintf(d, sizeof d, "%s%s%s", e->critical ? "critical" : "",
	    e->critical && e->late ? ", " : "", e->late ? "late" : "");
	h_cell(b, d);
	if (cmp != NULL) {
		c = report_find(cmp, s->row.id);
		report_human(c ? c->actual_ms : -1, d, sizeof d);
		h_ncell(b, d);
		if (c && c->actual_ms >= 0 && s->actual_ms >= 0)
			report_human_delta(s->actual_ms - c->actual_ms, d, sizeof d);
		else
			snprintf(d, sizeof d, "-");
		h_ncell(b, d);
	}
	buf_adds(b, "</tr>\n");
}

/* Every act of a person: decisions, confirmations, skips, retries. */
static void
h_acts(struct buf *b, struct report_run *r)
{
	buf_adds(b, "<section>\n<h2>Operator actions</h2>\n");
	report_table_acts(b, &report_table_html, r);
	h_none(b, r->nacts > 0);
	buf_adds(b, "</section>\n");
}

/* The footer: the audit head to note down, and when this was written. */
static void
h_audit(struct buf *b, struct report_run *r)
{
	char t[96];

	report_local_time(state_now_ms(), t, sizeof t);
	buf_printf(b, "<footer>\n<p>Audit trail head: entry %lld, SHA-256 "
	    "<span class=\"hash\">%s</span>", (long long)r->audit_id,
	    r->audit_hash[0] ? r->audit_hash : "-");
	if (r->audit_at != NULL) {
		buf_adds(b, " (");
		h_text(b, r->audit_at);
		buf_adds(b, ")");
	}
	buf_printf(b, ". <code>cutover audit --verify</code> checks the chain "
	    "up to it.</p>\n<p>Report written %s.</p>\n</footer>\n", t);
}

/* Parts of the page for the live dashboard of `cutover serve`. */
void
report_html_timeline(struct buf *b, struct report_run *r)
{
	h_svg(b, r, NULL);
}

void
report_html_reconcile(struct buf *b, struct report_run *r)
{
	h_reconcile(b, r);
}
