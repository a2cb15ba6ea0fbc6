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
#define RUNBOOK_MAX_ENTITIES 100000

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
	TARGET_ODBC, /* any database with an ODBC driver, through unixODBC */
};
#define TARGET_NTYPES 3

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

/* operators: an operator name and the database users it may be. */
struct rb_operator {
	char *name;
	char **users; /* database users (PostgreSQL session_user) */
	size_t nusers;
	struct rb_pos pos;
};

/* settings.operator: whose word the declared operator name needs. */
enum rb_operator_mode {
	RB_OPERATOR_DECLARED, /* default: --operator or $USER as given */
	RB_OPERATOR_OS_USER,  /* SQLite: the name must be the OS login */
};

/* host_key of an ssh target; UNSET lets ssh_config decide (default
 * strict). OFF checks nothing, and is the only way to accept an ssh_config
 * StrictHostKeyChecking no. */
enum rb_host_key {
	RB_HOSTKEY_UNSET,
	RB_HOSTKEY_STRICT,
	RB_HOSTKEY_ACCEPT_NEW,
	RB_HOSTKEY_OFF,
};

struct rb_target {
	char *name;
	enum target_type type;
	/* ssh */
	char *host;
	int port;          /* default 22 */
	char *port_text;   /* "${...}": expanded when connecting, else NULL */
	int port_set;      /* port: given (it wins over ssh_config's Port) */
	char *user;        /* NULL: $USER at execution time */
	char *identity;    /* NULL: ssh-agent */
	char *passphrase;  /* "${env:NAME}" or NULL */
	char *password;    /* "${env:NAME}" or NULL */
	char *known_hosts; /* NULL: ~/.ssh/known_hosts */
	int accept_new;    /* host_key: accept-new (default strict: 0) */
	int host_key;      /* enum rb_host_key: as written, UNSET if absent */
	char *ssh_config;  /* ssh_config: FILE or none; NULL: settings' */
	char **jump;       /* jump: target names, first hop first */
	size_t njump;
	struct rb_target **jump_targets; /* njump, by lint; NULL: unknown */
	/* postgres */
	char *conninfo;
	int tls_insecure; /* tls: insecure (live runs may skip verify-full) */
	/* odbc */
	char *connection; /* ODBC connection string or "DSN=name;..." */
	struct rb_pos pos;
};

/*
 * An entity (a store, a plant, a company...): a for_each phase runs its steps
 * once per entity. Entities come from entities: in the runbook, a list of
 * {id, wave, title, vars}, or from a CSV file (entities: {file: PATH}): a
 * header row, then one entity a record; the columns id (required), wave
 * and title fill those fields, every other column is a var, in the order
 * of the header (every entity of a file has every var, maybe empty).
 * Values are taken as written: ${...} in them is not expanded.
 */
struct rb_entity_var {
	char *name;
	char *value;
};

struct rb_entity {
	char *id;    /* [a-z0-9][a-z0-9._-]*, unique */
	char *title; /* NULL if absent or empty */
	char *wave;  /* NULL if absent or empty */
	struct rb_entity_var *vars;
	size_t nvars;
	size_t index;       /* in runbook.entities (file order) */
	struct rb_pos pos;  /* of its id, in runbook.entities_file if set */
};

enum rb_on_failure {
	RB_ON_FAILURE_HALT,           /* the run, or in a lane the entity's lane */
	RB_ON_FAILURE_EXCLUDE_ENTITY, /* the entity drops out of the run */
};

enum rb_on_no_go {
	RB_ON_NO_GO_HALT,     /* default: the run halts, or the entity is
	                       * excluded in a for_each phase */
	RB_ON_NO_GO_ROLLBACK, /* for_each phases: the entity is excluded and
	                       * what was done for it in the phase is undone */
};

enum rb_file_format { RB_FORMAT_CSV, RB_FORMAT_TSV };

/*
 * A reconcile side: a query on a target, or a file (file: set, target
 * and query NULL). header: the file's first record names the columns
 * (default true); columns: the names to use, in order (required without a
 * header). timezone: the zone of its timestamps without one (NULL: UTC).
 */
/* method: of a compare: rows step (SPEC.md section 11). */
enum rb_method {
	RB_METHOD_AUTO,     /* default: checksum where it pays, else stream */
	RB_METHOD_STREAM,   /* every row of both sides, merged */
	RB_METHOD_CHECKSUM, /* hashes of key ranges, rows of differing ones */
};

struct rb_query {
	char *target_name;
	struct rb_target *target; /* resolved, NULL if unknown */
	char *query;
	char *file;     /* relative to the runbook's directory */
	enum rb_file_format format; /* default csv */
	int header;     /* default 1 */
	char *delimiter; /* one byte; default ',' (csv) or tab (tsv) */
	char *encoding; /* iconv name; default UTF-8 */
	char **columns;
	size_t ncolumns;
	char *timezone;
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
	int rollback_none; /* rollback: none: it changes nothing to undo */
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
	int empty_is_null; /* '' equals NULL */
	enum rb_method method;
	int bisection_factor;    /* ranges per level; 0: the default */
	int bisection_threshold; /* rows fetched at most; 0: the default */
	struct rb_pos method_pos;    /* of method:, when given */
	struct rb_pos bisection_pos; /* of the last bisection_* key */
	/* checkpoint */
	int approvals;     /* default 1 */
	char **approvers;  /* role names */
	size_t napprovers;
	char **evidence;   /* step ids the decision rests on, or none */
	size_t nevidence;
	enum rb_on_no_go on_no_go;
	/* automatic and manual steps */
	enum rb_on_failure on_failure; /* exclude-entity: for_each phases */

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
	int for_each; /* for_each: entity: steps run once per entity */
	int parallel; /* entities at once (default settings.parallel) */
	size_t first; /* index of its first step in runbook.steps */
	size_t nsteps;
	struct rb_pos pos;
};

/*
 * A notify: sink (notify.h delivers to it). A webhook's address is kept
 * as written (it must name ${env:NAME}: it carries a token, and the
 * runbook's text is kept in the state file); a command is run by the
 * shell, with ${var}, ${env:NAME} and ${event.FIELD} expanded.
 */
struct rb_notify {
	char *name;      /* name:, else its place in notify: ("1", "2", ...) */
	unsigned events; /* NOTIFY_EV_BIT (notify-event.h) of each it takes */
	char *webhook;   /* raw text, NULL for a command sink */
	char *command;   /* raw text, NULL for a webhook sink */
	int format;      /* enum notify_format: json (default), slack, teams */
	struct rb_pos pos;
};

struct rb_chunk;

struct runbook {
	struct rb_chunk *pool; /* strings and small lists of the model */
	char *path;       /* as given */
	char *text;       /* the whole file, NUL-terminated */
	size_t textlen;
	/* SHA-256 of text; with an entities file, of text, a NUL and the
	 * file's bytes, so that a change to either is a change of the runbook */
	char sha256[65];
	/* SHA-256 of the entities file's bytes, "" without one */
	char entities_sha256[65];

	int version;
	char *name;
	char *title;       /* NULL if absent */
	char *description; /* NULL if absent */

	struct rb_var *vars;
	size_t nvars;
	struct rb_role *roles;
	size_t nroles;
	struct rb_operator *operators; /* operators:, in file order */
	size_t noperators;
	enum rb_operator_mode operator_mode;

	int parallel;            /* default 1 */
	int64_t default_timeout_ms;
	char *shell;             /* default "/bin/sh" */
	char *ssh_config;        /* settings.ssh_config; NULL: ~/.ssh/config */
	char **rollback_roles;
	size_t nrollback_roles;

	struct rb_target *targets;
	size_t ntargets;
	struct rb_phase *phases;
	size_t nphases;
	struct rb_step *steps; /* all steps, runbook order, phase by phase */
	size_t nsteps;

	struct rb_entity *entities; /* in the order given */
	size_t nentities;
	char *entities_file; /* the CSV file, as opened, or NULL (inline) */
	/* The waves in order: waves: as given, else the entities' waves in
	 * the order they first appear. */
	char **waves;
	size_t nwaves;
	int waves_given;
	struct rb_entity **entity_index; /* sorted by id */

	struct rb_notify *notify; /* notify:, in file order */
	size_t nnotify;
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
/* runbook_load without the hashes only a run needs (rb->sha256 and the
 * steps' def_sha are empty): to read its structure (lint --list-steps). */
int runbook_load_unhashed(const char *path, struct runbook **out,
    struct diags *d);

/* Look-ups; NULL when absent. */
struct rb_step *runbook_find_step(const struct runbook *, const char *id);
struct rb_phase *runbook_find_phase(const struct runbook *, const char *id);
struct rb_var *runbook_find_var(const struct runbook *, const char *name);
struct rb_role *runbook_find_role(const struct runbook *, const char *name);
/* May operator name act as database user db (operators: maps it so)? */
int runbook_operator_is(const struct runbook *, const char *name,
    const char *db);
/* The one operator name operators: maps to database user db, or NULL when
 * none or several do. */
const char *runbook_operator_of(const struct runbook *, const char *db);
/* Is operator a member of role? */
int runbook_role_has(const struct rb_role *, const char *operator);

/* The entity with that id, or NULL (a binary search). */
struct rb_entity *runbook_entity_find(const struct runbook *, const char *id);
/* The value of an entity's var, or NULL if it has none of that name. The
 * names id, title and wave give those fields ("" when absent). */
const char *runbook_entity_var(const struct rb_entity *, const char *name);
/* The place of wave in runbook.waves, or -1. */
int runbook_wave_index(const struct runbook *, const char *wave);
/* Does the runbook have a for_each phase (steps run once per entity)? */
int runbook_has_lanes(const struct runbook *);
/*
 * Split an instance name STEP@ENTITY. Returns 1 with *step and *entity new
 * strings (the caller frees them) for an instance, 0 with *step a new
 * string and *entity NULL for a plain step id, -1 (nothing allocated) if
 * either part is not a valid id. Only the syntax is checked.
 */
int runbook_instance_parse(const char *name, char **step, char **entity);
/* The step and entity a stored step id names: a plain step (*entity NULL)
 * or an instance STEP@ENTITY of a for_each step. 0, or -1 when it names
 * neither (a for_each step's bare id names no instance). */
int runbook_instance_find(const struct runbook *, const char *id,
    struct rb_step **step, struct rb_entity **entity);
/* Is step d in a for_each phase? */
int runbook_step_in_lanes(const struct runbook *, const struct rb_step *d);

/* The def_sha of a step by rule (enum rb_hash_rule); a rule this program
 * does not know gives the current one. */
const char *runbook_step_sha(const struct rb_step *, int rule);

const char *step_type_name(enum step_type);

/* ssh_step_route() and the routes of ssh targets. */
#include "ssh-target.h"

#endif
