/*
 * cmd-watch.c - `cutover watch RUNBOOK`: the console, read-only, for the
 * war-room screen. It takes no lease, so it runs beside the driver; it
 * looks for changes in the state file a few times a second.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"
#include "loop.h"
#include "ui.h"
#include "xmalloc.h"

static int cmd_watch_exec(struct cmd_ctx *);

const struct cmd_entry cmd_watch_entry = {
	.name = "watch",
	.usage = "watch RUNBOOK [--run N]",
	.options = "--run=",
	.min_args = 1,
	.max_args = 1,
	.exec = cmd_watch_exec,
};

static int
cmd_watch_exec(struct cmd_ctx *c)
{
	struct engine_opts o = { 0 };
	struct runbook *rb;
	struct state *st;
	struct engine *e;
	struct loop *loop;
	struct theme *t = xcalloc(1, sizeof *t);
	char *err = NULL;
	long long run = cmd_opt_num(c, "--run");
	int rc;

	if (run == -2)
		return EXIT_USAGE;
	if (theme_load(t, c->theme, &err) != 0) {
		fprintf(stderr, "%s\n", err);
		free(err);
		theme_free(t);
		free(t);
		return EXIT_USAGE;
	}
	o.drive = ENGINE_READ;
	o.quiet = 1;
	o.run = run > 0 ? run : 0;
	if ((rc = cmd_open(c, &o, &rb, &st, &e)) != 0) {
		theme_free(t);
		free(t);
		return rc;
	}
	loop = loop_new();
	rc = ui_main(e, loop, 1, t, c->no_color);
	loop_free(loop);
	cmd_close(rb, st, e);
	return rc;
}
