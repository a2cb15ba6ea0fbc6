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
	.exec = cmd_confirm_exec,
};

static int
cmd_confirm_exec(struct cmd_ctx *c)
{
	struct engine_opts o = { 0 };
	struct runbook *rb;
	struct state *st;
	struct engine *e;
	struct engine_step *s;
	int rc;

	o.drive = ENGINE_TRY_DRIVE;
	o.quiet = 1;
	if ((rc = cmd_open(c, &o, &rb, &st, &e)) != 0)
		return rc;
	if ((s = cmd_step(e, c->args[1])) == NULL)
		rc = EXIT_USAGE;
	else if ((rc = engine_confirm(e, s, cmd_opt(c, "--note"))) == 0)
		printf("%s: confirmed by %s\n", s->def->id, state_operator(st));
	cmd_close(rb, st, e);
	return rc;
}
