/*
 * test-ssh-config.c - the OpenSSH client configuration resolver: the
 * patterns and examples of ssh_config(5), first-obtained-wins, Match,
 * Include, tokens, ProxyJump chains, warnings and errors, and a comparison
 * with what `ssh -G` itself resolves from the same files.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "ssh-config.h"
#include "xmalloc.h"

static char home[64];

static void write_file(const char *, const char *);
static struct ssh_conf *resolve(const char *, const char *);
static struct ssh_conf *resolve_file(const char *, const char *);
static char *resolve_err(const char *, const char *);
static const char *rel(const char *);
static char *with_home(const char *);
static void oracle_format(const struct ssh_conf *, const char *, char *,
    size_t);
static int setup(void **);
static int teardown(void **);

/* Write text to HOME/name, creating HOME/.ssh and HOME/.ssh/conf.d. */
static void
write_file(const char *name, const char *text)
{
	char *path = xprintf("%s/%s", home, name);
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	free(path);
}

/* Resolve alias from text read as HOME/.ssh/config, local user "alice". */
static struct ssh_conf *
resolve(const char *text, const char *alias)
{
	write_file(".ssh/config", text);
	return resolve_file(NULL, alias);
}

static struct ssh_conf *
resolve_file(const char *path, const char *alias)
{
	struct ssh_conf_query q = { 0 };
	struct ssh_conf *c;
	char *err = NULL;

	q.path = path;
	q.alias = alias;
	q.local_user = "alice";
	q.home = home;
	c = ssh_config_resolve_query(&q, &err);
	if (c == NULL)
		fail_msg("unexpected error: %s", err);
	assert_null(err);
	return c;
}

/* The error resolving alias from text (a static copy). */
static char *
resolve_err(const char *text, const char *alias)
{
	static char msg[512];
	struct ssh_conf_query q = { 0 };
	struct ssh_conf *c;
	char *err = NULL;

	write_file(".ssh/config", text);
	q.alias = alias;
	q.local_user = "alice";
	q.home = home;
	c = ssh_config_resolve_query(&q, &err);
	if (c != NULL)
		fail_msg("no error for %s", text);
	assert_non_null(err);
	snprintf(msg, sizeof msg, "%s", err);
	free(err);
	return msg;
}

/* Strip HOME from the front of s. */
static const char *
rel(const char *s)
{
	size_t n = strlen(home);

	return strncmp(s, home, n) == 0 ? s + n : s;
}

static int
setup(void **state)
{
	char *d;

	snprintf(home, sizeof home, "/tmp/test-ssh-config.XXXXXX");
	assert_non_null(mkdtemp(home));
	d = xprintf("%s/.ssh", home);
	assert_int_equal(mkdir(d, 0700), 0);
	free(d);
	d = xprintf("%s/.ssh/conf.d", home);
	assert_int_equal(mkdir(d, 0700), 0);
	free(d);
	return 0;
}

static int
teardown(void **state)
{
	char *cmd = xprintf("rm -rf '%s'", home);

	assert_int_equal(system(cmd), 0);
	free(cmd);
	return 0;
}

/* ssh_config(5) PATTERNS: *, ?, pattern lists and negation. */
static void
test_patterns(void **state)
{
	const char *cfg =
	    "Host *.co.uk\n"
	    "  User uk\n"
	    "Host 192.168.0.?\n"
	    "  User lan\n"
	    "Match host \"!*.dialup.example.com,*.example.com\"\n"
	    "  User staff\n"
	    "Match host !host1,!host2\n"
	    "  Port 1\n"
	    "Match host !host1,!host2,*\n"
	    "  Port 2\n";
	struct ssh_conf *c;

	c = resolve(cfg, "www.bbc.co.uk");
	assert_string_equal(c->user, "uk");
	ssh_config_free(c);
	c = resolve(cfg, "192.168.0.7");
	assert_string_equal(c->user, "lan");
	assert_int_equal(c->port, 2); /* a negated match alone never matches */
	ssh_config_free(c);
	c = resolve(cfg, "192.168.0.17");
	assert_string_equal(c->user, "alice");
	ssh_config_free(c);
	c = resolve(cfg, "pc.dialup.example.com");
	assert_string_equal(c->user, "alice");
	ssh_config_free(c);
	c = resolve(cfg, "intra.example.com");
	assert_string_equal(c->user, "staff");
	ssh_config_free(c);
	c = resolve(cfg, "host1");
	assert_int_equal(c->port, 22);
	assert_int_equal(c->has & SSH_CONF_HAS_PORT, 0);
	ssh_config_free(c);
}

/* The first value obtained wins; Host * first overrides later blocks. */
static void
test_first_match_wins(void **state)
{
	struct ssh_conf *c;

	c = resolve("Host db\n  HostName 10.0.0.5\n  Port 2200\n"
	    "Host *\n  Port 22\n  User ops\n  HostName ignored\n", "db");
	assert_string_equal(c->hostname, "10.0.0.5");
	assert_int_equal(c->port, 2200);
	assert_string_equal(c->user, "ops");
	assert_int_equal(c->has, SSH_CONF_HAS_HOSTNAME | SSH_CONF_HAS_PORT |
	    SSH_CONF_HAS_USER);
	ssh_config_free(c);
	c = resolve("Port 2022\nHost db\n  Port 2200\n", "db");
	assert_int_equal(c->port, 2022); /* before any Host: applies to all */
	ssh_config_free(c);
	c = resolve("Host db\n  Port 1\n  Port 2\n", "db");
	assert_int_equal(c->port, 1);
	ssh_config_free(c);
}

/* Several patterns per Host line; a matching !pattern cancels the line;
 * patterns are case-sensitive. */
static void
test_host_negation(void **state)
{
	const char *cfg = "Host * !bastion\n  ProxyJump bastion\n"
	    "Host web db\n  User app\n";
	struct ssh_conf *c;

	c = resolve(cfg, "db");
	assert_int_equal(c->n_jumps, 1);
	assert_string_equal(c->jumps[0].host, "bastion");
	assert_string_equal(c->user, "app");
	ssh_config_free(c);
	c = resolve(cfg, "bastion");
	assert_int_equal(c->n_jumps, 0);
	assert_string_equal(c->user, "alice");
	ssh_config_free(c);
	c = resolve("Host !web web\n  User x\n", "web");
	assert_string_equal(c->user, "alice");
	ssh_config_free(c);
	c = resolve(cfg, "WEB");
	assert_string_equal(c->user, "alice");
	assert_string_equal(c->hostname, "web"); /* lowercased */
	ssh_config_free(c);
}

/* Match all, host (after HostName), originalhost, user, localuser, !; the
 * criteria not evaluated warn once and do not apply. */
static void
test_match(void **state)
{
	struct ssh_conf *c;

	c = resolve("Host db\n  HostName db.%h.internal\n"
	    "Match host db.db.internal originalhost db\n  User one\n"
	    "Match !host other user one localuser alice\n  Port 2\n"
	    "Match all\n  Port 3\n", "db");
	assert_string_equal(c->hostname, "db.db.internal");
	assert_string_equal(c->user, "one");
	assert_int_equal(c->port, 2);
	ssh_config_free(c);
	c = resolve("Match exec \"true\" host x\n  User ex\n"
	    "Match exec false\n  User ex2\n"
	    "Match final\n  User fin\n"
	    "MATCH ALL\n  USER all\n", "x");
	assert_string_equal(c->user, "all");
	assert_int_equal(c->n_warnings, 2);
	assert_string_equal(rel(c->warnings[0]), "/.ssh/config:1: Match exec "
	    "is not supported; the block is not applied");
	assert_string_equal(rel(c->warnings[1]), "/.ssh/config:5: Match final "
	    "is not supported; the block is not applied");
	ssh_config_free(c);
	c = resolve("Match canonical all\n  Port 3\n", "x");
	assert_int_equal(c->port, 22);
	assert_int_equal(c->n_warnings, 1);
	ssh_config_free(c);
	assert_string_equal(rel(resolve_err("Match host x all\n", "x")),
	    "/.ssh/config:1: 'all' cannot be combined with other Match "
	    "attributes");
	assert_string_equal(rel(resolve_err("Match all host x\n", "x")),
	    "/.ssh/config:1: 'all' cannot be combined with other Match "
	    "attributes");
	assert_string_equal(rel(resolve_err("\n\nMatch host\n", "x")),
	    "/.ssh/config:3: missing Match criteria for host");
	assert_string_equal(rel(resolve_err("Match colour red\n", "x")),
	    "/.ssh/config:1: unsupported Match attribute colour");
}

/* "Keyword value", "Keyword=value", "Keyword = value", any case, quotes,
 * escapes, comments, CRLF. */
static void
test_syntax(void **state)
{
	struct ssh_conf *c;

	c = resolve("# comment\r\n\r\n  hOST=db   # trailing\r\n"
	    "\tHOSTNAME = \"db.example.com\"\r\n"
	    "user=\"o\"ps\r\n"
	    "  port   2200 # comment\r\n"
	    "identityfile \"/keys/my key\" #x\r\n"
	    "IdentityFile /keys/other\\ key\r\n"
	    "IdentityFile '/keys/q\"uote'\r\n", "db");
	assert_string_equal(c->hostname, "db.example.com");
	assert_string_equal(c->user, "ops");
	assert_int_equal(c->port, 2200);
	assert_int_equal(c->n_identity_files, 3);
	assert_string_equal(c->identity_files[0], "/keys/my key");
	assert_string_equal(c->identity_files[1], "/keys/other key");
	assert_string_equal(c->identity_files[2], "/keys/q\"uote");
	ssh_config_free(c);
}

/* Errors name FILE:LINE and say what is wrong. */
static void
test_errors(void **state)
{
	assert_string_equal(rel(resolve_err("Host x\n  Port\n", "x")),
	    "/.ssh/config:2: no argument after keyword \"Port\"");
	assert_string_equal(rel(resolve_err("Host x\nUser \"ops\n", "x")),
	    "/.ssh/config:2: invalid quotes");
	/* checked even where the block does not apply, as ssh does */
	assert_string_equal(rel(resolve_err("Host y\n\n Port 70000\n", "x")),
	    "/.ssh/config:3: Badly formatted port number \"70000\"");
	assert_string_equal(rel(resolve_err("User a b\n", "x")),
	    "/.ssh/config:1: keyword User extra arguments at end of line");
	assert_string_equal(rel(resolve_err("IdentitiesOnly maybe\n", "x")),
	    "/.ssh/config:1: unsupported option (yes or no) \"maybe\"");
	assert_string_equal(rel(resolve_err("ConnectTimeout 5x\n", "x")),
	    "/.ssh/config:1: invalid time value \"5x\"");
	assert_string_equal(rel(resolve_err("StrictHostKeyChecking sure\n",
	    "x")), "/.ssh/config:1: unsupported option (yes, accept-new, no, "
	    "off or ask) \"sure\"");
	assert_string_equal(rel(resolve_err("ProxyJump a,,b\n", "x")),
	    "/.ssh/config:1: invalid ProxyJump \"a,,b\"");
	assert_string_equal(rel(resolve_err("Host\n", "x")),
	    "/.ssh/config:1: no argument after keyword \"Host\"");
	assert_string_equal(rel(resolve_err("User # only a comment\n", "x")),
	    "/.ssh/config:1: missing argument");
	assert_string_equal(rel(resolve_err("IdentityFile ~/id_%C\n", "x")),
	    "/.ssh/config:1: unknown or unsupported token %C");
	assert_string_equal(rel(resolve_err("\nIdentityFile ${NO_SUCH_VAR_X}"
	    "/k\n", "x")), "/.ssh/config:2: environment variable "
	    "NO_SUCH_VAR_X is not set");
	assert_string_equal(rel(resolve_err("IdentityFile ~nosuchuserzz/k\n",
	    "x")), "/.ssh/config:1: no such user for ~nosuchuserzz");
}

/* Include: relative to ~/.ssh, globs in lexical order, conditional inside a
 * Host block, Host state kept inside the included file. */
static void
test_include(void **state)
{
	struct ssh_conf *c;

	write_file(".ssh/conf.d/20-web.conf", "Host web\n  User second\n"
	    "  IdentityFile ~/.ssh/web2\n");
	write_file(".ssh/conf.d/10-web.conf", "Host web\n  Port 2210\n"
	    "  IdentityFile ~/.ssh/web1\nHost db\n  Port 5\n");
	write_file(".ssh/db.conf", "User dbuser\n");
	c = resolve("Include conf.d/*.conf conf.d/none-*.conf\n"
	    "Host db\n  Include db.conf\n"
	    "Host *\n  User fallback\n", "web");
	assert_int_equal(c->port, 2210);
	assert_string_equal(c->user, "second");
	assert_int_equal(c->n_identity_files, 2);
	assert_string_equal(rel(c->identity_files[0]), "/.ssh/web1");
	assert_string_equal(rel(c->identity_files[1]), "/.ssh/web2");
	ssh_config_free(c);
	c = resolve_file(NULL, "db");
	assert_int_equal(c->port, 5);
	assert_string_equal(c->user, "dbuser");
	ssh_config_free(c);
	c = resolve_file(NULL, "other");
	assert_string_equal(c->user, "fallback"); /* db.conf not applied */
	ssh_config_free(c);
	/* a Host line inside an included file ends there */
	write_file(".ssh/conf.d/30-tail.conf", "Host nomatch\n");
	c = resolve("Host web\n  Include conf.d/30-tail.conf\n  Port 7\n",
	    "web");
	assert_int_equal(c->port, 7);
	ssh_config_free(c);
}

/* Include loops and errors in included files name the file and line. */
static void
test_include_errors(void **state)
{
	char *want, *path;

	write_file(".ssh/a.conf", "# a\nInclude b.conf\n");
	write_file(".ssh/b.conf", "Include a.conf\n");
	want = xprintf("%s/.ssh/b.conf:1: Include loop: %s/.ssh/a.conf -> "
	    "%s/.ssh/b.conf -> %s/.ssh/a.conf", home, home, home, home);
	assert_string_equal(resolve_err("Include a.conf\n", "x"), want);
	free(want);
	want = xprintf("%s/.ssh/config:1: Include loop: %s/.ssh/config -> "
	    "%s/.ssh/config", home, home, home);
	assert_string_equal(resolve_err("Include config\n", "x"), want);
	free(want);
	for (int i = 0; i < 20; i++) {
		char *name = xprintf(".ssh/d%d.conf", i);
		char *text = xprintf("Include d%d.conf\n", i + 1);

		write_file(name, text);
		free(name);
		free(text);
	}
	want = xprintf("%s/.ssh/d15.conf:1: too many recursive "
	    "configuration includes", home);
	assert_string_equal(resolve_err("Include d0.conf\n", "x"), want);
	free(want);
	want = xprintf("%s/.ssh: not a regular file", home);
	assert_string_equal(resolve_err("Include ~/.ssh\n", "x"), want);
	free(want);
	path = xprintf("%s/.ssh/big.conf", home);
	write_file(".ssh/big.conf", "");
	assert_int_equal(truncate(path, 5 << 20), 0);
	want = xprintf("%s: larger than 4194304 bytes", path);
	assert_string_equal(resolve_err("Include big.conf\n", "x"), want);
	free(want);
	free(path);
	write_file(".ssh/bad.conf", "Host x\n\n  Port none\n");
	want = xprintf("%s/.ssh/bad.conf:3: Badly formatted port number "
	    "\"none\"", home);
	assert_string_equal(resolve_err("Host y\n  Include bad.conf\n", "x"),
	    want);
	free(want);
}

/* %-tokens, ~ and ${ENV} in IdentityFile, UserKnownHostsFile and
 * IdentityAgent, expanded with the final values. */
static void
test_tokens(void **state)
{
	struct ssh_conf *c;

	setenv("TEST_SSH_CONFIG_DIR", "/env/dir", 1);
	c = resolve("Host db\n  HostName DB.Example.com\n"
	    "  IdentityFile ~/.ssh/id_%h_%r_%p\n"
	    "  IdentityFile %d/k_%u_%n_%%\n"
	    "  IdentityFile ${TEST_SSH_CONFIG_DIR}/k\n"
	    "  IdentityFile ~/.ssh/id_%h_%r_%p\n"
	    "  UserKnownHostsFile ~/kh %d/kh_%h none2\n"
	    "  UserKnownHostsFile /ignored\n"
	    "  IdentityAgent ~/agent-%r.sock\n"
	    "Host *\n  User deploy\n  Port 2022\n", "db");
	assert_string_equal(c->hostname, "db.example.com");
	assert_int_equal(c->n_identity_files, 3); /* the duplicate dropped */
	assert_string_equal(rel(c->identity_files[0]),
	    "/.ssh/id_db.example.com_deploy_2022");
	assert_string_equal(rel(c->identity_files[1]), "/k_alice_db_%");
	assert_string_equal(c->identity_files[2], "/env/dir/k");
	assert_int_equal(c->n_known_hosts_files, 3);
	assert_string_equal(rel(c->known_hosts_files[0]), "/kh");
	assert_string_equal(rel(c->known_hosts_files[1]),
	    "/kh_db.example.com");
	assert_string_equal(c->known_hosts_files[2], "none2");
	assert_int_equal(c->agent, SSH_AGENT_PATH);
	assert_string_equal(rel(c->agent_path), "/agent-deploy.sock");
	ssh_config_free(c);
	c = resolve("UserKnownHostsFile none\nIdentityAgent none\n", "x");
	assert_int_equal(c->known_hosts_none, 1);
	assert_int_equal(c->n_known_hosts_files, 0);
	assert_int_equal(c->agent, SSH_AGENT_NONE);
	ssh_config_free(c);
	c = resolve("IdentityAgent SSH_AUTH_SOCK\n", "x");
	assert_int_equal(c->agent, SSH_AGENT_DEFAULT);
	ssh_config_free(c);
	c = resolve("IdentityAgent $TEST_SSH_CONFIG_DIR\n", "x");
	assert_int_equal(c->agent, SSH_AGENT_PATH);
	assert_string_equal(c->agent_path, "/env/dir");
	ssh_config_free(c);
	c = resolve("IdentityAgent $NO_SUCH_VAR_X\n", "x");
	assert_int_equal(c->agent, SSH_AGENT_NONE);
	ssh_config_free(c);
}

/* The other values: StrictHostKeyChecking, times, IdentitiesOnly. */
static void
test_values(void **state)
{
	static const struct {
		const char *v;
		enum ssh_conf_hostkey want;
	} keys[] = {
		{ "yes", SSH_HOSTKEY_STRICT }, { "ask", SSH_HOSTKEY_STRICT },
		{ "accept-new", SSH_HOSTKEY_ACCEPT_NEW },
		{ "no", SSH_HOSTKEY_OFF }, { "off", SSH_HOSTKEY_OFF },
		{ "True", SSH_HOSTKEY_STRICT },
	};
	struct ssh_conf *c;
	char *cfg;
	size_t i;

	for (i = 0; i < sizeof keys / sizeof *keys; i++) {
		cfg = xprintf("StrictHostKeyChecking %s\n", keys[i].v);
		c = resolve(cfg, "x");
		assert_int_equal(c->host_key, keys[i].want);
		ssh_config_free(c);
		free(cfg);
	}
	c = resolve("ConnectTimeout 1m30s\nServerAliveInterval 15\n"
	    "IdentitiesOnly yes\n", "x");
	assert_int_equal(c->connect_timeout, 90);
	assert_int_equal(c->server_alive_interval, 15);
	assert_int_equal(c->identities_only, 1);
	ssh_config_free(c);
	c = resolve("# nothing\n", "x");
	assert_int_equal(c->host_key, SSH_HOSTKEY_UNSET);
	assert_int_equal(c->connect_timeout, -1);
	assert_int_equal(c->server_alive_interval, -1);
	assert_int_equal(c->identities_only, -1);
	assert_int_equal(c->agent, SSH_AGENT_DEFAULT);
	assert_int_equal(c->n_identity_files, 0);
	ssh_config_free(c);
}

/* ProxyJump hops as written: [user@]host[:port], [v6]:port, ssh URIs. */
static void
test_jump_parse(void **state)
{
	struct ssh_conf *c;
	struct ssh_jump j;

	c = resolve("ProxyJump ops@gw1:2222,[::1]:23,ssh://u@gw3:24/,gw4\n",
	    "x");
	assert_int_equal(c->n_jumps, 4);
	assert_string_equal(c->jumps[0].user, "ops");
	assert_string_equal(c->jumps[0].host, "gw1");
	assert_int_equal(c->jumps[0].port, 2222);
	assert_null(c->jumps[1].user);
	assert_string_equal(c->jumps[1].host, "::1");
	assert_int_equal(c->jumps[1].port, 23);
	assert_string_equal(c->jumps[2].user, "u");
	assert_string_equal(c->jumps[2].host, "gw3");
	assert_int_equal(c->jumps[2].port, 24);
	assert_string_equal(c->jumps[3].host, "gw4");
	assert_int_equal(c->jumps[3].port, 0);
	ssh_config_free(c);
	c = resolve("Host x\n  ProxyJump none\nHost *\n  ProxyJump gw\n", "x");
	assert_int_equal(c->n_jumps, 0);
	ssh_config_free(c);
	c = resolve("Host x\n  ProxyJump gw-%h-%r-%p\n  Port 3\n", "x");
	assert_string_equal(c->jumps[0].host, "gw-x-alice-3");
	ssh_config_free(c);
	assert_int_equal(ssh_config_parse_jump("h:0", &j), -1);
	assert_int_equal(ssh_config_parse_jump("@h", &j), -1);
	assert_int_equal(ssh_config_parse_jump("[::1", &j), -1);
	assert_int_equal(ssh_config_parse_jump("", &j), -1);
}

/* A chain: the first hop's own ProxyJump is followed; later hops' is not;
 * a hop's user and port win over its configuration. */
static void
test_jump_chain(void **state)
{
	struct ssh_conf *c, **hops;
	size_t n;
	char *err = NULL;

	c = resolve("Host target\n  ProxyJump ops@a,b:2200\n"
	    "Host a\n  HostName a.example.com\n  User ignored\n"
	    "  ProxyJump c\n"
	    "Host b\n  ProxyJump never\n  Port 1\n"
	    "Host c\n  Port 2022\n", "target");
	assert_int_equal(ssh_config_resolve_jumps(c, &hops, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_string_equal(hops[0]->alias, "c");
	assert_int_equal(hops[0]->port, 2022);
	assert_string_equal(hops[1]->hostname, "a.example.com");
	assert_string_equal(hops[1]->user, "ops");
	assert_string_equal(hops[2]->alias, "b");
	assert_int_equal(hops[2]->port, 2200);
	assert_int_equal(hops[2]->n_jumps, 0);
	ssh_config_free_hops(hops, n);
	ssh_config_free(c);
	c = resolve_file(NULL, "c");
	assert_int_equal(ssh_config_resolve_jumps(c, &hops, &n, &err), 0);
	assert_int_equal(n, 0);
	assert_null(hops);
	ssh_config_free(c);
}

/* a jumps via b which jumps via a: an error naming the loop. */
static void
test_jump_loop(void **state)
{
	struct ssh_conf *c, **hops;
	size_t n;
	char *err = NULL;

	c = resolve("Host a\n  ProxyJump b\nHost b\n  ProxyJump c\n"
	    "Host c\n  ProxyJump a\n", "a");
	assert_int_equal(ssh_config_resolve_jumps(c, &hops, &n, &err), -1);
	assert_string_equal(err, "ProxyJump loop: a -> b -> c -> a");
	assert_null(hops);
	assert_int_equal(n, 0);
	free(err);
	ssh_config_free(c);
	c = resolve("Host *\n  ProxyJump gw\n", "x");
	assert_int_equal(ssh_config_resolve_jumps(c, &hops, &n, &err), -1);
	assert_string_equal(err, "ProxyJump loop: x -> gw -> gw");
	free(err);
	ssh_config_free(c);
	/* a chain that grows without repeating a name ends too */
	c = resolve("ProxyJump x%h\n", "a");
	assert_int_equal(ssh_config_resolve_jumps(c, &hops, &n, &err), -1);
	assert_string_equal(err, "ProxyJump: more than 16 hops to a");
	free(err);
	ssh_config_free(c);
	c = resolve("ProxyJump x%h%h%h\n", "a"); /* grows 3 times a hop */
	assert_int_equal(ssh_config_resolve_jumps(c, &hops, &n, &err), -1);
	assert_non_null(strstr(err, "config:1: \"x%h%h%h\" expands to more "
	    "than 4096 bytes"));
	free(err);
	ssh_config_free(c);
	c = resolve("Host a\n  ProxyJump b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q,r\n",
	    "a");
	assert_int_equal(ssh_config_resolve_jumps(c, &hops, &n, &err), -1);
	assert_string_equal(err, "ProxyJump: more than 16 hops to a");
	free(err);
	ssh_config_free(c);
	c = resolve("Host a\n  ProxyJump b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q\n",
	    "a");
	assert_int_equal(ssh_config_resolve_jumps(c, &hops, &n, &err), 0);
	assert_int_equal(n, 16);
	ssh_config_free_hops(hops, n);
	ssh_config_free(c);
	/* a hop's own configuration error names the hop */
	c = resolve("Host x\n  ProxyJump gw\nHost gw\n"
	    "  IdentityFile ${NO_SUCH_VAR_X}\n", "x");
	assert_int_equal(ssh_config_resolve_jumps(c, &hops, &n, &err), -1);
	assert_string_equal(err + strlen(err) - 61, "/.ssh/config:4: "
	    "environment variable NO_SUCH_VAR_X is not set");
	assert_int_equal(strncmp(err, "ProxyJump host gw: ", 19), 0);
	free(err);
	ssh_config_free(c);
}

/* Keywords ssh would apply and the caller cannot: one warning each, only
 * when they apply; unknown keywords warn unless IgnoreUnknown. */
static void
test_warnings(void **state)
{
	struct ssh_conf *c;

	c = resolve("Host other\n  LocalForward 1 h:2\n"
	    "Host x\n  ProxyCommand nc %h %p\n  ProxyJump gw\n"
	    "  LocalForward 8080 localhost:80\n"
	    "  localforward 8081 localhost:81\n"
	    "  Compression yes\n  Colour blue\n  Colour red\n", "x");
	assert_int_equal(c->n_warnings, 3);
	assert_string_equal(rel(c->warnings[0]), "/.ssh/config:4: "
	    "ProxyCommand is not supported; ignored");
	assert_string_equal(rel(c->warnings[1]), "/.ssh/config:6: "
	    "LocalForward is not supported; ignored");
	assert_string_equal(rel(c->warnings[2]), "/.ssh/config:9: "
	    "unknown keyword Colour; ignored");
	assert_int_equal(c->n_jumps, 0); /* ProxyCommand came first */
	ssh_config_free(c);
	c = resolve("ProxyJump gw\nProxyCommand nc %h %p\n", "x");
	assert_int_equal(c->n_warnings, 0); /* ssh ignores it too */
	assert_int_equal(c->n_jumps, 1);
	ssh_config_free(c);
	c = resolve("ProxyCommand none\nProxyJump gw\n", "x");
	assert_int_equal(c->n_warnings, 0);
	assert_int_equal(c->n_jumps, 0);
	ssh_config_free(c);
	c = resolve("IgnoreUnknown Col*,Other\nColour blue\n", "x");
	assert_int_equal(c->n_warnings, 0);
	ssh_config_free(c);
}

/* Which file is read: ~/.ssh/config (missing: empty), a path, or none. */
static void
test_paths(void **state)
{
	struct ssh_conf *c;
	struct ssh_conf_query q = { 0 };
	char *path, *err = NULL;

	write_file(".ssh/config", "Port 2\n");
	path = xprintf("%s/.ssh/config", home);
	c = resolve_file(path, "x");
	assert_int_equal(c->port, 2);
	ssh_config_free(c);
	c = resolve_file("none", "x");
	assert_int_equal(c->port, 22);
	ssh_config_free(c);
	unlink(path);
	c = resolve_file(NULL, "x");
	assert_int_equal(c->port, 22);
	ssh_config_free(c);
	q.path = path;
	q.alias = "x";
	q.home = home;
	assert_null(ssh_config_resolve_query(&q, &err));
	assert_non_null(strstr(err, "No such file or directory"));
	assert_string_equal(rel(err), "/.ssh/config: No such file or "
	    "directory");
	free(err);
	free(path);
}

/* s with @HOME@ replaced by the test's home (a new string). */
static char *
with_home(const char *s)
{
	const char *at = strstr(s, "@HOME@");

	if (at == NULL)
		return xstrdup(s);
	return xprintf("%.*s%s%s", (int)(at - s), s, home, at + 6);
}

/* What `ssh -G` would print for key, from c. */
static void
oracle_format(const struct ssh_conf *c, const char *key, char *out,
    size_t len)
{
	static const char *const hk[] = { "ask", "true", "accept-new",
		"false" };
	char v[900] = "";
	size_t i, n = 0;

	if (strcmp(key, "hostname ") == 0)
		snprintf(v, sizeof v, "%s", c->hostname);
	else if (strcmp(key, "user ") == 0)
		snprintf(v, sizeof v, "%s", c->user);
	else if (strcmp(key, "port ") == 0)
		snprintf(v, sizeof v, "%d", c->port);
	else if (strcmp(key, "userknownhostsfile ") == 0 && c->known_hosts_none)
		snprintf(v, sizeof v, "none");
	else if (strcmp(key, "userknownhostsfile ") == 0 &&
	    c->n_known_hosts_files == 0)
		snprintf(v, sizeof v, "%s/.ssh/known_hosts %s/.ssh/known_hosts2",
		    c->home, c->home);
	else if (strcmp(key, "userknownhostsfile ") == 0)
		for (i = 0; i < c->n_known_hosts_files; i++)
			n += (size_t)snprintf(v + n, sizeof v - n, "%s%s",
			    i > 0 ? " " : "", c->known_hosts_files[i]);
	else if (strcmp(key, "identityagent ") == 0)
		snprintf(v, sizeof v, "%s", c->agent == SSH_AGENT_NONE ? "none" :
		    c->agent_path != NULL ? c->agent_path : "SSH_AUTH_SOCK");
	else if (strcmp(key, "proxyjump ") == 0)
		for (i = 0; i < c->n_jumps; i++) {
			n += (size_t)snprintf(v + n, sizeof v - n, "%s%s%s%s",
			    i > 0 ? "," : "",
			    c->jumps[i].user ? c->jumps[i].user : "",
			    c->jumps[i].user ? "@" : "", c->jumps[i].host);
			if (c->jumps[i].port > 0)
				n += (size_t)snprintf(v + n, sizeof v - n,
				    ":%d", c->jumps[i].port);
		}
	else if (strcmp(key, "stricthostkeychecking ") == 0)
		snprintf(v, sizeof v, "%s", hk[c->host_key]);
	else if (strcmp(key, "connecttimeout ") == 0 && c->connect_timeout < 0)
		snprintf(v, sizeof v, "none");
	else if (strcmp(key, "connecttimeout ") == 0)
		snprintf(v, sizeof v, "%d", c->connect_timeout);
	else if (strcmp(key, "serveraliveinterval ") == 0)
		snprintf(v, sizeof v, "%d", c->server_alive_interval < 0 ? 0 :
		    c->server_alive_interval);
	snprintf(out, len, "%s%s", key, v);
}

/* The same files through `ssh -G`: hostname, user, port, known hosts,
 * agent, host key checking, times and ProxyJump agree. */
static void
test_oracle(void **state)
{
	static const char *const cases[][2] = {
		{ "Host db\n HostName %h.corp\n User a\nHost *\n Port 2022\n"
		  "Match host db.corp\n User b\n Port 1\n", "db" },
		{ "Host * !gw\n ProxyJump u@gw:2,gw2\nHost gw\n User g\n",
		  "x" },
		{ "Host=X\n hostname=\"Alpha.Example\"\n", "X" },
		{ "Host X\n User up\n", "x" },
		{ "Match originalhost web,!db user alice\n Port 5\n", "web" },
		{ "Match !host web\n Port 5\nMatch all\n Port 6\n", "web" },
		{ "UserKnownHostsFile ~/kh %d/%h_%r_%p_%u\nPort 7\n"
		  "User bob\n", "h" },
		{ "StrictHostKeyChecking accept-new\nConnectTimeout 1m\n"
		  "ServerAliveInterval 2h\nIdentityAgent ~/a.sock\n", "h" },
		{ "Host h\n ProxyJump none\nProxyJump gw\n", "h" },
		{ "ProxyCommand none\nProxyJump gw\n", "h" },
		{ "ProxyJump gw\nProxyCommand nc %h %p\n", "h" },
		{ "Match canonical all\n Port 3\n", "h" },
		{ "Host web\n Include @HOME@/.ssh/conf.d/o*.conf\nHost *\n"
		  " Port 1\n", "web" },
		{ "Host web\n Include @HOME@/.ssh/conf.d/o*.conf\nHost *\n"
		  " Port 1\n", "other" },
		{ "Host web\n Include @HOME@/.ssh/conf.d/o3.conf\n", "other" },
	};
	static const char *keys[] = { "hostname ", "user ", "port ",
		"userknownhostsfile ", "identityagent ", "proxyjump ",
		"stricthostkeychecking ", "connecttimeout ",
		"serveraliveinterval " };
	struct ssh_conf_query q = { 0 };
	struct ssh_conf *c;
	char *err = NULL, *cmd, *path, *text, line[1024], mine[1024];
	FILE *fp;
	size_t i, k, compared = 0, jumps = 0;

	path = xprintf("%s/.ssh/config", home);
	write_file(".ssh/conf.d/o1.conf", "Port 1010\nUser inc\nHost nomatch\n"
	    "User never\n");
	write_file(".ssh/conf.d/o2.conf", "HostName Inc2\n");
	write_file(".ssh/conf.d/o3.conf", "Host web other\n User o3\n");
	for (i = 0; i < sizeof cases / sizeof *cases; i++) {
		text = with_home(cases[i][0]);
		write_file(".ssh/config", text);
		free(text);
		q.path = path;
		q.alias = cases[i][1];
		c = ssh_config_resolve_query(&q, &err);
		if (c == NULL)
			fail_msg("case %zu: %s", i, err);
		cmd = xprintf("HOME='%s' ssh -G -F '%s' '%s' 2>&1", c->home,
		    path, cases[i][1]);
		assert_non_null(fp = popen(cmd, "r"));
		while (fgets(line, sizeof line, fp) != NULL) {
			line[strcspn(line, "\n")] = '\0';
			for (k = 0; k < sizeof keys / sizeof *keys; k++)
				if (strncmp(line, keys[k], strlen(keys[k])) == 0)
					break;
			if (k == sizeof keys / sizeof *keys)
				continue;
			oracle_format(c, keys[k], mine, sizeof mine);
			compared++;
			jumps += strcmp(keys[k], "proxyjump ") == 0;
			if (strcmp(line, mine) != 0)
				fail_msg("case %zu: ssh -G says \"%s\", we say "
				    "\"%s\"", i, line, mine);
		}
		assert_int_equal(pclose(fp), 0);
		assert_true(compared >= 7); /* ssh -G always prints these */
		if (jumps == 0 && c->n_jumps > 0)
			fail_msg("case %zu: ssh -G has no proxyjump", i);
		compared = jumps = 0;
		free(cmd);
		ssh_config_free(c);
	}
	free(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_patterns),
		cmocka_unit_test(test_first_match_wins),
		cmocka_unit_test(test_host_negation),
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_syntax),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_include),
		cmocka_unit_test(test_include_errors),
		cmocka_unit_test(test_tokens),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_jump_parse),
		cmocka_unit_test(test_jump_chain),
		cmocka_unit_test(test_jump_loop),
		cmocka_unit_test(test_warnings),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_oracle),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
