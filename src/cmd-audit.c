/* cmd-audit.c - `cutover audit RUNBOOK [--verify]`: the audit trail. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"
#include "escape.h"

static int cmd_audit_exec(struct cmd_ctx *);
static int audit_print(const struct audit_row *, void *);

const struct cmd_entry cmd_audit_entry = {
	.name = "audit",
	.usage = "audit RUNBOOK [--verify]",
	.options = "--verify",
	.summary = "show the audit trail, or verify its hash chain",
	.help = "Print every recorded action: entry, time, hash, run, step, operator\n"
		"(OS user), action and details.\n"
		"\n"
		"  --verify   check the hash chain instead; exit 1 if it is broken\n",
	.min_args = 1,
	.max_args = 1,
	.open = CMD_OPEN_READ,
	.exec = cmd_audit_exec,
};

/* One entry a line: when, run, step, who, what, details. */
static int
audit_print(const struct audit_row *a, void *arg)
{
	struct escape_list l = { 0 };

	(void)arg;
	printf("%lld  %s  %.12s  run %lld  %-20s  %s (%s)  %s%s%s\n",
	    (long long)a->id, escape_field(&l, stdout, a->at),
	    escape_field(&l, stdout, a->hash), (long long)a->run,
	    a->step ? escape_field(&l, stdout, a->step) : "-",
	    a->operator ? escape_field(&l, stdout, a->operator) : "?",
	    a->os_user ? escape_field(&l, stdout, a->os_user) : "?",
	    escape_field(&l, stdout, a->action),
	    a->details && *a->details ? ": " : "",
	    a->details ? escape_field(&l, stdout, a->details) : "");
	escape_list_free(&l);
	return 0;
}

static int
cmd_audit_exec(struct cmd_ctx *c)
{
	int64_t bad = 0;
	char *why = NULL;
	int rc;

	if (cmd_opt(c, "--verify") == NULL) {
		state_audit_each(c->st, 0, audit_print, NULL);
		return EXIT_DONE;
	}
	rc = state_audit_verify(c->st, &bad, &why);
	if (rc == 0)
		printf("audit trail intact\n");
	else if (rc > 0)
		fprintf(stderr, "cutover: audit trail broken at entry "
		    "%lld: %s\n", (long long)bad, why);
	else
		fprintf(stderr, "cutover: %s\n", state_error(c->st));
	free(why);
	return rc == 0 ? EXIT_DONE : rc > 0 ? EXIT_FAILED : EXIT_CONFLICT;
}
