#!/bin/bash
# serve.sh - `cutover serve`: the loopback default and the refusal of
# another address without a token; the token (Bearer, ?token= once then
# an HttpOnly SameSite=Strict cookie) on every path; 405 for anything but
# GET and HEAD, with nothing changed; /api/status byte for byte the
# `status --json` object; /api/log redacted; /metrics read by a real
# Prometheus parser; /events pushing a change; /report.html and the
# dashboard under a strict Content-Security-Policy; the same over a real
# PostgreSQL store; and a real headless Chromium seeing a step's state
# change arrive in the page without a reload (tests/browser.py).
. "$(dirname "$0")/../lib.sh"
. "$SRCDIR/tests/pg.sh"

command -v jq >/dev/null || { fail "jq is needed"; finish; }
command -v curl >/dev/null || { fail "curl is needed"; finish; }
/usr/bin/python3 -c 'import prometheus_client' 2>/dev/null ||
	{ fail "python3-prometheus-client is needed"; finish; }

serve_pids=
cleanup() {
	for p in $serve_pids; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
	[ -n "${KEEP:-}" ] && { echo "kept $T"; return; }
	rm -rf "$T"
}

# serve_start NAME ARGS...: start `cutover serve ARGS`; URL is where it
# listens (from its first line), PID its process.
serve_start() {
	name=$1
	shift
	"$CUTOVER" serve "$@" >"$T/$name.out" 2>"$T/$name.err" &
	PID=$!
	serve_pids="$serve_pids $PID"
	URL=
	for _ in $(seq 100); do
		URL=$(sed -n 's/^cutover: serving .* at \(http[^ ]*\).*/\1/p' \
		    "$T/$name.out")
		[ -n "$URL" ] && return 0
		kill -0 "$PID" 2>/dev/null || break
		sleep 0.1
	done
	fail "serve $* did not start"
	sed 's/^/  | /' "$T/$name.err" >&2
	return 1
}

serve_stop() {
	[ -z "$1" ] || { kill "$1" && wait "$1" 2>/dev/null; }
}

# code URL [CURL ARGS...]: the HTTP status of a request.
code() {
	u=$1
	shift
	curl -s -o /dev/null -w '%{http_code}' "$@" "$u"
}

# is WANT GOT WHAT
is() {
	if [ "$1" = "$2" ]; then ok; else fail "$3: got '$2', wanted '$1'"; fi
}

export CUTOVER_STATE="$T/night.db"
SECRET=Sup3r-s3cret-Pa55
rb=$T/night.yaml
cat >"$rb" <<'YAML'
cutover: 1
name: night
title: Wave 1 <go-live> & co
vars:
  pw: Sup3r-s3cret-Pa55
secrets: [pw]
phases:
  - id: freeze
    steps:
      - {id: announce, type: local, run: 'echo "login with ${pw}"; echo done', planned: 1m}
      - {id: stores, type: manual, instructions: Tell the stores., planned: 20m}
      - {id: go, type: checkpoint, approvals: 1}
  - id: load
    steps:
      - {id: load, type: local, run: echo loaded, planned: 5m}
YAML
expect_rc 5 "$CUTOVER" run "$rb"

# --- Where it listens ------------------------------------------------------
# Non-loopback without a token: refused, exit 2, one clear line.
for addr in 0.0.0.0:0 '[::]:0'; do
	expect_rc 2 "$CUTOVER" serve "$rb" --listen "$addr"
	contains "$T/err" "is not a loopback address: give --token-file FILE"
	is 1 "$(wc -l <"$T/err")" "one line for --listen $addr"
done
expect_rc 2 "$CUTOVER" serve "$rb" --listen nonsense
contains "$T/err" "want HOST:PORT"
printf 'short\n' >"$T/short.tok"
chmod 600 "$T/short.tok"
expect_rc 2 "$CUTOVER" serve "$rb" --listen 0.0.0.0:0 --token-file "$T/short.tok"
contains "$T/err" "at least 16 printable characters"
TOKEN=tok-$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
printf '%s\n' "$TOKEN" >"$T/token"
chmod 644 "$T/token"
expect_rc 2 "$CUTOVER" serve "$rb" --listen 0.0.0.0:0 --token-file "$T/token"
contains "$T/err" "others may read it"
chmod 600 "$T/token"

# The default is 127.0.0.1:8080 (it listens there, or says it cannot).
"$CUTOVER" serve "$rb" >"$T/def.out" 2>"$T/def.err" &
dp=$!
serve_pids="$serve_pids $dp"
sleep 1
if grep -q 'at http://127.0.0.1:8080/' "$T/def.out" ||
    grep -q -- '--listen 127.0.0.1:8080: cannot listen' "$T/def.err"; then ok; else
	fail "the default address is not 127.0.0.1:8080"
	cat "$T/def.out" "$T/def.err" >&2
fi
kill "$dp" 2>/dev/null

# --- Without a token, on loopback ------------------------------------------
serve_start plain "$rb" --listen 127.0.0.1:0 || finish
is 200 "$(code "${URL}healthz")" "/healthz"
# The same address again: in use, exit 2, said in one line.
port=${URL##*:}
port=${port%/}
expect_rc 2 "$CUTOVER" serve "$rb" --listen "127.0.0.1:$port"
contains "$T/err" "cannot listen there: Address already in use"
# A page reached through another host name (DNS rebinding) is refused.
is 403 "$(code "${URL}api/status" -H 'Host: attacker.example')" "foreign Host"
is 200 "$(code "${URL}api/status" -H 'Host: localhost')" "Host localhost"
# Read-only: every other method is 405 with Allow, and changes nothing.
before=$("$CUTOVER" status "$rb" --json)
for m in POST PUT DELETE PATCH OPTIONS; do
	for p in / api/status events metrics api/log/stores; do
		is 405 "$(code "$URL$p" -X $m -d 'x=1')" "$m /$p"
	done
done
curl -s -D "$T/h" -o /dev/null -X POST "${URL}api/status"
contains "$T/h" "Allow: GET, HEAD"
is "$before" "$("$CUTOVER" status "$rb" --json)" "state after the 405s"
is 404 "$(code "${URL}nope")" "an unknown path"

# /api/status is the status --json object, byte for byte.
curl -s "${URL}api/status" >"$T/api.json"
"$CUTOVER" status "$rb" --json >"$T/cli.json"
if cmp -s "$T/api.json" "$T/cli.json"; then ok; else
	fail "/api/status differs from status --json"
	diff "$T/api.json" "$T/cli.json" >&2
fi
# /api/log: the output, redacted, as `log` shows it.
curl -s "${URL}api/log/announce" >"$T/log"
"$CUTOVER" log "$rb" announce >"$T/log.cli"
contains "$T/log" "login with ********"
if cmp -s "$T/log" "$T/log.cli"; then ok; else fail "/api/log differs from log"; fi
is 404 "$(code "${URL}api/log/nosuch")" "/api/log of an unknown step"
# The dashboard: self-contained, a strict policy, LIVE/REHEARSAL, states.
curl -s -D "$T/dh" "${URL}" >"$T/dash.html"
contains "$T/dh" "Content-Security-Policy: default-src 'none'; style-src 'sha256-"
lacks "$T/dh" "unsafe-inline"
contains "$T/dh" "X-Content-Type-Options: nosniff"
contains "$T/dash.html" 'data-step="stores" data-state="awaiting"'
contains "$T/dash.html" '<span class="mode">REHEARSAL</span>'
contains "$T/dash.html" "Wave 1 &lt;go-live&gt; &amp; co"
contains "$T/dash.html" '<noscript><meta http-equiv="refresh"'
contains "$T/dash.html" '<svg'
lacks "$T/dash.html" 'src="http'
lacks "$T/dash.html" 'href="http'
# The policy names the page's own style and script by their hashes.
/usr/bin/python3 - "$T/dash.html" "$T/dh" <<'PY' && ok || fail "CSP hashes"
import base64, hashlib, re, sys
html, head = open(sys.argv[1]).read(), open(sys.argv[2]).read()
csp = re.search(r"Content-Security-Policy: (.*)", head).group(1)
for tag in ("style", "script"):
    body = re.search(r"<%s>(.*?)</%s>" % (tag, tag), html, re.S).group(1)
    h = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
    assert "'sha256-%s'" % h in csp, (tag, csp)
PY
# HEAD: the headers, no body.
is 0 "$(curl -s -I "${URL}api/status" | grep -c '^{')" "HEAD has no body"
is 200 "$(code "${URL}api/status" -I)" "HEAD /api/status"
# /report.html under its own policy.
curl -s -D "$T/rh" "${URL}report.html" >"$T/report.html"
contains "$T/report.html" "<html"
contains "$T/rh" "style-src 'sha256-"
# The secret appears nowhere.
for p in "" api/status metrics report.html api/log/announce; do
	curl -s "$URL$p" >"$T/page"
	lacks "$T/page" "$SECRET"
done

# --- /metrics, read by Prometheus' own parser --------------------------------
curl -s "${URL}metrics" >"$T/metrics"
/usr/bin/python3 - "$T/metrics" >"$T/parsed" 2>&1 <<'PY'
import sys
from prometheus_client.parser import text_string_to_metric_families
want = {"cutover_up", "cutover_run_info", "cutover_steps",
        "cutover_steps_awaiting_person", "cutover_step_awaiting",
        "cutover_step_duration_seconds", "cutover_run_eta_timestamp_seconds",
        "cutover_run_plan_delta_seconds", "cutover_reconcile_differences",
        "cutover_entities", "cutover_notify_failures",
        "cutover_notify_pending", "cutover_notify_failing",
        "cutover_notify_delivered"}
got = {}
for fam in text_string_to_metric_families(open(sys.argv[1]).read()):
    got[fam.name] = fam
    for s in fam.samples:
        print(s.name, dict(sorted(s.labels.items())), s.value)
missing = want - set(got)
assert not missing, "missing families: %s" % missing
assert got["cutover_notify_failures"].type == "counter"
PY
if [ $? = 0 ]; then ok; else fail "metrics do not parse"; cat "$T/parsed" >&2; fi
contains "$T/parsed" "cutover_steps {'runbook': 'night', 'state': 'awaiting'} 1.0"
contains "$T/parsed" "cutover_steps {'runbook': 'night', 'state': 'succeeded'} 1.0"
contains "$T/parsed" "cutover_steps_awaiting_person {'runbook': 'night'} 1.0"
contains "$T/parsed" "cutover_step_awaiting {'runbook': 'night', 'step': 'stores', 'type': 'manual'} 1.0"
contains "$T/parsed" "cutover_run_plan_delta_seconds {'runbook': 'night'}"

# --- /events: a commit reaches the stream within a second ---------------------
curl -s -N "${URL}events?gen=0" >"$T/events" &
cp=$!
sleep 0.5
contains "$T/events" 'data-step="stores" data-state="awaiting"'
"$CUTOVER" confirm "$rb" stores >/dev/null
for _ in $(seq 20); do
	grep -q 'data-step="stores" data-state="succeeded"' "$T/events" && break
	sleep 0.05
done
kill "$cp"
contains "$T/events" 'data-step="stores" data-state="succeeded"'
contains "$T/events" 'event: dash'

# --- A real browser: the change arrives in the DOM without a reload ----------
if [ -x /usr/bin/chromium ]; then
	if /usr/bin/python3 "$SRCDIR/tests/browser.py" check "$URL" go pending \
	    awaiting "$CUTOVER" run "$rb" >"$T/browser" 2>&1; then ok; else
		fail "browser check"
		sed 's/^/  | /' "$T/browser" >&2
	fi
	contains "$T/browser" "title REHEARSAL Wave 1 <go-live> & co run 1"
	# SIGTERM with a browser's stream open: a prompt, clean exit.
	curl -s -N "${URL}events" >/dev/null &
	cp=$!
	sleep 0.3
	kill "$PID"
	wait "$PID"
	is 0 $? "serve's exit status on SIGTERM"
	kill "$cp" 2>/dev/null
	wait "$cp" 2>/dev/null
	PID=
else
	fail "chromium is needed (apt-get install chromium)"
fi
serve_stop "$PID"

# The run complete: /api/status still the same bytes.
"$CUTOVER" decide "$rb" go go --reason "all green" >/dev/null
expect_rc 0 "$CUTOVER" run "$rb"
serve_start done "$rb" --listen 127.0.0.1:0 || finish
curl -s "${URL}api/status" >"$T/api.json"
"$CUTOVER" status "$rb" --json >"$T/cli.json"
if cmp -s "$T/api.json" "$T/cli.json"; then ok; else
	fail "/api/status differs from status --json (complete run)"
fi
curl -s "${URL}" >"$T/dash.html"
contains "$T/dash.html" "all green"
serve_stop "$PID"

# --- Notification failures in /metrics ---------------------------------------
# A receiver that is down (a closed loopback port): the awaiting event
# fails to go, and /metrics counts it.
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export HOOK=http://127.0.0.1:$port/hook
cat >"$T/noisy.yaml" <<'YAML'
cutover: 1
name: noisy
notify:
  - {webhook: "${env:HOOK}", events: [awaiting]}
phases:
  - id: one
    steps:
      - {id: m, type: manual, instructions: x}
YAML
CUTOVER_STATE=$T/noisy.db expect_rc 5 "$CUTOVER" run "$T/noisy.yaml"
CUTOVER_STATE=$T/noisy.db serve_start noisy "$T/noisy.yaml" \
    --listen 127.0.0.1:0 || finish
curl -s "${URL}metrics" >"$T/metrics"
if grep -q '^cutover_notify_failures_total{runbook="noisy"} [1-9]' \
    "$T/metrics"; then ok; else fail "no notification failure in /metrics"; fi
contains "$T/metrics" 'cutover_notify_failing{runbook="noisy"} 1'
contains "$T/metrics" 'cutover_notify_pending{runbook="noisy"} 1'
lacks "$T/metrics" "127.0.0.1:$port"
curl -s "${URL}" >"$T/dash.html"
lacks "$T/dash.html" "127.0.0.1:$port"
serve_stop "$PID"

# --- With a token, on every interface ----------------------------------------
serve_start tok "$rb" --listen 0.0.0.0:0 --token-file "$T/token" || finish
contains "$T/tok.out" "(token needed)"
URL=${URL/0.0.0.0/127.0.0.1}
for p in "" api/status metrics healthz events report.html api/log/announce; do
	is 401 "$(code "$URL$p")" "/$p without the token"
	is 401 "$(code "$URL$p" -H "Authorization: Bearer wrong-$TOKEN")" \
	    "/$p with a wrong token"
done
is 200 "$(code "${URL}api/status" -H "Authorization: Bearer $TOKEN")" \
    "Bearer token"
is 405 "$(code "${URL}api/status" -X POST -H "Authorization: Bearer $TOKEN")" \
    "POST with the token"
is 401 "$(code "${URL}api/status?token=wrong")" "a wrong ?token="
# ?token= once: a redirect that drops it and sets the cookie.
curl -s -D "$T/th" -o /dev/null "${URL}api/status?token=$TOKEN"
contains "$T/th" "HTTP/1.1 303"
contains "$T/th" "Location: /api/status"
contains "$T/th" "HttpOnly; SameSite=Strict"
lacks "$T/th" "$TOKEN"
cookie=$(sed -n 's/^Set-Cookie: \([^;]*\);.*/\1/p' "$T/th" | tr -d '\r')
is 200 "$(code "${URL}api/status" -H "Cookie: $cookie")" "the cookie"
is 401 "$(code "${URL}api/status" -H "Cookie: ${cookie}x")" "a wrong cookie"
# With the cookie, a browser follows the redirect to the page.
is 200 "$(code "${URL}?token=$TOKEN" -L -c "$T/jar" -b "$T/jar")" \
    "?token= then the cookie"
serve_stop "$PID"

# --- Over PostgreSQL -------------------------------------------------------
if pg_start; then
	DB="postgresql://cutover@127.0.0.1:$PGPORT/cutover"
	export CUTOVER_STATE=$DB
	expect_rc 5 "$CUTOVER" run "$rb"
	serve_start pg "$rb" --listen 127.0.0.1:0 || finish
	curl -s "${URL}api/status" >"$T/api.json"
	"$CUTOVER" status "$rb" --json >"$T/cli.json"
	if cmp -s "$T/api.json" "$T/cli.json"; then ok; else
		fail "/api/status differs from status --json on PostgreSQL"
		diff "$T/api.json" "$T/cli.json" >&2
	fi
	curl -s -N "${URL}events?gen=0" >"$T/events" &
	cp=$!
	sleep 0.5
	"$CUTOVER" confirm "$rb" stores >/dev/null
	for _ in $(seq 20); do
		grep -q 'data-step="stores" data-state="succeeded"' "$T/events" &&
		    break
		sleep 0.05
	done
	kill "$cp"
	contains "$T/events" 'data-step="stores" data-state="succeeded"'
	curl -s "${URL}metrics" >"$T/metrics"
	contains "$T/metrics" 'cutover_steps{runbook="night",state="succeeded"} 2'
	# The server restarted: serve reconnects and answers again.
	pg_restart
	for _ in $(seq 50); do
		[ "$(code "${URL}api/status")" = 200 ] && break
		sleep 0.2
	done
	is 200 "$(code "${URL}api/status")" "/api/status after a PostgreSQL restart"
	# (The ETA runs from now here: both are compared without it and the
	# distance to plan.)
	"$CUTOVER" run "$rb" >/dev/null 2>&1 # go now awaits a decision
	sleep 1.2
	curl -s "${URL}api/status" | jq -c 'del(.eta, .plan_delta_ms)' >"$T/api.json"
	"$CUTOVER" status "$rb" --json | jq -c 'del(.eta, .plan_delta_ms)' >"$T/cli.json"
	contains "$T/api.json" '"id":"go","phase":"freeze","type":"checkpoint","entity":null,"state":"awaiting"' 
	if cmp -s "$T/api.json" "$T/cli.json"; then ok; else
		fail "/api/status after a PostgreSQL restart"
		diff "$T/api.json" "$T/cli.json" >&2
	fi
	serve_stop "$PID"
else
	fail "PostgreSQL did not start"
fi

finish
