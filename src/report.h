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
 *
 * No hash a report publishes covers a secret: the runbook's hash in a
 * report (text_sha) is the SHA-256 of the runbook text as the run keeps it,
 * literal secret values already replaced by "********". The hash of the
 * file as written (run_info.runbook_sha) stays inside the state file, for
 * change detection only: a SHA-256 of text holding a short secret would let
 * anyone with the report test guesses of it.
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
	struct rb_step *def; /* NULL: not in the runbook any more; for an
	                      * instance STEP@ENTITY, the for_each step */
	struct rb_entity *entity; /* an instance's entity, else NULL */
	size_t ent;          /* its place in report_run.ents, or SIZE_MAX */
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

/* Where an entity of the run stands. */
enum report_ent_state {
	RENT_ACTIVE,   /* instances still to end */
	RENT_EXCLUDED, /* dropped out of the run */
	RENT_DONE,     /* every instance succeeded or was skipped */
};

/* An entity of the run: one that has instances in it (the run's
 * selection), runbook order. */
struct report_entity {
	struct rb_entity *def;
	enum report_ent_state state;
	char *reason;      /* why it was excluded, NULL */
	char *excluded_by; /* who excluded it (an operator), NULL */
	int64_t excluded_ms; /* when, -1 */
	size_t counts[ST_NSTATES]; /* its instances by state */
	size_t ninst;
	int64_t start_ms, end_ms; /* first start, last end of its instances */
	int64_t actual_ms; /* end - start once every instance ended, else -1 */
	int failures;      /* failed attempts of its instances */
};

/* A wave of the run: its entities taken together. */
struct report_wave {
	const char *name; /* "" for entities without a wave */
	size_t nents, ndone, nexcluded, nactive;
	int failures;
	int64_t start_ms, end_ms; /* span of its entities, -1 */
	int64_t median_ms;        /* the median entity's duration, -1 */
	int64_t worst_ms;         /* the slowest entity's, -1 */
	const char *worst;        /* its id, NULL */
};

/* A for_each step over the entities of a run: the spread of its
 * instances' actual times (succeeded ones). */
struct report_lane_stat {
	size_t n;          /* instances with a time */
	int64_t median_ms; /* -1 when n is 0 */
	int64_t worst_ms;
	const char *worst; /* the entity of the slowest, NULL */
};

/* How a run ended, for the banner of a report. */
enum report_outcome {
	OUTCOME_OPEN,        /* under way */
	OUTCOME_COMPLETE,    /* every step succeeded or skipped */
	OUTCOME_ROLLED_BACK, /* open, and its last rollback finished */
	OUTCOME_ROLLING_BACK, /* open, a rollback started and not finished */
	OUTCOME_ABORTED,     /* abandoned: a new run replaced it */
};

/* A reconcile step's verdict. */
enum report_rec {
	REC_NONE,      /* no result */
	REC_CLEAN,     /* passed, no difference */
	REC_TOLERATED, /* passed with differences within the tolerance */
	REC_FAILED,    /* more differences than the tolerance */
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
	size_t *by_id;    /* steps sorted by id, for report_find */
	int lanes;        /* the runbook has for_each phases */
	struct report_entity *ents; /* the run's entities, runbook order */
	size_t nents;
	struct report_wave *waves; /* waves with entities in the run, in
	                            * the runbook's order of waves */
	size_t nwaves;
	unsigned char *out; /* by runbook entity index: excluded from the run
	                     * (light loads too), NULL without entities */
	/* Full loads only: */
	char text_sha[65]; /* SHA-256 of the kept (redacted) runbook text */
	int64_t audit_id;  /* the head of the whole audit trail: its last */
	char audit_hash[65]; /* entry's id and hash, when read; 0 and "" */
	char *audit_at;    /* if the trail is empty */
	size_t nrollbacks; /* rollback-start entries of the run */
	int64_t rollback_start_ms, rollback_done_ms; /* the last ones, -1 */
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
/* ms for a person: "1m 12s", "2h 5m", "250ms", "-" when negative;
 * rounded to whole seconds from one second on. */
void report_human(int64_t ms, char *out, size_t len);
/* A signed difference for a person: "+4m 5s", "-12s", "0s". */
void report_human_delta(int64_t ms, char *out, size_t len);
/* report_plan_words with report_human's durations ("7m 10s behind"). */
void report_human_plan(const struct eta *, char *out, size_t len);
/* Epoch ms as local time with its zone: "2027-01-15 09:00:00 CET
 * (UTC+01:00)"; "-" when negative. */
void report_local_time(int64_t ms, char *out, size_t len);
/* How the run ended, and its words for a banner ("COMPLETE", ...). */
enum report_outcome report_outcome(const struct report_run *);
const char *report_outcome_words(enum report_outcome);
/* A signed difference: "+4m05s", "-12s", "0s". */
void report_delta(int64_t ms, char *out, size_t len);
/* One line saying how far ahead or behind plan, e.g. "12m behind plan". */
void report_plan_words(const struct eta *, char *out, size_t len);
/* Phase i of the runbook: its span in the run (first start, last end,
 * -1 when none) and its planned critical path. */
void report_phase_span(const struct report_run *, size_t phase,
    int64_t *start, int64_t *end, int64_t *planned);
/* The cells of phase p's row: planned, actual, and with cmp (may be NULL)
 * the other run's actual and the difference ("-" where unknown), as
 * report_human and report_human_delta write them. */
void report_phase_cells(const struct report_run *r,
    const struct report_run *cmp, size_t p, char cells[4][32]);
/* The step of r with id, or NULL. */
struct report_step *report_find(const struct report_run *, const char *id);
/* A number field of a reconcile result (top level of its JSON text) as
 * text into out; 0 if found. */
int report_result_field(const char *json, const char *key, char *out,
    size_t len);

/*
 * Call fn for each entry of the array or object at json.key (json.key.sub
 * when sub is not NULL) of a reconcile result: name is the member's name
 * (NULL in an array), value its text (a string decoded, a number as
 * written, an array of scalars as "(a, b)"). Returns the number of
 * entries, or -1 when there is no such array or object.
 */
int report_result_each(const char *json, const char *key, const char *sub,
    void (*fn)(const char *name, const char *value, void *), void *arg);
/* The value of json.key as text into out (replacing what it held), as
 * report_result_each gives it; 0 if there is one. */
int report_result_text(const char *json, const char *key, struct buf *out);
/* The column heading of a reconcile result's number ("Source rows"). */
const char *report_result_label(const char *key);
/* missing + extra + changed of a compare: rows result, or -1. */
int64_t report_rec_differences(const char *json);
/* The verdict of reconcile step s, with words for it in out, e.g.
 * "passed within tolerance: 2 differences ≤ 2". */
enum report_rec report_reconcile(const struct report_step *, char *out,
    size_t len);
/* What a rollback act did, in words ("rollback started", "confirmed
 * undone", ...); NULL for other acts. */
const char *report_act_words(const struct report_act *);
/* What was done about failed attempt k of step s (retried, skipped with
 * its reason, confirmed by whom, ...), as sentences appended to b. */
void report_followup(const struct report_run *, const struct report_step *,
    size_t k, struct buf *b);
/* Where the last lines (at most nlines, and at most max bytes) of an
 * attempt's kept output start; a->output_len when it has none. */
size_t report_tail(const struct attempt_row *, size_t nlines, size_t max);

/* The entity of r with id, or NULL. */
struct report_entity *report_entity_find(const struct report_run *,
    const char *id);
/* Words for an entity's state: "active", "excluded", "done". */
const char *report_ent_state_name(enum report_ent_state);
/* Its instances by state in words, e.g. "3 succeeded, 1 failed / 4". */
void report_ent_counts(const struct report_entity *, char *out,
    size_t len);
/* The spread of for_each step def's instances in r. */
void report_lane_stat(const struct report_run *, const struct rb_step *def,
    struct report_lane_stat *out);
/* A run's selection (run_info.selection) in words: "all entities",
 * "wave pilot", "waves pilot, wave-2", "entities store-017, store-042". */
void report_selection(const char *selection, char *out, size_t len);
/* Fill r->ents and r->waves from its instances (report_steps did) and,
 * when st is not NULL, the exclusions of the run (report.c calls it). */
void report_entities_build(struct state *, struct report_run *);

/*
 * Checkpoint evidence, from the run's rows: the steps a decision at
 * checkpoint cp rests on (those of its evidence: list, else those it
 * needs; a for_each step named stands for its instances: the same
 * entity's inside a lane, every one outside). Returns their number and a
 * new array of indexes into r->steps in *out (the caller frees it).
 */
size_t report_evidence(const struct report_run *, const struct report_step *cp,
    size_t **out);
/* One line on step s as evidence, appended to b: its state, reconcile
 * counts or verification, failures, exclusion. */
void report_evidence_line(const struct report_run *,
    const struct report_step *s, struct buf *b);
/* The evidence of checkpoint cp as lines of text (a new array of new
 * strings in *lines; report_lines_free): one per step, and for the
 * instances of a step together one line of counts followed by one for
 * each that did not succeed. Returns the number of lines. */
size_t report_evidence_lines(const struct report_run *,
    const struct report_step *cp, char ***lines);
void report_lines_free(char **, size_t);
/* Is act a's entry part of checkpoint cp's story: a decision there, or
 * its go decisions set aside because the evidence changed? */
int report_act_at(const struct report_act *a, const struct report_step *cp);
/* Is s a checkpoint? */
int report_is_checkpoint(const struct report_step *);
/* Does the report show s's evidence: a checkpoint the run reached (not
 * pending, not excluded)? */
int report_evidence_shown(const struct report_step *);

/* Formats: each appends the whole report of r (compared with cmp when not
 * NULL) to b. */
void report_md(struct buf *, struct report_run *r, struct report_run *cmp);
void report_json(struct buf *, struct report_run *r, struct report_run *cmp);
/* The keys that open a step object, in the report's "steps" and in
 * `status --json` alike: "id", "phase", "type", "title" (only when titled),
 * "entity", "state", of step id with definition d and entity en (each
 * NULL: unknown, written as null). f as json_key's first. */
void report_json_step_head(struct buf *, int *f, const struct runbook *rb,
    const char *id, const struct rb_step *d, const struct rb_entity *en,
    enum step_state state, int titled);
void report_html(struct buf *, struct report_run *r, struct report_run *cmp);
/* Parts of the HTML report, for the live dashboard (`cutover serve`): the
 * timeline section (an inline SVG Gantt chart), the reconciliation
 * section, and text escaped as the report escapes it (escape.h, then
 * HTML; NULL appends nothing). */
void report_html_timeline(struct buf *, struct report_run *r);
void report_html_reconcile(struct buf *, struct report_run *r);
void report_html_text(struct buf *, const char *s);

#endif
