/* cmd-run.c - `cutover run`: drive the run headless as far as it can go. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "escape.h"

static int cmd_run_exec(struct cmd_ctx *);

const struct cmd_entry cmd_run_entry = {
	.name = "run",
	.usage = "run RUNBOOK [--until STEP] [--new-run] [--accept-changes]",
	.options = "--until= --new-run --accept-changes",
	.min_args = 1,
	.max_args = 1,
	.open = CMD_OPEN_DRIVE,
	.flags = CMD_CREATE,
	.exec = cmd_run_exec,
};

/* Tell the person what stops the run and what to type next. */
static void
cmd_run_explain(struct engine *e, int rc, const char *path)
{
	struct escape_list l = { 0 };
	struct engine_step *s;
	const char *note;
	size_t i;

	for (i = 0; i < e->nsteps; i++) {
		s = &e->steps[i];
		if (!e->wanted[i])
			continue;
		note = escape_field(&l, stderr, s->note);
		if (rc == EXIT_FAILED && s->state == ST_FAILED)
			fprintf(stderr, "cutover: step %s failed%s%s; see `cutover "
			    "log %s %s`, then retry or skip it\n", s->def->id,
			    note ? ": " : "", note ? note : "", path,
			    s->def->id);
		if (rc == EXIT_WAITING && s->state == ST_AWAITING)
			fprintf(stderr, "cutover: step %s waits for a person: %s\n",
			    s->def->id, s->def->type == STEP_CHECKPOINT
			        ? "decide go or no-go"
			        : s->def->type == STEP_MANUAL
			        ? "confirm it when done"
			        : "it was interrupted; retry, confirm or skip it");
	}
	escape_list_free(&l);
}

static int
cmd_run_exec(struct cmd_ctx *c)
{
	struct engine *e = c->e;
	const char *until = cmd_opt(c, "--until");
	char head[65];
	int rc;

	if (strcmp(e->run.state, "open") != 0) {
		fprintf(stderr, "cutover: run %lld is %s; --new-run starts "
		    "another\n", (long long)e->run.id, e->run.state);
		return EXIT_DONE;
	}
	if (until != NULL && engine_set_until(e, until) != 0) {
		fprintf(stderr, "cutover: --until: no step %s in runbook %s\n",
		    until, c->rb->name);
		return EXIT_USAGE;
	}
	rc = engine_run(e);
	cmd_run_explain(e, rc, c->args[0]);
	if (state_audit_head(c->st, head) == STATE_OK)
		printf("audit head: %s\n", head);
	return rc;
}
