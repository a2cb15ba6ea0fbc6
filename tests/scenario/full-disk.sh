#!/bin/sh
# full-disk.sh - a state file on a full disk (a small tmpfs): status,
# report, audit and log say "disk full" and still read it; a driver that
# dies of it says so and ends the process groups of the steps it ran in
# parallel first. Needs root to mount the tmpfs: skipped (77) otherwise.
. "$(dirname "$0")/../lib.sh"

full=$T/full
mkdir -p "$full"
if [ "$(id -u)" != 0 ] || ! mount -t tmpfs -o size=2M tmpfs "$full" 2>/dev/null; then
	echo "full-disk.sh: SKIP: mounting a tmpfs needs root"
	exit 77
fi
trap 'umount "$full" 2>/dev/null; cleanup' EXIT

fill() { dd if=/dev/zero of="$full/fill" bs=64k 2>/dev/null; sync; }
unfill() { rm -f "$full/fill"; }

# --- Readers on a full disk. The run ended cleanly: its file holds all.
cp "$SRCDIR/tests/runbooks/good/minimal.yaml" "$T/m.yaml"
db=$full/m.db
expect_rc 0 "$CUTOVER" --state "$db" run "$T/m.yaml"
h=$(sqlite3 "$db" "SELECT hash FROM audit ORDER BY id DESC LIMIT 1")
fill
check "the disk is full" test "$(df --output=avail "$full" | tail -1)" -eq 0
expect_rc 0 "$CUTOVER" --state "$db" status "$T/m.yaml"
contains "$T/out" "minimal  run 1  REHEARSAL  complete"
contains "$T/err" "disk full"
expect_rc 0 "$CUTOVER" --state "$db" audit "$T/m.yaml" --verify --head "$h"
contains "$T/err" "disk full"
expect_rc 0 "$CUTOVER" --state "$db" report "$T/m.yaml"
contains "$T/out" "minimal"
expect_rc 0 "$CUTOVER" --state "$db" log "$T/m.yaml" hello
contains "$T/out" "hello"
# A writer is refused, and says why.
expect_rc 4 "$CUTOVER" --state "$db" run "$T/m.yaml" --new-run
contains "$T/err" "disk full"
unfill
rm -f "$db" "$db-wal" "$db-shm"

# --- A driver dying of a full disk ends its parallel steps first.
cat >"$T/p.yaml" <<YAML
cutover: 1
name: par
settings: {parallel: 3}
phases:
  - id: p
    steps:
      - id: quick
        type: local
        run: sleep 1; echo quick
        needs: []
      - id: slow1
        type: local
        run: echo \$\$\$\$ >$T/slow1.pgid; sleep 60
        needs: []
      - id: slow2
        type: local
        run: echo \$\$\$\$ >$T/slow2.pgid; sleep 60
        needs: []
YAML
db=$full/p.db
"$CUTOVER" --state "$db" run "$T/p.yaml" >"$T/d.out" 2>&1 &
pid=$!
i=0
while [ $i -lt 100 ] && ! { [ -s "$T/slow1.pgid" ] && [ -s "$T/slow2.pgid" ]; }; do
	sleep 0.05
	i=$((i + 1))
done
fill
wait $pid
rc=$?
check "the driver dies with exit 4 (got $rc)" test $rc = 4
contains "$T/d.out" "cannot record the outcome of quick: commit: disk full"
for s in slow1 slow2; do
	g=$(cat "$T/$s.pgid")
	check "$s recorded its process group ($g)" test "$g" -gt 1
	# (killed, it may linger a moment as a zombie until it is reaped)
	i=0
	while [ $i -lt 30 ] && kill -0 -"$g" 2>/dev/null; do
		sleep 0.1
		i=$((i + 1))
	done
	check "the process group of $s ($g) was ended" sh -c "! kill -0 -$g 2>/dev/null"
	kill -9 -"$g" 2>/dev/null
done
# What it recorded is still there to read.
expect_rc 0 "$CUTOVER" --state "$db" status "$T/p.yaml"
contains "$T/out" "par  run 1"
unfill

finish
