/*
 * buf.h - a growable byte buffer, always NUL-terminated.
 *
 * A zeroed struct buf is an empty buffer. buf_free releases the storage and
 * leaves an empty buffer; buf_steal hands the storage (never NULL) to the
 * caller and leaves an empty buffer.
 */
#ifndef CUTOVER_BUF_H
#define CUTOVER_BUF_H

#include <stddef.h>

struct buf {
	char *data;
	size_t len;
	size_t cap;
};

void buf_add(struct buf *, const void *, size_t);
void buf_adds(struct buf *, const char *);
void buf_addc(struct buf *, char);
void buf_printf(struct buf *, const char *, ...) __attribute__((format(printf, 2, 3)));
void buf_reset(struct buf *);
void buf_free(struct buf *);
char *buf_steal(struct buf *);
/* The contents as a C string ("" when empty); valid until the next change. */
const char *buf_str(struct buf *);

#endif
