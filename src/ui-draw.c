/*
 * ui-draw.c - the screen, drawn whole from the engine and the cached rows
 * once per loop pass that needs it (curses sends only what changed).
 *
 *	header: title, run, REHEARSAL|LIVE, elapsed, time left, against plan
 *	steps by phase   | details of the selected step
 *	                 |-- output of the selected step ----------
 *	                 | ...
 *	message or prompt line
 *	key hints
 */
#include "config.h"

#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wchar.h>

#include "duration.h"
#include "loop.h"
#include "notify.h"
#include "report.h"
#include "step-kind.h"
#include "ui.h"
#include "xmalloc.h"

#define UI_MIN_COLS 40
#define UI_MIN_LINES 10
/* Lines: the terminal's line drawing with UTF-8, plain ASCII without. */
#define UI_HLINE(ui) ((ui)->utf8 ? ACS_HLINE : (chtype)'-')
#define UI_VLINE(ui) ((ui)->utf8 ? ACS_VLINE : (chtype)'|')

/* How each state shows in the step list: a short form and a glyph. */
static const struct {
	const char *shortw;
	const char *utf8, *ascii;
	enum theme_element el;
} ui_states[ST_NSTATES] = {
	[ST_PENDING] = { "pend", "·", ".", T_PENDING },
	[ST_RUNNING] = { "RUN", "▶", ">", T_RUNNING },
	[ST_SUCCEEDED] = { "ok", "✓", "+", T_SUCCEEDED },
	[ST_FAILED] = { "FAIL", "✗", "x", T_FAILED },
	[ST_INTERRUPTED] = { "INTR", "!", "!", T_INTERRUPTED },
	[ST_SKIPPED] = { "skip", "-", "-", T_SKIPPED },
	[ST_AWAITING] = { "WAIT", "◆", "?", T_AWAITING },
	[ST_ROLLED_BACK] = { "rbk", "↺", "<", T_ROLLED_BACK },
	[ST_ROLLBACK_FAILED] = { "RBKF", "✗", "X", T_ROLLBACK_FAILED },
};

static int ui_put(struct ui *, int, int, int, enum theme_element,
    const char *, size_t);
static int ui_put_used(struct ui *, int, int, int, enum theme_element,
    const char *, size_t, size_t *);
static int ui_puts(struct ui *, int, int, int, enum theme_element,
    const char *);
static void ui_fill(struct ui *, int, int, int, enum theme_element);
static void ui_hms(int64_t, char *, size_t);
static void ui_times(struct ui *, char *, char *, size_t);
static void ui_draw_header(struct ui *);
static void ui_draw_list(struct ui *, int, int, int);
static void ui_draw_step(struct ui *, int, int, struct engine_step *, int);
static int ui_draw_details(struct ui *, int, int, int, int);
static int ui_draw_record(struct ui *, int, int, int, int);
static int ui_draw_decisions(struct ui *, int, int, int, int);
static size_t ui_wrap(struct ui *, const char *, size_t, int, size_t *);
static int ui_count_lines(const char *);
static int ui_draw_field(struct ui *, int, int, int, int, const char *,
    const char *, enum theme_element, int);
static void ui_draw_output(struct ui *, int, int, int, int);
static void ui_output_text(struct ui *, struct engine_step *);
static void ui_draw_lines(struct ui *, int, int, int, int);
static void ui_draw_status(struct ui *, int);
static const char *ui_step_hint(struct ui *, struct engine_step *);
static void ui_draw_hints(struct ui *, int);
static void ui_draw_help(struct ui *);
static void ui_draw_plan(struct ui *);
static void ui_draw_box(struct ui *, int, int, int, int, int);

const char *
ui_state_short(enum step_state st)
{
	return ui_states[st].shortw;
}

/* Print len bytes of s at y,x in at most w columns; see ui_put_used. */
static int
ui_put(struct ui *ui, int y, int x, int w, enum theme_element el,
    const char *s, size_t len)
{
	return ui_put_used(ui, y, x, w, el, s, len, NULL);
}

/*
 * Print len bytes of s at y,x in at most w columns: control characters and
 * terminal escapes are dropped, tabs expand, invalid or (without UTF-8)
 * non-ASCII bytes show as '?'. Returns the columns used; *used (if not
 * NULL) is set to the bytes of s that fitted. With y < 0 it only measures.
 */
static int
ui_put_used(struct ui *ui, int y, int x, int w, enum theme_element el,
    const char *s, size_t len, size_t *used)
{
	struct buf b = { 0 };
	mbstate_t mbs;
	wchar_t wc;
	size_t i = 0, n;
	int cols = 0, cw;

	memset(&mbs, 0, sizeof mbs);
	while (i < len && cols < w) {
		unsigned char c = (unsigned char)s[i];

		if (c == 27) { /* ESC [ ... final byte */
			i++;
			if (i < len && s[i] == '[')
				while (++i < len && !(s[i] >= 0x40 && s[i] <= 0x7e))
					;
			i++;
			continue;
		}
		if (c == '\t') {
			do
				buf_addc(&b, ' ');
			while (++cols % 8 != 0 && cols < w);
			i++;
			continue;
		}
		if (c < 0x20 || c == 0x7f) {
			i++;
			continue;
		}
		if (c < 0x80) {
			buf_addc(&b, (char)c);
			cols++;
			i++;
			continue;
		}
		n = ui->utf8 ? mbrtowc(&wc, s + i, len - i, &mbs) : (size_t)-1;
		if (n == (size_t)-1 || n == (size_t)-2 || n == 0 ||
		    (cw = wcwidth(wc)) < 0) {
			memset(&mbs, 0, sizeof mbs);
			buf_addc(&b, '?');
			cols++;
			i++;
			continue;
		}
		if (cols + cw > w)
			break;
		buf_add(&b, s + i, n);
		cols += cw;
		i += n;
	}
	attrset(ui->attr[el]);
	if (b.len > 0 && y >= 0)
		mvaddnstr(y, x, b.data, (int)b.len);
	buf_free(&b);
	if (used != NULL)
		*used = i < len ? i : len;
	return cols;
}

static int
ui_puts(struct ui *ui, int y, int x, int w, enum theme_element el,
    const char *s)
{
	return ui_put(ui, y, x, w, el, s, strlen(s));
}

/* Blank w columns at y,x in the element's colours. */
static void
ui_fill(struct ui *ui, int y, int x, int w, enum theme_element el)
{
	attrset(ui->attr[el]);
	if (w > 0)
		mvhline(y, x, ' ', w);
}

/* Milliseconds as HH:MM:SS. */
static void
ui_hms(int64_t ms, char *out, size_t len)
{
	int64_t s = ms < 0 ? 0 : ms / 1000;

	snprintf(out, len, "%02lld:%02lld:%02lld", (long long)(s / 3600),
	    (long long)(s / 60 % 60), (long long)(s % 60));
}

/*
 * Elapsed since the first step started, and the time left to the forecast
 * end (report.h) as "left HH:MM", then how the run stands against its
 * plan in words: "on plan", "5m behind plan", "3m ahead of plan", and how
 * many steps run late. A run with late steps is never said to be ahead.
 */
static void
ui_times(struct ui *ui, char *elapsed, char *eta, size_t len)
{
	int64_t first = -1, last = -1, now = state_now_ms(), mins;
	struct eta et;
	char words[64];
	unsigned h, m;
	size_t i;

	for (i = 0; i < ui->nrows; i++) {
		if (ui->rows[i].started_ms >= 0 &&
		    (first < 0 || ui->rows[i].started_ms < first))
			first = ui->rows[i].started_ms;
		if (ui->rows[i].ended_ms > last)
			last = ui->rows[i].ended_ms;
	}
	if (strcmp(engine_run_info(ui->e)->state, "open") != 0 && last > 0)
		now = last;
	if (first < 0)
		snprintf(elapsed, len, "--:--:--");
	else
		ui_hms(now - first, elapsed, len);
	if (report_eta(ui->st, ui->rb, engine_run_info(ui->e)->id, 1000,
	        &et) != STATE_OK) {
		snprintf(eta, len, "left --:--");
		return;
	}
	if (et.planned && et.nlate > 0 && et.delta_ms <= 0)
		snprintf(words, sizeof words, "%d late", et.nlate);
	else {
		report_plan_words(&et, words, sizeof words);
		if (et.planned && et.nlate > 0)
			snprintf(words + strlen(words), sizeof words -
			    strlen(words), ", %d late", et.nlate);
	}
	mins = (et.remaining + 59999) / 60000; /* rounded up */
	h = mins / 60 > 99 ? 99 : (unsigned)(mins / 60);
	m = (unsigned)(mins % 60);
	snprintf(eta, len, "left %02u:%02u (%s)", h, m, words);
}

/* The header: a LIVE run colours the whole line, and says so twice. */
static void
ui_draw_header(struct ui *ui)
{
	struct engine *e = ui->e;
	int live = strcmp(engine_run_info(e)->mode, "live") == 0, open, x, rx;
	enum theme_element el = live ? T_HEADER_LIVE : T_HEADER;
	char info[256], elapsed[96], eta[96];
	const char *tag = live ? " *** LIVE *** " : " REHEARSAL ";
	const char *title = ui->rb->title ? ui->rb->title : ui->rb->name;
	const char *nt = notify_header_text(ui->st, engine_run_info(e)->id);

	title = nt != NULL ? nt : title; /* deliveries fail: say so instead */
	open = strcmp(engine_run_info(e)->state, "open") == 0;
	ui_times(ui, elapsed, eta, sizeof elapsed);
	snprintf(info, sizeof info, " run %lld%s%s  T+%s  %s  %s ",
	    (long long)engine_run_info(e)->id, open ? "" : " ",
	    open ? "" : engine_run_info(e)->state, elapsed, eta,
	    ui->watch ? "WATCH" : engine_hold(e) ? "HOLD" : "AUTO");
	ui_fill(ui, 0, 0, COLS, el);
	x = live ? ui_puts(ui, 0, 0, COLS, T_HEADER_LIVE, tag) : 0;
	x += ui_puts(ui, 0, x, COLS - x, el, " ");
	rx = COLS - (int)strlen(info) - (int)strlen(tag);
	if (rx - x > 4)
		ui_puts(ui, 0, x, rx - x - 1, el, title);
	if (rx < x)
		rx = x;
	rx += ui_puts(ui, 0, rx, COLS - rx, el, info);
	ui_puts(ui, 0, rx, COLS - rx, live ? T_HEADER_LIVE : T_HEADER_REHEARSAL,
	    tag);
}

/* The step list, phase by phase, scrolled to keep the selection shown. */
static void
ui_draw_list(struct ui *ui, int y, int h, int w)
{
	struct runbook *rb = ui->rb;
	size_t n = rb->nphases + rb->nsteps, row = 0, selrow = 0, p, i;
	size_t *rows = xcalloc(n ? n : 1, sizeof *rows);
	int r;

	for (p = 0; p < rb->nphases; p++) {
		rows[row++] = (size_t)-1 - p; /* a phase */
		for (i = 0; i < rb->phases[p].nsteps; i++) {
			if (rb->phases[p].first + i == ui->sel)
				selrow = row;
			rows[row++] = rb->phases[p].first + i;
		}
	}
	if (selrow > 0 && rows[selrow - 1] > rb->nsteps &&
	    (int)selrow - 1 < ui->list_top)
		ui->list_top = (int)selrow - 1; /* show its phase too */
	else if ((int)selrow < ui->list_top)
		ui->list_top = (int)selrow;
	if ((int)selrow >= ui->list_top + h)
		ui->list_top = (int)selrow - h + 1;
	if (ui->list_top > (int)n - h)
		ui->list_top = (int)n - h > 0 ? (int)n - h : 0;
	free(ui->list_rows);
	ui->list_rows = xcalloc((size_t)h, sizeof *ui->list_rows);
	ui->nlist_rows = (size_t)h;
	ui->list_y = y;
	ui->list_h = h;
	ui->list_w = w;
	for (r = 0; r < h; r++) {
		ui->list_rows[r] = (size_t)-1;
		row = (size_t)(ui->list_top + r);
		if (row >= n)
			continue;
		if (rows[row] < rb->nsteps) {
			ui->list_rows[r] = rows[row];
			ui_draw_step(ui, y + r, w, engine_step_at(ui->e, rows[row]),
			    rows[row] == ui->sel);
			continue;
		}
		p = (size_t)-1 - rows[row];
		ui_puts(ui, y + r, 0, w, T_PHASE, rb->phases[p].title
		        ? rb->phases[p].title : rb->phases[p].id);
	}
	free(rows);
}

/* One step: glyph, short state, id, title; a running step's time. */
static void
ui_draw_step(struct ui *ui, int y, int w, struct engine_step *s, int sel)
{
	enum theme_element el = sel ? T_SELECTED : T_STEP;
	enum theme_element stel = sel ? T_SELECTED : ui_states[s->state].el;
	char t[32] = "";
	int x, tw;

	if (sel)
		ui_fill(ui, y, 0, w, T_SELECTED);
	else if (ui->search != NULL && (strcasestr(s->def->id, ui->search) ||
	    (s->def->title && strcasestr(s->def->title, ui->search))))
		el = T_MATCH;
	if (engine_step_running(s))
		ui_hms(loop_now() - s->started, t, sizeof t);
	tw = t[0] ? (int)strlen(t + 3) : 0;
	x = ui_puts(ui, y, 0, w, el, sel ? ">" : " ");
	x += ui_puts(ui, y, x, w - x, stel, ui->utf8 ? ui_states[s->state].utf8
	        : ui_states[s->state].ascii);
	ui_puts(ui, y, x, w - x, stel, " ");
	x++;
	x += ui_puts(ui, y, x, w - x, stel, ui_states[s->state].shortw);
	x = 8;
	x += ui_puts(ui, y, x, w - x - tw - 1, el, s->def->id);
	if (s->def->title != NULL && w - x - tw - 3 > 4) {
		x += ui_puts(ui, y, x, 2, el, "  ");
		ui_puts(ui, y, x, w - x - tw - 1, sel ? el : T_OUTPUT_INFO,
		    s->def->title);
	}
	if (tw > 0)
		ui_puts(ui, y, w - tw - 1, tw, stel, t + 3);
}

/*
 * How many of the len bytes at p to put on a line of w columns: all that
 * fit if they all do, else up to the last space (dropped) or after the
 * last ',' or ';' that fits, so that words and times stay whole; a word
 * longer than the line is cut. *next is where the next line starts.
 */
static size_t
ui_wrap(struct ui *ui, const char *p, size_t len, int w, size_t *next)
{
	size_t used, k;

	ui_put_used(ui, -1, 0, w, T_TEXT, p, len, &used);
	*next = used;
	if (used >= len || used == 0)
		return used;
	for (k = used; k > 0; k--) {
		if (p[k] == ' ') {
			*next = k + 1;
			return k;
		}
		if (p[k - 1] == ',' || p[k - 1] == ';') {
			*next = k;
			return k;
		}
	}
	return used;
}

/* Lines of text from p on (the line p is in counts as one). */
static int
ui_count_lines(const char *p)
{
	int n = *p != '\0';

	for (; *p != '\0'; p++)
		if (*p == '\n' && p[1] != '\0')
			n++;
	return n;
}

/*
 * label: value, wrapped at word boundaries in w columns over at most max
 * lines; when it needs more, the last line says how many lines are left
 * ("... 3 more lines").
 */
static int
ui_draw_field(struct ui *ui, int y, int x, int w, int max, const char *label,
    const char *value, enum theme_element el, int lw)
{
	const char *p = value, *nl;
	size_t len, n_put, next;
	char more[64];
	int n = 0, left;

	if (value == NULL || max <= 0)
		return 0;
	ui_puts(ui, y, x, lw, T_LABEL, label);
	while (n < max && *p != '\0') {
		nl = strchr(p, '\n');
		len = nl ? (size_t)(nl - p) : strlen(p);
		n_put = ui_wrap(ui, p, len, w - lw, &next);
		if (n_put == 0 && len > 0)
			break; /* not even one character fits */
		if (n == max - 1 && max > 1 && (next < len ||
		    (nl != NULL && nl[1] != '\0'))) {
			left = ui_count_lines(p);
			snprintf(more, sizeof more, "%s %d more line%s",
			    ui->utf8 ? "\xe2\x80\xa6" : "...", left,
			    left == 1 ? "" : "s");
			ui_puts(ui, y + n, x + lw, w - lw, T_OUTPUT_INFO, more);
			return n + 1;
		}
		ui_put(ui, y + n, x + lw, w - lw, el, p, n_put);
		p += next;
		if (next >= len && nl != NULL)
			p = nl + 1;
		n++;
	}
	return n;
}

/* The selected step's definition and record; returns the lines used. */
static int
ui_draw_details(struct ui *ui, int y, int x, int w, int h)
{
	struct engine_step *s = ui_selected(ui);
	struct rb_step *d;
	struct ui_detail *dt = &ui->detail;
	struct buf b = { 0 };
	int n = 0, lw = 10;
	size_t i;

	if (s == NULL)
		return 0;
	d = s->def;
	buf_printf(&b, "%s", d->id);
	if (d->title != NULL)
		buf_printf(&b, " - %s", d->title);
	n += ui_draw_field(ui, y + n, x, w, 1, "", b.data, T_TITLE, 0);
	buf_reset(&b);
	ui_puts(ui, y + n, x, lw, T_LABEL, "state");
	i = (size_t)ui_puts(ui, y + n, x + lw, w - lw, ui_states[s->state].el,
	    step_state_name(s->state));
	if (d->irreversible)
		ui_puts(ui, y + n, x + lw + (int)i, w - lw - (int)i,
		    T_IRREVERSIBLE, "  IRREVERSIBLE");
	n++;
	buf_printf(&b, "%s", step_type_name(d->type));
	if (d->target_name != NULL)
		buf_printf(&b, "  target %s", d->target_name);
	if (d->owner != NULL)
		buf_printf(&b, "  owner %s", d->owner);
	if (step_kind_is_gate(d->type))
		buf_printf(&b, "  %d of %d go%s", dt->go, d->approvals,
		    dt->nogo ? ", NO-GO" : "");
	n += ui_draw_field(ui, y + n, x, w, h - n, "type", b.data, T_TEXT, lw);
	n += ui_draw_decisions(ui, y + n, x, w, h - n);
	/* a long script leaves two lines for the attempts below */
	n += ui_draw_field(ui, y + n, x, w, h - n - 2 > 6 ? 6 : h - n - 2 > 2 ?
	    h - n - 2 : h - n > 2 ? 2 : h - n, "run", d->run, T_TEXT, lw);
	n += ui_draw_field(ui, y + n, x, w, h - n > 4 ? 4 : h - n,
	    "do", d->instructions, T_TEXT, lw);
	n += ui_draw_field(ui, y + n, x, w, h - n > 2 ? 2 : h - n, "verify",
	    d->verify, T_TEXT, lw);
	n += ui_draw_field(ui, y + n, x, w, h - n > 2 ? 2 : h - n, "rollback",
	    d->rollback, T_TEXT, lw);
	buf_free(&b);
	return n + ui_draw_record(ui, y + n, x, w, h - n);
}

/*
 * The decisions at the selected checkpoint, one line each: "go by lead
 * 09:59:30Z: reason"; those a rollback set aside say so. Returns the lines
 * used.
 */
static int
ui_draw_decisions(struct ui *ui, int y, int x, int w, int h)
{
	struct ui_detail *dt = &ui->detail;
	struct decision_row *d;
	struct buf b = { 0 };
	char when[16];
	time_t t;
	struct tm tm;
	int n = 0;
	size_t i;

	for (i = 0; i < dt->ndec && n < h; i++) {
		d = &dt->dec[i];
		t = (time_t)(d->at_ms / 1000);
		gmtime_r(&t, &tm);
		strftime(when, sizeof when, "%H:%M:%SZ", &tm);
		buf_reset(&b);
		buf_printf(&b, "%s by %s %s%s%s%s", strcmp(d->decision, "go") == 0
		    ? "go" : "NO-GO", d->operator, when, d->active ? "" :
		    " (set aside)", d->reason != NULL ? ": " : "",
		    d->reason != NULL ? d->reason : "");
		n += ui_draw_field(ui, y + n, x, w, h - n > 2 ? 2 : h - n,
		    i == 0 ? "decisions" : "", b.data, d->active ? T_TEXT :
		    T_OUTPUT_INFO, 10);
	}
	buf_free(&b);
	return n;
}

/* What the run recorded of the selected step: attempts, times, notes. */
static int
ui_draw_record(struct ui *ui, int y, int x, int w, int h)
{
	struct engine_step *s = ui_selected(ui);
	struct ui_detail *dt = &ui->detail;
	struct rb_step *d = s->def;
	struct buf b = { 0 };
	char t[32], pl[32];
	int n = 0, lw = 10;

	buf_printf(&b, "%d", s->attempts);
	if (dt->have_row && dt->row.started_at != NULL)
		buf_printf(&b, "  started %.8sZ", dt->row.started_at + 11);
	if (engine_step_running(s)) {
		ui_hms(loop_now() - s->started, t, sizeof t);
		buf_printf(&b, "  running %s", t);
	} else if (dt->have_row && dt->row.ended_at != NULL) {
		duration_format(dt->row.duration_ms, t, sizeof t);
		buf_printf(&b, "  ended %.8sZ  took %s", dt->row.ended_at + 11, t);
	}
	if (d->planned_ms >= 0) {
		duration_format(d->planned_ms, pl, sizeof pl);
		buf_printf(&b, "  plan %s", pl);
	}
	n += ui_draw_field(ui, y + n, x, w, h - n, "attempts", b.data, T_TEXT,
	    lw);
	n += ui_draw_field(ui, y + n, x, w, h - n > 2 ? 2 : h - n, "note",
	    !engine_step_running(s) && dt->have_row ? dt->row.note : s->note, T_TEXT, lw);
	if (dt->have_row)
		n += ui_draw_field(ui, y + n, x, w, h - n > 3 ? 3 : h - n,
		    "result", dt->row.result, T_TEXT, lw);
	buf_free(&b);
	return n;
}

/* Make ui->out hold the text to show for s: live or stored output. */
static void
ui_output_text(struct ui *ui, struct engine_step *s)
{
	struct ui_output *o = &ui->out;
	struct ui_detail *d = &ui->detail;
	int live = !ui->watch && engine_step_running(s);

	if (o->step == s && o->live == live && (!live || o->gen == s->out_gen)
	    && o->text != NULL)
		return;
	free(o->text);
	o->text = NULL;
	o->len = 0;
	o->step = s;
	o->live = live;
	if (live) {
		o->text = outbuf_render(&s->out, &o->len);
		o->gen = s->out_gen;
		o->drawn = loop_now();
	} else if (d->step == s && d->natt > 0 &&
	    d->att[d->natt - 1].output != NULL) {
		o->len = d->att[d->natt - 1].output_len;
		o->text = xstrndup(d->att[d->natt - 1].output, o->len);
	} else
		o->text = xstrdup("");
}

/* The output pane: a title line, then the tail (or where PgUp left it). */
static void
ui_draw_output(struct ui *ui, int y, int x, int w, int h)
{
	struct engine_step *s = ui_selected(ui);
	struct ui_detail *d = &ui->detail;
	struct buf b = { 0 };
	int tx;

	if (s == NULL || h < 1)
		return;
	ui_output_text(ui, s);
	attrset(ui->attr[T_BORDER]);
	mvhline(y, x, UI_HLINE(ui), w);
	buf_printf(&b, " output of %s", s->def->id);
	if (engine_step_running(s) && !ui->watch)
		buf_printf(&b, ", attempt %d, %s ", s->attempt,
		    s->phase == PH_VERIFY ? "verifying" : "running");
	else if (d->natt > 0)
		buf_printf(&b, ", attempt %d, %s ", d->att[d->natt - 1].n,
		    d->att[d->natt - 1].state);
	else
		buf_adds(&b, " ");
	tx = x + 1 + ui_puts(ui, y, x + 1, w - 2, T_TITLE, b.data);
	buf_reset(&b);
	if (ui->out.scroll > 0)
		buf_printf(&b, " back %d lines (f follows) ", ui->out.scroll);
	else if (engine_step_running(s))
		buf_adds(&b, " following ");
	if (b.len > 0 && tx + (int)b.len + 2 < x + w)
		ui_puts(ui, y, x + w - (int)b.len - 1, (int)b.len, T_OUTPUT_INFO,
		    b.data);
	buf_free(&b);
	if (ui->out.len == 0) {
		ui_puts(ui, y + 1, x + 1, w - 1, T_OUTPUT_INFO,
		    step_kind_is_person(s->def->type) ? "(a person acts on this "
		    "step: it has no output)" : d->natt > 0 || engine_step_running(s)
		    ? "(no output)" : "(not run yet)");
		return;
	}
	ui_draw_lines(ui, y + 1, x + 1, w - 1, h - 1);
}

/* The h lines of output ending ui->out.scroll lines above the tail. */
static void
ui_draw_lines(struct ui *ui, int y, int x, int w, int h)
{
	const char *text = ui->out.text, *nl, *p;
	size_t end = ui->out.len, total = 1, *st, *en;
	int n, i, skip;

	if (h <= 0)
		return;
	if (end > 0 && text[end - 1] == '\n')
		end--;
	if (ui->out.scroll > 0) {
		for (p = text; (p = memchr(p, '\n', end - (size_t)(p - text)));
		    p++)
			total++;
		if ((size_t)ui->out.scroll + (size_t)h > total)
			ui->out.scroll = total > (size_t)h ? (int)(total -
			    (size_t)h) : 0;
	}
	for (skip = 0; skip < ui->out.scroll; skip++) {
		if ((nl = memrchr(text, '\n', end)) == NULL)
			break;
		end = (size_t)(nl - text);
	}
	st = xcalloc((size_t)h, sizeof *st);
	en = xcalloc((size_t)h, sizeof *en);
	for (n = 0; n < h; n++) {
		nl = memrchr(text, '\n', end);
		st[n] = nl ? (size_t)(nl - text) + 1 : 0;
		en[n] = end;
		if (nl == NULL) {
			n++;
			break;
		}
		end = (size_t)(nl - text);
	}
	for (i = 0; i < n; i++) {
		size_t a = st[n - 1 - i], z = en[n - 1 - i];
		const char *cr = memrchr(text + a, '\r', z - a);

		if (cr != NULL && (size_t)(cr - text) + 1 < z)
			a = (size_t)(cr - text) + 1; /* progress lines */
		ui_put(ui, y + i, x, w, strncmp(text + a, "[cutover", 8) == 0 ?
		    T_OUTPUT_INFO : T_OUTPUT, text + a, z - a);
	}
	free(st);
	free(en);
}

/* What the selected step waits for, in a few words. */
static const char *
ui_step_hint(struct ui *ui, struct engine_step *s)
{
	if (ui->watch)
		return NULL;
	if (engine_stopping(ui->e))
		return "stopping: waiting for the running steps to end";
	if (s == NULL)
		return NULL;
	if (s->state == ST_AWAITING && step_kind_is_gate(s->def->type))
		return "waits for a decision: g go, n no-go";
	if (s->state == ST_AWAITING &&
	    step_kind(s->def->type)->who == WHO_CONFIRM)
		return "waits for a person: c confirms it when done";
	if (s->state == ST_AWAITING || s->state == ST_INTERRUPTED)
		return "interrupted: r retries, c confirms it done, s skips";
	if (s->state == ST_FAILED)
		return "failed: r retries, s skips";
	if (engine_halted(ui->e))
		return "halted: a step failed; retry or skip it";
	if (engine_step_running(s))
		return "running: PgUp/PgDn scroll its output, f follows";
	if ((s->state == ST_PENDING || s->state == ST_ROLLED_BACK) &&
	    !step_kind_is_person(s->def->type))
		return engine_hold(ui->e) ? "Enter runs it; a starts everything that may "
		    "start" : "starts when the steps it needs are done";
	return NULL;
}

/* The prompt, a message, or what the selected step waits for. */
static void
ui_draw_status(struct ui *ui, int y)
{
	struct ui_prompt *p = &ui->prompt;
	const char *hint;
	int x;

	ui_fill(ui, y, 0, COLS, T_NORMAL);
	if (p->active) {
		x = ui_puts(ui, y, 0, COLS, T_PROMPT, p->label);
		x += ui_put(ui, y, x, COLS - x - 1, T_NORMAL, buf_str(&p->text),
		    p->text.len);
		ui_puts(ui, y, x, 1, T_SELECTED, " ");
		return;
	}
	if (ui->message != NULL &&
	    loop_now() - ui->message_at < UI_MESSAGE_MS) {
		ui_puts(ui, y, 0, COLS, ui->message_error ? T_ERROR : T_MESSAGE,
		    ui->message);
		return;
	}
	if ((hint = ui_step_hint(ui, ui_selected(ui))) != NULL)
		ui_puts(ui, y, 0, COLS, T_OUTPUT_INFO, hint);
}

/*
 * Key hints, as many as fit; "? help" and "q quit" always. Keys that act
 * on the selected step are shown only when the engine would let them.
 */
static void
ui_draw_hints(struct ui *ui, int y)
{
	static const struct {
		const char *key, *what;
		int act; /* enum engine_action; -1 always, -2 when driving */
	} drive[] = {
		{ "jk", "move", -1 }, { "Enter", "run", ENGINE_RUN },
		{ "a", "auto", -2 }, { "c", "confirm", ENGINE_CONFIRM },
		{ "g", "go", ENGINE_DECIDE }, { "n", "no-go", ENGINE_DECIDE },
		{ "s", "skip", ENGINE_SKIP }, { "r", "retry", ENGINE_RETRY },
		{ "/", "search", -1 }, { "PgUp", "output", -1 },
	};
	struct engine_step *s = ui_selected(ui);
	struct buf b = { 0 };
	const char *why;
	int x = 0, room = COLS - 17, act;
	size_t i;

	ui_fill(ui, y, 0, COLS, T_HINTS);
	for (i = 0; i < sizeof drive / sizeof drive[0]; i++) {
		act = drive[i].act;
		if ((act != -1 && ui->watch) || (act >= 0 && s == NULL))
			continue;
		if (act == ENGINE_RETRY)
			act = (int)engine_which_retry(s);
		if (act >= 0 && engine_may(ui->e, s, (enum engine_action)act,
		        &why) != 0)
			continue;
		if (x + (int)(strlen(drive[i].key) + strlen(drive[i].what)) + 3 >
		    room)
			break;
		x += ui_puts(ui, y, x, COLS - x, T_KEY, drive[i].key) + 1;
		x += ui_puts(ui, y, x, COLS - x, T_HINTS, drive[i].what) + 2;
	}
	x += ui_puts(ui, y, x, COLS - x, T_KEY, "?") + 1;
	x += ui_puts(ui, y, x, COLS - x, T_HINTS, "help") + 2;
	x += ui_puts(ui, y, x, COLS - x, T_KEY, "q") + 1;
	x += ui_puts(ui, y, x, COLS - x, T_HINTS, "quit") + 2;
	if (ui->watch) {
		if (ui->have_lease)
			buf_printf(&b, "| read-only; driven by %s on %s (pid %lld)",
			    ui->lease.operator ? ui->lease.operator : "?",
			    ui->lease.host, (long long)ui->lease.pid);
		else
			buf_printf(&b, "| read-only; no console or run drives "
			    "it now");
		ui_puts(ui, y, x, COLS - x, T_HINTS, b.data);
	}
	buf_free(&b);
}

/* A framed box filled with element el. */
static void
ui_draw_box(struct ui *ui, int y, int x, int h, int w, int el)
{
	int r;

	for (r = 0; r < h; r++) {
		ui_fill(ui, y + r, 0, COLS, T_NORMAL); /* nothing shows beside */
		ui_fill(ui, y + r, x, w, el);
	}
	attrset(ui->attr[el]);
	mvaddch(y, x, ui->utf8 ? ACS_ULCORNER : '+');
	mvhline(y, x + 1, UI_HLINE(ui), w - 2);
	mvaddch(y, x + w - 1, ui->utf8 ? ACS_URCORNER : '+');
	mvaddch(y + h - 1, x, ui->utf8 ? ACS_LLCORNER : '+');
	mvhline(y + h - 1, x + 1, UI_HLINE(ui), w - 2);
	mvaddch(y + h - 1, x + w - 1, ui->utf8 ? ACS_LRCORNER : '+');
	mvvline(y + 1, x, UI_VLINE(ui), h - 2);
	mvvline(y + 1, x + w - 1, UI_VLINE(ui), h - 2);
}

/* The rollback plan, shown while its confirmation is typed. */
static void
ui_draw_plan(struct ui *ui)
{
	const char *p = ui->plan.data, *nl;
	int w = COLS - 4 > 76 ? 76 : COLS - 4, x = (COLS - w) / 2, y = 1;
	int lines = 0, h, r = 0;

	for (nl = p; (nl = strchr(nl, '\n')) != NULL; nl++)
		lines++;
	h = lines + 2 > LINES - 3 ? LINES - 3 : lines + 2;
	ui_draw_box(ui, y, x, h, w, T_HELP);
	while (r < h - 2 && (nl = strchr(p, '\n')) != NULL) {
		char *line = xstrndup(p, (size_t)(nl - p));

		ui_puts(ui, y + 1 + r, x + 2, w - 4, r == 0 ? T_HELP_KEY : T_HELP,
		    line);
		free(line);
		p = nl + 1;
		r++;
	}
}

/* The help overlay: every key, then what the short forms mean. */
static void
ui_draw_help(struct ui *ui)
{
	const char **keys, **what;
	size_t n = ui_help_lines(ui, &keys, &what), i, total;
	int w = COLS - 4 > 76 ? 76 : COLS - 4, h, x = (COLS - w) / 2, y = 1, r;
	char line[128];

	total = n + 3 + ST_NSTATES;
	h = LINES - 2 < (int)total + 2 ? LINES - 2 : (int)total + 2;
	if (ui->help_top > (int)total - (h - 2))
		ui->help_top = (int)total - (h - 2) > 0 ? (int)total - (h - 2) : 0;
	ui_draw_box(ui, y, x, h, w, T_HELP);
	ui_puts(ui, y, x + 2, w - 4, T_HELP_KEY, " keys (any key closes; jk "
	    "scroll) ");
	for (r = 0; r < h - 2; r++) {
		i = (size_t)(ui->help_top + r);
		if (i < n) {
			ui_puts(ui, y + 1 + r, x + 2, 8, T_HELP_KEY, keys[i]);
			ui_puts(ui, y + 1 + r, x + 10, w - 12, T_HELP, what[i]);
		} else if (i == n + 1)
			ui_puts(ui, y + 1 + r, x + 2, w - 4, T_HELP_KEY,
			    "step states in the list");
		else if (i >= n + 2 && i < n + 2 + ST_NSTATES) {
			enum step_state st = (enum step_state)(i - n - 2);

			snprintf(line, sizeof line, "%s %-4s", ui->utf8 ?
			    ui_states[st].utf8 : ui_states[st].ascii,
			    ui_states[st].shortw);
			ui_puts(ui, y + 1 + r, x + 2, 8, ui_states[st].el, line);
			ui_puts(ui, y + 1 + r, x + 10, w - 12, T_HELP,
			    step_state_name(st));
		}
	}
	free(keys);
	free(what);
}

void
ui_draw(struct ui *ui)
{
	int lw, body, dh;

	ui->dirty = 0;
	erase();
	if (COLS < UI_MIN_COLS || LINES < UI_MIN_LINES) {
		ui_puts(ui, 0, 0, COLS, T_ERROR, "terminal too small for the "
		    "console");
		goto out;
	}
	lw = COLS * 2 / 5;
	lw = lw < 26 ? 26 : lw > 48 ? 48 : lw;
	body = LINES - 4;
	ui_draw_header(ui);
	ui_draw_list(ui, 1, body, lw);
	attrset(ui->attr[T_BORDER]);
	mvvline(1, lw, UI_VLINE(ui), body);
	dh = ui_draw_details(ui, 1, lw + 2, COLS - lw - 2, body / 2);
	ui_draw_output(ui, 1 + dh, lw + 1, COLS - lw - 1, body - dh);
	ui_fill(ui, LINES - 3, 0, COLS, T_NORMAL);
	if (ui->attention != NULL)
		ui_puts(ui, LINES - 3, 0, COLS, ui->attention_el, ui->attention);
	ui_draw_status(ui, LINES - 2);
	ui_draw_hints(ui, LINES - 1);
	if (ui->help)
		ui_draw_help(ui);
	else if (ui->plan.len > 0 && ui->prompt.active)
		ui_draw_plan(ui);
out:
	attrset(A_NORMAL);
	wnoutrefresh(stdscr);
	doupdate();
}
