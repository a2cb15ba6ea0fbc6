/*
 * cmd-audit.c - `cutover audit RUNBOOK [--verify [--head HASH]]`: the audit
 * trail, or a check of its hash chain ending in the head hash.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "duration.h"
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
static int cmd_audit_check(struct cmd_ctx *);
static int audit_measure(const struct audit_row *, void *);
static int audit_print(const struct audit_row *, void *);
static int audit_digits(int64_t);
static char *audit_who(struct escape_list *, const struct audit_row *);
static int audit_verify(struct cmd_ctx *);
static void audit_clock_warn(struct state *);

const struct cmd_entry cmd_audit_entry = {
	.name = "audit",
	.usage = "audit RUNBOOK [--verify [--head HASH]]",
	.options = "--verify --head=",
	.summary = "show the audit trail, or verify its hash chain",
	.help = "Print every recorded action: entry, time, hash, run, step, "
		"operator\n"
		"(OS user), action and details.\n"
		"\n"
		"  --verify     check the hash chain instead and print its head; "
		"exit 1\n"
		"               if it is broken\n"
		"  --head HASH  with --verify: exit 1 too when the chain does "
		"not end in\n"
		"               HASH (the head printed at the end of a run)\n",
	.min_args = 1,
	.max_args = 1,
	.open = CMD_OPEN_READ,
	.check = cmd_audit_check,
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

/* --head goes with --verify and is a full SHA-256 in hex. */
static int
cmd_audit_check(struct cmd_ctx *c)
{
	const char *head = cmd_opt(c, "--head");

	if (head == NULL)
		return 0;
	if (cmd_opt(c, "--verify") == NULL) {
		fprintf(stderr, "cutover: --head goes with --verify\n");
		return EXIT_USAGE;
	}
	if (strlen(head) != 64 || strspn(head, "0123456789abcdef") != 64) {
		fprintf(stderr, "cutover: --head wants the 64 hex digits that "
		    "`audit --verify` printed\n");
		return EXIT_USAGE;
	}
	return 0;
}

/* Say so when this machine's clock is behind the trail. */
static void
audit_clock_warn(struct state *st)
{
	char d[32];

	if (state_clock_behind(st) < 1000)
		return;
	duration_format(state_clock_behind(st), d, sizeof d);
	fprintf(stderr, "cutover: warning: this machine's clock is %s behind "
	    "the newest audit entry\n", d);
}

/*
 * Check the chain, print its head, and with --head compare: an operator
 * who noted the head at the end of a run catches a cut tail or a chain
 * rebuilt after an edit, which the chain alone cannot show.
 */
static int
audit_verify(struct cmd_ctx *c)
{
	const char *want = cmd_opt(c, "--head");
	char head[65], *why = NULL;
	int64_t bad = 0;
	int rc;

	rc = state_audit_verify(c->st, &bad, &why);
	if (rc > 0)
		fprintf(stderr, "cutover: audit trail broken at entry "
		    "%lld: %s\n", (long long)bad, why);
	free(why);
	if (rc < 0 || (rc == 0 && state_audit_head(c->st, head) == STATE_ERR)) {
		fprintf(stderr, "cutover: %s\n", state_error(c->st));
		return EXIT_CONFLICT;
	}
	if (rc > 0)
		return EXIT_FAILED;
	printf("audit trail intact\naudit head: %s\n",
	    *head != '\0' ? head : "none (no entries)");
	if (want != NULL && strcmp(want, head) != 0) {
		fprintf(stderr, "cutover: audit head is not %s: the trail was "
		    "cut or rewritten since that head was noted\n", want);
		return EXIT_FAILED;
	}
	return EXIT_DONE;
}

static int
cmd_audit_exec(struct cmd_ctx *c)
{
	struct audit_cols w = { 1, 1, 1, 1 };

	audit_clock_warn(c->st);
	if (cmd_opt(c, "--verify") != NULL)
		return audit_verify(c);
	if (state_audit_each(c->st, 0, audit_measure, &w) != STATE_OK ||
	    state_audit_each(c->st, 0, audit_print, &w) != STATE_OK) {
		fprintf(stderr, "cutover: %s\n", state_error(c->st));
		return EXIT_CONFLICT;
	}
	return EXIT_DONE;
}
