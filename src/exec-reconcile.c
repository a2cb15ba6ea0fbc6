/*
 * exec-reconcile.c - reconcile steps. Not implemented in this version:
 * starting one fails with a clear message.
 */
#include "config.h"

#include <stddef.h>

#include "exec.h"
#include "xmalloc.h"

static struct exec *reconcile_start(const struct exec_req *, char **);

const struct exec_ops exec_reconcile_ops = {
	.name = "reconcile",
	.start = reconcile_start,
};

static struct exec *
reconcile_start(const struct exec_req *req, char **err)
{
	(void)req;
	*err = xstrdup("reconcile steps are not supported yet");
	return NULL;
}
