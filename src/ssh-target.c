/*
 * ssh-target.c - the route to an ssh target: runbook keys over the OpenSSH
 * client configuration, and the bastions in between (see ssh-target.h).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "expand.h"
#include "runbook.h"
#include "ssh-config.h"
#include "ssh-target.h"
#include "xmalloc.h"

#define ROUTE_MAX_DEPTH 16 /* runbook jump chains, as ProxyJump's limit */
#define ROUTE_CONNECT_TIMEOUT_MS 10000
#define ROUTE_KEEPALIVE_S 15

/* The expanded runbook fields of one target. */
struct route_fields {
	char *host, *user, *config, *identity, *known_hosts;
	char *passphrase, *password;
	int port;
};

static int route_target(const struct runbook *, const struct rb_target *,
    const struct rb_entity *, struct ssh_route *, int, int, int, char **);
static int route_fields(const struct runbook *, const struct rb_target *,
    const struct rb_entity *, int, struct route_fields *, char **);
static void route_fields_free(struct route_fields *);
static char *route_expand(const struct runbook *, const struct rb_entity *,
    const char *, char **);
static int route_port(const struct rb_target *, const char *, int *,
    char **);
static struct ssh_conf *route_conf(const struct route_fields *, char **);
static int route_config_hops(struct ssh_route *, const struct ssh_conf *,
    char **);
static struct ssh_hop *route_add(struct ssh_route *);
static int route_hop_conf(struct ssh_hop *, const struct ssh_conf *,
    const char *, int, char **);
static void route_hop_runbook(struct ssh_hop *, const struct rb_target *,
    struct route_fields *);
static void route_warnings(struct ssh_route *, const struct ssh_conf *);
static void route_keys(struct ssh_route *);
static char *route_home_path(const char *, const char *);
static void route_hop_free(struct ssh_hop *);
static void route_strv_free(char **, size_t);
static void route_cache_reset(const struct runbook *);

struct ssh_route *
ssh_route_resolve(const struct runbook *rb, const struct rb_target *t,
    const struct rb_entity *entity, int flags, char **err)
{
	struct ssh_route *r = xcalloc(1, sizeof *r);

	if (route_target(rb, t, entity, r, flags, 0, 0, err) != 0) {
		ssh_route_free(r);
		return NULL;
	}
	route_keys(r);
	return r;
}

void
ssh_route_free(struct ssh_route *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->n; i++)
		route_hop_free(&r->hops[i]);
	free(r->hops);
	route_strv_free(r->warnings, r->nwarnings);
	free(r);
}

char *
ssh_route_describe(const struct runbook *rb, const struct rb_target *t,
    const struct rb_entity *entity, char **err)
{
	struct ssh_route *r;
	struct buf b = { 0 };
	char *e = NULL;
	size_t i;

	if ((r = ssh_route_resolve(rb, t, entity, SSH_ROUTE_NO_SECRETS, &e)) ==
	    NULL) {
		if (err != NULL)
			*err = e;
		else
			free(e);
		return NULL;
	}
	buf_adds(&b, t->name);
	for (i = 0; i + 1 < r->n; i++)
		buf_printf(&b, "%s%s", i == 0 ? " via " : ", ", r->hops[i].name);
	ssh_route_free(r);
	return buf_steal(&b);
}

/*
 * Add t's route to r: its bastions, then t itself. single: t is a later
 * hop of a jump list, reached through the one before (its own jump list
 * and ProxyJump do not apply).
 */
static int
route_target(const struct runbook *rb, const struct rb_target *t,
    const struct rb_entity *entity, struct ssh_route *r, int flags,
    int depth, int single, char **err)
{
	struct route_fields f;
	struct ssh_conf *c = NULL;
	size_t j;
	int rc = -1;

	if (depth > ROUTE_MAX_DEPTH) {
		xasprintf(err, "target %s: jump: more than %d hops, or a loop",
		    t->name, ROUTE_MAX_DEPTH);
		return -1;
	}
	if (route_fields(rb, t, entity, flags, &f, err) != 0 ||
	    (c = route_conf(&f, err)) == NULL)
		goto out;
	route_warnings(r, c);
	for (j = 0; !single && j < t->njump; j++) {
		if (t->jump_targets == NULL || t->jump_targets[j] == NULL) {
			xasprintf(err, "target %s: unknown jump target %s",
			    t->name, t->jump[j]);
			goto out;
		}
		if (route_target(rb, t->jump_targets[j], entity, r, flags,
		    depth + 1, j > 0, err) != 0)
			goto out;
	}
	if (!single && t->njump == 0 && route_config_hops(r, c, err) != 0)
		goto out;
	if (route_hop_conf(route_add(r), c, t->name,
	    t->host_key == RB_HOSTKEY_OFF, err) != 0)
		goto out;
	route_hop_runbook(&r->hops[r->n - 1], t, &f);
	rc = 0;
out:
	ssh_config_free(c);
	route_fields_free(&f);
	return rc;
}

/* Expand what the runbook says about t. */
static int
route_fields(const struct runbook *rb, const struct rb_target *t,
    const struct rb_entity *e, int flags, struct route_fields *f, char **err)
{
	const char *config = t->ssh_config != NULL ? t->ssh_config :
	    rb->ssh_config;
	char *port = NULL;
	int rc;

	memset(f, 0, sizeof *f);
	f->port = t->port_text == NULL && t->port_set ? t->port : 0;
	if ((f->host = route_expand(rb, e, t->host, err)) == NULL)
		return -1;
	if ((t->user != NULL &&
	    (f->user = route_expand(rb, e, t->user, err)) == NULL) ||
	    (config != NULL &&
	    (f->config = route_expand(rb, e, config, err)) == NULL) ||
	    (t->identity != NULL &&
	    (f->identity = route_expand(rb, e, t->identity, err)) == NULL) ||
	    (t->known_hosts != NULL &&
	    (f->known_hosts = route_expand(rb, e, t->known_hosts, err)) ==
	    NULL) ||
	    (t->passphrase != NULL && !(flags & SSH_ROUTE_NO_SECRETS) &&
	    (f->passphrase = route_expand(rb, e, t->passphrase, err)) ==
	    NULL) ||
	    (t->password != NULL && !(flags & SSH_ROUTE_NO_SECRETS) &&
	    (f->password = route_expand(rb, e, t->password, err)) == NULL))
		return -1;
	if (t->port_text == NULL)
		return 0;
	if ((port = route_expand(rb, e, t->port_text, err)) == NULL)
		return -1;
	rc = route_port(t, port, &f->port, err);
	free(port);
	return rc;
}

static void
route_fields_free(struct route_fields *f)
{
	free(f->host);
	free(f->user);
	free(f->config);
	free(f->identity);
	free(f->known_hosts);
	if (f->passphrase != NULL)
		memset(f->passphrase, 0, strlen(f->passphrase));
	if (f->password != NULL)
		memset(f->password, 0, strlen(f->password));
	free(f->passphrase);
	free(f->password);
}

static char *
route_expand(const struct runbook *rb, const struct rb_entity *e,
    const char *text, char **err)
{
	return expand_text_entity(rb, e, text, err);
}

/* A port given as text with ${...}, expanded. */
static int
route_port(const struct rb_target *t, const char *s, int *port, char **err)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (s[0] < '0' || s[0] > '9' || *end != '\0' || errno != 0 || v < 1 ||
	    v > 65535) {
		xasprintf(err, "port of target %s is '%s', not a port number "
		    "(1 to 65535)", t->name, s);
		return -1;
	}
	*port = (int)v;
	return 0;
}

/* What the ssh configuration says about the target's host. */
static struct ssh_conf *
route_conf(const struct route_fields *f, char **err)
{
	struct ssh_conf_query q;
	char *path = NULL;
	struct ssh_conf *c;

	memset(&q, 0, sizeof q);
	if (f->config != NULL)
		path = route_home_path(f->config, getenv("HOME"));
	q.path = path;
	q.home = getenv("HOME"); /* as known_hosts and identity's ~ always were */
	q.alias = f->host;
	q.user = f->user;
	q.port = f->port;
	c = ssh_config_resolve_query(&q, err);
	free(path);
	return c;
}

/* The file's ProxyJump hops of the target c, in connection order. */
static int
route_config_hops(struct ssh_route *r, const struct ssh_conf *c, char **err)
{
	struct ssh_conf **hops = NULL;
	size_t n = 0, i;
	int rc = 0;

	if (c->n_jumps == 0)
		return 0;
	if (ssh_config_resolve_jumps(c, &hops, &n, err) != 0)
		return -1;
	for (i = 0; i < n && rc == 0; i++) {
		route_warnings(r, hops[i]);
		rc = route_hop_conf(route_add(r), hops[i], hops[i]->alias, 0,
		    err);
	}
	ssh_config_free_hops(hops, n);
	return rc;
}

static struct ssh_hop *
route_add(struct ssh_route *r)
{
	r->hops = xreallocarray(r->hops, r->n + 1, sizeof *r->hops);
	memset(&r->hops[r->n], 0, sizeof r->hops[r->n]);
	return &r->hops[r->n++];
}

/* A hop as the configuration c says; off_ok: the runbook says host_key:
 * off, so StrictHostKeyChecking no is allowed. */
static int
route_hop_conf(struct ssh_hop *h, const struct ssh_conf *c,
    const char *name, int off_ok, char **err)
{
	struct stat sb;
	size_t i;

	h->name = xstrdup(name);
	h->host = xstrdup(c->hostname);
	h->port = c->port;
	h->user = xstrdup(c->user);
	h->identities = xcalloc(c->n_identity_files + 1, sizeof(char *));
	for (i = 0; i < c->n_identity_files; i++) {
		if (stat(c->identity_files[i], &sb) == 0)
			h->identities[h->nidentities++] =
			    xstrdup(c->identity_files[i]);
	}
	h->use_agent = c->agent != SSH_AGENT_NONE && c->identities_only != 1;
	if (c->agent == SSH_AGENT_PATH)
		h->agent_sock = xstrdup(c->agent_path);
	h->known_hosts = xcalloc(c->n_known_hosts_files + 1, sizeof(char *));
	for (i = 0; i < c->n_known_hosts_files; i++)
		h->known_hosts[h->nknown_hosts++] =
		    xstrdup(c->known_hosts_files[i]);
	if (c->known_hosts_none)
		h->known_hosts[h->nknown_hosts++] = xstrdup("/dev/null");
	else if (h->nknown_hosts == 0)
		h->known_hosts[h->nknown_hosts++] =
		    route_home_path("~/.ssh/known_hosts", c->home);
	h->host_key = c->host_key == SSH_HOSTKEY_ACCEPT_NEW ?
	    SSH_HOP_ACCEPT_NEW : SSH_HOP_STRICT;
	h->connect_timeout_ms = c->connect_timeout > 0 ?
	    c->connect_timeout * 1000 : ROUTE_CONNECT_TIMEOUT_MS;
	h->keepalive_s = c->server_alive_interval >= 0 ?
	    c->server_alive_interval : ROUTE_KEEPALIVE_S;
	if (c->host_key == SSH_HOSTKEY_OFF && !off_ok) {
		xasprintf(err, "%s: the ssh configuration says "
		    "StrictHostKeyChecking no; refused: cutover checks host "
		    "keys unless the runbook's target says host_key: off",
		    name);
		return -1;
	}
	if (c->host_key == SSH_HOSTKEY_OFF)
		h->host_key = SSH_HOP_OFF;
	return 0;
}

/* The runbook's keys win over the configuration. */
static void
route_hop_runbook(struct ssh_hop *h, const struct rb_target *t,
    struct route_fields *f)
{
	if (f->identity != NULL) {
		route_strv_free(h->identities, h->nidentities);
		h->identities = xcalloc(2, sizeof(char *));
		h->identities[0] = route_home_path(f->identity, getenv("HOME"));
		h->nidentities = 1;
		h->use_agent = 0;
	}
	if (f->known_hosts != NULL) {
		route_strv_free(h->known_hosts, h->nknown_hosts);
		h->known_hosts = xcalloc(2, sizeof(char *));
		h->known_hosts[0] = route_home_path(f->known_hosts,
		    getenv("HOME"));
		h->nknown_hosts = 1;
	}
	if (t->host_key != RB_HOSTKEY_UNSET)
		h->host_key = t->host_key == RB_HOSTKEY_ACCEPT_NEW ?
		    SSH_HOP_ACCEPT_NEW : t->host_key == RB_HOSTKEY_OFF ?
		    SSH_HOP_OFF : SSH_HOP_STRICT;
	h->passphrase = f->passphrase;
	h->password = f->password;
	f->passphrase = f->password = NULL;
}

/* Keep each warning of c once. */
static void
route_warnings(struct ssh_route *r, const struct ssh_conf *c)
{
	size_t i, j;

	for (i = 0; i < c->n_warnings; i++) {
		for (j = 0; j < r->nwarnings; j++) {
			if (strcmp(r->warnings[j], c->warnings[i]) == 0)
				break;
		}
		if (j < r->nwarnings)
			continue;
		r->warnings = xreallocarray(r->warnings, r->nwarnings + 1,
		    sizeof *r->warnings);
		r->warnings[r->nwarnings++] = xstrdup(c->warnings[i]);
	}
}

/* Each hop's key: the keys of the hops before it, then user@host:port. */
static void
route_keys(struct ssh_route *r)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		xasprintf(&r->hops[i].key, "%s%s%s@%s:%d", i > 0 ?
		    r->hops[i - 1].key : "", i > 0 ? " > " : "",
		    r->hops[i].user, r->hops[i].host, r->hops[i].port);
	}
}

/* A leading ~/ means home. */
static char *
route_home_path(const char *p, const char *home)
{
	char *s;

	if (p[0] == '~' && (p[1] == '/' || p[1] == '\0') && home != NULL) {
		xasprintf(&s, "%s%s", home, p + 1);
		return s;
	}
	return xstrdup(p);
}

static void
route_hop_free(struct ssh_hop *h)
{
	free(h->name);
	free(h->host);
	free(h->user);
	route_strv_free(h->identities, h->nidentities);
	free(h->agent_sock);
	route_strv_free(h->known_hosts, h->nknown_hosts);
	if (h->passphrase != NULL)
		memset(h->passphrase, 0, strlen(h->passphrase));
	if (h->password != NULL)
		memset(h->password, 0, strlen(h->password));
	free(h->passphrase);
	free(h->password);
	free(h->key);
}

static void
route_strv_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* The routes ssh_step_route has described, for one runbook. */
static struct {
	const struct runbook *rb;
	char sha256[65];
	const struct rb_target **targets;
	char **labels;
	size_t n;
} route_cache;

static void
route_cache_reset(const struct runbook *rb)
{
	size_t i;

	for (i = 0; i < route_cache.n; i++)
		free(route_cache.labels[i]);
	free(route_cache.labels);
	free(route_cache.targets);
	memset(&route_cache, 0, sizeof route_cache);
	route_cache.rb = rb;
	memcpy(route_cache.sha256, rb->sha256, sizeof route_cache.sha256);
}

const char *
ssh_step_route(const struct runbook *rb, const struct rb_step *s)
{
	const struct rb_target *t = s->target;
	size_t i;

	if (t == NULL || t->type != TARGET_SSH)
		return s->target_name;
	if (route_cache.rb != rb ||
	    memcmp(route_cache.sha256, rb->sha256, sizeof rb->sha256) != 0)
		route_cache_reset(rb);
	for (i = 0; i < route_cache.n; i++) {
		if (route_cache.targets[i] == t)
			return route_cache.labels[i];
	}
	route_cache.targets = xreallocarray(route_cache.targets, i + 1,
	    sizeof *route_cache.targets);
	route_cache.labels = xreallocarray(route_cache.labels, i + 1,
	    sizeof *route_cache.labels);
	route_cache.targets[i] = t;
	route_cache.labels[i] = ssh_route_describe(rb, t, NULL, NULL);
	if (route_cache.labels[i] == NULL)
		route_cache.labels[i] = xstrdup(t->name);
	route_cache.n++;
	return route_cache.labels[i];
}
