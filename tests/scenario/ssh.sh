#!/bin/sh
# ssh.sh - ssh steps against real OpenSSH sshd instances on 127.0.0.1:
# success and session reuse, exit status and signals, a flood on stdout and
# stderr at once, timeout, host keys (unknown, changed, accept-new), a wrong
# key, ssh-agent, sshd killed mid-step then retry, a dropped idle session,
# parallel steps on two targets, and a listener that never answers.
. "$(dirname "$0")/../lib.sh"
. "$SRCDIR/tests/sshd.sh"

unset SSH_AUTH_SOCK SSH_AGENT_PID
sshd_init
sshd_start a
PA=$SSHD_PORT
sshd_known a
sshd_start b
PB=$SSHD_PORT
sshd_known b

# target NAME PORT [EXTRA]: a flow mapping for targets:.
target() {
	echo "  $1: {type: ssh, host: 127.0.0.1, port: $2, user: $SSH_USER, ${3:-identity: $SSH_KEY, known_hosts: $SSH_KNOWN}}"
}
# runbook NAME TARGETS-LINES STEPS-LINES: write $T/NAME.yaml.
runbook() {
	{
		echo "cutover: 1"
		echo "name: $1"
		echo "settings: {parallel: 2, default_timeout: 60s}"
		echo "targets:"
		printf '%s\n' "$2"
		echo "phases:"
		echo "  - id: p"
		echo "    steps:"
		printf '%s\n' "$3"
	} >"$T/$1.yaml"
}
# C NAME ARGS...: cutover on NAME's own state file.
C() {
	n=$1
	shift
	"$CUTOVER" --state "$T/$n.db" "$@"
}
# json NAME STEP FILTER: check FILTER on STEP's object in status --json.
json() {
	C "$1" status "$T/$1.yaml" --json >"$T/json" 2>&1
	if jq -e --arg s "$2" ".steps[] | select(.id == \$s) | $3" "$T/json" >/dev/null; then
		ok
	else
		fail "$1 $2: $3"
		sed 's/^/  | /' "$T/json" | head -30 >&2
	fi
}
accepted() { grep -c "Accepted publickey" "$T/sshd-$1/log"; }

# 1. Success, output of both streams, verify over ssh, stdin at EOF (cat
# returns), one session reused.
runbook ok "$(target box "$PA")" "      - {id: hello, type: ssh, target: box, run: 'echo out; echo err >&2; echo \$SSH_CONNECTION', verify: 'test -n \"\$SSH_CONNECTION\"'}
      - {id: again, type: ssh, target: box, timeout: 10s, run: 'cat; echo second'}
      - {id: third, type: ssh, target: box, run: 'true'}"
before=$(accepted a)
expect_rc 0 C ok run "$T/ok.yaml"
json ok hello '.state == "succeeded" and .attempts == 1'
json ok third '.state == "succeeded"'
expect_rc 0 C ok log "$T/ok.yaml" hello
contains "$T/out" "out"
contains "$T/out" "err"
contains "$T/out" "127.0.0.1"
expect_rc 0 C ok log "$T/ok.yaml" again
contains "$T/out" "second"
check "one session for three steps and a verify" test $(($(accepted a) - before)) = 1

# 2. Exit status and signals.
runbook exit "$(target box "$PA")" "      - {id: three, type: ssh, target: box, run: 'echo before; exit 3'}"
expect_rc 1 C exit run "$T/exit.yaml"
contains "$T/out" "exited with status 3"
json exit three '.state == "failed" and .attempts == 1'
runbook sig "$(target box "$PA")" "      - {id: term, type: ssh, target: box, run: 'kill -TERM \$\$\$\$'}"
expect_rc 1 C sig run "$T/sig.yaml"
contains "$T/out" "killed by signal TERM"

# 3. More than 4 MiB on stdout and stderr at once: neither stalls.
runbook flood "$(target box "$PA")" "      - {id: flood, type: ssh, target: box, timeout: 30s, run: 'head -c 5000000 /dev/zero | tr \"\\\\0\" a & head -c 5000000 /dev/zero | tr \"\\\\0\" b >&2; wait; echo; echo end-of-flood'}"
expect_rc 0 C flood run "$T/flood.yaml"
json flood flood '.state == "succeeded" and .duration_ms < 20000'
C flood log "$T/flood.yaml" flood >"$T/flood.log" 2>&1
# Every byte of both streams arrived: 10,000,014 in all, of which the
# first 64 KiB and the last 1 MiB are kept.
contains "$T/flood.log" "[cutover: $((10000014 - 65536 - 1048576)) bytes of output omitted]"
contains "$T/flood.log" "end-of-flood"
check "flood log has the streams" grep -Eq 'aaaa|bbbb' "$T/flood.log"
check "flood log is bounded" test "$(wc -c <"$T/flood.log")" -lt 1200000

# 4. Timeout closes the channel.
runbook slow "$(target box "$PA")" "      - {id: slow, type: ssh, target: box, run: 'sleep 30', timeout: 1s}"
t0=$(date +%s)
expect_rc 1 C slow run "$T/slow.yaml"
contains "$T/out" "timed out after 1s"
check "timeout took under 8s" test $(($(date +%s) - t0)) -lt 8
json slow slow '.state == "failed"'

# 4b. A timed-out command that ignores the hangup goes on; the step's retry
# ends it on the host before it runs, so it never finishes beside it.
runbook slowhup "$(target box "$PA")" "      - {id: s, type: ssh, target: box, timeout: 3s, retries: 1, retry_delay: 0s, run: 'trap \"\" HUP; if test -f $T/hup-second; then echo second-run >> $T/hup-ledger; else touch $T/hup-second; sleep 8; echo first-end >> $T/hup-ledger; fi'}"
expect_rc 0 C slowhup run "$T/slowhup.yaml"
sleep 6
check "timeout, retry: the retry ran" grep -qx second-run "$T/hup-ledger"
check "timeout, retry: the first command was ended before it" sh -c "! grep -q first-end '$T/hup-ledger'"

# 5. Unknown host key: refused, with the fingerprint and the line to add.
fp=$(ssh-keygen -lf "$T/sshd-a/host_ed25519.pub" | awk '{ print $2 }')
line=$(cat "$T/sshd-a/known_line")
: >"$T/kh-empty"
runbook unknown "$(target box "$PA" "identity: $SSH_KEY, known_hosts: $T/kh-empty")" "      - {id: s, type: ssh, target: box, run: 'echo should-not-run'}"
expect_rc 1 C unknown run "$T/unknown.yaml"
contains "$T/out" "unknown host key of 127.0.0.1:$PA"
contains "$T/out" "$fp"
contains "$T/out" "add this line to $T/kh-empty: $line"
check "unknown key: known_hosts untouched" test ! -s "$T/kh-empty"
check "unknown key: one-line message" test "$(grep -c 'unknown host key' "$T/out")" = 1

# 6. Changed host key: refused, loudly, even with accept-new.
ssh-keygen -q -t ed25519 -N '' -f "$T/other_host" || exit 1
echo "[127.0.0.1]:$PA $(cut -d' ' -f1,2 "$T/other_host.pub")" >"$T/kh-changed"
cp "$T/kh-changed" "$T/kh-changed.orig"
runbook changed "$(target box "$PA" "identity: $SSH_KEY, known_hosts: $T/kh-changed, host_key: accept-new")" "      - {id: s, type: ssh, target: box, run: 'echo should-not-run'}"
expect_rc 1 C changed run "$T/changed.yaml"
contains "$T/out" "host key of 127.0.0.1:$PA has CHANGED"
contains "$T/out" "possible attack"
contains "$T/out" "$fp"
contains "$T/out" "$line"
check "changed key: known_hosts untouched" cmp -s "$T/kh-changed" "$T/kh-changed.orig"
expect_rc 0 C changed log "$T/changed.yaml" s
lacks "$T/out" "should-not-run"

# 7. accept-new adds an unknown key, then strict checking passes.
runbook acceptnew "$(target box "$PA" "identity: $SSH_KEY, known_hosts: $T/kh-new, host_key: accept-new")" "      - {id: s, type: ssh, target: box, run: 'echo accepted'}"
expect_rc 0 C acceptnew run "$T/acceptnew.yaml"
check "accept-new wrote the line" grep -qxF "$line" "$T/kh-new"
check "accept-new file is 0600" test "$(stat -c %a "$T/kh-new")" = 600
expect_rc 0 C acceptnew log "$T/acceptnew.yaml" s
contains "$T/out" "added the host key of 127.0.0.1:$PA"
export PORT_A=$PA
runbook strictnew "$(target box "'\${env:PORT_A}'" "identity: $SSH_KEY, known_hosts: $T/kh-new")" "      - {id: s, type: ssh, target: box, run: 'true'}"
expect_rc 0 C strictnew run "$T/strictnew.yaml"

# 7b. accept-new on a known_hosts that does not end with a newline: the key
# goes on a line of its own; and it waits for a writer that holds the
# file's lock, adding nothing meanwhile.
printf '# kept, without a final newline' >"$T/kh-nonl"
runbook nonl "$(target box "$PA" "identity: $SSH_KEY, known_hosts: $T/kh-nonl, host_key: accept-new")" "      - {id: s, type: ssh, target: box, run: 'true'}"
flock "$T/kh-nonl" sh -c "sleep 1; cp '$T/kh-nonl' '$T/kh-during'" &
locker=$!
sleep 0.2
expect_rc 0 C nonl run "$T/nonl.yaml"
wait $locker
check "accept-new: the old last line is intact" grep -qx '# kept, without a final newline' "$T/kh-nonl"
check "accept-new: the key on a line of its own" grep -qxF "$line" "$T/kh-nonl"
check "accept-new: nothing written while another held the lock" \
	test "$(cat "$T/kh-during")" = '# kept, without a final newline'

# 7c. An identity file that group or others may read is refused, as
# OpenSSH refuses it.
cp "$SSH_KEY" "$T/open_key"
chmod 644 "$T/open_key"
runbook openkey "$(target box "$PA" "identity: $T/open_key, known_hosts: $SSH_KNOWN")" "      - {id: s, type: ssh, target: box, run: 'echo should-not-run'}"
expect_rc 1 C openkey run "$T/openkey.yaml"
contains "$T/out" "UNPROTECTED PRIVATE KEY FILE: permissions 0644 for identity $T/open_key are too open"
lacks "$T/out" "should-not-run"

# 8. A key the server does not know is refused.
ssh-keygen -q -t ed25519 -N '' -f "$T/wrong_key" || exit 1
runbook wrong "$(target box "$PA" "identity: $T/wrong_key, known_hosts: $SSH_KNOWN")" "      - {id: s, type: ssh, target: box, run: 'true'}"
expect_rc 1 C wrong run "$T/wrong.yaml"
contains "$T/out" "authentication as $SSH_USER to 127.0.0.1:$PA failed (tried: key $T/wrong_key (refused))"

# 8b. A passphrase-protected key, passphrase from the environment; never
# shown.
ssh-keygen -q -t ed25519 -N 'pass-Phrase-77' -f "$T/pp_key" || exit 1
cat "$T/pp_key.pub" >>"$SSH_DIR/authorized_keys"
runbook pp "$(target box "$PA" "identity: $T/pp_key, passphrase: \"\${env:KEY_PASS}\", known_hosts: $SSH_KNOWN")" "      - {id: s, type: ssh, target: box, run: 'echo with-passphrase'}"
export KEY_PASS=pass-Phrase-77
expect_rc 0 C pp run "$T/pp.yaml"
runbook pp2 "$(target box "$PA" "identity: $T/pp_key, passphrase: \"\${env:KEY_PASS}\", known_hosts: $SSH_KNOWN")" "      - {id: s, type: ssh, target: box, run: 'true'}"
KEY_PASS=wrong-Phrase-99
expect_rc 1 C pp2 run "$T/pp2.yaml"
contains "$T/out" "cannot read it"
lacks "$T/out" "wrong-Phrase-99"

# 9. ssh-agent: no identity in the target.
eval "$(ssh-agent -s)" >/dev/null
agent=$SSH_AGENT_PID
trap 'kill "$agent" 2>/dev/null; sshd_stop_all; cleanup' EXIT
ssh-add -q "$SSH_KEY" 2>/dev/null
runbook agent "$(target box "$PA" "known_hosts: $SSH_KNOWN")" "      - {id: s, type: ssh, target: box, run: 'echo via-agent'}"
expect_rc 0 C agent run "$T/agent.yaml"
json agent s '.state == "succeeded"'
ssh-add -q -D 2>/dev/null
runbook agent2 "$(target box "$PA" "known_hosts: $SSH_KNOWN")" "      - {id: s, type: ssh, target: box, run: 'true'}"
expect_rc 1 C agent2 run "$T/agent2.yaml"
contains "$T/out" "ssh-agent (0 keys refused)"
kill "$agent" 2>/dev/null
unset SSH_AUTH_SOCK SSH_AGENT_PID

# 10. sshd killed while a step runs: the outcome is unknown, so the attempt
# is interrupted (not failed), clearly and soon; the step has no verify, so
# it waits for a person; after sshd is back, retry runs it on a new
# connection.
runbook killed "$(target box "$PA")" "      - {id: long, type: ssh, target: box, run: 'if test -f $T/fast; then echo reconnected; else sleep 30; fi'}"
C killed run "$T/killed.yaml" >"$T/killed.out" 2>&1 &
run=$!
i=0
until pgrep -f "sleep 30" -P "$(sshd_tree "$(cat "$T/sshd-a/pid")" | tr '\n' ',' | sed 's/,$//')" >/dev/null 2>&1 || [ $i -ge 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
check "the remote command started" test $i -lt 100
t0=$(date +%s)
sshd_kill a
wait $run
check "killed: cutover run exits 5 (waiting)" test $? = 5
check "killed: noticed within 5s" test $(($(date +%s) - t0)) -lt 5
contains "$T/killed.out" "connection to 127.0.0.1:$PA lost"
json killed long '.state == "awaiting"'
check "killed: attempt 1 interrupted" test "$(sqlite3 "$T/killed.db" \
	"SELECT state FROM attempts WHERE step = 'long' AND n = 1")" = interrupted

sshd_start a "$PA"
touch "$T/fast"
expect_rc 0 C killed retry "$T/killed.yaml" long
json killed long '.state == "succeeded" and .attempts == 2'
expect_rc 0 C killed log "$T/killed.yaml" long --attempt 2
contains "$T/out" "reconnected"

# 11. A session dropped while idle is replaced without failing anything.
runbook idle "$(target box "$PA")" "      - {id: one, type: ssh, target: box, run: 'true'}
      - {id: pause, type: local, run: 'while ! test -f $T/bounced; do sleep 0.1; done'}
      - {id: two, type: ssh, target: box, run: 'echo after-bounce'}"
C idle run "$T/idle.yaml" >"$T/idle.out" 2>&1 &
run=$!
i=0
until grep -q "one: succeeded" "$T/idle.out" || [ $i -ge 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
sshd_kill a
sshd_start a "$PA"
touch "$T/bounced"
wait $run
check "idle drop: run completes" test $? = 0
json idle two '.state == "succeeded" and .attempts == 1'

# 12. Parallel steps on two targets overlap in time.
runbook par "$(target ta "$PA")
$(target tb "$PB")" "      - {id: on-a, type: ssh, target: ta, needs: [], run: 'date +%s%N; sleep 1; date +%s%N'}
      - {id: on-b, type: ssh, target: tb, needs: [], run: 'date +%s%N; sleep 1; date +%s%N'}"
expect_rc 0 C par run "$T/par.yaml"
C par log "$T/par.yaml" on-a | grep -E '^[0-9]{10,}$' >"$T/ta"
C par log "$T/par.yaml" on-b | grep -E '^[0-9]{10,}$' >"$T/tb"
a0=$(sed -n 1p "$T/ta") a1=$(sed -n 2p "$T/ta")
b0=$(sed -n 1p "$T/tb") b1=$(sed -n 2p "$T/tb")
check "parallel: both steps printed times" test -n "$a1" -a -n "$b1"
check "parallel: a started before b ended" test "${a0:-1}" -lt "${b1:-0}"
check "parallel: b started before a ended" test "${b0:-1}" -lt "${a1:-0}"

# 13. A listener that accepts and never answers: the ssh step fails with a
# handshake timeout, and a local step beside it still runs and completes.
perl -MIO::Socket::INET -e '$s = IO::Socket::INET->new(LocalAddr => "127.0.0.1",
    LocalPort => 0, Listen => 5, ReuseAddr => 1) or die "listen: $!";
    $| = 1; print $s->sockport, "\n"; @c = (); while (1) { push @c, $s->accept }' >"$T/silent.port" &
silent=$!
i=0
until [ -s "$T/silent.port" ] || [ $i -ge 50 ]; do sleep 0.1; i=$((i + 1)); done
PS=$(cat "$T/silent.port")
runbook silent "$(target mute "$PS")" "      - {id: mute, type: ssh, target: mute, needs: [], run: 'true'}
      - {id: beside, type: local, needs: [], run: 'sleep 1; echo local-done'}"
t0=$(date +%s)
expect_rc 1 C silent run "$T/silent.yaml"
kill "$silent" 2>/dev/null
contains "$T/out" "cannot connect to 127.0.0.1:$PS: SSH handshake timed out after 10s"
json silent beside '.state == "succeeded" and .duration_ms < 3000'
json silent mute '.state == "failed"'
check "silent: gave up in about 10s" test $(($(date +%s) - t0)) -lt 14

# 14. Nothing listens: refused at once.
runbook refused "$(target box 1)" "      - {id: s, type: ssh, target: box, run: 'true'}"
expect_rc 1 C refused run "$T/refused.yaml"
contains "$T/out" "cannot connect to 127.0.0.1:1: Connection refused"

# 14b. Hostile peers: one that sends endless bytes without a newline, one
# that sends endless text lines, one that sends nothing. None holds the
# driver: the first two fail at once with one line, the silent one meets
# the step's timeout, and SIGTERM ends a driver waiting on it promptly.
# hostile MODE: a listener on a free port (printed first) that answers
# every connection as MODE says.
hostile() {
	perl -MIO::Socket::INET -e '$m = shift; $s = IO::Socket::INET->new(
	    LocalAddr => "127.0.0.1", LocalPort => 0, Listen => 5,
	    ReuseAddr => 1) or die "listen: $!"; $| = 1; print $s->sockport, "\n";
	    $SIG{CHLD} = "IGNORE"; $SIG{PIPE} = "IGNORE";
	    while (1) { $c = $s->accept or next; if (fork == 0) {
	        $l = $m eq "lines" ? "not ssh, just text\r\n" : "x" x 4096;
	        if ($m eq "silent") { sleep 60; exit }
	        for (1 .. 100000) { syswrite($c, $l) or exit } exit } }' "$1" &
}
for m in long lines silent; do
	hostile $m >"$T/hostile.$m"
	echo $! >"$T/hostile.$m.pid"
done
for m in long lines silent; do
	i=0
	until [ -s "$T/hostile.$m" ] || [ $i -ge 50 ]; do sleep 0.1; i=$((i + 1)); done
done
runbook hlong "$(target h "$(cat "$T/hostile.long")")" "      - {id: s, type: ssh, target: h, run: 'true', timeout: 3s}"
runbook hlines "$(target h "$(cat "$T/hostile.lines")")" "      - {id: s, type: ssh, target: h, run: 'true', timeout: 3s}"
runbook hsilent "$(target h "$(cat "$T/hostile.silent")")" "      - {id: s, type: ssh, target: h, run: 'true', timeout: 2s}"
t0=$(date +%s)
expect_rc 1 timeout -s KILL 20 "$CUTOVER" --state "$T/hlong.db" run "$T/hlong.yaml"
contains "$T/out" "cannot connect to 127.0.0.1:$(cat "$T/hostile.long"): the server sent a line of more than 1024 bytes instead of an SSH version line"
expect_rc 1 timeout -s KILL 20 "$CUTOVER" --state "$T/hlines.db" run "$T/hlines.yaml"
contains "$T/out" "the server sent more than 8192 bytes without an SSH version line"
check "hostile: both refused within 3s" test $(($(date +%s) - t0)) -le 3
t0=$(date +%s)
expect_rc 1 timeout -s KILL 20 "$CUTOVER" --state "$T/hsilent.db" run "$T/hsilent.yaml"
contains "$T/out" "timed out after 2s"
check "hostile: the step timeout fired at 2s" test $(($(date +%s) - t0)) -le 4
runbook hterm "$(target q "$(cat "$T/hostile.silent")")" "      - {id: t, type: ssh, target: q, run: 'true'}"
(exec "$CUTOVER" --state "$T/hterm.db" run "$T/hterm.yaml" >"$T/hterm.out" 2>&1) &
run=$!
sleep 1
t0=$(date +%s%N)
kill -TERM $run
i=0
while kill -0 $run 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
kill -KILL $run 2>/dev/null
wait $run 2>/dev/null
check "hostile: SIGTERM ended the driver within 1s ($(( ($(date +%s%N) - t0) / 1000000 ))ms)" test $i -lt 20
contains "$T/hterm.out" "cutover received Terminated"
for m in long lines silent; do
	pkill -P "$(cat "$T/hostile.$m.pid")" 2>/dev/null
	kill "$(cat "$T/hostile.$m.pid")" 2>/dev/null
done
# Text lines before the version line are allowed (RFC 4253 4.2): a proxy
# that prints two before relaying to sshd works.
perl -MIO::Socket::INET -MIO::Select -e '$to = shift; $s = IO::Socket::INET->new(
    LocalAddr => "127.0.0.1", LocalPort => 0, Listen => 5, ReuseAddr => 1)
    or die "listen: $!"; $| = 1; print $s->sockport, "\n"; $SIG{CHLD} = "IGNORE";
    while (1) { $c = $s->accept or next; next if fork;
        syswrite($c, "Welcome to a banner\r\nline two\r\n");
        $u = IO::Socket::INET->new("127.0.0.1:$to") or exit;
        $sel = IO::Select->new($c, $u);
        while (1) { for $r ($sel->can_read) { $n = sysread($r, $b, 65536);
            exit unless $n; syswrite($r == $c ? $u : $c, $b) } } }' "$PA" >"$T/proxy.port" &
proxy=$!
i=0
until [ -s "$T/proxy.port" ] || [ $i -ge 50 ]; do sleep 0.1; i=$((i + 1)); done
echo "[127.0.0.1]:$(cat "$T/proxy.port") $(cut -d' ' -f1,2 "$T/sshd-a/host_ed25519.pub")" >"$T/kh-proxy"
runbook proxy "$(target box "$(cat "$T/proxy.port")" "identity: $SSH_KEY, known_hosts: $T/kh-proxy")" "      - {id: s, type: ssh, target: box, run: 'echo via-proxy'}"
expect_rc 0 C proxy run "$T/proxy.yaml"
expect_rc 0 C proxy log "$T/proxy.yaml" s
contains "$T/out" "via-proxy"
pkill -P $proxy 2>/dev/null
kill $proxy 2>/dev/null

# 15. A secret expanded into a command is on no command line: ps on the
# host shows neither the local nor the remote command's text.
export PS_SECRET="Pw-$$-s3cret"
{
	echo "cutover: 1"
	echo "name: pssecret"
	echo "vars: {pw: '\${env:PS_SECRET}'}"
	echo "secrets: [pw]"
	echo "settings: {parallel: 2}"
	echo "targets:"
	target box "$PA"
	echo "phases:"
	echo "  - id: p"
	echo "    steps:"
	echo "      - {id: l, type: local, needs: [], run: ': \"\${pw}\"; sleep 2.1; true'}"
	echo "      - {id: r, type: ssh, target: box, needs: [], run: ': \"\${pw}\"; sleep 2.2; true'}"
} >"$T/pssecret.yaml"
C pssecret run "$T/pssecret.yaml" >"$T/pssecret.out" 2>&1 &
run=$!
seenl=0 seenr=0 both=0
for i in $(seq 1 40); do
	ps -eo args >"$T/ps"
	grep -F "$PS_SECRET" "$T/ps" | grep -q 'sleep 2\.1' && seenl=$((seenl + 1))
	grep -F "$PS_SECRET" "$T/ps" | grep -q 'sleep 2\.2' && seenr=$((seenr + 1))
	grep -q '^sleep 2\.1' "$T/ps" && grep -q '^sleep 2\.2' "$T/ps" && both=$((both + 1))
	sleep 0.05
done
wait $run
json pssecret l '.state == "succeeded"'
json pssecret r '.state == "succeeded"'
check "ps secret: both commands were seen sleeping ($both)" test $both -gt 5
check "ps secret: no local command line showed it ($seenl times)" test $seenl = 0
check "ps secret: no remote command line showed it ($seenr times)" test $seenr = 0
unset PS_SECRET

finish
