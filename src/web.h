/*
 * web.h - the HTTP server of `cutover serve`: libmicrohttpd, driven by the
 * one event loop (loop.h) in its external mode, over the epoll descriptor
 * libmicrohttpd keeps: every request is handled on the loop's stack, one
 * at a time, between the loop's other work, so nothing here ever runs
 * beside anything else (no thread of libmicrohttpd's own).
 *
 * The server is read-only. Any method but GET and HEAD is answered 405.
 * With a token, every request must carry it: "Authorization: Bearer
 * TOKEN", or "?token=TOKEN" once, which is answered with a redirect to the
 * same path that sets an HttpOnly, SameSite=Strict cookie standing for
 * the token (a hash of it, never the token itself). Without a token the
 * server listens on a loopback address only and answers only requests
 * whose Host names a loopback host (so that a web page cannot reach it
 * through a DNS name rebound to 127.0.0.1).
 *
 * What is served (web_view.h has the pages): / the dashboard, /events its
 * Server-Sent Events, /api/status, /api/log/STEP, /report.html, /metrics,
 * /healthz.
 */
#ifndef CUTOVER_WEB_H
#define CUTOVER_WEB_H

#include <sys/socket.h>

#include "loop.h"
#include "web-view.h"

#define WEB_DEFAULT_LISTEN "127.0.0.1:8080"

/* Where to listen, parsed from "HOST:PORT" ("[V6ADDR]:PORT"). */
struct web_addr {
	struct sockaddr_storage ss;
	socklen_t len;
	int loopback; /* 127.0.0.0/8, ::1 */
	int port;     /* as given; 0: any free one */
	char host[64]; /* the address, numeric ("127.0.0.1", "::1") */
};

struct web;

/* Parse and resolve spec into *a: 0, or -1 with a one-line *err (free
 * it). */
int web_addr_parse(const char *spec, struct web_addr *a, char **err);

/*
 * Read the token of path (its first line, surrounding blanks dropped):
 * 0 with *token (free it), or -1 with a one-line *err. The file must be
 * readable by its owner only, and the token at least 16 characters.
 */
int web_token_read(const char *path, char **token, char **err);

/*
 * Listen on a (token NULL: loopback only, the caller checked) and serve
 * view through loop, looking at the store every WEB_POLL_MS and pushing
 * the dashboard to the browsers when it changed. The view is borrowed
 * and must outlive the server. NULL with a one-line *err when it cannot
 * listen.
 */
struct web *web_start(struct loop *, const struct web_addr *a,
    const char *token, struct web_view *view, char **err);
/* The port listened on (the one picked for port 0). */
int web_port(const struct web *);
/* Stop serving: end the event streams, close every connection. */
void web_stop(struct web *);

#endif
