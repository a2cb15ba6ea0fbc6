#!/bin/sh
# rollback-none.sh - `rollback: none` marks a read-only step as having
# nothing to undo: the plan says so, a rollback marks it rolled_back at once
# (no person asked, nothing run), and it runs forward again afterwards.
. "$(dirname "$0")/../lib.sh"

rb=$T/n.yaml
export LEDGER=$T/ledger
: >"$LEDGER"
cat >"$rb" <<'YAML'
cutover: 1
name: none
phases:
  - id: one
    steps:
      - {id: cp, type: checkpoint}
      - {id: check, type: local, run: echo check >> $LEDGER, rollback: none}
      - {id: look, type: manual, instructions: Look at the tills, rollback: none}
      - {id: change, type: local, run: echo do >> $LEDGER, rollback: echo undo >> $LEDGER}
      - {id: byhand, type: local, run: echo do2 >> $LEDGER}
YAML
R() { "$CUTOVER" "$@"; }
expect_rc 0 R lint "$rb"
expect_rc 5 R run "$rb"
expect_rc 0 R decide "$rb" cp go --reason ok
expect_rc 5 R run "$rb"
expect_rc 0 R confirm "$rb" look
expect_rc 0 R run "$rb"
expect_rc 5 R rollback "$rb" --to cp
contains "$T/out" "check                    nothing to undo (rollback: none)"
contains "$T/out" "look                     nothing to undo (rollback: none)"
contains "$T/out" "change                   runs its rollback action"
contains "$T/out" "byhand                   by hand: a person confirms"
contains "$T/err" "step byhand waits for a person"
expect_rc 0 R confirm "$rb" byhand
expect_rc 0 R rollback "$rb"
for s in check look change byhand; do
	check "$s rolled back" test "$(step_state "$rb" "$s")" = rolled_back
done
# The read-only steps ran nothing on the way back, and no person was asked.
check "ledger" test "$(tr '\n' ' ' <"$LEDGER")" = "check do do2 undo "
expect_rc 0 R audit "$rb"
contains "$T/out" "check   root (root)  rollback-read-only"
contains "$T/out" "look    root (root)  rollback-read-only"
check "nobody was asked to undo check or look" sh -c \
    "! grep -E 'rollback-await +(check|look)' '$T/out'"
# Forward again: the read-only step runs again.
expect_rc 5 R run "$rb"
expect_rc 0 R confirm "$rb" look
expect_rc 0 R run "$rb"
check "ledger again" test "$(tr '\n' ' ' <"$LEDGER")" = "check do do2 undo check do do2 "
finish
