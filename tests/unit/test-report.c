/*
 * test-report.c - what reports say alike: durations for a person, local
 * times, reconcile verdicts, the entries of a stored result (and results
 * cut short or malformed), the tail of an output.
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

#include "report.h"

static const char *human(int64_t);
static void collect(const char *, const char *, void *);
static const char *verdict(const char *, enum step_state, double,
    enum report_rec *);

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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
