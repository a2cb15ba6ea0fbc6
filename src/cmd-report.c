/*
 * cmd-report.c - `cutover report RUNBOOK [--run N] [--compare N]
 * [--format md|html|json] [-o FILE]`: what happened in a run, planned
 * against actual, optionally beside another run (another wave's: the
 * for_each steps' medians over entities side by side).
 *
 * -o writes the file atomically (a temporary file in the same directory,
 * synced, then renamed over FILE) with mode 0644: a report is shared.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "report.h"
#include "xmalloc.h"

static int cmd_report_check(struct cmd_ctx *);
static int cmd_report_exec(struct cmd_ctx *);
static size_t report_format(const char *);
static int report_write(const char *, const struct buf *);
static int report_load_runs(struct cmd_ctx *, struct state *,
    struct runbook *, struct report_run *, struct report_run *, int *);

static const struct {
	const char *name;
	void (*fn)(struct buf *, struct report_run *, struct report_run *);
} report_formats[] = {
	{ "md", report_md },
	{ "json", report_json },
	{ "html", report_html },
};
#define NFORMATS (sizeof report_formats / sizeof report_formats[0])

const struct cmd_entry cmd_report_entry = {
	.name = "report",
	.usage = "report RUNBOOK [--run N] [--compare N] "
		 "[--format md|html|json] [-o FILE]",
	.options = "--run= --compare= --format= -o=",
	.summary = "write what happened in a run, planned against actual",
	.help = "Write the report of the latest run (or run N) to standard "
		"output or\n"
		"FILE.\n"
		"\n"
		"  --run N             report run N, not the latest\n"
		"  --compare N         beside run N (e.g. the last "
		"rehearsal, or the\n"
		"                      night of another wave: each for_each "
		"step's\n"
		"                      median and slowest entity side by "
		"side)\n"
		"  --format md|html|json\n"
		"                      the format; default md\n"
		"  -o FILE             write FILE atomically instead of "
		"standard output\n",
	.min_args = 1,
	.max_args = 1,
	.open = CMD_OPEN_READ,
	.check = cmd_report_check,
	.exec = cmd_report_exec,
};

/* Write b to path through a temporary file renamed over it. */
static int
report_write(const char *path, const struct buf *b)
{
	char *tmp = xprintf("%s.XXXXXX", path);
	int fd = mkstemp(tmp), ok;
	size_t off = 0;
	ssize_t n;

	if (fd < 0) {
		fprintf(stderr, "cutover: %s: %s\n", path, strerror(errno));
		free(tmp);
		return -1;
	}
	ok = fchmod(fd, 0644) == 0;
	while (ok && off < b->len) {
		n = write(fd, b->data + off, b->len - off);
		if (n < 0 && errno == EINTR)
			continue;
		ok = n > 0;
		off += ok ? (size_t)n : 0;
	}
	ok = ok && fsync(fd) == 0;
	ok = (close(fd) == 0) && ok;
	ok = ok && rename(tmp, path) == 0;
	if (!ok) {
		fprintf(stderr, "cutover: %s: %s\n", path, strerror(errno));
		unlink(tmp);
	}
	free(tmp);
	return ok ? 0 : -1;
}

/* The run asked for and, with --compare, the other one. */
static int
report_load_runs(struct cmd_ctx *c, struct state *st, struct runbook *rb,
    struct report_run *r, struct report_run *cmp, int *have_cmp)
{
	long long want = cmd_opt_num(c, "--run");
	long long other = cmd_opt_num(c, "--compare");
	int rc;

	if (want == -2 || other == -2)
		return EXIT_USAGE;
	rc = report_run_load(st, rb, want > 0 ? want : 0, r);
	if (rc == STATE_OK && other > 0) {
		want = other;
		rc = report_run_load(st, rb, other, cmp);
		*have_cmp = 1;
	}
	if (rc == STATE_NOTFOUND && want > 0)
		fprintf(stderr, "cutover: no run %lld in the state file; "
		    "`cutover runs` lists them\n", want);
	else if (rc == STATE_NOTFOUND)
		fprintf(stderr, "cutover: no run in the state file yet\n");
	else if (rc != STATE_OK)
		fprintf(stderr, "cutover: %s\n", state_error(st));
	if (rc != STATE_OK)
		return EXIT_CONFLICT;
	return EXIT_DONE;
}

/* The index of format name (md when NULL); NFORMATS if there is none. */
static size_t
report_format(const char *name)
{
	size_t f;

	if (name == NULL)
		name = "md";
	for (f = 0; f < NFORMATS; f++)
		if (strcmp(name, report_formats[f].name) == 0)
			break;
	return f;
}

/* A known format, and a file name if -o is given. */
static int
cmd_report_check(struct cmd_ctx *c)
{
	const char *fmt = cmd_opt(c, "--format"), *out = cmd_opt(c, "-o");
	size_t f = report_format(fmt);

	if (f == NFORMATS || (out != NULL && *out == '\0')) {
		fprintf(stderr, f == NFORMATS ? "cutover: --format is md, html "
		    "or json, not '%s'\n" : "cutover: -o needs a file%s\n",
		    f == NFORMATS ? fmt : "");
		return EXIT_USAGE;
	}
	return 0;
}

static int
cmd_report_exec(struct cmd_ctx *c)
{
	const char *out = cmd_opt(c, "-o");
	size_t f = report_format(cmd_opt(c, "--format"));
	struct report_run r, cmp;
	struct buf b = { 0 };
	int rc, have_cmp = 0;

	memset(&r, 0, sizeof r);
	memset(&cmp, 0, sizeof cmp);
	rc = report_load_runs(c, c->st, c->rb, &r, &cmp, &have_cmp);
	if (rc == EXIT_DONE) {
		report_formats[f].fn(&b, &r, have_cmp ? &cmp : NULL);
		if (out == NULL)
			fwrite(b.data, 1, b.len, stdout);
		else if (report_write(out, &b) != 0)
			rc = EXIT_FAILED;
	}
	buf_free(&b);
	report_run_free(&r);
	report_run_free(&cmp);
	return rc;
}
