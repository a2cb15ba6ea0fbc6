#!/bin/sh
# lint.sh - `cutover lint` against the runbooks in tests/runbooks.
#
# Every tests/runbooks/bad/NAME.yaml must fail with exit status 3 and print
# exactly NAME.expect on stderr (@FILE@ standing for the path given), nothing
# on stdout. Every tests/runbooks/good/*.yaml must pass with exit 0 and print
# nothing. Cases too big to keep in git (a runbook over 4 MiB, nesting 70
# deep) are generated in a temporary directory.
#
# CUTOVER: the binary to test (default: ../cutover next to this script).

here=$(cd "$(dirname "$0")" && pwd)
CUTOVER=${CUTOVER:-$here/../cutover}
runbooks=${RUNBOOKS:-$here/runbooks}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cutover-lint.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
failed=0
passed=0

if [ ! -x "$CUTOVER" ]; then
	echo "lint.sh: $CUTOVER: not found or not executable (set CUTOVER)" >&2
	exit 1
fi

fail() {
	echo "FAIL: $*"
	failed=$((failed + 1))
}

# check FILE STATUS EXPECTED: run lint on FILE, compare status and stderr.
check() {
	"$CUTOVER" lint "$1" >"$tmp/out" 2>"$tmp/err"
	status=$?
	if [ "$status" -ne "$2" ]; then
		fail "$1: exit status $status, expected $2"
		sed 's/^/	/' "$tmp/err"
		return
	fi
	if [ -s "$tmp/out" ]; then
		fail "$1: unexpected output on stdout"
		return
	fi
	if ! cmp -s "$3" "$tmp/err"; then
		fail "$1: stderr differs from what was expected"
		diff -u "$3" "$tmp/err" | sed 's/^/	/'
		return
	fi
	passed=$((passed + 1))
}

# expect EXPECTFILE PATH: the expected stderr with @FILE@ replaced by PATH
# and @DIR@ by its directory (for errors in the files a runbook names).
expect() {
	awk -v file="$2" -v dir="$(dirname "$2")" '
	function subst(s, pat, by,    out, i) {
		out = ""
		while ((i = index(s, pat)) > 0) {
			out = out substr(s, 1, i - 1) by
			s = substr(s, i + length(pat))
		}
		return out s
	}
	{ print subst(subst($0, "@FILE@", file), "@DIR@", dir) }' \
	    "$1" >"$tmp/expect"
}

: >"$tmp/empty"
for f in "$runbooks"/good/*.yaml; do
	check "$f" 0 "$tmp/empty"
done

for f in "$runbooks"/bad/*.yaml; do
	if [ ! -f "${f%.yaml}.expect" ]; then
		fail "$f: no ${f%.yaml}.expect"
		continue
	fi
	expect "${f%.yaml}.expect" "$f"
	check "$f" 3 "$tmp/expect"
done

# A runbook of exactly 4 MiB is fine; one byte more is refused.
good="$runbooks/good/minimal.yaml"
size=$(wc -c <"$good")
cp "$good" "$tmp/4mib.yaml"
printf '#' >>"$tmp/4mib.yaml"
head -c $((4194304 - size - 2)) /dev/zero | tr '\0' 'x' >>"$tmp/4mib.yaml"
printf '\n' >>"$tmp/4mib.yaml"
check "$tmp/4mib.yaml" 0 "$tmp/empty"
printf '#\n' >>"$tmp/4mib.yaml"
mv "$tmp/4mib.yaml" "$tmp/big.yaml"
echo "$tmp/big.yaml: error: runbook is larger than 4 MiB" >"$tmp/expect"
check "$tmp/big.yaml" 3 "$tmp/expect"

# Nesting 70 deep, flow and block style: refused at the 65th level.
{
	printf 'cutover: 1\nname: deep\nx: '
	i=0; while [ $i -lt 70 ]; do printf '['; i=$((i + 1)); done
	i=0; while [ $i -lt 70 ]; do printf ']'; i=$((i + 1)); done
	printf '\n'
} >"$tmp/deep-flow.yaml"
echo "$tmp/deep-flow.yaml:3:67: error: nesting deeper than 64 levels" \
    >"$tmp/expect"
check "$tmp/deep-flow.yaml" 3 "$tmp/expect"
{
	printf 'cutover: 1\nname: deep\n'
	i=0; pad=''
	while [ $i -lt 70 ]; do
		printf '%sk:\n' "$pad"
		pad="$pad "
		i=$((i + 1))
	done
	printf '%sv\n' "$pad"
} >"$tmp/deep-block.yaml"
echo "$tmp/deep-block.yaml:67:65: error: nesting deeper than 64 levels" \
    >"$tmp/expect"
check "$tmp/deep-block.yaml" 3 "$tmp/expect"

# Keys repeated by the hundred thousand, in the root and in a phase (near
# the size limit): every one reported, in time linear in the file. Looking
# back over the keys at each repeat took minutes here; it takes about a
# second. A run cut off after a minute is a hang, and a failure.
for where in root phase; do
	if [ "$where" = root ]; then
		nk=180000 nr=200000 key=phases pad=""
	else
		nk=180000 nr=150000 key=steps pad="  "
	fi
	awk -v nk="$nk" -v nr="$nr" -v key="$key" -v pad="$pad" 'BEGIN {
		print "cutover: 1"
		print "name: keys"
		if (pad != "") {
			print "phases:"
			print "- id: p"
		}
		for (i = 0; i < nk; i++)
			printf "%sk%x: 1\n", pad, i
		for (i = 0; i < nr; i++)
			printf "%s%s: []\n", pad, key
	}' >"$tmp/keys.yaml"
	timeout 60 "$CUTOVER" lint "$tmp/keys.yaml" >/dev/null 2>"$tmp/err"
	status=$?
	lines=$(wc -l <"$tmp/err")
	at=$((nk + 3)) col=1
	[ "$where" = phase ] && at=$((nk + 5)) col=3
	if [ "$where" = root ]; then
		first="$tmp/keys.yaml:3:1: error: unknown key 'k0'"
	else
		first="$tmp/keys.yaml:4:3: error: phase 'p' has no steps"
	fi
	last="$tmp/keys.yaml:$((at + nr - 1)):$col: error: duplicate key"
	last="$last '$key' (first at line $at)"
	if [ "$status" -ne 3 ] || [ "$lines" -ne $((nk + nr)) ] ||
	    [ "$(head -n 1 "$tmp/err")" != "$first" ] ||
	    [ "$(tail -n 1 "$tmp/err")" != "$last" ]; then
		fail "keys repeated in the $where: exit $status, $lines lines"
		sed -n '1p;$p' "$tmp/err" | sed 's/^/	/'
	else
		passed=$((passed + 1))
	fi
done

# An entities file over 4 MiB is refused at the file: key; 100,000
# entities are fine, one more is refused where it is in the file.
printf 'cutover: 1\nname: big\nentities: {file: big.csv}\nphases:\n' \
    >"$tmp/entities.yaml"
printf '  - {id: p, for_each: entity, steps: [{id: s, type: local, ' \
    >>"$tmp/entities.yaml"
printf 'run: "echo ${entity.id}"}]}\n' >>"$tmp/entities.yaml"
awk 'BEGIN { print "id"; for (i = 1; i <= 100000; i++) print "s" i }' \
    >"$tmp/big.csv"
check "$tmp/entities.yaml" 0 "$tmp/empty"
echo "s100001" >>"$tmp/big.csv"
echo "$tmp/big.csv:100002:1: error: more than 100000 entities" >"$tmp/expect"
check "$tmp/entities.yaml" 3 "$tmp/expect"
head -c 4194305 /dev/zero | tr '\0' 'x' >"$tmp/big.csv"
echo "$tmp/entities.yaml:3:18: error: entities: 'big.csv' is larger than" \
    "4 MiB" >"$tmp/expect"
check "$tmp/entities.yaml" 3 "$tmp/expect"

# A file that cannot be read.
echo "cutover: $tmp/missing.yaml: No such file or directory" >"$tmp/expect"
check "$tmp/missing.yaml" 3 "$tmp/expect"

# Several files: every one is checked, the status says whether any failed.
"$CUTOVER" lint "$good" "$runbooks/bad/cycle-two.yaml" "$good" \
    >/dev/null 2>"$tmp/err"
status=$?
expect "$runbooks/bad/cycle-two.expect" "$runbooks/bad/cycle-two.yaml"
if [ "$status" -ne 3 ] || ! cmp -s "$tmp/expect" "$tmp/err"; then
	fail "lint of several files: exit $status or wrong stderr"
else
	passed=$((passed + 1))
fi

# The bundled runbooks (the demo and the retail template) lint clean.
: >"$tmp/empty"
for f in "$(dirname "$0")"/../runbooks/*.yaml; do
	check "$f" 0 "$tmp/empty"
done

echo "lint.sh: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
