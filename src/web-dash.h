/*
 * web-dash.h - the live dashboard of `cutover serve`: one self-contained
 * page (inline style and script, no asset from anywhere, allowed by a
 * Content-Security-Policy that names them by their SHA-256 and nothing
 * else), whose <main> the script replaces with each fragment that
 * /events pushes. Without JavaScript the page refreshes itself.
 *
 * The fragment shows what the console shows: LIVE or REHEARSAL, the
 * title, the run and its outcome, elapsed time, the ETA against plan,
 * what waits for whom, the phases and steps with their states, the
 * entity matrix of for_each phases, reconcile results, checkpoints with
 * their evidence and decisions, and the timeline (the report's Gantt
 * chart). Every step row carries data-step="ID" data-state="STATE".
 */
#ifndef CUTOVER_WEB_DASH_H
#define CUTOVER_WEB_DASH_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "report.h"
#include "runbook.h"

/* The policy that allows the page's own style and script only. */
const char *web_dash_csp(void);
/* The whole page around fragment, at generation gen (its /events asks
 * for what came after). */
void web_dash_page(struct buf *, const struct runbook *,
    const char *fragment, uint64_t gen);
/* The contents of <main> for run r (NULL: none; error, when not NULL,
 * says why it could not be read). */
void web_dash_fragment(struct buf *, struct runbook *, struct report_run *r,
    const char *error);
/* "sha256-BASE64" of len bytes of s, as a CSP source, into out. */
void web_csp_hash(const char *s, size_t len, char *out, size_t outlen);

#endif
