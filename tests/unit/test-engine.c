/* test-engine.c - the state machine: ordering, retries, verify, people. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "engine.h"
#include "loop.h"
#include "step-kind.h"

struct fixture {
	char dir[64];
	char path[96];
	struct runbook *rb;
	struct state *st;
	struct engine *e;
};

static const char *text =
    "cutover: 1\n"
    "name: eng\n"
    "phases:\n"
    "  - id: p1\n"
    "    steps:\n"
    "      - {id: ok, type: local, run: 'true'}\n"
    "      - {id: verified, type: local, run: 'true', verify: 'false'}\n"
    "  - id: p2\n"
    "    steps:\n"
    "      - {id: flaky, type: local, run: 'false', retries: 2, needs: []}\n"
    "      - {id: person, type: manual, needs: [ok]}\n"
    "      - {id: gate, type: checkpoint, approvals: 1, needs: [person]}\n"
    "      - {id: remote, type: local, needs: [],\n"
    "         run: 'echo ${env:CUTOVER_TEST_UNSET}'}\n"
    "targets:\n"
    "  db: {type: postgres, conninfo: 'dbname=x'}\n";

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	struct engine_opts o = { 0 };
	struct diags d = { 0 };
	char *err = NULL;

	snprintf(f->dir, sizeof f->dir, "/tmp/cutover-eng.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof f->path, "%s/s.db", f->dir);
	if (runbook_load_buffer("eng.yaml", text, strlen(text), &f->rb, &d) != 0)
		diags_print(&d, stderr);
	assert_non_null(f->rb);
	assert_int_equal(state_open(f->path, 1, &f->st, &err), STATE_OK);
	o.drive = ENGINE_DRIVE;
	o.create = 1;
	o.quiet = 1;
	assert_int_equal(engine_open(f->rb, f->st, &o, &f->e), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	engine_close(f->e);
	state_close(f->st);
	runbook_free(f->rb);
	snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static enum step_state
st(struct fixture *f, const char *id)
{
	return engine_find(f->e, id)->state;
}

static void
test_verify_fails(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(engine_set_until(f->e, "verified"), 0);
	assert_int_equal(engine_run(f->e), EXIT_FAILED);
	assert_int_equal(st(f, "ok"), ST_SUCCEEDED);
	assert_int_equal(st(f, "verified"), ST_FAILED);
	assert_string_equal(engine_find(f->e, "verified")->note,
	    "verify failed: exited with status 1");
	assert_int_equal(st(f, "flaky"), ST_PENDING);
}

static void
test_retries(void **state)
{
	struct fixture *f = *state;

	/* flaky fails after 1 + 2 retries: exit 1. */
	assert_int_equal(engine_set_until(f->e, "flaky"), 0);
	assert_int_equal(engine_run(f->e), EXIT_FAILED);
	assert_int_equal(st(f, "flaky"), ST_FAILED);
	assert_int_equal(engine_find(f->e, "flaky")->attempts, 3);
	assert_int_equal(st(f, "ok"), ST_PENDING);
}

static void
test_unset_env(void **state)
{
	struct fixture *f = *state;

	/* A command that cannot be expanded fails its attempt, clearly. */
	unsetenv("CUTOVER_TEST_UNSET");
	assert_int_equal(engine_set_until(f->e, "remote"), 0);
	assert_int_equal(engine_run(f->e), EXIT_FAILED);
	assert_int_equal(st(f, "remote"), ST_FAILED);
	assert_string_equal(engine_find(f->e, "remote")->note,
	    "environment variable CUTOVER_TEST_UNSET is not set");
	assert_int_equal(engine_find(f->e, "remote")->attempts, 1);
	assert_int_equal(st(f, "ok"), ST_PENDING);
}

static void
test_people(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(engine_set_until(f->e, "gate"), 0);
	assert_int_equal(engine_run(f->e), EXIT_WAITING);
	assert_int_equal(st(f, "person"), ST_AWAITING);
	assert_int_equal(engine_decide(f->e, engine_find(f->e, "gate"), 1, "x"),
	    EXIT_CONFLICT);
	assert_int_equal(engine_confirm(f->e, engine_find(f->e, "person"),
	    "done"), EXIT_DONE);
	assert_int_equal(engine_run(f->e), EXIT_WAITING);
	assert_int_equal(st(f, "gate"), ST_AWAITING);
	assert_int_equal(engine_decide(f->e, engine_find(f->e, "gate"), 1,
	    "fine"), EXIT_DONE);
	assert_int_equal(st(f, "gate"), ST_SUCCEEDED);
	assert_int_equal(engine_run(f->e), EXIT_DONE);
}

static void
test_no_go(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(engine_set_until(f->e, "gate"), 0);
	assert_int_equal(engine_run(f->e), EXIT_WAITING);
	assert_int_equal(engine_confirm(f->e, engine_find(f->e, "person"),
	    NULL), EXIT_DONE);
	assert_int_equal(engine_run(f->e), EXIT_WAITING);
	assert_int_equal(engine_decide(f->e, engine_find(f->e, "gate"), 0,
	    "counts differ"), EXIT_DONE);
	assert_int_equal(st(f, "gate"), ST_FAILED);
	assert_int_equal(engine_run(f->e), EXIT_FAILED);
}

/* The lifecycle table: kinds, states and refusals. */
static void
test_lifecycle(void **state)
{
	struct fixture *f = *state;
	struct engine_step *ok = engine_find(f->e, "ok");
	struct engine_step *gate = engine_find(f->e, "gate");
	const char *why;

	assert_int_equal(engine_may(f->e, ok, ENGINE_RUN, &why), 0);
	assert_null(why);
	assert_int_equal(engine_may(f->e, engine_find(f->e, "person"),
	    ENGINE_RUN, &why), EXIT_USAGE);
	assert_int_equal(engine_may(f->e, gate, ENGINE_CONFIRM, &why),
	    EXIT_USAGE);
	assert_int_equal(engine_may(f->e, ok, ENGINE_CONFIRM, &why),
	    EXIT_CONFLICT);
	assert_string_equal(why, "ok is pending, not awaiting a person; "
	    "nothing to confirm");
	assert_int_equal(engine_may(f->e, ok, ENGINE_DECIDE, &why), EXIT_USAGE);
	assert_int_equal(engine_may(f->e, ok, ENGINE_SKIP, &why), 0);
	assert_int_equal(engine_which_retry(ok), ENGINE_RETRY);
	assert_false(engine_needs_id(f->e, ok, ENGINE_SKIP));
	/* A no-go stands: the gate cannot be skipped, nor decided again. */
	gate->state = ST_FAILED;
	assert_int_equal(engine_may(f->e, gate, ENGINE_SKIP, &why),
	    EXIT_CONFLICT);
	assert_int_equal(engine_may(f->e, gate, ENGINE_DECIDE, &why),
	    EXIT_CONFLICT);
	ok->state = ST_FAILED;
	assert_int_equal(engine_may(f->e, ok, ENGINE_SKIP, &why), 0);
	assert_int_equal(engine_may(f->e, ok, ENGINE_RETRY, &why), 0);
}

static int deferred_runs;
static struct loop *test_loop;

static void
on_deferred(void *arg)
{
	deferred_runs++;
	if (arg != NULL) /* defers itself again: runs on the next pass */
		loop_defer(test_loop, on_deferred, NULL);
}

static void
on_before(void *arg)
{
	if (deferred_runs >= 2)
		loop_break(test_loop);
}

/* Deferred calls run once before poll, never sleeping while any wait. */
static void
test_loop_defer(void **state)
{
	int64_t t0;

	(void)state;
	test_loop = loop_new();
	deferred_runs = 0;
	loop_defer(test_loop, on_deferred, test_loop);
	loop_defer(test_loop, on_deferred, test_loop); /* the same: once */
	loop_before_poll(test_loop, on_before, NULL);
	t0 = loop_now();
	loop_once(test_loop, 5000);
	assert_int_equal(deferred_runs, 1);
	loop_once(test_loop, 5000); /* the second runs; the hook breaks */
	assert_int_equal(deferred_runs, 2);
	assert_true(loop_now() - t0 < 1000);
	loop_before_poll_remove(test_loop, on_before, NULL);
	loop_free(test_loop);
}

static void
on_cancel_other(void *arg)
{
	loop_defer_cancel(test_loop, on_deferred, arg);
}

/* A cancelled deferred call never runs, even when cancelled by an earlier
 * call of the same pass (its argument may be gone by then). */
static void
test_loop_defer_cancel(void **state)
{
	int token;

	(void)state;
	test_loop = loop_new();
	deferred_runs = 0;
	loop_defer(test_loop, on_deferred, NULL);
	loop_defer_cancel(test_loop, on_deferred, NULL);
	loop_once(test_loop, 0);
	assert_int_equal(deferred_runs, 0);
	loop_defer(test_loop, on_cancel_other, &token);
	loop_defer(test_loop, on_deferred, &token);
	loop_once(test_loop, 0);
	assert_int_equal(deferred_runs, 0);
	loop_free(test_loop);
}

/* Every type has one row: its name, an executor or a person, an undo. */
static void
test_step_kinds(void **state)
{
	struct rb_step def = { 0 };
	const struct step_kind *k;
	int t;

	(void)state;
	for (t = 0; t < STEP_NTYPES; t++) {
		k = step_kind((enum step_type)t);
		assert_non_null(k);
		assert_int_equal(k->type, t);
		assert_string_equal(k->name, step_type_name((enum step_type)t));
		assert_true((k->ops != NULL) == (k->who == WHO_ENGINE));
		assert_true((k->who != WHO_ENGINE) == (k->by != NULL));
		assert_non_null(k->undo_how);
	}
	assert_null(step_kind(STEP_NTYPES));
	def.type = STEP_LOCAL;
	assert_int_equal(step_kind_undo(&def), UNDO_PERSON);
	def.rollback = "undo";
	assert_int_equal(step_kind_undo(&def), UNDO_ACTION);
	def.type = STEP_MANUAL;
	assert_int_equal(step_kind_undo(&def), UNDO_PERSON);
	def.type = STEP_RECONCILE;
	assert_int_equal(step_kind_undo(&def), UNDO_NOTHING);
	def.type = STEP_CHECKPOINT;
	assert_int_equal(step_kind_undo(&def), UNDO_GATE);
}

static const char *lanes_text =
    "cutover: 1\n"
    "name: lanes\n"
    "entities:\n"
    "  - {id: e1, wave: a}\n"
    "  - {id: e2, wave: b}\n"
    "  - {id: e3, wave: b}\n"
    "  - {id: e4, wave: a}\n"
    "phases:\n"
    "  - id: p0\n"
    "    steps:\n"
    "      - {id: first, type: local, run: 'true'}\n"
    "  - id: p1\n"
    "    for_each: entity\n"
    "    steps:\n"
    "      - {id: x, type: local, run: 'true'}\n"
    "      - {id: y, type: local, run: 'true'}\n"
    "  - id: p2\n"
    "    steps:\n"
    "      - {id: last, type: local, run: 'true'}\n";

/* The step table of a selection: instances, their ids, lanes, fan-in. */
static void
test_lanes_table(void **state)
{
	struct engine_opts o = { 0 };
	struct diags d = { 0 };
	struct runbook *rb = NULL;
	struct state *st = NULL;
	struct engine *e = NULL;
	struct engine_step *s;
	char dir[64], path[96], cmd[128], *err = NULL, *why;
	static const char *ids[] = { "first", "x@e1", "x@e3", "x@e4", "y@e1",
	    "y@e3", "y@e4", "last" };
	size_t i;

	(void)state;
	snprintf(dir, sizeof dir, "/tmp/cutover-lanes.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/s.db", dir);
	assert_int_equal(runbook_load_buffer("lanes.yaml", lanes_text,
	    strlen(lanes_text), &rb, &d), 0);
	assert_int_equal(state_open(path, STATE_CREATE, &st, &err), STATE_OK);
	o.drive = ENGINE_DRIVE;
	o.create = 1;
	o.quiet = 1;
	o.selection = "wave:nope";
	assert_int_equal(engine_open(rb, st, &o, &e), EXIT_USAGE);
	o.selection = "wave:a,entity:e3";
	assert_int_equal(engine_open(rb, st, &o, &e), 0);
	assert_int_equal(engine_nentities(e), 3);
	assert_string_equal(engine_selection_text(e), "wave a, e3");
	assert_int_equal(engine_nsteps(e), 8);
	for (i = 0; i < 8; i++)
		assert_string_equal(engine_step_at(e, i)->id, ids[i]);
	/* y@e3 needs x@e3 only; x@e1 needs first; last needs the phase. */
	s = engine_find(e, "y@e3");
	assert_non_null(s);
	assert_int_equal(s->ndeps, 1);
	assert_string_equal(engine_step_at(e, s->deps[0])->id, "x@e3");
	s = engine_find(e, "x@e1");
	assert_int_equal(s->ndeps, 1);
	assert_string_equal(engine_step_at(e, s->deps[0])->id, "first");
	s = engine_find(e, "last");
	assert_int_equal(s->ndeps, 6); /* every x and y */
	assert_null(engine_find(e, "x"));
	assert_null(engine_find(e, "x@e2")); /* not in the selection */
	why = engine_find_why(e, "x");
	assert_string_equal(why, "x runs once per entity: name an instance, "
	    "e.g. x@e1");
	free(why);
	/* Run it: all done; then the run is complete. */
	assert_int_equal(engine_run(e), EXIT_DONE);
	assert_int_equal(engine_entity_state(e, runbook_entity_find(rb, "e4")),
	    ENT_DONE);
	engine_close(e);
	/* Another selection for the same run is refused. */
	o.selection = "wave:b";
	assert_int_equal(engine_open(rb, st, &o, &e), EXIT_USAGE);
	state_close(st);
	runbook_free(rb);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

/* An excluded entity's instances do not hold the fan-in back. */
static void
test_lanes_exclude(void **state)
{
	struct engine_opts o = { 0 };
	struct diags d = { 0 };
	struct runbook *rb = NULL;
	struct state *st = NULL;
	struct engine *e = NULL;
	struct engine_step *s;
	char dir[64], path[96], cmd[128], *err = NULL;

	(void)state;
	snprintf(dir, sizeof dir, "/tmp/cutover-lanes.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/s.db", dir);
	assert_int_equal(runbook_load_buffer("lanes.yaml", lanes_text,
	    strlen(lanes_text), &rb, &d), 0);
	assert_int_equal(state_open(path, STATE_CREATE, &st, &err), STATE_OK);
	o.drive = ENGINE_DRIVE;
	o.create = 1;
	o.quiet = 1;
	assert_int_equal(engine_open(rb, st, &o, &e), 0);
	assert_int_equal(engine_exclude(e, runbook_entity_find(rb, "e2"),
	    "closed"), 0);
	assert_int_equal(engine_find(e, "x@e2")->state, ST_EXCLUDED);
	assert_int_equal(engine_entity_state(e, runbook_entity_find(rb, "e2")),
	    ENT_EXCLUDED);
	assert_string_equal(engine_entity_reason(e,
	    runbook_entity_find(rb, "e2")), "closed");
	assert_int_equal(engine_exclude(e, runbook_entity_find(rb, "e2"),
	    "again"), EXIT_CONFLICT);
	assert_int_equal(engine_run(e), EXIT_DONE);
	s = engine_find(e, "last");
	assert_int_equal(s->state, ST_SUCCEEDED);
	engine_close(e);
	state_close(st);
	runbook_free(rb);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

static const char *places_text =
    "cutover: 1\n"
    "name: places\n"
    "entities: [{id: e1}, {id: e2}, {id: e3}]\n"
    "phases:\n"
    "  - id: p\n"
    "    for_each: entity\n"
    "    parallel: 1\n"
    "    steps:\n"
    "      - {id: x, type: local, run: 'true'}\n"
    "      - {id: m, type: manual}\n";

/* Open places_text's run in state file path (a new engine each time). */
static struct engine *
places_open(struct runbook *rb, struct state *st)
{
	struct engine_opts o = { 0 };
	struct engine *e = NULL;

	o.drive = ENGINE_DRIVE;
	o.create = 1;
	o.quiet = 1;
	assert_int_equal(engine_open(rb, st, &o, &e), 0);
	return e;
}

/* One place: an entity waiting for a person keeps it, also for the next
 * driver (places come from the stored states); the next entity in order
 * takes it once the lane is finished. */
static void
test_lanes_places(void **state)
{
	struct diags d = { 0 };
	struct runbook *rb = NULL;
	struct state *st = NULL;
	struct engine *e;
	char dir[64], path[96], cmd[128], *err = NULL;

	(void)state;
	snprintf(dir, sizeof dir, "/tmp/cutover-lanes.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/s.db", dir);
	assert_int_equal(runbook_load_buffer("places.yaml", places_text,
	    strlen(places_text), &rb, &d), 0);
	assert_int_equal(state_open(path, STATE_CREATE, &st, &err), STATE_OK);
	e = places_open(rb, st);
	assert_int_equal(engine_run(e), EXIT_WAITING);
	assert_int_equal(engine_find(e, "m@e1")->state, ST_AWAITING);
	assert_int_equal(engine_find(e, "x@e2")->state, ST_PENDING);
	assert_int_equal(engine_find(e, "x@e3")->state, ST_PENDING);
	engine_close(e);
	e = places_open(rb, st); /* a new driver: e1 still holds the place */
	assert_int_equal(engine_run(e), EXIT_WAITING);
	assert_int_equal(engine_find(e, "x@e2")->state, ST_PENDING);
	assert_int_equal(engine_confirm(e, engine_find(e, "m@e1"), "ok"), 0);
	assert_int_equal(engine_run(e), EXIT_WAITING);
	assert_int_equal(engine_find(e, "m@e2")->state, ST_AWAITING);
	assert_int_equal(engine_find(e, "x@e3")->state, ST_PENDING);
	/* An excluded entity gives its place up. */
	assert_int_equal(engine_exclude(e, runbook_entity_find(rb, "e2"),
	    "closed"), 0);
	assert_int_equal(engine_run(e), EXIT_WAITING);
	assert_int_equal(engine_find(e, "m@e3")->state, ST_AWAITING);
	engine_close(e);
	state_close(st);
	runbook_free(rb);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_verify_fails, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_retries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unset_env, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_people, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_go, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lifecycle, setup, teardown),
		cmocka_unit_test(test_step_kinds),
		cmocka_unit_test(test_loop_defer),
		cmocka_unit_test(test_loop_defer_cancel),
		cmocka_unit_test(test_lanes_table),
		cmocka_unit_test(test_lanes_exclude),
		cmocka_unit_test(test_lanes_places),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
