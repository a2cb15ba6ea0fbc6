#!/bin/sh
# lanes.sh - entities and waves (SPEC section 8) through the real binary:
# one instance per entity, parallel lanes bounded by the phase, a failing
# lane that halts only its entity, a readiness check that excludes its
# entity, a manual exclusion, per-entity checkpoints with a no-go rolled
# back while the others go on, fan-in after the phase, STEP@ENTITY on the
# command line, runs that cover a wave or some entities, rollback --entity,
# status --json and the exit statuses.
. "$(dirname "$0")/../lib.sh"

command -v jq >/dev/null || { echo "lanes.sh: jq is required" >&2; exit 1; }

rb=$T/lanes.yaml
export LEDGER=$T/ledger LANES=$T/lanes.d CONC=$T/conc
: >"$LEDGER"
: >"$CONC"
mkdir -p "$LANES"
cat >"$rb" <<'YAML'
cutover: 1
name: lanes
settings: {parallel: 4}
entities:
  - {id: s1, wave: pilot, title: Lyon, vars: {city: Lyon, ready: "0", work: "0"}}
  - {id: s2, wave: pilot, vars: {city: Lille, ready: "1", work: "0"}}
  - {id: s3, wave: w2, vars: {city: Metz, ready: "0", work: "0"}}
  - {id: s4, wave: w2, vars: {city: Nancy, ready: "0", work: "3"}}
  - {id: s5, wave: w2, vars: {city: Nice, ready: "0", work: "0"}}
waves: [pilot, w2]
phases:
  - id: prep
    steps:
      - {id: begin, type: local, run: echo begin >> $LEDGER}
  - id: stores
    for_each: entity
    parallel: 3
    steps:
      - {id: ready, type: local, on_failure: exclude-entity,
         run: "echo ready ${entity.id} >> $LEDGER; exit ${entity.ready}", rollback: "true"}
      - id: work
        type: local
        run: |
          mkdir "$LANES/$CUTOVER_ENTITY"
          ls "$LANES" | wc -l >> "$CONC"
          echo "work $CUTOVER_ENTITY $CUTOVER_STEP ${entity.city}" >> "$LEDGER"
          sleep 0.4
          rmdir "$LANES/$CUTOVER_ENTITY"
          exit ${entity.work}
        rollback: echo undo ${entity.id} >> $LEDGER
      - {id: go, type: checkpoint, on_no_go: rollback}
  - id: after
    steps:
      - {id: done, type: local, run: echo done >> $LEDGER}
YAML
C() { "$CUTOVER" --state "$T/s.db" "$@"; }
J() { C status "$rb" --json >"$T/json" && jq -e "$1" "$T/json" >/dev/null; }
count() { grep -c "^$1\$" "$LEDGER"; }

expect_rc 0 C lint "$rb"
# lint --list-steps (shell completion): a for_each step as its instances.
expect_rc 0 C lint --list-steps "$rb"
{
	echo begin
	for st in ready work go; do
		for en in s1 s2 s3 s4 s5; do echo "$st@$en"; done
	done
	echo done
} >"$T/want"
check "lint --list-steps lists STEP@ENTITY" cmp -s "$T/out" "$T/want"

# --- run 1, every entity, 3 at once: s2 is not ready (excluded, its place
# goes to s4), s4's work fails (its lane halts, its place goes to s5), the
# others reach their checkpoints and wait there, keeping their places; the
# run exits 1.
expect_rc 1 C run "$rb"
contains "$T/err" "step work@s4 failed"
check "each ready ran once" test "$(grep -c '^ready ' "$LEDGER")" = 5
check "s2 did no work" test "$(grep -c '^work s2' "$LEDGER")" = 0
check "work ran with the entity's vars and environment" \
    test "$(count 'work s3 work@s3 Metz')" = 1
check "s4's work ran and failed once" test "$(count 'work s4 work@s4 Nancy')" = 1
check "lanes ran at once" test "$(sort -n "$CONC" | tail -1)" -ge 2
check "no more than the phase's parallel" test "$(sort -n "$CONC" | tail -1)" -le 3
check "nothing after the phase ran" test "$(count done)" = 0
expect_rc 0 C status "$rb" --json
cp "$T/out" "$T/json"
check "instances in entity order, with their entity" jq -e \
    '[.steps[] | select(.id | startswith("work@")) | .entity] == ["s1","s2","s3","s4","s5"]' "$T/json"
check "a plain step has entity null" jq -e \
    '.steps[] | select(.id == "begin") | .entity == null' "$T/json"
check "instances follow their step" jq -e \
    '[.steps[].id][0:7] == ["begin","ready@s1","ready@s2","ready@s3","ready@s4","ready@s5","work@s1"]' "$T/json"
check "selection: all" jq -e '.selection == "all entities"' "$T/json"
check "s2 excluded by its readiness check" jq -e \
    '.entities[] | select(.id == "s2") | .state == "excluded" and (.excluded_reason | test("ready@s2 failed"))' "$T/json"
check "s2's later instances are excluded" jq -e \
    '.steps[] | select(.id == "work@s2") | .state == "excluded"' "$T/json"
check "s4's lane halted at its failure" jq -e \
    '(.steps[] | select(.id == "work@s4") | .state == "failed") and (.steps[] | select(.id == "go@s4") | .state == "pending")' "$T/json"
check "entities carry counts" jq -e \
    '.entities[] | select(.id == "s1") | .counts.succeeded == 2 and .counts.awaiting == 1 and .state == "active" and .wave == "pilot"' "$T/json"
check "a checkpoint shows its evidence" jq -e \
    '.steps[] | select(.id == "go@s1") | .evidence == ["work@s1 succeeded"]' "$T/json"

# --- names: a bare for_each step id names no instance.
expect_rc 2 C retry "$rb" work
contains "$T/err" "cutover: work runs once per entity: name an instance, e.g. work@s1"
expect_rc 2 C confirm "$rb" work@s9
contains "$T/err" "no entity s9"
expect_rc 2 C skip "$rb" begin@s1 --reason x
contains "$T/err" "begin is not in a for_each phase"
expect_rc 0 C log "$rb" work@s3
contains "$T/out" "=== work@s3 attempt 1"
expect_rc 2 C log "$rb" work
contains "$T/err" "cutover: work runs once per entity: name an instance, e.g. work@s1"
expect_rc 2 C decide "$rb" go go --reason x

# --- a manual exclusion, from another terminal: s4 drops out; its failure
# no longer counts, and the run waits for people at the checkpoints.
expect_rc 2 C exclude "$rb" s4
expect_rc 2 C exclude "$rb" nope --reason x
expect_rc 0 C exclude "$rb" s4 --reason "store closed for works"
expect_rc 4 C exclude "$rb" s4 --reason again
contains "$T/err" "excluded already"
expect_rc 4 C retry "$rb" work@s4
contains "$T/err" "entity s4 is excluded from run 1: store closed for works"
expect_rc 5 C run "$rb"
contains "$T/err" "decide $rb go@s1 go"
J '.steps[] | select(.id == "go@s4") | .state == "excluded"' && ok || fail "go@s4 excluded"
C audit "$rb" >"$T/audit"
contains "$T/audit" "exclude: entity s4: store closed for works"

# --- per-entity checkpoints: s3 says no-go (its work is rolled back, in
# reverse order), the others go; the rest of the run goes on.
expect_rc 0 C decide "$rb" go@s1 go --reason fine
expect_rc 0 C decide "$rb" go@s3 no-go --reason "stock count off"
expect_rc 0 C decide "$rb" go@s5 go --reason fine
expect_rc 0 C run "$rb"
check "s3's work was undone once" test "$(count 'undo s3')" = 1
check "no other entity was undone" test "$(grep -c '^undo' "$LEDGER")" = 1
check "after the phase ran once" test "$(count done)" = 1
J '.state == "complete"' && ok || fail "run 1 complete"
J '.entities[] | select(.id == "s3") | .state == "excluded" and (.excluded_reason | test("no-go at go@s3"))' &&
    ok || fail "s3 excluded by its no-go"
J '.steps[] | select(.id == "work@s3") | .state == "rolled_back"' && ok || fail "work@s3 rolled back"
J '.steps[] | select(.id == "ready@s3") | .state == "rolled_back"' && ok || fail "ready@s3 rolled back"
J '[.entities[] | select(.state == "done") | .id] == ["s1","s5"]' && ok || fail "s1 and s5 done"
expect_rc 0 C run "$rb"
check "a complete run starts nothing again" test "$(count done)" = 1

# --- selection: a wave, some entities; fixed when the run starts.
expect_rc 2 C run "$rb" --wave nope --new-run
contains "$T/err" "no wave nope in runbook lanes"
J '.run == 1' && ok || fail "a bad selection abandoned nothing"
expect_rc 2 C run "$rb" --entity s1,s9 --new-run
contains "$T/err" "no entity s9"
expect_rc 5 C run "$rb" --new-run --wave pilot
J '.run == 2 and ([.entities[].id] == ["s1","s2"]) and .selection == "wave pilot"' &&
    ok || fail "run 2 covers the pilot wave"
J '[.steps[] | select(.entity != null) | .entity] | unique == ["s1","s2"]' &&
    ok || fail "run 2 has instances of the pilot only"
expect_rc 2 C run "$rb" --wave w2
contains "$T/err" "run 2 covers wave pilot; to run another selection of entities start a new run with --new-run"
expect_rc 5 C run "$rb" --wave pilot
expect_rc 0 C runs "$rb"
contains "$T/out" "wave pilot"

# --- rollback --entity: s1's work in run 2 is undone; the run goes on.
expect_rc 0 C decide "$rb" go@s1 go --reason ok
expect_rc 2 C rollback "$rb" --entity s3
contains "$T/err" "entity s3 is not in run 2"
before=$(count 'undo s1')
expect_rc 0 C rollback "$rb" --entity s1 --to start
contains "$T/out" "rollback to the start of the entity's work: 3 step(s)"
check "s1's work undone" test "$(count 'undo s1')" = $((before + 1))
J '.steps[] | select(.id == "go@s1") | .state == "pending"' && ok || fail "go@s1 back to pending"
J '.steps[] | select(.id == "work@s1") | .state == "rolled_back"' && ok || fail "work@s1 rolled back"
expect_rc 5 C run "$rb"
J '.steps[] | select(.id == "work@s1") | .state == "succeeded"' && ok || fail "work@s1 ran forward again"

# --- --until STEP@ENTITY, on a run of two entities.
expect_rc 0 C run "$rb" --new-run --entity s1,s5 --until work@s5
J '.run == 3 and ([.entities[].id] == ["s1","s5"])' && ok || fail "run 3 covers s1, s5"
J '(.steps[] | select(.id == "work@s5") | .state == "succeeded") and (.steps[] | select(.id == "work@s1") | .state == "pending")' &&
    ok || fail "--until ran work@s5 and what it needs only"
expect_rc 2 C run "$rb" --until work
contains "$T/err" "--until: work runs once per entity"
# rollback without --entity undoes everything, instances included.
before=$(count 'undo s5')
expect_rc 5 C rollback "$rb" --to start
contains "$T/out" "1. work@s5"
check "work@s5 undone by the whole rollback" test "$(count 'undo s5')" = $((before + 1))
expect_rc 0 C confirm "$rb" begin
expect_rc 0 C rollback "$rb"
J '[.steps[] | select(.id == "work@s5" or .id == "ready@s5" or .id == "begin") | .state] | unique == ["rolled_back"]' &&
    ok || fail "the whole rollback undid the instances"
expect_rc 0 C runs "$rb"
contains "$T/out" "s1, s5"

expect_rc 0 C audit "$rb" --verify

# --- checkpoint evidence: a decision records the evidence it was taken on;
# when the evidence changes, earlier go decisions no longer count.
ev=$T/ev.yaml
cat >"$ev" <<'YAML'
cutover: 1
name: ev
phases:
  - id: p
    steps:
      - {id: a, type: local, run: "true"}
      - {id: probe, type: manual, needs: [], instructions: look at the shelves}
      - {id: cp, type: checkpoint, approvals: 2, needs: [a], evidence: [probe]}
YAML
E() { "$CUTOVER" --state "$T/ev.db" "$@"; }
expect_rc 5 E run "$ev"
expect_rc 0 E decide "$ev" cp go --reason "looks fine" --operator alice
expect_rc 0 E status "$ev" --json
check "status shows the evidence" jq -e \
    '.steps[] | select(.id == "cp") | .evidence == ["probe awaiting"]' "$T/out"
expect_rc 0 E status "$ev"
contains "$T/out" "cp waits for 1 more go"
# Confirming the evidence step changes the evidence: the waiting
# checkpoint sets alice's go aside at once, before anyone decides again.
expect_rc 0 E confirm "$ev" probe --operator carol
expect_rc 0 E audit "$ev"
contains "$T/out" "decisions voided: evidence changed (1 go decision set aside"
expect_rc 0 E status "$ev"
contains "$T/out" "cp waits for 2 more go"
expect_rc 0 E decide "$ev" cp go --reason "fine too" --operator bob
contains "$T/out" "checkpoint is awaiting"
expect_rc 0 E decide "$ev" cp go --reason "still fine" --operator alice
contains "$T/out" "checkpoint is succeeded"
n=$(sqlite3 "$T/ev.db" "SELECT count(*) FROM decisions WHERE step='cp' AND active=1 AND length(evidence)=64")
check "two decisions count, each with its evidence's hash" test "$n" = 2
expect_rc 0 E audit "$ev" --verify
# The same when a step run by the engine changes the evidence: a retry
# that succeeds where the step had failed voids the go taken on the
# failure as the engine records it.
ev2=$T/ev2.yaml
cat >"$ev2" <<'YAML'
cutover: 1
name: ev2
phases:
  - id: p
    steps:
      - {id: a, type: local, run: "test -f $FLAG"}
      - {id: cp, type: checkpoint, approvals: 2, needs: [], evidence: [a]}
YAML
export FLAG=$T/flag
V() { "$CUTOVER" --state "$T/ev2.db" "$@"; }
expect_rc 1 V run "$ev2"
expect_rc 0 V decide "$ev2" cp go --reason "a failure we can live with" --operator alice
expect_rc 0 V status "$ev2"
contains "$T/out" "cp waits for 1 more go"
touch "$FLAG"
expect_rc 0 V retry "$ev2" a
expect_rc 0 V status "$ev2"
contains "$T/out" "cp waits for 2 more go"
expect_rc 0 V audit "$ev2"
contains "$T/out" "decisions voided: evidence changed (1 go decision set aside"
n=$(sqlite3 "$T/ev2.db" "SELECT count(*) FROM decisions WHERE step='cp' AND active=1")
check "no go counts after the evidence changed" test "$n" = 0
# --- rollback --entity by the rules of a rollback: an irreversible
# instance refuses (exit 4) unless --force --reason; a no-go's automatic
# rollback leaves it as it is and says so.
irr=$T/irr.yaml
cat >"$irr" <<'YAML'
cutover: 1
name: irr
settings: {parallel: 2}
entities: [{id: e1}, {id: e2}]
phases:
  - id: p
    for_each: entity
    steps:
      - {id: a, type: local, run: "echo a ${entity.id} >> $LEDGER", rollback: "echo undo-a ${entity.id} >> $LEDGER"}
      - {id: b, type: local, run: "echo b ${entity.id} >> $LEDGER", irreversible: true}
      - {id: cp, type: checkpoint, on_no_go: rollback}
YAML
I() { "$CUTOVER" --state "$T/irr.db" "$@"; }
expect_rc 5 I run "$irr"
expect_rc 4 I rollback "$irr" --entity e1 --to start
contains "$T/err" "irreversible step b@e1 succeeded"
expect_rc 2 I rollback "$irr" --entity e1 --to start --force
expect_rc 0 I rollback "$irr" --entity e1 --to start --force --reason "b stays"
check "a@e1 undone" test "$(grep -cx 'undo-a e1' "$LEDGER")" = 1
expect_rc 0 I audit "$irr"
contains "$T/out" "rollback-force: irreversible step left as it is: b stays"
expect_rc 0 I decide "$irr" cp@e2 no-go --reason "not today"
expect_rc 5 I run "$irr"
check "a@e2 undone by the no-go" test "$(grep -cx 'undo-a e2' "$LEDGER")" = 1
expect_rc 0 I audit "$irr"
contains "$T/out" "b@e2  "
contains "$T/out" "irreversible step left as it is: no-go at cp@e2"
I status "$irr" --json >"$T/json"
check "b@e2 stays succeeded" jq -e '.steps[] | select(.id == "b@e2") | .state == "succeeded"' "$T/json"
check "a@e1 runs forward again later" jq -e '.steps[] | select(.id == "a@e1") | .state == "succeeded"' "$T/json"
# --- places: `parallel: 2` is two entities at once. An entity keeps its
# place until its lane in the phase is finished, so e3's first step starts
# only once e1's or e2's whole lane has ended, and e4's once both have.
pl=$T/places.yaml
export STAMPS=$T/stamps
: >"$STAMPS"
cat >"$pl" <<'YAML'
cutover: 1
name: places
settings: {parallel: 4}
entities: [{id: e1}, {id: e2}, {id: e3}, {id: e4}]
phases:
  - id: p
    for_each: entity
    parallel: 2
    steps:
      - {id: a, type: local, run: "echo start-a ${entity.id} $(date +%s%N) >> $STAMPS; sleep 0.3; echo end-a ${entity.id} $(date +%s%N) >> $STAMPS"}
      - {id: b, type: local, run: "echo start-b ${entity.id} $(date +%s%N) >> $STAMPS; sleep 0.3; echo end-b ${entity.id} $(date +%s%N) >> $STAMPS"}
YAML
P() { "$CUTOVER" --state "$T/places.db" "$@"; }
at() { awk -v w="$1" -v e="$2" '$1 == w && $2 == e { print $3 }' "$STAMPS"; }
expect_rc 0 P run "$pl"
e1=$(at end-b e1) e2=$(at end-b e2) s3=$(at start-a e3) s4=$(at start-a e4)
first=$e1 second=$e2
[ "$e2" -lt "$e1" ] && first=$e2 second=$e1
check "e3 starts after a lane finished" test "$s3" -ge "$first"
check "e4 starts after both first lanes finished" test "$s4" -ge "$second"
check "e1 and e2 ran at once" test "$(at start-a e2)" -lt "$(at end-a e1)"
check "a lane's second step follows its first at once" \
    test $(( $(at start-b e1) - $(at end-a e1) )) -lt 2000000000

# A lane waiting for a person keeps its place, across processes too (the
# places come from the stored states): with one place, e1 waits at its
# manual step and e2 does not start until e1's lane is finished.
pm=$T/places-manual.yaml
cat >"$pm" <<'YAML'
cutover: 1
name: placesm
entities: [{id: e1}, {id: e2}]
phases:
  - id: p
    for_each: entity
    parallel: 1
    steps:
      - {id: a, type: local, run: "echo a ${entity.id} >> $STAMPS"}
      - {id: m, type: manual, instructions: count the till}
YAML
M() { "$CUTOVER" --state "$T/placesm.db" "$@"; }
: >"$STAMPS"
expect_rc 5 M run "$pm"
expect_rc 5 M run "$pm"
check "e2 waits while e1 waits for a person" test "$(grep -c '^a e2' "$STAMPS")" = 0
expect_rc 0 M status "$pm" --json
check "a@e2 pending" jq -e '.steps[] | select(.id == "a@e2") | .state == "pending"' "$T/out"
expect_rc 0 M confirm "$pm" m@e1
expect_rc 5 M run "$pm"
check "e2 took the place e1 left" test "$(grep -c '^a e2' "$STAMPS")" = 1
finish
