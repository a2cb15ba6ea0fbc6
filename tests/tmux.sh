# tmux.sh - drive the console through tmux (sourced, after lib.sh): a
# private tmux server, killed on exit, and helpers to start a pane, type into
# it and wait for what it shows. Skips the test (77) without tmux.
command -v tmux >/dev/null || { echo "$(basename "$0"): skipped, no tmux"; exit 77; }
SOCK=cutover-test-$(basename "$0" .sh)-$$
tm() { tmux -L "$SOCK" -f /dev/null "$@"; }
trap 'tm kill-server 2>/dev/null; cleanup' EXIT
export LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=screen

now_ms() { date +%s%3N; }

# start NAME COMMAND: a 100x30 pane running COMMAND; "[exit N]" when it ends.
start() {
	name=$1
	shift
	tm new-session -d -s "$name" -x 100 -y 30 \
	    "cd '$T' && $* ; echo \"[exit \$?]\"; sleep 600"
}
screen() { tm capture-pane -p -t "$1"; }
keys() {
	name=$1
	shift
	tm send-keys -t "$name" "$@"
}

# wait_for NAME TEXT [MS]: poll the screen until it shows TEXT.
wait_for() {
	deadline=$(($(now_ms) + ${3:-5000}))
	while [ "$(now_ms)" -lt "$deadline" ]; do
		if screen "$1" | grep -qF -- "$2"; then
			ok
			return 0
		fi
		sleep 0.02
	done
	fail "screen $1 never showed '$2'"
	screen "$1" | sed 's/^/  | /' >&2
	return 1
}
