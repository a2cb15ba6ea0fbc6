#!/bin/bash
# console.sh - how quickly the console answers a key, idle and while a step
# floods output (50 MB bursts of 100-column lines, again and again), and
# what the console costs in CPU when nothing happens.
#
# Then the same with the entity x step matrix of 500 entities x 30 steps
# open at 80x24 while 8 lanes run (15,000 instances, one run).
#
# Latency is measured from the outside, as a person sees it: tmux
# send-keys, then capture-pane polled until the selection has moved. It
# includes tmux's own work, so it is an upper bound. Target: p99 under
# 50 ms while flooding, and with the matrix open while lanes run.
. "$(dirname "$0")/lib.sh"

N=${N:-60}
IDLE_S=${IDLE_S:-10}
command -v tmux >/dev/null || { echo "bench/console.sh: needs tmux"; exit 1; }
SOCK=cutover-bench-$$
tm() { tmux -L "$SOCK" -f /dev/null "$@"; }
trap 'tm kill-server 2>/dev/null || true; [ -z "${KEEP:-}" ] || cp "$B/idle" "$B/flood" "$KEEP"; rm -rf "$B"' EXIT
export LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=screen

cat >"$B/b.yaml" <<'YAML'
cutover: 1
name: b
phases:
  - id: p
    steps:
      - id: flood
        type: local
        run: while :; do head -c 50000000 /dev/zero | tr '\0' x | fold -w 100; done
        needs: []
      - {id: a, type: local, run: "true", needs: []}
      - {id: b, type: local, run: "true", needs: []}
YAML

now_us() { date +%s%6N; }
selected() { tm capture-pane -p -t b | awk '/^>/ { print $3; exit }'; }
wait_selected() {
	end=$(($(now_us) + 5000000))
	until [ "$(selected)" = "$1" ]; do
		if [ "$(now_us)" -gt "$end" ]; then
			echo "the selection never reached $1" >&2
			exit 1
		fi
	done
}

# sample N: N key presses moving the selection; prints one latency (ms) a line.
sample() {
	i=0
	while [ $i -lt "$1" ]; do
		if [ $((i % 2)) = 0 ]; then k=j want=a; else k=k want=flood; fi
		t0=$(now_us)
		tm send-keys -t b "$k"
		wait_selected "$want"
		t1=$(now_us)
		awk -v d=$((t1 - t0)) 'BEGIN { printf "%.1f\n", d / 1000 }'
		i=$((i + 1))
	done
}

# pct P FILE: the P-th percentile of the numbers in FILE.
pct() {
	sort -n "$2" | awk -v p="$1" '{ v[NR] = $1 }
	    END { i = int((NR * p + 99) / 100); if (i < 1) i = 1; print v[i] }'
}

# cpu_ms PID: user + system CPU time of PID so far, in ms.
cpu_ms() {
	awk -v hz="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); print ($12 + $13) * 1000 / hz }' \
	    "/proc/$1/stat"
}

tm new-session -d -s b -x 120 -y 40 \
    "cd '$B' && CUTOVER_UI_TRACE='$B/trace' exec '$CUTOVER' --state '$B/b.db' '$B/b.yaml'"
pid=$(tm display-message -p -t b '#{pane_pid}')
wait_selected flood

c0=$(cpu_ms "$pid")
sleep "$IDLE_S"
c1=$(cpu_ms "$pid")
idle_cpu=$(awk -v a="$c0" -v b="$c1" -v s="$IDLE_S" 'BEGIN { printf "%.2f", (b - a) / (s * 10) }')

sample "$N" >"$B/idle"
tm send-keys -t b Enter
until tm capture-pane -p -t b | grep -q xxxxxxxxxx; do :; done
: >"$B/trace"
sample "$N" >"$B/flood"
cp "$B/trace" "$B/inner"
tm capture-pane -p -t b | grep -q "RUN  flood" ||
	{ echo "the flood ended before the samples did"; exit 1; }
fc0=$(cpu_ms "$pid")
sleep 2
fc1=$(cpu_ms "$pid")
flood_cpu=$(awk -v a="$fc0" -v b="$fc1" 'BEGIN { printf "%.1f", (b - a) / 20 }')
tm send-keys -t b q
sleep 0.2
tm send-keys -t b y

# --- the matrix: 500 entities x 30 steps, 8 lanes running
python3 - "$B/m.yaml" <<'PY'
import sys
l = ["cutover: 1", "name: m", "entities:"]
l += ["  - {id: store-%03d, wave: w%d}" % (i, i // 100) for i in range(500)]
l += ["phases:", "  - id: stores", "    for_each: entity", "    parallel: 8",
      "    steps:"]
l += ["      - {id: s%02d, type: local, run: 'sleep 0.3'}" % j for j in range(30)]
open(sys.argv[1], "w").write("\n".join(l) + "\n")
PY
tm new-session -d -s m -x 80 -y 24 \
    "cd '$B' && CUTOVER_UI_TRACE='$B/mtrace' exec '$CUTOVER' --state '$B/m.db' '$B/m.yaml'"
cell() { tm capture-pane -p -t m | sed -n 3p | grep -o 's[0-9]*@store-[0-9]*'; }
wait_cell() {
	end=$(($(now_us) + 5000000))
	until [ "$(cell)" = "$1" ]; do
		if [ "$(now_us)" -gt "$end" ]; then
			echo "the matrix cursor never reached $1" >&2
			exit 1
		fi
	done
}
until tm capture-pane -p -t m | grep -q "pend s00"; do sleep 0.1; done
tm send-keys -t m a
until tm capture-pane -p -t m | grep -q "RUN  s00"; do sleep 0.1; done
tm send-keys -t m e
wait_cell s00@store-000
: >"$B/mtrace"
i=0
while [ $i -lt "$N" ]; do
	if [ $((i % 2)) = 0 ]; then k=j want=s00@store-001; else k=k want=s00@store-000; fi
	t0=$(now_us)
	tm send-keys -t m "$k"
	wait_cell "$want"
	t1=$(now_us)
	awk -v d=$((t1 - t0)) 'BEGIN { printf "%.1f\n", d / 1000 }'
	i=$((i + 1))
done >"$B/matrix"
tm send-keys -t m e
sleep 0.3
lanes=$(tm capture-pane -p -t m | grep -o '▶[0-9][0-9]*' | head -1)
tm send-keys -t m q
sleep 0.2
tm send-keys -t m y

ip50=$(pct 50 "$B/idle") ip99=$(pct 99 "$B/idle")
fp50=$(pct 50 "$B/flood") fp99=$(pct 99 "$B/flood")
echo "key to screen, idle ($N samples):     p50 ${ip50} ms  p99 ${ip99} ms"
echo "key to screen, flooding ($N samples): p50 ${fp50} ms  p99 ${fp99} ms" \
    "(target p99 < 50 ms)"
echo "inside the console while flooding (key read to screen sent):" \
    "p50 $(pct 50 "$B/inner") ms  p99 $(pct 99 "$B/inner") ms"
echo "ratio flooding p99 / idle p99: $(ratio "$fp99" "$ip99")"
echo "console CPU idle over ${IDLE_S} s: ${idle_cpu}% of one core"
echo "console CPU while flooding: ${flood_cpu}% of one core"
echo "key to screen, 500 x 30 matrix open at 80x24, lanes running" \
    "($N samples, $lanes running at the end): p50 $(pct 50 "$B/matrix") ms" \
    "p99 $(pct 99 "$B/matrix") ms (target p99 < 50 ms)"
echo "inside the console, matrix open (key read to screen sent):" \
    "p50 $(pct 50 "$B/mtrace") ms  p99 $(pct 99 "$B/mtrace") ms"
