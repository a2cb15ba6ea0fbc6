/*
 * ui-rollback.c - R in the console: a menu of where to roll back to (the
 * run's start or any checkpoint that passed), the plan, a reason when
 * irreversible steps are in the way, the target typed out, then the
 * rollback, driven by the engine's loop.
 *
 * A rollback that reaches a step undone by hand waits for a person's
 * confirm. The console remembers the rollback it started (its force and
 * reason) and, once every step waiting to be undone is confirmed, here or
 * from another terminal, carries on by itself: nothing is asked twice. A
 * rollback found under way (after a failure, or started elsewhere) resumes
 * on R after one y.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "step-kind.h"
#include "ui.h"
#include "xmalloc.h"

static void ui_rollback_targets(struct ui *, size_t *);
static void ui_rollback_chosen(struct ui *, size_t);
static void ui_rollback_plan(struct ui *, const char *, int);
static void ui_rollback_reason(struct ui *, const char *);
static void ui_rollback_ask(struct ui *);
static void ui_rollback_id(struct ui *, const char *);
static void ui_rollback_yes(struct ui *, const char *);
static void ui_rollback_go(struct ui *);
static void ui_rollback_forget(struct ui *);
static char *ui_rollback_stored(struct ui *);
static int ui_rollback_awaiting(struct ui *);

/* The target of a rollback under way in the store, or NULL ("" is the
 * run's start). */
static char *
ui_rollback_stored(struct ui *ui)
{
	char *to = NULL;

	if (state_run_rollback_to(ui->st, engine_run_info(ui->e)->id, NULL,
	        &to) != STATE_OK)
		return NULL;
	return to;
}

/*
 * What R may roll back to: the run's start, then each checkpoint that
 * passed, in runbook order (checkpoints of single entities are rolled
 * back with `cutover rollback --entity`). *cur is the selected step if it
 * is one of them, else the last to pass.
 */
static void
ui_rollback_targets(struct ui *ui, size_t *cur)
{
	struct engine_step *s, *sel = ui_selected(ui);
	int64_t last = -1;
	size_t i, n = engine_nsteps(ui->e);
	int sel_passed = sel != NULL && step_kind_is_gate(sel->def->type) &&
	    sel->entity == NULL && sel->state == ST_SUCCEEDED;

	ui->rb_targets = xcalloc(n + 1, sizeof *ui->rb_targets);
	ui->rb_targets[0] = xstrdup("start");
	ui->nrb_targets = 1;
	*cur = 0;
	for (i = 0; i < n; i++) {
		s = engine_step_at(ui->e, i);
		if (!step_kind_is_gate(s->def->type) || s->entity != NULL ||
		    s->state != ST_SUCCEEDED || s->done_ms < 0)
			continue;
		if (sel_passed ? s == sel : s->done_ms > last) {
			*cur = ui->nrb_targets;
			last = s->done_ms;
		}
		ui->rb_targets[ui->nrb_targets++] = xstrdup(s->id);
	}
}

/* Forget the menu's targets. */
static void
ui_rollback_forget(struct ui *ui)
{
	size_t i;

	for (i = 0; i < ui->nrb_targets; i++)
		free(ui->rb_targets[i]);
	free(ui->rb_targets);
	ui->rb_targets = NULL;
	ui->nrb_targets = 0;
}

void
ui_rollback_key(struct ui *ui)
{
	char *stored, **items, *at;
	size_t cur, i;

	if (engine_rolling_back(ui->e)) {
		ui_message(ui, 1, "a rollback is under way");
		return;
	}
	if ((stored = ui_rollback_stored(ui)) != NULL &&
	    (at = strchr(stored, '@')) != NULL) {
		/* one entity's rollback, under way from a command or a no-go */
		ui_message(ui, 1, "a rollback of entity %s is under way; it "
		    "goes on with `cutover rollback %s --entity %s`", at + 1,
		    ui->rb->path, at + 1);
		free(stored);
		return;
	}
	if (stored != NULL) {
		ui_rollback_plan(ui, *stored ? stored : "start", 1);
		free(stored);
		return;
	}
	ui_rollback_forget(ui);
	ui_rollback_targets(ui, &cur);
	if (ui->nrb_targets == 1) { /* no checkpoint passed */
		ui_rollback_plan(ui, "start", 0);
		return;
	}
	items = xcalloc(ui->nrb_targets, sizeof *items);
	for (i = 0; i < ui->nrb_targets; i++)
		items[i] = i == 0 ? xstrdup("the run's start: undo every step") :
		    xprintf("%s: undo what succeeded after it", ui->rb_targets[i]);
	ui_menu_open(ui, "roll back to (Enter chooses, Esc cancels)",
	    (const char *const *)items, ui->nrb_targets, cur,
	    ui_rollback_chosen);
	for (i = 0; i < ui->nrb_targets; i++)
		free(items[i]);
	free(items);
}

static void
ui_rollback_chosen(struct ui *ui, size_t i)
{
	if (i < ui->nrb_targets)
		ui_rollback_plan(ui, ui->rb_targets[i], 0);
	ui_rollback_forget(ui);
}

/*
 * Show the plan of a rollback to `to` ("start" or a checkpoint), then ask:
 * a new one wants a reason if it must leave irreversible steps, and the
 * target typed out; one under way (resume) wants a y.
 */
static void
ui_rollback_plan(struct ui *ui, const char *to, int resume)
{
	struct rollback_plan p;
	char *label;

	if (engine_rollback_plan(ui->e, to, &p) != 0)
		return;
	free(ui->plan_to);
	ui->plan_to = xstrdup(p.to != NULL ? p.to->id : "start");
	ui->plan_force = p.nblocked > 0;
	ui->plan_resume = resume;
	buf_reset(&ui->plan);
	engine_rollback_plan_format(&p, &ui->plan, "with a reason");
	engine_rollback_plan_free(&p);
	free(ui->act_text);
	ui->act_text = NULL;
	if (ui->plan_force && !(resume && ui->rb_reason != NULL)) {
		ui_prompt_open(ui, "irreversible steps are in the way; reason to "
		    "leave them as they are: ", 1, ui_rollback_reason);
		ui->prompt.overlay = 1;
	} else if (resume) {
		if (ui->plan_force)
			ui->act_text = xstrdup(ui->rb_reason);
		label = xprintf("resume the rollback to %s? [y/N] ",
		    ui->plan_to);
		ui_prompt_yesno(ui, label, ui_rollback_yes);
		ui->prompt.overlay = 1;
		free(label);
	} else
		ui_rollback_ask(ui);
}

static void
ui_rollback_reason(struct ui *ui, const char *text)
{
	free(ui->act_text);
	ui->act_text = xstrdup(text);
	if (ui->plan_resume)
		ui_rollback_go(ui);
	else
		ui_rollback_ask(ui);
}

/* Ask for the target typed out: the checkpoint id, or "start". */
static void
ui_rollback_ask(struct ui *ui)
{
	char *label;

	label = xprintf("type %s to roll back: ", ui->plan_to);
	ui_prompt_open(ui, label, 1, ui_rollback_id);
	ui->prompt.overlay = 1;
	free(label);
}

static void
ui_rollback_yes(struct ui *ui, const char *text)
{
	if (*text == 'y' || *text == 'Y')
		ui_rollback_go(ui);
	else {
		buf_reset(&ui->plan);
		ui_message(ui, 0, "not resumed");
	}
}

/* The typed id matches: start the rollback. */
static void
ui_rollback_id(struct ui *ui, const char *text)
{
	if (strcmp(text, ui->plan_to) != 0) {
		buf_reset(&ui->plan);
		ui_message(ui, 1, "not rolled back: '%s' is not %s", text,
		    ui->plan_to);
		return;
	}
	ui_rollback_go(ui);
}

/* Start (or resume) the rollback; the loop drives it. Its force and reason
 * are kept for when it resumes after a confirm. */
static void
ui_rollback_go(struct ui *ui)
{
	int rc;

	buf_reset(&ui->plan);
	engine_set_hold(ui->e, 1);
	rc = engine_rollback_begin(ui->e, ui->plan_resume ? NULL : ui->plan_to,
	    ui->plan_force, ui->act_text);
	ui->rb_resume = 0;
	if (rc == 0) {
		ui->rb_force = ui->plan_force;
		free(ui->rb_reason);
		ui->rb_reason = ui->act_text != NULL ? xstrdup(ui->act_text) :
		    NULL;
		ui_message(ui, 0, "rolling back to %s", ui->plan_to);
	}
	ui->changed |= ENGINE_CHANGED_STATE;
}

void
ui_rollback_ended(struct ui *ui, int rc)
{
	ui->rb_resume = rc == EXIT_WAITING;
	if (rc == EXIT_DONE)
		ui_message(ui, 0, "rollback done; the run holds (Enter or a "
		    "to go forward again)");
	else if (rc == EXIT_WAITING)
		ui_message(ui, 1, "rollback waits: undo the step by hand and "
		    "confirm it (c); the rollback then goes on");
	else if (rc != EXIT_FAILED)
		ui_message(ui, 1, "rollback stopped (exit %d)", rc);
	if (rc != EXIT_WAITING) {
		free(ui->rb_reason);
		ui->rb_reason = NULL;
	}
	ui->changed |= ENGINE_CHANGED_STATE | ENGINE_CHANGED_RUN;
}

/* Does a step wait to be undone by hand? */
static int
ui_rollback_awaiting(struct ui *ui)
{
	struct engine_step *s;
	size_t i;

	for (i = 0; i < engine_nsteps(ui->e); i++) {
		s = engine_step_at(ui->e, i);
		if (s->undo && (s->state == ST_AWAITING ||
		    s->state == ST_RUNNING || engine_step_running(s)))
			return 1;
	}
	return 0;
}

void
ui_rollback_resume(struct ui *ui)
{
	char *stored;

	if (!ui->rb_resume || ui->watch || engine_rolling_back(ui->e) ||
	    engine_running(ui->e) > 0 || ui_rollback_awaiting(ui))
		return;
	ui->rb_resume = 0;
	if ((stored = ui_rollback_stored(ui)) == NULL ||
	    strchr(stored, '@') != NULL) {
		free(stored);
		return; /* finished elsewhere, or another one */
	}
	free(ui->plan_to);
	ui->plan_to = xstrdup(*stored ? stored : "start");
	free(stored);
	ui->plan_resume = 1;
	ui->plan_force = ui->rb_force;
	free(ui->act_text);
	ui->act_text = ui->rb_reason != NULL ? xstrdup(ui->rb_reason) : NULL;
	ui_rollback_go(ui);
	if (engine_rolling_back(ui->e))
		ui_message(ui, 0, "confirmed; the rollback to %s goes on",
		    ui->plan_to);
}
