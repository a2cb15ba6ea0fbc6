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
 * ui-keys.c (the key table and actions), ui-prompt.c (the prompt line
 * and menus), ui-rollback.c (R), ui-attention.c (the attention line).
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
#define UI_WATCH_POLL_LARGE_MS 1000 /* (reading a large run again costs) */
#define UI_MESSAGE_MS 8000   /* how long a message stays */
#define UI_ROWS_LARGE 1000   /* a run of more steps and instances is large: */
#define UI_ROWS_MS 1000      /* its rows are read at most this often, */
#define UI_ETA_MS 1000       /* its ETA worked out at most this often */
#define UI_ETA_LARGE_MS 10000 /* (or this, large, and only when no key */
#define UI_ETA_QUIET_MS 2000  /* came for this long: typing comes first) */

struct loop;
struct loop_timer;
struct ui;

typedef void (*ui_prompt_cb)(struct ui *, const char *text);

/* The prompt line: a question and what the person typed. */
struct ui_prompt {
	int active;
	int yesno;    /* one key: y or n */
	int required; /* an empty answer is refused */
	int overlay;  /* ui->plan is shown over the screen while it is open */
	char *label;
	struct buf text;
	ui_prompt_cb done;
};

typedef void (*ui_menu_cb)(struct ui *, size_t chosen);

/* A row of the step list (ui-list.c). */
enum ui_row_kind {
	UI_ROW_PHASE, /* a phase's heading: i is the phase's index */
	UI_ROW_STEP,  /* a step: i is its engine index */
	UI_ROW_LANES, /* a for_each step's summary: i is the engine index of
	               * its first instance */
};
struct ui_list_row {
	enum ui_row_kind kind;
	size_t i;
};

/* A menu over the screen: one line a choice, j/k move, Enter chooses. */
struct ui_menu {
	int active;
	char *title;
	char **items;
	size_t nitems;
	size_t cur;
	ui_menu_cb done;
};

/* The entity x step matrix (ui-matrix.c): entities down, the steps of
 * for_each phases across. */
struct ui_matrix {
	int open;
	size_t *cols;    /* runbook indexes of the for_each steps */
	size_t ncols;
	size_t *rows;    /* entity positions (engine_entity_at) shown */
	size_t nrows, arows;
	size_t row, col; /* the cursor: in rows, in cols */
	size_t top, left; /* the first row and column shown */
	char *wave;      /* filter: this wave only, or NULL */
	unsigned states; /* filter: entities with an instance in one of
	                  * these states (ST_BIT), or 0 */
	char *text;      /* filter: entity ids and titles holding it, or NULL */
	int y0, ew;      /* the last draw: first row's line, entity column */
	size_t nshown;   /* rows shown then */
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
	char *evidence; /* what a decision there rests on (ui_evidence_text) */
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
	int sel_lanes;   /* the summary of sel's for_each step is selected,
	                  * not the instance sel itself */
	int list_top;    /* first list row shown */
	int help;        /* help overlay shown */
	int help_top;
	char *search;    /* last search text */
	char *filter;    /* the step list's filter as typed, or NULL */
	unsigned filter_states; /* ST_BIT()s when it names states, else 0 */
	struct ui_list_row *list; /* the list's rows (ui_list_build) */
	size_t nlist, alist;
	size_t nmatch;   /* list steps the filter lets through */
	size_t ntotal;   /* list steps: plain steps and for_each steps */
	struct ui_matrix mx;
	struct ui_prompt prompt;
	/* the action a prompt chain is collecting for */
	int act;
	struct engine_step *act_step;
	char *act_text;
	struct ui_menu menu;
	/* R: the rollback plan shown while its confirmation is typed */
	struct buf plan;
	char *plan_to;   /* checkpoint id, or "start" for the run's start */
	int plan_force;  /* irreversible steps are in the way */
	int plan_resume; /* the plan resumes a rollback under way */
	char **rb_targets; /* what the R menu offers: "start", checkpoints */
	size_t nrb_targets;
	/* A rollback started here waits for a person: once the steps undone
	 * by hand are confirmed, it goes on with the same force and reason. */
	int rb_resume;
	int rb_force;
	char *rb_reason;

	char *message;
	int message_error;
	int64_t message_at;

	int dirty;       /* redraw at the end of this pass */
	unsigned changed; /* ENGINE_CHANGED_* the engine said this pass */
	struct step_row *rows; /* all steps' rows, sorted by id (ui_row) */
	int64_t rows_at; /* loop_now() when they were read */
	int64_t first_ms; /* the run's first start, once known, else -1 */
	int rows_final;  /* read after the run ended */
	struct loop_timer *rows_timer; /* to read them again when due */
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
	int64_t last_key; /* loop_now() of the last key */

	char *attention;  /* what the run waits for now (ui-attention.c) */
	enum theme_element attention_el;
	enum step_state *seen; /* step states at the last refresh */
	size_t nseen;

	/* the layout of the last draw, for the mouse */
	int list_y, list_h, list_w;
	size_t *list_rows; /* step index per list row, or (size_t)-1 */
	char *list_lanes;  /* 1 where that row is a for_each step's summary */
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
/* The selected step; NULL when a for_each step's summary is selected. */
struct engine_step *ui_selected(struct ui *);
/* The for_each step whose summary is selected, or NULL. */
struct rb_step *ui_selected_lanes(struct ui *);
/* Re-read the run's rows and the selected step's details from the store. */
void ui_refresh(struct ui *);
/* The stored row of step id as last read (ui->rows, by id), or NULL. */
struct step_row *ui_row(struct ui *, const char *id);

/* ui-draw.c */
void ui_draw(struct ui *);
/* Short form and glyph of a step state in the list (documented in
 * cutover(1), KEY BINDINGS). */
const char *ui_state_short(enum step_state);
/* Its glyph (UTF-8 or ASCII as the terminal has it), and its element. */
const char *ui_state_glyph(struct ui *, enum step_state);
enum theme_element ui_state_el(enum step_state);
/* Print s at y,x in at most w columns (escapes and controls dropped);
 * returns the columns used. */
int ui_puts(struct ui *, int y, int x, int w, enum theme_element,
    const char *s);
/* Blank w columns at y,x in the element's colours. */
void ui_fill(struct ui *, int y, int x, int w, enum theme_element);
/* Did reconcile step s pass with differences within its tolerance? Words
 * for it ("passed within tolerance: 2 differences ≤ 2") into out. */
int ui_tolerated(struct ui *, struct engine_step *, char *out, size_t len);

/* ui-keys.c */
void ui_key(struct ui *, int key);
/* Help text: one line per key, "KEYS\tWHAT". */
size_t ui_help_lines(struct ui *, const char ***keys, const char ***what);
/* Move the selection to step i. */
void ui_select(struct ui *, size_t);
/* Select the summary of the for_each step of instance i. */
void ui_select_lanes(struct ui *, size_t i);

/* ui-attention.c */
/* Work out the "needs attention" line again (ui->attention). */
void ui_attention(struct ui *);
/* Announce steps that failed since the last call in a LIVE run: a
 * message, the bell, and the selection moves to the step. */
void ui_attention_announce(struct ui *);

/* ui-list.c */
/* Filter the step list by text (NULL or blank: no filter). Words that all
 * name states (short forms or names, any case: "wait fail run") filter by
 * state; anything else matches ids and titles. */
void ui_filter_set(struct ui *, const char *text);
/* Does the filter let step i through? */
int ui_step_shown(struct ui *, size_t i);
/* Build the list's rows (ui->list) as the filter has it. */
void ui_list_build(struct ui *);
/* Is the row the selection (a step, or the summary of its for_each
 * step)? */
int ui_list_row_selected(struct ui *, const struct ui_list_row *);
/* Select the next (dir 1) or previous (-1) step shown. */
void ui_list_move(struct ui *, int dir);
/* Select the first or (last) the last step shown. */
void ui_list_end(struct ui *, int last);

/* ui-matrix.c */
/* e: open the matrix (if the runbook has for_each phases), or close it. */
void ui_matrix_toggle(struct ui *);
/* A key while the matrix is open: 1 if it took it. */
int ui_matrix_key(struct ui *, int key);
/* Draw it over the list and details: y, h lines. */
void ui_matrix_draw(struct ui *, int y, int h);
void ui_matrix_free(struct ui *);
/* "✓37 ▶2 ✗1 ◆0 /40": counts by state of the instances of def (the first
 * four always, with all; else only states that have instances). */
void ui_lanes_counts(struct ui *, const struct rb_step *def, int all,
    struct buf *);
/* Counts by state of def's instances, those of excluded entities that
 * failed or wait counted as excluded: a lane that dropped out needs no
 * one. */
void ui_lanes_live_counts(struct ui *, const struct rb_step *def,
    size_t counts[ST_NSTATES]);

/* ui-evidence.c */
/* Show what a decision at checkpoint cp rests on over the prompt that
 * was just opened (ui->plan). */
void ui_evidence_show(struct ui *, struct engine_step *cp);
/* The evidence of cp as lines ("  partners succeeded: ...\n") appended
 * to b. */
void ui_evidence_text(struct ui *, struct engine_step *cp, struct buf *);

/* ui-rollback.c */
/* R: choose what to roll back to, show the plan, ask, roll back. */
void ui_rollback_key(struct ui *);
/* A rollback the console drove has ended (engine_rollback_end): say how. */
void ui_rollback_ended(struct ui *, int rc);
/* After a refresh: resume a rollback waiting for steps undone by hand
 * once they are all confirmed (here or elsewhere). */
void ui_rollback_resume(struct ui *);

/* ui-prompt.c */
void ui_prompt_open(struct ui *, const char *label, int required,
    ui_prompt_cb);
void ui_prompt_yesno(struct ui *, const char *label, ui_prompt_cb);
void ui_prompt_key(struct ui *, int key);
void ui_prompt_close(struct ui *);
/* A menu of n items (copied), cur chosen first; done gets the choice. */
void ui_menu_open(struct ui *, const char *title, const char *const *items,
    size_t n, size_t cur, ui_menu_cb done);
void ui_menu_key(struct ui *, int key);
void ui_menu_close(struct ui *);

#endif
