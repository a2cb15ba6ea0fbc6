/*
 * eta.h - the ETA rule: the critical path through a run's `needs`.
 *
 * Each step is estimated by its actual time if it is done (succeeded or
 * skipped), else by the latest earlier rehearsal's actual time for it, else
 * by its `planned` duration, else 0. A step still running or waiting for a
 * person is estimated at least at the time it has taken so far.
 *
 * The critical path is the longest chain of steps through their
 * dependencies, each counted at its estimate; its length is the run's
 * estimated duration. The plan is the same walk over planned durations
 * alone; the difference of the two says how far behind (positive) or ahead
 * (negative) of plan the run is.
 *
 * The forecast end is a clock time: done steps end when they ended, a step
 * under way ends no sooner than now, and a step yet to start starts when
 * its needs are forecast to end (no sooner than now) and takes its
 * estimate. For a run without idle gaps, end - start is the estimated
 * duration.
 *
 * Lanes (SPEC section 8): the instances of a for_each phase are one
 * group, scheduled as the engine runs them: `parallel` places, each held
 * by one lane (an entity: the instances with the same `lane`) from the
 * moment its first instance may start until all its instances have ended,
 * waiting for a person included; a free place goes to the first lane in
 * the order of entities that has an instance whose needs have ended, and
 * a lane holding a place starts each instance as soon as its needs have
 * ended. The run-wide bound (settings.parallel) is not simulated. By
 * clock, instances done or under way keep their times, a lane with one
 * done or under way and not all done holds its place, and the rest is
 * scheduled from now; by estimates and by plan, the whole group is
 * scheduled from its needs. An instance whose lane waited for a place
 * continues the critical path of the instance that finished the lane that
 * freed it (after). An instance with no rehearsal time of its own is
 * estimated by the step's median over entities in the latest rehearsal
 * (median), before its planned duration. Steps outside groups (group 0)
 * are as above: as many at once as their needs allow.
 *
 * Pure computation, no I/O: the caller fills the inputs (report.c does it
 * from the state file), eta_compute fills the outputs.
 */
#ifndef CUTOVER_ETA_H
#define CUTOVER_ETA_H

#include <stddef.h>
#include <stdint.h>

enum eta_source {
	ETA_NONE,      /* nothing known: 0 */
	ETA_ACTUAL,    /* the step is done: its own time */
	ETA_REHEARSAL, /* a rehearsal's actual time */
	ETA_PLANNED,   /* the runbook's planned duration */
	ETA_MEDIAN,    /* the step's median over entities in a rehearsal */
};

struct eta_step {
	/* inputs */
	const size_t *deps; /* indexes into the same array */
	size_t ndeps;
	int64_t planned;   /* ms, -1 if not given */
	int64_t rehearsal; /* ms, -1 if none */
	int64_t median;    /* ms, -1 if none: the step's median over entities */
	int64_t actual;    /* ms, when done */
	int64_t start;     /* epoch ms of its first activity, -1 if none */
	int64_t end;       /* epoch ms it ended, -1 if not */
	int done;          /* succeeded or skipped: actual is final */
	int active;        /* running or awaiting now */
	size_t group;      /* 0, or 1 + the for_each phase it is an instance of */
	int parallel;      /* lanes of its group at once (< 1: 1) */
	size_t lane;       /* its lane in the group: the same for the
	                    * instances of an entity, ordered as entities */

	/* outputs */
	int64_t estimate;      /* ms, by the rule */
	enum eta_source source;
	int64_t elapsed;       /* ms so far when active, else -1 */
	int64_t path;          /* longest chain ending here, by estimates */
	int64_t plan_path;     /* longest chain ending here, by plan */
	int64_t finish;        /* forecast epoch ms of its end */
	int critical;          /* on the critical path */
	int late;              /* done or under way longer than planned */
	size_t after;          /* 1 + the instance that freed the place its
	                        * lane waited for, else 0 */
};

struct eta {
	int64_t start;     /* the run's start, epoch ms */
	int64_t now;       /* the time it was computed for */
	int64_t path_ms;   /* critical path by estimates */
	int64_t plan_ms;   /* critical path by planned durations */
	int64_t delta_ms;  /* path_ms - plan_ms: > 0 behind, < 0 ahead */
	int64_t finish;    /* forecast end, epoch ms */
	int64_t remaining; /* finish - now, never negative */
	int planned;       /* at least one step has a planned duration */
	int nlate;         /* late steps */
	int complete;      /* every step is done */
};

/* Name of a source: "actual", "rehearsal", "planned", "median",
 * "none". */
const char *eta_source_name(enum eta_source);

/*
 * Apply the rule to the n steps of v (their dependencies must not form a
 * cycle; a cycle is cut where it is found). start is the run's start and
 * now the present (for a finished run: its end). Fills each step's outputs
 * and *out.
 */
void eta_compute(struct eta_step *v, size_t n, int64_t start, int64_t now,
    struct eta *out);

/* The longest chain by planned durations among the steps with mask[i]
 * set, following only dependencies inside the mask, groups scheduled as
 * eta_compute does (a phase's plan). */
int64_t eta_plan_within(const struct eta_step *v, size_t n,
    const unsigned char *mask);

#endif
