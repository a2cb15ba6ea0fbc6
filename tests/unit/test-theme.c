/* test-theme.c - theme files: the element list, parsing, errors, loading. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "theme.h"
#include "xmalloc.h"

static char *parse_err(const char *);
static char *srcfile(const char *);

/* Parse text on the built-in theme; must fail; returns the message. */
static char *
parse_err(const char *text)
{
	struct theme t = { 0 };
	char *err = NULL;

	theme_builtin(&t);
	assert_int_equal(theme_parse(&t, "t.theme", text, &err), -1);
	assert_non_null(err);
	theme_free(&t);
	return err;
}

/* A file of the source tree ($SRCDIR, else the working directory). */
static char *
srcfile(const char *rel)
{
	const char *top = getenv("SRCDIR");

	return xprintf("%s/%s", top != NULL && *top ? top : ".", rel);
}

static void
test_elements(void **unused)
{
	int i;

	(void)unused;
	for (i = 0; i < THEME_NELEMENTS; i++) {
		assert_non_null(theme_element_name(i));
		assert_int_equal(theme_element_find(theme_element_name(i)), i);
	}
	assert_null(theme_element_name(THEME_NELEMENTS));
	assert_int_equal(theme_element_find("no-such-element"), -1);
	assert_int_equal(theme_element_find("header-live"), T_HEADER_LIVE);
}

static void
test_parse_valid(void **unused)
{
	struct theme t = { 0 };
	char *err = NULL;

	(void)unused;
	theme_builtin(&t);
	assert_int_equal(theme_parse(&t, "t.theme",
	    "# a comment\n"
	    "\n"
	    "   header   red  bright-blue bold  underline # trailing\n"
	    "selected 196 color21\n"
	    "error\tDEFAULT\t-\treverse\r\n"
	    "state-failed white black normal", &err), 0);
	assert_null(err);
	assert_int_equal(t.style[T_HEADER].fg, 1);
	assert_int_equal(t.style[T_HEADER].bg, 12);
	assert_int_equal(t.style[T_HEADER].attrs, THEME_BOLD | THEME_UNDERLINE);
	assert_int_equal(t.style[T_SELECTED].fg, 196);
	assert_int_equal(t.style[T_SELECTED].bg, 21);
	assert_int_equal(t.style[T_SELECTED].attrs, 0);
	assert_int_equal(t.style[T_ERROR].fg, THEME_DEFAULT_COLOR);
	assert_int_equal(t.style[T_ERROR].bg, THEME_DEFAULT_COLOR);
	assert_int_equal(t.style[T_ERROR].attrs, THEME_REVERSE);
	assert_int_equal(t.style[T_FAILED].fg, 7);
	assert_int_equal(t.style[T_FAILED].attrs, 0);
	/* Untouched elements keep the built-in style, and the mono one. */
	assert_int_equal(t.style[T_PHASE].fg, 11);
	assert_int_equal(t.style[T_HEADER].mono, THEME_REVERSE);
	theme_free(&t);
}

static void
test_parse_errors(void **unused)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "heder red blue\n", "t.theme:1: error: unknown element 'heder'" },
		{ "\n\nheader red\n", "t.theme:3: error: header needs a foreground "
		    "and a background colour" },
		{ "header rouge blue\n", "t.theme:1: error: unknown colour "
		    "'rouge'" },
		{ "header red 256\n", "t.theme:1: error: unknown colour '256'" },
		{ "header red bright-9\n", "unknown colour 'bright-9'" },
		{ "header red -1\n", "unknown colour '-1'" },
		{ "header red color\n", "unknown colour 'color'" },
		{ "# ok\nheader red blue blod\n", "t.theme:2: error: unknown "
		    "attribute 'blod'" },
		{ "header a b c d e f g h i j k l m n o p q\n", "too many words" },
	};
	size_t i;
	char *err;

	(void)unused;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		err = parse_err(cases[i].text);
		if (strstr(err, cases[i].want) == NULL)
			fail_msg("case %zu: '%s' lacks '%s'", i, err, cases[i].want);
		assert_int_equal(strchr(err, '\n') == NULL, 1);
		free(err);
	}
}

/* Every bundled theme parses, and default.theme is the built-in theme. */
static void
test_bundled(void **unused)
{
	static const char *names[] = { "default", "light", "high-contrast",
		"monochrome" };
	struct theme t = { 0 }, b = { 0 };
	char *file, *rel, *err = NULL;
	size_t i;
	int el;

	(void)unused;
	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		rel = xprintf("themes/%s.theme", names[i]);
		file = srcfile(rel);
		if (theme_load(&t, file, &err) != 0)
			fail_msg("%s", err);
		free(rel);
		free(file);
		theme_free(&t);
	}
	file = srcfile("themes/default.theme");
	assert_int_equal(theme_load(&t, file, &err), 0);
	theme_builtin(&b);
	for (el = 0; el < THEME_NELEMENTS; el++) {
		if (t.style[el].fg != b.style[el].fg ||
		    t.style[el].bg != b.style[el].bg ||
		    t.style[el].attrs != b.style[el].attrs)
			fail_msg("default.theme and the built-in theme differ at %s",
			    theme_element_name(el));
	}
	free(file);
	theme_free(&t);
	theme_free(&b);
}

static void
test_load(void **unused)
{
	struct theme t = { 0 };
	char dir[] = "/tmp/test-theme.XXXXXX", *err = NULL, *path;
	FILE *f;

	(void)unused;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chdir(dir), 0);
	unsetenv("CUTOVER_THEME");
	setenv("XDG_CONFIG_HOME", dir, 1);
	/* "default" that is nowhere is the built-in theme. */
	assert_int_equal(theme_load(&t, NULL, &err), 0);
	assert_string_equal(t.name, "built-in");
	assert_int_equal(theme_load(&t, "nope", &err), -1);
	assert_non_null(strstr(err, "no theme named 'nope'"));
	free(err);
	/* A name is not looked for in ./themes (the working directory may
	 * be anyone's), but in $XDG_CONFIG_HOME/cutover/themes; and
	 * CUTOVER_THEME names it. */
	assert_int_equal(mkdir("themes", 0700), 0);
	assert_non_null(f = fopen("themes/mine.theme", "w"));
	fputs("header green black\n", f);
	fclose(f);
	setenv("CUTOVER_THEME", "mine", 1);
	assert_int_equal(theme_load(&t, NULL, &err), -1);
	assert_non_null(strstr(err, "no theme named 'mine'"));
	free(err);
	assert_int_equal(mkdir("cutover", 0700), 0);
	assert_int_equal(rename("themes", "cutover/themes"), 0);
	assert_int_equal(theme_load(&t, NULL, &err), 0);
	assert_int_equal(t.style[T_HEADER].fg, 2);
	path = xprintf("%s/cutover/themes/mine.theme", dir);
	assert_string_equal(t.name, path);
	free(path);
	assert_int_equal(rename("cutover/themes", "themes"), 0);
	rmdir("cutover");
	unsetenv("CUTOVER_THEME");
	/* A path is read as given; a missing file says so with its name. */
	path = xprintf("%s/themes/mine.theme", dir);
	assert_int_equal(theme_load(&t, path, &err), 0);
	assert_int_equal(theme_load(&t, "/nonexistent/x.theme", &err), -1);
	assert_non_null(strstr(err, "/nonexistent/x.theme:0: error:"));
	free(err);
	theme_free(&t);
	unlink("themes/mine.theme");
	rmdir("themes");
	rmdir(dir);
	free(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_elements),
		cmocka_unit_test(test_parse_valid),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_bundled),
		cmocka_unit_test(test_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
