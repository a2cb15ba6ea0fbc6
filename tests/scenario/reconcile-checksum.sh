#!/bin/bash
# reconcile-checksum.sh - method: checksum against real PostgreSQL databases:
# a "legacy" database with the C collation and an "odoo" database with an
# ICU (or C.utf8) collation and another time zone; text, composite, numeric
# and repeated keys; planted differences (missing, extra, changed, two
# changes that cancel in a sum of values, values swapped between rows, NULL
# against ''); values equal by meaning across types. checksum (forced
# deep: bisection_factor 3, bisection_threshold 4) and stream must give
# the same status --json result
# (but for method, ranges, fetched_rows) and the same `cutover diff`; and
# checksum must have fetched only part of the rows. Also: lint errors of the
# new keys, a timeout that cancels the hashing on both servers, a column SQL
# cannot make canonical, and what auto chooses and says.
. "$(dirname "$0")/../lib.sh"
. "$SRCDIR/tests/pg.sh"

command -v jq >/dev/null || { fail "jq is needed"; finish; }
pg_start || { fail "PostgreSQL did not start"; finish; }
pg_createdb legacy
pg_psql "CREATE DATABASE odoo TEMPLATE template0 ENCODING 'UTF8'
    LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.utf8'" >/dev/null 2>&1 ||
	pg_psql "CREATE DATABASE odoo TEMPLATE template0 ENCODING 'UTF8'
	    LC_COLLATE 'C.utf8' LC_CTYPE 'C.utf8'" >/dev/null
pg_psql "ALTER DATABASE legacy SET timezone = 'Europe/Paris'" >/dev/null
pg_psql "ALTER DATABASE odoo SET timezone = 'America/New_York'" >/dev/null

q() { PGDATABASE=$1 pg_psql "$2"; }

# Text keys whose order differs between collations; every kind of column.
q legacy "
CREATE TABLE tk (k text PRIMARY KEY, v text, n numeric(12,2), f float8,
    b boolean, c char(6), u uuid, ts timestamptz);
INSERT INTO tk SELECT (ARRAY['A','b','É','z'])[g % 4 + 1] || g, 'v' || g,
    g * 1.5, g / 3.0, g % 2 = 0, 'c' || g % 100, md5(g::text)::uuid,
    '2024-01-01 00:00:00+00'::timestamptz + g * interval '1 hour'
  FROM generate_series(1, 3000) g;
UPDATE tk SET f = '-0' WHERE k = 'b1';
UPDATE tk SET v = NULL WHERE k = 'z7';
CREATE TABLE ck (a text, b int, v text);
INSERT INTO ck SELECT (ARRAY['x','Y','z'])[g % 3 + 1], g, 'v' || g
  FROM generate_series(1, 2000) g;
INSERT INTO ck VALUES (NULL, 1, 'null key'), ('x', NULL, 'null b');
CREATE TABLE nk (id numeric(10,2), v text);
INSERT INTO nk SELECT g * 0.25, 'v' || g FROM generate_series(-500, 1500) g;
CREATE TABLE dk (id int, v text);
INSERT INTO dk SELECT g, 'v' || g FROM generate_series(1, 200) g;
INSERT INTO dk VALUES (5, 'v5'), (150, 'v150');
CREATE TABLE dv (id int, v text);
INSERT INTO dv SELECT g, 'v' || g FROM generate_series(1, 200) g;
INSERT INTO dv VALUES (50, 'zz');
CREATE TABLE tt (id int, ts text);
INSERT INTO tt VALUES (1, '2024-01-01 00:00:00');
CREATE TABLE tn (id int, amount text);
INSERT INTO tn SELECT g, CASE WHEN g % 2 = 0 THEN (g * 1.5)::text || '0'
    ELSE (g * 1.5)::text END FROM generate_series(1, 100) g;
INSERT INTO tn VALUES (101, '-0'), (102, 'NaN'), (103, ' 3'), (104, 'x'),
    (105, '2e0'), (106, '+1.5E1');
CREATE TABLE ticks (id int PRIMARY KEY);
INSERT INTO ticks SELECT generate_series(1, 1500);
CREATE FUNCTION slow(i int) RETURNS int LANGUAGE plpgsql IMMUTABLE AS
    \$\$ BEGIN PERFORM pg_sleep(0.002); RETURN i; END \$\$;
" >/dev/null
# odoo: other types with the same meaning, and the planted differences.
q odoo "
CREATE TABLE tk (k varchar PRIMARY KEY, v text, n numeric(14,4), f float8,
    b int, c text, u text, ts timestamp);
INSERT INTO tk SELECT (ARRAY['A','b','É','z'])[g % 4 + 1] || g, 'v' || g,
    g * 1.5, g / 3.0, (g % 2 = 0)::int, 'c' || g % 100,
    upper(md5(g::text)::uuid::text),
    ('2024-01-01 00:00:00+00'::timestamptz + g * interval '1 hour')
        AT TIME ZONE 'America/New_York'
  FROM generate_series(1, 3000) g;
UPDATE tk SET f = 0 WHERE k = 'b1';
UPDATE tk SET v = '' WHERE k = 'z7';
DELETE FROM tk WHERE k IN ('A4', 'É2002');
INSERT INTO tk VALUES ('a9999', 'new', 1, 1, 1, 'c', NULL, NULL),
    ('zz', 'new', 2, 2, 0, 'c', NULL, NULL);
UPDATE tk SET v = 'changed' WHERE k = 'b1001';
UPDATE tk SET n = n + 1 WHERE k = 'z1503';
UPDATE tk SET n = n - 1 WHERE k = 'A1504';
UPDATE tk SET ts = ts + interval '1 microsecond' WHERE k = 'É2998';
CREATE TABLE ck (a text, b int, v text);
INSERT INTO ck SELECT (ARRAY['x','Y','z'])[g % 3 + 1], g, 'v' || g
  FROM generate_series(1, 2000) g;
INSERT INTO ck VALUES (NULL, 1, 'null key'), ('x', NULL, 'null B');
DELETE FROM ck WHERE b IN (10, 1500);
INSERT INTO ck VALUES ('Y', 4000, 'new'), ('a', 1, 'new');
UPDATE ck SET v = 'changed' WHERE b = 777;
UPDATE ck SET v = CASE b WHEN 100 THEN 'v101' ELSE 'v100' END
  WHERE b IN (100, 101);
CREATE TABLE nk (id float8, v text);
INSERT INTO nk SELECT g * 0.25, 'v' || g FROM generate_series(-500, 1500) g;
DELETE FROM nk WHERE id IN (-100, 0.25);
INSERT INTO nk VALUES (1e6, 'big'), (-0.125, 'tiny');
UPDATE nk SET v = 'changed' WHERE id = 300.75;
CREATE TABLE dk (id int, v text);
INSERT INTO dk SELECT g, 'v' || g FROM generate_series(1, 200) g;
INSERT INTO dk VALUES (7, 'v7'), (7, 'v7');
CREATE TABLE dv (id int, v text);
INSERT INTO dv VALUES (50, 'zz');
INSERT INTO dv SELECT g, 'v' || g FROM generate_series(1, 200) g;
CREATE TABLE tt (id int, ts timestamptz);
INSERT INTO tt VALUES (1, '2024-01-01 00:00:00+00');
CREATE TABLE tn (id int, amount numeric);
INSERT INTO tn SELECT g, g * 1.5 FROM generate_series(1, 100) g;
INSERT INTO tn VALUES (101, 0), (102, 'NaN'), (103, 3), (104, NULL), (105, 2),
    (106, 15);
CREATE TABLE ticks (id int PRIMARY KEY);
INSERT INTO ticks SELECT generate_series(1, 1500);
CREATE FUNCTION slow(i int) RETURNS int LANGUAGE plpgsql IMMUTABLE AS
    \$\$ BEGIN PERFORM pg_sleep(0.002); RETURN i; END \$\$;
" >/dev/null

check "legacy and odoo collations order text differently" test \
    "$(q legacy "SELECT string_agg(k, ',' ORDER BY k) FROM tk
        WHERE k IN ('A1', 'b2', 'É3', 'z4', 'a9999')")" != \
    "$(q odoo "SELECT string_agg(k, ',' ORDER BY k) FROM tk
        WHERE k IN ('A1', 'b2', 'É3', 'z4', 'a9999')")"

# rb NAME METHOD KEY SRC_QUERY DST_QUERY [EXTRA_YAML [SRC_TARGET]]: a
# runbook of one reconcile step "r", legacy against odoo.
rb() {
	local f=$T/$1.yaml
	cat >"$f" <<EOF
cutover: 1
name: $1
targets:
  legacy: {type: postgres, conninfo: "host=127.0.0.1 port=\${env:PGPORT} user=cutover dbname=legacy"}
  odoo: {type: postgres, conninfo: "host=127.0.0.1 port=\${env:PGPORT} user=cutover dbname=odoo"}
phases:
  - id: p
    steps:
      - id: r
        type: reconcile
        compare: rows
        method: $2
        key: $3
        timeout: 60s
${6:-}
        source: {target: ${7:-legacy}, query: '$(echo "$4" | sed "s/'/''/g")'}
        dest: {target: odoo, query: '$(echo "$5" | sed "s/'/''/g")', timezone: America/New_York}
EOF
	echo "$f"
}
DEEP="        bisection_factor: 3
        bisection_threshold: 4"

res() { "$CUTOVER" status "$1" --json | jq -cS ".steps[0].result | $2"; }
logof() { "$CUTOVER" log "$1" r 2>&1; }

# same NAME KEY SRC DST [EXTRA]: stream and checksum agree, and checksum
# fetched only part of the rows; the stream result goes to $out (not a
# subshell: the checks must count).
same() {
	local s c
	s=$(rb "$1-stream" stream "$2" "$3" "$4" "${5:-}")
	c=$(rb "$1-checksum" checksum "$2" "$3" "$4" "$DEEP
${5:-}")
	"$CUTOVER" run "$s" >/dev/null 2>&1
	"$CUTOVER" run "$c" >/dev/null 2>&1
	check "$1: stream ran stream" test "$(res "$s" .method)" = '"stream"'
	check "$1: checksum ran checksum" \
	    test "$(res "$c" .method)" = '"checksum"'
	check "$1: same result" test \
	    "$(res "$s" 'del(.method)')" = \
	    "$(res "$c" 'del(.method, .ranges, .fetched_rows)')"
	"$CUTOVER" diff "$s" r --format json >"$T/$1.s.json" 2>&1
	"$CUTOVER" diff "$c" r --format json >"$T/$1.c.json" 2>&1
	check "$1: same diff" cmp "$T/$1.s.json" "$T/$1.c.json"
	check "$1: checksum fetched only part of the rows" test \
	    "$(res "$c" '(.fetched_rows[0] < .source_rows / 2) and
	        (.ranges.differ > 0) and (.ranges.checked > .ranges.differ)')" \
	    = true
	logof "$c" >"$T/$1.log"
	check "$1: the first line says checksum" test \
	    "$(sed -n 2p "$T/$1.log")" = "method: checksum (the step says checksum)"
	out=$(res "$s" 'del(.method)')
}

TK="SELECT k, v, n, f, b, c, u, ts FROM tk"
same text 1 "$TK" "$TK"
check "text: counts" test "$(echo "$out" | jq -c '[.source_rows,
    .dest_rows, .matched, .missing, .extra, .changed]')" = "[3000,3000,2993,2,2,5]"
check "text: changed samples (cancelling pair, NULL vs '', one microsecond)" \
    test "$(echo "$out" | jq -c .samples.changed)" = \
    '["A1504","b1001","z1503","z7","É2998"]'
check "text: changed columns" test "$(echo "$out" | jq -c .changed_columns)" \
    = '{"n":2,"ts":1,"v":2}'
# empty_is_null: '' equals NULL, in SQL as in the merge.
same textnull 1 "$TK" "$TK" "        empty_is_null: true"
check "empty_is_null: one change less" test \
    "$(echo "$out" | jq -c .changed)" = 4

CK="SELECT a, b, v FROM ck"
same composite 2 "$CK" "$CK"
check "composite: counts" test "$(echo "$out" | jq -c '[.matched, .missing,
    .extra, .changed]')" = "[1996,2,2,4]"
check "composite: values swapped between rows, NULL keys last" test \
    "$(echo "$out" | jq -c .samples.changed)" = \
    '[["Y","100"],["x","777"],["x",null],["z","101"]]'

NK="SELECT id, v FROM nk"
same numeric 1 "$NK" "$NK"
check "numeric: counts" test "$(echo "$out" | jq -c '[.matched, .missing,
    .extra, .changed]')" = "[1998,2,2,1]"

TN="SELECT id, amount FROM tn"
same textnum 1 "$TN" "$TN"
check "text against numbers: by value where the text is a number" test \
    "$(echo "$out" | jq -c .samples.changed)" = '["103","104"]'

DK="SELECT id, v FROM dk"
same dups 1 "$DK" "$DK"
check "dups: repeated keys counted as stream counts them" test \
    "$(echo "$out" | jq -c '[.duplicate_keys.source, .duplicate_keys.dest,
        .missing, .extra]')" = "[2,2,2,2]"
# A key repeated with other values, stored in another order on each side:
# rows of equal keys pair in the order of their other columns, so the
# same rows pair (nothing changed) and both methods agree.
DV="SELECT id, v FROM dv"
same dupvals 1 "$DV" "$DV"
check "dupvals: equal keys pair by their other columns" test \
    "$(echo "$out" | jq -c '[.duplicate_keys.source, .duplicate_keys.dest,
        .matched, .changed]')" = "[1,1,201,0]"

# A key unique in its table that the query repeats (a join): not taken
# as unique (the plan has more than one scan), so that the repeats, alike
# on both sides, are still counted.
TJ="SELECT t.k, t.v FROM tk t LEFT JOIN (VALUES ('b5'), ('b5')) AS x(k)
    ON x.k = t.k"
same joindups 1 "$TJ" "$TJ"
check "joindups: a key repeated by a join counted as stream counts it" test \
    "$(echo "$out" | jq -c '[.duplicate_keys.source, .duplicate_keys.dest,
        .changed]')" = "[1,1,2]"

# Test hook CUTOVER_TEST_HASH_MISMATCH: the servers' hashtextextended taken
# as unequal; rows are hashed with md5 on both, with stream's results.
export CUTOVER_TEST_HASH_MISMATCH=1
same textmd5 1 "$TK" "$TK"
unset CUTOVER_TEST_HASH_MISMATCH
contains "$T/textmd5.log" "rows hashed with md5 on both"
check "md5: counts as stream" test "$(echo "$out" | jq -c '[.source_rows,
    .dest_rows, .matched, .missing, .extra, .changed]')" = "[3000,3000,2993,2,2,5]"
lacks "$T/text.log" "md5"

# --- A column SQL cannot make canonical: checksum fails saying why; auto
# streams and says why.
r=$(rb canon checksum 1 "SELECT id, ts FROM tt" "SELECT id, ts FROM tt")
expect_rc 1 "$CUTOVER" run "$r"
"$CUTOVER" status "$r" >"$T/out" 2>&1
contains "$T/out" "method: checksum cannot be used: source column ts is text"
r=$(rb canonauto auto 1 "SELECT id, ts FROM tt" "SELECT id, ts FROM tt")
expect_rc 0 "$CUTOVER" run "$r"
logof "$r" >"$T/out"
contains "$T/out" "method: stream (auto: source column ts is text"

# --- auto on one machine streams, and says why.
r=$(rb auto auto 1 "$DK" "$DK")
expect_rc 1 "$CUTOVER" run "$r"
logof "$r" >"$T/out"
contains "$T/out" "method: stream (auto: both servers on this machine"
check "auto: result says stream" test "$(res "$r" .method)" = '"stream"'

# --- Progress, and a timeout that cancels the hashing on both servers.
SLOW="SELECT id, slow(id) AS s FROM ticks"
r=$(rb slowcs checksum 1 "$SLOW" "$SLOW")
sed -i 's/timeout: 60s/timeout: 2s/' "$r"
t0=$(date +%s%N)
expect_rc 1 "$CUTOVER" run "$r"
t1=$(date +%s%N)
check "timeout: quick ($(((t1 - t0) / 1000000))ms)" \
    test $(((t1 - t0) / 1000000)) -lt 6000
"$CUTOVER" status "$r" >"$T/out" 2>&1
contains "$T/out" "timed out after 2s"
logof "$r" >"$T/out"
contains "$T/out" "checksum: 0 ranges checked, 0 differ, 0 rows fetched"
for i in $(seq 50); do
	left=$(pg_psql "SELECT count(*) FROM pg_stat_activity
	    WHERE query LIKE 'SELECT b,%slow(id)%' AND state = 'active'")
	[ "$left" = 0 ] && break
	sleep 0.1
done
check "timeout: no hashing left running (cancelled, not just closed)" \
    test "$left" = 0

# --- Lint: the keys, their values, where they apply.
cat >"$T/lint.yaml" <<EOF
cutover: 1
name: lint
targets:
  legacy: {type: postgres, conninfo: "dbname=legacy"}
phases:
  - id: p
    steps:
      - id: file
        type: reconcile
        compare: rows
        method: checksum
        source: {file: x.csv, columns: [id]}
        dest: {target: legacy, query: "SELECT 1"}
      - id: value
        type: reconcile
        compare: value
        method: stream
        source: {target: legacy, query: "SELECT 1"}
        dest: {target: legacy, query: "SELECT 1"}
      - id: bad
        type: reconcile
        compare: rows
        method: fast
        bisection_factor: 1
        bisection_threshold: 0
        source: {target: legacy, query: "SELECT 1"}
        dest: {target: legacy, query: "SELECT 1"}
EOF
expect_rc 3 "$CUTOVER" lint "$T/lint.yaml"
contains "$T/err" "lint.yaml:11:17: error: method: checksum needs both sides on postgres targets (source is a file); use stream or auto"
contains "$T/err" "lint.yaml:17:17: error: method: only for compare: rows"
contains "$T/err" "lint.yaml:23:17: error: method: expected stream, checksum or auto, found 'fast'"
contains "$T/err" "lint.yaml:24:27: error: bisection_factor: expected a whole number from 2 to 256"
contains "$T/err" "lint.yaml:25:30: error: bisection_threshold: expected a whole number from 1 to 1000000"

finish
