#!/bin/sh
# ssh-password.sh - password authentication, from the environment, against
# a real sshd that takes passwords only: a target reached directly, and a
# bastion that takes a password with a key-authenticated target behind
# it. A wrong password fails the step, saying so. Needs root (it adds a
# throw-away system user with a password, removed at exit).
. "$(dirname "$0")/../lib.sh"
. "$SRCDIR/tests/sshd.sh"

if [ "$(id -u)" != 0 ] || ! command -v useradd >/dev/null; then
	echo "ssh-password.sh: SKIP: needs root and useradd for a user with a password" >&2
	exit 77
fi
unset SSH_AUTH_SOCK SSH_AGENT_PID
PWUSER=cpw$$
PW="pw-$$-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
# Its home outside $T, which only root may enter.
PWHOME=$(mktemp -d /tmp/cutover-pwhome.XXXXXX)
useradd -M -d "$PWHOME" -s /bin/sh "$PWUSER" || { fail "useradd"; finish; }
chown "$PWUSER" "$PWHOME"
echo "$PWUSER:$PW" | chpasswd
sshd_init
trap 'sshd_stop_all; userdel "$PWUSER" 2>/dev/null; rm -rf "$PWHOME"; cleanup' EXIT
SSHD_PASSWORD=yes SSHD_EXTRA="AuthenticationMethods password" sshd_start pw
PP=$SSHD_PORT
sshd_known pw
# The bastion by another name (localhost), so that it is a connection of
# its own and not the direct target's session reused.
sed "s/^\[127.0.0.1\]/[localhost]/" "$T/sshd-pw/known_line" >>"$SSH_KNOWN"
sshd_start a
PA=$SSHD_PORT
sshd_known a
CUT_PW=$PW
export CUT_PW

cat >"$T/pw.yaml" <<EOT
cutover: 1
name: pw
settings: {ssh_config: none, default_timeout: 30s}
targets:
  direct: {type: ssh, host: 127.0.0.1, port: $PP, user: $PWUSER, password: "\${env:CUT_PW}", known_hosts: $SSH_KNOWN}
  bastion: {type: ssh, host: localhost, port: $PP, user: $PWUSER, password: "\${env:CUT_PW}", known_hosts: $SSH_KNOWN}
  app: {type: ssh, host: 127.0.0.1, port: $PA, user: $SSH_USER, identity: $SSH_KEY, known_hosts: $SSH_KNOWN, jump: [bastion]}
phases:
  - id: p
    steps:
      - {id: who, type: ssh, target: direct, run: 'id -un'}
      - {id: behind, type: ssh, target: app, run: 'echo "behind \$SSH_CONNECTION"'}
EOT
expect_rc 0 "$CUTOVER" --state "$T/pw.db" run "$T/pw.yaml"
expect_rc 0 "$CUTOVER" --state "$T/pw.db" log "$T/pw.yaml" who
contains "$T/out" "$PWUSER"
expect_rc 0 "$CUTOVER" --state "$T/pw.db" log "$T/pw.yaml" behind
check "the step behind the bastion ran on the target's sshd" \
    grep -q "^behind .* $PA\$" "$T/out"
check "the password-only sshd let the user in by password, twice" \
    test "$(grep -c "Accepted password for $PWUSER" "$T/sshd-pw/log")" -ge 2
check "the target behind the bastion took the key" \
    grep -q "Accepted publickey" "$T/sshd-a/log"
# The password reaches neither the state file nor the audit trail.
"$CUTOVER" --state "$T/pw.db" audit "$T/pw.yaml" >"$T/audit" 2>&1
lacks "$T/audit" "$PW"
if grep -qaF -- "$PW" "$T/pw.db"; then
	fail "the state file holds the password"
else ok; fi

# A wrong password: the step fails and says why; nothing behind it runs.
CUT_PW=wrong-$$
expect_rc 1 "$CUTOVER" --state "$T/bad.db" run "$T/pw.yaml"
"$CUTOVER" --state "$T/bad.db" status "$T/pw.yaml" --json >"$T/json" 2>&1
check "the direct step failed" \
    jq -e '.steps[] | select(.id=="who") | .state == "failed"' "$T/json"
check "the step behind it did not start" \
    jq -e '.steps[] | select(.id=="behind") | .attempts == 0' "$T/json"
"$CUTOVER" --state "$T/bad.db" log "$T/pw.yaml" who >"$T/log" 2>&1
check "the failure says authentication failed" grep -qi "auth" "$T/log"
finish
