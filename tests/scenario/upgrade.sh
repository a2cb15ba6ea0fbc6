#!/bin/sh
# upgrade.sh - a state file cutover 0.1.0 left with a run open (fixture)
# opens with this cutover: the schema is migrated, and the run resumes
# without --accept-changes, its steps still compared by the def_sha rule
# they were recorded with; a real change to a step with attempts is still
# refused (exit 4, naming it). New runs record the current rule.
. "$(dirname "$0")/../lib.sh"

fix=$SRCDIR/tests/fixtures
db=$T/upgrade.db
rb=$T/upgrade.yaml
cp "$fix/state-0.1.0.db" "$db"
cp "$fix/state-0.1.0.yaml" "$rb"
chmod 600 "$db"
c() { "$CUTOVER" --state "$db" "$@"; }
q() { sqlite3 "$db" "$1"; }

check "the fixture is a file of 0.1.0" \
    test "$(q 'PRAGMA user_version'):$(q "SELECT value FROM meta")" = "0:1"

# Opening migrates it; run 1 keeps the rule of 0.1.0.
expect_rc 0 c status "$rb"
contains "$T/out" "run 1"
check "schema version 5" test "$(q 'PRAGMA user_version')" = 5
check "meta follows" test "$(q "SELECT value FROM meta")" = 5
check "the outbox is there" test "$(q "SELECT count(*) FROM outbox")" = 0
check "the differences table is there" test "$(q "SELECT count(*) FROM diffs")" = 0
check "run 1 hashed by rule 1" \
    test "$(q 'SELECT step_hash FROM runs WHERE id=1')" = 1

# It resumes where 0.1.0 left it, without --accept-changes.
expect_rc 5 c run "$rb"
contains "$T/err" "check waits for a person"
lacks "$T/err" "changed"
lacks "$T/err" "accept-changes"

# A real change to a step with attempts is refused, naming only it.
sed -i 's/echo frozen/echo FROZEN/' "$rb"
expect_rc 4 c run "$rb"
contains "$T/err" "freeze (changed)"
contains "$T/err" "--accept-changes"
lacks "$T/err" "export"
cp "$fix/state-0.1.0.yaml" "$rb"

# A step without attempts follows the runbook silently.
sed -i 's/echo imported/echo loaded/' "$rb"
expect_rc 5 c run "$rb"
lacks "$T/err" "changed"

# On to the end: the step changed before it ran runs as it is now.
expect_rc 0 c confirm "$rb" check
expect_rc 5 c run "$rb"
check "import succeeded" test "$(c status "$rb" --json |
    jq -r '.steps[] | select(.id == "import") | .state')" = succeeded
expect_rc 0 c log "$rb" import
contains "$T/out" "loaded"
sed -i 's/echo loaded/echo other/' "$rb"
expect_rc 4 c run "$rb"
contains "$T/err" "import (changed)"
sed -i 's/echo other/echo loaded/' "$rb"
expect_rc 0 c decide "$rb" go go --reason "totals match"
expect_rc 0 c run "$rb"
expect_rc 0 c status "$rb"
contains "$T/out" "complete"
# The audit chain runs on unbroken from the entries 0.1.0 wrote.
expect_rc 0 c audit "$rb" --verify

# A new run records the current rule, and compares by it.
expect_rc 5 c run "$rb" --new-run
check "run 2 hashed by rule 2" \
    test "$(q 'SELECT step_hash FROM runs WHERE id=2')" = 2
check "run 2 recorded other hashes" test "$(q "SELECT count(*) FROM steps a
    JOIN steps b ON a.id = b.id AND a.def_sha = b.def_sha
    WHERE a.run = 1 AND b.run = 2")" = 0
expect_rc 5 c run "$rb"
lacks "$T/err" "changed"
sed -i 's/echo frozen/echo FROZEN/' "$rb"
expect_rc 4 c run "$rb"
contains "$T/err" "freeze (changed)"
finish
