#!/bin/bash
# reconcile.sh - reconcile steps against real PostgreSQL databases: a
# "legacy" database with the C collation and an "odoo" database with an ICU
# (or C.utf8) collation and another time zone, planted differences of every
# kind, values equal by meaning, text keys that sort differently under the
# two collations, composite keys, gaps in key ranges, empty tables, SQL
# errors on one side, tolerance boundaries, timeouts, progress, and
# passwords kept out of every output. Results are checked in status --json.
. "$(dirname "$0")/../lib.sh"
. "$SRCDIR/tests/pg.sh"

command -v jq >/dev/null || { fail "jq is needed"; finish; }
pg_start || { fail "PostgreSQL did not start"; finish; }
pg_createdb legacy
# odoo: another collation (ICU if the server has it) and another time zone.
pg_psql "CREATE DATABASE odoo TEMPLATE template0 ENCODING 'UTF8'
    LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.utf8'" >/dev/null 2>&1 ||
	pg_psql "CREATE DATABASE odoo TEMPLATE template0 ENCODING 'UTF8'
	    LC_COLLATE 'C.utf8' LC_CTYPE 'C.utf8'" >/dev/null
pg_psql "ALTER DATABASE legacy SET timezone = 'Europe/Paris'" >/dev/null
pg_psql "ALTER DATABASE odoo SET timezone = 'America/New_York'" >/dev/null
pg_psql "ALTER DATABASE odoo SET DateStyle = 'SQL, DMY'" >/dev/null
export APP_PW=$PG_APP_PASSWORD

q() { PGDATABASE=$1 pg_psql "$2"; }

q legacy "
CREATE TABLE customers (id int PRIMARY KEY, name text, email text,
    balance numeric(12,2), created timestamptz, active boolean);
INSERT INTO customers SELECT g, 'name ' || g, 'c' || g || '@example.com',
    g + 0.5, '2024-03-01 12:00:00+01'::timestamptz + g * interval '1 hour',
    g % 2 = 0
  FROM generate_series(1, 10) g UNION ALL
  SELECT g, 'name ' || g, 'c' || g || '@example.com', g,
    '2024-03-01 12:00:00+01', true FROM generate_series(1000000, 1000010) g;
UPDATE customers SET balance = 1.0 WHERE id = 1;
UPDATE customers SET email = NULL WHERE id = 5;
CREATE TABLE words (k text PRIMARY KEY, v int);
INSERT INTO words VALUES ('Éclair', 1), ('eclair', 2), ('Zeta', 3),
    ('apple', 4), ('Apple', 5);
CREATE TABLE stock (store text, sku int, qty numeric);
INSERT INTO stock VALUES ('A', 1, 5), ('A', 2, 3), ('B', 1, 7);
CREATE TABLE nothing (id int, v text);
CREATE TABLE ticks (id int PRIMARY KEY);
INSERT INTO ticks SELECT generate_series(1, 1500);
CREATE FUNCTION slow(i int) RETURNS int LANGUAGE plpgsql IMMUTABLE AS
    \$\$ BEGIN PERFORM pg_sleep(0.002); RETURN i; END \$\$;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO app;
" >/dev/null
pg_psql "ALTER DATABASE legacy SET enable_sort = off" >/dev/null
q odoo "
CREATE TABLE res_partner (ref varchar, name text, email text,
    balance numeric(12,3), created timestamptz, active boolean);
INSERT INTO res_partner SELECT g::text, 'name ' || g,
    'c' || g || '@example.com', g + 0.5,
    ('2024-03-01 06:00:00-05'::timestamptz + g * interval '1 hour'), g % 2 = 0
  FROM generate_series(1, 11) g UNION ALL
  SELECT g::text, 'name ' || g, 'c' || g || '@example.com', g,
    '2024-03-01 06:00:00-05', true
  FROM generate_series(1000000, 1000010) g;
INSERT INTO res_partner VALUES ('2000000', 'new', NULL, 0, NULL, NULL);
UPDATE res_partner SET balance = 1.000 WHERE ref = '1';
DELETE FROM res_partner WHERE ref IN ('3', '1000005');
UPDATE res_partner SET name = 'Dorra' WHERE ref = '4';
UPDATE res_partner SET email = '' WHERE ref = '5';
UPDATE res_partner SET balance = 6.6 WHERE ref = '6';
UPDATE res_partner SET name = 'x', email = 'y' WHERE ref = '7';
CREATE TABLE words (k text PRIMARY KEY, v int);
INSERT INTO words VALUES ('Éclair', 1), ('eclair', 2), ('Zeta', 3),
    ('apple', 40), ('éclair', 6);
CREATE TABLE stock (store text, sku int, qty numeric);
INSERT INTO stock VALUES ('A', 1, 5.0), ('A', 2, 4), ('B', 2, 1);
CREATE TABLE nothing (id int, v text);
" >/dev/null

# The test means something only if the two databases sort text apart.
check "legacy and odoo collations order text differently" test \
    "$(q legacy "SELECT string_agg(k, ',' ORDER BY k) FROM words")" != \
    "$(q odoo "SELECT string_agg(k, ',' ORDER BY k) FROM words")"

# rb NAME COMPARE KEY TOLERANCE SRC_TARGET SRC_QUERY DST_TARGET DST_QUERY
#    [TIMEOUT]: a runbook of one reconcile step "r".
rb() {
	local f=$T/$1.yaml
	cat >"$f" <<EOF
cutover: 1
name: $1
targets:
  legacy: {type: postgres, conninfo: "host=127.0.0.1 port=\${env:PGPORT} user=cutover dbname=legacy"}
  odoo: {type: postgres, conninfo: "postgresql://cutover@127.0.0.1:\${env:PGPORT}/odoo"}
  app: {type: postgres, conninfo: "host=127.0.0.1 port=\${env:PGPORT} user=app password=\${env:APP_PW} dbname=legacy"}
  wrongpw: {type: postgres, conninfo: "host=127.0.0.1 port=\${env:PGPORT} user=app password=\${env:APP_PW}x dbname=odoo"}
phases:
  - id: p
    steps:
      - id: r
        type: reconcile
        compare: $2
        key: $3
        tolerance: $4
        timeout: ${9:-30s}
        source: {target: $5, query: '$(echo "$6" | sed "s/'/''/g")'}
        dest: {target: $7, query: '$(echo "$8" | sed "s/'/''/g")'}
EOF
	echo "$f"
}

# res RUNBOOK JQ: a jq expression on the step's result, compact.
res() { "$CUTOVER" status "$1" --json | jq -c ".steps[0].result | $2"; }
# msg RUNBOOK: what the last attempt said (status --json has no message).
logof() { "$CUTOVER" log "$1" r 2>&1; }

SRC="SELECT id, name, email, balance, created, active FROM customers"
DST="SELECT ref::int AS id, name, email, balance, created, active
    FROM res_partner"

# --- Missing, extra, changed; equal by meaning; gaps in the key range.
r=$(rb rows rows 1 0 legacy "$SRC" odoo "$DST")
expect_rc 0 "$CUTOVER" lint "$r"
expect_rc 1 "$CUTOVER" run "$r"
check "rows: failed" test "$(step_state "$r" r)" = failed
check "rows: counts" test "$(res "$r" '[.source_rows, .dest_rows, .matched,
    .missing, .extra, .changed]')" = "[21,21,15,2,2,4]"
check "rows: missing samples" test "$(res "$r" .samples.missing)" = \
    '["3","1000005"]'
check "rows: extra samples" test "$(res "$r" .samples.extra)" = \
    '["11","2000000"]'
check "rows: changed samples" test "$(res "$r" .samples.changed)" = \
    '["4","5","6","7"]'
check "rows: changed columns (NULL vs '' counts, 1.0 = 1.000, instants)" \
    test "$(res "$r" .changed_columns)" = '{"name":2,"email":2,"balance":1}'
logof "$r" >"$T/out"
contains "$T/out" "key: id; compared: name, email, balance, created, active"
contains "$T/out" "matched: 15, missing: 2, extra: 2, changed: 4"
contains "$T/out" "changed columns: name 2, email 2, balance 1"
contains "$T/out" "missing (in source, not in dest): 3, 1000005"
contains "$T/out" "changed: 4 (name), 5 (email), 6 (balance), 7 (name, email)"
contains "$T/out" "differences: 8, tolerance 0: OVER TOLERANCE"
"$CUTOVER" status "$r" >"$T/out" 2>&1
contains "$T/out" "8 differences (missing 2, extra 2, changed 4) exceed the tolerance of 0"

# --- The order each side asks for, from the server's log: legacy's key
# (customers.id, a primary key read as it is from one table) is proven
# unique, so its rows are ordered by the key only; odoo's (ref::int, an
# expression) is not, so rows of equal keys follow by their other columns.
# Each side decides for itself; the result is the same.
for db in legacy odoo; do
	pg_psql "ALTER DATABASE $db SET log_statement = 'all'" >/dev/null
done
r=$(rb order rows 1 0 legacy "$SRC" odoo "$DST")
expect_rc 1 "$CUTOVER" run "$r"
for db in legacy odoo; do
	pg_psql "ALTER DATABASE $db RESET log_statement" >/dev/null
done
check "order: counts as before" test "$(res "$r" '[.source_rows, .dest_rows,
    .matched, .missing, .extra, .changed]')" = "[21,21,15,2,2,4]"
# copy_order TABLE: the ORDER BY of the last COPY that read TABLE (the
# log's entries start with their date).
copy_order() {
	pg_as cat "$PG_DIR/server.log" |
		awk -v t="$1" 'BEGIN { RS = "\n20[0-9][0-9]-" }
		    /statement: COPY \(SELECT/ && $0 ~ ("FROM " t "[ \t\n]") {
			r = $0 } END { print r }' |
		tr '\n' ' ' | sed 's/.* ORDER BY //; s/ *$//'
}
check "order: unique keys ordered by the key only" test \
    "$(copy_order customers)" = "c1 NULLS LAST) TO STDOUT"
check "order: keys not proven unique ordered by every column" test \
    "$(copy_order res_partner)" = 'c1 NULLS LAST, c2 COLLATE "C" NULLS LAST, c3 COLLATE "C" NULLS LAST, c4 NULLS LAST, c5::text COLLATE "C" NULLS LAST, c6 NULLS LAST) TO STDOUT'

# --- Tolerance boundaries: differences == tolerance passes, one less fails.
r=$(rb tol8 rows 1 8 legacy "$SRC" odoo "$DST")
expect_rc 0 "$CUTOVER" run "$r"
check "tolerance 8: succeeded" test "$(step_state "$r" r)" = succeeded
check "tolerance 8: still counted" test "$(res "$r" .changed)" = 4
r=$(rb tol7 rows 1 7 legacy "$SRC" odoo "$DST")
expect_rc 1 "$CUTOVER" run "$r"

# --- Same target on both sides, identical queries: all matched.
r=$(rb same rows 1 0 legacy "$SRC" legacy "$SRC")
expect_rc 0 "$CUTOVER" run "$r"
check "same: all matched" test "$(res "$r" '[.matched, .missing, .extra,
    .changed, .samples.missing, .changed_columns]')" = '[21,0,0,0,[],{}]'

# --- Text keys under two collations pair byte-wise.
r=$(rb words rows 1 0 legacy "SELECT k, v FROM words" odoo \
    "SELECT k, v FROM words")
expect_rc 1 "$CUTOVER" run "$r"
check "words: counts" test "$(res "$r" '[.matched, .missing, .extra,
    .changed]')" = "[3,1,1,1]"
check "words: samples" test "$(res "$r" .samples)" = \
    '{"missing":["Apple"],"extra":["éclair"],"changed":["apple"]}'
check "words: changed column" test "$(res "$r" .changed_columns)" = '{"v":1}'

# --- Composite keys.
r=$(rb stock rows 2 0 legacy "SELECT store, sku, qty FROM stock" odoo \
    "SELECT store, sku, qty FROM stock")
expect_rc 1 "$CUTOVER" run "$r"
check "stock: counts" test "$(res "$r" '[.matched, .missing, .extra,
    .changed]')" = "[1,1,1,1]"
check "stock: composite samples" test "$(res "$r" .samples)" = \
    '{"missing":[["B","1"]],"extra":[["B","2"]],"changed":[["A","2"]]}'

# --- Empty tables: both sides, then one.
r=$(rb empty rows 1 0 legacy "SELECT * FROM nothing" odoo \
    "SELECT * FROM nothing")
expect_rc 0 "$CUTOVER" run "$r"
check "empty: zeros" test "$(res "$r" '[.source_rows, .dest_rows, .matched]')" \
    = "[0,0,0]"
r=$(rb oneempty rows 1 2 legacy "SELECT sku, store FROM stock" odoo \
    "SELECT * FROM nothing")
expect_rc 1 "$CUTOVER" run "$r"
check "one side empty: all missing" test "$(res "$r" '[.source_rows,
    .dest_rows, .missing, .samples.missing]')" = '[3,0,3,["1","1","2"]]'

# --- One side fails: a missing relation, an error in the middle of a stream.
r=$(rb nosuch rows 1 0 legacy "SELECT * FROM nosuch" odoo "$DST")
expect_rc 1 "$CUTOVER" run "$r"
"$CUTOVER" status "$r" >"$T/out" 2>&1
contains "$T/out" 'source legacy: ERROR 42P01: relation "nosuch" does not exist'
check "nosuch: no result stored" test "$(res "$r" .)" = null
r=$(rb midway rows 1 0 legacy "$SRC" odoo \
    "SELECT ref::int, name, email, balance, created, 1 / (ref::int - 1000008) > 0
    FROM res_partner")
expect_rc 1 "$CUTOVER" run "$r"
"$CUTOVER" status "$r" >"$T/out" 2>&1
contains "$T/out" "dest odoo: ERROR 22012: division by zero"

# --- Sides that cannot be compared.
r=$(rb family rows 1 0 legacy "$SRC" odoo \
    "SELECT ref, name, email, balance, created, active FROM res_partner")
expect_rc 1 "$CUTOVER" run "$r"
"$CUTOVER" status "$r" >"$T/out" 2>&1
contains "$T/out" "key column 1 (id) is integer in source but character varying in dest"
r=$(rb ncols rows 1 0 legacy "SELECT id, name FROM customers" odoo "$DST")
expect_rc 1 "$CUTOVER" run "$r"
"$CUTOVER" status "$r" >"$T/out" 2>&1
contains "$T/out" "source returns 2 columns, dest 6"

# --- compare: value, with tolerance boundaries.
r=$(rb value05 value 1 0.5 legacy "SELECT 100.5" odoo "SELECT 100.0::numeric")
expect_rc 0 "$CUTOVER" run "$r"
check "value: result" test "$(res "$r" .)" = \
    '{"source_value":100.5,"dest_value":100,"difference":-0.5}'
r=$(rb value04 value 1 0.4 legacy "SELECT 100.5" odoo "SELECT 100.0::numeric")
expect_rc 1 "$CUTOVER" run "$r"
check "value 0.4: result kept" test "$(res "$r" .difference)" = -0.5
r=$(rb valcount value 1 0 legacy "SELECT count(*) FROM customers" odoo \
    "SELECT count(*)::numeric(10,2) FROM res_partner")
expect_rc 0 "$CUTOVER" run "$r"
check "value count: result" test "$(res "$r" .)" = \
    '{"source_value":21,"dest_value":21,"difference":0}'
r=$(rb valtext value 1 0 legacy "SELECT 'abc'" odoo "SELECT 'abc'::varchar")
expect_rc 0 "$CUTOVER" run "$r"
check "value text: difference null" test "$(res "$r" .)" = \
    '{"source_value":"abc","dest_value":"abc","difference":null}'
r=$(rb valrows value 1 0 legacy "SELECT 1 FROM customers" odoo "SELECT 1")
expect_rc 1 "$CUTOVER" run "$r"
"$CUTOVER" status "$r" >"$T/out" 2>&1
contains "$T/out" "source legacy: the query returned 21 rows of 1 column; compare: value needs one row of one column"

# --- The sessions are read-only.
r=$(rb readonly value 1 0 legacy "SELECT 1" odoo \
    "WITH x AS (INSERT INTO nothing VALUES (1, 'x') RETURNING 1)
    SELECT count(*) FROM x")
expect_rc 1 "$CUTOVER" run "$r"
"$CUTOVER" status "$r" >"$T/out" 2>&1
contains "$T/out" "dest odoo: ERROR 25006: cannot execute"
contains "$T/out" "in a read-only transaction"
check "readonly: nothing written" test "$(q odoo "SELECT count(*) FROM nothing")" = 0

# --- Streaming: both sides at once, progress once a second.
r=$(rb slow rows 1 0 legacy "SELECT id, slow(id) FROM ticks" legacy \
    "SELECT id, slow(id) FROM ticks")
t0=$(date +%s%N)
expect_rc 0 "$CUTOVER" run "$r"
t1=$(date +%s%N)
el=$(((t1 - t0) / 1000000))
check "slow: both sides streamed at once (${el}ms < 5000)" test "$el" -lt 5000
logof "$r" >"$T/out"
contains "$T/out" "rows/s)"
n=$(grep -c '^compared [0-9]* rows ([0-9]* rows/s)$' "$T/out")
check "slow: progress at most once a second ($n lines in ${el}ms)" \
    test "$n" -ge 1 -a "$n" -le $((el / 1000 + 1))

# --- Timeout cancels both queries.
r=$(rb timeout rows 1 0 legacy "SELECT 1 AS id, pg_sleep(30)::text AS x" \
    legacy "SELECT id, slow(id) FROM ticks" 1s)
t0=$(date +%s%N)
expect_rc 1 "$CUTOVER" run "$r"
t1=$(date +%s%N)
check "timeout: quick ($(((t1 - t0) / 1000000))ms)" \
    test $(((t1 - t0) / 1000000)) -lt 4000
"$CUTOVER" status "$r" >"$T/out" 2>&1
contains "$T/out" "timed out after 1s"
logof "$r" >"$T/out"
contains "$T/out" "rows compared)"
for i in $(seq 30); do
	left=$(pg_psql "SELECT count(*) FROM pg_stat_activity
	    WHERE query LIKE 'COPY%slow(id)%' OR query LIKE 'COPY%pg_sleep(30)%'")
	[ "$left" = 0 ] && break
	sleep 0.1
done
check "timeout: no query left running (cancelled, not just closed)" \
    test "$left" = 0

# --- Stopping the run cancels both queries; the step is interrupted.
r=$(rb stop rows 1 0 legacy "SELECT id, slow(id) FROM ticks" legacy \
    "SELECT id, slow(id) FROM ticks")
"$CUTOVER" run "$r" >"$T/out" 2>&1 &
pid=$!
sleep 1.5
kill -INT $pid
wait $pid
for i in $(seq 30); do
	left=$(pg_psql "SELECT count(*) FROM pg_stat_activity
	    WHERE query LIKE 'COPY%slow(id)%'")
	[ "$left" = 0 ] && break
	sleep 0.1
done
check "stop: no query left running" test "$left" = 0
check "stop: step interrupted" test "$(step_state "$r" r)" = interrupted

# --- Passwords: a side that logs in with one, a side whose one is wrong.
r=$(rb secret rows 1 0 app "$SRC" wrongpw "$DST")
expect_rc 1 "$CUTOVER" run "$r"
{ cat "$T/out" "$T/err"; "$CUTOVER" status "$r" 2>&1; logof "$r";
  "$CUTOVER" status "$r" --json; } >"$T/all"
contains "$T/all" "dest wrongpw: could not connect"
contains "$T/all" "password authentication failed"
lacks "$T/all" "$APP_PW"

finish
