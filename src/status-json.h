/*
 * status-json.h - the `status --json` object (SPEC section 4), built once
 * for `cutover status --json` and `cutover serve`'s /api/status, so that
 * both print the same bytes for the same state.
 */
#ifndef CUTOVER_STATUS_JSON_H
#define CUTOVER_STATUS_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "engine.h"
#include "report.h"
#include "runbook.h"
#include "state.h"

/*
 * Append the object of run r of st to b, one line ending in "\n": its n
 * steps v (runbook order, a running step of a run nobody drives already
 * shown as interrupted), the ETA of rr (NULL: none), how far this
 * machine's clock is behind the audit trail (behind, ms), the
 * notifications' deliveries, and what an engine that reads run r knows
 * (e, NULL: none): the entities and checkpoint evidence of runbooks with
 * for_each phases. Borrows everything.
 */
void status_json(struct buf *b, struct state *st, struct runbook *rb,
    struct run_info *r, struct step_row *v, size_t n, struct report_run *rr,
    int64_t behind, struct engine *e);

#endif
