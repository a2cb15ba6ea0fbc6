/*
 * waiting.h - who may act on a step that waits for a person, in words both
 * the headless commands (cmd-wait.c) and the console (ui-draw.c) print:
 * the members of the step's approver roles at a checkpoint, of its owner
 * role otherwise, and of the rollback roles while it is undone.
 */
#ifndef CUTOVER_WAITING_H
#define CUTOVER_WAITING_H

#include "buf.h"
#include "runbook.h"

/*
 * Append "may decide: alice, bob [duty-manager]; carol [dba]" (approvers
 * of a checkpoint not being undone) or "may act: ..." (its owner, or the
 * rollback roles while undone) to b. Returns 0 and appends nothing when
 * anyone may act.
 */
int waiting_who(struct buf *b, const struct runbook *,
    const struct rb_step *, int undo);

#endif
