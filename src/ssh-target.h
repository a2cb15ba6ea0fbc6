/*
 * ssh-target.h - how an ssh target of a runbook is reached: the runbook's
 * keys over the OpenSSH client configuration (ssh-config.h), and the
 * bastions in between.
 *
 * Resolution of a target T (for a step of entity E, or none):
 *
 *  - T's text fields are expanded with E (expand_text_entity), so a host
 *    "${entity.pos_host}" gives one route per entity's host.
 *  - The configuration file is T's ssh_config, else settings.ssh_config,
 *    else ~/.ssh/config ("none": no file). T's host is the alias looked up
 *    in it; T's user and port win over the file's (as ssh -l and -p do).
 *  - identity: T's identity, else the file's IdentityFile entries (those
 *    that exist); known_hosts: T's, else UserKnownHostsFile (all are read,
 *    the first is written by accept-new), else ~/.ssh/known_hosts.
 *    host_key: T's, else StrictHostKeyChecking (yes/ask strict, accept-new),
 *    else strict; StrictHostKeyChecking no is refused unless T says
 *    host_key: off. IdentitiesOnly yes (or an identity in the runbook)
 *    leaves the agent out; IdentityAgent names the agent's socket.
 *    ConnectTimeout bounds the connection (default 10s); ServerAliveInterval
 *    sets the keepalive (default 15s, 0 none).
 *  - Hops: T's jump list (runbook targets: the first with its own route,
 *    each later one reached through the one before) wins over the file's
 *    ProxyJump (resolved as ssh does: ssh_config_resolve_jumps). Hops from
 *    the file authenticate by key or agent; runbook hops also by password.
 *
 * Nothing here connects or looks a name up; files are read (the ssh
 * configuration, and a stat of identity files).
 */
#ifndef CUTOVER_SSH_TARGET_H
#define CUTOVER_SSH_TARGET_H

#include <stddef.h>

struct runbook;
struct rb_target;
struct rb_entity;
struct rb_step;

enum ssh_hop_hostkey {
	SSH_HOP_STRICT,
	SSH_HOP_ACCEPT_NEW,
	SSH_HOP_OFF,
};

/* One SSH connection of a route: everything needed to open it. */
struct ssh_hop {
	char *name;  /* the runbook target's name, or the config alias */
	char *host;  /* to connect to (HostName), from the previous hop */
	int port;
	char *user;
	char **identities; /* private key files to try, in order */
	size_t nidentities;
	int use_agent;      /* try the agent's keys */
	char *agent_sock;   /* its socket (NULL: $SSH_AUTH_SOCK) */
	char **known_hosts; /* read in order; the first is written */
	size_t nknown_hosts;
	enum ssh_hop_hostkey host_key;
	char *passphrase, *password; /* secrets (runbook hops only), or NULL */
	int connect_timeout_ms;
	int keepalive_s; /* 0: none */
	char *key;       /* "user@host:port" after the previous hops' keys */
};

/* A target's route: hops[n - 1] is the target, those before it are the
 * bastions, first hop first. */
struct ssh_route {
	struct ssh_hop *hops;
	size_t n;
	char **warnings; /* "FILE:LINE: ProxyCommand is not supported; ..." */
	size_t nwarnings;
};

/* Resolve the route of target for entity (NULL: none). Returns NULL with
 * *err (one line, caller frees) when it cannot be resolved. flags:
 * SSH_ROUTE_NO_SECRETS leaves passwords and passphrases out (and their
 * ${env:...} unexpanded): for lint and front ends. */
#define SSH_ROUTE_NO_SECRETS 0x01
struct ssh_route *ssh_route_resolve(const struct runbook *,
    const struct rb_target *, const struct rb_entity *, int flags,
    char **err);
void ssh_route_free(struct ssh_route *);

/* For front ends: "app1 via bastion-dc1" (names of the hops, first hop
 * first: "pos via bastion, store-gw"), or just
 * the target's name when there are no hops; NULL when the route cannot
 * be resolved (*err says why, when err is not NULL). Caller frees. */
char *ssh_route_describe(const struct runbook *, const struct rb_target *,
    const struct rb_entity *, char **err);

/* For a console that draws often: the target of step as
 * ssh_route_describe says ("pos via bastion-dc1"), resolved once per
 * target and runbook and kept; the step's target name when it is no ssh
 * target or its route cannot be resolved without an entity. The string
 * stays valid until the runbook changes. */
const char *ssh_step_route(const struct runbook *, const struct rb_step *);

#endif
