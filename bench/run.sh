#!/bin/sh
# run.sh - a headless run of 1,000 local `true` steps, every transition
# durable, against a shell loop of 1,000 `sh -c true`. Target: at most 3x.
. "$(dirname "$0")/lib.sh"

N=${N:-1000}
rb=$B/many.yaml
{
	echo "cutover: 1"
	echo "name: many"
	one_phase "$N" "type: local, run: 'true'"
} >"$rb"

shell_loop() {
	i=0
	while [ $i -lt "$N" ]; do
		sh -c true
		i=$((i + 1))
	done
}
one_run() {
	rm -f "$B/s.db" "$B/s.db-wal" "$B/s.db-shm"
	"$CUTOVER" --state "$B/s.db" run "$rb"
}
one_run >/dev/null || { echo "the run failed"; exit 1; }
test "$(sqlite3 "$B/s.db" "select count(*) from steps where state='succeeded'")" = "$N" ||
	{ echo "not every step succeeded"; exit 1; }
base=$(median 3 shell_loop)
run=$(median 3 one_run)
echo "shell loop of $N sh -c true (baseline): ${base} ms"
echo "cutover run of $N local steps (durable): ${run} ms"
echo "ratio run/baseline: $(ratio "$run" "$base") (target <= 3)"
