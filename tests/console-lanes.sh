#!/bin/bash
# console-lanes.sh - the console and watch on a runbook with a for_each
# phase: one summary line per for_each step (counts by state), the entity x
# step matrix on e (filters by wave, state and text; Enter opens an
# instance), the run's selection in the header, the evidence a decision
# rests on over the go/no-go prompt, the excluded state's short form; at
# 80x24, and a 500 x 30 matrix that moves at once.
. "$(dirname "$0")/lib.sh"

. "$SRCDIR/tests/tmux.sh"

# start80 NAME COMMAND: an 80x24 pane.
start80() {
	name=$1
	shift
	tm new-session -d -s "$name" -x 80 -y 24 \
	    "cd '$T' && $* ; echo \"[exit \$?]\"; sleep 600"
}
# wait_re NAME REGEX [MS]: poll the screen until a line matches REGEX.
wait_re() {
	deadline=$(($(now_ms) + ${3:-5000}))
	while [ "$(now_ms)" -lt "$deadline" ]; do
		screen "$1" | grep -qE -- "$2" && { ok; return 0; }
		sleep 0.02
	done
	fail "screen $1 never matched '$2'"
	screen "$1" | sed 's/^/  | /' >&2
	return 1
}
hides() {
	if screen "$1" | grep -qF -- "$2"; then
		fail "screen $1 shows '$2'"
		screen "$1" | sed 's/^/  | /' >&2
	else ok; fi
}

cat >"$T/l.yaml" <<'YAML'
cutover: 1
name: lanes
entities:
  - {id: store-1, wave: pilot, title: Lyon}
  - {id: store-2, wave: pilot}
  - {id: store-3, wave: wave-2}
  - {id: store-4, wave: wave-2}
waves: [pilot, wave-2]
phases:
  - id: prep
    steps:
      - {id: freeze-ho, type: local, run: "true"}
  - id: stores
    for_each: entity
    parallel: 4 # every store at once: stores waiting at store-go keep their places
    steps:
      - {id: ready, type: local, run: 'test ${entity.id} != store-3', on_failure: exclude-entity}
      - {id: pos-freeze, type: local, run: 'test ${entity.id} != store-4'}
      - {id: store-go, type: checkpoint}
  - id: after
    steps:
      - {id: wrap-up, type: local, run: "true"}
YAML
db=$T/l.db
start80 con "$CUTOVER --state '$db' --operator lead '$T/l.yaml'"
wait_for con "all entities"
wait_re con "^ · pend ready +(✓0 ▶0 ✗0 ◆0 )?·4 /4"
keys con a
wait_for con "FAILED pos-freeze@store-4"
# Summary lines: counts by state, the excluded entity's failure set aside.
wait_re con "^ ✓ ok   ready +✓3 ▶0 ✗1 ◆0 /4"
wait_re con "^ ✗ FAIL pos-freeze +✓2 ✗1 ⊘1 /4"
wait_re con "^ ◆ WAIT store-go +◆2 ⊘1 ·1 /4"
hides con "FAILED ready@store-3"
# The summary's details: counts, and which entities fail or are excluded.
keys con Home j j
wait_for con "instances ✓2 ▶0 ✗1 ◆0 ⊘1 /4"
wait_re con "│ FAIL +store-4"
wait_re con "│ excl +store-3"
# The list's filter takes a summary by its live instances.
keys con F
wait_for con "filter WAIT FAIL RUN: 2 of 5"
wait_re con "FAIL pos-freeze"
wait_re con "WAIT store-go"
hides con "ready"
keys con Escape
wait_for con "filter off"
keys con Home j j
# Acting on a summary says to pick an instance.
keys con r
wait_for con "pos-freeze runs once per entity: e opens the matrix"

# --- the matrix
keys con e
wait_for con "entities x steps: 4 of 4"
wait_re con "^.store-1 pilot +✓ ✓ ◆"
wait_re con "^⊘store-3 wave-2 +✗ ⊘ ⊘"
wait_re con "^ store-4 wave-2 +✓ ✗ ·"
wait_re con "^>store-1 pilot"
wait_for con "pos-freeze@store-1: succeeded (step 2 of 3)"
keys con w
wait_for con "entities of the wave"
keys con Down Down Enter
wait_for con "entities x steps: 2 of 4, wave wave-2"
hides con "store-1"
keys con w Home Enter
wait_for con "entities x steps: 4 of 4"
keys con f
wait_for con "entities with an instance that is"
keys con Down Down Enter
wait_for con "entities x steps: 2 of 4, failed: FAIL RBKF"
wait_re con "store-3 wave-2"
wait_re con "store-4 wave-2"
hides con "store-2"
keys con / 4 Enter
wait_for con 'entities x steps: 1 of 4, failed: FAIL RBKF, "4"'
wait_for con "pos-freeze@store-4: failed (step 2 of 3)"
# Enter opens the instance in the details; r retries it.
keys con Enter
wait_for con "│ pos-freeze@store-4"
wait_for con "state     failed"
wait_re con "^>✗ FAIL pos-freeze"
keys con r
wait_for con "pos-freeze@store-4 started"

# --- the decision prompt shows the evidence
keys con e
wait_for con "entities x steps:"
keys con f Home Enter / Enter
wait_for con "entities x steps: 4 of 4"
keys con Home l
wait_for con "store-go@store-1: awaiting (step 3 of 3)"
keys con Enter
wait_for con "rests on  pos-freeze@store-1 succeeded"
keys con g
wait_for con "a decision at store-go@store-1 rests on the steps it needs:"
wait_for con "pos-freeze@store-1 succeeded"
wait_for con "GO at store-go@store-1; reason (required):"
keys con "tills fine" Enter
wait_for con "store-go@store-1: go by lead"
hides con "rests on the steps it needs"

# --- the help lists the excluded state's short form
keys con '?'
for i in $(seq 30); do keys con j; done
wait_for con "⊘ excl  excluded"
keys con Escape

# --- watch shows the same
start80 wat "$CUTOVER --state '$db' watch '$T/l.yaml'"
wait_for wat "all entities"
wait_re wat "^ ◆ WAIT store-go +✓1 ◆1 ⊘1 ·1 /4"
keys wat e
wait_for wat "entities x steps: 4 of 4"
wait_re wat "^>store-1 pilot +✓ ✓ ✓"
keys wat q
wait_re wat "^>✓ ok   freeze-ho"
keys wat q
wait_for wat "[exit 0]"
keys con q
wait_for con "[exit 0]"

# --- a run of one wave: the header says which
start80 wv "$CUTOVER --state '$T/w.db' --operator lead --wave wave-2 '$T/l.yaml'"
wait_for wv "wave wave-2"
wait_re wv "^ · pend ready +(✓0 ▶0 ✗0 ◆0 )?·2 /2"
keys wv e
wait_for wv "entities x steps: 2 of 2"
keys wv q
keys wv q
wait_for wv "[exit 0]"

# --- R while one entity's rollback is under way says how it goes on
"$CUTOVER" --state "$T/r.db" run "$T/l.yaml" >/dev/null 2>&1
expect_rc 5 "$CUTOVER" --state "$T/r.db" rollback "$T/l.yaml" --entity store-1
start80 rb "$CUTOVER --state '$T/r.db' --operator lead '$T/l.yaml'"
wait_for rb "all entities"
keys rb R
wait_for rb "a rollback of entity store-1 is under way"
hides rb "roll back to (Enter chooses"
keys rb q
wait_for rb "[exit 0]"

# --- a long selection is cut, and the header keeps its end
start80 en "$CUTOVER --state '$T/e.db' --operator lead --entity store-1,store-2,store-4 '$T/l.yaml'"
wait_for en "store-1, store-2, s…"
wait_re en "REHEARSAL *$"
keys en q
wait_for en "[exit 0]"

# --- 500 entities x 30 steps at 80x24: the matrix opens and moves at once
python3 - "$T/big.yaml" <<'PY'
import sys
l = ["cutover: 1", "name: big", "entities:"]
l += ["  - {id: store-%03d, wave: w%d}" % (i, i // 100) for i in range(500)]
l += ["phases:", "  - id: stores", "    for_each: entity", "    steps:"]
l += ["      - {id: s%02d, type: local, run: 'true'}" % j for j in range(30)]
open(sys.argv[1], "w").write("\n".join(l) + "\n")
PY
start80 big "$CUTOVER --state '$T/big.db' --operator lead '$T/big.yaml'"
wait_re big "^>· pend s00 +·500 /500" 20000
wait_re big "│ s00$"
keys big e
wait_for big "entities x steps: 500 of 500"
t0=$(now_ms)
keys big End
wait_for big "s00@store-499: pending (step 1 of 30)"
keys big l l l l l l l l l l l l l l l l l l l l l l l l l l l l l
wait_for big "s29@store-499: pending (step 30 of 30)"
t1=$(now_ms)
[ $((t1 - t0)) -lt 3000 ] && ok ||
    fail "30 keys in the 500 x 30 matrix took $((t1 - t0)) ms"
wait_re big "^>store-499 w4 +· · ·"
keys big e q
wait_for big "[exit 0]"
finish
