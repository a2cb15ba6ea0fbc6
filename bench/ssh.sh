#!/bin/sh
# ssh.sh - a headless run of 200 ssh steps running `true` on one target (one
# libssh2 session, one channel per step, every transition durable) against
# 200 runs of the OpenSSH client multiplexed over a ControlMaster, and 200
# fresh `ssh host true`, all against the same local sshd in the same run.
# Target: no slower than ControlMaster.
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

rb=$B/ssh.yaml
{
	echo "cutover: 1"
	echo "name: sshbench"
	echo "targets:"
	echo "  box: {type: ssh, host: 127.0.0.1, port: $port, user: $SSH_USER, identity: $SSH_KEY, known_hosts: $SSH_KNOWN}"
	one_phase "$N" "type: ssh, target: box, run: 'true'"
} >"$rb"

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

one_run >/dev/null || { echo "the run failed"; exit 1; }
test "$(sqlite3 "$B/s.db" "select count(*) from steps where state='succeeded'")" = "$N" ||
	{ echo "not every step succeeded"; exit 1; }
sshc 127.0.0.1 true </dev/null || { echo "the OpenSSH client cannot log in"; exit 1; }
run=$(median "$R" one_run)
cm=$(median "$R" control_master)
fr=$(median 1 fresh)
echo "cutover run of $N ssh steps (one session, durable): ${run} ms ($(ratio "$run" "$N") ms/step)"
echo "OpenSSH client x $N over a ControlMaster: ${cm} ms ($(ratio "$cm" "$N") ms/run)"
echo "OpenSSH client x $N, fresh connections: ${fr} ms ($(ratio "$fr" "$N") ms/run)"
echo "ratio run/ControlMaster: $(ratio "$run" "$cm") (target <= 1)"
echo "ratio run/fresh: $(ratio "$run" "$fr")"
