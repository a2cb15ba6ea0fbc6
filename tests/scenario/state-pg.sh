#!/bin/bash
# state-pg.sh - the state on a real PostgreSQL server: every command on it,
# two runbooks in one database, the schema version, the password kept out
# of messages, fencing of a driver that lost its lease, and state copy
# both ways with the audit trail verified.
. "$(dirname "$0")/../lib.sh"
. "$SRCDIR/tests/pg.sh"
pg_start || { echo "state-pg.sh: no PostgreSQL server" >&2; exit 1; }

DB="postgresql://cutover@127.0.0.1:$PGPORT/cutover"
export CUTOVER_STATE=$DB LEDGER=$T/ledger
: >"$LEDGER"
C() { "$CUTOVER" "$@"; }
# alice and bob are database users of their own (members of the schema's
# owner): approvals count distinct database users.
pg_psql "CREATE ROLE alice_db LOGIN IN ROLE cutover;
    CREATE ROLE bob_db LOGIN IN ROLE cutover" >/dev/null
DBA="postgresql://alice_db@127.0.0.1:$PGPORT/cutover"
DBB="postgresql://bob_db@127.0.0.1:$PGPORT/cutover"
CA() { CUTOVER_STATE=$DBA "$CUTOVER" "$@"; }
CB() { CUTOVER_STATE=$DBB "$CUTOVER" "$@"; }

# --- The store through two handles: fencing, liveness, NOTIFY -------------
pg_createdb unit
unit=$(dirname "$CUTOVER")/tests/unit/test-state-pg
if PG_CONNINFO="host=127.0.0.1 port=$PGPORT user=cutover dbname=unit" \
    "$unit" >"$T/unit.out" 2>&1; then ok; else
	fail "$unit"
	sed 's/^/  | /' "$T/unit.out" >&2
fi

# --- Every command on the PostgreSQL store ---------------------------------
rb=$T/wave.yaml
cat >"$rb" <<'YAML'
cutover: 1
name: wave
operators:
  alice: [alice_db]
  bob: [bob_db]
  carol: [cutover]
roles:
  duty-manager: [alice, bob]
settings:
  rollback_roles: [duty-manager]
phases:
  - id: one
    steps:
      - {id: first, type: local, run: echo "first $CUTOVER_RUN" >> $LEDGER; echo out-first, verify: grep -q '^first' $LEDGER, rollback: echo undo-first >> $LEDGER}
      - {id: announce, type: manual, instructions: Tell the stores}
      - {id: gate, type: checkpoint, approvals: 2, approvers: [duty-manager]}
  - id: two
    steps:
      - {id: flaky, type: local, run: test -f $LEDGER.ok}
      - {id: optional, type: local, run: exit 3}
      - {id: last, type: local, run: echo last >> $LEDGER, rollback: echo undo-last >> $LEDGER}
YAML
# Reading commands find no schema before the first run: exit 4, one line.
expect_rc 4 C status "$rb"
contains "$T/err" "no cutover schema in this database yet"
check "no schema was created by a reader" test "$(pg_psql "SELECT count(*) FROM pg_namespace WHERE nspname='cutover'")" = 0

expect_rc 5 C run "$rb"
contains "$T/err" "announce waits for a person"
check "first ran once" test "$(grep -c '^first 1' "$LEDGER")" = 1
schema_v=$(pg_psql 'SELECT version FROM cutover.version')
check "schema cutover at a version ($schema_v)" test "$schema_v" -ge 1
check "the run's rows are in the database" test "$(pg_psql "SELECT count(*) FROM cutover.steps WHERE runbook='wave' AND run=1")" = 6
expect_rc 0 C status "$rb" --json
check "status --json from PostgreSQL" jq -e '.runbook == "wave" and .run == 1 and .state == "open" and (.steps[] | select(.id=="announce") | .state == "awaiting")' "$T/out"
expect_rc 0 C confirm "$rb" announce --note "stores told" --operator carol
expect_rc 5 C run "$rb"
contains "$T/err" "gate waits for 2 more go"
expect_rc 0 CA decide "$rb" gate go --reason "counts match" --operator alice
check "one go of two: still awaiting" test "$(step_state "$rb" gate)" = awaiting
expect_rc 4 CA decide "$rb" gate go --reason again --operator alice
expect_rc 0 CB decide "$rb" gate go --reason agreed --operator bob
check "two distinct go: succeeded" test "$(step_state "$rb" gate)" = succeeded
expect_rc 1 C run "$rb"
contains "$T/err" "step flaky failed"
touch "$LEDGER.ok"
expect_rc 0 C retry "$rb" flaky
check "flaky succeeded on retry" test "$(step_state "$rb" flaky)" = succeeded
expect_rc 1 C run "$rb"
contains "$T/err" "step optional failed"
expect_rc 0 C skip "$rb" optional --reason "not tonight"
expect_rc 0 C run "$rb"
contains "$T/out" "run 1 complete"
check "last ran once" test "$(grep -c '^last' "$LEDGER")" = 1
expect_rc 0 C log "$rb" first
contains "$T/out" "out-first"
expect_rc 0 C runs "$rb"
check "runs lists run 1 complete" grep -q '^ *1  rehearsal  complete' "$T/out"
expect_rc 0 C report "$rb" --format json
check "report from PostgreSQL" jq -e '.' "$T/out"
expect_rc 0 C report "$rb"
contains "$T/out" "wave"
expect_rc 0 C audit "$rb"
contains "$T/out" "confirm: succeeded: stores told"
contains "$T/out" "decide: go: agreed"
contains "$T/out" "skip: skipped: not tonight"
expect_rc 0 C audit "$rb" --verify
contains "$T/out" "audit trail intact"

# A second run, taken back to the checkpoint.
expect_rc 5 C run "$rb" --new-run
expect_rc 0 C confirm "$rb" announce
expect_rc 5 C run "$rb"
expect_rc 0 CA decide "$rb" gate go --reason a --operator alice
expect_rc 0 CB decide "$rb" gate go --reason b --operator bob
expect_rc 1 C run "$rb"
expect_rc 0 C skip "$rb" optional --reason "not tonight either"
expect_rc 0 C run "$rb"
check "run 2 complete" test "$(C status "$rb" --json | jq -r '.run, .state' | tr '\n' ' ')" = "2 complete "
expect_rc 5 CA rollback "$rb" --to gate --operator alice
contains "$T/out" "2 step(s) to undo"
check "last rolled back" test "$(step_state "$rb" last)" = rolled_back
contains "$LEDGER" "undo-last"
expect_rc 0 C confirm "$rb" flaky --note "undone by hand"
check "flaky rolled back" test "$(step_state "$rb" flaky)" = rolled_back
expect_rc 0 C audit "$rb" --verify

# Tampering with an entry in the database is found, and named.
pg_psql "UPDATE cutover.audit SET details = details || '!' WHERE runbook='wave' AND id=3"
expect_rc 1 C audit "$rb" --verify
contains "$T/err" "audit trail broken at entry 3"
pg_psql "UPDATE cutover.audit SET details = left(details, -1) WHERE runbook='wave' AND id=3"
expect_rc 0 C audit "$rb" --verify

# --- Two runbooks in one database ------------------------------------------
rb2=$T/other.yaml
cat >"$rb2" <<'YAML'
cutover: 1
name: other
phases:
  - id: p
    steps:
      - {id: only, type: local, run: echo "other $CUTOVER_RUN" >> $LEDGER}
YAML
expect_rc 0 C run "$rb2"
check "the second runbook numbers its runs from 1" grep -qx 'other 1' "$LEDGER"
expect_rc 0 C runs "$rb2"
check "runs shows only its runbook's run" test "$(grep -c '^ *[0-9]' "$T/out")" = 1
expect_rc 0 C audit "$rb2" --verify
expect_rc 0 C audit "$rb2"
lacks "$T/out" "decide"
check "one audit chain per runbook" test "$(pg_psql "SELECT count(*) FROM cutover.audit WHERE runbook='other' AND id=1")" = 1
expect_rc 0 C status "$rb" --json
check "wave still at run 2" jq -e '.run == 2' "$T/out"

# --- pg: conninfo, and the password never shown -----------------------------
expect_rc 0 C --state "pg:host=127.0.0.1 port=$PGPORT user=cutover dbname=cutover" status "$rb2"
contains "$T/out" "other"
expect_rc 4 C --state "postgresql://app:$PG_APP_PASSWORD@127.0.0.1:$PGPORT/cutover" status "$rb2"
contains "$T/err" "permission denied"
lacks "$T/err" "$PG_APP_PASSWORD"
expect_rc 4 C --state "pg:host=127.0.0.1 port=$PGPORT user=app password=wrong-$PG_APP_PASSWORD dbname=cutover" status "$rb2"
contains "$T/err" "password authentication failed"
lacks "$T/err" "$PG_APP_PASSWORD"
expect_rc 4 C --state "postgresql://app:$PG_APP_PASSWORD@127.0.0.1:1/cutover" run "$rb2"
contains "$T/err" "cannot connect"
lacks "$T/err" "$PG_APP_PASSWORD"
expect_rc 4 C --state "pg:host=127.0.0.1 password=$PG_APP_PASSWORD dbname" status "$rb2"
contains "$T/err" "not a connection string libpq can read"
lacks "$T/err" "$PG_APP_PASSWORD"
check "one line" test "$(wc -l <"$T/err")" = 1

# --- The war-room set-up of cutover(1): owner, operators, a viewer ---------
pg_psql "CREATE ROLE cutover_owner LOGIN" >/dev/null
pg_psql "CREATE DATABASE warroom OWNER cutover_owner" >/dev/null
pg_psql "CREATE ROLE warroom NOLOGIN; CREATE ROLE alice LOGIN IN ROLE warroom;
    CREATE ROLE viewer LOGIN" >/dev/null
PGUSER=cutover_owner PGDATABASE=warroom pg_psql "CREATE SCHEMA cutover;
    GRANT USAGE ON SCHEMA cutover TO warroom;
    ALTER DEFAULT PRIVILEGES IN SCHEMA cutover
        GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO warroom;
    ALTER DEFAULT PRIVILEGES IN SCHEMA cutover
        GRANT USAGE, SELECT ON SEQUENCES TO warroom;
    GRANT USAGE ON SCHEMA cutover TO viewer;
    ALTER DEFAULT PRIVILEGES IN SCHEMA cutover GRANT SELECT ON TABLES TO viewer"
W="pg:host=127.0.0.1 port=$PGPORT dbname=warroom"
room=$T/room.yaml
cat >"$room" <<'YAML'
cutover: 1
name: room
phases:
  - id: p
    steps:
      - {id: a, type: local, run: echo "room-a $CUTOVER_RUN" >> $LEDGER}
      - {id: m, type: manual, instructions: Tell the stores}
      - {id: b, type: local, run: echo "room-b $CUTOVER_RUN" >> $LEDGER}
YAML
expect_rc 4 C --state "$W user=alice" run "$room"
contains "$T/err" "permission denied"
expect_rc 5 C --state "$W user=cutover_owner" run "$room"
expect_rc 0 C --state "$W user=alice" confirm "$room" m
expect_rc 0 C --state "$W user=alice" run "$room" --operator alice
contains "$T/out" "run 1 complete"
for cmd in status runs "audit --verify" "report --format json"; do
	expect_rc 0 C --state "$W user=viewer" $cmd "$room"
done
expect_rc 4 C --state "$W user=viewer" run "$room" --new-run
contains "$T/err" "permission denied"
check "the viewer changed nothing" test "$(PGDATABASE=warroom pg_psql "SELECT count(*) FROM cutover.runs")" = 1

# --- A schema of a newer cutover is refused ---------------------------------
pg_psql "UPDATE cutover.version SET version = 99"
expect_rc 4 C status "$rb"
contains "$T/err" "written by a newer cutover"
expect_rc 4 C run "$rb2" --new-run
check "nothing was written meanwhile" test "$(pg_psql "SELECT count(*) FROM cutover.runs WHERE runbook='other'")" = 1
pg_psql "UPDATE cutover.version SET version = $schema_v"

# --- Fencing: a frozen driver whose lease was taken over commits nothing ----
fb=$T/fence.yaml
cat >"$fb" <<'YAML'
cutover: 1
name: fence
phases:
  - id: p
    steps:
      - {id: slow, type: local, run: sleep 4; echo "slow $CUTOVER_RUN" >> $LEDGER}
      - {id: after, type: local, run: echo "after $CUTOVER_RUN" >> $LEDGER}
YAML
(CUTOVER_STATE=$DBA exec "$CUTOVER" run "$fb" >"$T/a.out" 2>&1) &
apid=$!
i=0
while [ $i -lt 100 ] && ! grep -qs "slow: running" "$T/a.out"; do
	sleep 0.1
	i=$((i + 1))
done
check "driver A started the slow step" grep -q "slow: running" "$T/a.out"
# While A's lease is fresh, another driver is refused and told who drives.
expect_rc 4 CB run "$fb"
contains "$T/err" "is driven by pid $apid"
contains "$T/err" "operator alice_db"
kill -STOP $apid
token_a=$(pg_psql "SELECT token FROM cutover.lease WHERE runbook='fence'")
# A is frozen (a laptop lid shut): its lease runs out on the server's clock.
pg_psql "UPDATE cutover.lease SET renewed_at = now() - interval '1 hour' WHERE runbook='fence'"
expect_rc 0 C status "$fb"
lacks "$T/out" "driven by"
CB run "$fb" >"$T/b.out" 2>&1
brc=$?
check "driver B took over and stopped (exit $brc)" test $brc = 5 -o $brc = 0
token_b=$(pg_psql "SELECT coalesce(max(token), 0) FROM cutover.lease WHERE runbook='fence'")
C audit "$fb" >"$T/audit-b"
contains "$T/audit-b" "driver-takeover"
check "the takeover took a greater token ($token_a -> $token_b)" test "$token_b" -gt "$token_a" -o "$token_b" = 0
n_b=$(pg_psql "SELECT count(*) FROM cutover.audit WHERE runbook='fence'")
serial_b=$(pg_psql "SELECT serial FROM cutover.runbooks WHERE name='fence'")
kill -CONT $apid
wait $apid
arc=$?
check "driver A exits 4 once fenced (exit $arc)" test $arc = 4
contains "$T/a.out" "took over"
check "A committed nothing after the takeover" test "$(pg_psql "SELECT count(*) FROM cutover.audit WHERE runbook='fence'")" = "$n_b"
check "A committed no write at all" test "$(pg_psql "SELECT serial FROM cutover.runbooks WHERE name='fence'")" = "$serial_b"
lacks "$LEDGER" "slow 1"
expect_rc 0 C audit "$fb" --verify

# --- state copy, both ways ----------------------------------------------------
fileb=$T/rehearsal.db
expect_rc 5 C --state "$fileb" run "$rb" --operator dave
expect_rc 0 C --state "$fileb" confirm "$rb" announce
expect_rc 5 C --state "$fileb" run "$rb"
expect_rc 0 C --state "$fileb" decide "$rb" gate go --reason a --operator alice
expect_rc 0 C --state "$fileb" decide "$rb" gate go --reason b --operator bob
expect_rc 1 C --state "$fileb" run "$rb"
expect_rc 0 C --state "$fileb" skip "$rb" optional --reason x
expect_rc 0 C --state "$fileb" run "$rb"
expect_rc 0 C state copy "$fileb" "$DB"
contains "$T/out" "copied run 1 of wave as run 3"
contains "$T/out" "audit trail intact"
expect_rc 0 C runs "$rb"
check "the copy is run 3 in the database" grep -q '^ *3  rehearsal  complete' "$T/out"
expect_rc 0 C status "$rb" --run 3 --json
check "copied steps keep their states" jq -e '(.steps[] | select(.id=="optional") | .state == "skipped") and (.steps[] | select(.id=="first") | .attempts == 1)' "$T/out"
expect_rc 0 C log "$rb" first
check "the copy's output came along (run 3)" test "$(grep -c 'out-first' "$T/out")" = 1
contains "$T/out" "first attempt 1 (run): succeeded"
expect_rc 0 C audit "$rb" --verify
C audit "$rb" >"$T/audit-db"
contains "$T/audit-db" "state-copy: run 1 of wave copied"
contains "$T/audit-db" "dave"

# The database down to a file: the runs of wave that are not open.
archive=$T/archive.db
expect_rc 0 C state copy "$DB" "$archive" --runbook wave
contains "$T/err" "run 2 of wave is open: not copied"
contains "$T/out" "copied run 3 of wave as run 2"
expect_rc 0 C --state "$archive" runs "$rb"
check "two runs archived" test "$(grep -c '^ *[0-9]' "$T/out")" = 2
expect_rc 0 C state copy "$DB" "$archive" --runbook wave --run 2
contains "$T/out" "copied run 2 of wave as run 3"
expect_rc 0 C --state "$archive" status "$rb" --run 3 --json
check "an open run copied when named" jq -e '.state == "open" and (.steps[] | select(.id=="last") | .state == "rolled_back")' "$T/out"
expect_rc 0 C --state "$archive" log "$rb" first
contains "$T/out" "out-first"
expect_rc 0 C --state "$archive" audit "$rb" --verify
expect_rc 0 C --state "$archive" report "$rb" --run 1
# Only one run, by number; several runbooks need --runbook.
expect_rc 2 C state copy "$DB" "$T/one.db"
contains "$T/err" "name one with --runbook"
expect_rc 0 C state copy "$DB" "$T/one.db" --runbook other --run 1
expect_rc 0 C --state "$T/one.db" audit "$rb2" --verify
expect_rc 4 C state copy "$DB" "$T/none.db" --runbook nosuch
expect_rc 2 C state move "$DB" "$T/none.db"
expect_rc 4 C state copy "$T/missing.db" "$DB"
# A broken trail is not copied.
sqlite3 "$archive" "UPDATE audit SET details='x' WHERE id=2"
expect_rc 1 C state copy "$archive" "$DB"
contains "$T/err" "audit trail is broken at entry 2"
check "nothing was copied" test "$(pg_psql "SELECT count(*) FROM cutover.runs WHERE runbook='wave'")" = 3

finish
