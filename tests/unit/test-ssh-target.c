/*
 * test-ssh-target.c - the route to an ssh target: runbook keys over
 * ~/.ssh/config, jump lists and ProxyJump, session keys, the entity's
 * host, StrictHostKeyChecking no refused unless the runbook says off, and
 * the description front ends show.
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

#include "diag.h"
#include "runbook.h"
#include "ssh-target.h"
#include "xmalloc.h"

static char home[256];

static void write_config(const char *);
static struct runbook *load(const char *, const char *);
static const struct rb_target *target(const struct runbook *, const char *);
static struct ssh_route *route(const struct runbook *, const char *);

static void
write_config(const char *text)
{
	char *path = xprintf("%s/.ssh/config", home);
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	free(path);
}

/* A runbook with the given targets: lines and one step of the given type
 * and target (NULL: a local step). */
static struct runbook *
load(const char *targets, const char *step)
{
	struct runbook *rb = NULL;
	struct diags d = { 0 };
	char *text = xprintf("cutover: 1\nname: t\ntargets:\n%s"
	    "phases:\n  - id: p\n    steps:\n"
	    "      - {id: s, type: %s, run: 'true'}\n", targets,
	    step != NULL ? step : "local");

	if (runbook_load_buffer("t.yaml", text, strlen(text), &rb, &d) != 0) {
		diags_print(&d, stderr);
		fail();
	}
	diags_free(&d);
	free(text);
	return rb;
}

static const struct rb_target *
target(const struct runbook *rb, const char *name)
{
	size_t i;

	for (i = 0; i < rb->ntargets; i++) {
		if (strcmp(rb->targets[i].name, name) == 0)
			return &rb->targets[i];
	}
	fail();
	return NULL;
}

static struct ssh_route *
route(const struct runbook *rb, const char *name)
{
	char *err = NULL;
	struct ssh_route *r = ssh_route_resolve(rb, target(rb, name), NULL, 0,
	    &err);

	if (r == NULL)
		fprintf(stderr, "%s\n", err);
	assert_non_null(r);
	return r;
}

/* The config fills what the runbook leaves out; the runbook wins. */
static void
test_config_and_runbook(void **state)
{
	struct runbook *rb;
	struct ssh_route *r;

	write_config("Host app1\n  HostName 10.0.0.5\n  Port 2200\n"
	    "  User ops\n  IdentityFile ~/.ssh/id_app\n  ConnectTimeout 3\n"
	    "  ServerAliveInterval 0\n"
	    "Host *\n  User nobody\n  UserKnownHostsFile ~/kh1 ~/kh2\n");
	rb = load("  a: {type: ssh, host: app1}\n"
	    "  b: {type: ssh, host: app1, user: root, port: 22, "
	    "known_hosts: /tmp/kh, host_key: accept-new}\n", NULL);
	r = route(rb, "a");
	assert_int_equal(r->n, 1);
	assert_string_equal(r->hops[0].host, "10.0.0.5");
	assert_int_equal(r->hops[0].port, 2200);
	assert_string_equal(r->hops[0].user, "ops");
	assert_int_equal(r->hops[0].nidentities, 0); /* the file is missing */
	assert_int_equal(r->hops[0].nknown_hosts, 2);
	assert_string_equal(r->hops[0].known_hosts[1] + strlen(home), "/kh2");
	assert_int_equal(r->hops[0].connect_timeout_ms, 3000);
	assert_int_equal(r->hops[0].keepalive_s, 0);
	assert_int_equal(r->hops[0].host_key, SSH_HOP_STRICT);
	assert_string_equal(r->hops[0].key, "ops@10.0.0.5:2200");
	ssh_route_free(r);
	r = route(rb, "b");
	assert_string_equal(r->hops[0].user, "root");
	assert_int_equal(r->hops[0].port, 22); /* explicit 22 wins too */
	assert_int_equal(r->hops[0].nknown_hosts, 1);
	assert_string_equal(r->hops[0].known_hosts[0], "/tmp/kh");
	assert_int_equal(r->hops[0].host_key, SSH_HOP_ACCEPT_NEW);
	ssh_route_free(r);
	runbook_free(rb);
}

/* jump: lists: the first hop's own route, then each hop through the one
 * before; keys carry the path, so targets behind one bastion share it. */
static void
test_jump_list(void **state)
{
	struct runbook *rb;
	struct ssh_route *r, *r2;
	char *d;

	write_config("");
	rb = load("  outer: {type: ssh, host: 192.0.2.1, user: o}\n"
	    "  bastion: {type: ssh, host: 10.0.0.4, user: b, jump: [outer]}\n"
	    "  mid: {type: ssh, host: 10.1.0.4, user: m, jump: [nowhere2]}\n"
	    "  app: {type: ssh, host: 10.2.0.5, port: 2222, user: a, "
	    "jump: [bastion, mid]}\n"
	    "  app2: {type: ssh, host: 10.2.0.6, user: a, jump: [bastion]}\n"
	    "  nowhere2: {type: ssh, host: 10.9.9.9}\n", NULL);
	r = route(rb, "app");
	assert_int_equal(r->n, 4);
	assert_string_equal(r->hops[0].name, "outer");
	assert_string_equal(r->hops[1].name, "bastion");
	assert_string_equal(r->hops[2].name, "mid"); /* its own jump ignored */
	assert_string_equal(r->hops[3].key, "o@192.0.2.1:22 > b@10.0.0.4:22 > "
	    "m@10.1.0.4:22 > a@10.2.0.5:2222");
	r2 = route(rb, "app2");
	assert_string_equal(r2->hops[1].key, r->hops[1].key);
	ssh_route_free(r);
	ssh_route_free(r2);
	d = ssh_route_describe(rb, target(rb, "app"), NULL, NULL);
	assert_string_equal(d, "app via outer, bastion, mid");
	free(d);
	d = ssh_route_describe(rb, target(rb, "outer"), NULL, NULL);
	assert_string_equal(d, "outer");
	free(d);
	runbook_free(rb);
	rb = load("  bastion: {type: ssh, host: 10.0.0.4}\n"
	    "  app: {type: ssh, host: 10.2.0.5, jump: [bastion]}\n"
	    "  pos: {type: ssh, host: \"${env:NO_SUCH_POS_HOST}\", "
	    "jump: [bastion]}\n", "ssh, target: app");
	assert_string_equal(ssh_step_route(rb, &rb->steps[0]),
	    "app via bastion");
	assert_ptr_equal(ssh_step_route(rb, &rb->steps[0]),
	    ssh_step_route(rb, &rb->steps[0])); /* resolved once */
	runbook_free(rb);
}

/* ProxyJump from the file, as ssh follows it; jump: in the runbook wins. */
static void
test_proxyjump(void **state)
{
	struct runbook *rb;
	struct ssh_route *r;

	write_config("Host bastion-dc1\n  HostName 10.0.0.4\n  User jb\n"
	    "Host app1\n  HostName 10.2.0.5\n  ProxyJump bastion-dc1\n"
	    "Host deep\n  ProxyJump bastion-dc1,u@app1:2200\n");
	rb = load("  app1: {type: ssh, host: app1, user: a}\n"
	    "  deep: {type: ssh, host: deep, user: a}\n"
	    "  direct: {type: ssh, host: 10.3.0.1}\n"
	    "  over: {type: ssh, host: app1, user: a, jump: [direct]}\n", NULL);
	r = route(rb, "app1");
	assert_int_equal(r->n, 2);
	assert_string_equal(r->hops[0].name, "bastion-dc1");
	assert_string_equal(r->hops[0].host, "10.0.0.4");
	assert_string_equal(r->hops[0].user, "jb");
	assert_string_equal(r->hops[1].host, "10.2.0.5");
	ssh_route_free(r);
	r = route(rb, "deep");
	assert_int_equal(r->n, 3);
	assert_string_equal(r->hops[1].host, "10.2.0.5");
	assert_string_equal(r->hops[1].user, "u");
	assert_int_equal(r->hops[1].port, 2200);
	ssh_route_free(r);
	r = route(rb, "over");
	assert_int_equal(r->n, 2);
	assert_string_equal(r->hops[0].name, "direct");
	ssh_route_free(r);
	runbook_free(rb);
}

/* StrictHostKeyChecking no: refused unless the runbook says off; a
 * ProxyJump loop; ssh_config: none; warnings. */
static void
test_refusals(void **state)
{
	struct runbook *rb;
	struct ssh_route *r;
	char *err = NULL;

	write_config("Host lax\n  StrictHostKeyChecking no\n"
	    "Host loop1\n  ProxyJump loop2\nHost loop2\n  ProxyJump loop1\n"
	    "Host fwd\n  ProxyCommand nc %h %p\n");
	rb = load("  lax: {type: ssh, host: lax}\n"
	    "  laxok: {type: ssh, host: lax, host_key: off}\n"
	    "  loop: {type: ssh, host: loop1}\n"
	    "  fwd: {type: ssh, host: fwd}\n"
	    "  plain: {type: ssh, host: loop1, ssh_config: none}\n", NULL);
	assert_null(ssh_route_resolve(rb, target(rb, "lax"), NULL, 0, &err));
	assert_non_null(strstr(err, "StrictHostKeyChecking no; refused"));
	free(err);
	r = route(rb, "laxok");
	assert_int_equal(r->hops[0].host_key, SSH_HOP_OFF);
	ssh_route_free(r);
	assert_null(ssh_route_resolve(rb, target(rb, "loop"), NULL, 0, &err));
	assert_non_null(strstr(err, "ProxyJump loop"));
	free(err);
	r = route(rb, "fwd");
	assert_int_equal(r->nwarnings, 1);
	assert_non_null(strstr(r->warnings[0], "ProxyCommand is not supported"));
	ssh_route_free(r);
	r = route(rb, "plain");
	assert_int_equal(r->n, 1);
	assert_string_equal(r->hops[0].host, "loop1");
	ssh_route_free(r);
	runbook_free(rb);
}

/* A target whose host is ${entity.pos_host}: one route per store, all
 * through the one bastion session. */
static void
test_entity_host(void **state)
{
	const char *text =
	    "cutover: 1\nname: t\n"
	    "entities:\n"
	    "  - {id: s1, vars: {pos_host: 10.17.0.5}}\n"
	    "  - {id: s2, vars: {pos_host: 10.42.0.5}}\n"
	    "targets:\n"
	    "  bastion: {type: ssh, host: 10.0.0.4, user: b}\n"
	    "  pos: {type: ssh, host: \"${entity.pos_host}\", user: pos, "
	    "jump: [bastion]}\n"
	    "phases:\n  - id: p\n    for_each: entity\n    steps:\n"
	    "      - {id: s, type: ssh, target: pos, run: 'true'}\n";
	struct runbook *rb = NULL;
	struct diags d = { 0 };
	struct ssh_route *r1, *r2;
	char *err = NULL;

	write_config("");
	if (runbook_load_buffer("t.yaml", text, strlen(text), &rb, &d) != 0) {
		diags_print(&d, stderr);
		fail();
	}
	diags_free(&d);
	r1 = ssh_route_resolve(rb, target(rb, "pos"), &rb->entities[0], 0,
	    &err);
	r2 = ssh_route_resolve(rb, target(rb, "pos"), &rb->entities[1], 0,
	    &err);
	assert_non_null(r1);
	assert_non_null(r2);
	assert_string_equal(r1->hops[1].host, "10.17.0.5");
	assert_string_equal(r2->hops[1].host, "10.42.0.5");
	assert_string_equal(r1->hops[0].key, r2->hops[0].key);
	assert_string_not_equal(r1->hops[1].key, r2->hops[1].key);
	ssh_route_free(r1);
	ssh_route_free(r2);
	assert_null(ssh_route_resolve(rb, target(rb, "pos"), NULL, 0, &err));
	free(err);
	runbook_free(rb);
}

static int
setup(void **state)
{
	char *dir;
	const char *tmp = getenv("TMPDIR");

	snprintf(home, sizeof home, "%s/test-ssh-target.XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	assert_non_null(mkdtemp(home));
	dir = xprintf("%s/.ssh", home);
	mkdir(dir, 0700);
	free(dir);
	setenv("HOME", home, 1);
	return 0;
}

static int
teardown(void **state)
{
	char *cmd = xprintf("rm -rf '%s'", home);

	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", home);
	free(cmd);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_and_runbook),
		cmocka_unit_test(test_jump_list),
		cmocka_unit_test(test_proxyjump),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_entity_host),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
