/*
 * cmd.h - subcommands. Each cmd-*.c exports one const struct cmd_entry;
 * main.c lists them in a table and parses the command line for them.
 */
#ifndef CUTOVER_CMD_H
#define CUTOVER_CMD_H

#include "engine.h"

#define CMD_MAX_OPTS 16

struct cmd_ctx {
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
};

struct cmd_entry {
	const char *name;
	const char *usage;   /* after "cutover [GLOBAL] " */
	const char *options; /* space-separated; a trailing '=' takes a value */
	int min_args;
	int max_args; /* -1: any */
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

/* The value of option name ("" for a flag), or NULL if not given. */
const char *cmd_opt(const struct cmd_ctx *, const char *name);
/* Parse a positive integer option; -1 if absent, -2 (after an error) if bad. */
long long cmd_opt_num(const struct cmd_ctx *, const char *name);

/* Print why path did not load: its diagnostics, or errno when there are
 * none (the file could not be read). */
void cmd_diags_print(const char *path, struct diags *);
/* Load a runbook, printing its errors; 0 or EXIT_INVALID. */
int cmd_load(const char *path, struct runbook **);
/* Where the state of rb lives (--state, $CUTOVER_STATE, XDG default). */
char *cmd_state_path(const struct cmd_ctx *, const struct runbook *);
/* Open the state file of rb (creating it if create); 0 or EXIT_CONFLICT. */
int cmd_state(const struct cmd_ctx *, const struct runbook *, int create,
    struct state **);
/* Load runbook args[0], open its state and engine as opts say. */
int cmd_open(struct cmd_ctx *, struct engine_opts *, struct runbook **,
    struct state **, struct engine **);
/* Load runbook args[0] and open its existing state file to read it. */
int cmd_open_read(struct cmd_ctx *, struct runbook **, struct state **);
void cmd_close(struct runbook *, struct state *, struct engine *);
/* The step named id of the engine, or NULL after printing an error. */
struct engine_step *cmd_step(struct engine *, const char *id);

#endif
