#!/bin/bash
# state-pg.sh - the PostgreSQL store against the SQLite file, in one run:
#  1. a headless run of 1,000 local `true` steps on a loopback PostgreSQL
#     (fsync on, the tool's sessions synchronous_commit=on) against the
#     same run on a SQLite file (synchronous=FULL). Target: at most 2x.
#  2. a confirm typed in one process -> the next step started by a console
#     driver in another, 20 rounds (tests/scenario/pg-live.sh measures it
#     from the database). Target: p99 under 200 ms.
#  3. a driver on one machine killed with kill -9 mid-step; a driver on
#     another machine (a UTS namespace: needs root) tries every 0.5 s and
#     takes over once the lease has expired. Target: within the lease
#     expiry (STATE_LEASE_STALE_MS, 30 s) and one try.
. "$(dirname "$0")/lib.sh"
set +e
cleanup() { rm -rf "$B"; }
. "$top/tests/pg.sh"
# As tests/pg.sh starts it, but with fsync on: commits reach the disk, as
# SQLite's do.
pg_listen() {
	PGPORT=$((20000 + (RANDOM * 7 + $$) % 40000))
	pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w \
	    -t 30 -o "-c listen_addresses=127.0.0.1 -c port=$PGPORT \
-c unix_socket_directories=$PG_DIR -c fsync=on -c max_connections=40" \
	    start >/dev/null 2>&1
}
pg_start || { echo "state-pg.sh: no PostgreSQL server"; exit 1; }
pg_psql "SHOW fsync" | grep -qx on || { echo "fsync is not on"; exit 1; }

N=${N:-1000}
rb=$B/many.yaml
{
	echo "cutover: 1"
	echo "name: many"
	one_phase "$N" "type: local, run: 'true'"
} >"$rb"
sqlite_run() {
	rm -f "$B/s.db" "$B/s.db-wal" "$B/s.db-shm"
	"$CUTOVER" --state "$B/s.db" run "$rb"
}
# (in a subshell of median: a fresh database each time, by one name)
pg_run() {
	PGDATABASE=postgres pg_psql "DROP DATABASE IF EXISTS bench" >/dev/null
	pg_createdb bench
	"$CUTOVER" --state "postgresql://cutover@127.0.0.1:$PGPORT/bench" \
	    run "$rb"
}
pg_run >/dev/null 2>&1 || { echo "the run on PostgreSQL failed"; exit 1; }
test "$(PGDATABASE=bench pg_psql \
    "SELECT count(*) FROM cutover.steps WHERE state = 'succeeded'")" = "$N" ||
	{ echo "not every step succeeded on PostgreSQL"; exit 1; }
# Pairs, one right after the other, so that a load that comes and goes on
# a shared machine weighs on both sides of each ratio alike.
PAIRS=${PAIRS:-5}
: >"$B/lite"
: >"$B/pg"
: >"$B/ratio"
i=0
while [ $i -lt "$PAIRS" ]; do
	l=$(ms sqlite_run)
	p=$(ms pg_run)
	echo "$l" >>"$B/lite"
	echo "$p" >>"$B/pg"
	ratio "$p" "$l" >>"$B/ratio"
	echo >>"$B/ratio"
	i=$((i + 1))
done
med() { sort -n "$1" | awk 'NF { v[++n] = $1 } END { print v[int((n + 1) / 2)] }'; }
echo "1. $N local steps, SQLite file (synchronous=FULL): median $(med "$B/lite") ms"
echo "   $N local steps, PostgreSQL (loopback, fsync on, synchronous_commit on): median $(med "$B/pg") ms"
echo "   ratio PostgreSQL/SQLite, median of $PAIRS pairs: $(med "$B/ratio")" \
    "(each: $(tr '\n' ' ' <"$B/ratio" | tr -s ' ')) (target <= 2)"

# 2. confirm -> next step started, by the live test's harness
out=$(ROUNDS=20 SRCDIR=$top CUTOVER=$CUTOVER \
    bash "$top/tests/scenario/pg-live.sh" 2>&1)
lat=$(echo "$out" | sed -n 's/^confirm -> next step started (ms): //p')
if [ -z "$lat" ]; then
	echo "2. the live measurement failed:"
	echo "$out" | tail -5
else
	p99=$(echo $lat | tr ' ' '\n' | sort -n |
	    awk '{ v[NR] = $1 } END { i = int(NR * 0.99 + 0.999); print v[i] }')
	med=$(echo $lat | tr ' ' '\n' | sort -n |
	    awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
	echo "2. confirm in one process -> next step started by another, 20 rounds:"
	echo "   median ${med} ms, p99 ${p99} ms (target p99 < 200)"
fi

# 3. takeover after a kill -9, from another machine
if [ "$(id -u)" != 0 ] || ! unshare --uts true 2>/dev/null; then
	echo "3. takeover: not measured (needs root for unshare --uts)"
	exit 0
fi
pg_createdb takeover
st="postgresql://cutover@127.0.0.1:$PGPORT/takeover"
cat >"$B/t.yaml" <<'YAML'
cutover: 1
name: takeover
phases:
  - id: p
    steps:
      - {id: long, type: local, run: 'sleep 300'}
YAML
as() {
	local host=$1
	shift
	unshare --uts sh -c 'hostname "$0" && exec "$@"' "$host" \
	    "$CUTOVER" --state "$st" "$@"
}
(exec unshare --uts sh -c 'hostname host-a && exec "$0" "$@"' \
    "$CUTOVER" --state "$st" run "$B/t.yaml" >/dev/null 2>&1) &
a=$!
sleep 2
kill -9 $a 2>/dev/null
killed=$(date +%s%3N)
wait $a 2>/dev/null
# The step's command, left running by the dead driver: by its group.
pgid=$(PGDATABASE=takeover pg_psql "SELECT pgid FROM cutover.attempts")
[ -z "$pgid" ] || [ "$pgid" -le 1 ] || kill -9 -- "-$pgid" 2>/dev/null
tries=0
while :; do
	tries=$((tries + 1))
	as host-b run "$B/t.yaml" >/dev/null 2>"$B/b.err"
	grep -q "is driven by" "$B/b.err" || break
	[ $tries -lt 200 ] || break
	sleep 0.5
done
took=$(PGDATABASE=takeover pg_psql "SELECT (extract(epoch FROM at::timestamptz)
    * 1000)::bigint FROM cutover.audit WHERE action = 'driver-takeover'")
if [ -z "$took" ]; then
	echo "3. takeover: never happened"
else
	echo "3. takeover by another machine after kill -9: $((took - killed)) ms" \
	    "after the kill, $tries tries (lease expiry 30000 ms, renewed every 5000 ms)"
fi
