#!/bin/bash
# demo.sh - the demo sandbox and runbooks/demo.yaml end to end, without a
# person (decisions given on the command line): every step type runs, the
# reconciliation finds exactly the differences planted in demo/odoo.sql,
# three stores go through their lanes and store-205, whose POS is not
# configured, fails its readiness check and drops out while the others go
# on; the sandbox is stopped and removed on exit, so a second start works.
. "$(dirname "$0")/../lib.sh"
. "$SRCDIR/demo/sandbox.sh"

rb=$SRCDIR/runbooks/demo.yaml
C() { "$CUTOVER" --state "$T/demo.db" "$@"; }
step_state_of() { C status "$rb" --json | jq -r --arg s "$1" '.steps[] | select(.id == $s) | .state'; }
result() { C status "$rb" --json | jq -c --arg s "$1" ".steps[] | select(.id == \$s) | .result$2"; }

TEST_T=$T
chmod 755 "$TEST_T" # the sandbox's servers run as other users when root
T=$T/sandbox
mkdir -p "$T"
sandbox_up || { fail "sandbox did not start"; finish; }
expect_rc 0 C lint "$rb"
# unixODBC's trace shows the connection string the driver gets.
printf '[ODBC]\nTrace=Yes\nTraceFile=%s\n' "$T/odbc.trace" >>"$ODBCSYSINI/odbcinst.ini"
expect_rc 5 C run "$rb"
contains "$T/err" "announce-freeze waits for a person"
expect_rc 0 C confirm "$rb" announce-freeze --note "stores acked" --operator store-lead
expect_rc 5 C run "$rb"
contains "$T/err" "go-no-go waits for 2 more go"
check "ssh step ran on the sandbox sshd" test -f "$CUTOVER_DEMO_DIR/legacy.batch-stopped"
check "sql step disabled the legacy writers" test \
	"$(PGDATABASE=legacy pg_psql 'SELECT bool_or(enabled) FROM batch_control')" = f

# The planted differences, exactly.
check "partners: 200 legacy rows" test "$(result partners .source_rows)" = 200
check "partners: 199 odoo rows" test "$(result partners .dest_rows)" = 199
check "partners: 198 matched" test "$(result partners .matched)" = 198
check "partners: customer 42 missing" test "$(result partners .samples.missing)" = '["42"]'
check "partners: customer 77 changed" test "$(result partners .samples.changed)" = '["77"]'
check "partners: the email changed" test "$(result partners .changed_columns)" = '{"email":1}'
check "partners: nothing extra" test "$(result partners .extra)" = 0
check "products: 1.50 equals 1.5000" test "$(result products '| [.matched, .missing, .extra, .changed]')" = '[120,0,0,0]'
check "stock: ST117 SKU-0007 changed" test "$(result stock .samples.changed)" = '[["ST117","SKU-0007"]]'
check "stock: 359 matched" test "$(result stock .matched)" = 359
check "receivables: 0.50 less in Odoo" test "$(result receivables .difference)" = -0.5
# Across engines, by meaning: the legacy POS on MariaDB (ODBC) against
# Odoo's PostgreSQL; DECIMAL against numeric, TINYINT(1) against boolean
# and '' against NULL agree, only the planted differences count.
check "pos-prices: 121 till rows, 120 odoo rows" test \
	"$(result pos-prices '| [.source_rows, .dest_rows]')" = '[121,120]'
check "pos-prices: 118 matched, GIFT-CARD missing, 2 changed" test \
	"$(result pos-prices '| [.matched, .missing, .extra, .changed, .samples.missing]')" = '[118,1,0,2,["GIFT-CARD"]]'
check "pos-prices: SKU-0033's price and SKU-0045's flag" test \
	"$(result pos-prices '| [.samples.changed, .changed_columns]')" = '[["SKU-0033","SKU-0045"],{"price":1,"active":1}]'
check "pos-prices: MariaDB's driver was asked to stream (found through the DSN)" \
	grep -qaF '[DSN=legacy_pos;NO_CACHE=1;FORWARDONLY=1]' "$T/odbc.trace"
expect_rc 0 C diff "$rb" pos-prices --format json -o "$T/pos.json"
check "pos-prices diff: SKU-0033 at 50.00 against 49.5000" test \
	"$(jq -c '.[] | select(.key == ["SKU-0033"]) | [.source[1], .dest[1]]' "$T/pos.json")" = '["50.00","49.5000"]'
check "the POS password (in the sandbox's DSN) is not in the state" sh -c \
	"! grep -qaF '$sandbox_my_pw' '$T/demo.db'"
check "reconcile steps passed within tolerance" test \
	"$(C status "$rb" --json | jq -r '[.steps[] | select(.type == "reconcile" and .entity == null) | .state] | unique | join(",")')" = succeeded

# The store wave: store-205 is not ready and drops out; the others went on.
ent() { C status "$rb" --json | jq -r --arg e "$1" ".entities[] | select(.id == \$e) | $2"; }
check "store-205's readiness check failed" test "$(step_state_of ready@store-205)" = failed
check "store-205 excluded" test "$(ent store-205 .state)" = excluded
check "store-205 excluded by its readiness check ($(ent store-205 .excluded_reason))" \
	sh -c "echo '$(ent store-205 .excluded_reason)' | grep -q 'ready@store-205 failed'"
check "store-205's tills were not frozen" test ! -e "$CUTOVER_DEMO_DIR/pos-store-205.frozen"
check "store-205's later instances are excluded" test \
	"$(step_state_of pos-freeze@store-205),$(step_state_of store-stock@store-205)" = excluded,excluded
for s in store-101 store-117; do
	check "$s done" test "$(ent $s .state)" = done
	check "$s: every instance succeeded" test \
		"$(C status "$rb" --json | jq -r --arg e $s '[.steps[] | select(.entity == $e) | .state] | unique | join(",")')" = succeeded
	check "$s's tills frozen over ssh" test -e "$CUTOVER_DEMO_DIR/pos-$s.frozen"
done
check "store-117: its warehouse's planted difference, within tolerance" test \
	"$(result store-stock@store-117 .samples.changed)" = '["SKU-0007"]'
check "store-101: its warehouse is clean" test \
	"$(result store-stock@store-101 '| [.matched, .missing, .extra, .changed]')" = '[120,0,0,0]'
expect_rc 0 C report "$rb" --format json -o "$TEST_T/demo.json"
check "report: pilot wave, 2 done and 1 excluded" jq -e \
	'.run.waves == [.run.waves[0]] and .run.waves[0].wave == "pilot" and .run.waves[0].done == 2 and .run.waves[0].excluded == 1' "$TEST_T/demo.json"
check "report: go-no-go rests on the stores' stock, store-205 excluded" jq -e \
	'[.run.checkpoints[] | select(.step == "go-no-go") | .summary[]] | any(test("^store-stock: 2 succeeded, 1 excluded / 3 entities$"))' "$TEST_T/demo.json"

expect_rc 0 C decide "$rb" go-no-go go --reason "known differences" --operator lead
expect_rc 0 C decide "$rb" go-no-go go --reason agreed --operator duty
expect_rc 0 C run "$rb"
check "EDI repointed over ssh" test "$(cat "$CUTOVER_DEMO_DIR/edi.target")" = odoo
expect_rc 0 C log "$rb" final-import
contains "$T/out" "importing with token ********"
lacks "$T/out" "$CUTOVER_DEMO_TOKEN"
expect_rc 0 C audit "$rb" --verify

# Roll the whole run back: ssh and sql rollback actions run against the
# sandbox's sshd and PostgreSQL; steps without one are confirmed by hand;
# the irreversible EDI step is left as it is, with a reason.
expect_rc 4 C rollback "$rb" --to go-no-go
contains "$T/err" "irreversible step repoint-edi"
n=0
while [ $n -lt 12 ]; do
	C rollback "$rb" --to start --force --reason "demo: back to legacy" >"$T/rb.out" 2>&1
	rc=$?
	[ $rc = 5 ] || break
	for id in $(C status "$rb" --json | jq -r '.steps[] | select(.state == "awaiting") | .id'); do
		C confirm "$rb" "$id" --note "undone by hand" --operator lead >/dev/null
	done
	n=$((n + 1))
done
check "rollback completed (exit $rc after $n confirms)" test "$rc" = 0
check "ssh rollback removed the batch-stopped mark" test ! -e "$CUTOVER_DEMO_DIR/legacy.batch-stopped"
check "sql rollback re-enabled the legacy writers" test \
	"$(PGDATABASE=legacy pg_psql 'SELECT bool_and(enabled) FROM batch_control')" = t
check "sql rollback turned the crons off again" test \
	"$(PGDATABASE=odoo pg_psql 'SELECT bool_or(active) FROM ir_cron')" = f
check "the irreversible step was left as it is" test "$(step_state_of repoint-edi)" = succeeded
check "reconciliations roll back without asking" test "$(step_state_of partners)" = rolled_back
expect_rc 0 C audit "$rb" --verify
my_pid=$CUTOVER_DEMO_MY_PID
my_dir=$T/mariadb
check "the sandbox's MariaDB ran (pid $my_pid)" kill -0 "$my_pid"
sandbox_down
check "the sandbox's MariaDB is stopped" sh -c "! kill -0 $my_pid 2>/dev/null"
check "the sandbox's MariaDB directory is removed" test ! -e "$my_dir"
T=$TEST_T
trap cleanup EXIT

# The demo script itself, headless, twice: it cleans up after itself. Its
# sandboxes go to a directory of their own, where nobody else's can be.
demo_tmp=$(mktemp -d /tmp/cdemo.XXXXXX)
chmod 755 "$demo_tmp" # the sandbox's PostgreSQL runs as another user
for i in 1 2; do
	TMPDIR=$demo_tmp CUTOVER_DEMO_HEADLESS=1 "$SRCDIR/demo/run-demo.sh" \
	    >"$T/demo$i.out" 2>&1
	rc=$?
	check "demo run $i exits 0 (got $rc)" test $rc = 0
	contains "$T/demo$i.out" "run 1 complete"
	contains "$T/demo$i.out" "live dashboard: http://127.0.0.1:"
	url=$(sed -n 's|.*live dashboard: \(http://[0-9.:]*/\).*|\1|p' "$T/demo$i.out" | head -n 1)
	if [ -n "$url" ] && curl -fsS "${url}healthz" >/dev/null 2>&1; then
		fail "demo run $i left its dashboard running at $url"
	else ok; fi
	left=$(ls -d "$demo_tmp"/cutover-sandbox.* 2>/dev/null | wc -l)
	check "demo run $i removed its sandbox ($left left)" test "$left" = 0
	contains "$T/demo$i.out" "pos-prices: succeeded"
	check "demo run $i left no MariaDB running" sh -c \
	    "! pgrep -f 'mariadb[d] .*$demo_tmp' >/dev/null"
done
rmdir "$demo_tmp"
finish
