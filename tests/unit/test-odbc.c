/* test-odbc.c - odbc connection strings: passwords found, values braced,
 * written-out passwords refused. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "diag.h"
#include "odbc-connstr.h"
#include "runbook.h"

/* The password of s is want (NULL: none). */
static void
password_is(const char *s, const char *want)
{
	char *got = odbc_connection_password(s);

	if (want == NULL)
		assert_null(got);
	else {
		assert_non_null(got);
		assert_string_equal(got, want);
	}
	free(got);
}

static void
test_password(void **state)
{
	(void)state;
	password_is("DSN=x;UID=u;PWD=secret", "secret");
	password_is("DSN=x;uid=u;pwd=secret;", "secret");
	password_is("Driver=MariaDB;Password=p w;Server=h", "p w");
	password_is("DSN=x;PWD={a;b}}c};UID=u", "a;b}c");
	password_is("DSN=x;UID=u", NULL);
	password_is("", NULL);
	password_is("PWD", NULL);
	password_is(";;;PWD=;", NULL);
}

/* odbc_connection_streaming(s, file) is want. */
static void
streaming_is(const char *s, const char *file, const char *want)
{
	char *got = odbc_connection_streaming(s, file);

	assert_string_equal(got, want);
	free(got);
}

static void
test_streaming(void **state)
{
	const char *ma = "/usr/lib/x86_64-linux-gnu/odbc/libmaodbc.so";

	(void)state;
	streaming_is("DSN=pos", ma, "DSN=pos;NO_CACHE=1;FORWARDONLY=1");
	streaming_is("DSN=pos;", ma, "DSN=pos;NO_CACHE=1;FORWARDONLY=1");
	streaming_is("Driver=MariaDB;Server=h", "libmaodbc.so",
	    "Driver=MariaDB;Server=h;NO_CACHE=1;FORWARDONLY=1");
	/* What the runbook set stays as written. */
	streaming_is("DSN=pos;no_cache=0", ma,
	    "DSN=pos;no_cache=0;FORWARDONLY=1");
	streaming_is("DSN=pos;STREAMRS=1", ma,
	    "DSN=pos;STREAMRS=1;FORWARDONLY=1");
	streaming_is("DSN=pos;ForwardOnly=0", ma,
	    "DSN=pos;ForwardOnly=0;NO_CACHE=1");
	streaming_is("DSN=pos;OPTION=3", ma, "DSN=pos;OPTION=3");
	/* A value that merely mentions the attribute does not count. */
	streaming_is("DSN=pos;PWD={NO_CACHE=1}", ma,
	    "DSN=pos;PWD={NO_CACHE=1};NO_CACHE=1;FORWARDONLY=1");
	/* Other drivers, or none known: unchanged. */
	streaming_is("DSN=x", "/usr/lib/odbc/libsqlite3odbc.so", "DSN=x");
	streaming_is("DSN=x", "libtdsodbc.so", "DSN=x");
	streaming_is("DSN=x", NULL, "DSN=x");
}

static void
test_get(void **state)
{
	char *v;

	(void)state;
	v = odbc_connection_get("DSN=x;Driver={Maria;DB}", "DRIVER");
	assert_string_equal(v, "Maria;DB");
	free(v);
	assert_null(odbc_connection_get("DSN=x", "DRIVER"));
}

static void
test_check(void **state)
{
	char *why = NULL;

	(void)state;
	assert_int_equal(odbc_connection_check("DSN=x;PWD=${env:PW}", &why), 0);
	assert_int_equal(odbc_connection_check("DSN=x;PWD=${pw};UID=u", &why),
	    0);
	assert_int_equal(odbc_connection_check("DSN=x;UID=u", &why), 0);
	assert_int_equal(odbc_connection_check("DSN=x;PWD=hunter2", &why), -1);
	assert_null(strstr(why, "hunter2"));
	free(why);
	why = NULL;
	assert_int_equal(odbc_connection_check("DSN=x;PWD=a${env:PW}", &why),
	    -1);
	free(why);
	why = NULL;
	assert_int_equal(odbc_connection_check("DSN=x;PWD=${env:A}${env:B}",
	    &why), -1);
	free(why);
}

/* A value with ';' or braces is braced when expanded: it cannot add an
 * attribute. */
static void
test_expand(void **state)
{
	static const char text[] =
	    "cutover: 1\n"
	    "name: t\n"
	    "targets:\n"
	    "  db: {type: odbc, connection: \"DSN=x;UID=u;PWD=${env:T_PW}\"}\n"
	    "phases:\n"
	    "  - id: p\n"
	    "    steps:\n"
	    "      - {id: s, type: sql, target: db, run: SELECT 1}\n";
	struct runbook *rb = NULL;
	struct diags d = { 0 };
	char *err = NULL, *s, *pw;

	(void)state;
	assert_int_equal(runbook_load_buffer("t.yaml", text, sizeof text - 1,
	    &rb, &d), 0);
	setenv("T_PW", "a;DSN=evil;b}", 1);
	s = odbc_connection_expand(rb, &rb->targets[0], &err);
	assert_non_null(s);
	assert_string_equal(s, "DSN=x;UID=u;PWD={a;DSN=evil;b}}}");
	pw = odbc_connection_password(s);
	assert_string_equal(pw, "a;DSN=evil;b}");
	free(pw);
	free(s);
	setenv("T_PW", "plain", 1);
	s = odbc_connection_expand(rb, &rb->targets[0], &err);
	assert_string_equal(s, "DSN=x;UID=u;PWD=plain");
	free(s);
	unsetenv("T_PW");
	assert_null(odbc_connection_expand(rb, &rb->targets[0], &err));
	assert_non_null(strstr(err, "T_PW"));
	free(err);
	runbook_free(rb);
	diags_free(&d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_password),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_streaming),
		cmocka_unit_test(test_get),
		cmocka_unit_test(test_expand),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
