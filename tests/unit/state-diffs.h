/*
 * state-diffs.h - the check of reconcile differences that test-state
 * (SQLite) and test-state-pg (PostgreSQL) run alike on their store, so
 * that both stores keep one contract (state.h: state_diffs_add and
 * state_diffs_each). Included once by each test, after cmocka.h and
 * state.h.
 */
#ifndef CUTOVER_TEST_STATE_DIFFS_H
#define CUTOVER_TEST_STATE_DIFFS_H

/* What state_diffs_each read: "SEQ KIND SOURCE? DEST? COLUMNS;" each. */
static int
diff_seen(const struct diff_row *d, void *arg)
{
	char *s = arg;
	size_t n = strlen(s);

	snprintf(s + n, 256 - n, "%lld %s %s %s %s;", (long long)d->seq, d->kind,
	    d->source != NULL ? d->source : "-", d->dest != NULL ? d->dest : "-",
	    d->columns != NULL ? d->columns : "-");
	return 0;
}

/* Differences go in a batch at a time, all or none, and come back in seq
 * order with their NULLs. */
static void
diffs_check(struct state *st, int64_t run)
{
	const struct diff_row d[] = {
		{ 1, "missing", "[1]", "[1]", NULL, NULL },
		{ 2, "changed", "[2]", "[2,\"b\"]", "[2,\"c\"]", "name" },
		{ 3, "extra", "[3]", NULL, "[3]", NULL },
	};
	const struct diff_row again[] = {
		{ 4, "extra", "[4]", NULL, "[4]", NULL },
		{ 2, "extra", "[2]", NULL, "[2]", NULL }, /* seq 2 again */
	};
	char seen[256] = "";

	assert_int_equal(state_diffs_add(st, run, "a", "t1", d, 3), STATE_OK);
	assert_int_not_equal(state_diffs_add(st, run, "a", "t1", again, 2),
	    STATE_OK);
	assert_int_equal(state_diffs_each(st, run, "a", "t1", diff_seen, seen),
	    STATE_OK);
	assert_string_equal(seen, "1 missing [1] - -;2 changed [2,\"b\"] "
	    "[2,\"c\"] name;3 extra - [3] -;");
}

#endif
