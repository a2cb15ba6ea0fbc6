/*
 * sha256-none.c - the sha256.h interface for the front, which hashes
 * nothing: lint checks a runbook without the hashes a run needs
 * (runbook_check), and --list-steps reads it without them
 * (runbook_load_unhashed). Linking libcrypto for no use would cost every
 * lint its start-up; a call here is a bug, and says so.
 */
#include "config.h"

#include <stddef.h>

#include "sha256.h"
#include "xmalloc.h"

static void sha256_none(void) __attribute__((noreturn));

static void
sha256_none(void)
{
	fatalx(1, "internal error: the front was asked for a hash");
}

void
sha256_hex(const void *data, size_t len, char out[SHA256_HEX_LEN + 1])
{
	(void)data;
	(void)len;
	(void)out;
	sha256_none();
}

struct sha256_ctx *
sha256_begin(void)
{
	sha256_none();
}

void
sha256_add(struct sha256_ctx *c, const void *p, size_t n)
{
	(void)c;
	(void)p;
	(void)n;
	sha256_none();
}

void
sha256_add_field(struct sha256_ctx *c, const char *s)
{
	(void)c;
	(void)s;
	sha256_none();
}

void
sha256_end(struct sha256_ctx *c, char out[SHA256_HEX_LEN + 1])
{
	(void)c;
	(void)out;
	sha256_none();
}
