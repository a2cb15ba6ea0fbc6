/* sha256.c - SHA-256 through OpenSSL's EVP interface. */
#include "config.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sha256.h"
#include "xmalloc.h"

struct sha256_ctx {
	EVP_MD_CTX *md;
};

/*
 * OpenSSL 3 looks the algorithm up on every init unless it is fetched
 * once; and one spare context is kept, since hashes here are taken one
 * after another (a runbook of 10,000 steps hashes 10,000 definitions).
 */
static EVP_MD *sha256_md;
static struct sha256_ctx *sha256_spare;

struct sha256_ctx *
sha256_begin(void)
{
	struct sha256_ctx *c = sha256_spare;

	if (sha256_md == NULL &&
	    (sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL)
		fatalx(1, "SHA-256 unavailable in libcrypto");
	if (c != NULL)
		sha256_spare = NULL;
	else {
		c = xmalloc(sizeof *c);
		if ((c->md = EVP_MD_CTX_new()) == NULL)
			fatalx(1, "out of memory");
	}
	if (EVP_DigestInit_ex2(c->md, sha256_md, NULL) != 1)
		fatalx(1, "SHA-256 unavailable in libcrypto");
	return c;
}

void
sha256_add(struct sha256_ctx *c, const void *p, size_t n)
{
	EVP_DigestUpdate(c->md, p, n);
}

void
sha256_add_field(struct sha256_ctx *c, const char *s)
{
	if (s == NULL)
		s = "";
	EVP_DigestUpdate(c->md, s, strlen(s) + 1);
}

void
sha256_end(struct sha256_ctx *c, char out[SHA256_HEX_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0, i;

	EVP_DigestFinal_ex(c->md, md, &n);
	if (sha256_spare == NULL)
		sha256_spare = c;
	else {
		EVP_MD_CTX_free(c->md);
		free(c);
	}
	for (i = 0; i < n && i < 32; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[SHA256_HEX_LEN] = '\0';
}

void
sha256_hex(const void *data, size_t len, char out[SHA256_HEX_LEN + 1])
{
	struct sha256_ctx *c = sha256_begin();

	sha256_add(c, data, len);
	sha256_end(c, out);
}
