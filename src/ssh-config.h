/*
 * ssh-config.h - what OpenSSH's client configuration (~/.ssh/config) says
 * about one host: the resolver behind ssh targets.
 *
 * Why not a library: libssh (libssh-dev) has ssh_options_parse_config(), but
 * it applies the file to a libssh session instead of returning the values;
 * only a few of them can be read back (host, user, port, identity, known
 * hosts), there is no way to see StrictHostKeyChecking, ServerAliveInterval,
 * the ProxyJump hops or which keywords it dropped, its errors go to a log
 * callback rather than a "FILE:LINE" string, and it would bring a second SSH
 * library next to libssh2 just to read a text file. No other Debian package
 * offers an ssh_config parser to C, so this is a small table-driven one.
 *
 * What is followed, as ssh_config(5) of OpenSSH 9.x says (and `ssh -G` does):
 *
 *  - Lines are "Keyword arguments" or "Keyword=arguments"; keywords are
 *    case-insensitive; arguments may be quoted with " or ' (also inside a
 *    word, as in a"b c"d), with \" \' \\ and "\ " escapes; a # at the start
 *    of a word begins a comment; blank lines are skipped. A keyword without
 *    arguments, unterminated quotes, or extra arguments after a one-value
 *    keyword are errors.
 *  - For each setting the first value obtained wins. IdentityFile is the
 *    exception: every applicable line adds to the list (duplicates dropped).
 *  - "Host pattern..." applies the lines that follow (up to the next Host or
 *    Match) when the alias as given matches any pattern and no negated
 *    (!pattern) one; patterns use * and ?, and are case-sensitive.
 *  - "Match" criteria, all of which must hold, each negatable with "!":
 *    all (alone, or after canonical/final), host LIST (the HostName so
 *    far, %h expanded, else the alias), originalhost LIST (the alias), user
 *    LIST (the remote user so far, else the local user), localuser LIST.
 *    LISTs are comma-separated patterns, where a matching !pattern makes
 *    the list fail; the patterns (not the names) are lowercased. The
 *    criteria canonical, final, exec, localnetwork and tagged are not
 *    evaluated: the Match does not apply and a warning says so (once per
 *    criterion); an unknown criterion is an error.
 *  - "Include path..." reads other files in place, even inside a Host or
 *    Match block (then conditionally). Relative paths are in ~/.ssh; ~ and
 *    ~user are expanded; globs are expanded and read in lexical order, and a
 *    glob matching nothing is not an error. Host/Match state inside an
 *    included file does not leak back out. Includes nest at most 16 deep and
 *    a file including itself (directly or not) is an error naming the loop.
 *    Only regular files of at most 4 MiB are read.
 *  - Unknown keywords (not in OpenSSH 9.x's list) produce one warning each
 *    unless IgnoreUnknown lists them (ssh itself refuses such a file; a
 *    warning lets a newer OpenSSH's keywords through while still showing a
 *    misspelt one); known keywords that do not concern the resolved
 *    values are ignored, as ssh ignores what it does not use.
 *    Keywords whose effect the caller could not honour and that change where
 *    or how a session goes (ProxyCommand, LocalForward, RemoteForward,
 *    DynamicForward, RemoteCommand, ForwardAgent, ControlMaster, ...) give
 *    one warning each when they apply to the host: "FILE:LINE: ProxyCommand
 *    is not supported; ignored". The caller decides whether to refuse.
 *    ProxyCommand and ProxyJump compete, the first one applying wins (a
 *    ProxyCommand after a ProxyJump is not warned about, as ssh ignores it;
 *    "ProxyCommand none" is not warned about either).
 *
 * Resolution (done once all files are read, as ssh does): HostName accepts
 * %h and %%, and the result is lowercased. IdentityFile, UserKnownHostsFile
 * and IdentityAgent get ~ expanded, then the tokens %% %d (home) %h (host
 * name) %i (uid) %k (the alias) %L %l (local host name) %n (the alias) %p
 * (port) %r (remote user) %u (local user) and ${ENV} variables; %C and
 * other tokens, an unset ${ENV} or an unknown ~user are errors.
 * ProxyJump accepts %% %h %n %p %r. IdentityAgent "SSH_AUTH_SOCK" means the
 * environment's socket (the default), "$NAME" the socket named in $NAME
 * (an unset NAME means no agent), "none" no agent.
 *
 * Values are checked as ssh checks them, even in blocks that do not apply:
 * Port 1-65535; IdentitiesOnly yes/no (true/false); StrictHostKeyChecking
 * yes/ask/accept-new/no/off (true/false); ConnectTimeout and
 * ServerAliveInterval as sshd_config(5) TIME FORMATS (30, 90s, 1m30s, 2h;
 * units s m h d w); ProxyJump a comma-separated list of hops or "none". At
 * most 100 IdentityFile and 16 UserKnownHostsFile entries, as ssh; at most
 * 100 warnings are kept; a ProxyJump chain has at most 16 hops; a value
 * expanded from %tokens and ${ENV} has at most 4096 bytes.
 *
 * Errors are one line, "FILE:LINE: message" (or "FILE: message" when no line
 * applies), in a new string the caller frees. Nothing here prints, exits or
 * keeps state between calls; only files are read (no command is run, no
 * name is looked up but in the password database and gethostname()).
 */
#ifndef CUTOVER_SSH_CONFIG_H
#define CUTOVER_SSH_CONFIG_H

#include <stddef.h>

/* StrictHostKeyChecking: yes and ask are STRICT (nobody is asked in a
 * cutover), no and off are OFF. UNSET leaves the caller's default. */
enum ssh_conf_hostkey {
	SSH_HOSTKEY_UNSET,
	SSH_HOSTKEY_STRICT,
	SSH_HOSTKEY_ACCEPT_NEW,
	SSH_HOSTKEY_OFF,
};

/* IdentityAgent: DEFAULT (unset or "SSH_AUTH_SOCK": the environment's
 * socket), NONE (no agent), PATH (agent_path). */
enum ssh_conf_agent {
	SSH_AGENT_DEFAULT,
	SSH_AGENT_NONE,
	SSH_AGENT_PATH,
};

/* One ProxyJump hop as written: [user@]host[:port] or
 * ssh://[user@]host[:port]; user is NULL and port 0 when not given. */
struct ssh_jump {
	char *user;
	char *host;
	int port;
};

/* Which fields came from the configuration rather than a default. */
#define SSH_CONF_HAS_HOSTNAME 0x01
#define SSH_CONF_HAS_USER 0x02
#define SSH_CONF_HAS_PORT 0x04

/*
 * The resolved configuration of one host. Every string and array is owned by
 * the struct and released by ssh_config_free(); treat it as read-only.
 */
struct ssh_conf {
	char *alias;          /* the name asked for */
	char *hostname;       /* HostName, expanded and lowercased; else alias */
	char *user;           /* User; else the local user */
	int port;             /* Port; else 22 */
	unsigned has;         /* SSH_CONF_HAS_* */
	char **identity_files; /* IdentityFile, in order, expanded */
	size_t n_identity_files;
	int identities_only;  /* IdentitiesOnly: -1 unset, 0 no, 1 yes */
	enum ssh_conf_agent agent;
	char *agent_path;     /* SSH_AGENT_PATH only */
	char **known_hosts_files; /* UserKnownHostsFile, expanded */
	size_t n_known_hosts_files;
	int known_hosts_none; /* UserKnownHostsFile none */
	enum ssh_conf_hostkey host_key;
	int connect_timeout;  /* ConnectTimeout in seconds, -1 unset */
	int server_alive_interval; /* seconds, -1 unset, 0 off */
	struct ssh_jump *jumps; /* ProxyJump, first hop first; none: 0 */
	size_t n_jumps;
	char **warnings;      /* "FILE:LINE: ..." lines, in order */
	size_t n_warnings;
	/* What the resolution started from, for ssh_config_resolve_jumps. */
	char *path;           /* the query's path (NULL: ~/.ssh/config) */
	char *home;
	char *local_user;
};

/*
 * Everything a resolution depends on. path NULL means HOME/.ssh/config (a
 * missing file is then an empty configuration); path "none" reads nothing.
 * An explicit path that cannot be opened is an error. text, when not NULL,
 * is the content of path (len bytes), read instead of the file (tests,
 * fuzzing). local_user NULL means the user running the process; home NULL
 * means local_user's home directory from the password database, else $HOME.
 * user and port (0: none), when given, win over the configuration, as ssh's
 * -l and -p do, and so take part in %r and %p.
 */
struct ssh_conf_query {
	const char *path;
	const char *text;
	size_t len;
	const char *alias;
	const char *local_user;
	const char *home;
	const char *user;
	int port;
};

/* Resolve alias from the configuration at path (NULL: ~/.ssh/config) for
 * local_user (NULL: the current user). Returns NULL with *err set on error;
 * a resolution that only produced warnings succeeds. */
struct ssh_conf *ssh_config_resolve(const char *path, const char *alias,
    const char *local_user, char **err);
/* The same, with every input spelled out. */
struct ssh_conf *ssh_config_resolve_query(const struct ssh_conf_query *,
    char **err);
void ssh_config_free(struct ssh_conf *);

/*
 * The hosts to go through to reach target, as ssh would: the first ProxyJump
 * hop is resolved with its own configuration (so its own ProxyJump is
 * followed first), later hops and the target are reached through the one
 * before, their own ProxyJump not applying; a hop's user and port win over
 * its configuration. Returns the resolved hops in connection order (the
 * target not included; none when it has no ProxyJump) in *hops, owned by the
 * caller (ssh_config_free_hops); their jumps are emptied, being either
 * listed already or not applying. Hops read target->path again (not a
 * query's text), with target's home and local user. Returns 0, or -1 with
 * *err set, e.g.
 * "ProxyJump loop: a -> b -> a" or a hop's own configuration error.
 * Warnings of the hops are in their own structs.
 */
int ssh_config_resolve_jumps(const struct ssh_conf *target,
    struct ssh_conf ***hops, size_t *n, char **err);
void ssh_config_free_hops(struct ssh_conf **, size_t);

/* Parse one ProxyJump hop "[user@]host[:port]" or "ssh://...". Returns 0,
 * or -1 when it is not one. */
int ssh_config_parse_jump(const char *, struct ssh_jump *);

#endif
