/*
 * outbuf.h - the captured output of one attempt: redacted and bounded.
 *
 * Secrets are replaced by "********" before a byte is kept; a secret split
 * across two reads is still caught, since up to (longest secret - 1) bytes
 * are held back until the next read or outbuf_close(). What is kept is the
 * first OUTBUF_HEAD bytes and the last OUTBUF_TAIL bytes; anything between
 * is dropped and replaced, when rendered, by one line saying how much.
 */
#ifndef CUTOVER_OUTBUF_H
#define CUTOVER_OUTBUF_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define OUTBUF_HEAD (64 * 1024)
#define OUTBUF_TAIL (1024 * 1024)
#define OUTBUF_MASK "********"

struct outbuf {
	char **secrets; /* borrowed, NULL-terminated; may be NULL */
	size_t longest;
	struct buf hold; /* not yet redacted */
	struct buf head;
	char *tail; /* ring of OUTBUF_TAIL bytes, allocated on demand */
	size_t tail_len, tail_pos;
	int64_t total; /* bytes kept or dropped, after redaction */
	int dirty;     /* changed since the caller last cleared it */
};

void outbuf_init(struct outbuf *, char **secrets);
void outbuf_add(struct outbuf *, const char *, size_t);
/* The stream ended: redact and keep what was held back. */
void outbuf_close(struct outbuf *);
/* Head, omission line, tail, as one new NUL-terminated string. */
char *outbuf_render(const struct outbuf *, size_t *len);
void outbuf_free(struct outbuf *);

/* Replace every secret in s (in place semantics: returns a new string). */
char *outbuf_redact(char **secrets, const char *s);

#endif
