/* cmd-lint.c - `cutover lint RUNBOOK...`: every error of every file. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"

static int cmd_lint_exec(struct cmd_ctx *);
static int lint_list_steps(const char *);

const struct cmd_entry cmd_lint_entry = {
	.name = "lint",
	.usage = "lint RUNBOOK...",
	.options = "--list-steps",
	.summary = "validate runbooks, print every error",
	.help = "Check each RUNBOOK and print every error as FILE:LINE:COL: "
		"error: ...;\n"
		"exit 3 if any is invalid.\n"
		"\n"
		"  --list-steps   print the step ids of the runbook, one a "
		"line, and\n"
		"                 STEP@ENTITY for each entity of a for_each "
		"step (for\n"
		"                 completion scripts)\n",
	.min_args = 1,
	.max_args = -1,
	.flags = CMD_FRONT,
	.exec = cmd_lint_exec,
};

/* Print the step ids of a valid runbook, one a line, a for_each step's as
 * its instances STEP@ENTITY; 0 or EXIT_INVALID. */
static int
lint_list_steps(const char *path)
{
	struct runbook *rb;
	struct diags d = { 0 };
	size_t i, k;

	errno = 0;
	if (runbook_load_unhashed(path, &rb, &d) != 0) {
		cmd_diags_print(path, &d);
		diags_free(&d);
		return EXIT_INVALID;
	}
	diags_free(&d);
	for (i = 0; i < rb->nsteps; i++) {
		if (!runbook_step_in_lanes(rb, &rb->steps[i])) {
			printf("%s\n", rb->steps[i].id);
			continue;
		}
		/* a for_each step: its instances, entities in order */
		for (k = 0; k < rb->nentities; k++)
			printf("%s@%s\n", rb->steps[i].id, rb->entities[k].id);
	}
	runbook_free(rb);
	return 0;
}

static int
cmd_lint_exec(struct cmd_ctx *c)
{
	struct diags d;
	int i, rc = 0;

	if (cmd_opt(c, "--list-steps") != NULL) {
		for (i = 0; i < c->nargs; i++)
			if (lint_list_steps(c->args[i]) != 0)
				rc = EXIT_INVALID;
		return rc;
	}
	for (i = 0; i < c->nargs; i++) {
		memset(&d, 0, sizeof d);
		errno = 0;
		if (runbook_check(c->args[i], &d) != 0) {
			cmd_diags_print(c->args[i], &d);
			rc = EXIT_INVALID;
		}
		diags_free(&d);
	}
	return rc;
}
