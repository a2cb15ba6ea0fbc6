/* cmd-skip.c - `cutover skip RUNBOOK STEP --reason TEXT`. */
#include "config.h"

#include <stdio.h>

#include "cmd.h"

static int cmd_skip_exec(struct cmd_ctx *);

const struct cmd_entry cmd_skip_entry = {
	.name = "skip",
	.usage = "skip RUNBOOK STEP --reason TEXT",
	.options = "--reason=",
	.min_args = 2,
	.max_args = 2,
	.exec = cmd_skip_exec,
};

static int
cmd_skip_exec(struct cmd_ctx *c)
{
	struct engine_opts o = { 0 };
	struct runbook *rb;
	struct state *st;
	struct engine *e;
	struct engine_step *s;
	const char *reason = cmd_opt(c, "--reason");
	int rc;

	if (reason == NULL || *reason == '\0') {
		fprintf(stderr, "cutover: skip needs --reason TEXT: say why the "
		    "step is not done\n");
		return EXIT_USAGE;
	}
	o.drive = ENGINE_TRY_DRIVE;
	o.quiet = 1;
	if ((rc = cmd_open(c, &o, &rb, &st, &e)) != 0)
		return rc;
	if ((s = cmd_step(e, c->args[1])) == NULL)
		rc = EXIT_USAGE;
	else if ((rc = engine_skip(e, s, reason)) == 0)
		printf("%s: skipped by %s\n", s->def->id, state_operator(st));
	cmd_close(rb, st, e);
	return rc;
}
