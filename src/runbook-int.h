/*
 * runbook-int.h - shared between the runbook loader (runbook.c) and its
 * semantic checks (runbook-lint.c). Not for other modules.
 *
 * The loader parses YAML into a tree of struct rb_node (with positions and
 * limits enforced), loads the tree into a struct runbook checking the shape
 * and value of every field (each step as soon as its mapping is parsed, the
 * rest once the whole file is), and records in a struct rb_ctx what lint needs
 * to check afterwards: every text field (for ${var}) and every name that
 * refers to something else (target, step, role, variable), with positions.
 */
#ifndef CUTOVER_RUNBOOK_INT_H
#define CUTOVER_RUNBOOK_INT_H

#include <stddef.h>
#include <stdint.h>

#include "runbook.h"

enum rb_node_kind {
	RB_NODE_SCALAR,
	RB_NODE_SEQ,
	RB_NODE_MAP,
	RB_NODE_BAD,    /* an alias, already reported: ignored by the loader */
	RB_NODE_LOADED, /* a step loaded as soon as it was parsed */
};

/*
 * A node of the tree. Kept small: a 10,000-step runbook has some 130,000 of
 * them, and lint's time goes largely into touching the memory they take.
 */
struct rb_node {
	unsigned char kind;  /* enum rb_node_kind */
	unsigned char style; /* yaml_scalar_style_t */
	unsigned char dup;   /* a mapping key seen before in its mapping */
	unsigned char oneline; /* scalar: starts and ends on the same line */
	uint32_t len;        /* scalar: bytes of value */
	uint32_t nkids;      /* collections: number of kids */
	struct rb_pos pos;
	char *value; /* scalar, NUL-terminated: keys in the tree, values in
	              * the runbook's pool */
	struct rb_node **kids; /* sequence items; mapping key, value, ... */
};

enum rb_ref_kind {
	RB_REF_TARGET,        /* step target: */
	RB_REF_SOURCE,        /* reconcile source: target: */
	RB_REF_DEST,          /* reconcile dest: target: */
	RB_REF_NEED,          /* an entry of needs: */
	RB_REF_APPROVER,      /* an entry of approvers: */
	RB_REF_ROLLBACK_ROLE, /* an entry of settings.rollback_roles: */
	RB_REF_SECRET,        /* an entry of secrets: */
	RB_REF_EVIDENCE,      /* an entry of evidence: */
	RB_REF_JUMP,          /* an entry of an ssh target's jump: (step:
	                         the target's index) */
	RB_REF_LANE,          /* a step key that needs a for_each phase */
};

/* What a text field belongs to, for ${entity.*}. */
enum rb_owner_kind {
	RB_OWNER_NONE, /* the runbook, a phase */
	RB_OWNER_STEP,
	RB_OWNER_TARGET,
	RB_OWNER_VAR,
	RB_OWNER_NOTIFY, /* a notify: command: ${event.*} */
};
struct rb_owner {
	unsigned char kind; /* enum rb_owner_kind */
	size_t index;       /* of the step, target or var */
};

struct rb_ref {
	enum rb_ref_kind kind;
	const char *name; /* owned by the runbook (secrets: by the tree) */
	size_t step;      /* index of the step it belongs to, if any */
	int typed;        /* the step's type is known */
	struct rb_pos pos;
};

/* A sorted look-up table of names to indexes. */
struct rb_index_entry {
	const char *name;
	size_t index;
};
struct rb_index {
	struct rb_index_entry *v;
	size_t n;
};

struct rb_text_cursor {
	const struct rb_node *node;
	size_t verbatim; /* bytes of the value found as they are in the file */
	int quoted;
	size_t offset;   /* last offset converted */
	size_t chars;    /* characters before it */
};

/* How rb_load loads (flags). */
#define RB_LOAD_CHECK 0x1   /* lint: its checks and warnings too */
#define RB_LOAD_NO_HASH 0x2 /* without the hashes only a run needs */

struct rb_ctx {
	const char *file;
	int check_only; /* lint: its own checks and warnings */
	int no_hash;    /* no hashes (lint, listing): nothing is run */
	struct diags *d;
	size_t errors;
	struct runbook *rb;
	struct rb_node *root;
	struct rb_chunk *tree; /* the nodes and their lists of kids */
	struct diags held; /* errors in steps loaded while parsing */
	int holding;       /* report into held */
	size_t phases;     /* phases seen while parsing */
	size_t nextstep;   /* first step of the next phase to load */
	size_t stepcap;    /* room in rb->steps */
	uint32_t *lines; /* offset of each line in rb->text, built lazily */
	size_t nlines;

	struct rb_node *texts; /* copies of text fields to scan for ${var} */
	struct rb_owner *owners; /* of each text */
	size_t ntexts;
	struct rb_owner owner;   /* of the texts being loaded */
	struct rb_ref *refs;
	size_t nrefs;
	size_t suggestions;          /* "did you mean" searches in lint */
	unsigned char *target_typed; /* per target: its type is known */
	size_t step;                 /* step being loaded */
	int step_typed;              /* its type is known */
	enum rb_ref_kind query_ref;  /* source or dest being loaded */

	int entities_given;        /* entities: is in the runbook */
	struct rb_pos *wave_pos;   /* per entity: of its wave */
	size_t entitycap;          /* room in rb->entities and wave_pos */
	int too_many;              /* RUNBOOK_MAX_ENTITIES reached, reported */
	char *entities_text;       /* the entities file, for the hash */
	size_t entities_len;
};

/* runbook.c */
/* Memory handed out in order from a list of chunks, released at once. */
void *rb_arena_alloc(struct rb_chunk **, size_t size, size_t align);
void rb_arena_free(struct rb_chunk **);
/* A copy of s in the runbook's pool. */
char *rb_pool_strdup(struct runbook *, const char *s);
/* n zeroed objects of size bytes from the runbook's pool. */
void *rb_pool_calloc(struct runbook *, size_t n, size_t size);
void rb_error(struct rb_ctx *, struct rb_pos, const char *, ...)
    __attribute__((format(printf, 3, 4)));
/* A printable, shortened copy of s, valid until four more calls. */
const char *rb_short(const char *s);
/* The closest of n names to word (edit distance <= 2, or a prefix), or NULL. */
const char *rb_suggest(const char *word, const char *const *names, size_t n);
/* Positions of offsets in a scalar (references to ${var}), in increasing
 * order for linear time: rb_text_begin, then rb_text_pos for each. */
void rb_text_begin(struct rb_ctx *, struct rb_text_cursor *,
    const struct rb_node *);
struct rb_pos rb_text_pos(struct rb_text_cursor *, size_t offset);
/* Index n structs of size stride at base by the string at name_off. */
void rb_index_build(struct rb_index *, const void *base, size_t n,
    size_t stride, size_t name_off);
/* The lowest index with that name, or SIZE_MAX. */
size_t rb_index_find(const struct rb_index *, const char *);
void rb_index_free(struct rb_index *);
/* Read path whole, up to one byte past RUNBOOK_MAX_SIZE, NUL-terminated
 * (the caller frees *text); -1 with errno on an error. */
int rb_read_file(const char *path, char **text, size_t *len);
/* Resolve every step's needs (or the default rule) into deps. */
void rb_resolve_deps(struct rb_ctx *, const struct rb_index *steps);

/* runbook-entity.c */
/* A new zeroed entity at the end of rb->entities; NULL past the limit
 * (reported at pos). */
struct rb_entity *rb_entity_new(struct rb_ctx *, struct rb_pos pos);
/* entities: {file: PATH}: read the CSV file named by node n. */
void rb_entities_file(struct rb_ctx *, const struct rb_node *n);
/* Is s a valid id / name ([a-z0-9][a-z0-9._-]*, [A-Za-z0-9_][A-Za-z0-9_.-]*)? */
int rb_valid_id(const char *s);
int rb_valid_name(const char *s);

/* runbook-lint.c, called in this order once the tree is loaded. */
/* Duplicate ids; every recorded reference (targets, needs, roles, secrets),
 * resolving step and query targets and marking secret vars. */
void rb_lint_names(struct rb_ctx *, const struct rb_index *steps);
/* Cycles in the resolved dependencies. */
void rb_lint_cycles(struct rb_ctx *);
/* Cycles and too deep nesting among vars referring to vars. */
void rb_lint_vars(struct rb_ctx *);
/* Entities, waves and for_each phases: duplicate or unlisted waves and
 * entity ids, keys that need a for_each phase; builds runbook.waves and
 * the entity index. Before rb_lint_texts. */
void rb_lint_entities(struct rb_ctx *);
/* Unknown ${var}, ${entity.*} out of place and bad ${env:NAME} in every
 * recorded text field. */
void rb_lint_texts(struct rb_ctx *);

#endif
