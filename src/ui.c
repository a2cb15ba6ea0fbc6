/*
 * ui.c - the console's set-up and its part of the event loop.
 *
 * The terminal is put back on every way out: the normal return, fatalx
 * (through fatal_set_cleanup) and the signals the engine turns into a stop
 * (the loop ends once the stopped steps have ended). While the console
 * runs, the engine's errors come through its error hook to the message
 * line; its per-pass work (look at what changed, draw once) is a hook the
 * loop calls before it sleeps.
 */
#include "config.h"

#include <curses.h>
#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "loop.h"
#include "step-kind.h"
#include "ui.h"
#include "xmalloc.h"

static struct ui *ui_current; /* for the fatal cleanup hook */

static void ui_setup_colors(struct ui *);
static int ui_setup_term(struct ui *);
static void ui_cleanup(void);
static void ui_on_stdin(int, short, void *);
static void ui_on_winch(int, void *);
static void ui_on_tick(void *);
static void ui_on_output_timer(void *);
static void ui_on_watch(void *);
static void ui_on_live(void *);
static void ui_on_change(void *, unsigned, struct engine_step *);
static void ui_on_error(void *, const char *);
static void ui_check(struct ui *);
static void ui_check_output(struct ui *);
static void ui_detail_free(struct ui_detail *);
static void ui_free(struct ui *);
static void ui_detail_evidence(struct ui *, struct engine_step *);
static void ui_trace(struct ui *);
static void ui_start(struct ui *);
static void ui_stop(struct ui *);
static int ui_done(struct ui *);
static void ui_before_poll(void *);
static int ui_row_cmp(const void *, const void *);
static void ui_rows_load(struct ui *);
static void ui_rows_load_plain(struct ui *);
static void ui_on_rows_timer(void *);

/* Turn the theme into curses attributes, one colour pair per element. */
static void
ui_setup_colors(struct ui *ui)
{
	static const struct {
		unsigned bit;
		attr_t attr;
	} map[] = {
		{ THEME_BOLD, A_BOLD }, { THEME_DIM, A_DIM },
		{ THEME_UNDERLINE, A_UNDERLINE }, { THEME_REVERSE, A_REVERSE },
		{ THEME_BLINK, A_BLINK }, { THEME_ITALIC, A_ITALIC },
	};
	struct theme_style *ts;
	unsigned bits;
	size_t i, j;
	int fg, bg;

	if (ui->color && (!has_colors() || start_color() == ERR))
		ui->color = 0;
	if (ui->color)
		use_default_colors();
	for (i = 0; i < THEME_NELEMENTS; i++) {
		ts = &ui->theme->style[i];
		bits = ui->color ? ts->attrs : ts->mono;
		ui->attr[i] = 0;
		for (j = 0; j < sizeof map / sizeof map[0]; j++) {
			if (bits & map[j].bit)
				ui->attr[i] |= map[j].attr;
		}
		if (!ui->color || (int)i + 1 >= COLOR_PAIRS)
			continue;
		fg = ts->fg < COLORS ? ts->fg : (ts->fg < 16 ? ts->fg % 8 : -1);
		bg = ts->bg < COLORS ? ts->bg : (ts->bg < 16 ? ts->bg % 8 : -1);
		init_pair((short)(i + 1), (short)fg, (short)bg);
		ui->attr[i] |= COLOR_PAIR((int)i + 1);
	}
}

/* Curses on the terminal: raw keys (^C is a key), no echo, no delay. */
static int
ui_setup_term(struct ui *ui)
{
	const char *cs = nl_langinfo(CODESET);

	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		fprintf(stderr, "cutover: the console needs a terminal; use "
		    "`cutover run` or `cutover status` without one\n");
		return -1;
	}
	ui->utf8 = cs != NULL && (strcasecmp(cs, "UTF-8") == 0 ||
	    strcasecmp(cs, "utf8") == 0);
	set_escdelay(25);
	if (newterm(NULL, stdout, stdin) == NULL) {
		fprintf(stderr, "cutover: cannot use terminal type '%s'\n",
		    getenv("TERM") != NULL ? getenv("TERM") : "");
		return -1;
	}
	ui_current = ui;
	fatal_set_cleanup(ui_cleanup);
	raw();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	curs_set(0);
	mousemask(BUTTON1_PRESSED | BUTTON1_CLICKED | BUTTON4_PRESSED |
	    BUTTON5_PRESSED, NULL);
	mouseinterval(0);
	ui_setup_colors(ui);
	return 0;
}

/* Every way out: the terminal as it was, and stderr back. */
static void
ui_cleanup(void)
{
	struct ui *ui = ui_current;

	if (ui == NULL)
		return;
	ui_current = NULL;
	if (!isendwin())
		endwin();
}

void
ui_message(struct ui *ui, int error, const char *fmt, ...)
{
	va_list ap;

	free(ui->message);
	va_start(ap, fmt);
	xvasprintf(&ui->message, fmt, ap);
	va_end(ap);
	ui->message_error = error;
	ui->message_at = loop_now();
	ui->dirty = 1;
}

/* Keys: read everything the terminal has. */
static void
ui_on_stdin(int fd, short revents, void *arg)
{
	struct ui *ui = arg;
	int ch, n = 0, keyed = 0;

	if (revents & (POLLHUP | POLLERR | POLLNVAL)) {
		/* The terminal is gone: act as if told to stop. */
		ui->quit = 1;
		if (!ui->watch && engine_running(ui->e) > 0)
			engine_stop(ui->e, "stopped: the console's terminal "
			    "went away");
		loop_io_set(ui->in_io, 0);
	}
	while (n++ < 256 && (ch = getch()) != ERR) {
		if (ch == KEY_RESIZE) {
			ui->dirty = 1;
			continue;
		}
		ui_key(ui, ch);
		ui->last_key = loop_now();
		ui->dirty = 1;
		keyed = 1;
		if (ui->trace != NULL && ui->key_at == 0)
			ui->key_at = loop_now();
	}
	/*
	 * Answer at once: the rest of this pass may be the engine's (steps
	 * ending and starting, each a durable commit), which a person should
	 * not wait for. What the keys changed in the run is drawn again
	 * before the loop sleeps.
	 */
	if (keyed && ui->dirty && !ui->quit) {
		ui_check(ui);
		ui_draw(ui);
		ui_trace(ui);
	}
}

/* The terminal changed size: tell curses, draw again. */
static void
ui_on_winch(int sig, void *arg)
{
	struct ui *ui = arg;
	struct winsize ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 &&
	    ws.ws_col > 0)
		resizeterm(ws.ws_row, ws.ws_col);
	clearok(curscr, TRUE);
	ui->dirty = 1;
}

/* Once a second: the clocks in the header move. */
static void
ui_on_tick(void *arg)
{
	struct ui *ui = arg;

	ui->dirty = 1;
	ui->tick = loop_timer_add(ui->loop, 1000, ui_on_tick, ui);
}

static void
ui_on_output_timer(void *arg)
{
	struct ui *ui = arg;

	ui->out_timer = NULL;
	ui_check_output(ui);
}

/* Watch mode: look again now and on the poll timer. */
static void
ui_on_watch(void *arg)
{
	struct ui *ui = arg;

	ui_on_live(ui);
	ui->watch_timer = loop_timer_add(ui->loop, engine_nsteps(ui->e) >
	    UI_ROWS_LARGE ? UI_WATCH_POLL_LARGE_MS : UI_WATCH_POLL_MS,
	    ui_on_watch, ui);
}

/* Watch mode: notice what the driver and other terminals changed (the
 * store's notice, engine_live_watch, or the poll timer). */
static void
ui_on_live(void *arg)
{
	struct ui *ui = arg;
	struct run_info r;

	if (state_changed(ui->st)) {
		engine_reload(ui->e);
		ui_refresh(ui);
		ui->dirty = 1;
		/* A new run started: follow it (cmd-watch.c opens it). */
		if (ui->follow && state_run_latest(ui->st, 1, &r) == STATE_OK) {
			if (r.id > engine_run_info(ui->e)->id)
				ui->reopen = ui->quit = 1;
			run_info_free(&r);
		}
	}
}

/* The engine's hook: note what changed; looked at once per pass. */
static void
ui_on_change(void *arg, unsigned what, struct engine_step *s)
{
	struct ui *ui = arg;

	ui->changed |= what;
}

/* The engine's error hook: a refusal or failure goes on the message line. */
static void
ui_on_error(void *arg, const char *msg)
{
	ui_message(arg, 1, "%s", msg);
}

/*
 * Once per pass: steps or the run changed (read the rows again and draw
 * now), or a step only printed (draw its output soon).
 */
static void
ui_check(struct ui *ui)
{
	unsigned what = ui->changed;

	ui->changed = 0;
	if (what & (ENGINE_CHANGED_STATE | ENGINE_CHANGED_RUN)) {
		ui_refresh(ui);
		ui_rollback_resume(ui);
		ui->dirty = 1;
	}
	ui_check_output(ui);
}

/* New live output of the selected step: draw it, at most UI_OUTPUT_HZ. */
static void
ui_check_output(struct ui *ui)
{
	struct engine_step *s = ui_selected(ui);
	int64_t now, next;

	if (s == NULL || !engine_step_running(s) || ui->out.step != s ||
	    ui->out.gen == s->out_gen || ui->dirty)
		return;
	now = loop_now();
	next = ui->out.drawn + 1000 / UI_OUTPUT_HZ;
	if (now >= next)
		ui->dirty = 1;
	else if (ui->out_timer == NULL)
		ui->out_timer = loop_timer_add(ui->loop, next - now,
		    ui_on_output_timer, ui);
}

struct engine_step *
ui_selected(struct ui *ui)
{
	if (engine_nsteps(ui->e) == 0)
		return NULL;
	if (ui->sel >= engine_nsteps(ui->e))
		ui->sel = engine_nsteps(ui->e) - 1;
	return ui->sel_lanes ? NULL : engine_step_at(ui->e, ui->sel);
}

struct rb_step *
ui_selected_lanes(struct ui *ui)
{
	if (!ui->sel_lanes || ui->sel >= engine_nsteps(ui->e))
		return NULL;
	return engine_step_at(ui->e, ui->sel)->def;
}

static void
ui_detail_free(struct ui_detail *d)
{
	if (d->have_row)
		step_row_free(&d->row);
	attempt_rows_free(d->att, d->natt);
	decision_rows_free(d->dec, d->ndec);
	free(d->evidence);
	memset(d, 0, sizeof *d);
}

void
ui_refresh(struct ui *ui)
{
	struct engine_step *s;
	struct ui_detail *d = &ui->detail;

	ui_attention_announce(ui);
	ui_attention(ui);
	s = ui_selected(ui);
	ui_rows_load(ui);
	if (ui->have_lease)
		lease_holder_free(&ui->lease);
	ui->have_lease = state_lease_get(ui->st, engine_run_info(ui->e)->id, &ui->lease) ==
	    STATE_OK;
	ui_detail_free(d);
	if (s == NULL)
		return;
	d->step = s;
	d->state = s->state;
	d->attempts = s->attempts;
	d->have_row = state_step_get(ui->st, engine_run_info(ui->e)->id, s->id,
	    &d->row) == STATE_OK;
	state_attempts_list(ui->st, engine_run_info(ui->e)->id, s->id, 0, &d->att,
	    &d->natt);
	if (step_kind_is_gate(s->def->type)) {
		int mine;

		state_decision_count(ui->st, engine_run_info(ui->e)->id, s->id, &d->go,
		    &d->nogo, &mine);
		state_decision_list(ui->st, engine_run_info(ui->e)->id,
		    s->id, &d->dec, &d->ndec);
		ui_detail_evidence(ui, s);
	}
	/* Stored output may have changed: render it again. */
	if (!ui->out.live || ui->out.step != s) {
		free(ui->out.text);
		ui->out.text = NULL;
		ui->out.step = NULL;
	}
}

/*
 * Read every step's row again (for the header's times and reconcile
 * verdicts in the list): at once in a small run, at most once every
 * UI_ROWS_MS in a large one, where it costs as much as a key may take.
 */
static void
ui_rows_load(struct ui *ui)
{
	int64_t now = loop_now(), every;
	int open;

	every = engine_nsteps(ui->e) > UI_ROWS_LARGE ? UI_ROWS_MS : 0;
	if (ui->rows_at > 0 && now - ui->rows_at < every) {
		if (ui->rows_timer == NULL)
			ui->rows_timer = loop_timer_add(ui->loop, ui->rows_at +
			    every - now, ui_on_rows_timer, ui);
		return;
	}
	open = strcmp(engine_run_info(ui->e)->state, "open") == 0;
	if (every > 0 && !open && ui->rows_final)
		return; /* a large run that is over: read once is enough */
	ui->rows_at = now;
	ui->rows_final = !open;
	if (every > 0 && ui->first_ms >= 0 && open) {
		ui_rows_load_plain(ui);
		return;
	}
	step_rows_free(ui->rows, ui->nrows);
	ui->rows = NULL;
	ui->nrows = 0;
	state_steps_load(ui->st, engine_run_info(ui->e)->id, &ui->rows,
	    &ui->nrows);
	qsort(ui->rows, ui->nrows, sizeof *ui->rows, ui_row_cmp);
}

/*
 * A large open run whose start is known: only the rows of its plain steps
 * (the list shows instances as counts; the header needs the run's first
 * start, which does not move, and its last end only once it is over).
 */
static void
ui_rows_load_plain(struct ui *ui)
{
	size_t n = engine_nsteps(ui->e), i, k = 0;
	struct engine_step *s;
	struct step_row *v = xcalloc(n ? n : 1, sizeof *v);

	for (i = 0; i < n; i++) {
		s = engine_step_at(ui->e, i);
		if (s->entity == NULL && state_step_get(ui->st,
		    engine_run_info(ui->e)->id, s->id, &v[k]) == STATE_OK)
			k++;
	}
	step_rows_free(ui->rows, ui->nrows);
	ui->rows = v;
	ui->nrows = k;
	qsort(ui->rows, ui->nrows, sizeof *ui->rows, ui_row_cmp);
}

static void
ui_on_rows_timer(void *arg)
{
	struct ui *ui = arg;

	ui->rows_timer = NULL;
	ui_rows_load(ui);
	ui->dirty = 1;
}

static int
ui_row_cmp(const void *a, const void *b)
{
	return strcmp(((const struct step_row *)a)->id,
	    ((const struct step_row *)b)->id);
}

struct step_row *
ui_row(struct ui *ui, const char *id)
{
	struct step_row key;

	if (ui->nrows == 0)
		return NULL;
	key.id = (char *)id;
	return bsearch(&key, ui->rows, ui->nrows, sizeof *ui->rows,
	    ui_row_cmp);
}

/* The evidence of checkpoint s for its details, without the leading
 * spaces of the overlay's lines. */
static void
ui_detail_evidence(struct ui *ui, struct engine_step *s)
{
	struct buf b = { 0 }, out = { 0 };
	const char *p, *nl;

	ui_evidence_text(ui, s, &b);
	for (p = buf_str(&b); *p != '\0'; p = nl + 1) {
		nl = strchr(p, '\n');
		if (nl == NULL)
			break;
		buf_add(&out, p + 2, (size_t)(nl - p - 2 + 1));
	}
	buf_free(&b);
	ui->detail.evidence = out.data;
}

static void
ui_free(struct ui *ui)
{
	size_t i;

	ui_detail_free(&ui->detail);
	step_rows_free(ui->rows, ui->nrows);
	if (ui->have_lease)
		lease_holder_free(&ui->lease);
	ui_prompt_close(ui);
	free(ui->out.text);
	free(ui->search);
	free(ui->filter);
	free(ui->list);
	ui_matrix_free(ui);
	free(ui->message);
	free(ui->act_text);
	free(ui->attention);
	free(ui->seen);
	free(ui->plan_to);
	free(ui->rb_reason);
	for (i = 0; i < ui->nrb_targets; i++)
		free(ui->rb_targets[i]);
	free(ui->rb_targets);
	ui_menu_close(ui);
	buf_free(&ui->plan);
	free(ui->list_rows);
	free(ui->list_lanes);
	if (ui->trace != NULL)
		fclose(ui->trace);
	theme_free(ui->theme);
	free(ui->theme);
}

/*
 * With CUTOVER_UI_TRACE=FILE, append how long each key took from being
 * read to the screen being sent (ms), for bench/console.sh.
 */
static void
ui_trace(struct ui *ui)
{
	if (ui->trace == NULL || ui->key_at == 0 || ui->dirty)
		return;
	fprintf(ui->trace, "%lld\n", (long long)(loop_now() - ui->key_at));
	fflush(ui->trace);
	ui->key_at = 0;
}

/* Hook the console into the loop and the engine. */
static void
ui_start(struct ui *ui)
{
	struct engine_hooks hooks;
	struct loop *loop = ui->loop;

	if (getenv("CUTOVER_UI_TRACE") != NULL)
		ui->trace = fopen(getenv("CUTOVER_UI_TRACE"), "a");
	ui->in_io = loop_io_add(loop, STDIN_FILENO, POLLIN, ui_on_stdin, ui);
	loop_signal(loop, SIGWINCH, ui_on_winch, ui);
	ui->tick = loop_timer_add(loop, 1000, ui_on_tick, ui);
	if (ui->watch) {
		ui->watch_timer = loop_timer_add(loop, UI_WATCH_POLL_MS,
		    ui_on_watch, ui);
		ui->live = engine_live_watch(ui->e, loop, ui_on_live, ui);
	}
	/* A runbook that opens with a for_each phase: its first summary. */
	if (engine_nsteps(ui->e) > 0 && engine_step_at(ui->e, 0)->entity)
		ui->sel_lanes = 1;
	hooks.changed = ui_on_change;
	hooks.error = ui_on_error;
	hooks.arg = ui;
	engine_set_hooks(ui->e, &hooks);
	ui_refresh(ui);
	ui->dirty = 1;
	loop_before_poll(loop, ui_before_poll, ui);
}

/* Unhook the console, and give the terminal back. */
static void
ui_stop(struct ui *ui)
{
	struct loop *loop = ui->loop;

	engine_set_hooks(ui->e, NULL);
	loop_before_poll_remove(loop, ui_before_poll, ui);
	loop_io_remove(loop, ui->in_io);
	loop_timer_cancel(loop, ui->tick);
	loop_timer_cancel(loop, ui->out_timer);
	loop_timer_cancel(loop, ui->watch_timer);
	loop_timer_cancel(loop, ui->rows_timer);
	engine_live_stop(ui->live);
	ui->live = NULL;
	loop_signal(loop, SIGWINCH, NULL, NULL);
	ui_cleanup();
}

/* Should the console end now? */
static int
ui_done(struct ui *ui)
{
	struct engine *e = ui->e;

	if (ui->watch)
		return ui->quit;
	if (engine_lost_lease(e) && engine_running(e) == 0)
		return 1;
	if (engine_stopping(e))
		return engine_running(e) == 0;
	return ui->quit;
}

/*
 * Before the loop sleeps (after the engine started what may start): look
 * at what changed, end when it is time, else draw once for the pass.
 */
static void
ui_before_poll(void *arg)
{
	struct ui *ui = arg;
	int rc;

	if (engine_rolling_back(ui->e) && (rc = engine_rollback_end(ui->e)) >= 0)
		ui_rollback_ended(ui, rc);
	ui_check(ui);
	if (ui_done(ui)) {
		ui->done = 1;
		loop_break(ui->loop);
		return;
	}
	if (ui->dirty)
		ui_draw(ui);
	ui_trace(ui);
}

int
ui_main(struct engine *e, struct loop *loop, int watch, struct theme *theme,
    int no_color)
{
	struct ui ui;

	memset(&ui, 0, sizeof ui);
	ui.first_ms = -1;
	ui.e = e;
	ui.rb = engine_runbook(e);
	ui.st = engine_state(e);
	ui.loop = loop;
	ui.watch = watch != 0;
	ui.follow = watch == UI_WATCH_FOLLOW;
	ui.theme = theme;
	ui.color = !no_color;
	if (ui_setup_term(&ui) != 0) {
		ui_free(&ui);
		return EXIT_USAGE;
	}
	ui_start(&ui);
	if (!watch && engine_driving(e))
		engine_autostart(e);
	while (!ui.done)
		loop_once(loop, -1);
	ui_stop(&ui);
	ui_free(&ui);
	if (engine_lost_lease(e)) {
		fprintf(stderr, "cutover: another driver took over run %lld\n",
		    (long long)engine_run_info(e)->id);
		return EXIT_CONFLICT;
	}
	return ui.reopen ? UI_REOPEN : EXIT_DONE;
}
