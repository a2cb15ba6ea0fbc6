/* cmd-rollback.c - `cutover rollback RUNBOOK [--to CHECKPOINT]
 * [--force --reason TEXT]`: the duty manager's way back. */
#include "config.h"

#include <stdio.h>

#include "cmd.h"

static int cmd_rollback_exec(struct cmd_ctx *);
static void rollback_print_plan(struct rollback_plan *);

const struct cmd_entry cmd_rollback_entry = {
	.name = "rollback",
	.usage = "rollback RUNBOOK [--to CHECKPOINT|start] [--force --reason TEXT]",
	.options = "--to= --force --reason=",
	.min_args = 1,
	.max_args = 1,
	.exec = cmd_rollback_exec,
};

/* Say what is about to be undone, in order, before anything is. */
static void
rollback_print_plan(struct rollback_plan *p)
{
	struct buf b = { 0 };

	engine_rollback_plan_format(p, &b, "with --force");
	fputs(b.data, stdout);
	fflush(stdout);
	buf_free(&b);
}

static int
cmd_rollback_exec(struct cmd_ctx *c)
{
	struct engine_opts o = { 0 };
	struct rollback_plan p;
	struct runbook *rb;
	struct state *st;
	struct engine *e;
	const char *reason = cmd_opt(c, "--reason"), *to = cmd_opt(c, "--to");
	int force = cmd_opt(c, "--force") != NULL, rc;

	if (force && (reason == NULL || *reason == '\0')) {
		fprintf(stderr, "cutover: --force needs --reason TEXT: say why "
		    "irreversible steps are left as they are\n");
		return EXIT_USAGE;
	}
	o.drive = ENGINE_DRIVE;
	if ((rc = cmd_open(c, &o, &rb, &st, &e)) != 0)
		return rc;
	if ((rc = engine_rollback_plan(e, to, &p)) == 0) {
		rollback_print_plan(&p);
		engine_rollback_plan_free(&p);
		rc = engine_rollback(e, to, force, reason);
	}
	cmd_close(rb, st, e);
	return rc;
}
