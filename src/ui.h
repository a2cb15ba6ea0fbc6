/*
 * ui.h - the console: one screen over an engine, driven by the engine's
 * event loop.
 *
 * The console never blocks: keys, resizes, step output and changes made by
 * other processes arrive as loop events; handlers only change state and set
 * dirty flags, and the screen is drawn at most once per loop pass (output
 * floods at most UI_OUTPUT_HZ times a second). The console reads the
 * engine through its accessors, hears what changed and the engine's errors
 * through engine_hooks, and acts only through engine_* calls.
 *
 * Files: ui.c (set-up, the loop, events), ui-draw.c (the screen),
 * ui-keys.c (the key table and actions), ui-prompt.c (the prompt line).
 */
#ifndef CUTOVER_UI_H
#define CUTOVER_UI_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "buf.h"
#include "engine.h"
#include "theme.h"

#define UI_OUTPUT_HZ 15      /* redraws a second while output floods */
#define UI_WATCH_POLL_MS 300 /* watch: look for changes this often */
#define UI_MESSAGE_MS 8000   /* how long a message stays */

struct loop;
struct loop_timer;
struct ui;

typedef void (*ui_prompt_cb)(struct ui *, const char *text);

/* The prompt line: a question and what the person typed. */
struct ui_prompt {
	int active;
	int yesno;    /* one key: y or n */
	int required; /* an empty answer is refused */
	char *label;
	struct buf text;
	ui_prompt_cb done;
};

/* What the selected step's details and stored output were read from. */
struct ui_detail {
	struct engine_step *step;
	enum step_state state;
	int attempts;
	int have_row;
	struct step_row row;
	struct attempt_row *att;
	size_t natt;
	int go, nogo; /* decisions at a checkpoint */
	struct decision_row *dec; /* each of them, oldest first */
	size_t ndec;
};

/* The output shown: the rendered text of one step's output. */
struct ui_output {
	struct engine_step *step;
	unsigned gen;  /* out_gen it was rendered at (live output) */
	int live;      /* from the running attempt, not the store */
	char *text;
	size_t len;
	int scroll;    /* lines above the tail; 0: follow the tail */
	int64_t drawn; /* loop_now() of the last draw with new output */
};

struct ui {
	struct engine *e;
	struct runbook *rb;
	struct state *st;
	struct loop *loop;
	int watch; /* read-only */
	int utf8;
	int color;
	struct theme *theme;
	unsigned attr[THEME_NELEMENTS]; /* curses attributes per element */

	size_t sel;      /* selected step index */
	int list_top;    /* first list row shown */
	int help;        /* help overlay shown */
	int help_top;
	char *search;    /* last search text */
	struct ui_prompt prompt;
	/* the action a prompt chain is collecting for */
	int act;
	struct engine_step *act_step;
	char *act_text;
	/* R: the rollback plan shown while its confirmation is typed */
	struct buf plan;
	char *plan_to;   /* checkpoint id, or NULL for the run's start */
	int plan_force;  /* irreversible steps are in the way */

	char *message;
	int message_error;
	int64_t message_at;

	int dirty;       /* redraw at the end of this pass */
	unsigned changed; /* ENGINE_CHANGED_* the engine said this pass */
	struct step_row *rows; /* all steps' rows, for times */
	size_t nrows;
	struct lease_holder lease;
	int have_lease;
	struct ui_detail detail;
	struct ui_output out;
	struct loop_timer *tick, *out_timer, *watch_timer;
	struct loop_io *in_io;
	struct engine_live *live; /* watch: the store's notices */

	int quit;
	int done;        /* the loop ends after this pass */
	int follow;      /* watch: switch to a newer run when one starts */
	int reopen;      /* quit to open that newer run */
	int stop_asked;  /* quit asked while steps ran: stopping them */
	int lost;        /* the run was taken over */
	FILE *trace;     /* CUTOVER_UI_TRACE: key-to-screen times */
	int64_t key_at;  /* loop_now() when the key being traced was read */

	char *attention;  /* what the run waits for now (ui-attention.c) */
	enum theme_element attention_el;
	enum step_state *seen; /* step states at the last refresh */
	size_t nseen;

	/* the layout of the last draw, for the mouse */
	int list_y, list_h, list_w;
	size_t *list_rows; /* step index per list row, or (size_t)-1 */
	size_t nlist_rows;
};

/* The console's commands (cmd-console.c, cmd-watch.c). */
struct cmd_entry;
extern const struct cmd_entry cmd_console_entry;
extern const struct cmd_entry cmd_watch_entry;

/* ui_main's watch argument, and its return when a new run started. */
#define UI_DRIVE 0
#define UI_WATCH 1
#define UI_WATCH_FOLLOW 2
#define UI_REOPEN (-1)

/* ui.c */
/*
 * Run the console on e until the person quits; returns an exit status, or
 * UI_REOPEN (watch with UI_WATCH_FOLLOW) when a newer run has started and
 * should be opened instead. The theme (loaded) becomes the console's and
 * is freed by it.
 */
int ui_main(struct engine *, struct loop *, int watch, struct theme *,
    int no_color);
void ui_message(struct ui *, int error, const char *, ...)
    __attribute__((format(printf, 3, 4)));
/* The selected step. */
struct engine_step *ui_selected(struct ui *);
/* Re-read the run's rows and the selected step's details from the store. */
void ui_refresh(struct ui *);

/* ui-draw.c */
void ui_draw(struct ui *);
/* Short form and glyph of a step state in the list (documented in
 * cutover(1), KEY BINDINGS). */
const char *ui_state_short(enum step_state);

/* ui-keys.c */
void ui_key(struct ui *, int key);
/* Help text: one line per key, "KEYS\tWHAT". */
size_t ui_help_lines(struct ui *, const char ***keys, const char ***what);
/* Move the selection to step i. */
void ui_select(struct ui *, size_t);

/* ui-attention.c */
/* Work out the "needs attention" line again (ui->attention). */
void ui_attention(struct ui *);
/* Announce steps that failed since the last call in a LIVE run: a
 * message, the bell, and the selection moves to the step. */
void ui_attention_announce(struct ui *);

/* ui-prompt.c */
void ui_prompt_open(struct ui *, const char *label, int required,
    ui_prompt_cb);
void ui_prompt_yesno(struct ui *, const char *label, ui_prompt_cb);
void ui_prompt_key(struct ui *, int key);
void ui_prompt_close(struct ui *);

#endif
