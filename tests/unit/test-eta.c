/* test-eta.c - the ETA rule: estimates, critical path, plan, forecast end. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "eta.h"

#define S (1000LL)
#define MIN (60 * S)
#define T0 (1800000000000LL)

static void step_init(struct eta_step *, int64_t planned);
static void lanes_init(struct eta_step *, int parallel);

/* Lanes: 0 "start" (5 min), then a for_each phase of steps a and b (b
 * needs a) for 10 entities: a@k at 1 + k, b@k at 11 + k, a@k planned k
 * min, b@k 1 min; then 21 "end" (1 min) needs every b. Instances start
 * as the engine starts them: the first in runbook order (every a before
 * any b) when a slot is free and its needs have ended. */
#define NLANES 10
#define NV (2 + 2 * NLANES)
static size_t lane_d0[] = { 0 };
static size_t lane_da[NLANES][1];
static size_t lane_db[NLANES];


/* A step not begun, planned (or -1), with no rehearsal. */
static void
step_init(struct eta_step *s, int64_t planned)
{
	memset(s, 0, sizeof *s);
	s->planned = planned;
	s->rehearsal = -1;
	s->median = -1;
	s->actual = -1;
	s->start = s->end = -1;
}

/* a -> b, a -> c, {b, c} -> d: the longer branch is the critical path. */
static void
test_diamond(void **unused)
{
	static const size_t da[] = { 0 }, dd[] = { 1, 2 };
	struct eta_step v[4];
	struct eta e;

	step_init(&v[0], 10 * MIN);
	step_init(&v[1], 30 * MIN);
	step_init(&v[2], 20 * MIN);
	step_init(&v[3], 5 * MIN);
	v[1].deps = v[2].deps = da;
	v[1].ndeps = v[2].ndeps = 1;
	v[3].deps = dd;
	v[3].ndeps = 2;
	eta_compute(v, 4, T0, T0, &e);
	assert_int_equal(e.path_ms, 45 * MIN);
	assert_int_equal(e.plan_ms, 45 * MIN);
	assert_int_equal(e.delta_ms, 0);
	assert_int_equal(e.finish, T0 + 45 * MIN);
	assert_int_equal(e.remaining, 45 * MIN);
	assert_true(e.planned);
	assert_false(e.complete);
	assert_true(v[0].critical && v[1].critical && v[3].critical);
	assert_false(v[2].critical);
	assert_int_equal(v[2].finish, T0 + 30 * MIN);
	assert_int_equal(v[3].source, ETA_PLANNED);
}

/* Actual beats rehearsal beats planned; nothing known counts 0. */
static void
test_sources(void **unused)
{
	static const size_t d0[] = { 0 }, d1[] = { 1 }, d2[] = { 2 };
	struct eta_step v[4];
	struct eta e;

	step_init(&v[0], 10 * MIN);
	v[0].rehearsal = 8 * MIN;
	v[0].done = 1;
	v[0].actual = 12 * MIN;
	v[0].start = T0;
	v[0].end = T0 + 12 * MIN;
	step_init(&v[1], 10 * MIN);
	v[1].rehearsal = 7 * MIN;
	step_init(&v[2], 3 * MIN);
	step_init(&v[3], -1);
	v[1].deps = d0;
	v[2].deps = d1;
	v[3].deps = d2;
	v[1].ndeps = v[2].ndeps = v[3].ndeps = 1;
	eta_compute(v, 4, T0, T0 + 12 * MIN, &e);
	assert_int_equal(v[0].source, ETA_ACTUAL);
	assert_int_equal(v[0].estimate, 12 * MIN);
	assert_true(v[0].late);
	assert_int_equal(v[1].source, ETA_REHEARSAL);
	assert_int_equal(v[1].estimate, 7 * MIN);
	assert_int_equal(v[2].source, ETA_PLANNED);
	assert_int_equal(v[3].source, ETA_NONE);
	assert_int_equal(v[3].estimate, 0);
	assert_int_equal(e.path_ms, 22 * MIN);
	assert_int_equal(e.plan_ms, 23 * MIN);
	assert_int_equal(e.delta_ms, -1 * MIN);
	assert_int_equal(e.finish, T0 + 22 * MIN);
	assert_int_equal(e.nlate, 1);
	assert_string_equal(eta_source_name(v[1].source), "rehearsal");
}

/* A step under way longer than its estimate counts what it has taken,
 * and is late once past its plan; what follows moves with it. */
static void
test_running_long(void **unused)
{
	static const size_t d0[] = { 0 };
	struct eta_step v[2];
	struct eta e;

	step_init(&v[0], 5 * MIN);
	v[0].rehearsal = 4 * MIN;
	v[0].active = 1;
	v[0].start = T0;
	step_init(&v[1], 1 * MIN);
	v[1].deps = d0;
	v[1].ndeps = 1;
	eta_compute(v, 2, T0, T0 + 3 * MIN, &e);
	assert_int_equal(v[0].estimate, 4 * MIN);
	assert_int_equal(v[0].elapsed, 3 * MIN);
	assert_false(v[0].late);
	assert_int_equal(e.finish, T0 + 5 * MIN);
	assert_int_equal(e.delta_ms, -1 * MIN);
	eta_compute(v, 2, T0, T0 + 9 * MIN, &e);
	assert_int_equal(v[0].estimate, 9 * MIN);
	assert_true(v[0].late);
	assert_int_equal(e.path_ms, 10 * MIN);
	assert_int_equal(e.delta_ms, 4 * MIN);
	assert_int_equal(e.finish, T0 + 10 * MIN);
	assert_int_equal(e.remaining, 1 * MIN);
	assert_int_equal(e.nlate, 1);
}

/* A step whose needs ended long ago cannot start before now. */
static void
test_anchored_at_now(void **unused)
{
	static const size_t d0[] = { 0 };
	struct eta_step v[2];
	struct eta e;

	step_init(&v[0], 1 * MIN);
	v[0].done = 1;
	v[0].actual = 1 * MIN;
	v[0].start = T0;
	v[0].end = T0 + 1 * MIN;
	step_init(&v[1], 2 * MIN);
	v[1].deps = d0;
	v[1].ndeps = 1;
	eta_compute(v, 2, T0, T0 + 60 * MIN, &e);
	assert_int_equal(e.path_ms, 3 * MIN);
	assert_int_equal(e.delta_ms, 0);
	assert_int_equal(e.finish, T0 + 62 * MIN);
	assert_int_equal(e.remaining, 2 * MIN);
}

/* A finished run: its end, nothing remaining; independent steps are
 * separate chains. */
static void
test_complete(void **unused)
{
	struct eta_step v[2];
	struct eta e;
	int i;

	for (i = 0; i < 2; i++) {
		step_init(&v[i], 10 * MIN);
		v[i].done = 1;
		v[i].start = T0;
		v[i].actual = (i + 1) * 4 * MIN;
		v[i].end = T0 + v[i].actual;
	}
	eta_compute(v, 2, T0, T0 + 8 * MIN, &e);
	assert_true(e.complete);
	assert_int_equal(e.remaining, 0);
	assert_int_equal(e.path_ms, 8 * MIN);
	assert_int_equal(e.plan_ms, 10 * MIN);
	assert_int_equal(e.finish, T0 + 8 * MIN);
	assert_false(v[0].critical);
	assert_true(v[1].critical);
}

/* A cycle (lint refuses them) is cut, not followed forever. */
static void
test_cycle(void **unused)
{
	static const size_t d0[] = { 0 }, d1[] = { 1 };
	struct eta_step v[2];
	struct eta e;

	step_init(&v[0], 1 * MIN);
	step_init(&v[1], 2 * MIN);
	v[0].deps = d1;
	v[1].deps = d0;
	v[0].ndeps = v[1].ndeps = 1;
	eta_compute(v, 2, T0, T0, &e);
	assert_int_equal(e.path_ms, 3 * MIN);
}

/* A phase's plan follows only the needs inside it. */
static void
test_plan_within(void **unused)
{
	static const size_t d0[] = { 0 }, d1[] = { 1 };
	static const unsigned char second[] = { 0, 1, 1 }, all[] = { 1, 1, 1 };
	struct eta_step v[3];

	step_init(&v[0], 10 * MIN);
	step_init(&v[1], 3 * MIN);
	step_init(&v[2], -1);
	v[1].deps = d0;
	v[2].deps = d1;
	v[1].ndeps = v[2].ndeps = 1;
	assert_int_equal(eta_plan_within(v, 3, second), 3 * MIN);
	assert_int_equal(eta_plan_within(v, 3, all), 13 * MIN);
}

static void
lanes_init(struct eta_step *v, int parallel)
{
	size_t k;

	step_init(&v[0], 5 * MIN);
	for (k = 0; k < NLANES; k++) {
		step_init(&v[1 + k], (int64_t)k * MIN);
		step_init(&v[11 + k], 1 * MIN);
		v[1 + k].deps = lane_d0;
		v[1 + k].ndeps = 1;
		lane_da[k][0] = 1 + k;
		v[11 + k].deps = lane_da[k];
		v[11 + k].ndeps = 1;
		v[1 + k].group = v[11 + k].group = 1;
		v[1 + k].parallel = v[11 + k].parallel = parallel;
		lane_db[k] = 11 + k;
	}
	step_init(&v[21], 1 * MIN);
	v[21].deps = lane_db;
	v[21].ndeps = NLANES;
}

/* 10 entities on 3 slots from T+5: the a's take the slots as they free
 * (a@3 at 5, a@6 at 8, a@9 at 14, ending at 23), the b's follow from 17
 * and b@9 ends at 24; with end, 25 min, through a@3, a@6, a@9 and b@9. */
static void
test_lanes_parallel(void **unused)
{
	static const int crit[] = { 0, 4, 7, 10, 20, 21 };
	struct eta_step v[NV];
	unsigned char mask[NV] = { 0 };
	struct eta e;
	size_t k, ncrit = 0;

	lanes_init(v, 3);
	eta_compute(v, NV, T0, T0, &e);
	assert_int_equal(e.path_ms, 25 * MIN);
	assert_int_equal(e.plan_ms, 25 * MIN);
	assert_int_equal(e.finish, T0 + 25 * MIN);
	assert_int_equal(v[20].finish, T0 + 24 * MIN); /* b@9 */
	assert_int_equal(v[17].finish, T0 + 22 * MIN); /* b@6 */
	assert_int_equal(v[10].finish, T0 + 23 * MIN); /* a@9 */
	assert_int_equal(v[14].path, 21 * MIN);        /* b@3 */
	assert_int_equal(v[10].after, 1 + 7);          /* a@9 after a@6 */
	for (k = 0; k < sizeof crit / sizeof crit[0]; k++)
		assert_true(v[crit[k]].critical);
	for (k = 0; k < NV; k++)
		ncrit += v[k].critical;
	assert_int_equal(ncrit, sizeof crit / sizeof crit[0]);
	for (k = 1; k <= 2 * NLANES; k++)
		mask[k] = 1;
	assert_int_equal(eta_plan_within(v, NV, mask), 19 * MIN);

	/* As many slots as entities: only the longest lane counts. */
	lanes_init(v, NLANES);
	eta_compute(v, NV, T0, T0, &e);
	assert_int_equal(e.path_ms, 16 * MIN);
	assert_int_equal(e.finish, T0 + 16 * MIN);
	/* One slot: every instance after the other, 55 min of them. */
	lanes_init(v, 0);
	eta_compute(v, NV, T0, T0, &e);
	assert_int_equal(e.path_ms, 61 * MIN);
}

/* Instances under way keep their slots until their forecast end; the
 * rest are scheduled from now. */
static void
test_lanes_running(void **unused)
{
	struct eta_step v[NV];
	struct eta e;

	lanes_init(v, 3);
	v[0].done = 1;
	v[0].actual = 5 * MIN;
	v[0].start = T0;
	v[0].end = T0 + 5 * MIN;
	v[9].active = v[10].active = 1; /* a@8, a@9 */
	v[9].start = v[10].start = T0 + 5 * MIN;
	eta_compute(v, NV, T0, T0 + 5 * MIN, &e);
	assert_int_equal(v[9].finish, T0 + 13 * MIN);  /* a@8 */
	assert_int_equal(v[5].finish, T0 + 15 * MIN);  /* a@4 */
	assert_int_equal(v[8].finish, T0 + 22 * MIN);  /* a@7 */
	assert_int_equal(v[11].finish, T0 + 19 * MIN); /* b@0 */
	assert_int_equal(v[19].finish, T0 + 23 * MIN); /* b@8 */
	assert_int_equal(v[20].finish, T0 + 24 * MIN); /* b@9 */
	assert_int_equal(e.finish, T0 + 25 * MIN);
	assert_int_equal(e.remaining, 20 * MIN);
}

/* An instance that waits for a person holds no slot: on one slot, two
 * entities' a (1 min) then a checkpoint c (10 min) end at 12, not 22. */
static void
test_lanes_person(void **unused)
{
	static const size_t d0[] = { 0 }, d1[] = { 1 };
	struct eta_step v[4];
	struct eta e;
	size_t k;

	for (k = 0; k < 4; k++) {
		step_init(&v[k], k < 2 ? 1 * MIN : 10 * MIN);
		v[k].group = 1;
		v[k].parallel = 1;
	}
	v[2].person = v[3].person = 1;
	v[2].deps = d0;
	v[3].deps = d1;
	v[2].ndeps = v[3].ndeps = 1;
	eta_compute(v, 4, T0, T0, &e);
	assert_int_equal(v[1].finish, T0 + 2 * MIN);
	assert_int_equal(v[2].finish, T0 + 11 * MIN);
	assert_int_equal(e.finish, T0 + 12 * MIN);
	assert_int_equal(e.path_ms, 12 * MIN);
	v[2].person = v[3].person = 0;
	eta_compute(v, 4, T0, T0, &e);
	assert_int_equal(e.finish, T0 + 22 * MIN);
}

/* An instance: its own rehearsal, else the step's median over entities,
 * else planned; a plain step has no median. */
static void
test_lanes_median(void **unused)
{
	struct eta_step v[NV];
	struct eta e;

	lanes_init(v, NLANES);
	v[10].median = 2 * MIN;               /* a@9: planned 9 */
	v[9].median = 2 * MIN;                /* a@8: planned 8 ... */
	v[9].rehearsal = 3 * MIN;             /* ... its own time wins */
	v[0].median = 1 * MIN;                /* not an instance */
	eta_compute(v, NV, T0, T0, &e);
	assert_int_equal(v[10].source, ETA_MEDIAN);
	assert_int_equal(v[10].estimate, 2 * MIN);
	assert_string_equal(eta_source_name(v[10].source), "median");
	assert_int_equal(v[9].source, ETA_REHEARSAL);
	assert_int_equal(v[9].estimate, 3 * MIN);
	assert_int_equal(v[0].source, ETA_PLANNED);
	/* the longest lane is now entity 7's: 8 min */
	assert_int_equal(e.path_ms, 14 * MIN);
}

/* No steps: nothing to wait for. */
static void
test_empty(void **unused)
{
	struct eta e;

	eta_compute(NULL, 0, T0, T0 + S, &e);
	assert_int_equal(e.path_ms, 0);
	assert_int_equal(e.finish, T0 + S);
	assert_int_equal(e.remaining, 0);
	assert_false(e.planned);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_diamond),
		cmocka_unit_test(test_sources),
		cmocka_unit_test(test_running_long),
		cmocka_unit_test(test_anchored_at_now),
		cmocka_unit_test(test_complete),
		cmocka_unit_test(test_cycle),
		cmocka_unit_test(test_plan_within),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_lanes_parallel),
		cmocka_unit_test(test_lanes_running),
		cmocka_unit_test(test_lanes_person),
		cmocka_unit_test(test_lanes_median),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
