/*
 * engine.c - the state machine of a run.
 *
 * Invariants kept here:
 *  - an attempt is committed as running (with its process group) before its
 *    command is released, and its outcome is committed before anything that
 *    needs the step is considered for starting;
 *  - a succeeded step is never started again;
 *  - every transition goes through a conditional update in the store, so a
 *    confirm or skip from another terminal and the driver cannot both win.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pg.h"

#include "buf.h"
#include "duration.h"
#include "engine.h"
#include "engine-int.h"
#include "exec.h"
#include "expand.h"
#include "loop.h"
#include "notify.h"
#include "step-kind.h"
#include "report.h"
#include "xmalloc.h"

#define ENGINE_POLL_MS 300   /* notice changes made by other processes */
#define ENGINE_FLUSH_MS 1000 /* store output of running attempts */
#define ENGINE_LIVE_TAIL (64 * 1024) /* of it, this much */
#define ENGINE_GROUP_WAIT_MS 10000
/* Unrenewed this long, a driver starts nothing new (the lease lasts
 * STATE_LEASE_STALE_MS). */
#define ENGINE_RENEW_GRACE_MS (STATE_LEASE_STALE_MS / 2)

#define STARTABLE_MASK (ST_BIT(ST_PENDING) | ST_BIT(ST_ROLLED_BACK))

static int engine_pick_run(struct engine *, const struct engine_opts *);
static int engine_sync(struct engine *, int);
static int engine_take_lease(struct engine *, int);
static int engine_recover(struct engine *);
static int engine_recover_one(struct engine *, struct attempt_row *);
static int engine_recovered(const struct attempt_row *, size_t, const char *);
static void engine_text_sha(struct engine *);
static int engine_orphan_end(struct engine *, const struct attempt_row *,
    char **);
static int engine_recover_lingering(struct engine *, const struct step_row *);
static int engine_recover_record(struct engine *, struct attempt_row *, int,
    const char *);
static void engine_load(struct engine *);
static int engine_launch(struct engine *, struct engine_step *, const char *,
    char **);
static void engine_fail_now(struct engine *, struct engine_step *,
    enum attempt_kind, const char *);
static void engine_output(const char *, size_t, void *);
static void engine_done(const struct exec_result *, void *);
static void engine_finish(struct engine *, struct engine_step *, int,
    const char *);
static void engine_human(struct engine *, struct engine_step *);
static void engine_checkpoint(struct engine *, struct engine_step *);
static void engine_mark_complete(struct engine *);
static void on_heartbeat(void *);
static void engine_lost(struct engine *);
static void on_poll(void *);
static void on_flush(void *);
static void on_wake(void *);
static void engine_before_poll(void *);
static void on_stop(int, void *);
static void engine_flush_step(struct engine *, struct engine_step *);
static void engine_conninfo_secrets(struct engine *);
static void engine_token(struct engine *, struct engine_step *);
static unsigned attempt_mask(enum attempt_kind);
static void engine_record_group(struct engine *, struct engine_step *);
static int engine_longest_first(const void *, const void *);
static int engine_check(struct engine *, struct engine_step *,
    enum engine_action);
static int engine_pick_selection(struct engine *, const struct engine_opts *);
static int engine_run_selection(struct engine *, const struct engine_opts *);
static int engine_row_cmp(const void *, const void *);
static int engine_sync_rows(struct engine *, int64_t, int, struct step_row *,
    size_t);
static int engine_settled(struct engine *, struct engine_step *);
static int engine_lane_gone(struct engine *, struct engine_step *);
static void engine_schedule_scan(struct engine *, int, int64_t, int64_t *);
static void engine_conninfo_password(struct engine *, const char *,
    const struct rb_entity *, size_t *);
static int engine_rollback_blocks(struct engine *, struct engine_step *);

/*
 * Passwords inside postgres conninfo strings are secrets too, whether the
 * runbook lists them or not: add them to what output is redacted of.
 */
static void
engine_conninfo_secrets(struct engine *e)
{
	const char *t;
	size_t i, n, k;

	for (n = 0; e->secrets[n] != NULL; n++)
		;
	for (i = 0; i < e->rb->ntargets; i++) {
		if (e->rb->targets[i].type != TARGET_POSTGRES ||
		    (t = e->rb->targets[i].conninfo) == NULL)
			continue;
		if (strstr(t, "${entity.") == NULL)
			engine_conninfo_password(e, t, NULL, &n);
		for (k = 0; strstr(t, "${entity.") != NULL &&
		     k < e->rb->nentities; k++) /* as each entity has it */
			engine_conninfo_password(e, t, &e->rb->entities[k], &n);
	}
	qsort(e->secrets, n, sizeof *e->secrets, engine_longest_first);
}

/* Add the password of conninfo template t, as entity en resolves it, to
 * the n secrets. */
static void
engine_conninfo_password(struct engine *e, const char *t,
    const struct rb_entity *en, size_t *n)
{
	char *conninfo, *password, *err = NULL;

	conninfo = pg_conninfo_expand_entity(e->rb, en, t, &err);
	free(err);
	if (conninfo == NULL)
		return;
	if (pg_conninfo_password(conninfo, &password, NULL) == 0 &&
	    password != NULL) {
		e->secrets = xreallocarray(e->secrets, *n + 2,
		    sizeof *e->secrets);
		e->secrets[(*n)++] = password;
		e->secrets[*n] = NULL;
	}
	free(conninfo);
}

/* Longer secrets are replaced first, so one inside another is masked. */
static int
engine_longest_first(const void *a, const void *b)
{
	size_t x = strlen(*(char *const *)a), y = strlen(*(char *const *)b);

	return x < y ? 1 : x > y ? -1 : 0;
}

/* Say what happened, on stdout, for a person following a headless run. */
void
engine_note(struct engine *e, struct engine_step *s, const char *fmt, ...)
{
	char t[32];
	va_list ap;
	char *msg, *clean;

	engine_changed(e, s != NULL ? ENGINE_CHANGED_STATE : ENGINE_CHANGED_RUN,
	    s);
	if (e->quiet)
		return;
	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	clean = outbuf_redact(e->secrets, msg);
	state_format_time(state_now_ms(), t);
	printf("%.8s %s: %s\n", t + 11, s != NULL ? s->id : "run", clean);
	fflush(stdout);
	free(clean);
	free(msg);
}

void
engine_changed(struct engine *e, unsigned what, struct engine_step *s)
{
	if (what & ENGINE_CHANGED_STATE)
		e->evidence_dirty = 1;
	if (e->hooks.changed != NULL)
		e->hooks.changed(e->hooks.arg, what, s);
}

/* Where messages go: the front end's error hook, else stderr (tmux's
 * cmdq_error). */
void
engine_error(struct engine *e, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	if (e->hooks.error != NULL)
		e->hooks.error(e->hooks.arg, msg);
	else {
		fprintf(stderr, "cutover: %s\n", msg);
		fflush(stderr);
	}
	free(msg);
}

void
engine_set_hooks(struct engine *e, const struct engine_hooks *h)
{
	if (h != NULL)
		e->hooks = *h;
	else
		memset(&e->hooks, 0, sizeof e->hooks);
}

const struct run_info *
engine_run_info(struct engine *e)
{
	return &e->run;
}

struct runbook *
engine_runbook(struct engine *e)
{
	return e->rb;
}

struct state *
engine_state(struct engine *e)
{
	return e->st;
}

size_t
engine_nsteps(struct engine *e)
{
	return e->nsteps;
}

struct engine_step *
engine_step_at(struct engine *e, size_t i)
{
	return i < e->nsteps ? &e->steps[i] : NULL;
}

int
engine_wanted(struct engine *e, size_t i)
{
	return i < e->nsteps && e->wanted[i];
}

int
engine_driving(struct engine *e)
{
	return e->driving;
}

int
engine_running(struct engine *e)
{
	return e->nrunning + (int)engine_held_count(e);
}

int
engine_halted(struct engine *e)
{
	return e->halted;
}

int
engine_stopping(struct engine *e)
{
	return e->stopping;
}

int
engine_lost_lease(struct engine *e)
{
	return e->lost_lease;
}

int
engine_rolling_back(struct engine *e)
{
	return e->rollback != NULL;
}

int
engine_hold(struct engine *e)
{
	return e->hold;
}

void
engine_set_hold(struct engine *e, int hold)
{
	e->hold = hold != 0;
	engine_changed(e, ENGINE_CHANGED_RUN, NULL);
}

int
engine_step_running(struct engine_step *s)
{
	return s->ex != NULL;
}

/* Find the run to work on, or start one. */
static int
engine_pick_run(struct engine *e, const struct engine_opts *o)
{
	int64_t id;
	int rc;

	if (o->run > 0) {
		rc = state_run_get(e->st, o->run, &e->run);
		if (rc == STATE_NOTFOUND)
			engine_error(e, "no run %lld in the state file",
			    (long long)o->run);
		return rc == STATE_OK ? 0 : EXIT_CONFLICT;
	}
	/* A bad selection is refused before an open run is abandoned. */
	if (o->selection != NULL && (rc = engine_pick_selection(e, o)) != 0)
		return rc;
	rc = state_run_latest(e->st, 1, &e->run);
	if (rc == STATE_OK && o->new_run) {
		if (state_run_set_state(e->st, e->run.id, "abandoned") != 0)
			return EXIT_CONFLICT;
		run_info_free(&e->run);
		rc = STATE_NOTFOUND;
	}
	if (rc == STATE_OK)
		return 0;
	/* A finished run is shown, not silently followed by a new one: on a
	 * live night, `run` typed twice must not start everything again. */
	if (rc == STATE_NOTFOUND && !o->new_run &&
	    state_run_latest(e->st, 0, &e->run) == STATE_OK)
		return 0;
	if (rc != STATE_NOTFOUND || !o->create) {
		if (rc == STATE_NOTFOUND)
			engine_error(e, "no open run of %s; start one "
			    "with `cutover run`", e->rb->name);
		else
			engine_error(e, "%s", state_error(e->st));
		return EXIT_CONFLICT;
	}
	if (e->steps == NULL && (rc = engine_pick_selection(e, o)) != 0)
		return rc;
	/* The run keeps a copy of the runbook, less any literal secrets. */
	if (state_begin(e->st) != STATE_OK ||
	    state_run_create(e->st, e->rb->name, o->mode ? o->mode : "rehearsal",
	        e->text, e->text_sha, &id) != STATE_OK ||
	    (o->selection != NULL && *o->selection != '\0' &&
	        state_run_set_selection(e->st, id, o->selection) != STATE_OK) ||
	    engine_sync(e, 1) != 0 || state_commit(e->st) != STATE_OK) {
		state_rollback(e->st);
		engine_error(e, "%s", state_error(e->st));
		return EXIT_CONFLICT;
	}
	return state_run_get(e->st, id, &e->run) == STATE_OK ? 0 : EXIT_CONFLICT;
}

/* The selection of a new run: its entities, and its step table. */
static int
engine_pick_selection(struct engine *e, const struct engine_opts *o)
{
	char *err = NULL;

	if (engine_select(e, o->selection, 1, &err) != 0) {
		engine_error(e, "%s", err);
		free(err);
		return EXIT_USAGE;
	}
	engine_build(e);
	return 0;
}

/*
 * The step table of an existing run, from its selection. A selection
 * given for it must be the same: another is a new run's.
 */
static int
engine_run_selection(struct engine *e, const struct engine_opts *o)
{
	const char *have = e->run.selection != NULL ? e->run.selection : "";
	char *err = NULL;

	engine_unbuild(e); /* built from the selection given, if any */
	if (o->selection != NULL) {
		if (engine_select(e, o->selection, 1, &err) != 0) {
			engine_error(e, "%s", err);
			free(err);
			return EXIT_USAGE;
		}
		if (strcmp(o->selection, have) != 0) {
			engine_error(e, "run %lld covers %s; to run another "
			    "selection of entities start a new run with "
			    "--new-run", (long long)e->run.id,
			    engine_selection_text(e));
			return EXIT_USAGE;
		}
	}
	engine_select(e, have, 0, &err);
	free(err);
	engine_build(e);
	return 0;
}

/*
 * Bring the run's steps in line with the runbook. Steps with attempts that
 * were changed or removed are a conflict unless accepted; the rest follow
 * the runbook silently. Runs inside the caller's transaction when fresh.
 */
static int
engine_sync(struct engine *e, int fresh)
{
	struct step_row *rows = NULL;
	size_t n = 0, i;
	struct rb_step *d;
	struct engine_step *s;
	struct buf changed = { 0 };
	int64_t run = fresh ? 0 : e->run.id;
	int rc = 0, rule = e->run.step_hash;

	if (fresh) {
		struct run_info r;

		if (state_run_latest(e->st, 1, &r) != STATE_OK)
			return -1;
		run = r.id;
		rule = r.step_hash;
		run_info_free(&r);
	}
	if (state_steps_load(e->st, run, &rows, &n) != STATE_OK)
		return -1;
	for (i = 0; i < n; i++) {
		s = engine_find(e, rows[i].id);
		d = s != NULL ? s->def : NULL;
		/* Started: has attempts, or a person acted on it. */
		if ((rows[i].attempts > 0 || rows[i].state != ST_PENDING) &&
		    (d == NULL ||
		        strcmp(runbook_step_sha(d, rule), rows[i].def_sha) != 0))
			buf_printf(&changed, "%s%s (%s)", changed.len ? ", " : "",
			    rows[i].id, d == NULL ? "removed" : "changed");
	}
	if (changed.len > 0 && !fresh && !e->accept_changes) {
		engine_error(e, "the runbook changed under run %lld: "
		    "%s; review, then open it with --accept-changes",
		    (long long)run, changed.data);
		rc = EXIT_CONFLICT;
		goto out;
	}
	if (!fresh && strcmp(e->run.runbook_sha, e->text_sha) == 0)
		goto out;
	for (i = 0; rc == 0 && i < n; i++) {
		if (engine_find(e, rows[i].id) == NULL &&
		    rows[i].attempts == 0 && rows[i].state == ST_PENDING)
			rc = state_step_delete(e->st, run, rows[i].id);
	}
	rc = rc == 0 ? engine_sync_rows(e, run, rule, rows, n) : rc;
	if (rc == 0 && !fresh) {
		rc = state_run_set_runbook(e->st, run, e->text, e->text_sha);
		if (rc == 0)
			rc = state_audit(e->st, run, NULL, "runbook-change",
			    "sha256=%s%s%s", e->text_sha,
			    changed.len ? "; accepted changes: " : "",
			    changed.len ? changed.data : "");
	}
	if (rc != 0)
		rc = -1;
out:
	buf_free(&changed);
	step_rows_free(rows, n);
	return rc;
}

/* Step rows by id. */
static int
engine_row_cmp(const void *a, const void *b)
{
	return strcmp(((const struct step_row *)a)->id,
	    ((const struct step_row *)b)->id);
}

/*
 * Insert the rows of steps the run lacks and bring the others' place
 * (idx: the table index, which keeps runbook order with instances in
 * entity order) and definition up to date.
 */
static int
engine_sync_rows(struct engine *e, int64_t run, int rule,
    struct step_row *rows, size_t n)
{
	struct step_row key, *r;
	struct engine_step *s;
	size_t i;
	int rc = 0;

	qsort(rows, n, sizeof *rows, engine_row_cmp);
	memset(&key, 0, sizeof key);
	for (i = 0; rc == 0 && i < e->nsteps; i++) {
		s = &e->steps[i];
		key.id = s->id;
		r = bsearch(&key, rows, n, sizeof *rows, engine_row_cmp);
		if (r != NULL && r->idx == (int)i &&
		    strcmp(r->def_sha, runbook_step_sha(s->def, rule)) == 0)
			continue;
		if (r != NULL)
			rc = state_step_update_def(e->st, run, s->id, (int)i,
			    runbook_step_sha(s->def, rule));
		else
			rc = state_step_insert(e->st, run, s->id, (int)i,
			    runbook_step_sha(s->def, rule));
	}
	return rc;
}

/* Take the one-driver lease, or explain who holds it. */
static int
engine_take_lease(struct engine *e, int quiet)
{
	struct lease_holder h;
	int took, rc;

	rc = state_lease_acquire(e->st, e->run.id, e->host, (int64_t)getpid(),
	    &h, &took);
	if (rc == STATE_CONFLICT) {
		if (!quiet)
			engine_error(e, "run %lld is driven by pid %lld "
			    "on %s (operator %s); follow it with `cutover status`, "
			    "or stop it first", (long long)e->run.id,
			    (long long)h.pid, h.host,
			    h.operator != NULL ? h.operator : "?");
		lease_holder_free(&h);
		return EXIT_CONFLICT;
	}
	if (rc != STATE_OK) {
		engine_error(e, "%s", state_error(e->st));
		return EXIT_CONFLICT;
	}
	e->driving = 1;
	e->renewed = loop_now();
	return 0;
}

/*
 * Attempts recorded running belong to a driver that died: each kind's
 * executor finds and ends what is left of them (so two copies never run).
 * Gone: the attempt ends interrupted (a rollback action waits for a
 * person); cannot tell: the step waits for a person; would not end: stop.
 * Then the interrupted steps of kinds whose commands may linger.
 */
static int
engine_recover(struct engine *e)
{
	struct attempt_row *v = NULL;
	struct step_row *rows = NULL;
	struct engine_step *s;
	size_t n = 0, nv = 0, i;
	int rc = 0;

	if (state_attempts_running(e->st, e->run.id, &v, &nv) != STATE_OK)
		return EXIT_CONFLICT;
	for (i = 0; i < nv && rc == 0; i++)
		rc = engine_recover_one(e, &v[i]);
	if (rc == 0 && state_steps_load(e->st, e->run.id, &rows, &n) != STATE_OK)
		rc = EXIT_CONFLICT;
	/* A step whose attempt was just ended above has nothing left to end:
	 * asking its host again would only cost another connection. */
	for (i = 0; rows != NULL && i < n && rc == 0; i++) {
		if (rows[i].state == ST_INTERRUPTED &&
		    !engine_recovered(v, nv, rows[i].id) &&
		    (s = engine_find(e, rows[i].id)) != NULL &&
		    step_kind(s->def->type)->lingers)
			rc = engine_recover_lingering(e, &rows[i]);
	}
	step_rows_free(rows, n);
	attempt_rows_free(v, nv);
	return rc;
}

/* Whether one of the n attempts v is of step id. */
static int
engine_recovered(const struct attempt_row *v, size_t n, const char *id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i].step, id) == 0)
			return 1;
	return 0;
}

/*
 * Ask the executor of attempt a's step to end what is left of it: an
 * EXEC_ORPHAN_* result, *why as recover() says (caller frees).
 */
static int
engine_orphan_end(struct engine *e, const struct attempt_row *a, char **why)
{
	struct engine_step *s = engine_find(e, a->step);
	const struct exec_ops *ops = &exec_local_ops;
	struct rb_step gone;
	struct exec_orphan o;

	*why = NULL;
	memset(&o, 0, sizeof o);
	if (s != NULL) {
		ops = step_kind(s->def->type)->ops;
		o.def = s->def;
		o.target = s->def->target;
		o.entity = s->entity;
	} else {
		/* Removed from the runbook (changes accepted): look for its
		 * local processes, as for any step. */
		memset(&gone, 0, sizeof gone);
		gone.id = a->step;
		o.def = &gone;
	}
	o.rb = e->rb;
	o.kind = (int)a->kind;
	o.token = a->token;
	o.host = a->host;
	o.pgid = a->pgid;
	o.started_ms = a->started_at != NULL ? report_parse_time(a->started_at)
	    : -1;
	if (ops == NULL || ops->recover == NULL)
		return EXEC_ORPHAN_GONE;
	return ops->recover(&o, ENGINE_GROUP_WAIT_MS, why);
}

/* End what is left of attempt a of a dead driver; record what was found. */
static int
engine_recover_one(struct engine *e, struct attempt_row *a)
{
	char *why = NULL;
	int found = engine_orphan_end(e, a, &why), rc;

	if (found == EXEC_ORPHAN_STUCK) {
		engine_error(e, "%s", why != NULL ? why
		    : "an attempt of a dead driver would not end");
		free(why);
		return EXIT_CONFLICT;
	}
	rc = engine_recover_record(e, a, found == EXEC_ORPHAN_UNKNOWN, why);
	free(why);
	return rc;
}

/*
 * A step interrupted by a driver that stopped (not died) may have left its
 * command running where the stop could not end it (a remote command that
 * ignores the hangup): before it is verified or run again, its executor
 * ends what is left of its last attempt. Cannot tell: a person decides.
 */
static int
engine_recover_lingering(struct engine *e, const struct step_row *r)
{
	struct attempt_row *v = NULL;
	size_t n = 0;
	char *why = NULL, *note;
	int found, rc = 0;

	if (state_attempts_list(e->st, e->run.id, r->id, 0, &v, &n) !=
	    STATE_OK)
		return EXIT_CONFLICT;
	if (n == 0 || v[n - 1].token == NULL ||
	    strcmp(v[n - 1].state, "interrupted") != 0) {
		attempt_rows_free(v, n);
		return 0;
	}
	found = engine_orphan_end(e, &v[n - 1], &why);
	if (found == EXEC_ORPHAN_STUCK) {
		engine_error(e, "%s", why != NULL ? why
		    : "an interrupted attempt would not end");
		rc = EXIT_CONFLICT;
	} else if (found == EXEC_ORPHAN_UNKNOWN) {
		xasprintf(&note, "interrupted; %s: confirm, retry or skip it",
		    why != NULL ? why : "cannot tell whether it still runs");
		if (state_step_transition(e->st, e->run.id, r->id,
		        ST_BIT(ST_INTERRUPTED), ST_AWAITING, note, "interrupt",
		        NULL) != STATE_OK)
			rc = EXIT_CONFLICT;
		free(note);
	}
	free(why);
	attempt_rows_free(v, n);
	return rc;
}

/*
 * Mark attempt a interrupted. Its step becomes interrupted (verify next),
 * or awaiting a person when it was a rollback action or unknown is set
 * (why says what to check).
 */
static int
engine_recover_record(struct engine *e, struct attempt_row *a, int unknown,
    const char *why)
{
	char *msg, *note = NULL;
	int person = unknown || a->kind == ATT_ROLLBACK;
	int rc = 0;

	xasprintf(&msg, "interrupted: its driver (on %s) stopped%s%s",
	    a->host != NULL ? a->host : "?", !unknown && why != NULL ? "; " : "",
	    !unknown && why != NULL ? why : "");
	if (unknown)
		xasprintf(&note, "%s; %s: confirm, retry or skip it", msg,
		    why != NULL ? why : "cannot tell whether it still runs");
	else if (a->kind == ATT_ROLLBACK)
		note = xstrdup("rollback interrupted: confirm it if it is undone, "
		    "or retry it to run its rollback action again");
	if (state_begin(e->st) != STATE_OK ||
	    state_attempt_interrupt(e->st, e->run.id, a->step, a->n, msg) !=
	        STATE_OK ||
	    state_step_transition(e->st, e->run.id, a->step, ST_BIT(ST_RUNNING),
	        person ? ST_AWAITING : ST_INTERRUPTED, note != NULL ? note : msg,
	        "interrupt", NULL) != STATE_OK ||
	    state_commit(e->st) != STATE_OK) {
		state_rollback(e->st);
		rc = EXIT_CONFLICT;
	}
	free(note);
	free(msg);
	return rc;
}

/* Fill the step table from the store (all steps not running here). */
static void
engine_load(struct engine *e)
{
	struct step_row *rows = NULL;
	struct engine_step *s;
	size_t n = 0, i;

	if (state_steps_load(e->st, e->run.id, &rows, &n) != STATE_OK)
		return;
	free(e->rollback_to);
	state_run_rollback_to(e->st, e->run.id, NULL, &e->rollback_to);
	engine_lanes_load(e);
	for (i = 0; i < n; i++) {
		if ((s = engine_find(e, rows[i].id)) == NULL || s->ex != NULL)
			continue;
		s->state = rows[i].state;
		s->attempts = rows[i].attempts;
		s->undo = rows[i].undo;
		s->done_ms = rows[i].done_ms;
		free(s->note);
		s->note = rows[i].note;
		rows[i].note = NULL;
	}
	step_rows_free(rows, n);
	e->evidence_dirty = 1;
}

/*
 * The runbook as runs keep it, literal secrets redacted, and its SHA-256
 * (with the entities file's, when there is one): what a run records and
 * compares, so that no stored hash covers a secret.
 */
static void
engine_text_sha(struct engine *e)
{
	struct sha256_ctx *c = sha256_begin();

	e->text = outbuf_redact(e->secrets, e->rb->text);
	sha256_add(c, e->text, strlen(e->text));
	if (e->rb->entities_sha256[0] != '\0') {
		sha256_add(c, "", 1);
		sha256_add(c, e->rb->entities_sha256, 64);
	}
	sha256_end(c, e->text_sha);
}

int
engine_open(struct runbook *rb, struct state *st, const struct engine_opts *o,
    struct engine **out)
{
	struct engine *e = xcalloc(1, sizeof *e);
	int rc;

	*out = NULL;
	e->rb = rb;
	e->st = st;
	notify_subscribe(st, rb); /* transitions put their events out */
	e->quiet = o->quiet;
	e->accept_changes = o->accept_changes;
	gethostname(e->host, sizeof e->host - 1);
	e->secrets = expand_secret_values(rb);
	engine_conninfo_secrets(e);
	engine_text_sha(e);
	if ((rc = engine_pick_run(e, o)) != 0 ||
	    (rc = engine_run_selection(e, o)) != 0)
		goto fail;
	if (strcmp(e->run.runbook, rb->name) != 0) {
		engine_error(e, "the state file holds runbook %s, not "
		    "%s; use --state to choose another file", e->run.runbook,
		    rb->name);
		rc = EXIT_CONFLICT;
		goto fail;
	}
	if (o->drive != ENGINE_READ) {
		rc = engine_take_lease(e, o->drive == ENGINE_TRY_DRIVE);
		if (rc != 0 && o->drive == ENGINE_DRIVE)
			goto fail;
		rc = 0;
	}
	if (e->driving && strcmp(e->run.state, "abandoned") != 0) {
		if ((rc = engine_sync(e, 0)) != 0 ||
		    (rc = engine_recover(e)) != 0) {
			if (rc < 0) {
				engine_error(e, "%s", state_error(st));
				rc = EXIT_CONFLICT;
			}
			goto fail;
		}
	}
	engine_load(e);
	*out = e;
	return 0;
fail:
	engine_close(e);
	return rc;
}

void
engine_close(struct engine *e)
{
	size_t i;

	if (e == NULL)
		return;
	for (i = 0; i < e->nsteps; i++) {
		if (e->steps[i].ex != NULL)
			e->steps[i].ops->free(e->steps[i].ex);
		outbuf_free(&e->steps[i].out);
		free(e->steps[i].note);
	}
	if (e->rollback != NULL) {
		engine_rollback_plan_free(&e->rollback->plan);
		free(e->rollback);
	}
	if (e->driving)
		state_lease_release(e->st, e->run.id);
	step_kind_shutdown();
	engine_held_free(e);
	notify_stop(e->notify);
	if (e->loop != NULL)
		loop_free(e->loop);
	expand_free_list(e->secrets);
	free(e->text);
	free(e->rollback_to);
	free(e->why);
	engine_lanes_free(e);
	run_info_free(&e->run);
	free(e->wanted);
	free(e->steps);
	free(e);
}

int
engine_set_until(struct engine *e, const char *id)
{
	struct engine_step *s = engine_find(e, id);
	size_t i, j;
	int grew = 1;

	if (s == NULL)
		return -1;
	memset(e->wanted, 0, e->nsteps);
	e->wanted[s->index] = 1;
	/* Steps only need earlier-or-any steps; iterate to a fixed point. */
	while (grew) {
		grew = 0;
		for (i = 0; i < e->nsteps; i++) {
			if (!e->wanted[i])
				continue;
			for (j = 0; j < e->steps[i].ndeps; j++) {
				if (!e->wanted[e->steps[i].deps[j]]) {
					e->wanted[e->steps[i].deps[j]] = 1;
					grew = 1;
				}
			}
		}
	}
	return 0;
}

void
engine_set_only(struct engine *e, struct engine_step *s)
{
	memset(e->wanted, 0, e->nsteps);
	e->wanted[s->index] = 1;
}

/* Are all the steps s needs succeeded or skipped? */
int
deps_done(struct engine *e, struct engine_step *s)
{
	size_t i;

	for (i = 0; i < s->ndeps; i++) {
		if (!engine_dep_done(e, &e->steps[s->deps[i]]))
			return 0;
	}
	return 1;
}

void
engine_schedule(struct engine *e)
{
	int64_t now = loop_now(), wake = -1;

	if (e->rollback != NULL) {
		engine_rollback_advance(e);
		return;
	}
	if (e->rollback_to != NULL && engine_rollback_blocks(e, NULL))
		return; /* forward waits until the rollback is finished */
	engine_lanes_pass(e);
	engine_lanes_undo(e);
	engine_evidence_sweep(e);
	engine_schedule_scan(e, 0, now, &wake);
	if (engine_lanes_grant(e)) /* free places, in order of entities */
		engine_schedule_scan(e, 1, now, &wake);
	if (wake >= 0 && e->loop != NULL && e->wake == NULL)
		e->wake = loop_timer_add(e->loop, wake - now, on_wake, e);
}

/*
 * One scan of the step table: start what may start. Pass 0 starts only in
 * lanes that hold a place and notes those that want one; pass 1 only in
 * the lanes engine_lanes_grant gave a place since.
 */
static void
engine_schedule_scan(struct engine *e, int pass, int64_t now, int64_t *wake)
{
	struct engine_step *s;
	size_t i;

	for (i = 0; i < e->nsteps; i++) {
		s = &e->steps[i];
		if (!e->wanted[i] || s->ex != NULL || e->halted || e->stopping ||
		    e->unrenewed || engine_held_blocked(e))
			continue;
		if (pass == 1 && !engine_lane_granted(e, s))
			continue;
		/* A kill between a lane's failure and its exclusion: now. */
		if (s->state == ST_FAILED && s->entity != NULL)
			engine_lane_failed(e, s, step_kind_is_gate(s->def->type));
		if (engine_lane_gone(e, s) ||
		    (e->rollback_to != NULL && engine_rollback_blocks(e, s)))
			continue;
		if (!(STARTABLE_MASK & ST_BIT(s->state)) &&
		    s->state != ST_INTERRUPTED)
			continue;
		if (!deps_done(e, s) || !engine_lane_place(e, s))
			continue;
		if (step_kind_is_person(s->def->type)) {
			engine_human(e, s);
			continue;
		}
		if (e->hold || !engine_lane_may_start(e, s))
			continue;
		if (s->not_before > now) {
			if (*wake < 0 || s->not_before < *wake)
				*wake = s->not_before;
			continue;
		}
		if (s->state == ST_INTERRUPTED) {
			if (s->def->verify != NULL)
				engine_start(e, s, ATT_VERIFY);
			else if (engine_own(e) == 0 &&
			    engine_commit(e, state_step_transition(e->st,
			        e->run.id, s->id, ST_BIT(ST_INTERRUPTED),
			        ST_AWAITING, "interrupted without verify: retry, "
			        "confirm or skip it", "await", NULL)) == STATE_OK) {
				s->state = ST_AWAITING;
				engine_note(e, s, "interrupted and has no verify; "
				    "waiting for retry, confirm or skip");
			}
			continue;
		}
		if (s->tries_left == 0 && s->not_before == 0)
			s->tries_left = s->def->retries + 1;
		engine_start(e, s, ATT_RUN);
		engine_lane_started(e, s);
	}
}

/* A manual step or checkpoint whose needs are done waits for a person. */
static void
engine_human(struct engine *e, struct engine_step *s)
{
	if (step_kind_is_gate(s->def->type)) {
		engine_checkpoint(e, s);
		return;
	}
	if (s->state == ST_AWAITING)
		return;
	if (engine_own(e) == 0 &&
	    engine_commit(e, state_step_transition(e->st, e->run.id,
	        s->id, STARTABLE_MASK | ST_BIT(ST_INTERRUPTED), ST_AWAITING,
	        NULL, "await", "manual step waits for confirm")) == STATE_OK) {
		s->state = ST_AWAITING;
		engine_note(e, s, "waiting for a person (manual%s%s)",
		    s->def->owner ? ", owner " : "",
		    s->def->owner ? s->def->owner : "");
	}
}

/* Count the decisions at a checkpoint and move it on when they suffice. */
static void
engine_checkpoint(struct engine *e, struct engine_step *s)
{
	int go = 0, nogo = 0, mine = 0;
	enum step_state to = ST_AWAITING;

	if (state_decision_count(e->st, e->run.id, s->id, &go, &nogo,
	        &mine) != STATE_OK)
		return;
	if (go > 0 && nogo == 0 && s->state != ST_SUCCEEDED &&
	    engine_evidence_void(e, s, NULL) > 0 &&
	    state_decision_count(e->st, e->run.id, s->id, &go, &nogo,
	        &mine) != STATE_OK)
		return;
	if (nogo > 0)
		to = ST_FAILED;
	else if (go >= s->def->approvals)
		to = ST_SUCCEEDED;
	if (to == s->state)
		return;
	if (engine_own(e) != 0 ||
	    engine_commit(e, state_step_transition(e->st, e->run.id,
	        s->id, STARTABLE_MASK | ST_BIT(ST_AWAITING), to,
	        to == ST_FAILED ? "no-go" : NULL, "checkpoint", NULL)) !=
	        STATE_OK)
		return;
	s->state = to;
	if (to == ST_FAILED && s->entity == NULL)
		e->halted = 1;
	engine_note(e, s, "%s (%d of %d go)", to == ST_AWAITING
	        ? "waiting for go/no-go" : to == ST_FAILED ? "no-go" : "go",
	    go, s->def->approvals);
	if (to == ST_FAILED && s->entity != NULL)
		engine_lane_failed(e, s, 1);
}

/* The states a step may be in when an attempt of kind begins. */
static unsigned
attempt_mask(enum attempt_kind kind)
{
	if (kind == ATT_ROLLBACK)
		return ST_BIT(ST_SUCCEEDED) | ST_BIT(ST_ROLLBACK_FAILED) |
		    ST_BIT(ST_AWAITING);
	return STARTABLE_MASK | ST_BIT(ST_INTERRUPTED) | ST_BIT(ST_FAILED) |
	    ST_BIT(ST_AWAITING);
}

/* Record an attempt that could not even start, as failed. */
static void
engine_fail_now(struct engine *e, struct engine_step *s,
    enum attempt_kind kind, const char *msg)
{
	int n;
	unsigned mask = attempt_mask(kind);

	if (engine_own(e) != 0 ||
	    engine_commit(e, state_attempt_begin(e->st, e->run.id, s->id,
	        kind, mask, e->host, 0, 0, NULL, &n)) != STATE_OK)
		return;
	s->attempt = n;
	s->kind = kind;
	if (kind != ATT_ROLLBACK)
		s->attempts++;
	s->started = loop_now();
	s->exit_code = -1;
	s->tries_left = 1;
	engine_finish(e, s, 0, msg);
}

/* Prepare, record, then release one command of a step. */
static int
engine_launch(struct engine *e, struct engine_step *s, const char *text,
    char **err)
{
	struct exec_req req;
	char *cmd, *env[6];
	int rc = -1, i;

	if ((cmd = expand_text_entity(e->rb, s->entity, text, err)) == NULL)
		return -1;
	xasprintf(&env[0], "CUTOVER_MODE=%s", e->run.mode);
	xasprintf(&env[1], "CUTOVER_RUN=%lld", (long long)e->run.id);
	xasprintf(&env[2], "CUTOVER_STEP=%s", s->id);
	xasprintf(&env[3], "CUTOVER_ATTEMPT=%s", s->token);
	env[4] = s->entity != NULL ? xprintf("CUTOVER_ENTITY=%s", s->entity->id)
	                           : NULL;
	env[5] = NULL;
	memset(&req, 0, sizeof req);
	req.loop = e->loop;
	req.rb = e->rb;
	req.target = s->def->target;
	req.step = s->id;
	req.def = s->def;
	req.entity = s->entity;
	req.shell = e->rb->shell;
	req.command = cmd;
	req.env = (const char *const *)env;
	req.timeout_ms = s->def->timeout_ms;
	req.verify = text == s->def->verify;
	req.output = engine_output;
	req.done = engine_done;
	req.arg = s;
	req.st = e->st; /* reconcile keeps every difference there */
	s->ex = s->ops->start(&req, err);
	if (s->ex != NULL)
		rc = 0;
	free(cmd);
	for (i = 0; env[i] != NULL; i++)
		free(env[i]);
	return rc;
}

/* A token no other attempt carries: run, step, time, pid, a counter. */
static void
engine_token(struct engine *e, struct engine_step *s)
{
	static unsigned count;
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(s->token, sizeof s->token, "%lld.%zu.%llx.%x.%x",
	    (long long)e->run.id, s->index,
	    (unsigned long long)ts.tv_sec * 1000000000ULL + (unsigned long long)ts.tv_nsec,
	    (unsigned)getpid(), ++count);
}

/*
 * Record the process group of a command just started. It need not be
 * durable: the attempt is already recorded running with its token, by
 * which a later driver finds the command if this record is lost.
 */
static void
engine_record_group(struct engine *e, struct engine_step *s)
{
	int64_t g;

	if (s->ex == NULL || (g = s->ops->pgid(s->ex)) <= 0)
		return;
	state_set_durable(e->st, 0);
	if (engine_own(e) == 0)
		engine_commit(e, state_attempt_set_pid(e->st, e->run.id,
		    s->id, s->attempt, g, g));
	state_set_durable(e->st, 1);
}

/* Start an attempt of kind on step s. */
void
engine_start(struct engine *e, struct engine_step *s, enum attempt_kind kind)
{
	unsigned mask = attempt_mask(kind);
	const char *text = kind == ATT_VERIFY ? s->def->verify
	    : kind == ATT_ROLLBACK ? s->def->rollback : s->def->run;
	char *err = NULL;

	int n, rc;

	s->ops = step_kind(s->def->type)->ops;
	if (s->ops == NULL) {
		xasprintf(&err, "%s steps are not supported yet",
		    step_type_name(s->def->type));
		engine_fail_now(e, s, kind, err);
		free(err);
		return;
	}
	engine_token(e, s);
	if (engine_launch(e, s, text, &err) != 0) {
		engine_fail_now(e, s, kind, err);
		free(err);
		return;
	}
	rc = engine_own(e);
	if (rc == 0)
		rc = engine_commit(e, state_attempt_begin(e->st, e->run.id,
		    s->id, kind, mask, e->host, 0, 0, s->token, &n));
	if (rc != STATE_OK) {
		/* Someone else moved the step (skip from another terminal). */
		s->ops->cancel(s->ex, "not started");
		s->ops->free(s->ex);
		s->ex = NULL;
		engine_reload(e);
		return;
	}
	outbuf_free(&s->out);
	outbuf_init(&s->out, e->secrets);
	s->attempt = n;
	s->kind = kind;
	s->phase = kind == ATT_VERIFY ? PH_VERIFY : PH_RUN;
	s->state = ST_RUNNING;
	s->attempts++;
	s->started = loop_now();
	e->nrunning++;
	s->ops->release(s->ex);
	engine_record_group(e, s);
	engine_note(e, s, "%s (attempt %d%s)", kind == ATT_ROLLBACK
	        ? "rolling back" : "running", n,
	    kind == ATT_VERIFY ? ", verify after interruption" : "");
}

static void
engine_output(const char *p, size_t n, void *arg)
{
	struct engine_step *s = arg;

	outbuf_add(&s->out, p, n);
	s->out_gen++;
	engine_changed(s->e, ENGINE_CHANGED_OUTPUT, s);
}

/* An executor finished a command of step s. */
static void
engine_done(const struct exec_result *r, void *arg)
{
	struct engine_step *s = arg;
	struct engine *e = s->e;
	struct exec *ex = s->ex;
	char *err = NULL, *hdr;

	s->exit_code = r->exit_code;
	s->ex = NULL;
	if (r->result != NULL)
		engine_held_result(e, s, r->result);
	if (r->ok && s->kind == ATT_RUN && s->def->verify != NULL &&
	    e->stopping) {
		/* Never succeeded without its verify: resume will check. */
		e->nrunning--;
		engine_finish(e, s, 0, "stopped before its verify ran");
		s->ops->free(ex);
		return;
	}
	if (r->ok && s->kind == ATT_RUN && s->phase == PH_RUN &&
	    s->def->verify != NULL) {
		s->ops->free(ex);
		xasprintf(&hdr, "[cutover: verify: %s]\n", s->def->verify);
		outbuf_add(&s->out, hdr, strlen(hdr));
		free(hdr);
		if (engine_launch(e, s, s->def->verify, &err) == 0) {
			s->phase = PH_VERIFY;
			s->ops->release(s->ex);
			engine_record_group(e, s);
			return;
		}
		e->nrunning--;
		engine_finish(e, s, 0, err);
		free(err);
		return;
	}
	e->nrunning--;
	if (!r->ok && s->phase == PH_VERIFY && !r->timed_out && !e->stopping &&
	    !r->unknown &&
	    (r->message == NULL || strncmp(r->message, "verify ", 7) != 0)) {
		xasprintf(&err, "verify failed: %s", r->message != NULL
		        ? r->message : "not true");
		engine_finish(e, s, 0, err);
		free(err);
	} else
		engine_finish(e, s, r->unknown && !r->ok ? -1 : r->ok,
		    r->message);
	s->ops->free(ex);
}

/*
 * Record the outcome of the current attempt of s, and decide what the step
 * becomes: succeeded, pending again (a retry, or a run after a failed
 * verify-after-interruption), interrupted (we were stopped, or ok < 0:
 * the outcome is unknown) or failed.
 */
static void
engine_finish(struct engine *e, struct engine_step *s, int ok,
    const char *msg)
{
	enum step_state to;
	const char *astate = ok > 0 ? "succeeded" : "failed";
	char *out, *note = NULL, d[32];
	size_t len;
	int stop = e->stopping || ok < 0; /* ok < 0: outcome unknown */
	int given = ok, tries = s->tries_left, owned;

	if (engine_held_take(e, s, ok, msg))
		return; /* the store is down: written when it is back */
	ok = ok > 0;
	if (s->kind == ATT_ROLLBACK)
		to = ok ? ST_ROLLED_BACK : stop ? ST_AWAITING
		                                : ST_ROLLBACK_FAILED;
	else if (ok)
		to = ST_SUCCEEDED;
	else if (stop) {
		to = ST_INTERRUPTED;
		astate = "interrupted";
	} else if (s->kind == ATT_VERIFY)
		to = engine_held_foreign(e, s) ? ST_AWAITING : ST_PENDING;
	else if (--s->tries_left > 0)
		to = ST_PENDING;
	else
		to = ST_FAILED;
	if (ok && s->kind == ATT_VERIFY)
		msg = "verified after interruption";
	if (s->kind == ATT_ROLLBACK && !ok && stop)
		astate = "interrupted";
	outbuf_close(&s->out);
	out = outbuf_render(&s->out, &len);
	if (msg != NULL)
		note = outbuf_redact(e->secrets, msg);
	if ((owned = engine_own(e) == 0) == 0 ||
	    engine_commit(e, state_attempt_finish(e->st, e->run.id, s->id,
	        s->attempt, astate, s->exit_code, note, out, len, s->out.total,
	        to)) != STATE_OK) {
		free(out);
		free(note);
		if (!e->lost_lease && engine_held_check(e)) {
			s->tries_left = tries; /* held: decided again later */
			engine_held_add(e, s, given, msg);
			return;
		}
		if (owned && !e->lost_lease)
			fatalx(EXIT_CONFLICT, "cannot record the outcome of "
			    "%s: %s", s->id, state_error(e->st));
		/* Taken over: the new driver owns this attempt now. */
		s->phase = PH_IDLE;
		return;
	}
	free(out);
	s->state = to;
	s->phase = PH_IDLE;
	free(s->note);
	s->note = note;
	duration_format(loop_now() - s->started, d, sizeof d);
	if (to == ST_PENDING && s->kind == ATT_RUN) {
		s->not_before = loop_now() + s->def->retry_delay_ms;
		engine_note(e, s, "attempt %d failed (%s); retrying", s->attempt,
		    note ? note : "");
	} else if (to == ST_PENDING) {
		s->not_before = 0;
		s->tries_left = 0;
		engine_note(e, s, "verify after interruption failed; "
		    "running it again");
	} else {
		s->not_before = 0;
		s->tries_left = 0;
		s->undo = s->kind == ATT_ROLLBACK &&
		    (to == ST_AWAITING || to == ST_ROLLBACK_FAILED);
		if ((to == ST_FAILED || to == ST_ROLLBACK_FAILED) &&
		    s->entity == NULL)
			e->halted = 1;
		engine_note(e, s, "%s after %s%s%s", step_state_name(to), d,
		    note ? ": " : "", note ? note : "");
		if (to == ST_FAILED && s->kind != ATT_ROLLBACK)
			engine_lane_failed(e, s, 0);
	}
}

void
engine_finish_again(struct engine *e, struct engine_step *s, int ok,
    const char *msg)
{
	engine_finish(e, s, ok, msg);
}

int
engine_busy(struct engine *e)
{
	size_t i;

	if (e->nrunning > 0 || engine_held_count(e) > 0)
		return 1;
	if (e->halted || e->stopping)
		return 0;
	for (i = 0; i < e->nsteps; i++) {
		if (e->wanted[i] && e->steps[i].not_before > 0 &&
		    e->steps[i].state == ST_PENDING)
			return 1;
	}
	return 0;
}

/*
 * Another driver took the run over (this one was stopped for longer than
 * the lease lasts): stop at once, and write nothing more.
 */
static void
engine_lost(struct engine *e)
{
	size_t i;

	if (e->lost_lease)
		return;
	if (state_gone(e->st) != NULL)
		engine_error(e, "%s; stopping", state_gone(e->st));
	else
		engine_error(e, "another driver took over run %lld; "
		    "stopping", (long long)e->run.id);
	e->lost_lease = 1;
	e->stopping = 1;
	for (i = 0; i < e->nsteps; i++) {
		if (e->steps[i].ex != NULL)
			e->steps[i].ops->cancel(e->steps[i].ex,
			    "stopped: another driver took the run over");
	}
}

/*
 * Open a transaction in which this driver still holds the lease (the
 * heartbeat timer renews it); every write a driver makes goes through one,
 * so a driver that was taken over can never record anything. Returns 0,
 * or -1 (nothing open).
 */
int
engine_own(struct engine *e)
{
	int rc;

	if (e->lost_lease)
		return -1;
	if ((rc = state_begin(e->st)) != STATE_OK) {
		if (rc == STATE_GONE) /* the state file was deleted */
			engine_lost(e);
		else
			engine_held_check(e); /* the store unreachable? */
		return -1;
	}
	if (!e->driving)
		return 0;
	rc = state_lease_check(e->st, e->run.id);
	if (rc == STATE_OK)
		return 0;
	state_rollback(e->st);
	if (rc == STATE_CONFLICT)
		engine_lost(e);
	else
		engine_held_check(e);
	return -1;
}

/* Commit what engine_own opened; on failure the change did not happen. */
int
engine_commit(struct engine *e, int rc)
{
	if (rc != STATE_OK)
		state_rollback(e->st);
	else if ((rc = state_commit(e->st)) == STATE_OK)
		return rc;
	engine_held_check(e); /* the store unreachable? */
	return rc;
}

static void
on_heartbeat(void *arg)
{
	struct engine *e = arg;

	int64_t now = loop_now();

	if (engine_own(e) == 0 && engine_commit(e,
	        state_lease_heartbeat(e->st, e->run.id)) == STATE_OK) {
		e->renewed = now;
		if (e->unrenewed) {
			e->unrenewed = 0;
			engine_note(e, NULL, "lease of run %lld renewed: steps "
			    "start again", (long long)e->run.id);
		}
	}
	if (e->lost_lease)
		return; /* taken over: engine_own stopped everything */
	/* A lease this driver cannot renew will lapse and another may take
	 * the run over: start nothing new meanwhile, keep trying. */
	if (!e->unrenewed && loop_now() - e->renewed > ENGINE_RENEW_GRACE_MS) {
		e->unrenewed = 1;
		engine_error(e, "cannot renew the lease of run %lld (%s): "
		    "starting nothing new until it can", (long long)e->run.id,
		    state_error(e->st));
		engine_changed(e, ENGINE_CHANGED_RUN, NULL);
	}
	e->heartbeat = loop_timer_add(e->loop, STATE_HEARTBEAT_MS, on_heartbeat,
	    e);
}

static void
on_poll(void *arg)
{
	struct engine *e = arg;

	if (state_changed(e->st)) {
		engine_reload(e);
		engine_changed(e, ENGINE_CHANGED_STATE | ENGINE_CHANGED_RUN, NULL);
	}
	e->poll = loop_timer_add(e->loop, ENGINE_POLL_MS, on_poll, e);
}

/*
 * Store the tail of what a running attempt printed so far, for `log` and
 * watchers. Only the last ENGINE_LIVE_TAIL bytes are written, and without
 * an fsync of their own (the next durable commit carries them): this is a
 * view, not a transition, and a step flooding output must not stall the
 * loop. The whole bounded output is stored with the attempt's outcome.
 */
static void
engine_flush_step(struct engine *e, struct engine_step *s)
{
	char *out;
	size_t len, off = 0;

	if (s->ex == NULL || !s->out.dirty)
		return;
	s->out.dirty = 0;
	out = outbuf_render(&s->out, &len);
	if (len > ENGINE_LIVE_TAIL)
		off = len - ENGINE_LIVE_TAIL;
	state_set_durable(e->st, 0);
	if (engine_own(e) == 0)
		engine_commit(e, state_attempt_output(e->st, e->run.id,
		    s->id, s->attempt, out + off, len - off, s->out.total));
	state_set_durable(e->st, 1);
	free(out);
}

static void
on_flush(void *arg)
{
	struct engine *e = arg;
	size_t i;

	for (i = 0; i < e->nsteps; i++)
		engine_flush_step(e, &e->steps[i]);
	e->flush = loop_timer_add(e->loop, ENGINE_FLUSH_MS, on_flush, e);
}

/*
 * Before the loop sleeps: start what may start; end engine_run's loop once
 * nothing more can happen, and a rollback's once it has ended.
 */
static void
engine_before_poll(void *arg)
{
	struct engine *e = arg;

	if (!e->scheduling)
		return;
	engine_schedule(e);
	engine_mark_complete(e);
	if (e->until_idle && !engine_busy(e)) {
		e->idle = 1;
		loop_break(e->loop);
	}
	if (e->rollback != NULL && e->rollback->rc >= 0)
		loop_break(e->loop);
}

void
engine_autostart(struct engine *e)
{
	engine_loop_init(e);
	e->scheduling = 1;
}

static void
on_wake(void *arg)
{
	struct engine *e = arg;

	e->wake = NULL;
}

/* SIGINT or SIGTERM: stop what runs; its attempts end interrupted. */
static void
on_stop(int sig, void *arg)
{
	char *why;

	xasprintf(&why, "stopped: cutover received %s", strsignal(sig));
	engine_stop(arg, why);
	free(why);
}

void
engine_stop(struct engine *e, const char *why)
{
	size_t i;

	e->stopping = 1;
	for (i = 0; i < e->nsteps; i++) {
		if (e->steps[i].ex != NULL)
			e->steps[i].ops->cancel(e->steps[i].ex, why);
	}
}

void
engine_reload(struct engine *e)
{
	struct run_info r;
	size_t i;

	engine_load(e);
	/* The run's own state too: another process may have completed it. */
	if (state_run_get(e->st, e->run.id, &r) == STATE_OK) {
		free(e->run.state);
		e->run.state = r.state;
		r.state = NULL;
		free(e->run.ended_at);
		e->run.ended_at = r.ended_at;
		r.ended_at = NULL;
		run_info_free(&r);
	}
	for (i = 0; i < e->nsteps; i++) {
		if (e->steps[i].state == ST_FAILED && e->wanted[i] &&
		    e->steps[i].ex == NULL && e->steps[i].entity == NULL &&
		    step_kind_is_gate(e->steps[i].def->type))
			e->halted = 1;
	}
}

/* Set up the loop, timers and signals for driving. */
void
engine_loop_init(struct engine *e)
{
	if (e->loop != NULL)
		return;
	e->loop = loop_new();
	loop_signal(e->loop, SIGCHLD, exec_local_sigchld, NULL);
	loop_signal(e->loop, SIGINT, on_stop, e);
	loop_signal(e->loop, SIGTERM, on_stop, e);
	loop_signal(e->loop, SIGHUP, on_stop, e);
	signal(SIGPIPE, SIG_IGN);
	e->heartbeat = loop_timer_add(e->loop, STATE_HEARTBEAT_MS, on_heartbeat,
	    e);
	e->poll = loop_timer_add(e->loop, ENGINE_POLL_MS, on_poll, e);
	e->flush = loop_timer_add(e->loop, ENGINE_FLUSH_MS, on_flush, e);
	engine_held_init(e); /* before engine_before_poll: news first */
	loop_before_poll(e->loop, engine_before_poll, e);
	if (e->driving)
		e->notify = notify_start(e->loop, e->st, e->rb, e->run.id);
}

struct notify *
engine_notify(struct engine *e)
{
	if (e->driving)
		engine_loop_init(e);
	return e->notify;
}

struct loop *
engine_loop(struct engine *e)
{
	engine_loop_init(e);
	return e->loop;
}

int
engine_start_one(struct engine *e, struct engine_step *s, const char **why)
{
	engine_loop_init(e);
	if (engine_may(e, s, ENGINE_RUN, why) != 0)
		return -1;
	if (s->state == ST_FAILED && engine_retry(e, s) != EXIT_DONE) {
		*why = "it could not be reset for a retry; see the message above";
		return -1;
	}
	e->wanted[s->index] = 1;
	s->tries_left = s->def->retries + 1;
	s->not_before = 0;
	engine_start(e, s, s->state == ST_INTERRUPTED &&
	    s->def->verify != NULL ? ATT_VERIFY : ATT_RUN);
	return 0;
}

int
engine_run(struct engine *e)
{
	char *to = NULL;
	size_t i;

	if (state_run_rollback_to(e->st, e->run.id, NULL, &to) == STATE_OK &&
	    to != NULL && strchr(to, '@') == NULL) {
		engine_error(e, "a rollback to %s is under way; finish "
		    "it with `cutover rollback` first",
		    *to ? to : "the run's start");
		free(to);
		return EXIT_CONFLICT;
	}
	engine_loop_init(e);
	free(to);
	for (i = 0; i < e->nsteps; i++) {
		if (e->wanted[i] && e->steps[i].state == ST_FAILED &&
		    e->steps[i].entity == NULL) {
			e->halted = 1;
			break;
		}
	}
	engine_autostart(e);
	e->until_idle = 1;
	e->idle = 0;
	while (!e->idle)
		loop_once(e->loop, -1);
	e->until_idle = 0;
	return engine_result(e);
}

/*
 * Is s done as far as the run goes: succeeded, skipped or excluded, or an
 * instance of an excluded entity in any state but running or being
 * undone (its entity dropped out of the run)?
 */
static int
engine_settled(struct engine *e, struct engine_step *s)
{
	struct engine_entity *l;

	if (DONE_MASK & ST_BIT(s->state))
		return !(s->undo && s->entity != NULL);
	l = engine_lane(e, s);
	return l != NULL && l->excluded && s->ex == NULL && !s->undo &&
	    s->state != ST_RUNNING;
}

/*
 * An instance of an excluded entity: nothing starts for it; one still
 * pending becomes excluded (the exclusion did that already unless it was
 * made pending since, by a rollback of the entity). 1 if s is one.
 */
static int
engine_lane_gone(struct engine *e, struct engine_step *s)
{
	struct engine_entity *l = engine_lane(e, s);

	if (l == NULL || !l->excluded)
		return 0;
	if (s->state == ST_PENDING && !s->undo && engine_own(e) == 0 &&
	    engine_commit(e, state_step_transition(e->st, e->run.id, s->id,
	        ST_BIT(ST_PENDING), ST_EXCLUDED,
	        l->reason, "exclude", NULL)) == STATE_OK) {
		s->state = ST_EXCLUDED;
		engine_changed(e, ENGINE_CHANGED_STATE, s);
	}
	return 1;
}

/*
 * Does a rollback under way (rollback_to) keep s from starting (s NULL:
 * every step)? A rollback of one entity (a target with @ENTITY) holds
 * only that entity's instances.
 */
static int
engine_rollback_blocks(struct engine *e, struct engine_step *s)
{
	const char *at = strchr(e->rollback_to, '@');

	if (at == NULL)
		return 1;
	return s != NULL && s->entity != NULL &&
	    strcmp(s->entity->id, at + 1) == 0;
}

/* Are all the steps this invocation may start done? (*whole: and it may
 * start every step of the run.) */
static int
engine_all_done(struct engine *e, int *whole)
{
	size_t i;
	int all = 1;

	*whole = 1;
	for (i = 0; i < e->nsteps; i++) {
		if (!e->wanted[i])
			*whole = 0;
		else if (!engine_settled(e, &e->steps[i]))
			all = 0;
	}
	return all;
}

/* A driver that sees every step of an open run done marks it complete. */
static void
engine_mark_complete(struct engine *e)
{
	int whole;

	if (!e->driving || e->lost_lease || strcmp(e->run.state, "open") != 0 ||
	    !engine_all_done(e, &whole) || !whole)
		return;
	if (state_run_set_state(e->st, e->run.id, "complete") != 0)
		return;
	free(e->run.state);
	e->run.state = xstrdup("complete");
	engine_note(e, NULL, "run %lld complete", (long long)e->run.id);
}

int
engine_result(struct engine *e)
{
	int failed = 0, waiting = 0, whole;
	size_t i;

	if (engine_all_done(e, &whole))
		return EXIT_DONE;
	for (i = 0; i < e->nsteps; i++) {
		enum step_state st = e->steps[i].state;

		if (!e->wanted[i] || engine_settled(e, &e->steps[i]))
			continue;
		if (st == ST_FAILED || st == ST_ROLLBACK_FAILED)
			failed = 1;
		if (st == ST_AWAITING || st == ST_INTERRUPTED)
			waiting = 1;
	}
	if (e->lost_lease)
		return EXIT_CONFLICT;
	if (failed)
		return EXIT_FAILED;
	if (waiting || e->stopping)
		return EXIT_WAITING;
	return EXIT_FAILED;
}

/* Operator actions. */

/* May action be done to s? 0, or its refusal on stderr and exit status. */
static int
engine_check(struct engine *e, struct engine_step *s,
    enum engine_action action)
{
	const char *why;
	int rc;

	if ((rc = engine_may(e, s, action, &why)) != 0)
		engine_error(e, "%s", why);
	return rc;
}

int
engine_confirm(struct engine *e, struct engine_step *s, const char *note)
{
	unsigned mask = engine_action_from(s, ENGINE_CONFIRM);
	int rc;

	if ((rc = engine_check(e, s, ENGINE_CONFIRM)) != 0)
		return rc;
	if (state_step_transition(e->st, e->run.id, s->id, mask,
	        s->undo ? ST_ROLLED_BACK : ST_SUCCEEDED, note,
	        s->undo ? "confirm-undone" : "confirm", note) != STATE_OK) {
		engine_error(e, "%s changed meanwhile; look again with "
		    "`cutover status`", s->id);
		return EXIT_CONFLICT;
	}
	s->state = s->undo ? ST_ROLLED_BACK : ST_SUCCEEDED;
	s->undo = 0;
	engine_changed(e, ENGINE_CHANGED_STATE, s);
	engine_evidence_sweep(e);
	return EXIT_DONE;
}

int
engine_skip(struct engine *e, struct engine_step *s, const char *reason)
{
	unsigned mask = engine_action_from(s, ENGINE_SKIP);
	int rc;

	if ((rc = engine_check(e, s, ENGINE_SKIP)) != 0)
		return rc;
	if (state_step_transition(e->st, e->run.id, s->id, mask,
	        ST_SKIPPED, reason, "skip", reason) != STATE_OK) {
		engine_error(e, "%s changed meanwhile; look again with "
		    "`cutover status`", s->id);
		return EXIT_CONFLICT;
	}
	s->state = ST_SKIPPED;
	engine_changed(e, ENGINE_CHANGED_STATE, s);
	engine_evidence_sweep(e);
	return EXIT_DONE;
}

int
engine_in_role(struct engine *e, const char *role)
{
	const struct rb_role *r = runbook_find_role(e->rb, role);
	const char *db = state_db_user(e->st);

	if (r == NULL)
		return 0;
	return runbook_role_has(r, state_operator(e->st)) ||
	    (db != NULL && runbook_role_has(r, db));
}

/* May the current operator decide at checkpoint s? */
int
engine_is_approver(struct engine *e, struct engine_step *s)
{
	size_t i;

	if (s->def->napprovers == 0)
		return 1;
	for (i = 0; i < s->def->napprovers; i++) {
		if (engine_in_role(e, s->def->approvers[i]))
			return 1;
	}
	return 0;
}

int
engine_decide(struct engine *e, struct engine_step *s, int go,
    const char *reason)
{
	int ngo = 0, nogo = 0, mine = 0, rc;
	char sha[SHA256_HEX_LEN + 1];

	if ((rc = engine_check(e, s, ENGINE_DECIDE)) != 0)
		return rc;
	/* Decisions taken on other evidence than the present no longer
	 * count: this one is taken on what stands now. */
	engine_evidence_sha(e, s, sha);
	if (state_decision_void(e->st, e->run.id, s->id, sha, NULL) !=
	        STATE_OK ||
	    state_decision_count(e->st, e->run.id, s->id, &ngo, &nogo,
	        &mine) != STATE_OK)
		return EXIT_CONFLICT;
	if (mine > 0 && go && state_db_user(e->st) != NULL) {
		engine_error(e, "database user %s already decided at %s; "
		    "another database user must approve (the aliases of one "
		    "user count once)", state_db_user(e->st), s->id);
		return EXIT_CONFLICT;
	}
	if (mine > 0 && go) {
		engine_error(e, "operator %s already decided at %s; "
		    "another operator must approve", state_operator(e->st),
		    s->id);
		return EXIT_CONFLICT;
	}
	if (state_decision_add(e->st, e->run.id, s->id,
	        go ? "go" : "no-go", reason, sha) != STATE_OK)
		return EXIT_CONFLICT;
	engine_checkpoint(e, s);
	return EXIT_DONE;
}

int
engine_retry(struct engine *e, struct engine_step *s)
{
	unsigned mask = engine_action_from(s, ENGINE_RETRY);
	int rc;

	if ((rc = engine_check(e, s, ENGINE_RETRY)) != 0)
		return rc;
	if (s->state == ST_INTERRUPTED && s->def->verify != NULL) {
		/* It may have run: the run verifies it first. */
		if (state_audit(e->st, e->run.id, s->id, "retry",
		        "interrupted: its verify runs first") != STATE_OK)
			return EXIT_CONFLICT;
		e->halted = 0;
		return EXIT_DONE;
	}
	if (state_step_transition(e->st, e->run.id, s->id, mask,
	        ST_PENDING, NULL, "retry", NULL) != STATE_OK)
		return EXIT_CONFLICT;
	s->state = ST_PENDING;
	s->tries_left = 0;
	s->not_before = 0;
	e->halted = 0;
	engine_changed(e, ENGINE_CHANGED_STATE, s);
	return EXIT_DONE;
}
