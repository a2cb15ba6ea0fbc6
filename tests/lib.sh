# lib.sh - shared helpers for the scenario tests (sourced, POSIX sh + bash).
#
# Each test gets a fresh temporary directory in $T, removed on exit, and
# counts its checks; it ends with "N passed, N failed" and exits non-zero
# when anything failed.

set -u
here=$(cd "$(dirname "$0")" && pwd)
if [ -z "${SRCDIR:-}" ]; then
	SRCDIR=$here
	while [ ! -f "$SRCDIR/tests/lib.sh" ] && [ "$SRCDIR" != / ]; do
		SRCDIR=$(dirname "$SRCDIR")
	done
fi
: "${CUTOVER:=$SRCDIR/cutover}"
: "${CUTOVER_TEST:=$SRCDIR/cutover-test}" # honours CUTOVER_FAKE_CLOCK
export CUTOVER_STATE=
unset CUTOVER_STATE NO_COLOR CUTOVER_THEME
T=$(mktemp -d "${TMPDIR:-/tmp}/cutover-test.XXXXXX")
export HOME="$T/home" XDG_STATE_HOME="$T/xdg"
mkdir -p "$HOME"
passed=0
failed=0

cleanup() {
	[ -n "${KEEP:-}" ] && { echo "kept $T"; return; }
	rm -rf "$T"
}
trap cleanup EXIT

ok() { passed=$((passed + 1)); }
fail() {
	failed=$((failed + 1))
	echo "FAIL: $*" >&2
}

# check DESCRIPTION COMMAND...: the command must succeed.
check() {
	d=$1
	shift
	if "$@" >/dev/null; then ok; else fail "$d"; fi
}

# expect_rc WANT COMMAND...: run COMMAND (stdout to $T/out, stderr to $T/err)
# and check its exit status.
expect_rc() {
	want=$1
	shift
	"$@" >"$T/out" 2>"$T/err"
	rc=$?
	if [ "$rc" = "$want" ]; then
		ok
	else
		fail "exit $rc, wanted $want: $*"
		sed 's/^/  stdout: /' "$T/out" | head -20 >&2
		sed 's/^/  stderr: /' "$T/err" | head -20 >&2
	fi
}

# contains FILE TEXT: FILE has TEXT (fixed string).
contains() {
	if grep -qF -- "$2" "$1"; then ok; else
		fail "$1 lacks '$2'"
		sed 's/^/  | /' "$1" | head -20 >&2
	fi
}

lacks() {
	if grep -qF -- "$2" "$1"; then
		fail "$1 has '$2'"
	else ok; fi
}

# step_state RUNBOOK STEP: the state of STEP in status --json.
step_state() {
	"$CUTOVER" status "$1" --json | jq -r --arg s "$2" \
	    '.steps[] | select(.id == $s) | .state'
}

finish() {
	echo "$(basename "$0"): $passed passed, $failed failed"
	[ "$failed" = 0 ]
	exit $?
}
