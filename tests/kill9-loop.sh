# kill9-loop.sh - the kill -9 loop of kill9.sh, for any state store
# (sourced, after lib.sh). The caller sets $state (the --state value),
# $K9_NAME (the runbook's name) and defines store_ok, which checks the
# store's own integrity after every kill (ok or fail). It kills the driver
# at random moments, at least $KILLS times, over runs of 32 steps, often
# while a step's child process runs, and proves after every resume that no
# step ran twice (each appends "RUN STEP" to a ledger exactly once) and
# that nothing recorded was lost (every step recorded succeeded is in the
# ledger, and the set of succeeded steps only grows).

KILLS=${KILLS:-50}
MID=${MID:-10} # of them at least this many while a step's command runs
rb=$T/k.yaml
export LEDGER=$T/ledger
: >"$LEDGER"
{
	echo "cutover: 1"
	echo "name: $K9_NAME"
	echo "settings: {parallel: 3}"
	echo "phases:"
	for p in 1 2 3 4; do
		echo "  - id: phase$p"
		echo "    steps:"
		for s in 1 2 3 4 5 6 7 8; do
			id=s$p$s
			echo "      - id: $id"
			echo "        type: local"
			echo "        run: sleep 0.$((s % 4 + 1)); echo \"\$CUTOVER_RUN $id\" >> \$LEDGER; sleep 0.02"
			# Every fourth step has no verify: a person must decide.
			[ $((s % 4)) = 0 ] ||
				echo "        verify: grep -qx \"\$CUTOVER_RUN $id\" \$LEDGER"
			[ $s = 1 ] || [ $((s % 3)) != 0 ] || echo "        needs: [s${p}1]"
		done
	done
} >"$rb"
expect_rc 0 "$CUTOVER" lint "$rb"

C() { "$CUTOVER" --state "$state" "$@"; }
# Background drivers are started with exec, so that $! is the driver itself.
Cbg() { exec "$CUTOVER" --state "$state" "$@"; }

# Steps recorded succeeded in the current run, one per line.
succeeded() {
	C status "$rb" --json 2>/dev/null | jq -r '.run as $r | .steps[] |
	    select(.state == "succeeded") | "\($r) \(.id)"' | sort
}

# Steps interrupted without verify wait for a person, who confirms what the
# ledger shows done and retries the rest.
resolve() {
	local r id
	r=$(C status "$rb" --json 2>/dev/null | jq -r .run)
	for id in $(C status "$rb" --json 2>/dev/null | jq -r '.steps[] | select(.state == "awaiting") | .id'); do
		if grep -qx "$r $id" "$LEDGER"; then
			C confirm "$rb" "$id" --note "ledger shows it done" >/dev/null ||
				fail "confirm $id"
		else
			C retry "$rb" "$id" >/dev/null 2>&1 || fail "retry $id"
		fi
	done
}

kills=0
during_child=0
runs=1
prev=$T/prev
: >"$prev"
new_run=
# At least KILLS kills, and on a loaded machine more, until MID of them
# landed while a child ran (at most 3 times KILLS).
while { [ $kills -lt "$KILLS" ] || [ $during_child -lt "$MID" ]; } &&
    [ $kills -lt $((3 * KILLS)) ]; do
	(Cbg run "$rb" $new_run >"$T/run.out" 2>&1) &
	pid=$!
	new_run=
	sleep "0.$(printf %03d $((RANDOM % 700)))"
	if kill -9 $pid 2>/dev/null; then
		wait $pid 2>/dev/null
		kills=$((kills + 1))
		if pgrep -f "cutover --state $state" >/dev/null; then
			fail "a driver survived kill $kills"
		else ok; fi
		pgrep -f 'sleep 0.[1-4]' >/dev/null && during_child=$((during_child + 1))
	else
		wait $pid
		rc=$?
		if [ $rc = 0 ]; then
			runs=$((runs + 1))
			new_run=--new-run
			: >"$prev"
			continue
		fi
	fi
	resolve
	dups=$(sort "$LEDGER" | uniq -d)
	if [ -n "$dups" ]; then fail "ran twice after kill $kills: $dups"; else ok; fi
	succeeded >"$T/now"
	missing=$(comm -23 "$T/now" <(sort "$LEDGER"))
	if [ -n "$missing" ]; then fail "recorded succeeded but never ran: $missing"; else ok; fi
	lost=$(comm -23 "$prev" "$T/now")
	if [ -n "$lost" ]; then fail "succeeded steps lost after kill $kills: $lost"; else ok; fi
	cp "$T/now" "$prev"
	store_ok
done
# Let the last run finish and check it whole.
for i in 1 2 3 4 5 6; do
	C run "$rb" >/dev/null 2>&1 && break
	resolve
done
check "last run completes" test "$(C status "$rb" --json | jq -r .state)" = complete
r=$(C status "$rb" --json | jq -r .run)
check "every step of run $r ran exactly once" test "$(grep -c "^$r " "$LEDGER")" = 32
check "no line of the ledger twice" test -z "$(sort "$LEDGER" | uniq -d)"
check "killed $kills times, $during_child while a child ran (want >= $MID)" \
	test $during_child -ge "$MID"
expect_rc 0 C audit "$rb" --verify
echo "kills: $kills, during a child: $during_child, runs: $runs"
