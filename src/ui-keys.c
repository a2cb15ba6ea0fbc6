/*
 * ui-keys.c - what each key does, as one table that the help overlay is
 * generated from.
 *
 * Actions that change the run are refused in watch mode. In a live run the
 * dangerous ones (skip, go, no-go, retry, Enter on an irreversible or
 * failed step) ask for the step id to be typed before they happen.
 */
#include "config.h"

#include <curses.h>
#include <stdlib.h>
#include <string.h>

#include "step-kind.h"
#include "ui.h"
#include "xmalloc.h"

enum {
	ACT_NONE,
	ACT_RUN,
	ACT_CONFIRM,
	ACT_GO,
	ACT_NOGO,
	ACT_SKIP,
	ACT_RETRY,
};

struct ui_binding {
	int keys[4];
	const char *names; /* as the help shows them */
	const char *what;
	void (*fn)(struct ui *);
	int acts; /* changes the run: refused when watching */
};

#define CTRL(c) ((c) & 0x1f)

static void key_up(struct ui *);
static void key_down(struct ui *);
static void key_first(struct ui *);
static void key_last(struct ui *);
static void key_page_up(struct ui *);
static void key_page_down(struct ui *);
static void key_tail(struct ui *);
static void key_run(struct ui *);
static void key_auto(struct ui *);
static void key_confirm(struct ui *);
static void key_go(struct ui *);
static void key_nogo(struct ui *);
static void key_skip(struct ui *);
static void key_retry(struct ui *);
static void key_filter(struct ui *);
static void key_filter_attention(struct ui *);
static void ui_on_filter(struct ui *, const char *);
static void key_search(struct ui *);
static void key_next(struct ui *);
static void key_prev(struct ui *);
static void key_help(struct ui *);
static void key_redraw(struct ui *);
static void key_quit(struct ui *);
static void key_escape(struct ui *);
static void key_mouse(struct ui *);
static enum engine_action ui_act_action(int, struct engine_step *);
static void ui_act_begin(struct ui *, int, const char *, int);
static void ui_act_text(struct ui *, const char *);
static void ui_act_id(struct ui *, const char *);
static void ui_act_do(struct ui *);
static void ui_act_start(struct ui *, struct engine_step *);
static int ui_dangerous(struct ui *);
static void ui_search_from(struct ui *, int);
static void ui_on_search(struct ui *, const char *);
static void ui_on_quit(struct ui *, const char *);

static const struct ui_binding ui_bindings[] = {
	{ { KEY_UP, 'k' }, "Up k", "select the step above", key_up, 0 },
	{ { KEY_DOWN, 'j' }, "Down j", "select the step below", key_down, 0 },
	{ { KEY_HOME }, "Home", "select the first step", key_first, 0 },
	{ { KEY_END }, "End", "select the last step", key_last, 0 },
	{ { KEY_PPAGE }, "PgUp", "scroll the output back", key_page_up, 0 },
	{ { KEY_NPAGE }, "PgDn", "scroll the output forward", key_page_down, 0 },
	{ { 'f' }, "f", "follow the output's tail again", key_tail, 0 },
	{ { '\r', '\n', KEY_ENTER }, "Enter",
	    "run the selected step now (if it may run)", key_run, 1 },
	{ { 'a' }, "a", "automatic: start every step that may start; again: "
	    "hold", key_auto, 1 },
	{ { 'c' }, "c", "confirm the selected manual or awaiting step (note)",
	    key_confirm, 1 },
	{ { 'g' }, "g", "go at the selected checkpoint (reason)", key_go, 1 },
	{ { 'n' }, "n", "no-go at the selected checkpoint (reason)", key_nogo,
	    1 },
	{ { 's' }, "s", "skip the selected step (reason)", key_skip, 1 },
	{ { 'r' }, "r", "retry the selected failed or interrupted step",
	    key_retry, 1 },
	{ { 'R' }, "R", "roll back: choose the run's start or a passed checkpoint",
	    ui_rollback_key, 1 },
	{ { '/' }, "/", "search steps by id or title", key_search, 0 },
	{ { 'e' }, "e", "the entity x step matrix (for_each phases): hjkl "
	    "move, Enter opens an instance, w wave, f state, / text, Esc closes",
	    ui_matrix_toggle, 0 },
	{ { '\\', KEY_F(4) }, "\\ F4", "filter the list: states (wait fail "
	    "run ...) or text", key_filter, 0 },
	{ { 'F' }, "F", "filter: only steps that wait, failed or run; again: "
	    "all", key_filter_attention, 0 },
	{ { '\t' }, "Tab", "next step that matches the search", key_next, 0 },
	{ { KEY_BTAB }, "S-Tab", "previous step that matches", key_prev, 0 },
	{ { '?', KEY_F(1) }, "? F1", "show or hide this help", key_help, 0 },
	{ { CTRL('l') }, "C-l", "redraw the screen", key_redraw, 0 },
	{ { 'q', CTRL('c') }, "q C-c",
	    "quit (asks first while steps run; they end interrupted)",
	    key_quit, 0 },
	{ { 27 }, "Esc", "close the help, cancel a prompt, clear the filter",
	    key_escape, 0 },
	{ { KEY_MOUSE }, "mouse", "click a step to select it; wheel moves",
	    key_mouse, 0 },
};
#define UI_NBINDINGS (sizeof ui_bindings / sizeof ui_bindings[0])

void
ui_key(struct ui *ui, int key)
{
	const struct ui_binding *b;
	size_t i, j;

	if (ui->prompt.active) {
		ui_prompt_key(ui, key);
		return;
	}
	if (ui->menu.active) {
		ui_menu_key(ui, key);
		return;
	}
	if (ui->mx.open && !ui->help && ui_matrix_key(ui, key))
		return;
	if (ui->help && key != KEY_UP && key != KEY_DOWN && key != 'k' &&
	    key != 'j' && key != KEY_MOUSE) {
		ui->help = 0;
		return;
	}
	for (i = 0; i < UI_NBINDINGS; i++) {
		b = &ui_bindings[i];
		for (j = 0; j < 4 && b->keys[j] != 0; j++) {
			if (b->keys[j] != key)
				continue;
			if (b->acts && ui->watch) {
				ui_message(ui, 1, "read-only: this screen watches "
				    "run %lld; act from the driving console or "
				    "with cutover confirm, decide or skip",
				    (long long)engine_run_info(ui->e)->id);
				return;
			}
			b->fn(ui);
			return;
		}
	}
}

size_t
ui_help_lines(struct ui *ui, const char ***keys, const char ***what)
{
	size_t i;

	*keys = xcalloc(UI_NBINDINGS, sizeof **keys);
	*what = xcalloc(UI_NBINDINGS, sizeof **what);
	for (i = 0; i < UI_NBINDINGS; i++) {
		(*keys)[i] = ui_bindings[i].names;
		(*what)[i] = ui_bindings[i].what;
	}
	return UI_NBINDINGS;
}

void
ui_select(struct ui *ui, size_t i)
{
	if (i >= engine_nsteps(ui->e) || (i == ui->sel && !ui->sel_lanes))
		return;
	ui->sel = i;
	ui->sel_lanes = 0;
	ui->out.scroll = 0;
	ui_refresh(ui);
}

void
ui_select_lanes(struct ui *ui, size_t i)
{
	if (i >= engine_nsteps(ui->e) || (i == ui->sel && ui->sel_lanes))
		return;
	ui->sel = i;
	ui->sel_lanes = 1;
	ui->out.scroll = 0;
	ui_refresh(ui);
}

static void
key_up(struct ui *ui)
{
	if (ui->help)
		ui->help_top = ui->help_top > 0 ? ui->help_top - 1 : 0;
	else
		ui_list_move(ui, -1);
}

static void
key_down(struct ui *ui)
{
	if (ui->help)
		ui->help_top++;
	else
		ui_list_move(ui, 1);
}

static void
key_first(struct ui *ui)
{
	ui_list_end(ui, 0);
}

static void
key_last(struct ui *ui)
{
	ui_list_end(ui, 1);
}

/* \ or F4: filter the list by state or text. */
static void
key_filter(struct ui *ui)
{
	ui_prompt_open(ui, "filter (states: wait fail run ..., or text; "
	    "empty shows all): ", 0, ui_on_filter);
}

/* F: only what waits, failed or runs; again: everything. */
static void
key_filter_attention(struct ui *ui)
{
	ui_on_filter(ui, ui->filter != NULL &&
	    strcmp(ui->filter, "WAIT FAIL RUN") == 0 ? "" : "WAIT FAIL RUN");
}

static void
ui_on_filter(struct ui *ui, const char *text)
{
	ui_filter_set(ui, text);
	ui->list_top = 0;
	if (ui->filter == NULL) {
		ui_message(ui, 0, "filter off: every step shown");
		return;
	}
	if (!ui_step_shown(ui, ui->sel))
		ui_list_move(ui, 1);
	ui_list_build(ui);
	ui_message(ui, 0, "filter %s (%s): %zu of %zu steps; \\ changes it, "
	    "Esc clears it", ui->filter, ui->filter_states ? "states" : "text",
	    ui->nmatch, ui->ntotal);
}

static void
key_page_up(struct ui *ui)
{
	ui->out.scroll += LINES / 3 > 1 ? LINES / 3 : 1;
}

static void
key_page_down(struct ui *ui)
{
	ui->out.scroll -= LINES / 3 > 1 ? LINES / 3 : 1;
	if (ui->out.scroll < 0)
		ui->out.scroll = 0;
}

static void
key_tail(struct ui *ui)
{
	ui->out.scroll = 0;
}

static void
key_help(struct ui *ui)
{
	ui->help = !ui->help;
	ui->help_top = 0;
}

static void
key_redraw(struct ui *ui)
{
	clearok(curscr, TRUE);
}

static void
key_escape(struct ui *ui)
{
	free(ui->message);
	ui->message = NULL;
	if (ui->filter != NULL)
		ui_on_filter(ui, "");
}

/* Click selects; the wheel moves the selection. */
static void
key_mouse(struct ui *ui)
{
	MEVENT m;
	int row;

	if (getmouse(&m) != OK)
		return;
	if (m.bstate & BUTTON4_PRESSED) {
		key_up(ui);
		return;
	}
	if (m.bstate & BUTTON5_PRESSED) {
		key_down(ui);
		return;
	}
	row = m.y - ui->list_y;
	if (ui->help || ui->mx.open || m.x >= ui->list_w || row < 0 ||
	    (size_t)row >= ui->nlist_rows || ui->list_rows[row] == (size_t)-1)
		return;
	if (ui->list_lanes[row])
		ui_select_lanes(ui, ui->list_rows[row]);
	else
		ui_select(ui, ui->list_rows[row]);
}

static void
key_auto(struct ui *ui)
{
	struct engine *e = ui->e;

	engine_set_hold(e, !engine_hold(e));
	if (engine_hold(e)) {
		ui_message(ui, 0, "hold: nothing new starts by itself (running "
		    "steps go on); Enter runs one step");
		return;
	}
	if (engine_halted(e))
		ui_message(ui, 1, "automatic, but a step failed: retry or skip "
		    "it first");
	else
		ui_message(ui, 0, "automatic: every step that may start, "
		    "starts (a again to hold)");
}

/* Enter: start the selected step now. */
static void
key_run(struct ui *ui)
{
	ui_act_begin(ui, ACT_RUN, NULL, 0);
}

static void
key_confirm(struct ui *ui)
{
	ui_act_begin(ui, ACT_CONFIRM, "confirm", 0);
}

static void
key_go(struct ui *ui)
{
	ui_act_begin(ui, ACT_GO, "GO at", 1);
}

static void
key_nogo(struct ui *ui)
{
	ui_act_begin(ui, ACT_NOGO, "NO-GO at", 1);
}

static void
key_skip(struct ui *ui)
{
	ui_act_begin(ui, ACT_SKIP, "skip", 1);
}

static void
key_retry(struct ui *ui)
{
	ui_act_begin(ui, ACT_RETRY, NULL, 0);
}

/* The engine's action behind a console action on step s. */
static enum engine_action
ui_act_action(int act, struct engine_step *s)
{
	switch (act) {
	case ACT_CONFIRM:
		return ENGINE_CONFIRM;
	case ACT_GO:
	case ACT_NOGO:
		return ENGINE_DECIDE;
	case ACT_SKIP:
		return ENGINE_SKIP;
	case ACT_RETRY:
		return engine_which_retry(s);
	}
	return ENGINE_RUN;
}

/*
 * Begin collecting an action on the selected step, if the engine allows
 * it (else say why, before asking anything): a note or reason first if
 * label (what the prompt says before the step id) is given.
 */
static void
ui_act_begin(struct ui *ui, int act, const char *label, int required)
{
	struct engine_step *s = ui_selected(ui);
	const char *why;
	char *text;

	if (s == NULL) {
		if (ui_selected_lanes(ui) != NULL)
			ui_message(ui, 1, "%s runs once per entity: e opens the "
			    "matrix, where Enter picks an instance",
			    ui_selected_lanes(ui)->id);
		return;
	}
	if (engine_may(ui->e, s, ui_act_action(act, s), &why) != 0) {
		ui_message(ui, 1, "%s", why);
		return;
	}
	ui->act_step = s;
	ui->act = act;
	free(ui->act_text);
	ui->act_text = NULL;
	if (label == NULL) {
		ui_act_text(ui, NULL);
		return;
	}
	text = xprintf("%s %s; %s: ", label, s->id,
	    required ? "reason (required)" : "note (optional)");
	ui_prompt_open(ui, text, required, ui_act_text);
	if (act == ACT_GO || act == ACT_NOGO)
		ui_evidence_show(ui, s);
	free(text);
}

/* Does this action in this run need the step id typed? */
static int
ui_dangerous(struct ui *ui)
{
	return engine_needs_id(ui->e, ui->act_step,
	    ui_act_action(ui->act, ui->act_step));
}

/* The text (note, reason) is in; ask for the id if it is dangerous. */
static void
ui_act_text(struct ui *ui, const char *text)
{
	char *label;

	free(ui->act_text);
	ui->act_text = text != NULL && *text != '\0' ? xstrdup(text) : NULL;
	if (!ui_dangerous(ui)) {
		ui_act_do(ui);
		return;
	}
	label = xprintf("LIVE run: type %s to %s it: ", ui->act_step->id,
	    ui->act == ACT_RUN ? "run" : ui->act == ACT_GO ? "pass"
	    : ui->act == ACT_NOGO ? "fail" : ui->act == ACT_SKIP ? "skip"
	    : "retry");
	ui_prompt_open(ui, label, 1, ui_act_id);
	ui->prompt.overlay = ui->act == ACT_GO || ui->act == ACT_NOGO;
	free(label);
}

static void
ui_act_id(struct ui *ui, const char *text)
{
	if (strcmp(text, ui->act_step->id) != 0) {
		ui_message(ui, 1, "not done: '%s' is not the step id %s", text,
		    ui->act_step->id);
		ui->act = ACT_NONE;
		return;
	}
	ui_act_do(ui);
}

/* Enter, or the retry that follows r: start s now, or say why not. */
static void
ui_act_start(struct ui *ui, struct engine_step *s)
{
	const char *why = "";

	if (engine_start_one(ui->e, s, &why) != 0) {
		ui_message(ui, 1, "%s", why);
	} else
		ui_message(ui, 0, "%s started", s->id);
}

/* Everything asked for is in: act through the engine. */
static void
ui_act_do(struct ui *ui)
{
	struct engine_step *s = ui->act_step;
	const char *t = ui->act_text;
	int act = ui->act, rc = -1;

	ui->act = ACT_NONE;
	switch (act) {
	case ACT_RUN:
		ui_act_start(ui, s);
		return;
	case ACT_CONFIRM:
		rc = engine_confirm(ui->e, s, t);
		break;
	case ACT_GO:
	case ACT_NOGO:
		rc = engine_decide(ui->e, s, act == ACT_GO, t);
		break;
	case ACT_SKIP:
		rc = engine_skip(ui->e, s, t);
		break;
	case ACT_RETRY:
		if (engine_which_retry(s) == ENGINE_ROLLBACK_RETRY) {
			/* A step being rolled back: its rollback action again. */
			if ((rc = engine_rollback_retry(ui->e, s)) == 0)
				ui_message(ui, 0, "%s: rolling back again", s->id);
			ui->changed |= ENGINE_CHANGED_STATE;
			return;
		}
		if ((rc = engine_retry(ui->e, s)) == EXIT_DONE) {
			ui_act_start(ui, s);
			return;
		}
		break;
	}
	if (rc == EXIT_DONE)
		ui_message(ui, 0, "%s: %s by %s", s->id,
		    act == ACT_CONFIRM ? "confirmed" : act == ACT_GO ? "go"
		    : act == ACT_NOGO ? "no-go" : "skipped",
		    state_operator(ui->st));
	ui->changed |= ENGINE_CHANGED_STATE;
}

static void
key_search(struct ui *ui)
{
	ui_prompt_open(ui, "/", 0, ui_on_search);
}

static void
ui_on_search(struct ui *ui, const char *text)
{
	if (*text != '\0') {
		free(ui->search);
		ui->search = xstrdup(text);
	}
	ui_search_from(ui, 1);
}

static void
key_next(struct ui *ui)
{
	ui_search_from(ui, 1);
}

static void
key_prev(struct ui *ui)
{
	ui_search_from(ui, -1);
}

/* Select the next step (dir 1) or the previous (-1) matching the search. */
static void
ui_search_from(struct ui *ui, int dir)
{
	long n = (long)engine_nsteps(ui->e), i, k;
	struct rb_step *d;

	if (ui->search == NULL) {
		ui_message(ui, 1, "no search yet: / searches");
		return;
	}
	for (k = 1; k <= n; k++) {
		i = ((long)ui->sel + n + dir * k) % n;
		if (!ui_step_shown(ui, (size_t)i))
			continue;
		d = engine_step_at(ui->e, i)->def;
		if (strcasestr(d->id, ui->search) != NULL ||
		    (d->title != NULL && strcasestr(d->title, ui->search))) {
			ui_select(ui, (size_t)i);
			return;
		}
	}
	ui_message(ui, 1, "no step matches '%s'", ui->search);
}

static void
key_quit(struct ui *ui)
{
	if (ui->watch || engine_running(ui->e) == 0) {
		ui->quit = 1;
		return;
	}
	ui_prompt_yesno(ui, engine_running(ui->e) == 1 ? "a step is running: quit "
	    "and stop it (it ends interrupted)? [y/N] " : "steps are running: "
	    "quit and stop them (they end interrupted)? [y/N] ", ui_on_quit);
}

static void
ui_on_quit(struct ui *ui, const char *text)
{
	if (*text != 'y' && *text != 'Y')
		return;
	if (engine_running(ui->e) == 0) {
		ui->quit = 1;
		return;
	}
	ui->stop_asked = 1;
	engine_stop(ui->e, "stopped: the console quit");
	ui_message(ui, 0, "stopping: waiting for the running steps to end");
}
