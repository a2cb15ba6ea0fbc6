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
 * min, b@k 1 min; then 21 "end" (1 min) needs every b. Lanes take
 * places as the engine gives them: entity k keeps its place from a@k's
 * start to b@k's end, and a free place goes to the next entity. */
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
		v[1 + k].lane = v[11 + k].lane = 100 + k;
		v[1 + k].parallel = v[11 + k].parallel = parallel;
		lane_db[k] = 11 + k;
	}
	step_init(&v[21], 1 * MIN);
	v[21].deps = lane_db;
	v[21].ndeps = NLANES;
}

/* 10 entities on 3 places from T+5: lanes 0, 1, 2 start at 5 and end at
 * 6, 7, 8 (a lane takes k + 1 min); lane 3 takes lane 0's place at 6 (ends
 * 10), 4 at 7 (12), 5 at 8 (14), 6 at 10 (17), 7 at 12 (20), 8 at 14 (23),
 * 9 at 17 (27); with end, 28 min, through lanes 0, 3, 6 and 9, each
 * waiting for the place the one before freed. */
static void
test_lanes_parallel(void **unused)
{
	static const int crit[] = { 0, 1, 11, 4, 14, 7, 17, 10, 20, 21 };
	struct eta_step v[NV];
	unsigned char mask[NV] = { 0 };
	struct eta e;
	size_t k, ncrit = 0;

	lanes_init(v, 3);
	eta_compute(v, NV, T0, T0, &e);
	assert_int_equal(e.path_ms, 28 * MIN);
	assert_int_equal(e.plan_ms, 28 * MIN);
	assert_int_equal(e.finish, T0 + 28 * MIN);
	assert_int_equal(v[20].finish, T0 + 27 * MIN); /* b@9 */
	assert_int_equal(v[10].finish, T0 + 26 * MIN); /* a@9 from 17 */
	assert_int_equal(v[17].finish, T0 + 17 * MIN); /* b@6 */
	assert_int_equal(v[4].finish, T0 + 9 * MIN);   /* a@3 from 6 */
	assert_int_equal(v[12].finish, T0 + 7 * MIN);  /* b@1 right after a@1 */
	assert_int_equal(v[14].path, 10 * MIN);        /* b@3 */
	assert_int_equal(v[10].after, 1 + 17);         /* lane 9 after b@6 */
	assert_int_equal(v[4].after, 1 + 11);          /* lane 3 after b@0 */
	assert_int_equal(v[11].after, 0);              /* b@0: its own lane */
	for (k = 0; k < sizeof crit / sizeof crit[0]; k++)
		assert_true(v[crit[k]].critical);
	for (k = 0; k < NV; k++)
		ncrit += v[k].critical;
	assert_int_equal(ncrit, sizeof crit / sizeof crit[0]);
	for (k = 1; k <= 2 * NLANES; k++)
		mask[k] = 1;
	assert_int_equal(eta_plan_within(v, NV, mask), 22 * MIN);

	/* As many places as entities: only the longest lane counts. */
	lanes_init(v, NLANES);
	eta_compute(v, NV, T0, T0, &e);
	assert_int_equal(e.path_ms, 16 * MIN);
	assert_int_equal(e.finish, T0 + 16 * MIN);
	/* One place: every lane after the other, 55 min of them. */
	lanes_init(v, 0);
	eta_compute(v, NV, T0, T0, &e);
	assert_int_equal(e.path_ms, 61 * MIN);
}

/* By clock: lanes 8 and 9, under way at T+5, keep their places to 14
 * and 15; the third place runs lanes 0 (to 6), 1 (to 8), 2 (to 11), 3 (to
 * 15); lane 4 takes lane 8's at 14, lanes 5 and 6 those of 9 and 3 at 15,
 * lane 7 lane 4's at 19 (a@7 to 26, b@7 to 27); end at 28. */
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
	assert_int_equal(v[19].finish, T0 + 14 * MIN); /* b@8 */
	assert_int_equal(v[20].finish, T0 + 15 * MIN); /* b@9 */
	assert_int_equal(v[11].finish, T0 + 6 * MIN);  /* b@0 */
	assert_int_equal(v[3].finish, T0 + 10 * MIN);  /* a@2 from 8 */
	assert_int_equal(v[5].finish, T0 + 18 * MIN);  /* a@4 from 14 */
	assert_int_equal(v[7].finish, T0 + 21 * MIN);  /* a@6 from 15 */
	assert_int_equal(v[8].finish, T0 + 26 * MIN);  /* a@7 from 19 */
	assert_int_equal(e.finish, T0 + 28 * MIN);
	assert_int_equal(e.remaining, 23 * MIN);

	/* A lane whose instances are all done holds no place: lane 8 done,
	 * lane 9 under way; lanes 0 .. 7 share two places from now. */
	v[9].active = 0;
	v[9].done = v[19].done = 1;
	v[9].actual = v[19].actual = 1 * MIN;
	v[9].end = T0 + 6 * MIN;
	v[19].start = T0 + 6 * MIN;
	v[19].end = T0 + 7 * MIN;
	eta_compute(v, NV, T0, T0 + 7 * MIN, &e);
	assert_int_equal(v[11].finish, T0 + 8 * MIN); /* b@0: 7 to 8 */
	assert_int_equal(v[12].finish, T0 + 9 * MIN); /* b@1: 7 to 9 */
}

/* A lane waiting for a person keeps its place: on one place, entity 1's
 * a (1 min) then checkpoint c (10 min) end at 11, and entity 2's lane
 * starts then and ends at 22. */
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
		v[k].lane = k % 2;
	}
	v[2].deps = d0;
	v[3].deps = d1;
	v[2].ndeps = v[3].ndeps = 1;
	eta_compute(v, 4, T0, T0, &e);
	assert_int_equal(v[2].finish, T0 + 11 * MIN);
	assert_int_equal(v[1].finish, T0 + 12 * MIN);
	assert_int_equal(e.finish, T0 + 22 * MIN);
	assert_int_equal(e.path_ms, 22 * MIN);
	/* c@1 under way (waiting at the checkpoint) keeps the place. */
	v[0].done = 1;
	v[0].actual = 1 * MIN;
	v[0].start = T0;
	v[0].end = T0 + 1 * MIN;
	v[2].active = 1;
	v[2].start = T0 + 1 * MIN;
	eta_compute(v, 4, T0, T0 + 20 * MIN, &e);
	assert_int_equal(v[1].finish, T0 + 21 * MIN);
	assert_int_equal(e.finish, T0 + 31 * MIN);
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
