/* test-outbuf.c - redaction and bounds of captured output. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "outbuf.h"

static char *secrets[] = { "hunter2", "abc", NULL };

/* Feed s one byte at a time, so every secret is split across reads. */
static char *
feed_bytewise(const char *s)
{
	struct outbuf ob;
	size_t len, i;
	char *out;

	outbuf_init(&ob, secrets);
	for (i = 0; s[i] != '\0'; i++)
		outbuf_add(&ob, s + i, 1);
	outbuf_close(&ob);
	out = outbuf_render(&ob, &len);
	outbuf_free(&ob);
	return out;
}

static void
test_redact_split(void **state)
{
	char *out = feed_bytewise("pw=hunter2; x=abcabc hunter hunt");

	(void)state;
	assert_string_equal(out, "pw=********; x=**************** hunter hunt");
	free(out);
}

static void
test_redact_at_end(void **state)
{
	char *out = feed_bytewise("ends with hunter2");

	(void)state;
	assert_string_equal(out, "ends with ********");
	free(out);
	out = feed_bytewise("ends with hunte");
	assert_string_equal(out, "ends with hunte");
	free(out);
}

/* A secret that is a prefix of another: the longer is masked whole,
 * whether it arrives at once, byte by byte or in two reads. */
static void
test_redact_prefix(void **state)
{
	char *nested[] = { "pass", "passw0rd-long", NULL };
	struct outbuf ob;
	size_t len;
	char *out;

	(void)state;
	out = outbuf_redact(nested, "a passw0rd-long b pass c passw0rd");
	assert_string_equal(out, "a ******** b ******** c ********w0rd");
	free(out);
	outbuf_init(&ob, nested);
	outbuf_add(&ob, "x=pass", 6);
	outbuf_add(&ob, "w0rd-long;", 10);
	outbuf_close(&ob);
	out = outbuf_render(&ob, &len);
	assert_string_equal(out, "x=********;");
	free(out);
	outbuf_free(&ob);
}

static void
test_no_secrets(void **state)
{
	struct outbuf ob;
	size_t len;
	char *out;

	(void)state;
	outbuf_init(&ob, NULL);
	outbuf_add(&ob, "hello\n", 6);
	outbuf_close(&ob);
	out = outbuf_render(&ob, &len);
	assert_int_equal(len, 6);
	assert_string_equal(out, "hello\n");
	assert_int_equal(ob.total, 6);
	free(out);
	outbuf_free(&ob);
}

static void
test_bounded(void **state)
{
	struct outbuf ob;
	char chunk[4096], *out, *mark;
	size_t len, i;

	(void)state;
	outbuf_init(&ob, secrets);
	for (i = 0; i < 1024; i++) { /* 4 MiB */
		memset(chunk, 'a' + (char)(i % 20), sizeof chunk);
		if (i == 1023)
			memcpy(chunk + sizeof chunk - 7, "hunter2", 7);
		outbuf_add(&ob, chunk, sizeof chunk);
	}
	outbuf_close(&ob);
	out = outbuf_render(&ob, &len);
	assert_true(len < OUTBUF_HEAD + OUTBUF_TAIL + 100);
	assert_int_equal(ob.total, 4 * 1024 * 1024 - 7 + 8);
	mark = strstr(out, "[cutover: ");
	assert_non_null(mark);
	assert_non_null(strstr(mark, " bytes of output omitted]\n"));
	assert_int_equal(out[0], 'a');
	assert_memory_equal(out + len - 8, "********", 8);
	free(out);
	outbuf_free(&ob);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_redact_split),
		cmocka_unit_test(test_redact_at_end),
		cmocka_unit_test(test_redact_prefix),
		cmocka_unit_test(test_no_secrets),
		cmocka_unit_test(test_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
