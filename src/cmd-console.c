/*
 * cmd-console.c - `cutover RUNBOOK`: the console that drives a run, on the
 * same engine and event loop as `cutover run`.
 *
 * It opens holding: nothing starts until someone presses Enter on a step
 * or `a` for automatic. Manual steps and checkpoints still come up as
 * awaiting as soon as what they need is done.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"
#include "ui.h"
#include "xmalloc.h"

static int cmd_console_exec(struct cmd_ctx *);

const struct cmd_entry cmd_console_entry = {
	.name = "console",
	.usage = "RUNBOOK [--new-run] [--accept-changes] [--wave NAME]... "
		 "[--entity ID[,ID...]]",
	.options = "--new-run --accept-changes --wave= --entity=",
	.summary = "open the console on the runbook's current run",
	.help = "Drive the run from a full-screen console: it opens holding, "
		"and nothing\n"
		"starts until someone presses Enter on a step or `a` for "
		"automatic.\n"
		"Needs a terminal; press ? in it for the keys.\n"
		"\n"
		"  --new-run          start a new run even if one is open\n"
		"  --accept-changes   carry on the open run under a changed "
		"runbook\n"
		"  --wave NAME        a new run covers the entities of wave "
		"NAME (repeatable)\n"
		"  --entity ID,...    a new run covers these entities\n",
	.min_args = 1,
	.max_args = 1,
	.flags = CMD_SCREEN,
	.exec = cmd_console_exec,
};

static int
cmd_console_exec(struct cmd_ctx *c)
{
	struct engine_opts o = { 0 };
	struct runbook *rb;
	struct state *st;
	struct engine *e;
	struct theme *t = xcalloc(1, sizeof *t);
	char *err = NULL, *sel;
	int rc;

	/* A bad theme is a usage error, found before anything is opened. */
	if (theme_load(t, c->theme, &err) != 0) {
		fprintf(stderr, "%s\n", err);
		free(err);
		theme_free(t);
		free(t);
		return EXIT_USAGE;
	}
	o.drive = ENGINE_DRIVE;
	o.create = 1;
	o.quiet = 1;
	o.new_run = cmd_opt(c, "--new-run") != NULL;
	o.accept_changes = cmd_opt(c, "--accept-changes") != NULL;
	sel = cmd_selection(c);
	o.selection = sel;
	rc = cmd_open(c, &o, &rb, &st, &e);
	free(sel);
	if (rc != 0) {
		theme_free(t);
		free(t);
		return rc;
	}
	engine_set_hold(e, 1);
	rc = ui_main(e, engine_loop(e), UI_DRIVE, t, c->no_color);
	cmd_close(rb, st, e);
	return rc;
}
