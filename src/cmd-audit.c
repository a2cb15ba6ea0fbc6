/* cmd-audit.c - `cutover audit RUNBOOK [--verify]`: the audit trail. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "escape.h"
#include "xmalloc.h"

/* Column widths, from a first pass over the entries. */
struct audit_cols {
	int id;
	int run;
	int step;
	int who;
};

static int cmd_audit_exec(struct cmd_ctx *);
static int audit_measure(const struct audit_row *, void *);
static int audit_print(const struct audit_row *, void *);
static int audit_digits(int64_t);
static char *audit_who(struct escape_list *, const struct audit_row *);

const struct cmd_entry cmd_audit_entry = {
	.name = "audit",
	.usage = "audit RUNBOOK [--verify]",
	.options = "--verify",
	.summary = "show the audit trail, or verify its hash chain",
	.help = "Print every recorded action: entry, time, hash, run, step, "
		"operator\n"
		"(OS user), action and details.\n"
		"\n"
		"  --verify   check the hash chain instead; exit 1 if it is "
		"broken\n",
	.min_args = 1,
	.max_args = 1,
	.open = CMD_OPEN_READ,
	.exec = cmd_audit_exec,
};

/* Digits of n (n >= 0). */
static int
audit_digits(int64_t n)
{
	int d = 1;

	while (n >= 10) {
		n /= 10;
		d++;
	}
	return d;
}

/* "operator (os user)", escaped; free it. */
static char *
audit_who(struct escape_list *l, const struct audit_row *a)
{
	return xprintf("%s (%s)",
	    a->operator ? escape_field(l, stdout, a->operator) : "?",
	    a->os_user ? escape_field(l, stdout, a->os_user) : "?");
}

/* Widen the columns to fit entry a. */
static int
audit_measure(const struct audit_row *a, void *arg)
{
	struct audit_cols *w = arg;
	struct escape_list l = { 0 };
	char *who = audit_who(&l, a);
	int n;

	if ((n = audit_digits(a->id)) > w->id)
		w->id = n;
	if ((n = audit_digits(a->run)) > w->run)
		w->run = n;
	n = a->step ? (int)strlen(escape_field(&l, stdout, a->step)) : 1;
	if (n > w->step)
		w->step = n;
	if ((n = (int)strlen(who)) > w->who)
		w->who = n;
	free(who);
	escape_list_free(&l);
	return 0;
}

/* One entry a line, in columns: entry, when, hash, run, step, who, what,
 * details. */
static int
audit_print(const struct audit_row *a, void *arg)
{
	const struct audit_cols *w = arg;
	struct escape_list l = { 0 };
	char *who = audit_who(&l, a);

	printf("%*lld  %s  %.12s  run %-*lld  %-*s  %-*s  %s%s%s\n", w->id,
	    (long long)a->id, escape_field(&l, stdout, a->at),
	    escape_field(&l, stdout, a->hash), w->run, (long long)a->run,
	    w->step, a->step ? escape_field(&l, stdout, a->step) : "-",
	    w->who, who, escape_field(&l, stdout, a->action),
	    a->details && *a->details ? ": " : "",
	    a->details ? escape_field(&l, stdout, a->details) : "");
	free(who);
	escape_list_free(&l);
	return 0;
}

static int
cmd_audit_exec(struct cmd_ctx *c)
{
	int64_t bad = 0;
	char *why = NULL;
	int rc;
	struct audit_cols w = { 1, 1, 1, 1 };

	if (cmd_opt(c, "--verify") == NULL) {
		state_audit_each(c->st, 0, audit_measure, &w);
		state_audit_each(c->st, 0, audit_print, &w);
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
