#!/bin/bash
# reconcile-order.sh - sides whose rows are already in key order skip the
# tool's sort, against a real PostgreSQL and a real MariaDB:
#  - a file in key order streams without a temporary file (it runs with
#    $TMPDIR missing); a shuffled one, or one with a single row out of
#    place, is still sorted (and then needs $TMPDIR), with the same result;
#  - a MariaDB side keyed by integers is read in key-ordered chunks: rows
#    repeating a key across chunk boundaries (and one key filling more
#    than a whole chunk) are all read once, the driver's memory stays
#    bounded (Connector/ODBC before 3.1.17 caches a whole result), the
#    chunks see one snapshot (rows changed while they are read do not
#    show), and a timeout cancels a chunk's query on the server.
. "$(dirname "$0")/../lib.sh"
. "$SRCDIR/tests/pg.sh"
. "$SRCDIR/tests/mariadb.sh"

command -v jq >/dev/null || { fail "jq is needed"; finish; }
[ -x /usr/bin/time ] || { fail "/usr/bin/time is needed (apt-get install time)"; finish; }
my_start || { fail "MariaDB did not start"; finish; }
pg_start || { fail "PostgreSQL did not start"; finish; }
trap 'pg_stop; my_stop; cleanup' EXIT
export LEGACY_PW=$MY_PASSWORD

pg_psql "
CREATE TABLE big (id int, v text);
INSERT INTO big SELECT g, 'value ' || g || ' ' || repeat('x', 40)
  FROM generate_series(1, 300000) g;
CREATE TABLE dup (id int, v int);
INSERT INTO dup SELECT 1, 1 FROM generate_series(1, 12000);
INSERT INTO dup SELECT g / 3 + 2, CASE WHEN g / 3 + 2 = 5000 THEN -1
  ELSE g / 3 + 2 END FROM generate_series(0, 59999) g;
CREATE TABLE ints (id int, i int, s smallint, t smallint, b bigint,
  u numeric);
INSERT INTO ints VALUES (-2147483648, -5, -32768, -128,
  -9223372036854775808, 18446744073709551615), (0, 0, 0, 0, 0, 0),
  (7, 2147483647, 32767, 127, 9223372036854775807, NULL);
CREATE TABLE snap (id int, v int);
INSERT INTO snap SELECT g, g FROM generate_series(1, 50000) g;
CREATE TABLE wide (id int, pad text);
INSERT INTO wide SELECT g, repeat('p', 200) FROM generate_series(1, 300000) g;
" >/dev/null || fail "PostgreSQL tables"
my_sql "USE cutover;
CREATE TABLE cutover.dup (id INT NOT NULL, v INT);
INSERT INTO cutover.dup SELECT 1, 1 FROM seq_1_to_12000;
INSERT INTO cutover.dup SELECT seq DIV 3 + 2, seq DIV 3 + 2 FROM seq_0_to_59999;
CREATE TABLE cutover.ints (id INT PRIMARY KEY, i INT, s SMALLINT,
  t TINYINT, b BIGINT, u BIGINT UNSIGNED);
INSERT INTO cutover.ints VALUES (-2147483648, -5, -32768, -128,
  -9223372036854775808, 18446744073709551615), (0, 0, 0, 0, 0, 0),
  (7, 2147483647, 32767, 127, 9223372036854775807, NULL);
CREATE TABLE cutover.snap (id INT PRIMARY KEY, v INT) ENGINE=InnoDB;
INSERT INTO cutover.snap SELECT seq, seq FROM seq_1_to_50000;
CREATE TABLE cutover.wide (id INT PRIMARY KEY, pad VARCHAR(200));
INSERT INTO cutover.wide SELECT seq, REPEAT('p', 200) FROM seq_1_to_300000;
" || fail "MariaDB tables"

# rb NAME SOURCE-YAML DEST-QUERY: one reconcile step "r".
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
        timeout: ${TIMEOUT:-300s}
        tolerance: 10
        source: $2
        dest: {target: odoo, query: "$3"}
EOF
	echo "$f"
}
res() { "$CUTOVER" status "$1" --json | jq -c ".steps[0].result | $2"; }
counts='[.source_rows, .dest_rows, .matched, .missing, .extra, .changed]'

# --- Files: 300,000 rows (15 MB, more than the sort keeps in memory).
seq 1 300000 | awk 'BEGIN { print "id,v" } { print $1 ",value " $1 " " \
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" }' >"$T/sorted.csv"
{
	head -1 "$T/sorted.csv"
	tail -n +2 "$T/sorted.csv" | shuf --random-source=<(yes)
} >"$T/shuffled.csv"
# Row 1 moved near the end (with another value): found late, then sorted.
{
	head -n 299990 "$T/sorted.csv" | sed '2d'
	echo "1,value 1 x"
	tail -n +299991 "$T/sorted.csv"
} >"$T/late.csv"
all='[300000,300000,300000,0,0,0]'

r=$(rb sorted "{file: sorted.csv}" "SELECT id, v FROM big")
expect_rc 0 env TMPDIR="$T/nosuch" "$CUTOVER" run "$r"
check "sorted file: no sort, no temporary file" \
	test "$(res "$r" "$counts")" = "$all"
r=$(rb shuffled0 "{file: shuffled.csv}" "SELECT id, v FROM big")
expect_rc 1 env TMPDIR="$T/nosuch" "$CUTOVER" run "$r"
contains "$T/err" "cannot create a temporary file in $T/nosuch"
r=$(rb shuffled "{file: shuffled.csv}" "SELECT id, v FROM big")
expect_rc 0 "$CUTOVER" run "$r"
check "shuffled file: sorted, the same result" \
	test "$(res "$r" "$counts")" = "$all"
r=$(rb late "{file: late.csv}" "SELECT id, v FROM big")
expect_rc 0 "$CUTOVER" run "$r"
check "one row out of place: sorted; only its value differs" \
	test "$(res "$r" "$counts")" = '[300000,300000,299999,0,0,1]'

# --- MariaDB in chunks: one key of 12,000 rows (more than the first
# chunk), then keys repeated three times, cut by chunk boundaries.
r=$(rb dup "{target: legacy, query: \"SELECT id, v FROM dup\"}" \
	"SELECT id, v FROM dup")
expect_rc 0 "$CUTOVER" run "$r"
check "repeated keys across chunks: every row once" \
	test "$(res "$r" "$counts")" = '[72000,72000,71997,0,0,3]'
check "repeated keys: the changed key" \
	test "$(res "$r" .samples.changed)" = '["5000","5000","5000"]'

# --- Integers fetched as such (not as text) read as the driver writes
# them: limits, signs, unsigned, NULL.
r=$(rb ints "{target: legacy, query: \"SELECT id, i, s, t, b, u FROM ints\"}" \
	"SELECT id, i, s, t, b, u FROM ints")
expect_rc 0 "$CUTOVER" run "$r"
check "integers: all equal" test "$(res "$r" "$counts")" = '[3,3,3,0,0,0]'
expect_rc 0 "$CUTOVER" diff "$r" r --format json
check "integers: no difference" test "$(jq length "$T/out")" = 0

# --- One snapshot: the second chunk (rows 10,001 on) sleeps 3 s at row
# 15,000; rows of the last chunk changed meanwhile do not show.
r=$(rb snap "{target: legacy, query: \"SELECT id, v, IF(id = 15000, SLEEP(3), 0) AS z FROM snap\"}" \
	"SELECT id, v, 0 AS z FROM snap")
"$CUTOVER" run "$r" >"$T/snap.out" 2>&1 &
bg=$!
sleep 1.5
my_sql "UPDATE cutover.snap SET v = -v WHERE id > 45000" ||
	fail "update during the read"
wait $bg
check "one snapshot: the rows changed during the read do not show" \
	test "$(res "$r" "$counts")" = '[50000,50000,50000,0,0,0]'
check "the change is there for the next read" test "$(my_sql \
	"SELECT count(*) FROM cutover.snap WHERE v < 0")" = 5000

# --- The driver's memory: 300,000 rows of 200 bytes (60 MB, cached whole
# by the driver when read in one query).
r=$(rb wide "{target: legacy, query: \"SELECT id, pad FROM wide\"}" \
	"SELECT id, pad FROM wide")
/usr/bin/time -v "$CUTOVER" run "$r" >"$T/out" 2>"$T/time"
check "wide: all matched" test "$(res "$r" "$counts")" = \
	'[300000,300000,300000,0,0,0]'
rss=$(awk -F: '/Maximum resident set size/ { print $2 + 0 }' "$T/time")
echo "wide: peak RSS ${rss} KiB" >&2
check "wide: peak RSS ${rss} KiB < 40 MiB" test "${rss:-999999}" -lt 40960

# --- A timeout cancels the chunk's query on the server.
r=$(TIMEOUT=1s rb slow "{target: legacy, query: \"SELECT id, SLEEP(30) AS s FROM wide\"}" \
	"SELECT id, 0 AS s FROM wide")
t0=$(date +%s%N)
expect_rc 1 "$CUTOVER" run "$r"
t1=$(date +%s%N)
contains "$T/err" "timed out after 1s"
check "the timeout took $(((t1 - t0) / 1000000))ms (< 8000)" \
	test $(((t1 - t0) / 1000000)) -lt 8000
sleeping() {
	my_sql "SELECT count(*) FROM information_schema.processlist
	    WHERE info LIKE '%SLEEP(30)%' AND id <> connection_id()"
}
for i in $(seq 50); do
	[ "$(sleeping)" = 0 ] && break
	sleep 0.1
done
check "SLEEP(30) is no longer in the server's process list" \
	test "$(sleeping)" = 0
[ "$(sleeping)" = 0 ] || my_sql "SELECT id, command, time, state, info
    FROM information_schema.processlist" >&2

finish
