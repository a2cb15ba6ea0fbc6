/* cmd-runs.c - `cutover runs RUNBOOK`: the runs kept in the state file. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "cmd.h"
#include "escape.h"

static int cmd_runs_exec(struct cmd_ctx *);
static void runs_covers(const char *, struct buf *);

const struct cmd_entry cmd_runs_entry = {
	.name = "runs",
	.usage = "runs RUNBOOK",
	.options = "",
	.summary = "list the runs kept in the state file",
	.help = "Print one line per run: its number, mode, state, times, "
		"operator,\n"
		"and the entities it covers (its waves, or entities).\n",
	.min_args = 1,
	.max_args = 1,
	.open = CMD_OPEN_READ,
	.exec = cmd_runs_exec,
};

/* What a run covers, for a person: "all", "wave pilot, wave-2",
 * "store-017, store-042". */
static void
runs_covers(const char *sel, struct buf *b)
{
	const char *p, *comma;
	int wave, waves = 0;

	if (sel == NULL || *sel == '\0') {
		buf_adds(b, "all");
		return;
	}
	for (p = sel; *p != '\0'; p = *comma ? comma + 1 : comma) {
		comma = p + strcspn(p, ",");
		wave = strncmp(p, "wave:", 5) == 0;
		buf_printf(b, "%s%s%.*s", b->len ? ", " : "",
		    wave && !waves++ ? "wave " : "",
		    (int)(comma - p - (wave ? 5 : 7)), p + (wave ? 5 : 7));
	}
}

static int
cmd_runs_exec(struct cmd_ctx *c)
{
	struct escape_list l = { 0 };
	struct buf covers = { 0 };
	struct run_info *v = NULL, *r;
	size_t n = 0, i;

	if (state_run_list(c->st, &v, &n) != STATE_OK) {
		fprintf(stderr, "cutover: %s\n", state_error(c->st));
		return EXIT_CONFLICT;
	}
	printf("%4s  %-9s  %-9s  %-24s  %-24s  %-12s  %s\n", "RUN", "MODE",
	    "STATE", "STARTED", "ENDED", "OPERATOR", "COVERS");
	for (i = 0; i < n; i++) {
		r = &v[i];
		runs_covers(r->selection, &covers);
		printf("%4lld  %-9s  %-9s  %-24s  %-24s  %-12s  %s\n",
		    (long long)r->id, escape_field(&l, stdout,
		        strcmp(r->mode, "live") == 0 ? "LIVE" : r->mode),
		    escape_field(&l, stdout, r->state),
		    escape_field(&l, stdout, r->created_at),
		    escape_field(&l, stdout, r->ended_at ? r->ended_at : "-"),
		    escape_field(&l, stdout, r->operator ? r->operator : "-"),
		    escape_field(&l, stdout, covers.data));
		buf_free(&covers);
	}
	escape_list_free(&l);
	run_info_free_list(v, n);
	return EXIT_DONE;
}
