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
	.min_args = 1,
	.max_args = 1,
	.open = CMD_OPEN_READ,
	.exec = cmd_runs_exec,
};

static int
cmd_runs_exec(struct cmd_ctx *c)
{
	struct escape_list l = { 0 };
	struct run_info *v = NULL;
	size_t n = 0, i;

	if (state_run_list(c->st, &v, &n) != STATE_OK) {
		fprintf(stderr, "cutover: %s\n", state_error(c->st));
		return EXIT_CONFLICT;
	}
	printf("%4s  %-9s  %-9s  %-24s  %-24s  %s\n", "RUN", "MODE", "STATE",
	    "STARTED", "ENDED", "OPERATOR");
	for (i = 0; i < n; i++)
		printf("%4lld  %-9s  %-9s  %-24s  %-24s  %s\n",
		    (long long)v[i].id,
		    strcmp(v[i].mode, "live") == 0 ? "LIVE"
		                                   : escape_field(&l, stdout, v[i].mode),
		    escape_field(&l, stdout, v[i].state),
		    escape_field(&l, stdout, v[i].created_at),
		    v[i].ended_at ? escape_field(&l, stdout, v[i].ended_at) : "-",
		    v[i].operator ? escape_field(&l, stdout, v[i].operator) : "-");
	escape_list_free(&l);
	run_info_free_list(v, n);
	return EXIT_DONE;
}
