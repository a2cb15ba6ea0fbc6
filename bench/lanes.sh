#!/bin/sh
# lanes.sh - entities and lanes at scale: a headless run of 500 entities x
# 10 local `true` steps in a for_each phase (5,000 instances, every
# transition durable; the entities from a generated CSV file) against a
# shell loop of 5,000 `sh -c true`, target at most 3x; and `lint` of that
# runbook against a bare libyaml parse of the same file (bench/yaml-parse.c,
# built here), target at most 1.5x, with the entities from the CSV file and
# inline in the YAML (both are that runbook), and the start-up floor. Whole processes, measured in one run,
# in turn, so that load on the machine hits both sides alike.
. "$(dirname "$0")/lib.sh"

E=${E:-500}        # entities
S=${S:-10}         # steps per entity
PAR=${PAR:-8}      # lanes at once
RUNS=${RUNS:-3}    # timed runs of each side
LINTS=${LINTS:-21} # timed lints of each side
N=$((E * S))
rb=$B/lanes.yaml

# The entities: id, wave, title and a var, 100 to a wave; the same
# runbook twice, the entities from a CSV file ($rb) and inline ($rbi).
awk -v n="$E" 'BEGIN {
	print "id,wave,title,warehouse"
	for (i = 1; i <= n; i++)
		printf "store-%04d,wave-%d,Store %d,W%04d\n", i, int((i - 1) / 100) + 1, i, i
}' >"$B/stores.csv"
phases() {
	echo "phases:"
	echo "  - id: stores"
	echo "    for_each: entity"
	echo "    parallel: $PAR"
	echo "    steps:"
	i=0
	while [ $i -lt "$S" ]; do
		echo "      - {id: s$i, type: local, run: 'true'}"
		i=$((i + 1))
	done
}
{
	echo "cutover: 1"
	echo "name: lanes"
	echo "entities: {file: stores.csv}"
	phases
} >"$rb"
rbi=$B/lanes-inline.yaml
{
	echo "cutover: 1"
	echo "name: lanes"
	echo "entities:"
	awk -v n="$E" 'BEGIN {
		for (i = 1; i <= n; i++)
			printf "  - {id: store-%04d, wave: wave-%d, title: Store %d, vars: {warehouse: W%04d}}\n", i, int((i - 1) / 100) + 1, i, i
	}'
	phases
} >"$rbi"

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
cc -O2 -o "$B/yaml-parse" "$here/yaml-parse.c" $(pkg-config --cflags --libs yaml-0.1)
# The start-up floor: a main that returns at once, linked with the
# libraries the binary loads at start (its NEEDED entries), for reading
# the ratios: what of lint is start-up, what is reading and checking.
printf 'int main(void) { return 0; }\n' >"$B/empty.c"
needed=$(objdump -p "$CUTOVER" | awk '$1 == "NEEDED" && $2 !~ /^libc\.so/ {
	printf " -l:%s", $2 }')
cc -O2 -o "$B/empty" "$B/empty.c" -Wl,--no-as-needed $needed ||
	{ echo "cannot link the start-up floor"; exit 1; }
for f in "$rb" "$rbi"; do
	"$B/yaml-parse" "$f" || { echo "libyaml does not parse $f"; exit 1; }
	"$CUTOVER" lint "$f" || { echo "lint failed on $f"; exit 1; }
done

i=0
while [ $i -lt "$LINTS" ]; do
	us "$B/yaml-parse" "$rb" >>"$B/parse.t"
	us "$CUTOVER" lint "$rb" >>"$B/lint.t"
	us "$B/yaml-parse" "$rbi" >>"$B/parse-i.t"
	us "$CUTOVER" lint "$rbi" >>"$B/lint-i.t"
	us "$B/empty" >>"$B/empty.t"
	i=$((i + 1))
done
parse=$(pick median "$B/parse.t")
lint=$(pick median "$B/lint.t")
parsei=$(pick median "$B/parse-i.t")
linti=$(pick median "$B/lint-i.t")
empty=$(pick median "$B/empty.t")
echo "lint of $E entities x $S steps, entities from a CSV: ${lint} ms," \
    "best $(pick best "$B/lint.t") ms"
echo "libyaml parse of the same YAML file (floor): ${parse} ms," \
    "best $(pick best "$B/parse.t") ms"
echo "ratio lint/parse, CSV: $(ratio "$lint" "$parse") (target <= 1.5)"
echo "lint of the same runbook, entities inline: ${linti} ms," \
    "best $(pick best "$B/lint-i.t") ms"
echo "libyaml parse of that file (floor): ${parsei} ms," \
    "best $(pick best "$B/parse-i.t") ms"
echo "ratio lint/parse, inline: $(ratio "$linti" "$parsei") (target <= 1.5)"
echo "start-up floor (an empty main linked with the binary's libraries):" \
    "${empty} ms, best $(pick best "$B/empty.t") ms"

one_run >/dev/null || { echo "the run failed"; exit 1; }
done=$(sqlite3 "$B/s.db" "select count(*) from steps where state='succeeded'")
test "$done" = "$N" || { echo "$done of $N instances succeeded"; exit 1; }
i=0
while [ $i -lt "$RUNS" ]; do
	us shell_loop >>"$B/loop.t"
	us one_run >>"$B/run.t"
	i=$((i + 1))
done
base=$(pick median "$B/loop.t")
run=$(pick median "$B/run.t")
echo "shell loop of $N sh -c true (baseline): ${base} ms"
echo "cutover run of $E entities x $S local steps, $PAR lanes (durable): ${run} ms"
echo "ratio run/baseline: $(ratio "$run" "$base") (target <= 3)"
