/* cmd-rollback.c - `cutover rollback RUNBOOK [--to CHECKPOINT]
 * [--force --reason TEXT]`: the duty manager's way back. */
#include "config.h"

#include <stdio.h>

#include "cmd.h"
#include "notify.h"

static int cmd_rollback_check(struct cmd_ctx *);
static int cmd_rollback_exec(struct cmd_ctx *);
static void rollback_print_plan(struct rollback_plan *);

const struct cmd_entry cmd_rollback_entry = {
	.name = "rollback",
	.usage = "rollback RUNBOOK [--to CHECKPOINT|start] [--force --reason TEXT]",
	.options = "--to= --force --reason=",
	.summary = "roll the run back to a checkpoint or its start",
	.help = "Undo the steps done after CHECKPOINT (or all of them), "
		"latest first:\n"
		"rollback actions run, manual steps wait for a person's "
		"confirm.\n"
		"\n"
		"  --to CHECKPOINT|start   how far back; default the last "
		"passed checkpoint\n"
		"  --force                 leave irreversible steps as they "
		"are\n"
		"  --reason TEXT           why (required with --force)\n",
	.min_args = 1,
	.max_args = 1,
	.open = CMD_OPEN_DRIVE,
	.check = cmd_rollback_check,
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

/* --force needs a reason. */
static int
cmd_rollback_check(struct cmd_ctx *c)
{
	const char *reason = cmd_opt(c, "--reason");

	if (cmd_opt(c, "--force") == NULL ||
	    (reason != NULL && *reason != '\0'))
		return 0;
	fprintf(stderr, "cutover: --force needs --reason TEXT: say why "
	    "irreversible steps are left as they are\n");
	return EXIT_USAGE;
}

static int
cmd_rollback_exec(struct cmd_ctx *c)
{
	struct rollback_plan p;
	struct engine_step *s;
	const char *to = cmd_opt(c, "--to");
	size_t i;
	int rc;

	if ((rc = engine_rollback_plan(c->e, to, &p)) != 0)
		return rc;
	rollback_print_plan(&p);
	engine_rollback_plan_free(&p);
	rc = engine_rollback(c->e, to, cmd_opt(c, "--force") != NULL,
	    cmd_opt(c, "--reason"));
	for (i = 0; rc == EXIT_WAITING && i < engine_nsteps(c->e); i++) {
		s = engine_step_at(c->e, i);
		if (s->undo && s->state == ST_AWAITING)
			cmd_waiting_print(c, c->st, engine_run_info(c->e)->id,
			    s->def, 1, stderr);
	}
	engine_set_hold(c->e, 1); /* as run: deliver, a few seconds at most */
	notify_drain(engine_notify(c->e), NOTIFY_DRAIN_MS);
	return rc;
}
