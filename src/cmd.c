/* cmd.c - what subcommands share: options, loading, opening the state. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "cmd.h"
#include "escape.h"
#include "theme.h"
#include "xmalloc.h"

static int mkdir_parents(char *);
static int cmd_load(const char *, struct runbook **);
static char *cmd_state_path(const struct cmd_ctx *, const struct runbook *);
static int cmd_state(const struct cmd_ctx *, const struct runbook *, int,
    struct state **);
static int cmd_actor(const struct cmd_ctx *, const struct runbook *,
    struct state *);
static int cmd_actor_db(const struct cmd_ctx *, const struct runbook *,
    struct state *);
static int cmd_actor_os(const struct cmd_ctx *, struct state *);
static char *cmd_os_login(void);
static int cmd_open_read(struct cmd_ctx *, struct runbook **,
    struct state **);
static struct engine_step *cmd_step(struct engine *, const char *);
static int cmd_open_entry(const struct cmd_entry *, struct cmd_ctx *);
static int cmd_screen_check(const struct cmd_ctx *);
static void cmd_name_process(const struct cmd_ctx *);

int
cmd_dispatch(const struct cmd_entry *ce, struct cmd_ctx *c)
{
	int rc;

	cmd_name_process(c);
	if ((rc = cmd_prepare(ce, c)) != 0)
		return rc;
	if ((ce->flags & CMD_SCREEN) && (rc = cmd_screen_check(c)) != 0)
		return rc;
	if ((rc = cmd_open_entry(ce, c)) != 0)
		return rc;
	rc = ce->exec(c);
	if (ce->open != CMD_OPEN_NONE)
		cmd_close(c->rb, c->st, c->e);
	c->rb = NULL;
	c->st = NULL;
	c->e = NULL;
	c->step = NULL;
	return rc;
}


/*
 * The process's name (ps, /proc/PID/comm) is that of argv[0], as the
 * front's was before it handed the command over to this program.
 */
static void
cmd_name_process(const struct cmd_ctx *c)
{
	const char *name, *slash;

	if (c->argv == NULL || c->argv[0] == NULL)
		return;
	slash = strrchr(c->argv[0], '/');
	name = slash != NULL ? slash + 1 : c->argv[0];
	if (*name != '\0')
		prctl(PR_SET_NAME, name, 0, 0, 0);
}

/*
 * A command that draws the terminal needs its theme and a terminal: both
 * are checked before anything is opened, so that a refusal leaves no state
 * file and no run behind. 0 or EXIT_USAGE.
 */
static int
cmd_screen_check(const struct cmd_ctx *c)
{
	struct theme t;
	char *err = NULL;

	memset(&t, 0, sizeof t);
	if (theme_load(&t, c->theme, &err) != 0) {
		fprintf(stderr, "%s\n", err);
		free(err);
		theme_free(&t);
		return EXIT_USAGE;
	}
	theme_free(&t);
	if (isatty(STDIN_FILENO) && isatty(STDOUT_FILENO))
		return 0;
	fprintf(stderr, "cutover: the console needs a terminal; use `cutover "
	    "run` or `cutover status` without one\n");
	return EXIT_USAGE;
}

/* Open what ce declares into c, and look its step up; 0 or exit status. */
static int
cmd_open_entry(const struct cmd_entry *ce, struct cmd_ctx *c)
{
	struct engine_opts o = { 0 };
	char *sel;
	int rc;

	if (ce->open == CMD_OPEN_NONE)
		return 0;
	if (ce->open == CMD_OPEN_READ)
		return cmd_open_read(c, &c->rb, &c->st);
	o.drive = ce->open == CMD_OPEN_DRIVE ? ENGINE_DRIVE : ENGINE_TRY_DRIVE;
	o.create = (ce->flags & CMD_CREATE) != 0;
	o.quiet = (ce->flags & CMD_QUIET) != 0;
	o.new_run = cmd_opt(c, "--new-run") != NULL;
	o.accept_changes = cmd_opt(c, "--accept-changes") != NULL;
	sel = (ce->flags & CMD_SELECT) ? cmd_selection(c) : NULL;
	o.selection = sel;
	rc = cmd_open(c, &o, &c->rb, &c->st, &c->e);
	free(sel);
	if (rc != 0)
		return rc;
	if (ce->step > 0 &&
	    (c->step = cmd_step(c->e, c->args[ce->step])) == NULL) {
		cmd_close(c->rb, c->st, c->e);
		c->rb = NULL;
		c->st = NULL;
		c->e = NULL;
		return EXIT_USAGE;
	}
	return 0;
}



/* Load a runbook, printing its errors; 0 or EXIT_INVALID. */
static int
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


/* Where the state of rb lives by default (XDG). */
static char *
cmd_state_default(const struct runbook *rb)
{
	const char *env = getenv("XDG_STATE_HOME"), *home;

	if (env != NULL && *env == '/')
		return xprintf("%s/cutover/%s.db", env, rb->name);
	home = getenv("HOME");
	return xprintf("%s/.local/state/cutover/%s.db",
	    home != NULL ? home : ".", rb->name);
}

/* Where the state of rb lives (--state, $CUTOVER_STATE, XDG default). */
static char *
cmd_state_path(const struct cmd_ctx *c, const struct runbook *rb)
{
	const char *env = getenv("CUTOVER_STATE");

	if (c->state_path != NULL)
		return xstrdup(c->state_path);
	if (env != NULL && *env != '\0')
		return xstrdup(env);
	return cmd_state_default(rb);
}

char *
cmd_state_arg(const struct cmd_ctx *c, const struct runbook *rb)
{
	char *path = cmd_state_path(c, rb), *def = cmd_state_default(rb);

	if (strcmp(path, def) == 0) {
		free(path);
		path = NULL;
	}
	free(def);
	return path;
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

/* Open the state file of rb as flags say (STATE_CREATE, STATE_READONLY)
 * and check that it is rb's; 0 or EXIT_CONFLICT. */
static int
cmd_state(const struct cmd_ctx *c, const struct runbook *rb, int flags,
    struct state **st)
{
	char *path = cmd_state_path(c, rb), *err = NULL;
	int rc, create = flags & STATE_CREATE;

	if (create && state_is_file(path) && mkdir_parents(path) != 0) {
		fprintf(stderr, "cutover: cannot create the directory of %s: %s\n",
		    path, strerror(errno));
		free(path);
		return EXIT_CONFLICT;
	}
	if (!create && state_is_file(path) && access(path, F_OK) != 0 &&
	    !state_marked_gone(path)) {
		fprintf(stderr, "cutover: %s: no such state file; no run of %s "
		    "has started (start one with `cutover run`)\n", path,
		    rb->name);
		free(path);
		return EXIT_CONFLICT;
	}
	if (state_is_file(path) && rb->operator_mode == RB_OPERATOR_OS_USER &&
	    cmd_actor_os(c, NULL) != 0) { /* refused before any file is made */
		free(path);
		return EXIT_CONFLICT;
	}
	rc = state_open(path, flags, st, &err);
	if (rc == STATE_OK) /* a store of many runbooks sees only rb's runs */
		state_set_runbook(*st, rb->name);
	if (rc == STATE_OK && state_runbook_check(*st, rb->name) != STATE_OK) {
		err = xstrdup(state_error(*st));
		state_close(*st);
		*st = NULL;
		rc = STATE_ERR;
	}
	if (rc != STATE_OK) {
		fprintf(stderr, "cutover: %s\n", err);
		free(err);
		free(path);
		return EXIT_CONFLICT;
	}
	free(path);
	if (state_warning(*st) != NULL)
		fprintf(stderr, "cutover: warning: %s\n", state_warning(*st));
	if (cmd_actor(c, rb, *st) != 0) {
		state_close(*st);
		*st = NULL;
		return EXIT_CONFLICT;
	}
	return 0;
}

/*
 * Who acts on st: on a store that authenticates its users (PostgreSQL),
 * its user or an alias of it (operators:); with settings.operator: os-user,
 * the OS login; else the name declared. 0, or -1 after saying why not.
 */
static int
cmd_actor(const struct cmd_ctx *c, const struct runbook *rb,
    struct state *st)
{
	if (state_db_user(st) != NULL)
		return cmd_actor_db(c, rb, st);
	if (rb->operator_mode == RB_OPERATOR_OS_USER)
		return cmd_actor_os(c, st);
	state_set_actor(st, c->operator, NULL);
	return 0;
}

/* The operator on PostgreSQL: --operator if it is the database user or an
 * alias of it, else the one alias of the user, else the user. */
static int
cmd_actor_db(const struct cmd_ctx *c, const struct runbook *rb,
    struct state *st)
{
	const char *db = state_db_user(st), *op = cmd_opt(c, "--operator");

	if (cmd_text_check("the database user", db) != 0)
		return -1;
	if (op == NULL) {
		op = runbook_operator_of(rb, db);
		state_set_actor(st, op != NULL ? op : db, NULL);
		return 0;
	}
	if (strcmp(op, db) == 0 || runbook_operator_is(rb, op, db)) {
		state_set_actor(st, op, NULL);
		return 0;
	}
	fprintf(stderr, "cutover: --operator %s is not database user %s, "
	    "whom the state store authenticated, nor an alias of it "
	    "(operators: in %s)\n", op, db, rb->name);
	return -1;
}

/* The operator under settings.operator: os-user (a SQLite file): the OS
 * login, which a declared name must match (st NULL: only check that). */
static int
cmd_actor_os(const struct cmd_ctx *c, struct state *st)
{
	const char *op = cmd_opt(c, "--operator");
	char *login = cmd_os_login();
	int rc = 0;

	if (cmd_text_check("SUDO_USER", login) != 0)
		rc = -1;
	else if (op != NULL && strcmp(op, login) != 0) {
		fprintf(stderr, "cutover: --operator %s is not the OS user %s, "
		    "and this runbook wants the OS user (settings.operator: "
		    "os-user)\n", op, login);
		rc = -1;
	} else if (st != NULL)
		state_set_actor(st, login, login);
	free(login);
	return rc;
}

/* The OS login of this process: its user's name, or for root the user
 * that ran sudo (SUDO_USER) if any. A new string. */
static char *
cmd_os_login(void)
{
	const char *sudo = getenv("SUDO_USER");
	struct passwd *pw;

	if (getuid() == 0 && sudo != NULL && *sudo != '\0')
		return xstrdup(sudo);
	pw = getpwuid(getuid());
	if (pw != NULL)
		return xstrdup(pw->pw_name);
	return xprintf("uid-%lu", (unsigned long)getuid());
}

/* The items of a run's selection, from --wave and --entity (NULL: none). */
char *
cmd_selection(const struct cmd_ctx *c)
{
	struct buf b = { 0 };
	const char *v, *p, *comma;
	int i, wave;

	for (i = 0; i < c->nopts; i++) {
		wave = strcmp(c->opt_name[i], "--wave") == 0;
		if ((!wave && strcmp(c->opt_name[i], "--entity") != 0) ||
		    (v = c->opt_value[i]) == NULL)
			continue;
		if (wave) {
			buf_printf(&b, "%swave:%s", b.len ? "," : "", v);
			continue;
		}
		for (p = v; *p != '\0'; p = *comma ? comma + 1 : comma) {
			comma = p + strcspn(p, ",");
			if (comma > p)
				buf_printf(&b, "%sentity:%.*s", b.len ? "," : "",
				    (int)(comma - p), p);
		}
	}
	return b.data;
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
	if ((rc = cmd_state(c, *rb, o->create ? STATE_CREATE : 0, st)) != 0)
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

/* Load runbook args[0] and open its existing state file to read it. */
static int
cmd_open_read(struct cmd_ctx *c, struct runbook **rb, struct state **st)
{
	int rc;

	*st = NULL;
	if ((rc = cmd_load(c->args[0], rb)) != 0)
		return rc;
	if ((rc = cmd_state(c, *rb, STATE_READONLY, st)) != 0) {
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

/* The step named id of the engine, or NULL after printing an error. */
static struct engine_step *
cmd_step(struct engine *e, const char *id)
{
	struct engine_step *s = engine_find(e, id);
	char *why;

	if (s == NULL) {
		why = engine_find_why(e, id);
		fprintf(stderr, "cutover: %s\n", why);
		free(why);
	}
	return s;
}
