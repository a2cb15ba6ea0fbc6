#!/bin/sh
# report-html.sh - the report of a live cutover night as a signed document:
# outcome banner, go/no-go decisions, failures with their output and what
# was done about them, rollbacks, reconciliation tables against a real
# PostgreSQL, "None" under empty sections, hostile text escaped, no hash of
# secret text published, the audit head in every format; rendered by
# headless Chromium at desktop and phone widths.
. "$(dirname "$0")/../lib.sh"
. "$SRCDIR/tests/pg.sh"

command -v jq >/dev/null || { fail "jq is needed"; finish; }
command -v xmllint >/dev/null || { fail "xmllint is needed"; finish; }
pg_start || { fail "PostgreSQL did not start"; finish; }
pg_createdb legacy
pg_createdb odoo
export TZ=Europe/Paris
export CUTOVER_STATE="$T/night.db"
SECRET=s3cr3t-literal-Pa55

# co ARGS...: cutover with the clock a minute on from the last command,
# starting at 2027-01-15 09:00:00 CET.
now=1800000000000
co() {
	CUTOVER_FAKE_CLOCK=$now "$CUTOVER_TEST" "$@"
	rc=$?
	now=$((now + 60000))
	return $rc
}

# Keys: c1..c10; odoo lacks one (a key with a bidi override) and has one
# changed name: 2 differences, within a tolerance of 2.
PGDATABASE=legacy pg_psql "CREATE TABLE customers (k text, name text);
INSERT INTO customers SELECT 'c' || lpad(g::text, 2, '0'), 'name ' || g
  FROM generate_series(1, 9) g;
INSERT INTO customers VALUES (E'x\u202Eevil', 'hidden');" >/dev/null
PGDATABASE=odoo pg_psql "CREATE TABLE res_partner (ref text, name text);
INSERT INTO res_partner SELECT 'c' || lpad(g::text, 2, '0'), 'name ' || g
  FROM generate_series(1, 9) g;
UPDATE res_partner SET name = 'Dorra' WHERE ref = 'c03';" >/dev/null

rb=$T/night.yaml
cat >"$rb" <<'YAML'
cutover: 1
name: night
title: Wave 1 <go-live> & co
vars:
  pw: s3cr3t-literal-Pa55
secrets: [pw]
targets:
  legacy: {type: postgres, conninfo: "host=127.0.0.1 port=${env:PGPORT} user=cutover dbname=legacy"}
  odoo: {type: postgres, conninfo: "host=127.0.0.1 port=${env:PGPORT} user=cutover dbname=odoo"}
phases:
  - id: freeze
    steps:
      - id: announce
        type: manual
        instructions: Tell the stores.
        planned: 10m
      - id: flaky
        type: local
        run: >-
          printf 'warming up\nbad \033]0;pwned\007 title \342\200\256evil\n<b>not bold</b> & done\n';
          echo "login with ${pw}"; exit 3
        retries: 1
        planned: 1m
  - id: reconcile
    steps:
      - id: partners
        type: reconcile
        compare: rows
        key: 1
        tolerance: 2
        source: {target: legacy, query: "SELECT k, name FROM customers"}
        dest: {target: odoo, query: "SELECT ref, name FROM res_partner"}
      - id: totals
        type: reconcile
        compare: value
        source: {target: legacy, query: "SELECT 42"}
        dest: {target: odoo, query: "SELECT 42"}
  - id: switch
    steps:
      - id: gate
        type: checkpoint
        approvals: 1
      - id: repoint
        type: local
        run: echo repointed
        rollback: echo repointed back
      - id: final
        type: checkpoint
        approvals: 1
YAML

expect_rc 5 co --mode live --operator carol run "$rb"
expect_rc 0 co --operator alice confirm "$rb" announce --note "stores acked"
expect_rc 1 co run "$rb"
expect_rc 0 co --operator bob skip "$rb" flaky --reason "disk check is known flaky"
expect_rc 5 co run "$rb"
expect_rc 0 co --operator alice decide "$rb" gate go --reason "counts match <ok> & signed"
expect_rc 5 co run "$rb"
expect_rc 0 co --operator bob decide "$rb" final no-go --reason "EDI partner not ready"
expect_rc 0 co report "$rb" --format html -o "$T/open.html"
check "no-go: the run is still open" grep -q "OPEN (in progress)" "$T/open.html"
expect_rc 0 co --operator alice rollback "$rb"

expect_rc 0 co report "$rb" --format html -o "$T/r.html"
expect_rc 0 co report "$rb" -o "$T/r.md"
expect_rc 0 co report "$rb" --format json -o "$T/r.json"
h=$T/r.html

# xp XPATH: the string value of XPATH in the HTML report, spaces squeezed.
xp() {
	xmllint --html --xpath "normalize-space(string($1))" "$h" 2>/dev/null
}
# is WHAT XPATH WANT: XPATH's string value is WANT.
is() {
	got=$(xp "$2")
	if [ "$got" = "$3" ]; then ok; else
		fail "$1: '$got', wanted '$3'"
	fi
}
sec() { echo "//section[h2=\"$1\"]"; }
# row WHAT XPATH WANT: the cells XPATH selects, joined by " | ".
row() {
	got=$(xmllint --html --xpath "$2" "$h" 2>/dev/null |
	    sed 's/<[^>]*>//g' | paste -sd'|' | sed 's/|/ | /g')
	if [ "$got" = "$3" ]; then ok; else
		fail "$1: '$got', wanted '$3'"
	fi
}

check "html parses as XML" xmllint --noout "$h"
lacks "$h" "<script"
lacks "$h" "src="
lacks "$h" "href="

# The banner.
is "banner mode" '//header/h1/span[@class="mode"]' "LIVE"
is "banner outcome" '//header/p[contains(@class,"outcome")]' \
    "Live cutover ROLLED BACK"
is "banner start, local time with zone" '//header//dt[.="Started"]/following-sibling::dd[1]' \
    "2027-01-15 09:00:00 CET (UTC+01:00)"
is "banner end: open" '//header//dt[.="Ended"]/following-sibling::dd[1]' \
    "not yet: open for 10m"
is "banner opened by" '//header//dt[.="Opened by"]/following-sibling::dd[1]' "carol"

# Go/no-go decisions, first section after the banner.
is "decisions come first" '//section[1]/h2' "Go/no-go decisions"
is "go: checkpoint" "$(sec "Go/no-go decisions")//tr[2]/td[1]" "gate"
is "go: decision" "$(sec "Go/no-go decisions")//tr[2]/td[2]" "GO"
is "go: by" "$(sec "Go/no-go decisions")//tr[2]/td[3]" "alice"
is "go: reason" "$(sec "Go/no-go decisions")//tr[2]/td[5]" "counts match <ok> & signed"
row "no-go" "$(sec "Go/no-go decisions")//tr[3]/*" \
    "final | NO-GO | bob | 2027-01-15 09:07:00 CET (UTC+01:00) | EDI partner not ready"

# Failures: both attempts, the output's tail escaped, what was done.
is "failures" "count($(sec Failures)//div[@class=\"failure\"])" "2"
h=$T/open.html
is "before the rollback: a checkpoint failed by its no-go" \
    "$(sec Failures)/div[3]" "final: failed no-go"
h=$T/r.html
is "failure 1" "$(sec Failures)/div[1]/h3" "flaky: attempt 1 (run) failed"
is "failure 1 was retried automatically" "$(sec Failures)/div[1]/p[last()]" \
    "What was done: retried automatically: attempt 2 failed"
is "failure 2 was skipped with its reason" "$(sec Failures)/div[2]/p[last()]" \
    "What was done: skipped by bob at 2027-01-15 09:03:00 CET (UTC+01:00): disk check is known flaky"
contains "$h" '&lt;b&gt;not bold&lt;/b&gt; &amp; done'
contains "$h" 'bad \e]0;pwned\x07 title \u202eevil'
contains "$h" "login with ********"
check "no raw ESC, BEL or RLO in the page" python3 -c "
import sys; d = open(sys.argv[1], 'rb').read()
sys.exit(any(c in d for c in (b'\x1b', b'\x07', '\u202e'.encode())))" "$h"
lacks "$h" "$SECRET"

# Rollbacks.
row "rollback started" "($(sec Rollbacks)//table)[1]//tr[2]/*" \
    "2027-01-15 09:09:00 CET (UTC+01:00) | alice | rollback started | - | to gate: 1 step(s) to undo"
row "rollback action" "($(sec Rollbacks)//table)[2]//tr[2]/*[position() < 5]" \
    "repoint | 2 | succeeded | 2027-01-15 09:09:00 CET (UTC+01:00)"
check "the rollback finished" grep -q "The last rollback finished at 2027-01-15 09:09:00 CET" "$h"

# Reconciliation: the counts as a table, the verdicts, samples, columns.
R=$(sec Reconciliation)
is "partners verdict" "$R/p[1]" "passed within tolerance: 2 differences ≤ 2"
is "partners verdict class" "$R/p[1]/@class" "verdict v-tolerated"
row "partners counts" "$R/div[1]/table/tr[2]/*" "10 | 9 | 8 | 1 | 0 | 1"
row "partners count headers" "$R/div[1]/table/tr[1]/*" \
    "Source rows | Dest rows | Matched | Missing | Extra | Changed"
row "changed column" "$R/div[2]/table/tr[2]/*" "name | 1"
is "missing sample, escaped" "$R/div[3]/table/tr[2]" 'x\u202eevil'
is "changed sample" "$R/div[4]/table/tr[2]" "c03"
is "totals verdict" "$R/p[2]" "passed: no differences"
is "totals verdict class" "$R/p[2]/@class" "verdict v-clean"

# Steps: attempts per step, human durations.
is "attempts of flaky" "$(sec Steps)//tr[td[1]=\"flaky\"]/td[6]" "2"

# No published hash covers secret text; the audit head is in every format.
raw=$(sha256sum "$rb" | cut -c1-64)
red=$(sed "s/$SECRET/********/g" "$rb" | sha256sum | cut -c1-64)
head=$(sqlite3 "$CUTOVER_STATE" "SELECT id || ' ' || hash FROM audit ORDER BY id DESC LIMIT 1")
hid=${head% *}
hhash=${head#* }
for f in "$h" "$T/r.md" "$T/r.json"; do
	lacks "$f" "$raw"
	lacks "$f" "$(echo "$raw" | cut -c1-12)"
	contains "$f" "$red"
	contains "$f" "$hhash"
done
is "html audit head" '//footer/p[1]/span' "$hhash"
check "json audit head" jq -e --arg h "$hhash" --argjson id "$hid" \
    '.run.audit_head.hash == $h and .run.audit_head.id == $id' "$T/r.json"
check "json runbook hash of the redacted text" jq -e --arg s "$red" \
    '.run.runbook_redacted_sha256 == $s and (.run | has("runbook_sha256") | not)' "$T/r.json"
check "json outcome" jq -e '.run.outcome == "rolled back"' "$T/r.json"
# Nor does anything stored: the state file and the audit trail.
sqlite3 "$CUTOVER_STATE" .dump >"$T/dump.sql"
lacks "$T/dump.sql" "$raw"
co audit "$rb" >"$T/audit.out" 2>&1
lacks "$T/audit.out" "$raw"
contains "$T/audit.out" "$red"
check "json reconcile verdicts" jq -e '[.run.steps[] | select(.reconcile) | [.id, .reconcile.verdict, .reconcile.differences]] == [["partners", "within_tolerance", 2], ["totals", "clean", 0]]' "$T/r.json"
check "json failure follow-up" jq -e '.run.failures[1].done | test("skipped by bob")' "$T/r.json"

# The Markdown report carries the same sections.
m=$T/r.md
contains "$m" "**LIVE** cutover: **ROLLED BACK**"
contains "$m" "- Started: 2027-01-15 09:00:00 CET (UTC+01:00)"
contains "$m" "## Go/no-go decisions"
contains "$m" "| gate | GO | alice | 2027-01-15 09:05:00 CET (UTC+01:00) |"
contains "$m" "| counts match <ok> & signed |"
contains "$m" "| final | NO-GO | bob |"
contains "$m" "### flaky: attempt 2 (run) failed"
contains "$m" "What was done: skipped by bob at "
contains "$m" 'bad \e]0;pwned\x07 title \u202eevil'
contains "$m" "## Rollbacks"
contains "$m" "| repoint | 2 | succeeded | 2027-01-15 09:09:00 CET (UTC+01:00) |"
contains "$m" "passed within tolerance: 2 differences ≤ 2"
# What the go at gate rested on, beside who decided: the reconcile counts.
contains "$m" "### gate (succeeded)"
contains "$m" "- **GO** by alice at 2027-01-15 09:05:00 CET (UTC+01:00): counts match <ok> & signed"
contains "$m" "- partners succeeded: passed within tolerance: 2 differences ≤ 2 (10 source, 9 dest, 1 missing, 0 extra, 1 changed)"
contains "$m" "- totals succeeded: passed: no differences (42 source, 42 dest)"
h=$T/r.html
is "html: gate's evidence" "$(sec "Checkpoint evidence")/ul[2]/li[1]" \
    "partners succeeded: passed within tolerance: 2 differences ≤ 2 (10 source, 9 dest, 1 missing, 0 extra, 1 changed)"
is "html: gate's decision" "$(sec "Checkpoint evidence")/ul[1]/li[1]" \
    "GO by alice at 2027-01-15 09:05:00 CET (UTC+01:00): counts match <ok> & signed"
check "json: gate rests on partners and totals" jq -e \
    '[.run.checkpoints[] | select(.step == "gate") | .evidence[] | [.step, .state]] == [["partners", "succeeded"], ["totals", "succeeded"]]' "$T/r.json"
contains "$m" "| 10 | 9 | 8 | 1 | 0 | 1 |"
contains "$m" "- Audit head: entry $hid, SHA-256 $hhash"
contains "$m" "| 2027-01-15 09:03:00 CET (UTC+01:00) | flaky | bob | skip | skipped | disk check is known flaky |"
lacks "$m" "$SECRET"

# A run replaced by a new one is ABORTED; the new one has nothing yet.
expect_rc 5 co --operator carol run "$rb" --new-run
expect_rc 0 co report "$rb" --run 1 --format html -o "$T/r1.html"
h=$T/r1.html
is "abandoned run: ABORTED" '//header/p[contains(@class,"outcome")]' \
    "Live cutover ABORTED (abandoned)"
expect_rc 0 co report "$rb" --format html -o "$T/r2.html"
h=$T/r2.html
is "new run: rehearsal" '//header/h1/span[@class="mode"]' "REHEARSAL"
is "new run: open" '//header/p[contains(@class,"outcome")]' "Rehearsal OPEN (in progress)"
for s in "Go/no-go decisions" Failures Rollbacks Reconciliation; do
	is "new run: $s is None" "$(sec "$s")/p[@class=\"none\"]" "None"
done
expect_rc 0 co report "$rb"
check "new run, md: no rollbacks" sh -c "grep -A2 '^## Rollbacks' '$T/out' | grep -qx None"

# A runbook change accepted under a run: the report names the steps, not
# the hash of the file as written.
sed -i 's/Tell the stores./Tell every store./' "$rb"
expect_rc 4 co run "$rb"
expect_rc 5 co --operator carol run "$rb" --accept-changes
raw=$(sha256sum "$rb" | cut -c1-64)
expect_rc 0 co report "$rb" --format json -o "$T/r3.json"
expect_rc 0 co report "$rb" --format html -o "$T/r3.html"
check "json: the change, without the raw hash" jq -e '[.run.decisions[] | select(.action == "runbook-change") | [.outcome, .why]] == [["changed", "announce (changed)"]]' "$T/r3.json"
lacks "$T/r3.json" "$raw"
lacks "$T/r3.html" "$raw"
sqlite3 "$CUTOVER_STATE" .dump >"$T/dump3.sql"
lacks "$T/dump3.sql" "$raw"

# Rendered by headless Chromium, at a desktop and at a phone width.
shot() {
	timeout 120 chromium --headless --no-sandbox --disable-gpu \
	    --disable-quic --no-first-run --disable-background-networking \
	    --disable-component-update --disable-sync \
	    --user-data-dir="$(mktemp -d "$T/chrome.XXXXXX")" \
	    --screenshot="$2" --window-size="$3" "file://$1" \
	    >>"$T/chrome.log" 2>&1
}
if command -v chromium >/dev/null 2>&1; then
	shot "$T/r.html" "$T/desk.png" 1280,1800
	shot "$T/r.html" "$T/phone.png" 390,2400
	check "chromium: desktop screenshot" python3 "$SRCDIR/tests/png-check.py" \
	    "$T/desk.png" 1280 1800 ffe5e5
	check "chromium: phone screenshot" python3 "$SRCDIR/tests/png-check.py" \
	    "$T/phone.png" 390 2400 ffe5e5
	# Printed: A4 pages (595 x 842 points), a few of them.
	timeout 120 chromium --headless --no-sandbox --disable-gpu \
	    --disable-quic --no-first-run --disable-background-networking \
	    --disable-component-update --disable-sync --no-pdf-header-footer \
	    --user-data-dir="$(mktemp -d "$T/chrome.XXXXXX")" \
	    --print-to-pdf="$T/r.pdf" "file://$T/r.html" >>"$T/chrome.log" 2>&1
	check "printed on A4" sh -c "grep -ao '/MediaBox \[[^]]*\]' '$T/r.pdf' |
	    sort -u | grep -qx '/MediaBox \[0 0 594.9[0-9]* 841.9[0-9]*\]'"
	pages=$(grep -ao '/Type /Page\b' "$T/r.pdf" | wc -l)
	check "printed on 2 to 6 pages ($pages)" test "$pages" -ge 2 -a "$pages" -le 6
	[ -n "${SHOTS:-}" ] && cp "$T/desk.png" "$T/phone.png" "$T/r.html" \
	    "$SHOTS/"
else
	fail "chromium is not installed (bootstrap.sh installs it)"
fi

finish
