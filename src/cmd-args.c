/*
 * cmd-args.c - what the front and the engine share of running a command:
 * its options, the checks made before anything is opened, and printing
 * why a runbook did not load.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "escape.h"
#include "xmalloc.h"

int
cmd_prepare(const struct cmd_entry *ce, struct cmd_ctx *c)
{
	int rc;

	/* Curses draws the screen commands' stdout; --raw asks for the
	 * bytes as stored there. */
	escape_streams(!(ce->flags & CMD_SCREEN) && cmd_opt(c, "--raw") == NULL,
	    1);
	if (cmd_text_check(cmd_opt(c, "--operator") ? "--operator" : "$USER",
	        c->operator) != 0 ||
	    cmd_text_check("--reason", cmd_opt(c, "--reason")) != 0 ||
	    cmd_text_check("--note", cmd_opt(c, "--note")) != 0)
		return EXIT_USAGE;
	if (ce->check != NULL && (rc = ce->check(c)) != 0)
		return rc;
	return 0;
}

/*
 * Refuse text that would not show as typed (control characters, newlines,
 * bidi overrides): it goes into the state file and the audit trail, where
 * a newline would forge a line. 0, or -1 after saying so.
 */
int
cmd_text_check(const char *name, const char *v)
{
	char *shown;

	if (v == NULL || escape_span(v, strlen(v), ESCAPE_LINE) == strlen(v))
		return 0;
	shown = escape_str(v, ESCAPE_LINE);
	fprintf(stderr, "cutover: %s must be printable text on one line, not "
	    "'%s'\n", name, shown);
	free(shown);
	return -1;
}

const char *
cmd_opt(const struct cmd_ctx *c, const char *name)
{
	int i;

	for (i = c->nopts - 1; i >= 0; i--) {
		if (strcmp(c->opt_name[i], name) == 0)
			return c->opt_value[i] != NULL ? c->opt_value[i] : "";
	}
	return NULL;
}

long long
cmd_opt_num(const struct cmd_ctx *c, const char *name)
{
	const char *v = cmd_opt(c, name);
	char *end;
	long long n;

	if (v == NULL)
		return -1;
	errno = 0;
	n = strtoll(v, &end, 10);
	if (*v == '\0' || *end != '\0' || errno != 0 || n <= 0) {
		fprintf(stderr, "cutover: %s wants a positive number, not '%s'\n",
		    name, v);
		return -2;
	}
	return n;
}

void
cmd_diags_print(const char *path, struct diags *d)
{
	if (d->n == 0)
		fprintf(stderr, "cutover: %s: %s\n", path,
		    strerror(errno ? errno : EIO));
	diags_print(d, stderr);
}
