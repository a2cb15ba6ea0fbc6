#!/bin/bash
# run-demo.sh - start the demo sandbox and open the console on
# runbooks/demo.yaml; the sandbox is stopped and removed on exit, the run's
# state file is kept (and the way to report on it said).
#
#   demo/run-demo.sh            the console (headless without a terminal)
#   demo/run-demo.sh --sandbox  the sandbox alone: prints the environment
#                               to paste into another shell, then waits
#                               until interrupted (Ctrl-C)
#
# Without a terminal (or with CUTOVER_DEMO_HEADLESS=1) it walks through the
# same run headless instead, playing the people in the room: a store lead
# confirms the freeze, two duty managers decide go.
#
# The state file: $CUTOVER_DEMO_STATE, else a new file named after the time
# in ${XDG_STATE_HOME:-~/.local/state}/cutover/.
set -u
cd "$(dirname "$0")/.."
top=$(pwd)
mode=console
case ${1:-} in
--sandbox) mode=sandbox ;;
"") ;;
*)
	echo "usage: demo/run-demo.sh [--sandbox]" >&2
	exit 2
	;;
esac
. demo/sandbox.sh
rb=$top/runbooks/demo.yaml
cutover=${CUTOVER:-$top/cutover}
statedir=${XDG_STATE_HOME:-$HOME/.local/state}/cutover
state=${CUTOVER_DEMO_STATE:-$statedir/demo-$(date +%Y%m%d-%H%M%S)-$$.db}
C() { "$cutover" --state "$state" "$@"; }
web_pid=
web_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null)
web_url=${web_port:+http://127.0.0.1:$web_port/}

# The live dashboard (cutover serve), once the run's state file exists.
demo_web() {
	[ -n "$web_port" ] || return 0
	(
		while [ ! -f "$state" ]; do sleep 0.2; done
		exec "$cutover" --state "$state" serve "$rb" \
		    --listen "127.0.0.1:$web_port" >/dev/null 2>&1
	) &
	web_pid=$!
}
demo_web_stop() {
	[ -n "$web_pid" ] || return 0
	pkill -TERM -P "$web_pid" 2>/dev/null
	kill "$web_pid" 2>/dev/null
	wait "$web_pid" 2>/dev/null
}
say() { printf '\n== %s\n' "$*"; }

# Where the run's record went, and how to look at it again.
demo_record() {
	[ -f "$state" ] || return 0
	cat <<EOT

demo: the sandbox is gone; the run's record is kept in
        $state
      a report of it (HTML):
        $cutover --state '$state' report '$rb' --format html -o demo-report.html
      its audit trail, checked:
        $cutover --state '$state' audit '$rb' --verify
EOT
}

# The sandbox alone, for a console or commands in another shell.
demo_sandbox() {
	cat <<EOT

demo: the sandbox runs. Paste these lines into another shell, then run
      cutover there (e.g. $cutover '$rb'):

export CUTOVER_DEMO_DIR='$CUTOVER_DEMO_DIR'
export CUTOVER_DEMO_PG='$CUTOVER_DEMO_PG'
export CUTOVER_DEMO_SSH_PORT='$CUTOVER_DEMO_SSH_PORT'
export CUTOVER_DEMO_KEY='$CUTOVER_DEMO_KEY'
export CUTOVER_DEMO_KNOWN_HOSTS='$CUTOVER_DEMO_KNOWN_HOSTS'
export CUTOVER_DEMO_TOKEN='$CUTOVER_DEMO_TOKEN'
export ODBCSYSINI='$ODBCSYSINI'
export ODBCINI='$ODBCINI'
export CUTOVER_STATE='$state'
PATH='$top':\$PATH

demo: Ctrl-C stops the sandbox and removes it (the state file stays).
EOT
	trap 'exit 0' INT TERM
	while :; do
		sleep 3600 &
		wait $!
	done
}

# The console, after the opening text has been read.
demo_console() {
	cat <<EOT

demo: the console opens on runbooks/demo.yaml (run as operator "lead").
      Nothing starts by itself: press  a  to run automatically, or Enter
      on a step. The freeze announcement wants  c  (confirm); go-no-go
      needs two duty managers: press  g  here, and from another terminal
      a second one can decide. R rolls back, ? shows every key, q quits.
      The sandbox is removed when the console closes; the run's record is
      kept, and where is said then.${web_url:+
      Live dashboard for a browser: $web_url
      (Prometheus metrics: ${web_url}metrics)}

EOT
	read -r -s -n 1 -p "      Press any key to open the console (q: leave now) "
	echo
	[ "$REPLY" = q ] && return 0
	C --operator lead "$rb"
}

# The same run headless.
demo_headless() {
	[ -n "$web_url" ] && say "live dashboard: $web_url (metrics: ${web_url}metrics)"
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
	return $rc
}

mkdir -p "$(dirname "$state")"
echo "demo: starting the sandbox (PostgreSQL with legacy and odoo databases, an sshd)..."
sandbox_up || { echo "demo: the sandbox did not start" >&2; exit 1; }
trap 'demo_web_stop; sandbox_down; demo_record' EXIT
[ $mode = sandbox ] || demo_web
if [ $mode = sandbox ]; then
	demo_sandbox
elif [ -t 0 ] && [ -t 1 ] && [ -z "${CUTOVER_DEMO_HEADLESS:-}" ]; then
	demo_console
else
	demo_headless
fi
