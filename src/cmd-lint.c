/* cmd-lint.c - `cutover lint RUNBOOK...`: every error of every file. */
#include "config.h"

#include <errno.h>
#include <string.h>

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
	struct diags d;
	int i, rc = 0;

	for (i = 0; i < c->nargs; i++) {
		memset(&d, 0, sizeof d);
		errno = 0;
		if (runbook_check(c->args[i], &d) != 0) {
			cmd_diags_print(c->args[i], &d);
			rc = EXIT_INVALID;
		}
		diags_free(&d);
	}
	return rc;
}
