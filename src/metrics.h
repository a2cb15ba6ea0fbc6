/*
 * metrics.h - the run as Prometheus metrics (the text exposition format,
 * version 0.0.4), for `cutover serve`'s /metrics.
 *
 * Every series carries the label runbook; names follow Prometheus'
 * conventions (cutover_ prefix, base units, _seconds, _total for
 * counters), each family with its HELP and TYPE lines, so that a Grafana
 * panel can be built from the names alone:
 *
 *   cutover_up                          the store could be read (0/1)
 *   cutover_run_info{run,mode,state}    1 for the run shown
 *   cutover_run_live                    1 on a LIVE run, 0 on a rehearsal
 *   cutover_run_driven                  1 while a driver holds the run
 *   cutover_run_start_timestamp_seconds when the run began
 *   cutover_run_elapsed_seconds         since then (to its end once over)
 *   cutover_run_eta_timestamp_seconds   the forecast end
 *   cutover_run_remaining_seconds       the forecast end, from now
 *   cutover_run_critical_path_seconds   estimated critical path
 *   cutover_run_plan_seconds            planned critical path
 *   cutover_run_plan_delta_seconds      estimate - plan (> 0: behind)
 *   cutover_steps{state}                steps (and instances) by state
 *   cutover_steps_awaiting_person       steps waiting for a person
 *   cutover_step_awaiting{step,type}    1 for each of them
 *   cutover_step_duration_seconds{step,phase}  time taken (so far)
 *   cutover_step_planned_seconds{step,phase}   planned duration
 *   cutover_step_attempts{step}         attempts made
 *   cutover_reconcile_differences{step,kind}   kind missing, extra,
 *                                       changed (rows), value (|difference|)
 *   cutover_reconcile_rows{step,side}   rows read, side source or dest
 *   cutover_entities{state}             entities by state (active,
 *                                       excluded, done)
 *   cutover_notify_pending              notification deliveries to make
 *   cutover_notify_failing              of those, failing at their last try
 *   cutover_notify_failures_total       failed delivery tries, ever
 *   cutover_notify_delivered_total      deliveries made, ever
 */
#ifndef CUTOVER_METRICS_H
#define CUTOVER_METRICS_H

#include <stddef.h>

#include "buf.h"
#include "report.h"
#include "runbook.h"
#include "state.h"

/* What the metrics are made of; all borrowed. run NULL: no run yet. */
struct metrics_in {
	struct runbook *rb;
	struct state *st;        /* NULL: no store (nothing delivered) */
	int store_ok;            /* 0: the store could not be read */
	struct run_info *run;
	struct step_row *rows;   /* runbook order, as `status` shows them */
	size_t nrows;
	int driven;
	struct report_run *timing; /* report_run_timing of run, or NULL */
};

/* Append the exposition of in to b. */
void metrics_write(struct buf *b, const struct metrics_in *in);

/* The state ("active", "excluded", "done") of entity id in a run whose
 * nrows rows are sorted by id (strcmp), or NULL when the run has no
 * instance of it: excluded when an instance is, done when every instance
 * succeeded or was skipped. */
const char *metrics_entity_state(const struct runbook *,
    const struct step_row *rows, size_t nrows, const char *id);

#endif
