/* cmd-confirm.c - `cutover confirm RUNBOOK STEP [--note TEXT]`. */
#include "config.h"

#include <stdio.h>

#include "cmd.h"

static int cmd_confirm_exec(struct cmd_ctx *);

const struct cmd_entry cmd_confirm_entry = {
	.name = "confirm",
	.usage = "confirm RUNBOOK STEP [--note TEXT]",
	.options = "--note=",
	.min_args = 2,
	.max_args = 2,
	.open = CMD_OPEN_TRY_DRIVE,
	.step = 1,
	.flags = CMD_QUIET,
	.exec = cmd_confirm_exec,
};

static int
cmd_confirm_exec(struct cmd_ctx *c)
{
	int rc = engine_confirm(c->e, c->step, cmd_opt(c, "--note"));

	if (rc == 0)
		printf("%s: confirmed by %s\n", c->step->def->id,
		    state_operator(c->st));
	return rc;
}
