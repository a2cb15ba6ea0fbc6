#!/bin/bash
# notify-kill9.sh - drivers killed (kill -9) at random moments while steps
# run, people confirm, and deliveries are on their way to a receiver that
# takes its time: afterwards every event in the outbox reached the
# receiver (none lost), every event is one transition (each manual step
# announced awaiting exactly once, however often its driver died), and
# duplicates, if any, carry the same id.
. "$(dirname "$0")/../lib.sh"


RECV=$SRCDIR/tests/webhook-receiver.py
python3 "$RECV" "$T/port" "$T/recv.log" --delay 0.3 &
rpid=$!
trap 'kill $rpid 2>/dev/null; cleanup' EXIT
i=0
while [ ! -s "$T/port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
export HOOK="http://127.0.0.1:$(cat "$T/port")/hook/k9"

rb=$T/k.yaml
{
	echo "cutover: 1"
	echo "name: k9"
	echo "notify:"
	echo "  - {webhook: \"\${env:HOOK}\"}"
	echo "phases:"
	echo "  - id: p"
	echo "    steps:"
	for s in 1 2 3 4 5 6 7 8 9 10; do
		echo "      - {id: m$s, type: manual}"
		echo "      - {id: a$s, type: local, run: sleep 0.3, verify: \"true\"}"
		echo "      - {id: b$s, type: local, run: sleep 0.2, verify: \"true\"}"
	done
} >"$rb"
expect_rc 0 "$CUTOVER" lint "$rb"
C() { "$CUTOVER" "$@"; }

kills=0
rounds=0
while [ "$(C status "$rb" --json 2>/dev/null | jq -r .state)" != complete ] &&
    [ $rounds -lt 200 ]; do
	rounds=$((rounds + 1))
	for id in $(C status "$rb" --json 2>/dev/null | jq -r '.steps[] |
	    select(.state == "awaiting" or .state == "interrupted") | .id'); do
		case $id in
		m*) C confirm "$rb" "$id" >/dev/null 2>&1 ;;
		*) C retry "$rb" "$id" >/dev/null 2>&1 ;;
		esac
	done
	(exec "$CUTOVER" run "$rb" >/dev/null 2>&1) &
	drv=$!
	sleep "0.$((RANDOM % 9 + 1))"
	if kill -9 "$drv" 2>/dev/null; then
		kills=$((kills + 1))
	fi
	wait "$drv" 2>/dev/null
done
check "the run completed" test "$(C status "$rb" --json | jq -r .state)" = complete
echo "notify-kill9: $kills kills in $rounds rounds"
check "drivers were killed ($kills)" test "$kills" -ge 3
# The last driver delivers what is left.
expect_rc 0 C run "$rb"
expect_rc 0 C status "$rb" --json
check "nothing pending" test "$(jq '.notifications.pending' "$T/out")" = 0
db=$XDG_STATE_HOME/cutover/k9.db
sqlite3 "$db" 'SELECT DISTINCT event FROM outbox' | sort >"$T/want"
jq -r .body.id "$T/recv.log" | sort -u >"$T/got"
check "every event in the outbox arrived, and no other" cmp "$T/want" "$T/got"
check "each manual step announced awaiting once" test \
    "$(sqlite3 "$db" "SELECT count(*) FROM outbox WHERE type='awaiting' AND step LIKE 'm%'")" = 10
check "one complete" test "$(sqlite3 "$db" "SELECT count(*) FROM outbox WHERE type='complete'")" = 1
check "a duplicate has its event's id and body" test "$(jq -c .body "$T/recv.log" | sort -u | jq -r .id | sort | uniq -d)" = ""
echo "notify-kill9: $(wc -l <"$T/recv.log") deliveries of $(wc -l <"$T/want") events"
finish
