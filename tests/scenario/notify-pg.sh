#!/bin/bash
# notify-pg.sh - the outbox on a real PostgreSQL server: events of two
# runbooks in one database go to their own receivers and counts, a
# receiver that was down gets them from the next driver, and the webhook
# address is nowhere in the database.
. "$(dirname "$0")/../lib.sh"
. "$SRCDIR/tests/pg.sh"
pg_start || { echo "notify-pg.sh: no PostgreSQL server" >&2; exit 1; }

RECV=$SRCDIR/tests/webhook-receiver.py
TOKEN=pg-T0KEN-$$
export CUTOVER_STATE="postgresql://cutover@127.0.0.1:$PGPORT/cutover"
R() { "$CUTOVER" "$@"; }

python3 "$RECV" "$T/port" "$T/recv.log" &
rpid=$!
trap 'kill $rpid 2>/dev/null; cleanup' EXIT
i=0
while [ ! -s "$T/port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
port=$(cat "$T/port")
kill $rpid
wait $rpid 2>/dev/null
export HOOK="http://127.0.0.1:$port/hook/$TOKEN"

for name in alpha beta; do
	cat >"$T/$name.yaml" <<YAML
cutover: 1
name: $name
notify:
  - {webhook: "\${env:HOOK}/$name"}
phases:
  - id: p
    steps:
      - {id: m, type: manual}
      - {id: gate, type: checkpoint}
      - {id: done, type: local, run: "true"}
YAML
done

# The receiver is down: alpha's events wait, beta has none yet.
expect_rc 5 R run "$T/alpha.yaml"
expect_rc 0 R confirm "$T/alpha.yaml" m
expect_rc 5 R run "$T/alpha.yaml"
expect_rc 0 R decide "$T/alpha.yaml" gate go --reason fine
expect_rc 0 R status "$T/alpha.yaml" --json
check "alpha: awaiting m and gate, the decision wait" test "$(jq -c '.notifications | [.pending, .failed]' "$T/out")" = "[3,2]"
check "alpha: the failure says why" test "$(jq -r '.notifications.last_error' "$T/out")" = "1: Couldn't connect to server"
expect_rc 5 R run "$T/beta.yaml"
expect_rc 0 R status "$T/beta.yaml" --json
check "beta counts only its own" test "$(jq -c '.notifications.pending' "$T/out")" = 1
check "the outbox holds both runbooks" test "$(pg_psql 'SELECT string_agg(DISTINCT runbook, $$ $$ ORDER BY runbook) FROM cutover.outbox')" = "alpha beta"

# The receiver is back; the next driver of each runbook delivers its own.
python3 "$RECV" "$T/port2" "$T/recv.log" --port "$port" &
rpid=$!
i=0
while [ ! -s "$T/port2" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
expect_rc 0 R run "$T/alpha.yaml"
expect_rc 0 R status "$T/alpha.yaml" --json
check "alpha: all delivered" test "$(jq -c '.notifications | [.pending, .failed]' "$T/out")" = "[0,0]"
check "alpha: awaiting, checkpoint, complete" test "$(jq -r 'select(.path|endswith("/alpha")) | .body.type' "$T/recv.log" | sort -u | tr '\n' ' ')" = "awaiting checkpoint complete "
check "alpha: every event in the outbox arrived" test \
    "$(pg_psql "SELECT string_agg(DISTINCT event, ' ' ORDER BY event) FROM cutover.outbox WHERE runbook='alpha'")" = \
    "$(jq -r 'select(.path|endswith("/alpha")) | .body.id' "$T/recv.log" | sort -u | tr '\n' ' ' | sed 's/ $//')"
check "beta's event still waits for beta's driver" test "$(pg_psql "SELECT count(*) FROM cutover.outbox WHERE runbook='beta' AND sent_at IS NULL")" = 1
expect_rc 5 R run "$T/beta.yaml"
check "beta delivered by its own driver" test "$(jq -r 'select(.path|endswith("/beta")) | .body.type' "$T/recv.log" | sort -u)" = awaiting

"$PG_BIN/pg_dump" -h 127.0.0.1 -p "$PGPORT" -U cutover cutover >"$T/dump.sql"
check "the dump has the outbox" grep -q 'outbox' "$T/dump.sql"
lacks "$T/dump.sql" "$TOKEN"
lacks "$T/dump.sql" "/hook/"
finish
