#!/bin/bash
# odbc-reconcile.sh - reconcile steps across engines: a real MariaDB
# (through the MariaDB ODBC driver) against a real PostgreSQL, with
# planted differences across types (DECIMAL vs numeric, DATETIME in a
# declared zone vs timestamptz, TINYINT(1) vs boolean, CHAR vs varchar,
# upper-case uuid text vs uuid, '' vs NULL, UTF-8 accents), text keys the
# two servers collate differently, an ODBC error on a side, and the
# password kept out of every output.
. "$(dirname "$0")/../lib.sh"
. "$SRCDIR/tests/pg.sh"
. "$SRCDIR/tests/mariadb.sh"

command -v jq >/dev/null || { fail "jq is needed"; finish; }
my_start || { fail "MariaDB did not start"; finish; }
# pg_start sets its own EXIT trap: stop both servers.
pg_start || { fail "PostgreSQL did not start"; finish; }
trap 'pg_stop; my_stop; cleanup' EXIT
export LEGACY_PW=$MY_PASSWORD

my_sql "
CREATE TABLE cutover.customers (id INT PRIMARY KEY, name VARCHAR(40),
    balance DECIMAL(12,2), active TINYINT(1), code CHAR(8), ref CHAR(36),
    created DATETIME(3), note VARCHAR(20)) CHARACTER SET utf8mb4;
INSERT INTO cutover.customers VALUES
 (1, 'Crème brûlée', 12.50, 1, 'AB', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11',
  '2024-03-01 12:00:00', ''),
 (2, 'Zoë', 7.00, 0, 'CD', 'B0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A12',
  '2024-07-01 09:30:00.5', 'vip'),
 (3, 'plain', 1.10, 1, 'EF', 'C0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A13',
  '2024-12-31 23:59:59', ''),
 (4, 'gone', 4.00, 1, 'GH', 'D0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A14',
  '2024-01-01 00:00:00', ''),
 (5, 'Noël', 5.00, 0, 'IJ', 'E0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A15',
  '2024-06-15 12:00:00', '');
CREATE TABLE cutover.words (k VARCHAR(20) PRIMARY KEY, v INT)
    CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;
INSERT INTO cutover.words VALUES ('apple', 1), ('Banana', 2), ('cherry', 3),
    ('Éclair', 4), ('zeta', 5);
" || fail "MariaDB tables"

pg_psql "
CREATE TABLE res_partner (id int, name text, balance numeric(12,3),
    active boolean, code varchar, ref uuid, created timestamptz, note text);
INSERT INTO res_partner VALUES
 (1, 'Crème brûlée', 12.5, true, 'AB', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
  '2024-03-01 11:00:00+00', NULL),
 (2, 'Zoé', 7, false, 'CD', 'b0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12',
  '2024-07-01 07:30:00.5+00', 'vip'),
 (3, 'plain', 1.1, true, 'EF', 'c0eebc99-9c0b-4ef8-bb6d-6bb9bd380a13',
  '2024-12-31 22:59:59+00', NULL),
 (5, 'Noël', 5.01, false, 'IJ', 'e0eebc99-9c0b-4ef8-bb6d-6bb9bd380a15',
  '2024-06-15 10:00:00+00', NULL),
 (6, 'new', 0, NULL, NULL, NULL, NULL, NULL);
CREATE TABLE words (k text PRIMARY KEY, v int);
INSERT INTO words VALUES ('apple', 1), ('Banana', 2), ('cherry', 3),
    ('Éclair', 4), ('zeta', 50);
" >/dev/null || fail "PostgreSQL tables"

# rb NAME [EXTRA]: a runbook of one reconcile step "r", MariaDB against
# PostgreSQL; EXTRA lines are added to the step (indented).
rb() {
	local f=$T/$1.yaml
	cat >"$f" <<EOF
cutover: 1
name: $1
targets:
  legacy: {type: odbc, connection: "DRIVER=MariaDB;SERVER=127.0.0.1;PORT=\${env:MY_PORT};DATABASE=cutover;UID=cutover;PWD=\${env:LEGACY_PW}"}
  odoo: {type: postgres, conninfo: "host=127.0.0.1 port=\${env:PGPORT} user=cutover dbname=cutover"}
phases:
  - id: p
    steps:
      - id: r
        type: reconcile
        compare: rows
        timeout: ${TIMEOUT:-60s}
$(cat)
EOF
	echo "$f"
}
res() { "$CUTOVER" status "$1" --json | jq -c ".steps[0].result | $2"; }

SRC="SELECT id, name, balance, active, code, ref, created, note FROM customers"
DST="SELECT id, name, balance, active, code, ref, created, note FROM res_partner"

# --- By meaning: only the planted differences count.
r=$(rb meaning <<EOF
        empty_is_null: true
        source: {target: legacy, query: "$SRC", timezone: Europe/Paris}
        dest: {target: odoo, query: "$DST"}
EOF
)
expect_rc 0 "$CUTOVER" lint "$r"
expect_rc 1 "$CUTOVER" run "$r"; [ -n "${DEBUG:-}" ] && { cat $T/out $T/err; "$CUTOVER" log "$r" r; }
check "meaning: counts" test "$(res "$r" '[.source_rows, .dest_rows,
    .matched, .missing, .extra, .changed]')" = "[5,5,2,1,1,2]"
check "meaning: samples" test "$(res "$r" '[.samples.missing,
    .samples.extra, .samples.changed]')" = '[["4"],["6"],["2","5"]]'
check "meaning: changed columns (accent, cent)" \
	test "$(res "$r" .changed_columns)" = '{"name":1,"balance":1}'

# --- cutover diff: every difference, with both rows' values.
expect_rc 0 "$CUTOVER" diff "$r" r
check "diff csv: a header and four differences" test "$(wc -l <"$T/out")" = 5
contains "$T/out" 'kind,key,columns,source,dest'
contains "$T/out" 'missing,"[""4""]",,"[""4"",""gone"",""4.00"",""t""'
contains "$T/out" 'extra,"[""6""]",,,"[""6"",""new"",""0.000"",null'
contains "$T/out" 'changed,"[""5""]",balance,"[""5"",""Noël"",""5.00""'
expect_rc 0 "$CUTOVER" diff "$r" r --format json -o "$T/diff.json"
check "diff json: four objects" test "$(jq length "$T/diff.json")" = 4
check "diff json: changed row 2 keeps both names" test "$(jq -c \
    '.[] | select(.kind == "changed" and .key == ["2"]) | [.columns,
    .source[1], .dest[1]]' "$T/diff.json")" = '["name","Zoë","Zoé"]'
expect_rc 2 "$CUTOVER" diff "$r" r --format xml
expect_rc 2 "$CUTOVER" diff "$r" nosuch

# The same with the state on PostgreSQL: the differences are kept there.
pg_psql "CREATE DATABASE warroom" >/dev/null
export CUTOVER_STATE="postgresql://cutover@127.0.0.1:$PGPORT/warroom"
expect_rc 1 "$CUTOVER" run "$r"
expect_rc 0 "$CUTOVER" diff "$r" r --format json
check "diff from the PostgreSQL state: four" test "$(jq length "$T/out")" = 4
check "kept in cutover.diffs" test "$(PGDATABASE=warroom pg_psql \
    'SELECT count(*) FROM cutover.diffs')" = 4
unset CUTOVER_STATE

# --- Without the rules that the step declares, the differences show.
r=$(rb plain <<EOF
        source: {target: legacy, query: "$SRC"}
        dest: {target: odoo, query: "$DST"}
EOF
)
expect_rc 1 "$CUTOVER" run "$r"; [ -n "${DEBUG:-}" ] && { cat $T/out $T/err; "$CUTOVER" log "$r" r; }
check "no timezone, no empty_is_null: created and note differ" \
	test "$(res "$r" .changed_columns)" = \
	'{"name":1,"balance":1,"created":4,"note":3}'

# --- Text keys: MariaDB collates case-insensitively, PostgreSQL here by
# bytes; the tool orders the ODBC side itself, so every key pairs.
r=$(rb words <<'EOF'
        source: {target: legacy, query: "SELECT k, v FROM words"}
        dest: {target: odoo, query: "SELECT k, v FROM words"}
EOF
)
expect_rc 1 "$CUTOVER" run "$r"; [ -n "${DEBUG:-}" ] && { cat $T/out $T/err; "$CUTOVER" log "$r" r; }
check "words: every key pairs" test "$(res "$r" '[.matched, .missing,
    .extra, .changed, .samples.changed]')" = '[4,0,0,1,["zeta"]]'

# --- Both sides on MariaDB: two connections stream at once.
r=$(rb both <<'EOF'
        source: {target: legacy, query: "SELECT k, v FROM words"}
        dest: {target: legacy, query: "SELECT k, v FROM words"}
EOF
)
expect_rc 0 "$CUTOVER" run "$r"
check "both on MariaDB: all matched" test "$(res "$r" .matched)" = 5

# --- An ODBC error on a side: SQLSTATE and the driver's message.
r=$(rb err <<'EOF'
        source: {target: legacy, query: "SELECT id FROM nosuch"}
        dest: {target: odoo, query: "SELECT id FROM res_partner"}
EOF
)
expect_rc 1 "$CUTOVER" run "$r"; [ -n "${DEBUG:-}" ] && { cat $T/out $T/err; "$CUTOVER" log "$r" r; }
contains "$T/err" "source legacy: ERROR 42S02: "
contains "$T/err" "Table 'cutover.nosuch' doesn't exist"

# --- A timeout cancels the side's statement on the server.
r=$(TIMEOUT=1s rb slow <<'EOF2'
        source: {target: legacy, query: "SELECT k, SLEEP(30) AS s FROM words"}
        dest: {target: odoo, query: "SELECT k, 0 AS s FROM words"}
EOF2
)
t0=$(date +%s%N)
expect_rc 1 "$CUTOVER" run "$r"
t1=$(date +%s%N)
contains "$T/err" "timed out after 1s"
check "the timeout took $(((t1 - t0) / 1000000))ms (< 8000)" \
	test $(((t1 - t0) / 1000000)) -lt 8000
for i in $(seq 50); do
	[ "$(my_sql "SELECT count(*) FROM information_schema.processlist
	    WHERE info LIKE '%SLEEP(30)%' AND id <> connection_id()")" = 0 ] &&
		break
	sleep 0.1
done
check "SLEEP(30) is no longer in the server's process list" test "$(my_sql \
    "SELECT count(*) FROM information_schema.processlist
    WHERE info LIKE '%SLEEP(30)%' AND id <> connection_id()")" = 0

# --- The password is in no output, nor in the state.
{
	"$CUTOVER" log "$T/meaning.yaml" r
	"$CUTOVER" status "$T/meaning.yaml" --json
	"$CUTOVER" log "$T/err.yaml" r
} >"$T/all" 2>&1
lacks "$T/all" "$MY_PASSWORD"
for db in "$XDG_STATE_HOME"/cutover/*.db; do
	[ -f "$db" ] || continue
	if grep -qaF "$MY_PASSWORD" "$db"; then
		fail "the password is in the state file $db"
	else ok; fi
done

finish
