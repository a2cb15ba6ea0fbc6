/*
 * web-sse.h - Server-Sent Events streams of `cutover serve` (/events):
 * each browser holds one response open; an event sent goes to every
 * stream at once. A stream with nothing to send is suspended in
 * libmicrohttpd (no polling, no busy loop) and resumed when an event
 * comes; the caller then runs the daemon (web.c does it on the loop).
 *
 * A stream whose client reads too slowly (more than WEB_SSE_BACKLOG
 * bytes not yet taken) is ended; the browser's EventSource reconnects and
 * gets the page as it is then.
 */
#ifndef CUTOVER_WEB_SSE_H
#define CUTOVER_WEB_SSE_H

#include <stddef.h>
#include <stdint.h>

#include <microhttpd.h>

#define WEB_SSE_BACKLOG (8u * 1024 * 1024)

struct web_sse;

struct web_sse *web_sse_new(void);
/* Free the set; every stream must have been closed (web_sse_close_all
 * and the daemon stopped). */
void web_sse_free(struct web_sse *);
/* A new stream for connection c (its response; the caller queues and
 * destroys it), starting with event first (NULL: none) as event id. */
struct MHD_Response *web_sse_open(struct web_sse *, struct MHD_Connection *c,
    const char *event, const char *first, uint64_t id);
/* Send event (name, data: any text, split into data: lines; id) to every
 * stream. */
void web_sse_send(struct web_sse *, const char *event, const char *data,
    uint64_t id);
/* A comment line to every stream: keeps proxies from closing idle
 * streams, and finds clients that went away. */
void web_sse_ping(struct web_sse *);
/* End every stream (before the daemon stops). */
void web_sse_close_all(struct web_sse *);
/* Streams open now. */
size_t web_sse_count(const struct web_sse *);

#endif
