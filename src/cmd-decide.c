/* cmd-decide.c - `cutover decide RUNBOOK CHECKPOINT go|no-go --reason TEXT`. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cmd.h"

static int cmd_decide_check(struct cmd_ctx *);
static int cmd_decide_exec(struct cmd_ctx *);

const struct cmd_entry cmd_decide_entry = {
	.name = "decide",
	.usage = "decide RUNBOOK CHECKPOINT go|no-go --reason TEXT",
	.options = "--reason=",
	.summary = "decide go or no-go at a checkpoint",
	.help = "Record a go or no-go at CHECKPOINT as the operator, who must "
		"be in one\n"
		"of its approver roles. Enough go decisions pass it; a no-go "
		"stops the\n"
		"run there (at an instance CHECKPOINT@ENTITY, it excludes "
		"the entity).\n"
		"\n"
		"  --reason TEXT   why (required)\n",
	.min_args = 3,
	.max_args = 3,
	.open = CMD_OPEN_TRY_DRIVE,
	.step = 1,
	.flags = CMD_QUIET,
	.check = cmd_decide_check,
	.exec = cmd_decide_exec,
};

/* go or no-go, and a reason. */
static int
cmd_decide_check(struct cmd_ctx *c)
{
	const char *reason = cmd_opt(c, "--reason"), *what = c->args[2];

	if (strcmp(what, "go") != 0 && strcmp(what, "no-go") != 0) {
		fprintf(stderr, "cutover: decide wants go or no-go, not '%s'\n",
		    what);
		return EXIT_USAGE;
	}
	if (reason == NULL || *reason == '\0') {
		fprintf(stderr, "cutover: decide needs --reason TEXT: say why\n");
		return EXIT_USAGE;
	}
	return 0;
}

static int
cmd_decide_exec(struct cmd_ctx *c)
{
	struct engine_step *s = c->step;
	const char *what = c->args[2];
	int rc = engine_decide(c->e, s, strcmp(what, "go") == 0,
	    cmd_opt(c, "--reason"));

	if (rc == 0)
		printf("%s: %s by %s; checkpoint is %s\n", s->id, what,
		    state_operator(c->st), step_state_name(s->state));
	return rc;
}
