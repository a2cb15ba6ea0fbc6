#!/bin/sh
# ssh-jump.sh - ssh targets behind bastions, against real sshd instances in
# network namespaces this test creates (it needs root and ip(8)):
#
#   cl (cutover) --10.91.1.0/24-- a (bastion, port 22)
#                                 a --10.91.2.0/24-- b (app: 2222, 2223)
#                                                    b --10.91.3.0/24-- c (2200)
#
# No namespace forwards packets and cl has no route beyond 10.91.1.0/24, so
# b and c are reachable from cl only through SSH on the hosts before them.
# Proves: a direct connection is impossible; one hop and two hops work and
# the target's sshd log shows the connection coming from the bastion's
# address; one bastion session for all targets behind it; host key
# mismatch on either hop refused; ~/.ssh/config aliases with ProxyJump
# (the default file, and ssh_config: FILE), runbook keys winning over it,
# an unsupported keyword reported once, and StrictHostKeyChecking no
# refused; status shows the path; lint finds an unknown jump target, a
# jump loop, a ProxyJump loop, an alias that resolves to nothing; a
# bastion killed while a step runs through it fails that step clearly,
# retry reconnects, and an idle drop is replaced; kill -9 of cutover
# while a step runs behind the bastion is recovered through it; a timeout
# ends the command behind the bastion; a refused port behind it fails
# clearly; the bastion authenticates by the agent, the host behind it by
# its key; ConnectTimeout bounds a host behind the bastion that never
# answers, while the bastion serves another.
. "$(dirname "$0")/../lib.sh"
. "$SRCDIR/tests/sshd.sh"

if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null 2>&1; then
	echo "ssh-jump.sh: SKIP: needs root and ip(8) (iproute2) for network namespaces" >&2
	exit 77
fi
unset SSH_AUTH_SOCK SSH_AGENT_PID

P=cj$$ # namespace and link prefix, short: link names have 15 bytes
netns_cleanup() {
	for n in cl a b c; do
		ip netns del "$P$n" 2>/dev/null
	done
	# A pair not yet moved into its namespaces is still here.
	for l in cl1 a1 a2 b2 b3 c3; do
		ip link del "$P$l" 2>/dev/null
	done
}
sshd_init
trap 'sshd_stop_all; netns_cleanup; [ -z "${SSH_AGENT_PID:-}" ] || kill "$SSH_AGENT_PID" 2>/dev/null; cleanup' EXIT
trap 'exit 1' INT TERM HUP

for n in cl a b c; do
	ip netns add "$P$n" || { fail "ip netns add $P$n"; exit 1; }
	ip -n "$P$n" link set lo up
done
# link NS1 NS2 NET: a veth pair, NS1 .1 and NS2 .2 on 10.91.NET.0/24.
link() {
	ip link add "$P$1$3" type veth peer name "$P$2$3" || return 1
	ip link set "$P$1$3" netns "$P$1" && ip link set "$P$2$3" netns "$P$2" &&
	ip -n "$P$1" addr add "10.91.$3.1/24" dev "$P$1$3" &&
	ip -n "$P$2" addr add "10.91.$3.2/24" dev "$P$2$3" &&
	ip -n "$P$1" link set "$P$1$3" up && ip -n "$P$2" link set "$P$2$3" up
}
link cl a 1 && link a b 2 && link b c 3 || { fail "network set-up"; exit 1; }

# start_in NS ADDR NAME PORT: an sshd in namespace $P$NS.
start_in() {
	SSHD_NETNS=$P$1 SSHD_ADDR=$2
	sshd_start "$3" "$4"
	unset SSHD_NETNS SSHD_ADDR
}
start_in a 10.91.1.2 a 22
start_in b 10.91.2.2 b 2222
start_in b 10.91.2.2 b2 2223
start_in c 10.91.3.2 c 2200
for n in a b b2 c; do sshd_known $n; done

# C NAME ARGS...: cutover in the client namespace, on NAME's state file.
C() {
	n=$1
	shift
	ip netns exec "${P}cl" "$CUTOVER" --state "$T/$n.db" "$@"
}
# Cbg NAME ARGS...: the same in place of the calling subshell (its pid is
# cutover's), for kill -9.
Cbg() {
	n=$1
	shift
	exec ip netns exec "${P}cl" "$CUTOVER" --state "$T/$n.db" "$@"
}
json() {
	C "$1" status "$T/$1.yaml" --json >"$T/json" 2>&1
	if jq -e --arg s "$2" ".steps[] | select(.id == \$s) | $3" "$T/json" >/dev/null; then
		ok
	else
		fail "$1 $2: $3"
		sed 's/^/  | /' "$T/json" | head -30 >&2
	fi
}
accepted() { grep -c "Accepted publickey for $SSH_USER from $2 " "$T/sshd-$1/log"; }
KEYS="user: $SSH_USER, identity: $SSH_KEY, known_hosts: $SSH_KNOWN"
BASTION="  bastion: {type: ssh, host: 10.91.1.2, $KEYS}"
# runbook NAME TARGETS-LINES STEPS-LINES [SETTINGS]
runbook() {
	{
		echo "cutover: 1"
		echo "name: $1"
		echo "settings: {parallel: 2, default_timeout: 60s${4:-, ssh_config: none}}"
		echo "targets:"
		printf '%s\n' "$2"
		echo "phases:"
		echo "  - id: p"
		echo "    steps:"
		printf '%s\n' "$3"
	} >"$T/$1.yaml"
}

# 1. Without the bastion, b cannot be reached from cl at all.
runbook direct "  app: {type: ssh, host: 10.91.2.2, port: 2222, $KEYS}" \
	"      - {id: hello, type: ssh, target: app, run: 'true'}"
expect_rc 1 C direct run "$T/direct.yaml"
contains "$T/out" "cannot connect to 10.91.2.2:2222"
check "b saw no connection" test "$(grep -c 'Connection from' "$T/sshd-b/log")" = 0

# 2. One hop: the command runs on b, which sees the bastion's address; two
# targets behind the bastion share its one session.
runbook one "$BASTION
  app: {type: ssh, host: 10.91.2.2, port: 2222, $KEYS, jump: [bastion]}
  app2: {type: ssh, host: 10.91.2.2, port: 2223, $KEYS, jump: [bastion]}" \
	"      - {id: hello, type: ssh, target: app, run: 'echo conn=\$SSH_CONNECTION'}
      - {id: other, type: ssh, target: app2, run: 'echo conn=\$SSH_CONNECTION'}
      - {id: again, type: ssh, target: app, run: 'echo again'}"
expect_rc 0 C one run "$T/one.yaml"
json one hello '.state == "succeeded"'
json one again '.state == "succeeded"'
expect_rc 0 C one log "$T/one.yaml" hello
contains "$T/out" "conn=10.91.2.1 "
check "b's log: the connection came from the bastion" test "$(accepted b 10.91.2.1)" = 1
check "b2's log: from the bastion" test "$(accepted b2 10.91.2.1)" = 1
check "bastion's log: from cl" test "$(accepted a 10.91.1.1)" = 1
check "one bastion session for both targets and three steps" \
	test "$(grep -c 'Accepted publickey' "$T/sshd-a/log")" = 1
expect_rc 0 C one status "$T/one.yaml"
contains "$T/out" "target app: app via bastion"

# 3. Two hops: c through the bastion, then b.
runbook two "$BASTION
  mid: {type: ssh, host: 10.91.2.2, port: 2222, $KEYS}
  deep: {type: ssh, host: 10.91.3.2, port: 2200, $KEYS, jump: [bastion, mid]}" \
	"      - {id: deep, type: ssh, target: deep, run: 'echo conn=\$SSH_CONNECTION'}"
expect_rc 0 C two run "$T/two.yaml"
expect_rc 0 C two log "$T/two.yaml" deep
contains "$T/out" "conn=10.91.3.1 "
check "c's log: from b" test "$(accepted c 10.91.3.1)" = 1
expect_rc 0 C two status "$T/two.yaml"
contains "$T/out" "target deep: deep via bastion, mid"

# 4. Host key mismatch, on the bastion and on the target hop: refused.
grep -v '^10.91.1.2 ' "$SSH_KNOWN" >"$T/known-bad-a"
echo "10.91.1.2 $(cut -d' ' -f1,2 "$T/sshd-b/host_ed25519.pub")" >>"$T/known-bad-a"
grep -v '^\[10.91.2.2\]:2222 ' "$SSH_KNOWN" >"$T/known-bad-b"
echo "[10.91.2.2]:2222 $(cut -d' ' -f1,2 "$T/sshd-a/host_ed25519.pub")" >>"$T/known-bad-b"
before=$(grep -c 'Accepted publickey' "$T/sshd-b/log")
runbook badkey-a "  bastion: {type: ssh, host: 10.91.1.2, user: $SSH_USER, identity: $SSH_KEY, known_hosts: $T/known-bad-a}
  app: {type: ssh, host: 10.91.2.2, port: 2222, $KEYS, jump: [bastion]}" \
	"      - {id: hello, type: ssh, target: app, run: 'true'}"
expect_rc 1 C badkey-a run "$T/badkey-a.yaml"
contains "$T/out" "host key of 10.91.1.2:22 has CHANGED"
runbook badkey-b "$BASTION
  app: {type: ssh, host: 10.91.2.2, port: 2222, user: $SSH_USER, identity: $SSH_KEY, known_hosts: $T/known-bad-b, jump: [bastion]}" \
	"      - {id: hello, type: ssh, target: app, run: 'true'}"
expect_rc 1 C badkey-b run "$T/badkey-b.yaml"
contains "$T/out" "host key of 10.91.2.2:2222 via bastion has CHANGED"
check "no login on b with a wrong key anywhere" \
	test "$(grep -c 'Accepted publickey' "$T/sshd-b/log")" = "$before"

# 5. ~/.ssh/config (the default file): aliases, ProxyJump, first value
# wins, an unsupported keyword reported once; the runbook's user wins.
mkdir -p "$HOME/.ssh"
cat >"$HOME/.ssh/config" <<EOF
Host bastion-dc1
  HostName 10.91.1.2
  Port 22
  User $SSH_USER
Host app1
  HostName 10.91.2.2
  Port 2222
  ProxyJump bastion-dc1
  LocalForward 8080 localhost:80
Host deep1
  HostName 10.91.3.2
  Port 2200
  ProxyJump bastion-dc1,$SSH_USER@app1
Host *
  User nobody-here
  Port 2999
  IdentityFile $SSH_KEY
  UserKnownHostsFile $SSH_KNOWN
EOF
# Sessions are shared by route, whatever the target's name: app1 (alias),
# app-rb (the same host by address, behind the runbook's bastion) and
# deep1's second hop are one session to b, over one to the bastion (whose
# port the runbook gives: Port 2999 of Host * would apply).
runbook conf "  bastion: {type: ssh, host: 10.91.1.2, port: 22, $KEYS}
  app1: {type: ssh, host: app1, user: $SSH_USER}
  app-rb: {type: ssh, host: 10.91.2.2, port: 2222, $KEYS, jump: [bastion]}
  deep1: {type: ssh, host: deep1, user: $SSH_USER}" \
	"      - {id: one, type: ssh, target: app1, run: 'echo conn=\$SSH_CONNECTION'}
      - {id: two, type: ssh, target: app1, run: 'echo two'}
      - {id: three, type: ssh, target: deep1, run: 'echo conn=\$SSH_CONNECTION'}
      - {id: four, type: ssh, target: app-rb, run: 'echo four'}" " "
na=$(grep -c 'Accepted publickey' "$T/sshd-a/log")
nb=$(grep -c 'Accepted publickey' "$T/sshd-b/log")
expect_rc 0 C conf run "$T/conf.yaml"
check "one session to the bastion for three targets" \
	test "$(grep -c 'Accepted publickey' "$T/sshd-a/log")" = $((na + 1))
check "one session to b for app1, app-rb and deep1's hop" \
	test "$(grep -c 'Accepted publickey' "$T/sshd-b/log")" = $((nb + 1))
json conf four '.state == "succeeded"'

json conf one '.state == "succeeded"'
json conf three '.state == "succeeded"'
expect_rc 0 C conf log "$T/conf.yaml" one
contains "$T/out" "conn=10.91.2.1 "
contains "$T/out" "LocalForward is not supported"
expect_rc 0 C conf log "$T/conf.yaml" two
lacks "$T/out" "LocalForward"
expect_rc 0 C conf log "$T/conf.yaml" three
contains "$T/out" "conn=10.91.3.1 "
expect_rc 0 C conf status "$T/conf.yaml"
contains "$T/out" "target app1: app1 via bastion-dc1"
contains "$T/out" "target deep1: deep1 via bastion-dc1, app1"
# OpenSSH itself agrees on the same file.
check "ssh -G resolves the same host" sh -c "ssh -F '$HOME/.ssh/config' -G app1 2>/dev/null </dev/null | grep -qx 'hostname 10.91.2.2'"

# ssh_config: FILE per target, and StrictHostKeyChecking no refused (by
# run and lint) unless the runbook says host_key: off for that target.
sed 's/^Host app1$/Host app1\n  StrictHostKeyChecking no/' "$HOME/.ssh/config" >"$T/ssh_config_nocheck"
grep -q 'StrictHostKeyChecking no' "$T/ssh_config_nocheck" || fail "sed"
runbook nocheck "  app1: {type: ssh, host: app1, user: $SSH_USER, ssh_config: $T/ssh_config_nocheck}" \
	"      - {id: one, type: ssh, target: app1, run: 'true'}" " "
expect_rc 1 C nocheck run "$T/nocheck.yaml"
contains "$T/out" "StrictHostKeyChecking no; refused"
expect_rc 3 "$CUTOVER" lint "$T/nocheck.yaml"
contains "$T/err" "StrictHostKeyChecking no; refused"
sed -i 's/ssh_config: /host_key: off, ssh_config: /' "$T/nocheck.yaml"
rm -f "$T/nocheck.db"*
expect_rc 0 C nocheck run "$T/nocheck.yaml"

# 6. lint: an unknown jump target (FILE:LINE:COL), a jump loop, a
# ProxyJump loop, an alias that resolves to nothing.
runbook lint1 "$BASTION
  app: {type: ssh, host: 10.91.2.2, $KEYS, jump: [bastoin]}" \
	"      - {id: hello, type: ssh, target: app, run: 'true'}"
expect_rc 3 "$CUTOVER" lint "$T/lint1.yaml"
contains "$T/err" "lint1.yaml:6:"
contains "$T/err" "unknown jump target 'bastoin'"
runbook lint2 "  x: {type: ssh, host: 10.91.2.2, $KEYS, jump: [y]}
  y: {type: ssh, host: 10.91.2.3, $KEYS, jump: [x]}" \
	"      - {id: hello, type: ssh, target: x, run: 'true'}"
expect_rc 3 "$CUTOVER" lint "$T/lint2.yaml"
contains "$T/err" "jump loop"
cat >"$T/ssh_config_loop" <<EOF
Host p
  HostName 10.91.1.2
  ProxyJump q
Host q
  HostName 10.91.1.3
  ProxyJump p
EOF
runbook lint3 "  p: {type: ssh, host: p, ssh_config: $T/ssh_config_loop}" \
	"      - {id: hello, type: ssh, target: p, run: 'true'}" " "
expect_rc 3 "$CUTOVER" lint "$T/lint3.yaml"
contains "$T/err" "ProxyJump loop"
runbook lint4 "  nowhere: {type: ssh, host: no-such-alias-x9}" \
	"      - {id: hello, type: ssh, target: nowhere, run: 'true'}"
expect_rc 3 "$CUTOVER" lint "$T/lint4.yaml"
contains "$T/err" "resolves to nothing"
expect_rc 0 "$CUTOVER" lint "$T/one.yaml"

# 7. The bastion killed while a step runs behind it: the step's outcome is
# unknown (it waits for a person) and the message names the bastion; once
# the bastion is back, retry reconnects (ending the old attempt first).
runbook killed "$BASTION
  app: {type: ssh, host: 10.91.2.2, port: 2222, $KEYS, jump: [bastion]}" \
	"      - {id: long, type: ssh, target: app, run: 'if test -f $T/fast; then echo reconnected; else sleep 37.25; fi'}"
C killed run "$T/killed.yaml" >"$T/killed.out" 2>&1 &
run=$!
i=0
until pgrep -f "slee[p] 37.25" >/dev/null 2>&1 || [ $i -ge 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
check "the remote command started" test $i -lt 100
t0=$(date +%s)
sshd_kill a
wait $run
check "killed bastion: cutover run exits 5 (waiting)" test $? = 5
check "killed bastion: noticed within 5s" test $(($(date +%s) - t0)) -lt 5
contains "$T/killed.out" "through bastion bastion: connection to 10.91.1.2:22 lost"
json killed long '.state == "awaiting"'
start_in a 10.91.1.2 a 22
touch "$T/fast"
expect_rc 0 C killed retry "$T/killed.yaml" long
json killed long '.state == "succeeded" and .attempts == 2'
check "the old command ended on b" sh -c "! pgrep -f 'slee[p] 37.25'"

# 8. A bastion that drops while idle is replaced: the next step reconnects.
runbook idle "$BASTION
  app: {type: ssh, host: 10.91.2.2, port: 2222, $KEYS, jump: [bastion]}" \
	"      - {id: one, type: ssh, target: app, run: 'true'}
      - {id: pause, type: local, run: 'while ! test -f $T/bounced; do sleep 0.1; done'}
      - {id: two, type: ssh, target: app, run: 'echo after-bounce'}"
C idle run "$T/idle.yaml" >"$T/idle.out" 2>&1 &
run=$!
i=0
until grep -q "one: succeeded" "$T/idle.out" 2>/dev/null || [ $i -ge 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
na=$(grep -c 'Accepted publickey' "$T/sshd-a/log")
sshd_kill a
start_in a 10.91.1.2 a 22
touch "$T/bounced"
wait $run
check "idle bastion drop: run completes" test $? = 0
json idle two '.state == "succeeded" and .attempts == 1'
check "the bastion was reconnected" test "$(grep -c 'Accepted publickey' "$T/sshd-a/log")" -ge 1

# 9. kill -9 of cutover while a step runs behind the bastion: the next
# driver ends the command on b, through the bastion, before going on.
runbook k9 "$BASTION
  app: {type: ssh, host: 10.91.2.2, port: 2222, $KEYS, jump: [bastion]}" \
	"      - {id: long, type: ssh, target: app, verify: 'true', run: 'trap \"\" HUP; sleep 41.75'}"
(Cbg k9 run "$T/k9.yaml" >"$T/k9.out" 2>&1) &
run=$!
i=0
until pgrep -f "slee[p] 41.75" >/dev/null 2>&1 || [ $i -ge 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
check "k9: the remote command started" test $i -lt 100
kill -9 $run
wait $run 2>/dev/null
check "k9: the command outlives its driver" pgrep -f "slee[p] 41.75"
expect_rc 0 C k9 run "$T/k9.yaml"
json k9 long '.state == "succeeded"'
check "k9: the orphaned command was ended through the bastion" sh -c "! pgrep -f 'slee[p] 41.75'"

# 10. Through the bastion: a step's timeout ends its command on b; a port
# nothing listens on behind the bastion fails clearly.
runbook tmo "$BASTION
  app: {type: ssh, host: 10.91.2.2, port: 2222, $KEYS, jump: [bastion]}
  closed: {type: ssh, host: 10.91.2.2, port: 2299, $KEYS, jump: [bastion]}" \
	"      - {id: slow, type: ssh, target: app, timeout: 1s, run: 'sleep 29.5'}
      - {id: refused, type: ssh, target: closed, needs: [], run: 'true'}"
expect_rc 1 C tmo run "$T/tmo.yaml"
json tmo slow '.state == "failed"'
json tmo refused '.state == "failed"'
expect_rc 0 C tmo log "$T/tmo.yaml" slow
contains "$T/out" "timed out"
expect_rc 0 C tmo log "$T/tmo.yaml" refused
contains "$T/out" "bastion bastion could not reach 10.91.2.2:2299"
i=0
while pgrep -f 'slee[p] 29.5' >/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
check "the timed-out command ended on b" sh -c "! pgrep -f 'slee[p] 29.5'"

# 11. Authentication per hop: the bastion by the agent's key (no identity
# given), the host behind it by its identity file.
eval "$(ssh-agent -s)" >/dev/null
ssh-add -q "$SSH_KEY" 2>/dev/null
runbook agent "  bastion: {type: ssh, host: 10.91.1.2, user: $SSH_USER, known_hosts: $SSH_KNOWN}
  app: {type: ssh, host: 10.91.2.2, port: 2222, $KEYS, jump: [bastion]}" \
	"      - {id: hello, type: ssh, target: app, run: 'echo via-agent'}"
expect_rc 0 C agent run "$T/agent.yaml"
expect_rc 0 C agent log "$T/agent.yaml" hello
contains "$T/out" "via-agent"
ssh-agent -k >/dev/null 2>&1
unset SSH_AUTH_SOCK SSH_AGENT_PID

# 12. ConnectTimeout through the bastion: a host behind it that never
# answers fails its step within the time the configuration gives, and the
# bastion's session goes on serving the host behind it that does.
cat >"$T/ssh_config_slow" <<EOF
Host ghost
  HostName 10.91.2.99
  ConnectTimeout 1
EOF
runbook ghost "$BASTION
  ghost: {type: ssh, host: ghost, $KEYS, jump: [bastion], ssh_config: $T/ssh_config_slow}
  app: {type: ssh, host: 10.91.2.2, port: 2222, $KEYS, jump: [bastion]}" \
	"      - {id: lost, type: ssh, target: ghost, run: 'true'}
      - {id: fine, type: ssh, target: app, needs: [], run: 'sleep 2; echo fine'}"
expect_rc 1 C ghost run "$T/ghost.yaml"
json ghost lost '.state == "failed" and .duration_ms < 3000'
json ghost fine '.state == "succeeded"'
expect_rc 0 C ghost log "$T/ghost.yaml" lost
contains "$T/out" "cannot connect to 10.91.2.99:22 via bastion"
contains "$T/out" "timed out after 1s"

finish
