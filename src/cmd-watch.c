/*
 * cmd-watch.c - `cutover watch RUNBOOK`: the console, read-only, for the
 * war-room screen. It takes no lease, so it runs beside the driver; it
 * looks for changes in the state file a few times a second (on
 * PostgreSQL it is told of each commit at once: engine_live_watch, from
 * ui.c), and moves on to a new run when one starts (unless --run names
 * one).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"
#include "loop.h"
#include "ui.h"
#include "xmalloc.h"

static int cmd_watch_exec(struct cmd_ctx *);
static struct theme *cmd_watch_theme(struct cmd_ctx *);

const struct cmd_entry cmd_watch_entry = {
	.name = "watch",
	.usage = "watch RUNBOOK [--run N]",
	.options = "--run=",
	.summary = "the console, read-only, for war-room screens",
	.help = "Show the run as the console does, without driving it: no "
		"lease is\n"
		"taken, so it runs beside the driver (on PostgreSQL it redraws "
		"at once\n"
		"after every commit). It follows new runs unless --run\n"
		"names one. Needs a terminal.\n"
		"\n"
		"  --run N   show run N and stay on it\n",
	.min_args = 1,
	.max_args = 1,
	.flags = CMD_SCREEN,
	.exec = cmd_watch_exec,
};

/* The theme, or NULL after saying why not. */
static struct theme *
cmd_watch_theme(struct cmd_ctx *c)
{
	struct theme *t = xcalloc(1, sizeof *t);
	char *err = NULL;

	if (theme_load(t, c->theme, &err) == 0)
		return t;
	fprintf(stderr, "%s\n", err);
	free(err);
	theme_free(t);
	free(t);
	return NULL;
}

static int
cmd_watch_exec(struct cmd_ctx *c)
{
	struct engine_opts o = { 0 };
	struct runbook *rb;
	struct state *st;
	struct engine *e;
	struct loop *loop;
	struct theme *t;
	long long run = cmd_opt_num(c, "--run");
	int rc;

	if (run == -2)
		return EXIT_USAGE;
	o.drive = ENGINE_READ;
	o.quiet = 1;
	o.run = run > 0 ? run : 0;
	do {
		if ((t = cmd_watch_theme(c)) == NULL)
			return EXIT_USAGE;
		if ((rc = cmd_open(c, &o, &rb, &st, &e)) != 0) {
			theme_free(t);
			free(t);
			return rc;
		}
		loop = loop_new();
		rc = ui_main(e, loop, run > 0 ? UI_WATCH : UI_WATCH_FOLLOW, t,
		    c->no_color);
		loop_free(loop);
		cmd_close(rb, st, e);
	} while (rc == UI_REOPEN);
	return rc;
}
