/*
 * web-sse.c - Server-Sent Events streams (web-sse.h): a list of clients,
 * each with the bytes it has yet to take.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "web-sse.h"
#include "xmalloc.h"

struct sse_client {
	struct web_sse *set;
	struct MHD_Connection *conn;
	struct buf out; /* bytes not taken yet, from off */
	size_t off;
	int suspended;
	int ending; /* end the stream once out is taken (or at once) */
	struct sse_client *prev, *next;
};

struct web_sse {
	struct sse_client *head;
	size_t n;
};

static ssize_t sse_read(void *, uint64_t, char *, size_t);
static void sse_free_client(void *);
static void sse_append(struct sse_client *, const char *, const char *,
    uint64_t);
static void sse_wake(struct sse_client *);

struct web_sse *
web_sse_new(void)
{
	return xcalloc(1, sizeof(struct web_sse));
}

void
web_sse_free(struct web_sse *set)
{
	free(set);
}

size_t
web_sse_count(const struct web_sse *set)
{
	return set->n;
}

struct MHD_Response *
web_sse_open(struct web_sse *set, struct MHD_Connection *c, const char *event,
    const char *first, uint64_t id)
{
	struct sse_client *cl = xcalloc(1, sizeof *cl);
	struct MHD_Response *resp;

	cl->set = set;
	cl->conn = c;
	/* The browser waits this long before it reconnects. */
	buf_adds(&cl->out, "retry: 1000\n\n");
	if (first != NULL)
		sse_append(cl, event, first, id);
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024,
	    sse_read, cl, sse_free_client);
	if (resp == NULL) {
		buf_free(&cl->out);
		free(cl);
		return NULL;
	}
	cl->next = set->head;
	if (set->head != NULL)
		set->head->prev = cl;
	set->head = cl;
	set->n++;
	return resp;
}

/* libmicrohttpd asks for what to send: the backlog, or nothing for now
 * (the stream is suspended until sse_wake). */
static ssize_t
sse_read(void *arg, uint64_t pos, char *out, size_t max)
{
	struct sse_client *cl = arg;
	size_t n = cl->out.len - cl->off;

	(void)pos;
	if (n > 0) {
		if (n > max)
			n = max;
		memcpy(out, cl->out.data + cl->off, n);
		cl->off += n;
		if (cl->off == cl->out.len) {
			buf_reset(&cl->out);
			cl->off = 0;
		}
		return (ssize_t)n;
	}
	if (cl->ending)
		return MHD_CONTENT_READER_END_OF_STREAM;
	MHD_suspend_connection(cl->conn);
	cl->suspended = 1;
	return 0;
}

/* The response is done with: unlink the client. */
static void
sse_free_client(void *arg)
{
	struct sse_client *cl = arg;

	if (cl->prev != NULL)
		cl->prev->next = cl->next;
	else
		cl->set->head = cl->next;
	if (cl->next != NULL)
		cl->next->prev = cl->prev;
	cl->set->n--;
	buf_free(&cl->out);
	free(cl);
}

/* Append one event to a client's backlog, data split into lines. */
static void
sse_append(struct sse_client *cl, const char *event, const char *data,
    uint64_t id)
{
	const char *p = data, *nl;
	size_t len;

	if (cl->out.len - cl->off > WEB_SSE_BACKLOG) {
		cl->ending = 1; /* too slow: it reconnects and catches up */
		return;
	}
	buf_printf(&cl->out, "event: %s\nid: %llu\n", event,
	    (unsigned long long)id);
	do {
		nl = strchr(p, '\n');
		len = nl != NULL ? (size_t)(nl - p) : strlen(p);
		if (len > 0 && p[len - 1] == '\r')
			len--;
		buf_adds(&cl->out, "data: ");
		buf_add(&cl->out, p, len);
		buf_addc(&cl->out, '\n');
		p = nl != NULL ? nl + 1 : p + len;
	} while (nl != NULL && *p != '\0');
	buf_addc(&cl->out, '\n');
}

/* Resume a suspended stream: it has something to send now. */
static void
sse_wake(struct sse_client *cl)
{
	if (!cl->suspended)
		return;
	cl->suspended = 0;
	MHD_resume_connection(cl->conn);
}

void
web_sse_send(struct web_sse *set, const char *event, const char *data,
    uint64_t id)
{
	struct sse_client *cl;

	for (cl = set->head; cl != NULL; cl = cl->next) {
		sse_append(cl, event, data, id);
		sse_wake(cl);
	}
}

void
web_sse_ping(struct web_sse *set)
{
	struct sse_client *cl;

	for (cl = set->head; cl != NULL; cl = cl->next) {
		buf_adds(&cl->out, ": ping\n\n");
		sse_wake(cl);
	}
}

void
web_sse_close_all(struct web_sse *set)
{
	struct sse_client *cl;

	for (cl = set->head; cl != NULL; cl = cl->next) {
		cl->ending = 1;
		sse_wake(cl);
	}
}
