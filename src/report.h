/*
 * report.h - what happened in a run, for reports, `status` and the console
 * header: each step's planned and actual time, its attempts, the time it
 * waited for people, the decisions taken, the critical path and the ETA.
 *
 * Everything is read from the state file through the public state API; a
 * report never writes. Waiting time comes from the audit trail: a step
 * waits from the entry that makes it awaiting until the next entry that
 * moves it on (confirm, decision, skip, retry, a new attempt).
 *
 * A struct report_run owns every string and array in it and is released
 * with report_run_free; it borrows the runbook, which must outlive it.
 */
#ifndef CUTOVER_REPORT_H
#define CUTOVER_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "buf.h"
#include "eta.h"
#include "runbook.h"
#include "state.h"

/* A period a step spent awaiting a person; end -1 while it still waits. */
struct report_wait {
	int64_t start, end;
};

/* An operator's act on a step: a decision, a confirm, a skip, ... */
struct report_act {
	char *at;
	int64_t at_ms;
	char *step;
	char *operator;
	char *action; /* decide, confirm, skip, retry, ... */
	char *what;   /* go, no-go, succeeded, skipped, ... */
	char *why;    /* reason or note, NULL if none */
};

struct report_step {
	struct rb_step *def; /* NULL: not in the runbook any more */
	struct step_row row;
	struct attempt_row *att;
	size_t natt;
	struct report_wait *waits;
	size_t nwaits;
	int64_t wait_ms;  /* total waiting, up to now for an open wait */
	int64_t start_ms; /* first attempt or wait, -1 */
	int64_t end_ms;   /* when it ended, -1 while under way or not begun */
	int64_t actual_ms; /* end - start, -1 unless ended */
	int64_t baseline_run; /* run its rehearsal estimate came from, 0 */
	size_t *deps;     /* indexes into report_run.steps */
	size_t ndeps;
};

struct report_run {
	struct runbook *rb;
	struct run_info info;
	int live;
	int driven;       /* a live driver holds the run */
	int64_t start_ms; /* first step activity, else the run's creation */
	int64_t end_ms;   /* the run's end (last step end) when not open, -1 */
	int64_t now_ms;   /* the time the ETA was worked out for */
	struct report_step *steps; /* runbook order */
	size_t nsteps;
	struct eta_step *est; /* parallel to steps */
	struct eta eta;
	struct report_act *acts; /* every operator act, in order */
	size_t nacts;
};

/*
 * Read run id (0: the latest) of rb from st into *out. Returns STATE_OK,
 * STATE_NOTFOUND if there is no such run, or STATE_ERR.
 */
int report_run_load(struct state *, struct runbook *, int64_t id,
    struct report_run *out);
/* The same, lightly: step times, waits and the ETA, but no attempts and
 * no operator acts (for `status`). */
int report_run_timing(struct state *, struct runbook *, int64_t id,
    struct report_run *out);
void report_run_free(struct report_run *);

/* The ETA of a run without keeping the model. Cached for max_age_ms (for
 * the console, which asks on every redraw); 0 always reads afresh. */
int report_eta(struct state *, struct runbook *, int64_t run,
    int64_t max_age_ms, struct eta *);

/* Epoch ms of an ISO 8601 UTC time as the state file writes it, or -1. */
int64_t report_parse_time(const char *);
/* ms as "1h02m03s", "4m05s", "12s", "250ms", "-" when negative. */
void report_dur(int64_t ms, char *out, size_t len);
/* A signed difference: "+4m05s", "-12s", "0s". */
void report_delta(int64_t ms, char *out, size_t len);
/* One line saying how far ahead or behind plan, e.g. "12m behind plan". */
void report_plan_words(const struct eta *, char *out, size_t len);
/* Phase i of the runbook: its span in the run (first start, last end,
 * -1 when none) and its planned critical path. */
void report_phase_span(const struct report_run *, size_t phase,
    int64_t *start, int64_t *end, int64_t *planned);
/* The cells of phase p's row: planned, actual, and with cmp (may be NULL)
 * the other run's actual and the difference ("-" where unknown). */
void report_phase_cells(const struct report_run *r,
    const struct report_run *cmp, size_t p, char cells[4][32]);
/* The step of r with id, or NULL. */
struct report_step *report_find(const struct report_run *, const char *id);
/* A number field of a reconcile result (top level of its JSON text) as
 * text into out; 0 if found. */
int report_result_field(const char *json, const char *key, char *out,
    size_t len);

/* Formats: each appends the whole report of r (compared with cmp when not
 * NULL) to b. */
void report_md(struct buf *, struct report_run *r, struct report_run *cmp);
void report_json(struct buf *, struct report_run *r, struct report_run *cmp);
void report_html(struct buf *, struct report_run *r, struct report_run *cmp);

#endif
