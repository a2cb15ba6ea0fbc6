#!/bin/bash
# sql.sh - sql steps against a real PostgreSQL: statements, tags and tables,
# errors with SQLSTATE/detail/hint, the verify rule, timeout and cancel
# (and a server that does not answer the cancel),
# a server restarted under a query and while idle, connection errors,
# passwords kept out of every output, parallel steps and a loop that never
# freezes behind a query.
. "$(dirname "$0")/../lib.sh"
. "$SRCDIR/tests/pg.sh"

pg_start || { fail "PostgreSQL did not start"; finish; }
pg_createdb db1
pg_createdb db2
export APP_PW=$PG_APP_PASSWORD

# rb NAME: a runbook from stdin (its phases), with the usual targets.
rb() {
	{
		cat <<EOF
cutover: 1
name: $1
settings: {parallel: 4, default_timeout: 30s}
targets:
  db: {type: postgres, conninfo: "\${env:PG_CONNINFO}"}
  db1: {type: postgres, conninfo: "host=127.0.0.1 port=\${env:PGPORT} dbname=db1"}
  db2: {type: postgres, conninfo: "host=127.0.0.1 port=\${env:PGPORT} dbname=db2"}
  app: {type: postgres, conninfo: "host=127.0.0.1 port=\${env:PGPORT} user=app password=\${env:APP_PW} dbname=cutover"}
  wrongpw: {type: postgres, conninfo: "host=127.0.0.1 port=\${env:PGPORT} user=app password=\${env:APP_PW}x dbname=cutover"}
  baduri: {type: postgres, conninfo: "postgresql://app:\${env:BAD_PW}@127.0.0.1:\${env:PGPORT}/cutover"}
  refused: {type: postgres, conninfo: "host=127.0.0.1 port=1 dbname=x"}
  bogus: {type: postgres, conninfo: "host=127.0.0.1 bogus=1"}
  silent: {type: postgres, conninfo: "host=127.0.0.1 port=\${env:SILENT_PORT} dbname=x"}
phases:
EOF
		cat
	} >"$T/$1.yaml"
	echo "$T/$1.yaml"
}

# Milliseconds since the epoch.
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# Is a query containing TEXT (other than this one) running?
active() {
	pg_psql "SELECT count(*) FROM pg_stat_activity WHERE state = 'active'
	    AND pid <> pg_backend_pid() AND query LIKE '%$1%'"
}

# JSON field of a step in status --json.
sj() { "$CUTOVER" status "$1" --json | jq -r --arg s "$2" ".steps[] | select(.id == \$s) | $3"; }

# --- Several statements: tags, a table, notices, one reused connection.
r=$(rb ok <<'EOF'
  - id: p
    steps:
      - id: load
        type: sql
        target: db
        run: |
          CREATE TABLE items (id int, name text);
          INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 25) g;
          UPDATE items SET name = upper(name) WHERE id < 3;
          DO $$$$ BEGIN RAISE NOTICE 'hello from plpgsql'; END $$$$;
          SELECT id, name, NULL AS nothing FROM items ORDER BY id;
          SELECT pg_backend_pid() AS pid;
        verify: SELECT count(*) FROM items
      - id: again
        type: sql
        target: db
        run: SELECT pg_backend_pid() AS pid
EOF
)
expect_rc 0 "$CUTOVER" lint "$r"
expect_rc 0 "$CUTOVER" run "$r"
expect_rc 0 "$CUTOVER" log "$r" load
for want in "CREATE TABLE" "INSERT 0 25" "UPDATE 2" "DO" \
    "NOTICE:  hello from plpgsql" "SELECT 25" " id | name    | nothing" \
    "  1 | ITEM 1  |" " 20 | item 20 |" "(25 rows; the first 20 shown)" \
    "(1 row)" "[cutover: verify: SELECT count(*) FROM items]"; do
	contains "$T/out" "$want"
done
lacks "$T/out" " 21 | item 21"
check "tag before its table" grep -A1 -x 'SELECT 25' "$T/out"
pid1=$(grep -A3 -x 'SELECT 1' "$T/out" | sed -n 4p | tr -d ' ')
"$CUTOVER" log "$r" again >"$T/again"
pid2=$(sed -n 5p "$T/again" | tr -d ' ')
check "both steps used one connection ($pid1 = $pid2)" test -n "$pid1" -a "$pid1" = "$pid2"

# --- Errors: one line with SQLSTATE; detail and hint in the log; the
# failed text is rolled back as a whole.
r=$(rb err <<'EOF'
  - id: p
    steps:
      - id: boom
        type: sql
        target: db
        run: |
          CREATE TABLE half (a int);
          INSERT INTO half VALUES (1);
          DO $$$$ BEGIN RAISE EXCEPTION 'boom' USING DETAIL = 'the detail',
            HINT = 'the hint', ERRCODE = '22023'; END $$$$;
EOF
)
expect_rc 1 "$CUTOVER" run "$r"
contains "$T/err" "step boom failed: ERROR 22023: boom"
expect_rc 0 "$CUTOVER" log "$r" boom
contains "$T/out" "ERROR 22023: boom"
contains "$T/out" "DETAIL: the detail"
contains "$T/out" "HINT: the hint"
check "the whole text was rolled back" \
	test "$(pg_psql "SELECT count(*) FROM pg_tables WHERE tablename = 'half'")" = 0
r=$(rb err2 <<'EOF'
  - id: p
    steps:
      - id: nosuch
        type: sql
        target: db
        run: SELECT * FROM nosuch
EOF
)
expect_rc 1 "$CUTOVER" run "$r"
contains "$T/err" 'step nosuch failed: ERROR 42P01: relation "nosuch" does not exist'
# A transaction left open is rolled back and fails the step.
r=$(rb open <<'EOF'
  - id: p
    steps:
      - id: open
        type: sql
        target: db
        run: BEGIN; CREATE TABLE never (a int);
EOF
)
expect_rc 1 "$CUTOVER" run "$r"
contains "$T/err" "left a transaction open"
check "open transaction rolled back" \
	test "$(pg_psql "SELECT count(*) FROM pg_tables WHERE tablename = 'never'")" = 0

# --- Verify: the first column of the first row of the last result.
n=0
verify_case() {
	local want=$1 query=$2 msg=${3:-} r
	n=$((n + 1))
	r=$(rb "v$n" <<EOF
  - id: p
    steps:
      - id: v
        type: sql
        target: db
        run: SELECT 1
        verify: $query
EOF
)
	expect_rc "$want" "$CUTOVER" run "$r"
	[ -z "$msg" ] || contains "$T/err" "$msg"
}
verify_case 0 "SELECT true"
verify_case 0 "SELECT 42"
verify_case 0 "SELECT 'true'::text, false"
verify_case 0 "SELECT false; SELECT true"
verify_case 1 "SELECT false" "verify returned f"
verify_case 1 "SELECT 0" "verify returned 0"
verify_case 1 "SELECT 0.0" "verify returned 0.0"
verify_case 1 "SELECT 'yes'" "verify returned yes"
verify_case 1 "SELECT 1 WHERE false" "verify returned no rows"
verify_case 1 "SELECT true; CREATE TEMP TABLE x (a int)" "verify returned no rows"
verify_case 1 "SELECT NULL::int" "verify returned NULL"

# --- Timeout: the query is cancelled on the server, quickly.
r=$(rb slow <<'EOF'
  - id: p
    steps:
      - id: slow
        type: sql
        target: db
        run: SELECT pg_sleep(30)
        timeout: 500ms
EOF
)
t0=$(now_ms)
expect_rc 1 "$CUTOVER" run "$r"
t1=$(now_ms)
contains "$T/err" "step slow failed: timed out after 500ms"
check "timeout took $((t1 - t0))ms (< 4000)" test $((t1 - t0)) -lt 4000
check "no pg_sleep(30) left running" test "$(active 'pg_sleep(30)')" = 0
expect_rc 0 "$CUTOVER" log "$r" slow
contains "$T/out" "ERROR 57014: canceling statement due to user request"

# SIGINT while a query runs: cancelled, the attempt interrupted.
r=$(rb intr <<'EOF'
  - id: p
    steps:
      - id: intr
        type: sql
        target: db
        run: SELECT pg_sleep(31)
EOF
)
"$CUTOVER" run "$r" >"$T/intr.out" 2>&1 &
bg=$!
for i in $(seq 50); do [ "$(active 'pg_sleep(31)')" = 1 ] && break; sleep 0.1; done
kill -INT $bg
wait $bg
check "SIGINT: exit 5" test $? = 5
check "SIGINT: step interrupted" test "$(step_state "$r" intr)" = interrupted
check "SIGINT: no pg_sleep(31) left running" test "$(active 'pg_sleep(31)')" = 0

# --- The server does not answer the cancel (its backend is stopped): after
# the grace period (5s) the connection is closed and the step fails anyway.
r=$(rb frozen <<'EOF'
  - id: p
    steps:
      - id: frozen
        type: sql
        target: db
        run: SELECT pg_sleep(32)
        timeout: 1s
EOF
)
t0=$(now_ms)
"$CUTOVER" run "$r" >"$T/frozen.out" 2>"$T/frozen.err" &
bg=$!
for i in $(seq 50); do [ "$(active 'pg_sleep(32)')" = 1 ] && break; sleep 0.1; done
backend=$(pg_psql "SELECT pid FROM pg_stat_activity WHERE pid <> pg_backend_pid()
    AND query LIKE '%pg_sleep(32)%'")
check "frozen: the backend is found" test -n "$backend"
kill -STOP $backend
(sleep 20; kill -CONT $backend) & # if the grace never ends, do not hang
watchdog=$!
wait $bg
rc=$?
t1=$(now_ms)
kill -CONT $backend 2>/dev/null
kill $watchdog 2>/dev/null
check "frozen: exit 1 (was $rc)" test $rc = 1
check "frozen: timeout, then 5s of grace ($((t1 - t0))ms)" \
    test $((t1 - t0)) -ge 5900 -a $((t1 - t0)) -lt 12000
contains "$T/frozen.err" "step frozen failed: timed out after 1s"
expect_rc 0 "$CUTOVER" log "$r" frozen
contains "$T/out" "[cutover: the server did not answer the cancel; connection closed]"
check "frozen: failed, not interrupted" test "$(step_state "$r" frozen)" = failed
for i in $(seq 50); do [ "$(active 'pg_sleep(32)')" = 0 ] && break; sleep 0.1; done
check "frozen: no pg_sleep(32) left running" test "$(active 'pg_sleep(32)')" = 0

# --- The server restarts under a query: the attempt fails clearly, and
# retry reconnects.
r=$(rb restart <<'EOF'
  - id: p
    steps:
      - id: long
        type: sql
        target: db
        run: SELECT pg_sleep(${env:SLEEP})
EOF
)
SLEEP=10 "$CUTOVER" run "$r" >"$T/restart.out" 2>"$T/restart.err" &
bg=$!
for i in $(seq 50); do [ "$(active 'pg_sleep(10)')" = 1 ] && break; sleep 0.1; done
t0=$(now_ms)
pg_restart
wait $bg
rc=$?
t1=$(now_ms)
check "restart: exit 1 (was $rc)" test $rc = 1
check "restart: failed at once ($((t1 - t0))ms)" test $((t1 - t0)) -lt 6000
contains "$T/restart.err" "step long failed: connection to db lost: FATAL 57P01: terminating connection due to administrator command"
expect_rc 0 env SLEEP=0 "$CUTOVER" retry "$r" long
check "retry succeeded" test "$(step_state "$r" long)" = succeeded

# An idle cached connection ended by a restart is replaced, in one process.
r=$(rb idle <<'EOF'
  - id: p
    steps:
      - id: before
        type: sql
        target: db
        run: SELECT pg_backend_pid() AS pid
      - id: bounce
        type: local
        run: ${env:PG_RESTART} >/dev/null
      - id: after
        type: sql
        target: db
        run: SELECT 'after ' || 'restart' AS said, pg_backend_pid() AS pid
EOF
)
expect_rc 0 "$CUTOVER" run "$r"
"$CUTOVER" log "$r" after >"$T/after"
contains "$T/after" "after restart"
p1=$("$CUTOVER" log "$r" before | sed -n 5p | tr -d ' ')
p2=$(sed -n 5p "$T/after" | awk -F'|' '{print $2}' | tr -d ' ')
check "a new connection after the restart ($p1 != $p2)" test -n "$p2" -a "$p1" != "$p2"

# --- Connection errors: one clear line each.
r=$(rb conn <<'EOF'
  - id: refused
    steps:
      - id: refused
        type: sql
        target: refused
        run: SELECT 1
EOF
)
expect_rc 1 "$CUTOVER" run "$r"
contains "$T/err" 'step refused failed: could not connect to refused: connection to server at "127.0.0.1", port 1 failed: Connection refused'
lacks "$T/err" "Is the server running"
r=$(rb conn2 <<'EOF'
  - id: bogus
    steps:
      - id: refused
        type: sql
        target: bogus
        run: SELECT 1
EOF
)
expect_rc 1 "$CUTOVER" run "$r"
contains "$T/err" 'step refused failed: invalid conninfo for target bogus: invalid connection option "bogus"'
# A server that accepts but never answers: the step's timeout still holds.
if command -v python3 >/dev/null; then
	python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(5)
print(s.getsockname()[1], flush=True); time.sleep(60)' >"$T/silent.port" &
	silent=$!
	for i in $(seq 50); do [ -s "$T/silent.port" ] && break; sleep 0.1; done
	export SILENT_PORT=$(cat "$T/silent.port")
	r=$(rb silent <<'EOF'
  - id: p
    steps:
      - id: hang
        type: sql
        target: silent
        run: SELECT 1
        timeout: 1s
      - id: hang10
        type: sql
        target: silent
        run: SELECT 1
        needs: []
EOF
)
	t0=$(now_ms)
	expect_rc 1 "$CUTOVER" run "$r"
	t1=$(now_ms)
	contains "$T/err" "step hang failed: timed out after 1s"
	contains "$T/err" "step hang10 failed: could not connect to silent: no answer within 10s"
	check "connect timeout after 10s ($((t1 - t0))ms)" \
		test $((t1 - t0)) -ge 9500 -a $((t1 - t0)) -lt 14000
	kill $silent
fi

# --- Passwords from ${env:NAME} never show.
export BAD_PW='Leak%zzSecret'
r=$(rb pw <<'EOF'
  - id: p
    steps:
      - id: who
        type: sql
        target: app
        run: SELECT current_user AS who
      - id: fails
        type: sql
        target: app
        run: SELECT nosuch_column
EOF
)
r2=$(rb pw2 <<'EOF'
  - id: q
    steps:
      - id: wrong
        type: sql
        target: wrongpw
        run: SELECT 1
        needs: []
      - id: uri
        type: sql
        target: baduri
        run: SELECT 1
        needs: []
EOF
)
: >"$T/all"
"$CUTOVER" run "$r" >>"$T/all" 2>&1
"$CUTOVER" run "$r2" >>"$T/all" 2>&1
check "who succeeded as app" test "$(step_state "$r" who)" = succeeded
check "an SQL error as app" test "$(step_state "$r" fails)" = failed
check "wrong password fails" test "$(step_state "$r2" wrong)" = failed
check "bad URI fails" test "$(step_state "$r2" uri)" = failed
for s in who fails; do "$CUTOVER" log "$r" $s >>"$T/all" 2>&1; done
for s in wrong uri; do "$CUTOVER" log "$r2" $s >>"$T/all" 2>&1; done
for x in "$r" "$r2"; do
	"$CUTOVER" status "$x" >>"$T/all" 2>&1
	"$CUTOVER" status "$x" --json >>"$T/all" 2>&1
	"$CUTOVER" audit "$x" >>"$T/all" 2>&1
done
contains "$T/all" 'ERROR 42703: column "nosuch_column" does not exist'
contains "$T/all" 'password authentication failed for user "app"'
contains "$T/all" "invalid conninfo for target baduri"
contains "$T/all" " app"
lacks "$T/all" "$APP_PW"
lacks "$T/all" "zzSecret"
check "password absent from the state file" \
	sh -c "! cat '$XDG_STATE_HOME'/cutover/pw*.db* | grep -qaF -e '$APP_PW' -e zzSecret"

# --- Parallel steps on two targets overlap; on one target they queue.
r=$(rb par <<'EOF'
  - id: p
    steps:
      - id: one
        type: sql
        target: db1
        run: SELECT pg_sleep(1.5)
        needs: []
      - id: two
        type: sql
        target: db2
        run: SELECT pg_sleep(1.5)
        needs: []
      - id: q1
        type: sql
        target: db
        run: SELECT pg_sleep(0.6)
        needs: []
      - id: q2
        type: sql
        target: db
        run: SELECT pg_sleep(0.6)
        needs: []
EOF
)
t0=$(now_ms)
expect_rc 0 "$CUTOVER" run "$r"
t1=$(now_ms)
check "two targets at once: $((t1 - t0))ms < 2800" test $((t1 - t0)) -lt 2800
check "one and two overlap" test "$(sj "$r" two .started_at)" \< "$(sj "$r" one .ended_at)"
check "two and one overlap" test "$(sj "$r" one .started_at)" \< "$(sj "$r" two .ended_at)"
check "same target: queued, not overlapping" test "$(( $(sj "$r" q1 .duration_ms) + $(sj "$r" q2 .duration_ms) ))" -ge 1700

# --- A long query never freezes the loop: a local step ends meanwhile.
r=$(rb loop <<'EOF'
  - id: p
    steps:
      - id: query
        type: sql
        target: db
        run: SELECT pg_sleep(2)
        needs: []
      - id: quick
        type: local
        run: sleep 0.2
        needs: []
EOF
)
expect_rc 0 "$CUTOVER" run "$r"
check "local step took $(sj "$r" quick .duration_ms)ms (< 1000)" \
	test "$(sj "$r" quick .duration_ms)" -lt 1000
check "local step ended before the query" \
	test "$(sj "$r" quick .ended_at)" \< "$(sj "$r" query .ended_at)"


# --- TLS: a live run refuses a postgres target whose host is neither a Unix
# socket nor loopback unless it asks for sslmode=verify-full (or verify-ca)
# or says tls: insecure; lint warns. These runs are in a network namespace
# of their own, where nothing but a down loopback exists: whatever the code
# does, no packet leaves; the refusal must come before connecting.
cat >"$T/tls.yaml" <<'EOF'
cutover: 1
name: tls
targets:
  remote: {type: postgres, conninfo: "host=db.example.com port=5432 dbname=x"}
  verified: {type: postgres, conninfo: "host=db.example.com dbname=x sslmode=verify-full sslrootcert=/nonexistent"}
  optout: {type: postgres, conninfo: "host=db.example.com dbname=x", tls: insecure}
  local: {type: postgres, conninfo: "host=127.0.0.2,localhost,/tmp port=1 dbname=x"}
phases:
  - id: p
    steps:
      - {id: remote, type: sql, target: remote, run: SELECT 1, needs: []}
      - {id: verified, type: sql, target: verified, run: SELECT 1, needs: []}
      - {id: optout, type: sql, target: optout, run: SELECT 1, needs: []}
      - {id: local, type: sql, target: local, run: SELECT 1, needs: []}
      - id: rec
        type: reconcile
        compare: value
        needs: []
        source: {target: local, query: SELECT 1}
        dest: {target: remote, query: SELECT 1}
EOF
expect_rc 0 "$CUTOVER" lint "$T/tls.yaml"
contains "$T/err" "warning: target remote: host db.example.com is neither a Unix socket nor loopback"
lacks "$T/err" "target verified"
lacks "$T/err" "target optout"
lacks "$T/err" "target local"
# tls MODE STEP: run the runbook cut down to STEP in MODE, its status in
# $T/tls-MODE-STEP.
tls() {
	sed -n '1,/^    steps:/p' "$T/tls.yaml" >"$T/tls-$2.yaml"
	sed -n "/^      - {id: $2,/p; /^      - id: $2\$/,\$p" "$T/tls.yaml" >>"$T/tls-$2.yaml"
	unshare -n "$CUTOVER" --state "$T/tls-$1-$2.db" run "$T/tls-$2.yaml" \
	    --mode "$1" >/dev/null 2>&1
	"$CUTOVER" --state "$T/tls-$1-$2.db" status "$T/tls-$2.yaml" \
	    >"$T/tls-$1-$2" 2>&1
	grep -q " failed " "$T/tls-$1-$2" || fail "tls: $2 did not fail in $1"
}
for s in remote verified optout local rec; do
	tls live $s
	tls rehearsal $s
	lacks "$T/tls-rehearsal-$s" "refuses"
done
contains "$T/tls-live-remote" "target remote: a live run refuses it: host db.example.com is neither a Unix socket nor loopback, and sslmode is prefer"
contains "$T/tls-live-rec" "dest remote: target remote: a live run refuses it"
for s in verified optout local; do lacks "$T/tls-live-$s" "refuses"; done
contains "$T/tls-live-verified" "could not connect to verified"
contains "$T/tls-live-optout" "could not connect to optout"
contains "$T/tls-rehearsal-remote" "could not connect to remote"

# --- Values expanded into a conninfo are quoted one by one: a value with
# blanks or quotes stays one value and adds no keyword.
export DBN="db1 port=1 it's"
r=$(rb quoting <<'EOF'
  - id: p
    steps:
      - id: q
        type: sql
        target: quoted
        run: SELECT 1
EOF
)
sed -i 's|^targets:|targets:\n  quoted: {type: postgres, conninfo: "host=127.0.0.1 port=${env:PGPORT} dbname=${env:DBN}"}|' "$r"
expect_rc 1 "$CUTOVER" run "$r"
contains "$T/err" "database \"db1 port=1 it's\" does not exist"

# --- A literal conninfo libpq cannot parse is not echoed (it may hold the
# password).
r=$(rb literal <<'EOF'
  - id: p
    steps:
      - id: lit
        type: sql
        target: lit
        run: SELECT 1
EOF
)
sed -i 's|^targets:|targets:\n  lit: {type: postgres, conninfo: "postgresql://app:Lit%zzPw@127.0.0.1/x"}|' "$r"
expect_rc 1 "$CUTOVER" run "$r"
contains "$T/err" "invalid conninfo for target lit"
"$CUTOVER" status "$r" >"$T/lit-status" 2>&1
"$CUTOVER" log "$r" lit >>"$T/lit-status" 2>&1
for f in "$T/out" "$T/err" "$T/lit-status"; do lacks "$f" "Lit%zzPw"; done

# --- lint warns about a secret pasted into SQL text.
r=$(rb secretsql <<'EOF'
  - id: p
    steps:
      - id: s
        type: sql
        target: db
        run: SELECT '${pw}' = '${plain}'
      - id: l
        type: local
        run: echo ${pw}
EOF
)
sed -i 's|^targets:|vars:\n  pw: ${env:APP_PW}\n  plain: x\nsecrets: [pw]\ntargets:|' "$r"
expect_rc 0 "$CUTOVER" lint "$r"
contains "$T/err" "warning: secret \${pw} in SQL text"
check "one warning about secrets (not for \${plain}, not for the local step)" \
    test "$(grep -c 'warning: secret' "$T/err")" = 1
lacks "$T/err" "$APP_PW"

finish
