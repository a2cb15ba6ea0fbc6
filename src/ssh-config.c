/*
 * ssh-config.c - OpenSSH client configuration resolver (see ssh-config.h).
 *
 * The files are read once, line by line, into raw first-wins values (each
 * remembering its FILE:LINE); tokens and ~ are expanded only at the end, as
 * ssh does, because %r or %p may depend on lines read later.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "ssh-config.h"
#include "xmalloc.h"

#define CFG_MAX_DEPTH 16      /* nested Includes, as READCONF_MAX_DEPTH */
#define CFG_MAX_IDENTITIES 100 /* as SSH_MAX_IDENTITY_FILES */
#define CFG_MAX_KNOWN_HOSTS 16 /* as SSH_MAX_HOSTS_FILES */
#define CFG_MAX_HOPS 16       /* ProxyJump hops followed in one chain */
#define CFG_MAX_WARNINGS 100  /* the rest would be noise */
#define CFG_MAX_FILE (4 << 20) /* bytes of one configuration file */
#define CFG_MAX_EXPANDED 4096 /* bytes of one value after %tokens, ${ENV} */

/* A value as written, with where it was written. */
struct cfg_raw {
	char *value;
	char *where;
};

struct cfg_list {
	struct cfg_raw *v;
	size_t n;
};

/* One file being read. */
struct cfg_file {
	const char *path;
	int line;
	int active;     /* the current Host/Match applies */
	int nevermatch; /* included from a block that does not apply */
};

/* The state of one resolution. */
struct cfg_parse {
	const struct ssh_conf_query *q;
	struct ssh_conf *conf;
	const char *local_user;
	const char *home;
	char *err;
	char *stack[CFG_MAX_DEPTH + 2]; /* real paths of the open files */
	int depth;
	int loop_at;
	struct cfg_raw hostname, user, port, identities_only, agent;
	struct cfg_raw host_key, connect_timeout, alive, jump, proxy_command;
	struct cfg_raw ignore_unknown;
	struct cfg_list identity, known_hosts;
	uid_t uid;
	char *own_user, *own_home;
	char **warned; /* warnings given, without FILE:LINE */
	size_t n_warned;
};

/* What a keyword does. */
enum cfg_kind {
	CFG_HOST,
	CFG_MATCH,
	CFG_INCLUDE,
	CFG_ONE,     /* one value, first wins, into a cfg_raw */
	CFG_MULTI,   /* several values on one line, first line wins */
	CFG_APPEND,  /* one value per line, every line adds */
	CFG_UNSUPPORTED,
	CFG_IGNORED,
};

struct cfg_keyword {
	const char *name;
	enum cfg_kind kind;
	size_t offset; /* of the cfg_raw or cfg_list in struct cfg_parse */
};

#define RAW(f) offsetof(struct cfg_parse, f)

/* The keywords with an effect here; the rest of OpenSSH's list follows. */
static const struct cfg_keyword cfg_keywords[] = {
	{ "host", CFG_HOST, 0 },
	{ "match", CFG_MATCH, 0 },
	{ "include", CFG_INCLUDE, 0 },
	{ "hostname", CFG_ONE, RAW(hostname) },
	{ "user", CFG_ONE, RAW(user) },
	{ "port", CFG_ONE, RAW(port) },
	{ "identityfile", CFG_APPEND, RAW(identity) },
	{ "identitiesonly", CFG_ONE, RAW(identities_only) },
	{ "identityagent", CFG_ONE, RAW(agent) },
	{ "userknownhostsfile", CFG_MULTI, RAW(known_hosts) },
	{ "stricthostkeychecking", CFG_ONE, RAW(host_key) },
	{ "connecttimeout", CFG_ONE, RAW(connect_timeout) },
	{ "serveraliveinterval", CFG_ONE, RAW(alive) },
	{ "proxyjump", CFG_ONE, RAW(jump) },
	{ "ignoreunknown", CFG_ONE, RAW(ignore_unknown) },
};

/* Keywords whose effect a caller would silently lose: warned about. */
static const char *const cfg_unsupported[] = {
	"ProxyCommand", "LocalForward", "RemoteForward", "DynamicForward",
	"RemoteCommand", "LocalCommand", "PermitLocalCommand", "ForwardAgent",
	"ForwardX11", "ForwardX11Trusted", "Tunnel", "TunnelDevice",
	"ControlMaster", "ControlPath", "ControlPersist",
	"CanonicalizeHostname", "HostKeyAlias", "CertificateFile",
	"PKCS11Provider", "SecurityKeyProvider", "KnownHostsCommand",
	"BindAddress", "BindInterface", "ProxyUseFdpass", "SessionType",
	"StdinNull", "ForkAfterAuthentication", "RequestTTY", "SetEnv",
	"SendEnv",
};

/* The rest of OpenSSH 9.x's keywords (and deprecated ones it accepts). */
static const char *const cfg_ignored[] = {
	"AddKeysToAgent", "AddressFamily", "BatchMode", "CASignatureAlgorithms",
	"CanonicalDomains", "CanonicalizeFallbackLocal", "CanonicalizeMaxDots",
	"CanonicalizePermittedCNAMEs", "ChannelTimeout", "CheckHostIP",
	"Ciphers", "ClearAllForwardings", "Compression", "ConnectionAttempts",
	"EnableEscapeCommandline", "EnableSSHKeysign", "EscapeChar",
	"ExitOnForwardFailure", "FingerprintHash", "ForwardX11Timeout",
	"GSSAPIAuthentication", "GSSAPIClientIdentity",
	"GSSAPIDelegateCredentials", "GSSAPIKexAlgorithms", "GSSAPIKeyExchange",
	"GSSAPIRenewalForcesRekey", "GSSAPIServerIdentity", "GSSAPITrustDns",
	"GatewayPorts", "GlobalKnownHostsFile", "HashKnownHosts",
	"HostKeyAlgorithms", "HostbasedAcceptedAlgorithms",
	"HostbasedAuthentication", "HostbasedKeyTypes", "IPQoS",
	"KbdInteractiveAuthentication", "KbdInteractiveDevices",
	"KexAlgorithms", "LogLevel", "LogVerbose", "MACs",
	"NoHostAuthenticationForLocalhost", "NumberOfPasswordPrompts",
	"ObscureKeystrokeTiming", "PasswordAuthentication", "PermitRemoteOpen",
	"PreferredAuthentications", "PubkeyAcceptedAlgorithms",
	"PubkeyAcceptedKeyTypes", "PubkeyAuthentication", "RekeyLimit",
	"RequiredRSASize", "RevokedHostKeys", "ServerAliveCountMax",
	"StreamLocalBindMask", "StreamLocalBindUnlink", "SyslogFacility",
	"TCPKeepAlive", "Tag", "UpdateHostKeys", "VerifyHostKeyDNS",
	"VisualHostKey", "XAuthLocation", "ChallengeResponseAuthentication",
	"KeepAlive", "UseKeychain", "Protocol", "Cipher", "UsePrivilegedPort",
	"RSAAuthentication", "RhostsRSAAuthentication", "CompressionLevel",
	"UseRoaming", "UseBlacklistedKeys", "SmartcardDevice",
	"DSAAuthentication",
};

static struct cfg_raw *cfg_raw_at(struct cfg_parse *, size_t);
static struct cfg_list *cfg_list_at(struct cfg_parse *, size_t);
static int cfg_fail(struct cfg_parse *, const struct cfg_file *,
    const char *, ...) __attribute__((format(printf, 3, 4)));
static void cfg_warn(struct cfg_parse *, const struct cfg_file *,
    const char *, ...) __attribute__((format(printf, 3, 4)));
static char *cfg_where(const struct cfg_file *);
static int cfg_split(const char *, char ***, size_t *);
static void cfg_free_argv(char **, size_t);
static int cfg_read_file(struct cfg_parse *, const char *, int, int *);
static int cfg_slurp(struct cfg_parse *, const struct cfg_file *, char **,
    size_t *);
static int cfg_read_text(struct cfg_parse *, struct cfg_file *, const char *,
    size_t);
static int cfg_line(struct cfg_parse *, struct cfg_file *, char *);
static int cfg_keyword(struct cfg_parse *, struct cfg_file *, const char *,
    char **, size_t);
static int cfg_host(struct cfg_parse *, struct cfg_file *, char **, size_t);
static int cfg_match(struct cfg_parse *, struct cfg_file *, char **, size_t);
static int cfg_match_one(struct cfg_parse *, struct cfg_file *,
    const char *, const char *);
static int cfg_include(struct cfg_parse *, struct cfg_file *, char **,
    size_t);
static int cfg_include_loop(struct cfg_parse *, const struct cfg_file *);
static int cfg_unknown(struct cfg_parse *, struct cfg_file *, const char *,
    const char *);
static int cfg_pattern(const char *, const char *);
static int cfg_pattern_list(const char *, const char *, int);
static char *cfg_current_host(struct cfg_parse *);
static const char *cfg_current_user(struct cfg_parse *);
static int cfg_expand(struct cfg_parse *, const struct cfg_raw *,
    const char *, const char *, int, char **);
static int cfg_expand_token(struct cfg_parse *, char, const char *,
    struct cfg_raw const *, char **);
static int cfg_expand_path(struct cfg_parse *, const struct cfg_raw *,
    const char *, char **);
static int cfg_tilde(struct cfg_parse *, const struct cfg_raw *,
    const char *, char **);
static int cfg_raw_fail(struct cfg_parse *, const struct cfg_raw *,
    const char *, ...) __attribute__((format(printf, 3, 4)));
static int cfg_finish_paths(struct cfg_parse *);
static int cfg_finish_agent(struct cfg_parse *);
static int cfg_finish_jump(struct cfg_parse *);
static int cfg_parse_time(const char *, int *);
static int cfg_parse_port(const char *);
static void cfg_parse_free(struct cfg_parse *);
static void cfg_push(char ***, size_t *, const char *);
static int cfg_hops(const struct ssh_conf *, struct ssh_conf ***, size_t *,
    char ***, size_t *, char **);

static const char *cfg_check(size_t, const char *);
static int cfg_parse_flag(const char *);
static enum ssh_conf_hostkey cfg_parse_host_key(const char *);
static int cfg_parse_jumps(const char *, struct ssh_jump **, size_t *);
static int cfg_finish_scalars(struct cfg_parse *);
static int cfg_identity(struct cfg_parse *);
static int cfg_read_top(struct cfg_parse *);
static void cfg_raw_free(struct cfg_raw *);
static void cfg_list_free(struct cfg_list *);
static struct ssh_conf *cfg_resolve_hop(const struct ssh_conf *,
    const struct ssh_jump *, char **);
static int cfg_expand_env(struct cfg_parse *, const struct cfg_raw *,
    const char **, struct buf *);
static void cfg_store(struct cfg_parse *, const struct cfg_file *,
    const struct cfg_keyword *, char **, size_t);
static int cfg_host_port(const char *, const char *, struct ssh_jump *);
static int cfg_include_glob(struct cfg_parse *, struct cfg_file *,
    const char *);
static int cfg_jump_loop(char **, size_t, const char *, char **);
static void cfg_clear_jumps(struct ssh_conf *);

static struct cfg_raw *
cfg_raw_at(struct cfg_parse *p, size_t off)
{
	return (struct cfg_raw *)((char *)p + off);
}

static struct cfg_list *
cfg_list_at(struct cfg_parse *p, size_t off)
{
	return (struct cfg_list *)((char *)p + off);
}

/* "FILE:LINE" of the line being read. */
static char *
cfg_where(const struct cfg_file *f)
{
	return xprintf("%s:%d", f->path, f->line);
}

/* Record the first error, "FILE:LINE: message". Returns -1. */
static int
cfg_fail(struct cfg_parse *p, const struct cfg_file *f, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	if (p->err != NULL)
		return -1;
	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	if (f != NULL && f->line > 0)
		p->err = xprintf("%s:%d: %s", f->path, f->line, msg);
	else if (f != NULL)
		p->err = xprintf("%s: %s", f->path, msg);
	else
		p->err = xstrdup(msg);
	free(msg);
	return -1;
}

/* The same for a value read earlier. */
static int
cfg_raw_fail(struct cfg_parse *p, const struct cfg_raw *r, const char *fmt,
    ...)
{
	va_list ap;
	char *msg;

	if (p->err != NULL)
		return -1;
	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	p->err = xprintf("%s: %s", r->where, msg);
	free(msg);
	return -1;
}

/* Add a warning "FILE:LINE: message", once per message (in any case). */
static void
cfg_warn(struct cfg_parse *p, const struct cfg_file *f, const char *fmt, ...)
{
	va_list ap;
	char *msg;
	size_t i;

	if (p->conf->n_warnings >= CFG_MAX_WARNINGS)
		return;
	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	for (i = 0; i < p->n_warned; i++) {
		if (strcasecmp(p->warned[i], msg) == 0) {
			free(msg);
			return;
		}
	}
	cfg_push(&p->warned, &p->n_warned, msg);
	p->conf->warnings = xreallocarray(p->conf->warnings,
	    p->conf->n_warnings + 1, sizeof *p->conf->warnings);
	p->conf->warnings[p->conf->n_warnings++] =
	    xprintf("%s:%d: %s", f->path, f->line, msg);
	free(msg);
}

static void
cfg_push(char ***v, size_t *n, const char *s)
{
	*v = xreallocarray(*v, *n + 1, sizeof **v);
	(*v)[(*n)++] = xstrdup(s);
}

static void
cfg_free_argv(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/*
 * Split arguments as OpenSSH's argv_split() does: words separated by blanks,
 * " and ' quote (also mid-word), \" \' \\ and "\ " escape, a word starting
 * with # ends the line. Returns -1 on an unterminated quote.
 */
static int
cfg_split(const char *s, char ***argv, size_t *argc)
{
	char *arg, quote;
	size_t i, j;

	*argv = NULL;
	*argc = 0;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] == ' ' || s[i] == '\t')
			continue;
		if (s[i] == '#')
			break;
		arg = xcalloc(1, strlen(s + i) + 1);
		*argv = xreallocarray(*argv, *argc + 1, sizeof **argv);
		(*argv)[(*argc)++] = arg;
		quote = 0;
		for (j = 0; s[i] != '\0'; i++) {
			if (s[i] == '\\' && (s[i + 1] == '\'' ||
			    s[i + 1] == '"' || s[i + 1] == '\\' ||
			    (quote == 0 && s[i + 1] == ' ')))
				arg[j++] = s[++i];
			else if (quote == 0 && (s[i] == ' ' || s[i] == '\t'))
				break;
			else if (quote == 0 && (s[i] == '"' || s[i] == '\''))
				quote = s[i];
			else if (quote != 0 && s[i] == quote)
				quote = 0;
			else
				arg[j++] = s[i];
		}
		if (quote != 0)
			return -1;
		if (s[i] == '\0')
			break;
	}
	return 0;
}

/* Read one file at path (the query's text for the top one), with Host and
 * Match state *active. Returns 0, -1 on error, -2 when path is already
 * open (an Include loop; p->loop_at is its depth). */
static int
cfg_read_file(struct cfg_parse *p, const char *path, int nevermatch,
    int *active)
{
	struct cfg_file f = { path, 0, *active, nevermatch };
	char *text = NULL, *real = realpath(path, NULL);
	size_t len = 0;
	int i, r;

	for (i = 0; real != NULL && i < p->depth; i++) {
		if (p->stack[i] != NULL && strcmp(p->stack[i], real) == 0) {
			free(real);
			p->loop_at = i;
			return -2;
		}
	}
	if (p->depth > 0 || p->q->text == NULL) {
		if (cfg_slurp(p, &f, &text, &len) == -1) {
			free(real);
			return -1;
		}
	}
	p->stack[p->depth++] = real;
	if (text == NULL)
		r = cfg_read_text(p, &f, p->q->text, p->q->len);
	else
		r = cfg_read_text(p, &f, text, len);
	p->depth--;
	free(p->stack[p->depth]);
	p->stack[p->depth] = NULL;
	free(text);
	*active = f.active;
	return r;
}

/* The content of a regular file. */
static int
cfg_slurp(struct cfg_parse *p, const struct cfg_file *f, char **text,
    size_t *len)
{
	struct stat st;
	FILE *fp;

	if ((fp = fopen(f->path, "r")) == NULL)
		return cfg_fail(p, f, "%s", strerror(errno));
	if (fstat(fileno(fp), &st) == -1 || !S_ISREG(st.st_mode)) {
		fclose(fp);
		return cfg_fail(p, f, "not a regular file");
	}
	if (st.st_size > CFG_MAX_FILE) {
		fclose(fp);
		return cfg_fail(p, f, "larger than %d bytes", CFG_MAX_FILE);
	}
	*text = xmalloc((size_t)st.st_size + 1);
	*len = fread(*text, 1, (size_t)st.st_size, fp);
	fclose(fp);
	return 0;
}

/* Read the lines of text, as file f. */
static int
cfg_read_text(struct cfg_parse *p, struct cfg_file *f, const char *text,
    size_t len)
{
	const char *s = text, *end = text + len, *nl;
	char *line;
	int r = 0;

	while (r == 0 && s < end) {
		nl = memchr(s, '\n', (size_t)(end - s));
		if (nl == NULL)
			nl = end;
		line = xstrndup(s, (size_t)(nl - s));
		f->line++;
		if (strlen(line) != (size_t)(nl - s))
			r = cfg_fail(p, f, "NUL byte in line");
		else
			r = cfg_line(p, f, line);
		free(line);
		s = nl + 1;
	}
	return r;
}

/* One line: "Keyword args", "Keyword=args", blank or comment. */
static int
cfg_line(struct cfg_parse *p, struct cfg_file *f, char *line)
{
	char *kw, *s, **argv;
	size_t n, argc;
	int r;

	n = strlen(line);
	while (n > 0 && strchr(" \t\r\n\f", line[n - 1]) != NULL)
		line[--n] = '\0';
	kw = line + strspn(line, " \t\r");
	if (*kw == '\0' || *kw == '#')
		return 0;
	s = kw + strcspn(kw, " \t\r=\"");
	if (*s == '"')
		return cfg_fail(p, f, "quote in keyword");
	if (*s != '\0') {
		int eq = *s == '=';

		*s++ = '\0';
		s += strspn(s, " \t\r");
		if (!eq && *s == '=')
			s += 1 + strspn(s + 1, " \t\r");
	}
	if (*kw == '\0')
		return cfg_fail(p, f, "missing keyword");
	if (*s == '\0')
		return cfg_fail(p, f, "no argument after keyword \"%s\"", kw);
	if (cfg_split(s, &argv, &argc) == -1)
		r = cfg_fail(p, f, "invalid quotes");
	else
		r = cfg_keyword(p, f, kw, argv, argc);
	cfg_free_argv(argv, argc);
	return r;
}

/* Apply one keyword line. */
static int
cfg_keyword(struct cfg_parse *p, struct cfg_file *f, const char *kw,
    char **argv, size_t argc)
{
	const struct cfg_keyword *k = NULL;
	const char *why;
	size_t i;

	for (i = 0; i < sizeof cfg_keywords / sizeof *cfg_keywords; i++)
		if (strcasecmp(cfg_keywords[i].name, kw) == 0)
			k = &cfg_keywords[i];
	if (k == NULL)
		return cfg_unknown(p, f, kw, argc > 0 ? argv[0] : "");
	if (k->kind == CFG_HOST)
		return cfg_host(p, f, argv, argc);
	if (k->kind == CFG_MATCH)
		return cfg_match(p, f, argv, argc);
	if (argc == 0 || *argv[0] == '\0')
		return cfg_fail(p, f, "missing argument");
	if (k->kind == CFG_INCLUDE)
		return cfg_include(p, f, argv, argc);
	if (k->kind != CFG_MULTI && argc > 1)
		return cfg_fail(p, f, "keyword %s extra arguments at end of "
		    "line", kw);
	if (k->kind == CFG_ONE && (why = cfg_check(k->offset, argv[0])))
		return cfg_fail(p, f, "%s \"%s\"", why, argv[0]);
	if (!f->active)
		return 0;
	cfg_store(p, f, k, argv, argc);
	return 0;
}

/* Keep a value where the first one obtained wins (or every one adds). */
static void
cfg_store(struct cfg_parse *p, const struct cfg_file *f,
    const struct cfg_keyword *k, char **argv, size_t argc)
{
	struct cfg_raw *raw;
	struct cfg_list *l;
	size_t i;

	if (k->kind == CFG_ONE) {
		raw = cfg_raw_at(p, k->offset);
		if (raw->value != NULL)
			return;
		if (k->offset == RAW(jump) && p->proxy_command.value != NULL)
			return; /* whichever comes first wins */
		raw->value = xstrdup(argv[0]);
		raw->where = cfg_where(f);
		return;
	}
	l = cfg_list_at(p, k->offset);
	if (k->kind == CFG_MULTI && l->n > 0)
		return;
	for (i = 0; i < argc; i++) {
		l->v = xreallocarray(l->v, l->n + 1, sizeof *l->v);
		l->v[l->n].value = xstrdup(argv[i]);
		l->v[l->n++].where = cfg_where(f);
	}
}

/* A keyword not in the table: unsupported, ignored, or unknown. */
static int
cfg_unknown(struct cfg_parse *p, struct cfg_file *f, const char *kw,
    const char *arg)
{
	char *lower, *s;
	size_t i;

	for (i = 0; i < sizeof cfg_unsupported / sizeof *cfg_unsupported; i++) {
		if (strcasecmp(cfg_unsupported[i], kw) != 0)
			continue;
		if (!f->active)
			return 0;
		if (i == 0 && (p->proxy_command.value != NULL ||
		    p->jump.value != NULL))
			return 0; /* the first of ProxyCommand, ProxyJump wins */
		if (i == 0) {
			p->proxy_command.value = xstrdup(arg);
			p->proxy_command.where = cfg_where(f);
			if (strcmp(arg, "none") == 0)
				return 0;
		}
		cfg_warn(p, f, "%s is not supported; "
		    "ignored", cfg_unsupported[i]);
		return 0;
	}
	for (i = 0; i < sizeof cfg_ignored / sizeof *cfg_ignored; i++)
		if (strcasecmp(cfg_ignored[i], kw) == 0)
			return 0;
	lower = xstrdup(kw);
	for (s = lower; *s != '\0'; s++)
		*s = (char)tolower((unsigned char)*s);
	if (p->ignore_unknown.value == NULL ||
	    cfg_pattern_list(lower, p->ignore_unknown.value, 1) != 1)
		cfg_warn(p, f, "unknown keyword %s; ignored", kw);
	free(lower);
	return 0;
}

/* Host pattern...: applies when the alias matches one and no !negated. */
static int
cfg_host(struct cfg_parse *p, struct cfg_file *f, char **argv, size_t argc)
{
	const char *pat;
	size_t i;

	f->active = 0;
	for (i = 0; i < argc; i++) {
		if (*argv[i] == '\0')
			return cfg_fail(p, f, "keyword Host empty argument");
		if (f->nevermatch)
			break;
		pat = argv[i] + (*argv[i] == '!');
		if (!cfg_pattern(p->q->alias, pat))
			continue;
		if (*argv[i] == '!') {
			f->active = 0;
			break;
		}
		f->active = 1;
	}
	if (argc == 0)
		return cfg_fail(p, f, "missing argument");
	return 0;
}

/* Match criteria...: applies when all criteria hold. */
static int
cfg_match(struct cfg_parse *p, struct cfg_file *f, char **argv, size_t argc)
{
	const char *attr;
	size_t i;
	int all = 0, ok = 1, r, neg, pre = 0; /* pre: leading canonical/final */

	if (argc == 0)
		return cfg_fail(p, f, "missing argument");
	for (i = 0; i < argc; i++) {
		attr = argv[i];
		neg = *attr == '!';
		attr += neg;
		if (strcasecmp(attr, "all") == 0) {
			if (all || neg || i + 1 != argc || i != (size_t)pre)
				return cfg_fail(p, f, "'all' cannot be "
				    "combined with other Match attributes");
			all = 1;
			continue;
		}
		if (strcasecmp(attr, "canonical") == 0 ||
		    strcasecmp(attr, "final") == 0) {
			cfg_warn(p, f, "Match %s is not supported; the "
			    "block is not applied", attr);
			ok = 0;
			pre += i == (size_t)pre;
			continue;
		}
		if (i + 1 >= argc || *argv[i + 1] == '\0')
			return cfg_fail(p, f, "missing Match criteria for %s",
			    attr);
		r = cfg_match_one(p, f, attr, argv[++i]);
		if (r == -1)
			return -1;
		if (r == 2 || r == neg)
			ok = 0;
	}
	f->active = ok && !f->nevermatch;
	return 0;
}

/* One criterion: 1 holds, 0 not, 2 not supported, -1 error. */
static int
cfg_match_one(struct cfg_parse *p, struct cfg_file *f, const char *attr,
    const char *arg)
{
	char *host;
	int r;

	if (strcasecmp(attr, "host") == 0) {
		host = cfg_current_host(p);
		r = cfg_pattern_list(host, arg, 1) == 1;
		free(host);
		return r;
	}
	if (strcasecmp(attr, "originalhost") == 0)
		return cfg_pattern_list(p->q->alias, arg, 1) == 1;
	if (strcasecmp(attr, "user") == 0)
		return cfg_pattern_list(cfg_current_user(p), arg, 0) == 1;
	if (strcasecmp(attr, "localuser") == 0)
		return cfg_pattern_list(p->local_user, arg, 0) == 1;
	if (strcasecmp(attr, "exec") == 0 ||
	    strcasecmp(attr, "localnetwork") == 0 ||
	    strcasecmp(attr, "tagged") == 0) {
		cfg_warn(p, f, "Match %s is not supported; the block "
		    "is not applied", attr);
		return 2;
	}
	return cfg_fail(p, f, "unsupported Match attribute %s", attr);
}

/* The host Match host sees: HostName so far (%h expanded), else alias. */
static char *
cfg_current_host(struct cfg_parse *p)
{
	const char *s = p->hostname.value;
	char *out;
	size_t i, n = 0;

	if (s == NULL)
		return xstrdup(p->q->alias);
	out = xcalloc(1, strlen(s) * (strlen(p->q->alias) + 1) + 1);
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] == '%' && s[i + 1] == 'h') {
			strcpy(out + n, p->q->alias);
			n += strlen(p->q->alias);
			i++;
		} else if (s[i] == '%' && s[i + 1] == '%')
			out[n++] = s[i++];
		else
			out[n++] = s[i];
	}
	return out;
}

/* The remote user Match user sees. */
static const char *
cfg_current_user(struct cfg_parse *p)
{
	if (p->q->user != NULL)
		return p->q->user;
	if (p->user.value != NULL)
		return p->user.value;
	return p->local_user;
}

/* Include path...: read each file (globs in lexical order) in place. */
static int
cfg_include(struct cfg_parse *p, struct cfg_file *f, char **argv, size_t argc)
{
	struct cfg_raw raw;
	char *path;
	size_t i;
	int r = 0;

	raw.where = cfg_where(f);
	for (i = 0; r == 0 && i < argc; i++) {
		raw.value = argv[i];
		if (argv[i][0] == '~')
			r = cfg_tilde(p, &raw, argv[i], &path);
		else if (argv[i][0] != '/')
			path = xprintf("%s/.ssh/%s", p->home, argv[i]);
		else
			path = xstrdup(argv[i]);
		if (r == 0) {
			r = cfg_include_glob(p, f, path);
			free(path);
		}
	}
	free(raw.where);
	return r;
}

/* Read the files matching pattern; none is not an error. The Host/Match
 * state of f is not changed by what they contain. */
static int
cfg_include_glob(struct cfg_parse *p, struct cfg_file *f, const char *pattern)
{
	glob_t g;
	size_t j;
	int r = 0, active, gr;

	gr = glob(pattern, 0, NULL, &g);
	if (gr == GLOB_NOMATCH)
		return 0;
	if (gr != 0)
		return cfg_fail(p, f, "Include %s: glob failed", pattern);
	for (j = 0; r == 0 && j < g.gl_pathc; j++) {
		if (p->depth > CFG_MAX_DEPTH) {
			r = cfg_fail(p, f, "too many recursive configuration "
			    "includes");
			break;
		}
		active = f->active;
		r = cfg_read_file(p, g.gl_pathv[j], f->nevermatch || !f->active,
		    &active);
		if (r == -2)
			r = cfg_include_loop(p, f);
	}
	globfree(&g);
	return r;
}

/* An Include loop: "Include loop: a -> b -> a". */
static int
cfg_include_loop(struct cfg_parse *p, const struct cfg_file *f)
{
	char *chain = xstrdup("Include loop:"), *t;
	int i;

	for (i = p->loop_at; i < p->depth; i++) {
		t = xprintf("%s %s ->", chain, p->stack[i]);
		free(chain);
		chain = t;
	}
	cfg_fail(p, f, "%s %s", chain, p->stack[p->loop_at]);
	free(chain);
	return -1;
}

/* Does s match pattern (* and ?)? Linear: a later * only ever needs the
 * last one retried. */
static int
cfg_pattern(const char *s, const char *pat)
{
	const char *star = NULL, *retry = NULL;

	while (*s != '\0') {
		if (*pat == '*') {
			star = ++pat;
			retry = s;
		} else if (*pat != '\0' && (*pat == '?' || *pat == *s)) {
			pat++;
			s++;
		} else if (star != NULL) {
			pat = star;
			s = ++retry;
		} else
			return 0;
	}
	while (*pat == '*')
		pat++;
	return *pat == '\0';
}

/* A comma-separated pattern list: 1 matches, 0 not, -1 a !pattern matched.
 * Patterns are lowercased when lower is set. */
static int
cfg_pattern_list(const char *s, const char *list, int lower)
{
	char *copy, *pat, *save = NULL;
	int got = 0, neg;

	copy = xstrdup(list);
	for (pat = strtok_r(copy, ",", &save); pat != NULL;
	    pat = strtok_r(NULL, ",", &save)) {
		neg = *pat == '!';
		pat += neg;
		for (char *c = pat; lower && *c != '\0'; c++)
			*c = (char)tolower((unsigned char)*c);
		if (!cfg_pattern(s, pat))
			continue;
		if (neg) {
			got = -1;
			break;
		}
		got = 1;
	}
	free(copy);
	return got;
}

/* Check a one-value keyword's argument as ssh does, even where the block
 * does not apply. Returns a message, or NULL when it is valid. */
static const char *
cfg_check(size_t off, const char *v)
{
	int n;

	if (off == RAW(port) && cfg_parse_port(v) <= 0)
		return "Badly formatted port number";
	if (off == RAW(identities_only) && cfg_parse_flag(v) == -1)
		return "unsupported option (yes or no)";
	if (off == RAW(host_key) && cfg_parse_host_key(v) == SSH_HOSTKEY_UNSET)
		return "unsupported option (yes, accept-new, no, off or ask)";
	if ((off == RAW(connect_timeout) || off == RAW(alive)) &&
	    cfg_parse_time(v, &n) == -1)
		return "invalid time value";
	if (off == RAW(jump) && strcasecmp(v, "none") != 0 &&
	    cfg_parse_jumps(v, NULL, NULL) == -1)
		return "invalid ProxyJump";
	return NULL;
}

/* A port number 1-65535, else 0. */
static int
cfg_parse_port(const char *s)
{
	char *end;
	long v;

	if (!isdigit((unsigned char)*s))
		return 0;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 1 || v > 65535)
		return 0;
	return (int)v;
}

/* yes/true 1, no/false 0, else -1. */
static int
cfg_parse_flag(const char *s)
{
	if (strcasecmp(s, "yes") == 0 || strcasecmp(s, "true") == 0)
		return 1;
	if (strcasecmp(s, "no") == 0 || strcasecmp(s, "false") == 0)
		return 0;
	return -1;
}

static enum ssh_conf_hostkey
cfg_parse_host_key(const char *s)
{
	if (strcasecmp(s, "yes") == 0 || strcasecmp(s, "true") == 0 ||
	    strcasecmp(s, "ask") == 0)
		return SSH_HOSTKEY_STRICT;
	if (strcasecmp(s, "accept-new") == 0)
		return SSH_HOSTKEY_ACCEPT_NEW;
	if (strcasecmp(s, "no") == 0 || strcasecmp(s, "false") == 0 ||
	    strcasecmp(s, "off") == 0)
		return SSH_HOSTKEY_OFF;
	return SSH_HOSTKEY_UNSET;
}

/* A time as sshd_config(5) TIME FORMATS: "30", "90s", "1m30s", "1h", "2w"
 * (units s m h d w, any case). Returns 0 with seconds in *out, or -1. */
static int
cfg_parse_time(const char *s, int *out)
{
	long long total = 0, v, mult;
	char *end;

	if (*s == '\0')
		return -1;
	while (*s != '\0') {
		if (!isdigit((unsigned char)*s))
			return -1;
		errno = 0;
		v = strtoll(s, &end, 10);
		if (errno != 0 || v > INT_MAX)
			return -1;
		switch (*end) {
		case '\0': mult = 1; break;
		case 's': case 'S': mult = 1; break;
		case 'm': case 'M': mult = 60; break;
		case 'h': case 'H': mult = 3600; break;
		case 'd': case 'D': mult = 86400; break;
		case 'w': case 'W': mult = 604800; break;
		default: return -1;
		}
		total += v * mult;
		if (total > INT_MAX)
			return -1;
		s = *end == '\0' ? end : end + 1;
	}
	*out = (int)total;
	return 0;
}

/* Split a comma-separated ProxyJump list into hops (when v is not NULL).
 * Returns -1 when any hop is not [user@]host[:port] or an ssh URI. */
static int
cfg_parse_jumps(const char *s, struct ssh_jump **v, size_t *n)
{
	char *copy = xstrdup(s), *hop, *save = NULL;
	struct ssh_jump j;
	int r = 0;

	if (*s == ',' || s[strlen(s) - 1] == ',' || strstr(s, ",,") != NULL)
		r = -1;
	for (hop = strtok_r(copy, ",", &save); r == 0 && hop != NULL;
	    hop = strtok_r(NULL, ",", &save)) {
		if (ssh_config_parse_jump(hop, &j) == -1) {
			r = -1;
			break;
		}
		if (v == NULL) {
			free(j.user);
			free(j.host);
			continue;
		}
		*v = xreallocarray(*v, *n + 1, sizeof **v);
		(*v)[(*n)++] = j;
	}
	free(copy);
	return r;
}

int
ssh_config_parse_jump(const char *s, struct ssh_jump *j)
{
	const char *at, *host, *end;
	size_t len;

	memset(j, 0, sizeof *j);
	if (strncmp(s, "ssh://", 6) == 0) {
		s += 6;
		len = strlen(s);
		if (len > 0 && s[len - 1] == '/')
			len--;
	} else
		len = strlen(s);
	at = NULL;
	for (end = s; end < s + len; end++)
		if (*end == '@')
			at = end;
	host = at != NULL ? at + 1 : s;
	if (at == s || cfg_host_port(host, s + len, j) == -1)
		return -1;
	if (at != NULL)
		j->user = xstrndup(s, (size_t)(at - s));
	return 0;
}

/* "host", "host:port", "[v6]" or "[v6]:port" from host to end into j. */
static int
cfg_host_port(const char *host, const char *end, struct ssh_jump *j)
{
	const char *colon;
	char *port;

	if (*host == '[') {
		colon = memchr(host, ']', (size_t)(end - host));
		if (colon == NULL || colon == host + 1)
			return -1;
		j->host = xstrndup(host + 1, (size_t)(colon - host - 1));
		colon++;
		if (colon != end && *colon != ':')
			goto bad;
	} else {
		colon = memchr(host, ':', (size_t)(end - host));
		if (colon == NULL)
			colon = end;
		j->host = xstrndup(host, (size_t)(colon - host));
	}
	if (colon != end) {
		port = xstrndup(colon + 1, (size_t)(end - colon - 1));
		j->port = cfg_parse_port(port);
		free(port);
		if (j->port == 0)
			goto bad;
	}
	if (*j->host != '\0' && strpbrk(j->host, " \t/@,[]") == NULL)
		return 0;
bad:
	free(j->host);
	j->host = NULL;
	return -1;
}

/* Expand ~ or ~user at the start of s. */
static int
cfg_tilde(struct cfg_parse *p, const struct cfg_raw *r, const char *s,
    char **out)
{
	const char *slash = strchr(s, '/');
	struct passwd *pw;
	char *name;

	if (s[0] != '~') {
		*out = xstrdup(s);
		return 0;
	}
	if (slash == NULL)
		slash = s + strlen(s);
	if (slash == s + 1) {
		*out = xprintf("%s%s", p->home, slash);
		return 0;
	}
	name = xstrndup(s + 1, (size_t)(slash - s - 1));
	pw = getpwnam(name);
	if (pw == NULL) {
		cfg_raw_fail(p, r, "no such user for ~%s", name);
		free(name);
		return -1;
	}
	free(name);
	*out = xprintf("%s%s", pw->pw_dir, slash);
	return 0;
}

/* The value of token %c. */
static int
cfg_expand_token(struct cfg_parse *p, char c, const char *allowed,
    const struct cfg_raw *r, char **out)
{
	struct ssh_conf *conf = p->conf;
	char host[256] = "";

	if (c == 'L' || c == 'l') {
		gethostname(host, sizeof host - 1);
		if (c == 'L')
			host[strcspn(host, ".")] = '\0';
	}
	if (strchr(allowed, c) == NULL)
		return cfg_raw_fail(p, r, "unknown or unsupported token %%%c",
		    c);
	switch (c) {
	case 'd': *out = xstrdup(p->home); break;
	case 'h': *out = xstrdup(conf->hostname); break;
	case 'i': *out = xprintf("%u", (unsigned)p->uid); break;
	case 'k': case 'n': *out = xstrdup(conf->alias); break;
	case 'L': case 'l': *out = xstrdup(host); break;
	case 'p': *out = xprintf("%d", conf->port); break;
	case 'r': *out = xstrdup(conf->user); break;
	case 'u': *out = xstrdup(p->local_user); break;
	default:
		return cfg_raw_fail(p, r, "unknown or unsupported token %%%c",
		    c);
	}
	return 0;
}

/* Expand %tokens (those in allowed, and %%) and, with dollar, ${ENV}. */
static int
cfg_expand(struct cfg_parse *p, const struct cfg_raw *r, const char *s,
    const char *allowed, int dollar, char **out)
{
	struct buf b = { 0 };
	char *v = NULL;
	int rc = 0;

	for (; rc == 0 && *s != '\0'; s++) {
		if (*s == '%' && s[1] == '%')
			buf_addc(&b, *s++);
		else if (*s == '%' && s[1] == '\0')
			rc = cfg_raw_fail(p, r, "%% at end of \"%s\"", r->value);
		else if (*s == '%') {
			rc = cfg_expand_token(p, *++s, allowed, r, &v);
			if (rc == 0)
				buf_adds(&b, v);
			free(v);
			v = NULL;
		} else if (dollar && *s == '$' && s[1] == '{')
			rc = cfg_expand_env(p, r, &s, &b);
		else
			buf_addc(&b, *s);
		if (rc == 0 && b.len > CFG_MAX_EXPANDED)
			rc = cfg_raw_fail(p, r, "\"%s\" expands to more than "
			    "%d bytes", r->value, CFG_MAX_EXPANDED);
	}
	if (rc == -1) {
		buf_free(&b);
		return -1;
	}
	*out = buf_steal(&b);
	return 0;
}

/* ${NAME} at *s: the environment variable, which must be set. */
static int
cfg_expand_env(struct cfg_parse *p, const struct cfg_raw *r, const char **s,
    struct buf *b)
{
	const char *end = strchr(*s, '}'), *v;
	char *name;

	if (end == NULL)
		return cfg_raw_fail(p, r, "unterminated ${ in \"%s\"",
		    r->value);
	name = xstrndup(*s + 2, (size_t)(end - *s - 2));
	if ((v = getenv(name)) == NULL) {
		cfg_raw_fail(p, r, "environment variable %s is not set", name);
		free(name);
		return -1;
	}
	free(name);
	buf_adds(b, v);
	*s = end;
	return 0;
}

/* ~, then the path tokens and ${ENV}. */
static int
cfg_expand_path(struct cfg_parse *p, const struct cfg_raw *r, const char *s,
    char **out)
{
	char *t;
	int rc;

	if (cfg_tilde(p, r, s, &t) == -1)
		return -1;
	rc = cfg_expand(p, r, t, "dhikLlnpru", 1, out);
	free(t);
	return rc;
}

/* HostName, User, Port, flags and times into conf. */
static int
cfg_finish_scalars(struct cfg_parse *p)
{
	struct ssh_conf *c = p->conf;
	char *s;

	c->alias = xstrdup(p->q->alias);
	c->hostname = xstrdup(p->q->alias); /* %h in HostName is the alias */
	if (p->hostname.value != NULL) {
		if (cfg_expand(p, &p->hostname, p->hostname.value, "h", 0,
		    &s) == -1)
			return -1;
		free(c->hostname);
		c->hostname = s;
		c->has |= SSH_CONF_HAS_HOSTNAME;
	}
	for (s = c->hostname; *s != '\0'; s++)
		*s = (char)tolower((unsigned char)*s);
	if (p->user.value != NULL)
		c->has |= SSH_CONF_HAS_USER;
	c->user = xstrdup(p->q->user != NULL ? p->q->user :
	    p->user.value != NULL ? p->user.value : p->local_user);
	if (p->port.value != NULL)
		c->has |= SSH_CONF_HAS_PORT;
	c->port = p->q->port > 0 ? p->q->port :
	    p->port.value != NULL ? cfg_parse_port(p->port.value) : 22;
	if (p->identities_only.value != NULL)
		c->identities_only = cfg_parse_flag(p->identities_only.value);
	if (p->host_key.value != NULL)
		c->host_key = cfg_parse_host_key(p->host_key.value);
	if (p->connect_timeout.value != NULL)
		cfg_parse_time(p->connect_timeout.value, &c->connect_timeout);
	if (p->alive.value != NULL)
		cfg_parse_time(p->alive.value, &c->server_alive_interval);
	return 0;
}

/* IdentityFile and UserKnownHostsFile, expanded. */
static int
cfg_finish_paths(struct cfg_parse *p)
{
	struct ssh_conf *c = p->conf;
	char *s;
	size_t i, k;

	for (i = 0; i < p->identity.n; i++) {
		if (cfg_expand_path(p, &p->identity.v[i],
		    p->identity.v[i].value, &s) == -1)
			return -1;
		for (k = 0; k < c->n_identity_files; k++)
			if (strcmp(c->identity_files[k], s) == 0)
				break;
		if (k < c->n_identity_files) {
			free(s);
			continue;
		}
		if (c->n_identity_files == CFG_MAX_IDENTITIES) {
			free(s);
			return cfg_raw_fail(p, &p->identity.v[i], "too many "
			    "identity files (at most %d)", CFG_MAX_IDENTITIES);
		}
		cfg_push(&c->identity_files, &c->n_identity_files, s);
		free(s);
	}
	if (p->known_hosts.n == 1 &&
	    strcmp(p->known_hosts.v[0].value, "none") == 0) {
		c->known_hosts_none = 1;
		return 0;
	}
	if (p->known_hosts.n > CFG_MAX_KNOWN_HOSTS)
		return cfg_raw_fail(p, &p->known_hosts.v[0], "too many known "
		    "hosts files (at most %d)", CFG_MAX_KNOWN_HOSTS);
	for (i = 0; i < p->known_hosts.n; i++) {
		if (cfg_expand_path(p, &p->known_hosts.v[i],
		    p->known_hosts.v[i].value, &s) == -1)
			return -1;
		cfg_push(&c->known_hosts_files, &c->n_known_hosts_files, s);
		free(s);
	}
	return 0;
}

/* IdentityAgent: none, SSH_AUTH_SOCK, $NAME or a path. */
static int
cfg_finish_agent(struct cfg_parse *p)
{
	const char *v = p->agent.value, *env;
	struct ssh_conf *c = p->conf;

	if (v == NULL || strcmp(v, "SSH_AUTH_SOCK") == 0)
		return 0;
	if (strcmp(v, "none") == 0) {
		c->agent = SSH_AGENT_NONE;
		return 0;
	}
	if (v[0] == '$' && v[1] != '{') {
		if (v[1] == '\0' || strspn(v + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(v + 1))
			return cfg_raw_fail(p, &p->agent, "invalid IdentityAgent "
			    "environment variable name %s", v);
		env = getenv(v + 1);
		c->agent = env != NULL ? SSH_AGENT_PATH : SSH_AGENT_NONE;
		c->agent_path = env != NULL ? xstrdup(env) : NULL;
		return 0;
	}
	c->agent = SSH_AGENT_PATH;
	return cfg_expand_path(p, &p->agent, v, &c->agent_path);
}

/* ProxyJump, its tokens expanded, into hops. */
static int
cfg_finish_jump(struct cfg_parse *p)
{
	struct ssh_conf *c = p->conf;
	char *s;
	int r = 0;

	if (p->jump.value == NULL || strcasecmp(p->jump.value, "none") == 0)
		return 0;
	if (cfg_expand(p, &p->jump, p->jump.value, "hnpr", 0, &s) == -1)
		return -1;
	if (cfg_parse_jumps(s, &c->jumps, &c->n_jumps) == -1)
		r = cfg_raw_fail(p, &p->jump, "invalid ProxyJump \"%s\"", s);
	free(s);
	return r;
}

/* Who runs this and where their home is. */
static int
cfg_identity(struct cfg_parse *p)
{
	const struct ssh_conf_query *q = p->q;
	struct passwd *pw;

	pw = q->local_user != NULL ? getpwnam(q->local_user) :
	    getpwuid(getuid());
	p->uid = pw != NULL ? pw->pw_uid : getuid();
	p->local_user = q->local_user;
	if (p->local_user == NULL && pw != NULL)
		p->local_user = p->own_user = xstrdup(pw->pw_name);
	if (p->local_user == NULL)
		p->local_user = getenv("USER");
	p->home = q->home;
	if (p->home == NULL && pw != NULL)
		p->home = p->own_home = xstrdup(pw->pw_dir);
	if (p->home == NULL)
		p->home = getenv("HOME");
	if (p->local_user == NULL || p->home == NULL)
		return cfg_fail(p, NULL, "cannot tell the local user and home "
		    "directory");
	return 0;
}

/* Read the configuration the query names. */
static int
cfg_read_top(struct cfg_parse *p)
{
	const struct ssh_conf_query *q = p->q;
	char *path;
	int active = 1, r;

	if (q->path != NULL && strcmp(q->path, "none") == 0)
		return 0;
	path = q->path != NULL ? xstrdup(q->path) :
	    xprintf("%s/.ssh/config", p->home);
	if (q->path == NULL && q->text == NULL && access(path, F_OK) == -1 &&
	    errno == ENOENT) {
		free(path);
		return 0;
	}
	r = cfg_read_file(p, path, 0, &active);
	free(path);
	return r;
}

struct ssh_conf *
ssh_config_resolve_query(const struct ssh_conf_query *q, char **err)
{
	struct cfg_parse p;
	struct ssh_conf *c;
	int r;

	memset(&p, 0, sizeof p);
	p.q = q;
	p.conf = c = xcalloc(1, sizeof *c);
	c->identities_only = c->connect_timeout = -1;
	c->server_alive_interval = -1;
	if (q->alias == NULL || *q->alias == '\0')
		r = cfg_fail(&p, NULL, "no host name");
	else
		r = cfg_identity(&p);
	if (r == 0)
		r = cfg_read_top(&p);
	if (r == 0)
		r = cfg_finish_scalars(&p);
	if (r == 0)
		r = cfg_finish_paths(&p);
	if (r == 0)
		r = cfg_finish_agent(&p);
	if (r == 0)
		r = cfg_finish_jump(&p);
	c->path = q->path != NULL ? xstrdup(q->path) : NULL;
	c->home = xstrdup(p.home != NULL ? p.home : "");
	c->local_user = xstrdup(p.local_user != NULL ? p.local_user : "");
	if (r != 0) {
		*err = p.err != NULL ? p.err : xstrdup("configuration error");
		p.err = NULL;
		ssh_config_free(c);
		c = NULL;
	}
	cfg_parse_free(&p);
	return c;
}

struct ssh_conf *
ssh_config_resolve(const char *path, const char *alias,
    const char *local_user, char **err)
{
	struct ssh_conf_query q = { 0 };

	q.path = path;
	q.alias = alias;
	q.local_user = local_user;
	return ssh_config_resolve_query(&q, err);
}

static void
cfg_raw_free(struct cfg_raw *r)
{
	free(r->value);
	free(r->where);
}

static void
cfg_list_free(struct cfg_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		cfg_raw_free(&l->v[i]);
	free(l->v);
}

static void
cfg_parse_free(struct cfg_parse *p)
{
	struct cfg_raw *raws[] = { &p->hostname, &p->user, &p->port,
		&p->identities_only, &p->agent, &p->host_key,
		&p->connect_timeout, &p->alive, &p->jump, &p->proxy_command,
		&p->ignore_unknown };
	size_t i;

	for (i = 0; i < sizeof raws / sizeof *raws; i++)
		cfg_raw_free(raws[i]);
	cfg_list_free(&p->identity);
	cfg_list_free(&p->known_hosts);
	cfg_free_argv(p->warned, p->n_warned);
	free(p->own_user);
	free(p->own_home);
	free(p->err);
}

void
ssh_config_free(struct ssh_conf *c)
{
	size_t i;

	if (c == NULL)
		return;
	free(c->alias);
	free(c->hostname);
	free(c->user);
	cfg_free_argv(c->identity_files, c->n_identity_files);
	free(c->agent_path);
	cfg_free_argv(c->known_hosts_files, c->n_known_hosts_files);
	for (i = 0; i < c->n_jumps; i++) {
		free(c->jumps[i].user);
		free(c->jumps[i].host);
	}
	free(c->jumps);
	cfg_free_argv(c->warnings, c->n_warnings);
	free(c->path);
	free(c->home);
	free(c->local_user);
	free(c);
}

/* Resolve hop j as reached from conf (its user and port win). */
static struct ssh_conf *
cfg_resolve_hop(const struct ssh_conf *conf, const struct ssh_jump *j,
    char **err)
{
	struct ssh_conf_query q = { 0 };
	struct ssh_conf *h;
	char *e = NULL;

	q.path = conf->path;
	q.home = conf->home;
	q.local_user = conf->local_user;
	q.alias = j->host;
	q.user = j->user;
	q.port = j->port;
	if ((h = ssh_config_resolve_query(&q, &e)) == NULL) {
		*err = xprintf("ProxyJump host %s: %s", j->host, e);
		free(e);
	}
	return h;
}

/* The hops before conf, appended to *hops; path holds the aliases whose
 * own ProxyJump led here, to name a loop. */
static int
cfg_hops(const struct ssh_conf *conf, struct ssh_conf ***hops, size_t *n,
    char ***path, size_t *np, char **err)
{
	struct ssh_conf *h;
	size_t i, k;
	int r;

	for (i = 0; i < conf->n_jumps; i++) {
		if (i == 0) {
			for (k = 0; k < *np; k++)
				if (strcmp((*path)[k], conf->jumps[0].host) == 0)
					return cfg_jump_loop(*path, *np,
					    conf->jumps[0].host, err);
		}
		/* hops listed, hops pending below us, and this one */
		if (*n + *np > CFG_MAX_HOPS) {
			*err = xprintf("ProxyJump: more than %d hops to %s",
			    CFG_MAX_HOPS, (*path)[0]);
			return -1;
		}
		if ((h = cfg_resolve_hop(conf, &conf->jumps[i], err)) == NULL)
			return -1;
		if (i == 0) {
			cfg_push(path, np, h->alias);
			r = cfg_hops(h, hops, n, path, np, err);
			free((*path)[--*np]);
			if (r == -1) {
				ssh_config_free(h);
				return -1;
			}
		}
		cfg_clear_jumps(h);
		*hops = xreallocarray(*hops, *n + 1, sizeof **hops);
		(*hops)[(*n)++] = h;
	}
	return 0;
}

/* "ProxyJump loop: a -> b -> a". */
static int
cfg_jump_loop(char **path, size_t np, const char *again, char **err)
{
	struct buf b = { 0 };
	size_t i;

	buf_adds(&b, "ProxyJump loop: ");
	for (i = 0; i < np; i++)
		buf_printf(&b, "%s -> ", path[i]);
	buf_adds(&b, again);
	*err = buf_steal(&b);
	return -1;
}

/* A hop's own ProxyJump is either followed already or does not apply. */
static void
cfg_clear_jumps(struct ssh_conf *h)
{
	size_t i;

	for (i = 0; i < h->n_jumps; i++) {
		free(h->jumps[i].user);
		free(h->jumps[i].host);
	}
	free(h->jumps);
	h->jumps = NULL;
	h->n_jumps = 0;
}

int
ssh_config_resolve_jumps(const struct ssh_conf *target,
    struct ssh_conf ***hops, size_t *n, char **err)
{
	char **path = NULL;
	size_t np = 0;
	int r;

	*hops = NULL;
	*n = 0;
	cfg_push(&path, &np, target->alias);
	r = cfg_hops(target, hops, n, &path, &np, err);
	cfg_free_argv(path, np);
	if (r == -1) {
		ssh_config_free_hops(*hops, *n);
		*hops = NULL;
		*n = 0;
	}
	return r;
}

void
ssh_config_free_hops(struct ssh_conf **hops, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		ssh_config_free(hops[i]);
	free(hops);
}
