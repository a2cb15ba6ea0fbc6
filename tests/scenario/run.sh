#!/bin/sh
# run.sh - a whole run driven headless: local steps, verify, retries,
# timeouts, manual steps, checkpoints, skip, retry, log, runs, status --json,
# the audit trail, secrets and the state file's mode.
. "$(dirname "$0")/../lib.sh"

rb=$T/wave.yaml
state=$XDG_STATE_HOME/cutover/wave.db
export LEDGER="$T/ledger" SECRET_PW='s3cr3t-Pa55'
cat >"$rb" <<'YAML'
cutover: 1
name: wave
title: Test wave
vars:
  ledger: ${env:LEDGER}
  pw: ${env:SECRET_PW}
  literal: LiTeRaL-s3cret-42
secrets: [pw, literal]
roles:
  duty-manager: [alice, bob]
settings:
  parallel: 2
  default_timeout: 30s
phases:
  - id: freeze
    steps:
      - id: first
        type: local
        run: echo "first $CUTOVER_MODE $CUTOVER_RUN $CUTOVER_STEP" >> ${ledger}; echo out; echo err >&2
        verify: grep -q '^first' ${ledger}
        planned: 1s
      - id: leak
        type: local
        run: echo "the password is ${pw}"; printf 'split %s\n' "${pw}" >&2; echo "${literal}"; exit 0
      - id: flaky
        type: local
        run: n=$(cat ${ledger}.flaky 2>/dev/null || echo 0); echo $((n+1)) > ${ledger}.flaky; test $n -ge 2
        retries: 2
  - id: people
    steps:
      - id: announce
        type: manual
        owner: store-ops
        instructions: Tell the stores.
      - id: gate
        type: checkpoint
        approvals: 2
        approvers: [duty-manager]
  - id: after
    steps:
      - id: slow
        type: local
        run: sleep 5
        timeout: 300ms
      - id: last
        type: local
        run: echo last >> ${ledger}
YAML

expect_rc 0 "$CUTOVER" lint "$rb"

# Up to the manual step: exit 5, a person is needed.
expect_rc 5 "$CUTOVER" run "$rb"
contains "$T/err" "announce waits for a person"
check "state file exists" test -f "$state"
check "state file mode is 0600" test "$(stat -c %a "$state")" = 600
check "first ran once" test "$(grep -c '^first' "$LEDGER")" = 1
contains "$LEDGER" "first rehearsal 1 first"
check "flaky took three attempts" test "$(cat "$LEDGER.flaky")" = 3
expect_rc 0 "$CUTOVER" status "$rb" --json
check "status is one JSON object" jq -e '.runbook == "wave" and .run == 1 and .mode == "rehearsal" and .state == "open"' "$T/out"
check "flaky attempts" jq -e '.steps[] | select(.id=="flaky") | .attempts == 3 and .state == "succeeded"' "$T/out"
check "announce awaits" jq -e '.steps[] | select(.id=="announce") | .state == "awaiting"' "$T/out"
check "steps in runbook order" jq -e '[.steps[].id] == ["first","leak","flaky","announce","gate","slow","last"]' "$T/out"
check "times are ISO 8601 UTC" jq -e '.steps[0].started_at | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$")' "$T/out"
check "duration_ms is a number" jq -e '.steps[0].duration_ms | type == "number"' "$T/out"
check "pending step has null times" jq -e '.steps[] | select(.id=="last") | .started_at == null and .duration_ms == null' "$T/out"

# Output is captured in order, stdout and stderr together.
expect_rc 0 "$CUTOVER" log "$rb" first --attempt 1
check "log shows stdout then stderr" test "$(head -2 "$T/out" | tr '\n' ' ')" = "out err "
expect_rc 0 "$CUTOVER" log "$rb" leak
contains "$T/out" "the password is ********"
contains "$T/out" "split ********"
lacks "$T/out" "$SECRET_PW"

# A checkpoint cannot be decided before it is reached; manual is confirmed.
expect_rc 4 "$CUTOVER" decide "$rb" gate go --reason early --operator alice
expect_rc 2 "$CUTOVER" confirm "$rb" gate
expect_rc 0 "$CUTOVER" confirm "$rb" announce --note "all stores acked" --operator carol
check "announce succeeded" test "$(step_state "$rb" announce)" = succeeded
expect_rc 5 "$CUTOVER" run "$rb"
contains "$T/err" "gate waits for 2 more go (may decide: alice, bob [duty-manager]): cutover decide"
expect_rc 2 "$CUTOVER" decide "$rb" gate maybe --reason x
expect_rc 2 "$CUTOVER" decide "$rb" gate go
expect_rc 4 "$CUTOVER" decide "$rb" gate go --reason "not a manager" --operator mallory
expect_rc 0 "$CUTOVER" decide "$rb" gate go --reason "counts match" --operator alice
check "one go of two: still awaiting" test "$(step_state "$rb" gate)" = awaiting
expect_rc 4 "$CUTOVER" decide "$rb" gate go --reason "again" --operator alice
expect_rc 0 "$CUTOVER" decide "$rb" gate go --reason "agreed" --operator bob
check "two distinct go: succeeded" test "$(step_state "$rb" gate)" = succeeded

# The slow step times out and fails the run.
expect_rc 1 "$CUTOVER" run "$rb"
contains "$T/err" "step slow failed: timed out after 300ms"
check "last did not start" test "$(step_state "$rb" last)" = pending
expect_rc 1 "$CUTOVER" run "$rb"
expect_rc 1 "$CUTOVER" retry "$rb" slow
check "slow failed again" test "$(step_state "$rb" slow)" = failed
expect_rc 4 "$CUTOVER" retry "$rb" first
expect_rc 2 "$CUTOVER" skip "$rb" slow
expect_rc 0 "$CUTOVER" skip "$rb" slow --reason "not needed in rehearsal"
expect_rc 0 "$CUTOVER" run "$rb"
contains "$T/out" "run 1 complete"
check "first still ran once" test "$(grep -c '^first' "$LEDGER")" = 1
check "last ran once" test "$(grep -c '^last' "$LEDGER")" = 1
expect_rc 0 "$CUTOVER" status "$rb" --json
check "run complete" jq -e '.state == "complete"' "$T/out"
check "slow skipped" jq -e '.steps[] | select(.id=="slow") | .state == "skipped"' "$T/out"
expect_rc 0 "$CUTOVER" status "$rb"
contains "$T/out" "REHEARSAL"
# Typing run again after completion starts nothing.
expect_rc 0 "$CUTOVER" run "$rb"
contains "$T/err" "run 1 is complete; --new-run starts another"
check "nothing ran again" test "$(wc -l <"$LEDGER")" = 2

# A new live run.
expect_rc 2 "$CUTOVER" run "$rb" --mode bogus
expect_rc 5 "$CUTOVER" run "$rb" --new-run --mode live
expect_rc 0 "$CUTOVER" status "$rb"
contains "$T/out" "LIVE"
expect_rc 0 "$CUTOVER" runs "$rb"
contains "$T/out" "complete"
check "two runs listed" test "$(grep -c '^ *[12] ' "$T/out")" = 2
expect_rc 2 "$CUTOVER" run "$rb" --mode rehearsal
check "first ran again in run 2" test "$(grep -c '^first live 2' "$LEDGER")" = 1

# The audit trail is intact, readable and names who did what.
expect_rc 0 "$CUTOVER" audit "$rb" --verify
expect_rc 0 "$CUTOVER" audit "$rb"
contains "$T/out" "confirm: succeeded: all stores acked"
contains "$T/out" "carol"
contains "$T/out" "skip: skipped: not needed in rehearsal"
contains "$T/out" "decide: go: agreed"

# The secret is in no byte of the state file (nor its WAL).
check "secret absent from state" sh -c "! cat '$state'* | grep -qaF '$SECRET_PW'"
check "literal secret absent from state" sh -c "! cat '$state'* | grep -qaF 'LiTeRaL-s3cret-42'"

# Tampering with one audit row is found, and named.
sqlite3 "$state" "UPDATE audit SET details='nothing happened' WHERE id=5"
expect_rc 1 "$CUTOVER" audit "$rb" --verify
contains "$T/err" "audit trail broken at entry 5"

# Usage errors.
expect_rc 2 "$CUTOVER"
expect_rc 2 "$CUTOVER" run
expect_rc 2 "$CUTOVER" run "$rb" --bogus
expect_rc 2 "$CUTOVER" confirm "$rb" nosuch
expect_rc 0 "$CUTOVER" --version
expect_rc 3 "$CUTOVER" run "$T/missing.yaml"

# A state file of a newer schema is refused.
sqlite3 "$state" "UPDATE meta SET value='99' WHERE key='schema_version'"
expect_rc 4 "$CUTOVER" status "$rb"
contains "$T/err" "newer cutover"
printf 'not a database at all, just text........................................................................................' >"$T/junk.db"
expect_rc 4 "$CUTOVER" status "$rb" --state "$T/junk.db"

finish
