#!/bin/bash
# odbc-reconcile.sh - a reconcile step over N rows of 5 columns: MariaDB
# through the MariaDB ODBC driver against PostgreSQL (default 1,000,000
# rows, a few planted differences), against the raw export of each side:
#   mariadb   `mariadb --batch` of the source query to /dev/null
#   psql      `psql \copy (query) to /dev/null` of the dest query
#   cutover   `cutover run` of a one-step runbook (compare: rows), whose
#             MariaDB side is read and sorted by the tool
# Targets: cutover at most 1.5x the slower raw export; peak RSS < 64 MiB.
# Times are medians of 3 runs.
. "$(dirname "$0")/lib.sh"
set +e
. "$top/tests/pg.sh"
. "$top/tests/mariadb.sh"

N=${N:-1000000}
TIME=${TIME:-/usr/bin/time}
[ -x "$TIME" ] || { echo "bench: $TIME is missing (apt-get install time)"; exit 1; }
my_start >/dev/null || { echo "bench: MariaDB did not start"; exit 1; }
pg_start >/dev/null || { echo "bench: PostgreSQL did not start"; exit 1; }
trap 'pg_stop; my_stop; rm -rf "$B"' EXIT
export LEGACY_PW=$MY_PASSWORD

my_sql "USE cutover;
CREATE TABLE cutover.customers (id INT PRIMARY KEY, name VARCHAR(40),
    amount DECIMAL(12,2), created DATETIME, active TINYINT(1));
INSERT INTO cutover.customers
  SELECT seq, CONCAT('customer ', seq), (seq % 100000) / 100,
    '2024-01-01 00:00:00' + INTERVAL seq SECOND, seq % 3 = 0
  FROM seq_1_to_$N AS s;
UPDATE cutover.customers SET amount = amount + 1 WHERE id % 100000 = 7;" ||
	{ echo "bench: MariaDB load failed"; exit 1; }
pg_psql "CREATE TABLE customers AS SELECT g AS id, 'customer ' || g AS name,
    ((g % 100000) / 100.0)::numeric(12,2) AS amount,
    timestamptz '2024-01-01 00:00:00+00' + g * interval '1 second' AS created,
    g % 3 = 0 AS active FROM generate_series(1, $N) g;
ALTER TABLE customers ADD PRIMARY KEY (id)" >/dev/null

SRC="SELECT id, name, amount, created, active FROM customers"
cat >"$B/rb.yaml" <<EOF
cutover: 1
name: bench-odbc
targets:
  legacy: {type: odbc, connection: "DRIVER=MariaDB;SERVER=127.0.0.1;PORT=\${env:MY_PORT};DATABASE=cutover;UID=cutover;PWD=\${env:LEGACY_PW}${ODBC_EXTRA:-}"}
  odoo: {type: postgres, conninfo: "host=127.0.0.1 port=\${env:PGPORT} user=cutover dbname=cutover"}
phases:
  - id: p
    steps:
      - id: r
        type: reconcile
        compare: rows
        timeout: 30m
        tolerance: 1000000
        source: {target: legacy, query: "$SRC"}
        dest: {target: odoo, query: "$SRC"}
EOF

ms() { echo $(($(date +%s%N) / 1000000)); }
median() { sort -n | sed -n 2p; }

for i in 1 2 3; do
	t0=$(ms)
	mariadb --no-defaults -S "$MY_SOCKET" -u root --batch cutover \
	    -e "$SRC" >/dev/null
	echo $(($(ms) - t0))
done | median >"$B/my"
for i in 1 2 3; do
	t0=$(ms)
	pg_psql "\\copy ($SRC) to /dev/null" >/dev/null
	echo $(($(ms) - t0))
done | median >"$B/pg"
for i in 1 2 3; do
	rm -f "$B/state.db"
	t0=$(ms)
	CUTOVER_STATE=$B/state.db "$TIME" -v "$top/cutover" run "$B/rb.yaml" \
	    >"$B/out" 2>"$B/time"
	echo "$(($(ms) - t0)) $(awk -F: '/Maximum resident/ { print $2 + 0 }' \
	    "$B/time")"
done | sort -n | sed -n 2p >"$B/cut"
if [ -n "${MASSIF:-}" ]; then
	rm -f "$B/state.db"
	CUTOVER_STATE=$B/state.db valgrind --tool=massif --massif-out-file="$MASSIF" \
	    "$top/cutover" run "$B/rb.yaml" >/dev/null 2>&1
fi
if [ -n "${PERF:-}" ]; then
	rm -f "$B/state.db"
	CUTOVER_STATE=$B/state.db perf record -g -o "$PERF" "$top/cutover" run \
	    "$B/rb.yaml" >/dev/null 2>&1
fi
my=$(cat "$B/my") pg=$(cat "$B/pg")
read -r cut rss <"$B/cut"
slow=$((my > pg ? my : pg))
echo "rows: $N"
echo "mariadb --batch export: ${my} ms; psql \\copy export: ${pg} ms"
echo "cutover: ${cut} ms, $(awk -v a="$cut" -v b="$slow" \
    'BEGIN { printf "%.2f", a / b }')x the slower export (target <= 1.5x)"
echo "cutover peak RSS: $((rss / 1024)) MiB (target < 64 MiB)"
grep -E 'matched|differences' "$B/out" | head -3
