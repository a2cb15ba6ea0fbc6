#!/bin/bash
# lanes-pg.sh - entities and lanes with the state on a real PostgreSQL
# server: a run's selection, exclusions (by a readiness check, by hand from
# another database user, by a no-go rolled back), decisions with their
# evidence voided when it changes, and state copy of such a run to a file.
. "$(dirname "$0")/../lib.sh"
. "$SRCDIR/tests/pg.sh"
pg_start || { echo "lanes-pg.sh: no PostgreSQL server" >&2; exit 1; }
command -v jq >/dev/null || { echo "lanes-pg.sh: jq is required" >&2; exit 1; }

DB="postgresql://cutover@127.0.0.1:$PGPORT/cutover"
pg_psql "CREATE ROLE alice_db LOGIN IN ROLE cutover;
    CREATE ROLE bob_db LOGIN IN ROLE cutover" >/dev/null
export CUTOVER_STATE=$DB LEDGER=$T/ledger
: >"$LEDGER"
C() { "$CUTOVER" "$@"; }
CA() { CUTOVER_STATE="postgresql://alice_db@127.0.0.1:$PGPORT/cutover" "$CUTOVER" "$@"; }
CB() { CUTOVER_STATE="postgresql://bob_db@127.0.0.1:$PGPORT/cutover" "$CUTOVER" "$@"; }

rb=$T/stores.yaml
cat >"$rb" <<'YAML'
cutover: 1
name: stores
settings: {parallel: 4}
targets:
  db: {type: postgres, conninfo: "host=127.0.0.1 port=${env:PGPORT} user=cutover dbname=cutover"}
entities:
  - {id: lyon, wave: pilot, vars: {ready: "0", tills: "3"}}
  - {id: lille, wave: pilot, vars: {ready: "1", tills: "2"}}
  - {id: metz, wave: pilot, vars: {ready: "0", tills: "5"}}
  - {id: nice, wave: pilot, vars: {ready: "0", tills: "4"}}
  - {id: brest, wave: later, vars: {ready: "0", tills: "1"}}
phases:
  - id: stores
    for_each: entity
    parallel: 3
    steps:
      - {id: ready, type: local, on_failure: exclude-entity, run: "exit ${entity.ready}", rollback: "true"}
      - {id: freeze, type: local, run: "echo freeze $CUTOVER_ENTITY >> $LEDGER",
         rollback: "echo thaw $CUTOVER_ENTITY >> $LEDGER"}
      - {id: tills, type: reconcile, compare: value,
         source: {target: db, query: "SELECT ${entity.tills}"},
         dest: {target: db, query: "SELECT ${entity.tills}::numeric"}}
      - {id: go, type: checkpoint, on_no_go: rollback}
  - id: close
    steps:
      - {id: probe, type: manual, needs: [], instructions: count the tills}
      - {id: final, type: checkpoint, approvals: 2, needs: [go], evidence: [probe, freeze]}
YAML
expect_rc 5 C run "$rb" --wave pilot
expect_rc 0 C status "$rb" --json
cp "$T/out" "$T/json"
check "the run covers the pilot" jq -e \
    '.selection == "wave pilot" and ([.entities[].id] == ["lyon","lille","metz","nice"])' "$T/json"
check "lille dropped out at its readiness check" jq -e \
    '.entities[] | select(.id == "lille") | .state == "excluded" and (.excluded_reason | test("ready@lille failed"))' "$T/json"
check "a reconcile per entity, with the entity's vars" jq -e \
    '.steps[] | select(.id == "tills@metz") | .entity == "metz" and .result.source_value == 5' "$T/json"
check "the checkpoint's evidence is the entity's reconcile" jq -e \
    '.steps[] | select(.id == "go@lyon") | .evidence == ["tills@lyon succeeded: 3 source, 3 dest, 0 difference"]' "$T/json"
check "the selection is in the database" test \
    "$(pg_psql "SELECT selection FROM cutover.runs WHERE runbook='stores'")" = wave:pilot
expect_rc 2 C run "$rb" --wave later
contains "$T/err" "start a new run with --new-run"

# alice excludes nice from her own terminal; metz says no-go (rolled back).
expect_rc 0 CA exclude "$rb" nice --reason "flooded"
check "the exclusion is in the database, by alice_db" test \
    "$(pg_psql "SELECT os_user || ':' || reason FROM cutover.entities WHERE entity='nice'")" = "alice_db:flooded"
expect_rc 0 CA decide "$rb" go@lyon go --reason ok
expect_rc 0 CB decide "$rb" go@metz no-go --reason "tills down"
expect_rc 5 C run "$rb"
check "metz was thawed once" test "$(grep -cx 'thaw metz' "$LEDGER")" = 1
check "nobody else was thawed" test "$(grep -c '^thaw' "$LEDGER")" = 1
expect_rc 0 C status "$rb" --json
check "metz excluded by its no-go, its freeze rolled back" jq -e \
    '(.entities[] | select(.id == "metz") | .state == "excluded") and (.steps[] | select(.id == "freeze@metz") | .state == "rolled_back")' "$T/out"

# Evidence: alice's go at final is voided once probe is confirmed.
expect_rc 0 CA decide "$rb" final go --reason "fine so far"
expect_rc 0 C confirm "$rb" probe
expect_rc 0 CB decide "$rb" final go --reason fine
contains "$T/out" "checkpoint is awaiting"
check "alice's go was set aside" test \
    "$(pg_psql "SELECT count(*) FROM cutover.decisions WHERE step='final' AND active=1 AND evidence IS NOT NULL")" = 1
expect_rc 0 C audit "$rb"
contains "$T/out" "decisions voided: evidence changed"
expect_rc 0 CA decide "$rb" final go --reason "still fine"
contains "$T/out" "checkpoint is succeeded"
expect_rc 0 C run "$rb"
expect_rc 0 C audit "$rb" --verify

# The run, exclusions included, copied to a file.
expect_rc 0 C state copy "$DB" "$T/archive.db" --runbook stores
expect_rc 0 "$CUTOVER" --state "$T/archive.db" status "$rb" --json
check "the copy keeps the exclusions and their reasons" jq -e \
    '[.entities[] | select(.state == "excluded") | .id] == ["lille","metz","nice"] and (.entities[] | select(.id == "nice") | .excluded_reason == "flooded")' "$T/out"
# A postgres target with ${entity.*} in its conninfo: each store's
# instances run in its own database, one connection per database resolved
# (the two steps of a store share one backend).
pg_createdb store_a
pg_createdb store_b
shop=$T/shop.yaml
cat >"$shop" <<'YAML'
cutover: 1
name: shop
settings: {parallel: 2}
targets:
  shop: {type: postgres, conninfo: "host=127.0.0.1 port=${env:PGPORT} user=cutover dbname=${entity.db}"}
entities:
  - {id: a, vars: {db: store_a}}
  - {id: b, vars: {db: store_b}}
phases:
  - id: stores
    for_each: entity
    parallel: 2
    steps:
      - {id: s1, type: sql, target: shop, run: "CREATE TABLE seen (step text, store text, pid int, db text); INSERT INTO seen VALUES ('s1', '${entity.id}', pg_backend_pid(), current_database())"}
      - {id: s2, type: sql, target: shop, run: "INSERT INTO seen VALUES ('s2', '${entity.id}', pg_backend_pid(), current_database())"}
YAML
S() { "$CUTOVER" --state "$T/shop.db" "$@"; }
expect_rc 0 S lint "$shop"
expect_rc 0 S run "$shop"
for x in a b; do
	check "store $x's steps ran in store_$x" test \
	    "$(PGDATABASE=store_$x pg_psql "SELECT string_agg(step || ':' || store || ':' || db, ',' ORDER BY step) FROM seen")" = "s1:$x:store_$x,s2:$x:store_$x"
	check "store $x's steps shared one connection" test \
	    "$(PGDATABASE=store_$x pg_psql "SELECT count(DISTINCT pid) FROM seen")" = 1
done
check "two connections, not one reused across databases" test \
    "$(PGDATABASE=store_a pg_psql "SELECT pid FROM seen LIMIT 1")" != \
    "$(PGDATABASE=store_b pg_psql "SELECT pid FROM seen LIMIT 1")"
finish
