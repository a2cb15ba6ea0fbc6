#!/bin/sh
# run-demo.sh - walk through the demo runbook headless, playing the people
# in the room (a store lead confirms, two duty managers decide). The sandbox
# is a temporary directory, removed at the end.
set -u
cd "$(dirname "$0")/.."
CUTOVER_DEMO_DIR=$(mktemp -d "${TMPDIR:-/tmp}/cutover-demo.XXXXXX")
CUTOVER_DEMO_TOKEN=demo-token-$$
export CUTOVER_DEMO_DIR CUTOVER_DEMO_TOKEN
trap 'rm -rf "$CUTOVER_DEMO_DIR"' EXIT
rb=runbooks/demo.yaml
state="--state $CUTOVER_DEMO_DIR/demo.db"
say() { printf '\n== %s\n' "$*"; }

say "lint the runbook"
./cutover lint $rb && echo "runbook is valid"
say "run until a person is needed"
./cutover $state run $rb
say "the store lead confirms the freeze announcement"
./cutover $state confirm $rb announce-freeze --note "all stores acked" --operator store-lead
./cutover $state run $rb
say "two duty managers decide go"
./cutover $state decide $rb go-no-go go --reason "counts match" --operator lead
./cutover $state decide $rb go-no-go go --reason "agreed" --operator duty
./cutover $state run $rb
say "status"
./cutover $state status $rb
say "what load-odoo printed (the token is redacted)"
./cutover $state log $rb load-odoo
say "the audit trail"
./cutover $state audit $rb --verify
