/* cmd-confirm.c - `cutover confirm RUNBOOK STEP [--note TEXT]`. */
#include "config.h"

#include <stdio.h>

#include "cmd.h"

static int cmd_confirm_exec(struct cmd_ctx *);

const struct cmd_entry cmd_confirm_entry = {
	.name = "confirm",
	.usage = "confirm RUNBOOK STEP [--note TEXT]",
	.options = "--note=",
	.summary = "complete a manual step, or declare a waiting step done",
	.help = "Mark STEP done: a manual step once its work is done, a step "
		"being\n"
		"undone by hand once it is undone, or an interrupted step "
		"that did its\n"
		"work. STEP may be an instance of a for_each step, "
		"STEP@ENTITY.\n"
		"\n"
		"  --note TEXT   a note kept with the step and in the audit "
		"trail\n",
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
		printf("%s: confirmed by %s\n", c->step->id,
		    state_operator(c->st));
	return rc;
}
