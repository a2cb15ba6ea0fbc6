/* test-expand.c - ${var}, ${env:NAME}, $$, scanning and secret values. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "expand.h"
#include "runbook.h"

#define MAXVARS 40

struct fixture {
	struct runbook rb;
	struct rb_var vars[MAXVARS];
	struct rb_target targets[2];
	char names[MAXVARS][16];
	char values[MAXVARS][32];
};

struct seen {
	char names[8][32];
	size_t offsets[8];
	size_t n;
};

static struct fixture *fx;

static void var_add(const char *, const char *, int);
static void expand_ok(const char *, const char *);
static void expand_fails(const char *, const char *);
static void scan_record(const char *, size_t, size_t, void *);

/* Add a var to the fixture's runbook. */
static void
var_add(const char *name, const char *value, int secret)
{
	struct rb_var *v = &fx->vars[fx->rb.nvars];

	snprintf(fx->names[fx->rb.nvars], sizeof fx->names[0], "%s", name);
	snprintf(fx->values[fx->rb.nvars], sizeof fx->values[0], "%s", value);
	v->name = fx->names[fx->rb.nvars];
	v->value = fx->values[fx->rb.nvars];
	v->secret = secret;
	fx->rb.nvars++;
}

static int
setup(void **state)
{
	fx = calloc(1, sizeof *fx);
	fx->rb.vars = fx->vars;
	fx->rb.targets = fx->targets;
	var_add("unit", "batch.service", 0);
	var_add("cmd", "systemctl stop ${unit}", 0);
	var_add("outer", "[${cmd}]", 0);
	var_add("pw", "${env:TEST_EXPAND_PW}", 1);
	setenv("TEST_EXPAND_PW", "s3cret", 1);
	unsetenv("TEST_EXPAND_UNSET");
	return 0;
}

static int
teardown(void **state)
{
	free(fx);
	fx = NULL;
	return 0;
}

static void
expand_ok(const char *text, const char *want)
{
	char *err = (char *)"unset", *out = expand_text(&fx->rb, text, &err);

	if (out == NULL)
		fail_msg("expanding '%s': %s", text, err);
	assert_null(err);
	assert_string_equal(out, want);
	free(out);
}

static void
expand_fails(const char *text, const char *want)
{
	char *err = NULL, *out = expand_text(&fx->rb, text, &err);

	assert_null(out);
	assert_non_null(err);
	assert_string_equal(err, want);
	free(err);
}

static void
test_vars(void **state)
{
	expand_ok("", "");
	expand_ok("plain text", "plain text");
	expand_ok("stop ${unit} now", "stop batch.service now");
	expand_ok("${unit}${unit}", "batch.servicebatch.service");
	expand_ok("${cmd}", "systemctl stop batch.service");
	expand_ok("x${outer}y", "x[systemctl stop batch.service]y");
	expand_fails("${nope}", "unknown variable ${nope}");
	expand_fails("a ${unit} ${nope2} b", "unknown variable ${nope2}");
}

static void
test_env(void **state)
{
	expand_ok("${env:TEST_EXPAND_PW}", "s3cret");
	expand_ok("pw=${pw}", "pw=s3cret");
	expand_fails("${env:TEST_EXPAND_UNSET}", "environment variable "
	    "TEST_EXPAND_UNSET is not set");
	setenv("TEST_EXPAND_UNSET", "", 1);
	expand_ok("[${env:TEST_EXPAND_UNSET}]", "[]");
	unsetenv("TEST_EXPAND_UNSET");
}

static void
test_dollars(void **state)
{
	expand_ok("$$", "$");
	expand_ok("cost: 5$$", "cost: 5$");
	expand_ok("$${unit}", "${unit}");
	expand_ok("$$$${unit}", "$${unit}");
	expand_ok("$$${unit}", "$batch.service");
	expand_ok("$HOME $1 $", "$HOME $1 $");
	expand_ok("awk '{print $1}'", "awk '{print $1}'");
	expand_ok("${ unterminated", "${ unterminated");
	expand_ok("${}", "${}");
	expand_ok("${a\nb}", "${a\nb}");
	expand_ok("${{x}}", "${{x}}");
	expand_ok(NULL, "");
}

static void
test_nesting(void **state)
{
	char name[16], value[32];
	int i;

	fx->rb.nvars = 0;
	/* v0 -> v1 -> ... -> v15: sixteen levels, the most allowed. */
	for (i = 0; i < 16; i++) {
		snprintf(name, sizeof name, "v%d", i);
		snprintf(value, sizeof value, i < 15 ? "${v%d}" : "end",
		    i + 1);
		var_add(name, value, 0);
	}
	expand_ok("${v0}", "end");
	/* One more level on top is too deep. */
	var_add("top", "${v0}", 0);
	expand_fails("${top}", "variables nested more than 16 deep at "
	    "${v15}");
	/* A cycle is named. */
	var_add("a", "${b}", 0);
	var_add("b", "x${c}", 0);
	var_add("c", "${a}", 0);
	expand_fails("${a}", "cycle in vars: a -> b -> c -> a");
	var_add("self", "${self}", 0);
	expand_fails("${self}", "cycle in vars: self -> self");
}

/* expand_scan callback. */
static void
scan_record(const char *name, size_t len, size_t offset, void *arg)
{
	struct seen *s = arg;

	assert_true(s->n < 8);
	snprintf(s->names[s->n], sizeof s->names[0], "%.*s", (int)len, name);
	s->offsets[s->n++] = offset;
}

static void
test_scan(void **state)
{
	struct seen s = { .n = 0 };

	assert_int_equal(expand_scan("a ${x} $${y} ${env:HOME}$$ ${z}",
	    scan_record, &s), 3);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.names[0], "x");
	assert_int_equal(s.offsets[0], 2);
	assert_string_equal(s.names[1], "env:HOME");
	assert_int_equal(s.offsets[1], 13);
	assert_string_equal(s.names[2], "z");
	assert_int_equal(s.offsets[2], 27);
	s.n = 0;
	assert_int_equal(expand_scan("${ok}${", scan_record, &s), 1);
	assert_int_equal(s.offsets[0], 0);
	assert_int_equal(expand_scan("no refs $1 ${", NULL, NULL), 0);
	assert_int_equal(expand_scan(NULL, NULL, NULL), 0);
	assert_int_equal(expand_scan("${a}${b}", NULL, NULL), 2);
}

static void
test_secret_values(void **state)
{
	struct rb_target *t = &fx->targets[0];
	char **v;

	var_add("token", "token-${unit}", 1);
	var_add("empty", "", 1);
	var_add("unset", "${env:TEST_EXPAND_UNSET}", 1);
	var_add("dup", "s3cret", 1);
	var_add("public", "not secret", 0);
	memset(t, 0, sizeof *t);
	t->type = TARGET_SSH;
	t->password = (char *)"${env:TEST_EXPAND_SSH}";
	t->passphrase = (char *)"${env:TEST_EXPAND_UNSET}";
	fx->targets[1].type = TARGET_POSTGRES;
	fx->rb.ntargets = 2;
	setenv("TEST_EXPAND_SSH", "ssh-password-long", 1);

	v = expand_secret_values(&fx->rb);
	assert_non_null(v);
	/* Longest first, no duplicates, no empty or unset values. */
	assert_string_equal(v[0], "token-batch.service");
	assert_string_equal(v[1], "ssh-password-long");
	assert_string_equal(v[2], "s3cret");
	assert_null(v[3]);
	expand_free_list(v);
	expand_free_list(NULL);

	fx->rb.nvars = 0;
	fx->rb.ntargets = 0;
	v = expand_secret_values(&fx->rb);
	assert_null(v[0]);
	expand_free_list(v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_vars, setup, teardown),
		cmocka_unit_test_setup_teardown(test_env, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dollars, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nesting, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scan, setup, teardown),
		cmocka_unit_test_setup_teardown(test_secret_values, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
