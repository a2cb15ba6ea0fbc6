/*
 * ui-list.c - what the step list shows: its rows (phase headings, steps),
 * built afresh for each draw and each move, and the filter that narrows
 * it, as htop's F4 and k9s's / do: states (`wait fail run`) or text
 * matched against ids and titles.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ui.h"
#include "xmalloc.h"

static unsigned ui_filter_word(const char *, size_t);
static int ui_filter_match(struct ui *, struct engine_step *);
static int ui_filter_text(struct ui *, const char *, const char *);
static int ui_filter_lanes(struct ui *, const struct rb_step *);
static void ui_list_pick(struct ui *, size_t);
static void ui_list_add(struct ui *, enum ui_row_kind, size_t);
static long ui_list_find(struct ui *);

/* The states a filter word names (a short form or a state's name, any
 * case), or 0. */
static unsigned
ui_filter_word(const char *w, size_t len)
{
	char word[32];
	enum step_state st;
	unsigned bits = 0;
	int i;

	if (len == 0 || len >= sizeof word)
		return 0;
	memcpy(word, w, len);
	word[len] = '\0';
	for (i = 0; i < ST_NSTATES; i++) {
		if (strcasecmp(word, ui_state_short((enum step_state)i)) == 0)
			bits |= ST_BIT(i);
	}
	if (step_state_parse(word, &st) == 0)
		bits |= ST_BIT(st);
	return bits;
}

void
ui_filter_set(struct ui *ui, const char *text)
{
	const char *p = text;
	unsigned bits = 0, b;
	size_t n;

	free(ui->filter);
	ui->filter = NULL;
	ui->filter_states = 0;
	while (*p == ' ')
		p++;
	if (*p == '\0')
		return;
	ui->filter = xstrdup(p);
	/* Every word a state: a filter by state; else text. */
	while (*p != '\0') {
		n = strcspn(p, " ,");
		if (n > 0) {
			if ((b = ui_filter_word(p, n)) == 0)
				return;
			bits |= b;
		}
		p += n;
		p += strspn(p, " ,");
	}
	ui->filter_states = bits;
}

/* Does step s pass the filter? */
static int
ui_filter_match(struct ui *ui, struct engine_step *s)
{
	if (ui->filter == NULL)
		return 1;
	if (ui->filter_states != 0)
		return (ui->filter_states & ST_BIT(s->state)) != 0;
	return ui_filter_text(ui, s->id, s->def->title);
}

/* Do id or title hold the filter's text? */
static int
ui_filter_text(struct ui *ui, const char *id, const char *title)
{
	return strcasestr(id, ui->filter) != NULL ||
	    (title != NULL && strcasestr(title, ui->filter) != NULL);
}

/* Does the summary of for_each step def pass the filter: its id or title
 * the text, or one of its instances a state? */
static int
ui_filter_lanes(struct ui *ui, const struct rb_step *def)
{
	size_t counts[ST_NSTATES], i;

	if (ui->filter == NULL)
		return 1;
	if (ui->filter_states == 0)
		return ui_filter_text(ui, def->id, def->title);
	ui_lanes_live_counts(ui, def, counts);
	for (i = 0; i < ST_NSTATES; i++) {
		if (counts[i] > 0 && (ui->filter_states & ST_BIT(i)))
			return 1;
	}
	return 0;
}

int
ui_step_shown(struct ui *ui, size_t i)
{
	struct engine_step *s;

	if (i >= engine_nsteps(ui->e))
		return 0;
	s = engine_step_at(ui->e, i);
	return s->entity != NULL ? ui_filter_lanes(ui, s->def) :
	    ui_filter_match(ui, s);
}

static void
ui_list_add(struct ui *ui, enum ui_row_kind kind, size_t i)
{
	if (ui->nlist == ui->alist) {
		ui->alist = ui->alist ? ui->alist * 2 : 64;
		ui->list = xreallocarray(ui->list, ui->alist, sizeof *ui->list);
	}
	ui->list[ui->nlist].kind = kind;
	ui->list[ui->nlist].i = i;
	ui->nlist++;
}

/*
 * The rows: a phase heading before its first step shown, then each plain
 * step, and one summary row for each for_each step (its instances follow
 * one another in the engine's table: the rest are skipped).
 */
void
ui_list_build(struct ui *ui)
{
	size_t n = engine_nsteps(ui->e), ne = engine_nentities(ui->e), i;
	size_t phase = (size_t)-1;
	struct engine_step *s;
	int shown;

	ui->nlist = 0;
	ui->nmatch = 0;
	ui->ntotal = 0;
	for (i = 0; i < n; i++) {
		s = engine_step_at(ui->e, i);
		ui->ntotal++;
		shown = s->entity != NULL ? ui_filter_lanes(ui, s->def) :
		    ui_filter_match(ui, s);
		if (shown) {
			ui->nmatch++;
			if (s->def->phase != phase) {
				phase = s->def->phase;
				ui_list_add(ui, UI_ROW_PHASE, phase);
			}
			ui_list_add(ui, s->entity != NULL ? UI_ROW_LANES :
			    UI_ROW_STEP, i);
		}
		if (s->entity != NULL && ne > 0)
			i += ne - 1;
	}
}

int
ui_list_row_selected(struct ui *ui, const struct ui_list_row *row)
{
	struct engine_step *s;

	if (row->kind == UI_ROW_STEP)
		return row->i == ui->sel && !ui->sel_lanes;
	if (row->kind != UI_ROW_LANES || ui->sel >= engine_nsteps(ui->e))
		return 0;
	s = engine_step_at(ui->e, ui->sel);
	return s->entity != NULL &&
	    s->def == engine_step_at(ui->e, row->i)->def;
}

/* The row of the selection, or -1 if the filter hides it. */
static long
ui_list_find(struct ui *ui)
{
	size_t r;

	for (r = 0; r < ui->nlist; r++) {
		if (ui_list_row_selected(ui, &ui->list[r]))
			return (long)r;
	}
	return -1;
}

/* Select the step or summary of row r. */
static void
ui_list_pick(struct ui *ui, size_t r)
{
	if (ui->list[r].kind == UI_ROW_LANES)
		ui_select_lanes(ui, ui->list[r].i);
	else
		ui_select(ui, ui->list[r].i);
}

void
ui_list_move(struct ui *ui, int dir)
{
	long r, start;

	ui_list_build(ui);
	start = ui_list_find(ui);
	if (start < 0) { /* hidden: the next shown step that way */
		for (r = dir > 0 ? 0 : (long)ui->nlist - 1;
		    r >= 0 && r < (long)ui->nlist; r += dir) {
			if (ui->list[r].kind != UI_ROW_PHASE && (dir > 0 ?
			    ui->list[r].i > ui->sel : ui->list[r].i < ui->sel)) {
				ui_list_pick(ui, (size_t)r);
				return;
			}
		}
		ui_list_end(ui, dir > 0);
		return;
	}
	for (r = start + dir; r >= 0 && r < (long)ui->nlist; r += dir) {
		if (ui->list[r].kind != UI_ROW_PHASE) {
			ui_list_pick(ui, (size_t)r);
			return;
		}
	}
}

void
ui_list_end(struct ui *ui, int last)
{
	long r;

	ui_list_build(ui);
	for (r = last ? (long)ui->nlist - 1 : 0; r >= 0 && r < (long)ui->nlist;
	    r += last ? -1 : 1) {
		if (ui->list[r].kind != UI_ROW_PHASE) {
			ui_list_pick(ui, (size_t)r);
			return;
		}
	}
}
