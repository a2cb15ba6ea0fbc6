#!/bin/bash
# console2.sh - the console and watch mode keeping up with other terminals:
# a run completed elsewhere, decisions made elsewhere, what the run waits
# for now, and the detail pane's layout at 80 and 100 columns.
. "$(dirname "$0")/lib.sh"

. "$SRCDIR/tests/tmux.sh"

# wait_re NAME REGEX [MS]: poll the screen until a line matches REGEX.
wait_re() {
	deadline=$(($(now_ms) + ${3:-5000}))
	while [ "$(now_ms)" -lt "$deadline" ]; do
		screen "$1" | grep -qE -- "$2" && { ok; return 0; }
		sleep 0.02
	done
	fail "screen $1 never matched '$2'"
	screen "$1" | sed 's/^/  | /' >&2
	return 1
}

# shows NAME TEXT: the screen shows TEXT now.
shows() {
	if screen "$1" | grep -qF -- "$2"; then ok; else
		fail "screen $1 does not show '$2'"
		screen "$1" | sed 's/^/  | /' >&2
	fi
}

# header NAME: the screen's first line.
header() { screen "$1" | head -n 1; }

# --- 1. watch opened before a run completes shows it complete
cat >"$T/w.yaml" <<'YAML'
cutover: 1
name: w
phases:
  - id: p
    steps:
      - {id: one, type: manual}
      - {id: two, type: local, run: "true"}
YAML
wdb=$T/w.db
"$CUTOVER" --state "$wdb" run "$T/w.yaml" >/dev/null 2>&1
start wat "$CUTOVER --state '$wdb' watch '$T/w.yaml'"
wait_for wat "WAIT one"
"$CUTOVER" --state "$wdb" confirm "$T/w.yaml" one >/dev/null 2>&1
"$CUTOVER" --state "$wdb" run "$T/w.yaml" >/dev/null 2>&1
wait_for wat "ok   two"
wait_for wat "run 1 complete" 3000
h1=$(header wat | grep -o 'T+[0-9:]*')
sleep 2.2
h2=$(header wat | grep -o 'T+[0-9:]*')
[ -n "$h1" ] && [ "$h1" = "$h2" ] && ok ||
    fail "the clock of a complete run still moves ($h1, then $h2)"
keys wat q
wait_for wat "[exit 0]"

# --- 2. decisions show at once: g here, decide from another terminal
cat >"$T/g.yaml" <<'YAML'
cutover: 1
name: g
roles:
  lead: [lead]
  duty: [duty, dora]
phases:
  - id: p
    steps:
      - {id: prep, type: local, run: "true"}
      - {id: gate, type: checkpoint, approvals: 3, approvers: [lead, duty]}
      - {id: after, type: local, run: "true"}
YAML
gdb=$T/g.db
start drv "$CUTOVER --state '$gdb' --operator lead '$T/g.yaml'"
wait_for drv "pend prep"
keys drv Enter
wait_for drv "WAIT gate"
keys drv j
wait_for drv "0 of 3 go"
start gw "$CUTOVER --state '$gdb' watch '$T/g.yaml'"
wait_for gw "WAIT gate"
keys gw j
wait_for gw "0 of 3 go"
keys drv g "counts match" Enter
wait_for drv "gate: go by lead"
wait_for drv "checkpoint  1 of 3 go" 1500
wait_for gw "checkpoint  1 of 3 go" 1500
"$CUTOVER" --state "$gdb" --operator duty decide "$T/g.yaml" gate go \
    --reason "tills fine" >/dev/null
wait_for drv "checkpoint  2 of 3 go" 1500
wait_for gw "checkpoint  2 of 3 go" 1500
# --- 10. the detail pane lists each decision: who, what, when, why
for w in drv gw; do
	wait_for $w "decisions go by lead "
	wait_for $w ": counts match"
	wait_for $w "go by duty "
	wait_for $w ": tills fine"
done
screen drv | grep -qE "go by lead [0-9]{2}:[0-9]{2}:[0-9]{2}Z: counts match" &&
    ok || fail "the decision by lead lacks its time"
# --- 8. the needs-attention line: what waits and who may act, at once
for w in drv gw; do
	wait_for $w "WAITING gate: 2 of 3 go — may decide: lead [lead]; duty, dora [duty]"
done
"$CUTOVER" --state "$gdb" --operator dora decide "$T/g.yaml" gate no-go \
    --reason "tills down" >/dev/null
for w in drv gw; do
	wait_for $w 'NO-GO at gate by dora: "tills down"' 1500
done
keys drv q
wait_for drv "[exit 0]"
keys gw q
wait_for gw "[exit 0]"

# --- 8. a step failing in a LIVE run: message, bell, selection, the line
cat >"$T/f.yaml" <<'YAML'
cutover: 1
name: f
phases:
  - id: p
    steps:
      - {id: first, type: local, run: "true"}
      - {id: second, type: local, run: "true"}
      - {id: import-articles, type: local, run: "sleep 1; exit 3"}
      - {id: last, type: local, run: "true"}
YAML
start liv "$CUTOVER --state '$T/f.db' --mode live --operator lead '$T/f.yaml'"
wait_for liv "*** LIVE ***"
wait_for liv "nothing waits for a person"
[ "$(tm display -p -t liv '#{window_bell_flag}')" = 0 ] && ok ||
    fail "a bell before anything failed"
keys liv a
wait_for liv "LIVE: import-articles FAILED" 5000
wait_for liv "FAILED import-articles — r retry, s skip"
[ "$(screen liv | awk '/^>/ { print $3; exit }')" = import-articles ] && ok ||
    fail "the selection did not move to the failed step"
[ "$(tm display -p -t liv '#{window_bell_flag}')" = 1 ] && ok ||
    fail "no bell when a step failed in a live run"
keys liv q
wait_for liv "[exit 0]"

# --- 7. the header: time left, labelled, and never ahead of plan while
# steps run late
cat >"$T/e.yaml" <<'YAML'
cutover: 1
name: e
phases:
  - id: p
    steps:
      - {id: quick, type: local, run: "true", planned: 10m}
      - {id: slow, type: local, run: "sleep 4", planned: 1s}
      - {id: tail, type: local, run: "true", planned: 1m}
YAML
start eta "$CUTOVER --state '$T/e.db' --operator lead '$T/e.yaml'"
wait_for eta "left 00:12 (on plan)"
keys eta a
wait_for eta "RUN  slow"
wait_for eta "(1 late)" 4000
header eta | grep -qiE "late" && header eta | grep -qE "ahead|\(-" &&
    fail "the header says ahead of plan while a step runs late: $(header eta)" || ok
header eta | grep -q "ETA" &&
    fail "the header's time left is labelled ETA: $(header eta)" || ok
wait_for eta "ok   tail" 8000
keys eta q
wait_for eta "[exit 0]"

# --- 5. the detail pane at 80 and 100 columns: long scripts say how much is
# left, values wrap at word boundaries; overlays hide what is beneath
cat >"$T/d.yaml" <<'YAML'
cutover: 1
name: d
phases:
  - id: p
    steps:
      - id: multi
        type: local
        planned: 10m
        run: |
          echo one
          echo two
          echo three
          echo four
          echo five
          echo six
          echo seven
          echo eight
          echo nine
      - {id: m, type: manual}
YAML
start det "$CUTOVER --state '$T/d.db' --operator lead '$T/d.yaml'"
wait_for det "echo five"
wait_for det "… 4 more lines"
shows det "plan 10m"
keys det Enter
wait_for det "ok   multi"
keys det j c '{"source_rows":200,"dest_rows":199,"matched":198,"missing":1,"extra":0}' Enter
wait_for det "m: confirmed by lead"
for cols in 80 100; do
	tm resize-window -t det -x $cols -y 24
	keys det Home
	wait_for det "state     succeeded"
	# the list is 2/5 of the width: wait for the redraw at this width
	wait_re det "^ {$((cols * 2 / 5))}│ run"
	screen det >"$T/screen.$cols"
	n=$(screen det | grep -oE '[0-9]{2}:[0-9]{2}:[0-9]{2}Z' | wc -l)
	[ "$n" -ge 2 ] && ok || fail "times split at $cols columns"
	screen det | grep -qE 'took [0-9]+(ms|s)( |$)' && ok ||
	    fail "'took' split at $cols columns"
	keys det j
	wait_for det "state     succeeded"
	for word in '"source_rows":200' '"dest_rows":199' '"matched":198' \
	    '"missing":1' '"extra":0'; do
		screen det | grep -qF -- "$word" && ok ||
		    fail "$word split at $cols columns"
	done
done
tm resize-window -t det -x 80 -y 24
wait_re det "^ {32}│ attempts"
keys det '?'
wait_for det "keys (any key closes"
box=$(screen det | sed -n '2,/└/p')
bad=$(printf '%s\n' "$box" | grep -cvE '^ *[┌│└].*[┐│┘] *$')
[ "$bad" = 0 ] && ok || {
	fail "$bad lines show text beside the help overlay"
	printf '%s\n' "$box" | sed 's/^/  | /' >&2
}
keys det Escape
keys det q
wait_for det "[exit 0]"

finish
