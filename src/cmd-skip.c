/* cmd-skip.c - `cutover skip RUNBOOK STEP --reason TEXT`. */
#include "config.h"

#include <stdio.h>

#include "cmd.h"

static int cmd_skip_check(struct cmd_ctx *);
static int cmd_skip_exec(struct cmd_ctx *);

const struct cmd_entry cmd_skip_entry = {
	.name = "skip",
	.usage = "skip RUNBOOK STEP --reason TEXT",
	.options = "--reason=",
	.summary = "skip a step, with a reason",
	.help = "Mark STEP (or an instance STEP@ENTITY) skipped: what needs "
		"it may start.\n"
		"\n"
		"  --reason TEXT   why it is not done (required)\n",
	.min_args = 2,
	.max_args = 2,
	.open = CMD_OPEN_TRY_DRIVE,
	.step = 1,
	.flags = CMD_QUIET,
	.check = cmd_skip_check,
	.exec = cmd_skip_exec,
};

static int
cmd_skip_check(struct cmd_ctx *c)
{
	const char *reason = cmd_opt(c, "--reason");

	if (reason != NULL && *reason != '\0')
		return 0;
	fprintf(stderr, "cutover: skip needs --reason TEXT: say why the step "
	    "is not done\n");
	return EXIT_USAGE;
}

static int
cmd_skip_exec(struct cmd_ctx *c)
{
	int rc = engine_skip(c->e, c->step, cmd_opt(c, "--reason"));

	if (rc == 0)
		printf("%s: skipped by %s\n", c->step->id,
		    state_operator(c->st));
	return rc;
}
