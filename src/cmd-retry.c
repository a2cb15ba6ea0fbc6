/* cmd-retry.c - `cutover retry RUNBOOK STEP`: run a failed step again. */
#include "config.h"

#include <stdio.h>

#include "cmd.h"
#include "escape.h"

static int cmd_retry_exec(struct cmd_ctx *);

const struct cmd_entry cmd_retry_entry = {
	.name = "retry",
	.usage = "retry RUNBOOK STEP",
	.options = "",
	.summary = "run a failed or interrupted step again",
	.help = "Run STEP again now (its rollback action, while it is being "
		"undone),\n"
		"and only it; `cutover run` then carries on. STEP may be an "
		"instance,\n"
		"STEP@ENTITY.\n",
	.min_args = 2,
	.max_args = 2,
	.open = CMD_OPEN_DRIVE,
	.step = 1,
	.exec = cmd_retry_exec,
};

/* A step being undone runs its rollback again; any other runs again. */
static int
cmd_retry_exec(struct cmd_ctx *c)
{
	struct escape_list l = { 0 };
	struct engine_step *s = c->step;
	int rc;

	if (engine_which_retry(s) == ENGINE_ROLLBACK_RETRY)
		return engine_rollback_one(c->e, s);
	if ((rc = engine_retry(c->e, s)) != 0)
		return rc;
	engine_set_only(c->e, s);
	rc = engine_run(c->e);
	if (rc == EXIT_FAILED)
		fprintf(stderr, "cutover: step %s failed again%s%s\n",
		    s->id, s->note ? ": " : "",
		    s->note ? escape_field(&l, stderr, s->note) : "");
	escape_list_free(&l);
	return rc;
}
