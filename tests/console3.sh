#!/bin/bash
# console3.sh - the console's rollback menu and a rollback that goes on by
# itself once a step undone by hand is confirmed; reconciles that passed
# within their tolerance marked apart; the step list's filter.
. "$(dirname "$0")/lib.sh"

. "$SRCDIR/tests/tmux.sh"

# shows NAME TEXT: the screen shows TEXT now.
shows() {
	if screen "$1" | grep -qF -- "$2"; then ok; else
		fail "screen $1 does not show '$2'"
		screen "$1" | sed 's/^/  | /' >&2
	fi
}
# hides NAME TEXT: the screen does not show TEXT now.
hides() {
	if screen "$1" | grep -qF -- "$2"; then
		fail "screen $1 shows '$2'"
		screen "$1" | sed 's/^/  | /' >&2
	else ok; fi
}

# --- 11. R chooses the run's start after two checkpoints passed; a step
# undone by hand is confirmed and the rollback goes on without asking again
export LEDGER=$T/ledger
: >"$LEDGER"
cat >"$T/r.yaml" <<'YAML'
cutover: 1
name: r
phases:
  - id: p
    steps:
      - {id: freeze, type: local, run: echo do-freeze >> $LEDGER, rollback: echo undo-freeze >> $LEDGER}
      - {id: cp1, type: checkpoint}
      - {id: tell-stores, type: manual, rollback: Tell the stores it is off}
      - {id: load, type: local, run: echo do-load >> $LEDGER, rollback: echo undo-load >> $LEDGER}
      - {id: cp2, type: checkpoint}
      - {id: open, type: local, run: echo do-open >> $LEDGER, rollback: echo undo-open >> $LEDGER}
YAML
rdb=$T/r.db
R() { "$CUTOVER" --state "$rdb" "$@" >/dev/null 2>&1; }
R run "$T/r.yaml"
R decide "$T/r.yaml" cp1 go --reason ok
R run "$T/r.yaml"
R confirm "$T/r.yaml" tell-stores
R run "$T/r.yaml"
R decide "$T/r.yaml" cp2 go --reason ok
R run "$T/r.yaml"
start rb "$CUTOVER --state '$rdb' --operator lead '$T/r.yaml'"
wait_for rb "ok   open"
keys rb R
wait_for rb "roll back to (Enter chooses"
shows rb "the run's start: undo every step"
shows rb "cp1: undo what succeeded after it"
screen rb | grep -qE '^ *│ > cp2: undo what succeeded after it' && ok ||
    fail "the menu does not offer the last checkpoint passed first"
keys rb Up Up Enter
wait_for rb "rollback to the run's start: 6 step(s) to undo"
wait_for rb "type start to roll back:"
keys rb start Enter
wait_for rb "rollback waits: undo the step by hand and confirm it (c)"
wait_for rb "WAITING tell-stores: to be undone by hand"
keys rb / tell Enter
keys rb c
wait_for rb "confirm tell-stores; note (optional):"
keys rb "told them" Enter
wait_for rb "rollback done; the run holds" 5000
hides rb "type start to roll back"
hides rb "reason to leave"
[ "$(tr '\n' ' ' <"$LEDGER")" = "do-freeze do-load do-open undo-open undo-load undo-freeze " ] &&
    ok || fail "ledger: $(tr '\n' ' ' <"$LEDGER")"
for s in freeze tell-stores load open; do

	[ "$("$CUTOVER" --state "$rdb" status "$T/r.yaml" --json |
	    jq -r --arg s $s '.steps[] | select(.id == $s) | .state')" = rolled_back ] &&
	    ok || fail "$s is not rolled back"
done
for s in cp1 cp2; do
	[ "$("$CUTOVER" --state "$rdb" status "$T/r.yaml" --json |
	    jq -r --arg s $s '.steps[] | select(.id == $s) | .state')" = pending ] &&
	    ok || fail "$s is not pending again"
done
keys rb q
wait_for rb "[exit 0]"

# --- 11. the same, confirmed from another terminal: the console goes on
: >"$LEDGER"
rdb=$T/r2.db
R run "$T/r.yaml"
R decide "$T/r.yaml" cp1 go --reason ok
R run "$T/r.yaml"
R confirm "$T/r.yaml" tell-stores
R run "$T/r.yaml"
R decide "$T/r.yaml" cp2 go --reason ok
R run "$T/r.yaml"
start rb2 "$CUTOVER --state '$rdb' --operator lead '$T/r.yaml'"
wait_for rb2 "ok   open"
keys rb2 R
wait_for rb2 "> cp2: undo what succeeded after it"
keys rb2 Up Enter
wait_for rb2 "type cp1 to roll back:"
keys rb2 cp1 Enter
wait_for rb2 "WAITING tell-stores: to be undone by hand"
"$CUTOVER" --state "$rdb" --operator duty confirm "$T/r.yaml" tell-stores \
    --note "told them" >/dev/null 2>&1
wait_for rb2 "rollback done; the run holds" 5000
[ "$(tr '\n' ' ' <"$LEDGER")" = "do-freeze do-load do-open undo-open undo-load " ] &&
    ok || fail "ledger: $(tr '\n' ' ' <"$LEDGER")"
keys rb2 q
wait_for rb2 "[exit 0]"

# --- 11. a rollback stopped by a failed rollback action resumes on R after
# one y: no menu, no reason, no id typed again
export ALLOW=$T/allow
cat >"$T/s.yaml" <<'YAML'
cutover: 1
name: s
phases:
  - id: p
    steps:
      - {id: cp, type: checkpoint}
      - {id: undo-me, type: local, run: "true", rollback: test -f $ALLOW}
YAML
R2() { "$CUTOVER" --state "$T/s.db" "$@" >/dev/null 2>&1; }
R2 run "$T/s.yaml"
R2 decide "$T/s.yaml" cp go --reason ok
R2 run "$T/s.yaml"
start rs "ALLOW='$ALLOW' $CUTOVER --state '$T/s.db' --operator lead '$T/s.yaml'"
wait_for rs "ok   undo-me"
keys rs R
wait_for rs "roll back to (Enter chooses"
keys rs Enter
wait_for rs "type cp to roll back:"
keys rs cp Enter
wait_for rs "the rollback of undo-me failed"
touch "$ALLOW"
keys rs R
wait_for rs "resume the rollback to cp? [y/N]"
hides rs "roll back to (Enter chooses"
keys rs y
wait_for rs "rollback done; the run holds"
[ "$("$CUTOVER" --state "$T/s.db" status "$T/s.yaml" --json |
    jq -r '.steps[] | select(.id == "undo-me") | .state')" = rolled_back ] &&
    ok || fail "undo-me is not rolled back after the resume"
keys rs q
wait_for rs "[exit 0]"

# --- 13. the list's filter: by state (F, or \ with state words), by text,
# with the count of matches; moving and searching stay within it; Esc clears
cat >"$T/f.yaml" <<'YAML'
cutover: 1
name: f
settings: {parallel: 4}
phases:
  - id: first
    steps:
      - {id: ok-one, type: local, run: "true", needs: []}
      - {id: ok-two, type: local, run: "true", needs: []}
      - {id: ask-duty, type: manual, needs: []}
  - id: second
    steps:
      - {id: bad, type: local, run: "exit 3", needs: [ok-one]}
      - {id: slow-load, type: local, run: "sleep 60", needs: [ok-one], title: Load the slow tables}
      - {id: later, type: local, run: "true", needs: [bad]}
YAML
start flt "$CUTOVER --state '$T/f.db' --operator lead '$T/f.yaml'"
wait_for flt "pend later"
keys flt a
wait_for flt "FAIL bad"
wait_for flt "RUN  slow-load"
wait_for flt "WAIT ask-duty"
keys flt F
wait_for flt "filter WAIT FAIL RUN: 3 of 6"
hides flt "ok-one"
hides flt "later"
shows flt "ask-duty"
keys flt Home
wait_for flt ">◆ WAIT ask-duty"
keys flt j
wait_for flt ">✗ FAIL bad"
keys flt j
wait_for flt ">▶ RUN  slow-load"
keys flt j
wait_for flt ">▶ RUN  slow-load"
keys flt '\'
wait_for flt "filter (states: wait fail run"
keys flt "ok" Enter
wait_for flt "filter ok: 2 of 6"
shows flt "ok-one"
hides flt "ask-duty"
wait_for flt ">✓ ok   ok-two"
keys flt '\' "SLOW tables" Enter
wait_for flt "filter SLOW tables: 1 of 6"
wait_for flt ">▶ RUN  slow-load"
hides flt "ok-two"
keys flt Escape
wait_for flt "filter off: every step shown"
shows flt "ok-two"
shows flt "later"
keys flt q
wait_for flt "quit and stop it"
keys flt y
wait_for flt "[exit 0]" 8000

# --- 12. reconciles that passed within their tolerance are marked apart from
# clean ones: in the list (glyph and short form), the details, and `run`
. "$SRCDIR/tests/pg.sh"
pg_start || { fail "PostgreSQL did not start"; finish; }
# pg_start's exit trap replaced tmux.sh's: stop both.
trap 'tm kill-server 2>/dev/null; pg_stop; cleanup' EXIT
cat >"$T/t.yaml" <<'YAML'
cutover: 1
name: t
targets:
  db: {type: postgres, conninfo: "host=127.0.0.1 port=${env:PGPORT} user=cutover dbname=cutover"}
phases:
  - id: p
    steps:
      - {id: clean-count, type: reconcile, compare: value, tolerance: 2,
         source: {target: db, query: "SELECT 100"}, dest: {target: db, query: "SELECT 100"}}
      - {id: close-count, type: reconcile, compare: value, tolerance: 2,
         source: {target: db, query: "SELECT 100"}, dest: {target: db, query: "SELECT 99"}}
      - {id: close-rows, type: reconcile, compare: rows, tolerance: 1,
         source: {target: db, query: "SELECT * FROM (VALUES (1, 'a'), (2, 'b')) v(k, x)"},
         dest: {target: db, query: "SELECT * FROM (VALUES (1, 'a'), (2, 'c')) v(k, x)"}}
YAML
"$CUTOVER" --state "$T/t.db" run "$T/t.yaml" >"$T/run.out" 2>&1
grep -q "clean-count: succeeded after [0-9a-z]*$" "$T/run.out" && ok ||
    fail "a clean reconcile is said to be anything but succeeded: $(cat "$T/run.out")"
grep -q "close-count: succeeded after [0-9a-z]*: within tolerance: difference -1 <= 2$" \
    "$T/run.out" && ok || fail "run does not say close-count passed within tolerance: $(cat "$T/run.out")"
grep -q "close-rows: succeeded after [0-9a-z]*: within tolerance: 1 difference (missing 0, extra 0, changed 1) <= 1$" \
    "$T/run.out" && ok || fail "run does not say close-rows passed within tolerance: $(cat "$T/run.out")"
start tol "$CUTOVER --state '$T/t.db' --operator lead '$T/t.yaml'"
wait_for tol "✓ ok   clean-count"
wait_for tol "≈ ok~  close-count"
wait_for tol "≈ ok~  close-rows"
keys tol j
wait_for tol "state     succeeded, within tolerance: difference -1 ≤ 2"
keys tol j
wait_for tol "state     succeeded, within tolerance: 1 difference ≤ 1"
keys tol '?'
for i in $(seq 20); do keys tol j; done
wait_for tol "≈ ok~   succeeded: a reconcile with differences within its"
keys tol Escape q
wait_for tol "[exit 0]"

finish
