/*
 * yaml-parse.c - the floor of `cutover lint` for bench/lanes.sh: read a
 * YAML file with libyaml, event by event, and nothing else. Exits 0 when
 * the file parses, 1 when it does not, 2 when it cannot be read.
 */
#include <stdio.h>

#include <yaml.h>

int
main(int argc, char **argv)
{
	yaml_parser_t p;
	yaml_event_t e;
	FILE *f;
	int done = 0, ok = 1;

	if (argc != 2 || (f = fopen(argv[1], "rb")) == NULL)
		return 2;
	yaml_parser_initialize(&p);
	yaml_parser_set_input_file(&p, f);
	while (!done && ok) {
		if (!yaml_parser_parse(&p, &e)) {
			ok = 0;
			break;
		}
		done = e.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&e);
	}
	yaml_parser_delete(&p);
	fclose(f);
	return ok ? 0 : 1;
}
