/* cmd-retry.c - `cutover retry RUNBOOK STEP`: run a failed step again. */
#include "config.h"

#include <stdio.h>

#include "cmd.h"

static int cmd_retry_exec(struct cmd_ctx *);

const struct cmd_entry cmd_retry_entry = {
	.name = "retry",
	.usage = "retry RUNBOOK STEP",
	.options = "",
	.min_args = 2,
	.max_args = 2,
	.exec = cmd_retry_exec,
};

static int
cmd_retry_exec(struct cmd_ctx *c)
{
	struct engine_opts o = { 0 };
	struct runbook *rb;
	struct state *st;
	struct engine *e;
	struct engine_step *s;
	int rc;

	o.drive = ENGINE_DRIVE;
	if ((rc = cmd_open(c, &o, &rb, &st, &e)) != 0)
		return rc;
	if ((s = cmd_step(e, c->args[1])) == NULL)
		rc = EXIT_USAGE;
	else if (engine_which_retry(s) == ENGINE_ROLLBACK_RETRY)
		rc = engine_rollback_one(e, s);
	else if ((rc = engine_retry(e, s)) == 0) {
		engine_set_only(e, s);
		rc = engine_run(e);
		if (rc == EXIT_FAILED)
			fprintf(stderr, "cutover: step %s failed again%s%s\n",
			    s->def->id, s->note ? ": " : "",
			    s->note ? s->note : "");
	}
	cmd_close(rb, st, e);
	return rc;
}
