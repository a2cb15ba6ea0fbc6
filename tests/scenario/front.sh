#!/bin/bash
# front.sh - the installed cutover is a lean front: it links libyaml and
# libc only (no client library: what lint costs is its own work), serves
# lint, help and version itself, and hands every other command over to the
# engine by execv: the same argv (argv[0] as typed) and the same process
# (its pid, so that kill -9 and leases see the command as started), with
# the process name unchanged. Without an engine: one line and exit 127.
. "$(dirname "$0")/../lib.sh"

engine=$CUTOVER-engine
needed() { objdump -p "$1" | awk '$1 == "NEEDED" { print $2 }'; }

# --- What the front links: libyaml and libc, nothing else.
needed "$CUTOVER" >"$T/needed"
contains "$T/needed" libyaml
for lib in libpq libcurl libssh2 libcrypto libssl libsqlite3 libncurses \
    libtinfo libodbc libmicrohttpd libm.so; do
	lacks "$T/needed" "$lib"
done
check "the front links two libraries" test "$(wc -l <"$T/needed")" = 2
# ... where the engine links the clients (so the checks above can fail).
needed "$engine" >"$T/needed-engine"
for lib in libpq libcurl libssh2 libcrypto libsqlite3 libodbc; do
	contains "$T/needed-engine" "$lib"
done

# --- The front explains every command as the engine does: its table is
# made from the engine's.
"$CUTOVER" help --commands >"$T/cmds"
"$engine" help --commands >"$T/cmds-engine"
check "the same commands" cmp -s "$T/cmds" "$T/cmds-engine"
check "the front has the commands" test "$(wc -l <"$T/cmds")" -gt 10
for cmd in $(cat "$T/cmds") console; do
	"$CUTOVER" help "$cmd" >"$T/h-front" 2>&1
	"$engine" help "$cmd" >"$T/h-engine" 2>&1
	check "help $cmd is the engine's" cmp -s "$T/h-front" "$T/h-engine"
	"$CUTOVER" help --options "$cmd" >"$T/h-front" 2>&1
	"$engine" help --options "$cmd" >"$T/h-engine" 2>&1
	check "help --options $cmd is the engine's" \
	    cmp -s "$T/h-front" "$T/h-engine"
done
"$CUTOVER" help >"$T/h-front" 2>&1
"$engine" help >"$T/h-engine" 2>&1
check "the overview is the engine's" cmp -s "$T/h-front" "$T/h-engine"

# --- Which process serves what: a copy of the front beside a stand-in
# engine that prints its arguments and pid.
mkdir -p "$T/bin"
cp "$CUTOVER" "$T/bin/cutover"
cat >"$T/bin/cutover-engine" <<'EOF'
#!/bin/sh
printf 'engine pid %s:' "$$"
printf ' [%s]' "$@"
echo
EOF
chmod +x "$T/bin/cutover-engine"
cat >"$T/rb.yaml" <<'EOF'
cutover: 1
name: front
phases:
  - id: p
    steps:
      - {id: a, type: local, run: 'true'}
EOF
front=$T/bin/cutover
# Every command but the front's reaches the engine, with its arguments.
for cmd in $(cat "$T/cmds"); do
	reached=no
	for args in "$T/rb.yaml" "$T/rb.yaml a" "$T/rb.yaml a go" \
	    "$T/rb.yaml a b c"; do
		# shellcheck disable=SC2086
		"$front" "$cmd" $args >"$T/out" 2>&1
		if grep -qF "engine pid" "$T/out"; then
			reached=yes
			# shellcheck disable=SC2086
			printf ' [%s]' "$cmd" $args >"$T/want"
			check "$cmd: argv unchanged" grep -qF -- "$(cat "$T/want")" \
			    "$T/out"
			break
		fi
	done
	case $cmd in
	lint | help | version)
		check "$cmd is served by the front" test $reached = no ;;
	*)
		check "$cmd reaches the engine" test $reached = yes ;;
	esac
done
# The console (a runbook as the first word), and options anywhere.
expect_rc 0 "$front" "$T/rb.yaml"
contains "$T/out" "engine pid"
expect_rc 0 "$front" --state "$T/s.db" run "$T/rb.yaml" --until=a
contains "$T/out" " [--state] [$T/s.db] [run] [$T/rb.yaml] [--until=a]"
# The engine runs in the front's process.
"$front" status "$T/rb.yaml" >"$T/out" 2>&1 &
pid=$!
wait $pid
contains "$T/out" "engine pid $pid:"
# The front's own commands, the completion's among them.
expect_rc 0 "$front" lint "$T/rb.yaml"
lacks "$T/out" "engine"
expect_rc 0 "$front" lint --list-steps "$T/rb.yaml"
check "lint --list-steps lists the step" grep -qx a "$T/out"
expect_rc 0 "$front" help --options run
contains "$T/out" "--until="
expect_rc 0 "$front" run --help
contains "$T/out" "usage: cutover [GLOBAL] run RUNBOOK"
expect_rc 0 "$front" --version
contains "$T/out" "cutover "
lacks "$T/out" "engine"
# Usage errors are the same whoever would serve the command.
expect_rc 2 "$front" run "$T/rb.yaml" --bogus
contains "$T/err" "cutover: run: unknown option '--bogus'"

# --- No engine: one line, exit 127 (the installed one is not there
# either, in the build tree).
mkdir -p "$T/alone"
cp "$CUTOVER" "$T/alone/cutover"
expect_rc 127 "$T/alone/cutover" status "$T/rb.yaml"
check "one line" test "$(wc -l <"$T/err")" = 1
contains "$T/err" "cutover: the engine is missing: no $T/alone/cutover-engine nor "
expect_rc 0 "$T/alone/cutover" lint "$T/rb.yaml"

# --- The real engine: the pid, argv[0] and the process name stay those of
# the command as typed, so that ps, pgrep -f and kill -9 see it.
cat >"$T/long.yaml" <<'EOF'
cutover: 1
name: long
phases:
  - id: p
    steps:
      - {id: long, type: local, run: 'sleep 30.25'}
EOF
(exec "$CUTOVER" --state "$T/long.db" run "$T/long.yaml" >/dev/null 2>&1) &
pid=$!
i=0
until pgrep -fx "sleep 30.25" >/dev/null || [ $i -ge 100 ]; do
	sleep 0.05
	i=$((i + 1))
done
tr '\0' ' ' <"/proc/$pid/cmdline" >"$T/cmdline"
check "argv as typed" test "$(cat "$T/cmdline")" = \
    "$CUTOVER --state $T/long.db run $T/long.yaml "
check "the process is the engine" test "$(readlink "/proc/$pid/exe")" = \
    "$(readlink -f "$engine")"
check "its name is cutover's" test "$(cat "/proc/$pid/comm")" = cutover
check "pgrep -f finds it as before" pgrep -f "cutover --state $T/long.db"
kill -9 $pid
wait $pid 2>/dev/null
sp=$(pgrep -fx "sleep 30.25")
[ -n "$sp" ] && kill -9 $sp
expect_rc 0 "$CUTOVER" --state "$T/long.db" status "$T/long.yaml"
contains "$T/out" "long"

finish
