/*
 * ui-prompt.c - the prompt line: a question, a line of text typed in, Enter
 * to answer, Esc (or C-c, C-g) to cancel. A yes/no prompt takes one key.
 */
#include "config.h"

#include <curses.h>
#include <stdlib.h>
#include <string.h>

#include "ui.h"
#include "xmalloc.h"

#define UI_PROMPT_MAX 512

static void ui_prompt_answer(struct ui *, const char *);
static void ui_prompt_backspace(struct buf *);

void
ui_prompt_open(struct ui *ui, const char *label, int required,
    ui_prompt_cb done)
{
	ui_prompt_close(ui);
	ui->prompt.active = 1;
	ui->prompt.required = required;
	ui->prompt.label = xstrdup(label);
	ui->prompt.done = done;
	ui->dirty = 1;
}

void
ui_prompt_yesno(struct ui *ui, const char *label, ui_prompt_cb done)
{
	ui_prompt_open(ui, label, 0, done);
	ui->prompt.yesno = 1;
}

void
ui_prompt_close(struct ui *ui)
{
	free(ui->prompt.label);
	buf_free(&ui->prompt.text);
	memset(&ui->prompt, 0, sizeof ui->prompt);
	ui->dirty = 1;
}

/* Close the prompt, then hand the answer on (which may open another). */
static void
ui_prompt_answer(struct ui *ui, const char *text)
{
	ui_prompt_cb done = ui->prompt.done;
	char *copy = xstrdup(text);

	ui_prompt_close(ui);
	done(ui, copy);
	free(copy);
}

/* Remove the last character (a whole UTF-8 sequence). */
static void
ui_prompt_backspace(struct buf *b)
{
	while (b->len > 0) {
		b->len--;
		if (((unsigned char)b->data[b->len] & 0xc0) != 0x80)
			break;
	}
	if (b->data != NULL)
		b->data[b->len] = '\0';
}

void
ui_prompt_key(struct ui *ui, int key)
{
	struct ui_prompt *p = &ui->prompt;

	if (key == 27 || key == ('c' & 0x1f) || key == ('g' & 0x1f)) {
		ui_prompt_close(ui);
		ui_message(ui, 0, "cancelled");
		return;
	}
	if (p->yesno) {
		ui_prompt_answer(ui, key == 'y' || key == 'Y' ? "y" : "n");
		return;
	}
	if (key == '\r' || key == '\n' || key == KEY_ENTER) {
		if (p->required && p->text.len == 0) {
			ui_message(ui, 1, "an answer is required (Esc cancels)");
			return;
		}
		ui_prompt_answer(ui, buf_str(&p->text));
		return;
	}
	if (key == KEY_BACKSPACE || key == 127 || key == ('h' & 0x1f)) {
		ui_prompt_backspace(&p->text);
		return;
	}
	if (key == ('u' & 0x1f)) {
		buf_reset(&p->text);
		return;
	}
	/* Printable bytes, including those of UTF-8 sequences. */
	if (key >= 0x20 && key <= 0xff && key != 127 &&
	    p->text.len < UI_PROMPT_MAX)
		buf_addc(&p->text, (char)key);
}

void
ui_menu_open(struct ui *ui, const char *title, const char *const *items,
    size_t n, size_t cur, ui_menu_cb done)
{
	size_t i;

	ui_menu_close(ui);
	ui->menu.active = 1;
	ui->menu.title = xstrdup(title);
	ui->menu.items = xcalloc(n ? n : 1, sizeof *ui->menu.items);
	for (i = 0; i < n; i++)
		ui->menu.items[i] = xstrdup(items[i]);
	ui->menu.nitems = n;
	ui->menu.cur = cur < n ? cur : 0;
	ui->menu.done = done;
	ui->dirty = 1;
}

void
ui_menu_close(struct ui *ui)
{
	size_t i;

	for (i = 0; i < ui->menu.nitems; i++)
		free(ui->menu.items[i]);
	free(ui->menu.items);
	free(ui->menu.title);
	memset(&ui->menu, 0, sizeof ui->menu);
	ui->dirty = 1;
}

/* j/k and the arrows move, Home/End jump, Enter chooses, Esc cancels. */
void
ui_menu_key(struct ui *ui, int key)
{
	struct ui_menu *m = &ui->menu;
	ui_menu_cb done = m->done;
	size_t chosen = m->cur;

	if (key == 27 || key == 'q' || key == ('c' & 0x1f) ||
	    key == ('g' & 0x1f)) {
		ui_menu_close(ui);
		ui_message(ui, 0, "cancelled");
	} else if ((key == KEY_UP || key == 'k') && m->cur > 0)
		m->cur--;
	else if ((key == KEY_DOWN || key == 'j') && m->cur + 1 < m->nitems)
		m->cur++;
	else if (key == KEY_HOME)
		m->cur = 0;
	else if (key == KEY_END && m->nitems > 0)
		m->cur = m->nitems - 1;
	else if (key == '\r' || key == '\n' || key == KEY_ENTER) {
		ui_menu_close(ui);
		done(ui, chosen);
	}
}
