/*
 * cmd-wait.c - what headless commands say when a step waits for a person:
 * who may act and the exact command to type, from another terminal, e.g.
 *
 *   cutover: go-no-go waits for 1 more go (may decide: alice, bob
 *   [duty-manager]): cutover --state /x.db decide wave1.yaml go-no-go go
 *   --reason TEXT
 *
 * (on one line).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cmd.h"
#include "escape.h"
#include "waiting.h"
#include "xmalloc.h"

static void wait_quote(struct buf *, const char *);
static void wait_who(struct buf *, const struct runbook *,
    const struct rb_step *, int);
static void wait_command(struct buf *, const struct cmd_ctx *, const char *,
    const char *, const char *);

/* Append word, quoted for a POSIX shell when it needs to be. */
static void
wait_quote(struct buf *b, const char *word)
{
	const char *p;

	if (*word != '\0' && strspn(word, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./:=@%+,") == strlen(word)) {
		buf_adds(b, word);
		return;
	}
	buf_addc(b, '\'');
	for (p = word; *p != '\0'; p++) {
		if (*p == '\'')
			buf_adds(b, "'\\''");
		else
			buf_addc(b, *p);
	}
	buf_addc(b, '\'');
}

/* " (may decide: ...)" or " (may act: ...)"; nothing when anyone may. */
static void
wait_who(struct buf *b, const struct runbook *rb, const struct rb_step *d,
    int undo)
{
	struct buf who = { 0 };

	if (waiting_who(&who, rb, d, undo))
		buf_printf(b, " (%s)", who.data);
	buf_free(&who);
}

/* "cutover [--state FILE] VERB RUNBOOK STEP[ tail]". */
static void
wait_command(struct buf *b, const struct cmd_ctx *c, const char *verb,
    const char *id, const char *tail)
{
	char *state = cmd_state_arg(c, c->rb);

	buf_adds(b, "cutover ");
	if (state != NULL) {
		buf_adds(b, "--state ");
		wait_quote(b, state);
		buf_addc(b, ' ');
	}
	buf_printf(b, "%s ", verb);
	wait_quote(b, c->args[0]);
	buf_addc(b, ' ');
	wait_quote(b, id);
	if (tail != NULL)
		buf_adds(b, tail);
	free(state);
}

void
cmd_waiting_print(const struct cmd_ctx *c, struct state *st, int64_t run,
    const char *id, const struct rb_step *d, int undo, FILE *f)
{
	struct escape_list l = { 0 };
	struct buf b = { 0 };
	int go = 0, nogo = 0, mine = 0, more;

	buf_printf(&b, "%s%s ", f == stderr ? "cutover: " : "", id);
	if (undo) {
		buf_adds(&b, "waits to be undone by hand, then confirmed");
	} else if (d->type == STEP_CHECKPOINT) {
		state_decision_count(st, run, id, &go, &nogo, &mine);
		more = d->approvals - go > 0 ? d->approvals - go : 1;
		buf_printf(&b, "waits for %d more go", more);
	} else if (d->type == STEP_MANUAL)
		buf_adds(&b, "waits for a person to do it and confirm it");
	else
		buf_adds(&b, "was interrupted: retry it, or confirm or skip "
		    "it");
	wait_who(&b, c->rb, d, undo);
	buf_adds(&b, ": ");
	if (d->type == STEP_CHECKPOINT && !undo)
		wait_command(&b, c, "decide", id, " go --reason TEXT");
	else if (d->type == STEP_MANUAL || undo)
		wait_command(&b, c, "confirm", id, NULL);
	else
		wait_command(&b, c, "retry", id, NULL);
	fprintf(f, "%s\n", escape_field(&l, f, b.data));
	escape_list_free(&l);
	buf_free(&b);
}
