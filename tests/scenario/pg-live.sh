#!/bin/bash
# pg-live.sh - live across processes on the PostgreSQL store: a confirm
# typed in one process starts the next step on the driver (a console in
# another process) at once, round after round, and a watching console
# shows another process's decision at once.
#
# The time from a confirm to the start of the step it released is read
# from the database (the confirm's audit entry and the attempt's start,
# both stamped by the processes' clocks, on one machine): every round must
# be under 200 ms, and the median under 100 ms (polling every 300 ms, as
# before notifications, gives a median near 150 ms).
. "$(dirname "$0")/../lib.sh"
. "$SRCDIR/tests/pg.sh"
. "$SRCDIR/tests/tmux.sh"
pg_start || { echo "pg-live.sh: no PostgreSQL server" >&2; exit 1; }
trap 'tm kill-server 2>/dev/null; pg_stop; cleanup' EXIT

ROUNDS=${ROUNDS:-8}
state="postgresql://cutover@127.0.0.1:$PGPORT/cutover"
rb=$T/live.yaml
{
	echo "cutover: 1"
	echo "name: live"
	echo "roles:"
	echo "  duty: [cutover]"
	echo "phases:"
	echo "  - id: p"
	echo "    steps:"
	for i in $(seq 1 "$ROUNDS"); do
		echo "      - {id: m$i, type: manual}"
		echo "      - {id: l$i, type: local, run: \"true\"}"
	done
	echo "      - {id: gate, type: checkpoint, approvals: 1, approvers: [duty]}"
	echo "      - {id: last, type: local, run: \"true\"}"
} >"$rb"
expect_rc 0 "$CUTOVER" lint "$rb"
C() { "$CUTOVER" --state "$state" "$@"; }

# state STEP: the step's state in the database.
state_of() {
	C status "$rb" --json 2>/dev/null |
	    jq -r --arg s "$1" '.steps[] | select(.id == $s) | .state'
}
# until_state STEP STATE [TRIES]: wait (20 ms a try) for it.
until_state() {
	local n=${3:-250}
	while [ "$n" -gt 0 ]; do
		[ "$(state_of "$1")" = "$2" ] && return 0
		sleep 0.02
		n=$((n - 1))
	done
	return 1
}
# The ms from the confirm of m$1 to the start of l$1, by the database.
latency() {
	pg_psql "SELECT a.started_at - (extract(epoch FROM d.at::timestamptz)
	    * 1000)::bigint FROM cutover.attempts a, cutover.audit d
	    WHERE a.runbook = 'live' AND a.step = 'l$1' AND a.n = 1
	    AND d.runbook = 'live' AND d.step = 'm$1' AND d.action = 'confirm'"
}

# The driver: a console, automatic.
start drv "$CUTOVER --state '$state' '$rb'"
wait_for drv "m1" 10000
keys drv a
wait_for drv "AUTO"
check "m1 waits for a person" until_state m1 awaiting
# A watching console in a third process.
start wat "$CUTOVER --state '$state' watch '$rb'"
wait_for wat "WAIT m1" 10000

: >"$T/lat"
: >"$T/seen"
for i in $(seq 1 "$ROUNDS"); do
	until_state "m$i" awaiting || fail "m$i never waited"
	C confirm "$rb" "m$i" >/dev/null 2>"$T/confirm.err" ||
		fail "confirm m$i: $(cat "$T/confirm.err")"
	t0=$(now_ms)
	# The watcher shows the confirm (polled every 10 ms).
	while ! screen wat | grep -qE "ok +m$i( |$)"; do
		[ $(($(now_ms) - t0)) -lt 3000 ] || break
		sleep 0.01
	done
	echo $(($(now_ms) - t0)) >>"$T/seen"
	until_state "l$i" succeeded || fail "l$i never ran"
	latency "$i" >>"$T/lat"
done
sort -n "$T/lat" >"$T/lat.sorted"
max=$(tail -1 "$T/lat.sorted")
median=$(sed -n "$(((ROUNDS + 1) / 2))p" "$T/lat.sorted")
echo "confirm -> next step started (ms): $(tr '\n' ' ' <"$T/lat")"
echo "confirm -> shown by watch (ms, polled): $(tr '\n' ' ' <"$T/seen")"
[ "$(wc -l <"$T/lat")" = "$ROUNDS" ] && ok || fail "not every round measured"
[ -n "$max" ] && [ "$max" -lt 200 ] && ok ||
	fail "a confirm took $max ms to start the next step (want < 200)"
[ -n "$median" ] && [ "$median" -lt 100 ] && ok ||
	fail "median confirm -> start $median ms (want < 100: no polling delay)"
smax=$(sort -n "$T/seen" | tail -1)
smed=$(sort -n "$T/seen" | sed -n "$(((ROUNDS + 1) / 2))p")
[ "$smax" -lt 1000 ] && [ "$smed" -lt 200 ] && ok ||
	fail "watch showed a confirm after $smax ms (median $smed; want < 200)"

# A decision from another process: the driver and the watcher show it.
until_state gate awaiting || fail "gate never waited"
C decide "$rb" gate go --reason "from another machine" >/dev/null 2>&1 ||
	fail "decide gate"
t0=$(now_ms)
wait_for wat "ok   last" 3000
wait_for drv "ok   last" 3000
echo "decide -> last step done, shown by watch and driver: $(($(now_ms) - t0)) ms"
check "the run completes" until_state last succeeded
keys drv q
wait_for drv "[exit 0]" 10000
keys wat q
wait_for wat "[exit" 5000
expect_rc 0 C audit "$rb" --verify
finish
