/*
 * cmd-table.c - the command table of the engine: every command, in the
 * order `cutover help` lists them. The front's table is made from this one
 * when it is built (cmd-table-gen.c): the same entries, those without
 * CMD_FRONT handed over to the engine.
 */
#include "config.h"

#include <stddef.h>

#include "cmd.h"

const struct cmd_entry *const cmd_table[] = {
	&cmd_lint_entry,
	&cmd_run_entry,
	&cmd_status_entry,
	&cmd_confirm_entry,
	&cmd_decide_entry,
	&cmd_retry_entry,
	&cmd_skip_entry,
	&cmd_exclude_entry,
	&cmd_log_entry,
	&cmd_runs_entry,
	&cmd_audit_entry,
	&cmd_watch_entry,
	&cmd_rollback_entry,
	&cmd_report_entry,
	&cmd_state_entry,
	&cmd_serve_entry,
	&cmd_diff_entry,
	&cmd_help_entry,
	&cmd_version_entry,
	NULL,
};
