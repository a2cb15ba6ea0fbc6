/* cmd.c - what subcommands share: options, loading, opening the state. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "xmalloc.h"

static int mkdir_parents(char *);

const char *
cmd_opt(const struct cmd_ctx *c, const char *name)
{
	int i;

	for (i = c->nopts - 1; i >= 0; i--) {
		if (strcmp(c->opt_name[i], name) == 0)
			return c->opt_value[i] != NULL ? c->opt_value[i] : "";
	}
	return NULL;
}

long long
cmd_opt_num(const struct cmd_ctx *c, const char *name)
{
	const char *v = cmd_opt(c, name);
	char *end;
	long long n;

	if (v == NULL)
		return -1;
	errno = 0;
	n = strtoll(v, &end, 10);
	if (*v == '\0' || *end != '\0' || errno != 0 || n <= 0) {
		fprintf(stderr, "cutover: %s wants a positive number, not '%s'\n",
		    name, v);
		return -2;
	}
	return n;
}

int
cmd_load(const char *path, struct runbook **rb)
{
	struct diags d = { 0 };

	errno = 0;
	if (runbook_load(path, rb, &d) == 0) {
		diags_free(&d);
		return 0;
	}
	cmd_diags_print(path, &d);
	diags_free(&d);
	return EXIT_INVALID;
}

void
cmd_diags_print(const char *path, struct diags *d)
{
	if (d->n == 0)
		fprintf(stderr, "cutover: %s: %s\n", path,
		    strerror(errno ? errno : EIO));
	diags_print(d, stderr);
}

char *
cmd_state_path(const struct cmd_ctx *c, const struct runbook *rb)
{
	const char *env = getenv("CUTOVER_STATE"), *home;

	if (c->state_path != NULL)
		return xstrdup(c->state_path);
	if (env != NULL && *env != '\0')
		return xstrdup(env);
	if ((env = getenv("XDG_STATE_HOME")) != NULL && *env == '/')
		return xprintf("%s/cutover/%s.db", env, rb->name);
	home = getenv("HOME");
	return xprintf("%s/.local/state/cutover/%s.db",
	    home != NULL ? home : ".", rb->name);
}

/* mkdir -p the directory part of path (mode 0700). */
static int
mkdir_parents(char *path)
{
	char *p;

	for (p = path + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0700) == -1 && errno != EEXIST) {
			*p = '/';
			return -1;
		}
		*p = '/';
	}
	return 0;
}

int
cmd_state(const struct cmd_ctx *c, const struct runbook *rb, int create,
    struct state **st)
{
	char *path = cmd_state_path(c, rb), *err = NULL;
	int rc;

	if (create && mkdir_parents(path) != 0) {
		fprintf(stderr, "cutover: cannot create the directory of %s: %s\n",
		    path, strerror(errno));
		free(path);
		return EXIT_CONFLICT;
	}
	if (!create && access(path, F_OK) != 0) {
		fprintf(stderr, "cutover: %s: no such state file; no run of %s "
		    "has started (start one with `cutover run`)\n", path,
		    rb->name);
		free(path);
		return EXIT_CONFLICT;
	}
	rc = state_open(path, create, st, &err);
	if (rc != STATE_OK) {
		fprintf(stderr, "cutover: %s\n", err);
		free(err);
		free(path);
		return EXIT_CONFLICT;
	}
	free(path);
	state_set_actor(*st, c->operator, NULL);
	return 0;
}

int
cmd_open(struct cmd_ctx *c, struct engine_opts *o, struct runbook **rb,
    struct state **st, struct engine **e)
{
	int rc;

	*rb = NULL;
	*st = NULL;
	*e = NULL;
	if ((rc = cmd_load(c->args[0], rb)) != 0)
		return rc;
	if ((rc = cmd_state(c, *rb, o->create, st)) != 0)
		goto fail;
	o->mode = c->mode;
	if ((rc = engine_open(*rb, *st, o, e)) != 0)
		goto fail;
	if (c->mode != NULL &&
	    strcmp(c->mode, engine_run_info(*e)->mode) != 0) {
		fprintf(stderr, "cutover: run %lld is a %s run; --mode %s "
		    "applies to a new run (add --new-run)\n",
		    (long long)engine_run_info(*e)->id, engine_run_info(*e)->mode,
		    c->mode);
		rc = EXIT_USAGE;
		goto fail;
	}
	return 0;
fail:
	cmd_close(*rb, *st, *e);
	*rb = NULL;
	*st = NULL;
	*e = NULL;
	return rc;
}

int
cmd_open_read(struct cmd_ctx *c, struct runbook **rb, struct state **st)
{
	int rc;

	*st = NULL;
	if ((rc = cmd_load(c->args[0], rb)) != 0)
		return rc;
	if ((rc = cmd_state(c, *rb, 0, st)) != 0) {
		runbook_free(*rb);
		*rb = NULL;
	}
	return rc;
}

void
cmd_close(struct runbook *rb, struct state *st, struct engine *e)
{
	engine_close(e);
	state_close(st);
	if (rb != NULL)
		runbook_free(rb);
}

struct engine_step *
cmd_step(struct engine *e, const char *id)
{
	struct engine_step *s = engine_find(e, id);

	if (s == NULL)
		fprintf(stderr, "cutover: no step %s in runbook %s\n", id,
		    engine_runbook(e)->name);
	return s;
}
