#!/bin/bash
# odbc.sh - sql steps on odbc targets against a real MariaDB through the
# MariaDB ODBC driver (and the SQLite ODBC driver when installed):
# statements, result tables, one reused connection, errors with SQLSTATE,
# the verify rule, a timeout that cancels the statement on the server,
# DSNs, passwords kept out of every output, and lint of literal passwords.
. "$(dirname "$0")/../lib.sh"
. "$SRCDIR/tests/mariadb.sh"

my_start || { fail "MariaDB did not start"; finish; }
export LEGACY_PW=$MY_PASSWORD

# rb NAME: a runbook from stdin (its phases), with the usual targets.
rb() {
	{
		cat <<EOF
cutover: 1
name: $1
settings: {parallel: 4, default_timeout: 30s}
targets:
  legacy: {type: odbc, connection: "DRIVER=MariaDB;SERVER=127.0.0.1;PORT=\${env:MY_PORT};DATABASE=cutover;UID=cutover;PWD=\${env:LEGACY_PW}"}
  dsn: {type: odbc, connection: "DSN=legacy;UID=cutover;PWD=\${env:LEGACY_PW}"}
  wrongpw: {type: odbc, connection: "DSN=legacy;UID=cutover;PWD=\${env:WRONG_PW}"}
  lite: {type: odbc, connection: "DRIVER=SQLite3;Database=\${env:LITE_DB}"}
phases:
EOF
		cat
	} >"$T/$1.yaml"
	echo "$T/$1.yaml"
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# Statements of the server's sessions (other than this one) with TEXT.
running() {
	my_sql "SELECT count(*) FROM information_schema.processlist
	    WHERE id <> connection_id() AND info LIKE '%$1%'"
}

# --- Statements, rows, one connection for two steps.
r=$(rb ok <<'EOF'
  - id: p
    steps:
      - id: load
        type: sql
        target: legacy
        run: |
          CREATE TABLE items (id int PRIMARY KEY, name varchar(40));
          INSERT INTO items VALUES (1, 'item 1'), (2, 'item; 2'), (3, 'Crème brûlée');
          -- a comment; with a semicolon
          UPDATE items SET name = upper(name) WHERE id < 3;
          SELECT id, name, NULL AS nothing FROM items ORDER BY id;
          SELECT connection_id() AS cid;
        verify: SELECT count(*) FROM items
      - id: again
        type: sql
        target: legacy
        run: SELECT connection_id() AS cid
EOF
)
expect_rc 0 "$CUTOVER" lint "$r"
expect_rc 0 "$CUTOVER" run "$r"
expect_rc 0 "$CUTOVER" log "$r" load
for want in "0 rows affected" "3 rows affected" "2 rows affected" \
    "id | name | nothing" "1 | ITEM 1 | NULL" "2 | ITEM; 2 | NULL" \
    "3 | Crème brûlée | NULL" "(3 rows)" "(1 row)"; do
	contains "$T/out" "$want"
done
cid1=$(grep -A1 -x 'cid' "$T/out" | sed -n 2p)
"$CUTOVER" log "$r" again >"$T/again"
cid2=$(grep -A1 -x 'cid' "$T/again" | sed -n 2p)
check "both steps used one connection ($cid1 = $cid2)" \
	test -n "$cid1" -a "$cid1" = "$cid2"
check "rows are in MariaDB" \
	test "$(my_sql 'SELECT count(*) FROM cutover.items')" = 3

# --- A DSN from odbc.ini.
r=$(rb dsn <<'EOF'
  - id: p
    steps:
      - id: viadsn
        type: sql
        target: dsn
        run: SELECT name FROM items WHERE id = 3
EOF
)
expect_rc 0 "$CUTOVER" run "$r"
expect_rc 0 "$CUTOVER" log "$r" viadsn
contains "$T/out" "Crème brûlée"

# --- Errors: SQLSTATE and the driver's message; later statements do not run.
r=$(rb err <<'EOF'
  - id: p
    steps:
      - id: nosuch
        type: sql
        target: legacy
        run: SELECT * FROM nosuch; CREATE TABLE never (a int)
EOF
)
expect_rc 1 "$CUTOVER" run "$r"
contains "$T/err" "step nosuch failed: ERROR 42S02: "
contains "$T/err" "Table 'cutover.nosuch' doesn't exist"
check "the statement after the error did not run" \
	test "$(my_sql "SELECT count(*) FROM information_schema.tables WHERE table_name = 'never'")" = 0

# --- Verify: the first column of the first row of the last statement.
n=0
verify_case() {
	local want=$1 query=$2 msg=${3:-} r
	n=$((n + 1))
	r=$(rb "v$n" <<EOF
  - id: p
    steps:
      - id: v
        type: sql
        target: legacy
        run: SELECT 1
        verify: "$query"
EOF
)
	expect_rc "$want" "$CUTOVER" run "$r"
	[ -z "$msg" ] || contains "$T/err" "$msg"
}
verify_case 0 "SELECT true"
verify_case 0 "SELECT 42"
verify_case 0 "SELECT 0; SELECT 'true'"
verify_case 1 "SELECT false" "verify returned 0"
verify_case 1 "SELECT 'yes'" "verify returned yes"
verify_case 1 "SELECT 1 FROM items WHERE id = 99" "verify returned no rows"
verify_case 1 "SELECT NULL" "verify returned NULL"

# --- Timeout: the statement is cancelled on the server, quickly, and the
# console's loop kept running (status answered while it ran).
r=$(rb slow <<'EOF'
  - id: p
    steps:
      - id: slow
        type: sql
        target: legacy
        run: SELECT SLEEP(30) AS slept
        timeout: 1s
EOF
)
t0=$(now_ms)
expect_rc 1 "$CUTOVER" run "$r"
t1=$(now_ms)
contains "$T/err" "step slow failed: timed out after 1s"
check "timeout took $((t1 - t0))ms (< 6000)" test $((t1 - t0)) -lt 6000
expect_rc 0 "$CUTOVER" log "$r" slow
contains "$T/out" "Query execution was interrupted"
lacks "$T/out" "its connection is given up"
check "SLEEP(30) is no longer in the server's process list" \
	test "$(running 'SLEEP(30)')" = 0

# SIGINT while a statement runs: the statement is cancelled on the server.
r=$(rb intr <<'EOF'
  - id: p
    steps:
      - id: intr
        type: sql
        target: legacy
        run: SELECT SLEEP(31)
EOF
)
"$CUTOVER" run "$r" >"$T/intr.out" 2>&1 &
bg=$!
for i in $(seq 100); do [ "$(running 'SLEEP(31)')" = 1 ] && break; sleep 0.1; done
check "SLEEP(31) runs on the server" test "$(running 'SLEEP(31)')" = 1
# The loop is free while the driver blocks: status answers at once.
t0=$(now_ms)
expect_rc 0 "$CUTOVER" status "$r"
t1=$(now_ms)
check "status answered in $((t1 - t0))ms while a statement ran" \
	test $((t1 - t0)) -lt 3000
# The loop is free while the driver blocks in SLEEP: SIGINT is handled at
# once, and the statement is cancelled on the server.
t0=$(now_ms)
kill -INT $bg
wait $bg
rc=$?
t1=$(now_ms)
check "the run ended on SIGINT" test $rc -ne 0
check "SIGINT handled in $((t1 - t0))ms (< 5000) while SLEEP(31) ran" \
	test $((t1 - t0)) -lt 5000
for i in $(seq 50); do [ "$(running 'SLEEP(31)')" = 0 ] && break; sleep 0.1; done
check "SLEEP(31) was cancelled on the server" test "$(running 'SLEEP(31)')" = 0

# --- kill -9 of the driver while a statement runs: the next driver cannot
# tell whether it still runs, so the step waits for a person (it is never
# run twice behind anyone's back).
r=$(rb k9 <<'EOF'
  - id: p
    steps:
      - id: k9
        type: sql
        target: legacy
        run: SELECT SLEEP(32)
EOF
)
"$CUTOVER" run "$r" >"$T/k9.out" 2>&1 &
bg=$!
for i in $(seq 100); do [ "$(running 'SLEEP(32)')" = 1 ] && break; sleep 0.1; done
kill -9 $bg
wait $bg 2>/dev/null
expect_rc 5 "$CUTOVER" run "$r"
check "k9 awaits a person" test "$(step_state "$r" k9)" = awaiting
"$CUTOVER" status "$r" >"$T/k9.status" 2>&1
contains "$T/k9.status" "check the server's sessions"
my_sql "KILL QUERY $(my_sql "SELECT id FROM information_schema.processlist
    WHERE info LIKE '%SLEEP(32)%' AND id <> connection_id() LIMIT 1")" \
	>/dev/null 2>&1

# --- Passwords: never in the state, the log, status or messages.
export WRONG_PW="wr0ng-Pa55-$$"
r=$(rb pw <<'EOF'
  - id: p
    steps:
      - id: bad
        type: sql
        target: wrongpw
        run: SELECT 1
EOF
)
expect_rc 1 "$CUTOVER" run "$r"
contains "$T/err" "step bad failed: could not connect to wrongpw: 28000: "
contains "$T/err" "Access denied for user 'cutover'"
r2=$(rb pw2 <<'EOF'
  - id: p
    steps:
      - id: echo
        type: sql
        target: legacy
        run: SELECT CONCAT('pw=', '${env:LEGACY_PW}') AS leak
EOF
)
expect_rc 0 "$CUTOVER" run "$r2"
"$CUTOVER" log "$r2" echo >"$T/pwlog" 2>&1
contains "$T/pwlog" "pw=********"
"$CUTOVER" log "$r" >>"$T/pwlog" 2>&1
"$CUTOVER" status "$r" >>"$T/pwlog" 2>&1
"$CUTOVER" status "$r2" --json >>"$T/pwlog" 2>&1
cat "$T/err" >>"$T/pwlog"
lacks "$T/pwlog" "$MY_PASSWORD"
lacks "$T/pwlog" "$WRONG_PW"
for db in "$XDG_STATE_HOME"/cutover/*.db "$HOME"/.local/state/cutover/*.db; do
	[ -f "$db" ] || continue
	if grep -qaF "$MY_PASSWORD" "$db" || grep -qaF "$WRONG_PW" "$db"; then
		fail "a password is in the state file $db"
	else ok; fi
done

# --- Lint: a password written out in the connection string is refused.
cat >"$T/lit.yaml" <<'EOF'
cutover: 1
name: lit
vars: {pw: hunter3}
targets:
  legacy: {type: odbc, connection: "DSN=legacy;UID=cutover;PWD=hunter2"}
  nostr: {type: odbc}
  fromvar: {type: odbc, connection: "DSN=legacy;PWD=${pw}"}
phases:
  - id: p
    steps:
      - id: s
        type: sql
        target: legacy
        run: SELECT 1
      - id: t
        type: ssh
        target: legacy
        run: "true"
      - id: u
        type: sql
        target: fromvar
        run: SELECT 1
EOF
expect_rc 3 "$CUTOVER" lint "$T/lit.yaml"
contains "$T/err" "target fromvar: the password in 'connection' comes from var pw, which is not listed in secrets:"
contains "$T/err" "lit.yaml:5:3: error: target legacy: the password in 'connection' must be \${env:NAME}"
contains "$T/err" "odbc target 'nostr' needs 'connection'"
contains "$T/err" "ssh step needs an ssh target; 'legacy' is an odbc target"
lacks "$T/err" "hunter2"

# --- A second driver: SQLite through the SQLite ODBC driver.
if [ "$MY_HAVE_SQLITE_ODBC" = 1 ]; then
	export LITE_DB=$T/lite.db
	r=$(rb lite <<'EOF'
  - id: p
    steps:
      - id: l
        type: sql
        target: lite
        run: CREATE TABLE t (a int); INSERT INTO t VALUES (7); SELECT a * 6 AS answer FROM t
        verify: SELECT count(*) FROM t
      - id: lerr
        type: sql
        target: lite
        run: SELECT * FROM nosuch
EOF
)
	expect_rc 1 "$CUTOVER" run "$r"
	expect_rc 0 "$CUTOVER" log "$r" l
	contains "$T/out" "42"
	check "l succeeded" test "$(step_state "$r" l)" = succeeded
	expect_rc 0 "$CUTOVER" log "$r" lerr
	contains "$T/out" "ERROR HY000: "
	contains "$T/out" "no such table: nosuch"
else
	echo "odbc.sh: libsqliteodbc is not installed: SQLite ODBC cases not run" >&2
	fail "libsqliteodbc missing (apt-get install libsqliteodbc)"
fi

finish
