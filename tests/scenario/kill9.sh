#!/bin/bash
# kill9.sh - kill -9 the driver at random moments, at least 50 times, over
# runs of 32 steps, often while a step's child process is still running, and
# prove after every resume that:
#  - no step ran twice (each appends "RUN STEP" to a ledger exactly once),
#  - nothing recorded was lost (every step recorded succeeded is in the
#    ledger, and the set of succeeded steps only grows),
#  - PRAGMA integrity_check is ok;
# then that recovery leaves alone a process group that took the recorded
# number.
. "$(dirname "$0")/../lib.sh"

state=$T/k.db
K9_NAME=kill9
store_ok() {
	ic=$(sqlite3 "$state" 'PRAGMA integrity_check')
	if [ "$ic" = ok ]; then ok; else fail "integrity_check: $ic"; fi
}
. "$SRCDIR/tests/kill9-loop.sh"

# A recorded process group whose number an unrelated process group has
# since taken is not the attempt's: recovery leaves it alone, and says so
# in the attempt's message (the audit trail).
cat >"$T/reuse.yaml" <<'YAML'
cutover: 1
name: reuse
phases:
  - id: p
    steps:
      - {id: long, type: local, run: 'sleep 30.5'}
YAML
(exec "$CUTOVER" --state "$T/reuse.db" run "$T/reuse.yaml" >/dev/null 2>&1) &
pid=$!
i=0
until pgrep -fx "sleep 30.5" >/dev/null || [ $i -ge 100 ]; do sleep 0.05; i=$((i + 1)); done
kill -9 $pid
wait $pid 2>/dev/null
setsid sleep 31.5 &
other=$!
sleep 0.1
sqlite3 "$T/reuse.db" "UPDATE attempts SET pgid = $other WHERE state = 'running'"
expect_rc 5 "$CUTOVER" --state "$T/reuse.db" run "$T/reuse.yaml"
check "an unrelated group with the recorded number survives recovery" kill -0 $other
check "the attempt's own command was ended by its token" sh -c '! pgrep -fx "sleep 30.5"'
msg=$(sqlite3 "$T/reuse.db" "SELECT message FROM attempts WHERE step = 'long'")
case $msg in
*"process group $other left alone: not proven the attempt's (no process in it carries the attempt's token)"*) ok ;;
*) fail "interrupt message lacks the evidence: $msg" ;;
esac
kill $other 2>/dev/null
finish
