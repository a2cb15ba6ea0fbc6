/*
 * store.h - what a store must do to keep the state of state.h. Not for
 * callers of state.h, which never see a store.
 *
 * state.c owns the public state_* API, the struct state every call gets,
 * and what is the same for every store: names of states, times, the actor,
 * freeing rows, the audit chain (hashing and verifying it), whether a lease
 * holder is alive. A store keeps the rows. state_open picks the store by
 * the form of the path (stores[] in state.c):
 *
 *   a plain path                   SQLite, state-sqlite.c (store_sqlite)
 *   postgresql://, postgres://,
 *   pg:                            PostgreSQL, state-pg.c (store_pg)
 *
 * A new store is a file state-NAME.c defining one const struct store_ops,
 * and a line in stores[]; the engine and the commands do not change.
 *
 * The contract of every store:
 *
 * - Every callback but open gets the struct state that open filled in; the
 *   store keeps its own data in st->store (struct store is the store's own
 *   type). Return codes are STATE_OK, STATE_ERR (message set with
 *   store_fail), STATE_CONFLICT, STATE_NOTFOUND as in state.h.
 * - Durability: when a writing callback returns STATE_OK outside a
 *   transaction, or commit returns STATE_OK, the change survives kill -9 and
 *   power loss (unless set_durable(0) asked for less), and every other
 *   connection sees it.
 * - Transactions: begin takes the store's write lock (a second writer
 *   waits for it, it does not fail) and commit or rollback ends it. A
 *   writing callback that needs several statements calls store_tx_enter
 *   and store_tx_leave around them, which open a transaction only when the
 *   caller has not.
 * - Callbacks marked "audited" below append their audit entry with
 *   state_audit() inside the same transaction as the change.
 * - Conditional writes (step_transition, attempt_begin) check the step's
 *   state and change it in one transaction: STATE_CONFLICT when it is not
 *   in from_mask, and nothing is written.
 * - Rows returned are filled as state.h describes them (times as ISO text
 *   and as epoch ms, -1 or NULL when absent) and are freed by state.c's
 *   *_free functions: every string by malloc (xstrdup).
 * - Nothing here may print; errors go to store_fail.
 */
#ifndef CUTOVER_STORE_H
#define CUTOVER_STORE_H

#include <stdarg.h>
#include <stdint.h>

#include "state.h"

struct store;

struct state {
	const struct store_ops *ops;
	struct store *store; /* the store's own */
	char *path;
	char *runbook; /* state_set_runbook's, or NULL */
	char *operator;
	char *os_user;
	char *db_user;  /* set by open if the store authenticates users */
	char host[256]; /* this machine, for the lease */
	int in_tx;      /* begin was called and not yet ended */
	char *error;
	int64_t behind_ms; /* this clock behind the newest entry at open */
	int clock_noted;   /* a clock-behind entry was made */
	char *gone;        /* why the file is no longer the one at path */
	char *warning;     /* what a reader should know (state_warning) */
	int64_t at_ms;     /* state_set_time's, or 0: now (store_now_ms) */
	/* notify: sinks (state_set_notify) and events put in the outbox */
	char **notify_names;
	unsigned *notify_masks;
	size_t nnotify;
	uint64_t outbox_added;
};

struct store_ops {
	const char *name; /* "sqlite" */

	/* Open path as the STATE_* flags of state_open say and bring its
	 * schema up to date; STATE_NEWER if it was written by a newer cutover.
	 * A reader (STATE_READONLY) writes nothing, unless the schema must be
	 * brought up to date first. On failure, *err is one line naming path,
	 * and close is not called. */
	int (*open)(struct state *, const char *path, int flags, char **err);
	void (*close)(struct state *);
	/* Has another connection changed anything since the last call? */
	int (*changed)(struct state *);
	/* Wait up to timeout_ms for another connection's change (as
	 * state_wait), without taking it from changed. */
	int (*wait)(struct state *, int timeout_ms);
	/* Was the file deleted (1) or replaced by another (2) since it was
	 * opened? 0 if not. A store that is no file may leave this NULL. */
	int (*moved)(struct state *);
	/* Write what the store holds, as one consistent copy, to a new file
	 * at path (0600, never through a link). May be NULL. */
	int (*save)(struct state *, const char *path);
	void (*set_durable)(struct state *, int);
	int (*begin)(struct state *);
	int (*commit)(struct state *); /* rolls back if it fails */
	void (*rollback)(struct state *);

	/* Runs: as the state_run_* functions of the same names. run_create
	 * (audited: run-start) and run_set_state (audited: run-state). */
	int (*run_latest)(struct state *, int open_only, struct run_info *);
	int (*run_get)(struct state *, int64_t id, struct run_info *);
	int (*run_list)(struct state *, struct run_info **, size_t *);
	int (*run_create)(struct state *, const char *runbook, const char *mode,
	    const char *text, const char *sha, int64_t *id);
	int (*run_set_state)(struct state *, int64_t run, const char *state);
	int (*run_set_runbook)(struct state *, int64_t run, const char *text,
	    const char *sha);
	int (*run_rollback_to)(struct state *, int64_t run, const char *to,
	    char **out);
	/* Set runs.selection (not audited: state.c audits it). */
	int (*run_set_selection)(struct state *, int64_t run,
	    const char *selection);

	/* Steps: as the state_step* functions. step_transition (audited with
	 * its action). */
	int (*steps_load)(struct state *, int64_t run, struct step_row **,
	    size_t *);
	int (*step_get)(struct state *, int64_t run, const char *id,
	    struct step_row *);
	int (*step_insert)(struct state *, int64_t run, const char *id,
	    int idx, const char *def_sha);
	int (*step_delete)(struct state *, int64_t run, const char *id);
	int (*step_update_def)(struct state *, int64_t run, const char *id,
	    int idx, const char *def_sha);
	int (*step_set_undo)(struct state *, int64_t run, const char *id, int);
	int (*step_transition)(struct state *, int64_t run, const char *id,
	    unsigned from_mask, enum step_state to, const char *note,
	    const char *action, const char *details);
	int (*step_set_result)(struct state *, int64_t run, const char *id,
	    const char *json);

	/* Attempts: as the state_attempt* functions. attempt_begin (audited:
	 * attempt-start), attempt_finish (attempt-end), attempt_interrupt
	 * (attempt-interrupted). */
	int (*attempt_begin)(struct state *, int64_t run, const char *step,
	    enum attempt_kind, unsigned from_mask, const char *host,
	    int64_t pid, int64_t pgid, const char *token, int *n);
	int (*attempt_set_pid)(struct state *, int64_t run, const char *step,
	    int n, int64_t pid, int64_t pgid);
	int (*attempt_output)(struct state *, int64_t run, const char *step,
	    int n, const char *out, size_t len, int64_t total);
	int (*attempt_finish)(struct state *, int64_t run, const char *step,
	    int n, const char *astate, int exit_code, const char *message,
	    const char *out, size_t len, int64_t total, enum step_state to);
	int (*attempts_list)(struct state *, int64_t run, const char *step,
	    int n, struct attempt_row **, size_t *);
	int (*attempts_running)(struct state *, int64_t run,
	    struct attempt_row **, size_t *);
	int (*attempt_interrupt)(struct state *, int64_t run, const char *step,
	    int n, const char *message);

	/* Decisions: as the state_decision_* functions; decision_add
	 * (audited: decide). */
	int (*decision_add)(struct state *, int64_t run, const char *step,
	    const char *decision, const char *reason, const char *evidence);
	/* Set aside the active go decisions at step whose evidence is not
	 * NULL and not sha; *n how many (not audited: state.c audits it). */
	int (*decision_void)(struct state *, int64_t run, const char *step,
	    const char *sha, int *n);
	/* Entities: insert the exclusion row (STATE_CONFLICT if there is
	 * one; not audited: state.c audits it), and load the rows of a run
	 * in the order they were made. */
	int (*entity_exclude)(struct state *, int64_t run, const char *entity,
	    const char *reason);
	int (*entities_load)(struct state *, int64_t run, struct entity_row **,
	    size_t *);
	int (*decision_count)(struct state *, int64_t run, const char *step,
	    int *go, int *nogo, int *by_me);
	int (*decision_reset)(struct state *, int64_t run, const char *step);
	int (*decision_list)(struct state *, int64_t run, const char *step,
	    struct decision_row **, size_t *);

	/* The lease row of a run: read it (STATE_NOTFOUND if none), write it
	 * (replacing any), and the state_lease_* calls of the same names,
	 * which match the row by this process (getpid()) and st->host.
	 * state.c decides whether a holder is alive. */
	int (*lease_read)(struct state *, int64_t run, struct lease_holder *);
	int (*lease_write)(struct state *, int64_t run, const char *host,
	    int64_t pid);
	int (*lease_heartbeat)(struct state *, int64_t run); /* CONFLICT: lost */
	int (*lease_check)(struct state *, int64_t run);
	int (*lease_release)(struct state *, int64_t run);

	/* The audit trail. state.c makes each entry and its hash: audit_last
	 * gives the id, hash and time of the newest entry (0 and NULLs if
	 * none, hash and time new strings), audit_append stores an entry as given, with id
	 * and hash (inside the caller's transaction). audit_each calls fn on
	 * each entry in id order (run <= 0: all) until it returns non-zero. */
	int (*audit_last)(struct state *, int64_t *id, char **hash,
	    char **at);
	int (*audit_append)(struct state *, const struct audit_row *);
	int (*audit_each)(struct state *, int64_t run,
	    int (*fn)(const struct audit_row *, void *), void *);

	/* Copying: as state_rows_each and state_row_put. */
	int (*rows_each)(struct state *, const char *table, int64_t run,
	    int (*fn)(const struct state_row *, void *), void *);
	int (*row_put)(struct state *, const char *table,
	    const struct state_row *, int64_t *id);

	/* Live, and the connection to a server (NULL in a store that has
	 * neither: a file, looked at by polling, that is always there).
	 * watch_fd: the descriptor that turns readable when another
	 * connection may have committed (the store listens from then on),
	 * or -1 for now; it may change after a reconnection. notified: is a
	 * notice of another's commit waiting for changed (reads only what
	 * arrived, never waits)? unreachable: why the server cannot be
	 * reached (the connection was lost and is not back), or NULL.
	 * reconnect: connect again unless the store's backoff says to
	 * wait (STATE_ERR then), never blocking: it starts connecting, or
	 * takes the steps a connection under way is ready for, and is
	 * STATE_OK once connected. reconnect_fd: the descriptor of the
	 * connection under way and what it waits for (POLLIN or POLLOUT,
	 * into *events), else -1. An event loop watches it and calls
	 * reconnect when it is ready, and on a timer too (the backoff and
	 * the time limit of connecting are looked at then). Other calls
	 * fail at once while the store is unreachable. Until reconnect_fd
	 * is first called (no loop drives the handle: a command that runs
	 * a few statements), a call outside a transaction may instead
	 * connect again at once, blocking for a few seconds at most. */
	int (*watch_fd)(struct state *);
	int (*notified)(struct state *);
	const char *(*unreachable)(struct state *);
	int (*reconnect)(struct state *);
	int (*reconnect_fd)(struct state *, short *events);
	/* The outbox: as the state_outbox_* functions. outbox_add stores
	 * row r as given (its id, tries, fails and next_ms aside), inside
	 * the caller's transaction. */
	int (*outbox_add)(struct state *, const struct outbox_row *r);
	int (*outbox_due)(struct state *, int64_t now_ms, size_t max,
	    struct outbox_row **, size_t *);
	int (*outbox_mark)(struct state *, int64_t id, int ok,
	    const char *error, int64_t next_ms);
	int (*outbox_stats)(struct state *, int64_t run,
	    struct outbox_stats *);
	/* Reconcile differences: diff_add stores one row as given, inside
	 * the caller's transaction (state_diffs_add holds the loop and the
	 * transaction); diffs_each as state_diffs_each. */
	int (*diff_add)(struct state *, int64_t run, const char *step,
	    const char *token, const struct diff_row *);
	int (*diffs_each)(struct state *, int64_t run, const char *step,
	    const char *token, int (*fn)(const struct diff_row *, void *),
	    void *);
};

extern const struct store_ops store_sqlite;
extern const struct store_ops store_pg;

/* Keep "what: why" as the last error (state_error); returns STATE_ERR. */
int store_fail(struct state *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
/* Open a transaction unless one is open: 1 if this call opened it, 0 if
 * not, -1 on failure. */
int store_tx_enter(struct state *);
/* End what store_tx_enter opened: commit if rc is STATE_OK, else roll
 * back. Returns rc, or the commit's failure. */
int store_tx_leave(struct state *, int opened, int rc);
/*
 * What a step entering state `to` records beside its state, one rule for
 * every store: a person's wait starts the step's time (starts), an outcome
 * ends it (ends), only a success is what a rollback undoes and in which
 * order (done), and a step stays "being undone" only while it waits for a
 * person or runs its rollback action (undo_clears). After a rollback
 * action, the undo is over only when the step was rolled back
 * (undo_over).
 */
struct step_effects {
	int starts, ends, done, undo_clears, undo_over;
};
void store_step_effects(enum step_state to, struct step_effects *);
/* The audit entry of an attempt's outcome (inside the caller's
 * transaction): its state, exit status if any, message, the SHA-256 and
 * size of the output kept, and the step's new state. */
int store_audit_attempt_end(struct state *, int64_t run, const char *step,
    int n, const char *astate, int exit_code, const char *message,
    const char *out, size_t len, int64_t total, enum step_state to);
/* The audit entry of a reconcile result stored with a step: its SHA-256. */
int store_audit_result(struct state *, int64_t run, const char *step,
    const char *json);
/* The time a write records: state_set_time's, else now. A store that can
 * be unreachable (whose outcomes a driver may hold) records an attempt's
 * end with it. */
int64_t store_now_ms(struct state *);
/* ISO text of epoch ms (a new string), or NULL when ms < 0. */
char *store_time_text(int64_t ms);
/* The kind called name; ATT_RUN if none is. */
enum attempt_kind store_kind_parse(const char *name);

/*
 * The outbox rule, one for every store (state-outbox.c): the event a step
 * entering `to` causes (NOTIFY_EV_AWAITING, NOTIFY_EV_FAILED), or -1; and
 * whether any sink of the handle takes event ev (ev < 0: no).
 */
int store_step_event(enum step_state to);
int store_outbox_wants(const struct state *, int ev);

#endif
