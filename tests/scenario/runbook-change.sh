#!/bin/sh
# runbook-change.sh - a step with attempts changed under a run is refused
# (exit 4) unless --accept-changes, which the audit trail records; steps
# without attempts follow the runbook silently.
. "$(dirname "$0")/../lib.sh"

rb=$T/c.yaml
write() {
	cat >"$rb" <<YAML
cutover: 1
name: change
phases:
  - id: p
    steps:
      - id: a
        type: local
        run: echo $1
      - id: wait
        type: manual
      - id: b
        type: local
        run: echo $2
YAML
}
write a1 b1
expect_rc 5 "$CUTOVER" run "$rb"
write a1 b2
expect_rc 5 "$CUTOVER" run "$rb"
write a2 b2
expect_rc 4 "$CUTOVER" run "$rb"
contains "$T/err" "a (changed)"
contains "$T/err" "--accept-changes"
expect_rc 5 "$CUTOVER" run "$rb" --accept-changes
expect_rc 0 "$CUTOVER" audit "$rb"
contains "$T/out" "accepted changes: a (changed)"
expect_rc 0 "$CUTOVER" audit "$rb" --verify

# A manual step a person confirmed counts as started too.
expect_rc 0 "$CUTOVER" confirm "$rb" wait
sed -i 's/      - id: wait/      - id: wait\n        owner: someone-else/' "$rb"
expect_rc 4 "$CUTOVER" run "$rb"
contains "$T/err" "wait (changed)"
finish
