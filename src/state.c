/*
 * state.c - the state API of state.h over the store the path names (see
 * store.h): what every store shares, the audit chain and the lease rule
 * among it, and a call through to the store for the rest.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "duration.h"
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
	"skipped", "awaiting", "rolled_back", "rollback_failed", "excluded",
};

static const char *kind_names[] = { "run", "verify", "rollback" };

/* How far state_now_ms runs ahead of this machine's clock: raised to the
 * newest audit entry of a state file when the clock is behind it. */
static int64_t clock_ahead;

/* A clock this far behind the trail is flagged in the entries it makes. */
#define AUDIT_CLOCK_SLACK_MS 1000

_Static_assert(STATE_STEP_HASH == RB_HASH_CURRENT,
    "new runs record the rule the runbook loader hashes steps by");

static const struct store_ops *state_store(const char *);
static int64_t clock_mono_ms(void);
static int64_t clock_wall_ms(void);
static int64_t clock_process_ms(void);
static int lease_alive(const struct lease_holder *, const char *);
static void audit_hash(const struct audit_row *, char[SHA256_HEX_LEN + 1]);
static int audit_verify_one(const struct audit_row *, void *);
static void audit_time(const char *, char[32]);
static int audit_clock_note(struct state *, int64_t);
static int64_t state_clock_gap(struct state *);
static char *gone_path(const char *);
static int gone_mark(struct state *);
static char *gone_text(struct state *);
static int gone_check(const char *, char **);
static int rollback_event(struct state *, int64_t, const char *);

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

/* CLOCK_BOOTTIME counts a suspended machine too; CLOCK_MONOTONIC where
 * there is none. Never stepped by anyone. */
static int64_t
clock_mono_ms(void)
{
	struct timespec ts;

#ifdef CLOCK_BOOTTIME
	if (clock_gettime(CLOCK_BOOTTIME, &ts) == 0)
		return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
#endif
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * The wall clock when the process first asks. Only a build with test hooks
 * (the test suite's cutover-test) lets CUTOVER_FAKE_CLOCK replace it; the
 * cutover that is installed always reads the real clock.
 */
static int64_t
clock_wall_ms(void)
{
	struct timespec ts;
#ifdef CUTOVER_TEST_HOOKS
	const char *fake = getenv("CUTOVER_FAKE_CLOCK");

	if (fake != NULL && *fake != '\0' && strtoll(fake, NULL, 10) > 0)
		return strtoll(fake, NULL, 10);
#endif
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The wall clock as the process read it first, advanced by the monotonic
 * clock since: a clock stepped while the process runs changes nothing. */
static int64_t
clock_process_ms(void)
{
	static int64_t wall = -1, mono;

	if (wall == -1) {
		wall = clock_wall_ms();
		mono = clock_mono_ms();
	}
	return wall + clock_mono_ms() - mono;
}

int64_t
state_now_ms(void)
{
	return clock_process_ms() + clock_ahead;
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
state_open(const char *path, int flags, struct state **out, char **err)
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
	if (ops == &store_sqlite && gone_check(path, err) != 0)
		rc = STATE_ERR;
	else
		rc = ops->open(st, path, flags, err);
	if (rc != STATE_OK) {
		free(st->path);
		free(st->error);
		free(st);
		return rc;
	}
	gethostname(st->host, sizeof st->host - 1);
	pw = getpwuid(getuid());
	st->os_user = st->db_user != NULL ? xstrdup(st->db_user)
	    : xstrdup(pw != NULL ? pw->pw_name : "unknown");
	st->operator = xstrdup(st->os_user);
	if ((st->behind_ms = state_clock_gap(st)) < 0)
		st->behind_ms = 0;
	*out = st;
	return STATE_OK;
}

void
state_close(struct state *st)
{
	if (st == NULL)
		return;
	st->ops->close(st);
	state_set_notify(st, 0, NULL, NULL);
	free(st->path);
	free(st->runbook);
	free(st->operator);
	free(st->os_user);
	free(st->db_user);
	free(st->error);
	free(st->gone);
	free(st->warning);
	free(st);
}

void
state_set_runbook(struct state *st, const char *name)
{
	free(st->runbook);
	st->runbook = name != NULL ? xstrdup(name) : NULL;
}

const char *
state_warning(struct state *st)
{
	return st->warning;
}

void
store_step_effects(enum step_state to, struct step_effects *fx)
{
	fx->starts = to == ST_AWAITING;
	fx->ends = to == ST_SUCCEEDED || to == ST_SKIPPED || to == ST_FAILED;
	fx->done = to == ST_SUCCEEDED;
	fx->undo_clears = to != ST_AWAITING && to != ST_RUNNING;
	fx->undo_over = to == ST_ROLLED_BACK;
}

int
store_audit_attempt_end(struct state *st, int64_t run, const char *step,
    int n, const char *astate, int exit_code, const char *message,
    const char *out, size_t len, int64_t total, enum step_state to)
{
	char sha[SHA256_HEX_LEN + 1];
	char code[32] = ""; /* sql and reconcile have no exit status */

	sha256_hex(out != NULL ? out : "", out != NULL ? len : 0, sha);
	if (exit_code >= 0)
		snprintf(code, sizeof code, " (exit %d)", exit_code);
	return state_audit(st, run, step, "attempt-end",
	    "attempt %d %s%s%s%s; output sha256=%s (%zu bytes kept of %lld);"
	    " step %s", n, astate, code, message != NULL ? ": " : "",
	    message != NULL ? message : "", sha, out != NULL ? len : 0,
	    (long long)total, step_state_name(to));
}

int
store_audit_result(struct state *st, int64_t run, const char *step,
    const char *json)
{
	char sha[SHA256_HEX_LEN + 1];

	sha256_hex(json != NULL ? json : "", json != NULL ? strlen(json) : 0,
	    sha);
	return state_audit(st, run, step, "result", "sha256=%s", sha);
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

int
state_watch_fd(struct state *st)
{
	return st->ops->watch_fd != NULL ? st->ops->watch_fd(st) : -1;
}

int
state_notified(struct state *st)
{
	return st->ops->notified != NULL ? st->ops->notified(st) : 0;
}

const char *
state_unreachable(struct state *st)
{
	return st->ops->unreachable != NULL ? st->ops->unreachable(st) : NULL;
}

void
state_set_time(struct state *st, int64_t ms)
{
	st->at_ms = ms;
}

int64_t
store_now_ms(struct state *st)
{
	return st->at_ms > 0 ? st->at_ms : state_now_ms();
}

int
state_reconnect(struct state *st)
{
	return st->ops->reconnect != NULL ? st->ops->reconnect(st) : STATE_OK;
}

int
state_reconnect_fd(struct state *st, short *events)
{
	return st->ops->reconnect_fd != NULL ? st->ops->reconnect_fd(st, events)
	                                     : -1;
}

void
state_set_durable(struct state *st, int on)
{
	st->ops->set_durable(st, on);
}

/* The marker a driver leaves beside a state file deleted under it. */
static char *
gone_path(const char *path)
{
	return xprintf("%s.gone", path);
}

/*
 * The file was deleted or replaced under this process: nothing more is
 * written to it (STATE_GONE from now on). What this process still sees of
 * it is saved to PATH.gone.db, and a marker, PATH.gone, says what happened
 * and what to do, so that no later command takes an empty or another file
 * for it and starts the run over (state_open refuses the path while the
 * marker is there).
 */
static int
gone_mark(struct state *st)
{
	char *mark;
	int fd;

	if (st->gone == NULL) {
		st->gone = gone_text(st);
		mark = gone_path(st->path);
		fd = open(mark, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
		if (fd != -1) {
			dprintf(fd, "%s\n", st->gone);
			fsync(fd);
			close(fd);
		}
		free(mark);
	}
	store_fail(st, "%s", st->gone);
	return STATE_GONE;
}

/* Save what st still sees of its lost file beside it, and say what
 * happened and what to do, on one line (a new string). */
static char *
gone_text(struct state *st)
{
	struct run_info r = { 0 };
	char *mark = gone_path(st->path), *copy, *saved = NULL, *text, now[32];

	state_format_time(state_now_ms(), now);
	if (st->ops->run_latest(st, 0, &r) != STATE_OK)
		r.runbook = NULL;
	copy = xprintf("%s.db", mark);
	if (st->ops->save != NULL && st->ops->save(st, copy) == STATE_OK)
		xasprintf(&saved, "its last state is saved in %s: to go on from "
		    "there, remove %s-wal and %s-shm, move it to %s and remove "
		    "%s; to start afresh", copy, st->path, st->path, st->path,
		    mark);
	xasprintf(&text, "%s: the state file was %s while run %lld of %s was "
	    "driven (pid %ld on %s, %s); nothing more is recorded; %s remove "
	    "%s, %s-wal and %s-shm", st->path, st->ops->moved(st) == 1
	    ? "deleted" : "replaced by another file", (long long)r.id,
	    r.runbook != NULL ? r.runbook : "?", (long)getpid(), st->host, now,
	    saved != NULL ? saved : "to start afresh,", mark, st->path,
	    st->path);
	free(saved);
	free(copy);
	free(mark);
	run_info_free(&r);
	return text;
}

const char *
state_gone(struct state *st)
{
	return st->gone;
}

int
state_marked_gone(const char *path)
{
	char *mark = gone_path(path);
	struct stat sb;
	int rc = lstat(mark, &sb) == 0;

	free(mark);
	return rc;
}

/* Refuse path while a marker of gone_mark is beside it: 0, or -1 with
 * *err the marker's line. */
static int
gone_check(const char *path, char **err)
{
	char *mark = gone_path(path), line[2048];
	FILE *f = NULL;
	int fd;

	fd = open(mark, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1 && errno == ENOENT) {
		free(mark);
		return 0;
	}
	if (fd != -1 && (f = fdopen(fd, "r")) != NULL &&
	    fgets(line, sizeof line, f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		*err = xstrdup(line);
	} else
		xasprintf(err, "%s: the state file was lost while a run was "
		    "driven; see %s, and remove it to go on", path, mark);
	if (f != NULL)
		fclose(f);
	else if (fd != -1)
		close(fd);
	free(mark);
	return -1;
}

/*
 * Writers run their clock ahead to the newest audit entry when it is
 * behind (another machine's clock, or this one stepped back), so that no
 * time they record goes backwards; readers keep the machine's clock.
 */
int
state_begin(struct state *st)
{
	int64_t gap;
	int rc;

	if (st->gone != NULL || (st->ops->moved != NULL && st->ops->moved(st)))
		return gone_mark(st);
	if ((rc = st->ops->begin(st)) != STATE_OK)
		return rc;
	st->in_tx = 1;
	if ((gap = state_clock_gap(st)) > clock_ahead)
		clock_ahead = gap;
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

const char *
state_db_user(const struct state *st)
{
	return st->db_user;
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
	free(r->selection);
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
	char *details = NULL, *last = NULL, *last_at = NULL;
	va_list ap;
	int opened, rc;

	if ((opened = store_tx_enter(st)) < 0)
		return STATE_ERR;
	memset(&a, 0, sizeof a);
	if (audit_clock_note(st, run) != STATE_OK ||
	    st->ops->audit_last(st, &a.id, &last, &last_at) != STATE_OK)
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
	audit_time(last_at, at);
	free(last_at);
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

/* The time of a new entry: now, or the newest entry's (last_at) when the
 * clock is behind it, so that time never goes backwards in the trail. */
static void
audit_time(const char *last_at, char at[32])
{
	int64_t last = last_at != NULL ? state_parse_time(last_at) : -1;

	state_format_time(state_now_ms() > last ? state_now_ms() : last, at);
}

/*
 * The first time this process's clock is found more than a second behind
 * the newest entry, say so in an entry of its own (clock-behind) before
 * the one being made.
 */
static int
audit_clock_note(struct state *st, int64_t run)
{
	char *hash = NULL, *at = NULL, d[32];
	int64_t id, behind;
	int rc;

	if (st->clock_noted)
		return STATE_OK;
	if (st->ops->audit_last(st, &id, &hash, &at) != STATE_OK)
		return STATE_ERR;
	behind = at != NULL ? state_parse_time(at) - clock_process_ms() : 0;
	rc = STATE_OK;
	if (behind >= AUDIT_CLOCK_SLACK_MS) {
		st->clock_noted = 1;
		duration_format(behind, d, sizeof d);
		rc = state_audit(st, run, NULL, "clock-behind", "the clock of "
		    "%s is %s behind the newest entry (%s); entries keep the "
		    "trail's time", st->host, d, at);
	}
	free(hash);
	free(at);
	return rc;
}

int64_t
state_parse_time(const char *s)
{
	struct tm tm;
	int ms = 0;

	memset(&tm, 0, sizeof tm);
	if (s == NULL || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &tm.tm_year,
	        &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec,
	        &ms) < 6)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t)timegm(&tm) * 1000 + ms;
}

int64_t
state_clock_behind(struct state *st)
{
	return st->behind_ms;
}

/* How far (ms) this process's clock is behind the newest entry of st's
 * trail (<= 0 if it is not). */
static int64_t
state_clock_gap(struct state *st)
{
	char *hash = NULL, *at = NULL;
	int64_t id, behind = 0;

	if (st->ops->audit_last(st, &id, &hash, &at) == STATE_OK && at != NULL)
		behind = state_parse_time(at) - clock_process_ms();
	free(hash);
	free(at);
	return behind;
}

struct verify_ctx {
	char prev[SHA256_HEX_LEN + 1];
	char prev_at[32];
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
	else if (a->at == NULL || state_parse_time(a->at) < 0)
		xasprintf(&v->why, "entry %lld has no time", (long long)a->id);
	else if (state_parse_time(a->at) < state_parse_time(v->prev_at))
		xasprintf(&v->why, "entry %lld goes back in time (%s, after "
		    "%s)", (long long)a->id, a->at, v->prev_at);
	if (v->why != NULL) {
		v->bad = a->id;
		return 1;
	}
	snprintf(v->prev, sizeof v->prev, "%s", a->hash);
	snprintf(v->prev_at, sizeof v->prev_at, "%s", a->at);
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

int
state_audit_head(struct state *st, char out[65])
{
	int64_t id;
	char *hash = NULL, *at = NULL;

	out[0] = '\0';
	if (st->ops->audit_last(st, &id, &hash, &at) != STATE_OK)
		return STATE_ERR;
	free(at);
	if (hash == NULL)
		return STATE_NOTFOUND;
	snprintf(out, 65, "%s", hash);
	free(hash);
	return STATE_OK;
}

int
state_runbook_check(struct state *st, const char *name)
{
	struct run_info *v = NULL;
	size_t n = 0, i;
	int rc;

	if ((rc = st->ops->run_list(st, &v, &n)) != STATE_OK)
		return rc;
	for (i = 0; i < n && rc == STATE_OK; i++)
		if (strcmp(v[i].runbook, name) != 0)
			rc = store_fail(st, "%s: the state file of runbook %s, "
			    "not %s; use --state to choose another file",
			    st->path, v[i].runbook, name);
	run_info_free_list(v, n);
	return rc;
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
	int opened, rc;

	if (strcmp(state, "complete") != 0 ||
	    !store_outbox_wants(st, NOTIFY_EV_COMPLETE))
		return st->ops->run_set_state(st, run, state);
	if ((opened = store_tx_enter(st)) < 0)
		return STATE_ERR;
	rc = st->ops->run_set_state(st, run, state);
	if (rc == STATE_OK)
		rc = state_outbox_event(st, run, NOTIFY_EV_COMPLETE, NULL, NULL,
		    state, "the run is complete");
	return store_tx_leave(st, opened, rc);
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
	int opened, rc;

	if (out != NULL || !store_outbox_wants(st, NOTIFY_EV_ROLLBACK))
		return st->ops->run_rollback_to(st, run, to, out);
	if ((opened = store_tx_enter(st)) < 0)
		return STATE_ERR;
	rc = st->ops->run_rollback_to(st, run, to, out);
	if (rc == STATE_OK)
		rc = rollback_event(st, run, to);
	return store_tx_leave(st, opened, rc);
}

/* The event of a rollback recorded (to: its target, "" the run's start)
 * or cleared (to NULL: all undone). */
static int
rollback_event(struct state *st, int64_t run, const char *to)
{
	char *msg;
	int rc;

	if (to == NULL)
		return state_outbox_event(st, run, NOTIFY_EV_ROLLBACK, NULL,
		    NULL, "finished", "the rollback is finished");
	msg = xprintf("a rollback to %s started",
	    *to ? to : "the run's start");
	rc = state_outbox_event(st, run, NOTIFY_EV_ROLLBACK, *to ? to : NULL,
	    NULL, "started", msg);
	free(msg);
	return rc;
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
	int ev = store_step_event(to), opened, rc;

	if (!store_outbox_wants(st, ev))
		return st->ops->step_transition(st, run, id, from_mask, to,
		    note, action, details);
	if ((opened = store_tx_enter(st)) < 0)
		return STATE_ERR;
	rc = st->ops->step_transition(st, run, id, from_mask, to, note,
	    action, details);
	if (rc == STATE_OK)
		rc = state_outbox_event(st, run, (enum notify_event)ev, id, NULL,
		    step_state_name(to), note != NULL ? note : to == ST_AWAITING
		    ? "waits for a person" : NULL);
	return store_tx_leave(st, opened, rc);
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
	int ev = store_step_event(to), opened, rc;

	if (!store_outbox_wants(st, ev))
		return st->ops->attempt_finish(st, run, step, n, astate,
		    exit_code, message, out, len, total, to);
	if ((opened = store_tx_enter(st)) < 0)
		return STATE_ERR;
	rc = st->ops->attempt_finish(st, run, step, n, astate, exit_code,
	    message, out, len, total, to);
	if (rc == STATE_OK)
		rc = state_outbox_event(st, run, (enum notify_event)ev, step,
		    NULL, step_state_name(to), message);
	return store_tx_leave(st, opened, rc);
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
    const char *decision, const char *reason, const char *evidence)
{
	int opened, rc;

	if (!store_outbox_wants(st, NOTIFY_EV_CHECKPOINT))
		return st->ops->decision_add(st, run, step, decision, reason,
		    evidence);
	if ((opened = store_tx_enter(st)) < 0)
		return STATE_ERR;
	rc = st->ops->decision_add(st, run, step, decision, reason, evidence);
	if (rc == STATE_OK)
		rc = state_outbox_event(st, run, NOTIFY_EV_CHECKPOINT, step,
		    NULL, decision, reason);
	return store_tx_leave(st, opened, rc);
}

int
state_decision_void(struct state *st, int64_t run, const char *step,
    const char *sha, int *n)
{
	int opened = store_tx_enter(st), rc, k = 0;

	if (opened < 0)
		return STATE_ERR;
	rc = st->ops->decision_void(st, run, step, sha, &k);
	if (rc == STATE_OK && k > 0)
		rc = state_audit(st, run, step, "decisions-void",
		    "decisions voided: evidence changed (%d go decision%s set "
		    "aside; evidence now sha256=%s)", k, k == 1 ? "" : "s", sha);
	if (n != NULL)
		*n = k;
	return store_tx_leave(st, opened, rc);
}

int
state_run_set_selection(struct state *st, int64_t run, const char *selection)
{
	int opened = store_tx_enter(st), rc;

	if (opened < 0)
		return STATE_ERR;
	rc = st->ops->run_set_selection(st, run, selection);
	if (rc == STATE_OK)
		rc = state_audit(st, run, NULL, "selection", "%s",
		    selection != NULL && *selection ? selection : "all entities");
	return store_tx_leave(st, opened, rc);
}

int
state_entity_exclude(struct state *st, int64_t run, const char *entity,
    const char *reason)
{
	int opened = store_tx_enter(st), rc;

	if (opened < 0)
		return STATE_ERR;
	rc = st->ops->entity_exclude(st, run, entity, reason);
	if (rc == STATE_OK)
		rc = state_audit(st, run, NULL, "exclude", "entity %s: %s",
		    entity, reason != NULL ? reason : "");
	if (rc == STATE_OK)
		rc = state_outbox_event(st, run, NOTIFY_EV_EXCLUDED, NULL,
		    entity, "excluded", reason);
	return store_tx_leave(st, opened, rc);
}

int
state_entities_load(struct state *st, int64_t run, struct entity_row **out,
    size_t *n)
{
	*out = NULL;
	*n = 0;
	return st->ops->entities_load(st, run, out, n);
}

void
entity_rows_free(struct entity_row *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].entity);
		free(v[i].state);
		free(v[i].reason);
		free(v[i].at);
		free(v[i].operator);
	}
	free(v);
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
state_decision_list(struct state *st, int64_t run, const char *step,
    struct decision_row **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	return st->ops->decision_list(st, run, step, out, n);
}

void
decision_rows_free(struct decision_row *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].operator);
		free(v[i].decision);
		free(v[i].reason);
		free(v[i].evidence);
	}
	free(v);
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
	char *last = NULL, *last_at = NULL, *details = NULL;
	int opened, rc;

	if ((opened = store_tx_enter(st)) < 0)
		return STATE_ERR;
	if (st->ops->audit_last(st, &a.id, &last, &last_at) != STATE_OK)
		return store_tx_leave(st, opened, STATE_ERR);
	a.id++;
	memset(prev, '0', SHA256_HEX_LEN);
	prev[SHA256_HEX_LEN] = '\0';
	if (last != NULL)
		snprintf(prev, sizeof prev, "%s", last);
	free(last);
	/* Time never goes backwards in a trail: an entry older than the
	 * destination's newest takes that time and keeps its own in words. */
	if (last_at != NULL && src->at != NULL &&
	    state_parse_time(src->at) < state_parse_time(last_at)) {
		xasprintf(&details, "%s%s[copied; at %s in the source]",
		    src->details != NULL ? src->details : "",
		    src->details != NULL && *src->details ? " " : "", src->at);
		a.at = last_at;
		a.details = details;
	}
	a.run = run;
	a.prev = prev;
	audit_hash(&a, hash);
	a.hash = hash;
	rc = st->ops->audit_append(st, &a);
	free(details);
	free(last_at);
	return store_tx_leave(st, opened, rc);
}

/* Add n differences in one transaction; the store writes each row. */
int
state_diffs_add(struct state *st, int64_t run, const char *step,
    const char *token, const struct diff_row *rows, size_t n)
{
	int opened, rc = STATE_OK;
	size_t i;

	if (st->ops->diff_add == NULL)
		return STATE_OK;
	if ((opened = store_tx_enter(st)) < 0)
		return STATE_ERR;
	for (i = 0; i < n && rc == STATE_OK; i++)
		rc = st->ops->diff_add(st, run, step, token, &rows[i]);
	return store_tx_leave(st, opened, rc);
}

int
state_diffs_each(struct state *st, int64_t run, const char *step,
    const char *token, int (*fn)(const struct diff_row *, void *), void *arg)
{
	if (st->ops->diffs_each == NULL)
		return STATE_OK;
	return st->ops->diffs_each(st, run, step, token, fn, arg);
}
