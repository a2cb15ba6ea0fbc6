#!/bin/bash
# cli.sh - the command line itself: help, version, unknown commands and
# options named with a suggestion, the console refusing without a terminal
# before touching any state, lint --list-steps, the messages that tell a
# person what to type, the audit trail's layout, and bash completion.
. "$(dirname "$0")/../lib.sh"

rb=$T/wave1.yaml
cat >"$rb" <<'YAML'
cutover: 1
name: wave1
roles:
  duty-manager: [alice, bob]
  store-ops: [carol]
phases:
  - id: prep
    steps:
      - id: extract
        type: local
        run: "true"
      - id: announce
        type: manual
        owner: store-ops
        instructions: Tell the stores.
      - id: go-no-go
        type: checkpoint
        approvals: 2
        approvers: [duty-manager]
      - id: load
        type: local
        run: "true"
YAML

# --- help and version are commands, not runbook paths
expect_rc 0 "$CUTOVER" help
contains "$T/out" "Commands:"
contains "$T/out" "rollback"
contains "$T/out" "Exit status:"
expect_rc 0 "$CUTOVER" version
contains "$T/out" "cutover "
expect_rc 0 "$CUTOVER" --version
expect_rc 0 "$CUTOVER" -V

# help COMMAND and COMMAND --help: that command's usage, options, exit codes
expect_rc 0 "$CUTOVER" help run
contains "$T/out" "usage: cutover [GLOBAL] run RUNBOOK"
contains "$T/out" "--until STEP"
contains "$T/out" "--accept-changes"
contains "$T/out" "5  waiting for a person"
cp "$T/out" "$T/help-run"
expect_rc 0 "$CUTOVER" run --help
if cmp -s "$T/out" "$T/help-run"; then ok; else fail "run --help != help run"; fi
expect_rc 0 "$CUTOVER" help report
contains "$T/out" "-o FILE"
contains "$T/out" "--format md|html|json"
expect_rc 0 "$CUTOVER" help console
contains "$T/out" "usage: cutover [GLOBAL] RUNBOOK"
# Every option of every command is described in its help.
for cmd in $("$CUTOVER" help --commands); do
	"$CUTOVER" help "$cmd" >"$T/h" 2>&1 || fail "help $cmd"
	for o in $("$CUTOVER" help --options "$cmd"); do
		o=${o%=}
		grep -qE -- "(^|[ ,])$o([ ,=]|$)" "$T/h" && ok ||
		    fail "help $cmd does not describe $o"
	done
done

# --- mistyped commands and options are named, with a suggestion
expect_rc 2 "$CUTOVER" rnu "$rb"
contains "$T/err" "cutover: unknown command 'rnu' (did you mean 'run'?)"
expect_rc 2 "$CUTOVER" stauts "$rb"
contains "$T/err" "cutover: unknown command 'stauts' (did you mean 'status'?)"
expect_rc 2 "$CUTOVER" frobnicate
contains "$T/err" "'frobnicate' is neither a command nor a runbook file"
expect_rc 2 "$CUTOVER" help rnu
contains "$T/err" "unknown command 'rnu' (did you mean 'run'?)"
expect_rc 2 "$CUTOVER" run "$rb" --untill load
contains "$T/err" \
    "cutover: run: unknown option '--untill' (did you mean '--until'?)"
expect_rc 2 "$CUTOVER" status "$rb" --jsno
contains "$T/err" "cutover: status: unknown option '--jsno' (did you mean '--json'?)"
expect_rc 2 "$CUTOVER" status "$rb" --frobnicate
contains "$T/err" "cutover: status: unknown option '--frobnicate'; see \`cutover help status\`"
if [ -e "$XDG_STATE_HOME/cutover/wave1.db" ]; then
	fail "a usage error created the state file"
else ok; fi

# --- the console refuses without a terminal before touching any state
expect_rc 2 "$CUTOVER" --mode live "$rb" </dev/null
contains "$T/err" "needs a terminal"
if [ -e "$XDG_STATE_HOME/cutover/wave1.db" ]; then
	fail "the console without a terminal created the state file"
else ok; fi
expect_rc 2 "$CUTOVER" --state "$T/x.db" "$rb" </dev/null
if [ -e "$T/x.db" ]; then fail "console: --state file created"; else ok; fi
expect_rc 2 "$CUTOVER" --state "$T/x.db" watch "$rb" </dev/null
contains "$T/err" "needs a terminal"

# --- a runbook with for_each phases lints and runs; a bare for_each step
# id names no instance
lanes=$T/lanes.yaml
cat >"$lanes" <<'YAML'
cutover: 1
name: lanes
entities:
  - {id: store-1, vars: {city: Lyon}}
phases:
  - id: stores
    for_each: entity
    steps:
      - {id: hello, type: local, run: "echo ${entity.city}"}
YAML
expect_rc 0 "$CUTOVER" lint "$lanes"
expect_rc 0 "$CUTOVER" run "$lanes"
expect_rc 2 "$CUTOVER" confirm "$lanes" hello
contains "$T/err" \
    "cutover: hello runs once per entity: name an instance, e.g. hello@store-1"
expect_rc 0 "$CUTOVER" log "$lanes" hello@store-1
contains "$T/out" "Lyon"
expect_rc 2 "$CUTOVER" log "$lanes" hello@store-9
# --- lint --list-steps
expect_rc 0 "$CUTOVER" lint --list-steps "$rb"
printf 'extract\nannounce\ngo-no-go\nload\n' >"$T/want"
if cmp -s "$T/out" "$T/want"; then ok; else fail "lint --list-steps"; fi
expect_rc 3 "$CUTOVER" lint --list-steps "$SRCDIR/tests/runbooks/bad/approvals-zero.yaml"

# --- waiting for a person: who may act and the exact command to type
S="$T/elsewhere/w.db"
mkdir -p "$T/elsewhere"
cd "$T" || exit 1
expect_rc 5 "$CUTOVER" --state "$S" run wave1.yaml
contains "$T/err" "cutover: announce waits for a person to do it and confirm it (may act: carol [store-ops]): cutover --state $S confirm wave1.yaml announce"
expect_rc 0 "$CUTOVER" --state "$S" status wave1.yaml
contains "$T/out" "announce waits for a person to do it and confirm it (may act: carol [store-ops]): cutover --state $S confirm wave1.yaml announce"
expect_rc 0 "$CUTOVER" --state "$S" --operator carol confirm wave1.yaml announce
expect_rc 5 "$CUTOVER" --state "$S" run wave1.yaml
contains "$T/err" "cutover: go-no-go waits for 2 more go (may decide: alice, bob [duty-manager]): cutover --state $S decide wave1.yaml go-no-go go --reason TEXT"
expect_rc 0 "$CUTOVER" --state "$S" --operator alice decide wave1.yaml go-no-go go --reason ok
expect_rc 0 "$CUTOVER" --state "$S" status wave1.yaml
contains "$T/out" "go-no-go waits for 1 more go (may decide: alice, bob [duty-manager]): cutover --state $S decide wave1.yaml go-no-go go --reason TEXT"
# The default state file is not named; a path with a space is quoted.
cp wave1.yaml "my wave.yaml"
expect_rc 5 "$CUTOVER" run "my wave.yaml"
contains "$T/err" "(may act: carol [store-ops]): cutover confirm 'my wave.yaml' announce"
# Rollback waiting for a manual step to be undone: its owner, the command,
# and the runbook's own sentence without a doubled stop.
cat >"$T/elsewhere/rb2.yaml" <<'YAML'
cutover: 1
name: rb2
roles:
  store-ops: [carol, dave]
phases:
  - id: p
    steps:
      - id: freeze
        type: manual
        owner: store-ops
        rollback: Tell the stores the freeze is rolled back.
      - {id: gate, type: checkpoint}
YAML
R="$CUTOVER --state $T/rb2.db"
expect_rc 5 $R run elsewhere/rb2.yaml
expect_rc 0 $R confirm elsewhere/rb2.yaml freeze
expect_rc 5 $R run elsewhere/rb2.yaml
contains "$T/err" "cutover: gate waits for 1 more go: cutover --state $T/rb2.db decide elsewhere/rb2.yaml gate go --reason TEXT"
expect_rc 0 $R decide elsewhere/rb2.yaml gate go --reason ok
expect_rc 0 $R run elsewhere/rb2.yaml
expect_rc 5 $R rollback elsewhere/rb2.yaml --to start
lacks "$T/err" ".;"
contains "$T/err" "the freeze is rolled back; confirm it once it is undone"
contains "$T/err" "cutover: freeze waits to be undone by hand, then confirmed (may act: carol, dave [store-ops]): cutover --state $T/rb2.db confirm elsewhere/rb2.yaml freeze"
cd - >/dev/null || exit 1

# --- texts: a decimal duration's whole-number spelling; the ETA as a time
# of day with the time left beside it
printf 'cutover: 1\nname: dur\nphases:\n  - id: p\n    steps:\n      - %s\n' \
    '{id: a, type: local, run: "true", timeout: 1.5m}' >"$T/dur.yaml"
expect_rc 3 "$CUTOVER" lint "$T/dur.yaml"
contains "$T/err" "whole numbers only (write 1m30s, not 1.5m)"
expect_rc 0 "$CUTOVER" --state "$S" status "$rb"
check "status: ETA HH:MMZ (in ...)" grep -Eq '^ETA [0-9]{2}:[0-9]{2}Z \(in ' "$T/out"

# --- the audit trail: an sql or reconcile step has no exit status and an
# attempt no pid when it starts; columns stay put past entry 9; a manual
# step lasts as long as it waited for its person.
. "$SRCDIR/tests/pg.sh"
if pg_start; then
	arb=$T/audit.yaml
	cat >"$arb" <<'YAML'
cutover: 1
name: audit
targets:
  db: {type: postgres, conninfo: "${env:PG_CONNINFO}"}
phases:
  - id: p
    steps:
      - {id: q, type: sql, target: db, run: SELECT 1}
      - id: rec
        type: reconcile
        compare: value
        source: {target: db, query: SELECT 1}
        dest: {target: db, query: SELECT 1}
      - {id: wait, type: manual, owner: ops}
      - {id: l1, type: local, run: "true"}
      - {id: l2, type: local, run: "true"}
      - {id: l3, type: local, run: "true"}
YAML
	A="$CUTOVER --state $T/audit.db"
	expect_rc 5 $A run "$arb"
	sleep 2
	expect_rc 0 $A confirm "$arb" wait
	expect_rc 0 $A run "$arb"
	expect_rc 0 $A audit "$arb"
	cp "$T/out" "$T/audit"
	check "the trail has more than 9 entries" test "$(wc -l <"$T/audit")" -gt 9
	contains "$T/audit" "attempt-end: attempt 1 succeeded; output sha256="
	contains "$T/audit" "attempt-end: attempt 1 succeeded (exit 0)"
	contains "$T/audit" "attempt-start: attempt 1 (run) running"
	lacks "$T/audit" "exit -1"
	lacks "$T/audit" "pid 0"
	# "run" and the action stand at one column on every line.
	n=$(awk '{ print index($0, " run ") }' "$T/audit" | sort -u | wc -l)
	check "one column for the run" test "$n" = 1
	n=$(awk '{ match($0, /  [a-z][a-z-]*: /); print RSTART }' "$T/audit" |
	    sort -u | wc -l)
	check "one column for the action" test "$n" = 1
	$A status "$arb" --json >"$T/json"
	ms=$(jq '.steps[] | select(.id == "wait") | .duration_ms' "$T/json")
	check "manual step lasted its wait (${ms}ms)" test "$ms" -ge 2000
	expect_rc 0 $A status "$arb"
	grep -E '^p +wait ' "$T/out" >"$T/line"
	lacks "$T/line" " - "
else
	fail "PostgreSQL did not start"
fi

# --- bash completion, sourced in bash and called as bash would
# comp WORD...: what _cutover offers for the last WORD, one a line, sorted.
comp() {
	(cd "$T" && bash -c '. "$1"; shift; COMP_WORDS=("$@")
	    COMP_CWORD=$(($# - 1)); _cutover
	    printf "%s\n" "${COMPREPLY[@]}"' _ \
	    "$SRCDIR/completion/cutover.bash" "$CUTOVER" "$@") | sort >"$T/comp"
}
# comp_is WANT WORD...: the completions are exactly WANT (space-separated).
comp_is() {
	want=$1
	shift
	comp "$@"
	got=$(tr '\n' ' ' <"$T/comp")
	if [ "$got" = "$want " ]; then ok; else
		fail "completing '$*': got '$got', wanted '$want'"
	fi
}
comp_is "state status" st
comp_is "status" statu
comp_is "report retry rollback run runs" r
comp_is "watch wave1.yaml" wa
comp_is "rollback" help rol
comp_is "--until" run wave1.yaml --un
comp_is "--json" status --js
comp_is "announce" confirm wave1.yaml an
comp_is "announce extract go-no-go load" --state "$T/x.db" skip wave1.yaml ""
comp_is "load" run wave1.yaml --until l
comp_is "announce extract go-no-go load start" rollback wave1.yaml --to ""
comp_is "go no-go" decide wave1.yaml go-no-go ""
comp_is "live" --mode l
comp_is "live" --mode = l
comp_is "announce" --state = "$T/x.db" confirm wave1.yaml an
comp_is "html" report wave1.yaml --format h
comp_is "wave1.yaml" lint w
comp_is "" confirm wave1.yaml announce ""

# --- zsh completion, with compadd and _files standing in for the completion
# system: they print what would be offered that starts with the word.
zcomp_is() {
	want=$1
	shift
	got=$(cd "$T" && zsh -fc 'compadd() {
		local -a w; [[ $1 == -a ]] && w=(${(P)2}) || { shift; w=("$@") }
		print -lr -- ${(M)w:#${words[CURRENT]}*}; }
	    _files() { print -r -- "FILES $*"; }
	    f=$1; shift; words=("$@"); CURRENT=$#; source $f' _ \
	    "$SRCDIR/completion/_cutover" "$CUTOVER" "$@" | sort | tr '\n' ' ')
	if [ "$got" = "$want " ]; then ok; else
		fail "zsh completing '$*': got '$got', wanted '$want'"
	fi
}
if command -v zsh >/dev/null; then
	zcomp_is "FILES -g *.(yaml|yml) state status" st
	zcomp_is "--until" run wave1.yaml --un
	zcomp_is "announce" --state "$T/x.db" confirm wave1.yaml an
	zcomp_is "go no-go" decide wave1.yaml go-no-go ""
	zcomp_is "load" run wave1.yaml --until l
	zcomp_is "rehearsal" --mode r
else
	echo "SKIP: zsh is not installed; its completion is not tested" >&2
fi

finish
