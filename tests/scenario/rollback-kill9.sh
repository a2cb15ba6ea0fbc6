#!/bin/bash
# rollback-kill9.sh - kill -9 the driver at random moments during rollbacks,
# at least 30 times, and prove that no step is ever undone twice, that every
# rollback resumes and completes in reverse order of completion, and that
# the run then goes forward again.
. "$(dirname "$0")/../lib.sh"

KILLS=${KILLS:-30}
rb=$T/k.yaml
state=$T/k.db
export LEDGER=$T/ledger CYCLE=0
: >"$LEDGER"
{
	echo "cutover: 1"
	echo "name: rbkill"
	echo "phases:"
	echo "  - id: p"
	echo "    steps:"
	for i in $(seq -w 1 30); do
		echo "      - id: s$i"
		echo "        type: local"
		echo "        run: echo \"\$CYCLE do-s$i\" >> \$LEDGER"
		echo "        rollback: sleep 0.0$((10#$i % 5 + 1)); echo \"\$CYCLE undo-s$i\" >> \$LEDGER; sleep 0.01"
	done
} >"$rb"
C() { "$CUTOVER" --state "$state" "$@"; }
# Background drivers are started with exec, so that $! is the driver itself.
Cbg() { exec "$CUTOVER" --state "$state" "$@"; }

# A person settles rollbacks that were interrupted: the ledger says whether
# the action finished (confirm) or not (retry runs it again).
settle() {
	local id
	for id in $(C status "$rb" --json | jq -r '.steps[] | select(.state == "awaiting") | .id'); do
		if grep -qx "$CYCLE undo-$id" "$LEDGER"; then
			C confirm "$rb" "$id" --note "ledger shows it undone" >/dev/null ||
				fail "confirm $id"
		else
			C retry "$rb" "$id" >/dev/null 2>&1 || fail "retry $id"
		fi
	done
}

kills=0
cycles=0
while [ $kills -lt "$KILLS" ] && [ $failed = 0 ] && [ $cycles -lt 20 ]; do
	CYCLE=$((CYCLE + 1))
	C run "$rb" >/dev/null 2>&1 || fail "forward run of cycle $CYCLE"
	while :; do
		(Cbg rollback "$rb" >"$T/rb.out" 2>&1) &
		pid=$!
		sleep "0.$(printf '%03d' $((RANDOM % 500)))"
		if kill -9 $pid 2>/dev/null; then
			wait $pid 2>/dev/null
			kills=$((kills + 1))
			if pgrep -f "cutover --state $state" >/dev/null; then
				fail "a driver survived kill $kills"
			else ok; fi
		else
			wait $pid
			rc=$?
			[ $rc = 0 ] && break
			[ $rc = 5 ] || { fail "rollback exit $rc"; cat "$T/rb.out"; break; }
		fi
		settle
		dups=$(sort "$LEDGER" | uniq -d)
		if [ -n "$dups" ]; then fail "undone twice: $dups"; else ok; fi
		ic=$(sqlite3 "$state" 'PRAGMA integrity_check')
		if [ "$ic" = ok ]; then ok; else fail "integrity_check: $ic"; fi
	done
	cycles=$((cycles + 1))
	check "cycle $CYCLE: all 30 undone" \
		test "$(grep -c "^$CYCLE undo-" "$LEDGER")" = 30
	check "cycle $CYCLE: undone in reverse order of completion" test \
		"$(grep "^$CYCLE undo-" "$LEDGER" | sed 's/.*undo-//' | tr '\n' ' ')" = \
		"$(grep "^$CYCLE do-" "$LEDGER" | sed 's/.*do-//' | tac | tr '\n' ' ')"
	check "cycle $CYCLE: every step rolled back" test \
		"$(C status "$rb" --json | jq '[.steps[] | select(.state == "rolled_back")] | length')" = 30
done
check "killed $kills times (want >= $KILLS)" test $kills -ge "$KILLS"
check "no line of the ledger twice" test -z "$(sort "$LEDGER" | uniq -d)"
expect_rc 0 C audit "$rb" --verify
echo "kills: $kills over $cycles rollbacks"
finish
