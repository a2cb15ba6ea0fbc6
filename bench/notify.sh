#!/bin/sh
# notify.sh - a headless run of 1,000 local `true` steps with a webhook
# sink on every event (json, to a loopback receiver), against the same run
# without notify:. Target: at most 1.2x. Then how fast a driver empties an
# outbox of 100 events (the decisions of 100 operators at a checkpoint).
. "$(dirname "$0")/lib.sh"

N=${N:-1000}
python3 "$top/tests/webhook-receiver.py" "$B/port" "$B/recv.log" &
rpid=$!
trap 'kill $rpid 2>/dev/null; rm -rf "$B"' EXIT
i=0
while [ ! -s "$B/port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
export HOOK="http://127.0.0.1:$(cat "$B/port")/hook/bench-token"

{
	echo "cutover: 1"
	echo "name: many"
	one_phase "$N" "type: local, run: 'true'"
} >"$B/plain.yaml"
{
	echo "cutover: 1"
	echo "name: many"
	echo "notify:"
	echo "  - {events: [awaiting, failed, checkpoint, excluded, rollback, complete], webhook: \"\${env:HOOK}\"}"
	one_phase "$N" "type: local, run: 'true'"
} >"$B/notify.yaml"

rm -f "$B/s.db"*
"$CUTOVER" --state "$B/s.db" run "$B/notify.yaml" >/dev/null ||
	{ echo "the run failed"; exit 1; }
test "$(sqlite3 "$B/s.db" "select count(*) from outbox where sent_at is not null")" = 1 ||
	{ echo "the complete event was not delivered"; exit 1; }
# timed NAME: one run, its wall and CPU (user + system) time appended to
# $B/NAME.wall and $B/NAME.cpu in tenths of a ms.
timed() {
	/usr/bin/time -f "%e %U %S" -o "$B/t" sh -c \
	    'rm -f "$0/s.db" "$0/s.db-wal" "$0/s.db-shm"; exec "$1" --state "$0/s.db" run "$0/$2.yaml" >/dev/null 2>&1' \
	    "$B" "$CUTOVER" "$1" || true
	awk '{ printf "%d\n", $1 * 10000 }' "$B/t" >>"$B/$1.wall"
	awk '{ printf "%d\n", ($2 + $3) * 10000 }' "$B/t" >>"$B/$1.cpu"
}
# Interleaved, so that a busy machine weighs on both alike.
i=0
while [ $i -lt "${RUNS:-7}" ]; do
	timed plain
	timed notify
	i=$((i + 1))
done
# On a shared machine the best wall time is the least disturbed one.
pb=$(pick best "$B/plain.wall")
nb=$(pick best "$B/notify.wall")
pw=$(pick median "$B/plain.wall")
nw=$(pick median "$B/notify.wall")
pc=$(pick median "$B/plain.cpu")
nc=$(pick median "$B/notify.cpu")
echo "cutover run of $N local steps, no notify: best ${pb} ms, median ${pw} ms wall, ${pc} ms CPU"
echo "the same, a webhook sink on every event: best ${nb} ms, median ${nw} ms wall, ${nc} ms CPU"
echo "ratio notify/plain: $(ratio "$nb" "$pb") best wall, $(ratio "$nw" "$pw") median wall, $(ratio "$nc" "$pc") CPU (target <= 1.2)"

# An outbox of 100 events, emptied by the next driver.
{
	echo "cutover: 1"
	echo "name: gate"
	echo "notify:"
	echo "  - {webhook: \"\${env:HOOK}\"}"
	echo "phases:"
	echo "  - id: p"
	echo "    steps:"
	echo "      - {id: gate, type: checkpoint, approvals: 100}"
} >"$B/gate.yaml"
G() { "$CUTOVER" --state "$B/g.db" "$@"; }
G run "$B/gate.yaml" >/dev/null 2>&1 || true
i=0
while [ $i -lt 100 ]; do
	G decide "$B/gate.yaml" gate go --reason ok --operator "op$i" >/dev/null 2>&1
	i=$((i + 1))
done
left=$(sqlite3 "$B/g.db" "select count(*) from outbox where sent_at is null")
drain=$(ms G run "$B/gate.yaml")
test "$(sqlite3 "$B/g.db" "select count(*) from outbox where sent_at is null")" = 0 ||
	{ echo "the outbox was not emptied"; exit 1; }
echo "a driver delivering an outbox of $left events (and completing the run): ${drain} ms"
