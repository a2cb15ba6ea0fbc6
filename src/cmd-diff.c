/*
 * cmd-diff.c - `cutover diff RUNBOOK STEP[@ENTITY] [--attempt N]
 * [--format csv|json] [-o FILE]`: every difference a reconcile attempt
 * found (missing, extra, changed with both rows), not only the samples,
 * for the people who fix the data. Streams from the state: memory does
 * not grow with the number of differences.
 *
 * CSV: a header "kind,key,columns,source,dest" and a record a difference;
 * key, source and dest are JSON arrays of the values (one field each, so
 * that any number of columns fits). JSON: one array of objects
 * {"kind", "key", "columns", "source", "dest"}.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cmd.h"
#include "json.h"
#include "runbook.h"
#include "state.h"
#include "xmalloc.h"

struct diff_out {
	FILE *f;
	int json;
	int64_t n;
};

static int cmd_diff_check(struct cmd_ctx *);
static int cmd_diff_exec(struct cmd_ctx *);
static int diff_row_print(const struct diff_row *, void *);
static void diff_csv_field(FILE *, const char *);
static const struct attempt_row *diff_attempt(const struct attempt_row *,
    size_t, long long);

const struct cmd_entry cmd_diff_entry = {
	.name = "diff",
	.usage = "diff RUNBOOK STEP[@ENTITY] [--attempt N] [--format csv|json] "
		 "[-o FILE]",
	.options = "--attempt= --format= -o=",
	.summary = "export every difference a reconcile step found",
	.help = "Print every difference of the last attempt of reconcile step "
		"STEP\n"
		"(missing, extra, and changed rows with both sides' values), "
		"not only\n"
		"the samples that status and reports show.\n"
		"\n"
		"  --attempt N        that attempt of STEP instead of the last\n"
		"  --format csv|json  csv (default): kind,key,columns,source,"
		"dest with\n"
		"                     key and values as JSON arrays; json: an "
		"array\n"
		"  -o FILE            write to FILE instead of standard output\n",
	.min_args = 2,
	.max_args = 2,
	.open = CMD_OPEN_READ,
	.check = cmd_diff_check,
	.exec = cmd_diff_exec,
};

static int
cmd_diff_check(struct cmd_ctx *c)
{
	const char *fmt = cmd_opt(c, "--format");

	if (cmd_opt_num(c, "--attempt") == -2)
		return EXIT_USAGE;
	if (fmt != NULL && strcmp(fmt, "csv") != 0 && strcmp(fmt, "json") != 0) {
		fprintf(stderr, "cutover: --format: expected csv or json, "
		    "not '%s'\n", fmt);
		return EXIT_USAGE;
	}
	return 0;
}

/* Attempt n (the last run attempt when n <= 0), or NULL. */
static const struct attempt_row *
diff_attempt(const struct attempt_row *v, size_t len, long long n)
{
	size_t i;

	for (i = len; i-- > 0;) {
		if (n > 0 ? v[i].n == n : v[i].kind == ATT_RUN)
			return &v[i];
	}
	return NULL;
}

static int
cmd_diff_exec(struct cmd_ctx *c)
{
	const char *step = c->args[1], *out = cmd_opt(c, "-o");
	const char *fmt = cmd_opt(c, "--format");
	const struct attempt_row *a;
	struct attempt_row *v = NULL;
	struct diff_out d = { stdout, fmt != NULL && strcmp(fmt, "json") == 0,
		0 };
	struct run_info r;
	char *name = NULL, *entity = NULL;
	size_t len = 0;
	int rc = EXIT_DONE;

	if (runbook_instance_parse(step, &name, &entity) < 0 ||
	    runbook_find_step(c->rb, name) == NULL) {
		fprintf(stderr, "cutover: no step %s in the runbook\n", step);
		free(name);
		free(entity);
		return EXIT_USAGE;
	}
	if (runbook_find_step(c->rb, name)->type != STEP_RECONCILE) {
		fprintf(stderr, "cutover: %s is not a reconcile step\n", name);
		free(name);
		free(entity);
		return EXIT_USAGE;
	}
	free(name);
	free(entity);
	if (state_run_latest(c->st, 0, &r) != STATE_OK) {
		fprintf(stderr, "cutover: no run in the state file yet\n");
		return EXIT_CONFLICT;
	}
	if (state_attempts_list(c->st, r.id, step, 0, &v, &len) != STATE_OK ||
	    (a = diff_attempt(v, len, cmd_opt_num(c, "--attempt"))) == NULL ||
	    a->token == NULL) {
		fprintf(stderr, "cutover: %s has no such attempt in run %lld\n",
		    step, (long long)r.id);
		attempt_rows_free(v, len);
		run_info_free(&r);
		return EXIT_CONFLICT;
	}
	if (out != NULL && (d.f = fopen(out, "w")) == NULL) {
		fprintf(stderr, "cutover: %s: %s\n", out, strerror(errno));
		rc = EXIT_FAILED;
	}
	if (rc == EXIT_DONE) {
		fputs(d.json ? "[" : "kind,key,columns,source,dest\n", d.f);
		if (state_diffs_each(c->st, r.id, step, a->token,
		    diff_row_print, &d) != STATE_OK)
			rc = EXIT_FAILED;
		if (d.json)
			fputs(d.n > 0 ? "\n]\n" : "]\n", d.f);
		if ((out != NULL ? fclose(d.f) : fflush(d.f)) != 0) {
			fprintf(stderr, "cutover: %s: %s\n", out != NULL ? out :
			    "standard output", strerror(errno));
			rc = EXIT_FAILED;
		}
	}
	attempt_rows_free(v, len);
	run_info_free(&r);
	return rc;
}

/* One CSV field, quoted as RFC 4180 says when it must be. */
static void
diff_csv_field(FILE *f, const char *s)
{
	if (s == NULL)
		return;
	if (strpbrk(s, ",\"\r\n") == NULL) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s != '\0'; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static int
diff_row_print(const struct diff_row *r, void *arg)
{
	struct diff_out *d = arg;
	struct buf b = { 0 };
	int first = 1;

	if (!d->json) {
		fprintf(d->f, "%s,", r->kind);
		diff_csv_field(d->f, r->key);
		fputc(',', d->f);
		diff_csv_field(d->f, r->columns);
		fputc(',', d->f);
		diff_csv_field(d->f, r->source);
		fputc(',', d->f);
		diff_csv_field(d->f, r->dest);
		fputc('\n', d->f);
		d->n++;
		return ferror(d->f) ? 1 : 0;
	}
	buf_addc(&b, '{');
	json_key(&b, &first, "kind");
	json_str(&b, r->kind);
	json_key(&b, &first, "key");
	buf_adds(&b, r->key);
	json_key(&b, &first, "columns");
	if (r->columns != NULL)
		json_str(&b, r->columns);
	else
		buf_adds(&b, "null");
	json_key(&b, &first, "source");
	buf_adds(&b, r->source != NULL ? r->source : "null");
	json_key(&b, &first, "dest");
	buf_adds(&b, r->dest != NULL ? r->dest : "null");
	buf_addc(&b, '}');
	fprintf(d->f, "%s\n  %s", d->n > 0 ? "," : "", buf_str(&b));
	buf_free(&b);
	d->n++;
	return ferror(d->f) ? 1 : 0;
}
