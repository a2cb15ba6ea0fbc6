/*
 * web-view.c - the pages of `cutover serve`, read from the store and kept
 * until they may show something new (web-view.h).
 *
 * Two reads of the store feed them: the light one `status` makes (step
 * rows, the lease, the timing report) for /api/status and /metrics, and
 * the whole report (attempts, operator acts, rehearsal baselines) for the
 * dashboard and /report.html. Each is made at most once per change of the
 * store, or per WEB_VIEW_MAX_AGE_MS while the run is open.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "loop.h"
#include "metrics.h"
#include "report.h"
#include "status-json.h"
#include "web-dash.h"
#include "web-view.h"
#include "xmalloc.h"

/* The light read: what `status --json` reads, an engine that only reads
 * included. */
struct view_light {
	int rc; /* STATE_OK, STATE_NOTFOUND (no run yet), STATE_ERR */
	struct run_info run;
	struct step_row *rows;
	size_t nrows;
	struct lease_holder lease;
	int driven;
	struct report_run timing;
	int have_timing;
	struct engine *e; /* reads the run (entities, evidence), or NULL */
};

/* A page built, and when. */
struct view_page {
	struct web_body *body;
	int status;
	uint64_t gen;
	int64_t at;
	int built;
};

struct web_view {
	struct runbook *rb;
	struct state *st;
	uint64_t gen;  /* moves at each change of the store */
	int open;      /* the run shown is open */
	struct view_light light;
	uint64_t light_gen;
	int64_t light_at;
	int have_light;
	struct report_run full;
	int full_rc;
	uint64_t full_gen;
	int64_t full_at;
	int have_full;
	struct view_page status, dash, frag, metrics, report;
	struct buf csp;  /* the policy of /report.html */
	struct web_body *scratch;
};

static int view_fresh(struct web_view *, uint64_t, int64_t, int);
static struct buf *view_body(struct web_body **);
static void view_light_free(struct view_light *);
static struct view_light *view_light(struct web_view *);
static struct report_run *view_full(struct web_view *, int *rc);
static int view_page_fresh(struct web_view *, struct view_page *);
static void view_page_done(struct web_view *, struct view_page *, int);
static void view_error(struct web_view *, struct view_page *, int, int);
static void view_report_csp(struct web_view *, const struct buf *);
static void view_log_header(struct buf *, const char *,
    const struct attempt_row *);

struct web_view *
web_view_new(struct runbook *rb, struct state *st)
{
	struct web_view *v = xcalloc(1, sizeof *v);
	short events;

	v->rb = rb;
	v->st = st;
	/* The server's loop polls the store (web_view_poll): reconnecting,
	 * taken a step further by each poll, must never block it. */
	state_reconnect_fd(st, &events);
	v->gen = 1;
	v->open = 1;
	return v;
}

void
web_view_free(struct web_view *v)
{
	if (v == NULL)
		return;
	if (v->have_light)
		view_light_free(&v->light);
	if (v->have_full && v->full_rc == STATE_OK)
		report_run_free(&v->full);
	web_body_drop(v->status.body);
	web_body_drop(v->dash.body);
	web_body_drop(v->frag.body);
	web_body_drop(v->metrics.body);
	web_body_drop(v->report.body);
	buf_free(&v->csp);
	web_body_drop(v->scratch);
	free(v);
}

int
web_view_poll(struct web_view *v)
{
	if (!state_changed(v->st))
		return 0;
	v->gen++;
	return 1;
}

uint64_t
web_view_gen(struct web_view *v)
{
	return v->gen;
}

struct state *
web_view_state(struct web_view *v)
{
	return v->st;
}

int
web_view_open(struct web_view *v)
{
	return v->open;
}

/* Is what was built at gen, at (loop_now), still what the view shows? */
static int
view_fresh(struct web_view *v, uint64_t gen, int64_t at, int built)
{
	if (!built || gen != v->gen)
		return 0;
	return !v->open || loop_now() - at < WEB_VIEW_MAX_AGE_MS;
}

static void
view_light_free(struct view_light *l)
{
	if (l->rc == STATE_OK) {
		run_info_free(&l->run);
		step_rows_free(l->rows, l->nrows);
		lease_holder_free(&l->lease);
		if (l->have_timing)
			report_run_free(&l->timing);
		engine_close(l->e);
	}
	memset(l, 0, sizeof *l);
}

/* The light read, as cmd-status.c makes it, afresh when stale. */
static struct view_light *
view_light(struct web_view *v)
{
	struct view_light *l = &v->light;
	struct engine_opts o = { 0 };
	size_t i;

	if (view_fresh(v, v->light_gen, v->light_at, v->have_light))
		return l;
	if (v->have_light)
		view_light_free(l);
	v->have_light = 1;
	v->light_gen = v->gen;
	v->light_at = loop_now();
	if ((l->rc = state_run_latest(v->st, 0, &l->run)) != STATE_OK)
		return l;
	v->open = strcmp(l->run.state, "open") == 0;
	state_steps_load(v->st, l->run.id, &l->rows, &l->nrows);
	l->driven = state_lease_get(v->st, l->run.id, &l->lease) == STATE_OK;
	if (!l->driven) /* no live driver: what it left running was interrupted */
		for (i = 0; i < l->nrows; i++)
			if (l->rows[i].state == ST_RUNNING)
				l->rows[i].state = ST_INTERRUPTED;
	l->have_timing = report_run_timing(v->st, v->rb, l->run.id,
	    &l->timing) == STATE_OK;
	/* An engine that only reads, as `status` opens one. */
	o.drive = ENGINE_READ;
	o.run = l->run.id;
	o.quiet = 1;
	if (engine_open(v->rb, v->st, &o, &l->e) != 0)
		l->e = NULL;
	return l;
}

/* The whole report of the latest run, afresh when stale; NULL (*rc
 * STATE_NOTFOUND or STATE_ERR) when there is none. */
static struct report_run *
view_full(struct web_view *v, int *rc)
{
	if (!view_fresh(v, v->full_gen, v->full_at, v->have_full)) {
		if (v->have_full && v->full_rc == STATE_OK)
			report_run_free(&v->full);
		v->have_full = 1;
		v->full_gen = v->gen;
		v->full_at = loop_now();
		v->full_rc = report_run_load(v->st, v->rb, 0, &v->full);
		if (v->full_rc == STATE_OK)
			v->open = strcmp(v->full.info.state, "open") == 0;
	}
	*rc = v->full_rc;
	return v->full_rc == STATE_OK ? &v->full : NULL;
}

struct web_body *
web_body_hold(struct web_body *b)
{
	b->refs++;
	return b;
}

void
web_body_drop(struct web_body *b)
{
	if (b == NULL || --b->refs > 0)
		return;
	buf_free(&b->b);
	free(b);
}

/* An empty body in *slot to write a page into: the one there if nobody
 * else holds it, else a new one (answers still sending the old keep it). */
static struct buf *
view_body(struct web_body **slot)
{
	if (*slot != NULL && (*slot)->refs == 1) {
		buf_reset(&(*slot)->b);
		return &(*slot)->b;
	}
	web_body_drop(*slot);
	*slot = xcalloc(1, sizeof **slot);
	(*slot)->refs = 1;
	return &(*slot)->b;
}

/* Is page p still good? Else give it an empty body for a new build. */
static int
view_page_fresh(struct web_view *v, struct view_page *p)
{
	if (view_fresh(v, p->gen, p->at, p->built))
		return 1;
	view_body(&p->body);
	return 0;
}

/* Page p was just built with status. */
static void
view_page_done(struct web_view *v, struct view_page *p, int status)
{
	p->status = status;
	p->gen = v->gen;
	p->at = loop_now();
	p->built = 1;
}

/* The page of a failed read (rc): no run yet (404) or the store (503). */
static void
view_error(struct web_view *v, struct view_page *p, int rc, int json)
{
	const char *why = rc == STATE_NOTFOUND
	    ? "no run in the state store yet" : state_error(v->st);

	if (json)
		buf_printf(&p->body->b, "{\"error\":\"%s\"}\n",
		    rc == STATE_NOTFOUND ? "no run yet" : "state store unreadable");
	else
		buf_printf(&p->body->b, "%s\n", why);
	view_page_done(v, p, rc == STATE_NOTFOUND ? 404 : 503);
}

void
web_view_status(struct web_view *v, struct web_page *out)
{
	struct view_light *l;

	out->type = "application/json";
	out->csp = NULL;
	if (!view_page_fresh(v, &v->status)) {
		l = view_light(v);
		if (l->rc != STATE_OK)
			view_error(v, &v->status, l->rc, 1);
		else {
			status_json(&v->status.body->b, v->st, v->rb, &l->run, l->rows,
			    l->nrows, l->have_timing ? &l->timing : NULL,
			    state_clock_behind(v->st), l->e);
			view_page_done(v, &v->status, 200);
		}
	}
	out->body = v->status.body;
	out->status = v->status.status;
}

void
web_view_metrics(struct web_view *v, struct web_page *out)
{
	struct view_light *l;
	struct metrics_in in = { 0 };

	out->type = "text/plain; version=0.0.4; charset=utf-8";
	out->csp = NULL;
	if (!view_page_fresh(v, &v->metrics)) {
		l = view_light(v);
		in.rb = v->rb;
		in.st = v->st;
		in.store_ok = l->rc != STATE_ERR;
		if (l->rc == STATE_OK) {
			in.run = &l->run;
			in.rows = l->rows;
			in.nrows = l->nrows;
			in.driven = l->driven;
			in.timing = l->have_timing ? &l->timing : NULL;
		}
		metrics_write(&v->metrics.body->b, &in);
		view_page_done(v, &v->metrics, 200);
	}
	out->body = v->metrics.body;
	out->status = 200;
}

void
web_view_dash(struct web_view *v, int fragment, struct web_page *out)
{
	struct report_run *r;
	int rc;

	out->type = "text/html; charset=utf-8";
	out->csp = web_dash_csp();
	if (!view_page_fresh(v, &v->frag)) {
		r = view_full(v, &rc);
		web_dash_fragment(&v->frag.body->b, v->rb, r, rc == STATE_ERR
		    ? state_error(v->st) : NULL);
		view_page_done(v, &v->frag, rc == STATE_ERR ? 503 : 200);
	}
	if (fragment) {
		out->body = v->frag.body;
		out->status = v->frag.status;
		return;
	}
	if (!view_page_fresh(v, &v->dash)) {
		web_dash_page(&v->dash.body->b, v->rb, buf_str(&v->frag.body->b),
		    v->gen);
		view_page_done(v, &v->dash, v->frag.status);
	}
	out->body = v->dash.body;
	out->status = v->dash.status;
}

/* The policy of the report: its one style element, by its hash. */
static void
view_report_csp(struct web_view *v, const struct buf *html)
{
	const char *s = strstr(buf_str((struct buf *)html), "<style>"), *e;
	char hash[64];

	buf_reset(&v->csp);
	buf_adds(&v->csp, "default-src 'none'; img-src data:; base-uri 'none';"
	    " form-action 'none'; frame-ancestors 'none'");
	if (s == NULL || (e = strstr(s, "</style>")) == NULL)
		return;
	s += strlen("<style>");
	web_csp_hash(s, (size_t)(e - s), hash, sizeof hash);
	buf_printf(&v->csp, "; style-src '%s'", hash);
}

void
web_view_report(struct web_view *v, struct web_page *out)
{
	struct report_run *r;
	int rc;

	out->type = "text/html; charset=utf-8";
	if (!view_page_fresh(v, &v->report)) {
		if ((r = view_full(v, &rc)) == NULL)
			view_error(v, &v->report, rc, 0);
		else {
			report_html(&v->report.body->b, r, NULL);
			view_page_done(v, &v->report, 200);
		}
		view_report_csp(v, &v->report.body->b);
	}
	out->body = v->report.body;
	out->csp = buf_str(&v->csp);
	out->status = v->report.status;
}

/* The header line `cutover log` puts over an attempt's output. */
static void
view_log_header(struct buf *b, const char *id, const struct attempt_row *a)
{
	buf_printf(b, "=== %s attempt %d (%s): %s, started %s%s%s%s%s\n", id,
	    a->n, attempt_kind_name(a->kind), a->state, a->started_at,
	    a->ended_at ? ", ended " : "", a->ended_at ? a->ended_at : "",
	    a->message ? ": " : "", a->message ? a->message : "");
}

void
web_view_log(struct web_view *v, const char *id, struct web_page *out)
{
	struct view_light *l = view_light(v);
	struct attempt_row *a = NULL;
	struct buf *b = view_body(&v->scratch);
	size_t n = 0, i;

	out->type = "text/plain; charset=utf-8";
	out->csp = NULL;
	out->body = v->scratch;
	if (l->rc != STATE_OK ||
	    state_attempts_list(v->st, l->run.id, id, 0, &a, &n) != STATE_OK) {
		buf_printf(b, "%s\n", l->rc == STATE_NOTFOUND
		    ? "no run in the state store yet" : state_error(v->st));
		out->status = l->rc == STATE_NOTFOUND ? 404 : 503;
		return;
	}
	for (i = 0; i < n; i++) {
		view_log_header(b, id, &a[i]);
		buf_add(b, a[i].output, a[i].output_len);
		if (a[i].output_len > 0 && a[i].output[a[i].output_len - 1] != '\n')
			buf_addc(b, '\n');
	}
	if (n == 0)
		buf_printf(b, "%s has no attempts in run %lld\n", id,
		    (long long)l->run.id);
	out->status = n > 0 ? 200 : 404;
	attempt_rows_free(a, n);
}

void
web_view_health(struct web_view *v, struct web_page *out)
{
	struct run_info r;
	struct buf *b = view_body(&v->scratch);
	int rc = state_run_latest(v->st, 0, &r);

	out->type = "text/plain; charset=utf-8";
	out->csp = NULL;
	out->body = v->scratch;
	out->status = rc == STATE_ERR ? 503 : 200;
	if (rc == STATE_OK) {
		buf_printf(b, "ok: run %lld of %s, %s\n", (long long)r.id,
		    v->rb->name, r.state);
		run_info_free(&r);
	} else if (rc == STATE_NOTFOUND)
		buf_printf(b, "ok: no run of %s yet\n", v->rb->name);
	else
		buf_printf(b, "state store unreadable: %s\n", state_error(v->st));
}
