#!/bin/bash
# demo-console.sh - the demo as a person meets it: the opening text stays
# until a key is pressed, quitting says where the run's record went (and
# the report command it gives works), and `run-demo.sh --sandbox` (what
# `./bootstrap.sh sandbox` runs) starts the sandbox alone and prints an
# environment that another shell can use as it is.
. "$(dirname "$0")/../lib.sh"
. "$SRCDIR/tests/tmux.sh"

# The sandboxes go to a directory of their own, where nobody else's can be.
demo_tmp=$(mktemp -d "${TMPDIR:-/tmp}/cdemo.XXXXXX")
chmod 755 "$demo_tmp" # the sandbox's PostgreSQL runs as another user
trap 'tm kill-server 2>/dev/null; rm -rf "$demo_tmp"; cleanup' EXIT
sandboxes() { ls -d "$demo_tmp"/cutover-sandbox.* 2>/dev/null | wc -l; }

expect_rc 2 "$SRCDIR/bootstrap.sh" nonsense
contains "$T/err" "usage: ./bootstrap.sh demo|sandbox|check"

# --- the opening text stays until a key; quitting says where the record is
start demo "TMPDIR='$demo_tmp' CUTOVER='$CUTOVER' HOME='$HOME' XDG_STATE_HOME='$XDG_STATE_HOME' '$SRCDIR/demo/run-demo.sh'"
wait_for demo "Press any key to open the console" 60000
sleep 3
if screen demo | grep -qF "the console opens on runbooks/demo.yaml" &&
    ! screen demo | grep -qF REHEARSAL; then ok; else
	fail "the opening text did not stay until a key was pressed"
	screen demo | sed 's/^/  | /' >&2
fi
url=$(screen demo | sed -n 's|.*Live dashboard for a browser: \(http://127.0.0.1:[0-9]*/\).*|\1|p' | head -n 1)
check "the opening text gives the dashboard's address" test -n "$url"
keys demo x
wait_for demo "REHEARSAL" 10000
wait_for demo "announce-freeze"
# The dashboard serves the run the console drives.
n=0
until curl -fsS "${url}healthz" >/dev/null 2>&1 || [ $n -ge 50 ]; do
	sleep 0.2
	n=$((n + 1))
done
curl -fsS "${url}api/status" >"$T/web.json" 2>"$T/err" && ok ||
    fail "the dashboard at $url does not answer: $(cat "$T/err")"
check "the dashboard shows the demo's run" jq -e '.runbook == "demo" and .run == 1' "$T/web.json"
keys demo q
wait_for demo "the run's record is kept in" 20000
wait_for demo "[exit 0]" 20000
db=$(ls "$XDG_STATE_HOME"/cutover/demo-*.db 2>/dev/null | head -n 1)
check "the state file is kept" test -s "$db"
joined() { tm capture-pane -p -J -S - -t "$1"; }
joined demo | grep -qF -- "--state '$db' report" && ok ||
    fail "quitting does not name the state file $db in a report command"
cmd=$(joined demo | grep -F -- "report '" | sed 's/^ *//')
(cd "$T" && eval "$cmd") >"$T/out" 2>"$T/err" && ok ||
    fail "the report command it gives fails: $cmd: $(cat "$T/err")"
check "the report was written" test -s "$T/demo-report.html"
check "the sandbox is gone" test "$(sandboxes)" = 0
if curl -fsS "${url}healthz" >/dev/null 2>&1; then
	fail "the dashboard still answers after the demo ended"
else ok; fi

# --- --sandbox: the sandbox alone, and an environment that works elsewhere
start sb "TMPDIR='$demo_tmp' CUTOVER='$CUTOVER' HOME='$HOME' XDG_STATE_HOME='$XDG_STATE_HOME' '$SRCDIR/demo/run-demo.sh' --sandbox"
wait_for sb "Ctrl-C stops the sandbox" 60000
check "one sandbox runs" test "$(sandboxes)" = 1
joined sb | grep -E "^(export |PATH=)" >"$T/env"
check "six demo variables and the state file" test "$(grep -c '^export CUTOVER_' "$T/env")" = 7
(
	. "$T/env"
	"$CUTOVER" run "$SRCDIR/runbooks/demo.yaml"
) >"$T/out" 2>"$T/err"
rc=$?
check "a run from the pasted environment reaches the freeze (exit $rc)" test $rc = 5
contains "$T/err" "announce-freeze waits for a person"
keys sb C-c
wait_for sb "[exit 0]" 20000
check "Ctrl-C removed the sandbox" test "$(sandboxes)" = 0
finish
