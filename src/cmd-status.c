/* cmd-status.c - `cutover status RUNBOOK [--json] [--run N]`. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "duration.h"
#include "escape.h"
#include "json.h"
#include "notify.h"
#include "report.h"
#include "status-json.h"
#include "ssh-target.h"
#include "xmalloc.h"

static int cmd_status_check(struct cmd_ctx *);
static int cmd_status_exec(struct cmd_ctx *);
static void status_text(struct runbook *, struct run_info *,
    struct step_row *, size_t, struct lease_holder *, struct report_run *,
    int64_t);
static void status_entities(struct engine *);
static void status_waiting(const struct cmd_ctx *, struct run_info *,
    struct step_row *, size_t);
static void status_eta(struct report_run *);
static void status_routes(const struct runbook *);
static void status_clock(int64_t, char *, size_t);
static int status_late(struct report_run *, const char *);

const struct cmd_entry cmd_status_entry = {
	.name = "status",
	.usage = "status RUNBOOK [--json] [--run N]",
	.options = "--json --run=",
	.summary = "show the run's steps, states and ETA",
	.help = "Print the current run (or run N): who drives it, when it "
		"should end,\n"
		"and each step's state, tries and duration.\n"
		"\n"
		"  --json    print the run as one JSON object\n"
		"  --run N   show run N, not the latest\n",
	.min_args = 1,
	.max_args = 1,
	.open = CMD_OPEN_READ,
	.check = cmd_status_check,
	.exec = cmd_status_exec,
};

/* A time of day as "21:04Z", with its date first when it is not today. */
static void
status_clock(int64_t ms, char *out, size_t len)
{
	time_t t = (time_t)(ms / 1000), now = (time_t)(state_now_ms() / 1000);
	struct tm tm, today;

	gmtime_r(&t, &tm);
	gmtime_r(&now, &today);
	if (tm.tm_year == today.tm_year && tm.tm_yday == today.tm_yday)
		strftime(out, len, "%H:%MZ", &tm);
	else
		strftime(out, len, "%Y-%m-%d %H:%MZ", &tm);
}

/*
 * The ETA line: the forecast end as a time of day (UTC) and the time left,
 * the critical path against plan, late steps.
 */
static void
status_eta(struct report_run *rr)
{
	struct eta *e = &rr->eta;
	char t[32], left[32], path[32], plan[32], words[64];

	status_clock(e->finish, t, sizeof t);
	report_dur(e->remaining, left, sizeof left);
	report_dur(e->path_ms, path, sizeof path);
	report_dur(e->plan_ms, plan, sizeof plan);
	report_plan_words(e, words, sizeof words);
	if (e->complete)
		printf("finished %s; critical path %s", t, path);
	else
		printf("ETA %s (in %s); critical path %s", t, left, path);
	if (e->planned)
		printf(", plan %s: %s", plan, words);
	if (e->nlate > 0)
		printf("; %d late", e->nlate);
	printf("\n");
}

/* Is step id late (longer than planned, done or under way)? */
static int
status_late(struct report_run *rr, const char *id)
{
	struct report_step *s;

	if (rr == NULL || (s = report_find(rr, id)) == NULL)
		return 0;
	return rr->est[s - rr->steps].late;
}

/* Print the run for a person. */
static void
status_text(struct runbook *rb, struct run_info *r, struct step_row *v,
    size_t n, struct lease_holder *h, struct report_run *rr, int64_t behind)
{
	struct escape_list l = { 0 };
	struct rb_step *d;
	struct rb_entity *en;
	char dur[32];
	size_t i;

	printf("%s  run %lld  %s  %s\n", escape_field(&l, stdout, r->runbook),
	    (long long)r->id,
	    strcmp(r->mode, "live") == 0 ? "*** LIVE ***" : "REHEARSAL",
	    escape_field(&l, stdout, r->state));

	if (h->host != NULL)
		printf("driven by pid %lld on %s (operator %s)\n",
		    (long long)h->pid, escape_field(&l, stdout, h->host),
		    h->operator ? escape_field(&l, stdout, h->operator) : "?");
	if (behind >= 1000) {
		duration_format(behind, dur, sizeof dur);
		printf("clock: this machine's clock is %s behind the newest "
		    "audit entry; times recorded now keep the trail's\n", dur);
	}
	if (rr != NULL)
		status_eta(rr);
	printf("%-16s %-24s %-12s %5s %10s\n", "PHASE", "STEP", "STATE",
	    "TRIES", "DURATION");
	for (i = 0; i < n; i++) {
		runbook_instance_find(rb, v[i].id, &d, &en);
		if (v[i].duration_ms >= 0)
			duration_format(v[i].duration_ms, dur, sizeof dur);
		else
			snprintf(dur, sizeof dur, "-");
		printf("%-16s %-24s %-12s %5d %10s%s%s%s\n",
		    d ? rb->phases[d->phase].id : "?",
		    escape_field(&l, stdout, v[i].id),
		    step_state_name(v[i].state), v[i].attempts, dur,
		    status_late(rr, v[i].id) ? " late" : "",
		    v[i].note && v[i].state != ST_SUCCEEDED ? "  " : "",
		    v[i].note && v[i].state != ST_SUCCEEDED
		        ? escape_field(&l, stdout, v[i].note) : "");
	}
	escape_list_free(&l);
}

/* Under the table: the run's selection, and one line per entity. */
static void
status_entities(struct engine *e)
{
	struct escape_list l = { 0 };
	struct rb_entity *en;
	struct engine_step *s;
	size_t i, j, done, all;
	enum entity_state es;

	if (e == NULL || !runbook_has_lanes(engine_runbook(e)))
		return;
	printf("\nentities: %s (%zu)\n", escape_field(&l, stdout,
	    engine_selection_text(e)), engine_nentities(e));
	printf("%-24s %-12s %-9s %9s\n", "ENTITY", "WAVE", "STATE", "DONE");
	for (i = 0; i < engine_nentities(e); i++) {
		en = engine_entity_at(e, i);
		for (j = 0, done = 0, all = 0; j < engine_nsteps(e); j++) {
			s = engine_step_at(e, j);
			if (s->entity != en)
				continue;
			all++;
			done += s->state == ST_SUCCEEDED || s->state == ST_SKIPPED;
		}
		es = engine_entity_state(e, en);
		printf("%-24s %-12s %-9s %4zu/%-4zu%s%s\n",
		    escape_field(&l, stdout, en->id),
		    en->wave != NULL ? escape_field(&l, stdout, en->wave) : "-",
		    engine_entity_state_name(es), done, all,
		    es == ENT_EXCLUDED ? "  " : "",
		    es == ENT_EXCLUDED && engine_entity_reason(e, en) != NULL
		        ? escape_field(&l, stdout, engine_entity_reason(e, en))
		        : "");
	}
	escape_list_free(&l);
}

/* The ssh targets reached through bastions: "pos via bastion-dc1". */
static void
status_routes(const struct runbook *rb)
{
	const struct rb_target *t;
	char *path;
	size_t i;

	for (i = 0; i < rb->ntargets; i++) {
		t = &rb->targets[i];
		if (t->type != TARGET_SSH ||
		    (path = ssh_route_describe(rb, t, NULL, NULL)) == NULL)
			continue;
		if (strchr(path, ' ') != NULL)
			printf("target %s: %s\n", t->name, path);
		free(path);
	}
}

/* Under the table: what each step waiting for a person needs, and who. */
static void
status_waiting(const struct cmd_ctx *c, struct run_info *r,
    struct step_row *v, size_t n)
{
	struct rb_step *d;
	struct rb_entity *en;
	size_t i;

	if (strcmp(r->state, "open") != 0)
		return;
	for (i = 0; i < n; i++)
		if (v[i].state == ST_AWAITING &&
		    runbook_instance_find(c->rb, v[i].id, &d, &en) == 0)
			cmd_waiting_print(c, c->st, r->id, v[i].id, d,
			    v[i].undo, stdout);
}

static int
cmd_status_check(struct cmd_ctx *c)
{
	return cmd_opt_num(c, "--run") == -2 ? EXIT_USAGE : 0;
}

static int
cmd_status_exec(struct cmd_ctx *c)
{
	struct runbook *rb = c->rb;
	struct state *st = c->st;
	struct run_info r;
	struct step_row *v = NULL;
	struct lease_holder h = { 0 };
	struct report_run rr;
	struct buf b = { 0 };
	struct engine_opts o = { 0 };
	struct engine *e = NULL;
	int have_rr;
	long long want = cmd_opt_num(c, "--run");
	size_t n = 0, i;
	int rc;

	rc = want > 0 ? state_run_get(st, want, &r) : state_run_latest(st, 0, &r);
	if (rc != STATE_OK) {
		fprintf(stderr, "cutover: %s\n", rc == STATE_NOTFOUND
		        ? "no such run in the state file" : state_error(st));
		return EXIT_CONFLICT;
	}
	state_steps_load(st, r.id, &v, &n);
	if (state_lease_get(st, r.id, &h) != STATE_OK) {
		/* No live driver: what it left running was interrupted. */
		for (i = 0; i < n; i++)
			if (v[i].state == ST_RUNNING)
				v[i].state = ST_INTERRUPTED;
	}
	have_rr = report_run_timing(st, rb, r.id, &rr) == STATE_OK;
	/* An engine that only reads: entities, exclusions, evidence. */
	o.drive = ENGINE_READ;
	o.run = r.id;
	o.quiet = 1;
	if (engine_open(rb, st, &o, &e) != 0)
		e = NULL;
	if (cmd_opt(c, "--json") != NULL)
	{
		status_json(&b, st, rb, &r, v, n, have_rr ? &rr : NULL,
		    state_clock_behind(st), e);
		fputs(buf_str(&b), stdout);
		buf_free(&b);
	} else {
		status_text(rb, &r, v, n, &h, have_rr ? &rr : NULL,
		    state_clock_behind(st));
		status_entities(e);
		notify_status_text(st, r.id, stdout);
		status_waiting(c, &r, v, n);
		status_routes(rb);
	}
	engine_close(e);
	report_run_free(&rr);
	lease_holder_free(&h);
	step_rows_free(v, n);
	run_info_free(&r);
	return EXIT_DONE;
}
