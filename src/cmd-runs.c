/* cmd-runs.c - `cutover runs RUNBOOK`: the runs kept in the state file. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "escape.h"

static int cmd_runs_exec(struct cmd_ctx *);

const struct cmd_entry cmd_runs_entry = {
	.name = "runs",
	.usage = "runs RUNBOOK",
	.options = "",
	.summary = "list the runs kept in the state file",
	.help = "Print one line per run: its number, mode, state and times.\n",
	.min_args = 1,
	.max_args = 1,
	.open = CMD_OPEN_READ,
	.exec = cmd_runs_exec,
};

static int
cmd_runs_exec(struct cmd_ctx *c)
{
	struct escape_list l = { 0 };
	struct run_info *v = NULL, *r;
	size_t n = 0, i;

	if (state_run_list(c->st, &v, &n) != STATE_OK) {
		fprintf(stderr, "cutover: %s\n", state_error(c->st));
		return EXIT_CONFLICT;
	}
	printf("%4s  %-9s  %-9s  %-24s  %-24s  %s\n", "RUN", "MODE", "STATE",
	    "STARTED", "ENDED", "OPERATOR");
	for (i = 0; i < n; i++) {
		r = &v[i];
		printf("%4lld  %-9s  %-9s  %-24s  %-24s  %s\n",
		    (long long)r->id, escape_field(&l, stdout,
		        strcmp(r->mode, "live") == 0 ? "LIVE" : r->mode),
		    escape_field(&l, stdout, r->state),
		    escape_field(&l, stdout, r->created_at),
		    escape_field(&l, stdout, r->ended_at ? r->ended_at : "-"),
		    escape_field(&l, stdout, r->operator ? r->operator : "-"));
	}
	escape_list_free(&l);
	run_info_free_list(v, n);
	return EXIT_DONE;
}
