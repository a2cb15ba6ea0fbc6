/*
 * cmd-help.c - `cutover help [COMMAND]` and `cutover version` (the command
 * table is cmd-table.c). Each command's help text lives in its own entry;
 * this file only lays it out, with the global options and exit status
 * every command shares.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cmd.h"
#include "xmalloc.h"

static int cmd_help_check(struct cmd_ctx *);
static int cmd_help_exec(struct cmd_ctx *);
static int cmd_version_exec(struct cmd_ctx *);
static size_t word_distance(const char *, size_t, const char *, size_t);
static void help_list_options(const struct cmd_entry *);

const char cmd_global_opts[] = "--state= --operator= --mode= --theme= "
			       "--no-color --help -h --version -V";

static const char help_global[] =
    "Global options (before or after the arguments; -- ends options):\n"
    "  --state FILE|URI    the state file, or a PostgreSQL database\n"
    "                      (postgresql://..., pg:CONNINFO); default\n"
    "                      $CUTOVER_STATE, else\n"
    "                      ${XDG_STATE_HOME:-~/.local/state}/cutover/NAME.db\n"
    "  --operator NAME     who acts, recorded in the audit trail; default "
    "$USER\n"
    "  --mode rehearsal|live\n"
    "                      the mode of a new run; default rehearsal\n"
    "  --theme NAME|FILE   the console's colours; default $CUTOVER_THEME\n"
    "  --no-color          no colour (as NO_COLOR does)\n"
    "  -h, --help          show help (of the command, after one)\n"
    "  -V, --version       show the version\n";

static const char help_exit[] =
    "Exit status:\n"
    "  0  done: the command did what was asked (run: the run is complete)\n"
    "  1  a step or a rollback action failed, or audit --verify found the\n"
    "     chain broken\n"
    "  2  usage error\n"
    "  3  the runbook is invalid\n"
    "  4  state conflict: run driven elsewhere, runbook changed under the "
    "run,\n"
    "     rollback blocked, state file unreadable\n"
    "  5  waiting for a person: a manual step, a checkpoint or an "
    "interrupted\n"
    "     step needs a decision\n";

const struct cmd_entry cmd_help_entry = {
	.name = "help",
	.usage = "help [COMMAND]",
	.options = "--commands --options",
	.summary = "show help: the commands, or one command's options",
	.help = "Without COMMAND, list the commands; with one, show its "
		"usage,\n"
		"every option and the exit status (as COMMAND --help does).\n"
		"\n"
		"  --commands   list the command names, one a line\n"
		"  --options    list COMMAND's options, one a line (a "
		"trailing '='\n"
		"               takes a value); both are for completion "
		"scripts\n",
	.min_args = 0,
	.max_args = 1,
	.flags = CMD_FRONT,
	.check = cmd_help_check,
	.exec = cmd_help_exec,
};

const struct cmd_entry cmd_version_entry = {
	.name = "version",
	.usage = "version",
	.options = "",
	.summary = "show the version",
	.help = "Print \"cutover VERSION\" (as -V and --version do).\n",
	.min_args = 0,
	.max_args = 0,
	.flags = CMD_FRONT,
	.exec = cmd_version_exec,
};

const struct cmd_entry *
cmd_find(const char *name)
{
	int i;

	if (strcmp(name, cmd_console_entry.name) == 0)
		return &cmd_console_entry;
	for (i = 0; cmd_table[i] != NULL; i++)
		if (strcmp(name, cmd_table[i]->name) == 0)
			return cmd_table[i];
	return NULL;
}

char *
cmd_names(void)
{
	struct buf b = { 0 };
	int i;

	buf_adds(&b, cmd_console_entry.name);
	for (i = 0; cmd_table[i] != NULL; i++)
		buf_printf(&b, " %s", cmd_table[i]->name);
	return buf_steal(&b);
}

/* Optimal string alignment distance: edits, a swap of neighbours is one. */
static size_t
word_distance(const char *a, size_t na, const char *b, size_t nb)
{
	size_t *d = xcalloc((na + 1) * (nb + 1), sizeof *d), i, j, c, v;

#define D(x, y) d[(x) * (nb + 1) + (y)]
	for (i = 0; i <= na; i++)
		D(i, 0) = i;
	for (j = 0; j <= nb; j++)
		D(0, j) = j;
	for (i = 1; i <= na; i++) {
		for (j = 1; j <= nb; j++) {
			c = a[i - 1] != b[j - 1];
			v = D(i - 1, j - 1) + c;
			if (D(i - 1, j) + 1 < v)
				v = D(i - 1, j) + 1;
			if (D(i, j - 1) + 1 < v)
				v = D(i, j - 1) + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && D(i - 2, j - 2) + 1 < v)
				v = D(i - 2, j - 2) + 1;
			D(i, j) = v;
		}
	}
	v = D(na, nb);
#undef D
	free(d);
	return v;
}

const char *
cmd_suggest(const char *word, const char *candidates)
{
	static char best[64];
	const char *p = candidates, *end;
	size_t n, dist, best_dist = (size_t)-1, len = strlen(word), limit;

	/* Up to two edits, and fewer than half of a short word. */
	limit = len <= 4 ? 1 : 2;
	while (*p != '\0') {
		p += strspn(p, " ");
		end = p + strcspn(p, " ");
		n = (size_t)(end - p);
		if (n > 0 && p[n - 1] == '=')
			n--;
		if (n > 0 && n < sizeof best &&
		    (dist = word_distance(word, len, p, n)) <= limit &&
		    dist < best_dist) {
			best_dist = dist;
			memcpy(best, p, n);
			best[n] = '\0';
		}
		p = end;
	}
	return best_dist == (size_t)-1 ? NULL : best;
}

void
cmd_help_print(const struct cmd_entry *ce, FILE *f)
{
	fprintf(f, "usage: cutover [GLOBAL] %s\n\n", ce->usage);
	if (ce->summary != NULL)
		fprintf(f, "%c%s.\n\n", toupper((unsigned char)ce->summary[0]),
		    ce->summary + 1);
	if (ce->help != NULL)
		fprintf(f, "%s\n", ce->help);
	fprintf(f, "%s\n%s", help_global, help_exit);
}

void
cmd_help_overview(FILE *f)
{
	int i;

	fprintf(f, "usage: cutover [GLOBAL] RUNBOOK\n"
		   "       cutover [GLOBAL] COMMAND [ARGS] [OPTIONS]\n\n"
		   "cutover steps a war room through a migration runbook.\n\n"
		   "Commands:\n  %-10s %s\n", "RUNBOOK",
	    cmd_console_entry.summary);
	for (i = 0; cmd_table[i] != NULL; i++)
		fprintf(f, "  %-10s %s\n", cmd_table[i]->name,
		    cmd_table[i]->summary);
	fprintf(f, "\n%s\n%s\nSee `cutover help COMMAND` for a command's "
		   "options, and cutover(1).\n", help_global, help_exit);
}

/* One option of ce and then the global ones, a line each. */
static void
help_list_options(const struct cmd_entry *ce)
{
	const char *lists[] = { ce->options, cmd_global_opts }, *p, *end;
	size_t i;

	for (i = 0; i < 2; i++) {
		for (p = lists[i]; *p != '\0'; p = end) {
			p += strspn(p, " ");
			end = p + strcspn(p, " ");
			if (end > p)
				printf("%.*s\n", (int)(end - p), p);
		}
	}
}

/* The COMMAND is known; --options needs one. */
static int
cmd_help_check(struct cmd_ctx *c)
{
	const char *near;
	char *names;

	if (c->nargs == 1 && cmd_find(c->args[0]) == NULL) {
		names = cmd_names();
		near = cmd_suggest(c->args[0], names);
		free(names);
		fprintf(stderr, "cutover: help: unknown command '%s'%s%s%s\n",
		    c->args[0],
		    near ? " (did you mean '" : "; see `cutover help`",
		    near ? near : "", near ? "'?)" : "");
		return EXIT_USAGE;
	}
	if (cmd_opt(c, "--options") != NULL && c->nargs != 1) {
		fprintf(stderr, "cutover: help --options needs a COMMAND\n");
		return EXIT_USAGE;
	}
	return 0;
}

static int
cmd_help_exec(struct cmd_ctx *c)
{
	int i;

	if (cmd_opt(c, "--commands") != NULL) {
		for (i = 0; cmd_table[i] != NULL; i++)
			printf("%s\n", cmd_table[i]->name);
	} else if (cmd_opt(c, "--options") != NULL)
		help_list_options(cmd_find(c->args[0]));
	else if (c->nargs == 1)
		cmd_help_print(cmd_find(c->args[0]), stdout);
	else
		cmd_help_overview(stdout);
	return EXIT_DONE;
}

static int
cmd_version_exec(struct cmd_ctx *c)
{
	(void)c;
	printf("cutover %s\n", PACKAGE_VERSION);
	return EXIT_DONE;
}
