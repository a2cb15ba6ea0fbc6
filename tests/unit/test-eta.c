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

/* A step not begun, planned (or -1), with no rehearsal. */
static void
step_init(struct eta_step *s, int64_t planned)
{
	memset(s, 0, sizeof *s);
	s->planned = planned;
	s->rehearsal = -1;
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
