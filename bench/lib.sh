# lib.sh - timing helpers for the benchmarks (sourced).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
: "${CUTOVER:=$top/cutover}"
B=$(mktemp -d "${TMPDIR:-/tmp}/cutover-bench.XXXXXX")
trap 'rm -rf "$B"' EXIT

# us COMMAND...: wall time of one run in tenths of a millisecond.
us() {
	s=$(date +%s%N)
	"$@" >/dev/null 2>&1 || true
	e=$(date +%s%N)
	echo $(((e - s) / 100000))
}

# ms COMMAND...: wall time of one run in milliseconds.
ms() {
	echo $(($(us "$@") / 10))
}

# median N COMMAND...: the median of N runs, in ms.
median() {
	n=$1
	shift
	i=0
	while [ $i -lt "$n" ]; do
		ms "$@"
		i=$((i + 1))
	done | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

# pick median|best FILE: of the times in FILE (tenths of a ms), in ms.
pick() {
	sort -n "$2" | awk -v what="$1" '{ v[NR] = $1 } END {
		x = what == "best" ? v[1] : v[int((NR + 1) / 2)]
		printf "%.1f", x / 10 }'
}

# one_phase N FIELDS: a runbook's phases, one phase of N steps s0, s1, ...
# written {id: sI, FIELDS}.
one_phase() {
	echo "phases:"
	echo "  - id: all"
	echo "    steps:"
	i=0
	while [ $i -lt "$1" ]; do
		echo "      - {id: s$i, $2}"
		i=$((i + 1))
	done
}

# ratio A B: A / B with two decimals.
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) b = 1; printf "%.2f", a / b }'
}
