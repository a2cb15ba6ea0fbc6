#!/bin/sh
# ssh-entity.sh - an ssh target that depends on the entity: each store's
# POS server is reached at its own resolved address, over one session per
# resolved host, reused by every step of the lanes that resolve to it.
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
accepted() { grep -c "Accepted publickey" "$T/sshd-$1/log"; }

cat >"$T/pos.yaml" <<EOT
cutover: 1
name: pos
settings: {parallel: 3, default_timeout: 60s, ssh_config: none}
entities:
  - {id: s1, wave: pilot, vars: {pos_port: "$PA"}}
  - {id: s2, wave: pilot, vars: {pos_port: "$PB"}}
  - {id: s3, wave: pilot, vars: {pos_port: "$PA"}}
targets:
  pos: {type: ssh, host: 127.0.0.1, port: "\${entity.pos_port}", user: $SSH_USER, identity: $SSH_KEY, known_hosts: $SSH_KNOWN}
phases:
  - id: stores
    for_each: entity
    parallel: 3
    steps:
      - {id: freeze, type: ssh, target: pos, run: 'echo "\${entity.id} \$SSH_CONNECTION"'}
      - {id: check, type: ssh, target: pos, run: 'echo "\${entity.id} again \$SSH_CONNECTION"'}
EOT
check "lint" "$CUTOVER" lint "$T/pos.yaml"
"$CUTOVER" --state "$T/pos.db" run "$T/pos.yaml" >"$T/run.out" 2>&1
rc=$?
[ $rc -eq 0 ] && ok || { fail "run exit $rc"; sed 's/^/  | /' "$T/run.out" >&2; }
for i in s1:$PA s2:$PB s3:$PA; do
	e=${i%%:*}
	p=${i#*:}
	for s in freeze check; do
		"$CUTOVER" --state "$T/pos.db" log "$T/pos.yaml" "$s@$e" >"$T/log" 2>&1
		if grep -q "^$e .* $p\$" "$T/log"; then
			ok
		else
			fail "$s@$e did not run on the sshd at port $p"
			sed 's/^/  | /' "$T/log" >&2
		fi
	done
done
# s1 and s3 resolve to the same host and port: one session, reused by
# both lanes and both steps; s2 has its own.
[ "$(accepted a)" -eq 1 ] && ok || fail "sshd a: $(accepted a) sessions, not 1"
[ "$(accepted b)" -eq 1 ] && ok || fail "sshd b: $(accepted b) sessions, not 1"
finish
