#!/bin/bash
# pg-freeze.sh - the console never freezes while the state store is cut
# off. A console driver reaches PostgreSQL through a TCP proxy
# (tests/pg-proxy.py) that the test freezes for about 10 s while a step
# runs (silence, as in a network partition: no error, no answer):
#  - the console keeps answering keys, and so does a watching console
#    (`cutover watch`, through the proxy too): `?` is typed every 300 ms and the
#    screen must change within 1 s each time, apart from at most one stall
#    of at most 4.5 s when the partition starts (the statement in flight
#    waits for its answer, 3 s at most; reconnecting never blocks);
#  - both say STATE STORE UNREACHABLE meanwhile;
#  - after the proxy resumes, the held outcomes are written (a reconcile's
#    result with its outcome) and the run goes on to the end: every step
#    ran once, one attempt each.
. "$(dirname "$0")/../lib.sh"
. "$SRCDIR/tests/pg.sh"
. "$SRCDIR/tests/tmux.sh"
pg_start || { echo "pg-freeze.sh: no PostgreSQL server" >&2; exit 1; }
proxy=
trap '[ -z "$proxy" ] || kill $proxy 2>/dev/null; tm kill-server 2>/dev/null;
    pg_stop; cleanup' EXIT

python3 "$SRCDIR/tests/pg-proxy.py" "$T/proxy.port" 127.0.0.1 "$PGPORT" &
proxy=$!
for _ in $(seq 100); do [ -s "$T/proxy.port" ] && break; sleep 0.05; done
PPORT=$(cat "$T/proxy.port")
direct="postgresql://cutover@127.0.0.1:$PGPORT/cutover"
via_proxy="postgresql://cutover@127.0.0.1:$PPORT/cutover"
export LEDGER=$T/ledger
: >"$LEDGER"
rb=$T/freeze.yaml
cat >"$rb" <<'YAML'
cutover: 1
name: freeze
settings: {parallel: 2}
targets:
  db: {type: postgres, conninfo: "host=127.0.0.1 port=${env:PGPORT} user=cutover dbname=cutover"}
phases:
  - id: p
    steps:
      - {id: a, type: local, run: 'echo a >> $LEDGER'}
      - id: rec
        type: reconcile
        needs: [a]
        compare: rows
        key: 1
        tolerance: 0
        source: {target: db, query: 'SELECT g FROM generate_series(1, 3) g, pg_sleep(6)'}
        dest: {target: db, query: 'SELECT g FROM generate_series(1, 3) g'}
      - id: long
        type: local
        needs: [a]
        run: 'echo long-start >> $LEDGER; for i in 1 2 3 4 5 6 7 8; do echo tick $i; sleep 1; done; echo long >> $LEDGER'
      - {id: b, type: local, needs: [long, rec], run: 'echo b >> $LEDGER'}
YAML
expect_rc 0 "$CUTOVER" lint "$rb"
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
HELP="show or hide this help"

# toggle PANE: type `?` and wait (at most 6 s) for the help to appear or
# go; adds the ms it took to $T/lat.PANE (6000 if it never did).
shown_drv=0
shown_wat=0
toggle() {
	local t0 t1 sh
	t0=$(now_ms)
	keys "$1" '?'
	eval "sh=\$((1 - shown_$1)); shown_$1=\$sh"
	while :; do
		screen "$1" >"$T/screen"
		grep -q UNREACHABLE "$T/screen" && : >"$T/saw-unreachable.$1"
		if grep -qF -- "$HELP" "$T/screen"; then
			[ "$sh" = 1 ] && break
		else
			[ "$sh" = 0 ] && break
		fi
		t1=$(now_ms)
		[ $((t1 - t0)) -lt 6000 ] || {
			cp "$T/screen" "$T/stuck.$1.$t0"
			echo 6000 >>"$T/lat.$1"
			return
		}
		sleep 0.01
	done
	echo $(($(now_ms) - t0)) >>"$T/lat.$1"
}
# judge PANE WHAT: the latencies of PANE's keys.
judge() {
	local lat slow worst
	echo "$2: key latencies (ms):" $(cat "$T/lat.$1")
	lat=$(grep -v resumed "$T/lat.$1")
	check "$2: keys were typed throughout" test "$(echo "$lat" | wc -l)" -ge 20
	slow=$(echo "$lat" | awk '$1 > 1000' | wc -l)
	worst=$(echo "$lat" | sort -n | tail -1)
	check "$2: at most one key answered later than 1 s ($slow were)" \
		test "$slow" -le 1
	check "$2: no stall over 4.5 s (3 s to notice, and the load) (the worst: $worst ms)" \
		test "$worst" -le 4500
	check "$2 said STATE STORE UNREACHABLE" test -e "$T/saw-unreachable.$1"
}

# The driver, a console, and a watching console, both through the proxy.
start drv "$CUTOVER --state '$via_proxy' '$rb'"
wait_for drv "long" 10000
keys drv a
wait_line long-start 1000 || fail "long never started"
start wat "$CUTOVER --state '$via_proxy' watch '$rb'"
wait_for wat "RUN  long" 10000
sleep 1.5 # the step's output is being flushed, the lease renewed

# --- freeze the proxy for ~10 s; keys every 300 ms throughout, and 3 s on
kill -USR1 $proxy
freeze_end=$(($(now_ms) + 10000))
resumed=
: >"$T/lat.drv"
: >"$T/lat.wat"
end=$((freeze_end + 3000))
while [ "$(now_ms)" -lt $end ]; do
	if [ -z "$resumed" ] && [ "$(now_ms)" -ge $freeze_end ]; then
		kill -USR2 $proxy
		resumed=1
		resume_ms=$(now_ms)
		echo resumed >>"$T/lat.drv"
	fi
	t0=$(now_ms)
	toggle drv
	toggle wat
	rest=$((300 - ($(now_ms) - t0)))
	[ $rest -gt 0 ] && sleep "0.$(printf %03d $rest)"
done
[ -n "$resumed" ] || { kill -USR2 $proxy; resume_ms=$(now_ms); }
[ $shown_drv = 1 ] && toggle drv
judge drv "the driver's console"
judge wat "the watching console"
check "b started only once the store was back" test "$(pg_psql "SELECT
    started_at >= $resume_ms FROM cutover.attempts WHERE runbook = 'freeze'
    AND step = 'b'")" = t

# --- back: the held outcome is written, the run goes to the end
n=0
until [ "$(state_of b)" = succeeded ] || [ $n -gt 300 ]; do
	sleep 0.1
	n=$((n + 1))
done
check "long succeeded (its held outcome written)" test "$(state_of long)" = succeeded
check "b ran after it" test "$(state_of b)" = succeeded
check "rec succeeded" test "$(state_of rec)" = succeeded
check "rec's result, held with its outcome, was stored" test "$("$CUTOVER" \
    --state "$direct" status "$rb" --json | jq -c '.steps[] |
    select(.id == "rec") | .result.source_rows')" = 3
check "every step ran once" test "$(sort "$LEDGER" | tr '\n' ' ')" = \
	"a b long long-start "
check "one attempt each" test "$(pg_psql "SELECT string_agg(step || ':' || n,
    ' ' ORDER BY step, n) FROM cutover.attempts WHERE runbook = 'freeze'")" = \
	"a:1 b:1 long:1 rec:1"
expect_rc 0 "$CUTOVER" --state "$direct" audit "$rb" --verify
finish
