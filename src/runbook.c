/*
 * runbook.c - load a runbook: YAML to a tree of nodes (libyaml events, with
 * positions, refusing aliases, deep nesting and several documents), the tree
 * to a struct runbook (checking the shape and value of every field; a step
 * is loaded, and its nodes dropped, as soon as its mapping ends), then the
 * semantic checks of runbook-lint.c, defaults, dependencies and hashes.
 */
#include "config.h"

#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <strings.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#include "buf.h"
#include "duration.h"
#include "notify-event.h"
#include "runbook-int.h"
#include "runbook.h"
#include "sha256.h"
#include "xmalloc.h"

#define RB_MAX_KEYS 32
#define RB_SUGGEST_MAX 1000 /* names beyond which no suggestion is tried */
#define RB_TEXT_MAX_COL 4096 /* see rb_text_begin */

/* A key of a mapping: which objects it applies to and how it is loaded. */
struct rb_key {
	const char *name;
	unsigned mask; /* step types or target types (bits) it applies to */
	void (*load)(struct rb_ctx *, const struct rb_key *, struct rb_node *,
	    void *);
	size_t off; /* of the field in the object */
	int lo;     /* least value (integers; durations: 1 if must be > 0) */
	int hi;     /* greatest value (integers) */
};

#define FIELD(obj, k, type) ((type *)(void *)((char *)(obj) + (k)->off))
#define BIT(t) (1u << (t))
#define T_ALL ((1u << STEP_NTYPES) - 1)
#define T_RUN (BIT(STEP_LOCAL) | BIT(STEP_SSH) | BIT(STEP_SQL))
#define T_AUTO (T_RUN | BIT(STEP_RECONCILE))
#define T_HUMAN (BIT(STEP_MANUAL) | BIT(STEP_CHECKPOINT))
#define T_SSH BIT(TARGET_SSH)
#define T_PG BIT(TARGET_POSTGRES)
#define T_ODBC BIT(TARGET_ODBC)
#define T_TARGETS (T_SSH | T_PG | T_ODBC)
#define ID_CHARSET "[a-z0-9][a-z0-9._-]*"
#define NAME_CHARSET "[A-Za-z0-9_][A-Za-z0-9_.-]*"

/* Where an open collection is: on the way to the steps, or elsewhere. */
enum rb_place {
	RB_ELSEWHERE,
	RB_PHASES, /* the list of phases: the root's first "phases" */
	RB_PHASE,  /* one of its mappings */
	RB_STEPS,  /* the list of steps: a phase's first "steps" */
	RB_STEP,   /* one of its mappings */
};

/* A point in an arena to go back to. */
struct rb_mark {
	struct rb_chunk *chunk;
	size_t used;
};

/*
 * The tree being built from parser events. The kids of the open collections
 * wait in one list, each collection's from base[its depth] on, until the
 * collection ends and gets them in an array of the exact size.
 *
 * A step is loaded as soon as its mapping ends and its nodes are dropped
 * (the tree arena goes back to where the step began): a runbook of 10,000
 * steps never has more than one step's nodes in memory. What a step's load
 * reports is held until the parse ends well: a YAML error drops it, as it
 * drops the tree.
 */
struct rb_parse {
	struct rb_node *stack[RUNBOOK_MAX_DEPTH]; /* open collections */
	size_t base[RUNBOOK_MAX_DEPTH];
	unsigned char place[RUNBOOK_MAX_DEPTH]; /* enum rb_place */
	/* keys so far equal (by strcmp) to the one that leads on towards the
	 * steps: "phases" in the root, "steps" in a phase */
	size_t named[RUNBOOK_MAX_DEPTH];
	size_t depth;
	struct rb_node *root;
	struct rb_node **kids; /* kids of open collections */
	size_t nkids;
	size_t cap;
	struct rb_mark step; /* the tree arena where the open step began */
};

/* What a step loaded while parsing leaves in its list. */
static struct rb_node rb_loaded = { .kind = RB_NODE_LOADED };

static const char *step_type_names[STEP_NTYPES] = {
	"local", "ssh", "sql", "reconcile", "manual", "checkpoint",
};
/* What the keys of a step or a target of each type apply to, for errors. */
static const char *step_kinds[STEP_NTYPES] = {
	"local steps", "ssh steps", "sql steps", "reconcile steps",
	"manual steps", "checkpoint steps",
};
static const char *target_kinds[] = { "ssh targets", "postgres targets",
	"odbc targets" };
/* The target types as runbooks spell them, by enum target_type. */
static const char *const target_type_names[TARGET_NTYPES] = { "ssh",
	"postgres", "odbc" };

/* Tree. */
static struct rb_node *rb_node_new(struct rb_ctx *, enum rb_node_kind,
    const yaml_mark_t *);
static int rb_load(const char *, char *, size_t, struct runbook **,
    struct diags *, int);
static struct rb_pos rb_offset_pos(const char *, size_t, size_t);
static void rb_yaml_error(struct rb_ctx *, const yaml_parser_t *);
static struct rb_node *rb_yaml_scalar(struct rb_ctx *, yaml_event_t *, int);
static void rb_hash_head(struct sha256_ctx *, char, size_t);
static void rb_yaml_attach(struct rb_parse *, struct rb_node *,
    enum rb_place);
static int rb_yaml_first_key(const struct rb_parse *);
static const char *rb_yaml_lead(const struct rb_parse *, size_t);
static void rb_yaml_close(struct rb_ctx *, struct rb_parse *);
static void rb_arena_rewind(struct rb_chunk **, struct rb_mark);
static int rb_yaml_is_key(const struct rb_parse *);
static enum rb_place rb_yaml_place(const struct rb_parse *, enum rb_node_kind);
static void rb_yaml_step(struct rb_ctx *, struct rb_parse *);
static int rb_yaml_event(struct rb_ctx *, struct rb_parse *,
    yaml_event_t *);
static struct rb_node *rb_yaml_parse(struct rb_ctx *);

/* Helpers. */
static int rb_is_null(const struct rb_node *);
static const char *rb_found(const struct rb_node *);
static const char *rb_want_string(struct rb_ctx *, const char *,
    const struct rb_node *);
static size_t rb_distance(const char *, const char *);
static size_t rb_utf8_chars(const char *, size_t);
static void rb_line_index(struct rb_ctx *);
static void rb_add_text(struct rb_ctx *, const struct rb_node *);
static void rb_add_ref(struct rb_ctx *, enum rb_ref_kind, const char *,
    struct rb_pos);
static int rb_compare_keys(const void *, const void *);
static void rb_map_dup(struct rb_ctx *, struct rb_node *,
    const struct rb_node *, const char *);
static void rb_map_dups(struct rb_ctx *, struct rb_node *, const char *);
static struct rb_node *rb_map_get(const struct rb_node *, const char *);
static void rb_unknown_key(struct rb_ctx *, const struct rb_node *,
    const struct rb_key *, size_t);
static uint32_t rb_load_map(struct rb_ctx *, struct rb_node *,
    const struct rb_key *, size_t, unsigned, const char *, void *,
    struct rb_node **);
static void rb_load_list(struct rb_ctx *, const char *, struct rb_node *,
    char ***, size_t *, int);

/* Field loaders. */
static void rb_load_nothing(struct rb_ctx *, const struct rb_key *,
    struct rb_node *, void *);
static void rb_load_text(struct rb_ctx *, const struct rb_key *,
    struct rb_node *, void *);
static void rb_load_string(struct rb_ctx *, const struct rb_key *,
    struct rb_node *, void *);
static void rb_load_id(struct rb_ctx *, const struct rb_key *,
    struct rb_node *, void *);
static void rb_load_duration(struct rb_ctx *, const struct rb_key *,
    struct rb_node *, void *);
static void rb_load_port(struct rb_ctx *, const struct rb_key *,
    struct rb_node *, void *);
static void rb_load_int(struct rb_ctx *, const struct rb_key *,
    struct rb_node *, void *);
static void rb_load_bool(struct rb_ctx *, const struct rb_key *,
    struct rb_node *, void *);
static void rb_load_number(struct rb_ctx *, const struct rb_key *,
    struct rb_node *, void *);
static void rb_load_compare(struct rb_ctx *, const struct rb_key *,
    struct rb_node *, void *);
static void rb_load_method(struct rb_ctx *, const struct rb_key *,
    struct rb_node *, void *);
static void rb_load_bisection(struct rb_ctx *, const struct rb_key *,
    struct rb_node *, void *);
static void rb_load_tls(struct rb_ctx *, const struct rb_key *,
    struct rb_node *, void *);
static void rb_load_jump(struct rb_ctx *, const struct rb_key *,
    struct rb_node *, void *);
static void rb_load_host_key(struct rb_ctx *, const struct rb_key *,
    struct rb_node *, void *);
static void rb_load_env_only(struct rb_ctx *, const struct rb_key *,
    struct rb_node *, void *);
static void rb_load_version(struct rb_ctx *, const struct rb_key *,
    struct rb_node *, void *);
static void rb_load_step_target(struct rb_ctx *, const struct rb_key *,
    struct rb_node *, void *);
static void rb_load_query_target(struct rb_ctx *, const struct rb_key *,
    struct rb_node *, void *);
static void rb_load_format(struct rb_ctx *, const struct rb_key *,
    struct rb_node *, void *);
static void rb_load_columns(struct rb_ctx *, const struct rb_key *,
    struct rb_node *, void *);
static void rb_load_query(struct rb_ctx *, const struct rb_key *,
    struct rb_node *, void *);
static void rb_load_needs(struct rb_ctx *, const struct rb_key *,
    struct rb_node *, void *);
static void rb_load_approvers(struct rb_ctx *, const struct rb_key *,
    struct rb_node *, void *);
static void rb_load_rollback_roles(struct rb_ctx *, const struct rb_key *,
    struct rb_node *, void *);
static void rb_load_secrets(struct rb_ctx *, const struct rb_key *,
    struct rb_node *, void *);
static void rb_load_vars(struct rb_ctx *, const struct rb_key *,
    struct rb_node *, void *);
static void rb_load_roles(struct rb_ctx *, const struct rb_key *,
    struct rb_node *, void *);
static void rb_load_settings(struct rb_ctx *, const struct rb_key *,
    struct rb_node *, void *);
static void rb_load_operators(struct rb_ctx *, const struct rb_key *,
    struct rb_node *, void *);
static void rb_load_notify(struct rb_ctx *, const struct rb_key *,
    struct rb_node *, void *);
static void rb_load_operator_mode(struct rb_ctx *, const struct rb_key *,
    struct rb_node *, void *);
static void rb_load_targets(struct rb_ctx *, const struct rb_key *,
    struct rb_node *, void *);
static void rb_load_phases(struct rb_ctx *, const struct rb_key *,
    struct rb_node *, void *);
static void rb_load_steps(struct rb_ctx *, const struct rb_key *,
    struct rb_node *, void *);
static void rb_load_entities(struct rb_ctx *, const struct rb_key *,
    struct rb_node *, void *);
static void rb_load_entity_vars(struct rb_ctx *, const struct rb_key *,
    struct rb_node *, void *);
static void rb_load_waves(struct rb_ctx *, const struct rb_key *,
    struct rb_node *, void *);
static void rb_load_for_each(struct rb_ctx *, const struct rb_key *,
    struct rb_node *, void *);
static void rb_load_rollback(struct rb_ctx *, const struct rb_key *,
    struct rb_node *, void *);
static void rb_load_on_failure(struct rb_ctx *, const struct rb_key *,
    struct rb_node *, void *);
static void rb_load_on_no_go(struct rb_ctx *, const struct rb_key *,
    struct rb_node *, void *);
static void rb_load_evidence(struct rb_ctx *, const struct rb_key *,
    struct rb_node *, void *);
static void rb_load_entity(struct rb_ctx *, struct rb_node *);
static void rb_hash_entities(struct rb_ctx *);

/* Objects. */
static unsigned rb_target_type(struct rb_ctx *, const struct rb_target *,
    const struct rb_node *);
static void rb_load_target(struct rb_ctx *, struct rb_node *,
    struct rb_node *);
static void rb_load_phase(struct rb_ctx *, struct rb_node *);
static void rb_load_step(struct rb_ctx *, struct rb_node *, size_t);
static int rb_step_type(struct rb_ctx *, struct rb_node *);
static void rb_check_step(struct rb_ctx *, struct rb_step *, uint32_t, int);
static void rb_load_root(struct rb_ctx *, struct rb_node *);
static void rb_node_hash(struct sha256_ctx *, const struct rb_node *);
static char *rb_step_hash(struct rb_ctx *, struct rb_node **,
    enum rb_hash_rule);
static void rb_step_sha(struct rb_ctx *, struct rb_step *,
    struct rb_node **);
static void rb_fill_defaults(struct runbook *);
static void rb_add_dep(struct rb_step *, size_t, size_t *);
static void rb_finish(struct rb_ctx *);
static int rb_index_compare(const void *, const void *);

static const struct rb_key root_keys[] = {
	{ "cutover", 1, rb_load_version, 0, 0, 0 },
	{ "name", 1, rb_load_id, offsetof(struct runbook, name), 0, 0 },
	{ "title", 1, rb_load_text, offsetof(struct runbook, title), 0, 0 },
	{ "description", 1, rb_load_text,
	    offsetof(struct runbook, description), 0, 0 },
	{ "vars", 1, rb_load_vars, 0, 0, 0 },
	{ "secrets", 1, rb_load_secrets, 0, 0, 0 },
	{ "roles", 1, rb_load_roles, 0, 0, 0 },
	{ "settings", 1, rb_load_settings, 0, 0, 0 },
	{ "targets", 1, rb_load_targets, 0, 0, 0 },
	{ "phases", 1, rb_load_phases, 0, 0, 0 },
	{ "entities", 1, rb_load_entities, 0, 0, 0 },
	{ "waves", 1, rb_load_waves, 0, 0, 0 },
	{ "operators", 1, rb_load_operators, 0, 0, 0 },
	{ "notify", 1, rb_load_notify, 0, 0, 0 },
};
enum { ROOT_CUTOVER, ROOT_NAME, ROOT_PHASES = 9 };

static const struct rb_key settings_keys[] = {
	{ "parallel", 1, rb_load_int, offsetof(struct runbook, parallel), 1,
	    1024 },
	{ "default_timeout", 1, rb_load_duration,
	    offsetof(struct runbook, default_timeout_ms), 1, 0 },
	{ "shell", 1, rb_load_string, offsetof(struct runbook, shell), 0, 0 },
	{ "rollback_roles", 1, rb_load_rollback_roles, 0, 0, 0 },
	{ "operator", 1, rb_load_operator_mode, 0, 0, 0 },
	{ "ssh_config", 1, rb_load_text, offsetof(struct runbook, ssh_config),
	    0, 0 },
};

static const struct rb_key target_keys[] = {
	{ "type", T_TARGETS, rb_load_nothing, 0, 0, 0 },
	{ "host", T_SSH, rb_load_text, offsetof(struct rb_target, host), 0, 0 },
	{ "port", T_SSH, rb_load_port, offsetof(struct rb_target, port), 1,
	    65535 },
	{ "user", T_SSH, rb_load_text, offsetof(struct rb_target, user), 0, 0 },
	{ "identity", T_SSH, rb_load_text,
	    offsetof(struct rb_target, identity), 0, 0 },
	{ "passphrase", T_SSH, rb_load_env_only,
	    offsetof(struct rb_target, passphrase), 0, 0 },
	{ "password", T_SSH, rb_load_env_only,
	    offsetof(struct rb_target, password), 0, 0 },
	{ "known_hosts", T_SSH, rb_load_text,
	    offsetof(struct rb_target, known_hosts), 0, 0 },
	{ "host_key", T_SSH, rb_load_host_key, 0, 0, 0 },
	{ "conninfo", T_PG, rb_load_text,
	    offsetof(struct rb_target, conninfo), 0, 0 },
	{ "tls", T_PG, rb_load_tls, 0, 0, 0 },
	{ "ssh_config", T_SSH, rb_load_text,
	    offsetof(struct rb_target, ssh_config), 0, 0 },
	{ "jump", T_SSH, rb_load_jump, 0, 0, 0 },
	{ "connection", T_ODBC, rb_load_text,
	    offsetof(struct rb_target, connection), 0, 0 },
};
/* Places in target_keys[] of the keys a type requires. */
enum { TARGET_KEY_HOST = 1, TARGET_KEY_CONNINFO = 9,
	TARGET_KEY_CONNECTION = 13 };

static const struct rb_key phase_keys[] = {
	{ "id", 1, rb_load_id, offsetof(struct rb_phase, id), 0, 0 },
	{ "title", 1, rb_load_text, offsetof(struct rb_phase, title), 0, 0 },
	{ "steps", 1, rb_load_steps, 0, 0, 0 },
	{ "for_each", 1, rb_load_for_each, 0, 0, 0 },
	{ "parallel", 1, rb_load_int, offsetof(struct rb_phase, parallel), 1,
	    1024 },
};
enum { PHASE_KEY_ID, PHASE_KEY_STEPS = 2, PHASE_KEY_FOR_EACH,
	PHASE_KEY_PARALLEL };

static const struct rb_key entity_keys[] = {
	{ "id", 1, rb_load_id, offsetof(struct rb_entity, id), 0, 0 },
	{ "wave", 1, rb_load_id, offsetof(struct rb_entity, wave), 0, 0 },
	{ "title", 1, rb_load_string, offsetof(struct rb_entity, title), 0,
	    0 },
	{ "vars", 1, rb_load_entity_vars, 0, 0, 0 },
};
enum { ENTITY_KEY_ID, ENTITY_KEY_WAVE };

/* notify: a sink's keys (rb_load_notify_sink). */
static void rb_load_notify_sink(struct rb_ctx *, struct rb_node *);
static void rb_load_notify_events(struct rb_ctx *, const struct rb_key *,
    struct rb_node *, void *);
static void rb_load_notify_format(struct rb_ctx *, const struct rb_key *,
    struct rb_node *, void *);
static void rb_notify_check(struct rb_ctx *, struct rb_notify *,
    struct rb_node *, uint32_t, struct rb_node **);
static const struct rb_key notify_keys[] = {
	{ "name", 1, rb_load_id, offsetof(struct rb_notify, name), 0, 0 },
	{ "events", 1, rb_load_notify_events, 0, 0, 0 },
	{ "webhook", 1, rb_load_text, offsetof(struct rb_notify, webhook), 0,
	    0 },
	{ "command", 1, rb_load_text, offsetof(struct rb_notify, command), 0,
	    0 },
	{ "format", 1, rb_load_notify_format, 0, 0, 0 },
};
enum { NOTIFY_KEY_NAME, NOTIFY_KEY_EVENTS, NOTIFY_KEY_WEBHOOK,
	NOTIFY_KEY_COMMAND, NOTIFY_KEY_FORMAT };

static const struct rb_key query_keys[] = {
	{ "target", 1, rb_load_query_target,
	    offsetof(struct rb_query, target_name), 0, 0 },
	{ "query", 1, rb_load_text, offsetof(struct rb_query, query), 0, 0 },
	{ "file", 1, rb_load_text, offsetof(struct rb_query, file), 0, 0 },
	{ "format", 1, rb_load_format, 0, 0, 0 },
	{ "header", 1, rb_load_bool, offsetof(struct rb_query, header), 0, 0 },
	{ "delimiter", 1, rb_load_string,
	    offsetof(struct rb_query, delimiter), 0, 0 },
	{ "encoding", 1, rb_load_string, offsetof(struct rb_query, encoding),
	    0, 0 },
	{ "columns", 1, rb_load_columns, 0, 0, 0 },
	{ "timezone", 1, rb_load_string, offsetof(struct rb_query, timezone),
	    0, 0 },
};
enum { QUERY_KEY_TARGET, QUERY_KEY_QUERY, QUERY_KEY_FILE, QUERY_KEY_FORMAT,
	QUERY_KEY_HEADER, QUERY_KEY_DELIMITER, QUERY_KEY_ENCODING,
	QUERY_KEY_COLUMNS };

/*
 * The keys of a step: X(ENUM, name, step types, loader, field, lo, hi,
 * hash1), giving STEP_KEY_ENUM and a line of step_keys[]. hash1 is 1 for
 * the keys of cutover 0.1.0, which the first def_sha rule hashes whether
 * present or not, in this order. Never reorder the list or change a
 * hash1 (runs made before would see every step changed); a new key goes
 * at the end, with hash1 0.
 */
#define RB_STEP_KEYS(X)                                                      \
	X(ID, "id", T_ALL, rb_load_id, offsetof(struct rb_step, id), 0, 0, 1) \
	X(TITLE, "title", T_ALL, rb_load_text,                                \
	    offsetof(struct rb_step, title), 0, 0, 1)                        \
	X(TYPE, "type", T_ALL, rb_load_nothing, 0, 0, 0, 1)                   \
	X(TARGET, "target", BIT(STEP_SSH) | BIT(STEP_SQL),                    \
	    rb_load_step_target, offsetof(struct rb_step, target_name), 0, 0, \
	    1)                                                               \
	X(RUN, "run", T_RUN, rb_load_text, offsetof(struct rb_step, run), 0,  \
	    0, 1)                                                            \
	X(VERIFY, "verify", T_RUN, rb_load_text,                              \
	    offsetof(struct rb_step, verify), 0, 0, 1)                       \
	X(ROLLBACK, "rollback", T_RUN | BIT(STEP_MANUAL), rb_load_rollback,   \
	    offsetof(struct rb_step, rollback), 0, 0, 1)                     \
	X(NEEDS, "needs", T_ALL, rb_load_needs, 0, 0, 0, 1)                   \
	X(TIMEOUT, "timeout", T_AUTO, rb_load_duration,                       \
	    offsetof(struct rb_step, timeout_ms), 1, 0, 1)                   \
	X(RETRIES, "retries", T_AUTO, rb_load_int,                            \
	    offsetof(struct rb_step, retries), 0, 100, 1)                    \
	X(RETRY_DELAY, "retry_delay", T_AUTO, rb_load_duration,               \
	    offsetof(struct rb_step, retry_delay_ms), 0, 0, 1)               \
	X(PLANNED, "planned", T_ALL, rb_load_duration,                        \
	    offsetof(struct rb_step, planned_ms), 0, 0, 1)                   \
	X(OWNER, "owner", T_ALL, rb_load_text,                                \
	    offsetof(struct rb_step, owner), 0, 0, 1)                        \
	X(INSTRUCTIONS, "instructions", T_HUMAN, rb_load_text,                \
	    offsetof(struct rb_step, instructions), 0, 0, 1)                 \
	X(IRREVERSIBLE, "irreversible", T_RUN | BIT(STEP_MANUAL),             \
	    rb_load_bool, offsetof(struct rb_step, irreversible), 0, 0, 1)   \
	X(COMPARE, "compare", BIT(STEP_RECONCILE), rb_load_compare,           \
	    offsetof(struct rb_step, compare), 0, 0, 1)                      \
	X(KEY, "key", BIT(STEP_RECONCILE), rb_load_int,                       \
	    offsetof(struct rb_step, key), 1, 1600, 1)                       \
	X(SOURCE, "source", BIT(STEP_RECONCILE), rb_load_query,               \
	    offsetof(struct rb_step, source), RB_REF_SOURCE, 0, 1)           \
	X(DEST, "dest", BIT(STEP_RECONCILE), rb_load_query,                   \
	    offsetof(struct rb_step, dest), RB_REF_DEST, 0, 1)               \
	X(TOLERANCE, "tolerance", BIT(STEP_RECONCILE), rb_load_number,        \
	    offsetof(struct rb_step, tolerance), 0, 0, 1)                    \
	X(APPROVALS, "approvals", BIT(STEP_CHECKPOINT), rb_load_int,          \
	    offsetof(struct rb_step, approvals), 1, 100, 1)                  \
	X(APPROVERS, "approvers", BIT(STEP_CHECKPOINT), rb_load_approvers, 0, \
	    0, 0, 1)                                                         \
	X(ON_FAILURE, "on_failure", T_AUTO | BIT(STEP_MANUAL),                \
	    rb_load_on_failure, 0, 0, 0, 0)                                  \
	X(ON_NO_GO, "on_no_go", BIT(STEP_CHECKPOINT), rb_load_on_no_go, 0, 0, \
	    0, 0)                                                            \
	X(EVIDENCE, "evidence", BIT(STEP_CHECKPOINT), rb_load_evidence, 0, 0, \
	    0, 0)                                                            \
	X(EMPTY_IS_NULL, "empty_is_null", BIT(STEP_RECONCILE), rb_load_bool,  \
	    offsetof(struct rb_step, empty_is_null), 0, 0, 0)                 \
	X(METHOD, "method", BIT(STEP_RECONCILE), rb_load_method,              \
	    offsetof(struct rb_step, method), 0, 0, 0)                       \
	X(BISECTION_FACTOR, "bisection_factor", BIT(STEP_RECONCILE),          \
	    rb_load_bisection, offsetof(struct rb_step, bisection_factor), 2, \
	    256, 0)                                                          \
	X(BISECTION_THRESHOLD, "bisection_threshold", BIT(STEP_RECONCILE),    \
	    rb_load_bisection, offsetof(struct rb_step, bisection_threshold), \
	    1, 1000000, 0)

#define STEP_KEY_ENUM(e, name, mask, load, off, lo, hi, hash1) STEP_KEY_##e,
enum step_key { RB_STEP_KEYS(STEP_KEY_ENUM) STEP_NKEYS };
#undef STEP_KEY_ENUM
_Static_assert(STEP_NKEYS <= RB_MAX_KEYS, "a step has at most 32 keys");

#define STEP_KEY_ENTRY(e, name, mask, load, off, lo, hi, hash1)              \
	{ name, mask, load, off, lo, hi },
static const struct rb_key step_keys[] = { RB_STEP_KEYS(STEP_KEY_ENTRY) };
#undef STEP_KEY_ENTRY

#define STEP_KEY_HASH1(e, name, mask, load, off, lo, hi, hash1)              \
	| ((uint32_t)(hash1) << STEP_KEY_##e)
static const uint32_t step_keys_hash1 = 0 RB_STEP_KEYS(STEP_KEY_HASH1);
#undef STEP_KEY_HASH1

#define NKEYS(t) (sizeof(t) / sizeof((t)[0]))
#define SEEN(seen, i) (((seen) >> (i)) & 1u)

/* ---------------------------------------------------------------- tree */

/*
 * Arenas. The tree lives only while a runbook loads and holds a node for
 * every scalar, list and mapping (lint of 10,000 steps builds about 130,000);
 * the values of its scalars go to the runbook's pool, where the model's
 * strings point without a copy of their own. Both hand out memory in order
 * from chunks that are released together: far cheaper than a malloc and a
 * free for each, and no byte is touched twice.
 */
struct rb_chunk {
	struct rb_chunk *next;
	size_t used;
	size_t cap;
	max_align_t data[];
};

void *
rb_arena_alloc(struct rb_chunk **head, size_t size, size_t align)
{
	struct rb_chunk *c = *head;
	size_t used = 0, cap;

	if (c != NULL)
		used = (c->used + align - 1) & ~(align - 1);
	if (c == NULL || used > c->cap || c->cap - used < size) {
		cap = c == NULL ? 16384 : c->cap < 2097152 ? c->cap * 2 :
		    c->cap;
		if (cap < size)
			cap = size;
		if (cap > SIZE_MAX - sizeof *c)
			fatalx(1, "out of memory");
		c = xmalloc(sizeof *c + cap);
		c->next = *head;
		c->cap = cap;
		*head = c;
		used = 0;
	}
	c->used = used + size;
	return (char *)c->data + used;
}

/*
 * Go back to mark: what was handed out since is released. When that took new
 * chunks, the newest stays, emptied, for what comes next (going back and
 * forth over a chunk's end must not allocate and free a chunk each time).
 */
static void
rb_arena_rewind(struct rb_chunk **head, struct rb_mark mark)
{
	struct rb_chunk *c = *head, *dead;

	if (c == mark.chunk) {
		if (c != NULL)
			c->used = mark.used;
		return;
	}
	while (c->next != mark.chunk) {
		dead = c->next;
		c->next = dead->next;
		free(dead);
	}
	c->used = 0;
}

void
rb_arena_free(struct rb_chunk **head)
{
	struct rb_chunk *c, *next;

	for (c = *head; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	*head = NULL;
}

char *
rb_pool_strdup(struct runbook *rb, const char *s)
{
	size_t len = strlen(s) + 1;

	return memcpy(rb_arena_alloc(&rb->pool, len, 1), s, len);
}

void *
rb_pool_calloc(struct runbook *rb, size_t n, size_t size)
{
	void *p;

	if (size != 0 && n > SIZE_MAX / size)
		fatalx(1, "out of memory");
	p = rb_arena_alloc(&rb->pool, n * size, sizeof(max_align_t));
	memset(p, 0, n * size);
	return p;
}

/* A new node of kind starting at mark. */
static struct rb_node *
rb_node_new(struct rb_ctx *ctx, enum rb_node_kind kind,
    const yaml_mark_t *mark)
{
	struct rb_node *n;

	n = rb_arena_alloc(&ctx->tree, sizeof *n, _Alignof(struct rb_node));
	memset(n, 0, sizeof *n);
	n->kind = (unsigned char)kind;
	n->pos.line = (unsigned)mark->line + 1;
	n->pos.col = (unsigned)mark->column + 1;
	return n;
}

/* Line and column (1-based, columns in characters) of byte off in text. */
static struct rb_pos
rb_offset_pos(const char *text, size_t len, size_t off)
{
	struct rb_pos pos = { 1, 1 };
	size_t i;

	for (i = 0; i < off && i < len; i++) {
		if (text[i] == '\n') {
			pos.line++;
			pos.col = 1;
		} else if (((unsigned char)text[i] & 0xc0) != 0x80)
			pos.col++;
	}
	return pos;
}

/* Report the error libyaml stopped at. */
static void
rb_yaml_error(struct rb_ctx *ctx, const yaml_parser_t *p)
{
	const char *problem = p->problem != NULL ? p->problem : "parse error";
	struct rb_pos pos;

	if (p->error == YAML_READER_ERROR) {
		pos = rb_offset_pos(ctx->rb->text, ctx->rb->textlen,
		    p->problem_offset);
		if (p->problem_value != -1) {
			rb_error(ctx, pos, "invalid YAML: %s (0x%X)", problem,
			    (unsigned)p->problem_value);
		} else
			rb_error(ctx, pos, "invalid YAML: %s", problem);
		return;
	}
	pos.line = (unsigned)p->problem_mark.line + 1;
	pos.col = (unsigned)p->problem_mark.column + 1;
	if (p->context != NULL) {
		rb_error(ctx, pos, "invalid YAML: %s (%s at line %zu, column "
		    "%zu)", problem, p->context, p->context_mark.line + 1,
		    p->context_mark.column + 1);
	} else
		rb_error(ctx, pos, "invalid YAML: %s", problem);
}

/*
 * A scalar node from its event. A mapping key's text lives in the tree; any
 * other value goes to the runbook's pool, where the model points.
 */
static struct rb_node *
rb_yaml_scalar(struct rb_ctx *ctx, yaml_event_t *ev, int key)
{
	struct rb_node *n = rb_node_new(ctx, RB_NODE_SCALAR, &ev->start_mark);
	size_t len = ev->data.scalar.length; /* < RUNBOOK_MAX_SIZE */

	n->len = (uint32_t)len;
	n->value = rb_arena_alloc(key ? &ctx->tree : &ctx->rb->pool, len + 1,
	    1);
	memcpy(n->value, ev->data.scalar.value, len);
	n->value[len] = '\0';
	n->style = (unsigned char)ev->data.scalar.style;
	n->oneline = ev->start_mark.line == ev->end_mark.line;
	return n;
}

/* The key that leads on towards the steps from the collection at depth. */
static const char *
rb_yaml_lead(const struct rb_parse *p, size_t depth)
{
	if (p->stack[depth]->kind != RB_NODE_MAP)
		return NULL;
	if (depth == 0)
		return "phases";
	if (p->place[depth] == RB_PHASE)
		return "steps";
	return NULL;
}

/* Attach a new node to its parent (or make it the root); open collections. */
static void
rb_yaml_attach(struct rb_parse *p, struct rb_node *n, enum rb_place place)
{
	const char *lead;

	if (p->depth > 0) {
		if (n->kind == RB_NODE_SCALAR && rb_yaml_is_key(p) &&
		    (lead = rb_yaml_lead(p, p->depth - 1)) != NULL &&
		    strcmp(n->value, lead) == 0)
			p->named[p->depth - 1]++;
		if (p->nkids == p->cap) {
			p->cap = p->cap ? p->cap * 2 : 256;
			p->kids = xreallocarray(p->kids, p->cap,
			    sizeof *p->kids);
		}
		p->kids[p->nkids++] = n;
	} else if (p->root == NULL)
		p->root = n;
	else
		return; /* a second root: reported; its nodes go with the rest */
	if (n->kind == RB_NODE_SEQ || n->kind == RB_NODE_MAP) {
		p->base[p->depth] = p->nkids;
		p->place[p->depth] = (unsigned char)place;
		p->named[p->depth] = 0;
		p->stack[p->depth++] = n;
	}
}

/* Is the next node a key of the open mapping? */
static int
rb_yaml_is_key(const struct rb_parse *p)
{
	return p->depth > 0 && p->stack[p->depth - 1]->kind == RB_NODE_MAP &&
	    (p->nkids - p->base[p->depth - 1]) % 2 == 0;
}

/*
 * Is the next node the value of the key that leads on towards the steps
 * from the open mapping, given there for the first time (as the loader will
 * see it: a later one is a repeat)? The keys equal to it are counted as they
 * come: looking back over them here would be quadratic in a file of
 * repeated keys.
 */
static int
rb_yaml_first_key(const struct rb_parse *p)
{
	const char *lead = rb_yaml_lead(p, p->depth - 1);
	const struct rb_node *k;

	if (lead == NULL || rb_yaml_is_key(p))
		return 0;
	k = p->kids[p->nkids - 1];
	return k->kind == RB_NODE_SCALAR && k->len == strlen(lead) &&
	    strcmp(k->value, lead) == 0 && p->named[p->depth - 1] == 1;
}

/* Where a collection of kind opening now is. */
static enum rb_place
rb_yaml_place(const struct rb_parse *p, enum rb_node_kind kind)
{
	enum rb_place up;

	if (p->depth == 0)
		return RB_ELSEWHERE;
	up = (enum rb_place)p->place[p->depth - 1];
	if (kind == RB_NODE_SEQ && rb_yaml_first_key(p))
		return up == RB_PHASE ? RB_STEPS : RB_PHASES;
	if (up == RB_PHASES && kind == RB_NODE_MAP)
		return RB_PHASE;
	if (up == RB_STEPS && kind == RB_NODE_MAP)
		return RB_STEP;
	return RB_ELSEWHERE;
}

/* The collection on top of the stack ends: give it its kids. */
static void
rb_yaml_close(struct rb_ctx *ctx, struct rb_parse *p)
{
	struct rb_node *n = p->stack[--p->depth];
	size_t base = p->base[p->depth], count = p->nkids - base;

	n->nkids = (uint32_t)count;
	if (count > 0) {
		n->kids = rb_arena_alloc(&ctx->tree, count * sizeof *n->kids,
		    _Alignof(struct rb_node *));
		memcpy(n->kids, p->kids + base, count * sizeof *n->kids);
	}
	p->nkids = base;
}

/* The step on top of the stack ends: load it and drop its nodes. */
static void
rb_yaml_step(struct rb_ctx *ctx, struct rb_parse *p)
{
	struct rb_node *n;

	rb_yaml_close(ctx, p);
	n = p->kids[p->nkids - 1];
	ctx->holding = 1;
	rb_load_step(ctx, n, ctx->phases - 1);
	ctx->holding = 0;
	rb_arena_rewind(&ctx->tree, p->step);
	p->kids[p->nkids - 1] = &rb_loaded;
}

/*
 * Add the node of one event to the tree. Returns 1 to go on, 0 at the end of
 * the stream, -1 to stop on an error that makes the tree useless.
 */
static int
rb_yaml_event(struct rb_ctx *ctx, struct rb_parse *p, yaml_event_t *ev)
{
	struct rb_node *n;
	struct rb_pos pos;
	yaml_char_t *anchor = NULL;
	enum rb_place place = RB_ELSEWHERE;
	enum rb_node_kind kind;

	pos.line = (unsigned)ev->start_mark.line + 1;
	pos.col = (unsigned)ev->start_mark.column + 1;
	switch (ev->type) {
	case YAML_STREAM_END_EVENT:
		return 0;
	case YAML_DOCUMENT_START_EVENT:
		if (p->root == NULL)
			return 1;
		rb_error(ctx, pos, "only one YAML document is allowed");
		return -1;
	case YAML_ALIAS_EVENT:
		rb_error(ctx, pos, "YAML anchors and aliases are not allowed");
		n = rb_node_new(ctx, RB_NODE_BAD, &ev->start_mark);
		break;
	case YAML_SCALAR_EVENT:
		anchor = ev->data.scalar.anchor;
		n = rb_yaml_scalar(ctx, ev, rb_yaml_is_key(p));
		break;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		if (p->depth == RUNBOOK_MAX_DEPTH) {
			rb_error(ctx, pos, "nesting deeper than %d levels",
			    RUNBOOK_MAX_DEPTH);
			return -1;
		}
		if (ev->type == YAML_SEQUENCE_START_EVENT) {
			anchor = ev->data.sequence_start.anchor;
			kind = RB_NODE_SEQ;
		} else {
			anchor = ev->data.mapping_start.anchor;
			kind = RB_NODE_MAP;
		}
		place = rb_yaml_place(p, kind);
		if (place == RB_PHASE)
			ctx->phases++;
		if (place == RB_STEP) {
			p->step.chunk = ctx->tree;
			p->step.used = ctx->tree != NULL ? ctx->tree->used : 0;
		}
		n = rb_node_new(ctx, kind, &ev->start_mark);
		break;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		if (p->depth > 0 && p->place[p->depth - 1] == RB_STEP)
			rb_yaml_step(ctx, p);
		else if (p->depth > 0)
			rb_yaml_close(ctx, p);
		return 1;
	default:
		return 1;
	}
	if (anchor != NULL)
		rb_error(ctx, pos, "YAML anchors and aliases are not allowed");
	rb_yaml_attach(p, n, place);
	return 1;
}

/* Parse the runbook text into a tree; NULL on a YAML error (reported). */
static struct rb_node *
rb_yaml_parse(struct rb_ctx *ctx)
{
	struct rb_parse p = { .depth = 0, .root = NULL, .kids = NULL };
	yaml_parser_t parser;
	yaml_event_t ev;
	int r = 1;

	if (!yaml_parser_initialize(&parser))
		fatalx(1, "out of memory");
	yaml_parser_set_input_string(&parser,
	    (const unsigned char *)ctx->rb->text, ctx->rb->textlen);
	while (r == 1) {
		if (!yaml_parser_parse(&parser, &ev)) {
			rb_yaml_error(ctx, &parser);
			r = -1;
			break;
		}
		r = rb_yaml_event(ctx, &p, &ev);
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	free(p.kids);
	if (r == -1)
		return NULL; /* the nodes go with the tree's arena */
	return p.root;
}

/* ------------------------------------------------------------- helpers */

void
rb_error(struct rb_ctx *ctx, struct rb_pos pos, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	diags_add(ctx->holding ? &ctx->held : ctx->d, ctx->file, pos.line,
	    pos.col, "%s", msg);
	free(msg);
	ctx->errors++;
}

const char *
rb_short(const char *s)
{
	static char pool[8][64];
	static unsigned next;
	char *out = pool[next++ % 8];
	size_t i, n = 0;

	for (i = 0; s[i] != '\0' && n < 40; i++)
		out[n++] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' :
		    s[i];
	if (s[i] != '\0') {
		while (n > 0 && ((unsigned char)out[n - 1] & 0xc0) == 0x80)
			n--;
		if (n > 0 && (unsigned char)out[n - 1] >= 0xc0)
			n--;
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
	return out;
}

/* Is node a YAML null (nothing, ~ or null, unquoted)? */
static int
rb_is_null(const struct rb_node *n)
{
	const char *v = n->value;

	if (n->kind != RB_NODE_SCALAR || n->style != YAML_PLAIN_SCALAR_STYLE)
		return 0;
	if (n->len == 0 || (n->len == 1 && v[0] == '~'))
		return 1;
	return n->len == 4 && (strcmp(v, "null") == 0 ||
	    strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0);
}

/* What node is, for "expected X, found Y". */
static const char *
rb_found(const struct rb_node *n)
{
	static char pool[4][72];
	static unsigned next;
	char *out;

	if (n->kind == RB_NODE_SEQ)
		return "a list";
	if (n->kind == RB_NODE_MAP)
		return "a mapping";
	if (n->kind != RB_NODE_SCALAR || rb_is_null(n))
		return "nothing";
	out = pool[next++ % 4];
	snprintf(out, sizeof pool[0], "'%s'", rb_short(n->value));
	return out;
}

/* The string in n, or NULL after reporting that it is not one. */
static const char *
rb_want_string(struct rb_ctx *ctx, const char *what, const struct rb_node *n)
{
	if (n->kind == RB_NODE_BAD)
		return NULL;
	if (n->kind != RB_NODE_SCALAR || rb_is_null(n)) {
		rb_error(ctx, n->pos, "%s: expected a string, found %s",
		    rb_short(what), rb_found(n));
		return NULL;
	}
	if (strlen(n->value) != n->len) {
		rb_error(ctx, n->pos, "%s: NUL characters are not allowed",
		    rb_short(what));
		return NULL;
	}
	return n->value;
}

/* Does s match [a-z0-9][a-z0-9._-]*? */
int
rb_valid_id(const char *s)
{
	size_t i;

	if (!islower((unsigned char)s[0]) && !isdigit((unsigned char)s[0]))
		return 0;
	for (i = 1; s[i] != '\0'; i++) {
		if (!(s[i] >= 'a' && s[i] <= 'z') && !isdigit((unsigned char)
		    s[i]) && s[i] != '.' && s[i] != '_' && s[i] != '-')
			return 0;
	}
	return 1;
}

/* Does s match [A-Za-z0-9_][A-Za-z0-9_.-]* (vars, targets, roles)? */
int
rb_valid_name(const char *s)
{
	size_t i;

	if (!isalnum((unsigned char)s[0]) && s[0] != '_')
		return 0;
	for (i = 1; s[i] != '\0'; i++) {
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' &&
		    s[i] != '.' && s[i] != '-')
			return 0;
	}
	return 1;
}

/* Levenshtein distance, ignoring case; both strings at most 64 bytes. */
static size_t
rb_distance(const char *a, const char *b)
{
	size_t row[65], i, j, diag, up, la = strlen(a), lb = strlen(b);

	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		diag = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			up = row[j];
			row[j] = diag + (tolower((unsigned char)a[i - 1]) !=
			    tolower((unsigned char)b[j - 1]));
			if (up + 1 < row[j])
				row[j] = up + 1;
			if (row[j - 1] + 1 < row[j])
				row[j] = row[j - 1] + 1;
			diag = up;
		}
	}
	return row[lb];
}

const char *
rb_suggest(const char *word, const char *const *names, size_t n)
{
	const char *best = NULL;
	size_t i, d, bestd = 4, lw = strlen(word), ln;

	if (n > RB_SUGGEST_MAX || lw > 64 || lw == 0)
		return NULL;
	for (i = 0; i < n; i++) {
		if (names[i] == NULL || (ln = strlen(names[i])) > 64)
			continue;
		if ((ln > lw + 2 || lw > ln + 2) && strncasecmp(word, names[i],
		    ln < lw ? ln : lw) != 0)
			continue; /* too far apart and not a prefix */
		d = rb_distance(word, names[i]);
		if (d >= lw || d >= ln)
			d = 4; /* "b" for "a" is no suggestion */
		if (d > 2) {
			if (lw >= 3 && ln > lw &&
			    strncasecmp(word, names[i], lw) == 0)
				d = 3;
			else if (ln >= 3 && lw > ln &&
			    strncasecmp(word, names[i], ln) == 0)
				d = 3;
		}
		if (d < bestd) {
			best = names[i];
			bestd = d;
		}
	}
	return best;
}

/* Characters in the first n bytes of UTF-8 s. */
static size_t
rb_utf8_chars(const char *s, size_t n)
{
	size_t i, c = 0;

	for (i = 0; i < n; i++) {
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			c++;
	}
	return c;
}

/* Index the start of every line of the text. */
static void
rb_line_index(struct rb_ctx *ctx)
{
	const char *t = ctx->rb->text, *end = t + ctx->rb->textlen, *p;
	size_t n = 1;

	for (p = t; (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++)
		n++;
	ctx->lines = xcalloc(n, sizeof *ctx->lines); /* text < 4 GiB */
	ctx->nlines = 1;
	for (p = t; (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++)
		ctx->lines[ctx->nlines++] = (uint32_t)(p + 1 - t);
}

/*
 * Start converting offsets in scalar n to positions in the file. They are
 * exact when the scalar is on one line and its text is there verbatim up to
 * the reference (plain, or quoted without escapes before it); else they are
 * the start of the scalar. Columns past RB_TEXT_MAX_COL are not searched,
 * so that a huge one-line file stays linear.
 */
void
rb_text_begin(struct rb_ctx *ctx, struct rb_text_cursor *c,
    const struct rb_node *n)
{
	const char *p, *end;
	size_t col, i;

	memset(c, 0, sizeof *c);
	c->node = n;
	if (n->kind != RB_NODE_SCALAR || !n->oneline ||
	    n->pos.col > RB_TEXT_MAX_COL)
		return;
	if (ctx->lines == NULL)
		rb_line_index(ctx);
	if (n->pos.line > ctx->nlines)
		return;
	p = ctx->rb->text + ctx->lines[n->pos.line - 1];
	end = ctx->rb->text + ctx->rb->textlen;
	for (col = 1; col < n->pos.col && p < end && *p != '\n'; col++) {
		do
			p++;
		while (p < end && ((unsigned char)*p & 0xc0) == 0x80);
	}
	if (n->style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
	    n->style == YAML_DOUBLE_QUOTED_SCALAR_STYLE) {
		if (p >= end || (*p != '\'' && *p != '"'))
			return;
		p++;
		c->quoted = 1;
	} else if (n->style != YAML_PLAIN_SCALAR_STYLE)
		return;
	for (i = 0; i < n->len && p + i < end && p[i] != '\n' &&
	    p[i] == n->value[i]; i++)
		;
	c->verbatim = i;
}

struct rb_pos
rb_text_pos(struct rb_text_cursor *c, size_t offset)
{
	struct rb_pos pos = c->node->pos;

	if (offset + 2 > c->verbatim)
		return pos;
	if (offset < c->offset)
		c->offset = c->chars = 0;
	c->chars += rb_utf8_chars(c->node->value + c->offset,
	    offset - c->offset);
	c->offset = offset;
	pos.col += (unsigned)(c->quoted + c->chars);
	return pos;
}

/* Remember a text field, to be checked for unknown ${var}. */
static void
rb_add_text(struct rb_ctx *ctx, const struct rb_node *n)
{
	if ((ctx->ntexts & (ctx->ntexts - 1)) == 0) {
		ctx->texts = xreallocarray(ctx->texts, ctx->ntexts ?
		    ctx->ntexts * 2 : 1, sizeof *ctx->texts);
		ctx->owners = xreallocarray(ctx->owners, ctx->ntexts ?
		    ctx->ntexts * 2 : 1, sizeof *ctx->owners);
	}
	ctx->owners[ctx->ntexts] = ctx->owner;
	ctx->texts[ctx->ntexts++] = *n; /* its value is in the pool */
}

/* Remember a name referring to something else, to be checked by lint. */
static void
rb_add_ref(struct rb_ctx *ctx, enum rb_ref_kind kind, const char *name,
    struct rb_pos pos)
{
	struct rb_ref *r;

	if ((ctx->nrefs & (ctx->nrefs - 1)) == 0) {
		ctx->refs = xreallocarray(ctx->refs, ctx->nrefs ?
		    ctx->nrefs * 2 : 1, sizeof *ctx->refs);
	}
	r = &ctx->refs[ctx->nrefs++];
	r->kind = kind;
	r->name = name;
	r->step = ctx->step;
	r->typed = ctx->step_typed;
	r->pos = pos;
}

static int
rb_index_compare(const void *a, const void *b)
{
	const struct rb_index_entry *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c != 0)
		return c;
	return x->index < y->index ? -1 : x->index > y->index;
}

void
rb_index_build(struct rb_index *idx, const void *base, size_t n,
    size_t stride, size_t name_off)
{
	const char *name;
	size_t i;

	idx->v = xcalloc(n, sizeof *idx->v);
	idx->n = 0;
	for (i = 0; i < n; i++) {
		memcpy(&name, (const char *)base + i * stride + name_off,
		    sizeof name);
		if (name == NULL)
			continue;
		idx->v[idx->n].name = name;
		idx->v[idx->n++].index = i;
	}
	qsort(idx->v, idx->n, sizeof *idx->v, rb_index_compare);
}

size_t
rb_index_find(const struct rb_index *idx, const char *name)
{
	size_t lo = 0, hi = idx->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (strcmp(idx->v[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < idx->n && strcmp(idx->v[lo].name, name) == 0)
		return idx->v[lo].index;
	return SIZE_MAX;
}

void
rb_index_free(struct rb_index *idx)
{
	free(idx->v);
	idx->v = NULL;
	idx->n = 0;
}

/* Order mapping keys by text, then by position. */
static int
rb_compare_keys(const void *a, const void *b)
{
	const struct rb_node *x = *(struct rb_node *const *)a;
	const struct rb_node *y = *(struct rb_node *const *)b;
	int c = strcmp(x->value, y->value);

	if (c != 0)
		return c;
	if (x->pos.line != y->pos.line)
		return x->pos.line < y->pos.line ? -1 : 1;
	return x->pos.col < y->pos.col ? -1 : x->pos.col > y->pos.col;
}

/* Mark key a repeat of first. */
static void
rb_map_dup(struct rb_ctx *ctx, struct rb_node *key, const struct rb_node *first,
    const char *noun)
{
	key->dup = 1;
	rb_error(ctx, key->pos, "duplicate %s '%s' (first at line %u)", noun,
	    rb_short(key->value), first->pos.line);
}

/*
 * Report and mark keys given twice in map; noun says what a key is. A map of
 * a few keys (a step) is searched pair by pair, a longer one (vars) sorted.
 */
static void
rb_map_dups(struct rb_ctx *ctx, struct rb_node *map, const char *noun)
{
	struct rb_node **keys, *k, *f;
	size_t i, j, first = 0, n = 0;

	if (map->nkids <= 2 * RB_MAX_KEYS) {
		for (i = 2; i + 1 < map->nkids; i += 2) {
			k = map->kids[i];
			for (j = 0; k->kind == RB_NODE_SCALAR && j < i;
			    j += 2) {
				f = map->kids[j];
				if (f->kind == RB_NODE_SCALAR &&
				    f->value[0] == k->value[0] &&
				    strcmp(f->value, k->value) == 0) {
					rb_map_dup(ctx, k, f, noun);
					break;
				}
			}
		}
		return;
	}
	keys = xcalloc(map->nkids / 2 + 1, sizeof *keys);
	for (i = 0; i + 1 < map->nkids; i += 2) {
		if (map->kids[i]->kind == RB_NODE_SCALAR)
			keys[n++] = map->kids[i];
	}
	qsort(keys, n, sizeof *keys, rb_compare_keys);
	for (i = 1; i < n; i++) {
		if (strcmp(keys[i]->value, keys[first]->value) != 0)
			first = i;
		else
			rb_map_dup(ctx, keys[i], keys[first], noun);
	}
	free(keys);
}

/* The value of key in map (its first occurrence), or NULL. */
static struct rb_node *
rb_map_get(const struct rb_node *map, const char *key)
{
	size_t i;

	for (i = 0; i + 1 < map->nkids; i += 2) {
		if (map->kids[i]->kind == RB_NODE_SCALAR &&
		    strcmp(map->kids[i]->value, key) == 0)
			return map->kids[i + 1];
	}
	return NULL;
}

/* Report an unknown key, suggesting the closest of the table's. */
static void
rb_unknown_key(struct rb_ctx *ctx, const struct rb_node *k,
    const struct rb_key *keys, size_t nkeys)
{
	const char *names[RB_MAX_KEYS], *hint;
	size_t j;

	for (j = 0; j < nkeys; j++)
		names[j] = keys[j].name;
	hint = rb_suggest(k->value, names, nkeys);
	if (hint != NULL) {
		rb_error(ctx, k->pos, "unknown key '%s' (did you mean '%s'?)",
		    rb_short(k->value), hint);
	} else
		rb_error(ctx, k->pos, "unknown key '%s'", rb_short(k->value));
}

/*
 * Load the pairs of map into obj by the keys table, for an object whose
 * kind (e.g. "local steps") has the bits in mask. Returns the keys seen;
 * their value nodes are put in vals when it is not NULL.
 */
static uint32_t
rb_load_map(struct rb_ctx *ctx, struct rb_node *map, const struct rb_key *keys,
    size_t nkeys, unsigned mask, const char *kind, void *obj,
    struct rb_node **vals)
{
	struct rb_node *k, *v;
	uint32_t seen = 0;
	size_t i, j;

	rb_map_dups(ctx, map, "key");
	for (i = 0; i + 1 < map->nkids; i += 2) {
		k = map->kids[i];
		v = map->kids[i + 1];
		if (k->kind == RB_NODE_BAD || k->dup)
			continue;
		if (k->kind != RB_NODE_SCALAR) {
			rb_error(ctx, k->pos, "keys must be strings, found %s",
			    rb_found(k));
			continue;
		}
		if (strlen(k->value) != k->len) {
			rb_error(ctx, k->pos, "keys must not contain NUL "
			    "characters");
			continue;
		}
		for (j = 0; j < nkeys; j++) {
			if (keys[j].name[0] == k->value[0] &&
			    strcmp(k->value, keys[j].name) == 0)
				break;
		}
		if (j == nkeys) {
			rb_unknown_key(ctx, k, keys, nkeys);
			continue;
		}
		if ((keys[j].mask & mask) == 0) {
			rb_error(ctx, k->pos, "'%s' does not apply to %s",
			    keys[j].name, kind);
			continue;
		}
		seen |= (uint32_t)1 << j;
		if (vals != NULL)
			vals[j] = v;
		if (v->kind != RB_NODE_BAD)
			keys[j].load(ctx, &keys[j], v, obj);
	}
	return seen;
}

/*
 * Load a list of strings; ref >= 0 records each as a reference of that
 * kind. A single string is taken as a list of one.
 */
static void
rb_load_list(struct rb_ctx *ctx, const char *what, struct rb_node *n,
    char ***list, size_t *count, int ref)
{
	struct rb_node *item;
	const char *s;
	size_t i, nitems = n->kind == RB_NODE_SEQ ? n->nkids : 1;

	if (n->kind == RB_NODE_MAP || rb_is_null(n)) {
		rb_error(ctx, n->pos, "%s: expected a list, found %s", what,
		    rb_found(n));
		return;
	}
	*list = rb_pool_calloc(ctx->rb, nitems, sizeof **list);
	for (i = 0; i < nitems; i++) {
		item = n->kind == RB_NODE_SEQ ? n->kids[i] : n;
		if ((s = rb_want_string(ctx, what, item)) == NULL)
			continue;
		(*list)[*count] = (char *)s;
		if (ref >= 0) {
			rb_add_ref(ctx, (enum rb_ref_kind)ref, (*list)[*count],
			    item->pos);
		}
		(*count)++;
	}
}

/* -------------------------------------------------------- field loaders */

/* A key whose value is read before the others (type). */
static void
rb_load_nothing(struct rb_ctx *ctx, const struct rb_key *k, struct rb_node *n,
    void *obj)
{
}

/* A text field: a string that may hold ${var}. */
static void
rb_load_text(struct rb_ctx *ctx, const struct rb_key *k, struct rb_node *n,
    void *obj)
{
	const char *s = rb_want_string(ctx, k->name, n);

	if (s == NULL)
		return;
	*FIELD(obj, k, char *) = (char *)s;
	rb_add_text(ctx, n);
}

/* rollback: the action that undoes the step, or none: nothing to undo. */
static void
rb_load_rollback(struct rb_ctx *ctx, const struct rb_key *k, struct rb_node *n,
    void *obj)
{
	struct rb_step *s = obj;

	if (n->kind == RB_NODE_SCALAR && strcmp(n->value, "none") == 0) {
		s->rollback_none = 1;
		return;
	}
	rb_load_text(ctx, k, n, obj);
}

/* A string taken literally. */
static void
rb_load_string(struct rb_ctx *ctx, const struct rb_key *k, struct rb_node *n,
    void *obj)
{
	const char *s = rb_want_string(ctx, k->name, n);

	if (s != NULL)
		*FIELD(obj, k, char *) = (char *)s;
}

/* A name or id: [a-z0-9][a-z0-9._-]*. */
static void
rb_load_id(struct rb_ctx *ctx, const struct rb_key *k, struct rb_node *n,
    void *obj)
{
	const char *s = rb_want_string(ctx, k->name, n);

	if (s == NULL)
		return;
	if (!rb_valid_id(s)) {
		rb_error(ctx, n->pos, "%s: '%s' is not a valid %s (use "
		    ID_CHARSET ")", k->name, rb_short(s), k->name);
	}
	*FIELD(obj, k, char *) = (char *)s;
}

/* A duration; k->lo 1 means it must be more than zero. */
static void
rb_load_duration(struct rb_ctx *ctx, const struct rb_key *k,
    struct rb_node *n, void *obj)
{
	const char *s = rb_want_string(ctx, k->name, n), *why;
	int64_t ms;

	if (s == NULL)
		return;
	if (duration_parse(s, &ms, &why) != 0) {
		rb_error(ctx, n->pos, "%s: invalid duration '%s': %s", k->name,
		    rb_short(s), why);
		return;
	}
	if (ms == 0 && k->lo > 0) {
		rb_error(ctx, n->pos, "%s: invalid duration '%s': must be "
		    "more than zero", k->name, rb_short(s));
		return;
	}
	*FIELD(obj, k, int64_t) = ms;
}

/* A whole number from k->lo to k->hi. */
static void
rb_load_int(struct rb_ctx *ctx, const struct rb_key *k, struct rb_node *n,
    void *obj)
{
	const char *s = n->value;
	long long v = 0;
	size_t i = 0;
	int neg = 0;

	if (n->kind == RB_NODE_SCALAR && !rb_is_null(n)) {
		if (s[0] == '-' || s[0] == '+')
			neg = s[i++] == '-';
		for (; isdigit((unsigned char)s[i]) && v < 1000000; i++)
			v = v * 10 + (s[i] - '0');
		if (neg)
			v = -v;
	}
	if (n->kind != RB_NODE_SCALAR || rb_is_null(n) || s[i] != '\0' ||
	    i == (size_t)(s[0] == '-' || s[0] == '+') || v < k->lo ||
	    v > k->hi) {
		rb_error(ctx, n->pos, "%s: expected a whole number from %d to "
		    "%d, found %s", k->name, k->lo, k->hi, rb_found(n));
		return;
	}
	*FIELD(obj, k, int) = (int)v;
}

/* A port: a number, or a text with ${...} expanded when connecting. */
static void
rb_load_port(struct rb_ctx *ctx, const struct rb_key *k, struct rb_node *n,
    void *obj)
{
	struct rb_target *t = obj;

	t->port_set = 1;
	if (n->kind == RB_NODE_SCALAR && strstr(n->value, "${") != NULL) {
		t->port_text = n->value;
		rb_add_text(ctx, n);
		return;
	}
	rb_load_int(ctx, k, n, obj);
}

/* true or false. */
static void
rb_load_bool(struct rb_ctx *ctx, const struct rb_key *k, struct rb_node *n,
    void *obj)
{
	static const char *yes[] = { "true", "True", "TRUE" };
	static const char *no[] = { "false", "False", "FALSE" };
	size_t i;

	for (i = 0; n->kind == RB_NODE_SCALAR && i < 3; i++) {
		if (strcmp(n->value, yes[i]) == 0 ||
		    strcmp(n->value, no[i]) == 0) {
			*FIELD(obj, k, int) = n->value[0] == 't' ||
			    n->value[0] == 'T';
			return;
		}
	}
	rb_error(ctx, n->pos, "%s: expected true or false, found %s", k->name,
	    rb_found(n));
}

/* A finite number >= 0. */
static void
rb_load_number(struct rb_ctx *ctx, const struct rb_key *k, struct rb_node *n,
    void *obj)
{
	char *end = NULL;
	double v = 0;

	if (n->kind == RB_NODE_SCALAR && !rb_is_null(n)) {
		v = strtod(n->value, &end);
	}
	if (end == NULL || end == n->value || *end != '\0' || !isfinite(v) ||
	    v < 0 || isspace((unsigned char)n->value[0])) {
		rb_error(ctx, n->pos, "%s: expected a number >= 0, found %s",
		    k->name, rb_found(n));
		return;
	}
	*FIELD(obj, k, double) = v;
}

/* compare: value or rows. */
static void
rb_load_compare(struct rb_ctx *ctx, const struct rb_key *k, struct rb_node *n,
    void *obj)
{
	enum compare_mode *mode = FIELD(obj, k, enum compare_mode);

	if (n->kind == RB_NODE_SCALAR && strcmp(n->value, "value") == 0)
		*mode = COMPARE_VALUE;
	else if (n->kind == RB_NODE_SCALAR && strcmp(n->value, "rows") == 0)
		*mode = COMPARE_ROWS;
	else {
		rb_error(ctx, n->pos, "compare: expected value or rows, found "
		    "%s", rb_found(n));
	}
}

/* method: stream, checksum or auto. */
static void
rb_load_method(struct rb_ctx *ctx, const struct rb_key *k, struct rb_node *n,
    void *obj)
{
	static const char *const names[] = {
		[RB_METHOD_AUTO] = "auto",
		[RB_METHOD_STREAM] = "stream",
		[RB_METHOD_CHECKSUM] = "checksum",
	};
	struct rb_step *s = obj;
	size_t i;

	(void)k;
	s->method_pos = n->pos;
	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (n->kind == RB_NODE_SCALAR && strcmp(n->value, names[i]) == 0) {
			s->method = (enum rb_method)i;
			return;
		}
	}
	rb_error(ctx, n->pos, "method: expected stream, checksum or auto, "
	    "found %s", rb_found(n));
}

/* bisection_factor, bisection_threshold: whole numbers; where, kept. */
static void
rb_load_bisection(struct rb_ctx *ctx, const struct rb_key *k,
    struct rb_node *n, void *obj)
{
	struct rb_step *s = obj;

	s->bisection_pos = n->pos;
	rb_load_int(ctx, k, n, obj);
}

/* host_key: strict, accept-new or off. */
static void
rb_load_host_key(struct rb_ctx *ctx, const struct rb_key *k,
    struct rb_node *n, void *obj)
{
	static const char *names[] = {
		[RB_HOSTKEY_STRICT] = "strict",
		[RB_HOSTKEY_ACCEPT_NEW] = "accept-new",
		[RB_HOSTKEY_OFF] = "off",
	};
	struct rb_target *t = obj;
	int i;

	for (i = RB_HOSTKEY_STRICT; i <= RB_HOSTKEY_OFF; i++) {
		if (n->kind == RB_NODE_SCALAR && strcmp(n->value, names[i]) == 0) {
			t->host_key = i;
			t->accept_new = i == RB_HOSTKEY_ACCEPT_NEW;
			return;
		}
	}
	rb_error(ctx, n->pos, "host_key: expected strict, accept-new or off, "
	    "found %s", rb_found(n));
}

/* jump: the ssh targets to go through, first hop first; lint resolves
 * them. */
static void
rb_load_jump(struct rb_ctx *ctx, const struct rb_key *k, struct rb_node *n,
    void *obj)
{
	struct rb_target *t = obj;
	size_t i, first = ctx->nrefs;

	rb_load_list(ctx, "jump", n, &t->jump, &t->njump, RB_REF_JUMP);
	for (i = first; i < ctx->nrefs; i++)
		ctx->refs[i].step = ctx->owner.index;
	if (t->njump > 0)
		t->jump_targets = rb_pool_calloc(ctx->rb, t->njump,
		    sizeof *t->jump_targets);
}

/* tls: verify (the default) or insecure. */
static void
rb_load_tls(struct rb_ctx *ctx, const struct rb_key *k, struct rb_node *n,
    void *obj)
{
	struct rb_target *t = obj;

	if (n->kind == RB_NODE_SCALAR && (strcmp(n->value, "verify") == 0 ||
	    strcmp(n->value, "insecure") == 0))
		t->tls_insecure = n->value[0] == 'i';
	else
		rb_error(ctx, n->pos, "tls: expected verify or insecure, found "
		    "%s", rb_found(n));
}

/* A secret that must be "${env:NAME}"; its value is never echoed. */
static void
rb_load_env_only(struct rb_ctx *ctx, const struct rb_key *k,
    struct rb_node *n, void *obj)
{
	const char *s = n->value;
	size_t i, len = n->len;
	int ok;

	ok = n->kind == RB_NODE_SCALAR && len > 7 && strlen(s) == len &&
	    strncmp(s, "${env:", 6) == 0 && s[len - 1] == '}' &&
	    (isalpha((unsigned char)s[6]) || s[6] == '_');
	for (i = 6; ok && i < len - 1; i++) {
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			ok = 0;
	}
	if (!ok) {
		rb_error(ctx, n->pos, "%s: write it as ${env:NAME}; secrets "
		    "are never kept in the runbook", k->name);
		return;
	}
	*FIELD(obj, k, char *) = (char *)s;
}

/* cutover: 1. */
static void
rb_load_version(struct rb_ctx *ctx, const struct rb_key *k, struct rb_node *n,
    void *obj)
{
	struct runbook *rb = obj;
	const char *s = n->value;
	size_t i;

	for (i = 0; n->kind == RB_NODE_SCALAR && isdigit((unsigned char)s[i]);
	    i++)
		;
	if (n->kind != RB_NODE_SCALAR || i == 0 || s[i] != '\0' || i > 6) {
		rb_error(ctx, n->pos, "cutover: expected the format version "
		    "1, found %s", rb_found(n));
		return;
	}
	if (atoi(s) != 1) {
		rb_error(ctx, n->pos, "cutover: unsupported format version %s "
		    "(this cutover reads version 1)", s);
		return;
	}
	rb->version = 1;
}

/* A step's target: a name resolved by lint. */
static void
rb_load_step_target(struct rb_ctx *ctx, const struct rb_key *k,
    struct rb_node *n, void *obj)
{
	const char *s = rb_want_string(ctx, k->name, n);
	char **field = FIELD(obj, k, char *);

	if (s == NULL)
		return;
	*field = (char *)s;
	rb_add_ref(ctx, RB_REF_TARGET, *field, n->pos);
}

/* A reconcile query's target. */
static void
rb_load_query_target(struct rb_ctx *ctx, const struct rb_key *k,
    struct rb_node *n, void *obj)
{
	struct rb_query *q = obj;
	const char *s = rb_want_string(ctx, k->name, n);

	if (s == NULL)
		return;
	q->target_name = (char *)s;
	rb_add_ref(ctx, ctx->query_ref, q->target_name, n->pos);
}

/* format: csv or tsv. */
static void
rb_load_format(struct rb_ctx *ctx, const struct rb_key *k, struct rb_node *n,
    void *obj)
{
	struct rb_query *q = obj;
	const char *s = rb_want_string(ctx, k->name, n);

	if (s == NULL)
		return;
	if (strcmp(s, "csv") == 0 || strcmp(s, "tsv") == 0)
		q->format = s[0] == 't' ? RB_FORMAT_TSV : RB_FORMAT_CSV;
	else
		rb_error(ctx, n->pos, "format: expected csv or tsv, found %s",
		    rb_found(n));
}

/* columns: the names of a file's columns. */
static void
rb_load_columns(struct rb_ctx *ctx, const struct rb_key *k,
    struct rb_node *n, void *obj)
{
	struct rb_query *q = obj;

	rb_load_list(ctx, k->name, n, &q->columns, &q->ncolumns, -1);
}

/*
 * source: or dest: of a reconcile step: {target: NAME, query: SQL}, or
 * {file: PATH, ...} (the file keys only with file).
 */
static void
rb_load_query(struct rb_ctx *ctx, const struct rb_key *k, struct rb_node *n,
    void *obj)
{
	struct rb_query *q = FIELD(obj, k, struct rb_query);
	uint32_t seen, filekeys;

	if (n->kind != RB_NODE_MAP) {
		rb_error(ctx, n->pos, "%s: expected a mapping with target and "
		    "query (or file), found %s", k->name, rb_found(n));
		return;
	}
	ctx->query_ref = (enum rb_ref_kind)k->lo;
	q->pos = n->pos;
	q->header = 1;
	seen = rb_load_map(ctx, n, query_keys, NKEYS(query_keys), 1,
	    k->name, q, NULL);
	filekeys = seen & ~((1u << QUERY_KEY_TARGET) | (1u << QUERY_KEY_QUERY) |
	    (1u << QUERY_KEY_FILE) | (1u << (NKEYS(query_keys) - 1)));
	if (SEEN(seen, QUERY_KEY_FILE)) {
		if (SEEN(seen, QUERY_KEY_TARGET) || SEEN(seen, QUERY_KEY_QUERY))
			rb_error(ctx, n->pos, "%s: a file side has no 'target' "
			    "or 'query'", k->name);
		if (!q->header && !SEEN(seen, QUERY_KEY_COLUMNS))
			rb_error(ctx, n->pos, "%s: a file without a header "
			    "needs 'columns'", k->name);
		if (q->delimiter != NULL && strlen(q->delimiter) != 1)
			rb_error(ctx, n->pos, "%s: delimiter: expected one "
			    "character", k->name);
		return;
	}
	if (filekeys != 0)
		rb_error(ctx, n->pos, "%s: format, header, delimiter, encoding "
		    "and columns are for file sides", k->name);
	if (!SEEN(seen, QUERY_KEY_TARGET))
		rb_error(ctx, n->pos, "%s needs 'target' (or 'file')", k->name);
	if (!SEEN(seen, QUERY_KEY_QUERY))
		rb_error(ctx, n->pos, "%s needs 'query'", k->name);
}

/* needs: step ids. */
static void
rb_load_needs(struct rb_ctx *ctx, const struct rb_key *k, struct rb_node *n,
    void *obj)
{
	struct rb_step *s = obj;

	s->needs_given = 1;
	rb_load_list(ctx, "needs", n, &s->needs, &s->nneeds, RB_REF_NEED);
}

/* approvers: role names. */
static void
rb_load_approvers(struct rb_ctx *ctx, const struct rb_key *k,
    struct rb_node *n, void *obj)
{
	struct rb_step *s = obj;

	rb_load_list(ctx, "approvers", n, &s->approvers, &s->napprovers,
	    RB_REF_APPROVER);
}

/* settings.rollback_roles: role names. */
static void
rb_load_rollback_roles(struct rb_ctx *ctx, const struct rb_key *k,
    struct rb_node *n, void *obj)
{
	struct runbook *rb = obj;

	rb_load_list(ctx, "rollback_roles", n, &rb->rollback_roles,
	    &rb->nrollback_roles, RB_REF_ROLLBACK_ROLE);
}

/* secrets: var names; lint marks the vars. */
static void
rb_load_secrets(struct rb_ctx *ctx, const struct rb_key *k,
    struct rb_node *n, void *obj)
{
	struct rb_node *item;
	const char *s;
	size_t i, nitems = n->kind == RB_NODE_SEQ ? n->nkids : 1;

	if (n->kind == RB_NODE_MAP || rb_is_null(n)) {
		rb_error(ctx, n->pos, "secrets: expected a list, found %s",
		    rb_found(n));
		return;
	}
	for (i = 0; i < nitems; i++) {
		item = n->kind == RB_NODE_SEQ ? n->kids[i] : n;
		if ((s = rb_want_string(ctx, "secrets", item)) != NULL)
			rb_add_ref(ctx, RB_REF_SECRET, s, item->pos);
	}
}

/* vars: name: value. */
static void
rb_load_vars(struct rb_ctx *ctx, const struct rb_key *k, struct rb_node *n,
    void *obj)
{
	struct runbook *rb = obj;
	struct rb_node *key, *val;
	struct rb_var *v;
	const char *s;
	size_t i;

	if (n->kind != RB_NODE_MAP) {
		rb_error(ctx, n->pos, "vars: expected a mapping, found %s",
		    rb_found(n));
		return;
	}
	rb_map_dups(ctx, n, "variable");
	rb->vars = xcalloc(n->nkids / 2 + 1, sizeof *rb->vars);
	for (i = 0; i + 1 < n->nkids; i += 2) {
		key = n->kids[i];
		val = n->kids[i + 1];
		if (key->dup || (s = rb_want_string(ctx, "variable name",
		    key)) == NULL)
			continue;
		if (!rb_valid_name(s)) {
			rb_error(ctx, key->pos, "invalid variable name '%s' "
			    "(use " NAME_CHARSET ")", rb_short(s));
			continue;
		}
		v = &rb->vars[rb->nvars++];
		v->name = rb_pool_strdup(rb, s);
		v->pos = key->pos;
		if ((s = rb_want_string(ctx, v->name, val)) != NULL) {
			v->value = (char *)s;
			ctx->owner.kind = RB_OWNER_VAR;
			ctx->owner.index = rb->nvars - 1;
			rb_add_text(ctx, val);
			ctx->owner.kind = RB_OWNER_NONE;
		} else
			v->value = rb_pool_strdup(rb, "");
	}
}

/* roles: name: [operator, ...]. */
static void
rb_load_roles(struct rb_ctx *ctx, const struct rb_key *k, struct rb_node *n,
    void *obj)
{
	struct runbook *rb = obj;
	struct rb_node *key;
	struct rb_role *r;
	const char *s;
	size_t i;

	if (n->kind != RB_NODE_MAP) {
		rb_error(ctx, n->pos, "roles: expected a mapping, found %s",
		    rb_found(n));
		return;
	}
	rb_map_dups(ctx, n, "role");
	rb->roles = xcalloc(n->nkids / 2 + 1, sizeof *rb->roles);
	for (i = 0; i + 1 < n->nkids; i += 2) {
		key = n->kids[i];
		if (key->dup || (s = rb_want_string(ctx, "role name", key)) ==
		    NULL)
			continue;
		if (!rb_valid_name(s)) {
			rb_error(ctx, key->pos, "invalid role name '%s' (use "
			    NAME_CHARSET ")", rb_short(s));
			continue;
		}
		r = &rb->roles[rb->nroles++];
		r->name = rb_pool_strdup(rb, s);
		r->pos = key->pos;
		if (n->kids[i + 1]->kind != RB_NODE_BAD) {
			rb_load_list(ctx, r->name, n->kids[i + 1], &r->members,
			    &r->nmembers, -1);
		}
	}
}

/* operators: name: [database user, ...] (a list, never one string). */
static void
rb_load_operators(struct rb_ctx *ctx, const struct rb_key *k,
    struct rb_node *n, void *obj)
{
	struct runbook *rb = obj;
	struct rb_node *key, *val;
	struct rb_operator *o;
	const char *s;
	char what[64];
	size_t i;

	if (n->kind != RB_NODE_MAP) {
		rb_error(ctx, n->pos, "operators: expected a mapping, found %s",
		    rb_found(n));
		return;
	}
	rb_map_dups(ctx, n, "operator");
	rb->operators = xcalloc(n->nkids / 2 + 1, sizeof *rb->operators);
	for (i = 0; i + 1 < n->nkids; i += 2) {
		key = n->kids[i];
		val = n->kids[i + 1];
		if (key->dup || (s = rb_want_string(ctx, "operator name",
		    key)) == NULL)
			continue;
		o = &rb->operators[rb->noperators++];
		o->name = rb_pool_strdup(rb, s);
		o->pos = key->pos;
		if (val->kind == RB_NODE_BAD)
			continue;
		if (val->kind != RB_NODE_SEQ) {
			rb_error(ctx, val->pos, "operators: %s: expected a list "
			    "of database users, found %s", rb_short(s),
			    rb_found(val));
			continue;
		}
		snprintf(what, sizeof what, "operators: %s", rb_short(s));
		rb_load_list(ctx, what, val, &o->users, &o->nusers, -1);
	}
}

/* ------------------------------------------------------------ notify: */

/* notify: a list of sinks, each {events, webhook|command, format, name}. */
static void
rb_load_notify(struct rb_ctx *ctx, const struct rb_key *k, struct rb_node *n,
    void *obj)
{
	struct runbook *rb = obj;
	size_t i;

	if (n->kind != RB_NODE_SEQ) {
		rb_error(ctx, n->pos, "notify: expected a list of sinks, found "
		    "%s", rb_found(n));
		return;
	}
	rb->notify = rb_pool_calloc(rb, n->nkids + 1, sizeof *rb->notify);
	for (i = 0; i < n->nkids; i++)
		rb_load_notify_sink(ctx, n->kids[i]);
}

/* One sink of notify:. */
static void
rb_load_notify_sink(struct rb_ctx *ctx, struct rb_node *n)
{
	struct runbook *rb = ctx->rb;
	struct rb_node *vals[NKEYS(notify_keys)] = { 0 };
	struct rb_notify *s;
	uint32_t seen;
	char num[24];

	if (n->kind == RB_NODE_BAD)
		return;
	if (n->kind != RB_NODE_MAP) {
		rb_error(ctx, n->pos, "notify: each sink is a mapping ({events: "
		    "[...], webhook: ...} or {events: [...], command: ...}), "
		    "found %s", rb_found(n));
		return;
	}
	s = &rb->notify[rb->nnotify++];
	s->pos = n->pos;
	s->events = NOTIFY_EV_ALL;
	ctx->owner.kind = RB_OWNER_NOTIFY;
	ctx->owner.index = rb->nnotify - 1;
	seen = rb_load_map(ctx, n, notify_keys, NKEYS(notify_keys), 1,
	    "notify sinks", s, vals);
	ctx->owner.kind = RB_OWNER_NONE;
	if (s->name == NULL) {
		snprintf(num, sizeof num, "%zu", rb->nnotify);
		s->name = rb_pool_strdup(rb, num);
	}
	rb_notify_check(ctx, s, n, seen, vals);
}

/* What a sink needs: one of webhook and command, a webhook address from
 * the environment, a name of its own. */
static void
rb_notify_check(struct rb_ctx *ctx, struct rb_notify *s, struct rb_node *n,
    uint32_t seen, struct rb_node **vals)
{
	struct runbook *rb = ctx->rb;
	size_t i;

	if (SEEN(seen, NOTIFY_KEY_WEBHOOK) == SEEN(seen, NOTIFY_KEY_COMMAND))
		rb_error(ctx, n->pos, "notify sink %s needs one of 'webhook' "
		    "and 'command'", rb_short(s->name));
	if (SEEN(seen, NOTIFY_KEY_FORMAT) && SEEN(seen, NOTIFY_KEY_COMMAND))
		rb_error(ctx, vals[NOTIFY_KEY_FORMAT]->pos, "notify sink %s: "
		    "'format' applies to webhook sinks", rb_short(s->name));
	if (s->webhook != NULL && strstr(s->webhook, "${env:") == NULL)
		rb_error(ctx, vals[NOTIFY_KEY_WEBHOOK]->pos, "notify sink %s: "
		    "give the webhook address as ${env:NAME}: it carries a "
		    "token, and the runbook is kept in the state file",
		    rb_short(s->name));
	for (i = 0; i + 1 < rb->nnotify; i++)
		if (strcmp(rb->notify[i].name, s->name) == 0)
			rb_error(ctx, n->pos, "notify sink %s: the name of "
			    "another sink (line %u)", rb_short(s->name),
			    rb->notify[i].pos.line);
}

/* events: [awaiting, failed, ...] (one name alone is a list of one). */
static void
rb_load_notify_events(struct rb_ctx *ctx, const struct rb_key *k,
    struct rb_node *n, void *obj)
{
	struct rb_notify *s = obj;
	size_t i, nitems = n->kind == RB_NODE_SEQ ? n->nkids : 1;
	struct rb_node *item;
	enum notify_event ev;
	const char *name, *best;

	s->events = 0;
	if (n->kind == RB_NODE_MAP || rb_is_null(n) || nitems == 0) {
		rb_error(ctx, n->pos, "events: expected a list of events, "
		    "found %s", nitems == 0 ? "an empty list" : rb_found(n));
		return;
	}
	for (i = 0; i < nitems; i++) {
		item = n->kind == RB_NODE_SEQ ? n->kids[i] : n;
		if ((name = rb_want_string(ctx, "events", item)) == NULL)
			continue;
		if (notify_event_parse(name, &ev) == 0) {
			s->events |= NOTIFY_EV_BIT(ev);
			continue;
		}
		best = rb_suggest(name, notify_event_names, NOTIFY_NEVENTS);
		if (best != NULL)
			rb_error(ctx, item->pos, "unknown event '%s' (did you "
			    "mean %s?)", rb_short(name), best);
		else
			rb_error(ctx, item->pos, "unknown event '%s' (events: "
			    "awaiting, failed, checkpoint, excluded, rollback, "
			    "complete)", rb_short(name));
	}
}

/* format: json, slack or teams. */
static void
rb_load_notify_format(struct rb_ctx *ctx, const struct rb_key *k,
    struct rb_node *n, void *obj)
{
	struct rb_notify *s = obj;
	const char *name = rb_want_string(ctx, "format", n);
	enum notify_format f;

	if (name == NULL)
		return;
	if (notify_format_parse(name, &f) != 0) {
		rb_error(ctx, n->pos, "format: expected json, slack or teams, "
		    "found '%s'", rb_short(name));
		return;
	}
	s->format = (int)f;
}

/* settings.operator: declared or os-user. */
static void
rb_load_operator_mode(struct rb_ctx *ctx, const struct rb_key *k,
    struct rb_node *n, void *obj)
{
	struct runbook *rb = obj;

	if (n->kind == RB_NODE_SCALAR && strcmp(n->value, "declared") == 0)
		rb->operator_mode = RB_OPERATOR_DECLARED;
	else if (n->kind == RB_NODE_SCALAR && strcmp(n->value, "os-user") == 0)
		rb->operator_mode = RB_OPERATOR_OS_USER;
	else
		rb_error(ctx, n->pos, "operator: expected declared or os-user, "
		    "found %s", rb_found(n));
}

/* settings: parallel, default_timeout, shell, rollback_roles, operator. */
static void
rb_load_settings(struct rb_ctx *ctx, const struct rb_key *k,
    struct rb_node *n, void *obj)
{
	if (n->kind != RB_NODE_MAP) {
		rb_error(ctx, n->pos, "settings: expected a mapping, found %s",
		    rb_found(n));
		return;
	}
	rb_load_map(ctx, n, settings_keys, NKEYS(settings_keys), 1,
	    "settings", obj, NULL);
}

/* targets: name: {type: ssh|postgres, ...}. */
static void
rb_load_targets(struct rb_ctx *ctx, const struct rb_key *k,
    struct rb_node *n, void *obj)
{
	struct runbook *rb = obj;
	size_t i;

	if (n->kind != RB_NODE_MAP) {
		rb_error(ctx, n->pos, "targets: expected a mapping, found %s",
		    rb_found(n));
		return;
	}
	rb_map_dups(ctx, n, "target");
	rb->targets = xcalloc(n->nkids / 2 + 1, sizeof *rb->targets);
	ctx->target_typed = xcalloc(n->nkids / 2 + 1, 1);
	for (i = 0; i + 1 < n->nkids; i += 2) {
		if (!n->kids[i]->dup)
			rb_load_target(ctx, n->kids[i], n->kids[i + 1]);
	}
}

/* The type bit of target t defined by n; every bit if absent or unknown. */
static unsigned
rb_target_type(struct rb_ctx *ctx, const struct rb_target *t,
    const struct rb_node *n)
{
	struct rb_node *type = rb_map_get(n, "type");
	size_t i;

	if (type == NULL) {
		rb_error(ctx, n->pos, "target '%s' needs 'type' (ssh, "
		    "postgres or odbc)", rb_short(t->name));
		return T_TARGETS;
	}
	for (i = 0; type->kind == RB_NODE_SCALAR && i < TARGET_NTYPES; i++) {
		if (strcmp(type->value, target_type_names[i]) == 0)
			return BIT(i);
	}
	if (type->kind != RB_NODE_BAD) {
		rb_error(ctx, type->pos, "unknown target type %s (expected "
		    "ssh, postgres or odbc)", rb_found(type));
	}
	return T_TARGETS;
}

/* One target. */
static void
rb_load_target(struct rb_ctx *ctx, struct rb_node *key, struct rb_node *n)
{
	struct runbook *rb = ctx->rb;
	struct rb_target *t;
	const char *s;
	unsigned mask;
	uint32_t seen;
	const char *kind = "targets";

	if ((s = rb_want_string(ctx, "target name", key)) == NULL)
		return;
	if (!rb_valid_name(s)) {
		rb_error(ctx, key->pos, "invalid target name '%s' (use "
		    NAME_CHARSET ")", rb_short(s));
	}
	t = &rb->targets[rb->ntargets++];
	t->name = rb_pool_strdup(rb, s);
	t->pos = key->pos;
	t->port = 22;
	if (n->kind != RB_NODE_MAP) {
		if (n->kind != RB_NODE_BAD) {
			rb_error(ctx, n->pos, "%s: expected a mapping, found "
			    "%s", rb_short(t->name), rb_found(n));
		}
		return;
	}
	mask = rb_target_type(ctx, t, n);
	if (mask != T_TARGETS) {
		ctx->target_typed[rb->ntargets - 1] = 1;
		for (t->type = 0; (mask & BIT(t->type)) == 0; t->type++)
			;
		kind = target_kinds[t->type];
	}
	ctx->owner.kind = RB_OWNER_TARGET;
	ctx->owner.index = rb->ntargets - 1;
	seen = rb_load_map(ctx, n, target_keys, NKEYS(target_keys), mask, kind,
	    t, NULL);
	ctx->owner.kind = RB_OWNER_NONE;
	if (mask == T_SSH && !SEEN(seen, TARGET_KEY_HOST))
		rb_error(ctx, n->pos, "ssh target '%s' needs 'host'",
		    rb_short(t->name));
	if (mask == T_PG && !SEEN(seen, TARGET_KEY_CONNINFO))
		rb_error(ctx, n->pos, "postgres target '%s' needs 'conninfo'",
		    rb_short(t->name));
	if (mask == T_ODBC && !SEEN(seen, TARGET_KEY_CONNECTION))
		rb_error(ctx, n->pos, "odbc target '%s' needs 'connection'",
		    rb_short(t->name));
}

/* phases: a list of {id, title, steps}. */
static void
rb_load_phases(struct rb_ctx *ctx, const struct rb_key *k,
    struct rb_node *n, void *obj)
{
	struct runbook *rb = obj;
	size_t i;

	if (n->kind != RB_NODE_SEQ) {
		rb_error(ctx, n->pos, "phases: expected a list, found %s",
		    rb_found(n));
		return;
	}
	if (n->nkids == 0) {
		rb_error(ctx, n->pos, "phases: a runbook needs at least one "
		    "phase");
		return;
	}
	rb->phases = xcalloc(n->nkids, sizeof *rb->phases);
	for (i = 0; i < n->nkids; i++)
		rb_load_phase(ctx, n->kids[i]);
}

/* One phase and its steps. */
static void
rb_load_phase(struct rb_ctx *ctx, struct rb_node *n)
{
	struct runbook *rb = ctx->rb;
	struct rb_node *steps;
	struct rb_phase *p;
	uint32_t seen;

	if (n->kind != RB_NODE_MAP) {
		if (n->kind != RB_NODE_BAD) {
			rb_error(ctx, n->pos, "phase: expected a mapping, "
			    "found %s", rb_found(n));
		}
		return;
	}
	p = &rb->phases[rb->nphases++];
	p->pos = n->pos;
	seen = rb_load_map(ctx, n, phase_keys, NKEYS(phase_keys), 1, "phases",
	    p, NULL);
	/* Its steps were loaded while parsing, in order, phase by phase. */
	p->first = ctx->nextstep;
	while (ctx->nextstep < rb->nsteps &&
	    rb->steps[ctx->nextstep].phase == (size_t)(p - rb->phases))
		ctx->nextstep++;
	p->nsteps = ctx->nextstep - p->first;
	if (!SEEN(seen, PHASE_KEY_ID))
		rb_error(ctx, n->pos, "phase needs 'id'");
	steps = rb_map_get(n, "steps");
	if (!SEEN(seen, PHASE_KEY_STEPS) || (steps->kind == RB_NODE_SEQ &&
	    steps->nkids == 0)) {
		rb_error(ctx, n->pos, "phase '%s' has no steps",
		    p->id != NULL ? rb_short(p->id) : "");
	}
	if (SEEN(seen, PHASE_KEY_PARALLEL) && !SEEN(seen, PHASE_KEY_FOR_EACH)) {
		rb_error(ctx, rb_map_get(n, "parallel")->pos, "parallel: "
		    "applies to phases with 'for_each: entity' only");
	}
}

/* A phase's steps: a list of steps. */
static void
rb_load_steps(struct rb_ctx *ctx, const struct rb_key *k, struct rb_node *n,
    void *obj)
{
	struct runbook *rb = ctx->rb;
	struct rb_phase *p = obj;
	size_t i;

	if (n->kind != RB_NODE_SEQ) {
		rb_error(ctx, n->pos, "steps: expected a list, found %s",
		    rb_found(n));
		return;
	}
	for (i = 0; i < n->nkids; i++) {
		if (n->kids[i]->kind != RB_NODE_LOADED)
			rb_load_step(ctx, n->kids[i], (size_t)(p - rb->phases));
	}
}

/* entities: a list of {id, wave, title, vars}, or {file: PATH}. */
static void
rb_load_entities(struct rb_ctx *ctx, const struct rb_key *k,
    struct rb_node *n, void *obj)
{
	struct rb_node *file;
	size_t i;

	ctx->entities_given = 1;
	if (n->kind == RB_NODE_SEQ) {
		for (i = 0; i < n->nkids; i++)
			rb_load_entity(ctx, n->kids[i]);
		return;
	}
	if (n->kind != RB_NODE_MAP) {
		rb_error(ctx, n->pos, "entities: expected a list of entities "
		    "or {file: PATH}, found %s", rb_found(n));
		return;
	}
	rb_map_dups(ctx, n, "key");
	for (i = 0; i + 1 < n->nkids; i += 2) {
		if (n->kids[i]->kind == RB_NODE_SCALAR && !n->kids[i]->dup &&
		    strcmp(n->kids[i]->value, "file") != 0) {
			rb_error(ctx, n->kids[i]->pos, "entities: unknown key "
			    "'%s' (expected file)", rb_short(n->kids[i]->value));
		}
	}
	if ((file = rb_map_get(n, "file")) == NULL) {
		rb_error(ctx, n->pos, "entities needs 'file' (a CSV file), or "
		    "a list of entities");
		return;
	}
	if (file->kind != RB_NODE_BAD &&
	    rb_want_string(ctx, "entities: file", file) != NULL)
		rb_entities_file(ctx, file);
}

/* One entity of an inline list. */
static void
rb_load_entity(struct rb_ctx *ctx, struct rb_node *n)
{
	struct rb_node *v;
	struct rb_entity *e;
	uint32_t seen;

	if (n->kind != RB_NODE_MAP) {
		if (n->kind != RB_NODE_BAD) {
			rb_error(ctx, n->pos, "entity: expected a mapping, "
			    "found %s", rb_found(n));
		}
		return;
	}
	if ((e = rb_entity_new(ctx, n->pos)) == NULL)
		return;
	seen = rb_load_map(ctx, n, entity_keys, NKEYS(entity_keys), 1,
	    "entities", e, NULL);
	if (!SEEN(seen, ENTITY_KEY_ID))
		rb_error(ctx, n->pos, "entity needs 'id'");
	else if ((v = rb_map_get(n, "id")) != NULL)
		e->pos = v->pos;
	if (SEEN(seen, ENTITY_KEY_WAVE) && (v = rb_map_get(n, "wave")) != NULL)
		ctx->wave_pos[e->index] = v->pos;
	if (e->title != NULL && e->title[0] == '\0')
		e->title = NULL;
}

/* An inline entity's vars: name: value. */
static void
rb_load_entity_vars(struct rb_ctx *ctx, const struct rb_key *k,
    struct rb_node *n, void *obj)
{
	struct rb_entity *e = obj;
	struct rb_node *key;
	const char *name, *value;
	size_t i;

	if (n->kind != RB_NODE_MAP) {
		rb_error(ctx, n->pos, "vars: expected a mapping, found %s",
		    rb_found(n));
		return;
	}
	rb_map_dups(ctx, n, "entity var");
	e->vars = rb_pool_calloc(ctx->rb, n->nkids / 2 + 1, sizeof *e->vars);
	for (i = 0; i + 1 < n->nkids; i += 2) {
		key = n->kids[i];
		if (key->dup || (name = rb_want_string(ctx, "entity var name",
		    key)) == NULL)
			continue;
		if (!rb_valid_name(name)) {
			rb_error(ctx, key->pos, "invalid entity var name '%s' "
			    "(use " NAME_CHARSET ")", rb_short(name));
			continue;
		}
		if (strcmp(name, "id") == 0 || strcmp(name, "title") == 0 ||
		    strcmp(name, "wave") == 0) {
			rb_error(ctx, key->pos, "entity var '%s': give the "
			    "entity's %s outside vars", name, name);
			continue;
		}
		if ((value = rb_want_string(ctx, name, n->kids[i + 1])) ==
		    NULL)
			continue;
		e->vars[e->nvars].name = rb_pool_strdup(ctx->rb, name);
		e->vars[e->nvars++].value = (char *)value;
	}
}

/* waves: the order of waves, ids. */
static void
rb_load_waves(struct rb_ctx *ctx, const struct rb_key *k, struct rb_node *n,
    void *obj)
{
	struct runbook *rb = ctx->rb;
	size_t i, j;

	rb->waves_given = 1;
	if (n->kind != RB_NODE_SEQ) {
		rb_error(ctx, n->pos, "waves: expected a list, found %s",
		    rb_found(n));
		return;
	}
	if (n->nkids > 1000) {
		rb_error(ctx, n->pos, "waves: more than 1000 waves");
		return;
	}
	rb->waves = rb_pool_calloc(rb, n->nkids + 1, sizeof *rb->waves);
	for (i = 0; i < n->nkids; i++) {
		const char *w = rb_want_string(ctx, "waves", n->kids[i]);

		if (w == NULL)
			continue;
		if (!rb_valid_id(w)) {
			rb_error(ctx, n->kids[i]->pos, "waves: '%s' is not a "
			    "valid wave (use " ID_CHARSET ")", rb_short(w));
			continue;
		}
		for (j = 0; j < rb->nwaves && strcmp(rb->waves[j], w) != 0; j++)
			;
		if (j < rb->nwaves) {
			rb_error(ctx, n->kids[i]->pos, "waves: '%s' is listed "
			    "twice", rb_short(w));
			continue;
		}
		rb->waves[rb->nwaves++] = (char *)w;
	}
}

/* for_each: entity. */
static void
rb_load_for_each(struct rb_ctx *ctx, const struct rb_key *k,
    struct rb_node *n, void *obj)
{
	struct rb_phase *p = obj;

	if (n->kind == RB_NODE_SCALAR && strcmp(n->value, "entity") == 0)
		p->for_each = 1;
	else {
		rb_error(ctx, n->pos, "for_each: expected entity, found %s",
		    rb_found(n));
	}
}

/* on_failure: halt or exclude-entity. */
static void
rb_load_on_failure(struct rb_ctx *ctx, const struct rb_key *k,
    struct rb_node *n, void *obj)
{
	struct rb_step *s = obj;

	if (n->kind == RB_NODE_SCALAR && strcmp(n->value, "halt") == 0)
		s->on_failure = RB_ON_FAILURE_HALT;
	else if (n->kind == RB_NODE_SCALAR &&
	    strcmp(n->value, "exclude-entity") == 0) {
		s->on_failure = RB_ON_FAILURE_EXCLUDE_ENTITY;
		rb_add_ref(ctx, RB_REF_LANE, "on_failure: exclude-entity",
		    n->pos);
	} else {
		rb_error(ctx, n->pos, "on_failure: expected halt or "
		    "exclude-entity, found %s", rb_found(n));
	}
}

/* on_no_go: rollback. */
static void
rb_load_on_no_go(struct rb_ctx *ctx, const struct rb_key *k,
    struct rb_node *n, void *obj)
{
	struct rb_step *s = obj;

	if (n->kind == RB_NODE_SCALAR && strcmp(n->value, "rollback") == 0) {
		s->on_no_go = RB_ON_NO_GO_ROLLBACK;
		rb_add_ref(ctx, RB_REF_LANE, "on_no_go: rollback", n->pos);
	} else {
		rb_error(ctx, n->pos, "on_no_go: expected rollback, found %s",
		    rb_found(n));
	}
}

/* evidence: step ids. */
static void
rb_load_evidence(struct rb_ctx *ctx, const struct rb_key *k,
    struct rb_node *n, void *obj)
{
	struct rb_step *s = obj;

	rb_load_list(ctx, "evidence", n, &s->evidence, &s->nevidence,
	    RB_REF_EVIDENCE);
}

/* The type of step n (-1 if absent or unknown, reported). */
static int
rb_step_type(struct rb_ctx *ctx, struct rb_node *n)
{
	struct rb_node *type = rb_map_get(n, "type");
	int i;

	if (type == NULL || type->kind == RB_NODE_BAD)
		return -1;
	if (type->kind != RB_NODE_SCALAR || rb_is_null(type)) {
		rb_error(ctx, type->pos, "type: expected a string, found %s",
		    rb_found(type));
		return -1;
	}
	for (i = 0; i < STEP_NTYPES; i++) {
		if (strcmp(type->value, step_type_names[i]) == 0)
			return i;
	}
	rb_error(ctx, type->pos, "unknown step type '%s' (expected local, ssh, "
	    "sql, reconcile, manual or checkpoint)", rb_short(type->value));
	return -1;
}

/* One step. */
static void
rb_load_step(struct rb_ctx *ctx, struct rb_node *n, size_t phase)
{
	struct runbook *rb = ctx->rb;
	struct rb_node *vals[RB_MAX_KEYS] = { NULL };
	struct rb_step *s;
	const char *kind = "steps";
	uint32_t seen;
	int type;

	if (n->kind != RB_NODE_MAP) {
		if (n->kind != RB_NODE_BAD) {
			rb_error(ctx, n->pos, "step: expected a mapping, found "
			    "%s", rb_found(n));
		}
		return;
	}
	if (rb->nsteps == ctx->stepcap) {
		ctx->stepcap = ctx->stepcap ? ctx->stepcap * 2 : 64;
		rb->steps = xreallocarray(rb->steps, ctx->stepcap,
		    sizeof *rb->steps);
	}
	s = &rb->steps[rb->nsteps];
	memset(s, 0, sizeof *s);
	s->index = ctx->step = rb->nsteps++;
	s->phase = phase;
	s->pos = n->pos;
	s->timeout_ms = -1;
	s->planned_ms = -1;
	s->key = 1;
	s->approvals = 1;
	type = rb_step_type(ctx, n);
	ctx->step_typed = type >= 0;
	if (type >= 0) {
		s->type = (enum step_type)type;
		kind = step_kinds[type];
	}
	ctx->owner.kind = RB_OWNER_STEP;
	ctx->owner.index = s->index;
	seen = rb_load_map(ctx, n, step_keys, NKEYS(step_keys), type >= 0 ?
	    BIT(type) : T_ALL, kind, s, vals);
	ctx->owner.kind = RB_OWNER_NONE;
	rb_check_step(ctx, s, seen, type >= 0);
	if (!ctx->no_hash)
		rb_step_sha(ctx, s, vals);
}

/* Check that step s has the keys its type requires. */
static void
rb_check_step(struct rb_ctx *ctx, struct rb_step *s, uint32_t seen, int typed)
{
	const char *type = step_type_name(s->type);
	char label[80];

	if (!SEEN(seen, STEP_KEY_ID))
		rb_error(ctx, s->pos, "step needs 'id'");
	if (s->id != NULL)
		snprintf(label, sizeof label, " '%s'", rb_short(s->id));
	else
		label[0] = '\0';
	if (!SEEN(seen, STEP_KEY_TYPE)) {
		rb_error(ctx, s->pos, "step%s needs 'type' (local, ssh, sql, "
		    "reconcile, manual or checkpoint)", label);
	}
	if (!typed)
		return;
	if ((T_RUN & BIT(s->type)) && !SEEN(seen, STEP_KEY_RUN))
		rb_error(ctx, s->pos, "%s step%s needs 'run'", type, label);
	if ((s->type == STEP_SSH || s->type == STEP_SQL) &&
	    !SEEN(seen, STEP_KEY_TARGET))
		rb_error(ctx, s->pos, "%s step%s needs 'target'", type, label);
	if (s->type != STEP_RECONCILE)
		return;
	if (!SEEN(seen, STEP_KEY_COMPARE)) {
		rb_error(ctx, s->pos, "reconcile step%s needs 'compare' (value "
		    "or rows)", label);
	}
	if (!SEEN(seen, STEP_KEY_SOURCE))
		rb_error(ctx, s->pos, "reconcile step%s needs 'source'", label);
	if (!SEEN(seen, STEP_KEY_DEST))
		rb_error(ctx, s->pos, "reconcile step%s needs 'dest'", label);
	if (s->compare != COMPARE_VALUE)
		return;
	if (SEEN(seen, STEP_KEY_METHOD))
		rb_error(ctx, s->method_pos, "method: only for compare: rows "
		    "(compare: value has no rows to bisect)");
	if (SEEN(seen, STEP_KEY_BISECTION_FACTOR) ||
	    SEEN(seen, STEP_KEY_BISECTION_THRESHOLD))
		rb_error(ctx, s->bisection_pos, "bisection_factor and "
		    "bisection_threshold: only for compare: rows");
}

/* The top-level mapping. */
static void
rb_load_root(struct rb_ctx *ctx, struct rb_node *root)
{
	uint32_t seen;

	if (root->kind != RB_NODE_MAP) {
		rb_error(ctx, root->pos, "top level: expected a mapping, found "
		    "%s", rb_found(root));
		return;
	}
	seen = rb_load_map(ctx, root, root_keys, NKEYS(root_keys), 1, "runbook",
	    ctx->rb, NULL);
	if (!SEEN(seen, ROOT_CUTOVER)) {
		rb_error(ctx, root->pos, "runbook needs 'cutover: 1' (the "
		    "format version)");
	}
	if (!SEEN(seen, ROOT_NAME))
		rb_error(ctx, root->pos, "runbook needs 'name'");
	if (!SEEN(seen, ROOT_PHASES))
		rb_error(ctx, root->pos, "runbook needs 'phases'");
}

/* ------------------------------------------------- hashes and defaults */

/* Hash "<kind><count>:" (what snprintf "%c%zu:" would write). */
static void
rb_hash_head(struct sha256_ctx *c, char kind, size_t count)
{
	char head[32], *p = head + sizeof head;

	*--p = ':';
	do
		*--p = (char)('0' + count % 10);
	while ((count /= 10) > 0);
	*--p = kind;
	sha256_add(c, p, (size_t)(head + sizeof head - p));
}

/* Hash a node as written, length-prefixed so that nothing runs together. */
static void
rb_node_hash(struct sha256_ctx *c, const struct rb_node *n)
{
	size_t i;

	if (n == NULL) {
		sha256_add(c, "-", 1); /* absent */
		return;
	}
	switch (n->kind) {
	case RB_NODE_SCALAR:
		rb_hash_head(c, 's', n->len);
		sha256_add(c, n->value, n->len);
		return;
	case RB_NODE_SEQ:
	case RB_NODE_MAP:
		rb_hash_head(c, n->kind == RB_NODE_SEQ ? '[' : '{', n->nkids);
		for (i = 0; i < n->nkids; i++)
			rb_node_hash(c, n->kids[i]);
		return;
	case RB_NODE_BAD:
		sha256_add(c, "!", 1);
		return;
	}
}

/*
 * A step's hash by rule: name then value as written, in the order of
 * RB_STEP_KEYS, of the keys present (RB_HASH_PRESENT), or of every key of
 * cutover 0.1.0, absent ones too, then any later key present
 * (RB_HASH_ALL_KEYS, which is what 0.1.0 computed).
 */
static char *
rb_step_hash(struct rb_ctx *ctx, struct rb_node **vals, enum rb_hash_rule rule)
{
	struct sha256_ctx *c = sha256_begin();
	char *out = rb_arena_alloc(&ctx->rb->pool, SHA256_HEX_LEN + 1, 1);
	uint32_t done = 0;
	size_t i;

	if (rule == RB_HASH_ALL_KEYS)
		done = step_keys_hash1;
	for (i = 0; i < STEP_NKEYS; i++) {
		if (SEEN(done, i)) {
			sha256_add_field(c, step_keys[i].name);
			rb_node_hash(c, vals[i]);
		}
	}
	for (i = 0; i < STEP_NKEYS; i++) {
		if (vals[i] != NULL && !SEEN(done, i)) {
			sha256_add_field(c, step_keys[i].name);
			rb_node_hash(c, vals[i]);
		}
	}
	sha256_end(c, out);
	return out;
}

/* def_sha by the current rule, and by the rule of runs made before. */
static void
rb_step_sha(struct rb_ctx *ctx, struct rb_step *s, struct rb_node **vals)
{
	s->def_sha = rb_step_hash(ctx, vals, RB_HASH_CURRENT);
	s->def_sha_all = rb_step_hash(ctx, vals, RB_HASH_ALL_KEYS);
}

const char *
runbook_step_sha(const struct rb_step *s, int rule)
{
	return rule == RB_HASH_ALL_KEYS ? s->def_sha_all : s->def_sha;
}

/* With an entities file, the runbook's hash covers the file too. */
static void
rb_hash_entities(struct rb_ctx *ctx)
{
	struct sha256_ctx *c;

	if (ctx->no_hash || ctx->entities_text == NULL)
		return;
	c = sha256_begin();
	sha256_add(c, ctx->rb->text, ctx->rb->textlen);
	sha256_add(c, "", 1);
	sha256_add(c, ctx->entities_text, ctx->entities_len);
	sha256_end(c, ctx->rb->sha256);
	sha256_hex(ctx->entities_text, ctx->entities_len,
	    ctx->rb->entities_sha256);
}

/* Defaults that depend on other fields. */
static void
rb_fill_defaults(struct runbook *rb)
{
	size_t i;

	if (rb->shell == NULL)
		rb->shell = rb_pool_strdup(rb, "/bin/sh");
	for (i = 0; i < rb->nphases; i++) {
		if (rb->phases[i].parallel == 0)
			rb->phases[i].parallel = rb->parallel;
	}
	for (i = 0; i < rb->nsteps; i++) {
		if (rb->steps[i].timeout_ms < 0)
			rb->steps[i].timeout_ms = rb->default_timeout_ms;
	}
}

/* Add dependency d to step s unless there already (stamp[d] == s + 1). */
static void
rb_add_dep(struct rb_step *s, size_t d, size_t *stamp)
{
	if (stamp[d] == s->index + 1)
		return;
	stamp[d] = s->index + 1;
	s->deps[s->ndeps++] = d;
}

/*
 * Resolve needs into deps: the explicit needs when given (unknown ones and
 * the step itself left out: lint reports them), else the previous step of
 * the phase, or for a phase's first step every step of the previous phase.
 */
void
rb_resolve_deps(struct rb_ctx *ctx, const struct rb_index *steps)
{
	struct runbook *rb = ctx->rb;
	struct rb_step *s;
	struct rb_phase *prev = NULL;
	size_t i, j, d, *stamp = xcalloc(rb->nsteps + 1, sizeof *stamp);

	for (i = 0; i < rb->nsteps; i++) {
		s = &rb->steps[i];
		if (!s->needs_given && i == rb->phases[s->phase].first) {
			for (j = s->phase, prev = NULL; j > 0 && prev == NULL;
			    j--) {
				if (rb->phases[j - 1].nsteps != 0)
					prev = &rb->phases[j - 1];
			}
		}
		if (s->needs_given) {
			s->deps = rb_pool_calloc(rb, s->nneeds + 1,
			    sizeof *s->deps);
			for (j = 0; j < s->nneeds; j++) {
				d = rb_index_find(steps, s->needs[j]);
				if (d != SIZE_MAX && d != i)
					rb_add_dep(s, d, stamp);
			}
		} else if (i > rb->phases[s->phase].first) {
			s->deps = rb_pool_calloc(rb, 1, sizeof *s->deps);
			rb_add_dep(s, i - 1, stamp);
		} else if (prev != NULL) {
			s->deps = rb_pool_calloc(rb, prev->nsteps,
			    sizeof *s->deps);
			for (d = 0; d < prev->nsteps; d++)
				rb_add_dep(s, prev->first + d, stamp);
		}
	}
	free(stamp);
}

/* ---------------------------------------------------------------- API */

/*
 * Read path whole, up to one byte more than the limit, into *text (NUL-
 * terminated, to be freed). A regular file is read in one go into a buffer
 * of its size; anything else (a pipe) in growing pieces.
 */
int
rb_read_file(const char *path, char **text, size_t *len)
{
	struct stat st;
	size_t n = 0, cap = 65536;
	ssize_t got = 0;
	char *p;
	int fd, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_size <= RUNBOOK_MAX_SIZE)
		cap = (size_t)st.st_size + 2; /* + 1 to see the end, + NUL */
	p = xmalloc(cap);
	for (;;) {
		if (n + 1 == cap) {
			cap *= 2;
			p = xrealloc(p, cap);
		}
		got = read(fd, p + n, cap - 1 - n);
		if (got == -1 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		n += (size_t)got;
		if (n > RUNBOOK_MAX_SIZE)
			break;
	}
	if (got == -1) {
		saved = errno;
		close(fd);
		free(p);
		errno = saved;
		return -1;
	}
	close(fd);
	p[n] = '\0';
	*text = p;
	*len = n;
	return 0;
}

int
runbook_load(const char *path, struct runbook **out, struct diags *d)
{
	char *text;
	size_t len;

	*out = NULL;
	if (rb_read_file(path, &text, &len) != 0)
		return -1;
	return rb_load(path, text, len, out, d, 0);
}

int
runbook_load_unhashed(const char *path, struct runbook **out,
    struct diags *d)
{
	char *text;
	size_t len;

	*out = NULL;
	if (rb_read_file(path, &text, &len) != 0)
		return -1;
	return rb_load(path, text, len, out, d, RB_LOAD_NO_HASH);
}

/* The checks and resolutions after loading the tree. */
static void
rb_finish(struct rb_ctx *ctx)
{
	struct rb_index steps;
	struct runbook *rb = ctx->rb;

	rb_fill_defaults(rb);
	rb_index_build(&steps, rb->steps, rb->nsteps, sizeof *rb->steps,
	    offsetof(struct rb_step, id));
	rb_lint_names(ctx, &steps);
	rb_resolve_deps(ctx, &steps);
	rb_lint_cycles(ctx);
	rb_lint_vars(ctx);
	rb_lint_entities(ctx);
	rb_lint_texts(ctx);
	rb_index_free(&steps);
}

int
runbook_load_buffer(const char *name, const char *text, size_t len,
    struct runbook **out, struct diags *d)
{
	char *copy;

	if (len > RUNBOOK_MAX_SIZE)
		len = RUNBOOK_MAX_SIZE + 1; /* enough to be refused */
	copy = xmalloc(len + 1);
	if (len > 0)
		memcpy(copy, text, len);
	copy[len] = '\0';
	return rb_load(name, copy, len, out, d, 0);
}

int
runbook_check(const char *path, struct diags *d)
{
	struct runbook *rb = NULL;
	char *text;
	size_t len;
	int r;

	if (rb_read_file(path, &text, &len) != 0)
		return -1;
	r = rb_load(path, text, len, &rb, d, RB_LOAD_CHECK | RB_LOAD_NO_HASH);
	runbook_free(rb);
	return r;
}

/*
 * Load text (len bytes and a NUL, taken over: freed with the runbook or
 * here); how: RB_LOAD_CHECK (lint's own checks and warnings),
 * RB_LOAD_NO_HASH (without the hashes a run needs).
 */
static int
rb_load(const char *name, char *text, size_t len, struct runbook **out,
    struct diags *d, int how)
{
	struct rb_ctx ctx = { .file = name, .d = d, .step = SIZE_MAX,
	    .check_only = (how & RB_LOAD_CHECK) != 0,
	    .no_hash = (how & RB_LOAD_NO_HASH) != 0 };
	struct runbook *rb;
	struct rb_pos nopos = { 0, 0 };
	struct diag *hd;
	size_t i;

	*out = NULL;
	if (len > RUNBOOK_MAX_SIZE) {
		rb_error(&ctx, nopos, "runbook is larger than 4 MiB");
		free(text);
		return -1;
	}
	ctx.rb = rb = xcalloc(1, sizeof *rb);
	rb->path = rb_pool_strdup(rb, name);
	rb->text = text;
	rb->textlen = len;
	if (!ctx.no_hash)
		sha256_hex(rb->text, len, rb->sha256);
	rb->parallel = 1;
	rb->default_timeout_ms = RUNBOOK_DEFAULT_TIMEOUT_MS;

	ctx.root = rb_yaml_parse(&ctx);
	if (ctx.root != NULL) {
		for (i = 0; i < ctx.held.n; i++) {
			hd = &ctx.held.v[i];
			diags_add(d, hd->file, hd->line, hd->col, "%s",
			    hd->msg);
		}
	}
	diags_free(&ctx.held);
	if (ctx.root == NULL && ctx.errors == 0)
		rb_error(&ctx, nopos, "runbook is empty");
	else if (ctx.root != NULL && rb_is_null(ctx.root))
		rb_error(&ctx, nopos, "runbook is empty");
	else if (ctx.root != NULL) {
		rb_load_root(&ctx, ctx.root);
		if (ctx.nextstep != rb->nsteps) /* every step has its phase */
			fatalx(1, "%s: steps outside phases", name);
		rb_finish(&ctx);
		rb_hash_entities(&ctx);
	}
	rb_arena_free(&ctx.tree);
	free(ctx.lines);
	free(ctx.texts);
	free(ctx.owners);
	free(ctx.wave_pos);
	free(ctx.entities_text);
	free(ctx.refs);
	free(ctx.target_typed);
	if (ctx.errors != 0) {
		runbook_free(rb);
		return -1;
	}
	*out = rb;
	return 0;
}

void
runbook_free(struct runbook *rb)
{
	if (rb == NULL)
		return;
	free(rb->vars);
	free(rb->roles);
	free(rb->operators);
	free(rb->targets);
	free(rb->phases);
	free(rb->steps);
	free(rb->entities);
	free(rb->entity_index);
	free(rb->text);
	rb_arena_free(&rb->pool);
	free(rb);
}

struct rb_step *
runbook_find_step(const struct runbook *rb, const char *id)
{
	size_t i;

	for (i = 0; i < rb->nsteps; i++) {
		if (rb->steps[i].id != NULL && strcmp(rb->steps[i].id, id) == 0)
			return &rb->steps[i];
	}
	return NULL;
}

struct rb_entity *
runbook_entity_find(const struct runbook *rb, const char *id)
{
	size_t lo = 0, hi = rb->entity_index != NULL ? rb->nentities : 0, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((c = strcmp(rb->entity_index[mid]->id, id)) == 0)
			return rb->entity_index[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const char *
runbook_entity_var(const struct rb_entity *e, const char *name)
{
	size_t i;

	if (strcmp(name, "id") == 0)
		return e->id;
	if (strcmp(name, "title") == 0)
		return e->title != NULL ? e->title : "";
	if (strcmp(name, "wave") == 0)
		return e->wave != NULL ? e->wave : "";
	for (i = 0; i < e->nvars; i++) {
		if (strcmp(e->vars[i].name, name) == 0)
			return e->vars[i].value;
	}
	return NULL;
}

int
runbook_wave_index(const struct runbook *rb, const char *wave)
{
	size_t i;

	for (i = 0; wave != NULL && i < rb->nwaves; i++) {
		if (strcmp(rb->waves[i], wave) == 0)
			return (int)i;
	}
	return -1;
}

int
runbook_has_lanes(const struct runbook *rb)
{
	size_t i;

	for (i = 0; i < rb->nphases; i++) {
		if (rb->phases[i].for_each)
			return 1;
	}
	return 0;
}

int
runbook_instance_parse(const char *name, char **step, char **entity)
{
	const char *at = strchr(name, '@');
	char *s, *e = NULL;

	s = at != NULL ? xstrndup(name, (size_t)(at - name)) : xstrdup(name);
	if (at != NULL)
		e = xstrdup(at + 1);
	if (!rb_valid_id(s) || (e != NULL && !rb_valid_id(e))) {
		free(s);
		free(e);
		return -1;
	}
	*step = s;
	*entity = e;
	return e != NULL;
}

struct rb_phase *
runbook_find_phase(const struct runbook *rb, const char *id)
{
	size_t i;

	for (i = 0; i < rb->nphases; i++) {
		if (rb->phases[i].id != NULL &&
		    strcmp(rb->phases[i].id, id) == 0)
			return &rb->phases[i];
	}
	return NULL;
}

struct rb_var *
runbook_find_var(const struct runbook *rb, const char *name)
{
	size_t i;

	for (i = 0; i < rb->nvars; i++) {
		if (strcmp(rb->vars[i].name, name) == 0)
			return &rb->vars[i];
	}
	return NULL;
}

struct rb_role *
runbook_find_role(const struct runbook *rb, const char *name)
{
	size_t i;

	for (i = 0; i < rb->nroles; i++) {
		if (strcmp(rb->roles[i].name, name) == 0)
			return &rb->roles[i];
	}
	return NULL;
}

int
runbook_operator_is(const struct runbook *rb, const char *name,
    const char *db)
{
	size_t i, j;

	for (i = 0; i < rb->noperators; i++) {
		if (strcmp(rb->operators[i].name, name) != 0)
			continue;
		for (j = 0; j < rb->operators[i].nusers; j++) {
			if (strcmp(rb->operators[i].users[j], db) == 0)
				return 1;
		}
	}
	return 0;
}

const char *
runbook_operator_of(const struct runbook *rb, const char *db)
{
	const char *found = NULL;
	size_t i;

	for (i = 0; i < rb->noperators; i++) {
		if (!runbook_operator_is(rb, rb->operators[i].name, db))
			continue;
		if (found != NULL)
			return NULL;
		found = rb->operators[i].name;
	}
	return found;
}

int
runbook_role_has(const struct rb_role *r, const char *operator)
{
	size_t i;

	for (i = 0; r != NULL && i < r->nmembers; i++) {
		if (strcmp(r->members[i], operator) == 0)
			return 1;
	}
	return 0;
}

const char *
step_type_name(enum step_type t)
{
	if ((int)t < 0 || t >= STEP_NTYPES)
		return "unknown";
	return step_type_names[t];
}
