#!/bin/bash
# pg-partition.sh - two machines and a network partition, on the
# PostgreSQL store. Driver A (host name host-a, in a UTS namespace of its
# own) reaches the database through a TCP proxy (tests/pg-proxy.py) that
# the test freezes mid-run; driver B (host-b) reaches it directly.
#  - A, cut off, starts nothing new and says STATE STORE UNREACHABLE;
#  - B is refused (exit 4, naming host-a) while A's lease is fresh, and
#    takes over once it has expired;
#  - A's running steps become interrupted on B: the one with a verify that
#    passes is succeeded without running again; the one without a verify,
#    and the one whose verify fails (still running on A), wait for a
#    person; B never runs a local step of host-a again on its own;
#  - when the partition heals, A is fenced: it commits nothing and exits 4.
# Side effects go to a ledger, each line tagged with the host that made it.
. "$(dirname "$0")/../lib.sh"
. "$SRCDIR/tests/pg.sh"
[ "$(id -u)" = 0 ] && unshare --uts true 2>/dev/null || {
	echo "pg-partition.sh: skipped, needs root for unshare --uts"
	exit 77
}
pg_start || { echo "pg-partition.sh: no PostgreSQL server" >&2; exit 1; }
proxy=
trap '[ -z "$proxy" ] || kill $proxy 2>/dev/null; pg_stop; cleanup' EXIT

python3 "$SRCDIR/tests/pg-proxy.py" "$T/proxy.port" 127.0.0.1 "$PGPORT" &
proxy=$!
for _ in $(seq 100); do [ -s "$T/proxy.port" ] && break; sleep 0.05; done
PPORT=$(cat "$T/proxy.port")
direct="postgresql://cutover@127.0.0.1:$PGPORT/cutover"
via_proxy="postgresql://cutover@127.0.0.1:$PPORT/cutover"
export LEDGER=$T/ledger
: >"$LEDGER"
rb=$T/part.yaml
cat >"$rb" <<'YAML'
cutover: 1
name: part
settings: {parallel: 3}
phases:
  - id: p
    steps:
      - {id: a, type: local, run: 'echo "$(hostname) a" >> $LEDGER'}
      - id: long
        type: local
        needs: [a]
        run: 'echo "$(hostname) long-start" >> $LEDGER; sleep 5; echo "$(hostname) long" >> $LEDGER'
        verify: 'grep -q " long$" $LEDGER'
      - id: nover
        type: local
        needs: [a]
        run: 'echo "$(hostname) nover-start" >> $LEDGER; sleep 5; echo "$(hostname) nover" >> $LEDGER'
      - id: slow
        type: local
        needs: [a]
        run: 'echo "$(hostname) slow-start" >> $LEDGER; sleep 300; echo "$(hostname) slow" >> $LEDGER'
        verify: 'grep -q " slow$" $LEDGER'
      - {id: c, type: local, needs: [long, nover, slow], run: 'echo "$(hostname) c" >> $LEDGER'}
      - {id: d, type: local, run: 'echo "$(hostname) d" >> $LEDGER'}
YAML
expect_rc 0 "$CUTOVER" lint "$rb"

# as HOST STATE ARGS...: cutover on machine HOST (a UTS namespace).
as() {
	local host=$1 st=$2
	shift 2
	unshare --uts sh -c 'hostname "$0" && exec "$@"' "$host" \
	    "$CUTOVER" --state "$st" "$@"
}
B() { as host-b "$direct" "$@"; }
wait_line() {
	local n=${2:-500}
	while [ "$n" -gt 0 ]; do
		grep -qx "$1" "$LEDGER" && return 0
		sleep 0.02
		n=$((n - 1))
	done
	return 1
}
state_of() {
	"$CUTOVER" --state "$direct" status "$rb" --json |
	    jq -r --arg s "$1" '.steps[] | select(.id == $s) | .state'
}

# --- A drives through the proxy; the network is cut mid-step
as host-a "$via_proxy" run "$rb" >"$T/a.out" 2>"$T/a.err" &
A=$!
for l in "host-a long-start" "host-a nover-start" "host-a slow-start"; do
	wait_line "$l" || fail "A never started: $l"
done
kill -USR1 $proxy
wait_line "host-a long" || fail "long never ended on A"
wait_line "host-a nover" || fail "nover never ended on A"

# --- B is refused while A's lease is fresh, naming A's machine
expect_rc 4 B run "$rb"
contains "$T/err" "host-a"

# --- A says it cannot reach the store, and starts nothing new
n=0
until grep -q "STATE STORE UNREACHABLE" "$T/a.err" || [ $n -gt 300 ]; do
	sleep 0.1
	n=$((n + 1))
done
contains "$T/a.err" "STATE STORE UNREACHABLE"
kill -0 $A 2>/dev/null && ok || fail "A exited while cut off"

# --- B takes over once the lease has expired (30 s without renewal)
n=0
while :; do
	B run "$rb" >"$T/b.out" 2>"$T/b.err"
	rc=$?
	grep -q "is driven by" "$T/b.err" || break
	[ $n -lt 30 ] || break
	n=$((n + 1))
	sleep 2
done
[ $rc = 5 ] && ok || { fail "B after the lease expired: exit $rc"; cat "$T/b.err" >&2; }
check "B took over" test "$(pg_psql "SELECT count(*) FROM cutover.audit
    WHERE runbook = 'part' AND action = 'driver-takeover'")" = 1
check "long: its verify passed, not run again" test "$(state_of long)" = succeeded
check "nover: no verify, waits for a person" test "$(state_of nover)" = awaiting
check "slow: still running on A, verify failed: waits for a person" \
	test "$(state_of slow)" = awaiting
check "B ran no step of host-a again" test -z "$(grep '^host-b \(long\|nover\|slow\)' "$LEDGER")"
check "A started nothing after the cut" test -z "$(grep '^host-a [cd]$' "$LEDGER")"

# --- people decide, B finishes the run
B confirm "$rb" nover --note "the ledger shows it done on host-a" >/dev/null ||
	fail "confirm nover"
B skip "$rb" slow --reason "host-a is cut off; done by hand" >/dev/null ||
	fail "skip slow"
expect_rc 0 B run "$rb"
check "c and d ran on B" test "$(grep -c '^host-b [cd]$' "$LEDGER")" = 2
audit_before=$(pg_psql "SELECT max(id) FROM cutover.audit WHERE runbook = 'part'")
att_before=$(pg_psql "SELECT string_agg(step || ':' || n || ':' || state, ' ' ORDER BY step, n) FROM cutover.attempts WHERE runbook = 'part'")

# --- the partition heals: A is fenced, commits nothing, exits 4
kill -USR2 $proxy
n=0
while kill -0 $A 2>/dev/null && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
wait $A
rc=$?
[ $rc = 4 ] && ok || { fail "A after the partition healed: exit $rc"; cat "$T/a.err" >&2; }
contains "$T/a.err" "took over"
check "A committed nothing: no audit entry after B finished" test \
	"$(pg_psql "SELECT max(id) FROM cutover.audit WHERE runbook = 'part'")" = "$audit_before"
check "A committed nothing: attempts as B left them" test \
	"$(pg_psql "SELECT string_agg(step || ':' || n || ':' || state, ' ' ORDER BY step, n) FROM cutover.attempts WHERE runbook = 'part'")" = "$att_before"
check "A's attempts all ended by B, none by A" test \
	"$(pg_psql "SELECT count(*) FROM cutover.attempts WHERE runbook = 'part' AND host = 'host-a' AND step <> 'a' AND state <> 'interrupted'")" = 0
check "no side effect twice" test -z "$(sort "$LEDGER" | uniq -d)"
check "slow was never finished anywhere" test -z "$(grep ' slow$' "$LEDGER")"
check "the run is complete" test "$("$CUTOVER" --state "$direct" status "$rb" --json | jq -r .state)" = complete
expect_rc 0 "$CUTOVER" --state "$direct" audit "$rb" --verify
echo "ledger:"; sed 's/^/  /' "$LEDGER"
finish
