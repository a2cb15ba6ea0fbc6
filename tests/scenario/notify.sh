#!/bin/sh
# notify.sh - notify: sinks against a real loopback webhook receiver
# (tests/webhook-receiver.py) and a command sink:
#  1. every event (awaiting, checkpoint, failed, complete, rollback) reaches
#     its sinks in the json, slack and teams shapes, with one id per event;
#     ${event.*} in a command arrives made safe, the environment exact;
#  2. a receiver that is down gets every event once it is back, though the
#     driver was killed (kill -9) while it tried: nothing lost, duplicates
#     only by id; failures show in status (text and --json) meanwhile;
#  3. a receiver that answers after 20 s does not slow a 3-step run;
#  4. the webhook address and its token appear nowhere: state file bytes,
#     status, log, audit, reports, the output of every command.
. "$(dirname "$0")/../lib.sh"

RECV=$SRCDIR/tests/webhook-receiver.py
TOKEN=T0KEN-$$-s3cr3t
R() { "$CUTOVER" "$@"; }

# receiver NAME [ARGS...]: start a receiver logging to $T/NAME.log; its
# port in $T/NAME.port, its pid in $T/NAME.pid.
receiver() {
	name=$1
	shift
	rm -f "$T/$name.port"
	python3 "$RECV" "$T/$name.port" "$T/$name.log" "$@" &
	echo $! >"$T/$name.pid"
	i=0
	while [ ! -s "$T/$name.port" ] && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}
stop_receiver() { kill "$(cat "$T/$1.pid")" 2>/dev/null; wait "$(cat "$T/$1.pid")" 2>/dev/null; }
trap 'for p in "$T"/*.pid; do [ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null; done; cleanup' EXIT

# bodies LOG PATHPART: the JSON bodies a receiver got on paths with PATHPART.
bodies() { jq -c --arg p "$2" 'select(.path | contains($p)) | .body' "$1"; }

# ---------------------------------------------------------------- shapes
receiver up
port=$(cat "$T/up.port")
export HOOK="http://127.0.0.1:$port/hook/$TOKEN"
export FLAG=$T/ok CMDLOG=$T/cmd.log
rb=$T/shapes.yaml
cat >"$rb" <<'YAML'
cutover: 1
name: shapes
notify:
  - {webhook: "${env:HOOK}/json"}
  - {name: chat, events: [failed, awaiting], webhook: "${env:HOOK}/slack", format: slack}
  - {name: teams, events: [awaiting], webhook: "${env:HOOK}/teams", format: teams}
  - {name: pager, events: [checkpoint, complete], command: "printf '%s|%s|%s|%s\n' '${event.type}' '${event.step}' '${event.message}' \"$CUTOVER_EVENT_MESSAGE\" >> $CMDLOG"}
phases:
  - id: one
    steps:
      - {id: a, type: local, run: "echo hook=$HOOK"}
      - {id: m, type: manual, instructions: Tell the stores}
      - {id: gate, type: checkpoint}
  - id: two
    steps:
      - {id: b, type: local, run: test -f $FLAG, rollback: "true"}
YAML
expect_rc 0 R lint "$rb"
expect_rc 5 R run "$rb"
expect_rc 0 R confirm "$rb" m
expect_rc 5 R run "$rb"
expect_rc 0 R decide "$rb" gate go --reason "it's \"fine\"; \$(touch $T/pwned)" --operator alice
expect_rc 1 R run "$rb"
touch "$FLAG"
expect_rc 0 R retry "$rb" b
expect_rc 0 R run "$rb"
expect_rc 0 R rollback "$rb" --to gate
expect_rc 0 R run "$rb"

log=$T/up.log
json=$T/json.bodies
bodies "$log" /json >"$json"
check "json: every event type arrived" test \
    "$(jq -r .type "$json" | sort -u | tr '\n' ' ')" = \
    "awaiting checkpoint complete failed rollback "
jq -r .time "$json" >"$T/times"
check "json: a sink gets its events in the order they happened" sh -c "sort -c '$T/times'"
check "json: every payload has every field" test "$(jq -c \
    'select(has("id") and has("type") and has("run") and has("step") and
     has("entity") and has("state") and has("operator") and has("time") and
     has("message") | not)' "$json")" = ""
check "json: run is a number, time ISO" test "$(jq -r \
    'select((.run|type) != "number" or (.time|test("^20[0-9-]+T[0-9:.]+Z$")|not))' "$json")" = ""
check "json: awaiting m and gate" test "$(jq -r 'select(.type=="awaiting") | .step' "$json" | tr '\n' ' ')" = "m gate "
check "json: checkpoint go by alice" test "$(jq -r 'select(.type=="checkpoint") | "\(.step) \(.state) \(.operator)"' "$json")" = "gate go alice"
check "json: the reason exactly as given" test "$(jq -r 'select(.type=="checkpoint") | .message' "$json")" = "it's \"fine\"; \$(touch $T/pwned)"
check "json: failed b with its message" test "$(jq -r 'select(.type=="failed") | "\(.step) \(.state) \(.message)"' "$json")" = "b failed exited with status 1"
check "json: rollback started to gate, then finished" test "$(jq -r 'select(.type=="rollback") | "\(.state) \(.step)"' "$json" | tr '\n' ' ')" = "started gate finished null "
check "json: complete twice (once after the rollback)" test "$(jq -r 'select(.type=="complete") | .state' "$json" | tr '\n' ' ')" = "complete complete "
check "json: ids are 32 hex digits, one per event" test "$(jq -r .id "$json" | sort -u | grep -cE '^[0-9a-f]{32}$')" = "$(jq -r .id "$json" | sort -u | wc -l)"
check "the X-Cutover-Event header is the id" test "$(jq -r 'select(.path|contains("/json")) | select(.event != .body.id)' "$log")" = ""
check "content type json" test "$(jq -r .type "$log" | sort -u)" = "application/json; charset=utf-8"

slack=$T/slack.bodies
bodies "$log" /slack >"$slack"
check "slack: awaiting twice, failed once" test "$(wc -l <"$slack")" = 3
check "slack: text says what happened" grep -q '"text":"shapes run 1: step b failed: exited with status 1"' "$slack"
check "slack: blocks, a section and the event id in context" test "$(jq -r 'select(.blocks[0].type != "section" or (.blocks[1].elements[0].text|test("^event [0-9a-f]{32}")|not))' "$slack")" = ""
teams=$T/teams.bodies
bodies "$log" /teams >"$teams"
check "teams: two awaiting cards" test "$(wc -l <"$teams")" = 2
check "teams: a message with an adaptive card" test "$(jq -r 'select(.type != "message" or .attachments[0].contentType != "application/vnd.microsoft.card.adaptive" or .attachments[0].content.type != "AdaptiveCard")' "$teams")" = ""
check "teams: the facts name the step" test "$(jq -r '.attachments[0].content.body[1].facts[] | select(.title=="step") | .value' "$teams" | tr '\n' ' ')" = "m gate "
check "same event, same id in every format" test \
    "$(jq -r 'select(.type=="failed") | .id' "$json")" = \
    "$(jq -r 'select(.path|contains("/slack")) | select(.body.text|contains("failed")) | .event' "$log")"

check "command sink: checkpoint and both completes" test "$(cut -d'|' -f1 "$CMDLOG" | tr '\n' ' ')" = "checkpoint complete complete "
check "command sink: \${event.message} made safe" grep -qF "checkpoint|gate|it_s _fine__ __touch $T/pwned_|" "$CMDLOG"
check "command sink: the environment has it exactly" grep -qF "|it's \"fine\"; \$(touch $T/pwned)" "$CMDLOG"
check "nothing in an event ran as a command" test ! -e "$T/pwned"
expect_rc 0 R status "$rb" --json
check "status --json: all delivered" test "$(jq -c '.notifications | [.pending, .failed]' "$T/out")" = "[0,0]"
check "status --json: deliveries counted" test "$(jq '.notifications.delivered' "$T/out")" -ge 14

# ------------------------------------- a receiver down, a driver killed
stop_receiver up
export HOOK="http://127.0.0.1:$port/hook/$TOKEN"
rb2=$T/down.yaml
cat >"$rb2" <<'YAML'
cutover: 1
name: down
notify:
  - {webhook: "${env:HOOK}/down"}
phases:
  - id: one
    steps:
      - {id: m, type: manual}
      - {id: slow, type: local, run: sleep 2}
      - {id: bad, type: local, run: "exit 3"}
YAML
start=$(date +%s)
expect_rc 5 R run "$rb2"
took=$(($(date +%s) - start))
check "run waits a bounded time for a dead receiver (${took}s)" test "$took" -le 9
expect_rc 0 R status "$rb2" --json
check "status --json: the event failing" test "$(jq -c '.notifications | [.pending, .failed]' "$T/out")" = "[1,1]"
check "status --json: a last error" test "$(jq -r '.notifications.last_error' "$T/out")" = "1: Couldn't connect to server"
expect_rc 0 R status "$rb2"
contains "$T/out" "notify: 0 delivered, 1 pending, 1 failing; last error"
contains "$T/out" "1: Couldn't connect to server"
expect_rc 0 R confirm "$rb2" m
# A driver killed (kill -9) while it tries to deliver the failed event.
"$CUTOVER" run "$rb2" >"$T/run2.out" 2>&1 &
drv=$!
i=0
while [ "$(step_state "$rb2" bad)" != failed ] && [ $i -lt 200 ]; do
	sleep 0.1
	i=$((i + 1))
done
sleep 1
check "the driver was still trying to deliver when killed" kill -0 "$drv"
kill -9 "$drv"
wait "$drv" 2>/dev/null
check "bad failed before the kill" test "$(step_state "$rb2" bad)" = failed
expect_rc 0 R status "$rb2" --json
check "both events wait in the outbox" test "$(jq '.notifications.pending' "$T/out")" = 2
# The receiver comes back on the same port; the next driver delivers all.
receiver down --port "$port"
expect_rc 1 R run "$rb2"
expect_rc 0 R status "$rb2" --json
check "nothing pending now" test "$(jq -c '.notifications | [.pending, .failed]' "$T/out")" = "[0,0]"
db=$XDG_STATE_HOME/cutover/down.db
sqlite3 "$db" 'SELECT DISTINCT event FROM outbox' | sort >"$T/want.ids"
jq -r .body.id "$T/down.log" | sort -u >"$T/got.ids"
check "two events in the outbox" test "$(wc -l <"$T/want.ids")" = 2
check "every event arrived (at least once, none lost)" cmp "$T/want.ids" "$T/got.ids"
check "awaiting and failed" test "$(jq -r .body.type "$T/down.log" | sort -u | tr '\n' ' ')" = "awaiting failed "
stop_receiver down

# ------------------------------------ a slow receiver does not slow a run
receiver slow --delay 20
export HOOK="http://127.0.0.1:$(cat "$T/slow.port")/hook/$TOKEN"
rb3=$T/slow.yaml
cat >"$rb3" <<'YAML'
cutover: 1
name: slow
notify:
  - {webhook: "${env:HOOK}/slow"}
phases:
  - id: one
    steps:
      - {id: m, type: manual}
      - {id: s1, type: local, run: sleep 1}
      - {id: s2, type: local, run: sleep 1}
      - {id: s3, type: local, run: sleep 1}
YAML
expect_rc 5 R run "$rb3"
expect_rc 0 R confirm "$rb3" m
start=$(date +%s%N)
expect_rc 0 R run "$rb3"
ms=$((($(date +%s%N) - start) / 1000000))
expect_rc 0 R status "$rb3" --json
span=$(jq -r '[.steps[] | select(.id != "m")] |
    ((.[-1].ended_at | sub("\\.[0-9]+Z$"; "Z") | fromdate) -
     (.[0].started_at | sub("\\.[0-9]+Z$"; "Z") | fromdate))' "$T/out")
echo "slow receiver: 3 steps of 1 s took ${span}s (whole seconds), the run ${ms} ms"
check "the 3 steps ran in their own time (${span}s), not the receiver's" test "$span" -le 5
check "run exits within its drain bound (${ms} ms), not after 20 s" test "$ms" -lt 15000
check "the receiver saw the events meanwhile" test "$(jq -r .body.type "$T/slow.log" | sort -u | tr '\n' ' ')" = "awaiting complete "
stop_receiver slow

# ------------------------------------------- an address that is not set
rb4=$T/unset.yaml
cat >"$rb4" <<'YAML'
cutover: 1
name: unset
notify:
  - {name: chat, webhook: "${env:NO_SUCH_HOOK}"}
phases:
  - id: one
    steps:
      - {id: m, type: manual}
YAML
expect_rc 5 R run "$rb4"
expect_rc 0 R status "$rb4" --json
check "unset: the event waits" test "$(jq -c '.notifications | [.pending, .failed]' "$T/out")" = "[1,1]"
check "unset: status says why" test "$(jq -r .notifications.last_error "$T/out")" = "chat: environment variable NO_SUCH_HOOK is not set"

# ------------------------------------------------ the address stays secret
for f in "$rb" "$rb2" "$rb3"; do
	R status "$f" >>"$T/all.txt" 2>&1
	R status "$f" --json >>"$T/all.txt" 2>&1
	R log "$f" >>"$T/all.txt" 2>&1
	R audit "$f" >>"$T/all.txt" 2>&1
	for fmt in md html json; do R report "$f" --format $fmt >>"$T/all.txt" 2>&1; done
done
cat "$T"/*.out "$T/out" "$T/err" >>"$T/all.txt" 2>/dev/null
check "reports and the rest were written" test "$(wc -c <"$T/all.txt")" -gt 1000
expect_rc 0 R log "$rb" a
check "a step printing the address has it redacted" grep -q '^hook=' "$T/out"
lacks "$T/out" "/hook/"
lacks "$T/all.txt" "$TOKEN"
lacks "$T/all.txt" "/hook/"
for f in "$XDG_STATE_HOME"/cutover/*; do
	if grep -qaF -- "$TOKEN" "$f" || grep -qaF -- "/hook/" "$f"; then
		fail "$f holds the webhook address"
	else ok; fi
done
check "the state files were looked at" test "$(ls "$XDG_STATE_HOME"/cutover/*.db | wc -l)" = 4

# ------------------------------------------------ an entity drops out
# A store that fails its readiness check, and one excluded by hand: each
# is one "excluded" event naming the entity and why.
XLOG=$T/excluded.log
export XLOG
xr=$T/lanes.yaml
cat >"$xr" <<'YAML'
cutover: 1
name: lanes-notify
entities:
  - {id: s1}
  - {id: s2}
  - {id: s3}
notify:
  - {name: ops, events: [excluded], command: "printf '%s|%s|%s|%s\n' '${event.type}' '${event.entity}' '${event.state}' \"$CUTOVER_EVENT_MESSAGE\" >> $XLOG"}
phases:
  - id: stores
    for_each: entity
    parallel: 3
    steps:
      - {id: ready, type: local, on_failure: exclude-entity, run: 'test "${entity.id}" != s2'}
      - {id: wait, type: manual, instructions: Count the tills}
YAML
expect_rc 5 R --state "$T/lanes.db" run "$xr"
expect_rc 0 R --state "$T/lanes.db" exclude "$xr" s3 --reason "tills not delivered"
expect_rc 5 R --state "$T/lanes.db" run "$xr"
n=0
while [ "$(grep -c '^excluded|' "$XLOG" 2>/dev/null)" -lt 2 ] && [ $n -lt 50 ]; do
	sleep 0.2
	n=$((n + 1))
done
check "s2 excluded by its readiness check is told" grep -q '^excluded|s2|excluded|' "$XLOG"
check "s3 excluded by hand is told, with the reason" grep -q '^excluded|s3|excluded|tills not delivered$' "$XLOG"
check "each exclusion is told once" test "$(grep -c '^excluded|' "$XLOG")" = 2
finish
