#!/bin/bash
# run-demo.sh - start the demo sandbox and open the console on
# runbooks/demo.yaml; everything is stopped and removed on exit.
#
# Without a terminal (or with CUTOVER_DEMO_HEADLESS=1) it walks through the
# same run headless instead, playing the people in the room: a store lead
# confirms the freeze, two duty managers decide go.
set -u
cd "$(dirname "$0")/.."
. demo/sandbox.sh
echo "demo: starting the sandbox (PostgreSQL with legacy and odoo databases, an sshd)..."
sandbox_up || { echo "demo: the sandbox did not start" >&2; exit 1; }
rb=runbooks/demo.yaml
cutover=${CUTOVER:-./cutover}
C() { "$cutover" --state "$T/demo.db" "$@"; }
say() { printf '\n== %s\n' "$*"; }

if [ -t 0 ] && [ -t 1 ] && [ -z "${CUTOVER_DEMO_HEADLESS:-}" ]; then
	cat <<EOT
demo: the console opens on $rb (run as operator "lead").
      Nothing starts by itself: press  a  to run automatically, or Enter
      on a step. The freeze announcement wants  c  (confirm); go-no-go
      needs two duty managers: press  g  here, and from another terminal
      a second one can decide. ? shows every key, q quits. The sandbox is
      removed when the console closes.
EOT
	sleep 2
	C --operator lead "$rb"
	exit $?
fi

say "lint the runbook"
"$cutover" lint "$rb" && echo "runbook is valid"
say "run until a person is needed"
C run "$rb"
say "the store lead confirms the freeze announcement"
C confirm "$rb" announce-freeze --note "all stores acked" --operator store-lead
C run "$rb"
say "two duty managers read the reconciliation and decide go"
C decide "$rb" go-no-go go --reason "differences are the known ones" --operator lead
C decide "$rb" go-no-go go --reason "agreed" --operator duty
C run "$rb"
rc=$?
say "status"
C status "$rb"
say "the partners reconciliation"
C log "$rb" partners | tail -12
say "the audit trail"
C audit "$rb" --verify
exit $rc
