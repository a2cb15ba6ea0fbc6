#!/bin/sh
# rollback.sh - checkpoints, no-go, and the way back: reverse order, steps
# undone by hand, a failed rollback action resumed, the irreversible guard,
# rollback roles in a live run, and the run going forward again.
. "$(dirname "$0")/../lib.sh"

rb=$T/r.yaml
export LEDGER=$T/ledger ALLOW=$T/allow-undo-c
: >"$LEDGER"
cat >"$rb" <<'YAML'
cutover: 1
name: rb
roles:
  duty-manager: [alice, bob]
settings:
  rollback_roles: [duty-manager]
phases:
  - id: one
    steps:
      - {id: a, type: local, run: echo do-a >> $LEDGER, rollback: echo undo-a >> $LEDGER}
      - {id: cp1, type: checkpoint}
  - id: two
    steps:
      - {id: b, type: local, run: echo do-b >> $LEDGER, rollback: echo undo-b >> $LEDGER}
      - {id: m, type: manual, instructions: Tell the stores, rollback: Tell the stores it is off}
      - {id: c, type: local, run: echo do-c >> $LEDGER, rollback: test -f $ALLOW && echo undo-c >> $LEDGER}
      - {id: irr, type: local, run: echo do-irr >> $LEDGER, irreversible: true}
      - {id: cp2, type: checkpoint, approvers: [duty-manager]}
      - {id: d, type: local, run: echo do-d >> $LEDGER}
YAML
R() { "$CUTOVER" "$@"; }
expect_rc 5 R run "$rb"
expect_rc 0 R decide "$rb" cp1 go --reason ok --operator alice
expect_rc 5 R run "$rb"
expect_rc 0 R confirm "$rb" m
expect_rc 5 R run "$rb"
check "cp2 awaits" test "$(step_state "$rb" cp2)" = awaiting
expect_rc 0 R decide "$rb" cp2 no-go --reason "stock counts differ" --operator bob
check "no-go fails the checkpoint" test "$(step_state "$rb" cp2)" = failed
expect_rc 1 R run "$rb"
expect_rc 4 R skip "$rb" cp2 --reason "push on" --operator alice

# The irreversible step blocks the rollback unless forced, with a reason.
expect_rc 4 R rollback "$rb"
contains "$T/err" "irreversible step irr succeeded after cp1"
expect_rc 2 R rollback "$rb" --force
expect_rc 2 R rollback "$rb" --to b
expect_rc 1 R rollback "$rb" --force --reason "EDI already repointed"
contains "$T/out" "rollback to cp1: 3 step(s) to undo, latest first"
contains "$T/err" "the rollback of c failed"
check "c rollback_failed" test "$(step_state "$rb" c)" = rollback_failed
expect_rc 4 R run "$rb"
contains "$T/err" "a rollback to cp1 is under way"
touch "$ALLOW"
expect_rc 5 R rollback "$rb" --force --reason "EDI already repointed"
contains "$T/err" "step m waits for a person"
check "c rolled back" test "$(step_state "$rb" c)" = rolled_back
check "m awaits a person" test "$(step_state "$rb" m)" = awaiting
# A step being undone is not retried forward, nor does anything run forward.
expect_rc 4 R retry "$rb" m
contains "$T/err" "m is being rolled back"
check "m still awaits" test "$(step_state "$rb" m)" = awaiting
expect_rc 4 R retry "$rb" d
contains "$T/err" "a rollback to cp1 is under way"
expect_rc 0 R confirm "$rb" m --note "stores told"
check "m rolled back by hand" test "$(step_state "$rb" m)" = rolled_back
expect_rc 0 R rollback "$rb" --force --reason "EDI already repointed"
check "undone in reverse order of completion" \
	test "$(grep undo "$LEDGER" | tr '\n' ' ')" = "undo-c undo-b "
check "a (before cp1) untouched" test "$(step_state "$rb" a)" = succeeded
check "irr left as it is" test "$(step_state "$rb" irr)" = succeeded
check "cp1 still passed" test "$(step_state "$rb" cp1)" = succeeded
check "cp2 back to pending" test "$(step_state "$rb" cp2)" = pending
expect_rc 0 R audit "$rb"
contains "$T/out" "rollback-force: irreversible step left as it is: EDI already repointed"
contains "$T/out" "confirm-undone: rolled_back: stores told"
contains "$T/out" "rollback-done"
expect_rc 0 R audit "$rb" --verify
# Nothing left to undo after cp1.
expect_rc 0 R rollback "$rb" --force --reason again
contains "$T/out" "0 step(s) to undo"

# Forward again: rolled back steps run again; the checkpoint decides anew.
expect_rc 5 R run "$rb"
check "b ran again" test "$(grep -cx do-b "$LEDGER")" = 2
expect_rc 0 R confirm "$rb" m
expect_rc 5 R run "$rb"
check "c ran again" test "$(grep -cx do-c "$LEDGER")" = 2
check "irr did not run again" test "$(grep -cx do-irr "$LEDGER")" = 1
check "cp2 awaits again" test "$(step_state "$rb" cp2)" = awaiting
expect_rc 0 R decide "$rb" cp2 go --reason "fixed" --operator alice
expect_rc 0 R run "$rb"

# Rollback roles: in a live run only duty managers roll back.
expect_rc 5 R run "$rb" --new-run --mode live
expect_rc 0 R decide "$rb" cp1 go --reason ok --operator alice
expect_rc 5 R run "$rb"
expect_rc 4 R rollback "$rb" --operator mallory
contains "$T/err" "may not roll back this live run"
expect_rc 0 R rollback "$rb" --operator alice
check "b undone in the live run" test "$(grep -cx undo-b "$LEDGER")" = 2
finish
