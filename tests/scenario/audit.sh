#!/bin/sh
# audit.sh - the audit trail covers what reports show, its head is printed
# at the end of every run and by `audit --verify`, `--head HASH` catches a
# cut tail or a re-chained edit, time never goes backwards in it (a clock
# stepped back between drivers is flagged, and durations stay sane), and
# the installed cutover ignores the test suite's fake clock.
. "$(dirname "$0")/../lib.sh"

rb=$T/a.yaml
db=$T/a.db
cat >"$rb" <<'YAML'
cutover: 1
name: aud
phases:
  - id: p
    steps:
      - id: hello
        type: local
        run: echo hello
      - id: long
        type: local
        run: sleep 30
        verify: "true"
        needs: [hello]
YAML
c() { "$CUTOVER" --state "$db" "$@"; }
q() { sqlite3 "$db" "$1"; }
head_of() { q "SELECT hash FROM audit ORDER BY id DESC LIMIT 1"; }

# --- The release binary ignores CUTOVER_FAKE_CLOCK (2001-09-09).
expect_rc 0 env CUTOVER_FAKE_CLOCK=1000000000000 "$CUTOVER" --state "$db" \
    run "$rb" --until hello
check "the installed cutover reads the real clock" \
    test "$(q 'SELECT substr(min(at), 1, 4) FROM audit')" -ge 2026
check "cutover-test honours the fake clock" sh -c \
    "CUTOVER_FAKE_CLOCK=1000000000000 '$CUTOVER_TEST' --state '$T/f.db' \
    run '$rb' --until hello >/dev/null && \
    test \"\$(sqlite3 '$T/f.db' 'SELECT substr(min(at), 1, 10) FROM audit')\" \
    = 2001-09-09"

# --- The end of a run prints the head; the chain holds the output's hash.
h=$(head_of)
contains "$T/out" "audit head: $h"
check "the head is 64 hex digits" sh -c "printf %s '$h' | grep -Eqx '[0-9a-f]{64}'"
out_sha=$(printf 'hello\n' | sha256sum | cut -d' ' -f1)
check "attempt-end carries the SHA-256 of the output kept" test \
    "$(q "SELECT count(*) FROM audit WHERE action='attempt-end' AND details LIKE '%output sha256=$out_sha (6 bytes kept of 6)%'")" = 1
check "run-start names the runbook" test \
    "$(q "SELECT count(*) FROM audit WHERE action='run-start' AND details LIKE 'runbook=aud %'")" = 1

# --- audit --verify prints the full head; --head checks it.
expect_rc 0 c audit "$rb" --verify
contains "$T/out" "audit head: $h"
expect_rc 0 c audit "$rb" --verify --head "$h"
expect_rc 2 c audit "$rb" --verify --head abc
expect_rc 2 c audit "$rb" --head "$h"

# A cut tail: the chain is intact, but not up to the noted head.
cp "$db" "$T/cut.db"
sqlite3 "$T/cut.db" "DELETE FROM audit WHERE id=(SELECT max(id) FROM audit)"
expect_rc 0 "$CUTOVER" --state "$T/cut.db" audit "$rb" --verify
expect_rc 1 "$CUTOVER" --state "$T/cut.db" audit "$rb" --verify --head "$h"
contains "$T/err" "audit head is not $h"

# A re-chained edit: every hash recomputed after changing an entry.
rechain() {
	python3 - "$1" <<'PY'
import hashlib, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
prev = "0" * 64
rows = db.execute("SELECT id, at, run, step, operator, os_user, action,"
                  " details FROM audit ORDER BY id").fetchall()
for r in rows:
    h = hashlib.sha256()
    for v in list(r) + [prev]:
        h.update(("" if v is None else str(v)).encode() + b"\0")
    db.execute("UPDATE audit SET prev=?, hash=? WHERE id=?",
               (prev, h.hexdigest(), r[0]))
    prev = h.hexdigest()
db.commit()
PY
}
cp "$db" "$T/edit.db"
sqlite3 "$T/edit.db" "UPDATE audit SET operator='mallory' WHERE id=1"
rechain "$T/edit.db"
expect_rc 0 "$CUTOVER" --state "$T/edit.db" audit "$rb" --verify
expect_rc 1 "$CUTOVER" --state "$T/edit.db" audit "$rb" --verify --head "$h"

# A re-chained edit that moves a time backwards is caught without a head.
cp "$db" "$T/back.db"
sqlite3 "$T/back.db" "UPDATE audit SET at='2001-01-01T00:00:00.000Z'
    WHERE id=(SELECT max(id) FROM audit)"
rechain "$T/back.db"
expect_rc 1 "$CUTOVER" --state "$T/back.db" audit "$rb" --verify
contains "$T/err" "goes back in time"

# --- A clock stepped back an hour between drivers (cutover-test, whose
# clock the test sets). The first driver starts `long` and dies.
now=$(date +%s%3N)
CUTOVER_FAKE_CLOCK=$((now + 3600000)) "$CUTOVER_TEST" --state "$db" run "$rb" \
    >"$T/d1.out" 2>&1 &
pid=$!
i=0
while [ $i -lt 100 ] && ! grep -q "long: running" "$T/d1.out"; do
	sleep 0.1
	i=$((i + 1))
done
kill -9 $pid
wait $pid 2>/dev/null
# The second driver's clock is an hour behind what the first recorded.
expect_rc 0 env CUTOVER_FAKE_CLOCK=$now "$CUTOVER_TEST" --state "$db" \
    status "$rb"
contains "$T/out" "clock: this machine's clock is"
expect_rc 0 env CUTOVER_FAKE_CLOCK=$now "$CUTOVER_TEST" --state "$db" \
    status "$rb" --json
check "status --json: clock_behind_ms" jq -e '.clock_behind_ms > 3500000' "$T/out"
expect_rc 0 env CUTOVER_FAKE_CLOCK=$now "$CUTOVER_TEST" --state "$db" \
    run "$rb"
check "long verified after the interruption" test \
    "$(q "SELECT state FROM steps WHERE id='long'")" = succeeded
check "no negative duration" test \
    "$(q "SELECT count(*) FROM steps WHERE duration_ms < 0")" = 0
check "no duration of an hour" test \
    "$(q "SELECT count(*) FROM steps WHERE duration_ms > 600000")" = 0
check "audit time never goes backwards" test "$(q "SELECT count(*) FROM audit a
    JOIN audit b ON b.id = a.id + 1 WHERE b.at < a.at")" = 0
check "the behind clock is recorded" test \
    "$(q "SELECT count(*) FROM audit WHERE action='clock-behind'")" = 1
expect_rc 0 env CUTOVER_FAKE_CLOCK=$now "$CUTOVER_TEST" --state "$db" \
    audit "$rb" --verify
contains "$T/err" "warning: this machine's clock is"

finish
