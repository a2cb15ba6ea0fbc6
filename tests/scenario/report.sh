#!/bin/sh
# report.sh - rehearsal timings, the ETA and reports, with exact times.
#
# Each command runs with CUTOVER_FAKE_CLOCK at a whole second we choose; it
# then advances with real time by a few milliseconds, which settle() cuts
# off again (every time in the state file truncated to its second). Local
# steps finish within the command that starts them, so settle() also gives
# them the duration the test wants. Manual steps and checkpoints wait from
# one command to the next: those times come from the clock alone.
. "$(dirname "$0")/../lib.sh"

rb=$T/rep.yaml
export CUTOVER_STATE="$T/rep.db" TZ=UTC
T0=1800000000000          # 2027-01-15T08:00:00Z
T1=$((T0 + 86400000))     # the next day
cat >"$rb" <<'YAML'
cutover: 1
name: rep
title: Report & timing <test>
roles:
  duty-manager: [alice, bob]
phases:
  - id: prep
    title: Preparation
    steps:
      - id: announce
        type: manual
        instructions: Tell the stores.
        planned: 10m
      - id: backup
        type: local
        run: "true"
        needs: []
        planned: 2m
      - id: export
        type: local
        run: "true"
        needs: [announce]
        planned: 5m
  - id: load
    steps:
      - id: load-data
        type: local
        run: "true"
        planned: 20m
      - id: gate
        type: checkpoint
        approvers: [duty-manager]
        planned: 5m
      - id: switch
        type: local
        run: "true"
        planned: 1m
YAML

# at SECONDS COMMAND...: run cutover with the clock at T0 + SECONDS... of
# the base in $base.
at() {
	s=$1
	shift
	CUTOVER_FAKE_CLOCK=$((base + s * 1000)) "$CUTOVER_TEST" "$@"
}

# settle [RUN STEP MS]: cut every time to its second; give a local step of
# run RUN the duration MS.
settle() {
	sqlite3 "$CUTOVER_STATE" "
	UPDATE attempts SET started_at = started_at / 1000 * 1000,
	    ended_at = ended_at / 1000 * 1000;
	UPDATE steps SET started_at = started_at / 1000 * 1000,
	    ended_at = ended_at / 1000 * 1000, done_at = done_at / 1000 * 1000,
	    duration_ms = ended_at / 1000 * 1000 - started_at / 1000 * 1000;
	UPDATE audit SET at = substr(at, 1, 19) || '.000Z';
	UPDATE runs SET created_at = substr(created_at, 1, 19) || '.000Z',
	    ended_at = substr(ended_at, 1, 19) || '.000Z';"
	[ $# = 3 ] || return 0
	sqlite3 "$CUTOVER_STATE" "
	UPDATE attempts SET ended_at = started_at + $3 WHERE run = $1 AND step = '$2';
	UPDATE steps SET ended_at = started_at + $3, done_at = started_at + $3,
	    duration_ms = $3 WHERE run = $1 AND id = '$2';"
}

# Rehearsal 1. announce waits 10m; backup 90s; export 4m; load-data 25m
# (late: 20m planned); gate waits 5m; switch 1m.
base=$T0
expect_rc 5 at 0 run "$rb"
settle 1 backup 90000
expect_rc 0 at 600 --operator alice confirm "$rb" announce --note "all stores | acked"
expect_rc 0 at 600 run "$rb" --until export
settle 1 export 240000
expect_rc 0 at 840 run "$rb" --until load-data
settle 1 load-data 1500000
expect_rc 5 at 2340 run "$rb"
settle
expect_rc 0 at 2640 --operator bob decide "$rb" gate go --reason "counts match"
expect_rc 0 at 2640 run "$rb"
settle 1 switch 60000

expect_rc 0 at 3000 report "$rb" --format json
cp "$T/out" "$T/r1.json"
check "report json parses" jq -e . "$T/r1.json"
check "run 1 is a complete rehearsal" jq -e '.run.id == 1 and .run.mode == "rehearsal" and .run.live == false and .run.state == "complete"' "$T/r1.json"
check "actual times are exact" jq -e '[.run.steps[] | .actual_ms] == [600000, 90000, 240000, 1500000, 300000, 60000]' "$T/r1.json"
check "planned times" jq -e '[.run.steps[] | .planned_ms] == [600000, 120000, 300000, 1200000, 300000, 60000]' "$T/r1.json"
check "waits at the manual step and checkpoint" jq -e '[.run.steps[] | .wait_ms] == [600000, 0, 0, 0, 300000, 0]' "$T/r1.json"
check "wait period of announce" jq -e '.run.steps[0].waits == [{"start": "2027-01-15T08:00:00.000Z", "end": "2027-01-15T08:10:00.000Z", "ms": 600000}]' "$T/r1.json"
check "critical path" jq -e '[.run.steps[] | select(.critical) | .id] == ["announce", "export", "load-data", "gate", "switch"]' "$T/r1.json"
check "late steps" jq -e '[.run.steps[] | select(.late) | .id] == ["load-data"]' "$T/r1.json"
check "eta of a finished run" jq -e '.run.eta == {"path_ms": 2700000, "plan_ms": 2460000, "plan_delta_ms": 240000, "planned": true, "finish": "2027-01-15T08:45:00.000Z", "remaining_ms": 0, "complete": true, "late_steps": 1}' "$T/r1.json"
check "phases" jq -e '[.run.phases[] | [.id, .planned_ms, .actual_ms]] == [["prep", 900000, 840000], ["load", 1560000, 1860000]]' "$T/r1.json"
check "decisions with who and why" jq -e '[.run.decisions[] | [.step, .operator, .action, .outcome, .why]] == [["announce", "alice", "confirm", "succeeded", "all stores | acked"], ["gate", "bob", "decide", "go", "counts match"]]' "$T/r1.json"
check "attempts" jq -e '.run.steps[3].attempts[0] | .n == 1 and .state == "succeeded" and .duration_ms == 1500000 and .exit_code == 0' "$T/r1.json"
check "estimates are actual times" jq -e '[.run.steps[] | .estimate_source] | unique == ["actual"]' "$T/r1.json"

expect_rc 0 at 3000 report "$rb"
cp "$T/out" "$T/r1.md"
contains "$T/r1.md" "# Report & timing <test>: run 1 REHEARSAL"
contains "$T/r1.md" "Rehearsal: **COMPLETE**"
contains "$T/r1.md" "- Ended: 2027-01-15 08:45:00 UTC (UTC+00:00)"
contains "$T/r1.md" "- Duration: 45m"
contains "$T/r1.md" "| Critical path (estimate) | 45m |"
contains "$T/r1.md" "| Critical path (plan) | 41m |"
contains "$T/r1.md" "| Against plan | 4m behind plan (+4m) |"
contains "$T/r1.md" "| Finished | 2027-01-15 08:45:00 UTC (UTC+00:00) |"
contains "$T/r1.md" "| Waiting for people | 15m |"
contains "$T/r1.md" "| prep | 15m | 14m |"
contains "$T/r1.md" "| load | 26m | 31m |"
contains "$T/r1.md" "| prep | announce | manual | succeeded | 10m | 10m | 10m | 0 | 10m (actual) | critical |"
contains "$T/r1.md" "| prep | backup | local | succeeded | 2m | 1m 30s | - | 1 | 1m 30s (actual) | - |"
contains "$T/r1.md" "| load | load-data | local | succeeded | 20m | 25m | - | 1 | 25m (actual) | critical, late |"
contains "$T/r1.md" "| load | gate | checkpoint | succeeded | 5m | 5m | 5m | 0 | 5m (actual) | critical |"
contains "$T/r1.md" "| announce | alice | confirm | succeeded | all stores \| acked |"
contains "$T/r1.md" "| gate | bob | decide | go | counts match |"
check "no failures: None" sh -c "grep -A2 '^## Failures' '$T/r1.md' | grep -qx None"

expect_rc 0 at 3000 status "$rb"
contains "$T/out" "finished 08:45Z; critical path 45m, plan 41m: 4m behind plan; 1 late"
check "status marks the late step" grep -Eq '^load +load-data +succeeded +1 +25m late$' "$T/out"

# Rehearsal 2, the next day. Before export starts, the ETA takes export,
# load-data, gate and switch from rehearsal 1. status runs with the clock
# a second before the last event so that "now" (which moves a few ms in
# the command) does not push the forecast.
base=$T1
expect_rc 5 at 0 run "$rb" --new-run
settle 2 backup 60000
expect_rc 0 at 300 --operator alice confirm "$rb" announce
settle
expect_rc 0 at 299 status "$rb" --json
check "status json keeps its keys" jq -e '.runbook == "rep" and .run == 2 and .mode == "rehearsal" and .state == "open" and (.steps | length) == 6' "$T/out"
check "status json: eta and plan_delta_ms" jq -e '.eta == "2027-01-16T08:40:00.000Z" and .plan_delta_ms == -60000' "$T/out"
expect_rc 0 at 299 status "$rb"
contains "$T/out" "ETA 08:40Z (in 35m"
contains "$T/out" "); critical path 40m, plan 41m: 1m ahead of plan"
expect_rc 0 at 299 report "$rb" --format json
check "estimates from rehearsal 1" jq -e '[.run.steps[] | [.estimate_source, .estimate_ms, .rehearsal_run]] == [["actual", 300000, 1], ["actual", 60000, 1], ["rehearsal", 240000, 1], ["rehearsal", 1500000, 1], ["rehearsal", 300000, 1], ["rehearsal", 60000, 1]]' "$T/out"

expect_rc 0 at 300 run "$rb" --until export
settle 2 export 200000
expect_rc 0 at 500 run "$rb" --until load-data
settle 2 load-data 1200000
expect_rc 5 at 1700 run "$rb"
settle
# The checkpoint waits: estimated at rehearsal 1's 5m from when it began.
expect_rc 0 at 1700 status "$rb" --json
check "eta while the gate waits" jq -e '.eta == "2027-01-16T08:34:20.000Z" and .plan_delta_ms == -400000' "$T/out"
# Ten minutes on, the gate is late (5m planned) and the ETA moves with it.
expect_rc 0 at 2300 status "$rb"
check "an awaiting step past its plan is late" grep -Eq '^load +gate +awaiting +0 +- late' "$T/out"
contains "$T/out" "; 1 late"
expect_rc 0 at 2000 --operator bob decide "$rb" gate go --reason "ok"
expect_rc 0 at 2000 run "$rb"
settle 2 switch 30000
# (the decision came at 2000 s: the wait is 5m)

expect_rc 0 at 2100 report "$rb" --run 2 --compare 1 --format json
cp "$T/out" "$T/cmp.json"
check "compare: both runs" jq -e '.run.id == 2 and .compare.id == 1' "$T/cmp.json"
check "compare: step differences" jq -e '[.differences.steps[] | [.id, .actual_ms, .compare_ms, .delta_ms]] == [["announce", 300000, 600000, -300000], ["backup", 60000, 90000, -30000], ["export", 200000, 240000, -40000], ["load-data", 1200000, 1500000, -300000], ["gate", 300000, 300000, 0], ["switch", 30000, 60000, -30000]]' "$T/cmp.json"
check "compare: phase differences" jq -e '[.differences.phases[] | [.id, .actual_ms, .compare_ms, .delta_ms]] == [["prep", 500000, 840000, -340000], ["load", 1530000, 1860000, -330000]]' "$T/cmp.json"
check "run 2 eta" jq -e '.run.eta.path_ms == 2030000 and .run.eta.plan_delta_ms == -430000 and .run.eta.complete' "$T/cmp.json"

expect_rc 0 at 2100 report "$rb" --run 2 --compare 1
cp "$T/out" "$T/cmp.md"
contains "$T/cmp.md" "- Compared with: run 1 (rehearsal, complete)"
contains "$T/cmp.md" "| Phase | Planned | Actual | Run 1 | Difference |"
contains "$T/cmp.md" "| prep | 15m | 8m 20s | 14m | -5m 40s |"
contains "$T/cmp.md" "| load | 26m | 25m 30s | 31m | -5m 30s |"
contains "$T/cmp.md" "| prep | announce | manual | succeeded | 10m | 5m | 5m | 0 | 5m (actual) | critical | 10m | -5m |"
contains "$T/cmp.md" "| load | gate | checkpoint | succeeded | 5m | 5m | 5m | 0 | 5m (actual) | critical | 5m | 0s |"

# A live run is LIVE everywhere.
base=$((T1 + 86400000))
expect_rc 5 at 0 --mode live run "$rb" --new-run
settle 3 backup 100000
expect_rc 0 at 60 report "$rb"
contains "$T/out" "run 3 *** LIVE ***"
expect_rc 0 at 60 report "$rb" --format json
check "live json" jq -e '.run.live == true and .run.mode == "live"' "$T/out"
check "live estimates from the latest rehearsal" jq -e '[.run.steps[] | .rehearsal_run] == [2, 2, 2, 2, 2, 2]' "$T/out"
check "announce waits, under way" jq -e '.run.steps[0] | .state == "awaiting" and .waits[0].end == null' "$T/out"

# Reconcile results and failures.
sqlite3 "$CUTOVER_STATE" "UPDATE steps SET result = '{\"source_rows\":10,\"dest_rows\":9,\"matched\":8,\"missing\":1,\"extra\":0,\"changed\":1,\"samples\":{\"missing\":[\"7\"],\"extra\":[],\"changed\":[\"3\"]},\"changed_columns\":{\"email\":1}}' WHERE run = 1 AND id = 'load-data'"
expect_rc 0 at 3000 report "$rb" --run 1
contains "$T/out" "| 10 | 9 | 8 | 1 | 0 | 1 |"
contains "$T/out" "| email | 1 |"
expect_rc 0 at 3000 report "$rb" --run 1 --format json
check "json carries the stored result" jq -e '.run.steps[3].result.changed_columns.email == 1' "$T/out"
cat >"$T/fail.yaml" <<'YAML'
cutover: 1
name: fail
phases:
  - id: only
    steps:
      - id: flaky
        type: local
        run: echo "no disk" >&2; exit 3
        retries: 1
YAML
expect_rc 1 "$CUTOVER" --state "$T/fail.db" run "$T/fail.yaml"
expect_rc 0 "$CUTOVER" --state "$T/fail.db" report "$T/fail.yaml"
contains "$T/out" "- flaky attempt 1 failed at "
contains "$T/out" "- flaky attempt 2 failed at "
contains "$T/out" "| Critical path (plan) | 0s |"
contains "$T/out" "| Against plan | no plan |"
expect_rc 0 "$CUTOVER" --state "$T/fail.db" report "$T/fail.yaml" --format json
check "json failures" jq -e '[.run.failures[] | [.step, .attempt, .state, .exit_code]] == [["flaky", 1, "failed", 3], ["flaky", 2, "failed", 3]]' "$T/out"
check "json failure message" jq -e '.run.failures[0].message | type == "string"' "$T/out"

# Errors.
expect_rc 2 "$CUTOVER" report "$rb" --format pdf
contains "$T/err" "--format is md, html or json"
expect_rc 4 "$CUTOVER" report "$rb" --run 9
contains "$T/err" "no run 9"
expect_rc 4 "$CUTOVER" report "$rb" --compare 9

# -o writes atomically, mode 0644.
umask 077
expect_rc 0 at 2100 report "$rb" --run 2 --compare 1
cp "$T/out" "$T/cmp.md"
expect_rc 0 at 2100 report "$rb" --run 2 --compare 1 -o "$T/cmp-o.md"
check "-o file has mode 0644" test "$(stat -c %a "$T/cmp-o.md")" = 644
check "-o file is the report" cmp -s "$T/cmp-o.md" "$T/cmp.md"
check "no temporary file left" test "$(ls "$T" | grep -c 'cmp-o.md.')" = 0
umask 022

# HTML: one self-contained, well-formed page with the timeline.
expect_rc 0 at 2100 report "$rb" --run 2 --compare 1 --format html -o "$T/r.html"
check "html parses as XML" xmllint --noout "$T/r.html"
check "html has an svg timeline" xmllint --noout --xpath '//*[local-name()="svg"]//*[local-name()="rect"]' "$T/r.html"
lacks "$T/r.html" "http://www.w3.org/1999/xlink"
lacks "$T/r.html" "<script"
lacks "$T/r.html" "src="
lacks "$T/r.html" "href="
contains "$T/r.html" "@media print"
contains "$T/r.html" "critical path [critical]"
contains "$T/r.html" "waiting for a person"
contains "$T/r.html" "succeeded 20m [critical]"
contains "$T/r.html" "run 1: succeeded 25m"
contains "$T/r.html" "Report &amp; timing &lt;test&gt;: run 2"
contains "$T/r.html" "Rehearsal COMPLETE"

# png_check FILE WIDTH HEIGHT RRGGBB...: see tests/png-check.py.
png_check() { python3 "$SRCDIR/tests/png-check.py" "$@"; }

# Rendered by headless Chromium: a picture of the expected size with the
# bars in it (not blank, not an error page).
if command -v chromium >/dev/null 2>&1; then
	timeout 120 chromium --headless --no-sandbox --disable-gpu \
	    --disable-quic --no-first-run --disable-background-networking \
	    --disable-component-update --disable-sync \
	    --user-data-dir="$(mktemp -d "$T/chrome.XXXXXX")" \
	    --screenshot="$T/r.png" --window-size=1200,2400 \
	    "file://$T/r.html" >"$T/chrome.log" 2>&1
	check "chromium wrote a PNG" test -s "$T/r.png"
	check "the PNG shows the timeline" png_check "$T/r.png" 1200 2400 \
	    3a9d5d b8860b
else
	fail "chromium is not installed (bootstrap.sh installs it)"
fi

finish
