/*
 * cmd-log.c - `cutover log RUNBOOK [STEP] [--attempt N] [--raw]`: captured
 * output. On a terminal it is shown escaped (escape.h); --raw prints it as
 * stored.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "escape.h"

static int cmd_log_check(struct cmd_ctx *);
static int cmd_log_exec(struct cmd_ctx *);
static int log_step(struct state *, int64_t, const char *, int, int);
static void log_header(const char *, const struct attempt_row *);

const struct cmd_entry cmd_log_entry = {
	.name = "log",
	.usage = "log RUNBOOK [STEP] [--attempt N] [--raw]",
	.options = "--attempt= --raw",
	.summary = "show the captured output of steps",
	.help = "Print what each attempt of STEP (or of every step) wrote, "
		"under a\n"
		"header line; text is escaped on a terminal.\n"
		"\n"
		"  --attempt N   only attempt N of STEP, bare\n"
		"  --raw         the output as stored, unescaped\n",
	.min_args = 1,
	.max_args = 2,
	.open = CMD_OPEN_READ,
	.check = cmd_log_check,
	.exec = cmd_log_exec,
};

/* The line over an attempt's output: what it was and how it ended. */
static void
log_header(const char *step, const struct attempt_row *a)
{
	struct escape_list l = { 0 };

	printf("=== %s attempt %d (%s): %s, started %s%s%s%s%s\n",
	    escape_field(&l, stdout, step), a->n, attempt_kind_name(a->kind),
	    escape_field(&l, stdout, a->state),
	    escape_field(&l, stdout, a->started_at),
	    a->ended_at ? ", ended " : "",
	    a->ended_at ? escape_field(&l, stdout, a->ended_at) : "",
	    a->message ? ": " : "",
	    a->message ? escape_field(&l, stdout, a->message) : "");
	escape_list_free(&l);
}

/* Print the attempts of one step; bare output when one is asked for. */
static int
log_step(struct state *st, int64_t run, const char *step, int n, int bare)
{
	struct attempt_row *v = NULL;
	size_t len = 0, i;

	if (state_attempts_list(st, run, step, n, &v, &len) != STATE_OK)
		return -1;
	for (i = 0; i < len; i++) {
		if (!bare)
			log_header(step, &v[i]);
		fwrite(v[i].output, 1, v[i].output_len, stdout);
		if (!bare && v[i].output_len > 0 &&
		    v[i].output[v[i].output_len - 1] != '\n')
			putchar('\n');
	}
	attempt_rows_free(v, len);
	return (int)len;
}

/* --attempt is a number, and goes with a STEP. */
static int
cmd_log_check(struct cmd_ctx *c)
{
	long long n = cmd_opt_num(c, "--attempt");

	if (n == -2)
		return EXIT_USAGE;
	if (n > 0 && c->nargs < 2) {
		fprintf(stderr, "cutover: --attempt needs a STEP\n");
		return EXIT_USAGE;
	}
	return 0;
}

static int
cmd_log_exec(struct cmd_ctx *c)
{
	struct runbook *rb = c->rb;
	struct state *st = c->st;
	struct run_info r;
	long long n = cmd_opt_num(c, "--attempt");
	struct step_row *rows = NULL;
	struct rb_step *d;
	struct rb_entity *en;
	size_t i, nrows = 0;
	int rc = EXIT_DONE, found;

	if (state_run_latest(st, 0, &r) != STATE_OK) {
		fprintf(stderr, "cutover: no run in the state file yet\n");
		return EXIT_CONFLICT;
	}
	d = c->nargs == 2 ? runbook_find_step(rb, c->args[1]) : NULL;
	if (d != NULL && runbook_step_in_lanes(rb, d) && rb->nentities > 0) {
		fprintf(stderr, "cutover: %s runs once per entity: name an "
		    "instance, e.g. %s@%s\n", d->id, d->id, rb->entities[0].id);
		run_info_free(&r);
		return EXIT_USAGE;
	}
	if (c->nargs == 2) {
		found = log_step(st, r.id, c->args[1], n > 0 ? (int)n : 0, n > 0);
		if (found == 0) {
			fprintf(stderr, "cutover: %s has no %s in run %lld\n",
			    c->args[1], n > 0 ? "such attempt" : "attempts",
			    (long long)r.id);
			rc = runbook_instance_find(rb, c->args[1], &d, &en) == 0
			    ? EXIT_CONFLICT : EXIT_USAGE;
		}
	} else if (state_steps_load(st, r.id, &rows, &nrows) == STATE_OK) {
		/* Every step and instance of the run, in runbook order. */
		for (i = 0; i < nrows; i++)
			log_step(st, r.id, rows[i].id, 0, 0);
		step_rows_free(rows, nrows);
	}
	run_info_free(&r);
	return rc;
}
