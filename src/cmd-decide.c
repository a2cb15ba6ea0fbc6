/* cmd-decide.c - `cutover decide RUNBOOK CHECKPOINT go|no-go --reason TEXT`. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cmd.h"

static int cmd_decide_exec(struct cmd_ctx *);

const struct cmd_entry cmd_decide_entry = {
	.name = "decide",
	.usage = "decide RUNBOOK CHECKPOINT go|no-go --reason TEXT",
	.options = "--reason=",
	.min_args = 3,
	.max_args = 3,
	.exec = cmd_decide_exec,
};

static int
cmd_decide_exec(struct cmd_ctx *c)
{
	struct engine_opts o = { 0 };
	struct runbook *rb;
	struct state *st;
	struct engine *e;
	struct engine_step *s;
	const char *reason = cmd_opt(c, "--reason"), *what = c->args[2];
	int rc, go;

	if (strcmp(what, "go") != 0 && strcmp(what, "no-go") != 0) {
		fprintf(stderr, "cutover: decide wants go or no-go, not '%s'\n",
		    what);
		return EXIT_USAGE;
	}
	if (reason == NULL || *reason == '\0') {
		fprintf(stderr, "cutover: decide needs --reason TEXT: say why\n");
		return EXIT_USAGE;
	}
	go = strcmp(what, "go") == 0;
	o.drive = ENGINE_TRY_DRIVE;
	o.quiet = 1;
	if ((rc = cmd_open(c, &o, &rb, &st, &e)) != 0)
		return rc;
	if ((s = cmd_step(e, c->args[1])) == NULL)
		rc = EXIT_USAGE;
	else if ((rc = engine_decide(e, s, go, reason)) == 0)
		printf("%s: %s by %s; checkpoint is %s\n", s->def->id, what,
		    state_operator(st), step_state_name(s->state));
	cmd_close(rb, st, e);
	return rc;
}
