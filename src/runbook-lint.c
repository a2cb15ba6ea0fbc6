/*
 * runbook-lint.c - the checks that need the whole runbook loaded: duplicate
 * ids, references to targets, steps, roles and variables, cycles in needs
 * and in vars, and unknown ${var} in text fields. Lint also warns (without
 * failing) about a secret pasted into SQL text and a postgres target a
 * live run would refuse (pg_conninfo_tls).
 *
 * Everything here must stay near linear in the size of the runbook: a 4 MiB
 * file can hold a hundred thousand steps, so look-ups go through sorted
 * indexes and graphs are walked without recursion.
 */
#include "config.h"

#include <ctype.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "expand.h"
#include "notify-event.h"
#include "odbc-connstr.h"
#include "pg.h"
#include "runbook-int.h"
#include "runbook.h"
#include "ssh-target.h"
#include "xmalloc.h"

#define LINT_VAR_DEPTH 16  /* as expand.c */
#define LINT_CYCLE_SHOWN 20 /* names shown in a cycle message */
#define LINT_SUGGESTIONS 100 /* unknown names that get a "did you mean" */

/* A directed graph on n nodes; adj[i] lists the nodes i needs. */
struct lint_graph {
	size_t n;
	size_t **adj;
	size_t *nadj;
};

struct lint_vars {
	const struct rb_index *vars;
	struct lint_graph *g;
	size_t from;
	size_t *stamp; /* stamp[to] == from + 1: edge from -> to added */
	size_t cap;    /* of g->adj[from] */
};

struct lint_text;
static struct rb_pos lint_text_pos(struct lint_text *, size_t);

struct lint_text {
	struct rb_ctx *ctx;
	const struct rb_node *node;
	int begun; /* the cursor is set up only once an error needs it */
	struct rb_text_cursor cursor;
	const struct rb_index *vars;
	/* ${entity.*} */
	struct rb_owner owner;       /* of the text */
	int entity_mode;             /* entities: or a for_each phase given */
	struct rb_index entity_vars; /* names: index is how many entities */
	struct rb_pos *target_pos;   /* per target: its first ${entity.*} */
	unsigned char *target_uses;  /* per target: has ${entity.*} */
	int sql; /* the text is SQL sent to a server */
};

static const char *lint_best(struct rb_ctx *, const struct rb_index *,
    const char *);
static const char *lint_hint(struct rb_ctx *, const struct rb_index *,
    const char *);
static void lint_duplicates(struct rb_ctx *, const struct rb_index *,
    const char *, const struct rb_pos *(*)(const struct runbook *, size_t));
static const struct rb_pos *lint_step_pos(const struct runbook *, size_t);
static const struct rb_pos *lint_phase_pos(const struct runbook *, size_t);
static void lint_methods(struct rb_ctx *);
static const char *lint_side_hashless(const struct rb_query *);
static void lint_target(struct rb_ctx *, const struct rb_index *,
    const struct rb_ref *);
static void lint_need(struct rb_ctx *, const struct rb_index *,
    const struct rb_ref *);
static void lint_role(struct rb_ctx *, const struct rb_index *,
    const struct rb_ref *);
static void lint_secret(struct rb_ctx *, const struct rb_index *,
    const struct rb_ref *);
static size_t *lint_graph_order(const struct lint_graph *, size_t *);
static void lint_graph_cycles(struct rb_ctx *, const struct lint_graph *,
    const char *, const char *(*)(const struct runbook *, size_t),
    const struct rb_pos *(*)(const struct runbook *, size_t));
static void lint_report_cycle(struct rb_ctx *, const struct lint_graph *,
    const unsigned char *, size_t, const char *,
    const char *(*)(const struct runbook *, size_t),
    const struct rb_pos *(*)(const struct runbook *, size_t));
static size_t lint_next(const struct lint_graph *, const unsigned char *,
    size_t);
static const char *lint_step_name(const struct runbook *, size_t);
static const char *lint_var_name(const struct runbook *, size_t);
static const struct rb_pos *lint_var_pos(const struct runbook *, size_t);
static void lint_var_depths(struct rb_ctx *, const struct lint_graph *);
static void lint_var_ref(const char *, size_t, size_t, void *);
static void lint_text_ref(const char *, size_t, size_t, void *);
static int lint_env_name(const char *, size_t);
static void lint_evidence(struct rb_ctx *, const struct rb_index *,
    const struct rb_ref *);
static int lint_entity_compare(const void *, const void *);
static int lint_size_compare(const void *, const void *);
static int lint_string_compare(const void *, const void *);
static void lint_entity_index(struct rb_ctx *);
static void lint_entity_waves(struct rb_ctx *);
static void lint_waves_found(struct runbook *);
static void lint_entity_lanes(struct rb_ctx *);
static void lint_entity_vars_index(const struct runbook *,
    struct rb_index *);
static void lint_entity_ref(struct lint_text *, const char *, size_t);
static void lint_event_ref(struct lint_text *, const char *, size_t, size_t);
static void lint_entity_field(struct lint_text *, const char *, size_t);
static void lint_entity_targets(struct rb_ctx *, const struct lint_text *);
static void lint_odbc(struct rb_ctx *);
static int lint_odbc_var(struct rb_ctx *, const char *, char **);
static void lint_warn(struct rb_ctx *, struct rb_pos, const char *, ...)
    __attribute__((format(printf, 3, 4)));
static const char **lint_sql_texts(const struct runbook *, size_t *);
static int lint_ptr_compare(const void *, const void *);
static void lint_tls(struct rb_ctx *);
static void lint_jump(struct rb_ctx *, const struct rb_index *,
    const struct rb_ref *);
static void lint_jump_loops(struct rb_ctx *);
static void lint_ssh(struct rb_ctx *);
static void lint_ssh_target(struct rb_ctx *, const struct rb_target *);
static int lint_ssh_static(const struct rb_target *, int);

/*
 * The name in idx closest to word, or NULL. Only the first LINT_SUGGESTIONS
 * unknown names get a suggestion: a file with a million of them must not
 * take hours.
 */
static const char *
lint_best(struct rb_ctx *ctx, const struct rb_index *idx, const char *word)
{
	const char **names, *best;
	size_t i;

	if (idx->n == 0 || idx->n > 1000 ||
	    ctx->suggestions++ >= LINT_SUGGESTIONS)
		return NULL;
	names = xcalloc(idx->n, sizeof *names);
	for (i = 0; i < idx->n; i++)
		names[i] = idx->v[i].name;
	best = rb_suggest(word, names, idx->n);
	free(names);
	return best;
}

/* " (did you mean 'x'?)" for the name in idx closest to word, or "". */
static const char *
lint_hint(struct rb_ctx *ctx, const struct rb_index *idx, const char *word)
{
	static char out[128];
	const char *best = lint_best(ctx, idx, word);

	if (best != NULL)
		snprintf(out, sizeof out, " (did you mean '%s'?)",
		    rb_short(best));
	else
		out[0] = '\0';
	return out;
}

static const struct rb_pos *
lint_step_pos(const struct runbook *rb, size_t i)
{
	return &rb->steps[i].pos;
}

static const struct rb_pos *
lint_phase_pos(const struct runbook *rb, size_t i)
{
	return &rb->phases[i].pos;
}

static const char *
lint_step_name(const struct runbook *rb, size_t i)
{
	return rb->steps[i].id != NULL ? rb->steps[i].id : "?";
}

static const char *
lint_var_name(const struct runbook *rb, size_t i)
{
	return rb->vars[i].name;
}

static const struct rb_pos *
lint_var_pos(const struct runbook *rb, size_t i)
{
	return &rb->vars[i].pos;
}

static int
lint_size_compare(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

static int
lint_string_compare(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Report every id given again after its first use (noun: "step id"). */
static void
lint_duplicates(struct rb_ctx *ctx, const struct rb_index *idx,
    const char *noun, const struct rb_pos *(*pos)(const struct runbook *,
    size_t))
{
	size_t i, first = 0;

	for (i = 1; i < idx->n; i++) {
		if (strcmp(idx->v[i].name, idx->v[first].name) != 0) {
			first = i;
			continue;
		}
		rb_error(ctx, *pos(ctx->rb, idx->v[i].index), "duplicate %s "
		    "'%s' (first at line %u)", noun, rb_short(idx->v[i].name),
		    pos(ctx->rb, idx->v[first].index)->line);
	}
}

/* How lint names a target type, by enum target_type. */
static const char *const lint_target_article[TARGET_NTYPES] = { "an ssh",
	"a postgres", "an odbc" };
/* The target types a step or a reconcile side may use. */
#define LINT_T(t) (1u << (t))
#define LINT_SQL_TARGETS (LINT_T(TARGET_POSTGRES) | LINT_T(TARGET_ODBC))
#define LINT_SIDE_TARGETS (LINT_T(TARGET_POSTGRES) | LINT_T(TARGET_ODBC))

/* Resolve a step's or a reconcile query's target and check its type. */
static void
lint_target(struct rb_ctx *ctx, const struct rb_index *targets,
    const struct rb_ref *r)
{
	struct runbook *rb = ctx->rb;
	struct rb_step *s = &rb->steps[r->step];
	struct rb_target *t;
	unsigned want;
	const char *what, *wanted;
	size_t i;

	if ((i = rb_index_find(targets, r->name)) == SIZE_MAX) {
		rb_error(ctx, r->pos, "unknown target '%s'%s",
		    rb_short(r->name), lint_hint(ctx, targets, r->name));
		return;
	}
	t = &rb->targets[i];
	if (r->kind == RB_REF_TARGET) {
		s->target = t;
		want = s->type == STEP_SSH ? LINT_T(TARGET_SSH) :
		    LINT_SQL_TARGETS;
		what = s->type == STEP_SSH ? "ssh step" : "sql step";
		wanted = s->type == STEP_SSH ? "an ssh" :
		    "a postgres or an odbc";
	} else {
		if (r->kind == RB_REF_SOURCE)
			s->source.target = t;
		else
			s->dest.target = t;
		want = LINT_SIDE_TARGETS;
		wanted = "a postgres or an odbc";
		what = r->kind == RB_REF_SOURCE ? "source" : "dest";
	}
	if (!ctx->target_typed[i] || (r->kind == RB_REF_TARGET && !r->typed))
		return; /* already reported as unknown type */
	if ((want & LINT_T(t->type)) == 0) {
		rb_error(ctx, r->pos, "%s needs %s target; '%s' is %s target",
		    what, wanted, rb_short(t->name),
		    lint_target_article[t->type]);
	}
}

/* Why side q cannot hash key ranges in its server, or NULL if it can
 * (or its target is unknown, reported already). */
static const char *
lint_side_hashless(const struct rb_query *q)
{
	if (q->file != NULL)
		return "a file";
	if (q->target != NULL && q->target->type != TARGET_POSTGRES)
		return "an odbc target";
	return NULL;
}

/* method: checksum needs both sides on postgres targets. */
static void
lint_methods(struct rb_ctx *ctx)
{
	const struct rb_step *s;
	const char *why;
	size_t i;
	int side;

	for (i = 0; i < ctx->rb->nsteps; i++) {
		s = &ctx->rb->steps[i];
		if (s->type != STEP_RECONCILE || s->method != RB_METHOD_CHECKSUM)
			continue;
		for (side = 0; side < 2; side++) {
			why = lint_side_hashless(side == 0 ? &s->source :
			    &s->dest);
			if (why == NULL)
				continue;
			rb_error(ctx, s->method_pos, "method: checksum needs "
			    "both sides on postgres targets (%s is %s); use "
			    "stream or auto", side == 0 ? "source" : "dest", why);
			break;
		}
	}
}

/* Check one entry of needs. */
static void
lint_need(struct rb_ctx *ctx, const struct rb_index *steps,
    const struct rb_ref *r)
{
	const struct rb_step *s = &ctx->rb->steps[r->step];

	if (s->id != NULL && strcmp(s->id, r->name) == 0) {
		rb_error(ctx, r->pos, "step '%s' needs itself",
		    rb_short(r->name));
	} else if (rb_index_find(steps, r->name) == SIZE_MAX) {
		rb_error(ctx, r->pos, "unknown step '%s' in needs%s",
		    rb_short(r->name), lint_hint(ctx, steps, r->name));
	}
}

/* Check a role named in approvers or rollback_roles. */
static void
lint_role(struct rb_ctx *ctx, const struct rb_index *roles,
    const struct rb_ref *r)
{
	if (rb_index_find(roles, r->name) != SIZE_MAX)
		return;
	rb_error(ctx, r->pos, "unknown role '%s' in %s%s", rb_short(r->name),
	    r->kind == RB_REF_APPROVER ? "approvers" : "rollback_roles",
	    lint_hint(ctx, roles, r->name));
}

/* Check a var named in secrets and mark it secret. */
static void
lint_secret(struct rb_ctx *ctx, const struct rb_index *vars,
    const struct rb_ref *r)
{
	size_t i = rb_index_find(vars, r->name);

	if (i != SIZE_MAX) {
		ctx->rb->vars[i].secret = 1;
		return;
	}
	rb_error(ctx, r->pos, "unknown variable '%s' in secrets%s",
	    rb_short(r->name), lint_hint(ctx, vars, r->name));
}

/* Check one entry of evidence. */
static void
lint_evidence(struct rb_ctx *ctx, const struct rb_index *steps,
    const struct rb_ref *r)
{
	if (rb_index_find(steps, r->name) == SIZE_MAX) {
		rb_error(ctx, r->pos, "unknown step '%s' in evidence%s",
		    rb_short(r->name), lint_hint(ctx, steps, r->name));
	}
}

void
rb_lint_names(struct rb_ctx *ctx, const struct rb_index *steps)
{
	struct runbook *rb = ctx->rb;
	struct rb_index phases, targets, roles, vars;
	const struct rb_ref *r;
	size_t i;

	rb_index_build(&phases, rb->phases, rb->nphases, sizeof *rb->phases,
	    offsetof(struct rb_phase, id));
	rb_index_build(&targets, rb->targets, rb->ntargets,
	    sizeof *rb->targets, offsetof(struct rb_target, name));
	rb_index_build(&roles, rb->roles, rb->nroles, sizeof *rb->roles,
	    offsetof(struct rb_role, name));
	rb_index_build(&vars, rb->vars, rb->nvars, sizeof *rb->vars,
	    offsetof(struct rb_var, name));
	lint_duplicates(ctx, steps, "step id", lint_step_pos);
	lint_duplicates(ctx, &phases, "phase id", lint_phase_pos);
	for (i = 0; i < ctx->nrefs; i++) {
		r = &ctx->refs[i];
		switch (r->kind) {
		case RB_REF_TARGET:
		case RB_REF_SOURCE:
		case RB_REF_DEST:
			lint_target(ctx, &targets, r);
			break;
		case RB_REF_NEED:
			lint_need(ctx, steps, r);
			break;
		case RB_REF_APPROVER:
		case RB_REF_ROLLBACK_ROLE:
			lint_role(ctx, &roles, r);
			break;
		case RB_REF_SECRET:
			lint_secret(ctx, &vars, r);
			break;
		case RB_REF_EVIDENCE:
			lint_evidence(ctx, steps, r);
			break;
		case RB_REF_JUMP:
			lint_jump(ctx, &targets, r);
			break;
		case RB_REF_LANE:
			break; /* rb_lint_entities */
		}
	}
	lint_jump_loops(ctx);
	lint_methods(ctx);
	rb_index_free(&phases);
	rb_index_free(&targets);
	rb_index_free(&roles);
	rb_index_free(&vars);
}

/*
 * The nodes in an order where each comes after everything it needs (Kahn's
 * algorithm). Nodes left out are on a cycle or need one.
 */
static size_t *
lint_graph_order(const struct lint_graph *g, size_t *norder)
{
	size_t *count, *rstart, *rlist, *fill, *order, i, j, k, n = 0, head;

	count = xcalloc(g->n, sizeof *count);
	rstart = xcalloc(g->n + 1, sizeof *rstart);
	for (i = 0; i < g->n; i++) {
		count[i] = g->nadj[i];
		for (j = 0; j < g->nadj[i]; j++)
			rstart[g->adj[i][j] + 1]++;
	}
	for (i = 0; i < g->n; i++)
		rstart[i + 1] += rstart[i];
	rlist = xcalloc(rstart[g->n] + 1, sizeof *rlist);
	fill = xcalloc(g->n + 1, sizeof *fill);
	for (i = 0; i < g->n; i++) {
		for (j = 0; j < g->nadj[i]; j++) {
			k = g->adj[i][j];
			rlist[rstart[k] + fill[k]++] = i;
		}
	}
	order = xcalloc(g->n + 1, sizeof *order);
	for (i = 0; i < g->n; i++) {
		if (count[i] == 0)
			order[n++] = i;
	}
	for (head = 0; head < n; head++) {
		i = order[head];
		for (j = rstart[i]; j < rstart[i + 1]; j++) {
			if (--count[rlist[j]] == 0)
				order[n++] = rlist[j];
		}
	}
	free(count);
	free(rstart);
	free(rlist);
	free(fill);
	*norder = n;
	return order;
}

/* The first node that i needs and that is left (on or before a cycle). */
static size_t
lint_next(const struct lint_graph *g, const unsigned char *left, size_t i)
{
	size_t j;

	for (j = 0; j < g->nadj[i]; j++) {
		if (left[g->adj[i][j]])
			return g->adj[i][j];
	}
	return SIZE_MAX; /* not reached for a node left */
}

/* Report the cycle through node start, beginning at its lowest node. */
static void
lint_report_cycle(struct rb_ctx *ctx, const struct lint_graph *g,
    const unsigned char *left, size_t start, const char *what,
    const char *(*name)(const struct runbook *, size_t),
    const struct rb_pos *(*pos)(const struct runbook *, size_t))
{
	struct buf b = { 0 };
	size_t i, low = start, n = 0;

	i = start;
	do {
		if (i < low)
			low = i;
		i = lint_next(g, left, i);
	} while (i != start);
	buf_printf(&b, "cycle in %s: ", what);
	i = low;
	do {
		if (n++ == LINT_CYCLE_SHOWN) {
			buf_adds(&b, "... -> ");
			break;
		}
		buf_printf(&b, "%s -> ", rb_short(name(ctx->rb, i)));
		i = lint_next(g, left, i);
	} while (i != low);
	buf_adds(&b, rb_short(name(ctx->rb, low)));
	rb_error(ctx, *pos(ctx->rb, low), "%s", buf_str(&b));
	buf_free(&b);
}

/*
 * Report the cycles of g. From each node left by lint_graph_order, follow
 * needs among the nodes left: the walk must come back to a node, and when
 * that node was first met on this same walk, a new cycle is closed.
 */
static void
lint_graph_cycles(struct rb_ctx *ctx, const struct lint_graph *g,
    const char *what, const char *(*name)(const struct runbook *, size_t),
    const struct rb_pos *(*pos)(const struct runbook *, size_t))
{
	unsigned char *left;
	size_t *order, *walk, norder, i, j, w = 0;

	order = lint_graph_order(g, &norder);
	left = xcalloc(g->n + 1, 1);
	walk = xcalloc(g->n + 1, sizeof *walk);
	memset(left, 1, g->n);
	for (i = 0; i < norder; i++)
		left[order[i]] = 0;
	for (i = 0; i < g->n; i++) {
		if (!left[i] || walk[i] != 0)
			continue;
		w++;
		for (j = i; walk[j] == 0; j = lint_next(g, left, j))
			walk[j] = w;
		if (walk[j] == w)
			lint_report_cycle(ctx, g, left, j, what, name, pos);
	}
	free(order);
	free(left);
	free(walk);
}

void
rb_lint_cycles(struct rb_ctx *ctx)
{
	struct runbook *rb = ctx->rb;
	struct lint_graph g;
	size_t i;

	g.n = rb->nsteps;
	g.adj = xcalloc(g.n + 1, sizeof *g.adj);
	g.nadj = xcalloc(g.n + 1, sizeof *g.nadj);
	for (i = 0; i < g.n; i++) {
		g.adj[i] = rb->steps[i].deps;
		g.nadj[i] = rb->steps[i].ndeps;
	}
	lint_graph_cycles(ctx, &g, "needs", lint_step_name, lint_step_pos);
	free(g.adj);
	free(g.nadj);
}

/* expand_scan callback: add an edge to the var named, if it is one. */
static void
lint_var_ref(const char *name, size_t len, size_t offset, void *arg)
{
	struct lint_vars *a = arg;
	struct lint_graph *g = a->g;
	size_t to;
	char *copy;

	if (len >= 4 && strncmp(name, "env:", 4) == 0)
		return;
	copy = xstrndup(name, len);
	to = rb_index_find(a->vars, copy);
	free(copy);
	if (to == SIZE_MAX || a->stamp[to] == a->from + 1)
		return;
	a->stamp[to] = a->from + 1;
	if (g->nadj[a->from] == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 4;
		g->adj[a->from] = xreallocarray(g->adj[a->from], a->cap,
		    sizeof **g->adj);
	}
	g->adj[a->from][g->nadj[a->from]++] = to;
}

/*
 * depth[i]: vars in the longest chain of references from var i. Report the
 * heads of the chains that are too deep, not every var along them.
 */
static void
lint_var_depths(struct rb_ctx *ctx, const struct lint_graph *g)
{
	struct runbook *rb = ctx->rb;
	size_t *order, *depth, norder, i, j, k, d;
	unsigned char *deep;

	order = lint_graph_order(g, &norder);
	depth = xcalloc(g->n + 1, sizeof *depth);
	deep = xcalloc(g->n + 1, 1);
	for (i = 0; i < norder; i++) {
		k = order[i];
		for (d = 0, j = 0; j < g->nadj[k]; j++) {
			if (depth[g->adj[k][j]] > d)
				d = depth[g->adj[k][j]];
		}
		depth[k] = d + 1;
		for (j = 0; depth[k] > LINT_VAR_DEPTH && j < g->nadj[k]; j++)
			deep[g->adj[k][j]] = 1;
	}
	for (i = 0; i < norder; i++) {
		k = order[i];
		if (depth[k] > LINT_VAR_DEPTH && !deep[k]) {
			rb_error(ctx, rb->vars[k].pos, "variable '%s' nests "
			    "references to variables more than %d deep",
			    rb_short(rb->vars[k].name), LINT_VAR_DEPTH);
		}
	}
	free(order);
	free(depth);
	free(deep);
}

void
rb_lint_vars(struct rb_ctx *ctx)
{
	struct runbook *rb = ctx->rb;
	struct rb_index vars;
	struct lint_graph g;
	struct lint_vars arg = { .vars = &vars, .g = &g };
	size_t i;

	rb_index_build(&vars, rb->vars, rb->nvars, sizeof *rb->vars,
	    offsetof(struct rb_var, name));
	g.n = rb->nvars;
	g.adj = xcalloc(g.n + 1, sizeof *g.adj);
	g.nadj = xcalloc(g.n + 1, sizeof *g.nadj);
	arg.stamp = xcalloc(g.n + 1, sizeof *arg.stamp);
	for (arg.from = 0; arg.from < g.n; arg.from++) {
		arg.cap = 0;
		expand_scan(rb->vars[arg.from].value, lint_var_ref, &arg);
	}
	free(arg.stamp);
	lint_graph_cycles(ctx, &g, "vars", lint_var_name, lint_var_pos);
	lint_var_depths(ctx, &g);
	for (i = 0; i < g.n; i++)
		free(g.adj[i]);
	free(g.adj);
	free(g.nadj);
	rb_index_free(&vars);
}

/* Is this a valid environment variable name? */
static int
lint_env_name(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || isdigit((unsigned char)s[0]))
		return 0;
	for (i = 0; i < len; i++) {
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return 0;
	}
	return 1;
}

/* Where offset of the text being checked is; the cursor starts lazily,
 * since finding positions costs more than checking names. */
static struct rb_pos
lint_text_pos(struct lint_text *t, size_t offset)
{
	if (!t->begun) {
		rb_text_begin(t->ctx, &t->cursor, t->node);
		t->begun = 1;
	}
	return rb_text_pos(&t->cursor, offset);
}

/* expand_scan callback: report an unknown ${var} or a bad ${env:NAME}. */
static void
lint_text_ref(const char *name, size_t len, size_t offset, void *arg)
{
	struct lint_text *t = arg;
	struct rb_pos pos;
	const char *best;
	char small[64], *copy = small;
	size_t i;

	if (len < sizeof small) {
		memcpy(small, name, len);
		small[len] = '\0';
	} else
		copy = xstrndup(name, len);
	if (len >= 4 && strncmp(name, "env:", 4) == 0) {
		if (!lint_env_name(name + 4, len - 4)) {
			pos = lint_text_pos(t, offset);
			rb_error(t->ctx, pos, "invalid environment variable "
			    "name in ${%s}", rb_short(copy));
		}
	} else if (len > 6 && strncmp(name, "event.", 6) == 0 &&
	    t->owner.kind == RB_OWNER_NOTIFY) {
		lint_event_ref(t, name + 6, len - 6, offset);
	} else if (len > 7 && strncmp(name, "entity.", 7) == 0 &&
	    (t->entity_mode || rb_index_find(t->vars, copy) == SIZE_MAX)) {
		lint_entity_ref(t, copy + 7, offset);
	} else if ((i = rb_index_find(t->vars, copy)) != SIZE_MAX) {
		if (t->sql && t->ctx->rb->vars[i].secret)
			lint_warn(t->ctx, lint_text_pos(t, offset), "secret "
			    "${%s} in SQL text: the server shows it in "
			    "pg_stat_activity and may log it", rb_short(copy));
	} else {
		pos = lint_text_pos(t, offset);
		if ((best = lint_best(t->ctx, t->vars, copy)) != NULL) {
			rb_error(t->ctx, pos, "unknown variable ${%s} (did you "
			    "mean ${%s}?)", rb_short(copy), rb_short(best));
		} else {
			rb_error(t->ctx, pos, "unknown variable ${%s}",
			    rb_short(copy));
		}
	}
	if (copy != small)
		free(copy);
}

/* ${event.FIELD} in a notify: command: FIELD must be one of an event's. */
static void
lint_event_ref(struct lint_text *t, const char *field, size_t len,
    size_t offset)
{
	enum notify_field f;
	char *copy;

	if (notify_field_parse(field, len, &f) == 0)
		return;
	copy = xstrndup(field, len);
	rb_error(t->ctx, lint_text_pos(t, offset), "unknown event field "
	    "${event.%s} (fields: id, type, runbook, run, step, entity, state, "
	    "operator, time, message)", rb_short(copy));
	free(copy);
}

void
rb_lint_texts(struct rb_ctx *ctx)
{
	struct runbook *rb = ctx->rb;
	struct rb_index vars;
	struct lint_text t = { .ctx = ctx, .vars = &vars };
	const char **sql;
	size_t i, nsql;

	rb_index_build(&vars, rb->vars, rb->nvars, sizeof *rb->vars,
	    offsetof(struct rb_var, name));
	t.entity_mode = ctx->entities_given || runbook_has_lanes(rb);
	if (t.entity_mode)
		lint_entity_vars_index(rb, &t.entity_vars);
	t.target_pos = xcalloc(rb->ntargets + 1, sizeof *t.target_pos);
	t.target_uses = xcalloc(rb->ntargets + 1, 1);
	sql = lint_sql_texts(rb, &nsql);
	for (i = 0; i < ctx->ntexts; i++) {
		t.node = &ctx->texts[i];
		t.owner = ctx->owners[i];
		t.begun = 0;
		t.sql = nsql > 0 && bsearch(&ctx->texts[i].value, sql, nsql,
		    sizeof *sql, lint_ptr_compare) != NULL;
		expand_scan(ctx->texts[i].value, lint_text_ref, &t);
	}
	lint_entity_targets(ctx, &t);
	free(t.target_pos);
	free(t.target_uses);
	rb_index_free(&t.entity_vars);
	free(sql);
	rb_index_free(&vars);
	lint_tls(ctx);
	lint_ssh(ctx);
	lint_odbc(ctx);
}

/* odbc targets: a password is a reference, never written out. */
static void
lint_odbc(struct rb_ctx *ctx)
{
	const struct rb_target *t;
	char *why = NULL;
	size_t i;

	for (i = 0; i < ctx->rb->ntargets; i++) {
		t = &ctx->rb->targets[i];
		if (t->type != TARGET_ODBC || t->connection == NULL)
			continue;
		if (odbc_connection_check(t->connection, &why) != 0 ||
		    lint_odbc_var(ctx, t->connection, &why) != 0) {
			rb_error(ctx, t->pos, "target %s: %s", rb_short(t->name),
			    why);
			free(why);
			why = NULL;
		}
	}
}

/* A password from a var: the var must be listed in secrets:, so that its
 * value is kept out of the run's copy of the runbook. */
static int
lint_odbc_var(struct rb_ctx *ctx, const char *connection, char **why)
{
	char *ref = odbc_connection_password(connection), *name;
	const struct rb_var *v;
	int rc = 0;

	if (ref == NULL || strncmp(ref, "${env:", 6) == 0) {
		free(ref);
		return 0;
	}
	name = ref + 2;
	name[strlen(name) - 1] = '\0';
	v = runbook_find_var(ctx->rb, name);
	if (v != NULL && !v->secret) {
		xasprintf(why, "the password in 'connection' comes from var %s, "
		    "which is not listed in secrets:", name);
		rc = -1;
	}
	free(ref);
	return rc;
}

/* Lint only: "FILE:LINE:COL: warning: MSG" at once; not an error. */
static void
lint_warn(struct rb_ctx *ctx, struct rb_pos pos, const char *fmt, ...)
{
	va_list ap;

	if (!ctx->check_only)
		return;
	fprintf(stderr, "%s:%u:%u: warning: ", ctx->file, pos.line, pos.col);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* The SQL texts of sql and reconcile steps (pool pointers), sorted. */
static const char **
lint_sql_texts(const struct runbook *rb, size_t *n)
{
	const char **v = xcalloc(rb->nsteps * 3 + 1, sizeof *v);
	const struct rb_step *d;
	size_t i;

	*n = 0;
	for (i = 0; i < rb->nsteps; i++) {
		d = &rb->steps[i];
		if (d->type == STEP_SQL) {
			v[(*n)++] = d->run;
			v[(*n)++] = d->verify;
			v[(*n)++] = d->rollback;
		} else if (d->type == STEP_RECONCILE) {
			v[(*n)++] = d->source.query;
			v[(*n)++] = d->dest.query;
		}
	}
	qsort(v, *n, sizeof *v, lint_ptr_compare);
	return v;
}

static int
lint_ptr_compare(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)*(const char *const *)a;
	uintptr_t y = (uintptr_t)*(const char *const *)b;

	return x < y ? -1 : x > y;
}

/*
 * Postgres targets a live run would refuse (see pg_live_refuses), when
 * their conninfo can be expanded and resolved here (a service may only be
 * defined on the machine that runs the cutover).
 */
static void
lint_tls(struct rb_ctx *ctx)
{
	const struct runbook *rb = ctx->rb;
	const struct rb_target *t;
	char *ci, *why = NULL;
	size_t i;

	for (i = 0; ctx->check_only && ctx->errors == 0 && i < rb->ntargets;
	    i++) {
		t = &rb->targets[i];
		if (t->type != TARGET_POSTGRES || t->conninfo == NULL ||
		    t->tls_insecure)
			continue;
		if ((ci = pg_conninfo_expand(rb, t->conninfo, &why)) != NULL &&
		    pg_conninfo_tls(ci, &why) < 0)
			lint_warn(ctx, t->pos, "target %s: %s: a live run "
			    "refuses it (set sslmode=verify-full, or tls: "
			    "insecure)", t->name, why);
		free(ci);
		free(why);
		why = NULL;
	}
}

/* ------------------------------------------------- entities and waves */

/* By id, then by place in the list. */
static int
lint_entity_compare(const void *a, const void *b)
{
	const struct rb_entity *x = *(struct rb_entity *const *)a;
	const struct rb_entity *y = *(struct rb_entity *const *)b;
	int c = strcmp(x->id, y->id);

	if (c != 0)
		return c;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* The index of entities by id; duplicate ids, reported in their file. */
static void
lint_entity_index(struct rb_ctx *ctx)
{
	struct runbook *rb = ctx->rb;
	struct rb_entity **v;
	size_t i, n = 0, first = 0;

	v = xcalloc(rb->nentities + 1, sizeof *v);
	for (i = 0; i < rb->nentities; i++) {
		if (rb->entities[i].id != NULL)
			v[n++] = &rb->entities[i];
	}
	qsort(v, n, sizeof *v, lint_entity_compare);
	for (i = 1; i < n; i++) {
		if (strcmp(v[i]->id, v[first]->id) != 0) {
			first = i;
			continue;
		}
		rb_error(ctx, v[i]->pos, "duplicate entity id '%s' (first at "
		    "line %u)", rb_short(v[i]->id), v[first]->pos.line);
	}
	if (n == rb->nentities)
		rb->entity_index = v;
	else
		free(v); /* ids missing (reported): no look-ups */
}

/* runbook.waves from the entities, in the order they first appear. */
static void
lint_waves_found(struct runbook *rb)
{
	struct rb_index idx;
	size_t i, n = 0, *first;

	rb_index_build(&idx, rb->entities, rb->nentities, sizeof *rb->entities,
	    offsetof(struct rb_entity, wave));
	first = xcalloc(idx.n + 1, sizeof *first);
	for (i = 0; i < idx.n; i++) {
		if (i == 0 || strcmp(idx.v[i].name, idx.v[i - 1].name) != 0)
			first[n++] = idx.v[i].index;
	}
	/* first[] holds one entity of each wave; in file order: */
	qsort(first, n, sizeof *first, lint_size_compare);
	rb->waves = rb_pool_calloc(rb, n + 1, sizeof *rb->waves);
	for (i = 0; i < n; i++)
		rb->waves[i] = rb->entities[first[i]].wave;
	rb->nwaves = n;
	free(first);
	rb_index_free(&idx);
}

/* Every entity's wave listed in waves:, or waves found from them. */
static void
lint_entity_waves(struct rb_ctx *ctx)
{
	struct runbook *rb = ctx->rb;
	struct rb_entity *e;
	size_t i;

	if (!rb->waves_given) {
		lint_waves_found(rb);
		return;
	}
	for (i = 0; i < rb->nentities; i++) {
		e = &rb->entities[i];
		if (e->wave != NULL && rb_valid_id(e->wave) &&
		    runbook_wave_index(rb, e->wave) < 0) {
			rb_error(ctx, ctx->wave_pos[i], "entity '%s': wave "
			    "'%s' is not listed in waves", rb_short(e->id ?
			    e->id : ""), rb_short(e->wave));
		}
	}
}

/* for_each phases need entities; lane keys need for_each phases. */
static void
lint_entity_lanes(struct rb_ctx *ctx)
{
	struct runbook *rb = ctx->rb;
	const struct rb_ref *r;
	size_t i;

	for (i = 0; i < rb->nphases; i++) {
		if (rb->phases[i].for_each && rb->nentities == 0 &&
		    !ctx->entities_given) {
			rb_error(ctx, rb->phases[i].pos, "phase '%s' runs for "
			    "each entity, but the runbook has no entities",
			    rb_short(rb->phases[i].id ? rb->phases[i].id : ""));
		}
	}
	for (i = 0; i < ctx->nrefs; i++) {
		r = &ctx->refs[i];
		if (r->kind == RB_REF_LANE && r->step < rb->nsteps &&
		    !rb->phases[rb->steps[r->step].phase].for_each) {
			rb_error(ctx, r->pos, "%s: only in steps of phases "
			    "with 'for_each: entity'", r->name);
		}
	}
	for (i = 0; i < rb->nvars; i++) {
		if (strncmp(rb->vars[i].name, "entity.", 7) == 0) {
			rb_error(ctx, rb->vars[i].pos, "variable name '%s' is "
			    "reserved: ${entity.*} names the entity's fields "
			    "and vars", rb_short(rb->vars[i].name));
		}
	}
}

void
rb_lint_entities(struct rb_ctx *ctx)
{
	const char *file = ctx->file;

	if (!ctx->entities_given && !runbook_has_lanes(ctx->rb))
		return;
	if (ctx->rb->entities_file != NULL)
		ctx->file = ctx->rb->entities_file;
	lint_entity_index(ctx);
	lint_entity_waves(ctx);
	ctx->file = file;
	lint_entity_lanes(ctx);
}

/* Names of the entities' vars; each entry's index: how many have it. */
static void
lint_entity_vars_index(const struct runbook *rb, struct rb_index *idx)
{
	const char **names;
	size_t i, j, n = 0, total = 0;

	for (i = 0; i < rb->nentities; i++)
		total += rb->entities[i].nvars;
	names = xcalloc(total + 1, sizeof *names);
	for (i = 0; i < rb->nentities; i++) {
		for (j = 0; j < rb->entities[i].nvars; j++)
			names[n++] = rb->entities[i].vars[j].name;
	}
	qsort(names, n, sizeof *names, lint_string_compare);
	idx->v = xcalloc(n + 1, sizeof *idx->v);
	idx->n = 0;
	for (i = 0; i < n; i++) {
		if (idx->n > 0 && strcmp(idx->v[idx->n - 1].name,
		    names[i]) == 0) {
			idx->v[idx->n - 1].index++;
			continue;
		}
		idx->v[idx->n].name = names[i];
		idx->v[idx->n++].index = 1;
	}
	free(names);
}

/* ${entity.FIELD} in the text being checked, at offset. */
static void
lint_entity_ref(struct lint_text *t, const char *field, size_t offset)
{
	const struct runbook *rb = t->ctx->rb;
	const struct rb_owner *o = &t->owner;

	if (o->kind == RB_OWNER_STEP &&
	    rb->phases[rb->steps[o->index].phase].for_each) {
		lint_entity_field(t, field, offset);
		return;
	}
	if (o->kind == RB_OWNER_TARGET) {
		if (!t->target_uses[o->index]) {
			t->target_uses[o->index] = 1;
			t->target_pos[o->index] = lint_text_pos(t, offset);
		}
		lint_entity_field(t, field, offset);
		return;
	}
	rb_error(t->ctx, lint_text_pos(t, offset), "${entity.%s} outside a "
	    "for_each phase (it is known only in the steps of phases with "
	    "'for_each: entity' and in their targets)", rb_short(field));
}

/* Is FIELD of ${entity.FIELD} one that every entity has? */
static void
lint_entity_field(struct lint_text *t, const char *field, size_t offset)
{
	const struct runbook *rb = t->ctx->rb;
	const char *best;
	size_t n;

	if (strcmp(field, "id") == 0 || strcmp(field, "title") == 0 ||
	    strcmp(field, "wave") == 0 || rb->nentities == 0)
		return;
	n = rb_index_find(&t->entity_vars, field);
	if (n == SIZE_MAX) {
		best = lint_best(t->ctx, &t->entity_vars, field);
		rb_error(t->ctx, lint_text_pos(t, offset), "unknown entity var "
		    "${entity.%s}%s%s%s", rb_short(field), best ? " (did you "
		    "mean ${entity." : "", best ? rb_short(best) : "",
		    best ? "}?)" : "");
	} else if (n < rb->nentities) {
		rb_error(t->ctx, lint_text_pos(t, offset), "entity var "
		    "${entity.%s}: %zu of %zu entities have no such var",
		    rb_short(field), rb->nentities - n, rb->nentities);
	}
}

/* A target with ${entity.*} may be used only by steps of for_each phases. */
static void
lint_entity_targets(struct rb_ctx *ctx, const struct lint_text *t)
{
	const struct runbook *rb = ctx->rb;
	const struct rb_step *s;
	const struct rb_target *tg;
	size_t i, j;

	for (i = 0; i < rb->ntargets; i++) {
		if (!t->target_uses[i])
			continue;
		tg = &rb->targets[i];
		for (j = 0; j < rb->nsteps; j++) {
			s = &rb->steps[j];
			if ((s->target == tg || s->source.target == tg ||
			    s->dest.target == tg) &&
			    !rb->phases[s->phase].for_each)
				break;
		}
		if (j < rb->nsteps) {
			rb_error(ctx, t->target_pos[i], "target '%s' uses "
			    "${entity.*}, but step '%s' outside a for_each "
			    "phase uses the target", rb_short(tg->name),
			    rb_short(rb->steps[j].id ? rb->steps[j].id : ""));
		}
	}
}

/* ------------------------------------------------------ ssh bastions */

/* Resolve an entry of an ssh target's jump list. */
static void
lint_jump(struct rb_ctx *ctx, const struct rb_index *targets,
    const struct rb_ref *r)
{
	struct rb_target *t = &ctx->rb->targets[r->step], *j;
	size_t i, k;

	if ((i = rb_index_find(targets, r->name)) == SIZE_MAX) {
		rb_error(ctx, r->pos, "unknown jump target '%s'%s",
		    rb_short(r->name), lint_hint(ctx, targets, r->name));
		return;
	}
	j = &ctx->rb->targets[i];
	if (j == t) {
		rb_error(ctx, r->pos, "target '%s' cannot jump through itself",
		    rb_short(t->name));
		return;
	}
	if (ctx->target_typed[i] && j->type != TARGET_SSH) {
		rb_error(ctx, r->pos, "jump target '%s' is not an ssh target",
		    rb_short(j->name));
		return;
	}
	for (k = 0; k < t->njump; k++) {
		if (t->jump[k] == r->name)
			t->jump_targets[k] = j;
	}
}

/* A loop of first hops (a jumps through b, whose first hop is a): the
 * route of any member would never end. Each member is named. */
static void
lint_jump_loops(struct rb_ctx *ctx)
{
	struct runbook *rb = ctx->rb;
	const struct rb_target *t, *u;
	size_t i, n;

	for (i = 0; i < rb->ntargets; i++) {
		t = &rb->targets[i];
		u = t;
		for (n = 0; n < rb->ntargets && u != NULL; n++) {
			u = u->njump > 0 ? u->jump_targets[0] : NULL;
			if (u == t)
				break;
		}
		if (u == t) {
			rb_error(ctx, t->pos, "jump loop: target '%s' is "
			    "reached through itself (its first hop is '%s')",
			    rb_short(t->name), rb_short(t->jump[0]));
		}
	}
}

/*
 * Lint only: what the ssh configuration says about each ssh target that
 * does not depend on the entity or the environment: a host that is no
 * alias and no name that resolves, a ProxyJump loop, a configuration
 * error, StrictHostKeyChecking no without host_key: off; and the
 * configuration's warnings (keywords not supported).
 */
static void
lint_ssh(struct rb_ctx *ctx)
{
	size_t i;

	for (i = 0; ctx->check_only && ctx->errors == 0 &&
	    i < ctx->rb->ntargets; i++) {
		if (ctx->rb->targets[i].type == TARGET_SSH &&
		    lint_ssh_static(&ctx->rb->targets[i], 0))
			lint_ssh_target(ctx, &ctx->rb->targets[i]);
	}
}

static void
lint_ssh_target(struct rb_ctx *ctx, const struct rb_target *t)
{
	struct ssh_route *r;
	struct addrinfo hints, *ai = NULL;
	char *err = NULL;
	size_t i;
	int rc;

	if ((r = ssh_route_resolve(ctx->rb, t, NULL, SSH_ROUTE_NO_SECRETS,
	    &err)) == NULL) {
		rb_error(ctx, t->pos, "target %s: %s", t->name, err);
		free(err);
		return;
	}
	for (i = 0; i < r->nwarnings; i++)
		lint_warn(ctx, t->pos, "target %s: %s", t->name,
		    r->warnings[i]);
	/* Only the first hop is looked up here, the next ones being names
	 * as the bastions see them; and only a single-label name (an alias,
	 * as app1 or bastion-dc1): a dotted name may resolve only on the
	 * war room's network. */
	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	if (strpbrk(r->hops[0].host, ".:") == NULL &&
	    (rc = getaddrinfo(r->hops[0].host, NULL, &hints, &ai)) != 0)
		rb_error(ctx, t->pos, "target %s: host '%s'%s resolves to "
		    "nothing (%s): not a Host of the ssh configuration with a "
		    "HostName, nor a name or address", t->name,
		    r->hops[0].host, r->n > 1 ? " (its first hop)" : "",
		    gai_strerror(rc));
	if (ai != NULL)
		freeaddrinfo(ai);
	ssh_route_free(r);
}

/* Has the route of t no ${...} to expand that lint cannot (entity and
 * environment)? Secrets are not expanded for lint. */
static int
lint_ssh_static(const struct rb_target *t, int depth)
{
	const char *f[] = { t->host, t->user, t->port_text, t->ssh_config,
		t->identity, t->known_hosts };
	size_t i;

	if (depth > 16)
		return 0;
	for (i = 0; i < sizeof f / sizeof f[0]; i++) {
		if (f[i] != NULL && strstr(f[i], "${") != NULL)
			return 0;
	}
	for (i = 0; i < t->njump; i++) {
		if (t->jump_targets[i] == NULL ||
		    !lint_ssh_static(t->jump_targets[i], depth + 1))
			return 0;
	}
	return 1;
}
