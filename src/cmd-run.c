/* cmd-run.c - `cutover run`: drive the run headless as far as it can go. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "step-kind.h"

static int cmd_run_exec(struct cmd_ctx *);

const struct cmd_entry cmd_run_entry = {
	.name = "run",
	.usage = "run RUNBOOK [--until STEP] [--new-run] [--accept-changes]",
	.options = "--until= --new-run --accept-changes",
	.min_args = 1,
	.max_args = 1,
	.exec = cmd_run_exec,
};

/* Tell the person what stops the run and what to type next. */
static void
cmd_run_explain(struct engine *e, int rc, const char *path)
{
	struct engine_step *s;
	size_t i;

	for (i = 0; i < engine_nsteps(e); i++) {
		s = engine_step_at(e, i);
		if (!engine_wanted(e, i))
			continue;
		if (rc == EXIT_FAILED && s->state == ST_FAILED)
			fprintf(stderr, "cutover: step %s failed%s%s; see `cutover "
			    "log %s %s`, then retry or skip it\n", s->def->id,
			    s->note ? ": " : "", s->note ? s->note : "", path,
			    s->def->id);
		if (rc == EXIT_WAITING && s->state == ST_AWAITING)
			fprintf(stderr, "cutover: step %s waits for a person: %s\n",
			    s->def->id, step_kind_is_gate(s->def->type)
			        ? "decide go or no-go"
			        : step_kind(s->def->type)->who == WHO_CONFIRM
			        ? "confirm it when done"
			        : "it was interrupted; retry, confirm or skip it");
	}
}

static int
cmd_run_exec(struct cmd_ctx *c)
{
	struct engine_opts o = { 0 };
	struct runbook *rb;
	struct state *st;
	struct engine *e;
	const char *until = cmd_opt(c, "--until");
	int rc;

	o.drive = ENGINE_DRIVE;
	o.create = 1;
	o.new_run = cmd_opt(c, "--new-run") != NULL;
	o.accept_changes = cmd_opt(c, "--accept-changes") != NULL;
	if ((rc = cmd_open(c, &o, &rb, &st, &e)) != 0)
		return rc;
	if (strcmp(engine_run_info(e)->state, "open") != 0) {
		fprintf(stderr, "cutover: run %lld is %s; --new-run starts "
		    "another\n", (long long)engine_run_info(e)->id,
		    engine_run_info(e)->state);
		cmd_close(rb, st, e);
		return EXIT_DONE;
	}
	if (until != NULL && engine_set_until(e, until) != 0) {
		fprintf(stderr, "cutover: --until: no step %s in runbook %s\n",
		    until, rb->name);
		cmd_close(rb, st, e);
		return EXIT_USAGE;
	}
	rc = engine_run(e);
	cmd_run_explain(e, rc, c->args[0]);
	cmd_close(rb, st, e);
	return rc;
}
