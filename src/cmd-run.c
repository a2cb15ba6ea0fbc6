/* cmd-run.c - `cutover run`: drive the run headless as far as it can go. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "escape.h"
#include "notify.h"

static int cmd_run_exec(struct cmd_ctx *);
static int cmd_run_go(struct cmd_ctx *);

const struct cmd_entry cmd_run_entry = {
	.name = "run",
	.usage = "run RUNBOOK [--until STEP] [--new-run] [--accept-changes]",
	.options = "--until= --new-run --accept-changes",
	.summary = "run automatic steps headless until a person is needed",
	.help = "Run automatic steps until the run is complete (exit 0), a "
		"step fails\n"
		"(exit 1) or a person is needed (exit 5); then say what to "
		"type next.\n"
		"Starts a run if none is open.\n"
		"\n"
		"  --until STEP       stop once STEP and what it needs are "
		"done\n"
		"  --new-run          start a new run even if one is open\n"
		"  --accept-changes   carry on the open run under a changed "
		"runbook\n",
	.min_args = 1,
	.max_args = 1,
	.open = CMD_OPEN_DRIVE,
	.flags = CMD_CREATE,
	.exec = cmd_run_exec,
};

/* Tell the person what stops the run and what to type next. */
static void
cmd_run_explain(const struct cmd_ctx *c, struct engine *e, int rc)
{
	const char *path = c->args[0];
	struct escape_list l = { 0 };
	struct engine_step *s;
	const char *note;
	size_t i;

	for (i = 0; i < engine_nsteps(e); i++) {
		s = engine_step_at(e, i);
		if (!engine_wanted(e, i))
			continue;
		note = escape_field(&l, stderr, s->note);
		if (rc == EXIT_FAILED && s->state == ST_FAILED)
			fprintf(stderr, "cutover: step %s failed%s%s; see `cutover "
			    "log %s %s`, then retry or skip it\n", s->def->id,
			    note ? ": " : "", note ? note : "", path,
			    s->def->id);
		if (rc == EXIT_WAITING && s->state == ST_AWAITING)
			cmd_waiting_print(c, engine_state(e), engine_run_info(e)->id, s->def, s->undo,
			    stderr);
	}
	escape_list_free(&l);
}

/* Run, then give the notifier a few seconds (NOTIFY_DRAIN_MS) to deliver
 * what is due, nothing new starting meanwhile; the rest waits in the
 * outbox for the next driver. */
static int
cmd_run_exec(struct cmd_ctx *c)
{
	int rc = cmd_run_go(c);

	engine_set_hold(c->e, 1);
	notify_drain(engine_notify(c->e), NOTIFY_DRAIN_MS);
	return rc;
}

static int
cmd_run_go(struct cmd_ctx *c)
{
	struct engine *e = c->e;
	const char *until = cmd_opt(c, "--until");
	char head[65];
	int rc;

	if (strcmp(engine_run_info(e)->state, "open") != 0) {
		fprintf(stderr, "cutover: run %lld is %s; --new-run starts "
		    "another\n", (long long)engine_run_info(e)->id,
		    engine_run_info(e)->state);
		return EXIT_DONE;
	}
	if (until != NULL && engine_set_until(e, until) != 0) {
		fprintf(stderr, "cutover: --until: no step %s in runbook %s\n",
		    until, c->rb->name);
		return EXIT_USAGE;
	}
	rc = engine_run(e);
	cmd_run_explain(c, e, rc);
	if (state_audit_head(c->st, head) == STATE_OK)
		printf("audit head: %s\n", head);
	return rc;
}
