/* test-pg.c - conninfo expansion, the TLS rule and application names. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "diag.h"
#include "pg.h"
#include "runbook.h"

static struct runbook *rb_with(const char *);
static char *option(const char *, const char *);
static void expands_to(const char *, const char *, const char *,
    const char *);
static void tls_is(const char *, int);

static const char runbook_text[] =
    "cutover: 1\n"
    "name: t\n"
    "vars:\n"
    "  spaced: \"db1 host=elsewhere\"\n"
    "  quoted: \"it's a \\\\ back\"\n"
    "  whole: \"host=/tmp dbname=w\"\n"
    "phases:\n"
    "  - id: p\n"
    "    steps:\n"
    "      - {id: s, type: manual}\n";

/* The test runbook: the vars above. */
static struct runbook *
rb_with(const char *text)
{
	struct runbook *rb = NULL;
	struct diags d;

	memset(&d, 0, sizeof d);
	assert_int_equal(runbook_load_buffer("t.yaml", text, strlen(text), &rb,
	    &d), 0);
	diags_free(&d);
	return rb;
}

/* The value libpq parses for key in conninfo (new), or NULL. */
static char *
option(const char *conninfo, const char *key)
{
	PQconninfoOption *opts, *o;
	char *v = NULL;

	opts = PQconninfoParse(conninfo, NULL);
	assert_non_null(opts);
	for (o = opts; o->keyword != NULL; o++) {
		if (strcmp(o->keyword, key) == 0 && o->val != NULL)
			v = strdup(o->val);
	}
	PQconninfoFree(opts);
	return v;
}

/* tmpl expands to a conninfo in which key is want. */
static void
expands_to(const char *tmpl, const char *key, const char *want,
    const char *host)
{
	struct runbook *rb = rb_with(runbook_text);
	char *err = NULL, *ci = pg_conninfo_expand(rb, tmpl, &err), *v;

	assert_null(err);
	assert_non_null(ci);
	v = option(ci, key);
	assert_non_null(v);
	assert_string_equal(v, want);
	free(v);
	v = option(ci, "host");
	if (host == NULL)
		assert_null(v);
	else
		assert_string_equal(v, host);
	free(v);
	free(ci);
	runbook_free(rb);
}

static void
test_quoting(void **state)
{
	(void)state;
	/* A value stays one value, whatever it holds. */
	expands_to("dbname=${spaced}", "dbname", "db1 host=elsewhere", NULL);
	expands_to("host=/tmp dbname=${spaced} user=u", "dbname",
	    "db1 host=elsewhere", "/tmp");
	expands_to("dbname = ${quoted}", "dbname", "it's a \\ back", NULL);
	/* Inside the user's own quotes, too. */
	expands_to("dbname='x ${spaced}'", "dbname", "x db1 host=elsewhere",
	    NULL);
	/* Part of a value. */
	expands_to("dbname=pre-${spaced}", "dbname", "pre-db1 host=elsewhere",
	    NULL);
	/* A whole conninfo in a variable is a conninfo. */
	expands_to("${whole}", "dbname", "w", "/tmp");
	expands_to("${whole} user=u", "user", "u", "/tmp");
	/* $$ is a dollar. */
	expands_to("dbname=a$$b", "dbname", "a$b", NULL);
}

static void
test_uri(void **state)
{
	struct runbook *rb = rb_with(runbook_text);
	char *err = NULL, *ci;

	(void)state;
	ci = pg_conninfo_expand(rb, "postgresql://u@h/${whole}", &err);
	assert_non_null(ci);
	assert_string_equal(ci, "postgresql://u@h/host=/tmp dbname=w");
	free(ci);
	runbook_free(rb);
}

/* pg_conninfo_tls(conninfo) is want. */
static void
tls_is(const char *conninfo, int want)
{
	char *why = NULL;

	assert_int_equal(pg_conninfo_tls(conninfo, &why), want);
	if (want == 0)
		assert_null(why);
	else
		assert_non_null(why);
	free(why);
}

static void
test_tls(void **state)
{
	(void)state;
	unsetenv("PGHOST");
	unsetenv("PGHOSTADDR");
	unsetenv("PGSSLMODE");
	unsetenv("PGSERVICE");
	tls_is("dbname=x", 0);
	tls_is("host=/var/run/postgresql dbname=x", 0);
	tls_is("host=127.0.0.1 dbname=x", 0);
	tls_is("host=127.9.9.9 dbname=x", 0);
	tls_is("host=::1 dbname=x", 0);
	tls_is("host=localhost dbname=x", 0);
	tls_is("host=db.example.com dbname=x", -1);
	tls_is("host=10.0.0.1 dbname=x", -1);
	tls_is("host=::2 dbname=x", -1);
	tls_is("host=128.0.0.1 dbname=x", -1);
	tls_is("host=db.example.com sslmode=require", -1);
	tls_is("host=db.example.com sslmode=verify-full", 0);
	tls_is("host=db.example.com sslmode=verify-ca", 0);
	tls_is("postgresql://db.example.com/x?sslmode=verify-full", 0);
	tls_is("postgresql://db.example.com/x", -1);
	tls_is("host=127.0.0.1,db.example.com", -1);
	tls_is("host=/tmp,127.0.0.1", 0);
	/* hostaddr is where it goes. */
	tls_is("host=db.example.com hostaddr=127.0.0.1", 0);
	tls_is("host=localhost hostaddr=192.0.2.1", -1);
	/* The environment, as libpq takes it. */
	setenv("PGHOST", "db.example.com", 1);
	tls_is("dbname=x", -1);
	setenv("PGSSLMODE", "verify-full", 1);
	tls_is("dbname=x", 0);
	unsetenv("PGHOST");
	unsetenv("PGSSLMODE");
	/* What cannot be told. */
	tls_is("host='unterminated", 1);
	tls_is("service=cutover-test-no-such-service", 1);
}

static void
test_appname(void **state)
{
	const char *env[] = { "CUTOVER_MODE=live", "CUTOVER_ATTEMPT=1.2.ab.3.4",
		NULL };
	const char *none[] = { "CUTOVER_MODE=live", NULL };
	char long_token[100], *name;

	(void)state;
	name = pg_appname_from_env(env);
	assert_string_equal(name, "cutover 1.2.ab.3.4");
	free(name);
	assert_null(pg_appname_from_env(none));
	assert_null(pg_appname_from_env(NULL));
	memset(long_token, 'x', sizeof long_token - 1);
	long_token[sizeof long_token - 1] = '\0';
	name = pg_appname(long_token);
	assert_int_equal(strlen(name), PG_APPNAME_MAX);
	free(name);
}

static void
test_live(void **state)
{
	const char *live[] = { "CUTOVER_MODE=live", NULL };
	const char *rehearsal[] = { "CUTOVER_MODE=rehearsal", NULL };
	char *err = NULL;

	(void)state;
	assert_int_equal(pg_live_refuses(live, 0, "t", "host=db.example.com",
	    &err), -1);
	assert_non_null(strstr(err, "target t: a live run refuses it"));
	free(err);
	err = NULL;
	assert_int_equal(pg_live_refuses(live, 1, "t", "host=db.example.com",
	    &err), 0);
	assert_int_equal(pg_live_refuses(rehearsal, 0, "t",
	    "host=db.example.com", &err), 0);
	assert_null(err);
}

static void
test_conninfo_error(void **state)
{
	char *msg;

	(void)state;
	msg = pg_conninfo_error("t", "invalid connection option \"bogus\"\n");
	assert_string_equal(msg,
	    "invalid conninfo for target t: invalid connection option \"bogus\"");
	free(msg);
	msg = pg_conninfo_error("t", "invalid percent-encoded token: \"Pw%zz\"");
	assert_null(strstr(msg, "Pw%zz"));
	free(msg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quoting),
		cmocka_unit_test(test_uri),
		cmocka_unit_test(test_tls),
		cmocka_unit_test(test_appname),
		cmocka_unit_test(test_live),
		cmocka_unit_test(test_conninfo_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
