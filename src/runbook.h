/*
 * runbook.h - the runbook model (format version 1) and its loader.
 *
 * runbook_load() reads a YAML file with libyaml, builds a struct runbook and
 * checks everything lint checks (runbook-lint.c). All strings in the model are
 * the raw text of the file: ${var} references are NOT expanded here; expansion
 * happens at execution time (expand.h). Every string, array and the runbook
 * itself are owned by the struct runbook and freed by runbook_free(): the
 * strings and the small lists live in its pool, released in one go.
 *
 * Positions (struct rb_pos) are 1-based line and column of the YAML node the
 * value came from, for diagnostics.
 */
#ifndef CUTOVER_RUNBOOK_H
#define CUTOVER_RUNBOOK_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"

#define RUNBOOK_MAX_SIZE (4u * 1024 * 1024) /* bytes */
#define RUNBOOK_MAX_DEPTH 64                /* nesting of YAML collections */
#define RUNBOOK_DEFAULT_TIMEOUT_MS (10 * 60 * 1000)

struct rb_pos {
	unsigned line;
	unsigned col;
};

enum step_type {
	STEP_LOCAL,
	STEP_SSH,
	STEP_SQL,
	STEP_RECONCILE,
	STEP_MANUAL,
	STEP_CHECKPOINT,
};
#define STEP_NTYPES 6

enum target_type {
	TARGET_SSH,
	TARGET_POSTGRES,
};

enum compare_mode {
	COMPARE_NONE, /* not a reconcile step */
	COMPARE_VALUE,
	COMPARE_ROWS,
};

struct rb_var {
	char *name;
	char *value; /* raw, may itself contain ${env:NAME} or ${var} */
	int secret;  /* listed in secrets: */
	struct rb_pos pos;
};

struct rb_role {
	char *name;
	char **members; /* operator names */
	size_t nmembers;
	struct rb_pos pos;
};

struct rb_target {
	char *name;
	enum target_type type;
	/* ssh */
	char *host;
	int port;          /* default 22 */
	char *port_text;   /* "${...}": expanded when connecting, else NULL */
	char *user;        /* NULL: $USER at execution time */
	char *identity;    /* NULL: ssh-agent */
	char *passphrase;  /* "${env:NAME}" or NULL */
	char *password;    /* "${env:NAME}" or NULL */
	char *known_hosts; /* NULL: ~/.ssh/known_hosts */
	int accept_new;    /* host_key: accept-new (default strict: 0) */
	/* postgres */
	char *conninfo;
	int tls_insecure; /* tls: insecure (live runs may skip verify-full) */
	struct rb_pos pos;
};

struct rb_query {
	char *target_name;
	struct rb_target *target; /* resolved, NULL if unknown */
	char *query;
	struct rb_pos pos;
};

struct rb_step {
	char *id;
	char *title;
	enum step_type type;
	char *target_name;
	struct rb_target *target; /* resolved, NULL for none/unknown */
	char *run;
	char *verify;
	char *rollback;
	char *owner;
	char *instructions;
	int64_t timeout_ms;     /* default: settings.default_timeout */
	int64_t retry_delay_ms; /* default 0 */
	int64_t planned_ms;     /* -1: not given */
	int retries;            /* extra automatic attempts, default 0 */
	int irreversible;
	/* reconcile */
	enum compare_mode compare;
	int key; /* leading key columns, default 1 */
	struct rb_query source;
	struct rb_query dest;
	double tolerance; /* default 0 */
	/* checkpoint */
	int approvals;     /* default 1 */
	char **approvers;  /* role names */
	size_t napprovers;

	/* needs as written (NULL/0 when absent: the default applies) */
	char **needs;
	size_t nneeds;
	int needs_given;
	/* resolved dependencies: indexes into runbook.steps, after defaults */
	size_t *deps;
	size_t ndeps;

	size_t phase; /* index into runbook.phases */
	size_t index; /* index into runbook.steps (runbook order) */
	/* SHA-256 (hex) of the step's definition as written, the keys present
	 * in the file by RB_HASH_CURRENT (def_sha), and by RB_HASH_ALL_KEYS
	 * (def_sha_all) for runs made by cutover 0.1.0. A run uses the one of
	 * its rule (runbook_step_sha) to notice that a step with attempts was
	 * changed. NULL after runbook_check(), which skips the hashes. */
	char *def_sha;
	char *def_sha_all;
	struct rb_pos pos;
};

/*
 * The rules of def_sha. A run records the rule its steps were hashed with
 * and keeps comparing by it, so that a new cutover does not see a changed
 * step in every step of a run an older one made. A new rule needs a new
 * number here, and a new schema version of the state file (an older
 * cutover must not open runs it cannot compare).
 */
enum rb_hash_rule {
	RB_HASH_ALL_KEYS = 1, /* cutover 0.1.0: every key it knew, absent too */
	RB_HASH_PRESENT = 2,  /* only the keys present: new keys change nothing */
};
#define RB_HASH_CURRENT RB_HASH_PRESENT

struct rb_phase {
	char *id;
	char *title;
	size_t first; /* index of its first step in runbook.steps */
	size_t nsteps;
	struct rb_pos pos;
};

struct rb_chunk;

struct runbook {
	struct rb_chunk *pool; /* strings and small lists of the model */
	char *path;       /* as given */
	char *text;       /* the whole file, NUL-terminated */
	size_t textlen;
	char sha256[65];  /* of text */

	int version;
	char *name;
	char *title;       /* NULL if absent */
	char *description; /* NULL if absent */

	struct rb_var *vars;
	size_t nvars;
	struct rb_role *roles;
	size_t nroles;

	int parallel;            /* default 1 */
	int64_t default_timeout_ms;
	char *shell;             /* default "/bin/sh" */
	char **rollback_roles;
	size_t nrollback_roles;

	struct rb_target *targets;
	size_t ntargets;
	struct rb_phase *phases;
	size_t nphases;
	struct rb_step *steps; /* all steps, runbook order, phase by phase */
	size_t nsteps;
};

/*
 * Load and check the runbook at path. On success returns 0 and *out is the
 * runbook. On any error returns -1, *out is NULL and every problem found is in
 * d (positioned FILE:LINE:COL when it has a position). Never crashes on any
 * input: size, alias, depth limits are errors like any other.
 */
int runbook_load(const char *path, struct runbook **out, struct diags *d);
/* The same from memory; name is used as FILE in diagnostics. */
int runbook_load_buffer(const char *name, const char *text, size_t len,
    struct runbook **out, struct diags *d);
void runbook_free(struct runbook *);
/* What lint does: load and check, reporting into d, then free; 0 if the
 * runbook is valid. Skips the hashes only a run needs. */
int runbook_check(const char *path, struct diags *d);

/* Look-ups; NULL when absent. */
struct rb_step *runbook_find_step(const struct runbook *, const char *id);
struct rb_phase *runbook_find_phase(const struct runbook *, const char *id);
struct rb_var *runbook_find_var(const struct runbook *, const char *name);
struct rb_role *runbook_find_role(const struct runbook *, const char *name);
/* Is operator a member of role? */
int runbook_role_has(const struct rb_role *, const char *operator);

/* The def_sha of a step by rule (enum rb_hash_rule); a rule this program
 * does not know gives the current one. */
const char *runbook_step_sha(const struct rb_step *, int rule);

const char *step_type_name(enum step_type);

#endif
