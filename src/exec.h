/*
 * exec.h - executors: how a step's command (run, verify or rollback) runs.
 *
 * Each step type that runs commands has a const struct exec_ops. Starting is
 * split in two so that nothing runs before it is recorded: start() prepares
 * the command; the engine records the attempt as running, durably, with a
 * token; release() then starts it (a local command carries the token as
 * CUTOVER_ATTEMPT in its environment, and pgid() tells its process group
 * from then on; an ssh command records its group on the host under the
 * token). If the engine dies, the next driver finds what is left of the
 * command by the token: exec_local_kill_token(), exec_ssh_recover().
 *
 * While it runs, output arrives through req->output in the order it was
 * produced (stdout and stderr share one pipe). done() is called exactly once,
 * from the event loop, after which the engine calls exec_free().
 */
#ifndef CUTOVER_EXEC_H
#define CUTOVER_EXEC_H

#include <stddef.h>
#include <stdint.h>

struct buf;
struct loop;
struct exec;
struct state;

struct exec_result {
	int ok;        /* the command succeeded */
	int exit_code; /* -1 if none */
	int signal;    /* 0 if none */
	int timed_out;
	int unknown;   /* the connection dropped: it may have run, or still run */
	char *message; /* one line for a person, or NULL; owned by the exec */
	char *result;  /* reconcile: the result as JSON text, or NULL; owned
	                  by the exec; stored with the step */
};

struct runbook;
struct rb_step;
struct rb_target;
struct rb_entity;

/* What a dead driver left running, for its executor to find and end. */
struct exec_orphan {
	const struct runbook *rb;
	const struct rb_step *def;      /* the step */
	const struct rb_target *target; /* its target, or NULL */
	const struct rb_entity *entity; /* the instance's entity, or NULL */
	int kind;                       /* enum attempt_kind of the attempt */
	const char *token;              /* CUTOVER_ATTEMPT of the attempt */
	const char *host;               /* host of the driver that ran it */
	int64_t pgid;                   /* local process group, 0 if none */
	int64_t started_ms;             /* when the attempt began (epoch ms), -1 */
};
enum { EXEC_ORPHAN_GONE = 0, EXEC_ORPHAN_UNKNOWN = 1, EXEC_ORPHAN_STUCK = -1 };

struct exec_req {
	struct loop *loop;
	const struct runbook *rb;        /* for expanding target fields */
	const struct rb_target *target;  /* ssh, sql: where to run */
	const struct rb_entity *entity;  /* the instance's entity (its
	                                    ${entity.*} in target fields), or
	                                    NULL */
	const char *step;                /* the step's id, for messages */
	const struct rb_step *def;       /* the whole step (reconcile) */
	const char *shell;   /* local: settings.shell */
	const char *command; /* expanded text */
	const char *const *env; /* extra "NAME=value" entries, NULL-terminated */
	int64_t timeout_ms;
	int verify; /* sql: success is a true first column of the first row */
	void (*output)(const char *, size_t, void *);
	void (*done)(const struct exec_result *, void *);
	void *arg;
	/* reconcile: the state, where every difference of the attempt is
	 * kept (state_diffs_add), or NULL to keep only the samples */
	struct state *st;
};

struct exec_ops {
	const char *name;
	/* Prepare the command; NULL with *err (caller frees) if impossible. */
	struct exec *(*start)(const struct exec_req *, char **err);
	/* Process group to record (0 when the command is not a local process). */
	int64_t (*pgid)(struct exec *);
	void (*release)(struct exec *);
	/* Stop it now; done() still follows, not ok. */
	void (*cancel)(struct exec *, const char *why);
	void (*free)(struct exec *);
	/* Close every cached connection (at the engine's close); or NULL. */
	void (*shutdown)(void);
	/*
	 * Find what the attempt left running and end it, waiting at most
	 * wait_ms until it is gone. GONE: nothing of it runs any more (safe
	 * to verify or re-run); UNKNOWN: cannot tell (the step must wait for
	 * a person, *why says what to check); STUCK: it would not end (*why;
	 * the engine refuses to go on). *why is the caller's to free. NULL:
	 * the executor leaves nothing behind to look for (taken as GONE).
	 */
	int (*recover)(const struct exec_orphan *, int64_t wait_ms, char **why);
};

extern const struct exec_ops exec_local_ops;
extern const struct exec_ops exec_ssh_ops;
extern const struct exec_ops exec_sql_ops;
extern const struct exec_ops exec_reconcile_ops;
extern const struct exec_ops exec_odbc_ops;

/* Close every cached connection (ssh sessions, PostgreSQL connections);
 * the shutdown members of their ops. */
void exec_ssh_shutdown(void);
void exec_sql_shutdown(void);

/* The recover member of exec_local_ops: on the host of the dead driver,
 * end its process group, or the groups carrying its token. */
int exec_local_recover(const struct exec_orphan *, int64_t wait_ms,
    char **why);
/* The recover member of exec_sql_ops: end the session carrying the
 * attempt's token (application_name "cutover TOKEN") on the step's target
 * and wait until it is gone, at most wait_ms; blocks. *why is new (or NULL
 * when GONE), free of secrets. exec_reconcile_ops: the same on both sides. */
int exec_sql_recover(const struct exec_orphan *, int64_t wait_ms, char **why);
int exec_reconcile_recover(const struct exec_orphan *, int64_t wait_ms,
    char **why);

/* Reap exited local children; call on SIGCHLD. */
void exec_local_sigchld(int, void *);

/*
 * End a process group left running by a driver that died, and wait until
 * none of its members is alive (zombies count as gone), at most wait_ms;
 * but only if it is proven the attempt's: a live member carries
 * CUTOVER_ATTEMPT=token in its environment and started on this boot, not
 * before the attempt (started_ms, epoch ms; 0 if unknown). Any other
 * group is left alone. *evidence (caller frees; NULL when no group was
 * alive) says which, for the audit trail. Returns 0 when the group is gone
 * or not the attempt's, -1 if it would not die.
 */
int exec_local_kill_group(int64_t pgid, const char *token,
    int64_t started_ms, int64_t wait_ms, char **evidence);
/* The same for every process group whose processes carry
 * CUTOVER_ATTEMPT=token in their environment (a driver that died between
 * starting a command and recording its group). */
int exec_local_kill_token(const char *token, int64_t wait_ms);

/* The recover member of exec_ssh_ops: over a new session, read the
 * attempt's record on the host and end its process group (see exec-ssh.c). */
int exec_ssh_recover(const struct exec_orphan *, int64_t wait_ms, char **why);

/* The verify rule of sql steps on any engine: is the first column of the
 * first row (its text) true ("t", "true", any case) or a non-zero
 * number? */
int exec_sql_true(const char *value);

/* Append a value of sql output (len bytes of s) as shown on any engine:
 * one line (control characters as spaces), cut after 60 characters
 * (UTF-8 aware) with "...". */
void exec_sql_cell(struct buf *, const char *s, size_t len);

#endif
