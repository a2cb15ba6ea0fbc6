/*
 * notify-command.c - command sinks: the command runs through the
 * runbook's shell (settings.shell) by the local executor, on the loop,
 * with the event in its environment (CUTOVER_EVENT_ID, _TYPE, _RUNBOOK,
 * _RUN, _STEP, _ENTITY, _STATE, _OPERATOR, _TIME, _MESSAGE, exactly as
 * recorded) and ${event.FIELD} in its text replaced by the field made safe
 * for any place in a shell word: every character but letters, digits,
 * space and @%+=:,./_- becomes _. Then ${var} and ${env:NAME} are
 * expanded as in a step. Exit status 0 delivered it; its output is
 * dropped.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "exec.h"
#include "expand.h"
#include "notify.h"
#include "notify-int.h"
#include "runbook.h"
#include "xmalloc.h"

#define CMD_SAFE "@%+=:,./_- "

/* A command under way; t is NULL once the try was abandoned (the
 * executor still reports, and this is freed then). */
struct cmd_try {
	struct exec *ex;
	struct notify_try *t;
};

static int cmd_send(struct notify_try *, char **);
static void cmd_cancel(struct notify_try *);
static char *cmd_text(const char *, const struct outbox_row *);
static void cmd_add_safe(struct buf *, const char *);
static char **cmd_env(const struct outbox_row *);
static void cmd_output(const char *, size_t, void *);
static void cmd_done(const struct exec_result *, void *);

const struct notify_sink_ops notify_command_ops = {
	.name = "command",
	.send = cmd_send,
	.cancel = cmd_cancel,
};

static int
cmd_send(struct notify_try *t, char **err)
{
	struct exec_req req = { 0 };
	struct cmd_try *ct;
	char *text, *command, **env;

	text = cmd_text(t->sink->command, &t->row);
	command = expand_text(t->rb, text, err);
	free(text);
	if (command == NULL)
		return -1;
	env = cmd_env(&t->row);
	req.loop = t->loop;
	req.rb = t->rb;
	req.step = "notify";
	req.shell = t->rb->shell;
	req.command = command;
	req.env = (const char *const *)env;
	req.timeout_ms = NOTIFY_TIMEOUT_MS;
	req.output = cmd_output;
	req.done = cmd_done;
	ct = xcalloc(1, sizeof *ct);
	ct->t = t;
	req.arg = ct;
	ct->ex = exec_local_ops.start(&req, err); /* copies command, env */
	free(command);
	expand_free_list(env);
	if (ct->ex == NULL) {
		free(ct);
		return -1;
	}
	t->priv = ct;
	exec_local_ops.release(ct->ex);
	return 0;
}

/* text with each ${event.FIELD} replaced by the field, made safe. */
static char *
cmd_text(const char *text, const struct outbox_row *r)
{
	struct buf b = { 0 };
	enum notify_field f;
	const char *p = text, *end;
	char num[32];

	while (*p != '\0') {
		if (strncmp(p, "${event.", 8) == 0 &&
		    (end = strchr(p + 8, '}')) != NULL &&
		    notify_field_parse(p + 8, (size_t)(end - p - 8), &f) == 0) {
			cmd_add_safe(&b, notify_field_value(r, f, num));
			p = end + 1;
			continue;
		}
		if (p[0] == '$' && p[1] == '$') { /* $$ stays for expand */
			buf_add(&b, p, 2);
			p += 2;
			continue;
		}
		buf_addc(&b, *p++);
	}
	return buf_steal(&b);
}

static void
cmd_add_safe(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++)
		buf_addc(b, isalnum((unsigned char)*s) ||
		    strchr(CMD_SAFE, *s) != NULL ? *s : '_');
}

/* CUTOVER_EVENT_<FIELD>=value for every field, NULL-terminated. */
static char **
cmd_env(const struct outbox_row *r)
{
	char **env = xcalloc(NOTIFY_NFIELDS + 1, sizeof *env), num[32], *p;
	int f;

	for (f = 0; f < NOTIFY_NFIELDS; f++) {
		xasprintf(&env[f], "CUTOVER_EVENT_%s=%s",
		    notify_field_name((enum notify_field)f),
		    notify_field_value(r, (enum notify_field)f, num));
		for (p = env[f]; *p != '='; p++)
			*p = (char)toupper((unsigned char)*p);
	}
	return env;
}

static void
cmd_output(const char *buf, size_t len, void *arg)
{
}

static void
cmd_done(const struct exec_result *res, void *arg)
{
	struct cmd_try *ct = arg;
	struct notify_try *t = ct->t;
	int ok = res->ok;
	char *why;

	why = xstrdup(res->message != NULL ? res->message : "failed");
	exec_local_ops.free(ct->ex); /* res is the exec's */
	free(ct);
	if (t != NULL) {
		t->priv = NULL;
		notify_try_done(t, ok, why);
	}
	free(why);
}

static void
cmd_cancel(struct notify_try *t)
{
	struct cmd_try *ct = t->priv;

	if (ct == NULL)
		return;
	t->priv = NULL;
	ct->t = NULL;
	exec_local_ops.cancel(ct->ex, "the notifier stopped");
}
