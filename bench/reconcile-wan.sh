#!/bin/bash
# reconcile-wan.sh - a reconcile step across a slow link: the legacy
# PostgreSQL runs in a network namespace this script creates, joined to the
# host by a veth pair shaped on both ends with tc tbf (RATE, default
# 100mbit); the Odoo PostgreSQL runs on the host, where cutover runs. Both
# sides hold N rows of 5 columns (default 1,000,000) with 10 planted
# differences. Measured over the link:
#   stream    `cutover run`, method: stream (every row crosses the link)
#   checksum  `cutover run`, method: checksum (counts and hashes of key
#             ranges computed in each database; rows only where ranges
#             differ)
#   pipeline  `psql \copy` of both sides to files (concurrently), sort
#             (C locale), comm -3
#   hash      one pass of what checksum must at least do: each server
#             counts its rows and sums an md5 of each row's text, both
#             at once (psql; shown for where checksum's time goes, no
#             target)
# and the bytes each moves over the link (the host end's rx_bytes +
# tx_bytes before and after). On loopback (both sides on the host server):
# method: auto against method: stream.
# Targets: checksum bytes <= 5% of stream's; stream/checksum >= 5;
# pipeline/checksum >= 10; loopback auto/stream <= 1.10. Times are medians
# of RUNS runs (default 3). PROFILE=1 also logs every statement of one
# more checksum run on both servers and prints where the time went, by
# statement shape. Needs root (ip netns, tc); without it prints
# "skipped: no network namespaces" and exits 0.
. "$(dirname "$0")/lib.sh"
set +e

N=${N:-1000000}
RUNS=${RUNS:-3}
RATE=${RATE:-100mbit}
NS=cutover-wan-$$
VH=cwh$$  # host end of the veth pair
VN=cwn$$  # namespace end
NET=10.213.$(($$ % 250)) # a /30: .1 the host, .2 the namespace
LPG=      # the legacy server's directory

wan_skip() {
	echo "skipped: no network namespaces ($1)"
	exit 0
}

# Remove what this script made: the legacy server, the link, the namespace.
wan_cleanup() {
	if [ -n "$LPG" ]; then
		[ ! -f "$LPG/data/postmaster.pid" ] ||
			pg_as "$PG_BIN/pg_ctl" -D "$LPG/data" -m immediate -w stop \
			    >/dev/null 2>&1
		rm -rf "$LPG"
		LPG=
	fi
	ip link del "$VH" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -rf "$B"
}
cleanup() { wan_cleanup; }
trap 'pg_stop 2>/dev/null; wan_cleanup' EXIT
trap 'exit 130' INT TERM HUP

[ "$(id -u)" = 0 ] || wan_skip "not root"
command -v ip >/dev/null && command -v tc >/dev/null ||
	wan_skip "ip or tc missing"
ip netns add "$NS" 2>/dev/null || wan_skip "ip netns add failed"

# The link: a veth pair, a /30, tbf on both ends.
wan_link() {
	ip link add "$VH" type veth peer name "$VN" &&
	ip link set "$VN" netns "$NS" &&
	ip addr add "$NET.1/30" dev "$VH" &&
	ip link set "$VH" up &&
	ip -n "$NS" addr add "$NET.2/30" dev "$VN" &&
	ip -n "$NS" link set "$VN" up &&
	ip -n "$NS" link set lo up &&
	tc qdisc add dev "$VH" root tbf rate "$RATE" burst 256kb latency 50ms &&
	ip netns exec "$NS" tc qdisc add dev "$VN" root tbf rate "$RATE" \
	    burst 256kb latency 50ms
}
wan_link || wan_skip "could not set up the veth pair or tc"

. "$top/tests/pg.sh"
pg_start >/dev/null || { echo "bench: PostgreSQL did not start"; exit 1; }
trap 'pg_stop 2>/dev/null; wan_cleanup' EXIT

# The legacy server: its own data directory, started inside the namespace
# as the unprivileged user, listening on the namespace's address only.
wan_legacy_start() {
	LPG=$(mktemp -d "${TMPDIR:-/tmp}/cutover-wanpg.XXXXXX") || return 1
	chmod 755 "$LPG"
	[ -z "$PG_AS" ] || chown "$PG_AS" "$LPG"
	pg_as "$PG_BIN/initdb" -D "$LPG/data" -U cutover -A trust -E UTF8 \
	    --locale=C --no-sync >"$LPG/initdb.log" 2>&1 || return 1
	pg_as sh -c "cat >'$LPG/data/pg_hba.conf'" <<EOF
local all all trust
host all all $NET.1/32 trust
EOF
	ip netns exec "$NS" ${PG_AS:+runuser -u "$PG_AS" --} \
	    "$PG_BIN/pg_ctl" -D "$LPG/data" -l "$LPG/server.log" -w -t 60 \
	    -o "-c listen_addresses=$NET.2 -c port=5432 \
-c unix_socket_directories=$LPG -c fsync=off -c shared_buffers=128MB" \
	    start >/dev/null 2>&1
}
wan_legacy_start || {
	echo "bench: the legacy PostgreSQL did not start in the namespace"
	tail -20 "$LPG/server.log" "$LPG/initdb.log" 2>/dev/null
	exit 1
}
LEGACY="host=$NET.2 port=5432 user=cutover dbname=cutover"
lpsql() { "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -At -h "$LPG" -p 5432 \
    -U cutover -d cutover -c "$1"; }

SRC="SELECT id, name, email, amount, created FROM customers"
TABLE="CREATE TABLE customers AS SELECT g AS id, 'customer ' || g AS name,
    'c' || g || '@example.com' AS email,
    ((g % 100000) / 100.0)::numeric(12,2) AS amount,
    timestamptz '2024-01-01 00:00:00+00' + g * interval '1 second' AS created
  FROM generate_series(1, $N) g;
ALTER TABLE customers ADD PRIMARY KEY (id);"
# 3 missing, 2 extra, 5 changed
PLANT="DELETE FROM customers WHERE id IN (10, $((N / 2)), $N);
INSERT INTO customers VALUES ($N + 1, 'x', NULL, 0, NULL),
    ($N + 2, 'y', NULL, 0, NULL);
UPDATE customers SET name = 'changed' WHERE id IN (20, $((N / 3)));
UPDATE customers SET amount = amount + 1 WHERE id IN (40, $((N / 4)),
    $((N - 7)));"
"$PG_BIN/psql" -X -q -h "$LPG" -p 5432 -U cutover -d postgres \
    -c "CREATE DATABASE cutover" >/dev/null &&
	lpsql "$TABLE" >/dev/null || { echo "bench: legacy load failed"; exit 1; }
lpsql "VACUUM ANALYZE customers" >/dev/null
pg_createdb odoo
pg_createdb legacy
for db in odoo legacy; do
	PGDATABASE=$db pg_psql "$TABLE" >/dev/null ||
		{ echo "bench: $db load failed"; exit 1; }
done
PGDATABASE=odoo pg_psql "$PLANT" >/dev/null
for db in odoo legacy; do
	PGDATABASE=$db pg_psql "VACUUM ANALYZE customers" >/dev/null
done

# rb NAME METHOD LEGACY_CONNINFO: a one-step runbook.
rb() {
	cat >"$B/$1.yaml" <<EOF
cutover: 1
name: bench-wan-$1
targets:
  legacy: {type: postgres, conninfo: "$3", tls: insecure}
  odoo: {type: postgres, conninfo: "host=127.0.0.1 port=$PGPORT user=cutover dbname=odoo"}
phases:
  - id: p
    steps:
      - id: customers
        type: reconcile
        compare: rows
        method: $2
        key: 1
        tolerance: 10
        timeout: 30m
        source: {target: legacy, query: "$SRC"}
        dest: {target: odoo, query: "$SRC"}
EOF
}
rb stream stream "$LEGACY"
rb checksum checksum "$LEGACY"
LOOP="host=127.0.0.1 port=$PGPORT user=cutover dbname=legacy"
rb lo-stream stream "$LOOP"
rb lo-auto auto "$LOOP"

link_bytes() {
	echo $(($(cat "/sys/class/net/$VH/statistics/rx_bytes") +
	    $(cat "/sys/class/net/$VH/statistics/tx_bytes")))
}
run_rb() {
	rm -f "$B/$1.db" "$B/$1.db-wal" "$B/$1.db-shm"
	"$CUTOVER" --state "$B/$1.db" run "$B/$1.yaml"
}
HASH="SELECT count(*), sum(('x' || substr(md5(ROW(id, name, email, amount,
    created)::text), 18))::bit(60)::bigint) FROM ($SRC) q"
hash_floor() {
	"$PG_BIN/psql" -X -q "$LEGACY" -c "$HASH" >/dev/null &
	PGDATABASE=odoo pg_psql "$HASH" >/dev/null
	wait
}
pipeline() {
	"$PG_BIN/psql" -X -q "$LEGACY" -c "\\copy ($SRC) to '$B/a.tsv'" &
	PGDATABASE=odoo pg_psql "\\copy ($SRC) to '$B/b.tsv'"
	wait
	LC_ALL=C sort "$B/a.tsv" >"$B/a.sorted"
	LC_ALL=C sort "$B/b.tsv" >"$B/b.sorted"
	LC_ALL=C comm -3 "$B/a.sorted" "$B/b.sorted" >"$B/diff.txt"
	rm -f "$B/a.tsv" "$B/b.tsv" "$B/a.sorted" "$B/b.sorted"
}
# measure NAME COMMAND...: RUNS timed runs into $B/NAME.ms (tenths of a
# ms) and the link's bytes of the last run into $B/NAME.bytes.
measure() {
	local name=$1 i b0
	shift
	: >"$B/$name.ms"
	for i in $(seq "$RUNS"); do
		b0=$(link_bytes)
		us "$@" >>"$B/$name.ms"
		echo $(($(link_bytes) - b0)) >"$B/$name.bytes"
	done
}
# check_result NAME: the step found the 10 planted differences.
check_result() {
	local got
	got=$("$CUTOVER" --state "$B/$1.db" status "$B/$1.yaml" --json |
	    jq -c '.steps[0].result | [.source_rows, .dest_rows, .missing,
	    .extra, .changed, .method]')
	echo "$1: [source, dest, missing, extra, changed, method] = $got"
	case $got in
	"[$N,$((N - 1)),3,2,5,"*) ;;
	*) echo "bench: $1: unexpected result"
	   "$CUTOVER" --state "$B/$1.db" log "$B/$1.yaml" customers | head -20
	   exit 1 ;;
	esac
	"$CUTOVER" --state "$B/$1.db" log "$B/$1.yaml" customers |
	    grep -m1 '^method:' | sed "s/^/$1: /"
}

# profile: one checksum run with every statement logged by both servers;
# the statements' time per shape (literals as ?), per server.
profile() {
	local lo ho
	lpsql "ALTER SYSTEM SET log_min_duration_statement = 0" >/dev/null
	lpsql "SELECT pg_reload_conf()" >/dev/null
	pg_psql "ALTER SYSTEM SET log_min_duration_statement = 0" >/dev/null
	pg_psql "SELECT pg_reload_conf()" >/dev/null
	sleep 1
	lo=$(stat -c %s "$LPG/server.log")
	ho=$(stat -c %s "$PG_DIR/server.log")
	echo "profile: checksum run: $(($(us run_rb checksum) / 10)) ms with" \
	    "every statement logged"
	for side in "legacy $LPG/server.log $lo" "odoo $PG_DIR/server.log $ho"; do
		set -- $side
		tail -c +$(($3 + 1)) "$2" | awk -v side="$1" '
		/duration: [0-9.]+ ms/ {
			match($0, /duration: [0-9.]+/)
			d = substr($0, RSTART + 10, RLENGTH - 10) + 0
			s = $0
			sub(/.*(statement|execute [^:]*): /, "", s)
			gsub(/\047[^\047]*\047/, "?", s)
			gsub(/[0-9]+/, "N", s)
			s = substr(s, 1, 150)
			t[s] += d; n[s]++; all += d
			if (n[s] <= 12)
				each[s] = each[s] sprintf(" %.0f", d)
		}
		END {
			printf "profile: %s server: %.0f ms in statements\n", side, all
			for (s in t)
				printf "%8.0f ms %4d x (each:%s ms) %s\n",
				    t[s], n[s], each[s], s | "sort -rn | head -8"
		}'
	done
	lpsql "ALTER SYSTEM RESET log_min_duration_statement" >/dev/null
	lpsql "SELECT pg_reload_conf()" >/dev/null
	pg_psql "ALTER SYSTEM RESET log_min_duration_statement" >/dev/null
	pg_psql "SELECT pg_reload_conf()" >/dev/null
}

measure stream run_rb stream
check_result stream
measure checksum run_rb checksum
check_result checksum
[ -z "${PROFILE:-}" ] || profile
measure pipeline pipeline
measure hash hash_floor
[ "$(wc -l <"$B/diff.txt")" -ge 10 ] ||
	echo "bench: the pipeline found $(wc -l <"$B/diff.txt") lines"
measure lo-stream run_rb lo-stream
measure lo-auto run_rb lo-auto
check_result lo-auto

s=$(pick median "$B/stream.ms")
c=$(pick median "$B/checksum.ms")
p=$(pick median "$B/pipeline.ms")
ls_=$(pick median "$B/lo-stream.ms")
la=$(pick median "$B/lo-auto.ms")
sb=$(cat "$B/stream.bytes")
cb=$(cat "$B/checksum.bytes")
pb=$(cat "$B/pipeline.bytes")
h=$(pick median "$B/hash.ms")
# runs NAME: every run's time, in ms, in order.
runs() { awk '{ printf "%s%.0f", (NR > 1 ? " " : ""), $1 / 10 }' "$B/$1.ms"; }
pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b ? 100 * a / b : 0 }'; }
echo "rows per side: $N (5 columns), 10 differences planted;" \
    "link: veth + tc tbf $RATE both ways; medians of $RUNS runs;" \
    "load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "stream over the link:                  ${s} ms, $sb bytes"
echo "checksum over the link:                ${c} ms, $cb bytes"
echo "pipeline (2 psql \\copy, sort, comm -3): ${p} ms, $pb bytes"
echo "hash, one md5 pass on both servers at once: ${h} ms" \
    "(checksum/hash $(ratio "$c" "$h"))"
echo "loopback: stream ${ls_} ms, auto ${la} ms"
for m in stream checksum pipeline hash lo-stream lo-auto; do
	echo "  runs of $m (ms): $(runs "$m")"
done
# verdict VALUE OP TARGET: "met" or "MISSED".
verdict() {
	awk -v v="$1" -v t="$3" -v op="$2" 'BEGIN {
		ok = op == "<=" ? v <= t : v >= t
		print ok ? "met" : "MISSED" }'
}
v=$(pct "$cb" "$sb")
echo "checksum bytes / stream bytes: $v% (target <= 5%: $(verdict "$v" '<=' 5))"
v=$(ratio "$s" "$c")
echo "ratio stream/checksum: $v (target >= 5: $(verdict "$v" '>=' 5))"
v=$(ratio "$p" "$c")
echo "ratio pipeline/checksum: $v (target >= 10: $(verdict "$v" '>=' 10))"
v=$(ratio "$la" "$ls_")
echo "ratio loopback auto/stream: $v (target <= 1.10: $(verdict "$v" '<=' 1.10))"
