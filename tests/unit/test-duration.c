/* test-duration.c - durations: parsing, errors, formatting, round trips. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "duration.h"

#define MIN (60 * 1000LL)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)

static int64_t parse_ok(const char *);
static const char *parse_err(const char *);
static const char *fmt(int64_t);

static int64_t
parse_ok(const char *s)
{
	const char *why = "unset";
	int64_t ms = -1;

	assert_int_equal(duration_parse(s, &ms, &why), 0);
	assert_null(why);
	return ms;
}

static const char *
parse_err(const char *s)
{
	const char *why = NULL;
	int64_t ms = 12345;

	assert_int_equal(duration_parse(s, &ms, &why), -1);
	assert_non_null(why);
	assert_int_equal(ms, 12345); /* untouched on error */
	return why;
}

static const char *
fmt(int64_t ms)
{
	static char out[32];

	duration_format(ms, out, sizeof out);
	return out;
}

static void
test_parse_valid(void **state)
{
	assert_int_equal(parse_ok("250ms"), 250);
	assert_int_equal(parse_ok("90s"), 90000);
	assert_int_equal(parse_ok("5m"), 5 * MIN);
	assert_int_equal(parse_ok("1h30m"), HOUR + 30 * MIN);
	assert_int_equal(parse_ok("2m30s"), 2 * MIN + 30000);
	assert_int_equal(parse_ok("1d"), DAY);
	assert_int_equal(parse_ok("1d2h3m4s5ms"),
	    DAY + 2 * HOUR + 3 * MIN + 4005);
	assert_int_equal(parse_ok("0s"), 0);
	assert_int_equal(parse_ok("0ms"), 0);
	assert_int_equal(parse_ok("007s"), 7000);
	assert_int_equal(parse_ok("90m"), 90 * MIN);
	assert_int_equal(parse_ok("31d"), 31 * DAY);
	assert_int_equal(parse_ok("744h"), 31 * DAY);
	assert_int_equal(parse_ok("1s500ms"), 1500);
}

static void
test_parse_invalid(void **state)
{
	assert_string_equal(parse_err(""), "empty duration");
	assert_string_equal(parse_err(NULL), "empty duration");
	assert_string_equal(parse_err("5"), "missing unit (use ms, s, m, h "
	    "or d)");
	assert_string_equal(parse_err("1h30"), "missing unit (use ms, s, m, "
	    "h or d)");
	assert_string_equal(parse_err("1.5h"), "whole numbers only (write "
	    "1h30m, not 1.5h)");
	assert_string_equal(parse_err("5 m"), "spaces are not allowed");
	assert_string_equal(parse_err(" 5m"), "spaces are not allowed");
	assert_string_equal(parse_err("1h 30m"), "spaces are not allowed");
	assert_string_equal(parse_err("-5m"), "negative durations are not "
	    "allowed");
	assert_string_equal(parse_err("30m1h"), "units must go from largest "
	    "to smallest, each once (1h30m, not 30m1h)");
	assert_string_equal(parse_err("1h1h"), "units must go from largest "
	    "to smallest, each once (1h30m, not 30m1h)");
	assert_string_equal(parse_err("5min"), "unknown unit (use ms, s, m, "
	    "h or d)");
	assert_string_equal(parse_err("5M"), "unknown unit (use ms, s, m, h "
	    "or d)");
	assert_string_equal(parse_err("5m!"), "expected a number and a unit, "
	    "such as 90s or 1h30m");
	assert_string_equal(parse_err("h"), "expected a number and a unit, "
	    "such as 90s or 1h30m");
	assert_string_equal(parse_err("32d"), "longer than 31 days");
	assert_string_equal(parse_err("31d1ms"), "longer than 31 days");
	assert_string_equal(parse_err("99999999999999999999999s"),
	    "longer than 31 days");
}

static void
test_format(void **state)
{
	char small[4];

	assert_string_equal(fmt(0), "0s");
	assert_string_equal(fmt(-5), "0s");
	assert_string_equal(fmt(1), "1ms");
	assert_string_equal(fmt(250), "250ms");
	assert_string_equal(fmt(1000), "1s");
	assert_string_equal(fmt(1500), "1s500ms");
	assert_string_equal(fmt(59999), "59s999ms");
	assert_string_equal(fmt(60000), "1m");
	assert_string_equal(fmt(60500), "1m"); /* ms dropped from a minute */
	assert_string_equal(fmt(90000), "1m30s");
	assert_string_equal(fmt(HOUR + 30 * MIN), "1h30m");
	assert_string_equal(fmt(2 * HOUR), "2h");
	assert_string_equal(fmt(HOUR + 5000), "1h0m5s");
	assert_string_equal(fmt(DAY + 2 * HOUR), "1d2h");
	assert_string_equal(fmt(DAY + 2 * HOUR + 3 * MIN + 4000), "1d2h3m4s");
	assert_string_equal(fmt(40 * DAY), "40d");
	duration_format(HOUR + 30 * MIN, small, sizeof small);
	assert_true(strlen(small) < sizeof small);
}

static void
test_round_trip(void **state)
{
	static const int64_t v[] = { 0, 1, 999, 1000, 1001, 59999, 60000,
		61000, 3599000, HOUR, HOUR + 1000, DAY - 1000, DAY,
		DAY + HOUR + MIN + 1000, 31 * DAY };
	static const char *s[] = { "250ms", "1m30s", "5m", "1h30m", "2m30s",
		"1d", "1h0m5s", "1d2h3m4s", "1s500ms", "0s" };
	const char *why;
	int64_t ms;
	size_t i;

	for (i = 0; i < sizeof v / sizeof v[0]; i++) {
		assert_int_equal(duration_parse(fmt(v[i]), &ms, &why), 0);
		assert_int_equal(ms, v[i]);
	}
	for (i = 0; i < sizeof s / sizeof s[0]; i++) {
		ms = parse_ok(s[i]);
		assert_string_equal(fmt(ms), s[i]);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_valid),
		cmocka_unit_test(test_parse_invalid),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
