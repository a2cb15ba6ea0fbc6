/*
 * canon-fuzzer.c - libFuzzer target for the shortcuts of values compared
 * by meaning (reconcile.h): every input, made canonical as each kind with
 * the shortcuts and without them (the general path), must give the same
 * text, and two numbers must compare the same either way. The first byte
 * picks the side's zone, the rest is two values split at the first
 * newline.
 *
 * Build and run from the top of the tree (after ./configure): `make fuzz`,
 * then
 *
 *	mkdir -p /tmp/canon-corpus
 *	fuzz/canon-fuzzer -max_total_time=600 /tmp/canon-corpus
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "reconcile.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void canon_check(enum rec_kind, const char *, const char *, size_t);
static void numbers_check(const char *, size_t, const char *, size_t);

/* Canonical a of kind, with the shortcuts and without: the same. */
static void
canon_check(enum rec_kind kind, const char *tz, const char *a, size_t n)
{
	struct rec_field f[2];
	struct buf out[2] = { { 0 }, { 0 } };
	int slow;

	for (slow = 0; slow < 2; slow++) {
		f[slow] = (struct rec_field){ a, n, 0 };
		rec_test_slow = slow;
		rec_canon_field(kind, 1, tz, 0, &f[slow], &out[slow]);
	}
	rec_test_slow = 0;
	if (f[0].null != f[1].null || f[0].len != f[1].len ||
	    memcmp(f[0].p, f[1].p, f[0].len) != 0)
		abort();
	buf_free(&out[0]);
	buf_free(&out[1]);
}

/* a and b as numbers, equal and in order the same either way. */
static void
numbers_check(const char *a, size_t na, const char *b, size_t nb)
{
	static const int numkey[] = { 1 };
	struct rec_field x = { a, na, 0 }, y = { b, nb, 0 };
	int eq[2], ord[2], slow;

	for (slow = 0; slow < 2; slow++) {
		rec_test_slow = slow;
		eq[slow] = rec_equal(REC_NUMBER, &x, REC_NUMBER, &y);
		ord[slow] = rec_keys_order(numkey, 1, &x, &y);
	}
	rec_test_slow = 0;
	if (eq[0] != eq[1] || ord[0] != ord[1])
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const zones[] = { NULL, "UTC", "Z", "+00:00",
		"-03:30", "Europe/Paris" };
	static const enum rec_kind kinds[] = { REC_BOOL, REC_TIMESTAMP,
		REC_TIMESTAMPTZ, REC_CHAR, REC_UUID, REC_TEXT };
	const char *tz, *a, *nl;
	size_t na, nb, k;

	if (size < 1)
		return 0;
	tz = zones[data[0] % (sizeof zones / sizeof zones[0])];
	a = (const char *)data + 1;
	nl = memchr(a, '\n', size - 1);
	na = nl != NULL ? (size_t)(nl - a) : size - 1;
	nb = nl != NULL ? size - 1 - na - 1 : 0;
	for (k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
		canon_check(kinds[k], tz, a, na);
	numbers_check(a, na, nl != NULL ? nl + 1 : a, nl != NULL ? nb : na);
	return 0;
}
