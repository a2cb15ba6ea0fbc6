#!/bin/bash
# reconcile-file.sh - reconcile sides that are files, against a real
# PostgreSQL: a Latin-1 CSV with CRLF and quoted line breaks, a TSV with
# columns picked by name, a file without a header, bad files (FILE:LINE
# errors, never a crash), and a million-row file sorted by the tool in
# bounded memory (peak RSS under 64 MiB) whose temporary files are gone
# after a kill -9 of the driver.
. "$(dirname "$0")/../lib.sh"
. "$SRCDIR/tests/pg.sh"

command -v jq >/dev/null || { fail "jq is needed"; finish; }
pg_start || { fail "PostgreSQL did not start"; finish; }

pg_psql "
CREATE TABLE customers (id int, name text, city text, balance numeric);
INSERT INTO customers VALUES (1, 'Crème', 'Paris', 10.5),
  (2, 'Zoë', E'Line one\nline two', 3), (3, 'Noël', 'Lyon', 7),
  (5, 'five', 'Nice', 0);
CREATE TABLE big (id int, v text);
INSERT INTO big SELECT g, 'value ' || g || ' ' || repeat('x', 40)
  FROM generate_series(1, 1000000) g;
" >/dev/null || fail "tables"

# rb NAME SOURCE-YAML: one reconcile step "r", SOURCE against customers.
rb() {
	local f=$T/$1.yaml
	cat >"$f" <<EOF
cutover: 1
name: $1
targets:
  odoo: {type: postgres, conninfo: "host=127.0.0.1 port=\${env:PGPORT} user=cutover dbname=cutover"}
phases:
  - id: p
    steps:
      - id: r
        type: reconcile
        compare: rows
        timeout: ${3:-60s}
        source: $2
        dest: {target: odoo, query: "${4:-SELECT id, name, city, balance FROM customers}"}
EOF
	echo "$f"
}
res() { "$CUTOVER" status "$1" --json | jq -c ".steps[0].result | $2"; }

# --- Latin-1, semicolons, CRLF, a quoted line break, keys out of order.
printf 'id;name;city;balance\r\n3;No\xebl;Lyon;7.00\r\n1;Cr\xe8me;Paris;10.50\r\n2;Zo\xeb;"Line one\nline two";3\r\n4;four;Metz;1\r\n' \
	>"$T/latin1.csv"
r=$(rb latin1 "{file: latin1.csv, delimiter: \";\", encoding: latin1}")
expect_rc 0 "$CUTOVER" lint "$r"
expect_rc 1 "$CUTOVER" run "$r"
check "latin1: counts" test "$(res "$r" '[.source_rows, .dest_rows,
    .matched, .missing, .extra, .changed]')" = "[4,4,3,1,1,0]"
check "latin1: samples" test "$(res "$r" '[.samples.missing,
    .samples.extra]')" = '[["4"],["5"]]'

# --- TSV, columns picked by name and order from a wider header.
printf 'balance\tcity\tid\tname\textra\n10.5\tParis\t1\tCrème\tx\n3\tLine one\\nline two\t2\tZoë\tx\n7\tLyon\t3\tNoël\tx\n0\tNice\t5\tfive\tx\n' \
	>"$T/wide.tsv"
r=$(rb tsv "{file: wide.tsv, format: tsv, columns: [id, name, balance]}" \
    60s "SELECT id, name, balance FROM customers")
expect_rc 0 "$CUTOVER" run "$r"
check "tsv: all matched" test "$(res "$r" .matched)" = 4

# --- No header: columns name the fields.
printf '1,Crème\n2,Zoë\n3,Noël\n5,five\n' >"$T/nohead.csv"
r=$(rb nohead "{file: nohead.csv, header: false, columns: [id, name]}" \
    60s "SELECT id, name FROM customers")
expect_rc 0 "$CUTOVER" run "$r"
check "no header: all matched" test "$(res "$r" .matched)" = 4

# --- Timestamp keys with their own offsets: the file's order by text
# (08:00+00, 10:00+05, 11:00+02) is not their order in time (10:00+05 is
# 05:00 UTC): the tool orders them as instants. Without a zone they are
# read in the side's timezone: a fixed offset, and a named zone.
pg_psql "CREATE TABLE ev (at timestamptz, v int);
INSERT INTO ev VALUES ('2024-01-01 05:00:00+00', 1),
  ('2024-01-01 08:00:00+00', 2), ('2024-01-01 09:00:00+00', 3),
  ('2024-07-01 10:00:00+00', 4)" >/dev/null || fail "table ev"
# zone NAME SIDE-OPTIONS WHAT RECORDS...: a file of those records (at,v)
# against ev: every row matched.
zone() {
	local name=$1 opts=$2 what=$3
	shift 3
	printf 'at,v\n' >"$T/$name.csv"
	printf '%s\n' "$@" >>"$T/$name.csv"
	r=$(rb "$name" "{file: $name.csv$opts}" 60s "SELECT at, v FROM ev")
	expect_rc 0 "$CUTOVER" run "$r"
	check "$what: all matched" test "$(res "$r" .matched)" = 4
}
zone zoned "" "offsets in the file" '2024-01-01 10:00:00+05,1' \
	'2024-01-01 08:00:00+00,2' '2024-01-01 11:00:00+02,3' \
	'2024-07-01T10:00:00Z,4'
zone plus2 ', timezone: "+02:00"' "timezone +02:00" \
	'2024-07-01 12:00:00,4' '2024-01-01 07:00:00,1' \
	'2024-01-01 11:00:00,3' '2024-01-01 10:00:00,2'
zone paris ", timezone: Europe/Paris" \
	"timezone Europe/Paris (summer time in July)" \
	'2024-01-01 06:00:00,1' '2024-01-01 09:00:00,2' \
	'2024-01-01 10:00:00,3' '2024-07-01 12:00:00,4'

# --- Text keys alike in their first eight bytes: out of order after them,
# so the file is sorted (a check that looked at the first bytes only would
# send it unsorted, and the merge would refuse it).
pg_psql "CREATE TABLE txt (k text, v int);
INSERT INTO txt VALUES ('abcdefgh-1', 1), ('abcdefgh-2', 2),
  ('abcdefgh-3', 3)" >/dev/null || fail "table txt"
printf 'k,v\nabcdefgh-2,2\nabcdefgh-1,1\nabcdefgh-3,3\n' >"$T/alike.csv"
r=$(rb alike "{file: alike.csv}" 60s "SELECT k, v FROM txt")
expect_rc 0 "$CUTOVER" run "$r"
check "keys alike in their first 8 bytes: all matched" \
	test "$(res "$r" .matched)" = 3

# --- Bad files: FILE:LINE errors.
printf 'id,name,city,balance\n1,a,b,1\n2,"open,b,2\n' >"$T/open.csv"
r=$(rb open "{file: open.csv}")
expect_rc 1 "$CUTOVER" run "$r"
contains "$T/err" "open.csv:3:3: a quoted field is not closed"
printf 'id,name,city,balance\n1,a,b,1\n2,a,b\n' >"$T/short.csv"
r=$(rb short "{file: short.csv}")
expect_rc 1 "$CUTOVER" run "$r"
contains "$T/err" "short.csv:3: a record of 3 fields; the header has 4"
printf 'id,name,city,balance\n1,\xff\xfe,b,1\n' >"$T/notutf8.csv"
r=$(rb notutf8 "{file: notutf8.csv}")
expect_rc 1 "$CUTOVER" run "$r"
contains "$T/err" "notutf8.csv:"
contains "$T/err" "not valid UTF-8 text"
r=$(rb nofile "{file: nosuch.csv}")
expect_rc 1 "$CUTOVER" run "$r"
contains "$T/err" "nosuch.csv: No such file or directory"
r=$(rb badenc "{file: latin1.csv, encoding: klingon-8}")
expect_rc 1 "$CUTOVER" run "$r"
contains "$T/err" "unknown encoding 'klingon-8'"
cat >"$T/lint.yaml" <<'EOF'
cutover: 1
name: lint
targets:
  odoo: {type: postgres, conninfo: "dbname=x"}
phases:
  - id: p
    steps:
      - id: r
        type: reconcile
        compare: rows
        source: {file: a.csv, header: false}
        dest: {target: odoo, query: "SELECT 1", format: tsv}
EOF
expect_rc 3 "$CUTOVER" lint "$T/lint.yaml"
contains "$T/err" "lint.yaml:11:17: error: source: a file without a header needs 'columns'"
contains "$T/err" "lint.yaml:12:15: error: dest: format, header, delimiter, encoding and columns are for file sides"

# --- A million rows, shuffled: sorted by the tool in bounded memory. The
# PostgreSQL side, faster than the file's, reads at most 8 MiB ahead
# (rows of 50 bytes: libpq would otherwise buffer most of its result).
seq 1 1000000 | shuf --random-source=<(yes) |
	awk 'BEGIN { print "id,v" } { print $1 ",value " $1 " " \
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" }' >"$T/big.csv"
r=$(rb big "{file: big.csv}" 300s "SELECT id, v FROM big")
/usr/bin/time -v "$CUTOVER" run "$r" >"$T/out" 2>"$T/time"
check "big: ran" test "$(step_state "$r" r)" = succeeded
check "big: all matched" test "$(res "$r" .matched)" = 1000000
check "big: every row of both sides counted, none changed" test \
	"$(res "$r" '[.source_rows, .dest_rows, .changed]')" = '[1000000,1000000,0]'
rss=$(awk -F: '/Maximum resident set size/ { print $2 + 0 }' "$T/time")
echo "big: peak RSS ${rss} KiB" >&2
check "big: peak RSS ${rss} KiB < 64 MiB" test "${rss:-999999}" -lt 65536
check "big: no temporary files left" \
	test -z "$(ls "${TMPDIR:-/tmp}" | grep cutover-sort)"

# --- Files in key order, longer than one read: the first pass reads the
# key and skims the rest; what it skims must match and fail as a full
# read does (quoted line breaks and quotes past the key, bad records).
pg_psql "CREATE TABLE ordered AS SELECT g AS id, 'name ' || g AS name,
  CASE WHEN g % 7 = 0 THEN E'two\nlines' WHEN g % 11 = 0 THEN 'a \"quote\"'
  ELSE 'city ' || g END AS city, g * 1.5 AS balance
  FROM generate_series(1, 5000) g" >/dev/null || fail "table ordered"
pg_psql "\\copy (SELECT * FROM ordered ORDER BY id) to '$T/ordered.body' csv" \
    >/dev/null || fail "export ordered"
{ echo "id,name,city,balance"; cat "$T/ordered.body"; } >"$T/ordered.csv"
r=$(rb ordered "{file: ordered.csv}" 60s "SELECT * FROM ordered")
expect_rc 0 "$CUTOVER" run "$r"
check "in key order, quotes past the key: all matched" \
	test "$(res "$r" .matched)" = 5000
# bad NAME RECORD: ordered.csv with record 4000 (on line $at) replaced.
at=$(grep -n '^4000,' "$T/ordered.csv" | cut -d: -f1)
bad() {
	awk -v l="$2" '/^4000,/ { print l; next } { print }' \
	    "$T/ordered.csv" >"$T/$1.csv"
	r=$(rb "$1" "{file: $1.csv}" 60s "SELECT * FROM ordered")
	expect_rc 1 "$CUTOVER" run "$r"
}
bad wide '4000,a,b,1,extra'
contains "$T/err" "wide.csv:$at: a record of 5 fields; the header has 4"
bad loosecr "$(printf '4000,a,b\rc,1')"
contains "$T/err" "loosecr.csv:$at:9: a carriage return not followed by"
bad loosequote '4000,a,b"c,1'
contains "$T/err" "loosequote.csv:$at:9: a quote inside an unquoted field"

# --- kill -9 while the sort has runs on disk: nothing is left behind
# (its temporary files have no name in TMPDIR, or lose it at once).
tmp=${TMPDIR:-/tmp}
ls -A "$tmp" >"$T/tmp.before"
r=$(rb kill "{file: big.csv}" 300s "SELECT id, v FROM big")
"$CUTOVER" run "$r" >"$T/kill.out" 2>&1 &
bg=$!
seen=0
for i in $(seq 1 600); do
	runs=$(ls -l /proc/$bg/fd 2>/dev/null | grep -c "$tmp/.*(deleted)")
	if [ "$runs" -ge 3 ]; then
		seen=1
		break
	fi
	sleep 0.02
done
check "the sort spilled runs to temporary files" test $seen = 1
kill -9 $bg
wait $bg 2>/dev/null
ls -A "$tmp" >"$T/tmp.after"
check "no temporary files after kill -9" cmp -s "$T/tmp.before" "$T/tmp.after"

finish
