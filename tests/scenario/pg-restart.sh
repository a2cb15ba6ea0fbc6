#!/bin/bash
# pg-restart.sh - PostgreSQL stopped mid-step and started again a few
# seconds later, under a headless driver and under a console driver:
#  - the step that runs goes on and ends while the store is down, and no
#    new step starts meanwhile (a ledger of side effects shows it),
#  - stderr (headless) and the console's header say STATE STORE
#    UNREACHABLE,
#  - once the server is back the held outcome is written and the run goes
#    on to the end: every step ran exactly once, one attempt each, the
#    audit chain verifies.
. "$(dirname "$0")/../lib.sh"
. "$SRCDIR/tests/pg.sh"
. "$SRCDIR/tests/tmux.sh"
pg_start || { echo "pg-restart.sh: no PostgreSQL server" >&2; exit 1; }
trap 'tm kill-server 2>/dev/null; pg_stop; cleanup' EXIT

state="postgresql://cutover@127.0.0.1:$PGPORT/cutover"
export LEDGER=$T/ledger
C() { "$CUTOVER" --state "$state" "$@"; }

pg_down() {
	pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1
}
pg_up() {
	pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w \
	    -t 30 -o "-c listen_addresses=127.0.0.1 -c port=$PGPORT \
-c unix_socket_directories=$PG_DIR -c fsync=off -c max_connections=40" \
	    start >/dev/null 2>&1
}
# runbook NAME: four steps; the second lasts 3 s and marks its start.
runbook() {
	cat >"$T/$1.yaml" <<YAML
cutover: 1
name: $1
phases:
  - id: p
    steps:
      - {id: a, type: local, run: 'echo "$1 a" >> \$LEDGER'}
      - id: long
        type: local
        run: 'echo "$1 long-start" >> \$LEDGER; sleep 3; echo "$1 long" >> \$LEDGER'
        verify: 'grep -qx "$1 long" \$LEDGER'
      - {id: c, type: local, run: 'echo "$1 c" >> \$LEDGER'}
      - {id: d, type: local, run: 'echo "$1 d" >> \$LEDGER'}
YAML
}
# wait_line TEXT [TRIES]: until the ledger has the line.
wait_line() {
	local n=${2:-500}
	while [ "$n" -gt 0 ]; do
		grep -qx "$1" "$LEDGER" 2>/dev/null && return 0
		sleep 0.02
		n=$((n - 1))
	done
	return 1
}
# after NAME: what every run must show once the store is back.
after() {
	check "$1: every step ran once" test "$(grep -c "^$1 [acd]$\|^$1 long$" "$LEDGER")" = 4
	check "$1: no side effect twice" test -z "$(sort "$LEDGER" | uniq -d)"
	check "$1: complete" test "$(C status "$T/$1.yaml" --json | jq -r .state)" = complete
	check "$1: one attempt each" test "$(C status "$T/$1.yaml" --json |
	    jq '[.steps[].attempts] | max')" = 1
	check "$1: every step succeeded" test "$(C status "$T/$1.yaml" --json |
	    jq -r '[.steps[].state] | unique | join(",")')" = succeeded
	expect_rc 0 C audit "$T/$1.yaml" --verify
}
: >"$LEDGER"

# --- 1. headless: stderr says so, nothing new starts, the outcome is held
runbook hl
C run "$T/hl.yaml" >"$T/hl.out" 2>"$T/hl.err" &
drv=$!
wait_line "hl long-start" || fail "long never started"
pg_down
wait_line "hl long" || fail "long never ended while the store was down"
sleep 1.5
check "headless: nothing new started while the store was down" \
	test "$(tail -1 "$LEDGER")" = "hl long"
contains "$T/hl.err" "STATE STORE UNREACHABLE"
kill -0 $drv 2>/dev/null && ok || fail "the driver gave up while the store was down"
up_at=$(date +%s%3N)
pg_up || fail "PostgreSQL did not start again"
wait $drv
rc=$?
[ $rc = 0 ] && ok || { fail "headless driver exit $rc"; cat "$T/hl.err" >&2; }
contains "$T/hl.out" "state store reachable again: 1 held outcome written"
ended=$(pg_psql "SELECT ended_at FROM cutover.attempts WHERE runbook = 'hl'
    AND step = 'long'")
[ -n "$ended" ] && [ "$ended" -lt "$up_at" ] && ok ||
	fail "the held outcome records when it was written ($ended), not when it ended (before $up_at)"
after hl

# --- 2. console: the header says so
runbook con
start drv "$CUTOVER --state '$state' '$T/con.yaml'"
wait_for drv "pend a" 10000
keys drv a
wait_line "con long-start" || fail "con: long never started"
pg_down
wait_for drv "STATE STORE UNREACHABLE" 15000
wait_line "con long" || fail "con: long never ended while the store was down"
sleep 1
check "console: nothing new started while the store was down" \
	test "$(tail -1 "$LEDGER")" = "con long"
pg_up || fail "PostgreSQL did not start again"
wait_for drv "ok   d" 15000
header=$(screen drv | head -1)
case $header in
*"STATE STORE UNREACHABLE"*) fail "the header still says unreachable: $header" ;;
*) ok ;;
esac
keys drv q
wait_for drv "[exit 0]" 10000
after con
finish
