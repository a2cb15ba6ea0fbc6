/*
 * cmd.h - subcommands. Each cmd-*.c exports one const struct cmd_entry;
 * main.c lists them in a table and parses the command line for them.
 *
 * An entry declares what its command needs (.open, .step, .flags) and
 * cmd_dispatch provides it before calling .exec, as tmux's command queue
 * resolves a command's target: the runbook in args[0], its state file, the
 * engine and the step named in args[.step] are in the cmd_ctx when .exec
 * runs, and are closed after it returns. Errors on the way are printed
 * there, with the exit status the command would give (SPEC section 2).
 */
#ifndef CUTOVER_CMD_H
#define CUTOVER_CMD_H

#include <stdio.h>

#include "engine.h"

#define CMD_MAX_OPTS 16

struct cmd_ctx {
	/* the command line as given (the front hands it to the engine) */
	char **argv;
	/* global options */
	const char *state_path;
	const char *operator;
	const char *mode;
	const char *theme;
	int no_color;
	/* positional arguments after the command name */
	char **args;
	int nargs;
	/* command options, as given */
	const char *opt_name[CMD_MAX_OPTS];
	const char *opt_value[CMD_MAX_OPTS];
	int nopts;
	/* what cmd_dispatch opened for the command, as its entry asked */
	struct runbook *rb;
	struct state *st;
	struct engine *e;
	struct engine_step *step;
};

/* What cmd_dispatch opens before .exec. */
enum cmd_open {
	CMD_OPEN_NONE,      /* nothing: the command opens what it needs */
	CMD_OPEN_READ,      /* runbook args[0] and its existing state file */
	CMD_OPEN_TRY_DRIVE, /* those and the engine, leased if nobody drives */
	CMD_OPEN_DRIVE,     /* those and the engine, leased or EXIT_CONFLICT */
};

/* cmd_entry flags */
#define CMD_CREATE 0x1 /* the engine starts a run if none is open */
#define CMD_QUIET 0x2  /* the engine prints no progress lines */
#define CMD_SCREEN 0x4 /* draws the terminal itself: no output filter */
#define CMD_SELECT 0x8 /* --wave/--entity choose a new run's entities */
/* Served by the front, the installed `cutover`, which links libyaml and
 * libc only (lint, help, version); every other command is handed over to
 * the engine, which links everything (cmd-front.c). */
#define CMD_FRONT 0x10

/* The front found no engine to hand a command to (cmd_engine_exec). */
#define EXIT_NO_ENGINE 127

struct cmd_entry {
	const char *name;
	const char *usage;   /* after "cutover [GLOBAL] " */
	const char *options; /* space-separated; a trailing '=' takes a value */
	const char *summary; /* one line for `cutover help` */
	/* For `cutover help NAME` and NAME --help: what it does, then every
	 * option, "  --opt ARG  what it does" a line (cmd_help_print adds the
	 * global options and the exit status). */
	const char *help;
	int min_args;
	int max_args; /* -1: any */
	enum cmd_open open;
	int step;  /* with an engine: args[step] names a step (0: none) */
	int flags; /* CMD_* */
	/* Checks the arguments before anything is opened (may be NULL):
	 * 0, or an exit status after a one-line error. */
	int (*check)(struct cmd_ctx *);
	int (*exec)(struct cmd_ctx *);
};

extern const struct cmd_entry cmd_lint_entry;
extern const struct cmd_entry cmd_run_entry;
extern const struct cmd_entry cmd_status_entry;
extern const struct cmd_entry cmd_confirm_entry;
extern const struct cmd_entry cmd_decide_entry;
extern const struct cmd_entry cmd_retry_entry;
extern const struct cmd_entry cmd_skip_entry;
extern const struct cmd_entry cmd_log_entry;
extern const struct cmd_entry cmd_runs_entry;
extern const struct cmd_entry cmd_audit_entry;
extern const struct cmd_entry cmd_rollback_entry;
extern const struct cmd_entry cmd_report_entry;
extern const struct cmd_entry cmd_console_entry;
extern const struct cmd_entry cmd_watch_entry;
extern const struct cmd_entry cmd_help_entry;
extern const struct cmd_entry cmd_version_entry;

/* Every command, NULL-terminated; the console is not in it (it has no
 * name on the command line). */
extern const struct cmd_entry *const cmd_table[];
/* The global options, in the form of cmd_entry.options. */
extern const char cmd_global_opts[];

/* The names of every command and "console", space-separated (free it). */
char *cmd_names(void);
/* The command called name (the console for "console"), or NULL. */
const struct cmd_entry *cmd_find(const char *name);
/* The candidate closest to word (space-separated list, a trailing '='
 * ignored) by edit distance, if close enough to be a typo; else NULL.
 * The result points into a static buffer. */
const char *cmd_suggest(const char *word, const char *candidates);
/* Print the help of ce (usage, text, global options, exit status). */
void cmd_help_print(const struct cmd_entry *ce, FILE *);
/* Print the overview: every command with its summary. */
void cmd_help_overview(FILE *);

/*
 * Say that step id (d, or an instance STEP@ENTITY of d) of run waits for a person (undo: to be undone by hand),
 * who may act (its approvers or owner, with the members of those roles)
 * and the exact command to type elsewhere: with --state when the state
 * file is not the default, the runbook path as given (c->args[0], c->rb).
 * On stderr the line starts "cutover: ".
 */
void cmd_waiting_print(const struct cmd_ctx *c, struct state *, int64_t run,
    const char *id, const struct rb_step *d, int undo, FILE *);
extern const struct cmd_entry cmd_state_entry;
extern const struct cmd_entry cmd_exclude_entry;
extern const struct cmd_entry cmd_serve_entry;
extern const struct cmd_entry cmd_diff_entry;

/*
 * What cmd_dispatch does first, in the front and the engine alike: the
 * output filter, printable --operator, --reason and --note, and .check.
 * 0 or the exit status.
 */
int cmd_prepare(const struct cmd_entry *ce, struct cmd_ctx *);
/* Refuse text that would not show as typed (named name); 0, or -1 after
 * saying so. */
int cmd_text_check(const char *name, const char *v);
/*
 * The front's .exec of every command it does not serve: execv the engine
 * with the same argv (so the same pid, and argv[0] as typed). The engine
 * is the file named as this program with "-engine" added, next to it (the
 * build tree), else PKGLIBEXECDIR/cutover-engine. Returns only when there
 * is none: EXIT_NO_ENGINE after one line saying so.
 */
int cmd_engine_exec(struct cmd_ctx *);

/*
 * Run command ce: refuse control characters in --operator, --reason and
 * --note, call .check, show text from outside cutover escaped on a
 * terminal (escape.h), open what .open and .step declare, call .exec and
 * close. Returns the exit status. The front's (cmd-front.c) opens nothing:
 * its own commands open what they need, and the others go to the engine.
 */
int cmd_dispatch(const struct cmd_entry *ce, struct cmd_ctx *);

/* The value of option name ("" for a flag), or NULL if not given. */
const char *cmd_opt(const struct cmd_ctx *, const char *name);
/* Parse a positive integer option; -1 if absent, -2 (after an error) if bad. */
long long cmd_opt_num(const struct cmd_ctx *, const char *name);

/* Print why path did not load: its diagnostics, or errno when there are
 * none (the file could not be read). */
void cmd_diags_print(const char *path, struct diags *);
/* Load runbook args[0], open its state and engine as opts say (for
 * commands that open with CMD_OPEN_NONE and need an engine). */
int cmd_open(struct cmd_ctx *, struct engine_opts *, struct runbook **,
    struct state **, struct engine **);
/* The state file of rb when it is not the default one (what --state must
 * say to reach it), else NULL; free it. */
char *cmd_state_arg(const struct cmd_ctx *, const struct runbook *rb);
/* The selection of entities --wave (repeatable) and --entity ID[,ID...]
 * ask for, in run_info.selection's form (a new string), or NULL. */
char *cmd_selection(const struct cmd_ctx *);
/* Close what cmd_open opened (any may be NULL). */
void cmd_close(struct runbook *, struct state *, struct engine *);

#endif
