/*
 * ui-matrix.c - the entity x step matrix, on `e`: the entities of the
 * run's selection down, the steps of its for_each phases across, each
 * cell the state glyph of one instance. Filters narrow the entities shown
 * (a wave, entities with an instance in some states, text in their id or
 * title); Enter opens the instance under the cursor in the details.
 *
 * Only what fits is drawn, and the rows are worked out again from the
 * engine's table on each draw (a pass over entities x steps, no store
 * access), so 500 entities x 30 steps cost nothing a key would feel.
 */
#include "config.h"

#include <curses.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ui.h"
#include "xmalloc.h"

#define UI_MX_CELL 2   /* columns a cell takes: its glyph and a space */
#define UI_MX_IDMIN 10 /* the entity column, at least */
#define UI_MX_IDMAX 24 /* and at most */

static void ui_matrix_columns(struct ui *);
static int ui_matrix_keep(struct ui *, struct rb_entity *);
static void ui_matrix_rows(struct ui *);
static struct engine_step *ui_matrix_cell(struct ui *);
static void ui_matrix_open_cell(struct ui *);
static void ui_matrix_wave_menu(struct ui *);
static void ui_matrix_on_wave(struct ui *, size_t);
static void ui_matrix_state_menu(struct ui *);
static void ui_matrix_on_state(struct ui *, size_t);
static void ui_matrix_on_text(struct ui *, const char *);
static void ui_matrix_title(struct ui *, int);
static void ui_matrix_header(struct ui *, int, int, size_t);
static void ui_matrix_row(struct ui *, int, int, size_t, size_t);
static void ui_matrix_scroll(struct ui *, int, size_t);
static void ui_matrix_mouse(struct ui *);

/* The state filters the f menu offers, as ui_filter_set would read them. */
static const struct {
	const char *label;
	unsigned states;
} ui_mx_states[] = {
	{ "every entity", 0 },
	{ "needs attention or runs: WAIT FAIL RUN",
	    ST_BIT(ST_AWAITING) | ST_BIT(ST_FAILED) | ST_BIT(ST_RUNNING) |
	    ST_BIT(ST_INTERRUPTED) | ST_BIT(ST_ROLLBACK_FAILED) },
	{ "failed: FAIL RBKF", ST_BIT(ST_FAILED) | ST_BIT(ST_ROLLBACK_FAILED) },
	{ "waiting for a person: WAIT INTR",
	    ST_BIT(ST_AWAITING) | ST_BIT(ST_INTERRUPTED) },
	{ "running: RUN", ST_BIT(ST_RUNNING) },
	{ "excluded: excl", ST_BIT(ST_EXCLUDED) },
	{ "not started: pend", ST_BIT(ST_PENDING) },
};
#define UI_MX_NSTATES (sizeof ui_mx_states / sizeof ui_mx_states[0])

void
ui_lanes_counts(struct ui *ui, const struct rb_step *def, int all,
    struct buf *b)
{
	/* always these four, then any other state that has instances */
	static const enum step_state order[] = { ST_SUCCEEDED, ST_RUNNING,
		ST_FAILED, ST_AWAITING, ST_INTERRUPTED, ST_ROLLBACK_FAILED,
		ST_EXCLUDED, ST_SKIPPED, ST_ROLLED_BACK, ST_PENDING };
	size_t counts[ST_NSTATES], i;

	engine_step_counts(ui->e, def, counts);
	for (i = 0; i < sizeof order / sizeof order[0]; i++) {
		if ((i >= 4 || !all) && counts[order[i]] == 0)
			continue;
		buf_printf(b, "%s%s%zu", b->len > 0 ? " " : "",
		    ui_state_glyph(ui, order[i]), counts[order[i]]);
	}
	buf_printf(b, "%s/%zu", b->len > 0 ? " " : "",
	    engine_nentities(ui->e));
}

/* Counts by state of def's instances, those of excluded entities counted
 * as excluded whatever their state (a lane that dropped out needs no
 * one). */
void
ui_lanes_live_counts(struct ui *ui, const struct rb_step *def,
    size_t counts[ST_NSTATES])
{
	struct engine_step *s;
	size_t ne = engine_nentities(ui->e), i;

	engine_step_counts(ui->e, def, counts);
	if (counts[ST_FAILED] + counts[ST_AWAITING] + counts[ST_INTERRUPTED] +
	    counts[ST_ROLLBACK_FAILED] == 0)
		return;
	for (i = 0; i < ne; i++) {
		s = engine_instance(ui->e, def, engine_entity_at(ui->e, i));
		if (s == NULL || s->state == ST_EXCLUDED ||
		    (s->state != ST_FAILED && s->state != ST_AWAITING &&
		    s->state != ST_INTERRUPTED && s->state !=
		    ST_ROLLBACK_FAILED) || engine_entity_state(ui->e,
		    s->entity) != ENT_EXCLUDED)
			continue;
		counts[s->state]--;
		counts[ST_EXCLUDED]++;
	}
}

/* The columns: every step of a for_each phase, runbook order. */
static void
ui_matrix_columns(struct ui *ui)
{
	struct runbook *rb = ui->rb;
	size_t i;

	free(ui->mx.cols);
	ui->mx.cols = xcalloc(rb->nsteps ? rb->nsteps : 1,
	    sizeof *ui->mx.cols);
	ui->mx.ncols = 0;
	for (i = 0; i < rb->nsteps; i++) {
		if (runbook_step_in_lanes(rb, &rb->steps[i]))
			ui->mx.cols[ui->mx.ncols++] = i;
	}
}

/* Does entity en pass the matrix's filters? */
static int
ui_matrix_keep(struct ui *ui, struct rb_entity *en)
{
	struct ui_matrix *m = &ui->mx;
	struct engine_step *s;
	size_t c;

	if (m->wave != NULL && (en->wave == NULL || strcmp(en->wave,
	    m->wave) != 0))
		return 0;
	if (m->text != NULL && strcasestr(en->id, m->text) == NULL &&
	    (en->title == NULL || strcasestr(en->title, m->text) == NULL))
		return 0;
	if (m->states == 0)
		return 1;
	for (c = 0; c < m->ncols; c++) {
		s = engine_instance(ui->e, &ui->rb->steps[m->cols[c]], en);
		if (s != NULL && (m->states & ST_BIT(s->state)))
			return 1;
	}
	return 0;
}

/* The entities shown, the cursor kept on its entity where it can be. */
static void
ui_matrix_rows(struct ui *ui)
{
	struct ui_matrix *m = &ui->mx;
	size_t ne = engine_nentities(ui->e), i, cur = (size_t)-1;

	if (m->row < m->nrows)
		cur = m->rows[m->row];
	if (m->arows < ne) {
		m->arows = ne;
		m->rows = xreallocarray(m->rows, ne ? ne : 1, sizeof *m->rows);
	}
	m->nrows = 0;
	for (i = 0; i < ne; i++) {
		if (ui_matrix_keep(ui, engine_entity_at(ui->e, i))) {
			if (i == cur)
				m->row = m->nrows;
			m->rows[m->nrows++] = i;
		}
	}
	if (m->row >= m->nrows)
		m->row = m->nrows > 0 ? m->nrows - 1 : 0;
	if (m->col >= m->ncols)
		m->col = m->ncols > 0 ? m->ncols - 1 : 0;
}

void
ui_matrix_toggle(struct ui *ui)
{
	struct engine_step *s;

	if (ui->mx.open) {
		ui->mx.open = 0;
		return;
	}
	if (!runbook_has_lanes(ui->rb)) {
		ui_message(ui, 1, "this runbook has no for_each phase: no "
		    "entity x step matrix");
		return;
	}
	ui_matrix_columns(ui);
	if (engine_nentities(ui->e) == 0 || ui->mx.ncols == 0) {
		ui_message(ui, 1, "run %lld covers no entity",
		    (long long)engine_run_info(ui->e)->id);
		return;
	}
	ui->mx.open = 1;
	/* Start where the list is: the selected step's column and entity. */
	s = ui->sel < engine_nsteps(ui->e) ? engine_step_at(ui->e, ui->sel) :
	    NULL;
	ui_matrix_rows(ui);
	if (s != NULL && s->entity != NULL) {
		for (ui->mx.col = 0; ui->mx.col < ui->mx.ncols &&
		    ui->mx.cols[ui->mx.col] != s->def->index; ui->mx.col++)
			;
		if (!ui->sel_lanes)
			for (ui->mx.row = 0; ui->mx.row < ui->mx.nrows &&
			    engine_entity_at(ui->e, ui->mx.rows[ui->mx.row]) !=
			    s->entity; ui->mx.row++)
				;
		ui_matrix_rows(ui);
	}
}

void
ui_matrix_free(struct ui *ui)
{
	free(ui->mx.cols);
	free(ui->mx.rows);
	free(ui->mx.wave);
	free(ui->mx.text);
	memset(&ui->mx, 0, sizeof ui->mx);
}

/* The instance under the cursor, or NULL. */
static struct engine_step *
ui_matrix_cell(struct ui *ui)
{
	struct ui_matrix *m = &ui->mx;

	if (m->row >= m->nrows || m->col >= m->ncols)
		return NULL;
	return engine_instance(ui->e, &ui->rb->steps[m->cols[m->col]],
	    engine_entity_at(ui->e, m->rows[m->row]));
}

/* Enter: the instance in the details, the matrix closed. */
static void
ui_matrix_open_cell(struct ui *ui)
{
	struct engine_step *s = ui_matrix_cell(ui);

	if (s == NULL)
		return;
	ui->mx.open = 0;
	ui_select(ui, s->index);
}

static void
ui_matrix_wave_menu(struct ui *ui)
{
	const char **items = xcalloc(ui->rb->nwaves + 1, sizeof *items);
	size_t i, cur = 0;

	items[0] = "every wave";
	for (i = 0; i < ui->rb->nwaves; i++) {
		items[i + 1] = ui->rb->waves[i];
		if (ui->mx.wave != NULL && strcmp(ui->mx.wave,
		    ui->rb->waves[i]) == 0)
			cur = i + 1;
	}
	ui_menu_open(ui, "entities of the wave (Enter chooses)", items,
	    ui->rb->nwaves + 1, cur, ui_matrix_on_wave);
	free(items);
}

static void
ui_matrix_on_wave(struct ui *ui, size_t i)
{
	free(ui->mx.wave);
	ui->mx.wave = i > 0 && i <= ui->rb->nwaves ?
	    xstrdup(ui->rb->waves[i - 1]) : NULL;
	ui->mx.top = 0;
	ui_matrix_rows(ui);
}

static void
ui_matrix_state_menu(struct ui *ui)
{
	const char *items[UI_MX_NSTATES];
	size_t i, cur = 0;

	for (i = 0; i < UI_MX_NSTATES; i++) {
		items[i] = ui_mx_states[i].label;
		if (ui_mx_states[i].states == ui->mx.states)
			cur = i;
	}
	ui_menu_open(ui, "entities with an instance that is (Enter chooses)",
	    items, UI_MX_NSTATES, cur, ui_matrix_on_state);
}

static void
ui_matrix_on_state(struct ui *ui, size_t i)
{
	ui->mx.states = i < UI_MX_NSTATES ? ui_mx_states[i].states : 0;
	ui->mx.top = 0;
	ui_matrix_rows(ui);
}

static void
ui_matrix_on_text(struct ui *ui, const char *text)
{
	free(ui->mx.text);
	ui->mx.text = *text != '\0' ? xstrdup(text) : NULL;
	ui->mx.top = 0;
	ui_matrix_rows(ui);
}

/* A click moves the cursor to the cell (or row) under it; the wheel
 * moves it up and down. */
static void
ui_matrix_mouse(struct ui *ui)
{
	struct ui_matrix *m = &ui->mx;
	MEVENT ev;
	size_t r, c;

	if (getmouse(&ev) != OK)
		return;
	if (ev.bstate & BUTTON4_PRESSED) {
		m->row = m->row > 0 ? m->row - 1 : 0;
		return;
	}
	if (ev.bstate & BUTTON5_PRESSED) {
		if (m->row + 1 < m->nrows)
			m->row++;
		return;
	}
	if (ev.y < m->y0 || (size_t)(ev.y - m->y0) >= m->nshown)
		return;
	r = m->top + (size_t)(ev.y - m->y0);
	if (r < m->nrows)
		m->row = r;
	if (ev.x >= m->ew) {
		c = m->left + (size_t)((ev.x - m->ew) / UI_MX_CELL);
		if (c < m->ncols)
			m->col = c;
	}
}

int
ui_matrix_key(struct ui *ui, int key)
{
	struct ui_matrix *m = &ui->mx;
	int page = LINES - 8 > 1 ? LINES - 8 : 1;

	switch (key) {
	case KEY_UP: case 'k':
		m->row = m->row > 0 ? m->row - 1 : 0;
		break;
	case KEY_DOWN: case 'j':
		if (m->row + 1 < m->nrows)
			m->row++;
		break;
	case KEY_LEFT: case 'h':
		m->col = m->col > 0 ? m->col - 1 : 0;
		break;
	case KEY_RIGHT: case 'l':
		if (m->col + 1 < m->ncols)
			m->col++;
		break;
	case KEY_PPAGE:
		m->row = m->row > (size_t)page ? m->row - (size_t)page : 0;
		break;
	case KEY_NPAGE:
		m->row = m->row + (size_t)page < m->nrows ? m->row +
		    (size_t)page : m->nrows > 0 ? m->nrows - 1 : 0;
		break;
	case KEY_HOME:
		m->row = 0;
		break;
	case KEY_END:
		m->row = m->nrows > 0 ? m->nrows - 1 : 0;
		break;
	case '\r': case '\n': case KEY_ENTER:
		ui_matrix_open_cell(ui);
		break;
	case 'e': case 27: case 'q':
		m->open = 0;
		break;
	case 'w':
		ui_matrix_wave_menu(ui);
		break;
	case 'f':
		ui_matrix_state_menu(ui);
		break;
	case '/':
		ui_prompt_open(ui, "entities whose id or title holds (empty: "
		    "all): ", 0, ui_matrix_on_text);
		break;
	case KEY_MOUSE:
		ui_matrix_mouse(ui);
		break;
	case '?': case KEY_F(1): case 'L' & 0x1f: case 'a':
		return 0;
	default:
		ui_message(ui, 1, "matrix: arrows or hjkl move, Enter opens the "
		    "instance, w wave, f state, / text, e or Esc closes");
	}
	return 1;
}

/* The lines over the matrix: what it shows, and the cell under the
 * cursor. */
static void
ui_matrix_title(struct ui *ui, int y)
{
	struct ui_matrix *m = &ui->mx;
	struct engine_step *s = ui_matrix_cell(ui);
	struct buf b = { 0 };
	size_t i;

	buf_printf(&b, "entities x steps: %zu of %zu", m->nrows,
	    engine_nentities(ui->e));
	if (m->wave != NULL)
		buf_printf(&b, ", wave %s", m->wave);
	for (i = 1; i < UI_MX_NSTATES && m->states != 0; i++)
		if (ui_mx_states[i].states == m->states)
			buf_printf(&b, ", %s", ui_mx_states[i].label);
	if (m->text != NULL)
		buf_printf(&b, ", \"%s\"", m->text);
	ui_fill(ui, y, 0, COLS, T_TITLE);
	ui_puts(ui, y, 0, COLS, T_TITLE, b.data);
	buf_reset(&b);
	if (s != NULL) {
		buf_printf(&b, "%s: %s (step %zu of %zu)", s->id,
		    step_state_name(s->state), m->col + 1, m->ncols);
		if (s->entity->title != NULL)
			buf_printf(&b, "  %s", s->entity->title);
	}
	ui_fill(ui, y + 1, 0, COLS, T_NORMAL);
	if (s != NULL)
		ui_puts(ui, y + 1, 0, COLS, ui_state_el(s->state), b.data);
	buf_free(&b);
}

/* The column heads: each step's number (its last digit), the cursor's
 * column marked; ncol columns from m->left. */
static void
ui_matrix_header(struct ui *ui, int y, int ew, size_t ncol)
{
	struct ui_matrix *m = &ui->mx;
	char num[4];
	size_t c;

	ui_fill(ui, y, 0, COLS, T_LABEL);
	ui_puts(ui, y, 0, ew, T_LABEL, m->left > 0 ? " entity  <" : " entity");
	for (c = m->left; c < m->left + ncol && c < m->ncols; c++) {
		if (c == m->col)
			snprintf(num, sizeof num, "%s", ui->utf8 ?
			    "\xe2\x96\xbc" : "v");
		else
			snprintf(num, sizeof num, "%zu", (c + 1) % 10);
		ui_puts(ui, y, ew + (int)(c - m->left) * UI_MX_CELL, 1,
		    c == m->col ? T_SELECTED : T_LABEL, num);
	}
	if (m->left + ncol < m->ncols)
		ui_puts(ui, y, COLS - 1, 1, T_LABEL, ">");
}

/* One entity: its id, then a glyph per step. */
static void
ui_matrix_row(struct ui *ui, int y, int ew, size_t r, size_t ncol)
{
	struct ui_matrix *m = &ui->mx;
	struct rb_entity *en = engine_entity_at(ui->e, m->rows[r]);
	struct engine_step *s;
	enum theme_element el;
	size_t c;
	int x, excl;

	excl = engine_entity_state(ui->e, en) == ENT_EXCLUDED;
	el = r == m->row ? T_SELECTED : excl ? T_SKIPPED : T_STEP;
	if (r == m->row)
		ui_fill(ui, y, 0, ew - 1, T_SELECTED);
	x = ui_puts(ui, y, 0, ew - 1, el, r == m->row ? ">" : excl ?
	    ui_state_glyph(ui, ST_EXCLUDED) : " ");
	x += ui_puts(ui, y, x, ew - 1 - x, el, en->id);
	if (en->wave != NULL && x + 2 + (int)strlen(en->wave) < ew - 1)
		ui_puts(ui, y, x + 1, ew - 2 - x, r == m->row ? el :
		    T_OUTPUT_INFO, en->wave);
	for (c = m->left; c < m->left + ncol && c < m->ncols; c++) {
		s = engine_instance(ui->e, &ui->rb->steps[m->cols[c]], en);
		if (s == NULL)
			continue;
		x = ew + (int)(c - m->left) * UI_MX_CELL;
		el = r == m->row && c == m->col ? T_SELECTED :
		    ui_state_el(s->state);
		ui_puts(ui, y, x, 1, el, ui_state_glyph(ui, s->state));
	}
}

/* Keep the cursor shown: h rows, ncol columns. */
static void
ui_matrix_scroll(struct ui *ui, int h, size_t ncol)
{
	struct ui_matrix *m = &ui->mx;

	if (m->row < m->top)
		m->top = m->row;
	if (h > 0 && m->row >= m->top + (size_t)h)
		m->top = m->row - (size_t)h + 1;
	if (m->col < m->left)
		m->left = m->col;
	if (ncol > 0 && m->col >= m->left + ncol)
		m->left = m->col - ncol + 1;
}

void
ui_matrix_draw(struct ui *ui, int y, int h)
{
	struct ui_matrix *m = &ui->mx;
	int ew, rows = h - 4, r;
	size_t ncol;

	ui_matrix_rows(ui);
	ew = COLS - (int)m->ncols * UI_MX_CELL - 1;
	ew = ew < UI_MX_IDMIN ? UI_MX_IDMIN : ew > UI_MX_IDMAX ? UI_MX_IDMAX :
	    ew;
	ncol = (size_t)((COLS - ew - 1) / UI_MX_CELL);
	ui_matrix_scroll(ui, rows, ncol);
	m->y0 = y + 3;
	m->ew = ew;
	m->nshown = rows > 0 ? (size_t)rows : 0;
	ui_matrix_title(ui, y);
	ui_matrix_header(ui, y + 2, ew, ncol);
	for (r = 0; r < rows; r++) {
		ui_fill(ui, y + 3 + r, 0, COLS, T_NORMAL);
		if (m->top + (size_t)r < m->nrows)
			ui_matrix_row(ui, y + 3 + r, ew, m->top + (size_t)r, ncol);
	}
	if (m->nrows == 0)
		ui_puts(ui, y + 3, 0, COLS, T_OUTPUT_INFO, "no entity passes "
		    "the filters (w wave, f state, / text)");
	ui_fill(ui, y + h - 1, 0, COLS, T_HINTS);
	ui_puts(ui, y + h - 1, 0, COLS, T_HINTS, "Enter opens the instance  "
	    "w wave  f state  / text  hjkl move  e or Esc closes");
}
