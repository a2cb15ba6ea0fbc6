/*
 * exec-local.c - local steps: `run` through `settings.shell -c` in its own
 * process group, output on one non-blocking pipe, timeout kills the group.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "duration.h"
#include "exec.h"
#include "loop.h"
#include "runbook.h"
#include "xmalloc.h"

#define LOCAL_KILL_GRACE_MS 2000 /* SIGTERM, then SIGKILL after this */
#define LOCAL_DRAIN_MS 1000      /* wait for the pipe after the shell exits */
#define LOCAL_WINDOW_MS 50        /* output is read at most ... */
#define LOCAL_WINDOW_BYTES (1024 * 1024) /* ... this much per window */

struct exec {
	struct exec_req req;
	char *command;
	char **env; /* copies of req->env: the command starts later */
	pid_t pid;
	int gate;   /* write end: closing it without a byte aborts the child */
	int out;    /* read end of the output pipe */
	struct loop_io *io;
	struct loop_timer *timeout, *kill_timer, *drain_timer, *resume;
	int64_t window;    /* loop_now() when the current read window began */
	size_t window_len; /* bytes read in it */
	int exited, status, closed, finished, timed_out;
	char *why; /* reason for cancel */
	struct exec_result result;
	struct exec *next;
};

static struct exec *local_running;

static struct exec *local_start(const struct exec_req *, char **);
static int64_t local_pgid(struct exec *);
static void local_release(struct exec *);
static void local_cancel(struct exec *, const char *);
static void local_free(struct exec *);
static void local_on_spawn_failed(void *);
static char **local_envp(const char *const *, char *);
static char **local_copy_env(const char *const *);
static void local_read(int, short, void *);
static void local_on_timeout(void *);
static void local_on_kill(void *);
static void local_on_drain(void *);
static void local_close_pipe(struct exec *);
static void local_maybe_done(struct exec *);
static int local_throttle(struct exec *);
static void local_on_resume(void *);
static int group_alive(pid_t);
static size_t token_groups(const char *, pid_t *, size_t);
static size_t token_members(const char *, pid_t, pid_t *, size_t);
static int local_env_has(pid_t, const char *);
static int local_kill_wait(pid_t, int64_t);
static int64_t local_boot_ms(void);
static int64_t local_start_ms(pid_t, int64_t);
static pid_t local_group_proof(pid_t, const char *, int64_t, char *, size_t);

/*
 * The shell's -c argument. The command's text travels in the environment
 * (readable only by its user), never on a command line that ps shows to
 * everyone; the shell unsets it before running it, so that the command's
 * own children do not inherit it.
 */
#define LOCAL_EVAL "eval \"unset CUTOVER_SCRIPT; $CUTOVER_SCRIPT\""

const struct exec_ops exec_local_ops = {
	.name = "local",
	.start = local_start,
	.pgid = local_pgid,
	.release = local_release,
	.cancel = local_cancel,
	.free = local_free,
	.recover = exec_local_recover,
};

/*
 * Prepare a local command: only its output pipe. Nothing runs until
 * local_release(), which the engine calls once the attempt is recorded
 * running; the command then starts with posix_spawn (vfork-like: no
 * copy-on-write of the driver's memory), in its own process group, with
 * CUTOVER_ATTEMPT in its environment so that a later driver can find what
 * is left of it even if this one dies before recording its process group.
 */
static struct exec *
local_start(const struct exec_req *req, char **err)
{
	struct exec *e;
	int out[2];

	if (pipe2(out, O_CLOEXEC) == -1) {
		xasprintf(err, "pipe: %s", strerror(errno));
		return NULL;
	}
	e = xcalloc(1, sizeof *e);
	e->req = *req;
	e->command = xstrdup(req->command);
	e->env = local_copy_env(req->env);
	e->req.env = (const char *const *)e->env;
	e->result.exit_code = -1;
	e->gate = out[1]; /* the write end, until the command has it */
	e->out = out[0];
	fcntl(e->out, F_SETFL, fcntl(e->out, F_GETFL) | O_NONBLOCK);
	e->io = loop_io_add(req->loop, e->out, POLLIN, local_read, e);
	e->next = local_running;
	local_running = e;
	return e;
}

static int64_t
local_pgid(struct exec *e)
{
	return e->pid;
}

/* A copy of a NULL-terminated list of strings. */
static char **
local_copy_env(const char *const *env)
{
	size_t n = 0, i;
	char **v;

	while (env != NULL && env[n] != NULL)
		n++;
	v = xcalloc(n + 1, sizeof *v);
	for (i = 0; i < n; i++)
		v[i] = xstrdup(env[i]);
	return v;
}

/* The environment of the command: the script, the extra entries, then
 * ours (any CUTOVER_SCRIPT of ours left out). */
static char **
local_envp(const char *const *extra, char *script)
{
	extern char **environ;
	size_t n = 1, i, j, k = 0, len;
	char **v;

	for (i = 0; extra != NULL && extra[i] != NULL; i++)
		n++;
	for (i = 0; environ[i] != NULL; i++)
		n++;
	v = xcalloc(n + 1, sizeof *v);
	v[k++] = script;
	for (i = 0; extra != NULL && extra[i] != NULL; i++)
		v[k++] = (char *)extra[i];
	for (i = 0; environ[i] != NULL; i++) {
		for (j = 0; extra != NULL && extra[j] != NULL; j++) {
			len = strcspn(extra[j], "=") + 1;
			if (strncmp(environ[i], extra[j], len) == 0)
				break;
		}
		if ((extra == NULL || extra[j] == NULL) &&
		    strncmp(environ[i], "CUTOVER_SCRIPT=", 15) != 0)
			v[k++] = environ[i];
	}
	return v;
}

static void
local_release(struct exec *e)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t all, none;
	char *argv[4], **envp, *script;
	int rc;

	argv[0] = (char *)e->req.shell;
	argv[1] = (char *)"-c";
	argv[2] = (char *)LOCAL_EVAL;
	argv[3] = NULL;
	xasprintf(&script, "CUTOVER_SCRIPT=%s", e->command);
	envp = local_envp(e->req.env, script);
	sigfillset(&all);
	sigemptyset(&none);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, e->gate, 1);
	posix_spawn_file_actions_adddup2(&fa, e->gate, 2);
	posix_spawnattr_init(&at);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP |
	    POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setsigdefault(&at, &all);
	posix_spawnattr_setsigmask(&at, &none);
	rc = posix_spawn(&e->pid, e->req.shell, &fa, &at, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	free(envp);
	memset(script, 0, strlen(script));
	free(script);
	close(e->gate);
	e->gate = -1;
	if (rc != 0) {
		e->pid = 0;
		xasprintf(&e->why, "cannot start %s: %s", e->req.shell,
		    strerror(rc));
		e->exited = 1;
		e->status = 127 << 8;
		loop_timer_add(e->req.loop, 0, local_on_spawn_failed, e);
		return;
	}
	if (e->req.timeout_ms > 0)
		e->timeout = loop_timer_add(e->req.loop, e->req.timeout_ms,
		    local_on_timeout, e);
}

/* The shell could not be started: report it from the loop. */
static void
local_on_spawn_failed(void *arg)
{
	struct exec *e = arg;

	local_close_pipe(e);
	local_maybe_done(e);
}

/* Kill the whole group: SIGTERM now, SIGKILL after a grace period. */
static void
local_cancel(struct exec *e, const char *why)
{
	if (e->exited && e->closed)
		return;
	if (e->why == NULL && why != NULL)
		e->why = xstrdup(why);
	if (e->pid <= 0)
		return; /* never started: the engine frees it */
	kill(-e->pid, SIGTERM);
	if (e->kill_timer == NULL)
		e->kill_timer = loop_timer_add(e->req.loop, LOCAL_KILL_GRACE_MS,
		    local_on_kill, e);
}

static void
local_on_timeout(void *arg)
{
	struct exec *e = arg;
	char *why = duration_timed_out(e->req.timeout_ms);

	e->timeout = NULL;
	e->timed_out = 1;
	local_cancel(e, why);
	free(why);
}

static void
local_on_kill(void *arg)
{
	struct exec *e = arg;

	e->kill_timer = NULL;
	if (e->pid > 0)
		kill(-e->pid, SIGKILL);
}

static void
local_on_drain(void *arg)
{
	struct exec *e = arg;

	e->drain_timer = NULL;
	if (e->pid > 0)
		kill(-e->pid, SIGKILL);
	local_close_pipe(e);
	local_maybe_done(e);
}

static void
local_close_pipe(struct exec *e)
{
	if (e->closed)
		return;
	loop_io_remove(e->req.loop, e->io);
	close(e->out);
	e->closed = 1;
}

/*
 * A step that floods output is read at a bounded rate (20 MiB/s): its
 * writer then waits on a full pipe instead of taking the CPU the console
 * and the terminal need. Returns 1 when reading pauses until the window
 * ends.
 */
static int
local_throttle(struct exec *e)
{
	int64_t now = loop_now();

	if (now - e->window >= LOCAL_WINDOW_MS) {
		e->window = now;
		e->window_len = 0;
	}
	if (e->window_len < LOCAL_WINDOW_BYTES || e->exited)
		return 0;
	loop_io_set(e->io, 0);
	e->resume = loop_timer_add(e->req.loop,
	    LOCAL_WINDOW_MS - (now - e->window), local_on_resume, e);
	return 1;
}

static void
local_on_resume(void *arg)
{
	struct exec *e = arg;

	e->resume = NULL;
	if (!e->closed)
		loop_io_set(e->io, POLLIN);
}

/* Read what the pipe has; EOF means every writer is gone. */
static void
local_read(int fd, short revents, void *arg)
{
	struct exec *e = arg;
	char buf[65536];
	ssize_t n;
	int rounds = 0;

	(void)revents;
	while (rounds++ < 4) {
		if (local_throttle(e))
			return;
		n = read(fd, buf, sizeof buf);
		if (n > 0) {
			e->window_len += (size_t)n;
			e->req.output(buf, (size_t)n, e->req.arg);
			continue;
		}
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		local_close_pipe(e);
		local_maybe_done(e);
		return;
	}
}

/* Both the shell has exited and the pipe is closed: report once. */
static void
local_maybe_done(struct exec *e)
{
	struct exec_result *r = &e->result;

	if (!e->exited || !e->closed || e->finished)
		return;
	e->finished = 1;
	loop_timer_cancel(e->req.loop, e->timeout);
	loop_timer_cancel(e->req.loop, e->kill_timer);
	loop_timer_cancel(e->req.loop, e->drain_timer);
	loop_timer_cancel(e->req.loop, e->resume);
	e->timeout = e->kill_timer = e->drain_timer = e->resume = NULL;
	r->timed_out = e->timed_out;
	if (WIFEXITED(e->status))
		r->exit_code = WEXITSTATUS(e->status);
	else if (WIFSIGNALED(e->status))
		r->signal = WTERMSIG(e->status);
	r->ok = (e->why == NULL && r->exit_code == 0);
	if (e->why != NULL)
		r->message = xstrdup(e->why);
	else if (r->signal != 0)
		xasprintf(&r->message, "killed by signal %d (%s)", r->signal,
		    strsignal(r->signal));
	else if (r->exit_code != 0)
		xasprintf(&r->message, "exited with status %d", r->exit_code);
	e->req.done(r, e->req.arg);
}

void
exec_local_sigchld(int sig, void *arg)
{
	struct exec *e;
	pid_t pid;
	int status;

	(void)sig;
	(void)arg;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (e = local_running; e != NULL; e = e->next) {
			if (e->pid == pid && !e->exited)
				break;
		}
		if (e == NULL)
			continue;
		e->exited = 1;
		e->status = status;
		/* Leftover background jobs of the step end with it. */
		kill(-e->pid, SIGKILL);
		if (!e->closed)
			e->drain_timer = loop_timer_add(e->req.loop, LOCAL_DRAIN_MS,
			    local_on_drain, e);
		/* This may free e and start others: look nothing up after. */
		local_maybe_done(e);
	}
}

static void
local_free(struct exec *e)
{
	struct exec **pp;
	size_t i;

	for (pp = &local_running; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == e) {
			*pp = e->next;
			break;
		}
	}
	if (e->gate != -1)
		close(e->gate);
	local_close_pipe(e);
	loop_timer_cancel(e->req.loop, e->timeout);
	loop_timer_cancel(e->req.loop, e->kill_timer);
	loop_timer_cancel(e->req.loop, e->drain_timer);
	loop_timer_cancel(e->req.loop, e->resume);
	free(e->result.message);
	free(e->why);
	free(e->command);
	for (i = 0; e->env != NULL && e->env[i] != NULL; i++)
		free(e->env[i]);
	free(e->env);
	free(e);
}

/* Is any live (non-zombie) process in group pgid? Reads /proc. */
static int
group_alive(pid_t pgid)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	char path[300], buf[512], *p, state;
	int alive = 0, fd, grp;
	ssize_t n;

	if (d == NULL)
		return kill(-pgid, 0) == 0;
	while (!alive && (de = readdir(d)) != NULL) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof path, "/proc/%s/stat", de->d_name);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
			continue;
		n = read(fd, buf, sizeof buf - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		if ((p = strrchr(buf, ')')) == NULL)
			continue;
		if (sscanf(p + 1, " %c %*d %d", &state, &grp) != 2)
			continue;
		if (grp == pgid && state != 'Z' && state != 'X')
			alive = 1;
	}
	closedir(d);
	return alive;
}

/* Boot time in epoch ms (btime of /proc/stat), or -1. */
static int64_t
local_boot_ms(void)
{
	FILE *f = fopen("/proc/stat", "re");
	char line[256];
	long long bt = -1;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL) {
		if (sscanf(line, "btime %lld", &bt) == 1)
			break;
	}
	fclose(f);
	return bt < 0 ? -1 : bt * 1000;
}

/* Start of process pid in epoch ms, or -1. */
static int64_t
local_start_ms(pid_t pid, int64_t boot_ms)
{
	char path[64], buf[1024], *p;
	unsigned long long ticks;
	long hz = sysconf(_SC_CLK_TCK);
	ssize_t n;
	int fd;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if (boot_ms < 0 || hz <= 0 ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u "
	        "%*d %*d %*d %*d %*d %*d %llu", &ticks) != 1)
		return -1;
	return boot_ms + (int64_t)(ticks * 1000 / (unsigned long long)hz);
}

/*
 * Find a live member of group pgid that proves the group is the attempt's:
 * CUTOVER_ATTEMPT=token in its environment, started on this boot and not
 * before the attempt (started_ms, epoch ms; 0 if unknown). Returns its pid
 * or 0, and says what was found in ev.
 */
static pid_t
local_group_proof(pid_t pgid, const char *token, int64_t started_ms,
    char *ev, size_t evlen)
{
	pid_t m[64];
	int64_t boot = local_boot_ms(), st;
	size_t n, i;
	char *needle;

	if (started_ms > 0 && boot > started_ms + 1000) {
		snprintf(ev, evlen, "the host booted after the attempt began");
		return 0;
	}
	xasprintf(&needle, "CUTOVER_ATTEMPT=%s", token);
	n = token_members(needle, pgid, m, 64);
	free(needle);
	for (i = 0; i < n; i++) {
		st = local_start_ms(m[i], boot);
		if (started_ms <= 0 || st < 0 || st + 2000 >= started_ms) {
			snprintf(ev, evlen, "process %d in it carries the "
			    "attempt's token", (int)m[i]);
			return m[i];
		}
	}
	snprintf(ev, evlen, "%s", n > 0 ? "its processes carrying the token "
	    "started before the attempt" : "no process in it carries the "
	    "attempt's token");
	return 0;
}

int
exec_local_kill_group(int64_t pgid, const char *token, int64_t started_ms,
    int64_t wait_ms, char **evidence)
{
	char ev[160];

	*evidence = NULL;
	if (pgid <= 1 || !group_alive((pid_t)pgid))
		return 0;
	if (token == NULL || *token == '\0' ||
	    local_group_proof((pid_t)pgid, token, started_ms, ev, sizeof ev) ==
	        0) {
		if (token == NULL || *token == '\0')
			snprintf(ev, sizeof ev, "the attempt has no token");
		xasprintf(evidence, "process group %lld left alone: not proven "
		    "the attempt's (%s)", (long long)pgid, ev);
		return 0;
	}
	xasprintf(evidence, "killed process group %lld: %s", (long long)pgid,
	    ev);
	return local_kill_wait((pid_t)pgid, wait_ms);
}

/* SIGKILL group pgid until no member is alive, at most wait_ms. */
static int
local_kill_wait(pid_t pgid, int64_t wait_ms)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	int64_t waited = 0;

	while (group_alive(pgid)) {
		kill(-pgid, SIGKILL);
		if (waited >= wait_ms)
			return -1;
		nanosleep(&ts, NULL);
		waited += 20;
	}
	return 0;
}

/* Live members of group pgid whose environment holds needle. */
static size_t
token_members(const char *needle, pid_t pgid, pid_t *out, size_t max)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	pid_t p;
	size_t n = 0;

	if (d == NULL)
		return 0;
	while (n < max && (de = readdir(d)) != NULL) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		p = (pid_t)atoi(de->d_name);
		if (getpgid(p) == pgid && local_env_has(p, needle))
			out[n++] = p;
	}
	closedir(d);
	return n;
}

/* Does process pid's environment hold the entry needle? */
static int
local_env_has(pid_t pid, const char *needle)
{
	char path[64], buf[65536], *p, *end;
	ssize_t len;
	int fd;

	snprintf(path, sizeof path, "/proc/%d/environ", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	len = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (len <= 0)
		return 0;
	buf[len] = '\0';
	for (p = buf, end = buf + len; p < end; p += strlen(p) + 1) {
		if (strcmp(p, needle) == 0)
			return 1;
	}
	return 0;
}

/* Process groups of the live processes whose environment holds needle. */
static size_t
token_groups(const char *needle, pid_t *out, size_t max)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	size_t n = 0, i;
	pid_t p, g;

	if (d == NULL)
		return 0;
	while (n < max && (de = readdir(d)) != NULL) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		p = (pid_t)atoi(de->d_name);
		if (!local_env_has(p, needle))
			continue;
		g = getpgid(p);
		for (i = 0; i < n && out[i] != g; i++)
			;
		if (g > 1 && i == n && group_alive(g))
			out[n++] = g;
	}
	closedir(d);
	return n;
}

int
exec_local_kill_token(const char *token, int64_t wait_ms)
{
	pid_t groups[64];
	size_t n, i;
	char *needle;
	int rc = 0;

	if (token == NULL || *token == '\0')
		return 0;
	xasprintf(&needle, "CUTOVER_ATTEMPT=%s", token);
	n = token_groups(needle, groups, 64);
	for (i = 0; i < n && rc == 0; i++)
		rc = local_kill_wait(groups[i], wait_ms);
	free(needle);
	return rc;
}

/*
 * A driver that died on this host: end what is left of the attempt's
 * process group, or of the groups its token marks. Commands of a driver
 * on another host cannot be seen from here; as before, they count as gone.
 */
int
exec_local_recover(const struct exec_orphan *o, int64_t wait_ms, char **why)
{
	char host[256] = "";

	gethostname(host, sizeof host - 1);
	if (o->host == NULL || strcmp(o->host, host) != 0)
		return EXEC_ORPHAN_GONE;
	if ((o->pgid > 0 && exec_local_kill_group(o->pgid, o->token,
	         o->started_ms, wait_ms, why) != 0) ||
	    exec_local_kill_token(o->token, wait_ms) != 0) {
		free(*why);
		xasprintf(why, "process group %lld of step %s would not end; "
		    "kill it, then try again", (long long)o->pgid, o->def->id);
		return EXEC_ORPHAN_STUCK;
	}
	return EXEC_ORPHAN_GONE; /* *why: the evidence, when a group was left */
}
