/*
 * exec-ssh.c - ssh steps: `run` on an ssh target over libssh2.
 *
 * One session per route (user, host and port after the bastions before
 * it; ssh-target.c resolves a target into its route, ~/.ssh/config
 * included), opened on first use and reused by every step and by parallel
 * steps, one channel each. A host behind a bastion is reached over a
 * direct-tcpip channel of the bastion's session (struct ssh_tunnel), which
 * every target behind it shares; a bastion that drops takes the sessions
 * through it along, and the next step connects again.
 *
 * Everything is non-blocking and waits in the one poll() loop: the TCP
 * connect, the SSH handshake, authentication and every channel. libssh2 reads the socket for all channels at once, so
 * whenever the socket is ready every pending channel of the session is
 * driven again, until none makes progress.
 *
 * Host keys are checked against known_hosts (strict by default); a key that
 * is unknown or changed refuses the connection with its SHA256 fingerprint
 * and the exact line to add. host_key: accept-new appends an unknown key.
 *
 * Every command runs as `exec /bin/sh -s`, its text on standard input in
 * a wrapper (ssh_script_wrap) that records the attempt's process group on
 * the host under its token, and hangs the group up when the channel's
 * input closes. A later driver ends what is left by that record
 * (exec_ssh_recover). Nothing of the text is on a command line.
 *
 * A session that drops while a command runs ends that attempt with its
 * outcome unknown and is discarded, so the next step connects afresh. A
 * command that had not been sent yet when a reused session turns out dead
 * is moved to a new session: nothing ran, so nothing can run twice.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libssh2.h>

#include "buf.h"
#include "duration.h"
#include "exec.h"
#include "loop.h"
#include "runbook.h"
#include "ssh-target.h"
#include "xmalloc.h"

#define SSH_CONNECT_TIMEOUT_MS 10000 /* recovery: per hop, at least */
#define SSH_TCP_USER_TIMEOUT_MS 45000 /* unacknowledged data: peer gone */
#define SSH_CLOSE_GRACE_MS 3000      /* wait this long for a closed channel */
#define SSH_READ_SIZE 32768
#define SSH_READ_ROUNDS 16 /* reads per channel per pass */
#define SSH_PASSES 4       /* passes over the channels per wake-up */
#define SSH_PREBANNER_MAX 8192 /* bytes of text before the version line */
#define SSH_PRELINE_MAX 1024   /* one line of it */
#define SSH_VERSION_MAX 255    /* the version line, CR LF included */
#define SSH_KNOWN_LOCK_MS 2000 /* wait for another known_hosts writer */
#define SSH_BEFORE_WAIT_MS 5000 /* for an earlier attempt to end on TERM */

enum ssh_state {
	SS_CONNECTING, /* non-blocking TCP connect */
	SS_BANNER,     /* waiting for the server's version line */
	SS_HANDSHAKE,  /* libssh2_session_handshake */
	SS_AUTH,
	SS_READY,
};

enum ssh_auth {
	AU_LIST,
	AU_KEYFILE,
	AU_AGENT,
	AU_PASSWORD,
	AU_FAILED,
};

enum ssh_ex_state {
	EX_WAIT,    /* for release, the session, or a free channel slot */
	EX_OPEN,    /* libssh2_channel_open_session */
	EX_EXEC,    /* libssh2_channel_exec */
	EX_SEND,    /* libssh2_channel_write: the script on stdin */
	EX_RUN,     /* reading output */
	EX_CLOSING, /* remote EOF seen: wait for the remote close */
	EX_FREE,    /* libssh2_channel_free after a normal end */
	EX_ABORT,   /* libssh2_channel_free after cancel or error */
	EX_DONE,
};

struct ssh_session {
	char *key;  /* the route to it (ssh_hop.key): sessions are shared */
	char *name; /* the hop's name (runbook target or ssh_config alias) */
	struct loop *loop;
	char *host, *user;
	char **identities; /* private key files, tried in order */
	size_t nidentities, identity_i;
	int use_agent;
	char *agent_sock;   /* NULL: $SSH_AUTH_SOCK */
	char **known_files; /* known_hosts files, read in order */
	size_t nknown;
	const char *known_hosts; /* known_files[0]: written by accept-new */
	char *passphrase, *password; /* secrets: never printed */
	int port, accept_new, host_key_off;
	int connect_timeout_ms, keepalive_s;
	char *label; /* "HOST:PORT" or "HOST:PORT via BASTION", for messages */
	struct ssh_tunnel *tunnel;  /* its channel on its bastion, or NULL */
	struct ssh_tunnel *tunnels; /* channels of sessions through this one */

	struct addrinfo *ai, *ai_next;
	int fd;
	char *connect_error;
	LIBSSH2_SESSION *s;
	enum ssh_state state;
	struct loop_io *io;
	struct loop_timer *connect_timer, *keepalive;
	int kicked, kick_now; /* drive again from the loop (ssh_wake) */
	size_t prebanner;     /* bytes of text before the version line */

	enum ssh_auth auth;
	char *methods; /* what the server accepts */
	struct buf tried;
	LIBSSH2_AGENT *agent;
	struct libssh2_agent_publickey *agent_id;
	int agent_keys;

	struct exec *execs;   /* attached, in start order */
	const void *opening;  /* exec or tunnel whose channel libssh2 opens */
	int throttled;        /* the server refused another channel */
	int idle_data;        /* data waits while no channel reads it */
	int used;             /* a command has run on it */
	struct ssh_session *next;
};

/*
 * A direct-tcpip channel on a bastion's session that carries the SSH
 * connection of a session behind it: bytes are pumped between the channel
 * and one end of a socketpair, whose other end is that session's fd. So a
 * session behind a bastion is driven exactly like a direct one, and the
 * pump runs in the bastion's passes over its channels.
 */
enum ssh_tunnel_state {
	TU_WAIT,  /* for the bastion, or for its channel open slot */
	TU_OPEN,  /* libssh2_channel_direct_tcpip_ex */
	TU_RUN,
	TU_CLOSE, /* libssh2_channel_free, then gone */
};

struct ssh_tunnel {
	struct ssh_session *via;   /* the bastion */
	struct ssh_session *child; /* NULL once it is gone */
	char *host;                /* where the bastion connects */
	int port;
	LIBSSH2_CHANNEL *ch;
	enum ssh_tunnel_state state;
	int fd; /* our end of the socketpair */
	struct loop *loop;
	struct loop_io *io;
	char down[SSH_READ_SIZE]; /* channel -> fd */
	size_t down_off, down_len;
	char up[SSH_READ_SIZE];   /* fd -> channel */
	size_t up_off, up_len;
	int ch_eof, fd_eof, shut;
	struct ssh_tunnel *next;
};

struct exec {
	struct exec_req req;
	char *notes;  /* ssh_config warnings, shown once released */
	char *script; /* what the remote shell reads on stdin */
	size_t script_off;
	char *token;  /* CUTOVER_ATTEMPT, or NULL */
	char *before; /* token of an attempt it ends first (ssh_unknown) */
	struct ssh_session *ss;
	LIBSSH2_CHANNEL *ch;
	enum ssh_ex_state state;
	int released, finished, orphan, aborting, timed_out, sent;
	int early; /* the script went before the exec's answer */
	char *why;
	struct loop_timer *timeout, *grace;
	int done_pending; /* on ssh_done_list */
	struct exec *done_next;
	struct exec_result result;
	struct exec *next;
};

/* Host key types: known_hosts name, libssh2 types, method preference. */
static const struct {
	int hostkey;   /* LIBSSH2_HOSTKEY_TYPE_* */
	int knownhost; /* LIBSSH2_KNOWNHOST_KEY_* */
	const char *name;
	const char *methods;
} ssh_key_types[] = {
	{ LIBSSH2_HOSTKEY_TYPE_ED25519, LIBSSH2_KNOWNHOST_KEY_ED25519,
	    "ssh-ed25519", "ssh-ed25519" },
	{ LIBSSH2_HOSTKEY_TYPE_ECDSA_256, LIBSSH2_KNOWNHOST_KEY_ECDSA_256,
	    "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256" },
	{ LIBSSH2_HOSTKEY_TYPE_ECDSA_384, LIBSSH2_KNOWNHOST_KEY_ECDSA_384,
	    "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp384" },
	{ LIBSSH2_HOSTKEY_TYPE_ECDSA_521, LIBSSH2_KNOWNHOST_KEY_ECDSA_521,
	    "ecdsa-sha2-nistp521", "ecdsa-sha2-nistp521" },
	{ LIBSSH2_HOSTKEY_TYPE_RSA, LIBSSH2_KNOWNHOST_KEY_SSHRSA, "ssh-rsa",
	    "rsa-sha2-512,rsa-sha2-256,ssh-rsa" },
	{ LIBSSH2_HOSTKEY_TYPE_DSS, LIBSSH2_KNOWNHOST_KEY_SSHDSS, "ssh-dss",
	    "ssh-dss" },
};
#define SSH_NKEY_TYPES (sizeof ssh_key_types / sizeof ssh_key_types[0])

/* Signal names as sent in exit-signal, and their numbers here. */
static const struct {
	const char *name;
	int sig;
} ssh_signals[] = {
	{ "ABRT", SIGABRT }, { "ALRM", SIGALRM }, { "FPE", SIGFPE },
	{ "HUP", SIGHUP }, { "ILL", SIGILL }, { "INT", SIGINT },
	{ "KILL", SIGKILL }, { "PIPE", SIGPIPE }, { "QUIT", SIGQUIT },
	{ "SEGV", SIGSEGV }, { "TERM", SIGTERM }, { "USR1", SIGUSR1 },
	{ "USR2", SIGUSR2 },
};

static struct ssh_session *ssh_sessions;
static int ssh_initialised;

/*
 * Attempts whose connection dropped while their command ran: it may still
 * run on the host. The next command of the same step ends it first, on the
 * host, inside its own script (exit 125 if it cannot), so a verify never
 * races the command it verifies. An entry goes once a command of the step
 * got past that.
 */
struct ssh_unknown {
	const struct rb_step *def;
	char *token;
	struct ssh_unknown *next;
};
static struct ssh_unknown *ssh_unknowns;

/*
 * Work deferred to the loop (a finished command's done(), a session to
 * drive again) goes through loop_defer: done() must not run inside our
 * own callbacks, and the loop runs deferred work before it sleeps.
 */
static struct exec *ssh_done_list;

static struct exec *ssh_start(const struct exec_req *, char **);
static int64_t ssh_pgid(struct exec *);
static void ssh_release(struct exec *);
static void ssh_cancel(struct exec *, const char *);
static void ssh_free(struct exec *);

static struct ssh_session *ssh_session_get(const struct exec_req *, int,
    struct exec *, char **);
static struct ssh_session *ssh_session_find(struct loop *, const char *);
static void ssh_sessions_fail_loops(struct loop *);
static struct ssh_session *ssh_session_new(struct loop *,
    const struct ssh_hop *, struct ssh_session *, char **);
static int ssh_session_hop(struct ssh_session *, const struct ssh_hop *,
    char **);
static char **ssh_strv_copy(char *const *, size_t);
static void ssh_strv_free(char **, size_t);
static void ssh_route_notes(struct exec *, const struct ssh_route *);
static void ssh_session_unlink(struct ssh_session *);
static void ssh_session_lost_why(struct ssh_session *, const char *);
static void ssh_session_drop_tunnels(struct ssh_session *, const char *,
    int);
static int ssh_tunnel_new(struct ssh_session *, struct ssh_session *,
    char **);
static int ssh_tunnel_drive(struct ssh_tunnel *);
static int ssh_tunnel_open(struct ssh_tunnel *);
static int ssh_tunnel_pump(struct ssh_tunnel *);
static int ssh_tunnel_down(struct ssh_tunnel *, int *);
static int ssh_tunnel_up(struct ssh_tunnel *, int *);
static int ssh_tunnel_close(struct ssh_tunnel *);
static void ssh_tunnel_events(struct ssh_tunnel *);
static void ssh_tunnel_io(int, short, void *);
static void ssh_tunnel_release(struct ssh_tunnel *);
static void ssh_tunnel_free(struct ssh_tunnel *);
static int ssh_session_resolve(struct ssh_session *, char **);
static int ssh_session_connect(struct ssh_session *);
static void ssh_session_connected(struct ssh_session *);
static void ssh_session_start_ssh(struct ssh_session *);
static void ssh_session_io(int, short, void *);
static void ssh_session_quickack(struct ssh_session *);
static void ssh_session_drive(struct ssh_session *);
static int ssh_session_banner(struct ssh_session *);
static int ssh_banner_step(struct ssh_session *, char **);
static int ssh_session_handshake(struct ssh_session *);
static int ssh_session_auth(struct ssh_session *);
static int ssh_auth_step(struct ssh_session *);
static int ssh_auth_keyfile(struct ssh_session *);
static int ssh_auth_agent(struct ssh_session *);
static int ssh_auth_password(struct ssh_session *);
static void ssh_auth_next(struct ssh_session *);
static void ssh_session_ready(struct ssh_session *);
static int ssh_session_run(struct ssh_session *);
static void ssh_session_events(struct ssh_session *);
static int ssh_session_busy(struct ssh_session *);
static void ssh_session_idle_io(struct ssh_session *, short);
static void ssh_session_fail(struct ssh_session *, const char *);
static void ssh_session_lost(struct ssh_session *, int);
static void ssh_session_free(struct ssh_session *);
static void ssh_session_kick(struct ssh_session *);
static void ssh_wake(struct loop *);
static void ssh_on_wake(void *);
static void ssh_run_kicks(void);
static void ssh_run_dones(void);
static void ssh_done_later(struct exec *);
static void ssh_done_remove(struct exec *);
static void ssh_on_connect_timeout(void *);
static void ssh_on_keepalive(void *);
static char *ssh_session_error(struct ssh_session *, int);
static int ssh_error_fatal(int);

static LIBSSH2_KNOWNHOSTS *ssh_known_load(struct ssh_session *);
static void ssh_hostkey_prefs(struct ssh_session *, LIBSSH2_KNOWNHOSTS *);
static int ssh_hostkey_check(struct ssh_session *, char **);
static int ssh_hostkey_lookup(struct ssh_session *, const char *, size_t,
    int, int *);
static void ssh_hostkey_text(struct ssh_session *, const char *, size_t,
    const char *, const char *, char **, char **, char **);
static void ssh_hostkey_added(struct ssh_session *, const char *);
static int ssh_hostkey_add(struct ssh_session *, const char *, char **);
static int ssh_known_lock(int);
static char *ssh_base64(const unsigned char *, size_t, int);

static int ssh_exec_drive(struct exec *);
static int ssh_exec_open(struct exec *);
static int ssh_exec_command(struct exec *);
static int ssh_exec_send(struct exec *);
static int ssh_exec_early(struct exec *);
static int ssh_exec_write(struct exec *);
static int ssh_exec_read(struct exec *);
static int ssh_exec_close(struct exec *);
static void ssh_exec_status(struct exec *);
static void ssh_exec_fail(struct exec *, const char *);
static void ssh_exec_abort(struct exec *);
static void ssh_exec_finish(struct exec *);
static void ssh_exec_detach(struct exec *);
static void ssh_exec_destroy(struct exec *);
static void ssh_exec_note(struct exec *, const char *);
static void ssh_on_timeout(void *);
static void ssh_on_grace(void *);
static void ssh_forget(char **);
static int ssh_identity_check(const char *, char **);
static struct exec *ssh_attach(const struct exec_req *, char *, int,
    char **);
static int ssh_recovery_failed(struct loop *);
static char *ssh_script_wrap(const struct exec_req *, const char *);
static const char *ssh_env_token(const struct exec_req *);
static void ssh_unknown_add(const struct rb_step *, const char *);
static const char *ssh_unknown_find(const struct rb_step *);
static void ssh_unknown_drop(const struct rb_step *, const char *);
static char *ssh_script_recover(const char *, int64_t);
static void ssh_recover_function(struct buf *, const char *, int64_t);
static void ssh_quote(struct buf *, const char *);

const struct exec_ops exec_ssh_ops = {
	.name = "ssh",
	.start = ssh_start,
	.pgid = ssh_pgid,
	.release = ssh_release,
	.cancel = ssh_cancel,
	.free = ssh_free,
	.shutdown = exec_ssh_shutdown,
	.recover = exec_ssh_recover,
};

/* Find or open the target's session, and attach a new command to it. */
static struct exec *
ssh_start(const struct exec_req *req, char **err)
{
	const char *before;
	struct exec *e;

	if (req->target == NULL || req->target->type != TARGET_SSH) {
		xasprintf(err, "step %s has no ssh target", req->step);
		return NULL;
	}
	before = ssh_unknown_find(req->def);
	if ((e = ssh_attach(req, ssh_script_wrap(req, before), 0, err)) ==
	    NULL)
		return NULL;
	if (ssh_env_token(req) != NULL)
		e->token = xstrdup(ssh_env_token(req));
	if (before != NULL)
		e->before = xstrdup(before);
	return e;
}

/* The CUTOVER_ATTEMPT of a request, or NULL. */
static const char *
ssh_env_token(const struct exec_req *req)
{
	const char *const *v;

	for (v = req->env; v != NULL && *v != NULL; v++) {
		if (strncmp(*v, "CUTOVER_ATTEMPT=", 16) == 0)
			return *v + 16;
	}
	return NULL;
}

static void
ssh_unknown_add(const struct rb_step *def, const char *token)
{
	struct ssh_unknown *u;

	if (def == NULL || token == NULL || ssh_unknown_find(def) != NULL)
		return;
	u = xcalloc(1, sizeof *u);
	u->def = def;
	u->token = xstrdup(token);
	u->next = ssh_unknowns;
	ssh_unknowns = u;
}

static const char *
ssh_unknown_find(const struct rb_step *def)
{
	struct ssh_unknown *u;

	for (u = ssh_unknowns; u != NULL; u = u->next) {
		if (u->def == def)
			return u->token;
	}
	return NULL;
}

/* A command of def ended what was left of token: forget it. */
static void
ssh_unknown_drop(const struct rb_step *def, const char *token)
{
	struct ssh_unknown **pp, *u;

	for (pp = &ssh_unknowns; (u = *pp) != NULL; pp = &u->next) {
		if (u->def == def && strcmp(u->token, token) == 0) {
			*pp = u->next;
			free(u->token);
			free(u);
			return;
		}
	}
}

/* Attach a shell script (read by the remote shell on stdin) to the
 * target's session, or to a new one if fresh; the exec owns script from
 * then on. */
static struct exec *
ssh_attach(const struct exec_req *req, char *script, int fresh, char **err)
{
	struct ssh_session *ss;
	struct exec *e, **pp;

	e = xcalloc(1, sizeof *e);
	e->req = *req;
	if ((ss = ssh_session_get(req, fresh, e, err)) == NULL) {
		free(e->notes);
		free(e);
		ssh_forget(&script);
		return NULL;
	}
	e->req.command = NULL;
	e->req.env = NULL;
	e->script = script;
	e->result.exit_code = -1;
	e->ss = ss;
	for (pp = &ss->execs; *pp != NULL; pp = &(*pp)->next)
		;
	*pp = e;
	return e;
}

/* Quote s for a POSIX shell: 'it'\''s'. */
static void
ssh_quote(struct buf *b, const char *s)
{
	buf_addc(b, '\'');
	for (; *s != '\0'; s++) {
		if (*s == '\'')
			buf_adds(b, "'\\''");
		else
			buf_addc(b, *s);
	}
	buf_addc(b, '\'');
}

/* Where the remote wrapper records a running attempt (a directory per
 * token, holding "pid": process group, its start time, the boot id). */
#define SSH_RECORD_DIR "${HOME:-/tmp}/.cache/cutover/attempts"

/*
 * The script the remote shell reads on stdin: the environment, then a
 * wrapper that claims the attempt's record directory (mkdir: it refuses
 * when a later driver already ended the attempt), records its process
 * group (the session sshd made for it) there, runs the command in a
 * subshell with stdin at EOF, removes the record and exits as the command
 * did. It is one { } list, so the shell reads all of it before it runs.
 * Nothing of it is on a command line, so ps never shows the text.
 */
static char *
ssh_script_wrap(const struct exec_req *req, const char *before)
{
	struct buf b = { 0 };
	const char *const *v, *tok = "none", *eq;

	if (before != NULL) {
		buf_adds(&b, "{\n");
		ssh_recover_function(&b, before, SSH_BEFORE_WAIT_MS);
		buf_adds(&b, "cutover_v=$(cutover_recover)\ncase $cutover_v in "
		    "GONE*) ;; *) echo \"cutover: not run: an earlier attempt "
		    "whose connection dropped may still run: ${cutover_v#* }\" "
		    ">&2; exit 125 ;; esac\n}\n");
	}

	for (v = req->env; v != NULL && *v != NULL; v++) {
		if ((eq = strchr(*v, '=')) == NULL)
			continue;
		if (strncmp(*v, "CUTOVER_ATTEMPT=", 16) == 0)
			tok = eq + 1;
		buf_printf(&b, "%.*s=", (int)(eq - *v), *v);
		ssh_quote(&b, eq + 1);
		buf_printf(&b, "; export %.*s\n", (int)(eq - *v), *v);
	}
	buf_adds(&b, "{\ncutover_d=" SSH_RECORD_DIR "/");
	ssh_quote(&b, tok);
	buf_adds(&b, "\n[ -d \"${cutover_d%/*}\" ] || { mkdir -p "
	    "\"${cutover_d%/*}\" && chmod 700 \"${cutover_d%/*}\"; } 2>/dev/null\n"
	    "if ! mkdir -m 700 \"$cutover_d\" 2>/dev/null; then\n"
	    "  echo \"cutover: not run: attempt $CUTOVER_ATTEMPT was ended by "
	    "a later driver, or $cutover_d cannot be made\" >&2; exit 125\nfi\n"
	    "{ read -r cutover_b </proc/sys/kernel/random/boot_id; } "
	    "2>/dev/null || cutover_b=-\n"
	    "if { read -r cutover_s </proc/$$/stat; } 2>/dev/null; then "
	    "set -- ${cutover_s##*\\) }; cutover_g=\"$3 ${20}\"; "
	    "else cutover_g=\"$$ -\"; fi\n"
	    "if ! { printf '%s %s\\n' \"$cutover_g\" \"${cutover_b:--}\" "
	    ">\"$cutover_d/pid\"; } 2>/dev/null; then\n"
	    "  rm -rf \"$cutover_d\"; echo \"cutover: not run: cannot record "
	    "the attempt in $cutover_d\" >&2; exit 125\nfi\n"
	    "set --\nexec 3<&0\n"
	    "( while read -r cutover_l; do :; done; kill -HUP 0 ) <&3 "
	    ">/dev/null 2>&1 &\ncutover_w=$!; exec 3<&-\n(\n");
	buf_adds(&b, req->command);
	buf_adds(&b, "\n) </dev/null\ncutover_s=$?\nkill $cutover_w 2>/dev/null\n"
	    "rm -rf \"$cutover_d\"\nif [ $cutover_s -gt 128 ] && [ $cutover_s -lt 160 ]; then "
	    "kill -$((cutover_s - 128)) $$; fi\nexit $cutover_s\n}\n");
	return buf_steal(&b);
}

static int64_t
ssh_pgid(struct exec *e)
{
	(void)e;
	return 0;
}

/* The attempt is recorded: the command may go now. */
static void
ssh_release(struct exec *e)
{
	e->released = 1;
	if (e->notes != NULL) {
		ssh_exec_note(e, e->notes);
		free(e->notes);
		e->notes = NULL;
	}
	if (e->finished) {
		ssh_done_later(e);
		return;
	}
	if (e->req.timeout_ms > 0)
		e->timeout = loop_timer_add(e->req.loop, e->req.timeout_ms,
		    ssh_on_timeout, e);
	ssh_session_kick(e->ss);
}

static void
ssh_cancel(struct exec *e, const char *why)
{
	if (e->finished)
		return;
	if (e->why == NULL)
		e->why = xstrdup(why != NULL ? why : "cancelled");
	ssh_exec_abort(e);
}

/*
 * The engine is done with e. A channel still open is closed in the
 * background (the exec becomes an orphan that frees itself), since
 * libssh2 cannot drop a channel without talking to the server.
 */
static void
ssh_free(struct exec *e)
{
	ssh_done_remove(e);
	if (!e->finished && e->ss != NULL) {
		e->orphan = 1;
		if (e->why == NULL)
			e->why = xstrdup("cancelled");
		ssh_exec_abort(e);
		return;
	}
	ssh_exec_destroy(e);
}

static void
ssh_exec_destroy(struct exec *e)
{
	loop_timer_cancel(e->req.loop, e->timeout);
	loop_timer_cancel(e->req.loop, e->grace);
	ssh_done_remove(e);
	free(e->result.message);
	free(e->notes);
	free(e->why);
	ssh_forget(&e->script);
	free(e->token);
	free(e->before);
	free(e);
}

/*
 * The session for req's target: the cached one of the same route (user,
 * host, port, and the hops before it), or a new connection; the bastions
 * on the way likewise. fresh: a new one for the target itself (its
 * bastions are still shared). Notes from the ssh configuration go to e
 * (if not NULL), once per process.
 */
static struct ssh_session *
ssh_session_get(const struct exec_req *req, int fresh, struct exec *e,
    char **err)
{
	struct ssh_session *ss = NULL, *via = NULL;
	struct ssh_route *r;
	size_t i;

	if (!ssh_initialised) {
		if (libssh2_init(0) != 0) {
			*err = xstrdup("cannot initialise libssh2");
			return NULL;
		}
		ssh_initialised = 1;
	}
	if (!fresh)
		ssh_sessions_fail_loops(req->loop);
	if ((r = ssh_route_resolve(req->rb, req->target, req->entity, 0,
	    err)) == NULL)
		return NULL;
	for (i = 0; i < r->n; i++, via = ss) {
		ss = fresh && i + 1 == r->n ? NULL :
		    ssh_session_find(req->loop, r->hops[i].key);
		if (ss == NULL && (ss = ssh_session_new(req->loop, &r->hops[i],
		    via, err)) == NULL)
			break;
	}
	if (ss != NULL && e != NULL)
		ssh_route_notes(e, r);
	ssh_route_free(r);
	return ss;
}

static struct ssh_session *
ssh_session_find(struct loop *l, const char *key)
{
	struct ssh_session *ss;

	for (ss = ssh_sessions; ss != NULL; ss = ss->next) {
		if (ss->loop == l && strcmp(ss->key, key) == 0)
			return ss;
	}
	return NULL;
}

/* Sessions left from an earlier event loop cannot be driven any more. */
static void
ssh_sessions_fail_loops(struct loop *l)
{
	struct ssh_session *ss;

	for (;;) {
		for (ss = ssh_sessions; ss != NULL && ss->loop == l;
		    ss = ss->next)
			;
		if (ss == NULL)
			return;
		ssh_session_fail(ss, "the event loop changed");
	}
}

/* The warnings of the ssh configuration ("ProxyCommand is not supported"),
 * each once per process, as notes in e's output. */
static void
ssh_route_notes(struct exec *e, const struct ssh_route *r)
{
	static char **seen;
	static size_t nseen;
	struct buf b = { 0 };
	size_t i, j;

	for (i = 0; i < r->nwarnings; i++) {
		for (j = 0; j < nseen && strcmp(seen[j], r->warnings[i]); j++)
			;
		if (j < nseen || nseen >= 1000)
			continue;
		seen = xreallocarray(seen, nseen + 1, sizeof *seen);
		seen[nseen++] = xstrdup(r->warnings[i]);
		buf_printf(&b, "[cutover: ssh_config: %s]\n", r->warnings[i]);
	}
	if (b.len > 0)
		e->notes = buf_steal(&b);
	buf_free(&b);
}

/* A new connection to hop, directly or through via. */
static struct ssh_session *
ssh_session_new(struct loop *l, const struct ssh_hop *hop,
    struct ssh_session *via, char **err)
{
	struct ssh_session *ss = xcalloc(1, sizeof *ss);

	ss->loop = l;
	ss->fd = -1;
	if (ssh_session_hop(ss, hop, err) != 0)
		goto fail;
	if (via != NULL) {
		xasprintf(&ss->label, "%s:%d via %s", ss->host, ss->port,
		    via->name);
		if (ssh_tunnel_new(via, ss, err) != 0)
			goto fail;
	} else {
		xasprintf(&ss->label, "%s:%d", ss->host, ss->port);
		if (ssh_session_resolve(ss, err) != 0)
			goto fail;
		if (ssh_session_connect(ss) != 0) {
			xasprintf(err, "cannot connect to %s: %s", ss->label,
			    ss->connect_error);
			goto fail;
		}
	}
	ss->connect_timer = loop_timer_add(ss->loop, ss->connect_timeout_ms,
	    ssh_on_connect_timeout, ss);
	ss->next = ssh_sessions;
	ssh_sessions = ss;
	return ss;
fail:
	ssh_session_free(ss);
	return NULL;
}

/* Take what the route says about this hop. */
static int
ssh_session_hop(struct ssh_session *ss, const struct ssh_hop *h, char **err)
{
	size_t i;

	ss->key = xstrdup(h->key);
	ss->name = xstrdup(h->name);
	ss->host = xstrdup(h->host);
	ss->port = h->port;
	ss->user = xstrdup(h->user);
	ss->identities = ssh_strv_copy(h->identities, h->nidentities);
	ss->nidentities = h->nidentities;
	ss->use_agent = h->use_agent;
	ss->agent_sock = h->agent_sock != NULL ? xstrdup(h->agent_sock) : NULL;
	ss->known_files = ssh_strv_copy(h->known_hosts, h->nknown_hosts);
	ss->nknown = h->nknown_hosts;
	ss->known_hosts = ss->nknown > 0 ? ss->known_files[0] : "/dev/null";
	ss->accept_new = h->host_key == SSH_HOP_ACCEPT_NEW;
	ss->host_key_off = h->host_key == SSH_HOP_OFF;
	ss->connect_timeout_ms = h->connect_timeout_ms;
	ss->keepalive_s = h->keepalive_s;
	if (h->passphrase != NULL)
		ss->passphrase = xstrdup(h->passphrase);
	if (h->password != NULL)
		ss->password = xstrdup(h->password);
	for (i = 0; i < ss->nidentities; i++) {
		if (ssh_identity_check(ss->identities[i], err) != 0)
			return -1;
	}
	return 0;
}

static char **
ssh_strv_copy(char *const *v, size_t n)
{
	char **c = xcalloc(n + 1, sizeof *c);
	size_t i;

	for (i = 0; i < n; i++)
		c[i] = xstrdup(v[i]);
	return c;
}

static void
ssh_strv_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; v != NULL && i < n; i++)
		free(v[i]);
	free(v);
}

/*
 * Refuse a private key file that others may read, as OpenSSH does: the
 * key may be anyone's by now. A missing file is left to authentication.
 */
static int
ssh_identity_check(const char *path, char **err)
{
	struct stat sb;

	if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
		return 0;
	if ((sb.st_mode & 077) == 0)
		return 0;
	xasprintf(err, "UNPROTECTED PRIVATE KEY FILE: permissions %04o for "
	    "identity %s are too open (group or others may read it); refusing "
	    "it: chmod 600 %s", (unsigned)(sb.st_mode & 07777), path, path);
	return -1;
}

/*
 * Resolve the host. getaddrinfo blocks: a literal address returns at once,
 * a host name is looked up synchronously (the man page says so).
 */
static int
ssh_session_resolve(struct ssh_session *ss, char **err)
{
	struct addrinfo hints;
	char port[16];
	int rc;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(port, sizeof port, "%d", ss->port);
	if ((rc = getaddrinfo(ss->host, port, &hints, &ss->ai)) != 0) {
		xasprintf(err, "cannot resolve %s: %s", ss->host,
		    gai_strerror(rc));
		ss->ai = NULL;
		return -1;
	}
	ss->ai_next = ss->ai;
	return 0;
}

/* Start a non-blocking connect to the next address; -1 if none is left. */
static int
ssh_session_connect(struct ssh_session *ss)
{
	struct addrinfo *ai;
	int fd;

	for (ai = ss->ai_next; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, ai->ai_protocol);
		if (fd == -1)
			goto next;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 ||
		    errno == EINPROGRESS) {
			ss->fd = fd;
			ss->ai_next = ai->ai_next;
			ss->state = SS_CONNECTING;
			if (ss->io != NULL)
				loop_io_remove(ss->loop, ss->io);
			ss->io = loop_io_add(ss->loop, fd, POLLOUT,
			    ssh_session_io, ss);
			return 0;
		}
		close(fd);
next:
		free(ss->connect_error);
		ss->connect_error = xstrdup(strerror(errno));
	}
	if (ss->connect_error == NULL)
		ss->connect_error = xstrdup("no address");
	return -1;
}

/* The TCP connect finished: on to SSH, or to the next address. */
static void
ssh_session_connected(struct ssh_session *ss)
{
	socklen_t len = sizeof(int);
	int soerr = 0;
	char *msg;

	if (getsockopt(ss->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == -1)
		soerr = errno;
	if (soerr == EINPROGRESS)
		return;
	if (soerr != 0) {
		free(ss->connect_error);
		ss->connect_error = xstrdup(strerror(soerr));
		close(ss->fd);
		ss->fd = -1;
		if (ssh_session_connect(ss) != 0) {
			xasprintf(&msg, "cannot connect to %s: %s", ss->label,
			    ss->connect_error);
			ssh_session_fail(ss, msg);
			free(msg);
		}
		return;
	}
	ssh_session_start_ssh(ss);
}

/*
 * Keepalives: TCP keepalive and a user timeout find a peer that vanished
 * without closing the connection; SSH keepalives keep idle NAT and
 * firewall state alive.
 */
static void
ssh_session_start_ssh(struct ssh_session *ss)
{
	LIBSSH2_KNOWNHOSTS *kh;
	int one = 1, idle = 30, intvl = 10, cnt = 3;
	unsigned int uto = SSH_TCP_USER_TIMEOUT_MS;

	setsockopt(ss->fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
	setsockopt(ss->fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
	setsockopt(ss->fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl);
	setsockopt(ss->fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt);
	setsockopt(ss->fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &uto, sizeof uto);
	setsockopt(ss->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if ((ss->s = libssh2_session_init_ex(NULL, NULL, NULL, ss)) == NULL) {
		ssh_session_fail(ss, "cannot create an ssh session");
		return;
	}
	libssh2_session_set_blocking(ss->s, 0);
	if ((kh = ssh_known_load(ss)) != NULL) {
		ssh_hostkey_prefs(ss, kh);
		libssh2_knownhost_free(kh);
	}
	ss->state = SS_BANNER;
	ssh_session_drive(ss);
}

static void
ssh_session_io(int fd, short revents, void *arg)
{
	struct ssh_session *ss = arg;

	(void)fd;
	if (ss->state == SS_CONNECTING) {
		ssh_session_connected(ss);
		return;
	}
	if (ss->tunnels != NULL)
		ssh_session_quickack(ss);
	if (ss->state == SS_READY && !ssh_session_busy(ss)) {
		ssh_session_idle_io(ss, revents);
		return;
	}
	ssh_session_drive(ss);
}

/*
 * A bastion acknowledges what it receives at once. The sshd there does
 * not disable Nagle's algorithm for a forwarded connection, so a small
 * packet from a host behind it waits for our acknowledgement of the one
 * before, and Linux delays that by up to 40 ms when we send nothing back
 * (as we often do not: the data is for the session behind). Quick-ack
 * mode is not sticky, so it is asked for on every read.
 */
static void
ssh_session_quickack(struct ssh_session *ss)
{
	int one = 1;

	setsockopt(ss->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
}

/*
 * Nothing reads the session while it is idle. Notice a connection closed
 * by the server at once (then forget the session); leave any data for the
 * next command, and stop polling until then.
 */
static void
ssh_session_idle_io(struct ssh_session *ss, short revents)
{
	char c;
	ssize_t n;

	n = recv(ss->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR) ||
	    (n == -1 && (revents & (POLLERR | POLLHUP)))) {
		ssh_session_free(ss);
		return;
	}
	if (n > 0)
		ss->idle_data = 1;
	ssh_session_events(ss);
}

/* Move the session on as far as it goes without blocking. */
static void
ssh_session_drive(struct ssh_session *ss)
{
	if (ss->state == SS_BANNER && ssh_session_banner(ss) != 0)
		return;
	if (ss->state == SS_HANDSHAKE && ssh_session_handshake(ss) != 0)
		return;
	if (ss->state == SS_AUTH && ssh_session_auth(ss) != 0)
		return;
	if (ss->state == SS_READY && ssh_session_run(ss) != 0)
		return;
	ssh_session_events(ss);
}

/*
 * Wait for the server's version line before libssh2 reads it: libssh2
 * (1.10) reads the banner byte by byte for as long as bytes come, so a
 * peer sending endless text without a newline would hold the loop. Lines
 * before the version (RFC 4253 4.2) are read and dropped here, at most
 * SSH_PREBANNER_MAX bytes; the version line itself is only peeked at,
 * and left for libssh2. Returns -1 if the session is gone.
 */
static int
ssh_session_banner(struct ssh_session *ss)
{
	char *err = NULL, *msg;
	int i, rc = 0;

	for (i = 0; i < 16 && (rc = ssh_banner_step(ss, &err)) == 1; i++)
		;
	if (rc == 2) {
		ss->state = SS_HANDSHAKE;
		return 0;
	}
	if (rc < 0) {
		xasprintf(&msg, "cannot connect to %s: %s", ss->label, err);
		ssh_session_fail(ss, msg);
		free(msg);
		free(err);
		return -1;
	}
	if (rc == 1)
		ssh_session_kick(ss); /* more to read: after the others */
	return 0;
}

/* Look at what the server sent: 2 the version line is there, 1 a line
 * before it was dropped, 0 wait for more, -1 with *err. */
static int
ssh_banner_step(struct ssh_session *ss, char **err)
{
	char buf[SSH_PRELINE_MAX];
	const char *nl;
	ssize_t n;

	n = recv(ss->fd, buf, sizeof buf, MSG_PEEK | MSG_DONTWAIT);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {
		xasprintf(err, "the server closed the connection before its "
		    "SSH version line%s%s", n == 0 ? "" : ": ",
		    n == 0 ? "" : strerror(errno));
		return -1;
	}
	nl = memchr(buf, '\n', (size_t)n);
	if (memcmp(buf, "SSH-", (size_t)n < 4 ? (size_t)n : 4) == 0) {
		if (nl != NULL && nl - buf < SSH_VERSION_MAX)
			return 2;
		if (n < SSH_VERSION_MAX && (size_t)n >= 4 && nl == NULL)
			return 0;
		if ((size_t)n < 4)
			return 0;
		xasprintf(err, "the server's SSH version line is longer than "
		    "%d bytes", SSH_VERSION_MAX);
		return -1;
	}
	if (nl == NULL) {
		if ((size_t)n < sizeof buf)
			return 0;
		xasprintf(err, "the server sent a line of more than %d bytes "
		    "instead of an SSH version line", SSH_PRELINE_MAX);
		return -1;
	}
	n = recv(ss->fd, buf, (size_t)(nl - buf) + 1, MSG_DONTWAIT);
	ss->prebanner += n > 0 ? (size_t)n : 0;
	if (ss->prebanner > SSH_PREBANNER_MAX) {
		xasprintf(err, "the server sent more than %d bytes without an "
		    "SSH version line (is it an SSH server?)",
		    SSH_PREBANNER_MAX);
		return -1;
	}
	return 1;
}

/* Handshake, then the host key. Returns -1 if the session is gone. */
static int
ssh_session_handshake(struct ssh_session *ss)
{
	char *err = NULL, *msg;
	int rc;

	rc = libssh2_session_handshake(ss->s, ss->fd);
	if (rc == LIBSSH2_ERROR_EAGAIN)
		return 0;
	if (rc != 0) {
		err = ssh_session_error(ss, rc);
		xasprintf(&msg, "cannot connect to %s: SSH handshake failed: %s",
		    ss->label, err);
		ssh_session_fail(ss, msg);
		free(msg);
		free(err);
		return -1;
	}
	if (!ss->host_key_off && ssh_hostkey_check(ss, &err) != 0) {
		ssh_session_fail(ss, err);
		free(err);
		return -1;
	}
	ss->state = SS_AUTH;
	ss->auth = AU_LIST;
	return 0;
}

/* Try authentication methods in order; -1 if the session is gone. */
static int
ssh_session_auth(struct ssh_session *ss)
{
	char *msg, *err;
	int rc;

	for (;;) {
		if (ss->auth == AU_FAILED) {
			xasprintf(&msg, "authentication as %s to %s failed "
			    "(tried: %s)", ss->user, ss->label,
			    ss->tried.len ? buf_str(&ss->tried) : "nothing: set "
			    "identity, run an ssh-agent, or set password");
			ssh_session_fail(ss, msg);
			free(msg);
			return -1;
		}
		rc = ssh_auth_step(ss);
		if (rc == LIBSSH2_ERROR_EAGAIN)
			return 0;
		if (rc == 0) {
			ssh_session_ready(ss);
			return 0;
		}
		if (rc < 0) {
			err = ssh_session_error(ss, rc);
			xasprintf(&msg, "cannot connect to %s: connection lost "
			    "during authentication: %s", ss->label, err);
			ssh_session_fail(ss, msg);
			free(msg);
			free(err);
			return -1;
		}
	}
}

/*
 * One step of authentication: EAGAIN, 0 (authenticated), 1 (this method
 * did not work: go on) or another negative code (the session failed).
 */
static int
ssh_auth_step(struct ssh_session *ss)
{
	const char *list;
	int rc;

	switch (ss->auth) {
	case AU_LIST:
		list = libssh2_userauth_list(ss->s, ss->user,
		    (unsigned)strlen(ss->user));
		if (list == NULL) {
			if (libssh2_userauth_authenticated(ss->s))
				return 0;
			rc = libssh2_session_last_errno(ss->s);
			return rc == LIBSSH2_ERROR_EAGAIN ? rc :
			    rc < 0 ? rc : LIBSSH2_ERROR_PROTO;
		}
		ss->methods = xstrdup(list);
		ss->auth = AU_LIST;
		ssh_auth_next(ss);
		return 1;
	case AU_KEYFILE:
		rc = ssh_auth_keyfile(ss);
		break;
	case AU_AGENT:
		rc = ssh_auth_agent(ss);
		break;
	case AU_PASSWORD:
		rc = ssh_auth_password(ss);
		break;
	default:
		return 1;
	}
	if (rc == 1)
		ssh_auth_next(ss);
	return rc;
}

/*
 * The next method, in order: the identity files if any, the ssh-agent
 * (unless an identity is in the runbook or IdentitiesOnly says no) if it
 * has a socket, then the password if one is set.
 */
static void
ssh_auth_next(struct ssh_session *ss)
{
	const char *sock = ss->agent_sock != NULL ? ss->agent_sock :
	    getenv("SSH_AUTH_SOCK");

	switch (ss->auth) {
	case AU_LIST:
		if (ss->nidentities > 0) {
			ss->auth = AU_KEYFILE;
			break;
		}
		/* FALLTHROUGH */
	case AU_KEYFILE:
		if (ss->use_agent && sock != NULL && *sock != '\0') {
			ss->auth = AU_AGENT;
			break;
		}
		/* FALLTHROUGH */
	case AU_AGENT:
		if (ss->password != NULL) {
			ss->auth = AU_PASSWORD;
			break;
		}
		/* FALLTHROUGH */
	default:
		ss->auth = AU_FAILED;
		break;
	}
}

/* Public key from each identity file, with the passphrase if any. */
static int
ssh_auth_keyfile(struct ssh_session *ss)
{
	const char *id;
	int rc;

	for (; ss->identity_i < ss->nidentities; ss->identity_i++) {
		id = ss->identities[ss->identity_i];
		if (strstr(ss->methods, "publickey") == NULL) {
			buf_printf(&ss->tried, "%skey %s (the server does not "
			    "accept keys)", ss->tried.len ? ", " : "", id);
			return 1;
		}
		rc = libssh2_userauth_publickey_fromfile_ex(ss->s, ss->user,
		    (unsigned)strlen(ss->user), NULL, id, ss->passphrase);
		if (rc == 0 || rc == LIBSSH2_ERROR_EAGAIN || ssh_error_fatal(rc))
			return rc;
		if (rc == LIBSSH2_ERROR_FILE)
			buf_printf(&ss->tried, "%skey %s (cannot read it: missing, "
			    "unsupported, or wrong passphrase)", ss->tried.len ?
			    ", " : "", id);
		else
			buf_printf(&ss->tried, "%skey %s (refused)",
			    ss->tried.len ? ", " : "", id);
	}
	return 1;
}

/* Every key the agent holds, in its order. Agent I/O is local. */
static int
ssh_auth_agent(struct ssh_session *ss)
{
	const char *sep = ss->tried.len ? ", " : "";
	int rc;

	if (ss->agent == NULL) {
		if ((ss->agent = libssh2_agent_init(ss->s)) != NULL &&
		    ss->agent_sock != NULL)
			libssh2_agent_set_identity_path(ss->agent, ss->agent_sock);
		if (ss->agent == NULL || libssh2_agent_connect(ss->agent) != 0 ||
		    libssh2_agent_list_identities(ss->agent) != 0) {
			buf_printf(&ss->tried, "%sssh-agent (cannot talk to it "
			    "at %s)", sep, ss->agent_sock != NULL ?
			    ss->agent_sock : "$SSH_AUTH_SOCK");
			return 1;
		}
		if (libssh2_agent_get_identity(ss->agent, &ss->agent_id,
		    NULL) != 0)
			ss->agent_id = NULL;
	}
	while (ss->agent_id != NULL) {
		rc = libssh2_agent_userauth(ss->agent, ss->user, ss->agent_id);
		if (rc == 0 || rc == LIBSSH2_ERROR_EAGAIN || ssh_error_fatal(rc))
			return rc;
		ss->agent_keys++;
		if (libssh2_agent_get_identity(ss->agent, &ss->agent_id,
		    ss->agent_id) != 0)
			ss->agent_id = NULL;
	}
	buf_printf(&ss->tried, "%sssh-agent (%d key%s refused)", sep,
	    ss->agent_keys, ss->agent_keys == 1 ? "" : "s");
	return 1;
}

static int
ssh_auth_password(struct ssh_session *ss)
{
	const char *sep = ss->tried.len ? ", " : "";
	int rc;

	if (strstr(ss->methods, "password") == NULL) {
		buf_printf(&ss->tried, "%spassword (the server does not accept "
		    "passwords)", sep);
		return 1;
	}
	rc = libssh2_userauth_password_ex(ss->s, ss->user,
	    (unsigned)strlen(ss->user), ss->password,
	    (unsigned)strlen(ss->password), NULL);
	if (rc == 0 || rc == LIBSSH2_ERROR_EAGAIN || ssh_error_fatal(rc))
		return rc;
	buf_printf(&ss->tried, "%spassword (refused)", sep);
	return 1;
}

/* Authenticated: secrets are no longer needed; keepalives start. */
static void
ssh_session_ready(struct ssh_session *ss)
{
	ss->state = SS_READY;
	loop_timer_cancel(ss->loop, ss->connect_timer);
	ss->connect_timer = NULL;
	ssh_forget(&ss->passphrase);
	ssh_forget(&ss->password);
	if (ss->agent != NULL) {
		libssh2_agent_disconnect(ss->agent);
		libssh2_agent_free(ss->agent);
		ss->agent = NULL;
	}
	if (ss->keepalive_s > 0) {
		libssh2_keepalive_config(ss->s, 0, (unsigned)ss->keepalive_s);
		ss->keepalive = loop_timer_add(ss->loop,
		    (int64_t)ss->keepalive_s * 1000, ssh_on_keepalive, ss);
	}
}

/* Wipe and free a secret. */
static void
ssh_forget(char **p)
{
	if (*p == NULL)
		return;
	memset(*p, 0, strlen(*p));
	free(*p);
	*p = NULL;
}

/*
 * Drive every channel until none makes progress. libssh2 reads packets
 * for all channels whichever one asks, so one pass can leave data queued
 * for a channel already visited: go round again. When the bound is hit,
 * come back at once through a timer rather than hog the loop.
 * Returns -1 if the session is gone.
 */
static int
ssh_session_run(struct ssh_session *ss)
{
	struct exec *e, *next;
	struct ssh_tunnel *t, *tnext;
	int pass, progress = 1, rc;

	ss->idle_data = 0;
	for (pass = 0; progress && pass < SSH_PASSES; pass++) {
		progress = 0;
		for (e = ss->execs; e != NULL; e = next) {
			next = e->next;
			if ((rc = ssh_exec_drive(e)) < 0)
				return -1;
			progress |= rc;
		}
		for (t = ss->tunnels; t != NULL; t = tnext) {
			tnext = t->next;
			if ((rc = ssh_tunnel_drive(t)) < 0)
				return -1;
			progress |= rc;
		}
	}
	if (progress)
		ssh_session_kick(ss);
	return 0;
}

/* Poll for what libssh2 waits for; while idle, only for a close. */
static void
ssh_session_events(struct ssh_session *ss)
{
	short ev = POLLIN;
	int dirs;

	if (ss->io == NULL)
		return;
	if (ss->state == SS_CONNECTING)
		ev = POLLOUT;
	else if (ss->state == SS_READY && !ssh_session_busy(ss))
		ev = ss->idle_data ? 0 : POLLIN;
	else {
		dirs = libssh2_session_block_directions(ss->s);
		if (dirs & LIBSSH2_SESSION_BLOCK_OUTBOUND)
			ev |= POLLOUT;
	}
	loop_io_set(ss->io, ev);
}

/* Has the session a channel open or a command that wants one? */
static int
ssh_session_busy(struct ssh_session *ss)
{
	struct exec *e;

	if (ss->tunnels != NULL)
		return 1;
	for (e = ss->execs; e != NULL; e = e->next) {
		if (e->released || e->ch != NULL || e->state != EX_WAIT)
			return 1;
	}
	return 0;
}

/* Drive the session again soon, from the loop. */
static void
ssh_session_kick(struct ssh_session *ss)
{
	ss->kicked = 1;
	ssh_wake(ss->loop);
}

/* Make the loop call ssh_on_wake before it next sleeps. */
static void
ssh_wake(struct loop *l)
{
	loop_defer(l, ssh_on_wake, NULL);
}

static void
ssh_on_wake(void *arg)
{
	(void)arg;
	ssh_run_kicks();
	ssh_run_dones();
}

/*
 * Drive each session kicked before now, once; a session that kicks itself
 * again while driven waits for the next wake-up, so nothing hogs the loop.
 * Driving may free sessions: look for the next one from the top each time.
 */
static void
ssh_run_kicks(void)
{
	struct ssh_session *ss;

	for (ss = ssh_sessions; ss != NULL; ss = ss->next) {
		ss->kick_now = ss->kicked;
		ss->kicked = 0;
	}
	for (;;) {
		for (ss = ssh_sessions; ss != NULL; ss = ss->next) {
			if (ss->kick_now)
				break;
		}
		if (ss == NULL)
			return;
		ss->kick_now = 0;
		if (ss->state != SS_CONNECTING)
			ssh_session_drive(ss);
	}
}

/* Call done() of finished commands, oldest first. It may free them. */
static void
ssh_run_dones(void)
{
	struct exec *e;

	while ((e = ssh_done_list) != NULL) {
		ssh_done_list = e->done_next;
		e->done_next = NULL;
		e->done_pending = 0;
		e->req.done(&e->result, e->req.arg);
	}
}

static void
ssh_done_later(struct exec *e)
{
	struct exec **pp;

	if (e->done_pending)
		return;
	for (pp = &ssh_done_list; *pp != NULL; pp = &(*pp)->done_next)
		;
	*pp = e;
	e->done_pending = 1;
	ssh_wake(e->req.loop);
}

static void
ssh_done_remove(struct exec *e)
{
	struct exec **pp;

	if (!e->done_pending)
		return;
	for (pp = &ssh_done_list; *pp != NULL; pp = &(*pp)->done_next) {
		if (*pp == e) {
			*pp = e->done_next;
			break;
		}
	}
	e->done_pending = 0;
}

static void
ssh_on_connect_timeout(void *arg)
{
	struct ssh_session *ss = arg;
	static const char *stage[] = {
		[SS_CONNECTING] = "TCP connect",
		[SS_BANNER] = "SSH handshake",
		[SS_HANDSHAKE] = "SSH handshake",
		[SS_AUTH] = "authentication",
		[SS_READY] = "",
	};
	char d[32], *msg;

	ss->connect_timer = NULL;
	duration_format(ss->connect_timeout_ms, d, sizeof d);
	xasprintf(&msg, "cannot connect to %s: %s timed out after %s",
	    ss->label, stage[ss->state], d);
	ssh_session_fail(ss, msg);
	free(msg);
}

static void
ssh_on_keepalive(void *arg)
{
	struct ssh_session *ss = arg;
	int next = ss->keepalive_s, rc;

	ss->keepalive = NULL;
	rc = libssh2_keepalive_send(ss->s, &next);
	if (rc != 0 && rc != LIBSSH2_ERROR_EAGAIN && ssh_error_fatal(rc)) {
		ssh_session_lost(ss, rc);
		return;
	}
	if (next <= 0)
		next = ss->keepalive_s;
	ss->keepalive = loop_timer_add(ss->loop, (int64_t)next * 1000,
	    ssh_on_keepalive, ss);
	ssh_session_events(ss);
}

/* libssh2's last error as one line for a person. */
static char *
ssh_session_error(struct ssh_session *ss, int rc)
{
	char *msg = NULL;

	switch (rc) {
	case LIBSSH2_ERROR_SOCKET_DISCONNECT:
		return xstrdup("the server closed the connection");
	case LIBSSH2_ERROR_SOCKET_RECV:
	case LIBSSH2_ERROR_SOCKET_SEND:
		return xstrdup(errno != 0 && errno != EAGAIN ? strerror(errno) :
		    "the connection broke");
	case LIBSSH2_ERROR_TIMEOUT:
	case LIBSSH2_ERROR_SOCKET_TIMEOUT:
		return xstrdup("timed out");
	}
	if (ss->s != NULL)
		libssh2_session_last_error(ss->s, &msg, NULL, 0);
	xasprintf(&msg, "%s (libssh2 error %d)", msg != NULL && *msg != '\0' ?
	    msg : "error", rc);
	return msg;
}

/* Does error rc end the whole session, not only one channel? */
static int
ssh_error_fatal(int rc)
{
	switch (rc) {
	case 0:
	case LIBSSH2_ERROR_EAGAIN:
	case LIBSSH2_ERROR_ALLOC:
	case LIBSSH2_ERROR_FILE:
	case LIBSSH2_ERROR_METHOD_NONE:
	case LIBSSH2_ERROR_AUTHENTICATION_FAILED:
	case LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED:
	case LIBSSH2_ERROR_PASSWORD_EXPIRED:
	case LIBSSH2_ERROR_CHANNEL_OUTOFORDER:
	case LIBSSH2_ERROR_CHANNEL_FAILURE:
	case LIBSSH2_ERROR_CHANNEL_REQUEST_DENIED:
	case LIBSSH2_ERROR_CHANNEL_UNKNOWN:
	case LIBSSH2_ERROR_CHANNEL_WINDOW_EXCEEDED:
	case LIBSSH2_ERROR_CHANNEL_PACKET_EXCEEDED:
	case LIBSSH2_ERROR_CHANNEL_CLOSED:
	case LIBSSH2_ERROR_CHANNEL_EOF_SENT:
	case LIBSSH2_ERROR_REQUEST_DENIED:
	case LIBSSH2_ERROR_INVAL:
	case LIBSSH2_ERROR_BAD_USE:
	case LIBSSH2_ERROR_AGENT_PROTOCOL:
	case LIBSSH2_ERROR_KEYFILE_AUTH_FAILED:
	case LIBSSH2_ERROR_PUBLICKEY_PROTOCOL:
	case LIBSSH2_ERROR_CHANNEL_WINDOW_FULL:
		return 0;
	}
	return 1;
}

/* The session cannot be used: fail everything on it and on the sessions
 * through it, then forget it. */
static void
ssh_session_fail(struct ssh_session *ss, const char *msg)
{
	struct exec *e, *next;

	ssh_session_unlink(ss);
	for (e = ss->execs; e != NULL; e = next) {
		next = e->next;
		e->ch = NULL; /* freed with the session */
		if (e->orphan) {
			ssh_exec_detach(e);
			ssh_exec_destroy(e);
		} else
			ssh_exec_fail(e, msg);
	}
	ssh_session_drop_tunnels(ss, msg, 0);
	ssh_session_free(ss);
}

/* The connection dropped after it was set up (error rc). */
static void
ssh_session_lost(struct ssh_session *ss, int rc)
{
	char *err = ssh_session_error(ss, rc);

	ssh_session_lost_why(ss, err);
	free(err);
}

/*
 * The connection dropped, for reason why. Commands already sent fail;
 * commands not sent yet on a session that had been idle move to a new one
 * (through new bastions if need be). Sessions through this one drop too.
 */
static void
ssh_session_lost_why(struct ssh_session *ss, const char *why)
{
	struct ssh_session *ns = NULL;
	struct exec *e, *next, **pp;
	char *msg, *cerr = NULL;
	struct exec_req req;

	ssh_session_unlink(ss); /* a new session must not find this one */
	xasprintf(&msg, "connection to %s lost: %s", ss->label, why);
	ssh_session_drop_tunnels(ss, msg, 1);
	for (e = ss->execs; e != NULL; e = next) {
		next = e->next;
		e->result.unknown = e->sent;
		if (e->sent && !e->orphan)
			ssh_unknown_add(e->req.def, e->token);
		if (e->sent || e->orphan || !ss->used)
			continue;
		if (ns == NULL) {
			req = e->req;
			if ((ns = ssh_session_get(&req, 0, NULL, &cerr)) == NULL)
				break;
		}
		ssh_exec_detach(e);
		e->state = EX_WAIT;
		e->ss = ns;
		for (pp = &ns->execs; *pp != NULL; pp = &(*pp)->next)
			;
		*pp = e;
	}
	if (cerr != NULL) {
		free(msg);
		xasprintf(&msg, "connection to %s lost: %s; then %s", ss->label,
		    why, cerr);
	}
	ssh_session_fail(ss, msg);
	free(cerr);
	free(msg);
}

/*
 * The bastion ss is going: every session through it goes too, its
 * commands failing with why ("connection to bastion ... lost: ...").
 * lost: they may move to new sessions as after any lost connection;
 * else they fail (cutover is closing, or the bastion never worked).
 */
static void
ssh_session_drop_tunnels(struct ssh_session *ss, const char *why, int lost)
{
	struct ssh_tunnel *t;
	struct ssh_session *child;
	char *msg;

	while ((t = ss->tunnels) != NULL) {
		ss->tunnels = t->next;
		t->next = NULL;
		t->ch = NULL; /* freed with the session */
		t->via = NULL;
		child = t->child;
		ssh_tunnel_free(t);
		if (child == NULL)
			continue;
		child->tunnel = NULL;
		xasprintf(&msg, "through bastion %s: %s", ss->name, why);
		if (lost && child->state == SS_READY)
			ssh_session_lost_why(child, msg);
		else {
			free(msg);
			xasprintf(&msg, "cannot connect to %s: bastion %s: %s",
			    child->label, ss->name, why);
			ssh_session_fail(child, msg);
		}
		free(msg);
	}
}

/* Take ss out of the list of sessions (no one finds it any more). */
static void
ssh_session_unlink(struct ssh_session *ss)
{
	struct ssh_session **pp;

	for (pp = &ssh_sessions; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == ss) {
			*pp = ss->next;
			break;
		}
	}
	ss->next = NULL;
}

/* Close the connection and free the session (its execs are gone). */
static void
ssh_session_free(struct ssh_session *ss)
{
	ssh_session_unlink(ss);
	ssh_session_drop_tunnels(ss, "the bastion's session closed", 0);
	if (ss->tunnel != NULL)
		ssh_tunnel_release(ss->tunnel);
	ss->tunnel = NULL;
	loop_timer_cancel(ss->loop, ss->connect_timer);
	loop_timer_cancel(ss->loop, ss->keepalive);
	if (ss->io != NULL)
		loop_io_remove(ss->loop, ss->io);
	if (ss->agent != NULL) {
		libssh2_agent_disconnect(ss->agent);
		libssh2_agent_free(ss->agent);
	}
	if (ss->s != NULL) {
		/* Best effort goodbye; then make every later send fail at
		 * once, so that freeing never waits for the server. */
		libssh2_session_disconnect(ss->s, "cutover is done");
		if (ss->fd != -1)
			shutdown(ss->fd, SHUT_RDWR);
		libssh2_session_free(ss->s);
	}
	if (ss->fd != -1)
		close(ss->fd);
	if (ss->ai != NULL)
		freeaddrinfo(ss->ai);
	ssh_forget(&ss->passphrase);
	ssh_forget(&ss->password);
	buf_free(&ss->tried);
	free(ss->methods);
	free(ss->connect_error);
	free(ss->label);
	free(ss->key);
	free(ss->name);
	free(ss->host);
	free(ss->user);
	ssh_strv_free(ss->identities, ss->nidentities);
	free(ss->agent_sock);
	ssh_strv_free(ss->known_files, ss->nknown);
	free(ss);
}

/* ------------------------------------------------------------ bastions */

/*
 * Connect child through the bastion via: a socketpair stands for its TCP
 * connection, and a tunnel on via carries it once via is ready. The child
 * waits as if connecting; its SSH handshake starts when the pair is
 * writable, its bytes flow when the tunnel's channel is open.
 */
static int
ssh_tunnel_new(struct ssh_session *via, struct ssh_session *child,
    char **err)
{
	struct ssh_tunnel *t, **pp;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	    sv) != 0) {
		xasprintf(err, "cannot connect to %s: socketpair: %s",
		    child->label, strerror(errno));
		return -1;
	}
	t = xcalloc(1, sizeof *t);
	t->via = via;
	t->child = child;
	t->host = xstrdup(child->host);
	t->port = child->port;
	t->fd = sv[1];
	t->loop = via->loop;
	t->io = loop_io_add(via->loop, t->fd, 0, ssh_tunnel_io, t);
	for (pp = &via->tunnels; *pp != NULL; pp = &(*pp)->next)
		;
	*pp = t;
	child->tunnel = t;
	child->fd = sv[0];
	child->state = SS_CONNECTING;
	child->io = loop_io_add(child->loop, child->fd, POLLOUT,
	    ssh_session_io, child);
	ssh_session_kick(via);
	return 0;
}

/* Move a tunnel on: 1 progress, 0 waiting, -1 the bastion is gone. */
static int
ssh_tunnel_drive(struct ssh_tunnel *t)
{
	struct ssh_session *via = t->via;

	switch (t->state) {
	case TU_WAIT:
		if (t->child == NULL) {
			ssh_tunnel_free(t);
			return 1;
		}
		if (via->opening != NULL && via->opening != t)
			return 0;
		t->state = TU_OPEN;
		/* FALLTHROUGH */
	case TU_OPEN:
		return ssh_tunnel_open(t);
	case TU_RUN:
		return ssh_tunnel_pump(t);
	case TU_CLOSE:
		return ssh_tunnel_close(t);
	}
	return 0;
}

/* Ask the bastion to connect to the next hop (direct-tcpip). */
static int
ssh_tunnel_open(struct ssh_tunnel *t)
{
	struct ssh_session *via = t->via, *child = t->child;
	char *err, *msg;
	int rc;

	via->opening = t;
	t->ch = libssh2_channel_direct_tcpip_ex(via->s, t->host, t->port,
	    "127.0.0.1", 22);
	if (t->ch == NULL) {
		rc = libssh2_session_last_errno(via->s);
		if (rc == LIBSSH2_ERROR_EAGAIN)
			return 0;
		via->opening = NULL;
		if (ssh_error_fatal(rc)) {
			ssh_session_lost(via, rc);
			return -1;
		}
		err = ssh_session_error(via, rc);
		xasprintf(&msg, "cannot connect to %s: bastion %s could not "
		    "reach %s:%d: %s", child != NULL ? child->label : t->host,
		    via->name, t->host, t->port, err);
		t->state = TU_CLOSE;
		if (child != NULL)
			ssh_session_fail(child, msg);
		free(msg);
		free(err);
		return 1;
	}
	via->opening = NULL;
	t->state = child != NULL ? TU_RUN : TU_CLOSE;
	ssh_tunnel_events(t);
	return 1;
}

/* Pump both ways as far as it goes. */
static int
ssh_tunnel_pump(struct ssh_tunnel *t)
{
	int progress = 0;

	if (ssh_tunnel_down(t, &progress) < 0 || ssh_tunnel_up(t, &progress) < 0)
		return -1;
	if (t->ch_eof && t->down_len == 0 && !t->shut) {
		shutdown(t->fd, SHUT_WR); /* the child reads the end */
		t->shut = 1;
		progress = 1;
	}
	if (t->fd_eof && t->state == TU_RUN) {
		t->state = TU_CLOSE;
		progress = 1;
	}
	ssh_tunnel_events(t);
	return progress;
}

/* Channel to socketpair. -1 if the bastion's session is gone. */
static int
ssh_tunnel_down(struct ssh_tunnel *t, int *progress)
{
	ssize_t n;
	int i;

	for (i = 0; i < SSH_READ_ROUNDS; i++) {
		if (t->down_len == 0 && !t->ch_eof) {
			n = libssh2_channel_read(t->ch, t->down, sizeof t->down);
			if (n < 0 && n != LIBSSH2_ERROR_EAGAIN) {
				if (ssh_error_fatal((int)n)) {
					ssh_session_lost(t->via, (int)n);
					return -1;
				}
				t->ch_eof = 1;
			} else if (n > 0) {
				t->down_off = 0;
				t->down_len = (size_t)n;
			} else if (libssh2_channel_eof(t->ch) == 1)
				t->ch_eof = 1;
		}
		if (t->down_len == 0 || t->fd_eof)
			return 0;
		n = send(t->fd, t->down + t->down_off, t->down_len,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n <= 0) {
			if (n == -1 && (errno == EAGAIN || errno == EINTR))
				return 0;
			t->fd_eof = 1; /* the child is gone */
			return 0;
		}
		t->down_off += (size_t)n;
		t->down_len -= (size_t)n;
		*progress = 1;
	}
	return 0;
}

/* Socketpair to channel. -1 if the bastion's session is gone. */
static int
ssh_tunnel_up(struct ssh_tunnel *t, int *progress)
{
	ssize_t n;
	int i;

	for (i = 0; i < SSH_READ_ROUNDS; i++) {
		if (t->up_len == 0 && !t->fd_eof) {
			n = recv(t->fd, t->up, sizeof t->up, MSG_DONTWAIT);
			if (n > 0) {
				t->up_off = 0;
				t->up_len = (size_t)n;
			} else if (n == 0 || (errno != EAGAIN && errno != EINTR))
				t->fd_eof = 1;
		}
		if (t->up_len == 0)
			return 0;
		n = libssh2_channel_write(t->ch, t->up + t->up_off, t->up_len);
		if (n == LIBSSH2_ERROR_EAGAIN)
			return 0;
		if (n < 0) {
			if (ssh_error_fatal((int)n)) {
				ssh_session_lost(t->via, (int)n);
				return -1;
			}
			t->ch_eof = t->fd_eof = 1;
			t->up_len = 0;
			return 0;
		}
		t->up_off += (size_t)n;
		t->up_len -= (size_t)n;
		*progress = 1;
	}
	return 0;
}

/* Free the channel (non-blocking), then the tunnel. */
static int
ssh_tunnel_close(struct ssh_tunnel *t)
{
	struct ssh_session *via = t->via;
	int rc;

	if (t->ch != NULL) {
		rc = libssh2_channel_free(t->ch);
		if (rc == LIBSSH2_ERROR_EAGAIN)
			return 0;
		t->ch = NULL;
		if (ssh_error_fatal(rc)) {
			ssh_tunnel_free(t);
			ssh_session_lost(via, rc);
			return -1;
		}
	}
	ssh_tunnel_free(t);
	return 1;
}

/* Poll our end of the pair for what the pump waits for. */
static void
ssh_tunnel_events(struct ssh_tunnel *t)
{
	short ev = 0;

	if (t->state == TU_RUN && t->up_len == 0 && !t->fd_eof)
		ev |= POLLIN;
	if (t->state == TU_RUN && t->down_len > 0 && !t->fd_eof)
		ev |= POLLOUT;
	loop_io_set(t->io, ev);
}

/* The child wrote, or made room: drive the bastion's session. */
static void
ssh_tunnel_io(int fd, short revents, void *arg)
{
	struct ssh_tunnel *t = arg;

	(void)fd;
	(void)revents;
	if (t->via->state == SS_READY)
		ssh_session_drive(t->via);
}

/* The child session is going: close the channel from the bastion's
 * side, or drop the tunnel if its channel was never asked for. */
static void
ssh_tunnel_release(struct ssh_tunnel *t)
{
	struct ssh_session *via = t->via;

	t->child = NULL;
	if (via == NULL)
		return;
	if (t->state == TU_RUN)
		t->state = TU_CLOSE;
	loop_io_set(t->io, 0);
	ssh_session_kick(via);
}

/* Take the tunnel off its bastion's list and free it. */
static void
ssh_tunnel_free(struct ssh_tunnel *t)
{
	struct ssh_tunnel **pp;

	if (t->via != NULL) {
		for (pp = &t->via->tunnels; *pp != NULL; pp = &(*pp)->next) {
			if (*pp == t) {
				*pp = t->next;
				break;
			}
		}
		if (t->via->opening == t)
			t->via->opening = NULL;
	}
	loop_io_remove(t->loop, t->io);
	if (t->child != NULL)
		t->child->tunnel = NULL;
	if (t->fd != -1)
		close(t->fd);
	free(t->host);
	free(t);
}

void
exec_ssh_shutdown(void)
{
	struct ssh_unknown *u;

	while (ssh_sessions != NULL)
		ssh_session_fail(ssh_sessions, "cutover is closing");
	while ((u = ssh_unknowns) != NULL) {
		ssh_unknowns = u->next;
		free(u->token);
		free(u);
	}
	ssh_done_list = NULL;
}

/*
 * Read the known_hosts files line by line. libssh2_knownhost_readfile
 * gives up at the first line it cannot parse (a marker, a key type it does
 * not know); such lines are skipped here instead. A missing file is an
 * empty one.
 */
static LIBSSH2_KNOWNHOSTS *
ssh_known_load(struct ssh_session *ss)
{
	LIBSSH2_KNOWNHOSTS *kh;
	FILE *f;
	char *line = NULL, *p;
	size_t cap = 0, i;
	ssize_t n;

	if ((kh = libssh2_knownhost_init(ss->s)) == NULL)
		return NULL;
	for (i = 0; i < ss->nknown; i++) {
		if ((f = fopen(ss->known_files[i], "re")) == NULL)
			continue;
		while ((n = getline(&line, &cap, f)) != -1) {
			while (n > 0 && (line[n - 1] == '\n' ||
			    line[n - 1] == '\r'))
				line[--n] = '\0';
			for (p = line; *p == ' ' || *p == '\t'; p++)
				;
			if (*p == '\0' || *p == '#' || *p == '@')
				continue;
			libssh2_knownhost_readline(kh, p, strlen(p),
			    LIBSSH2_KNOWNHOST_FILE_OPENSSH);
		}
		fclose(f);
	}
	free(line);
	return kh;
}

/*
 * Ask first for the host key types known_hosts has for this host, as
 * OpenSSH does: otherwise the server may offer a type we have no line for
 * and a known host would look unknown. Works with hashed entries too: each
 * entry's key is checked against this host name.
 */
static void
ssh_hostkey_prefs(struct ssh_session *ss, LIBSSH2_KNOWNHOSTS *kh)
{
	struct libssh2_knownhost *k = NULL;
	int known[SSH_NKEY_TYPES] = { 0 }, type;
	struct buf b = { 0 };
	size_t i, pass;

	while (libssh2_knownhost_get(kh, &k, k) == 0) {
		type = k->typemask & LIBSSH2_KNOWNHOST_KEY_MASK;
		for (i = 0; i < SSH_NKEY_TYPES; i++) {
			if (ssh_key_types[i].knownhost == type && !known[i] &&
			    libssh2_knownhost_checkp(kh, ss->host, ss->port,
			    k->key, strlen(k->key), LIBSSH2_KNOWNHOST_TYPE_PLAIN |
			    LIBSSH2_KNOWNHOST_KEYENC_BASE64 | type, NULL) ==
			    LIBSSH2_KNOWNHOST_CHECK_MATCH)
				known[i] = 1;
		}
	}
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < SSH_NKEY_TYPES; i++) {
			if (known[i] == (pass == 0))
				buf_printf(&b, "%s%s", b.len ? "," : "",
				    ssh_key_types[i].methods);
		}
	}
	libssh2_session_method_pref(ss->s, LIBSSH2_METHOD_HOSTKEY, buf_str(&b));
	buf_free(&b);
}

/* Base64, with or without the trailing '=' padding. */
static char *
ssh_base64(const unsigned char *p, size_t len, int pad)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out = xmalloc(len / 3 * 4 + 5), *o = out;
	unsigned long v;
	size_t i;

	for (i = 0; i + 2 < len; i += 3) {
		v = (unsigned long)p[i] << 16 | p[i + 1] << 8 | p[i + 2];
		*o++ = tab[v >> 18 & 63];
		*o++ = tab[v >> 12 & 63];
		*o++ = tab[v >> 6 & 63];
		*o++ = tab[v & 63];
	}
	if (i < len) {
		v = (unsigned long)p[i] << 16;
		if (i + 1 < len)
			v |= p[i + 1] << 8;
		*o++ = tab[v >> 18 & 63];
		*o++ = tab[v >> 12 & 63];
		if (i + 1 < len)
			*o++ = tab[v >> 6 & 63];
		else if (pad)
			*o++ = '=';
		if (pad)
			*o++ = '=';
	}
	*o = '\0';
	return out;
}

/*
 * Check the server's host key against known_hosts. Returns 0 when it may
 * be trusted, else -1 with *err: one line with the fingerprint and the
 * exact known_hosts line, so a person can check it and add it.
 */
static int
ssh_hostkey_check(struct ssh_session *ss, char **err)
{
	const char *key, *hash, *name = "unknown";
	size_t len, i;
	int type, kbit = LIBSSH2_KNOWNHOST_KEY_UNKNOWN, rc, other = 0;
	char *fp, *pattern, *line;

	key = libssh2_session_hostkey(ss->s, &len, &type);
	hash = libssh2_hostkey_hash(ss->s, LIBSSH2_HOSTKEY_HASH_SHA256);
	for (i = 0; i < SSH_NKEY_TYPES; i++) {
		if (ssh_key_types[i].hostkey == type) {
			kbit = ssh_key_types[i].knownhost;
			name = ssh_key_types[i].name;
		}
	}
	if (key == NULL || hash == NULL ||
	    (rc = ssh_hostkey_lookup(ss, key, len, kbit, &other)) < 0) {
		xasprintf(err, "cannot connect to %s: no host key", ss->label);
		return -1;
	}
	if (rc == LIBSSH2_KNOWNHOST_CHECK_MATCH)
		return 0;
	ssh_hostkey_text(ss, key, len, name, hash, &fp, &pattern, &line);
	if (rc == LIBSSH2_KNOWNHOST_CHECK_MISMATCH || other)
		xasprintf(err, "host key of %s has CHANGED%s (possible attack: "
		    "someone may be intercepting the connection); refusing to "
		    "connect; the server offers %s; if the change is expected, "
		    "remove the old key with `ssh-keygen -R '%s' -f %s` and add "
		    "this line to %s: %s", ss->label, other ? " type" : "", fp,
		    pattern, ss->known_hosts, ss->known_hosts, line);
	else if (rc != LIBSSH2_KNOWNHOST_CHECK_NOTFOUND)
		xasprintf(err, "cannot check the host key of %s against %s",
		    ss->label, ss->known_hosts);
	else if (!ss->accept_new)
		xasprintf(err, "unknown host key of %s (%s); refusing to "
		    "connect; check this fingerprint with the server's owner, "
		    "then add this line to %s: %s", ss->label, fp,
		    ss->known_hosts, line);
	else if (ssh_hostkey_add(ss, line, err) == 0) {
		ssh_hostkey_added(ss, fp);
		rc = LIBSSH2_KNOWNHOST_CHECK_MATCH;
	}
	free(pattern);
	free(line);
	free(fp);
	return rc == LIBSSH2_KNOWNHOST_CHECK_MATCH ? 0 : -1;
}

/*
 * Look the key up by host and type. When the type is not found, *other
 * says whether the file knows this host by keys of other types.
 */
static int
ssh_hostkey_lookup(struct ssh_session *ss, const char *key, size_t len,
    int kbit, int *other)
{
	LIBSSH2_KNOWNHOSTS *kh;
	int rc;

	if ((kh = ssh_known_load(ss)) == NULL)
		return -1;
	rc = libssh2_knownhost_checkp(kh, ss->host, ss->port, key, len,
	    LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | kbit,
	    NULL);
	*other = rc == LIBSSH2_KNOWNHOST_CHECK_NOTFOUND &&
	    libssh2_knownhost_checkp(kh, ss->host, ss->port, key, len,
	    LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW, NULL) ==
	    LIBSSH2_KNOWNHOST_CHECK_MISMATCH;
	libssh2_knownhost_free(kh);
	return rc;
}

/* The fingerprint ("TYPE SHA256:..."), the host pattern and the whole
 * known_hosts line for a key, as OpenSSH writes them. */
static void
ssh_hostkey_text(struct ssh_session *ss, const char *key, size_t len,
    const char *name, const char *hash, char **fp, char **pattern,
    char **line)
{
	char *b64;

	b64 = ssh_base64((const unsigned char *)hash, 32, 0);
	xasprintf(fp, "%s SHA256:%s", name, b64);
	free(b64);
	if (ss->port == 22)
		*pattern = xstrdup(ss->host);
	else
		xasprintf(pattern, "[%s]:%d", ss->host, ss->port);
	b64 = ssh_base64((const unsigned char *)key, len, 1);
	xasprintf(line, "%s %s %s", *pattern, name, b64);
	free(b64);
}

/* accept-new added a key: say so in the output of every waiting step. */
static void
ssh_hostkey_added(struct ssh_session *ss, const char *fp)
{
	struct exec *e;
	char *note;

	xasprintf(&note, "[cutover: host_key accept-new: added the host key "
	    "of %s (%s) to %s]\n", ss->label, fp, ss->known_hosts);
	for (e = ss->execs; e != NULL; e = e->next)
		ssh_exec_note(e, note);
	free(note);
}

/* Lock known_hosts; wait for another writer at most SSH_KNOWN_LOCK_MS. */
static int
ssh_known_lock(int fd)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	int i;

	for (i = 0; i < SSH_KNOWN_LOCK_MS / 10; i++) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return -1;
		nanosleep(&ts, NULL);
	}
	errno = EWOULDBLOCK;
	return -1;
}

/*
 * Append line to the known_hosts file (creating it, mode 0600), under an
 * exclusive flock so that two drivers never interleave, in one write, on
 * a line of its own even when the file does not end with a newline.
 */
static int
ssh_hostkey_add(struct ssh_session *ss, const char *line, char **err)
{
	struct stat sb;
	char last = '\n', *text;
	int fd, ok;

	fd = open(ss->known_hosts, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC,
	    0600);
	if (fd == -1) {
		xasprintf(err, "host_key accept-new: cannot add the host key of "
		    "%s to %s: %s", ss->label, ss->known_hosts, strerror(errno));
		return -1;
	}
	ok = ssh_known_lock(fd) == 0;
	if (ok && fstat(fd, &sb) == 0 && sb.st_size > 0 &&
	    pread(fd, &last, 1, sb.st_size - 1) != 1)
		ok = 0;
	xasprintf(&text, "%s%s\n", last == '\n' ? "" : "\n", line);
	ok = ok && write(fd, text, strlen(text)) == (ssize_t)strlen(text);
	free(text);
	if (close(fd) != 0) /* releases the lock */
		ok = 0;
	if (!ok) {
		xasprintf(err, "host_key accept-new: cannot write %s: %s",
		    ss->known_hosts, strerror(errno));
		return -1;
	}
	return 0;
}

/* A line of cutover's own in the step's output. */
static void
ssh_exec_note(struct exec *e, const char *text)
{
	if (!e->orphan)
		e->req.output(text, strlen(text), e->req.arg);
}

/* Move one command on. Returns 1 on progress, 0 if it waits, -1 if the
 * session is gone. */
static int
ssh_exec_drive(struct exec *e)
{
	struct ssh_session *ss = e->ss;

	switch (e->state) {
	case EX_WAIT:
		if (!e->released || ss->throttled ||
		    (ss->opening != NULL && ss->opening != e))
			return 0;
		e->state = EX_OPEN;
		/* FALLTHROUGH */
	case EX_OPEN:
		return ssh_exec_open(e);
	case EX_EXEC:
		return ssh_exec_command(e);
	case EX_SEND:
		return ssh_exec_send(e);
	case EX_RUN:
		return ssh_exec_read(e);
	case EX_CLOSING:
	case EX_FREE:
	case EX_ABORT:
		return ssh_exec_close(e);
	case EX_DONE:
		break;
	}
	return 0;
}

/*
 * Open a channel. libssh2 keeps the state of a channel being opened in the
 * session, so only one command opens at a time. If the server refuses
 * another channel (OpenSSH MaxSessions), wait for one to close.
 */
static int
ssh_exec_open(struct exec *e)
{
	struct ssh_session *ss = e->ss;
	LIBSSH2_CHANNEL *ch;
	char *err, *msg;
	int rc;

	ss->opening = e;
	ch = libssh2_channel_open_session(ss->s);
	if (ch == NULL) {
		rc = libssh2_session_last_errno(ss->s);
		if (rc == LIBSSH2_ERROR_EAGAIN)
			return 0;
		ss->opening = NULL;
		if (ssh_error_fatal(rc)) {
			ssh_session_lost(ss, rc);
			return -1;
		}
		if (rc == LIBSSH2_ERROR_CHANNEL_FAILURE && !e->aborting &&
		    ssh_session_busy(ss) && ss->execs != e) {
			e->state = EX_WAIT;
			ss->throttled = 1;
			return 0;
		}
		err = ssh_session_error(ss, rc);
		xasprintf(&msg, "cannot open a channel on %s: %s", ss->label,
		    err);
		ssh_exec_fail(e, msg);
		free(msg);
		free(err);
		return 1;
	}
	ss->opening = NULL;
	e->ch = ch;
	if (e->aborting) {
		e->state = EX_ABORT;
		return 1;
	}
	/* One stream, in the order the server sent it: neither stdout nor
	 * stderr can fill its window while the other is read. */
	libssh2_channel_handle_extended_data2(ch,
	    LIBSSH2_CHANNEL_EXTENDED_DATA_MERGE);
	e->state = EX_EXEC;
	return 1;
}

/* Send the command. From the first try on, it may have run. */
static int
ssh_exec_command(struct exec *e)
{
	struct ssh_session *ss = e->ss;
	char *err, *msg;
	int rc;

	e->sent = 1;
	rc = libssh2_channel_exec(e->ch, "exec /bin/sh -s");
	if (rc == LIBSSH2_ERROR_EAGAIN)
		return ssh_exec_early(e);
	if (rc != 0) {
		if (ssh_error_fatal(rc)) {
			ssh_session_lost(ss, rc);
			return -1;
		}
		err = ssh_session_error(ss, rc);
		xasprintf(&msg, "%s refused to run the command: %s", ss->label,
		    err);
		ssh_exec_fail(e, msg);
		free(msg);
		free(err);
		return 1;
	}
	ss->used = 1;
	e->state = EX_SEND;
	return 1;
}

/*
 * The server has not answered the exec request yet: send the script
 * already, as ssh sends its input, so that a step costs one round trip
 * less (which counts through a bastion); the server keeps it for the
 * command's stdin. Only when no packet of the session is half sent (then
 * libssh2 takes no other), unless it is this script's own.
 */
static int
ssh_exec_early(struct exec *e)
{
	int rc;

	if (e->script == NULL || (!e->early &&
	    (libssh2_session_block_directions(e->ss->s) &
	    LIBSSH2_SESSION_BLOCK_OUTBOUND)))
		return 0;
	e->early = 1;
	rc = ssh_exec_write(e);
	return rc == 2 ? 1 : rc;
}

/* Write the script to the remote shell's stdin. No EOF follows: the
 * wrapper's watcher hangs the command up when the channel's input closes. */
static int
ssh_exec_send(struct exec *e)
{
	int rc = ssh_exec_write(e);

	if (rc < 0 || rc == 2)
		return rc < 0 ? rc : 1;
	if (e->script_off < strlen(e->script))
		return rc;
	ssh_forget(&e->script);
	e->state = EX_RUN;
	return 1;
}

/* Write what is left of the script: 1 progress, 0 none, 2 the command
 * failed, -1 the session is gone. */
static int
ssh_exec_write(struct exec *e)
{
	size_t len = strlen(e->script);
	ssize_t n;
	int progress = 0;

	while (e->script_off < len) {
		n = libssh2_channel_write(e->ch, e->script + e->script_off,
		    len - e->script_off);
		if (n == LIBSSH2_ERROR_EAGAIN)
			return progress;
		if (n < 0) {
			if (ssh_error_fatal((int)n)) {
				ssh_session_lost(e->ss, (int)n);
				return -1;
			}
			ssh_exec_fail(e, "cannot send the command");
			return 2;
		}
		e->script_off += (size_t)n;
		progress = 1;
	}
	return progress;
}

/* Read what the channel has, stdout and stderr both, every time. */
static int
ssh_exec_read(struct exec *e)
{
	struct ssh_session *ss = e->ss;
	char buf[SSH_READ_SIZE], *err, *msg;
	ssize_t n, m;
	int i, rc, progress = 0;

	for (i = 0; i < SSH_READ_ROUNDS; i++) {
		n = libssh2_channel_read(e->ch, buf, sizeof buf);
		if (n > 0)
			e->req.output(buf, (size_t)n, e->req.arg);
		m = libssh2_channel_read_stderr(e->ch, buf, sizeof buf);
		if (m > 0)
			e->req.output(buf, (size_t)m, e->req.arg);
		rc = (n < 0 && n != LIBSSH2_ERROR_EAGAIN) ? (int)n :
		    (m < 0 && m != LIBSSH2_ERROR_EAGAIN) ? (int)m : 0;
		if (rc != 0) {
			if (ssh_error_fatal(rc)) {
				ssh_session_lost(ss, rc);
				return -1;
			}
			err = ssh_session_error(ss, rc);
			xasprintf(&msg, "reading from %s: %s", ss->label, err);
			ssh_exec_fail(e, msg);
			free(msg);
			free(err);
			return 1;
		}
		if (n <= 0 && m <= 0)
			break;
		progress = 1;
	}
	if (libssh2_channel_eof(e->ch) == 1) {
		e->state = EX_CLOSING;
		return 1;
	}
	return progress;
}

/*
 * After the remote EOF, wait for the remote close (the exit status comes
 * before it), then free the channel. After a cancel, free it at once:
 * that closes it, and the server drops the command's pipes.
 */
static int
ssh_exec_close(struct exec *e)
{
	struct ssh_session *ss = e->ss;
	int rc;

	if (e->state == EX_CLOSING) {
		rc = libssh2_channel_wait_closed(e->ch);
		if (rc == LIBSSH2_ERROR_EAGAIN)
			return 0;
		if (ssh_error_fatal(rc)) {
			ssh_session_lost(ss, rc);
			return -1;
		}
		ssh_exec_status(e);
		e->state = EX_FREE;
	}
	rc = libssh2_channel_free(e->ch);
	if (rc == LIBSSH2_ERROR_EAGAIN)
		return 0;
	e->ch = NULL;
	if (ss->throttled) {
		ss->throttled = 0;
		ssh_session_kick(ss);
	}
	ssh_exec_finish(e);
	if (ssh_error_fatal(rc)) {
		ssh_session_lost(ss, rc);
		return -1;
	}
	return 1;
}

/* Exit status, or the signal that ended the command. */
static void
ssh_exec_status(struct exec *e)
{
	char *sig = NULL, *msg = NULL, *lang = NULL;
	size_t siglen = 0, msglen = 0, langlen = 0, i;

	libssh2_channel_get_exit_signal(e->ch, &sig, &siglen, &msg, &msglen,
	    &lang, &langlen);
	if (sig != NULL && siglen > 0) {
		free(e->why);
		xasprintf(&e->why, "killed by signal %.*s", (int)siglen, sig);
		e->result.signal = -1;
		for (i = 0; i < sizeof ssh_signals / sizeof ssh_signals[0];
		    i++) {
			if (strlen(ssh_signals[i].name) == siglen &&
			    memcmp(ssh_signals[i].name, sig, siglen) == 0)
				e->result.signal = ssh_signals[i].sig;
		}
	} else
		e->result.exit_code = libssh2_channel_get_exit_status(e->ch);
	libssh2_free(e->ss->s, sig);
	libssh2_free(e->ss->s, msg);
	libssh2_free(e->ss->s, lang);
}

/* The command cannot go on: close its channel, if any, then report. */
static void
ssh_exec_fail(struct exec *e, const char *msg)
{
	if (e->why == NULL)
		e->why = xstrdup(msg);
	if (e->ch != NULL && e->ss != NULL) {
		e->state = EX_ABORT;
		if (e->grace == NULL)
			e->grace = loop_timer_add(e->req.loop,
			    SSH_CLOSE_GRACE_MS, ssh_on_grace, e);
		ssh_session_kick(e->ss);
		return;
	}
	ssh_exec_finish(e);
}

/* Stop a command (timeout, cancel, free): close its channel. */
static void
ssh_exec_abort(struct exec *e)
{
	if (e->finished)
		return;
	e->aborting = 1;
	switch (e->state) {
	case EX_WAIT:
		ssh_exec_finish(e);
		break;
	case EX_OPEN:
		/* libssh2 is opening it: let that end, then free it. If the
		 * server never answers, the next open takes the channel over,
		 * which does no harm: it is a fresh one. */
		if (e->grace == NULL)
			e->grace = loop_timer_add(e->req.loop,
			    SSH_CLOSE_GRACE_MS, ssh_on_grace, e);
		ssh_session_kick(e->ss);
		break;
	case EX_FREE:
	case EX_DONE:
		break;
	default:
		e->state = EX_ABORT;
		if (e->grace == NULL)
			e->grace = loop_timer_add(e->req.loop,
			    SSH_CLOSE_GRACE_MS, ssh_on_grace, e);
		ssh_session_kick(e->ss);
		break;
	}
}

/* Take e off its session's list. */
static void
ssh_exec_detach(struct exec *e)
{
	struct ssh_session *ss = e->ss;
	struct exec **pp;

	if (ss == NULL)
		return;
	for (pp = &ss->execs; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == e) {
			*pp = e->next;
			break;
		}
	}
	if (ss->opening == e)
		ss->opening = NULL;
	e->ss = NULL;
	e->next = NULL;
	ssh_session_kick(ss);
}

/* The command is over: build the result and report it from the loop. */
static void
ssh_exec_finish(struct exec *e)
{
	struct exec_result *r = &e->result;

	if (e->finished)
		return;
	e->finished = 1;
	e->state = EX_DONE;
	loop_timer_cancel(e->req.loop, e->timeout);
	loop_timer_cancel(e->req.loop, e->grace);
	e->timeout = e->grace = NULL;
	ssh_exec_detach(e);
	if (e->orphan) {
		ssh_exec_destroy(e);
		return;
	}
	if (e->before != NULL && !r->unknown && e->sent && r->exit_code != 125)
		ssh_unknown_drop(e->req.def, e->before);
	r->timed_out = e->timed_out;
	if (e->why != NULL)
		r->message = xstrdup(e->why);
	else if (r->exit_code != 0)
		xasprintf(&r->message, "exited with status %d", r->exit_code);
	else
		r->ok = 1;
	if (e->released)
		ssh_done_later(e);
}

static void
ssh_on_timeout(void *arg)
{
	struct exec *e = arg;

	e->timeout = NULL;
	e->timed_out = 1;
	if (e->sent) /* a command that ignores the hangup may go on */
		ssh_unknown_add(e->req.def, e->token);
	free(e->why);
	e->why = duration_timed_out(e->req.timeout_ms);
	ssh_exec_abort(e);
}

/* The server did not confirm the close: leave the channel to libssh2
 * (freed with the session) and report. */
static void
ssh_on_grace(void *arg)
{
	struct exec *e = arg;

	e->grace = NULL;
	e->ch = NULL;
	ssh_exec_finish(e);
}

/*
 * The script that ends what is left of an attempt on the host: claim the
 * record directory (then the wrapper never started and never will; the
 * claim is marked ended, so that a later look says GONE at once instead
 * of waiting for a record that never comes), else
 * read the record, and if the process group is still the attempt's (same
 * boot, the leader's start time, or a member carrying the token), TERM it,
 * then KILL it, and wait until it is gone. The last line says GONE,
 * UNKNOWN or STUCK, with the reason.
 */
static char *
ssh_script_recover(const char *token, int64_t wait_ms)
{
	struct buf b = { 0 };

	buf_adds(&b, "{\n");
	ssh_recover_function(&b, token, wait_ms);
	buf_adds(&b, "cutover_recover\nexit 0\n}\n");
	return buf_steal(&b);
}

/* The shell function cutover_recover, which does it for token and prints
 * the verdict; a subshell, so its variables and exits stay its own. */
static void
ssh_recover_function(struct buf *b, const char *token, int64_t wait_ms)
{
	buf_adds(b, "cutover_recover() (\nd=" SSH_RECORD_DIR "; t=");
	ssh_quote(b, token);
	buf_printf(b, "; w=%lld\n", (long long)(wait_ms / 100 + 1));
	buf_adds(b,
	    "umask 077; mkdir -p \"$d\" 2>/dev/null\n"
	    "if mkdir \"$d/$t\" 2>/dev/null; then : >\"$d/$t/ended\"; "
	    "echo 'GONE it had not started, or had ended'; exit 0; fi\n"
	    "[ -f \"$d/$t/ended\" ] && { echo 'GONE ended before'; exit 0; }\n"
	    "i=0; while [ ! -s \"$d/$t/pid\" ] && [ $i -lt 30 ]; do "
	    "sleep 0.1; i=$((i + 1)); done\n"
	    "if ! read -r g st b <\"$d/$t/pid\" 2>/dev/null || [ -z \"$g\" ]; "
	    "then echo \"UNKNOWN its record $d/$t on the host has no readable "
	    "process group\"; exit 0; fi\n"
	    "cur=$(cat /proc/sys/kernel/random/boot_id 2>/dev/null) || cur=-\n"
	    "ours() {\n"
	    "  kill -0 -$g 2>/dev/null || return 1\n"
	    "  [ \"$b\" = - ] || [ \"$b\" = \"$cur\" ] || return 1\n"
	    "  [ \"$st\" = - ] && return 0\n"
	    "  s=$(cat /proc/$g/stat 2>/dev/null) && { set -- ${s##*\\) }; "
	    "[ \"${20}\" = \"$st\" ] && return 0; }\n"
	    "  for p in /proc/[0-9]*; do\n"
	    "    s=$(cat $p/stat 2>/dev/null) || continue; set -- ${s##*\\) }\n"
	    "    [ \"$3\" = \"$g\" ] || continue\n"
	    "    tr '\\0' '\\n' <$p/environ 2>/dev/null | grep -qxF "
	    "\"CUTOVER_ATTEMPT=$t\" && return 0\n"
	    "  done\n  return 1\n}\n"
	    "m=\"process group $g had ended\"\n"
	    "if ours; then\n"
	    "  m=\"ended process group $g\"; kill -TERM -$g 2>/dev/null; i=0\n"
	    "  while ours && [ $i -lt $w ]; do sleep 0.1; i=$((i + 1)); done\n"
	    "  if ours; then kill -KILL -$g 2>/dev/null; i=0\n"
	    "    while ours && [ $i -lt 30 ]; do sleep 0.1; i=$((i + 1)); done\n"
	    "  fi\n"
	    "  if ours; then echo \"STUCK process group $g on the host would "
	    "not end\"; exit 0; fi\n"
	    "fi\n"
	    "rm -f \"$d/$t/pid\"; : >\"$d/$t/ended\"; echo \"GONE $m\"\n)\n");
}

/* What the recovery command reports, as it goes. */
struct ssh_recovery {
	struct buf out;
	int done, ok;
	char *message;
};

static void
ssh_recovery_output(const char *p, size_t n, void *arg)
{
	struct ssh_recovery *r = arg;

	if (r->out.len < 65536)
		buf_add(&r->out, p, n);
}

static void
ssh_recovery_done(const struct exec_result *res, void *arg)
{
	struct ssh_recovery *r = arg;

	r->done = 1;
	r->ok = res->ok;
	if (res->message != NULL)
		r->message = xstrdup(res->message);
}

/* Run the recovery script on the target, in a loop of its own. */
static void
ssh_recovery_run(const struct exec_orphan *o, int64_t wait_ms,
    struct ssh_recovery *r)
{
	struct exec_req req;
	struct exec *e;
	char *err = NULL;
	int64_t end;

	memset(&req, 0, sizeof req);
	req.loop = loop_new();
	req.rb = o->rb;
	req.target = o->target;
	req.entity = o->entity;
	req.step = o->def->id;
	req.def = o->def;
	req.output = ssh_recovery_output;
	req.done = ssh_recovery_done;
	req.arg = r;
	e = ssh_attach(&req, ssh_script_recover(o->token, wait_ms), 1, &err);
	if (e == NULL) {
		r->done = 1;
		r->message = err;
	} else {
		ssh_release(e);
		end = loop_now() + 3 * SSH_CONNECT_TIMEOUT_MS + wait_ms + 15000;
		while (!r->done && loop_now() < end)
			loop_once(req.loop, 100);
		if (!r->done) {
			ssh_cancel(e, "the host did not answer in time");
			end = loop_now() + SSH_CLOSE_GRACE_MS + 1000;
			while (!r->done && loop_now() < end)
				loop_once(req.loop, 100);
		}
		ssh_free(e);
	}
	while (ssh_recovery_failed(req.loop))
		;
	loop_free(req.loop);
}

/* Close a session of the recovery's loop l; 0 when none is left. Closing
 * a bastion closes the sessions through it: look again from the top. */
static int
ssh_recovery_failed(struct loop *l)
{
	struct ssh_session *ss;

	for (ss = ssh_sessions; ss != NULL; ss = ss->next) {
		if (ss->loop == l) {
			ssh_session_fail(ss, "recovery is done");
			return 1;
		}
	}
	return 0;
}

int
exec_ssh_recover(const struct exec_orphan *o, int64_t wait_ms, char **why)
{
	struct ssh_recovery r;
	const char *line, *p;
	int rc = EXEC_ORPHAN_UNKNOWN;

	*why = NULL;
	if (o->token == NULL || o->target == NULL ||
	    o->target->type != TARGET_SSH)
		return EXEC_ORPHAN_GONE;
	memset(&r, 0, sizeof r);
	ssh_recovery_run(o, wait_ms, &r);
	line = NULL;
	for (p = buf_str(&r.out); p != NULL && *p != '\0';
	    p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (strncmp(p, "GONE ", 5) == 0 || strncmp(p, "STUCK ", 6) == 0 ||
		    strncmp(p, "UNKNOWN ", 8) == 0)
			line = p;
	}
	if (r.ok && line != NULL && strncmp(line, "GONE ", 5) == 0)
		rc = EXEC_ORPHAN_GONE;
	else if (r.ok && line != NULL && strncmp(line, "STUCK ", 6) == 0)
		rc = EXEC_ORPHAN_STUCK;
	if (line != NULL)
		line = strchr(line, ' ') + 1;
	xasprintf(why, "%s on target %s (attempt %s): %.*s", rc ==
	    EXEC_ORPHAN_GONE ? "its command no longer runs" : rc ==
	    EXEC_ORPHAN_STUCK ? "its command would not end" :
	    "cannot tell whether its command still runs", o->target->name,
	    o->token, line != NULL ? (int)strcspn(line, "\n") : 200,
	    line != NULL ? line : r.message != NULL ? r.message :
	    "no answer from the host");
	buf_free(&r.out);
	free(r.message);
	return rc;
}
