/* cmd-lint.c - `cutover lint RUNBOOK...`: every error of every file. */
#include "config.h"

#include <stdio.h>

#include "cmd.h"

static int cmd_lint_exec(struct cmd_ctx *);

const struct cmd_entry cmd_lint_entry = {
	.name = "lint",
	.usage = "lint RUNBOOK...",
	.options = "",
	.min_args = 1,
	.max_args = -1,
	.exec = cmd_lint_exec,
};

static int
cmd_lint_exec(struct cmd_ctx *c)
{
	struct runbook *rb;
	int i, rc = 0;

	for (i = 0; i < c->nargs; i++) {
		if (cmd_load(c->args[i], &rb) != 0)
			rc = EXIT_INVALID;
		else
			runbook_free(rb);
	}
	return rc;
}
