/* cmd-exclude.c - `cutover exclude RUNBOOK ENTITY --reason TEXT`. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cmd.h"

static int cmd_exclude_check(struct cmd_ctx *);
static int cmd_exclude_exec(struct cmd_ctx *);

const struct cmd_entry cmd_exclude_entry = {
	.name = "exclude",
	.usage = "exclude RUNBOOK ENTITY --reason TEXT",
	.options = "--reason=",
	.summary = "take an entity out of the run, with a reason",
	.help = "Exclude ENTITY from the open run: nothing new starts for it, "
		"its instances\n"
		"that have not started become excluded, running ones finish, "
		"and steps\n"
		"after its for_each phases no longer wait for it. Works beside "
		"a driver.\n"
		"\n"
		"  --reason TEXT   why it drops out (required)\n",
	.min_args = 2,
	.max_args = 2,
	.open = CMD_OPEN_TRY_DRIVE,
	.flags = CMD_QUIET,
	.check = cmd_exclude_check,
	.exec = cmd_exclude_exec,
};

static int
cmd_exclude_check(struct cmd_ctx *c)
{
	const char *reason = cmd_opt(c, "--reason");

	if (reason != NULL && *reason != '\0')
		return 0;
	fprintf(stderr, "cutover: exclude needs --reason TEXT: say why the "
	    "entity drops out\n");
	return EXIT_USAGE;
}

static int
cmd_exclude_exec(struct cmd_ctx *c)
{
	struct rb_entity *en = runbook_entity_find(c->rb, c->args[1]);
	const struct run_info *r = engine_run_info(c->e);
	int rc;

	if (en == NULL) {
		fprintf(stderr, "cutover: no entity %s in runbook %s\n",
		    c->args[1], c->rb->name);
		return EXIT_USAGE;
	}
	if (strcmp(r->state, "open") != 0) {
		fprintf(stderr, "cutover: run %lld is %s; nothing to exclude "
		    "from\n", (long long)r->id, r->state);
		return EXIT_CONFLICT;
	}
	rc = engine_exclude(c->e, en, cmd_opt(c, "--reason"));
	if (rc == 0)
		printf("%s: excluded from run %lld by %s\n", en->id,
		    (long long)r->id, state_operator(c->st));
	return rc;
}
