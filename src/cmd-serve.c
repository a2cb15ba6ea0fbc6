/*
 * cmd-serve.c - `cutover serve RUNBOOK [--listen HOST:PORT] [--token-file
 * FILE]`: the run in a browser (a live dashboard), as JSON and as
 * Prometheus metrics, read-only, until SIGINT or SIGTERM (web.h).
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"
#include "loop.h"
#include "web.h"
#include "xmalloc.h"

static int cmd_serve_check(struct cmd_ctx *);
static int cmd_serve_exec(struct cmd_ctx *);
static int serve_args(struct cmd_ctx *, struct web_addr *, char **);
static void serve_on_signal(int, void *);

const struct cmd_entry cmd_serve_entry = {
	.name = "serve",
	.usage = "serve RUNBOOK [--listen HOST:PORT] [--token-file FILE]",
	.options = "--listen= --token-file=",
	.summary = "serve a live dashboard, status JSON and metrics over HTTP",
	.help = "Serve the latest run, read-only, over HTTP: a live dashboard "
		"at /,\n"
		"/api/status (status --json), /api/log/STEP, /report.html, "
		"/metrics\n"
		"(Prometheus) and /healthz. Runs until interrupted.\n"
		"\n"
		"  --listen HOST:PORT   where to listen; default "
		WEB_DEFAULT_LISTEN "\n"
		"  --token-file FILE    every request must carry the token in "
		"FILE\n"
		"                       (Authorization: Bearer, or ?token= once);"
		"\n"
		"                       needed to listen on a non-loopback "
		"address\n",
	.min_args = 1,
	.max_args = 1,
	.open = CMD_OPEN_READ,
	.check = cmd_serve_check,
	.exec = cmd_serve_exec,
};

/* The address and the token, checked: 0, or EXIT_USAGE after saying why. */
static int
serve_args(struct cmd_ctx *c, struct web_addr *a, char **token)
{
	const char *listen = cmd_opt(c, "--listen");
	const char *file = cmd_opt(c, "--token-file");
	char *err = NULL;

	*token = NULL;
	if (web_addr_parse(listen ? listen : WEB_DEFAULT_LISTEN, a, &err) != 0 ||
	    (file != NULL && web_token_read(file, token, &err) != 0)) {
		fprintf(stderr, "cutover: %s\n", err);
		free(err);
		return EXIT_USAGE;
	}
	if (!a->loopback && *token == NULL) {
		fprintf(stderr, "cutover: --listen %s is not a loopback address:"
		    " give --token-file FILE, whose token every request must "
		    "then carry\n", listen);
		return EXIT_USAGE;
	}
	return 0;
}

/* Refuse bad options before the runbook and state are opened. */
static int
cmd_serve_check(struct cmd_ctx *c)
{
	struct web_addr a;
	char *token;
	int rc = serve_args(c, &a, &token);

	free(token);
	return rc;
}

/* SIGINT, SIGTERM: stop serving. */
static void
serve_on_signal(int sig, void *arg)
{
	*(int *)arg = 1;
}

static int
cmd_serve_exec(struct cmd_ctx *c)
{
	struct web_addr a;
	struct web_view *view;
	struct loop *loop;
	struct web *w;
	char *token, *err = NULL;
	int done = 0, rc;

	if ((rc = serve_args(c, &a, &token)) != 0)
		return rc;
	signal(SIGPIPE, SIG_IGN);
	loop = loop_new();
	view = web_view_new(c->rb, c->st);
	if ((w = web_start(loop, &a, token, view, &err)) == NULL) {
		fprintf(stderr, "cutover: --listen %s: %s\n",
		    cmd_opt(c, "--listen") ? cmd_opt(c, "--listen")
		                           : WEB_DEFAULT_LISTEN, err);
		free(err);
		rc = EXIT_USAGE;
	} else {
		loop_signal(loop, SIGINT, serve_on_signal, &done);
		loop_signal(loop, SIGTERM, serve_on_signal, &done);
		printf("cutover: serving %s at http://%s%s%s:%d/%s\n", c->rb->name,
		    a.ss.ss_family == AF_INET6 ? "[" : "", a.host,
		    a.ss.ss_family == AF_INET6 ? "]" : "", web_port(w),
		    token != NULL ? " (token needed)" : "");
		fflush(stdout);
		while (!done)
			loop_once(loop, -1);
		web_stop(w);
		rc = EXIT_DONE;
	}
	web_view_free(view);
	loop_free(loop);
	free(token);
	return rc;
}
