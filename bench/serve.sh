#!/bin/bash
# serve.sh - `cutover serve` under load.
#
# 1. Dashboard update latency: a real headless Chromium holds the
#    dashboard open (tests/browser.py, over the DevTools protocol) while
#    20 steps are confirmed one after another from the command line; each
#    latency runs from the start of the `cutover confirm` process to the
#    moment the page's DOM shows the step succeeded (a MutationObserver
#    stamps it with the page's clock). Target: p99 under 1 s.
# 2. /api/status throughput over a run of 5,000 steps (4,999 done, one
#    waiting for a person, so the run is open and its ETA moves): wrk
#    with 4 connections for 10 s, and the server's peak RSS; with the
#    first (cold) answer's time and the dashboard's; then the same run
#    complete, whose pages are kept until the store changes.
. "$(dirname "$0")/lib.sh"

STEPS=${STEPS:-5000}
DURATION=${DURATION:-10s}
command -v wrk >/dev/null || { echo "bench/serve.sh: needs wrk"; exit 1; }
[ -x /usr/bin/chromium ] || { echo "bench/serve.sh: needs chromium"; exit 1; }
pid=
trap '[ -z "$pid" ] || kill "$pid" 2>/dev/null; rm -rf "$B"' EXIT

# serve RUNBOOK: start the server on a free port; sets pid and url.
serve() {
	"$CUTOVER" serve "$1" --listen 127.0.0.1:0 >"$B/serve.out" 2>&1 &
	pid=$!
	url=
	for _ in $(seq 100); do
		url=$(sed -n 's/^cutover: serving .* at \(http[^ ]*\).*/\1/p' \
		    "$B/serve.out")
		[ -n "$url" ] && return 0
		sleep 0.1
	done
	echo "bench/serve.sh: the server did not start" >&2
	cat "$B/serve.out" >&2
	exit 1
}

stop() {
	kill "$pid" && wait "$pid" 2>/dev/null || true
	pid=
}

# --- 1. commit to DOM -----------------------------------------------------
export CUTOVER_STATE=$B/lat.db
{
	echo "cutover: 1"
	echo "name: lat"
	echo "phases:"
	echo "  - id: p"
	echo "    steps:"
	for i in $(seq -w 1 20); do
		echo "      - {id: m$i, type: manual, instructions: x, needs: []}"
	done
} >"$B/lat.yaml"
"$CUTOVER" run "$B/lat.yaml" >/dev/null 2>&1 || true
serve "$B/lat.yaml"
echo "== dashboard: commit to DOM, 20 changes"
python3 "$top/tests/browser.py" bench "$url" "$CUTOVER" confirm \
    "$B/lat.yaml" -- $(seq -f 'm%02g' 1 20) | tail -1
stop

# --- 2. /api/status over 5,000 steps -----------------------------------------
export CUTOVER_STATE=$B/big.db
{
	echo "cutover: 1"
	echo "name: big"
	one_phase $((STEPS - 1)) 'type: local, run: "true"'
	echo "      - {id: last, type: manual, instructions: x}"
} >"$B/big.yaml"
"$CUTOVER" run "$B/big.yaml" >/dev/null 2>&1 || true
serve "$B/big.yaml"
echo "== /api/status, $STEPS steps, open run"
cold=$(ms curl -s -o /dev/null "${url}api/status")
size=$(curl -s "${url}api/status" | wc -c)
echo "first answer ${cold} ms, ${size} bytes"
wrk -t2 -c4 -d"$DURATION" "${url}api/status" | grep -E 'Requests/sec|Latency'
echo "server peak RSS $(awk '/VmHWM/ { print $2, $3 }' /proc/$pid/status)"
dash=$(ms curl -s -o /dev/null "${url}")
echo "dashboard (cold) ${dash} ms, $(curl -s "${url}" | wc -c) bytes"
echo "server peak RSS $(awk '/VmHWM/ { print $2, $3 }' /proc/$pid/status) after the dashboard"
# The run complete: its pages are kept until the store changes again.
"$CUTOVER" confirm "$B/big.yaml" last >/dev/null
"$CUTOVER" run "$B/big.yaml" >/dev/null 2>&1
sleep 0.5
echo "== /api/status, $STEPS steps, complete run"
wrk -t2 -c4 -d"$DURATION" "${url}api/status" | grep -E 'Requests/sec|Latency'
echo "server peak RSS $(awk '/VmHWM/ { print $2, $3 }' /proc/$pid/status)"
stop
