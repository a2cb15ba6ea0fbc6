#!/bin/sh
# driver.sh - one driver per run: a second `run` is refused with exit 4
# naming the first; confirm/skip from another terminal take effect in the
# running driver; after the driver is killed, the next one takes over.
. "$(dirname "$0")/../lib.sh"

rb=$T/d.yaml
cat >"$rb" <<'YAML'
cutover: 1
name: drv
settings:
  parallel: 2
phases:
  - id: p
    steps:
      - id: long
        type: local
        run: sleep 3
      - id: hold
        type: manual
        needs: []
      - id: after-hold
        type: local
        run: "true"
        needs: [hold]
YAML
"$CUTOVER" run "$rb" --operator alice >"$T/first.out" 2>&1 &
pid=$!
i=0
while [ $i -lt 50 ] && ! grep -q "long: running" "$T/first.out" 2>/dev/null; do
	sleep 0.1
	i=$((i + 1))
done
expect_rc 4 "$CUTOVER" run "$rb" --operator bob
contains "$T/err" "is driven by pid $pid"
contains "$T/err" "operator alice"
expect_rc 4 "$CUTOVER" retry "$rb" long
# confirm from another terminal while the driver runs.
i=0
while [ $i -lt 50 ] && [ "$(step_state "$rb" hold)" != awaiting ]; do
	sleep 0.1
	i=$((i + 1))
done
expect_rc 0 "$CUTOVER" confirm "$rb" hold --operator bob
expect_rc 0 "$CUTOVER" status "$rb"
contains "$T/out" "driven by pid $pid"
wait $pid
rc=$?
check "driver finished the run (exit $rc)" test $rc = 0
contains "$T/first.out" "after-hold: succeeded"

# A driver killed with -9 is taken over at once on the same host.
cat >"$rb" <<'YAML'
cutover: 1
name: drv2
phases:
  - id: p
    steps:
      - id: long
        type: local
        run: sleep 29.77
        verify: "true"
YAML
"$CUTOVER" run "$rb" >"$T/k.out" 2>&1 &
pid=$!
i=0
while [ $i -lt 50 ] && ! grep -q "long: running" "$T/k.out" 2>/dev/null; do
	sleep 0.1
	i=$((i + 1))
done
kill -9 $pid
wait $pid 2>/dev/null
check "sleep left running by the dead driver" pgrep -f "slee[p] 29.77" >/dev/null
expect_rc 0 "$CUTOVER" status "$rb" --json
check "dead driver's step shows interrupted" jq -e '.steps[0].state == "interrupted"' "$T/out"
expect_rc 0 "$CUTOVER" run "$rb"
contains "$T/out" "verified after interruption"
check "the left-over process group was ended" sh -c '! pgrep -f "slee[p] 29.77" >/dev/null'

# The process group is recorded after the command starts, without an fsync
# of its own; if that record is lost, the next driver finds the command by
# the CUTOVER_ATTEMPT token in its environment.
"$CUTOVER" run "$rb" --new-run >"$T/k2.out" 2>&1 &
pid=$!
i=0
while [ $i -lt 50 ] && ! grep -q "long: running" "$T/k2.out" 2>/dev/null; do
	sleep 0.1
	i=$((i + 1))
done
kill -9 $pid
wait $pid 2>/dev/null
check "sleep left running again" pgrep -f "slee[p] 29.77" >/dev/null
sqlite3 "$XDG_STATE_HOME/cutover/drv2.db" "UPDATE attempts SET pid=0, pgid=0 WHERE state='running'"
check "its group is no longer recorded" test \
	"$(sqlite3 "$XDG_STATE_HOME/cutover/drv2.db" "SELECT count(*) FROM attempts WHERE state='running' AND pgid=0")" = 1
expect_rc 0 "$CUTOVER" run "$rb"
contains "$T/out" "verified after interruption"
check "found by its token and ended" sh -c '! pgrep -f "slee[p] 29.77" >/dev/null'

# A driver stopped longer than the lease lasts is taken over; when it
# resumes it notices and stops (exit 4) instead of driving beside the other.
cat >"$rb" <<'YAML'
cutover: 1
name: drv3
phases:
  - id: p
    steps:
      - id: long
        type: local
        run: sleep 8
        verify: "true"
YAML
"$CUTOVER" run "$rb" >"$T/s.out" 2>&1 &
pid=$!
i=0
while [ $i -lt 50 ] && ! grep -q "long: running" "$T/s.out" 2>/dev/null; do
	sleep 0.1
	i=$((i + 1))
done
kill -STOP $pid
later=$(( $(date +%s%3N) + 40000 ))
expect_rc 0 env CUTOVER_FAKE_CLOCK=$later "$CUTOVER_TEST" status "$rb"
lacks "$T/out" "driven by pid $pid"
CUTOVER_FAKE_CLOCK=$later "$CUTOVER_TEST" run "$rb" >"$T/t.out" 2>&1 &
pid2=$!
sleep 1
kill -CONT $pid
wait $pid
rc=$?
check "the stopped driver gives up with exit 4 (got $rc)" test $rc = 4
contains "$T/s.out" "another driver took over run"
wait $pid2
check "the new driver finishes the run" test $? = 0
# A heartbeat that fails (the state file locked longer than SQLite waits)
# does not end the renewals: the driver says it starts nothing new, keeps
# trying, and the lease is fresh again once the lock goes.
rb3=$T/hb.yaml
st3=$T/hb.db
cat >"$rb3" <<'YAML'
cutover: 1
name: hb
phases:
  - id: p
    steps:
      - id: slow
        type: local
        run: sleep 60
YAML
"$CUTOVER" --state "$st3" run "$rb3" >"$T/hb.out" 2>&1 &
pid=$!
i=0
while [ $i -lt 50 ] && ! grep -q "slow: running" "$T/hb.out" 2>/dev/null; do
	sleep 0.1
	i=$((i + 1))
done
python3 -c 'import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
c.execute("BEGIN EXCLUSIVE"); time.sleep(21); c.execute("COMMIT")' "$st3"
sleep 6
beat=$(sqlite3 "$st3" "SELECT heartbeat FROM drivers WHERE pid=$pid")
age=$(( $(date +%s%3N) - ${beat:-0} ))
check "the lease is renewed after a failed heartbeat (last ${age} ms ago)" \
    test "$age" -lt 8000
contains "$T/hb.out" "cannot renew the lease of run 1"
contains "$T/hb.out" "lease of run 1 renewed: steps start again"
kill -TERM $pid
wait $pid
finish
