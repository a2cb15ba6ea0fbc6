/*
 * web-dash.c - the live dashboard (web-dash.h). Text from the state
 * (notes, ids, reconcile rows) is escaped as the HTML report escapes it;
 * colour never carries a state alone: each shows as a glyph and a word.
 */
#include "config.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "waiting.h"
#include "web-dash.h"
#include "xmalloc.h"

#define DASH_REFRESH_S 10 /* without JavaScript: reload this often */

/* How a state shows: glyph and CSS class, by the state's name. */
struct dash_state {
	const char *name, *glyph;
};

/* Counts of the instances of one for_each step by state. */
struct dash_counts {
	size_t n[ST_NSTATES + 1]; /* last: a state this table lacks */
	size_t total;
};

static const char *dash_glyph(const char *);
static void dash_text(struct buf *, const char *);
static struct rb_step *dash_base(struct runbook *, const char *,
    const char **);
static void dash_banner(struct buf *, struct report_run *);
static void dash_kpis(struct buf *, struct report_run *);
static void dash_attention(struct buf *, struct report_run *);
static void dash_phases(struct buf *, struct report_run *);
static void dash_phase_plain(struct buf *, struct report_run *, size_t);
static void dash_phase_lanes(struct buf *, struct report_run *, size_t);
static void dash_step_row(struct buf *, struct report_run *, size_t);
static void dash_matrix(struct buf *, struct report_run *);
static void dash_matrix_row(struct buf *, struct report_run *,
    const struct rb_entity *, struct report_step **);
static void dash_checkpoints(struct buf *, struct report_run *);
static void dash_checkpoint(struct buf *, struct report_run *,
    struct report_step *);
static void dash_evidence(struct buf *, struct report_run *,
    struct report_step *);
static int dash_evidence_item(struct buf *, struct report_run *,
    struct rb_step *, const char *, size_t);
static int dash_evidence_lanes(struct buf *, struct report_run *,
    struct rb_step *, size_t);
static void dash_decisions(struct buf *, struct report_run *, const char *);
static int dash_step_cmp(const void *, const void *);

static const struct dash_state dash_states[] = {
	{ "pending", "·" },     { "running", "▶" },
	{ "succeeded", "✓" },   { "failed", "✗" },
	{ "interrupted", "!" }, { "skipped", "-" },
	{ "awaiting", "◆" },    { "rolled_back", "↺" },
	{ "rollback_failed", "✗" }, { "excluded", "⊘" },
};

static const char dash_style[] =
    ":root{--fg:#111;--bg:#fff;--mut:#555;--line:#bbb;--live:#b00000;"
    "--reh:#1d4e89}"
    "*{box-sizing:border-box}"
    "body{font-family:system-ui,sans-serif;margin:0;color:var(--fg);"
    "background:var(--bg);line-height:1.35}"
    "main{max-width:90em;margin:0 auto;padding:.5em 1em 2em}"
    "h1{font-size:1.5em;margin:.1em 0}h2{font-size:1.2em;margin:1.2em 0 .4em;"
    "border-bottom:2px solid var(--line)}h3{font-size:1.05em;margin:.9em 0 .3em}"
    ".banner{padding:.6em 1em;border:4px solid var(--reh);background:#e8f0fa}"
    ".banner.live{border-color:var(--live);background:#ffe5e5}"
    ".mode{display:inline-block;font-weight:800;letter-spacing:.1em;"
    "font-size:1.3em;padding:.05em .6em;border:3px solid var(--reh);"
    "color:var(--reh);margin:0 .5em .2em 0}"
    ".live .mode{background:var(--live);border-color:var(--live);color:#fff}"
    ".runline{margin:.2em 0;font-weight:600}"
    ".kpi{display:grid;grid-template-columns:repeat(auto-fit,minmax(11em,1fr));"
    "gap:.4em 1em;margin:.6em 0 0}.kpi div{min-width:0}"
    ".kpi dt{font-size:.8em;text-transform:uppercase;color:var(--mut)}"
    ".kpi dd{margin:0;font-size:1.25em;font-weight:700;"
    "overflow-wrap:anywhere}.behind{color:var(--live)}.ahead{color:#1f6b3a}"
    ".attention{border-left:6px solid #b8860b;background:#fff8e1;"
    "padding:.3em .8em;margin:.8em 0}.attention li{margin:.2em 0}"
    ".scroll{overflow-x:auto;max-width:100%}"
    "table{border-collapse:collapse;margin:.3em 0;font-size:.95em}"
    "th,td{border:1px solid var(--line);padding:.2em .5em;text-align:left;"
    "vertical-align:top}th{background:#eee}"
    "td.num{text-align:right;font-variant-numeric:tabular-nums}"
    "small{color:var(--mut)}.g{font-weight:700;text-align:center;width:1.6em}"
    ".st-succeeded .g,.st-succeeded.g{color:#1f6b3a}"
    ".st-failed .g,.st-failed.g,.st-rollback_failed .g{color:#b00000}"
    ".st-failed,.st-rollback_failed{background:#ffecec}"
    ".st-running{background:#e8f0fa}.st-running .g{color:var(--reh)}"
    ".st-awaiting{background:#fff4c2}.st-awaiting .g{color:#7a5a00}"
    ".st-interrupted{background:#fde4cf}.st-skipped,.st-excluded{color:#666}"
    ".st-rolled_back{color:#6a3d9a}"
    "table.matrix td{text-align:center;padding:.1em .3em}"
    ".go{color:#1f6b3a;font-weight:700}.nogo{color:#b00000;font-weight:700}"
    ".none{color:var(--mut);font-style:italic}"
    ".verdict{font-weight:700}.v-clean{color:#1f6b3a}"
    ".v-tolerated{color:#8a5a00}.v-failed{color:#b00000}"
    "svg{display:block;max-width:100%;height:auto}"
    "svg text{font-family:sans-serif;font-size:12px;fill:#111}"
    "svg .phase{font-weight:bold}svg .axis{fill:#444;font-size:11px}"
    "footer{margin-top:2em;font-size:.85em;color:var(--mut)}"
    ".offline footer::after{content:' - reconnecting';color:var(--live)}"
    "@media (max-width:40em){main{padding:.3em .4em}h1{font-size:1.2em}"
    ".kpi dd{font-size:1.05em}table{font-size:.85em}th,td{padding:.15em .3em}"
    ".hide-s{display:none}.timeline{overflow-x:auto}"
    ".timeline svg{max-width:none;width:70em}}"
    "@media (min-width:100em){html{font-size:130%}}";

static const char dash_script[] =
    "(function(){'use strict';"
    "var main=document.getElementById('dash');"
    /* As report_human writes it: "1h 0m 5s", "45m", "250ms". */
    "function human(ms){if(ms<0)return'-';if(ms<1000)return ms?ms+'ms':'0s';"
    "var s=Math.round(ms/1000),v=[Math.floor(s/86400),Math.floor(s%86400/3600),"
    "Math.floor(s%3600/60),s%60],u=['d','h','m','s'],a=-1,b=-1,i,o=[];"
    "for(i=0;i<4;i++)if(v[i]){if(a<0)a=i;b=i}"
    "for(i=a;i<=b;i++)o.push(v[i]+u[i]);return o.join(' ')}"
    "function tick(){var l=main.querySelectorAll('[data-start]'),i,e,end;"
    "for(i=0;i<l.length;i++){e=l[i];end=+e.getAttribute('data-end');"
    "e.textContent=human((end>=0?end:Date.now())-"
    "(+e.getAttribute('data-start')))}}"
    "function title(){var h=main.querySelector('[data-title]');"
    "if(h)document.title=h.getAttribute('data-title')}"
    "setInterval(tick,1000);"
    "if(!window.EventSource)return;"
    "var es=new EventSource('events?gen='+main.getAttribute('data-gen'));"
    "es.addEventListener('dash',function(ev){main.innerHTML=ev.data;"
    "main.setAttribute('data-gen',ev.lastEventId);tick();title();"
    "document.body.classList.remove('offline')});"
    "es.onopen=function(){document.body.classList.remove('offline')};"
    "es.onerror=function(){document.body.classList.add('offline')};"
    "})();";

void
web_csp_hash(const char *s, size_t len, char *out, size_t outlen)
{
	unsigned char md[EVP_MAX_MD_SIZE], b64[4 * EVP_MAX_MD_SIZE / 3 + 8];
	unsigned int n = 0;

	EVP_Digest(s, len, md, &n, EVP_sha256(), NULL);
	EVP_EncodeBlock(b64, md, (int)n);
	snprintf(out, outlen, "sha256-%s", (const char *)b64);
}

const char *
web_dash_csp(void)
{
	static char csp[512];
	char st[64], sc[64];

	if (csp[0] != '\0')
		return csp;
	web_csp_hash(dash_style, strlen(dash_style), st, sizeof st);
	web_csp_hash(dash_script, strlen(dash_script), sc, sizeof sc);
	snprintf(csp, sizeof csp, "default-src 'none'; style-src '%s'; "
	    "script-src '%s'; connect-src 'self'; img-src data:; "
	    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'", st,
	    sc);
	return csp;
}

void
web_dash_page(struct buf *b, const struct runbook *rb, const char *fragment,
    uint64_t gen)
{
	buf_adds(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width="
	    "device-width, initial-scale=1\">\n<title>");
	dash_text(b, rb->title ? rb->title : rb->name);
	buf_printf(b, " - cutover</title>\n<noscript><meta http-equiv=\"refresh\""
	    " content=\"%d\"></noscript>\n<style>%s</style>\n</head>\n<body>\n"
	    "<main id=\"dash\" data-gen=\"%llu\">\n", DASH_REFRESH_S, dash_style,
	    (unsigned long long)gen);
	buf_adds(b, fragment);
	buf_printf(b, "</main>\n<script>%s</script>\n</body>\n</html>\n",
	    dash_script);
}

/* The glyph of a state by its name ("?" for one not known here). */
static const char *
dash_glyph(const char *state)
{
	size_t i;

	for (i = 0; i < sizeof dash_states / sizeof dash_states[0]; i++)
		if (strcmp(state, dash_states[i].name) == 0)
			return dash_states[i].glyph;
	return "?";
}

static void
dash_text(struct buf *b, const char *s)
{
	report_html_text(b, s);
}

/* The runbook step of a stored id: STEP, or STEP@ENTITY (*entity then
 * points after the '@'). NULL if the runbook has none. */
static struct rb_step *
dash_base(struct runbook *rb, const char *id, const char **entity)
{
	const char *at = strchr(id, '@');
	char name[256];

	*entity = NULL;
	if (at == NULL)
		return runbook_find_step(rb, id);
	if ((size_t)(at - id) >= sizeof name)
		return NULL;
	memcpy(name, id, (size_t)(at - id));
	name[at - id] = '\0';
	*entity = at + 1;
	return runbook_find_step(rb, name);
}

void
web_dash_fragment(struct buf *b, struct runbook *rb, struct report_run *r,
    const char *error)
{
	if (r == NULL) {
		buf_printf(b, "<header class=\"banner\" data-title=\"");
		dash_text(b, rb->name);
		buf_adds(b, "\"><h1>");
		dash_text(b, rb->title ? rb->title : rb->name);
		buf_adds(b, "</h1>\n<p class=\"runline\">");
		dash_text(b, error != NULL ? error : "No run yet: this page "
		    "follows the first one when it starts.");
		buf_adds(b, "</p></header>\n");
		return;
	}
	dash_banner(b, r);
	dash_attention(b, r);
	dash_phases(b, r);
	dash_matrix(b, r);
	report_html_reconcile(b, r);
	dash_checkpoints(b, r);
	report_html_timeline(b, r);
	buf_adds(b, "<footer>Read-only view. Also: <a href=\"api/status\">"
	    "status (JSON)</a>, <a href=\"report.html\">report</a>, <a href=\""
	    "metrics\">metrics</a>.</footer>\n");
}

/* LIVE or REHEARSAL, title, run, outcome, driver; the figures. */
static void
dash_banner(struct buf *b, struct report_run *r)
{
	const char *mode = r->live ? "LIVE" : "REHEARSAL";

	buf_printf(b, "<header class=\"banner %s\" data-title=\"%s ",
	    r->live ? "live" : "rehearsal", mode);
	dash_text(b, r->rb->title ? r->rb->title : r->rb->name);
	buf_printf(b, " run %lld - cutover\">\n<h1><span class=\"mode\">%s"
	    "</span>", (long long)r->info.id, mode);
	dash_text(b, r->rb->title ? r->rb->title : r->rb->name);
	buf_printf(b, "</h1>\n<p class=\"runline\">Run %lld: %s%s</p>\n",
	    (long long)r->info.id, report_outcome_words(report_outcome(r)),
	    strcmp(r->info.state, "open") != 0 ? "" : r->driven
	        ? ", driven now" : ", no driver at the moment");
	dash_kpis(b, r);
	buf_adds(b, "</header>\n");
}

/* Elapsed (ticking), ETA, against plan, progress. */
static void
dash_kpis(struct buf *b, struct report_run *r)
{
	struct eta *e = &r->eta;
	char d[48], t[96], w[64];
	size_t i, done = 0;

	for (i = 0; i < r->nsteps; i++)
		done += r->steps[i].row.state == ST_SUCCEEDED ||
		    r->steps[i].row.state == ST_SKIPPED;
	report_human(r->now_ms - r->start_ms, d, sizeof d);
	buf_printf(b, "<dl class=\"kpi\">\n<div><dt>Elapsed</dt><dd data-start="
	    "\"%lld\" data-end=\"%lld\">%s</dd></div>\n", (long long)r->start_ms,
	    (long long)r->end_ms, d);
	report_local_time(e->finish, t, sizeof t);
	report_human(e->remaining, d, sizeof d);
	if (e->complete)
		buf_printf(b, "<div><dt>Finished</dt><dd>%s</dd></div>\n", t);
	else
		buf_printf(b, "<div><dt>ETA</dt><dd>%s <small>(in %s)</small>"
		    "</dd></div>\n", t, d);
	report_human_plan(e, w, sizeof w);
	if (e->planned)
		buf_printf(b, "<div><dt>Against plan</dt><dd class=\"%s\">%s</dd>"
		    "</div>\n", e->delta_ms > 0 ? "behind" : "ahead", w);
	buf_printf(b, "<div><dt>Progress</dt><dd>%zu of %zu steps done%s</dd>"
	    "</div>\n</dl>\n", done, r->nsteps, e->nlate > 0 ? ", some late" : "");
}

/* What waits for a person, and who may act; what failed. */
static void
dash_attention(struct buf *b, struct report_run *r)
{
	struct report_step *s;
	const char *ent;
	struct rb_step *d;
	struct buf who = { 0 };
	size_t i;
	int any = 0;

	for (i = 0; i < r->nsteps; i++) {
		s = &r->steps[i];
		if (s->row.state != ST_AWAITING && s->row.state != ST_FAILED &&
		    s->row.state != ST_ROLLBACK_FAILED)
			continue;
		buf_adds(b, any++ ? "" : "<section class=\"attention\"><h2>"
		    "Needs attention</h2><ul>\n");
		buf_printf(b, "<li class=\"st-%s\"><span class=\"g\">%s</span> "
		    "<b>", step_state_name(s->row.state),
		    dash_glyph(step_state_name(s->row.state)));
		dash_text(b, s->row.id);
		buf_printf(b, "</b> %s", s->row.state == ST_AWAITING
		    ? "waits for a person" : step_state_name(s->row.state));
		buf_reset(&who);
		d = dash_base(r->rb, s->row.id, &ent);
		if (s->row.state == ST_AWAITING && d != NULL &&
		    waiting_who(&who, r->rb, d, s->row.undo))
			buf_adds(b, ": "), dash_text(b, buf_str(&who));
		if (s->row.note != NULL && s->row.state != ST_AWAITING)
			buf_adds(b, ": "), dash_text(b, s->row.note);
		buf_adds(b, "</li>\n");
	}
	if (any)
		buf_adds(b, "</ul></section>\n");
	buf_free(&who);
}

/* Every phase and its steps. */
static void
dash_phases(struct buf *b, struct report_run *r)
{
	size_t p;

	buf_adds(b, "<section>\n<h2>Phases and steps</h2>\n");
	for (p = 0; p < r->rb->nphases; p++) {
		buf_adds(b, "<h3>");
		dash_text(b, r->rb->phases[p].title ? r->rb->phases[p].title
		                                    : r->rb->phases[p].id);
		buf_adds(b, "</h3>\n<div class=\"scroll\"><table class=\"steps\">\n"
		    "<tr><th></th><th>Step</th><th class=\"hide-s\">Type</th>"
		    "<th>State</th><th>Tries</th><th>Time</th>"
		    "<th class=\"hide-s\">Note</th></tr>\n");
		if (r->rb->phases[p].for_each)
			dash_phase_lanes(b, r, p);
		else
			dash_phase_plain(b, r, p);
		buf_adds(b, "</table></div>\n");
	}
	buf_adds(b, "</section>\n");
}

/* The steps of a plain phase, one row each. */
static void
dash_phase_plain(struct buf *b, struct report_run *r, size_t p)
{
	size_t i;

	for (i = 0; i < r->nsteps; i++)
		if (r->steps[i].def != NULL && r->steps[i].def->phase == p &&
		    strchr(r->steps[i].row.id, '@') == NULL)
			dash_step_row(b, r, i);
}

/* One step: glyph, id and title, type, state, tries, time, note. */
static void
dash_step_row(struct buf *b, struct report_run *r, size_t i)
{
	struct report_step *s = &r->steps[i];
	const char *st = step_state_name(s->row.state);
	int64_t ms = s->actual_ms >= 0 ? s->actual_ms : r->est[i].elapsed;
	char d[48], pl[48];

	buf_printf(b, "<tr class=\"st-%s\" data-step=\"", st);
	dash_text(b, s->row.id);
	buf_printf(b, "\" data-state=\"%s\"><td class=\"g\">%s</td><td>", st,
	    dash_glyph(st));
	dash_text(b, s->row.id);
	if (s->def != NULL && s->def->title != NULL)
		buf_adds(b, "<br><small>"), dash_text(b, s->def->title),
		    buf_adds(b, "</small>");
	buf_printf(b, "</td><td class=\"hide-s\">%s</td><td>%s%s</td><td "
	    "class=\"num\">%d</td>", s->def ? step_type_name(s->def->type) : "?",
	    st, r->est[i].late ? " (late)" : "", s->row.attempts);
	report_human(ms, d, sizeof d);
	report_human(s->def ? s->def->planned_ms : -1, pl, sizeof pl);
	buf_printf(b, "<td class=\"num\">%s%s%s</td><td class=\"hide-s\">", d,
	    strcmp(pl, "-") ? " / " : "", strcmp(pl, "-") ? pl : "");
	if (s->row.note != NULL && s->row.state != ST_SUCCEEDED)
		dash_text(b, s->row.note);
	buf_adds(b, "</td></tr>\n");
}

/* A for_each phase: one row per step, its instances counted by state. */
static void
dash_phase_lanes(struct buf *b, struct report_run *r, size_t p)
{
	const struct rb_phase *ph = &r->rb->phases[p];
	struct dash_counts *c = xcalloc(ph->nsteps ? ph->nsteps : 1, sizeof *c);
	const char *ent;
	struct rb_step *d;
	size_t i, k;

	for (i = 0; i < r->nsteps; i++) {
		d = dash_base(r->rb, r->steps[i].row.id, &ent);
		if (d == NULL || ent == NULL || d->phase != p)
			continue;
		k = (unsigned)r->steps[i].row.state < ST_NSTATES
		    ? (size_t)r->steps[i].row.state : ST_NSTATES;
		c[d->index - ph->first].n[k]++;
		c[d->index - ph->first].total++;
	}
	for (k = 0; k < ph->nsteps; k++) {
		d = &r->rb->steps[ph->first + k];
		buf_adds(b, "<tr data-step=\"");
		dash_text(b, d->id);
		buf_adds(b, "\"><td class=\"g\">&#x25a6;</td><td>");
		dash_text(b, d->id);
		buf_printf(b, " <small>per entity</small></td><td class=\"hide-s\">"
		    "%s</td><td colspan=\"4\">", step_type_name(d->type));
		for (i = 0; i <= ST_NSTATES; i++)
			if (c[k].n[i] > 0)
				buf_printf(b, "<span class=\"st-%s\"><span class=\"g\">"
				    "%s</span>%zu %s</span> ", i < ST_NSTATES
				    ? step_state_name((enum step_state)i) : "other",
				    i < ST_NSTATES ? dash_glyph(step_state_name(
				    (enum step_state)i)) : "?", c[k].n[i],
				    i < ST_NSTATES ? step_state_name(
				    (enum step_state)i) : "other");
		buf_printf(b, "/ %zu</td></tr>\n", c[k].total);
	}
	free(c);
}

/* Sort step row pointers by id. */
static int
dash_step_cmp(const void *a, const void *b)
{
	const struct report_step *x = *(const struct report_step *const *)a;
	const struct report_step *y = *(const struct report_step *const *)b;

	return strcmp(x->row.id, y->row.id);
}

/* Entities down, for_each steps across, a glyph per instance. */
static void
dash_matrix(struct buf *b, struct report_run *r)
{
	struct report_step **idx;
	struct buf row = { 0 };
	size_t i, p, k;
	int any = 0;

	if (r->rb->nentities == 0 || r->nsteps == 0)
		return;
	idx = xreallocarray(NULL, r->nsteps, sizeof *idx);
	for (i = 0; i < r->nsteps; i++)
		idx[i] = &r->steps[i];
	qsort(idx, r->nsteps, sizeof *idx, dash_step_cmp);
	for (i = 0; i < r->rb->nentities; i++) {
		buf_reset(&row);
		dash_matrix_row(&row, r, &r->rb->entities[i], idx);
		if (row.len == 0)
			continue;
		if (!any++) {
			buf_adds(b, "<section>\n<h2>Entities</h2>\n<div class=\""
			    "scroll\"><table class=\"matrix\">\n<tr><th>Entity"
			    "</th><th>Wave</th>");
			for (p = 0; p < r->rb->nphases; p++)
				for (k = 0; r->rb->phases[p].for_each &&
				     k < r->rb->phases[p].nsteps; k++) {
					buf_adds(b, "<th>");
					dash_text(b, r->rb->steps[r->rb->phases[p].first
					    + k].id);
					buf_adds(b, "</th>");
				}
			buf_adds(b, "</tr>\n");
		}
		buf_add(b, row.data, row.len);
	}
	if (any)
		buf_adds(b, "</table></div>\n</section>\n");
	buf_free(&row);
	free(idx);
}

/* One entity's row of the matrix; nothing if the run has no instance of
 * it. idx: the run's steps sorted by id. */
static void
dash_matrix_row(struct buf *b, struct report_run *r,
    const struct rb_entity *en, struct report_step **idx)
{
	struct report_step key, *kp = &key, **hit;
	const struct runbook *rb = r->rb;
	char name[512];
	const char *st;
	size_t p, k, found = 0;
	struct buf cells = { 0 };

	for (p = 0; p < rb->nphases; p++)
		for (k = 0; rb->phases[p].for_each && k < rb->phases[p].nsteps;
		     k++) {
			snprintf(name, sizeof name, "%s@%s",
			    rb->steps[rb->phases[p].first + k].id, en->id);
			key.row.id = name;
			hit = bsearch(&kp, idx, r->nsteps, sizeof *idx,
			    dash_step_cmp);
			if (hit == NULL) {
				buf_adds(&cells, "<td></td>");
				continue;
			}
			found++;
			st = step_state_name((*hit)->row.state);
			buf_printf(&cells, "<td class=\"g st-%s\" data-step=\"", st);
			dash_text(&cells, name);
			buf_printf(&cells, "\" data-state=\"%s\" title=\"%s\">%s</td>",
			    st, st, dash_glyph(st));
		}
	if (found > 0) {
		buf_adds(b, "<tr><td>");
		dash_text(b, en->id);
		if (en->title != NULL)
			buf_adds(b, " <small>"), dash_text(b, en->title),
			    buf_adds(b, "</small>");
		buf_adds(b, "</td><td>");
		dash_text(b, en->wave ? en->wave : "-");
		buf_adds(b, "</td>");
		buf_add(b, cells.data, cells.len);
		buf_adds(b, "</tr>\n");
	}
	buf_free(&cells);
}

/* Checkpoints: their state, the evidence, the decisions. */
static void
dash_checkpoints(struct buf *b, struct report_run *r)
{
	struct rb_step *d;
	const char *ent;
	size_t i;
	int any = 0;

	buf_adds(b, "<section>\n<h2>Checkpoints</h2>\n");
	for (i = 0; i < r->nsteps; i++) {
		d = dash_base(r->rb, r->steps[i].row.id, &ent);
		if (d == NULL || d->type != STEP_CHECKPOINT)
			continue;
		dash_checkpoint(b, r, &r->steps[i]);
		any = 1;
	}
	if (!any)
		buf_adds(b, "<p class=\"none\">None</p>\n");
	buf_adds(b, "</section>\n");
}

/* One checkpoint. */
static void
dash_checkpoint(struct buf *b, struct report_run *r, struct report_step *s)
{
	const char *st = step_state_name(s->row.state), *ent;
	struct rb_step *d = dash_base(r->rb, s->row.id, &ent);

	buf_printf(b, "<h3 class=\"st-%s\"><span class=\"g\">%s</span> ", st,
	    dash_glyph(st));
	dash_text(b, s->row.id);
	buf_printf(b, ": %s, %d go needed</h3>\n", st, d->approvals);
	dash_evidence(b, r, s);
	dash_decisions(b, r, s->row.id);
}

/* What a decision at checkpoint s rests on: the steps in its evidence:,
 * else the steps it needs (at an instance, the same entity's instances of
 * a for_each step), with their states and reconcile verdicts. */
static void
dash_evidence(struct buf *b, struct report_run *r, struct report_step *s)
{
	const char *ent;
	struct rb_step *d = dash_base(r->rb, s->row.id, &ent), *x;
	size_t i, n = d->nevidence ? d->nevidence : d->ndeps, shown = 0;

	buf_adds(b, "<p>Evidence: ");
	for (i = 0; i < n; i++) {
		x = d->nevidence ? runbook_find_step(r->rb, d->evidence[i])
		                 : &r->rb->steps[d->deps[i]];
		if (x != NULL)
			shown += dash_evidence_item(b, r, x, ent, shown);
	}
	if (shown == 0)
		buf_adds(b, "<span class=\"none\">none</span>");
	buf_adds(b, "</p>\n");
}

/* One step evidence rests on: its state (and verdict); for a for_each
 * step seen from outside its phase, its instances counted by state.
 * Returns 1 if it showed something. */
static int
dash_evidence_item(struct buf *b, struct report_run *r, struct rb_step *x,
    const char *ent, size_t before)
{
	struct report_step *e;
	char name[512], words[128];
	const char *st;

	if (r->rb->phases[x->phase].for_each && ent == NULL)
		return dash_evidence_lanes(b, r, x, before);
	snprintf(name, sizeof name, "%s%s%s", x->id,
	    r->rb->phases[x->phase].for_each ? "@" : "",
	    r->rb->phases[x->phase].for_each ? ent : "");
	if ((e = report_find(r, name)) == NULL)
		return 0;
	st = step_state_name(e->row.state);
	buf_printf(b, "%s<span class=\"st-%s\"><span class=\"g\">%s</span> ",
	    before ? "; " : "", st, dash_glyph(st));
	dash_text(b, e->row.id);
	buf_printf(b, " %s", st);
	if (e->row.result != NULL &&
	    report_reconcile(e, words, sizeof words) != REC_NONE) {
		buf_adds(b, " (");
		dash_text(b, words);
		buf_adds(b, ")");
	}
	buf_adds(b, "</span>");
	return 1;
}

/* The instances of for_each step x, counted by state. */
static int
dash_evidence_lanes(struct buf *b, struct report_run *r, struct rb_step *x,
    size_t before)
{
	size_t count[ST_NSTATES] = { 0 }, i, n = 0, len = strlen(x->id);
	int k;

	for (i = 0; i < r->nsteps; i++)
		if (strncmp(r->steps[i].row.id, x->id, len) == 0 &&
		    r->steps[i].row.id[len] == '@' &&
		    (unsigned)r->steps[i].row.state < ST_NSTATES) {
			count[r->steps[i].row.state]++;
			n++;
		}
	if (n == 0)
		return 0;
	buf_adds(b, before ? "; " : "");
	dash_text(b, x->id);
	for (k = 0; k < ST_NSTATES; k++)
		if (count[k] > 0)
			buf_printf(b, " <span class=\"st-%s\"><span class=\"g\">"
			    "%s</span>%zu</span>", step_state_name(k),
			    dash_glyph(step_state_name(k)), count[k]);
	buf_printf(b, " /%zu", n);
	return 1;
}

/* The decisions taken at step id: who, go or no-go, why, when. */
static void
dash_decisions(struct buf *b, struct report_run *r, const char *id)
{
	struct report_act *a;
	char t[96];
	size_t i;
	int any = 0;

	for (i = 0; i < r->nacts; i++) {
		a = &r->acts[i];
		if (strcmp(a->action, "decide") != 0 || a->step == NULL ||
		    strcmp(a->step, id) != 0)
			continue;
		if (!any++)
			buf_adds(b, "<div class=\"scroll\"><table><tr><th>When</th>"
			    "<th>Who</th><th>Decision</th><th>Why</th></tr>\n");
		report_local_time(a->at_ms, t, sizeof t);
		buf_printf(b, "<tr><td>%s</td><td>", t);
		dash_text(b, a->operator);
		buf_printf(b, "</td><td class=\"%s\">", a->what &&
		    strcmp(a->what, "go") == 0 ? "go" : "nogo");
		dash_text(b, a->what);
		buf_adds(b, "</td><td>");
		dash_text(b, a->why ? a->why : "-");
		buf_adds(b, "</td></tr>\n");
	}
	if (any)
		buf_adds(b, "</table></div>\n");
	else
		buf_adds(b, "<p class=\"none\">No decision yet</p>\n");
}
