#!/bin/sh
# state-file.sh - what cutover takes for its state file: never a symbolic
# link, never another user's or a world-writable file (nor such side files
# of SQLite), never a foreign SQLite database, never another runbook's file
# (read-only commands included); and a state file deleted or replaced
# under a driver stops it with exit 4, after which no command takes an
# empty or other file for it.
. "$(dirname "$0")/../lib.sh"

rb=$T/sf.yaml
cat >"$rb" <<'YAML'
cutover: 1
name: sf
phases:
  - id: p
    steps:
      - id: first
        type: local
        run: echo first >>"$LEDGER"
      - id: slow
        type: local
        run: sleep 3
        needs: [first]
      - id: last
        type: local
        run: echo last >>"$LEDGER"
        needs: [slow]
YAML
export LEDGER=$T/ledger
: >"$LEDGER"
c() { db=$1; shift; "$CUTOVER" --state "$db" "$@"; }

# --- A symbolic link is never followed: the victim stays as it was.
: >"$T/victim"
ln -s "$T/victim" "$T/link.db"
expect_rc 4 c "$T/link.db" run "$rb"
contains "$T/err" "a symbolic link"
check "the victim is untouched" test ! -s "$T/victim"
check "no step ran" test ! -s "$LEDGER"

# --- A file of another user, or one others may write, is refused.
expect_rc 0 c "$T/good.db" run "$rb" --until first
check "a new state file is 0600" test "$(stat -c %a "$T/good.db")" = 600
cp "$T/good.db" "$T/theirs.db"
chown nobody "$T/theirs.db"
chmod 666 "$T/theirs.db"
expect_rc 4 c "$T/theirs.db" status "$rb"
contains "$T/err" "owned by uid"
cp "$T/good.db" "$T/open.db"
chmod 666 "$T/open.db"
expect_rc 4 c "$T/open.db" run "$rb"
contains "$T/err" "writable by others (mode 0666)"
expect_rc 4 c "$T/open.db" status "$rb"

# --- Nor is a side file that is a link or another user's.
cp "$T/good.db" "$T/side.db"
: >"$T/victim"
ln -s "$T/victim" "$T/side.db-wal"
expect_rc 4 c "$T/side.db" run "$rb"
contains "$T/err" "side.db-wal: a symbolic link"
check "the victim of the side file is untouched" test ! -s "$T/victim"
rm "$T/side.db-wal"
: >"$T/side.db-shm"
chown nobody "$T/side.db-shm"
expect_rc 4 c "$T/side.db" status "$rb"
contains "$T/err" "side.db-shm: owned by uid"

# --- A foreign SQLite database is refused and left as it was; so is a
# file that is no database.
sqlite3 "$T/app.db" "CREATE TABLE customers(id INTEGER); INSERT INTO customers VALUES(1)"
chmod 600 "$T/app.db"
before=$(sqlite3 "$T/app.db" .schema | md5sum)
expect_rc 4 c "$T/app.db" run "$rb"
contains "$T/err" "not a cutover state file"
check "the foreign database is unchanged" test "$(sqlite3 "$T/app.db" .schema | md5sum)" = "$before"
check "no step ran on it" test "$(wc -l <"$LEDGER")" = 1
echo "not a database" >"$T/text.db"
chmod 600 "$T/text.db"
expect_rc 4 c "$T/text.db" status "$rb"
contains "$T/err" "not a cutover state file"

# --- Every command refuses the state file of another runbook.
sed 's/^name: sf$/name: other/' "$rb" >"$T/other.yaml"
for cmd in "status" "log" "report" "audit" "runs" "run" "skip" ; do
	case $cmd in
	log) set -- log "$T/other.yaml" first ;;
	skip) set -- skip "$T/other.yaml" slow --reason x ;;
	*) set -- "$cmd" "$T/other.yaml" ;;
	esac
	expect_rc 4 c "$T/good.db" "$@"
	contains "$T/err" "the state file of runbook sf, not other"
done
check "the other runbook left no run" test \
    "$(sqlite3 "$T/good.db" "SELECT count(*) FROM runs WHERE runbook <> 'sf'")" = 0

# --- A reader writes nothing: status on a read-only copy works.
cp "$T/good.db" "$T/ro.db"
chmod 400 "$T/ro.db"
expect_rc 0 c "$T/ro.db" status "$rb"
contains "$T/out" "sf  run 1"

# --- The state file deleted under a driver: it stops with exit 4 and says
# why, and `last` never runs.
db=$T/s.db
: >"$LEDGER"
c "$db" run "$rb" >"$T/d.out" 2>&1 &
pid=$!
i=0
while [ $i -lt 100 ] && ! grep -q "slow: running" "$T/d.out"; do
	sleep 0.1
	i=$((i + 1))
done
rm "$db"
wait $pid
rc=$?
check "the driver stops with exit 4 (got $rc)" test $rc = 4
contains "$T/d.out" "s.db: the state file was deleted while run 1 of sf was driven"
contains "$T/d.out" "its last state is saved in $db.gone.db"
lacks "$T/d.out" "run 1 complete"
check "last never ran" test "$(cat "$LEDGER")" = first
check "a marker is left" test -f "$db.gone"

# status says what happened, not "start one with cutover run".
expect_rc 4 c "$db" status "$rb"
contains "$T/err" "the state file was deleted while run 1 of sf was driven"
lacks "$T/err" "start one with"
# run does not start over, neither on no file nor on an empty one.
expect_rc 4 c "$db" run "$rb"
contains "$T/err" "the state file was deleted while run 1 of sf"
: >"$db"
chmod 600 "$db"
expect_rc 4 c "$db" run "$rb"
contains "$T/err" "the state file was deleted while run 1 of sf"
check "nothing ran again" test "$(cat "$LEDGER")" = first
rm "$db"
# Without the marker, the log the lost file left is not replayed into a
# new file either.
mv "$db.gone" "$T/marker"
expect_rc 4 c "$db" run "$rb"
contains "$T/err" "s.db-wal: left by a state file that is gone"
check "nothing ran again" test "$(cat "$LEDGER")" = first
# The saved copy, put back as the marker says: the run goes on from where
# it was.
rm -f "$db-wal" "$db-shm"
mv "$db.gone.db" "$db"
expect_rc 5 c "$db" run "$rb"
check "first did not run again" test "$(grep -c first "$LEDGER")" = 1
expect_rc 0 c "$db" skip "$rb" slow --reason "done by hand"
expect_rc 0 c "$db" run "$rb"
check "last ran once" test "$(grep -c last "$LEDGER")" = 1
expect_rc 0 c "$db" audit "$rb" --verify

# A file replaced under the driver stops it too; removing the marker is
# how an operator takes the new file on purpose.
c "$T/r.db" run "$rb" >"$T/r.out" 2>&1 &
pid=$!
i=0
while [ $i -lt 100 ] && ! grep -q "slow: running" "$T/r.out"; do
	sleep 0.1
	i=$((i + 1))
done
cp "$T/good.db" "$T/r2.db"
mv "$T/r2.db" "$T/r.db"
wait $pid
rc=$?
check "a replaced file stops the driver too (got $rc)" test $rc = 4
contains "$T/r.out" "replaced by another file"
expect_rc 4 c "$T/r.db" status "$rb"
contains "$T/err" "replaced by another file"
rm "$T/r.db.gone"
expect_rc 0 c "$T/r.db" status "$rb"

finish
