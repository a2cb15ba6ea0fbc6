/*
 * main.c - the command line: global options, the subcommand table, dispatch.
 *
 * Options may stand before or after positional arguments; `--` ends them.
 * Both "--opt VALUE" and "--opt=VALUE" are accepted.
 */
#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "ui.h"
#include "xmalloc.h"

static const struct cmd_entry *cmd_table[] = {
	&cmd_lint_entry,
	&cmd_run_entry,
	&cmd_status_entry,
	&cmd_confirm_entry,
	&cmd_decide_entry,
	&cmd_retry_entry,
	&cmd_skip_entry,
	&cmd_log_entry,
	&cmd_runs_entry,
	&cmd_audit_entry,
	&cmd_watch_entry,
	&cmd_rollback_entry,
	&cmd_report_entry,
	NULL,
};

/* Commands of the contract that this build does not have yet. */
static const char *cmd_missing[] = { NULL };

static const char *global_opts = "--state= --operator= --mode= --theme= "
				 "--no-color";

static void usage(FILE *);
static int opt_lookup(const char *, const char *, size_t, int *);
static int parse_args(int, char **, struct cmd_ctx *, char ***, int *);
static int apply_opts(struct cmd_ctx *, const struct cmd_entry *);

static void
usage(FILE *f)
{
	int i;

	fprintf(f, "usage: cutover [GLOBAL] RUNBOOK\n");
	for (i = 0; cmd_table[i] != NULL; i++)
		fprintf(f, "       cutover [GLOBAL] %s\n", cmd_table[i]->usage);
	fprintf(f, "GLOBAL: --state FILE  --operator NAME  --mode rehearsal|live"
	           "  --theme NAME|FILE\n        --no-color  -h/--help  "
	           "-V/--version\n");
}

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

/*
 * Split argv into options (name, value) and positionals. Option names are
 * checked later, once the command is known.
 */
static int
parse_args(int argc, char **argv, struct cmd_ctx *c, char ***pos, int *npos)
{
	int i, dashdash = 0, takes;
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
		takes = 0;
		if (!eq && (opt_lookup(global_opts, a, len, &takes) ||
		        opt_lookup("--until= --note= --reason= --run= --attempt= "
		                   "--to= --compare= --format= -o= --head=", a, len,
		            &takes)) &&
		    takes) {
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

/* Take the global options out, and check the rest against the command. */
static int
apply_opts(struct cmd_ctx *c, const struct cmd_entry *ce)
{
	int i, takes;
	const char *n, *v;

	for (i = 0; i < c->nopts; i++) {
		n = c->opt_name[i];
		v = c->opt_value[i];
		if (opt_lookup(global_opts, n, strlen(n), &takes) ||
		    (ce != NULL && opt_lookup(ce->options, n, strlen(n), &takes))) {
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
		fprintf(stderr, "cutover: unknown option %s%s%s; see cutover "
		    "--help\n", n, ce ? " for " : "", ce ? ce->name : "");
		return -1;
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

int
main(int argc, char **argv)
{
	struct cmd_ctx c;
	const struct cmd_entry *ce = NULL;
	char **pos;
	int npos, i, rc;

	setlocale(LC_ALL, "");
	memset(&c, 0, sizeof c);
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		}
		if (strcmp(argv[i], "-V") == 0 ||
		    strcmp(argv[i], "--version") == 0) {
			printf("cutover %s\n", PACKAGE_VERSION);
			return 0;
		}
	}
	if (parse_args(argc, argv, &c, &pos, &npos) != 0)
		return EXIT_USAGE;
	if (npos == 0) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (i = 0; cmd_table[i] != NULL; i++)
		if (strcmp(pos[0], cmd_table[i]->name) == 0)
			ce = cmd_table[i];
	for (i = 0; ce == NULL && cmd_missing[i] != NULL; i++) {
		if (strcmp(pos[0], cmd_missing[i]) == 0) {
			fprintf(stderr, "cutover: %s is not available in this "
			    "version yet\n", pos[0]);
			return EXIT_USAGE;
		}
	}
	c.args = pos + 1;
	c.nargs = npos - 1;
	if (ce == NULL) { /* not a command: the console on a runbook */
		ce = &cmd_console_entry;
		c.args = pos;
		c.nargs = npos;
	}
	if (apply_opts(&c, ce) != 0)
		return EXIT_USAGE;
	if (c.nargs < ce->min_args ||
	    (ce->max_args >= 0 && c.nargs > ce->max_args)) {
		fprintf(stderr, "usage: cutover [GLOBAL] %s\n", ce->usage);
		return EXIT_USAGE;
	}
	rc = cmd_dispatch(ce, &c);
	for (i = 0; i < c.nopts; i++)
		free((char *)c.opt_name[i]);
	free(pos);
	return rc;
}
