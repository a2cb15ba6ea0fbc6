#!/bin/bash
# identity.sh - operators who are who they say. On PostgreSQL the operator
# is the database user the server authenticated, or an alias operators:
# maps to it; approvals count distinct database users. On a SQLite file
# with settings.operator: os-user the operator is the OS login (SUDO_USER
# for root), and approvals count distinct logins.
. "$(dirname "$0")/../lib.sh"
. "$SRCDIR/tests/pg.sh"
pg_start || { fail "PostgreSQL did not start"; finish; }

# Two more login roles (trust on loopback, as pg.sh sets it up), members
# of the schema's owner so that they may write its tables.
pg_psql "CREATE ROLE alice_db LOGIN IN ROLE cutover;
    CREATE ROLE bob_db LOGIN IN ROLE cutover" >/dev/null
as() { # as DBUSER COMMAND...: cutover connected as DBUSER
	local u=$1
	shift
	CUTOVER_STATE="postgresql://$u@127.0.0.1:$PGPORT/cutover" "$CUTOVER" "$@"
}
one_line() { check "one line on stderr" test "$(wc -l <"$T/err")" = 1; }
pg_step() { # pg_step RUNBOOK STEP: its state, read as the cutover user
	pg_psql "SELECT state FROM cutover.steps WHERE runbook='$1' AND id='$2'
	    AND run=(SELECT max(id) FROM cutover.runs WHERE runbook='$1')"
}

# --- Without operators:, --operator may only name the database user ------
plain=$T/plain.yaml
cat >"$plain" <<'YAML'
cutover: 1
name: plain
phases:
  - id: p
    steps:
      - {id: gate, type: checkpoint, approvals: 2}
      - {id: after, type: local, run: "true"}
YAML
expect_rc 5 as cutover run "$plain"
expect_rc 4 as cutover decide "$plain" gate go --reason x --operator mallory
contains "$T/err" "cutover: --operator mallory is not database user cutover, whom the state store authenticated"
one_line
# Two names declared by one database user are one approval.
expect_rc 0 as alice_db decide "$plain" gate go --reason a
expect_rc 4 as alice_db decide "$plain" gate go --reason b --operator alice_db
contains "$T/err" "database user alice_db already decided at gate"
check "one user: the checkpoint waits" test "$(pg_step plain gate)" = awaiting
expect_rc 0 as bob_db decide "$plain" gate go --reason c
check "two users: the checkpoint passed" test "$(pg_step plain gate)" = succeeded
check "no --operator: the operator is the database user" test \
    "$(pg_psql "SELECT string_agg(operator || '/' || os_user, ' ' ORDER BY id)
    FROM cutover.decisions WHERE runbook='plain'")" = "alice_db/alice_db bob_db/bob_db"

# --- Aliases: operators: maps names to database users ---------------------
rb=$T/ident.yaml
cat >"$rb" <<'YAML'
cutover: 1
name: ident
operators:
  alice: [alice_db]
  al: [alice_db]
  bob: [bob_db, bob_ro]
  carol: [cutover]
roles:
  duty: [alice, al, bob_db]
phases:
  - id: p
    steps:
      - {id: gate, type: checkpoint, approvals: 2, approvers: [duty]}
      - {id: after, type: local, run: "true"}
YAML
expect_rc 5 as cutover run "$rb"
check "the one alias of cutover is the operator: carol" test \
    "$(pg_psql "SELECT operator || '/' || os_user FROM cutover.audit
    WHERE runbook='ident' AND action='run-start'")" = carol/cutover
# Someone else's alias, or a name nobody mapped: refused, naming the user.
expect_rc 4 as cutover decide "$rb" gate go --reason x --operator alice
contains "$T/err" "cutover: --operator alice is not database user cutover, whom the state store authenticated, nor an alias of it (operators: in ident)"
one_line
expect_rc 4 as alice_db decide "$rb" gate go --reason x --operator bob
contains "$T/err" "not database user alice_db"
# An alias is accepted; a second alias of the same user counts once.
expect_rc 0 as alice_db decide "$rb" gate go --reason a --operator alice
expect_rc 4 as alice_db decide "$rb" gate go --reason b --operator al
contains "$T/err" "database user alice_db already decided at gate"
one_line
check "two aliases of one user: the checkpoint waits" test "$(pg_step ident gate)" = awaiting
expect_rc 5 as cutover run "$rb"
contains "$T/err" "gate waits for 1 more go"
# Not in the role by either name: refused.
expect_rc 4 as cutover decide "$rb" gate go --reason x
contains "$T/err" "operator carol is not in the approver roles of gate"
# bob is in duty by his database user; his alias decides with it.
expect_rc 0 as bob_db decide "$rb" gate go --reason c --operator bob
check "two database users: the checkpoint passed" test "$(pg_step ident gate)" = succeeded
check "each decision records its database user" test \
    "$(pg_psql "SELECT string_agg(operator || '/' || os_user, ' ' ORDER BY id)
    FROM cutover.decisions WHERE runbook='ident'")" = "alice/alice_db bob/bob_db"
expect_rc 0 as cutover run "$rb"
expect_rc 0 as cutover audit "$rb" --verify
contains "$T/out" "audit trail intact"

# --- SQLite with settings.operator: os-user --------------------------------
me=$(id -un)
os=$T/os.yaml
cat >"$os" <<'YAML'
cutover: 1
name: os
settings:
  operator: os-user
phases:
  - id: p
    steps:
      - {id: gate, type: checkpoint, approvals: 2}
      - {id: after, type: local, run: "true"}
YAML
S=$T/os.db
expect_rc 4 env -u SUDO_USER "$CUTOVER" --state "$S" run "$os" --operator mallory
contains "$T/err" "cutover: --operator mallory is not the OS user $me, and this runbook wants the OS user (settings.operator: os-user)"
one_line
check "nothing was written" test ! -e "$S"
# $USER is not the login: without --operator the login is the operator.
expect_rc 5 env -u SUDO_USER USER=mallory "$CUTOVER" --state "$S" run "$os"
expect_rc 0 env -u SUDO_USER "$CUTOVER" --state "$S" decide "$os" gate go --reason a --operator "$me"
expect_rc 4 env -u SUDO_USER USER=someone "$CUTOVER" --state "$S" decide "$os" gate go --reason b
contains "$T/err" "operator $me already decided at gate"
check "one OS user: the checkpoint waits" test "$(sqlite3 "$S" "SELECT state FROM steps WHERE id='gate'")" = awaiting
if [ "$(id -u)" = 0 ]; then
	# Root run through sudo acts as the user who ran sudo.
	expect_rc 4 env SUDO_USER=alice "$CUTOVER" --state "$S" decide "$os" gate go --reason c --operator root
	contains "$T/err" "is not the OS user alice"
	expect_rc 0 env SUDO_USER=alice "$CUTOVER" --state "$S" decide "$os" gate go --reason c --operator alice
	check "two OS users: the checkpoint passed" test "$(sqlite3 "$S" "SELECT state FROM steps WHERE id='gate'")" = succeeded
	check "decisions record the OS users" test "$(sqlite3 "$S" "SELECT group_concat(operator || '/' || os_user, ' ') FROM (SELECT * FROM decisions ORDER BY id)")" = "root/root alice/alice"
else
	# Only root's SUDO_USER is believed.
	expect_rc 4 env SUDO_USER=alice "$CUTOVER" --state "$S" decide "$os" gate go --reason c --operator alice
	contains "$T/err" "is not the OS user $me"
fi
# The default (declared) keeps the name as given, beside the OS user.
dec=$T/dec.yaml
sed -e 's/name: os/name: dec/' -e '/settings:/d' -e '/operator: os-user/d' "$os" >"$dec"
expect_rc 5 "$CUTOVER" --state "$T/dec.db" run "$dec" --operator mallory
check "declared: name and OS user both kept" test "$(sqlite3 "$T/dec.db" "SELECT operator || '/' || os_user FROM audit ORDER BY id LIMIT 1")" = "mallory/$me"

finish
