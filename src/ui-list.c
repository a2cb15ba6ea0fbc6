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
	return strcasestr(s->id, ui->filter) != NULL ||
	    (s->def->title != NULL && strcasestr(s->def->title,
	        ui->filter) != NULL);
}

int
ui_step_shown(struct ui *ui, size_t i)
{
	return i < engine_nsteps(ui->e) &&
	    ui_filter_match(ui, engine_step_at(ui->e, i));
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

void
ui_list_build(struct ui *ui)
{
	size_t n = engine_nsteps(ui->e), i, phase = (size_t)-1;
	struct engine_step *s;

	ui->nlist = 0;
	ui->nmatch = 0;
	for (i = 0; i < n; i++) {
		s = engine_step_at(ui->e, i);
		if (!ui_filter_match(ui, s))
			continue;
		ui->nmatch++;
		if (s->def->phase != phase) {
			phase = s->def->phase;
			ui_list_add(ui, UI_ROW_PHASE, phase);
		}
		ui_list_add(ui, UI_ROW_STEP, i);
	}
}

/* The row of the selection, or -1 if the filter hides it. */
static long
ui_list_find(struct ui *ui)
{
	size_t r;

	for (r = 0; r < ui->nlist; r++) {
		if (ui->list[r].kind == UI_ROW_STEP && ui->list[r].i == ui->sel)
			return (long)r;
	}
	return -1;
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
			if (ui->list[r].kind == UI_ROW_STEP && (dir > 0 ?
			    ui->list[r].i > ui->sel : ui->list[r].i < ui->sel)) {
				ui_select(ui, ui->list[r].i);
				return;
			}
		}
		ui_list_end(ui, dir > 0);
		return;
	}
	for (r = start + dir; r >= 0 && r < (long)ui->nlist; r += dir) {
		if (ui->list[r].kind == UI_ROW_STEP) {
			ui_select(ui, ui->list[r].i);
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
		if (ui->list[r].kind == UI_ROW_STEP) {
			ui_select(ui, ui->list[r].i);
			return;
		}
	}
}
