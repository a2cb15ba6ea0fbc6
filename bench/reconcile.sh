#!/bin/bash
# reconcile.sh - a reconcile step over N rows of 6 columns on each side
# (default 1,000,000; tables with a primary key in two databases of one
# local server, a few planted differences), against:
#   floor     each side's query (as the runbook writes it) copied to
#             /dev/null by psql, both sides concurrently; also shown: the
#             same with the ORDER BY cutover adds, concurrently
#   pipeline  what an operator would otherwise write: both sides exported
#             by psql to files (concurrently), sorted (sort, C locale), and
#             compared with comm -3
#   cutover   `cutover run` of a one-step runbook (compare: rows)
# Times are medians of 3 runs. Targets: cutover/floor <= 1.3,
# pipeline/cutover >= 10, cutover's peak RSS < 64 MiB.
# BENCH_4M=1 also measures cutover's peak RSS at 4,000,000 rows.
. "$(dirname "$0")/lib.sh"
set +e
. "$top/tests/pg.sh"

N=${N:-1000000}
TIME=${TIME:-/usr/bin/time}
[ -x "$TIME" ] || { echo "bench: $TIME is missing (apt-get install time)"; exit 1; }
cleanup() { rm -rf "$B"; }
pg_start >/dev/null || { echo "bench: PostgreSQL did not start"; exit 1; }
pg_createdb legacy
pg_createdb odoo

SRC="SELECT id, name, email, amount, created, active FROM customers"

# load DB N: the customers table with n rows, and its primary key.
load() {
	local PGOPTIONS="-c client_min_messages=warning"
	export PGOPTIONS
	PGDATABASE=$1 pg_psql "DROP TABLE IF EXISTS customers;
	CREATE TABLE customers AS SELECT g AS id, 'customer ' || g AS name,
	    'c' || g || '@example.com' AS email,
	    ((g % 100000) / 100.0)::numeric(12,2) AS amount,
	    timestamptz '2024-01-01 00:00:00+00' + g * interval '1 second'
	        AS created, g % 3 = 0 AS active
	  FROM generate_series(1, $2) g;
	ALTER TABLE customers ADD PRIMARY KEY (id)" >/dev/null
	PGDATABASE=$1 pg_psql "VACUUM ANALYZE customers" >/dev/null
}

# plant: 3 missing, 2 extra, 5 changed in odoo.
plant() {
	PGDATABASE=odoo pg_psql "DELETE FROM customers WHERE id IN (10, 500000, $1);
	INSERT INTO customers VALUES ($1 + 1, 'x', NULL, 0, NULL, NULL),
	    ($1 + 2, 'y', NULL, 0, NULL, NULL);
	UPDATE customers SET name = 'changed' WHERE id IN (20, 30);
	UPDATE customers SET amount = amount + 1 WHERE id IN (40, 50, 60)" \
	    >/dev/null
	PGDATABASE=odoo pg_psql "VACUUM ANALYZE customers" >/dev/null
}

cat >"$B/rb.yaml" <<EOF
cutover: 1
name: bench-reconcile
targets:
  legacy: {type: postgres, conninfo: "host=127.0.0.1 port=$PGPORT user=cutover dbname=legacy"}
  odoo: {type: postgres, conninfo: "host=127.0.0.1 port=$PGPORT user=cutover dbname=odoo"}
phases:
  - id: p
    steps:
      - id: customers
        type: reconcile
        compare: rows
        key: 1
        tolerance: 10
        timeout: 30m
        source: {target: legacy, query: "$SRC"}
        dest: {target: odoo, query: "$SRC"}
EOF

floor() {
	PGDATABASE=legacy pg_psql "\\copy ($SRC) to /dev/null" &
	PGDATABASE=odoo pg_psql "\\copy ($SRC) to /dev/null"
	wait
}
floor_ordered() {
	PGDATABASE=legacy pg_psql "\\copy ($SRC ORDER BY id) to /dev/null" &
	PGDATABASE=odoo pg_psql "\\copy ($SRC ORDER BY id) to /dev/null"
	wait
}
pipeline() {
	PGDATABASE=legacy pg_psql "\\copy ($SRC) to '$B/a.tsv'" &
	PGDATABASE=odoo pg_psql "\\copy ($SRC) to '$B/b.tsv'"
	wait
	LC_ALL=C sort "$B/a.tsv" >"$B/a.sorted"
	LC_ALL=C sort "$B/b.tsv" >"$B/b.sorted"
	LC_ALL=C comm -3 "$B/a.sorted" "$B/b.sorted" >"$B/diff.txt"
	rm -f "$B/a.tsv" "$B/b.tsv" "$B/a.sorted" "$B/b.sorted"
}
one_run() {
	rm -f "$B/s.db" "$B/s.db-wal" "$B/s.db-shm"
	"$CUTOVER" --state "$B/s.db" run "$B/rb.yaml"
}
# rss: cutover's peak resident set size in KiB, from time -v.
rss() {
	rm -f "$B/s.db" "$B/s.db-wal" "$B/s.db-shm"
	"$TIME" -v "$CUTOVER" --state "$B/s.db" run "$B/rb.yaml" \
	    >/dev/null 2>"$B/time.txt"
	awk -F': ' '/Maximum resident set size/ { print $2 }' "$B/time.txt"
}

load legacy "$N"
load odoo "$N"
plant "$N"
one_run >/dev/null || { echo "bench: the run failed"; "$CUTOVER" --state "$B/s.db" log "$B/rb.yaml" customers; exit 1; }
got=$("$CUTOVER" --state "$B/s.db" status "$B/rb.yaml" --json |
    jq -c '.steps[0].result | [.source_rows, .dest_rows, .missing, .extra, .changed]')
[ "$got" = "[$N,$((N - 1)),3,2,5]" ] ||
	{ echo "bench: unexpected result $got"; exit 1; }

f=$(median 3 floor)
fo=$(median 3 floor_ordered)
p=$(median 3 pipeline)
c=$(median 3 one_run)
r=$(rss)
echo "rows per side: $N (6 columns), 10 differences planted"
echo "floor, psql \\copy to /dev/null, both sides concurrently: ${f} ms"
echo "floor with ORDER BY id, both sides concurrently:          ${fo} ms"
echo "pipeline (2 psql exports, sort, comm -3):                 ${p} ms"
echo "cutover run (compare: rows):                              ${c} ms"
echo "ratio cutover/floor: $(ratio "$c" "$f") (target <= 1.3);" \
    "cutover/ordered floor: $(ratio "$c" "$fo")"
echo "ratio pipeline/cutover: $(ratio "$p" "$c") (target >= 10)"
echo "cutover peak RSS: $((r / 1024)) MiB ($r KiB; target < 64 MiB)"
if [ -n "${BENCH_4M:-}" ]; then
	load legacy 4000000
	load odoo 4000000
	plant 4000000
	r4=$(rss)
	echo "cutover peak RSS at 4000000 rows: $((r4 / 1024)) MiB ($r4 KiB)"
fi
