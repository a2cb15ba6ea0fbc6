#!/bin/sh
# ssh.sh - a headless run of 200 ssh steps running `true` on one target (one
# libssh2 session, one channel per step, every transition durable) against
# 200 runs of the OpenSSH client multiplexed over a ControlMaster, and 200
# fresh `ssh host true`, all against the same local sshd in the same run.
# Target: no slower than ControlMaster.
#
# Then the same steps on a second sshd reached through the first as a
# bastion (jump:, over a direct-tcpip channel of the bastion's session),
# against OpenSSH with a ControlMaster through the same ProxyJump (both
# read one ssh_config file). Targets: through the bastion at most 1.2x
# direct, and no slower than OpenSSH's ControlMaster through ProxyJump.
. "$(dirname "$0")/lib.sh"
set +e
T=$B
cleanup() { rm -rf "$B"; }
. "$top/tests/sshd.sh"

N=${N:-200}
R=${R:-3}
sshd_init
sshd_start bench
sshd_known bench
port=$SSHD_PORT
sshd_start behind
sshd_known behind
port2=$SSHD_PORT
conf=$B/ssh_config
cat >"$conf" <<EOF
Host bastion
  HostName 127.0.0.1
  Port $port
Host behind
  HostName 127.0.0.1
  Port $port2
  ProxyJump bastion
Host *
  User $SSH_USER
  IdentityFile $SSH_KEY
  IdentitiesOnly yes
  UserKnownHostsFile $SSH_KNOWN
  StrictHostKeyChecking yes
  BatchMode yes
EOF

rb=$B/ssh.yaml
{
	echo "cutover: 1"
	echo "name: sshbench"
	echo "targets:"
	echo "  box: {type: ssh, host: 127.0.0.1, port: $port, user: $SSH_USER, identity: $SSH_KEY, known_hosts: $SSH_KNOWN}"
	one_phase "$N" "type: ssh, target: box, run: 'true'"
} >"$rb"
rbj=$B/jump.yaml
{
	echo "cutover: 1"
	echo "name: sshjumpbench"
	echo "settings: {ssh_config: $conf}"
	echo "targets:"
	echo "  behind: {type: ssh, host: behind}"
	one_phase "$N" "type: ssh, target: behind, run: 'true'"
} >"$rbj"

sshc() {
	ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=yes \
	    -o UserKnownHostsFile="$SSH_KNOWN" -i "$SSH_KEY" -p "$port" \
	    -l "$SSH_USER" "$@"
}
# The master is set up inside the timed loop and closed after it, so each
# round pays for one connection, as cutover does.
control_master() {
	i=0
	while [ $i -lt "$N" ]; do
		sshc -o ControlMaster=auto -o ControlPath="$B/cm-%C" \
		    -o ControlPersist=60 127.0.0.1 true </dev/null
		i=$((i + 1))
	done
	sshc -o ControlPath="$B/cm-%C" -O exit 127.0.0.1 2>/dev/null
}
fresh() {
	i=0
	while [ $i -lt "$N" ]; do
		sshc 127.0.0.1 true </dev/null
		i=$((i + 1))
	done
}
one_run() {
	rm -f "$B/s.db" "$B/s.db-wal" "$B/s.db-shm"
	"$CUTOVER" --state "$B/s.db" run "$rb"
}
jump_run() {
	rm -f "$B/j.db" "$B/j.db-wal" "$B/j.db-shm"
	"$CUTOVER" --state "$B/j.db" run "$rbj"
}
control_master_jump() {
	i=0
	while [ $i -lt "$N" ]; do
		ssh -F "$conf" -o ControlMaster=auto -o ControlPath="$B/cj-%C" \
		    -o ControlPersist=60 behind true </dev/null
		i=$((i + 1))
	done
	ssh -F "$conf" -o ControlPath="$B/cj-%C" -O exit behind 2>/dev/null
}

one_run >/dev/null || { echo "the run failed"; exit 1; }
test "$(sqlite3 "$B/s.db" "select count(*) from steps where state='succeeded'")" = "$N" ||
	{ echo "not every step succeeded"; exit 1; }
sshc 127.0.0.1 true </dev/null || { echo "the OpenSSH client cannot log in"; exit 1; }
jump_run >/dev/null || { echo "the run through the bastion failed"; exit 1; }
test "$(sqlite3 "$B/j.db" "select count(*) from steps where state='succeeded'")" = "$N" ||
	{ echo "not every step through the bastion succeeded"; exit 1; }
ssh -F "$conf" behind true </dev/null || { echo "OpenSSH cannot log in through ProxyJump"; exit 1; }
# Interleaved, so that load from other work on the machine falls on all
# four alike; each figure is the median of its R rounds.
i=0
while [ $i -lt "$R" ]; do
	ms one_run >>"$B/t.run"
	ms jump_run >>"$B/t.jump"
	ms control_master >>"$B/t.cm"
	ms control_master_jump >>"$B/t.cj"
	i=$((i + 1))
done
mid() { sort -n "$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
run=$(mid "$B/t.run")
jr=$(mid "$B/t.jump")
cm=$(mid "$B/t.cm")
cj=$(mid "$B/t.cj")
fr=$(median 1 fresh)
echo "cutover run of $N ssh steps (one session, durable): ${run} ms ($(ratio "$run" "$N") ms/step)"
echo "OpenSSH client x $N over a ControlMaster: ${cm} ms ($(ratio "$cm" "$N") ms/run)"
echo "OpenSSH client x $N, fresh connections: ${fr} ms ($(ratio "$fr" "$N") ms/run)"
echo "ratio run/ControlMaster: $(ratio "$run" "$cm") (target <= 1)"
echo "ratio run/fresh: $(ratio "$run" "$fr")"
echo "cutover run of $N ssh steps through a bastion (jump): ${jr} ms ($(ratio "$jr" "$N") ms/step)"
echo "OpenSSH client x $N over a ControlMaster through ProxyJump: ${cj} ms ($(ratio "$cj" "$N") ms/run)"
echo "ratio bastion/direct: $(ratio "$jr" "$run") (target <= 1.2)"
echo "ratio bastion/ControlMaster through ProxyJump: $(ratio "$jr" "$cj") (target <= 1)"
