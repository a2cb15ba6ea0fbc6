#!/bin/sh
# notify-console.sh - the console while notifications fail or hang: the
# header says deliveries fail; a receiver that takes 20 s to answer slows
# neither the console's keys nor its exit.
. "$(dirname "$0")/../lib.sh"
. "$SRCDIR/tests/tmux.sh"

RECV=$SRCDIR/tests/webhook-receiver.py
cat >"$T/n.yaml" <<'YAML'
cutover: 1
name: n
notify:
  - {webhook: "${env:HOOK}"}
phases:
  - id: p
    steps:
      - {id: one, type: manual}
      - {id: two, type: local, run: "true"}
YAML
db=$T/n.db

# --- 1. a dead receiver: the header says so
export HOOK="http://127.0.0.1:1/hook/secret"
"$CUTOVER" --state "$db" run "$T/n.yaml" >/dev/null 2>&1
start dead "$CUTOVER --state '$db' '$T/n.yaml'"
wait_for dead "notify: 1 failing, 1: Couldn't connect"
keys dead q
wait_for dead "[exit 0]"

# --- 2. a receiver that answers after 20 s
python3 "$RECV" "$T/port" "$T/recv.log" --delay 20 &
rpid=$!
trap 'kill $rpid 2>/dev/null; tm kill-server 2>/dev/null; cleanup' EXIT
i=0
while [ ! -s "$T/port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
export HOOK="http://127.0.0.1:$(cat "$T/port")/hook/secret"
start slow "HOOK='$HOOK' $CUTOVER --state '$db' '$T/n.yaml'"
wait_for slow "WAIT one"
i=0 # the console's driver has sent the event; the receiver holds it
while [ ! -s "$T/recv.log" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
check "the receiver holds a request" test -s "$T/recv.log"
t0=$(now_ms)
keys slow j
keys slow k
keys slow q
wait_for slow "[exit 0]" 2000
ms=$(($(now_ms) - t0))
echo "console: keys and exit took $ms ms while a delivery hung"
check "keys and exit were not held up by the receiver ($ms ms)" test "$ms" -lt 2000
finish
