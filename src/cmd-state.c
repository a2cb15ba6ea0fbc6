/*
 * cmd-state.c - `cutover state copy FROM TO [--runbook NAME] [--run N]`:
 * copy runs between stores (a rehearsal's state file into the war-room
 * database, the night's database down to a file for the archive).
 *
 * Open runs are left out unless named with --run: a copy must not become a
 * second run to drive. Each run is copied in one transaction of the
 * destination: its row (under the next run number there), its steps, attempts
 * and decisions as they are, and its audit entries, chained anew onto the
 * destination's trail with their times, people, actions and details, then a
 * state-copy entry naming the run and the hash its last entry had in the
 * source. The source's trail is verified before, the destination's after (exit
 * 1 if either is broken).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "escape.h"
#include "xmalloc.h"

struct copy_ctx {
	struct state *to;
	const char *table;
	int64_t run;  /* the run's id in the destination */
	char *last;   /* the hash of its last entry in the source */
	int rc;
};

static int cmd_state_check(struct cmd_ctx *);
static int cmd_state_exec(struct cmd_ctx *);
static int copy_open(const char *, int, struct state **);
static size_t copy_keep(struct run_info *, size_t, const char *, long long,
    int);
static int copy_pick(struct cmd_ctx *, struct state *, struct run_info **,
    size_t *);
static int copy_verify(struct state *, const char *, const char *);
static int copy_run(struct state *, struct state *, const struct run_info *,
    int64_t *);
static int copy_rows(struct state *, struct copy_ctx *, int64_t);
static int copy_row(const struct state_row *, void *);
static int copy_run_row(const struct state_row *, void *);
static int copy_audit(const struct audit_row *, void *);

const struct cmd_entry cmd_state_entry = {
	.name = "state",
	.usage = "state copy FROM TO [--runbook NAME] [--run N]",
	.options = "--runbook= --run=",
	.summary = "copy runs between state stores (file or database)",
	.help = "Copy runs from the state FROM to the state TO, each a file or "
		"a PostgreSQL\n"
		"database (postgresql://..., postgres://..., pg:CONNINFO), with "
		"their audit\n"
		"entries chained onto TO's trail; both trails are verified (exit 1 "
		"if either\n"
		"is broken). Open runs are copied only when named with --run.\n"
		"\n"
		"  --runbook NAME   only runs of this runbook (needed when FROM "
		"holds several)\n"
		"  --run N          only run N (an open run too)\n",
	.min_args = 3,
	.max_args = 3,
	.open = CMD_OPEN_NONE,
	.check = cmd_state_check,
	.exec = cmd_state_exec,
};

static int
cmd_state_check(struct cmd_ctx *c)
{
	if (strcmp(c->args[0], "copy") != 0) {
		fprintf(stderr, "cutover: state has one subcommand, copy, not "
		    "'%s'\n", c->args[0]);
		return EXIT_USAGE;
	}
	if (cmd_opt_num(c, "--run") == -2)
		return EXIT_USAGE;
	if (cmd_opt(c, "--runbook") != NULL &&
	    *cmd_opt(c, "--runbook") == '\0') {
		fprintf(stderr, "cutover: --runbook wants a runbook name\n");
		return EXIT_USAGE;
	}
	return 0;
}

/* Open a store to copy from (create 0) or into; 0 or EXIT_CONFLICT. */
static int
copy_open(const char *path, int create, struct state **st)
{
	char *err = NULL;

	if (state_open(path, create, st, &err) == STATE_OK)
		return 0;
	fprintf(stderr, "cutover: %s\n", err);
	free(err);
	return EXIT_CONFLICT;
}

/* Keep, in order, the runs of v of runbook name (NULL: any) and number
 * want (<= 0: any), and open ones only if open; how many are kept. */
static size_t
copy_keep(struct run_info *v, size_t len, const char *name, long long want,
    int open)
{
	size_t i, k = 0;

	for (i = 0; i < len; i++) {
		if ((name != NULL && strcmp(v[i].runbook, name) != 0) ||
		    (want > 0 && v[i].id != want))
			run_info_free(&v[i]);
		else if (!open && strcmp(v[i].state, "open") == 0) {
			/* A copy must not become a second run to drive. */
			fprintf(stderr, "cutover: run %lld of %s is open: not "
			    "copied (--run %lld copies it as it is)\n",
			    (long long)v[i].id, v[i].runbook,
			    (long long)v[i].id);
			run_info_free(&v[i]);
		} else
			v[k++] = v[i];
	}
	return k;
}

/*
 * The runs to copy: those of --runbook (or of the one runbook the source
 * holds), all or only --run. 0, or an exit status after saying why.
 */
static int
copy_pick(struct cmd_ctx *c, struct state *from, struct run_info **out,
    size_t *n)
{
	const char *name = cmd_opt(c, "--runbook");
	long long want = cmd_opt_num(c, "--run");
	struct run_info *v = NULL;
	size_t len = 0, i;

	state_set_runbook(from, name);
	if (state_run_list(from, &v, &len) != STATE_OK) {
		fprintf(stderr, "cutover: %s\n", state_error(from));
		return EXIT_CONFLICT;
	}
	len = copy_keep(v, len, name, want, 1);
	for (i = 1; i < len; i++) {
		if (strcmp(v[i].runbook, v[0].runbook) != 0) {
			fprintf(stderr, "cutover: the source holds runs of "
			    "several runbooks; name one with --runbook\n");
			run_info_free_list(v, len);
			return EXIT_USAGE;
		}
	}
	if ((len = copy_keep(v, len, NULL, 0, want > 0)) == 0) {
		fprintf(stderr, "cutover: no %s%s%s to copy\n",
		    want > 0 ? "such run" : "run", name != NULL ? " of " : "",
		    name != NULL ? name : "");
		free(v);
		return EXIT_CONFLICT;
	}
	*out = v;
	*n = len;
	return 0;
}

/* Check the trail of a store (of runbook name); 0, 1 when broken. */
static int
copy_verify(struct state *st, const char *name, const char *which)
{
	int64_t bad = 0;
	char *why = NULL;
	int rc;

	state_set_runbook(st, name);
	rc = state_audit_verify(st, &bad, &why);
	if (rc > 0)
		fprintf(stderr, "cutover: the %s's audit trail is broken at "
		    "entry %lld: %s\n", which, (long long)bad, why);
	else if (rc < 0)
		fprintf(stderr, "cutover: %s\n", state_error(st));
	free(why);
	return rc == 0 ? 0 : rc > 0 ? EXIT_FAILED : EXIT_CONFLICT;
}

/* Put each row of one table of the source run into the destination,
 * naming the destination's run. */
static int
copy_row(const struct state_row *r, void *arg)
{
	struct copy_ctx *x = arg;
	struct state_row m = *r;
	char run[24];
	int i;

	snprintf(run, sizeof run, "%lld", (long long)x->run);
	for (i = 0; i < m.n; i++) {
		if (strcmp(m.name[i], "run") == 0) {
			m.value[i] = run;
			m.len[i] = strlen(run);
			m.blob[i] = 0;
		}
	}
	x->rc = state_row_put(x->to, x->table, &m, NULL);
	return x->rc != STATE_OK;
}

/* Chain one audit entry of the source run onto the destination's trail. */
static int
copy_audit(const struct audit_row *a, void *arg)
{
	struct copy_ctx *x = arg;

	free(x->last);
	x->last = xstrdup(a->hash);
	x->rc = state_audit_copy(x->to, a, x->run);
	return x->rc != STATE_OK;
}

/* The steps, attempts and decisions of run src into x->run. */
static int
copy_rows(struct state *from, struct copy_ctx *x, int64_t src)
{
	static const char *tables[] = { "steps", "attempts", "decisions",
	    "entities" };
	size_t i;

	for (i = 0; i < sizeof tables / sizeof tables[0]; i++) {
		x->table = tables[i];
		x->rc = STATE_OK;
		if (state_rows_each(from, tables[i], src, copy_row, x) !=
		        STATE_OK ||
		    x->rc != STATE_OK)
			return STATE_ERR;
	}
	return STATE_OK;
}

/* Put the run row of r in the destination; its new id into x->run. */
static int
copy_run_row(const struct state_row *row, void *arg)
{
	struct copy_ctx *x = arg;

	x->rc = state_row_put(x->to, "runs", row, &x->run);
	return 1;
}

/* Copy run r of from into to, in one transaction; its new id in *id. */
static int
copy_run(struct state *from, struct state *to, const struct run_info *r,
    int64_t *id)
{
	struct copy_ctx x = { .to = to, .rc = STATE_ERR };
	int rc;

	state_set_runbook(from, r->runbook);
	state_set_runbook(to, r->runbook);
	if (state_begin(to) != STATE_OK)
		return STATE_ERR;
	rc = state_rows_each(from, "runs", r->id, copy_run_row, &x);
	if (rc == STATE_OK)
		rc = x.rc;
	if (rc == STATE_OK)
		rc = copy_rows(from, &x, r->id);
	if (rc == STATE_OK)
		rc = state_audit_each(from, r->id, copy_audit, &x);
	if (rc == STATE_OK)
		rc = x.rc;
	if (rc == STATE_OK)
		rc = state_audit(
		    to, x.run, NULL, "state-copy",
		    "run %lld of %s "
		    "copied from another store, where its last entry's hash is "
		    "%s",
		    (long long)r->id, r->runbook,
		    x.last != NULL ? x.last : "-");
	free(x.last);
	if (rc != STATE_OK) {
		state_rollback(to);
		return rc;
	}
	*id = x.run;
	return state_commit(to);
}

static int
cmd_state_exec(struct cmd_ctx *c)
{
	struct escape_list l = { 0 };
	struct state *from = NULL, *to = NULL;
	struct run_info *v = NULL;
	size_t n = 0, i;
	int64_t id;
	int rc;

	if ((rc = copy_open(c->args[1], 0, &from)) != 0)
		return rc;
	if ((rc = copy_pick(c, from, &v, &n)) != 0 ||
	    (rc = copy_verify(from, v[0].runbook, "source")) != 0 ||
	    (rc = copy_open(c->args[2], 1, &to)) != 0)
		goto out;
	state_set_actor(to, c->operator, NULL);
	for (i = 0; i < n; i++) {
		if (copy_run(from, to, &v[i], &id) != STATE_OK) {
			fprintf(stderr, "cutover: copying run %lld: %s\n",
			    (long long)v[i].id, state_error(to));
			rc = EXIT_CONFLICT;
			goto out;
		}
		printf("copied run %lld of %s as run %lld\n",
		    (long long)v[i].id, escape_field(&l, stdout, v[i].runbook),
		    (long long)id);
	}
	if ((rc = copy_verify(to, v[0].runbook, "destination")) == 0)
		printf("audit trail intact\n");
out:
	escape_list_free(&l);
	run_info_free_list(v, n);
	state_close(from);
	state_close(to);
	return rc;
}
