/*
 * state.c - the state API of state.h over the store the path names (see
 * store.h): what every store shares, the audit chain and the lease rule
 * among it, and a call through to the store for the rest.
 */
#include "config.h"

#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "runbook.h"
#include "sha256.h"
#include "state.h"
#include "store.h"
#include "xmalloc.h"

/* The stores, by the form of the path: the first whose prefix the path
 * starts with keeps it. */
static const struct {
	const char *prefix;
	const struct store_ops *ops;
} stores[] = {
	{ "postgresql://", &store_pg },
	{ "postgres://", &store_pg },
	{ "pg:", &store_pg },
	{ "", &store_sqlite },
};

static const char *state_names[ST_NSTATES] = {
	"pending", "running", "succeeded", "failed", "interrupted",
	"skipped", "awaiting", "rolled_back", "rollback_failed",
};

static const char *kind_names[] = { "run", "verify", "rollback" };

_Static_assert(STATE_STEP_HASH == RB_HASH_CURRENT,
    "new runs record the rule the runbook loader hashes steps by");

static const struct store_ops *state_store(const char *);
static int lease_alive(const struct lease_holder *, const char *);
static void audit_hash(const struct audit_row *, char[SHA256_HEX_LEN + 1]);
static int audit_verify_one(const struct audit_row *, void *);

const char *
step_state_name(enum step_state s)
{
	if ((unsigned)s >= ST_NSTATES)
		return "unknown";
	return state_names[s];
}

int
step_state_parse(const char *s, enum step_state *out)
{
	int i;

	for (i = 0; i < ST_NSTATES; i++) {
		if (strcmp(s, state_names[i]) == 0) {
			*out = (enum step_state)i;
			return 0;
		}
	}
	return -1;
}

const char *
attempt_kind_name(enum attempt_kind k)
{
	return kind_names[k];
}

enum attempt_kind
store_kind_parse(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof kind_names / sizeof kind_names[0]; i++)
		if (name != NULL && strcmp(name, kind_names[i]) == 0)
			return (enum attempt_kind)i;
	return ATT_RUN;
}

int64_t
state_now_ms(void)
{
	static int64_t fake_base = -1, mono_base;
	struct timespec ts;
	const char *fake;

	if (fake_base == -1) {
		fake = getenv("CUTOVER_FAKE_CLOCK");
		fake_base = (fake != NULL && *fake != '\0') ? strtoll(fake, NULL, 10)
		                                            : 0;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		mono_base = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	}
	if (fake_base > 0) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		return fake_base + (int64_t)ts.tv_sec * 1000 +
		    ts.tv_nsec / 1000000 - mono_base;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
state_format_time(int64_t ms, char out[32])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char s[24];

	gmtime_r(&t, &tm);
	strftime(s, sizeof s, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, 32, "%.20s.%03uZ", s, (unsigned)(ms % 1000) % 1000u);
}

char *
store_time_text(int64_t ms)
{
	char t[32];

	if (ms < 0)
		return NULL;
	state_format_time(ms, t);
	return xstrdup(t);
}

const char *
state_error(struct state *st)
{
	return st->error != NULL ? st->error : "unknown error";
}

/* The store of a path. */
static const struct store_ops *
state_store(const char *path)
{
	size_t i;

	for (i = 0; i < sizeof stores / sizeof stores[0]; i++)
		if (strncmp(path, stores[i].prefix, strlen(stores[i].prefix)) == 0)
			return stores[i].ops;
	return NULL;
}

int
state_is_file(const char *path)
{
	return state_store(path) == &store_sqlite;
}

int
state_open(const char *path, int create, struct state **out, char **err)
{
	const struct store_ops *ops = state_store(path);
	struct state *st;
	struct passwd *pw;
	int rc;

	*out = NULL;
	*err = NULL;
	st = xcalloc(1, sizeof *st);
	st->ops = ops;
	st->path = xstrdup(path);
	if ((rc = ops->open(st, path, create, err)) != STATE_OK) {
		free(st->path);
		free(st->error);
		free(st);
		return rc;
	}
	gethostname(st->host, sizeof st->host - 1);
	pw = getpwuid(getuid());
	st->os_user = xstrdup(pw != NULL ? pw->pw_name : "unknown");
	st->operator = xstrdup(st->os_user);
	*out = st;
	return STATE_OK;
}

void
state_close(struct state *st)
{
	if (st == NULL)
		return;
	st->ops->close(st);
	free(st->path);
	free(st->runbook);
	free(st->operator);
	free(st->os_user);
	free(st->error);
	free(st);
}

void
state_set_runbook(struct state *st, const char *name)
{
	free(st->runbook);
	st->runbook = name != NULL ? xstrdup(name) : NULL;
}

int
store_fail(struct state *st, const char *fmt, ...)
{
	va_list ap;

	free(st->error);
	va_start(ap, fmt);
	xvasprintf(&st->error, fmt, ap);
	va_end(ap);
	return STATE_ERR;
}

int
state_changed(struct state *st)
{
	return st->ops->changed(st);
}

int
state_wait(struct state *st, int timeout_ms)
{
	return st->ops->wait(st, timeout_ms);
}

void
state_set_durable(struct state *st, int on)
{
	st->ops->set_durable(st, on);
}

int
state_begin(struct state *st)
{
	int rc = st->ops->begin(st);

	if (rc == STATE_OK)
		st->in_tx = 1;
	return rc;
}

int
state_commit(struct state *st)
{
	st->in_tx = 0;
	return st->ops->commit(st);
}

void
state_rollback(struct state *st)
{
	st->in_tx = 0;
	st->ops->rollback(st);
}

int
store_tx_enter(struct state *st)
{
	if (st->in_tx)
		return 0;
	if (state_begin(st) != STATE_OK)
		return -1;
	return 1;
}

int
store_tx_leave(struct state *st, int opened, int rc)
{
	if (opened != 1)
		return rc;
	if (rc == STATE_OK)
		return state_commit(st);
	state_rollback(st);
	return rc;
}

void
state_set_actor(struct state *st, const char *operator, const char *os_user)
{
	if (operator != NULL) {
		free(st->operator);
		st->operator = xstrdup(operator);
	}
	if (os_user != NULL) {
		free(st->os_user);
		st->os_user = xstrdup(os_user);
	}
}

const char *
state_operator(const struct state *st)
{
	return st->operator;
}

void
run_info_free(struct run_info *r)
{
	free(r->runbook);
	free(r->mode);
	free(r->state);
	free(r->runbook_text);
	free(r->runbook_sha);
	free(r->created_at);
	free(r->ended_at);
	free(r->operator);
	memset(r, 0, sizeof *r);
}

void
run_info_free_list(struct run_info *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		run_info_free(&v[i]);
	free(v);
}

void
step_row_free(struct step_row *r)
{
	free(r->id);
	free(r->def_sha);
	free(r->started_at);
	free(r->ended_at);
	free(r->note);
	free(r->result);
	memset(r, 0, sizeof *r);
}

void
step_rows_free(struct step_row *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		step_row_free(&v[i]);
	free(v);
}

void
attempt_rows_free(struct attempt_row *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].step);
		free(v[i].state);
		free(v[i].started_at);
		free(v[i].ended_at);
		free(v[i].message);
		free(v[i].host);
		free(v[i].output);
		free(v[i].operator);
		free(v[i].token);
	}
	free(v);
}

/* Is the recorded driver still alive, as seen from host me? */
static int
lease_alive(const struct lease_holder *h, const char *me)
{
	if (state_now_ms() - h->heartbeat_ms > STATE_LEASE_STALE_MS)
		return 0;
	if (h->host != NULL && strcmp(h->host, me) == 0) {
		if (h->pid == (int64_t)getpid())
			return 1;
		if (kill((pid_t)h->pid, 0) == -1 && errno == ESRCH)
			return 0;
	}
	return 1;
}

int
state_lease_acquire(struct state *st, int64_t run, const char *host,
    int64_t pid, struct lease_holder *holder, int *took_over)
{
	struct lease_holder h;
	int opened = store_tx_enter(st), rc;

	*took_over = 0;
	memset(holder, 0, sizeof *holder);
	if (opened < 0)
		return STATE_ERR;
	rc = st->ops->lease_read(st, run, &h);
	if (rc == STATE_OK) {
		if (h.pid != pid || strcmp(h.host, host) != 0) {
			if (lease_alive(&h, host)) {
				*holder = h;
				return store_tx_leave(st, opened,
				    STATE_CONFLICT);
			}
			*took_over = 1;
			state_audit(st, run, NULL, "driver-takeover",
			    "driver pid %lld on %s (%s) is gone",
			    (long long)h.pid, h.host,
			    h.operator != NULL ? h.operator : "?");
		}
		lease_holder_free(&h);
	} else if (rc != STATE_NOTFOUND)
		return store_tx_leave(st, opened, rc);
	rc = st->ops->lease_write(st, run, host, pid);
	return store_tx_leave(st, opened, rc);
}

int
state_lease_get(struct state *st, int64_t run, struct lease_holder *h)
{
	int rc;

	rc = st->ops->lease_read(st, run, h);
	if (rc == STATE_OK && !lease_alive(h, st->host)) {
		lease_holder_free(h);
		return STATE_NOTFOUND;
	}
	return rc;
}

void
lease_holder_free(struct lease_holder *h)
{
	free(h->host);
	free(h->operator);
	memset(h, 0, sizeof *h);
}

/* The hash of an entry: SHA-256 over its fields and the previous hash. */
static void
audit_hash(const struct audit_row *a, char out[SHA256_HEX_LEN + 1])
{
	struct sha256_ctx *c = sha256_begin();
	char num[64];

	snprintf(num, sizeof num, "%lld", (long long)a->id);
	sha256_add_field(c, num);
	sha256_add_field(c, a->at);
	snprintf(num, sizeof num, "%lld", (long long)a->run);
	sha256_add_field(c, num);
	sha256_add_field(c, a->step);
	sha256_add_field(c, a->operator);
	sha256_add_field(c, a->os_user);
	sha256_add_field(c, a->action);
	sha256_add_field(c, a->details);
	sha256_add_field(c, a->prev);
	sha256_end(c, out);
}

int
state_audit(struct state *st, int64_t run, const char *step,
    const char *action, const char *fmt, ...)
{
	struct audit_row a;
	char prev[SHA256_HEX_LEN + 1], hash[SHA256_HEX_LEN + 1], at[32];
	char *details = NULL, *last = NULL;
	va_list ap;
	int opened, rc;

	if ((opened = store_tx_enter(st)) < 0)
		return STATE_ERR;
	memset(&a, 0, sizeof a);
	if (st->ops->audit_last(st, &a.id, &last) != STATE_OK)
		return store_tx_leave(st, opened, STATE_ERR);
	a.id++;
	memset(prev, '0', SHA256_HEX_LEN);
	prev[SHA256_HEX_LEN] = '\0';
	if (last != NULL)
		snprintf(prev, sizeof prev, "%s", last);
	free(last);
	va_start(ap, fmt);
	xvasprintf(&details, fmt, ap);
	va_end(ap);
	state_format_time(state_now_ms(), at);
	a.at = at;
	a.run = run;
	a.step = (char *)step;
	a.operator = st->operator;
	a.os_user = st->os_user;
	a.action = (char *)action;
	a.details = details;
	a.prev = prev;
	audit_hash(&a, hash);
	a.hash = hash;
	rc = st->ops->audit_append(st, &a);
	free(details);
	return store_tx_leave(st, opened, rc);
}

struct verify_ctx {
	char prev[SHA256_HEX_LEN + 1];
	int64_t expect_id;
	int64_t bad;
	char *why;
};

/* Check one entry against its predecessor. */
static int
audit_verify_one(const struct audit_row *a, void *arg)
{
	struct verify_ctx *v = arg;
	char hash[SHA256_HEX_LEN + 1];

	audit_hash(a, hash);
	if (a->id != v->expect_id)
		xasprintf(&v->why, "entry %lld is missing (next is %lld)",
		    (long long)v->expect_id, (long long)a->id);
	else if (a->prev == NULL || strcmp(a->prev, v->prev) != 0)
		xasprintf(&v->why, "entry %lld does not follow entry %lld",
		    (long long)a->id, (long long)a->id - 1);
	else if (a->hash == NULL || strcmp(a->hash, hash) != 0)
		xasprintf(&v->why, "entry %lld was altered (hash mismatch)",
		    (long long)a->id);
	if (v->why != NULL) {
		v->bad = a->id;
		return 1;
	}
	snprintf(v->prev, sizeof v->prev, "%s", a->hash);
	v->expect_id++;
	return 0;
}

int
state_audit_verify(struct state *st, int64_t *bad_id, char **why)
{
	struct verify_ctx v;

	memset(&v, 0, sizeof v);
	memset(v.prev, '0', SHA256_HEX_LEN);
	v.expect_id = 1;
	if (st->ops->audit_each(st, 0, audit_verify_one, &v) != STATE_OK)
		return -1;
	*bad_id = v.bad;
	*why = v.why;
	return v.why != NULL ? 1 : 0;
}

/* The rest is the store's. */

int
state_run_latest(struct state *st, int open_only, struct run_info *r)
{
	return st->ops->run_latest(st, open_only, r);
}

int
state_run_get(struct state *st, int64_t id, struct run_info *r)
{
	return st->ops->run_get(st, id, r);
}

int
state_run_list(struct state *st, struct run_info **out, size_t *n)
{
	return st->ops->run_list(st, out, n);
}

int
state_run_create(struct state *st, const char *runbook, const char *mode,
    const char *text, const char *sha, int64_t *id)
{
	return st->ops->run_create(st, runbook, mode, text, sha, id);
}

int
state_run_set_state(struct state *st, int64_t run, const char *state)
{
	return st->ops->run_set_state(st, run, state);
}

int
state_run_set_runbook(struct state *st, int64_t run, const char *text,
    const char *sha)
{
	return st->ops->run_set_runbook(st, run, text, sha);
}

int
state_run_rollback_to(struct state *st, int64_t run, const char *to, char **out)
{
	return st->ops->run_rollback_to(st, run, to, out);
}

int
state_steps_load(struct state *st, int64_t run, struct step_row **out,
    size_t *n)
{
	return st->ops->steps_load(st, run, out, n);
}

int
state_step_get(struct state *st, int64_t run, const char *id,
    struct step_row *r)
{
	return st->ops->step_get(st, run, id, r);
}

int
state_step_insert(struct state *st, int64_t run, const char *id, int idx,
    const char *def_sha)
{
	return st->ops->step_insert(st, run, id, idx, def_sha);
}

int
state_step_delete(struct state *st, int64_t run, const char *id)
{
	return st->ops->step_delete(st, run, id);
}

int
state_step_update_def(struct state *st, int64_t run, const char *id, int idx,
    const char *def_sha)
{
	return st->ops->step_update_def(st, run, id, idx, def_sha);
}

int
state_step_set_undo(struct state *st, int64_t run, const char *id, int undo)
{
	return st->ops->step_set_undo(st, run, id, undo);
}

int
state_step_transition(struct state *st, int64_t run, const char *id,
    unsigned from_mask, enum step_state to, const char *note,
    const char *action, const char *details)
{
	return st->ops->step_transition(st, run, id, from_mask, to, note,
	                                action, details);
}

int
state_step_set_result(struct state *st, int64_t run, const char *id,
    const char *json)
{
	return st->ops->step_set_result(st, run, id, json);
}

int
state_attempt_begin(struct state *st, int64_t run, const char *step,
    enum attempt_kind kind, unsigned from_mask,
    const char *host, int64_t pid, int64_t pgid,
    const char *token, int *n)
{
	return st->ops->attempt_begin(st, run, step, kind, from_mask, host, pid,
	                              pgid, token, n);
}

int
state_attempt_set_pid(struct state *st, int64_t run, const char *step, int n,
    int64_t pid, int64_t pgid)
{
	return st->ops->attempt_set_pid(st, run, step, n, pid, pgid);
}

int
state_attempt_output(struct state *st, int64_t run, const char *step, int n,
    const char *out, size_t len, int64_t total)
{
	return st->ops->attempt_output(st, run, step, n, out, len, total);
}

int
state_attempt_finish(struct state *st, int64_t run, const char *step, int n,
    const char *astate, int exit_code, const char *message,
    const char *out, size_t len, int64_t total,
    enum step_state to)
{
	return st->ops->attempt_finish(st, run, step, n, astate, exit_code,
	                               message, out, len, total, to);
}

int
state_attempts_list(struct state *st, int64_t run, const char *step, int n,
    struct attempt_row **out, size_t *len)
{
	return st->ops->attempts_list(st, run, step, n, out, len);
}

int
state_attempts_running(struct state *st, int64_t run, struct attempt_row **out,
    size_t *len)
{
	return st->ops->attempts_running(st, run, out, len);
}

int
state_attempt_interrupt(struct state *st, int64_t run, const char *step, int n,
    const char *message)
{
	return st->ops->attempt_interrupt(st, run, step, n, message);
}

int
state_decision_add(struct state *st, int64_t run, const char *step,
    const char *decision, const char *reason)
{
	return st->ops->decision_add(st, run, step, decision, reason);
}

int
state_decision_count(struct state *st, int64_t run, const char *step, int *go,
    int *nogo, int *by_me)
{
	return st->ops->decision_count(st, run, step, go, nogo, by_me);
}

int
state_decision_reset(struct state *st, int64_t run, const char *step)
{
	return st->ops->decision_reset(st, run, step);
}

int
state_lease_heartbeat(struct state *st, int64_t run)
{
	return st->ops->lease_heartbeat(st, run);
}

int
state_lease_check(struct state *st, int64_t run)
{
	return st->ops->lease_check(st, run);
}

int
state_lease_release(struct state *st, int64_t run)
{
	return st->ops->lease_release(st, run);
}

int
state_audit_each(struct state *st, int64_t run,
    int (*fn)(const struct audit_row *, void *), void *arg)
{
	return st->ops->audit_each(st, run, fn, arg);
}

int
state_rows_each(struct state *st, const char *table, int64_t run,
    int (*fn)(const struct state_row *, void *), void *arg)
{
	return st->ops->rows_each(st, table, run, fn, arg);
}

int
state_row_put(struct state *st, const char *table, const struct state_row *r,
    int64_t *id)
{
	return st->ops->row_put(st, table, r, id);
}

int
state_audit_copy(struct state *st, const struct audit_row *src, int64_t run)
{
	struct audit_row a = *src;
	char prev[SHA256_HEX_LEN + 1], hash[SHA256_HEX_LEN + 1];
	char *last = NULL;
	int opened, rc;

	if ((opened = store_tx_enter(st)) < 0)
		return STATE_ERR;
	if (st->ops->audit_last(st, &a.id, &last) != STATE_OK)
		return store_tx_leave(st, opened, STATE_ERR);
	a.id++;
	memset(prev, '0', SHA256_HEX_LEN);
	prev[SHA256_HEX_LEN] = '\0';
	if (last != NULL)
		snprintf(prev, sizeof prev, "%s", last);
	free(last);
	a.run = run;
	a.prev = prev;
	audit_hash(&a, hash);
	a.hash = hash;
	rc = st->ops->audit_append(st, &a);
	return store_tx_leave(st, opened, rc);
}
