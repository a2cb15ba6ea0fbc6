#!/bin/bash
# console.sh - the console and watch mode, driven through tmux: open and
# move, run a step and see its output, confirm with a note, go and no-go,
# the quit prompt, a resize to 80x24, the ASCII fallback, watch following a
# confirm from another terminal, theme errors, and keys staying quick while
# a step floods 50 MB of output.
. "$(dirname "$0")/lib.sh"

. "$SRCDIR/tests/tmux.sh"

rb=$T/wave.yaml
db=$T/wave.db
cat >"$rb" <<'YAML'
cutover: 1
name: wave
title: Console test wave
phases:
  - id: freeze
    title: Freeze legacy writes
    steps:
      - id: hello
        title: Say hello
        type: local
        run: for i in 1 2 3; do echo "hello line $i"; done
        planned: 1m
      - id: announce
        type: manual
        instructions: Tell the stores.
        planned: 10m
  - id: switch
    title: Switchover
    steps:
      - id: gate
        type: checkpoint
      - id: slow
        type: local
        run: sleep 30
      - id: flood
        type: local
        run: head -c 50000000 /dev/zero | tr '\0' x | fold -w 100
      - id: after-flood
        type: local
        run: "true"
      - id: gate2
        type: checkpoint
YAML

# selected NAME: the id of the selected step (the row marked '>').
selected() { screen "$1" | awk '/^>/ { print $3; exit }'; }

# wait_selected NAME ID [MS]
wait_selected() {
	deadline=$(($(now_ms) + ${3:-5000}))
	while [ "$(now_ms)" -lt "$deadline" ]; do
		[ "$(selected "$1")" = "$2" ] && { ok; return 0; }
		sleep 0.01
	done
	fail "selection on $1 is '$(selected "$1")', not $2"
	return 1
}

state_of() { "$CUTOVER" --state "$db" status "$rb" --json |
	jq -r --arg s "$1" '.steps[] | select(.id == $s) | .state'; }

C="$CUTOVER --state '$db' --operator lead"

# --- theme errors, before any terminal is needed
printf 'normal default default\nheader bright-white blue blod\n' >"$T/bad.theme"
expect_rc 2 "$CUTOVER" --state "$db" --theme "$T/bad.theme" "$rb"
contains "$T/err" "$T/bad.theme:2: error: unknown attribute 'blod'"
expect_rc 2 "$CUTOVER" --state "$db" --theme no-such-theme "$rb"
contains "$T/err" "no theme named 'no-such-theme'"
CUTOVER_THEME=no-such-theme expect_rc 2 "$CUTOVER" --state "$db" watch "$rb"
contains "$T/err" "no theme named"
expect_rc 2 "$CUTOVER" --state "$db" "$rb" </dev/null
contains "$T/err" "needs a terminal"

# --- open, navigate, help
start con "$C --theme '$SRCDIR/themes/default.theme' '$rb'"
wait_for con "REHEARSAL"
wait_for con "Console test wave"
wait_for con "left 00:11 (on plan)"
wait_for con "q quit"
wait_selected con hello
keys con j
wait_selected con announce
keys con Down Down
wait_selected con slow
keys con k
wait_selected con gate
keys con Home
wait_selected con hello
keys con '?'
wait_for con "keys (any key closes"
wait_for con "confirm the selected manual"
keys con Escape
wait_for con "Enter runs it"

# --- run a local step: live output, final state word
keys con Enter
wait_for con "hello line 3"
wait_for con "state     succeeded"
wait_for con "✓ ok   hello"

# --- confirm a manual step with a note
keys con j
wait_for con "state     awaiting"
keys con c
wait_for con "confirm announce; note"
keys con "stores told" Enter
wait_for con "announce: confirmed by lead"
test "$(state_of announce)" = succeeded && ok || fail "announce not succeeded"
"$CUTOVER" --state "$db" audit "$rb" >"$T/audit"
contains "$T/audit" "stores told"

# --- go at a checkpoint; an empty reason is refused
keys con j
wait_selected con gate
wait_for con "0 of 1 go"
keys con g
wait_for con "GO at gate; reason (required)"
keys con Enter
wait_for con "GO at gate; reason (required)"
keys con "numbers reconcile" Enter
wait_for con "gate: go by lead"
test "$(state_of gate)" = succeeded && ok || fail "gate not succeeded"
"$CUTOVER" --state "$db" audit "$rb" >"$T/audit"
contains "$T/audit" "numbers reconcile"

# --- search, read-only keys of a manual step, skip with a reason
keys con /
wait_for con "/"
keys con gate2 Enter
wait_selected con gate2
keys con n
wait_for con "gate2 is pending, not awaiting a decision"

# --- quit prompt while a step runs
keys con Home
wait_selected con hello
keys con / slow Enter
wait_selected con slow
keys con Enter
wait_for con "RUN  slow"
keys con q
wait_for con "quit and stop it"
keys con n
wait_for con "following"
test "$(state_of slow)" = running && ok || fail "slow stopped after 'n'"

# --- resize to 80x24: header and hints still there
tm resize-window -t con -x 80 -y 24
wait_for con "q quit"
wait_for con "REHEARSAL"
lines=$(screen con | wc -l)
[ "$lines" -le 24 ] && ok || fail "80x24 screen has $lines lines"
width=$(screen con | wc -L)
[ "$width" -le 80 ] && ok || fail "80x24 screen is $width wide"
tm resize-window -t con -x 100 -y 30
wait_for con "q quit"

keys con q
wait_for con "quit and stop it"
keys con y
wait_for con "[exit 0]"
test "$(state_of slow)" = interrupted && ok || fail "slow is $(state_of slow)"
"$CUTOVER" --state "$db" log "$rb" slow >/dev/null 2>&1
"$CUTOVER" --state "$db" status "$rb" --json >"$T/status"
contains "$T/status" '"interrupted"'
tm kill-session -t con

# --- no-go at the second checkpoint, skip with reason (headless set-up)
"$CUTOVER" --state "$db" skip "$rb" slow --reason "not needed" >/dev/null
"$CUTOVER" --state "$db" skip "$rb" flood --reason "later" >/dev/null
"$CUTOVER" --state "$db" skip "$rb" after-flood --reason "later" >/dev/null

# --- watch mode follows a confirm made from another terminal
cat >"$T/w.yaml" <<'YAML'
cutover: 1
name: w
phases:
  - id: p
    steps:
      - {id: one, type: manual}
      - {id: two, type: manual}
YAML
wdb=$T/w.db
"$CUTOVER" --state "$wdb" run "$T/w.yaml" >/dev/null 2>&1
start wat "$CUTOVER --state '$wdb' watch '$T/w.yaml'"
wait_for wat "WAIT one"
wait_for wat "read-only"
keys wat c
wait_for wat "read-only: this screen watches"
t0=$(now_ms)
"$CUTOVER" --state "$wdb" confirm "$T/w.yaml" one --note fine >/dev/null
wait_for wat "ok   one" 3000
t1=$(now_ms)
[ $((t1 - t0)) -le 1500 ] && ok || fail "watch took $((t1 - t0)) ms"
echo "watch saw a confirm after $((t1 - t0)) ms"
"$CUTOVER" --state "$wdb" run "$T/w.yaml" --new-run >/dev/null 2>&1
wait_for wat " run 2 " 3000
wait_for wat "WAIT one"
keys wat q
wait_for wat "[exit 0]"

# --- the driving console picks up a confirm made from another terminal
"$CUTOVER" --state "$wdb" confirm "$T/w.yaml" two >/dev/null 2>&1
cat >"$T/m.yaml" <<'YAML'
cutover: 1
name: m
phases:
  - id: p
    steps:
      - {id: first, type: manual}
      - {id: second, type: local, run: "echo second ran", irreversible: true}
      - {id: third, type: local, run: "exit 3"}
YAML
mdb=$T/m.db
start drv "$CUTOVER --state '$mdb' --operator lead '$T/m.yaml'"
wait_for drv "WAIT first"
t0=$(now_ms)
"$CUTOVER" --state "$mdb" --operator other confirm "$T/m.yaml" first >/dev/null
wait_for drv "ok   first" 3000
t1=$(now_ms)
[ $((t1 - t0)) -le 1500 ] && ok || fail "the console took $((t1 - t0)) ms"
echo "driving console saw a confirm from another terminal after $((t1 - t0)) ms"
keys drv q
wait_for drv "[exit 0]"

# --- a live run: a LIVE banner, and dangerous actions want the step id
ldb=$T/live.db
start liv "$CUTOVER --state '$ldb' --mode live --operator lead '$T/m.yaml'"
wait_for liv "*** LIVE ***"
keys liv c "done" Enter
wait_for liv "first: confirmed by lead"
keys liv j Enter
wait_for liv "LIVE run: type second to run it"
keys liv "secnod" Enter
wait_for liv "not done: 'secnod' is not the step id second"
test "$("$CUTOVER" --state "$ldb" status "$T/m.yaml" --json |
    jq -r '.steps[1].state')" = pending && ok || fail "second ran unasked"
keys liv Enter
wait_for liv "LIVE run: type second to run it"
keys liv second Enter
wait_for liv "second ran"
wait_for liv "✓ ok   second"
keys liv j Enter
wait_for liv "FAIL third"
keys liv s
wait_for liv "skip third; reason (required)"
keys liv "not needed tonight" Enter
wait_for liv "LIVE run: type third to skip it"
keys liv Escape
wait_for liv "cancelled"
keys liv s "not needed tonight" Enter third Enter
wait_for liv "third: skipped by lead"
keys liv q
wait_for liv "[exit 0]"
"$CUTOVER" --state "$ldb" status "$T/m.yaml" --json >"$T/status"
contains "$T/status" '"mode":"live"'

# --- a live no-go stands: s is refused before any reason or id is asked,
# and the key hints leave out what the selected step does not allow
cat >"$T/g.yaml" <<'YAML'
cutover: 1
name: g
phases:
  - id: p
    steps:
      - {id: cp, type: checkpoint}
      - {id: after, type: local, run: "true"}
YAML
start gat "$CUTOVER --state '$T/g.db' --mode live --operator lead '$T/g.yaml'"
wait_for gat "*** LIVE ***"
wait_for gat "0 of 1 go"
screen gat | tail -n 1 | grep -qF "g go" && ok || fail "no 'g go' hint at an awaiting checkpoint"
keys gat n "counts differ" Enter
wait_for gat "LIVE run: type cp to fail it"
keys gat cp Enter
wait_for gat "cp: no-go by lead"
keys gat s
wait_for gat "cp is failed, which cannot be skipped"
screen gat | grep -qF "skip cp; reason" && fail "s at a no-go asked for a reason" || ok
screen gat | tail -n 1 | grep -qF "s skip" && fail "'s skip' hinted at a no-go" || ok
screen gat | tail -n 1 | grep -qF "g go" && fail "'g go' hinted at a no-go" || ok
test "$("$CUTOVER" --state "$T/g.db" status "$T/g.yaml" --json |
    jq -r '.steps[0].state')" = failed && ok || fail "cp is not failed"
keys gat q
wait_for gat "[exit 0]"
tm kill-session -t gat

# --- ASCII fallback and NO_COLOR
start asc "env LANG=C LC_ALL=C NO_COLOR=1 $CUTOVER --state '$wdb' watch '$T/w.yaml'"
wait_for asc "? WAIT one"
wait_for asc "| state     awaiting"
keys asc q
wait_for asc "[exit 0]"

# --- keys stay quick while a step floods: 50 MB of output at a time, again
# and again until the console stops it (one 50 MB burst lasts well under a
# second, too short to sample)
fdb=$T/flood.db
cat >"$T/f.yaml" <<'YAML'
cutover: 1
name: f
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
start fl "$CUTOVER --state '$fdb' '$T/f.yaml'"
wait_for fl ">· pend flood"
keys fl Enter
wait_for fl "xxxxxxxxxx"
worst=0
slow_n=0
for i in 1 2 3 4 5 6; do
	[ $((i % 2)) = 1 ] && { k=j; want=a; } || { k=k; want=flood; }
	t0=$(now_ms)
	keys fl "$k"
	wait_selected fl "$want" 2000 || break
	d=$(($(now_ms) - t0))
	[ "$d" -gt "$worst" ] && worst=$d
	[ "$d" -gt 200 ] && slow_n=$((slow_n + 1))
done
if screen fl | grep -qF "RUN  flood"; then ok; else
	fail "the flood ended before the key samples did"
fi
[ "$slow_n" -le 1 ] && ok || fail "$slow_n of 6 key presses took over 200 ms while flooding (worst $worst ms)"
echo "selection moves while flooding: worst of 6 in $worst ms"
keys fl q
wait_for fl "quit and stop"
keys fl y
wait_for fl "[exit 0]" 15000


# --- R: the rollback plan, the checkpoint typed out, progress, done
rrb=$T/back.yaml
rdb=$T/back.db
export LEDGER=$T/back.ledger
cat >"$rrb" <<'YAML'
cutover: 1
name: back
phases:
  - id: one
    steps:
      - {id: a, type: local, run: echo do-a >> $LEDGER, rollback: echo undo-a >> $LEDGER}
      - {id: cp, type: checkpoint}
  - id: two
    steps:
      - {id: b, type: local, run: echo do-b >> $LEDGER, rollback: sleep 0.3; echo undo-b >> $LEDGER}
      - {id: c, type: local, run: echo do-c >> $LEDGER, rollback: echo undo-c >> $LEDGER}
      - {id: m, type: manual}
YAML
"$CUTOVER" --state "$rdb" run "$rrb" >/dev/null 2>&1
"$CUTOVER" --state "$rdb" decide "$rrb" cp go --reason ok >/dev/null
"$CUTOVER" --state "$rdb" run "$rrb" >/dev/null 2>&1
start back "LEDGER='$LEDGER' $CUTOVER --state '$rdb' '$rrb'"
wait_for back "REHEARSAL"
keys back R
wait_for back "> cp: undo what succeeded after it"
keys back Enter
wait_for back "rollback to cp: 2 step(s) to undo, latest first"
wait_for back "runs its rollback action"
wait_for back "type cp to roll back"
keys back "nope" Enter
wait_for back "not rolled back: 'nope' is not cp"
check "nothing undone yet" sh -c "! grep -q undo $LEDGER"
keys back R
wait_for back "roll back to (Enter chooses"
keys back Enter
wait_for back "type cp to roll back"
keys back "cp" Enter
wait_for back "rolling back to cp"
wait_for back "rollback done" 8000
check "undone in reverse order" test "$(grep undo "$LEDGER" | tr '\n' ' ')" = "undo-c undo-b "
rstate() { "$CUTOVER" --state "$rdb" status "$rrb" --json | jq -r --arg s "$1" '.steps[] | select(.id == $s) | .state'; }
check "b rolled back" test "$(rstate b)" = rolled_back
check "a kept" test "$(rstate a)" = succeeded
check "nothing ran forward again (the console holds)" test "$(grep -cx do-b "$LEDGER")" = 1
keys back q
wait_for back "[exit 0]"

finish
