/*
 * web-view.h - what `cutover serve` shows, read from the store: the
 * pages of the server built from the latest run (or none yet), each kept
 * until the store changes or, for an open run, whose ETA and clocks move,
 * until it is older than WEB_VIEW_MAX_AGE_MS.
 *
 * The view reads only: the store is opened read-only and nothing here
 * writes to it. Pages returned are owned by the view and valid until the
 * next call that takes the view (the server copies them at once).
 */
#ifndef CUTOVER_WEB_VIEW_H
#define CUTOVER_WEB_VIEW_H

#include <stdint.h>

#include "buf.h"
#include "runbook.h"
#include "state.h"

#define WEB_VIEW_MAX_AGE_MS 1000

struct web_view;

/* A view of rb's runs in st (both borrowed, to outlive the view). */
struct web_view *web_view_new(struct runbook *, struct state *);
void web_view_free(struct web_view *);
/* The store the view reads (borrowed). */
struct state *web_view_state(struct web_view *);

/* Has the store changed since the last call (a commit by anyone)? The
 * pages are then built afresh when next asked for. */
int web_view_poll(struct web_view *);
/* A number that moves whenever a page might show something new. */
uint64_t web_view_gen(struct web_view *);
/* Is the run shown open (its clocks move)? */
int web_view_open(struct web_view *);

/* A page's bytes, shared by the view and the answers still sending them
 * (so that a page is never copied per request): held and dropped, freed
 * with its last holder. */
struct web_body {
	struct buf b;
	int refs;
};
struct web_body *web_body_hold(struct web_body *);
void web_body_drop(struct web_body *);

/* Content of a page, and its HTTP status: 200, 404, 503 (the store
 * cannot be read). The body is the view's: hold it to keep it. */
struct web_page {
	int status;
	const char *type; /* Content-Type */
	struct web_body *body;
	const char *csp;  /* Content-Security-Policy, NULL: "default-src
	                   * 'none'" and nothing else allowed */
};

/* /api/status: the `status --json` object of the latest run. */
void web_view_status(struct web_view *, struct web_page *);
/* /: the dashboard page; fragment: only what /events pushes (the
 * contents of the page's <main>). */
void web_view_dash(struct web_view *, int fragment, struct web_page *);
/* /metrics: the Prometheus text exposition. */
void web_view_metrics(struct web_view *, struct web_page *);
/* /report.html: the HTML report of the latest run. */
void web_view_report(struct web_view *, struct web_page *);
/* /api/log/STEP: every attempt's captured (redacted) output of step id
 * (STEP or STEP@ENTITY) in the latest run, as `cutover log` prints it. */
void web_view_log(struct web_view *, const char *id, struct web_page *);
/* /healthz: "ok" and the run, or 503 when the store cannot be read. */
void web_view_health(struct web_view *, struct web_page *);

#endif
