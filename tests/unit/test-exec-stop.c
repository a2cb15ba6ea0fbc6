/* test-exec-stop.c - the executors' stop policy on a real loop. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "duration.h"
#include "exec-stop.h"
#include "loop.h"

#define TIMEOUT_MS 20
#define GRACE_MS 60

/* A stand-in executor: counts what the policy asked of it. */
struct fake {
	struct loop *loop;
	struct exec_stop *stop;
	int running; /* something runs on the "server" */
	int ends_in_cancel; /* the cancel ends it before returning */
	int cancels, give_ups, finished;
	int timed_out_at_cancel;
	char *why_at_cancel, *why_at_finish;
};

static int fake_cancel(void *);
static void fake_give_up(void *);
static void fake_finish(struct fake *);
static void fake_init(struct fake *, int);
static void fake_free(struct fake *);
static void run_for(struct loop *, int64_t);
static void run_until(struct loop *, const int *);

static const struct exec_stop_ops fake_ops = {
	.cancel = fake_cancel,
	.give_up = fake_give_up,
};

static int
fake_cancel(void *arg)
{
	struct fake *f = arg;
	const char *why = exec_stop_why(f->stop);

	f->cancels++;
	f->timed_out_at_cancel = exec_stop_timed_out(f->stop);
	free(f->why_at_cancel);
	f->why_at_cancel = why != NULL ? strdup(why) : NULL;
	if (!f->running) {
		fake_finish(f);
		return 0;
	}
	if (f->ends_in_cancel)
		fake_finish(f);
	return 1;
}

static void
fake_give_up(void *arg)
{
	struct fake *f = arg;

	f->give_ups++;
	f->running = 0;
	fake_finish(f);
}

static void
fake_finish(struct fake *f)
{
	const char *why = exec_stop_why(f->stop);

	f->finished++;
	f->why_at_finish = why != NULL ? strdup(why) : NULL;
	exec_stop_finish(f->stop);
}

static void
fake_init(struct fake *f, int running)
{
	memset(f, 0, sizeof *f);
	f->loop = loop_new();
	f->running = running;
	f->stop = exec_stop_new(f->loop, &fake_ops, f, GRACE_MS);
}

static void
fake_free(struct fake *f)
{
	exec_stop_free(f->stop);
	loop_free(f->loop);
	free(f->why_at_cancel);
	free(f->why_at_finish);
}

/* Turn the loop for ms milliseconds. */
static void
run_for(struct loop *loop, int64_t ms)
{
	int64_t end = loop_now() + ms, now;

	while ((now = loop_now()) < end)
		loop_once(loop, (int)(end - now));
}

/* Turn the loop until *flag is set (at most 10 s: a hang is a failure). */
static void
run_until(struct loop *loop, const int *flag)
{
	int64_t end = loop_now() + 10000;

	while (!*flag && loop_now() < end)
		loop_once(loop, 100);
	assert_true(*flag);
}

/* The deadline marks the attempt, gives its reason, cancels once; the
 * grace then gives up. */
static void
test_timeout_cancel_grace(void **state)
{
	struct fake f;
	char *want = duration_timed_out(TIMEOUT_MS);
	int64_t t0;

	(void)state;
	fake_init(&f, 1);
	t0 = loop_now();
	exec_stop_arm(f.stop, TIMEOUT_MS);
	assert_null(exec_stop_why(f.stop));
	run_until(f.loop, &f.cancels);
	assert_true(loop_now() - t0 >= TIMEOUT_MS);
	assert_int_equal(f.cancels, 1);
	assert_int_equal(f.timed_out_at_cancel, 1);
	assert_string_equal(f.why_at_cancel, want);
	assert_memory_equal(want, "timed out after ", 16);
	assert_int_equal(f.give_ups, 0);

	/* Within the grace: a second stop sends nothing, keeps the reason. */
	exec_stop_cancel(f.stop, "stopped by alice");
	assert_int_equal(f.cancels, 1);
	assert_string_equal(exec_stop_why(f.stop), want);

	t0 = loop_now();
	run_until(f.loop, &f.give_ups);
	assert_true(loop_now() - t0 >= GRACE_MS - 5);
	assert_int_equal(f.give_ups, 1);
	assert_int_equal(f.finished, 1);
	assert_string_equal(f.why_at_finish, want);
	assert_int_equal(exec_stop_timed_out(f.stop), 1);
	run_for(f.loop, GRACE_MS + TIMEOUT_MS);
	assert_int_equal(f.cancels, 1);
	assert_int_equal(f.give_ups, 1);
	free(want);
	fake_free(&f);
}

/* Finished before the deadline: nothing fires, later stops do nothing. */
static void
test_finish_before_deadline(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f, 1);
	exec_stop_arm(f.stop, TIMEOUT_MS);
	fake_finish(&f);
	run_for(f.loop, TIMEOUT_MS + GRACE_MS + 40);
	exec_stop_cancel(f.stop, "late");
	assert_int_equal(f.cancels, 0);
	assert_int_equal(f.give_ups, 0);
	assert_int_equal(exec_stop_timed_out(f.stop), 0);
	assert_null(exec_stop_why(f.stop));
	fake_free(&f);
}

/* Finished during the grace (the server ended the statement): no give-up. */
static void
test_finish_within_grace(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f, 1);
	exec_stop_cancel(f.stop, "stopped by alice");
	assert_int_equal(f.cancels, 1);
	assert_int_equal(f.timed_out_at_cancel, 0);
	assert_string_equal(f.why_at_cancel, "stopped by alice");
	run_for(f.loop, GRACE_MS / 4);
	fake_finish(&f);
	run_for(f.loop, GRACE_MS + 40);
	assert_int_equal(f.give_ups, 0);
	assert_int_equal(f.finished, 1);
	fake_free(&f);
}

/* Nothing runs: the cancel finishes at once, no grace follows; no reason
 * given reads "cancelled". */
static void
test_nothing_runs(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f, 0);
	exec_stop_arm(f.stop, 10 * TIMEOUT_MS);
	exec_stop_cancel(f.stop, NULL);
	assert_int_equal(f.cancels, 1);
	assert_int_equal(f.finished, 1);
	assert_string_equal(f.why_at_finish, "cancelled");
	run_for(f.loop, 10 * TIMEOUT_MS + GRACE_MS + 40);
	assert_int_equal(f.cancels, 1);
	assert_int_equal(f.give_ups, 0);
	assert_int_equal(exec_stop_timed_out(f.stop), 0);
	fake_free(&f);
}

/* The cancel ended the attempt before returning (a queued job): no grace
 * timer is left behind. */
static void
test_cancel_ends_at_once(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f, 1);
	f.ends_in_cancel = 1;
	exec_stop_arm(f.stop, TIMEOUT_MS);
	run_until(f.loop, &f.cancels);
	assert_int_equal(f.finished, 1);
	assert_int_equal(exec_stop_timed_out(f.stop), 1);
	run_for(f.loop, GRACE_MS + 40);
	assert_int_equal(f.cancels, 1);
	assert_int_equal(f.give_ups, 0);
	fake_free(&f);
}

/* No limit: the clock never runs out. */
static void
test_no_limit(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f, 1);
	exec_stop_arm(f.stop, 0);
	run_for(f.loop, 50);
	assert_int_equal(f.cancels, 0);
	fake_free(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timeout_cancel_grace),
		cmocka_unit_test(test_finish_before_deadline),
		cmocka_unit_test(test_finish_within_grace),
		cmocka_unit_test(test_nothing_runs),
		cmocka_unit_test(test_cancel_ends_at_once),
		cmocka_unit_test(test_no_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
