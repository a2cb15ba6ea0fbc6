#!/bin/bash
# lanes-kill9.sh - kill -9 the driver of a for_each phase with parallel
# lanes at random moments, until 50 kills landed while an instance's
# command ran, and prove after every resume that:
#  - no instance ran twice, and no rollback action ran twice (each appends
#    a line to a ledger exactly once),
#  - nothing recorded was lost (every instance recorded succeeded is in
#    the ledger, and the set only grows while nothing is undone),
#  - an exclusion made from another terminal while a driver runs holds
#    across kills (nothing new starts for the entity),
#  - a no-go's rollback of one entity resumes after a kill and undoes each
#    of its instances once, while the other lanes go on;
# and that every run ends complete with every instance run exactly once.
. "$(dirname "$0")/../lib.sh"

command -v jq >/dev/null || { echo "lanes-kill9.sh: jq is required" >&2; exit 1; }

KILLS=${KILLS:-50}
state=$T/k.db
rb=$T/k.yaml
export LEDGER=$T/ledger
: >"$LEDGER"
{
	echo "cutover: 1"
	echo "name: lanes-kill9"
	echo "settings: {parallel: 4}"
	echo "entities:"
	for i in 1 2 3 4 5 6 7 8; do echo "  - {id: e$i, wave: w$((i % 2))}"; done
	echo "phases:"
	echo "  - id: prep"
	echo "    steps:"
	echo "      - {id: begin, type: local, run: 'echo \"\$CUTOVER_RUN begin\" >> \$LEDGER', verify: 'grep -qx \"\$CUTOVER_RUN begin\" \$LEDGER'}"
	echo "  - id: lanes"
	echo "    for_each: entity"
	echo "    parallel: 4"
	echo "    steps:"
	for s in a b c; do
		echo "      - id: $s"
		echo "        type: local"
		echo "        run: sleep 0.\$((RANDOM % 3 + 1)); echo \"\$CUTOVER_RUN \$CUTOVER_STEP\" >> \$LEDGER; sleep 0.02"
		echo "        verify: grep -qx \"\$CUTOVER_RUN \$CUTOVER_STEP\" \$LEDGER"
		echo "        rollback: sleep 0.1; echo \"\$CUTOVER_RUN UNDO \$CUTOVER_STEP\" >> \$LEDGER; sleep 0.05"
	done
	echo "      - {id: cp, type: checkpoint, on_no_go: rollback}"
	echo "  - id: after"
	echo "    steps:"
	echo "      - {id: end, type: local, run: 'echo \"\$CUTOVER_RUN end\" >> \$LEDGER', verify: 'grep -qx \"\$CUTOVER_RUN end\" \$LEDGER'}"
} >"$rb"
expect_rc 0 "$CUTOVER" lint "$rb"

C() { "$CUTOVER" --state "$state" "$@"; }
Cbg() { exec "$CUTOVER" --state "$state" "$@"; }
js() { C status "$rb" --json 2>/dev/null; }

# Instances recorded succeeded in the current run, "RUN ID" a line.
succeeded() {
	js | jq -r '.run as $r | .steps[] | select(.state == "succeeded" and
	    .type != "checkpoint") | "\($r) \(.id)"' | sort
}

# What waits for a person: checkpoints are decided (e8 says no-go, so its
# lane is rolled back); a rollback action a kill interrupted is confirmed
# when the ledger shows it ran, else run again.
resolve() {
	local r id
	r=$(js | jq -r .run)
	for id in $(js | jq -r '.steps[] | select(.state == "awaiting") | .id'); do
		case $id in
		cp@e8) C decide "$rb" "$id" no-go --reason "not ready" >/dev/null ||
			fail "no-go $id" ;;
		cp@*) C decide "$rb" "$id" go --reason ok >/dev/null ||
			fail "go $id" ;;
		*) if grep -qx "$r UNDO $id" "$LEDGER"; then
			C confirm "$rb" "$id" --note "ledger shows it undone" \
			    >/dev/null || fail "confirm $id"
		else
			C retry "$rb" "$id" >/dev/null 2>&1 || fail "retry $id"
		fi ;;
		esac
	done
}

kills=0
during_child=0
runs=1
excluded=
prev=$T/prev
: >"$prev"
new_run=
while [ $during_child -lt "$KILLS" ] && [ $kills -lt $((4 * KILLS)) ]; do
	(Cbg run "$rb" $new_run >"$T/run.out" 2>&1) &
	pid=$!
	fresh=$new_run
	new_run=
	# Once, while the driver runs: exclude e7 from another terminal;
	# what may still run of it is what runs or succeeded by then. (Not
	# while a new run may not be there yet: the last one is complete.)
	if [ -z "$excluded" ] && [ -z "$fresh" ] &&
	    [ $kills -ge $((KILLS < 6 ? 1 : 5)) ]; then
		sleep 0.3
		C exclude "$rb" e7 --reason "closed" >/dev/null 2>"$T/excl.err" ||
			fail "exclude e7 beside a driver: $(cat "$T/excl.err")"
		excluded=$(js | jq -r '.run')
		js | jq -r '.steps[] | select(.entity == "e7" and (.state ==
		    "running" or .state == "succeeded")) | .id' | sort >"$T/e7-allowed"
	fi
	sleep "0.$(printf %03d $((RANDOM % 700)))"
	if kill -9 $pid 2>/dev/null; then
		wait $pid 2>/dev/null
		kills=$((kills + 1))
		if pgrep -f "cutover --state $state" >/dev/null; then
			fail "a driver survived kill $kills"
		else ok; fi
		pgrep -f 'sleep 0.[1-3]$' >/dev/null && during_child=$((during_child + 1))
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
	# Only e8's rolled-back instances may leave the succeeded set.
	lost=$(comm -23 "$prev" "$T/now" | grep -v '@e8$')
	if [ -n "$lost" ]; then fail "succeeded instances lost after kill $kills: $lost"; else ok; fi
	cp "$T/now" "$prev"
	ic=$(sqlite3 "$state" 'PRAGMA integrity_check')
	if [ "$ic" = ok ]; then ok; else fail "integrity_check: $ic"; fi
done
# Let the last run finish and check it whole.
for i in 1 2 3 4 5 6 7 8; do
	C run "$rb" >/dev/null 2>&1 && break
	resolve
done
check "last run completes" test "$(js | jq -r .state)" = complete
r=$(js | jq -r .run)
for e in e1 e2 e3 e4 e5 e6; do
	for s in a b c; do
		check "$s@$e of run $r ran exactly once" \
		    test "$(grep -cx "$r $s@$e" "$LEDGER")" = 1
	done
done
for s in a b c; do
	check "$s@e8 of run $r ran once and was undone once" \
	    test "$(grep -cx "$r $s@e8" "$LEDGER")$(grep -cx "$r UNDO $s@e8" "$LEDGER")" = 11
done
check "e8 excluded by its no-go" test "$(js | jq -r '.entities[] | select(.id == "e8") | .state')" = excluded
check "the step after the lanes ran once" test "$(grep -cx "$r end" "$LEDGER")" = 1
check "no line of the ledger twice" test -z "$(sort "$LEDGER" | uniq -d)"
check "only e8 was ever undone" test -z "$(grep UNDO "$LEDGER" | grep -v '@e8$')"
if [ -n "$excluded" ]; then
	ran=$(grep "^$excluded [a-c]@e7\$" "$LEDGER" | cut -d' ' -f2 | sort)
	extra=$(comm -23 <(echo "$ran" | grep .) "$T/e7-allowed")
	check "nothing new started for e7 once excluded ($extra)" test -z "$extra"
	r1=$(C status "$rb" --json --run "$excluded" | jq -r '.entities[] | select(.id == "e7") | .state')
	check "e7 stays excluded in run $excluded" test "$r1" = excluded
else
	fail "the exclusion never happened"
fi
check "killed $kills times, $during_child while an instance ran (want >= $KILLS)" \
	test $during_child -ge "$KILLS"
expect_rc 0 C audit "$rb" --verify
echo "kills: $kills, during a child: $during_child, runs: $runs"
# --- rollback --entity killed half-way: `rollback` resumes that entity's
# rollback (and only it), each action run once; other lanes go on.
rb2=$T/r2.yaml
cat >"$rb2" <<'YAML'
cutover: 1
name: lanes-kill9-rb
settings: {parallel: 2}
entities: [{id: e1}, {id: e2}]
phases:
  - id: p
    for_each: entity
    steps:
      - {id: a, type: local, run: 'echo "do $CUTOVER_STEP" >> $LEDGER2', rollback: 'sleep 0.4; echo "undo $CUTOVER_STEP" >> $LEDGER2'}
      - {id: b, type: local, run: 'echo "do $CUTOVER_STEP" >> $LEDGER2', rollback: 'sleep 0.4; echo "undo $CUTOVER_STEP" >> $LEDGER2'}
      - {id: c, type: local, run: 'echo "do $CUTOVER_STEP" >> $LEDGER2', rollback: 'sleep 0.4; echo "undo $CUTOVER_STEP" >> $LEDGER2'}
      - {id: cp, type: checkpoint}
YAML
export LEDGER2=$T/ledger2
: >"$LEDGER2"
R() { "$CUTOVER" --state "$T/r2.db" "$@"; }
expect_rc 5 R run "$rb2"
(exec "$CUTOVER" --state "$T/r2.db" rollback "$rb2" --entity e1 --to start >/dev/null 2>&1) &
pid=$!
i=0
until grep -q "^undo c@e1" "$LEDGER2" || [ $i -ge 100 ]; do sleep 0.05; i=$((i + 1)); done
sleep 0.1
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
check "the rollback was killed half-way" test "$(grep -c '^undo' "$LEDGER2")" -lt 3
# The killed driver's undo goes on in its own process group and may still
# write to the ledger; a person settles what the kill interrupted once it
# has ended, as the ledger then shows it.
i=0
while pgrep -f 'echo "undo \$CUTOVER_STEP"' >/dev/null && [ $i -lt 200 ]; do
	sleep 0.05
	i=$((i + 1))
done
for id in $(R status "$rb2" --json | jq -r '.steps[] | select(.state == "awaiting" and .type != "checkpoint") | .id'); do
	if grep -qx "undo $id" "$LEDGER2"; then
		R confirm "$rb2" "$id" >/dev/null || fail "confirm $id"
	fi
done
expect_rc 4 R rollback "$rb2" --entity e2
contains "$T/err" "a rollback of entity e1 is under way"
R rollback "$rb2" >"$T/out" 2>&1
rc=$?
[ $rc = 5 ] && for id in $(R status "$rb2" --json | jq -r '.steps[] | select(.state == "awaiting" and .type != "checkpoint") | .id'); do
	R retry "$rb2" "$id" >/dev/null 2>&1 || fail "retry the rollback of $id"
done
[ $rc = 5 ] && R rollback "$rb2" >"$T/out" 2>&1
for s in a b c; do
	check "$s@e1 undone exactly once" test "$(grep -cx "undo $s@e1" "$LEDGER2")" = 1
done
check "e2 was not undone" test "$(grep -c '@e2$' "$LEDGER2")" = 3
R status "$rb2" --json >"$T/json"
check "e1's instances rolled back, e2's done" jq -e \
    '([.steps[] | select(.entity == "e1" and .type == "local") | .state] | unique == ["rolled_back"]) and ([.steps[] | select(.entity == "e2" and .type == "local") | .state] | unique == ["succeeded"])' "$T/json"
expect_rc 0 R audit "$rb2" --verify
finish
