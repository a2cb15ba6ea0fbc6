/*
 * state.h - the durable store: runs, steps, attempts, decisions, the driver
 * lease and the audit trail, in one SQLite file (or, by the form of the
 * path, another store: see store.h).
 *
 * The file is opened in WAL mode with synchronous=FULL: when a state_* call
 * that writes returns 0, the change is on disk. Every state change of a step
 * and every operator action appends an audit entry in the same transaction,
 * so the trail and the state can never disagree. Each audit entry carries
 * the SHA-256 of the one before it.
 *
 * Strings returned inside structs are owned by the struct and released by
 * the matching *_free call.
 */
#ifndef CUTOVER_STATE_H
#define CUTOVER_STATE_H

#include <stddef.h>
#include <stdint.h>

#define STATE_SCHEMA_VERSION 5
/* The def_sha rule new runs record (RB_HASH_CURRENT of runbook.h). */
#define STATE_STEP_HASH 2
#define STATE_LEASE_STALE_MS 30000 /* a driver silent this long is dead */
#define STATE_HEARTBEAT_MS 5000

enum step_state {
	ST_PENDING,
	ST_RUNNING,
	ST_SUCCEEDED,
	ST_FAILED,
	ST_INTERRUPTED,
	ST_SKIPPED,
	ST_AWAITING,
	ST_ROLLED_BACK,
	ST_ROLLBACK_FAILED,
	ST_EXCLUDED, /* an instance of an excluded entity that had not started */
};
#define ST_NSTATES 10
#define ST_BIT(s) (1u << (s))

enum attempt_kind {
	ATT_RUN,      /* the step's run (and verify) */
	ATT_VERIFY,   /* verify only, after an interruption */
	ATT_ROLLBACK, /* the step's rollback action */
};

/* Return codes of state_open and friends. */
enum {
	STATE_OK = 0,
	STATE_ERR = -1,      /* message in state_error() */
	STATE_NEWER = -2,    /* schema newer than this program */
	STATE_CONFLICT = -3, /* lease held, or a conditional update lost */
	STATE_NOTFOUND = -4,
	STATE_GONE = -5,     /* the file was deleted or replaced while open */
};

struct state;

struct run_info {
	int64_t id;
	char *runbook; /* runbook name */
	char *mode;    /* "rehearsal" or "live" */
	char *state;   /* "open", "complete", "abandoned" */
	char *runbook_text;
	char *runbook_sha;
	char *created_at; /* ISO 8601 UTC */
	char *ended_at;   /* NULL while open */
	char *operator;
	int step_hash; /* the rule of its steps' def_sha (enum rb_hash_rule):
	                * 1 for runs of cutover 0.1.0 */
	/* The entities the run covers, fixed when it starts: NULL for all,
	 * else items "wave:NAME" and "entity:ID" joined by commas (the run
	 * covers an entity any item names), e.g. "wave:pilot,wave:wave-2". */
	char *selection;
};

struct step_row {
	char *id;
	int idx;
	enum step_state state;
	int attempts; /* number of attempts of kind run/verify */
	char *def_sha;
	char *started_at; /* first attempt, NULL if none */
	char *ended_at;   /* last outcome, NULL if none */
	int64_t started_ms, ended_ms; /* same as epoch ms, -1 if none */
	int64_t duration_ms;          /* -1 if none */
	char *note;   /* last failure message, skip reason, ... */
	char *result; /* JSON text of a reconcile result, or NULL */
	int64_t done_ms; /* when it last succeeded (rollback order), -1 */
	int undo;        /* a rollback of this step is under way */
};

struct attempt_row {
	char *step;
	int n;
	enum attempt_kind kind;
	char *state; /* running, succeeded, failed, interrupted */
	char *started_at;
	char *ended_at;
	int64_t duration_ms;
	int exit_code; /* -1 if none */
	char *message;
	char *host;
	int64_t pid, pgid; /* 0 if none */
	char *output; /* redacted, bounded; NUL-terminated */
	size_t output_len;
	int64_t output_total; /* bytes the command produced */
	char *operator;
	char *token; /* CUTOVER_ATTEMPT of its local command, or NULL */
};

struct lease_holder {
	int64_t pid;
	char *host;
	char *operator;
	int64_t heartbeat_ms;
};

struct audit_row {
	int64_t id;
	char *at;
	int64_t run;
	char *step;
	char *operator;
	char *os_user;
	char *action;
	char *details;
	char *prev;
	char *hash;
};

const char *step_state_name(enum step_state);
int step_state_parse(const char *, enum step_state *);
const char *attempt_kind_name(enum attempt_kind);

/*
 * Current time in epoch milliseconds: the wall clock as the process first
 * read it, advanced by the monotonic clock since (so a clock stepped while
 * a driver runs changes no duration), and never behind the newest audit
 * entry of a state file opened (state_clock_behind says by how much the
 * machine's clock was). Built with CUTOVER_TEST_HOOKS (the test suite's
 * cutover-test only), CUTOVER_FAKE_CLOCK (epoch ms) replaces the wall clock.
 */
int64_t state_now_ms(void);
/* Format epoch ms as "2026-11-23T17:31:31.123Z" into out (25 bytes). */
void state_format_time(int64_t ms, char out[32]);
/* Epoch ms of such a text, or -1. */
int64_t state_parse_time(const char *);
/* How far (ms) this machine's clock was behind the newest audit entry when
 * the state file was opened; 0 if it was not. */
int64_t state_clock_behind(struct state *);

/* state_open flags */
#define STATE_CREATE 0x1   /* create the file (0600) if it does not exist */
#define STATE_READONLY 0x2 /* only read: no write, no WAL checkpoint */

/*
 * Open the state file as flags say. Returns STATE_OK, STATE_NEWER (schema
 * of a newer cutover) or STATE_ERR, with a one-line message in *err
 * (caller frees) on failure. A file is created only where nothing is
 * (never through a symbolic link); an existing one must be a regular file
 * of the user running cutover that nobody else may write, and so must
 * SQLite's side files (PATH-wal, -shm, -journal) where they exist. An
 * SQLite file that is neither empty nor cutover's is refused, never
 * changed. A path of the form postgresql://..., postgres://... or
 * pg:CONNINFO opens a PostgreSQL database instead (schema cutover, created
 * when STATE_CREATE is set and the role may); messages never show its
 * password.
 */
int state_open(const char *path, int flags, struct state **, char **err);
/* Is path a state file (not the address of a database server)? Only a file
 * has a directory to create and can be missing. */
int state_is_file(const char *path);
void state_close(struct state *);
/* The runbook whose runs the handle sees: a store that keeps many runbooks
 * (PostgreSQL) reads and writes only its runs, and its own audit chain; a
 * state file keeps one runbook and ignores it. NULL: every runbook, for
 * reading (state_run_list) only. The name is copied. */
void state_set_runbook(struct state *, const char *name);
/* Something the user of a file opened should be told (one line), or NULL:
 * a reader on a full disk reads the file as last written. */
const char *state_warning(struct state *);
/* Who acts: recorded in every audit entry. Strings are copied. The
 * os_user starts as the OS login, or on a store that authenticates its
 * users (PostgreSQL) as the database user, state_db_user. */
void state_set_actor(struct state *, const char *operator, const char *os_user);
const char *state_operator(const struct state *);
/* The user the store authenticated (PostgreSQL's session_user), or NULL
 * for a store that authenticates nobody (a SQLite file). Approvals at a
 * checkpoint count distinct users of it when it is not NULL. */
const char *state_db_user(const struct state *);
const char *state_error(struct state *);
/* Has another connection changed the file since the last call? */
int state_changed(struct state *);
/* Wait up to timeout_ms for another connection to change the runs of the
 * handle's runbook: 1 when one did (state_changed then says so too), 0 if
 * none did, STATE_ERR. PostgreSQL is told of each commit (NOTIFY on a
 * channel per runbook); a state file is looked at every 50 ms. */
int state_wait(struct state *, int timeout_ms);
/*
 * Why the state file is gone (deleted, or replaced by another file, while
 * this process had it open) and what to do, or NULL. state_begin notices
 * it and returns STATE_GONE from then on (every other write STATE_ERR,
 * with this as state_error), after saving what this process still sees
 * of the file to PATH.gone.db and leaving the same text in a marker,
 * PATH.gone: state_open refuses the path while the marker is there.
 */
const char *state_gone(struct state *);
/* Is there a PATH.gone marker for path? */
int state_marked_gone(const char *path);

/* Commits are durable (synchronous=FULL, the default) or, for writes that
 * are views rather than transitions, left to the next durable commit. */
void state_set_durable(struct state *, int);

/* Explicit transactions (BEGIN IMMEDIATE), for grouping several calls. The
 * writing calls below open their own transaction unless one is open.
 * state_begin returns STATE_GONE once the file is gone (state_gone). */
int state_begin(struct state *);
int state_commit(struct state *);
void state_rollback(struct state *);

/* Runs. */
int state_run_latest(struct state *, int open_only, struct run_info *);
int state_run_get(struct state *, int64_t id, struct run_info *);
int state_run_list(struct state *, struct run_info **, size_t *);
/* Are all runs of the file of the runbook called name? STATE_OK, or
 * STATE_ERR saying whose file it is. */
int state_runbook_check(struct state *, const char *name);
int state_run_create(struct state *, const char *runbook, const char *mode,
    const char *text, const char *sha, int64_t *id);
int state_run_set_state(struct state *, int64_t run, const char *state);
int state_run_set_runbook(struct state *, int64_t run, const char *text,
    const char *sha);
/* Record the selection of a run as it starts (audited: selection). */
int state_run_set_selection(struct state *, int64_t run,
    const char *selection);
/* Record (to != NULL, out == NULL) or clear (both NULL) the target of a
 * rollback under way, or read it (out != NULL: a new string or NULL). */
int state_run_rollback_to(struct state *, int64_t run, const char *to,
    char **out);
/* Mark a step as being rolled back (its awaiting means: confirm undone). */
int state_step_set_undo(struct state *, int64_t run, const char *id, int);
void run_info_free(struct run_info *);
void run_info_free_list(struct run_info *, size_t);

/* Steps of a run, in runbook order (idx). */
int state_steps_load(struct state *, int64_t run, struct step_row **, size_t *);
void step_rows_free(struct step_row *, size_t);
int state_step_get(struct state *, int64_t run, const char *id, struct step_row *);
void step_row_free(struct step_row *);
int state_step_insert(struct state *, int64_t run, const char *id, int idx,
    const char *def_sha);
int state_step_delete(struct state *, int64_t run, const char *id);
int state_step_update_def(struct state *, int64_t run, const char *id, int idx,
    const char *def_sha);

/*
 * Move a step to state `to` if its current state is in from_mask (ST_BIT
 * set); otherwise STATE_CONFLICT. note replaces the step's note when not NULL.
 * An audit entry with action and details (may be NULL) is appended.
 */
int state_step_transition(struct state *, int64_t run, const char *id,
    unsigned from_mask, enum step_state to, const char *note,
    const char *action, const char *details);
int state_step_set_result(struct state *, int64_t run, const char *id,
    const char *json);

/*
 * Record a new attempt as running: inserts the attempt (with the pid and
 * process group that will run it, 0 if none or not known yet, and the token
 * its local command will carry in CUTOVER_ATTEMPT), moves the step to running
 * (for ATT_RUN and ATT_VERIFY, from a state in from_mask; else
 * STATE_CONFLICT) and appends an audit entry, all in one durable
 * transaction. *n is the attempt number (1, 2, ... per step).
 */
int state_attempt_begin(struct state *, int64_t run, const char *step,
    enum attempt_kind, unsigned from_mask, const char *host, int64_t pid,
    int64_t pgid, const char *token, int *n);
/* Record the process group of a later command of the same attempt (its
 * verify), durably, before that command is released. */
int state_attempt_set_pid(struct state *, int64_t run, const char *step, int n,
    int64_t pid, int64_t pgid);
/* Store the output captured so far (while the attempt runs). */
int state_attempt_output(struct state *, int64_t run, const char *step, int n,
    const char *out, size_t len, int64_t total);
/*
 * Record an attempt's outcome and the step's resulting state (to) in one
 * transaction: attempt state ok ? "succeeded" : "failed" (or "interrupted"),
 * exit code, message, output. note is the step's new note. For a step being
 * rolled back, its forward timings are kept and the undo flag is cleared
 * when it ends rolled_back.
 */
int state_attempt_finish(struct state *, int64_t run, const char *step, int n,
    const char *astate, int exit_code, const char *message, const char *out,
    size_t len, int64_t total, enum step_state to);
/* Attempts of a step (all, or only n when n > 0), oldest first. */
int state_attempts_list(struct state *, int64_t run, const char *step, int n,
    struct attempt_row **, size_t *);
/* Attempts still recorded running in a run (any step). */
int state_attempts_running(struct state *, int64_t run, struct attempt_row **,
    size_t *);
/* Mark a running attempt interrupted (its driver died). */
int state_attempt_interrupt(struct state *, int64_t run, const char *step,
    int n, const char *message);
void attempt_rows_free(struct attempt_row *, size_t);

/* Decisions at checkpoints. Active decisions count; a rollback past the
 * checkpoint deactivates them (they stay in the audit trail). evidence is
 * the SHA-256 (hex) of the evidence the decision was taken on, or NULL. */
int state_decision_add(struct state *, int64_t run, const char *step,
    const char *decision, const char *reason, const char *evidence);
/* Set aside the active go decisions at step taken on evidence other than
 * sha (decisions without evidence stay): audited "decisions voided:
 * evidence changed" when any was. *n (may be NULL) says how many. */
int state_decision_void(struct state *, int64_t run, const char *step,
    const char *sha, int *n);
/* Number of distinct operators with an active "go"; *nogo set if any active
 * "no-go". by_me set if the current operator already decided. */
int state_decision_count(struct state *, int64_t run, const char *step,
    int *go, int *nogo, int *by_me);
int state_decision_reset(struct state *, int64_t run, const char *step);
/* One decision at a checkpoint, as recorded. */
struct decision_row {
	char *operator;
	char *decision; /* "go" or "no-go" */
	char *reason;   /* NULL if none */
	int64_t at_ms;  /* when, ms since the epoch (UTC) */
	int active;     /* 0: a rollback past the checkpoint set it aside */
	char *evidence; /* SHA-256 of the evidence it was taken on, or NULL */
};
/* The decisions at a step, oldest first (active or not). */
int state_decision_list(struct state *, int64_t run, const char *step,
    struct decision_row **, size_t *);
void decision_rows_free(struct decision_row *, size_t);

/*
 * Entities of a run that left it (for_each phases, SPEC section 8): one
 * row per excluded entity. Only exclusion is recorded; an entity without
 * a row is active.
 */
struct entity_row {
	char *entity;
	char *state;  /* "excluded" */
	char *reason; /* why, or NULL */
	char *at;     /* ISO 8601 UTC */
	int64_t at_ms;
	char *operator;
};
/* Exclude an entity from run (audited: exclude, with the reason);
 * STATE_CONFLICT if it is excluded already. */
int state_entity_exclude(struct state *, int64_t run, const char *entity,
    const char *reason);
/* The excluded entities of a run, in the order they were excluded. */
int state_entities_load(struct state *, int64_t run, struct entity_row **,
    size_t *);
void entity_rows_free(struct entity_row *, size_t);

/*
 * The one-driver-per-run lease. Acquire succeeds if nobody holds it, or the
 * holder is dead: same host and pid gone, or no heartbeat for
 * STATE_LEASE_STALE_MS. Otherwise STATE_CONFLICT with *holder filled
 * (free with lease_holder_free). *took_over is set when a dead holder was
 * replaced.
 */
int state_lease_acquire(struct state *, int64_t run, const char *host,
    int64_t pid, struct lease_holder *holder, int *took_over);
int state_lease_heartbeat(struct state *, int64_t run);
/* Does this process still hold the lease (STATE_OK), or not (CONFLICT)? */
int state_lease_check(struct state *, int64_t run);
int state_lease_release(struct state *, int64_t run);
/* Who drives the run now (STATE_NOTFOUND if nobody, or only a dead one). */
int state_lease_get(struct state *, int64_t run, struct lease_holder *);
void lease_holder_free(struct lease_holder *);

/* Append an audit entry (in its own transaction unless one is open). */
int state_audit(struct state *, int64_t run, const char *step,
    const char *action, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Iterate the trail in order (run <= 0: all runs). fn returns non-zero to stop. */
int state_audit_each(struct state *, int64_t run,
    int (*fn)(const struct audit_row *, void *), void *);
/* Check the hash chain. Returns 0 if intact, else 1 with *bad_id the first
 * entry that does not match; -1 on a read error. */
int state_audit_verify(struct state *, int64_t *bad_id, char **why);
/* The hash of the newest audit entry, the head of the chain, as 64 hex
 * digits in out: STATE_OK, STATE_NOTFOUND (out empty) when the trail has
 * no entry yet, STATE_ERR on a read error. An operator who notes the head
 * can later prove that nothing was cut or rewritten behind it. */
int state_audit_head(struct state *, char out[65]);

/*
 * Copying runs between stores (`cutover state copy`): the rows of a run's
 * table ("runs", "steps", "attempts", "decisions") as column names and
 * values, as the store keeps them, and a row put into another store as
 * given. Values are text (integers in decimal) or bytes (blob set); NULL is
 * SQL NULL. Putting a "runs" row gives the run a new id (*id) in the
 * runbook of the handle; the other tables' rows name their run by it.
 */
#define STATE_ROW_MAX 24
struct state_row {
	int n;
	char *name[STATE_ROW_MAX];
	char *value[STATE_ROW_MAX];
	size_t len[STATE_ROW_MAX];
	int blob[STATE_ROW_MAX];
};
int state_rows_each(struct state *, const char *table, int64_t run,
    int (*fn)(const struct state_row *, void *), void *);
int state_row_put(struct state *, const char *table, const struct state_row *,
    int64_t *id);
/* Append a copy of entry a (its time, step, people, action and details)
 * to this store's trail under run, chained to the entries before it. */
int state_audit_copy(struct state *, const struct audit_row *a, int64_t run);

/*
 * Live notice of other processes' commits, for an event loop: the
 * descriptor to watch (PostgreSQL: its connection's socket, listening on
 * the runbook's channel; a state file has none: -1, poll state_changed
 * instead). It may change when the store connects again, so look again
 * before each wait. When it is readable, or state_notified says so,
 * state_changed tells whether another process committed.
 */
int state_watch_fd(struct state *);
/* Does a notice of another's commit wait for state_changed? No I/O but a
 * read of what arrived. 0 for a state file. */
int state_notified(struct state *);
/*
 * Why the store cannot be reached now (PostgreSQL restarted, the network
 * cut: a statement failed or went unanswered for 3 s), or NULL. Every
 * call fails at once meanwhile. Reconnecting never blocks: a call outside
 * a transaction, after a backoff (0.25 s doubling to 4 s), starts
 * connecting, and later calls (state_reconnect, or any other) take the
 * steps the connection is ready for; an attempt unanswered for 2 s is
 * given up. state_reconnect is STATE_OK once connected;
 * state_reconnect_fd gives the descriptor of the attempt under way and
 * the poll events it waits for (-1: none), for an event loop to call
 * state_reconnect when it is ready. Only once state_reconnect_fd was
 * called (an event loop drives the handle) is that so: before, a call
 * connects again at once, waiting up to 2 s (a command that runs a few
 * statements and ends). A state file is never unreachable.
 */
const char *state_unreachable(struct state *);
int state_reconnect(struct state *);
int state_reconnect_fd(struct state *, short *events);
/* The time (epoch ms) an attempt's end written from now on records, in a
 * store that can be unreachable: when its outcome was held, not when it
 * could be written. 0: now again. */
void state_set_time(struct state *, int64_t ms);

/*
 * Notifications: the outbox (notify.h delivers it). A handle told the
 * runbook's sinks (state_set_notify) puts an event in the outbox, one row
 * per sink that takes it, in the same transaction as the transition that
 * caused it: a step entering awaiting, failed or rollback_failed
 * (state_step_transition, state_attempt_finish), a decision at a
 * checkpoint (state_decision_add), a rollback recorded or cleared
 * (state_run_rollback_to), a run marked complete (state_run_set_state).
 * Rows name their sink, never its address.
 */
#include "notify-event.h"

/* Sink i is called names[i] and takes the events whose bits
 * (NOTIFY_EV_BIT) are set in masks[i]; copied. n == 0: no sink. */
void state_set_notify(struct state *, size_t n, const char *const *names,
    const unsigned *masks);
/* Events this handle put in the outbox since it was opened. */
uint64_t state_outbox_added(const struct state *);
/*
 * Put event type in the outbox for every sink that takes it, inside the
 * caller's transaction if one is open (else in its own). step may be an
 * instance STEP@ENTITY (entity NULL: taken from it); any may be NULL.
 * STATE_OK at once when no sink takes it.
 */
int state_outbox_event(struct state *, int64_t run, enum notify_event type,
    const char *step, const char *entity, const char *state,
    const char *message);

/* One event for one sink, as the outbox keeps it. */
struct outbox_row {
	int64_t id;    /* of the row */
	char *event;   /* the event's id, 32 hex digits, the same for each
	                * sink: receivers dedupe on it */
	int64_t run;
	char *runbook;
	char *sink;    /* its name in notify: */
	char *type;    /* notify_event_name */
	char *step;    /* NULL if none; these four never hold a secret the */
	char *entity;  /* state does not hold anyway */
	char *state;
	char *operator;
	char *message;
	int64_t at_ms; /* when the transition was recorded */
	int tries;     /* delivery tries so far */
	int fails;     /* of which failed */
	int64_t next_ms; /* no try before (epoch ms) */
};
/* Undelivered rows of the handle's runbook due at now_ms (next_ms <=
 * now_ms), oldest first, at most max. */
int state_outbox_due(struct state *, int64_t now_ms, size_t max,
    struct outbox_row **, size_t *);
/* After a try of row id: delivered (ok), or failed with error (one line,
 * no address) and no new try before next_ms. Not durable at once (a
 * delivery marked and lost is made again: at least once). */
int state_outbox_mark(struct state *, int64_t id, int ok, const char *error,
    int64_t next_ms);
void outbox_rows_free(struct outbox_row *, size_t);
/* Free the strings of one row (not the row). */
void outbox_row_clear(struct outbox_row *);

/* What the outbox holds for the runs of the handle's runbook (run <= 0:
 * every run; else that run only). Reading only. */
struct outbox_stats {
	int64_t pending;   /* deliveries not made yet (event x sink) */
	int64_t failing;   /* of those, the ones whose last try failed */
	int64_t failures;  /* failed tries, ever: a counter */
	int64_t delivered; /* deliveries made, ever: a counter */
	char *last_error;  /* "SINK: why" of the newest failed try, or NULL;
	                    * never a URL or a token */
	int64_t last_error_ms; /* when (epoch ms), -1 if none */
};
int state_outbox_stats(struct state *, int64_t run, struct outbox_stats *);
void outbox_stats_free(struct outbox_stats *);

/*
 * Every difference of a reconcile attempt (not only the samples kept with
 * the step's result), keyed by the attempt's token (CUTOVER_ATTEMPT).
 * kind: "missing", "extra" or "changed"; key, source and dest: JSON arrays
 * of the key's and of each side's values (source NULL for extra, dest
 * NULL for missing); columns: the differing columns, comma-separated
 * (changed). seq orders them as the merge found them. Values are
 * redacted of secrets by the writer.
 */
struct diff_row {
	int64_t seq;
	const char *kind;
	const char *key;
	const char *source;
	const char *dest;
	const char *columns;
};
/* Add n differences, in one transaction. */
int state_diffs_add(struct state *, int64_t run, const char *step,
    const char *token, const struct diff_row *, size_t n);
/* Call fn on each difference of the attempt in seq order until it
 * returns non-zero. */
int state_diffs_each(struct state *, int64_t run, const char *step,
    const char *token, int (*fn)(const struct diff_row *, void *), void *);

#endif
