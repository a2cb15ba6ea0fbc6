#!/bin/bash
# reconcile-differential.sh - method: checksum against method: stream on
# random tables (tests/gen-tables.py): 200 table pairs in a "legacy"
# database (C collation) and an "odoo" one (ICU collation, other time zone
# and date style), random key types, NULLs, numeric scales, time zones,
# booleans, char(n), '' and NULL, and planted differences (missing, extra,
# changed, changes that cancel in a naive sum, swapped rows). One runbook
# with a reconcile step per table is run once with each method (checksum
# with small bisection settings, so that it recurses deeply); per step the
# result in status --json (all but the members only checksum has) and
# every difference from `cutover diff --format json` and the step's output
# (`cutover log`, but the method and progress lines) must be identical, and
# stream's result must be what was planted.
#
# DIFF_SEED=S repeats a run (the seed is printed); DIFF_TABLES=N sets the
# number of tables; DIFF_ONLY=17,42 keeps just those tables of the seed.
# A tenth of the tables have no primary key: a NULL in a key, and some keys
# repeated, with other values (postgres sides order rows of equal keys by
# their other columns, so they pair alike in both methods;
# DIFF_DUP_VALUES=0 repeats copies of a row instead).
. "$(dirname "$0")/../lib.sh"
. "$SRCDIR/tests/pg.sh"

command -v jq >/dev/null || { fail "jq is needed"; finish; }
command -v python3 >/dev/null || { fail "python3 is needed"; finish; }
seed=${DIFF_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
ntables=${DIFF_TABLES:-200}
echo "seed: $seed (repeat with DIFF_SEED=$seed)"
G=$T/gen
methods="stream checksum"
export DIFF_DUP_VALUES=${DIFF_DUP_VALUES:-1}
gen() { DIFF_METHODS=$methods python3 "$SRCDIR/tests/gen-tables.py" "$@"; }
gen gen "$seed" "$ntables" "$G" "${DIFF_ONLY:-}" ||
	{ fail "gen-tables.py failed"; finish; }

pg_start || { fail "PostgreSQL did not start"; finish; }
pg_createdb legacy
pg_psql "CREATE DATABASE odoo TEMPLATE template0 ENCODING 'UTF8'
    LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.utf8'" >/dev/null 2>&1 ||
	pg_psql "CREATE DATABASE odoo TEMPLATE template0 ENCODING 'UTF8'
	    LC_COLLATE 'C.utf8' LC_CTYPE 'C.utf8'" >/dev/null
pg_psql "ALTER DATABASE legacy SET timezone = 'Asia/Tokyo'" >/dev/null
pg_psql "ALTER DATABASE odoo SET timezone = 'America/New_York'" >/dev/null
pg_psql "ALTER DATABASE odoo SET DateStyle = 'SQL, DMY'" >/dev/null
for db in legacy odoo; do
	PGDATABASE=$db "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -f "$G/$db.sql" \
	    >"$T/load-$db.log" 2>&1 ||
		{ fail "loading $db"; cat "$T/load-$db.log" >&2; finish; }
done
# The test means something only if the two databases sort text apart.
check "legacy and odoo collations order text differently" test \
    "$(PGDATABASE=legacy pg_psql "SELECT string_agg(w, ',' ORDER BY w)
        FROM (VALUES ('a'), ('B'), ('é')) v(w)")" != \
    "$(PGDATABASE=odoo pg_psql "SELECT string_agg(w, ',' ORDER BY w)
        FROM (VALUES ('a'), ('B'), ('é')) v(w)")"

# run_method M: lint and run M's runbook, then keep status --json and
# every step's differences under $G/M.
run_method() {
	local m=$1 rb=$G/$1.yaml st=$T/$1.db s
	mkdir -p "$G/$m"
	if ! "$CUTOVER" lint "$rb" >"$T/lint-$m" 2>&1; then
		fail "method: $m is not accepted by lint:"
		sed 's/^/  /' "$T/lint-$m" | head -20 >&2
		return 1
	fi
	ok
	expect_rc 0 "$CUTOVER" --state "$st" run "$rb"
	"$CUTOVER" --state "$st" status "$rb" --json >"$G/$m/status.json"
	for s in $(jq -r '.steps[].id' "$G/$m/status.json"); do
		"$CUTOVER" --state "$st" diff "$rb" "$s" --format json \
		    >"$G/$m/$s.diff.json" 2>"$T/diff-err" ||
			{ fail "$m: cutover diff $s"; cat "$T/diff-err" >&2; }
		"$CUTOVER" --state "$st" log "$rb" "$s" >"$G/$m/$s.log" 2>&1
	done
	check "$m: every step reports its method" test \
	    "$(jq '[.steps[] | select(.result.method != "'"$m"'")] | length' \
	    "$G/$m/status.json")" = 0
}

for m in $methods; do
	start=$(date +%s)
	run_method "$m" || finish
	echo "method $m: $(($(date +%s) - start)) s"
done
# What both methods must agree on, and what stream must find.
if gen compare "$G" >"$T/compare" 2>&1; then ok; else
	fail "the methods disagree (seed $seed); per step:"
	head -c 20000 "$T/compare" >&2
fi
tail -1 "$T/compare"
# The ranges checked prove checksum bisected (rather than ran as stream).
check "checksum checked ranges" test "$(jq '[.steps[].result.ranges.checked
    // 0] | add' "$G/checksum/status.json")" -gt \
    "$(jq '.steps | length' "$G/checksum/status.json")"
finish
