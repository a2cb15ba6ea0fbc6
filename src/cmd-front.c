/*
 * cmd-front.c - the front's dispatch. The installed `cutover` links only
 * what its own commands need (CMD_FRONT: lint, help, version; libyaml and
 * libc), so that a lint costs no start-up of libpq, libcurl, libssh2, ...;
 * every other command is handed over to the engine, the whole program, by
 * execv: the same argv and the same process, so that its pid, leases and
 * signals are those of the command as typed.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "xmalloc.h"

static char *cmd_engine_beside(void);

int
cmd_dispatch(const struct cmd_entry *ce, struct cmd_ctx *c)
{
	int rc;

	if ((rc = cmd_prepare(ce, c)) != 0)
		return rc;
	return ce->exec(c);
}

/* The engine next to this program (its real path, + "-engine"): the build
 * tree's, where `make check` runs uninstalled; NULL if unknown. */
static char *
cmd_engine_beside(void)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);

	if (n <= 0)
		return NULL;
	self[n] = '\0';
	return xprintf("%s-engine", self);
}

int
cmd_engine_exec(struct cmd_ctx *c)
{
	char *beside = cmd_engine_beside();
	const char *installed = PKGLIBEXECDIR "/cutover-engine", *tried;

	fflush(NULL);
	tried = beside != NULL && access(beside, X_OK) == 0 ? beside :
	    installed;
	execv(tried, c->argv);
	if (errno == ENOENT)
		fprintf(stderr, "cutover: the engine is missing: no %s%s%s; "
		    "reinstall cutover\n", beside != NULL ? beside : "",
		    beside != NULL ? " nor " : "", installed);
	else
		fprintf(stderr, "cutover: cannot run the engine %s: %s\n",
		    tried, strerror(errno));
	free(beside);
	return EXIT_NO_ENGINE;
}
