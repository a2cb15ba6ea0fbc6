#!/bin/sh
# report-lanes.sh - reports of a runbook with entities, against the real
# binary: the pilot wave (one store not ready and excluded by its
# readiness check, one excluded by its manager's no-go and rolled back, one
# done), then wave-2 in a run of its own; per-entity table with the
# exclusions and their reasons, per-wave summary, the evidence each go
# rests on beside who decided, --compare between the two waves (per-step
# median and slowest entity), the same in md, json and html, and from the
# state on a real PostgreSQL; and the timeline of 40 stores, one row each,
# rendered by headless Chromium.
. "$(dirname "$0")/../lib.sh"

command -v jq >/dev/null || { fail "jq is needed"; finish; }
command -v xmllint >/dev/null || { fail "xmllint is needed"; finish; }
export CUTOVER_STATE="$T/lanes.db"
export LANES_DIR="$T/work"
mkdir -p "$LANES_DIR"
C() { "$CUTOVER" "$@"; }

cat >"$T/stores.csv" <<'CSV'
id,wave,title,ready,secs
store-1,pilot,Lyon,yes,0.1
store-2,pilot,Lille,yes,0.1
store-3,pilot,Nantes <b>&,no,0.1
store-4,wave-2,Rennes,yes,0.2
store-5,wave-2,Brest,yes,1.5
CSV
rb=$T/lanes.yaml
cat >"$rb" <<'YAML'
cutover: 1
name: lanes
title: Store wave
entities: {file: stores.csv}
waves: [pilot, wave-2]
vars:
  dir: ${env:LANES_DIR}
roles:
  managers: [mia, noe]
phases:
  - id: prep
    steps:
      - {id: open, type: local, run: "true"}
  - id: stores
    for_each: entity
    parallel: 2
    steps:
      - id: ready
        type: local
        on_failure: exclude-entity
        run: test "${entity.ready}" = yes || { echo "tills not configured"; exit 7; }
        rollback: "true"
      - id: work
        type: local
        run: sleep ${entity.secs}; touch ${dir}/${entity.id}.done
        verify: test -e ${dir}/${entity.id}.done
        rollback: rm -f ${dir}/${entity.id}.done
        planned: 1s
      - id: store-go
        type: checkpoint
        approvals: 1
        approvers: [managers]
        evidence: [ready, work]
        on_no_go: rollback
  - id: close
    steps:
      - id: night-go
        type: checkpoint
        approvals: 1
      - {id: wrap, type: local, run: echo wrapped}
YAML

# The pilot night.
expect_rc 0 C lint "$rb"
expect_rc 5 C run "$rb" --wave pilot
expect_rc 0 C decide "$rb" store-go@store-1 go --reason "tills counted" --operator mia
expect_rc 0 C decide "$rb" store-go@store-2 no-go --reason "till count off" --operator noe
expect_rc 5 C run "$rb"
check "store-2's work rolled back" test ! -e "$LANES_DIR/store-2.done"
expect_rc 0 C decide "$rb" night-go go --reason "pilot stores done" --operator mia
expect_rc 0 C run "$rb"
expect_rc 0 C report "$rb" --format json -o "$T/p.json"
expect_rc 0 C report "$rb" -o "$T/p.md"
expect_rc 0 C report "$rb" --format html -o "$T/p.html"
j=$T/p.json

check "json: the pilot's entities and where they stand" jq -e \
    '[.run.entities[] | [.id, .state]] == [["store-1", "done"], ["store-2", "excluded"], ["store-3", "excluded"]]' "$j"
check "json: selection" jq -e '.run.selection == "wave:pilot" and .run.selection_words == "wave pilot"' "$j"
check "json: store-3 excluded by its readiness check" jq -e \
    '.run.entities[2].excluded.reason | test("ready@store-3 failed")' "$j"
check "json: store-2 excluded by noe's no-go" jq -e \
    '.run.entities[1].excluded | (.by == "noe") and (.reason | test("no-go"))' "$j"
check "json: store-3's failure counted" jq -e '.run.entities[2].failures == 1' "$j"
check "json: store-1's instances" jq -e '.run.entities[0].counts == {"succeeded": 3} and .run.entities[0].instances == 3' "$j"
check "json: the pilot wave" jq -e \
    '.run.waves == [{"wave": "pilot", "entities": 3, "done": 1, "excluded": 2, "active": 0, "failures": 2} + (.run.waves[0] | {started_at, ended_at, median_entity_ms, slowest_entity_ms, slowest_entity})] and .run.waves[0].slowest_entity == "store-1"' "$j"
check "json: the stores phase ended, excluded instances that never ran aside" jq -e \
    '.run.phases[] | select(.id == "stores") | .actual_ms > 0 and .ended_at != null' "$j"
check "json: night-go waits for the stores still in, not the excluded" jq -e \
    '.run.steps[] | select(.id == "night-go") | .needs == ["ready@store-1", "work@store-1", "store-go@store-1"]' "$j"
check "json: an instance names its entity" jq -e \
    '[.run.steps[] | select(.id == "work@store-1" or .id == "open") | .entity] == [null, "store-1"]' "$j"
check "json: store-go@store-1 rests on its own ready and work" jq -e \
    '.run.checkpoints[] | select(.step == "store-go@store-1") | ([.evidence[].step] == ["ready@store-1", "work@store-1"]) and (.decisions == [.decisions[0]]) and .decisions[0].by == "mia" and .decisions[0].why == "tills counted"' "$j"
check "json: night-go rests on every instance, counted" jq -e \
    '.run.checkpoints[] | select(.step == "night-go") | (.evidence | length) == 9 and (.summary | index("ready: 1 succeeded, 1 failed, 1 rolled_back / 3 entities")) != null' "$j"
check "json: night-go's evidence says why store-3 is out" jq -e \
    '.run.checkpoints[] | select(.step == "night-go") | .summary | any(test("^ready@store-3 failed: .*store-3 excluded: ready@store-3 failed"))' "$j"
check "json: store-2's work: rolled back, and why" jq -e \
    '.run.checkpoints[] | select(.step == "store-go@store-2") | .evidence[1].line | test("^work@store-2 rolled_back; store-2 excluded: no-go at store-go@store-2")' "$j"

m=$T/p.md
contains "$m" "- Entities: 3 (wave pilot)"
contains "$m" "## Checkpoint evidence"
contains "$m" "### store-go@store-1 (succeeded)"
contains "$m" "- **GO** by mia at "
contains "$m" "- work@store-1 succeeded: run and verify passed"
contains "$m" "## Waves"
contains "$m" "| pilot | 3 | 1 | 2 | 0 | 2 |"
contains "$m" "## Entities"
contains "$m" '| store-3 | pilot | Nantes <b>& | excluded | 1 failed, 2 excluded / 3 |'
contains "$m" "| store-2 | pilot | Lille | excluded |"
check "md: store-2's exclusion names noe" grep -q '^| store-2 .*no-go.*(by noe at ' "$m"
lacks "$m" "store-4"

h=$T/p.html
check "html parses as XML" xmllint --noout "$h"
xp() { xmllint --html --xpath "normalize-space(string($1))" "$h" 2>/dev/null; }
sec() { echo "//section[h2=\"$1\"]"; }
is() {
	got=$(xp "$2")
	if [ "$got" = "$3" ]; then ok; else fail "$1: '$got', wanted '$3'"; fi
}
is "html: entities rows" "count($(sec Entities)//tr)" "4"
is "html: store-3 escaped title" "$(sec Entities)//tr[td[1]=\"store-3\"]/td[3]" "Nantes <b>&"
is "html: store-3 state" "$(sec Entities)//tr[td[1]=\"store-3\"]/td[4]" "excluded"
is "html: pilot wave" "$(sec Waves)//tr[2]/td[1]" "pilot"
is "html: evidence of store-go@store-1" \
    "$(sec "Checkpoint evidence")/h3[1]/following-sibling::ul[2]/li[2]" \
    "work@store-1 succeeded: run and verify passed"
is "html: one lane per entity in the timeline" \
    "count(//section[h2=\"Timeline\"]//*[local-name()=\"text\" and starts-with(., \"store-\")])" "3"

# A second night: wave-2 in a new run, compared with the pilot.
expect_rc 5 C run "$rb" --new-run --wave wave-2
expect_rc 0 C decide "$rb" store-go@store-4 go --reason ok --operator mia
expect_rc 0 C decide "$rb" store-go@store-5 go --reason ok --operator mia
expect_rc 5 C run "$rb"
expect_rc 0 C decide "$rb" night-go go --reason "wave-2 done" --operator mia
expect_rc 0 C run "$rb"
expect_rc 0 C runs "$rb"
expect_rc 0 C report "$rb" --compare 1 --format json -o "$T/c.json"
expect_rc 0 C report "$rb" --compare 1 -o "$T/c.md"
expect_rc 0 C report "$rb" --compare 1 --format html -o "$T/c.html"
j=$T/c.json
check "json: run 2 covers wave-2" jq -e '.run.id == 2 and .run.selection == "wave:wave-2" and .compare.selection == "wave:pilot"' "$j"
check "json: lanes compared, work: the slowest store of each wave" jq -e \
    '.differences.lanes[] | select(.step == "work") | .run.slowest_entity == "store-5" and .run.instances == 2 and .compare.slowest_entity == "store-1" and .compare.instances == 1' "$j"
check "json: work's median over wave-2 lies between its stores" jq -e \
    '.differences.lanes[] | select(.step == "work") | .run.median_ms >= 200 and .run.median_ms < .run.slowest_ms and .median_delta_ms > 0' "$j"
check "json: every for_each step compared" jq -e '[.differences.lanes[].step] == ["ready", "work", "store-go"]' "$j"
contains "$T/c.md" "## Lanes compared with run 1"
check "md: work's row names store-5 and store-1" grep -q '^| work | .* (2) | .* (store-5) | .* (1) | .* (store-1) | +' "$T/c.md"
contains "$T/c.md" "- Compared with: run 1 (rehearsal, complete, wave pilot)"
h=$T/c.html
check "html (compare) parses as XML" xmllint --noout "$h"
check "html: work's slowest in wave-2 is store-5" sh -c \
    "xmllint --html --xpath 'string(//section[h2=\"Lanes compared with run 1\"]//tr[td[1]=\"work\"]/td[3])' '$h' 2>/dev/null | grep -q 'store-5'"

# The same reports from the state on PostgreSQL (state copy): entities,
# waves, evidence and lanes compared read alike from either store.
. "$SRCDIR/tests/pg.sh"
if pg_start; then
	DB="postgresql://cutover@127.0.0.1:$PGPORT/cutover"
	expect_rc 0 C state copy "$CUTOVER_STATE" "$DB" --runbook lanes
	CUTOVER_STATE=$DB C report "$rb" --compare 1 --format json >"$T/pg.json"
	# (state copy re-dates the audit entries decisions are read from)
	keys='[.run.entities, .run.waves, [.run.checkpoints[] | del(.decisions)], .run.selection, .differences.lanes, .compare.entities, [.compare.checkpoints[] | del(.decisions)]]'
	check "postgresql: the same report as the state file" test \
	    "$(jq -c "$keys" "$T/pg.json")" = "$(jq -c "$keys" "$T/c.json")"
	check "postgresql: the report has the exclusions" jq -e \
	    '[.compare.entities[] | select(.state == "excluded") | .id] == ["store-2", "store-3"]' "$T/pg.json"
else
	fail "PostgreSQL did not start"
fi

# The ETA of a store never run: the step's median over the entities of
# the latest rehearsal that ran it (wave-2's), not its plan.
expect_rc 0 C run "$rb" --new-run --entity store-3 --until open
expect_rc 0 C report "$rb" --format json -o "$T/e.json"
med=$(jq '.differences.lanes[] | select(.step == "work") | .run.median_ms' "$T/c.json")
check "json: work@store-3 estimated by wave-2's median ($med ms)" jq -e --argjson m "$med" \
    '.run.steps[] | select(.id == "work@store-3") | .estimate_source == "median" and .estimate_ms == $m' "$T/e.json"
check "json: run 3 covers entity store-3" jq -e '.run.selection_words == "entity store-3"' "$T/e.json"
check "json: ready@store-3 too (its own rehearsal failed)" jq -e \
    '.run.steps[] | select(.id == "ready@store-3") | .estimate_source == "median"' "$T/e.json"

# Evidence that changed after a go: the report says the go was set aside,
# beside who decided, and shows the evidence as it is now.
ev=$T/ev.yaml
cat >"$ev" <<'YAML'
cutover: 1
name: ev
phases:
  - id: p
    steps:
      - {id: a, type: local, run: "true"}
      - {id: probe, type: manual, needs: [], instructions: look at the shelves}
      - {id: cp, type: checkpoint, approvals: 2, needs: [a], evidence: [probe]}
YAML
E() { "$CUTOVER" --state "$T/ev.db" "$@"; }
expect_rc 5 E run "$ev"
expect_rc 0 E decide "$ev" cp go --reason "looks fine" --operator alice
expect_rc 0 E confirm "$ev" probe --operator carol
expect_rc 0 E decide "$ev" cp go --reason "fine too" --operator bob
expect_rc 0 E report "$ev" -o "$T/ev.md"
expect_rc 0 E report "$ev" --format json -o "$T/ev.json"
contains "$T/ev.md" "### cp (awaiting)"
contains "$T/ev.md" "- **GO** by alice at "
contains "$T/ev.md" "- decisions voided at "
contains "$T/ev.md" "evidence changed (1 go decision set aside"
contains "$T/ev.md" "- probe succeeded"
check "json: alice's go, set aside as carol confirmed probe, then bob's" jq -e \
    '[.run.checkpoints[] | select(.step == "cp") | .decisions[] | [.decision, .by]] == [["go", "alice"], ["voided", "carol"], ["go", "bob"]]' "$T/ev.json"
check "json: cp rests on probe, a plain step" jq -e \
    '[.run.checkpoints[] | select(.step == "cp") | .evidence[].line] == ["probe succeeded"]' "$T/ev.json"

# Forty stores: one timeline row each, readable, and Chromium draws it.
{
	echo "id,wave,title,ready,secs"
	i=1
	while [ $i -le 40 ]; do
		echo "s$i,w$(((i - 1) / 20 + 1)),Store number $i,yes,0"
		i=$((i + 1))
	done
} >"$T/forty.csv"
sed -e 's/stores.csv/forty.csv/' -e 's/waves: \[pilot, wave-2\]/waves: [w1, w2]/' \
    -e 's/parallel: 2/parallel: 8/' -e '/id: store-go/,/on_no_go/d' \
    -e '/id: night-go/,/approvals/d' "$rb" >"$T/forty.yaml"
export CUTOVER_STATE="$T/forty.db"
expect_rc 0 C lint "$T/forty.yaml"
expect_rc 0 C run "$T/forty.yaml"
expect_rc 0 C report "$T/forty.yaml" --format html -o "$T/forty.html"
h=$T/forty.html
check "forty: html parses as XML" xmllint --noout "$h"
is "forty: forty lanes" \
    "count(//section[h2=\"Timeline\"]//*[local-name()=\"text\" and starts-with(., \"s\") and string-length(.) <= 3])" "40"
is "forty: a line per wave" \
    "count(//section[h2=\"Timeline\"]//*[local-name()=\"text\" and @class=\"wave\"])" "2"
svg_h=$(xp '//section[h2="Timeline"]/*[local-name()="svg"]/@height')
check "forty: the timeline is 40 rows of 18 px, not 80 of 24 ($svg_h px)" \
    test "$svg_h" -le 1100 -a "$svg_h" -ge 800
if command -v chromium >/dev/null 2>&1; then
	timeout 120 chromium --headless --no-sandbox --disable-gpu \
	    --disable-quic --no-first-run --disable-background-networking \
	    --disable-component-update --disable-sync \
	    --user-data-dir="$(mktemp -d "$T/chrome.XXXXXX")" \
	    --screenshot="$T/forty.png" --window-size=1280,4000 \
	    "file://$h" >>"$T/chrome.log" 2>&1
	check "chromium: the forty lanes drawn (succeeded bars)" python3 \
	    "$SRCDIR/tests/png-check.py" "$T/forty.png" 1280 4000 3a9d5d
	[ -n "${SHOTS:-}" ] && cp "$T/forty.png" "$T/forty.html" "$SHOTS/"
else
	fail "chromium is needed"
fi
finish
