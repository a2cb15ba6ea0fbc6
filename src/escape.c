/* escape.c - text from outside cutover, made safe to show on a terminal. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "escape.h"
#include "xmalloc.h"

/* The state of an escaping stream: where it writes, and the start of a
 * UTF-8 character that the last write cut short. */
struct escape_stream {
	int fd;
	unsigned char tail[4];
	size_t ntail;
};

static size_t utf8_decode(const unsigned char *, size_t, uint32_t *, int *);
static int escape_keep(uint32_t, int);
static void escape_char(struct buf *, uint32_t);
static size_t escape_run(struct buf *, const unsigned char *, size_t, int,
    int);
static int write_all(int, const char *, size_t);
static ssize_t escape_stream_write(void *, const char *, size_t);
static int escape_stream_close(void *);
static int escape_stream_tail(struct escape_stream *);
static FILE *escape_stream_open(FILE *, int, struct escape_stream **);
static void escape_streams_end(void);

static FILE *escape_out, *escape_err;
static struct escape_stream *escape_out_s, *escape_err_s;

/*
 * The length of the UTF-8 character at p (len > 0 bytes) and its code
 * point, or 0 if there is none: not UTF-8, overlong, a surrogate, past
 * U+10FFFF, or (*cut set) a valid start that len cuts short.
 */
static size_t
utf8_decode(const unsigned char *p, size_t len, uint32_t *cp, int *cut)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n, i;

	*cut = 0;
	*cp = p[0];
	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4;
	else
		return 0;
	*cp &= 0x7f >> n;
	lo = p[0] == 0xe0 ? 0xa0 : p[0] == 0xf0 ? 0x90 : 0x80;
	hi = p[0] == 0xed ? 0x9f : p[0] == 0xf4 ? 0x8f : 0xbf;
	for (i = 1; i < n; i++) {
		if (i == len) {
			*cut = 1;
			return 0;
		}
		if (p[i] < lo || p[i] > hi)
			return 0;
		*cp = (*cp << 6) | (p[i] & 0x3f);
		lo = 0x80;
		hi = 0xbf;
	}
	return n;
}

/* Is code point c shown as it is? */
static int
escape_keep(uint32_t c, int flags)
{
	if (c == '\n' || c == '\t')
		return (flags & ESCAPE_BLOCK) != 0;
	if (c < 0x20 || (c >= 0x7f && c <= 0x9f))
		return 0;
	/* Characters that reorder text or hide it: bidi marks, embeddings,
	 * overrides and isolates, zero-width characters, line and paragraph
	 * separators, the byte order mark, annotation and tag characters. */
	return !(c == 0x061c || (c >= 0x200b && c <= 0x200f) ||
	    (c >= 0x2028 && c <= 0x202e) || (c >= 0x2060 && c <= 0x2069) ||
	    c == 0xfeff || (c >= 0xfff9 && c <= 0xfffb) ||
	    (c >= 0xe0000 && c <= 0xe007f));
}

/* The visible form of code point c. */
static void
escape_char(struct buf *b, uint32_t c)
{
	if (c == 0x1b)
		buf_adds(b, "\\e");
	else if (c == '\r')
		buf_adds(b, "\\r");
	else if (c == '\n')
		buf_adds(b, "\\n");
	else if (c == '\t')
		buf_adds(b, "\\t");
	else if (c < 0x80)
		buf_printf(b, "\\x%02x", (unsigned)c);
	else if (c <= 0xffff)
		buf_printf(b, "\\u%04x", (unsigned)c);
	else
		buf_printf(b, "\\U%08x", (unsigned)c);
}

/*
 * Escape len bytes at p onto b (NULL: only count). Returns the bytes
 * consumed: the first one that would be escaped when b is NULL, else all,
 * except that unless final a character cut short at the end is left.
 */
static size_t
escape_run(struct buf *b, const unsigned char *p, size_t len, int flags,
    int final)
{
	size_t i = 0, kept = 0, n;
	uint32_t c;
	int cut;

	while (i < len) {
		n = utf8_decode(p + i, len - i, &c, &cut);
		if (n > 0 && escape_keep(c, flags)) {
			i += n;
			continue;
		}
		if ((cut && !final) || b == NULL)
			break;
		buf_add(b, p + kept, i - kept);
		if (n == 0)
			buf_printf(b, "\\x%02x", p[i]);
		else
			escape_char(b, c);
		i += n > 0 ? n : 1;
		kept = i;
	}
	if (b != NULL)
		buf_add(b, p + kept, i - kept);
	return i;
}

void
escape_buf(struct buf *b, const char *s, size_t len, int flags)
{
	escape_run(b, (const unsigned char *)s, len, flags, 1);
}

char *
escape_str(const char *s, int flags)
{
	struct buf b = { 0 };

	escape_buf(&b, s, strlen(s), flags);
	return buf_steal(&b);
}

size_t
escape_span(const char *s, size_t len, int flags)
{
	return escape_run(NULL, (const unsigned char *)s, len, flags, 1);
}

/* Write all of p to fd; 0 or -1. */
static int
write_all(int fd, const char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The write function of an escaping stream. */
static ssize_t
escape_stream_write(void *cookie, const char *p, size_t len)
{
	struct escape_stream *s = cookie;
	struct buf in = { 0 }, out = { 0 };
	size_t used;
	int rc;

	if (len == 0)
		return 0;
	buf_add(&in, s->tail, s->ntail);
	buf_add(&in, p, len);
	used = escape_run(&out, (const unsigned char *)in.data, in.len,
	    ESCAPE_BLOCK, 0);
	s->ntail = in.len - used;
	memcpy(s->tail, in.data + used, s->ntail);
	rc = write_all(s->fd, out.data, out.len);
	buf_free(&in);
	buf_free(&out);
	return rc == 0 ? (ssize_t)len : -1;
}

/* Show what is left of a character the last write cut short. */
static int
escape_stream_tail(struct escape_stream *s)
{
	struct buf out = { 0 };
	int rc;

	escape_buf(&out, (const char *)s->tail, s->ntail, ESCAPE_BLOCK);
	s->ntail = 0;
	rc = write_all(s->fd, out.data, out.len);
	buf_free(&out);
	return rc;
}

/* The close function. */
static int
escape_stream_close(void *cookie)
{
	struct escape_stream *s = cookie;
	int rc = escape_stream_tail(s);

	if (s == escape_out_s)
		escape_out_s = NULL;
	if (s == escape_err_s)
		escape_err_s = NULL;
	free(s);
	return rc;
}

/* At exit: the streams flushed, and the end of a cut character shown. */
static void
escape_streams_end(void)
{
	if (escape_out_s != NULL && fflush(escape_out) == 0)
		escape_stream_tail(escape_out_s);
	if (escape_err_s != NULL && fflush(escape_err) == 0)
		escape_stream_tail(escape_err_s);
}

/* An escaping stream writing to the terminal of f, or NULL if f is not on
 * a terminal. */
static FILE *
escape_stream_open(FILE *f, int mode, struct escape_stream **sp)
{
	cookie_io_functions_t io = {
		.write = escape_stream_write,
		.close = escape_stream_close,
	};
	struct escape_stream *s;
	FILE *nf;
	int fd = fileno(f);

	if (fd < 0 || !isatty(fd))
		return NULL;
	s = xcalloc(1, sizeof *s);
	s->fd = fd;
	if ((nf = fopencookie(s, "w", io)) == NULL) {
		free(s);
		return NULL;
	}
	setvbuf(nf, NULL, mode, mode == _IONBF ? 0 : BUFSIZ);
	fflush(f);
	*sp = s;
	return nf;
}

void
escape_streams(int out, int err)
{
	static int registered;
	FILE *f;

	if (out && escape_out == NULL &&
	    (f = escape_stream_open(stdout, _IOLBF, &escape_out_s)) != NULL)
		stdout = escape_out = f;
	if (err && escape_err == NULL &&
	    (f = escape_stream_open(stderr, _IONBF, &escape_err_s)) != NULL)
		stderr = escape_err = f;
	if ((escape_out != NULL || escape_err != NULL) && !registered)
		registered = atexit(escape_streams_end) == 0;
}

int
escape_on(FILE *f)
{
	return f != NULL && (f == escape_out || f == escape_err);
}

const char *
escape_field(struct escape_list *l, FILE *f, const char *s)
{
	if (s == NULL || !escape_on(f) ||
	    escape_span(s, strlen(s), ESCAPE_LINE) == strlen(s))
		return s;
	l->v = xreallocarray(l->v, l->n + 1, sizeof *l->v);
	l->v[l->n] = escape_str(s, ESCAPE_LINE);
	return l->v[l->n++];
}

void
escape_list_free(struct escape_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}
