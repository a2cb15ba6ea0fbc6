#!/bin/bash
# ssh-kill9.sh - kill -9 the driver while ssh steps run, at least 50 times,
# a next driver started at once after each kill, and prove that no remote
# command ran twice and nothing recorded was lost. Each step appends a line
# to a ledger after a pause, then pauses again, so a command left running by
# a killed driver would add its line later, next to the new driver's run.
# Then: the connection dropped while a command runs (its sshd session
# process killed) ends the attempt interrupted and the step is verified, not
# run again; `retry` of an interrupted step verifies first; and a host that
# cannot be reached at recovery makes the step wait for a person.
. "$(dirname "$0")/../lib.sh"
. "$SRCDIR/tests/sshd.sh"

KILLS=${KILLS:-50}
unset SSH_AUTH_SOCK SSH_AGENT_PID
sshd_init
sshd_start a
PA=$SSHD_PORT
sshd_known a
L=$T/ledger
: >"$L"

# runbook ROUND: four ssh steps, two at a time, each writing "ROUND STEP".
runbook() {
	{
		echo "cutover: 1"
		echo "name: sshkill$1"
		echo "settings: {parallel: 2, default_timeout: 60s}"
		echo "targets:"
		echo "  box: {type: ssh, host: 127.0.0.1, port: $PA, user: $SSH_USER, identity: $SSH_KEY, known_hosts: $SSH_KNOWN}"
		echo "phases:"
		echo "  - id: p"
		echo "    steps:"
		for s in 1 2 3 4; do
			echo "      - id: s$s"
			echo "        type: ssh"
			echo "        target: box"
			# Odd steps ignore the hangup that ends a command when its
			# connection drops: only the next driver's recovery ends them.
			[ $((s % 2)) = 1 ] && trap="trap '' HUP; " || trap=
			echo "        run: ${trap}sleep 0.$((s + 4)); echo '$1 s$s' >> $L; sleep 0.3"
			echo "        verify: grep -qx '$1 s$s' $L"
		done
	} >"$T/r$1.yaml"
}
C() { r=$1; shift; "$CUTOVER" --state "$T/r$r.db" "$@"; }
Cbg() { r=$1; shift; exec "$CUTOVER" --state "$T/r$r.db" "$@"; }
# Steps waiting for a person (their command could not be found on the
# host): confirm what the ledger shows done, retry the rest.
resolve() {
	for id in $(C "$1" status "$T/r$1.yaml" --json 2>/dev/null | jq -r '.steps[] | select(.state == "awaiting") | .id'); do
		awaited=$((awaited + 1))
		if grep -qx "$1 $id" "$L"; then
			C "$1" confirm "$T/r$1.yaml" "$id" --note "ledger shows it" >/dev/null || fail "confirm $id"
		else
			C "$1" retry "$T/r$1.yaml" "$id" >/dev/null 2>&1 || fail "retry $id"
		fi
	done
}
remote_sleeps() { pgrep -f "^sleep 0\.[3-8]$" | wc -l; }

round=1
runbook $round
kills=0
during=0
awaited=0
# At least KILLS kills, and on a loaded machine more, until 10 of them
# landed while a remote command ran (at most 3 times KILLS).
while { [ $kills -lt "$KILLS" ] || [ $during -lt 10 ]; } &&
    [ $kills -lt $((3 * KILLS)) ]; do
	(Cbg $round run "$T/r$round.yaml" >"$T/run.out" 2>&1) &
	pid=$!
	sleep "$((RANDOM % 2)).$(printf %03d $((RANDOM % 1000)))"
	n=$(remote_sleeps)
	if kill -9 $pid 2>/dev/null; then
		wait $pid 2>/dev/null
		kills=$((kills + 1))
		[ "$n" -gt 0 ] && during=$((during + 1))
		resolve $round
	else
		wait $pid
		rc=$?
		if [ $rc = 0 ]; then
			round=$((round + 1))
			runbook $round
		elif [ $rc != 5 ]; then
			fail "driver exited $rc"
			cat "$T/run.out" >&2
		else
			resolve $round
		fi
	fi
done
# Finish the last round, then wait for any command a killed driver left.
for i in 1 2 3 4 5 6; do
	C $round run "$T/r$round.yaml" >/dev/null 2>&1 && break
	resolve $round
done
check "last round completes" test "$(C $round status "$T/r$round.yaml" --json | jq -r .state)" = complete
sleep 1.5
dups=$(sort "$L" | uniq -d)
if [ -n "$dups" ]; then fail "ran twice: $(echo $dups)"; else ok; fi
for r in $(seq 1 $round); do
	[ -f "$T/r$r.db" ] || continue
	for s in $(C $r status "$T/r$r.yaml" --json | jq -r '.steps[] | select(.state == "succeeded") | .id'); do
		grep -qx "$r $s" "$L" || fail "round $r: $s recorded succeeded but never ran"
	done
	[ $r -lt $round ] || continue
	check "round $r: every step ran exactly once" \
	    test "$(grep -c "^$r " "$L")" = 4
done
check "killed $kills times, $during while a remote command ran (want >= 10)" \
	test $during -ge 10
echo "kills: $kills, during a remote command: $during, rounds: $round, waited for a person: $awaited"

# The sshd processes serving connections (not the listener).
sshd_sessions() {
	for p in $(sshd_tree "$(cat "$T/sshd-a/pid")"); do
		[ "$(cat /proc/$p/comm 2>/dev/null)" = sshd ] && echo $p
	done
}
# wait_ledger TEXT: until the ledger has TEXT (at most 10 s).
wait_ledger() {
	i=0
	until grep -qx "$1" "$L" || [ $i -ge 100 ]; do sleep 0.1; i=$((i + 1)); done
}
attempts() {
	sqlite3 "$T/r$1.db" "SELECT n || ' ' || kind || ' ' || state FROM attempts WHERE step = '$2' ORDER BY n" | tr '\n' ';'
}

# Dropped connection: the command wrote its line and still runs when its
# sshd session dies. The attempt is interrupted (not failed) and the step
# is verified, not run again.
cat >"$T/rdrop.yaml" <<EOT
cutover: 1
name: drop
targets:
  box: {type: ssh, host: 127.0.0.1, port: $PA, user: $SSH_USER, identity: $SSH_KEY, known_hosts: $SSH_KNOWN}
phases:
  - id: p
    steps:
      - {id: d, type: ssh, target: box, run: "echo 'drop d' >> $L; sleep 4", verify: "grep -qx 'drop d' $L"}
EOT
C drop run "$T/rdrop.yaml" >"$T/drop.out" 2>&1 &
pid=$!
wait_ledger "drop d"
sleep 0.3
kill -9 $(sshd_sessions) 2>/dev/null
wait $pid
check "dropped: the run completes" test $? = 0
check "dropped: attempts are 'run interrupted; verify succeeded' ($(attempts drop d))" \
	test "$(attempts drop d)" = "1 run interrupted;2 verify succeeded;"
contains "$T/drop.out" "lost"
sleep 0.5
check "dropped: ran once" test "$(grep -c "^drop d$" "$L")" = 1

# The same with a command that ignores the hangup and has not written its
# line yet: the verify first ends it on the host, so the step's run that
# follows the failed verify is the only one to write.
# It waits 3 s before it writes: time for the next look to reach the
# host first even on a loaded machine (with 1 s, a slow start of the next
# driver let the line be written first and the check failed on timing).
sed 's/name: drop/name: hup/; s/drop d/hup d/g; s/run: "echo/run: "trap \x27\x27 HUP; sleep 3; echo/' "$T/rdrop.yaml" >"$T/rhup.yaml"
C hup run "$T/rhup.yaml" >"$T/hup.out" 2>&1 &
pid=$!
i=0
until [ -n "$(sshd_sessions)" ] && pgrep -fx "sleep 3" >/dev/null || [ $i -ge 100 ]; do sleep 0.05; i=$((i + 1)); done
kill -9 $(sshd_sessions) 2>/dev/null
wait $pid
check "hangup ignored: the run completes" test $? = 0
sleep 3.5
check "hangup ignored: ran once ($(grep -c "^hup d$" "$L"))" test "$(grep -c "^hup d$" "$L")" = 1
check "hangup ignored: run interrupted, verify failed, run again ($(attempts hup d))" \
	test "$(attempts hup d)" = "1 run interrupted;2 verify failed;3 run succeeded;"

# retry of an interrupted step verifies first: the driver is stopped while
# a command that has done its work still runs.
sed 's/name: drop/name: stop/; s/drop d/stop d/g' "$T/rdrop.yaml" >"$T/rstop.yaml"
(Cbg stop run "$T/rstop.yaml" >"$T/stop.out" 2>&1) &
pid=$!
wait_ledger "stop d"
kill -TERM $pid
wait $pid
json_state=$(C stop status "$T/rstop.yaml" --json | jq -r '.steps[0].state')
check "stopped: the step is interrupted ($json_state)" test "$json_state" = interrupted
expect_rc 0 C stop retry "$T/rstop.yaml" d
expect_rc 0 C stop run "$T/rstop.yaml"
check "stopped, retried: verified, not run again ($(attempts stop d))" \
	test "$(attempts stop d)" = "1 run interrupted;2 verify succeeded;"
sleep 0.5
check "stopped, retried: ran once" test "$(grep -c "^stop d$" "$L")" = 1

# The driver is stopped while a command that ignores the hangup has not
# written its line yet: the next driver ends it on the host before the
# verify, so the run that follows the failed verify is the only one to
# write (else the first would still add its line).
sed 's/name: hup/name: termhup/; s/hup d/termhup d/g' "$T/rhup.yaml" >"$T/rtermhup.yaml"
(Cbg termhup run "$T/rtermhup.yaml" >"$T/termhup.out" 2>&1) &
pid=$!
i=0
until [ -n "$(sshd_sessions)" ] && pgrep -fx "sleep 3" >/dev/null || [ $i -ge 100 ]; do sleep 0.05; i=$((i + 1)); done
kill -TERM $pid
wait $pid
expect_rc 0 C termhup run "$T/rtermhup.yaml"
sleep 3.5
check "stopped, hangup ignored: ran once ($(grep -c "^termhup d$" "$L"))" \
	test "$(grep -c "^termhup d$" "$L")" = 1
check "stopped, hangup ignored: run interrupted, verify failed, run again ($(attempts termhup d))" \
	test "$(attempts termhup d)" = "1 run interrupted;2 verify failed;3 run succeeded;"

# Killed before their commands reached the hosts (attempts recorded
# running while the stopped sshds had not answered): a recovery claims an
# attempt's record on its host, so that command can never start there,
# and marks it ended, so that a later look at the same attempt says so at
# once. Here the next driver claims d1's record and dies while recovering
# d2; the one after it looks at d1 again and goes on, verify then run,
# without waiting for a record that never comes and without a person.
sshd_start b
PB=$SSHD_PORT
sshd_known b
key="user: $SSH_USER, identity: $SSH_KEY, known_hosts: $SSH_KNOWN"
cat >"$T/rearly.yaml" <<EOT
cutover: 1
name: early
settings: {parallel: 2}
targets:
  a: {type: ssh, host: 127.0.0.1, port: $PA, $key}
  b: {type: ssh, host: 127.0.0.1, port: $PB, $key}
phases:
  - id: p
    steps:
      - {id: d1, type: ssh, target: a, run: "echo 'early d1' >> $L", verify: "grep -qx 'early d1' $L"}
      - {id: w, type: local, needs: [], run: "sleep 0.3"}
      - {id: d2, type: ssh, target: b, needs: [w], run: "echo 'early d2' >> $L", verify: "grep -qx 'early d2' $L"}
EOT
sshd_signal() { kill "-$1" "$(cat "$T/sshd-$2/pid")"; }
# until_early SQL WANT: until the state answers SQL with WANT (at most 10 s).
until_early() {
	i=0
	until [ "$(sqlite3 "$T/rearly.db" "$1" 2>/dev/null)" = "$2" ] || [ $i -ge 200 ]; do
		sleep 0.05
		i=$((i + 1))
	done
}
sshd_signal STOP a
sshd_signal STOP b
(Cbg early run "$T/rearly.yaml" >"$T/early.out" 2>&1) &
pid=$!
until_early "SELECT count(*) FROM attempts WHERE state = 'running' AND step LIKE 'd_'" 2
kill -9 $pid
wait $pid 2>/dev/null
sshd_signal CONT a
(Cbg early run "$T/rearly.yaml" >"$T/early.out" 2>&1) &
pid=$!
until_early "SELECT state FROM attempts WHERE step = 'd1' AND n = 1" interrupted
kill -9 $pid
wait $pid 2>/dev/null
sshd_signal CONT b
expect_rc 0 C early run "$T/rearly.yaml"
for s in d1 d2; do
	check "killed before $s reached its host: run interrupted, verify failed, run again ($(attempts early $s))" \
		test "$(attempts early $s)" = "1 run interrupted;2 verify failed;3 run succeeded;"
	check "killed before $s reached its host: ran once" test "$(grep -c "^early $s$" "$L")" = 1
done
sshd_kill b

# The host cannot be reached when the next driver recovers: nobody can tell
# whether the command still runs there, so the step waits for a person,
# its note saying what to check.
sed 's/name: drop/name: gone/; s/drop d/gone d/g' "$T/rdrop.yaml" >"$T/rgone.yaml"
(Cbg gone run "$T/rgone.yaml" >"$T/gone.out" 2>&1) &
pid=$!
wait_ledger "gone d"
kill -9 $pid
wait $pid 2>/dev/null
sshd_kill a
expect_rc 5 C gone run "$T/rgone.yaml"
json_state=$(C gone status "$T/rgone.yaml" --json | jq -r '.steps[0].state')
check "unreachable: the step awaits a person ($json_state)" test "$json_state" = awaiting
C gone status "$T/rgone.yaml" >"$T/gone.status" 2>&1
contains "$T/gone.status" "cannot tell whether its command still runs"
finish
