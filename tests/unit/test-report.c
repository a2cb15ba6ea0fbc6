/*
 * test-report.c - what reports say alike: durations for a person, local
 * times, reconcile verdicts, the entries of a stored result (and results
 * cut short or malformed), the tail of an output; entities, waves and
 * the spread of a step over entities, the selection in words.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "diag.h"
#include "report.h"
#include "runbook.h"

static const char *human(int64_t);
static void collect(const char *, const char *, void *);
static const char *verdict(const char *, enum step_state, double,
    enum report_rec *);
static void lane_step(struct runbook *, struct report_step *, const char *,
    size_t, enum step_state, int64_t, int64_t);

static const char *
human(int64_t ms)
{
	static char out[48];

	report_human(ms, out, sizeof out);
	return out;
}

static void
test_human(void **state)
{
	(void)state;
	assert_string_equal(human(-1), "-");
	assert_string_equal(human(0), "0s");
	assert_string_equal(human(250), "250ms");
	assert_string_equal(human(72000), "1m 12s");
	assert_string_equal(human(71600), "1m 12s"); /* rounded */
	assert_string_equal(human(3600000 + 5 * 60000 + 12000), "1h 5m 12s");
	assert_string_equal(human(45 * 60000), "45m");
}

static void
test_local_time(void **state)
{
	char out[96];

	(void)state;
	setenv("TZ", "Europe/Paris", 1);
	tzset();
	report_local_time(1800000000000LL, out, sizeof out);
	assert_string_equal(out, "2027-01-15 09:00:00 CET (UTC+01:00)");
	report_local_time(1815000000000LL, out, sizeof out);
	assert_string_equal(out, "2027-07-08 00:40:00 CEST (UTC+02:00)");
	setenv("TZ", "America/St_Johns", 1);
	tzset();
	report_local_time(1800000000000LL, out, sizeof out);
	assert_string_equal(out, "2027-01-15 04:30:00 NST (UTC-03:30)");
	report_local_time(-1, out, sizeof out);
	assert_string_equal(out, "-");
}

/* Entries as "name=value;" (name "-" in an array). */
static void
collect(const char *name, const char *value, void *arg)
{
	buf_printf(arg, "%s=%s;", name ? name : "-", value);
}

static void
test_result_each(void **state)
{
	const char *j = "{\"source_rows\":10,\"samples\":{\"missing\":"
			"[\"7\",\"a\\\"b\\u00e9\\ud83d\\ude00\\u001b\"],\"extra\":[],"
			"\"changed\":[[\"A\",1],[\"B\",null]]},"
			"\"changed_columns\":{\"e,m\":1,\"x\":22}}";
	struct buf b = { 0 };

	(void)state;
	assert_int_equal(report_result_each(j, "samples", "missing", collect,
	    &b), 2);
	assert_string_equal(buf_str(&b),
	    "-=7;-=a\"b\xc3\xa9\xf0\x9f\x98\x80\x1b;");
	buf_reset(&b);
	assert_int_equal(report_result_each(j, "samples", "extra", collect,
	    &b), 0);
	assert_int_equal(report_result_each(j, "samples", "changed", collect,
	    &b), 2);
	assert_string_equal(buf_str(&b), "-=(A, 1);-=(B, null);");
	buf_reset(&b);
	assert_int_equal(report_result_each(j, "changed_columns", NULL,
	    collect, &b), 2);
	assert_string_equal(buf_str(&b), "e,m=1;x=22;");
	assert_int_equal(report_result_each(j, "nothing", NULL, collect, &b),
	    -1);
	assert_int_equal(report_result_each(j, "source_rows", NULL, collect,
	    &b), -1);
	assert_int_equal(report_result_text(j, "source_rows", &b), 0);
	assert_string_equal(buf_str(&b), "10");
	buf_free(&b);
}

/* Cut short, unbalanced or odd: no crash, no read past the end. */
static void
test_result_malformed(void **state)
{
	static const char *bad[] = { "", "{", "{\"samples\"", "{\"samples\":",
		"{\"samples\":{\"missing\":[\"a", "{\"samples\":{\"missing\":[",
		"{\"samples\":{\"missing\":[\"\\u12\"]}}",
		"{\"samples\":{\"missing\":[\"\\",
		"{\"samples\":{\"missing\":[1 2 3]}}", "]]]]", "{\"a\":}}}",
		"{\"samples\":{\"missing\":[[[[[[\"x\"", "[\"samples\"]",
		"{\"samples\":{\"missing\":{\"k\"}}}", NULL };
	struct buf b = { 0 };
	size_t i;
	char *copy;

	(void)state;
	for (i = 0; bad[i] != NULL; i++) {
		/* An exact-size copy: a read past its end shows in ASan. */
		copy = strdup(bad[i]);
		report_result_each(copy, "samples", "missing", collect, &b);
		report_result_text(copy, "samples", &b);
		free(copy);
	}
	buf_free(&b);
}

/* The verdict of a reconcile step with result j, in state st. */
static const char *
verdict(const char *j, enum step_state st, double tol, enum report_rec *rc)
{
	static struct rb_step def;
	static struct report_step s;
	static char out[128];

	memset(&s, 0, sizeof s);
	def.tolerance = tol;
	s.def = tol >= 0 ? &def : NULL;
	s.row.state = st;
	s.row.result = (char *)j;
	*rc = report_reconcile(&s, out, sizeof out);
	return out;
}

static void
test_verdict(void **state)
{
	const char *clean = "{\"source_rows\":3,\"dest_rows\":3,\"matched\":3,"
			    "\"missing\":0,\"extra\":0,\"changed\":0}";
	const char *two = "{\"source_rows\":3,\"dest_rows\":2,\"matched\":1,"
			  "\"missing\":1,\"extra\":0,\"changed\":1}";
	enum report_rec rc;

	(void)state;
	assert_string_equal(verdict(clean, ST_SUCCEEDED, 0, &rc),
	    "passed: no differences");
	assert_int_equal(rc, REC_CLEAN);
	assert_string_equal(verdict(two, ST_SUCCEEDED, 2, &rc),
	    "passed within tolerance: 2 differences \xe2\x89\xa4 2");
	assert_int_equal(rc, REC_TOLERATED);
	assert_string_equal(verdict(two, ST_FAILED, 1, &rc),
	    "failed: 2 differences > 1");
	assert_int_equal(rc, REC_FAILED);
	assert_string_equal(verdict(two, ST_SUCCEEDED, -1, &rc),
	    "passed with differences (tolerance unknown)");
	assert_string_equal(verdict("{\"source_value\":\"1.5\",\"dest_value\":"
	    "\"1\",\"difference\":0.5}", ST_SUCCEEDED, 1, &rc),
	    "passed within tolerance: difference 0.5 \xe2\x89\xa4 1");
	assert_int_equal(rc, REC_TOLERATED);
	assert_string_equal(verdict("{\"source_value\":\"a\",\"dest_value\":"
	    "\"b\",\"difference\":null}", ST_FAILED, 0, &rc),
	    "failed: the values differ");
	assert_string_equal(verdict(NULL, ST_PENDING, 0, &rc), "no result");
	assert_int_equal(rc, REC_NONE);
}

static void
test_tail(void **state)
{
	struct attempt_row a;
	char out[] = "one\ntwo\nthree\nfour\n";

	(void)state;
	memset(&a, 0, sizeof a);
	a.output = out;
	a.output_len = strlen(out);
	assert_string_equal(out + report_tail(&a, 2, 100), "three\nfour\n");
	assert_string_equal(out + report_tail(&a, 10, 100), out);
	assert_string_equal(out + report_tail(&a, 10, 6), "four\n");
	a.output_len = 0;
	assert_int_equal(report_tail(&a, 2, 100), 0);
}

static const char lanes_rb[] =
    "cutover: 1\n"
    "name: lanes\n"
    "entities:\n"
    "  - {id: s1, wave: pilot}\n"
    "  - {id: s2, wave: pilot}\n"
    "  - {id: s3, wave: pilot}\n"
    "  - {id: s4, wave: late}\n"
    "  - {id: s5, wave: late}\n"
    "waves: [pilot, late]\n"
    "phases:\n"
    "  - id: p\n"
    "    for_each: entity\n"
    "    steps:\n"
    "      - {id: a, type: local, run: 'true'}\n"
    "      - {id: b, type: local, run: 'true'}\n";

/* Instance a@E or b@E of entity e (0-based), state st, from t0 for ms. */
static void
lane_step(struct runbook *rb, struct report_step *s, const char *step,
    size_t e, enum step_state st, int64_t t0, int64_t ms)
{
	memset(s, 0, sizeof *s);
	s->def = runbook_find_step(rb, step);
	s->entity = &rb->entities[e];
	s->row.state = st;
	s->start_ms = t0;
	s->end_ms = ms >= 0 ? t0 + ms : -1;
	s->actual_ms = ms;
}

/* Five entities in two waves: s1..s3 done (a: 10, 30, 20 s; b: 5 s), s4
 * failed at b, s5 not begun. */
static void
test_entities(void **state)
{
	static const int64_t a_ms[] = { 10000, 30000, 20000 };
	struct report_step steps[10];
	struct report_run r;
	struct report_lane_stat ls;
	struct runbook *rb;
	struct diags d = { 0 };
	char c[128];
	size_t e;

	(void)state;
	assert_int_equal(runbook_load_buffer("lanes.yaml", lanes_rb,
	    strlen(lanes_rb), &rb, &d), 0);
	for (e = 0; e < 3; e++) {
		lane_step(rb, &steps[2 * e], "a", e, ST_SUCCEEDED, 0, a_ms[e]);
		lane_step(rb, &steps[2 * e + 1], "b", e, ST_SUCCEEDED, a_ms[e],
		    5000);
	}
	lane_step(rb, &steps[6], "a", 3, ST_SUCCEEDED, 0, 1000);
	lane_step(rb, &steps[7], "b", 3, ST_FAILED, 1000, 2000);
	lane_step(rb, &steps[8], "a", 4, ST_PENDING, -1, -1);
	lane_step(rb, &steps[9], "b", 4, ST_PENDING, -1, -1);
	memset(&r, 0, sizeof r);
	r.rb = rb;
	r.steps = steps;
	r.nsteps = 10;
	report_entities_build(NULL, &r);
	assert_true(r.lanes);
	assert_int_equal(r.nents, 5);
	assert_int_equal(r.ents[1].state, RENT_DONE);
	assert_int_equal(r.ents[1].actual_ms, 35000);
	assert_int_equal(r.ents[3].state, RENT_ACTIVE);
	assert_int_equal(r.ents[3].failures, 1);
	assert_int_equal(r.ents[3].actual_ms, 3000); /* nothing left to end */
	assert_int_equal(r.ents[4].actual_ms, -1);
	report_ent_counts(&r.ents[3], c, sizeof c);
	assert_string_equal(c, "1 succeeded, 1 failed / 2");
	assert_int_equal(r.nwaves, 2);
	assert_string_equal(r.waves[0].name, "pilot");
	assert_int_equal(r.waves[0].ndone, 3);
	assert_int_equal(r.waves[0].median_ms, 25000);
	assert_int_equal(r.waves[0].worst_ms, 35000);
	assert_string_equal(r.waves[0].worst, "s2");
	assert_int_equal(r.waves[1].nactive, 2);
	assert_int_equal(r.waves[1].failures, 1);
	assert_int_equal(r.waves[1].median_ms, -1);
	report_lane_stat(&r, runbook_find_step(rb, "a"), &ls);
	assert_int_equal(ls.n, 4);
	assert_int_equal(ls.median_ms, 15000); /* 1, 10, 20, 30 s */
	assert_int_equal(ls.worst_ms, 30000);
	assert_string_equal(ls.worst, "s2");
	report_lane_stat(&r, runbook_find_step(rb, "b"), &ls);
	assert_int_equal(ls.n, 3);
	assert_int_equal(ls.median_ms, 5000);
	for (e = 0; e < r.nents; e++)
		assert_null(r.ents[e].reason);
	free(r.ents);
	free(r.waves);
	runbook_free(rb);
	diags_free(&d);
}

static void
test_selection(void **state)
{
	char out[128];

	(void)state;
	report_selection(NULL, out, sizeof out);
	assert_string_equal(out, "all entities");
	report_selection("", out, sizeof out);
	assert_string_equal(out, "all entities");
	report_selection("wave:pilot", out, sizeof out);
	assert_string_equal(out, "wave pilot");
	report_selection("wave:pilot,wave:wave-2", out, sizeof out);
	assert_string_equal(out, "waves pilot, wave-2");
	report_selection("entity:store-017,store-042", out, sizeof out);
	assert_string_equal(out, "entities store-017, store-042");
	report_selection("entity:store-017", out, sizeof out);
	assert_string_equal(out, "entity store-017");
	report_selection("entity:store-1,entity:store-4", out, sizeof out);
	assert_string_equal(out, "entities store-1, store-4");
	report_selection("wave:pilot,entity:store-4", out, sizeof out);
	assert_string_equal(out, "wave pilot; entity store-4");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_human),
		cmocka_unit_test(test_local_time),
		cmocka_unit_test(test_result_each),
		cmocka_unit_test(test_result_malformed),
		cmocka_unit_test(test_verdict),
		cmocka_unit_test(test_tail),
		cmocka_unit_test(test_entities),
		cmocka_unit_test(test_selection),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
