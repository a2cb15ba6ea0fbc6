/* outbuf.c - bounded, redacted capture of a command's output. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outbuf.h"
#include "xmalloc.h"

static void outbuf_keep(struct outbuf *, const char *, size_t);
static size_t outbuf_match(char **, const char *, size_t, int *);
static void outbuf_scan(struct outbuf *, int);

void
outbuf_init(struct outbuf *ob, char **secrets)
{
	size_t i;

	memset(ob, 0, sizeof *ob);
	ob->secrets = secrets;
	for (i = 0; secrets != NULL && secrets[i] != NULL; i++) {
		if (strlen(secrets[i]) > ob->longest)
			ob->longest = strlen(secrets[i]);
	}
}

/* Keep redacted bytes: fill the head, then the tail ring. */
static void
outbuf_keep(struct outbuf *ob, const char *p, size_t n)
{
	size_t room, chunk;

	ob->total += (int64_t)n;
	ob->dirty = 1;
	if (ob->head.len < OUTBUF_HEAD) {
		room = OUTBUF_HEAD - ob->head.len;
		chunk = n < room ? n : room;
		buf_add(&ob->head, p, chunk);
		p += chunk;
		n -= chunk;
	}
	if (n == 0)
		return;
	if (ob->tail == NULL)
		ob->tail = xmalloc(OUTBUF_TAIL);
	if (n > OUTBUF_TAIL) {
		p += n - OUTBUF_TAIL;
		n = OUTBUF_TAIL;
	}
	while (n > 0) {
		chunk = OUTBUF_TAIL - ob->tail_pos;
		if (chunk > n)
			chunk = n;
		memcpy(ob->tail + ob->tail_pos, p, chunk);
		ob->tail_pos = (ob->tail_pos + chunk) % OUTBUF_TAIL;
		if (ob->tail_len < OUTBUF_TAIL)
			ob->tail_len = ob->tail_len + chunk > OUTBUF_TAIL
			    ? OUTBUF_TAIL : ob->tail_len + chunk;
		p += chunk;
		n -= chunk;
	}
}

/*
 * Does a secret start at p (n bytes available)? Returns the length of the
 * longest that does; sets *partial when the available bytes are a proper
 * prefix of one (longer than any that matched: it may still match whole,
 * and masking a shorter one that is its prefix would show its tail).
 */
static size_t
outbuf_match(char **secrets, const char *p, size_t n, int *partial)
{
	size_t i, len, best = 0;

	*partial = 0;
	for (i = 0; secrets[i] != NULL; i++) {
		if (secrets[i][0] != *p)
			continue;
		len = strlen(secrets[i]);
		if (len <= n && memcmp(p, secrets[i], len) == 0) {
			if (len > best)
				best = len;
		} else if (len > n && memcmp(p, secrets[i], n) == 0)
			*partial = 1;
	}
	return best;
}

/* Redact and keep what is held back; at the end of stream keep it all. */
static void
outbuf_scan(struct outbuf *ob, int final)
{
	const char *p = ob->hold.data;
	size_t n = ob->hold.len, i = 0, start = 0, m;
	int partial;

	while (i < n) {
		m = outbuf_match(ob->secrets, p + i, n - i, &partial);
		if (partial && !final)
			break; /* wait: a longer secret may still match here */
		if (m > 0) {
			outbuf_keep(ob, p + start, i - start);
			outbuf_keep(ob, OUTBUF_MASK, strlen(OUTBUF_MASK));
			i += m;
			start = i;
		} else
			i++;
	}
	outbuf_keep(ob, p + start, i - start);
	memmove(ob->hold.data, p + i, n - i);
	ob->hold.len = n - i;
}

void
outbuf_add(struct outbuf *ob, const char *p, size_t n)
{
	if (ob->longest == 0) {
		outbuf_keep(ob, p, n);
		return;
	}
	buf_add(&ob->hold, p, n);
	outbuf_scan(ob, 0);
}

void
outbuf_close(struct outbuf *ob)
{
	if (ob->hold.len > 0)
		outbuf_scan(ob, 1);
}

char *
outbuf_render(const struct outbuf *ob, size_t *len)
{
	struct buf b = { 0 };
	int64_t dropped;
	size_t start;

	buf_add(&b, ob->head.data != NULL ? ob->head.data : "", ob->head.len);
	dropped = ob->total - (int64_t)ob->head.len - (int64_t)ob->tail_len;
	if (dropped > 0)
		buf_printf(&b, "%s[cutover: %lld bytes of output omitted]\n",
		    (b.len > 0 && b.data[b.len - 1] != '\n') ? "\n" : "",
		    (long long)dropped);
	if (ob->tail_len > 0) {
		start = ob->tail_len < OUTBUF_TAIL ? 0 : ob->tail_pos;
		buf_add(&b, ob->tail + start, ob->tail_len - start);
		if (start > 0)
			buf_add(&b, ob->tail, start);
	}
	*len = b.len;
	return buf_steal(&b);
}

void
outbuf_free(struct outbuf *ob)
{
	buf_free(&ob->hold);
	buf_free(&ob->head);
	free(ob->tail);
	ob->tail = NULL;
	ob->tail_len = ob->tail_pos = 0;
}

char *
outbuf_redact(char **secrets, const char *s)
{
	struct outbuf ob;
	char *out;
	size_t len;

	outbuf_init(&ob, secrets);
	outbuf_add(&ob, s, strlen(s));
	outbuf_close(&ob);
	out = outbuf_render(&ob, &len);
	outbuf_free(&ob);
	return out;
}
