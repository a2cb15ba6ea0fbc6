/*
 * main.c - the command line: global options, finding the command (the
 * table is in cmd-help.c), --help and --version, dispatch.
 *
 * Options may stand before or after positional arguments; `--` ends them.
 * Both "--opt VALUE" and "--opt=VALUE" are accepted. A first word that is
 * no command is a runbook for the console when it looks like a file;
 * otherwise it is an unknown command, named with the nearest one.
 */
#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "xmalloc.h"

static int opt_lookup(const char *, const char *, size_t, int *);
static int opt_takes_value(const char *, size_t);
static int parse_args(int, char **, struct cmd_ctx *, char ***, int *);
static int opt_unknown(const struct cmd_entry *, const char *);
static int apply_opts(struct cmd_ctx *, const struct cmd_entry *);
static int is_runbook_path(const char *);
static int cmd_unknown(const char *);
static const struct cmd_entry *find_command(struct cmd_ctx *, char **, int,
    int *);

/* Is name (len bytes) in the option list? *arg set if it takes a value. */
static int
opt_lookup(const char *list, const char *name, size_t len, int *arg)
{
	const char *p = list, *end;

	while (*p != '\0') {
		while (*p == ' ')
			p++;
		end = p + strcspn(p, " ");
		if (end > p) {
			size_t n = (size_t)(end - p);
			int takes = p[n - 1] == '=';

			if (takes)
				n--;
			if (n == len && strncmp(p, name, len) == 0) {
				*arg = takes;
				return 1;
			}
		}
		p = end;
	}
	return 0;
}

/* Does option name (len bytes) take a value, for any command? */
static int
opt_takes_value(const char *name, size_t len)
{
	int i, takes;

	if (opt_lookup(cmd_global_opts, name, len, &takes))
		return takes;
	if (opt_lookup(cmd_console_entry.options, name, len, &takes))
		return takes;
	for (i = 0; cmd_table[i] != NULL; i++)
		if (opt_lookup(cmd_table[i]->options, name, len, &takes))
			return takes;
	return 0;
}

/*
 * Split argv into options (name, value) and positionals. Option names are
 * checked later, once the command is known.
 */
static int
parse_args(int argc, char **argv, struct cmd_ctx *c, char ***pos, int *npos)
{
	int i, dashdash = 0;
	char *eq;
	size_t len;

	*pos = xcalloc((size_t)argc + 1, sizeof **pos);
	*npos = 0;
	for (i = 1; i < argc; i++) {
		char *a = argv[i];

		if (dashdash || a[0] != '-' || a[1] == '\0') {
			(*pos)[(*npos)++] = a;
			continue;
		}
		if (strcmp(a, "--") == 0) {
			dashdash = 1;
			continue;
		}
		if (c->nopts == CMD_MAX_OPTS) {
			fprintf(stderr, "cutover: too many options\n");
			return -1;
		}
		eq = strchr(a, '=');
		len = eq ? (size_t)(eq - a) : strlen(a);
		c->opt_name[c->nopts] = xstrndup(a, len);
		c->opt_value[c->nopts] = eq ? eq + 1 : NULL;
		if (!eq && opt_takes_value(a, len)) {
			if (i + 1 >= argc) {
				fprintf(stderr, "cutover: %s needs a value\n", a);
				return -1;
			}
			c->opt_value[c->nopts] = argv[++i];
		}
		c->nopts++;
	}
	return 0;
}

/* Name an unknown option of ce, with the nearest known one; -1. */
static int
opt_unknown(const struct cmd_entry *ce, const char *n)
{
	char *all = xprintf("%s %s", ce->options, cmd_global_opts);
	const char *near = cmd_suggest(n, all);
	int console = ce == &cmd_console_entry;

	fprintf(stderr, "cutover: %s%sunknown option '%s'", console ? ""
	    : ce->name, console ? "" : ": ", n);
	if (near != NULL)
		fprintf(stderr, " (did you mean '%s'?)\n", near);
	else
		fprintf(stderr, "; see `cutover help%s%s`\n",
		    console ? "" : " ", console ? "" : ce->name);
	free(all);
	return -1;
}

/* Take the global options out, and check the rest against the command. */
static int
apply_opts(struct cmd_ctx *c, const struct cmd_entry *ce)
{
	int i, takes;
	const char *n, *v;

	for (i = 0; i < c->nopts; i++) {
		n = c->opt_name[i];
		v = c->opt_value[i];
		if (opt_lookup(cmd_global_opts, n, strlen(n), &takes) ||
		    opt_lookup(ce->options, n, strlen(n), &takes)) {
			if (takes && v == NULL) {
				fprintf(stderr, "cutover: %s needs a value\n", n);
				return -1;
			}
			if (!takes && v != NULL) {
				fprintf(stderr, "cutover: %s takes no value\n", n);
				return -1;
			}
			continue;
		}
		return opt_unknown(ce, n);
	}
	c->state_path = cmd_opt(c, "--state");
	c->operator = cmd_opt(c, "--operator");
	c->mode = cmd_opt(c, "--mode");
	c->theme = cmd_opt(c, "--theme");
	c->no_color = cmd_opt(c, "--no-color") != NULL ||
	    getenv("NO_COLOR") != NULL;
	if (c->operator == NULL)
		c->operator = getenv("USER");
	if (c->operator != NULL && *c->operator == '\0') {
		fprintf(stderr, "cutover: --operator must not be empty\n");
		return -1;
	}
	if (c->mode != NULL && strcmp(c->mode, "rehearsal") != 0 &&
	    strcmp(c->mode, "live") != 0) {
		fprintf(stderr, "cutover: --mode is rehearsal or live, not '%s'\n",
		    c->mode);
		return -1;
	}
	return 0;
}

/* Is word, which names no command, a runbook file (or meant as one)? */
static int
is_runbook_path(const char *word)
{
	size_t n = strlen(word);

	return access(word, F_OK) == 0 || strchr(word, '/') != NULL ||
	    (n > 5 && strcmp(word + n - 5, ".yaml") == 0) ||
	    (n > 4 && strcmp(word + n - 4, ".yml") == 0);
}

/* Say word is neither a command nor a runbook; EXIT_USAGE. */
static int
cmd_unknown(const char *word)
{
	char *names = cmd_names();
	const char *near = cmd_suggest(word, names);

	if (near != NULL)
		fprintf(stderr, "cutover: unknown command '%s' (did you mean "
		    "'%s'?)\n", word, near);
	else
		fprintf(stderr, "cutover: '%s' is neither a command nor a "
		    "runbook file; see `cutover help`\n", word);
	free(names);
	return EXIT_USAGE;
}

/*
 * The command named by pos[0], or the console when pos[0] is a runbook;
 * c->args set to its arguments. NULL with *rc set when there is none.
 */
static const struct cmd_entry *
find_command(struct cmd_ctx *c, char **pos, int npos, int *rc)
{
	int i;

	*rc = 0;
	c->args = pos + 1;
	c->nargs = npos - 1;
	for (i = 0; npos > 0 && cmd_table[i] != NULL; i++)
		if (strcmp(pos[0], cmd_table[i]->name) == 0)
			return cmd_table[i];
	if (npos == 0 || is_runbook_path(pos[0])) {
		c->args = pos;
		c->nargs = npos;
		return &cmd_console_entry;
	}
	*rc = cmd_unknown(pos[0]);
	return NULL;
}

int
main(int argc, char **argv)
{
	struct cmd_ctx c;
	const struct cmd_entry *ce;
	char **pos;
	int npos, i, rc;

	setlocale(LC_ALL, "");
	memset(&c, 0, sizeof c);
	c.argv = argv;
	if (parse_args(argc, argv, &c, &pos, &npos) != 0)
		return EXIT_USAGE;
	if ((ce = find_command(&c, pos, npos, &rc)) == NULL)
		return rc;
	if (cmd_opt(&c, "--help") != NULL || cmd_opt(&c, "-h") != NULL) {
		if (npos == 0)
			cmd_help_overview(stdout);
		else
			cmd_help_print(ce, stdout);
		return EXIT_DONE;
	}
	if (cmd_opt(&c, "--version") != NULL || cmd_opt(&c, "-V") != NULL)
		ce = &cmd_version_entry;
	if (npos == 0 && ce == &cmd_console_entry) {
		fprintf(stderr, "usage: cutover [GLOBAL] RUNBOOK\n"
		    "       cutover [GLOBAL] COMMAND [ARGS]; see `cutover "
		    "help`\n");
		return EXIT_USAGE;
	}
	if (apply_opts(&c, ce) != 0)
		return EXIT_USAGE;
	if (ce != &cmd_version_entry && (c.nargs < ce->min_args ||
	    (ce->max_args >= 0 && c.nargs > ce->max_args))) {
		fprintf(stderr, "usage: cutover [GLOBAL] %s; see `cutover help "
		    "%s`\n", ce->usage, ce->name);
		return EXIT_USAGE;
	}
	rc = cmd_dispatch(ce, &c);
	for (i = 0; i < c.nopts; i++)
		free((char *)c.opt_name[i]);
	free(pos);
	return rc;
}
