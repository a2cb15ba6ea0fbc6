/* test-escape.c - what text from outside cutover looks like on a terminal. */
#include "config.h"

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <cmocka.h>

#include "escape.h"

static void
check(const char *in, int flags, const char *want)
{
	char *out = escape_str(in, flags);

	assert_string_equal(out, want);
	free(out);
}

/* The attacks: title, clear, hidden line, clipboard, bidi override. */
static void
test_controls(void **state)
{
	(void)state;
	check("\033]0;pwned\007", ESCAPE_LINE, "\\e]0;pwned\\x07");
	check("ok\033[2J", ESCAPE_LINE, "ok\\e[2J");
	check("evil\rgood", ESCAPE_BLOCK, "evil\\rgood");
	check("\033]52;c;Y3VybA==\033\\", ESCAPE_LINE,
	    "\\e]52;c;Y3VybA==\\e\\");
	check("a\xe2\x80\xae" "cba", ESCAPE_LINE, "a\\u202ecba");
	check("\x7f\x01", ESCAPE_LINE, "\\x7f\\x01");
	check("\xc2\x9b" "31m", ESCAPE_LINE, "\\u009b31m");
	check("tag\xf3\xa0\x80\x81", ESCAPE_LINE, "tag\\U000e0001");
}

/* Lines and tabs: kept in blocks, escaped in one-line fields. */
static void
test_lines(void **state)
{
	(void)state;
	check("a\nb\tc\n", ESCAPE_BLOCK, "a\nb\tc\n");
	check("a\nb\tc\n", ESCAPE_LINE, "a\\nb\\tc\\n");
}

/* Printable UTF-8 and backslashes stay; bad UTF-8 shows its bytes. */
static void
test_utf8(void **state)
{
	(void)state;
	check("Zoë €5 日本 \xf0\x9f\x98\x80 C:\\tmp", ESCAPE_LINE,
	    "Zoë €5 日本 \xf0\x9f\x98\x80 C:\\tmp");
	check("\xc3(", ESCAPE_LINE, "\\xc3(");
	check("\xc0\xaf", ESCAPE_LINE, "\\xc0\\xaf");       /* overlong */
	check("\xed\xa0\x80", ESCAPE_LINE, "\\xed\\xa0\\x80"); /* surrogate */
	check("\xe2\x82", ESCAPE_LINE, "\\xe2\\x82");       /* cut short */
	check("\xf4\x90\x80\x80", ESCAPE_LINE, "\\xf4\\x90\\x80\\x80");
}

/* Escaped text is printable: escaping it again changes nothing. */
static void
test_idempotent(void **state)
{
	char *once = escape_str("\033]0;x\007\r\xe2\x80\xae\xff", ESCAPE_LINE);

	(void)state;
	check(once, ESCAPE_LINE, once);
	assert_int_equal(escape_span(once, strlen(once), ESCAPE_LINE),
	    strlen(once));
	free(once);
}

static void
test_span(void **state)
{
	(void)state;
	assert_int_equal(escape_span("plain", 5, ESCAPE_LINE), 5);
	assert_int_equal(escape_span("ab\ncd", 5, ESCAPE_LINE), 2);
	assert_int_equal(escape_span("ab\ncd", 5, ESCAPE_BLOCK), 5);
	assert_int_equal(escape_span("é\xe2\x80\x8bx", 6, ESCAPE_LINE), 2);
}

/* Read what reached the terminal side of a pty. */
static char *
pty_drain(int fd)
{
	static char got[256];
	ssize_t n;
	size_t len = 0;

	while ((n = read(fd, got + len, sizeof got - 1 - len)) > 0)
		len += (size_t)n;
	got[len] = '\0';
	return got;
}

/* stdout on a terminal: escaped, even when writes cut a character or an
 * escape sequence in two; a field shows its newline as \n. */
static void
test_stream(void **state)
{
	struct escape_list l = { 0 };
	struct termios t;
	int m, s, saved = dup(STDOUT_FILENO);

	(void)state;
	m = posix_openpt(O_RDWR | O_NOCTTY);
	assert_true(m >= 0 && grantpt(m) == 0 && unlockpt(m) == 0);
	s = open(ptsname(m), O_RDWR | O_NOCTTY);
	assert_true(s >= 0);
	tcgetattr(s, &t);
	cfmakeraw(&t);
	tcsetattr(s, TCSANOW, &t);
	fflush(stdout);
	dup2(s, STDOUT_FILENO);
	escape_streams(1, 0);
	assert_true(escape_on(stdout));
	fputs("a\033", stdout);
	fflush(stdout);
	fputs("[2J \xe2\x80", stdout);
	fflush(stdout);
	fputs("\xae\xc3", stdout);
	fflush(stdout);
	fputs("\xa9 ", stdout);
	fputs(escape_field(&l, stdout, "x\ny"), stdout);
	fputs("\n", stdout);
	fflush(stdout);
	escape_list_free(&l);
	dup2(saved, STDOUT_FILENO);
	close(s);
	fcntl(m, F_SETFL, O_NONBLOCK);
	assert_string_equal(pty_drain(m), "a\\e[2J \\u202eé x\\ny\n");
	close(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_controls),
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_idempotent),
		cmocka_unit_test(test_span),
		cmocka_unit_test(test_stream),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
