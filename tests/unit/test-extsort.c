/* test-extsort.c - the external sort with cached key prefixes: the same
 * order, record for record, as without them. */
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
#include "extsort.h"
#include "rec-side.h"
#include "reconcile.h"

#define NROWS 6000

/* How rows compare: as the worker's sort (rec-side.c) orders them. */
struct order {
	int numkey[3];
	int nkeys;
	long calls; /* comparator calls */
};

/* A sorted output: each row's serial number. */
struct out {
	int *serial;
	int n;
	size_t runs;
	long calls;
};

static int row_cmp(const char *, size_t, const char *, size_t, void *);
static int row_serial(const char *, size_t, int);
static void value_int(char *, size_t, unsigned *);
static void value_number(char *, size_t, unsigned *);
static size_t value_text(char *, unsigned *);
static void key_random(struct rec_field *, char *, int, unsigned *);
static void key_make(struct rec_field *, char *, int, int, unsigned *);
static void rows_make(struct buf *, size_t *, int, const struct order *,
    int, unsigned);
static void rows_sort(const struct buf *, const size_t *, int,
    struct order *, size_t, int, struct out *);
static void sorted_stably(const struct buf *, const size_t *,
    struct order *, const struct out *);
static void sorts_agree(int numeric, int nkeys, int mix, unsigned seed);

/* A deterministic random number (xorshift). */
static unsigned
rnd(unsigned *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* Two packed rows by their keys (rec_sort_cmp's order), counted. */
static int
row_cmp(const char *a, size_t alen, const char *b, size_t blen, void *arg)
{
	struct order *o = arg;
	struct rec_field x[3], y[3];

	o->calls++;
	assert_int_equal(rec_row_unpack(a, alen, x, o->nkeys), o->nkeys + 1);
	assert_int_equal(rec_row_unpack(b, blen, y, o->nkeys), o->nkeys + 1);
	return rec_keys_order(o->numkey, o->nkeys, x, y);
}

/* The serial number a row carries after its keys. */
static int
row_serial(const char *data, size_t len, int nkeys)
{
	struct rec_field f[4];
	char num[16];

	assert_int_equal(rec_row_unpack(data, len, f, nkeys + 1), nkeys + 1);
	assert_true(f[nkeys].len < sizeof num);
	memcpy(num, f[nkeys].p, f[nkeys].len);
	num[f[nkeys].len] = '\0';
	return atoi(num);
}

/* An integer as rec_is_int takes one, of any length and sign, around the
 * int64 limits too (some do not fit). */
static void
value_int(char *v, size_t size, unsigned *seed)
{
	static const char *const edge[] = { "0", "-1", "1",
		"9223372036854775807", "-9223372036854775808",
		"9223372036854775808", "-9223372036854775809",
		"9223372036854775806", "-9223372036854775807",
		"18446744073709551615", "99999999999999999999",
		"-99999999999999999999", "1000000000000000000",
		"-1000000000000000000", "9999999999999999999" };
	int digits = 1 + (int)(rnd(seed) % 21), i;
	size_t at = 0;

	if (rnd(seed) % 4 == 0) {
		snprintf(v, size, "%s", edge[rnd(seed) % (sizeof edge /
		    sizeof *edge)]);
		return;
	}
	if (rnd(seed) % 2)
		v[at++] = '-';
	v[at++] = (char)('1' + rnd(seed) % 9);
	for (i = 1; i < digits && at + 1 < size; i++)
		v[at++] = (char)('0' + rnd(seed) % 10);
	v[at] = '\0';
}

/* A number that is not an integer as rec_is_int has it, or no number. */
static void
value_number(char *v, size_t size, unsigned *seed)
{
	static const char *const other[] = { "1.5", "-0.25", "1e3", "007",
		"-0", "+4", "12.000", "-3.5e-2", "abc", "", "1 ", "12a",
		"NaN", "Infinity", "0.0", "-12345678901234567890.5" };

	snprintf(v, size, "%s", other[rnd(seed) % (sizeof other /
	    sizeof *other)]);
}

/* A text with common prefixes, embedded NUL bytes, of 0 to 12 bytes; its
 * length. */
static size_t
value_text(char *v, unsigned *seed)
{
	static const char alpha[] = { 'a', 'b', '\0', '\xff', 'a' };
	size_t len = rnd(seed) % 13, i;

	for (i = 0; i < len; i++)
		v[i] = alpha[rnd(seed) % sizeof alpha];
	if (rnd(seed) % 3 == 0 && len >= 8)
		memcpy(v, "abcdefgh", 8); /* a common 8-byte prefix */
	return len;
}

/* A key field: NULL now and then, else by the column's kind (mix: the
 * numeric column holds non-integers too). */
static void
key_random(struct rec_field *f, char *v, int numeric, unsigned *seed)
{
	unsigned r = rnd(seed) % 20;

	memset(f, 0, sizeof *f);
	f->p = v;
	if (r == 0) {
		f->null = 1;
		return;
	}
	if (!numeric) {
		f->len = value_text(v, seed);
		return;
	}
	if (r < 4)
		value_number(v, 32, seed);
	else
		value_int(v, 32, seed);
	f->len = strlen(v);
}

/* A key field of a numeric column or not; mix: a numeric column holds
 * non-integers and non-numbers too, else only integers (and NULLs). */
static void
key_make(struct rec_field *f, char *v, int numeric, int mix,
    unsigned *seed)
{
	key_random(f, v, numeric, seed);
	if (numeric && !mix && !f->null) {
		value_int(v, 32, seed);
		f->len = strlen(v);
	}
}

/* n packed rows, each nkeys keys then its serial number, into data (row i
 * at off[i], off[n] the end); the first key often from a pool of 64: many
 * duplicates. */
static void
rows_make(struct buf *data, size_t *off, int n, const struct order *o,
    int mix, unsigned seed)
{
	char v[4][32], pool[64][32], serial[16];
	struct rec_field f[4], poolf[64];
	int i, k, p;

	for (p = 0; p < 64; p++)
		key_make(&poolf[p], pool[p], o->numkey[0], mix, &seed);
	for (i = 0; i < n; i++) {
		for (k = 0; k < o->nkeys; k++) {
			if (k == 0 && rnd(&seed) % 2)
				f[k] = poolf[rnd(&seed) % 64];
			else
				key_make(&f[k], v[k], o->numkey[k], mix, &seed);
		}
		snprintf(serial, sizeof serial, "%d", i);
		f[o->nkeys] = (struct rec_field){ serial, strlen(serial), 0 };
		off[i] = data->len;
		rec_row_pack(data, f, o->nkeys + 1);
	}
	off[n] = data->len;
}

/* Sort n rows in memory of the given size, with prefixes or without;
 * the serial numbers in order into out. */
static void
rows_sort(const struct buf *data, const size_t *off, int n,
    struct order *o, size_t memory, int prefixed, struct out *out)
{
	struct extsort *s = extsort_new(memory, row_cmp, o);
	const char *r;
	char *err = NULL;
	uint64_t prefix;
	unsigned cls;
	size_t len;
	int i;

	for (i = 0; i < n; i++) {
		cls = rec_sort_prefix(o->numkey, o->nkeys, data->data + off[i],
		    off[i + 1] - off[i], &prefix);
		assert_int_equal(extsort_add_key(s, data->data + off[i],
		    off[i + 1] - off[i], prefix, prefixed ? cls : 0, &err), 0);
	}
	o->calls = 0;
	out->serial = calloc((size_t)n, sizeof *out->serial);
	for (out->n = 0; extsort_next(s, &r, &len, &err) == 1; out->n++) {
		assert_true(out->n < n);
		out->serial[out->n] = row_serial(r, len, o->nkeys);
	}
	assert_null(err);
	out->runs = extsort_runs(s);
	out->calls = o->calls;
	extsort_free(s);
}

/* Each row not after the next one, and equal ones in arrival order. */
static void
sorted_stably(const struct buf *data, const size_t *off, struct order *o,
    const struct out *out)
{
	int i, a, b, c;

	for (i = 1; i < out->n; i++) {
		a = out->serial[i - 1];
		b = out->serial[i];
		c = row_cmp(data->data + off[a], off[a + 1] - off[a],
		    data->data + off[b], off[b + 1] - off[b], o);
		assert_true(c <= 0);
		if (c == 0)
			assert_true(a < b);
	}
}

/* With and without prefixes, in memory and spilled: the same rows in the
 * same order; and, where the order is a total one (no mix), sorted with
 * ties in arrival order. */
static void
sorts_agree(int numeric, int nkeys, int mix, unsigned seed)
{
	struct order o = { { numeric, 0, 1 }, nkeys, 0 };
	static const size_t memory[] = { 4096, 64 * 1024, 64u << 20 };
	struct buf data = { 0 };
	size_t off[NROWS + 1], m;
	struct out plain, pre;

	rows_make(&data, off, NROWS, &o, mix, seed);
	for (m = 0; m < sizeof memory / sizeof *memory; m++) {
		rows_sort(&data, off, NROWS, &o, memory[m], 0, &plain);
		rows_sort(&data, off, NROWS, &o, memory[m], 1, &pre);
		assert_int_equal(plain.n, NROWS);
		assert_int_equal(pre.n, NROWS);
		assert_memory_equal(plain.serial, pre.serial,
		    NROWS * sizeof *pre.serial);
		assert_int_equal(plain.runs, pre.runs);
		if (!mix)
			sorted_stably(&data, off, &o, &pre);
		if (m == 0)
			assert_true(pre.runs > 10);
		if (m == 2)
			assert_int_equal(pre.runs, 0);
		free(plain.serial);
		free(pre.serial);
	}
	buf_free(&data);
}

/* Numbers, integers of every length and sign, one key: exact prefixes. */
static void
test_int_one_key(void **state)
{
	(void)state;
	sorts_agree(1, 1, 0, 17);
}

/* Integers among non-integers, non-numbers and NULLs. */
static void
test_numbers_mixed(void **state)
{
	(void)state;
	sorts_agree(1, 1, 1, 23);
	sorts_agree(1, 2, 1, 29);
}

/* Integers, two keys: equal prefixes go to the comparator. */
static void
test_int_two_keys(void **state)
{
	(void)state;
	sorts_agree(1, 2, 0, 31);
}

/* Texts with common prefixes and NUL bytes, one and two keys. */
static void
test_text(void **state)
{
	(void)state;
	sorts_agree(0, 1, 0, 37);
	sorts_agree(0, 2, 1, 41);
}

/* Pair by pair, a prefix that decides agrees with the comparator. */
static void
test_prefix_pairs(void **state)
{
	(void)state;
	struct order o = { { 1, 0, 1 }, 1, 0 };
	struct buf data = { 0 };
	size_t off[NROWS + 1];
	uint64_t pa, pb;
	unsigned ca, cb, seed = 43;
	int i, a, b, c, kind, decided = 0;

	for (kind = 0; kind < 4; kind++) {
		o.numkey[0] = kind < 2;
		o.nkeys = 1 + kind % 2;
		buf_reset(&data);
		rows_make(&data, off, NROWS, &o, 1, seed + (unsigned)kind);
		for (i = 0; i < 200000; i++) {
			a = (int)(rnd(&seed) % NROWS);
			b = (int)(rnd(&seed) % NROWS);
			ca = rec_sort_prefix(o.numkey, o.nkeys,
			    data.data + off[a], off[a + 1] - off[a], &pa);
			cb = rec_sort_prefix(o.numkey, o.nkeys,
			    data.data + off[b], off[b + 1] - off[b], &pb);
			c = row_cmp(data.data + off[a], off[a + 1] - off[a],
			    data.data + off[b], off[b + 1] - off[b], &o);
			if (ca != cb || ca == 0)
				continue;
			decided++;
			if (pa != pb)
				assert_int_equal(c < 0, pa < pb);
			else if (ca & EXTSORT_EXACT)
				assert_int_equal(c, 0);
		}
	}
	assert_true(decided > 100000);
	buf_free(&data);
}

/* Prefixes spare the comparator most calls: integers of one key. */
static void
test_fewer_calls(void **state)
{
	(void)state;
	struct order o = { { 1, 0, 1 }, 1, 0 };
	struct buf data = { 0 };
	size_t off[NROWS + 1];
	struct rec_field f[2];
	char v[2][16];
	unsigned seed = 47;
	struct out plain, pre;
	int i;

	for (i = 0; i < NROWS; i++) {
		snprintf(v[0], sizeof v[0], "%d", (int)(rnd(&seed) % 100000) -
		    50000);
		snprintf(v[1], sizeof v[1], "%d", i);
		f[0] = (struct rec_field){ v[0], strlen(v[0]), 0 };
		f[1] = (struct rec_field){ v[1], strlen(v[1]), 0 };
		off[i] = data.len;
		rec_row_pack(&data, f, 2);
	}
	off[NROWS] = data.len;
	rows_sort(&data, off, NROWS, &o, 64 * 1024, 0, &plain);
	rows_sort(&data, off, NROWS, &o, 64 * 1024, 1, &pre);
	assert_memory_equal(plain.serial, pre.serial,
	    NROWS * sizeof *pre.serial);
	assert_true(plain.calls > 10000);
	assert_int_equal(pre.calls, 0);
	free(plain.serial);
	free(pre.serial);
	buf_free(&data);
}

/* The class of a one-key row holding v (len bytes; NULL: a NULL), and
 * its *prefix. */
static unsigned
prefix_of(int numeric, const char *v, size_t len, uint64_t *prefix)
{
	struct rec_field f = { v, len, v == NULL };
	struct buf row = { 0 };
	unsigned cls;

	rec_row_pack(&row, &f, 1);
	cls = rec_sort_prefix(&numeric, 1, row.data, row.len, prefix);
	buf_free(&row);
	return cls;
}

/* The class and prefix of single values. */
static void
test_prefix_values(void **state)
{
	(void)state;
	const unsigned exact = 1 | EXTSORT_EXACT;
	uint64_t p, q;

	assert_int_equal(prefix_of(1, "0", 1, &p), exact);
	assert_true(p == (uint64_t)1 << 63);
	assert_int_equal(prefix_of(1, "-1", 2, &q), exact);
	assert_true(q + 1 == p);
	assert_int_equal(prefix_of(1, "-9223372036854775808", 20, &p), exact);
	assert_true(p == 0);
	assert_int_equal(prefix_of(1, "9223372036854775807", 19, &p), exact);
	assert_true(p == UINT64_MAX);
	assert_int_equal(prefix_of(1, "9223372036854775808", 19, &p), 0);
	assert_int_equal(prefix_of(1, "-9223372036854775809", 20, &p), 0);
	assert_int_equal(prefix_of(1, "-0", 2, &p), 0);
	assert_int_equal(prefix_of(1, "01", 2, &p), 0);
	assert_int_equal(prefix_of(1, "1.0", 3, &p), 0);
	assert_int_equal(prefix_of(1, "", 0, &p), 0);
	assert_int_equal(prefix_of(1, NULL, 0, &p), 0);
	assert_int_equal(prefix_of(0, NULL, 0, &p), 0);
	assert_int_equal(prefix_of(0, "ab\0", 3, &p), 2);
	assert_int_equal(prefix_of(0, "ab", 2, &q), 2);
	assert_true(p == q); /* the comparator tells them apart */
	assert_int_equal(prefix_of(0, "abcdefghZ", 9, &p), 2);
	assert_true(p == 0x6162636465666768u);
	assert_int_equal(prefix_of(0, "12", 2, &p), 2); /* text, not numeric */
}

/* Records by their first 4 bytes (a big-endian key). */
static int
key_cmp(const char *a, size_t alen, const char *b, size_t blen, void *arg)
{
	(void)arg;
	assert_true(alen >= 8 && blen >= 8);
	return memcmp(a, b, 4);
}

/* Record i: its key, its serial, then len - 8 bytes made from both. */
static void
big_record(struct buf *b, unsigned key, unsigned i, size_t len)
{
	unsigned char h[8] = { (unsigned char)(key >> 24),
		(unsigned char)(key >> 16), (unsigned char)(key >> 8),
		(unsigned char)key, (unsigned char)(i >> 24),
		(unsigned char)(i >> 16), (unsigned char)(i >> 8),
		(unsigned char)i };
	size_t k;

	buf_reset(b);
	buf_add(b, h, sizeof h);
	for (k = 8; k < len; k++)
		buf_addc(b, (char)(key * 31 + i * 7 + k));
}

/* Records from 8 bytes to 600 KiB (larger than a run's read buffer and
 * than a write), some with a prefix, some without, across many runs:
 * sorted, stable, every byte intact. */
static void
test_large_records(void **state)
{
	(void)state;
	struct extsort *s = extsort_new(256 * 1024, key_cmp, NULL);
	struct buf want = { 0 };
	unsigned seed = 53, key[300], prevkey = 0, i, serial, prev = 0;
	size_t len[300], got;
	const char *r;
	char *err = NULL;
	int n = 0;

	for (i = 0; i < 300; i++) {
		key[i] = rnd(&seed) % 40;
		len[i] = i % 50 == 0 ? 600 * 1024 : 8 + rnd(&seed) % 3000;
		big_record(&want, key[i], i, len[i]);
		assert_int_equal(extsort_add_key(s, want.data, want.len, key[i],
		    i % 3 == 0 ? 0 : 1 | EXTSORT_EXACT, &err), 0);
	}
	while (extsort_next(s, &r, &got, &err) == 1) {
		serial = (unsigned)(unsigned char)r[4] << 24 |
		    (unsigned)(unsigned char)r[5] << 16 |
		    (unsigned)(unsigned char)r[6] << 8 | (unsigned char)r[7];
		assert_true(serial < 300);
		assert_int_equal(got, len[serial]);
		big_record(&want, key[serial], serial, len[serial]);
		assert_memory_equal(r, want.data, got);
		assert_true(n == 0 || key[serial] > prevkey ||
		    (key[serial] == prevkey && serial > prev));
		prevkey = key[serial];
		prev = serial;
		n++;
	}
	assert_null(err);
	assert_int_equal(n, 300);
	assert_true(extsort_runs(s) > 5);
	extsort_free(s);
	buf_free(&want);
}

/* More data than the merge's read buffers hold (8 MiB together): runs
 * are read in pieces, records cut across them; sorted, stable, intact. */
static void
test_runs_read_in_pieces(void **state)
{
	(void)state;
	struct extsort *s = extsort_new(1024 * 1024, key_cmp, NULL);
	struct buf want = { 0 };
	unsigned seed = 59, *key, prevkey = 0, i, serial, prev = 0;
	const unsigned n = 120000;
	size_t got;
	const char *r;
	char *err = NULL;
	unsigned done = 0;

	key = calloc(n, sizeof *key);
	for (i = 0; i < n; i++) {
		key[i] = rnd(&seed) % 5000;
		big_record(&want, key[i], i, 8 + i % 193);
		assert_int_equal(extsort_add_key(s, want.data, want.len, key[i],
		    i % 5 == 0 ? 0 : 1, &err), 0);
	}
	while (extsort_next(s, &r, &got, &err) == 1) {
		serial = (unsigned)(unsigned char)r[4] << 24 |
		    (unsigned)(unsigned char)r[5] << 16 |
		    (unsigned)(unsigned char)r[6] << 8 | (unsigned char)r[7];
		assert_true(serial < n);
		assert_int_equal(got, 8 + serial % 193);
		big_record(&want, key[serial], serial, got);
		assert_memory_equal(r, want.data, got);
		assert_true(done == 0 || key[serial] > prevkey ||
		    (key[serial] == prevkey && serial > prev));
		prevkey = key[serial];
		prev = serial;
		done++;
	}
	assert_null(err);
	assert_int_equal(done, n);
	assert_true(extsort_runs(s) >= 12);
	extsort_free(s);
	buf_free(&want);
	free(key);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prefix_values),
		cmocka_unit_test(test_prefix_pairs),
		cmocka_unit_test(test_int_one_key),
		cmocka_unit_test(test_int_two_keys),
		cmocka_unit_test(test_numbers_mixed),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_fewer_calls),
		cmocka_unit_test(test_large_records),
		cmocka_unit_test(test_runs_read_in_pieces),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
