/*
 * ui-attention.c - the console's "needs attention" line: what the run
 * waits for right now and who can act, e.g.
 *
 *	WAITING go-no-go: 1 of 2 go — may decide: lead [lead]; duty [duty]
 *	FAILED import-articles — r retry, s skip
 *	NO-GO at go-no-go by ben: "tills down"
 *
 * worked out again whenever the console reads the run from the store (its
 * own actions, the driver's, other terminals'); and the announcement of a
 * step that failed in a LIVE run: a message, the bell, the selection on it.
 */
#include "config.h"

#include <curses.h>
#include <stdlib.h>
#include <string.h>

#include "step-kind.h"
#include "ui.h"
#include "waiting.h"
#include "xmalloc.h"

static char *ui_attention_nogo(struct ui *, struct engine_step *);
static void ui_attention_failed(struct ui *, struct buf *,
    struct engine_step *);
static void ui_attention_waiting(struct ui *, struct buf *,
    struct engine_step *);
static struct engine_step *ui_attention_first(struct ui *, int waiting,
    size_t *more);

/* The first step that failed (waiting 0) or waits for a person (1), and
 * how many more do. */
static struct engine_step *
ui_attention_first(struct ui *ui, int waiting, size_t *more)
{
	struct engine_step *s, *first = NULL;
	size_t i;

	*more = 0;
	for (i = 0; i < engine_nsteps(ui->e); i++) {
		s = engine_step_at(ui->e, i);
		if (engine_step_running(s))
			continue;
		if (waiting ? s->state != ST_AWAITING &&
		    s->state != ST_INTERRUPTED : s->state != ST_FAILED &&
		    s->state != ST_ROLLBACK_FAILED)
			continue;
		if (s->entity != NULL &&
		    engine_entity_state(ui->e, s->entity) == ENT_EXCLUDED)
			continue; /* an excluded entity's lane needs no one */
		if (first == NULL)
			first = s;
		else
			(*more)++;
	}
	return first;
}

/* "no-go by ben: \"tills down\"", the latest no-go standing at s, or
 * NULL. */
static char *
ui_attention_nogo(struct ui *ui, struct engine_step *s)
{
	struct decision_row *d = NULL, *nogo = NULL;
	size_t n = 0, i;
	char *t = NULL;

	if (!step_kind_is_gate(s->def->type))
		return NULL;
	state_decision_list(ui->st, engine_run_info(ui->e)->id, s->id,
	    &d, &n);
	for (i = 0; i < n; i++)
		if (d[i].active && strcmp(d[i].decision, "go") != 0)
			nogo = &d[i];
	if (nogo != NULL)
		xasprintf(&t, "no-go by %s%s%s%s", nogo->operator,
		    nogo->reason != NULL ? ": \"" : "",
		    nogo->reason != NULL ? nogo->reason : "",
		    nogo->reason != NULL ? "\"" : "");
	decision_rows_free(d, n);
	return t;
}

/* "FAILED id — r retry, s skip", or the no-go that failed a checkpoint. */
static void
ui_attention_failed(struct ui *ui, struct buf *b, struct engine_step *s)
{
	const char *dash = ui->utf8 ? "\xe2\x80\x94" : "-";
	char *nogo = ui_attention_nogo(ui, s);

	if (nogo != NULL) {
		buf_printf(b, "NO-GO at %s %s", s->id, nogo + 6);
		free(nogo);
		return;
	}
	buf_printf(b, "%s %s %s ", s->state == ST_FAILED ? "FAILED" :
	    "ROLLBACK FAILED", s->id, dash);
	buf_adds(b, ui->watch ? "retry or skip it where the run is driven" :
	    "r retry, s skip");
}

/* "WAITING id: what for — who may act". */
static void
ui_attention_waiting(struct ui *ui, struct buf *b, struct engine_step *s)
{
	const char *dash = ui->utf8 ? "\xe2\x80\x94" : "-";
	int go = 0, nogo = 0, mine = 0;

	if (s->state == ST_INTERRUPTED) {
		buf_printf(b, "INTERRUPTED %s %s %s", s->id, dash,
		    ui->watch ? "retry, confirm or skip it where the run is "
		    "driven" : "r retry, c confirm, s skip");
		return;
	}
	buf_printf(b, "WAITING %s: ", s->id);
	if (s->undo)
		buf_adds(b, "to be undone by hand, then confirmed");
	else if (step_kind_is_gate(s->def->type)) {
		state_decision_count(ui->st, engine_run_info(ui->e)->id,
		    s->id, &go, &nogo, &mine);
		buf_printf(b, "%d of %d go", go, s->def->approvals);
	} else if (step_kind(s->def->type)->who == WHO_CONFIRM)
		buf_adds(b, "a person to do it and confirm it");
	else
		buf_adds(b, "a person");
	buf_printf(b, " %s ", dash);
	if (!waiting_who(b, ui->rb, s->def, s->undo))
		buf_adds(b, "anyone may act");
}

void
ui_attention(struct ui *ui)
{
	struct engine_step *s;
	struct buf b = { 0 };
	size_t more;

	if ((s = ui_attention_first(ui, 0, &more)) != NULL) {
		ui_attention_failed(ui, &b, s);
		ui->attention_el = T_ERROR;
	} else if ((s = ui_attention_first(ui, 1, &more)) != NULL) {
		ui_attention_waiting(ui, &b, s);
		ui->attention_el = T_AWAITING;
	} else {
		more = 0;
		ui->attention_el = T_OUTPUT_INFO;
		if (strcmp(engine_run_info(ui->e)->state, "open") != 0)
			buf_printf(&b, "run %s: nothing waits",
			    engine_run_info(ui->e)->state);
		else
			buf_adds(&b, "nothing waits for a person");
	}
	if (more > 0)
		buf_printf(&b, "  (+%zu more)", more);
	free(ui->attention);
	ui->attention = xstrdup(b.data);
	buf_free(&b);
}

void
ui_attention_announce(struct ui *ui)
{
	size_t n = engine_nsteps(ui->e), i;
	struct engine_step *s;
	char *nogo;
	int live = strcmp(engine_run_info(ui->e)->mode, "live") == 0;

	if (ui->seen == NULL || ui->nseen != n) {
		free(ui->seen);
		ui->seen = xcalloc(n ? n : 1, sizeof *ui->seen);
		ui->nseen = n;
		for (i = 0; i < n; i++)
			ui->seen[i] = engine_step_at(ui->e, i)->state;
		return;
	}
	for (i = 0; i < n; i++) {
		s = engine_step_at(ui->e, i);
		if (live && s->state == ST_FAILED && ui->seen[i] != ST_FAILED) {
			if ((nogo = ui_attention_nogo(ui, s)) != NULL)
				ui_message(ui, 1, "LIVE: %s: %s", s->id,
				    nogo);
			else
				ui_message(ui, 1, "LIVE: %s FAILED%s",
				    s->id, ui->watch ? "" : " - r retries "
				    "it, s skips it");
			free(nogo);
			beep();
			ui->sel = i;
			ui->sel_lanes = 0;
			ui->out.scroll = 0;
		}
		ui->seen[i] = s->state;
	}
}
