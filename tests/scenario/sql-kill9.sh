#!/bin/bash
# sql-kill9.sh - kill -9 the driver while SQL statements run on a real
# PostgreSQL, at least 50 times, a next driver started at once each time,
# and prove that an orphaned statement never runs twice:
#  - sql steps insert their ledger row and then sleep, in one implicit
#    transaction, so a statement whose driver died is still uncommitted
#    when the next driver verifies; every row must end up there exactly
#    once (none repeated, none lost);
#  - sql rollback actions insert into an undo ledger the same way; a person
#    settles an interrupted rollback by what the undo ledger shows;
#  - reconcile steps hold an advisory lock per side while they sleep, and
#    say whether they got it: an orphan of either side still running when
#    a person retries the step makes the sides differ, and the step fail.
# Then: a target that cannot be reached when the next driver starts leaves
# the interrupted step waiting for a person, never run again.
. "$(dirname "$0")/../lib.sh"
. "$SRCDIR/tests/pg.sh"

KILLS=${KILLS:-50}
command -v jq >/dev/null || { fail "jq is needed"; finish; }
pg_start || { fail "PostgreSQL did not start"; finish; }
pg_psql "CREATE TABLE ledger (id text); CREATE TABLE undo (id text)" >/dev/null
export CYCLE=0 DB_CONNINFO=$PG_CONNINFO
rb=$T/k.yaml
state=$T/k.db
# One side of a reconcile: EXPR of got, whether it got lock KEY (held while
# it sleeps). The source says got, the dest 2 - got: equal only when both
# sides got their lock.
side() {
	echo "{target: db, query: 'WITH l AS MATERIALIZED (SELECT pg_try_advisory_xact_lock($1)::int AS got), s AS MATERIALIZED (SELECT pg_sleep(1.5) FROM l) SELECT $2 FROM l, s'}"
}
{
	cat <<'EOF'
cutover: 1
name: sqlkill
settings: {parallel: 2, default_timeout: 60s}
targets:
  db: {type: postgres, conninfo: "${env:DB_CONNINFO}"}
phases:
  - id: p
    steps:
EOF
	for i in 1 2 3 4 5 6; do
		cat <<EOF
      - id: s$i
        type: sql
        target: db
        run: INSERT INTO ledger VALUES ('\${env:CYCLE} s$i'); SELECT pg_sleep(0.$((i % 3 + 6)));
        verify: SELECT count(*) > 0 FROM ledger WHERE id = '\${env:CYCLE} s$i'
        rollback: INSERT INTO undo VALUES ('\${env:CYCLE} s$i'); SELECT pg_sleep(0.$((i % 3 + 5)));
EOF
	done
	for i in 1 2; do
		cat <<EOF
      - id: r$i
        type: reconcile
        compare: value
        source: $(side $((7000 + i * 2)) got)
        dest: $(side $((7001 + i * 2)) "2 - got")
EOF
	done
} >"$rb"
expect_rc 0 "$CUTOVER" lint "$rb"

C() { "$CUTOVER" --state "$state" "$@"; }
# Background drivers are started with exec, so that $! is the driver itself.
Cbg() { exec "$CUTOVER" --state "$state" "$@"; }
q() { pg_psql "$1"; }

# A person settles steps waiting after an interruption: a rollback the undo
# ledger shows done is confirmed, anything else is retried.
settle() {
	local id
	for id in $(C status "$rb" --json 2>/dev/null | jq -r '.steps[] | select(.state == "awaiting") | .id'); do
		if [ "$(q "SELECT count(*) FROM undo WHERE id = '$CYCLE $id'")" != 0 ]; then
			C confirm "$rb" "$id" --note "undo ledger shows it" >/dev/null ||
				fail "confirm $id"
		else
			C retry "$rb" "$id" >/dev/null 2>&1 || fail "retry $id"
		fi
	done
}

twice() {
	q "SELECT string_agg(id, ', ') FROM (SELECT id FROM ledger GROUP BY id
	    HAVING count(*) > 1 UNION ALL SELECT 'undo ' || id FROM undo
	    GROUP BY id HAVING count(*) > 1) d"
}

# drive CMD: start drivers of CMD, each killed at a random moment, until
# one ends by itself with 0.
drive() {
	local pid rc n=0
	while [ $n -lt 60 ]; do
		n=$((n + 1))
		(Cbg "$1" "$rb" >"$T/drv.out" 2>&1) &
		pid=$!
		sleep "$((RANDOM % 2)).$(printf %03d $((RANDOM % 1000)))"
		if kill -9 $pid 2>/dev/null; then
			wait $pid 2>/dev/null
			kills=$((kills + 1))
			active=$(q "SELECT count(*) FROM pg_stat_activity
			    WHERE application_name LIKE 'cutover%' AND state = 'active'
			    AND pid <> pg_backend_pid()")
			[ "$active" = 0 ] || during=$((during + 1))
		else
			wait $pid
			rc=$?
			[ $rc = 0 ] && return 0
			[ $rc = 5 ] || {
				fail "$1 exit $rc (cycle $CYCLE)"
				sed 's/^/  | /' "$T/drv.out" | tail -5 >&2
				C status "$rb" --json | jq -c '.steps[] | select(.state != "succeeded") | [.id, .state, .note]' >&2
				return 1
			}
		fi
		settle
		d=$(twice)
		if [ -n "$d" ]; then fail "ran twice after kill $kills: $d"; return 1; fi
	done
	fail "$1 did not finish in 60 drivers"
	return 1
}

kills=0
during=0
while [ $kills -lt "$KILLS" ] && [ $failed = 0 ]; do
	CYCLE=$((CYCLE + 1))
	drive run || break
	check "cycle $CYCLE: every step's row once" test \
	    "$(q "SELECT count(DISTINCT id) || ' ' || count(*) FROM ledger WHERE id LIKE '$CYCLE %'")" = "6 6"
	drive rollback || break
	check "cycle $CYCLE: every undo row once" test \
	    "$(q "SELECT count(DISTINCT id) || ' ' || count(*) FROM undo WHERE id LIKE '$CYCLE %'")" = "6 6"
done
check "killed $kills times (want >= $KILLS)" test $kills -ge "$KILLS"
check "killed $during times while a statement ran (want >= $((KILLS / 3)))" \
	test $during -ge $((KILLS / 3))
check "no row twice" test -z "$(twice)"
expect_rc 0 C audit "$rb" --verify
echo "kills: $kills ($during while a statement ran) over $CYCLE cycles"

# --- The target cannot be reached when the next driver starts: the step
# waits for a person, with what to check; it is not run again.
rb2=$T/u.yaml
cat >"$rb2" <<'EOF'
cutover: 1
name: unreachable
targets:
  db: {type: postgres, conninfo: "${env:DB_CONNINFO}"}
phases:
  - id: p
    steps:
      - id: slow
        type: sql
        target: db
        run: INSERT INTO ledger VALUES ('unreachable'); SELECT pg_sleep(3);
        verify: SELECT count(*) > 0 FROM ledger WHERE id = 'unreachable'
EOF
# orphan STATE RUNBOOK ID: start a driver, kill it -9 while the INSERT of
# ledger row ID runs.
orphan() {
	local pid i
	(exec "$CUTOVER" --state "$1" run "$2" >/dev/null 2>&1) &
	pid=$!
	for i in $(seq 50); do
		[ "$(q "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'INSERT INTO ledger VALUES (''$3'')%'")" = 0 ] || break
		sleep 0.1
	done
	kill -9 $pid
	wait $pid 2>/dev/null
}
orphan "$T/u.db" "$rb2" unreachable
DB_CONNINFO="host=127.0.0.1 port=1 dbname=x" expect_rc 5 "$CUTOVER" --state "$T/u.db" run "$rb2"
check "unreachable: the step waits for a person" test \
    "$("$CUTOVER" --state "$T/u.db" status "$rb2" --json | jq -r '.steps[0].state')" = awaiting
"$CUTOVER" --state "$T/u.db" status "$rb2" >"$T/note" 2>&1
contains "$T/note" "cannot tell whether attempt"
contains "$T/note" "pg_stat_activity"
sleep 3.5
check "unreachable: the statement ran once" test \
    "$(q "SELECT count(*) FROM ledger WHERE id = 'unreachable'")" = 1

# --- pg_stat_activity cannot be read (its rights were taken away): the
# same. The role app may write the ledger, but not read pg_stat_activity.
q "GRANT ALL ON ledger TO app; REVOKE SELECT ON pg_stat_activity FROM PUBLIC" >/dev/null
export APP_CONNINFO="host=127.0.0.1 port=$PGPORT user=app password=$PG_APP_PASSWORD dbname=cutover"
sed -e 's/DB_CONNINFO/APP_CONNINFO/; s/unreachable/norights/g' "$rb2" >"$T/n.yaml"
orphan "$T/n.db" "$T/n.yaml" norights
expect_rc 5 "$CUTOVER" --state "$T/n.db" run "$T/n.yaml"
"$CUTOVER" --state "$T/n.db" status "$T/n.yaml" >"$T/note" 2>&1
contains "$T/note" "awaiting"
contains "$T/note" "cannot read pg_stat_activity"
lacks "$T/note" "$PG_APP_PASSWORD"
q "GRANT SELECT ON pg_stat_activity TO PUBLIC" >/dev/null
sleep 3.5
check "no rights: the statement ran once" test \
    "$(q "SELECT count(*) FROM ledger WHERE id = 'norights'")" = 1
finish
