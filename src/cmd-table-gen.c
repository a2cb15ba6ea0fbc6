/*
 * cmd-table-gen.c - writes the front's command table (C, on stdout) from
 * the engine's: the same names, usages, options, help texts and argument
 * counts, so that the front parses, completes and explains every command
 * as the engine does, from one source. An entry with CMD_FRONT is the
 * command's own (cmd_NAME_entry, linked into the front); every other one
 * is a copy whose .exec hands the command over to the engine.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cmd.h"

static void gen_string(const char *);
static void gen_entry(const char *, const char *, const struct cmd_entry *);
static void gen_ref(const struct cmd_entry *);

/* A C string literal of s, split after each newline; NULL as NULL. */
static void
gen_string(const char *s)
{
	const unsigned char *p;

	if (s == NULL) {
		fputs("NULL", stdout);
		return;
	}
	putchar('"');
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p == '\n')
			fputs(p[1] != '\0' ? "\\n\"\n\t\t\"" : "\\n", stdout);
		else if (*p < 0x20 || *p >= 0x7f)
			printf("\\%03o", *p);
		else
			putchar(*p);
	}
	putchar('"');
}

/* The copy of ce called var (storage: "static " or ""), which the engine
 * serves. */
static void
gen_entry(const char *storage, const char *var, const struct cmd_entry *ce)
{
	printf("%sconst struct cmd_entry %s = {\n\t.name = ", storage, var);
	gen_string(ce->name);
	fputs(",\n\t.usage = ", stdout);
	gen_string(ce->usage);
	fputs(",\n\t.options = ", stdout);
	gen_string(ce->options);
	fputs(",\n\t.summary = ", stdout);
	gen_string(ce->summary);
	fputs(",\n\t.help = ", stdout);
	gen_string(ce->help);
	printf(",\n\t.min_args = %d,\n\t.max_args = %d,\n\t.flags = %d,\n"
	       "\t.exec = cmd_engine_exec,\n};\n\n",
	    ce->min_args, ce->max_args, ce->flags);
}

/* The table's row for ce. */
static void
gen_ref(const struct cmd_entry *ce)
{
	if (ce->flags & CMD_FRONT)
		printf("\t&cmd_%s_entry,\n", ce->name);
	else
		printf("\t&cmd_engine_%s,\n", ce->name);
}

int
main(void)
{
	char var[64];
	int i;

	printf("/* The front's command table, made by cmd-table-gen from "
	       "cmd-table.c:\n * do not edit. */\n#include \"config.h\"\n\n"
	       "#include <stddef.h>\n\n#include \"cmd.h\"\n\n");
	for (i = 0; cmd_table[i] != NULL; i++) {
		if (cmd_table[i]->flags & CMD_FRONT)
			continue;
		snprintf(var, sizeof var, "cmd_engine_%s", cmd_table[i]->name);
		gen_entry("static ", var, cmd_table[i]);
	}
	gen_entry("", "cmd_console_entry", &cmd_console_entry);
	printf("const struct cmd_entry *const cmd_table[] = {\n");
	for (i = 0; cmd_table[i] != NULL; i++)
		gen_ref(cmd_table[i]);
	printf("\tNULL,\n};\n");
	return ferror(stdout) || fflush(stdout) != 0;
}
