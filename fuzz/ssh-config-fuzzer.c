/*
 * ssh-config-fuzzer.c - libFuzzer target for the ssh client configuration
 * resolver: any input must resolve or fail with one error line, and its
 * ProxyJump chain must resolve or fail, never crash, leak or hang.
 *
 * The input's first line is the host alias, the rest is written to
 * HOME/.ssh/config in a private temporary HOME, so that Include (relative
 * to ~/.ssh, including itself) and ProxyJump hops read it again.
 *
 * Build and run from the top of the tree (after ./configure, for config.h):
 *
 *	make fuzz
 *	cp -r fuzz/ssh-config-corpus /tmp/ssh-corpus
 *	fuzz/ssh-config-fuzzer -dict=fuzz/ssh-config.dict \
 *	    -max_total_time=600 /tmp/ssh-corpus
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ssh-config.h"
#include "xmalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void fuzz_home(void);
static void fuzz_cleanup(void);

static char home[64];
static char *config;

/* Remove the private HOME at exit. */
static void
fuzz_cleanup(void)
{
	char *d = xprintf("%s/.ssh", home);

	unlink(config);
	rmdir(d);
	rmdir(home);
	free(d);
}

/* A private HOME with a .ssh directory, made once. */
static void
fuzz_home(void)
{
	char *d;

	if (config != NULL)
		return;
	snprintf(home, sizeof home, "/tmp/ssh-config-fuzz.XXXXXX");
	if (mkdtemp(home) == NULL)
		abort();
	d = xprintf("%s/.ssh", home);
	mkdir(d, 0700);
	free(d);
	config = xprintf("%s/.ssh/config", home);
	atexit(fuzz_cleanup);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ssh_conf_query q = { 0 };
	struct ssh_conf *c, **hops;
	const char *nl;
	char *alias, *err = NULL;
	size_t n;
	FILE *fp;

	if (size > 65536)
		return 0;
	fuzz_home();
	nl = memchr(data, '\n', size);
	if (nl == NULL || nl == (const char *)data || memchr(data, '\0',
	    (size_t)(nl - (const char *)data)) != NULL)
		return 0;
	alias = xstrndup((const char *)data, (size_t)(nl - (const char *)data));
	if ((fp = fopen(config, "w")) == NULL)
		abort();
	fwrite(nl + 1, 1, size - (size_t)(nl + 1 - (const char *)data), fp);
	fclose(fp);
	q.alias = alias;
	q.local_user = "fuzz";
	q.home = home;
	if ((c = ssh_config_resolve_query(&q, &err)) != NULL) {
		if (ssh_config_resolve_jumps(c, &hops, &n, &err) == 0)
			ssh_config_free_hops(hops, n);
		ssh_config_free(c);
	}
	free(err);
	free(alias);
	return 0;
}
