#!/bin/bash
# odbc-csv.sh - a reconcile step over N rows of 5 columns: a CSV file side
# (a legacy extract) against PostgreSQL (default 1,000,000 rows, a few
# planted differences), against the raw export of each side:
#   cat       `cat` of the CSV file to /dev/null
#   psql      `psql \copy (query) to /dev/null` of the dest query
#   cutover   `cutover run` of a one-step runbook (compare: rows), twice:
#             the extract in key order (a first pass finds it in order,
#             the second streams it unsorted while the merge runs) and
#             shuffled (the first pass stops at once; external merge sort
#             in $TMPDIR)
# Targets: cutover at most 1.5x the slower raw export; peak RSS < 64 MiB.
# Times are medians of RUNS runs (default 3). The memory check:
#   N=4000000 RUNS=1 bench/odbc-csv.sh
# SWAP=1 makes PostgreSQL the source and the file the dest; ORDERS=shuffled
# (or sorted) measures one order only.
. "$(dirname "$0")/lib.sh"
set +e
. "$top/tests/pg.sh"

N=${N:-1000000}
RUNS=${RUNS:-3}
TIME=${TIME:-/usr/bin/time}
[ -x "$TIME" ] || { echo "bench: $TIME is missing (apt-get install time)"; exit 1; }
pg_start >/dev/null || { echo "bench: PostgreSQL did not start"; exit 1; }
trap 'pg_stop; rm -rf "$B"' EXIT

pg_psql "CREATE TABLE customers AS SELECT g AS id, 'customer ' || g AS name,
    ((g % 100000) / 100.0)::numeric(12,2) AS amount,
    timestamptz '2024-01-01 00:00:00+00' + g * interval '1 second' AS created,
    g % 3 = 0 AS active FROM generate_series(1, $N) g;
ALTER TABLE customers ADD PRIMARY KEY (id)" >/dev/null
# The extract: timestamps without zone (UTC), booleans as 1/0, amounts with
# one decimal more, one row in 100,000 a cent off; in key order, and
# shuffled.
pg_psql "\\copy (SELECT id, name, (amount + CASE WHEN id % 100000 = 7 THEN 0.01
    ELSE 0 END)::numeric(12,3), to_char(created AT TIME ZONE 'UTC',
    'YYYY-MM-DD HH24:MI:SS'), active::int FROM customers) to '$B/body.csv' csv" \
    >/dev/null || { echo "bench: export failed"; exit 1; }
{
	echo "id,name,amount,created,active"
	cat "$B/body.csv"
} >"$B/sorted.csv"
{
	echo "id,name,amount,created,active"
	shuf --random-source=<(yes) "$B/body.csv"
} >"$B/shuffled.csv"
rm -f "$B/body.csv"

DST="SELECT id, name, amount, created, active FROM customers"
ORDERS=${ORDERS:-sorted shuffled}
for order in $ORDERS; do
side1="{file: $B/$order.csv}"
side2="{target: odoo, query: \"$DST\"}"
[ -z "${SWAP:-}" ] || { t=$side1; side1=$side2; side2=$t; }
cat >"$B/$order.yaml" <<EOF
cutover: 1
name: bench-csv
targets:
  odoo: {type: postgres, conninfo: "host=127.0.0.1 port=\${env:PGPORT} user=cutover dbname=cutover"}
phases:
  - id: p
    steps:
      - id: r
        type: reconcile
        compare: rows
        timeout: 30m
        tolerance: 1000000
        source: $side1
        dest: $side2
EOF
done

ms() { echo $(($(date +%s%N) / 1000000)); }
mid() { sort -n | awk '{ v[NR] = $0 } END { print v[int((NR + 1) / 2)] }'; }

for i in $(seq "$RUNS"); do
	t0=$(ms)
	cat "$B/sorted.csv" >/dev/null
	echo $(($(ms) - t0))
done | mid >"$B/cat"
for i in $(seq "$RUNS"); do
	t0=$(ms)
	pg_psql "\\copy ($DST) to /dev/null" >/dev/null
	echo $(($(ms) - t0))
done | mid >"$B/pg"
cat=$(cat "$B/cat") pg=$(cat "$B/pg")
slow=$((cat > pg ? cat : pg))
echo "rows: $N (CSV file of $(($(stat -c %s "$B/sorted.csv") / 1048576)) MiB)"
echo "cat export: ${cat} ms; psql \\copy export: ${pg} ms"
for order in $ORDERS; do
	for i in $(seq "$RUNS"); do
		rm -f "$B"/state.db*
		t0=$(ms)
		CUTOVER_STATE=$B/state.db "$TIME" -v "$top/cutover" run \
		    "$B/$order.yaml" >"$B/out" 2>"$B/time"
		[ -s "$B/out" ] || cat "$B/time" >&2
		echo "$(($(ms) - t0)) $(awk -F: '/Maximum resident/ { print $2 + 0 }' \
		    "$B/time")"
	done | mid >"$B/cut"
	read -r cut rss <"$B/cut"
	echo "cutover, file $order: ${cut} ms, $(awk -v a="$cut" -v b="$slow" \
	    'BEGIN { printf "%.2f", a / b }')x the slower export (target <= 1.5x);" \
	    "peak RSS $((rss / 1024)) MiB (target < 64 MiB)"
	"$top/cutover" --state "$B/state.db" log "$B/$order.yaml" r |
		grep -E "rows|matched|differences" | head -2
done
