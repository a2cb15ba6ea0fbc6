/*
 * theme.h - console themes: which colours and attributes each element of
 * the screen is drawn with.
 *
 * Themes are files read at run time (see cutover-themes(5)): one line per
 * element, "ELEMENT FOREGROUND BACKGROUND [ATTRIBUTE...]", '#' starts a
 * comment. The elements are the one list below: it generates the enum, the
 * names used in theme files and the built-in fallback, so adding an element
 * is one line here.
 *
 * This module knows nothing of curses: colours are numbers (-1 for the
 * terminal's default, 0-255) and attributes are THEME_* bits; the console
 * maps them onto curses.
 */
#ifndef CUTOVER_THEME_H
#define CUTOVER_THEME_H

/* Attribute bits. */
#define THEME_BOLD 0x01
#define THEME_DIM 0x02
#define THEME_UNDERLINE 0x04
#define THEME_REVERSE 0x08
#define THEME_BLINK 0x10
#define THEME_ITALIC 0x20

#define THEME_DEFAULT_COLOR -1

/*
 * X(ENUM, "name", fg, bg, attributes, monochrome attributes): the
 * built-in theme (the same as themes/default.theme) and, last, the
 * attributes used without colour (NO_COLOR, --no-color, a terminal without
 * colours).
 */
#define THEME_ELEMENTS(X)                                                    \
	X(T_NORMAL, "normal", -1, -1, 0, 0)                                  \
	X(T_HEADER, "header", 15, 4, THEME_BOLD, THEME_REVERSE)              \
	X(T_HEADER_REHEARSAL, "header-rehearsal", 0, 6, THEME_BOLD,          \
	    THEME_REVERSE | THEME_BOLD)                                      \
	X(T_HEADER_LIVE, "header-live", 15, 1, THEME_BOLD | THEME_BLINK,     \
	    THEME_REVERSE | THEME_BOLD)                                      \
	X(T_BORDER, "border", 8, -1, 0, THEME_DIM)                           \
	X(T_TITLE, "title", 14, -1, THEME_BOLD, THEME_BOLD)                  \
	X(T_PHASE, "phase", 11, -1, THEME_BOLD, THEME_BOLD | THEME_UNDERLINE) \
	X(T_STEP, "step", -1, -1, 0, 0)                                      \
	X(T_SELECTED, "selected", 0, 14, 0, THEME_REVERSE)                   \
	X(T_MATCH, "match", 0, 11, 0, THEME_UNDERLINE)                       \
	X(T_PENDING, "state-pending", 8, -1, 0, THEME_DIM)                   \
	X(T_RUNNING, "state-running", 14, -1, THEME_BOLD, THEME_BOLD)        \
	X(T_SUCCEEDED, "state-succeeded", 10, -1, 0, 0)                      \
	X(T_FAILED, "state-failed", 9, -1, THEME_BOLD,                       \
	    THEME_BOLD | THEME_REVERSE)                                      \
	X(T_INTERRUPTED, "state-interrupted", 13, -1, THEME_BOLD, THEME_BOLD) \
	X(T_SKIPPED, "state-skipped", 8, -1, THEME_ITALIC, THEME_DIM)        \
	X(T_AWAITING, "state-awaiting", 11, -1, THEME_BOLD,                  \
	    THEME_BOLD | THEME_UNDERLINE)                                    \
	X(T_ROLLED_BACK, "state-rolled-back", 12, -1, 0, THEME_DIM)          \
	X(T_ROLLBACK_FAILED, "state-rollback-failed", 9, -1,                 \
	    THEME_BOLD | THEME_UNDERLINE, THEME_BOLD | THEME_REVERSE)         \
	X(T_LABEL, "label", 12, -1, 0, THEME_BOLD)                           \
	X(T_TEXT, "text", -1, -1, 0, 0)                                      \
	X(T_IRREVERSIBLE, "irreversible", 9, -1, THEME_BOLD,                 \
	    THEME_BOLD | THEME_REVERSE)                                      \
	X(T_OUTPUT, "output", -1, -1, 0, 0)                                  \
	X(T_OUTPUT_INFO, "output-info", 8, -1, THEME_ITALIC, THEME_DIM)      \
	X(T_HINTS, "hints", 7, 0, 0, THEME_REVERSE)                          \
	X(T_KEY, "key", 11, 0, THEME_BOLD, THEME_REVERSE | THEME_BOLD)       \
	X(T_MESSAGE, "message", 10, -1, 0, 0)                                \
	X(T_ERROR, "error", 15, 1, THEME_BOLD, THEME_BOLD | THEME_REVERSE)   \
	X(T_PROMPT, "prompt", 11, -1, THEME_BOLD, THEME_BOLD)                \
	X(T_HELP, "help", -1, 0, 0, 0)                                       \
	X(T_HELP_KEY, "help-key", 11, 0, THEME_BOLD, THEME_BOLD)

#define THEME_ENUM(e, n, fg, bg, a, m) e,
enum theme_element { THEME_ELEMENTS(THEME_ENUM) THEME_NELEMENTS };
#undef THEME_ENUM

struct theme_style {
	int fg, bg;     /* THEME_DEFAULT_COLOR or 0-255 */
	unsigned attrs; /* THEME_* */
	unsigned mono;  /* attributes without colour */
};

struct theme {
	char *name; /* the name or file it came from */
	struct theme_style style[THEME_NELEMENTS];
};

/* The name of an element in theme files, or NULL. */
const char *theme_element_name(enum theme_element);
/* The element named name; -1 if there is none. */
int theme_element_find(const char *name);

/* Fill t with the built-in theme. */
void theme_builtin(struct theme *);

/*
 * Parse theme text on top of what t holds (elements not named keep their
 * style). file is used in messages. Returns 0, or -1 with *err set (caller
 * frees) to "FILE:LINE: error: MESSAGE".
 */
int theme_parse(struct theme *, const char *file, const char *text,
    char **err);

/*
 * Load the theme spec names: a file if it contains '/' or ends in
 * ".theme", else NAME.theme found in the search path (theme_path). NULL
 * means $CUTOVER_THEME, else "default"; "default" not found anywhere is the
 * built-in theme. Returns 0, or -1 with *err set (caller frees).
 */
int theme_load(struct theme *, const char *spec, char **err);
void theme_free(struct theme *);

/* The directories searched for a theme name, in order, joined with ':'
 * (caller frees). */
char *theme_path(void);

#endif
