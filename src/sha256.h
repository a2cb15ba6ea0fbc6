/* sha256.h - SHA-256 as lowercase hex (OpenSSL libcrypto). */
#ifndef CUTOVER_SHA256_H
#define CUTOVER_SHA256_H

#include <stddef.h>

#define SHA256_HEX_LEN 64

struct sha256_ctx;

/* Hash len bytes of data into out (65 bytes: 64 hex digits and a NUL). */
void sha256_hex(const void *data, size_t len, char out[SHA256_HEX_LEN + 1]);

/* Incremental hashing; sha256_end frees the context. */
struct sha256_ctx *sha256_begin(void);
void sha256_add(struct sha256_ctx *, const void *, size_t);
/* Add a string and its terminating NUL, so fields cannot run together. */
void sha256_add_field(struct sha256_ctx *, const char *);
void sha256_end(struct sha256_ctx *, char out[SHA256_HEX_LEN + 1]);

#endif
