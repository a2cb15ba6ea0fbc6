/* test-reconcile.c - values by meaning, COPY rows, and the merge. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "csv.h"
#include "extsort.h"
#include "rec-side.h"
#include "reconcile.h"

#define INT4 23
#define NUMERIC 1700
#define FLOAT8 701
#define TEXT 25
#define TSTZ 1184

static void canon_is(const char *, const char *);
static void sub_is(const char *, const char *, const char *);
static int numcmp(const char *, const char *);
static int split(const char *, struct rec_field *, int, char *);
static struct rec_field fld(const char *);
static void feed(struct rec_merge *, const char *const *,
    const char *const *);
static unsigned rnd(unsigned);
static char *canon_way(int, enum rec_kind, const char *, const char *);
static void canon_same(enum rec_kind, const char *, const char *);
static void time_gen(char *, size_t);
static void num_gen(char *, size_t);
static void num_vary(const char *, char *, size_t);
static void numcmp_same(const char *, const char *);

/* rec_num_canon(in) is want (NULL: not a number). */
static void
canon_is(const char *in, const char *want)
{
	char *got = rec_num_canon(in);

	if (want == NULL) {
		assert_null(got);
		return;
	}
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void
sub_is(const char *a, const char *b, const char *want)
{
	char *got = rec_num_sub(a, b);

	if (want == NULL) {
		assert_null(got);
		return;
	}
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static int
numcmp(const char *a, const char *b)
{
	struct rec_num x, y;
	int c;

	assert_int_equal(rec_num_parse(a, strlen(a), &x), 0);
	assert_int_equal(rec_num_parse(b, strlen(b), &y), 0);
	c = rec_num_cmp(&x, &y);
	rec_num_free(&x);
	rec_num_free(&y);
	return c;
}

/* Split a COPY line (copied into work) into fields. */
static int
split(const char *line, struct rec_field *f, int n, char *work)
{
	strcpy(work, line);
	return rec_copy_split(work, strlen(work), f, n);
}

/* A field from a C string; NULL is SQL NULL. */
static struct rec_field
fld(const char *s)
{
	struct rec_field f = { s, s != NULL ? strlen(s) : 0, s == NULL };

	return f;
}

static void
test_canon(void **state)
{
	(void)state;
	canon_is("1.0", "1");
	canon_is("1.00", "1");
	canon_is("1.", "1");
	canon_is("-0", "0");
	canon_is("-0.000", "0");
	canon_is("+12", "12");
	canon_is("007.50", "7.5");
	canon_is("0.0050", "0.005");
	canon_is(".5", "0.5");
	canon_is("1e3", "1000");
	canon_is("1.5E-3", "0.0015");
	canon_is("100", "100");
	canon_is("-123.4500", "-123.45");
	canon_is("NaN", "NaN");
	canon_is("-Infinity", "-Infinity");
	canon_is("123456789012345678901234567890.000000000000000000001",
	    "123456789012345678901234567890.000000000000000000001");
	canon_is("", NULL);
	canon_is("abc", NULL);
	canon_is("1.2.3", NULL);
	canon_is("1e", NULL);
	canon_is("-", NULL);
	canon_is(".", NULL);
	canon_is("12 ", NULL);
}

static void
test_numcmp(void **state)
{
	(void)state;
	assert_int_equal(numcmp("1.0", "1.00"), 0);
	assert_int_equal(numcmp("-0", "0"), 0);
	assert_int_equal(numcmp("1e2", "100.000"), 0);
	assert_true(numcmp("9", "10") < 0);
	assert_true(numcmp("10", "9") > 0);
	assert_true(numcmp("-10", "-9") < 0);
	assert_true(numcmp("-1", "0") < 0);
	assert_true(numcmp("0.1", "0.09") > 0);
	assert_true(numcmp("1000000", "11") > 0);
	assert_true(numcmp("1.05", "1.5") < 0);
	assert_true(numcmp("-Infinity", "-1e300") < 0);
	assert_true(numcmp("Infinity", "1e300") > 0);
	assert_true(numcmp("NaN", "Infinity") > 0);
	assert_int_equal(numcmp("NaN", "NaN"), 0);
}

static void
test_sub(void **state)
{
	(void)state;
	sub_is("100.0", "100.5", "-0.5");
	sub_is("100.5", "100.0", "0.5");
	sub_is("0.3", "0.1", "0.2");
	sub_is("1", "-1", "2");
	sub_is("-1", "1", "-2");
	sub_is("-1.5", "-1.25", "-0.25");
	sub_is("1.00", "1", "0");
	sub_is("0", "0", "0");
	sub_is("1e3", "0.001", "999.999");
	sub_is("12345678901234567890.12", "12345678901234567890.11", "0.01");
	sub_is("NaN", "1", NULL);
	sub_is("x", "1", NULL);
	sub_is("1e100000", "1e-100000", NULL);
}

static void
test_copy_split(void **state)
{
	struct rec_field f[4];
	char work[128];

	(void)state;
	assert_int_equal(split("1\tabc\t\\N\t\n", f, 4, work), 4);
	assert_int_equal(f[0].len, 1);
	assert_memory_equal(f[0].p, "1", 1);
	assert_memory_equal(f[1].p, "abc", 3);
	assert_true(f[2].null);
	assert_false(f[3].null);
	assert_int_equal(f[3].len, 0);
	assert_int_equal(split("a\\tb\\\\c\\nd\t\\\\N", f, 4, work), 2);
	assert_int_equal(f[0].len, 7);
	assert_memory_equal(f[0].p, "a\tb\\c\nd", 7);
	assert_false(f[1].null);
	assert_memory_equal(f[1].p, "\\N", 2);
	assert_int_equal(split("\\101\\x42\\r", f, 4, work), 1);
	assert_int_equal(f[0].len, 3);
	assert_memory_equal(f[0].p, "AB\r", 3);
	assert_int_equal(split("x\ty\\tz\tw\n", f, 4, work), 3);
	assert_int_equal(f[1].len, 3);
	assert_memory_equal(f[1].p, "y\tz", 3);
	assert_int_equal(f[2].len, 1);
	assert_memory_equal(f[2].p, "w", 1);
	assert_int_equal(split("a\tb\tc\td\te", f, 4, work), 5);
	/* fields longer than a word: tabs and backslashes past eight bytes */
	assert_int_equal(split("0123456789abcdef\t0123456789\\tXYZ\t\\N\t"
	    "abcdefgh\n", f, 4, work), 4);
	assert_int_equal(f[0].len, 16);
	assert_memory_equal(f[0].p, "0123456789abcdef", 16);
	assert_int_equal(f[1].len, 14);
	assert_memory_equal(f[1].p, "0123456789\tXYZ", 14);
	assert_true(f[2].null);
	assert_int_equal(f[3].len, 8);
	assert_memory_equal(f[3].p, "abcdefgh", 8);
}

static void
test_equal(void **state)
{
	struct rec_field a, b;

	(void)state;
	a = fld("1.0");
	b = fld("1.00");
	assert_true(rec_equal(REC_NUMBER, &a, REC_NUMBER, &b));
	assert_false(rec_equal(REC_TEXT, &a, REC_TEXT, &b));
	assert_true(rec_equal(REC_TEXT, &a, REC_NUMBER, &b));
	a = fld(NULL);
	b = fld("");
	assert_false(rec_equal(REC_TEXT, &a, REC_TEXT, &b));
	assert_false(rec_equal(REC_TEXT, &b, REC_TEXT, &a));
	b = fld(NULL);
	assert_true(rec_equal(REC_TEXT, &a, REC_TEXT, &b));
	a = fld("Eclair");
	b = fld("eclair");
	assert_false(rec_equal(REC_TEXT, &a, REC_TEXT, &b));
	a = fld("t");
	b = fld("t");
	assert_true(rec_equal(REC_BOOL, &a, REC_BOOL, &b));
	a = fld("abc");
	b = fld("1");
	assert_false(rec_equal(REC_NUMBER, &a, REC_NUMBER, &b));
	a = fld("-0");
	b = fld("0");
	assert_true(rec_equal(REC_NUMBER, &a, REC_NUMBER, &b));
	a = fld("007");
	b = fld("7");
	assert_true(rec_equal(REC_NUMBER, &a, REC_NUMBER, &b));
}

/* Keys of numbers through the merge's comparison (the integer fast path
 * and the general one must agree). */
static void
test_keycmp_numbers(void **state)
{
	static char *names[] = { "k" };
	static const unsigned o[] = { NUMERIC };
	static const char *const pairs[][2] = { { "9", "10" }, { "-10", "-9" },
		{ "-1", "1" }, { "-1", "0" }, { "0", "1" }, { "99", "100.5" },
		{ "-100", "-99.5" }, { "1e1", "11" }, { "123456789012", "123456789013" } };
	struct rec_field a, b;
	struct rec_merge m;
	char *err = NULL;
	size_t i;

	(void)state;
	assert_int_equal(rec_merge_init(&m, 1, 1, names, o, o, &err), 0);
	for (i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
		a = fld(pairs[i][0]);
		b = fld(pairs[i][1]);
		assert_true(rec_merge_keycmp(&m, &a, &b) < 0);
		assert_true(rec_merge_keycmp(&m, &b, &a) > 0);
	}
	a = fld("007");
	b = fld("7.0");
	assert_int_equal(rec_merge_keycmp(&m, &a, &b), 0);
	a = fld(NULL);
	assert_true(rec_merge_keycmp(&m, &a, &b) > 0);
	rec_merge_free(&m);
}

static void
test_order_by(void **state)
{
	struct buf b = { 0 };

	(void)state;
	rec_order_by(&b, "c1", REC_TEXT);
	assert_string_equal(buf_str(&b), "c1 COLLATE \"C\" NULLS LAST");
	buf_reset(&b);
	rec_order_by(&b, "c2", REC_NUMBER);
	assert_string_equal(buf_str(&b), "c2 NULLS LAST");
	buf_reset(&b);
	rec_order_by(&b, "c3", REC_OTHER);
	assert_string_equal(buf_str(&b), "c3::text COLLATE \"C\" NULLS LAST");
	buf_free(&b);
}

/* Run rows of two sides (each "k|v|w", NULL-terminated) through a merge
 * with one key (number) and two value columns, as the executor does. */
static void
feed(struct rec_merge *m, const char *const *src, const char *const *dst)
{
	struct rec_field s[3], d[3];
	char ws[64], wd[64], *err = NULL, *p;
	int take = REC_TAKE_SOURCE | REC_TAKE_DEST, hs = 0, hd = 0;

	for (;;) {
		if ((take & REC_TAKE_SOURCE) && (hs = *src != NULL)) {
			strcpy(ws, *src++);
			while ((p = strchr(ws, '|')) != NULL)
				*p = '\t';
			assert_int_equal(rec_copy_split(ws, strlen(ws), s, 3), 3);
			assert_int_equal(rec_merge_arrive(m, REC_SOURCE, s, &err), 0);
		}
		if ((take & REC_TAKE_DEST) && (hd = *dst != NULL)) {
			strcpy(wd, *dst++);
			while ((p = strchr(wd, '|')) != NULL)
				*p = '\t';
			assert_int_equal(rec_copy_split(wd, strlen(wd), d, 3), 3);
			assert_int_equal(rec_merge_arrive(m, REC_DEST, d, &err), 0);
		}
		if (!hs && !hd)
			return;
		take = rec_merge_step(m, hs ? s : NULL, hd ? d : NULL);
	}
}

static void
test_merge(void **state)
{
	static char *names[] = { "id", "name", "amount" };
	static const unsigned so[] = { INT4, TEXT, NUMERIC };
	static const unsigned dO[] = { NUMERIC, TEXT, NUMERIC };
	static const char *const src[] = { "1|a|1.0", "2|b|2", "9|c|3",
		"10|d|\\N", "1000000|e|5", NULL };
	static const char *const dst[] = { "1.00|a|1.00", "3|x|1", "9|C|3",
		"10||\\N", "1000000|e|6", "1000001|f|1", NULL };
	struct rec_merge m;
	struct buf b = { 0 };
	char *err = NULL;

	(void)state;
	assert_int_equal(rec_merge_init(&m, 3, 1, names, so, dO, &err), 0);
	feed(&m, src, dst);
	assert_int_equal(m.rows[0], 5);
	assert_int_equal(m.rows[1], 6);
	assert_int_equal(m.matched, 1);
	assert_int_equal(m.missing, 1);
	assert_int_equal(m.extra, 2);
	assert_int_equal(m.changed, 3);
	assert_int_equal(rec_merge_differences(&m), 6);
	assert_int_equal(m.changed_cols[1], 2);
	assert_int_equal(m.changed_cols[2], 1);
	rec_merge_json(&m, &b);
	assert_string_equal(buf_str(&b), "{\"source_rows\":5,\"dest_rows\":6,"
	    "\"matched\":1,\"missing\":1,\"extra\":2,\"changed\":3,"
	    "\"samples\":{\"missing\":[\"2\"],\"extra\":[\"3\",\"1000001\"],"
	    "\"changed\":[\"9\",\"10\",\"1000000\"]},\"changed_columns\":{\"name\":2,"
	    "\"amount\":1},\"duplicate_keys\":{\"source\":0,\"dest\":0}}");
	buf_reset(&b);
	rec_merge_summary(&m, 4, &b);
	assert_non_null(strstr(buf_str(&b), "changed: 9 (name), 10 (name), "
	    "1000000 (amount)\n"));
	assert_non_null(strstr(buf_str(&b), "differences: 6, tolerance 4: "
	    "OVER TOLERANCE"));
	buf_free(&b);
	rec_merge_free(&m);
}

static void
test_merge_text_keys(void **state)
{
	static char *names[] = { "k", "v", "w" };
	static const unsigned t[] = { TEXT, TEXT, TEXT };
	/* Byte order (COLLATE "C"): 'Zeta' < 'apple' < 'eclair' < 'Éclair'. */
	static const char *const src[] = { "Zeta|1|x", "apple|2|x",
		"eclair|3|x", "\xc3\x89" "clair|4|x", "\\N|5|x", NULL };
	static const char *const dst[] = { "Zeta|1|x", "apple|2|x",
		"\xc3\x89" "clair|4|x", "\\N|5|x", NULL };
	struct rec_merge m;
	char *err = NULL;

	(void)state;
	assert_int_equal(rec_merge_init(&m, 3, 1, names, t, t, &err), 0);
	feed(&m, src, dst);
	assert_int_equal(m.matched, 4);
	assert_int_equal(m.missing, 1);
	assert_string_equal(m.samples[0][0].key[0], "eclair");
	rec_merge_free(&m);
}

static void
test_merge_checks(void **state)
{
	static char *names[] = { "id", "a", "b" };
	static const unsigned num[] = { INT4, TEXT, TEXT };
	static const unsigned txt[] = { TEXT, TEXT, TEXT };
	struct rec_field r1[3] = { fld("5"), fld("a"), fld("b") };
	struct rec_field r2[3] = { fld("10"), fld("a"), fld("b") };
	struct rec_merge m;
	char *err = NULL;

	(void)state;
	assert_int_equal(rec_merge_init(&m, 3, 1, names, num, txt, &err), -1);
	assert_non_null(strstr(err, "key column 1 (id) is integer in source "
	    "but text in dest"));
	free(err);
	err = NULL;
	assert_int_equal(rec_merge_init(&m, 3, 4, names, num, num, &err), -1);
	free(err);
	err = NULL;
	/* Numbers: 5 then 10 is in order; as text it would not be. */
	assert_int_equal(rec_merge_init(&m, 3, 1, names, num, num, &err), 0);
	assert_int_equal(rec_merge_arrive(&m, REC_SOURCE, r1, &err), 0);
	assert_int_equal(rec_merge_arrive(&m, REC_SOURCE, r2, &err), 0);
	assert_int_equal(rec_merge_arrive(&m, REC_SOURCE, r2, &err), 0);
	assert_int_equal(m.dups[0], 1);
	assert_int_equal(rec_merge_arrive(&m, REC_SOURCE, r1, &err), -1);
	assert_string_equal(err, "source rows are not in key order (5 came "
	    "after 10), so rows cannot be paired");
	free(err);
	rec_merge_free(&m);
	assert_int_equal(rec_merge_init(&m, 3, 1, names, txt, txt, &err), 0);
	assert_int_equal(rec_merge_arrive(&m, REC_DEST, r1, &err), 0);
	assert_int_equal(rec_merge_arrive(&m, REC_DEST, r2, &err), -1);
	free(err);
	rec_merge_free(&m);
}

static void
test_merge_composite(void **state)
{
	static char *names[] = { "store", "sku", "qty" };
	static const unsigned o[] = { TEXT, INT4, NUMERIC };
	struct rec_field s[3] = { fld("b"), fld("2"), fld("1.50") };
	struct rec_field d[3] = { fld("b"), fld("10"), fld("1.5") };
	struct rec_merge m;
	struct buf b = { 0 };
	char *err = NULL;

	(void)state;
	assert_int_equal(rec_merge_init(&m, 3, 2, names, o, o, &err), 0);
	assert_int_equal(rec_merge_step(&m, s, d), REC_TAKE_SOURCE);
	assert_int_equal(rec_merge_step(&m, NULL, d), REC_TAKE_DEST);
	d[1] = fld("2");
	assert_int_equal(rec_merge_step(&m, s, d), REC_TAKE_SOURCE |
	    REC_TAKE_DEST);
	assert_int_equal(m.matched, 1);
	rec_merge_json(&m, &b);
	assert_non_null(strstr(buf_str(&b), "\"missing\":[[\"b\",\"2\"]],"
	    "\"extra\":[[\"b\",\"10\"]]"));
	buf_free(&b);
	rec_merge_free(&m);
}

static void
test_samples_bounded(void **state)
{
	static char *names[] = { "id", "v", "w" };
	static const unsigned o[] = { INT4, TEXT, TEXT };
	struct rec_field s[3] = { fld("1"), fld("a"), fld("b") };
	struct rec_merge m;
	char *err = NULL, num[16];
	int i;

	(void)state;
	assert_int_equal(rec_merge_init(&m, 3, 1, names, o, o, &err), 0);
	for (i = 0; i < 1000; i++) {
		snprintf(num, sizeof num, "%d", i);
		s[0] = fld(num);
		rec_merge_step(&m, s, NULL);
	}
	assert_int_equal(m.missing, 1000);
	assert_int_equal(m.nsamples[0], REC_SAMPLES);
	assert_string_equal(m.samples[0][19].key[0], "19");
	rec_merge_free(&m);
}

static void
test_value(void **state)
{
	struct buf j = { 0 }, h = { 0 };

	(void)state;
	assert_true(rec_value_compare("100.5", NUMERIC, "100.0", NUMERIC, 0.5,
	    &j, &h));
	assert_string_equal(buf_str(&j), "{\"source_value\":100.5,"
	    "\"dest_value\":100.0,\"difference\":-0.5}");
	buf_reset(&j);
	assert_false(rec_value_compare("100.5", NUMERIC, "100.0", NUMERIC, 0.4,
	    &j, &h));
	buf_reset(&j);
	assert_true(rec_value_compare("0.1", FLOAT8, "0.3", NUMERIC, 0.2, &j,
	    &h));
	buf_reset(&j);
	assert_true(rec_value_compare("42", INT4, "42.000", NUMERIC, 0, &j,
	    &h));
	assert_string_equal(buf_str(&j), "{\"source_value\":42,"
	    "\"dest_value\":42.000,\"difference\":0}");
	buf_reset(&j);
	assert_false(rec_value_compare("abc", TEXT, "abd", TEXT, 5, &j, &h));
	assert_string_equal(buf_str(&j), "{\"source_value\":\"abc\","
	    "\"dest_value\":\"abd\",\"difference\":null}");
	buf_reset(&j);
	assert_true(rec_value_compare(NULL, INT4, NULL, INT4, 0, &j, &h));
	buf_reset(&j);
	assert_false(rec_value_compare(NULL, TEXT, "", TEXT, 0, &j, &h));
	buf_reset(&j);
	assert_false(rec_value_compare("NaN", FLOAT8, "1", INT4, 1e9, &j, &h));
	assert_string_equal(buf_str(&j), "{\"source_value\":\"NaN\","
	    "\"dest_value\":1,\"difference\":null}");
	buf_free(&j);
	buf_free(&h);
}

/* rec_canon_field(kind, ...) turns in into want (NULL: SQL NULL). */
static void
meaning_is(enum rec_kind kind, int empty, const char *tz, const char *in,
    const char *want)
{
	struct rec_field f = { in, strlen(in), 0 };
	struct buf out = { 0 };
	char *got;

	rec_canon_field(kind, empty, tz, 0, &f, &out);
	if (want == NULL) {
		assert_true(f.null);
	} else {
		assert_false(f.null);
		got = strndup(f.p, f.len);
		assert_string_equal(got, want);
		free(got);
	}
	buf_free(&out);
}

/* Values by meaning across engines: every rule of rec_merge_init_cols. */
static void
test_meaning(void **state)
{
	(void)state;
	meaning_is(REC_BOOL, 0, NULL, "1", "t");
	meaning_is(REC_BOOL, 0, NULL, "0", "f");
	meaning_is(REC_BOOL, 0, NULL, "TRUE", "t");
	meaning_is(REC_BOOL, 0, NULL, "f", "f");
	meaning_is(REC_BOOL, 0, NULL, "2", "2");
	meaning_is(REC_CHAR, 0, NULL, "AB   ", "AB");
	meaning_is(REC_CHAR, 1, NULL, "   ", NULL);
	meaning_is(REC_TEXT, 0, NULL, "AB  ", "AB  ");
	meaning_is(REC_TEXT, 1, NULL, "", NULL);
	meaning_is(REC_UUID, 0, NULL, "A0EEBC99-9C0B", "a0eebc99-9c0b");
	meaning_is(REC_TIMESTAMP, 0, NULL, "2024-03-01 12:00:00",
	    "2024-03-01 12:00:00");
	meaning_is(REC_TIMESTAMP, 0, "Europe/Paris", "2024-03-01 12:00:00",
	    "2024-03-01 11:00:00");
	meaning_is(REC_TIMESTAMP, 0, "Europe/Paris", "2024-07-01 00:30:00.500",
	    "2024-06-30 22:30:00.5");
	meaning_is(REC_TIMESTAMP, 0, "+05:30", "2024-01-01 05:30:00",
	    "2024-01-01 00:00:00");
	meaning_is(REC_TIMESTAMPTZ, 0, "Europe/Paris",
	    "2024-03-01 12:00:00+01", "2024-03-01 11:00:00");
	meaning_is(REC_TIMESTAMPTZ, 0, NULL, "2024-03-01T12:00:00Z",
	    "2024-03-01 12:00:00");
	meaning_is(REC_TIMESTAMP, 0, NULL, "2024-02-29", "2024-02-29 00:00:00");
	meaning_is(REC_TIMESTAMP, 0, NULL, "not a date", "not a date");
	assert_int_equal(rec_kind_pair(REC_NUMBER, REC_BOOL), REC_BOOL);
	assert_int_equal(rec_kind_pair(REC_UNTYPED, REC_NUMBER), REC_NUMBER);
	assert_int_equal(rec_kind_pair(REC_UNTYPED, REC_UNTYPED), REC_TEXT);
	assert_int_equal(rec_kind_pair(REC_TEXT, REC_UUID), REC_UUID);
	assert_int_equal(rec_kind_pair(REC_CHAR, REC_TEXT), REC_CHAR);
	assert_int_equal(rec_kind_pair(REC_TIMESTAMP, REC_TIMESTAMPTZ),
	    REC_TIMESTAMP);
}

/* A merge by kinds pairs decimals, booleans and padded CHAR. */
static void
test_merge_meaning(void **state)
{
	(void)state;
	static const struct rec_col s[] = { { REC_NUMBER, "int" },
		{ REC_NUMBER, "DECIMAL" }, { REC_NUMBER, "TINYINT" },
		{ REC_CHAR, "CHAR" }, { REC_TEXT, "VARCHAR" } };
	static const struct rec_col d[] = { { REC_NUMBER, "integer" },
		{ REC_NUMBER, "numeric" }, { REC_BOOL, "boolean" },
		{ REC_TEXT, "text" }, { REC_TEXT, "text" } };
	char *names[] = { "id", "amount", "active", "code", "note" };
	struct rec_opts o = { 1, { NULL, NULL } };
	struct rec_field a[5] = { fld("1"), fld("12.50"), fld("1"),
		fld("AB  "), fld("") };
	struct rec_field b[5] = { fld("1"), fld("12.5"), fld("t"), fld("AB"),
		{ NULL, 0, 1 } };
	struct rec_merge m;
	char *err = NULL;

	assert_int_equal(rec_merge_init_cols(&m, 5, 1, names, s, d, &o, &err),
	    0);
	rec_merge_normalize(&m, REC_SOURCE, a);
	rec_merge_normalize(&m, REC_DEST, b);
	assert_int_equal(rec_merge_step(&m, a, b), REC_TAKE_SOURCE |
	    REC_TAKE_DEST);
	assert_int_equal(m.matched, 1);
	rec_merge_free(&m);
	/* A number key against a text key is refused, as before. */
	assert_int_equal(rec_merge_init_cols(&m, 5, 1, names, d + 3, s, &o,
	    &err), -1);
	assert_non_null(strstr(err, "cannot be paired"));
	free(err);
}

/* Columns of the same name (a join's two ids) are told apart in messages
 * and exports, whichever initialiser set the merge up. */
static void
test_merge_names(void **state)
{
	static const struct rec_col c[] = { { REC_NUMBER, "integer" },
		{ REC_NUMBER, "integer" }, { REC_TEXT, "text" } };
	static const unsigned o[] = { 23, 23, 25 };
	char *names[] = { "id", "id", "name" };
	struct rec_merge m;
	char *err = NULL;

	(void)state;
	assert_int_equal(rec_merge_init_cols(&m, 3, 1, names, c, c, NULL,
	    &err), 0);
	assert_string_equal(m.names[0], "id");
	assert_string_equal(m.names[1], "id#2");
	assert_string_equal(m.names[2], "name");
	rec_merge_free(&m);
	assert_int_equal(rec_merge_init(&m, 3, 1, names, o, o, &err), 0);
	assert_string_equal(m.names[1], "id#2");
	rec_merge_free(&m);
	/* A key longer than the columns: refused by both. */
	assert_int_equal(rec_merge_init_cols(&m, 3, 4, names, c, c, NULL,
	    &err), -1);
	assert_non_null(strstr(err, "key: 4, but the queries return 3"));
	free(err);
}

static int
int_cmp(const char *a, size_t alen, const char *b, size_t blen, void *arg)
{
	int x = atoi(a), y = atoi(b);

	(void)alen;
	(void)blen;
	(void)arg;
	return (x > y) - (x < y);
}

/* The external sort spills runs and merges them, stably. */
static void
test_extsort(void **state)
{
	(void)state;
	struct extsort *s = extsort_new(4096, int_cmp, NULL);
	char rec[32], *err = NULL;
	const char *r;
	size_t len;
	int i, n = 0, prev = -1, prevseq = -1, v, seq;

	for (i = 0; i < 20000; i++) {
		/* keys 0..999, each 20 times; the sequence after a colon */
		snprintf(rec, sizeof rec, "%d:%d", (i * 7919) % 1000, i);
		assert_int_equal(extsort_add(s, rec, strlen(rec) + 1, &err), 0);
	}
	while (extsort_next(s, &r, &len, &err) == 1) {
		assert_int_equal(sscanf(r, "%d:%d", &v, &seq), 2);
		assert_true(v >= prev);
		if (v == prev)
			assert_true(seq > prevseq);
		prev = v;
		prevseq = seq;
		n++;
	}
	assert_int_equal(n, 20000);
	assert_true(extsort_runs(s) > 10);
	extsort_free(s);
}

/* Rows survive packing; a malformed buffer is refused. */
static void
test_row_pack(void **state)
{
	(void)state;
	struct rec_field in[3] = { fld("a"), { NULL, 0, 1 }, fld("") }, out[3];
	struct buf b = { 0 };

	rec_row_pack(&b, in, 3);
	assert_int_equal(rec_row_unpack(b.data, b.len, out, 3), 3);
	assert_int_equal(out[0].len, 1);
	assert_true(out[1].null);
	assert_false(out[2].null);
	assert_int_equal(out[2].len, 0);
	assert_int_equal(rec_row_unpack(b.data, b.len - 1, out, 3), -1);
	buf_free(&b);
}

static int
count_row(const struct csv_field *f, size_t n, void *arg)
{
	int *c = arg;

	(void)f;
	c[0]++;
	c[1] += (int)n;
	return 0;
}

/* The streaming reader: any chunking gives the same records. */
static void
test_csv_stream(void **state)
{
	(void)state;
	static const char data[] = "a;\"b\r\n;c\"\r\n1;2\n\"x\"\"y\";z\r\n";
	struct csv_error e;
	struct csv_stream *cs;
	size_t step, i;
	int c[2];

	for (step = 1; step < sizeof data; step++) {
		c[0] = c[1] = 0;
		cs = csv_stream_new(';');
		for (i = 0; i < sizeof data - 1; i += step)
			assert_int_equal(csv_stream_feed(cs, data + i,
			    i + step < sizeof data - 1 ? step :
			    sizeof data - 1 - i, count_row, c, &e), 0);
		assert_int_equal(csv_stream_end(cs, count_row, c, &e), 0);
		assert_int_equal(c[0], 3);
		assert_int_equal(c[1], 6);
		csv_stream_free(cs);
	}
	cs = csv_stream_new(',');
	assert_int_equal(csv_stream_feed(cs, "a,\"b\n", 5, count_row, c, &e),
	    0);
	assert_int_equal(csv_stream_end(cs, count_row, c, &e), -1);
	assert_int_equal(e.line, 1);
	assert_int_equal(e.col, 3);
	csv_stream_free(cs);
}

/* ------------------------------------- shortcuts against the general path */

/* A reproducible pseudo-random number below n (xorshift64). */
static unsigned
rnd(unsigned n)
{
	static uint64_t x = 88172645463325252ull;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return (unsigned)(x % n);
}

/* rec_canon_field's answer for in, the shortcuts allowed or not: its text,
 * "(null)" for NULL. The caller frees. */
static char *
canon_way(int slow, enum rec_kind kind, const char *tz, const char *in)
{
	struct rec_field f = { in, strlen(in), 0 };
	struct buf out = { 0 };
	char *r;

	rec_test_slow = slow;
	rec_canon_field(kind, 0, tz, 0, &f, &out);
	rec_test_slow = 0;
	r = f.null ? strdup("(null)") : strndup(f.p, f.len);
	buf_free(&out);
	return r;
}

/* The shortcuts make in into the same text as the general path. */
static void
canon_same(enum rec_kind kind, const char *tz, const char *in)
{
	char *fast = canon_way(0, kind, tz, in);
	char *slow = canon_way(1, kind, tz, in);

	if (strcmp(fast, slow) != 0)
		print_error("\"%s\" (zone %s): shortcut \"%s\", general \"%s\"\n",
		    in, tz != NULL ? tz : "none", fast, slow);
	assert_string_equal(fast, slow);
	free(fast);
	free(slow);
}

/* A timestamp's text, mostly valid, often at the edges of its fields. */
static void
time_gen(char *b, size_t len)
{
	static const int years[] = { 0, 1, 4, 100, 400, 1900, 1970, 1999,
		2000, 2023, 2024, 2100, 2400, 9996, 9999 };
	static const char *const zones[] = { "", "", "+00", "+00:00", "Z",
		"z", "-00", "+0000", "+01:30", "-05", "+14", "-00:30" };
	static const char *const fracs[] = { "", "", ".0", ".5", ".500",
		".000000", ".123456789", ".1234567891234", ".010" };
	int y = rnd(3) ? years[rnd(15)] : (int)rnd(10000);
	int d = rnd(2) ? 28 + (int)rnd(4) : 1 + (int)rnd(31);
	int h = rnd(8) ? (int)rnd(24) : rnd(2) ? 23 : 24;
	int s = rnd(8) ? (int)rnd(60) : 59 + (int)rnd(2);

	switch (rnd(10)) {
	case 0:
		snprintf(b, len, "%04d-%02d-%02d", y, 1 + rnd(12), d);
		break;
	case 1:
		snprintf(b, len, "%04d-%02d-%02d %02d:%02u%s", y, 1 + rnd(12),
		    d, h, rnd(60), zones[rnd(12)]);
		break;
	default:
		snprintf(b, len, "%04d-%02d-%02d%c%02d:%02u:%02d%s%s", y,
		    1 + rnd(12), d, rnd(2) ? ' ' : 'T', h, rnd(60), s,
		    fracs[rnd(9)], zones[rnd(12)]);
	}
}

/* Timestamps at the edges (Feb 29, day 31 of short months, 24:00:00,
 * :60, years 0000 and 9999, fractions, zones) and at random: the same
 * text whether a shortcut takes them or not, and the shortcut takes the
 * usual ones. */
static void
test_fast_times(void **state)
{
	static const char *const tzs[] = { NULL, "UTC", "utc", "Z",
		"Europe/Paris", "+00:00", "-03:00" };
	static const char *const edges[] = { "2024-02-29 12:00:00",
		"2023-02-29 12:00:00", "2000-02-29 00:00:00", "1900-02-29 00:00:00",
		"0000-02-29 00:00:00", "2024-04-31 10:00:00", "2024-06-31 10:00:00",
		"2024-01-31 23:59:59", "2024-12-31 24:00:00", "2024-06-30 23:59:60",
		"9999-12-31 23:59:59.999", "9999-12-31 24:00:00", "0000-01-01 00:00:00",
		"2024-01-12 13:46:40+00", "2024-01-12T13:46:40.120+00:00",
		"2024-01-12 13:46:40Z", "2024-01-12 13:46:40+01:30", "2024-01-12",
		"2024-01-12 13:46", "2024-01-12 13:46:40.", "2024-13-01 00:00:00",
		"2024-00-10 00:00:00", "2024-01-32 00:00:00", "2024-01-12 13:46:4",
		"24-01-12 13:46:40", "2024-01-12 13:46:40+", "2024-01-12 13:46:40 " };
	static const char in[] = "2024-01-12 13:46:40.25+00";
	struct rec_field f = { in, sizeof in - 1, 0 };
	struct buf out = { 0 };
	char b[64];
	unsigned long before;
	size_t i, z;
	int k;

	(void)state;
	for (i = 0; i < sizeof edges / sizeof edges[0]; i++)
		for (z = 0; z < sizeof tzs / sizeof tzs[0]; z++) {
			canon_same(REC_TIMESTAMP, tzs[z], edges[i]);
			canon_same(REC_TIMESTAMPTZ, tzs[z], edges[i]);
		}
	for (k = 0; k < 200000; k++) {
		time_gen(b, sizeof b);
		canon_same(k % 2 ? REC_TIMESTAMP : REC_TIMESTAMPTZ,
		    tzs[rnd(7)], b);
	}
	before = rec_test_fast;
	meaning_is(REC_TIMESTAMPTZ, 0, NULL, "2024-01-12 13:46:40+00",
	    "2024-01-12 13:46:40");
	meaning_is(REC_TIMESTAMP, 0, "UTC", "2024-02-29T13:46:40.10",
	    "2024-02-29 13:46:40.1");
	assert_int_equal(rec_test_fast, before + 2);
	meaning_is(REC_TIMESTAMP, 0, NULL, "2023-02-29 12:00:00",
	    "2023-03-01 12:00:00");
	meaning_is(REC_TIMESTAMP, 0, NULL, "2024-12-31 24:00:00",
	    "2025-01-01 00:00:00");
	meaning_is(REC_TIMESTAMPTZ, 0, NULL, "2024-01-12 13:46:40+01:30",
	    "2024-01-12 12:16:40");
	assert_int_equal(rec_test_fast, before + 2);
	/* a canonical beginning is kept where it is, not copied */
	rec_canon_field(REC_TIMESTAMPTZ, 0, NULL, 0, &f, &out);
	assert_ptr_equal(f.p, in);
	assert_int_equal(f.len, 22);
	assert_int_equal(out.len, 0);
}

/* Booleans: every short text and the words, the same either way. */
static void
test_fast_bools(void **state)
{
	static const char alpha[] = "tTfF10yYnN2aeE oO";
	static const char *const words[] = { "true", "FALSE", "yes", "No",
		"on", "off", "OFF", "tru", "2", "" };
	char b[3];
	unsigned long before = rec_test_fast;
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof alpha - 1; i++) {
		b[0] = alpha[i];
		b[1] = '\0';
		canon_same(REC_BOOL, NULL, b);
		for (j = 0; j < sizeof alpha - 1; j++) {
			b[1] = alpha[j];
			b[2] = '\0';
			canon_same(REC_BOOL, NULL, b);
		}
	}
	for (i = 0; i < sizeof words / sizeof words[0]; i++)
		canon_same(REC_BOOL, NULL, words[i]);
	assert_true(rec_test_fast >= before + sizeof alpha - 1);
}

/* A number's text: mostly plain decimals, with leading and trailing
 * zeros, signs, long digit strings, and some that are not plain. */
static void
num_gen(char *b, size_t len)
{
	static const char *const odd[] = { "1e3", "-1.5E-2", "+7", ".5",
		"5.", "-.0", "NaN", "-Infinity", "inf", "1.2.3", "--1", "",
		"-", ".", "0x10", " 1", "1 " };
	size_t n = 0;
	unsigned k;

	if (rnd(20) == 0) {
		snprintf(b, len, "%s", odd[rnd(sizeof odd / sizeof odd[0])]);
		return;
	}
	if (rnd(3) == 0)
		b[n++] = '-';
	for (k = rnd(6) ? rnd(3) : 0; k > 0; k--)
		b[n++] = '0';
	for (k = 1 + (rnd(8) ? rnd(4) : rnd(50)); k > 0 && n < len - 60; k--)
		b[n++] = (char)('0' + rnd(rnd(3) ? 10 : 2));
	if (rnd(3)) {
		b[n++] = '.';
		for (k = 1 + (rnd(8) ? rnd(4) : rnd(50)); k > 0; k--)
			b[n++] = (char)('0' + rnd(rnd(3) ? 10 : 2));
	}
	b[n] = '\0';
}

/* A number near a: the same value written otherwise (zeros before or
 * after, -0), or one digit changed. */
static void
num_vary(const char *a, char *b, size_t len)
{
	size_t n;

	switch (rnd(5)) {
	case 0:
		snprintf(b, len, "%s%s", a[0] == '-' ? "-0" : "0",
		    a + (a[0] == '-'));
		break;
	case 1:
		snprintf(b, len, "%s%s", a, strchr(a, '.') ? "00" : ".000");
		break;
	case 2:
		snprintf(b, len, "%s%s", a[0] == '-' ? "" : "-",
		    a + (a[0] == '-'));
		break;
	default:
		snprintf(b, len, "%s", a);
		if ((n = strlen(b)) > 0 && b[n - 1] >= '0' && b[n - 1] <= '9')
			b[rnd((unsigned)n)] = (char)('0' + rnd(10));
	}
}

/* Equality and order of a and b the same with and without shortcuts. */
static void
numcmp_same(const char *a, const char *b)
{
	static const int numkey[] = { 1 };
	struct rec_field x = fld(a), y = fld(b);
	int eq[2], ord[2], rev[2], slow;

	for (slow = 0; slow < 2; slow++) {
		rec_test_slow = slow;
		eq[slow] = rec_equal(REC_NUMBER, &x, REC_NUMBER, &y);
		ord[slow] = rec_keys_order(numkey, 1, &x, &y);
		rev[slow] = rec_keys_order(numkey, 1, &y, &x);
		rec_test_slow = 0;
	}
	if (eq[0] != eq[1] || ord[0] != ord[1] || rev[0] != rev[1])
		print_error("%s against %s: shortcut %d %d %d, general %d %d "
		    "%d\n", a, b, eq[0], ord[0], rev[0], eq[1], ord[1], rev[1]);
	assert_int_equal(eq[0], eq[1]);
	assert_int_equal(ord[0], ord[1]);
	assert_int_equal(rev[0], rev[1]);
}

/* Numbers: edge pairs and random ones compare the same either way, and
 * the shortcut takes the plain decimals. */
static void
test_fast_numbers(void **state)
{
	static const char *const edges[] = { "0", "-0", "0.0", "-0.00", "00",
		"000.000", "1", "-1", "1.0", "01", "-01.10", "123.45", "123.450",
		"0123.4500", "0.5", "-0.5", "0.05", "0.50", "9", "10", "99.99",
		"100", "-100.0", ".5", "5.", "+5", "1e2", "100.000000000000000000"
		"000000000000000000000001", "12345678901234567890123456789012345"
		"67890.1", "12345678901234567890123456789012345678901.1" };
	static const size_t ne = sizeof edges / sizeof edges[0];
	char a[160], b[200];
	unsigned long before;
	size_t i, j;
	int k;

	(void)state;
	for (i = 0; i < ne; i++)
		for (j = 0; j < ne; j++)
			numcmp_same(edges[i], edges[j]);
	for (k = 0; k < 200000; k++) {
		num_gen(a, sizeof a);
		if (rnd(2))
			num_gen(b, sizeof b);
		else
			num_vary(a, b, sizeof b);
		numcmp_same(a, b);
	}
	before = rec_test_fast;
	numcmp_same("123.45", "123.450");
	numcmp_same("-0.00", "0");
	assert_int_equal(rec_test_fast, before + 6); /* 3 comparisons each */
	numcmp_same("1e2", "100");
	numcmp_same(".5", "0.5");
	assert_int_equal(rec_test_fast, before + 6);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_canon),
		cmocka_unit_test(test_numcmp),
		cmocka_unit_test(test_sub),
		cmocka_unit_test(test_copy_split),
		cmocka_unit_test(test_equal),
		cmocka_unit_test(test_keycmp_numbers),
		cmocka_unit_test(test_order_by),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_merge_text_keys),
		cmocka_unit_test(test_merge_checks),
		cmocka_unit_test(test_merge_composite),
		cmocka_unit_test(test_samples_bounded),
		cmocka_unit_test(test_value),
		cmocka_unit_test(test_meaning),
		cmocka_unit_test(test_merge_meaning),
		cmocka_unit_test(test_merge_names),
		cmocka_unit_test(test_extsort),
		cmocka_unit_test(test_row_pack),
		cmocka_unit_test(test_csv_stream),
		cmocka_unit_test(test_fast_times),
		cmocka_unit_test(test_fast_bools),
		cmocka_unit_test(test_fast_numbers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
