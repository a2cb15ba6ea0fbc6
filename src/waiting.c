/*
 * waiting.c - who may act on a step that waits for a person (waiting.h).
 */
#include "config.h"

#include "waiting.h"

static void waiting_roles(struct buf *, const struct runbook *, char **,
    size_t);

/* "alice, bob [duty-manager]; carol [dba]" for roles names[n]. */
static void
waiting_roles(struct buf *b, const struct runbook *rb, char **names,
    size_t n)
{
	const struct rb_role *r;
	size_t i, j;

	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_adds(b, "; ");
		if ((r = runbook_find_role(rb, names[i])) == NULL) {
			buf_adds(b, names[i]);
			continue;
		}
		for (j = 0; j < r->nmembers; j++)
			buf_printf(b, "%s%s", j ? ", " : "", r->members[j]);
		buf_printf(b, "%s[%s]", r->nmembers ? " " : "", r->name);
	}
}

int
waiting_who(struct buf *b, const struct runbook *rb, const struct rb_step *d,
    int undo)
{
	char *owner[1];

	if (d->type == STEP_CHECKPOINT && !undo && d->napprovers > 0) {
		buf_adds(b, "may decide: ");
		waiting_roles(b, rb, d->approvers, d->napprovers);
	} else if (d->owner != NULL) {
		owner[0] = d->owner;
		buf_adds(b, "may act: ");
		waiting_roles(b, rb, owner, 1);
	} else if (undo && rb->nrollback_roles > 0) {
		buf_adds(b, "may act: ");
		waiting_roles(b, rb, rb->rollback_roles, rb->nrollback_roles);
	} else
		return 0;
	return 1;
}
