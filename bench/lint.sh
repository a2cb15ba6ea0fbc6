#!/bin/sh
# lint.sh - lint a generated runbook of 10,000 steps, against the floor: a
# bare libyaml parse of the same file (events only), built here. Each run is
# a whole process: start-up, read, parse, check, exit.
. "$(dirname "$0")/lib.sh"

rb=$B/big.yaml
{
	echo "cutover: 1"
	echo "name: big"
	echo "vars: {dir: /tmp}"
	echo "phases:"
	p=0
	while [ $p -lt 100 ]; do
		echo "  - id: phase$p"
		echo "    steps:"
		s=0
		while [ $s -lt 100 ]; do
			echo "      - id: s$p-$s"
			echo "        type: local"
			echo "        run: echo step $p $s >> \${dir}/ledger"
			echo "        verify: grep -q 'step $p $s' \${dir}/ledger"
			echo "        timeout: 30s"
			echo "        planned: 1m"
			s=$((s + 1))
		done
		p=$((p + 1))
	done
} >"$rb"

cat >"$B/floor.c" <<'C'
#include <stdio.h>
#include <yaml.h>
int main(int argc, char **argv) {
	FILE *f = fopen(argv[1], "rb");
	yaml_parser_t p; yaml_event_t e; int done = 0;
	yaml_parser_initialize(&p);
	yaml_parser_set_input_file(&p, f);
	while (!done) {
		if (!yaml_parser_parse(&p, &e)) return 1;
		done = e.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&e);
	}
	yaml_parser_delete(&p);
	fclose(f);
	return 0;
}
C
cc -O2 -o "$B/floor" "$B/floor.c" $(pkg-config --cflags --libs yaml-0.1)
if ! "$CUTOVER" lint "$rb"; then
	echo "lint failed on the generated runbook"
	exit 1
fi

# Both in turn, 21 times: a burst of load on the machine then hits both
# alike. The median is the figure; the best shows the machine at rest.
i=0
while [ $i -lt 21 ]; do
	us "$B/floor" "$rb" >>"$B/floor.t"
	us "$CUTOVER" lint "$rb" >>"$B/lint.t"
	i=$((i + 1))
done
floor=$(pick median "$B/floor.t")
lint=$(pick median "$B/lint.t")
echo "lint of 10,000 steps: ${lint} ms, best $(pick best "$B/lint.t") ms" \
    "(target < 50 ms)"
echo "libyaml parse only (floor): ${floor} ms," \
    "best $(pick best "$B/floor.t") ms"
echo "ratio lint/floor: $(ratio "$lint" "$floor")"
