/*
 * exec-target.c - sql steps, run by the executor of their target's type.
 *
 * The step kind "sql" has one executor, this one: it asks the target kind
 * table (target-kind.h) which executor runs sql on the step's target
 * (postgres: exec-sql.c, odbc: exec-odbc.c) and hands every call on.
 */
#include "config.h"

#include <stdlib.h>

#include "exec.h"
#include "target-kind.h"
#include "xmalloc.h"

struct exec {
	const struct exec_ops *ops;
	struct exec *inner;
};

static struct exec *xt_start(const struct exec_req *, char **);
static int64_t xt_pgid(struct exec *);
static void xt_release(struct exec *);
static void xt_cancel(struct exec *, const char *);
static void xt_free(struct exec *);
static void xt_shutdown(void);
static int xt_recover(const struct exec_orphan *, int64_t, char **);
static const struct exec_ops *xt_ops(const struct rb_target *);

const struct exec_ops exec_target_sql_ops = {
	.name = "sql",
	.start = xt_start,
	.pgid = xt_pgid,
	.release = xt_release,
	.cancel = xt_cancel,
	.free = xt_free,
	.shutdown = xt_shutdown,
	.recover = xt_recover,
};

/* The executor for sql on t; postgres's when t is unknown (it says so). */
static const struct exec_ops *
xt_ops(const struct rb_target *t)
{
	const struct target_kind *k = t != NULL ? target_kind(t->type) : NULL;

	return k != NULL && k->sql != NULL ? k->sql : &exec_sql_ops;
}

static struct exec *
xt_start(const struct exec_req *req, char **err)
{
	const struct exec_ops *ops = xt_ops(req->target);
	struct exec *inner, *e;

	if ((inner = ops->start(req, err)) == NULL)
		return NULL;
	e = xcalloc(1, sizeof *e);
	e->ops = ops;
	e->inner = inner;
	return e;
}

static int64_t
xt_pgid(struct exec *e)
{
	return e->ops->pgid(e->inner);
}

static void
xt_release(struct exec *e)
{
	e->ops->release(e->inner);
}

static void
xt_cancel(struct exec *e, const char *why)
{
	e->ops->cancel(e->inner, why);
}

static void
xt_free(struct exec *e)
{
	if (e == NULL)
		return;
	e->ops->free(e->inner);
	free(e);
}

/* Every target type's executor closes its connections. */
static void
xt_shutdown(void)
{
	const struct target_kind *k;
	int t;

	for (t = 0; t < TARGET_NTYPES; t++) {
		k = target_kind((enum target_type)t);
		if (k != NULL && k->sql != NULL && k->sql->shutdown != NULL)
			k->sql->shutdown();
	}
}

static int
xt_recover(const struct exec_orphan *o, int64_t wait_ms, char **why)
{
	const struct exec_ops *ops = xt_ops(o->target);

	if (ops->recover == NULL) {
		*why = NULL;
		return EXEC_ORPHAN_GONE;
	}
	return ops->recover(o, wait_ms, why);
}
