/*
 * web.c - the HTTP server of `cutover serve` (web.h): libmicrohttpd in its
 * external mode on the loop, the routes, the rules every answer follows
 * (methods, token, security headers), and the pushes to /events.
 *
 * libmicrohttpd keeps its sockets in an epoll set whose descriptor the
 * loop watches; when it is readable, or when the time libmicrohttpd asks
 * for has come (MHD_get_timeout, looked at before every sleep), the loop
 * calls MHD_run, which answers what is ready and returns. Requests are
 * thus handled on the loop's one thread, never beside the store's reads.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "engine.h"
#include "loop.h"
#include "web-view.h"
#include "web-auth.h"
#include "web-sse.h"
#include "web.h"
#include "xmalloc.h"

#define WEB_POLL_MS 100     /* look at the store this often */
#define WEB_PUSH_MIN_MS 200 /* at most this often a push to browsers */
#define WEB_REFRESH_MS 10000 /* an open run's clocks: push this often */
#define WEB_PING_MS 15000   /* a comment to idle streams */
#define WEB_CONN_LIMIT 256
#define WEB_CONN_TIMEOUT_S 60

struct web {
	struct loop *loop;
	struct MHD_Daemon *d;
	struct loop_io *io;
	struct loop_timer *timer; /* libmicrohttpd's timeout */
	struct loop_timer *tick;  /* WEB_POLL_MS */
	struct engine_live *live; /* the store's notice of commits, if any */
	struct web_view *view;
	struct web_sse *sse;
	struct web_auth auth;
	int port;
	int dirty;         /* the store changed since the last push */
	int64_t pushed_at; /* loop_now of the last push */
	int64_t push_gap;  /* the least time between pushes */
	int64_t pinged_at;
};

/* One path and what answers it. */
struct web_route {
	const char *path;
	int prefix; /* path is a prefix, the rest is the argument */
	void (*page)(struct web *, const char *arg, struct web_page *);
};

static void route_dash(struct web *, const char *, struct web_page *);
static void route_status(struct web *, const char *, struct web_page *);
static void route_log(struct web *, const char *, struct web_page *);
static void route_report(struct web *, const char *, struct web_page *);
static void route_metrics(struct web *, const char *, struct web_page *);
static void route_health(struct web *, const char *, struct web_page *);
static enum MHD_Result web_handle(void *, struct MHD_Connection *,
    const char *, const char *, const char *, const char *, size_t *,
    void **);
static enum MHD_Result web_refuse(struct web *, struct MHD_Connection *,
    const char *, enum web_auth_verdict);
static enum MHD_Result web_send(struct MHD_Connection *, int,
    const char *, const char *, size_t, const char *);
static enum MHD_Result web_text(struct MHD_Connection *, int,
    const char *);
static enum MHD_Result web_send_page(struct MHD_Connection *,
    struct web_page *);
static void web_body_release(void *);
static enum MHD_Result web_queue(struct MHD_Connection *, int,
    struct MHD_Response *, const char *);
static enum MHD_Result web_events(struct web *, struct MHD_Connection *,
    int);
static const struct web_route *web_route_find(const char *, const char **);
static void web_on_io(int, short, void *);
static void web_on_timer(void *);
static void web_on_tick(void *);
static void web_on_live(void *);
static void web_before_poll(void *);
static void web_push(struct web *);

static const struct web_route web_routes[] = {
	{ "/", 0, route_dash },
	{ "/index.html", 0, route_dash },
	{ "/api/status", 0, route_status },
	{ "/api/log/", 1, route_log },
	{ "/report.html", 0, route_report },
	{ "/metrics", 0, route_metrics },
	{ "/healthz", 0, route_health },
};

static void
route_dash(struct web *w, const char *arg, struct web_page *p)
{
	web_view_dash(w->view, 0, p);
}

static void
route_status(struct web *w, const char *arg, struct web_page *p)
{
	web_view_status(w->view, p);
}

static void
route_log(struct web *w, const char *arg, struct web_page *p)
{
	web_view_log(w->view, arg, p);
}

static void
route_report(struct web *w, const char *arg, struct web_page *p)
{
	web_view_report(w->view, p);
}

static void
route_metrics(struct web *w, const char *arg, struct web_page *p)
{
	web_view_metrics(w->view, p);
}

static void
route_health(struct web *w, const char *arg, struct web_page *p)
{
	web_view_health(w->view, p);
}

struct web *
web_start(struct loop *loop, const struct web_addr *a, const char *token,
    struct web_view *view, char **err)
{
	struct web *w = xcalloc(1, sizeof *w);
	const union MHD_DaemonInfo *info;
	unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME;

	errno = 0;
	if (a->ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	w->d = MHD_start_daemon(flags, (uint16_t)a->port, NULL, NULL,
	    web_handle, w, MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)&a->ss,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)WEB_CONN_LIMIT,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)WEB_CONN_TIMEOUT_S,
	    MHD_OPTION_END);
	if (w->d == NULL || (info = MHD_get_daemon_info(w->d,
	    MHD_DAEMON_INFO_EPOLL_FD)) == NULL) {
		xasprintf(err, "cannot listen there: %s", errno != 0
		    ? strerror(errno) : "in use, or not this machine's address");
		if (w->d != NULL)
			MHD_stop_daemon(w->d);
		free(w);
		return NULL;
	}
	w->loop = loop;
	w->view = view;
	w->sse = web_sse_new();
	web_auth_init(&w->auth, token);
	w->io = loop_io_add(loop, info->epoll_fd, POLLIN, web_on_io, w);
	info = MHD_get_daemon_info(w->d, MHD_DAEMON_INFO_BIND_PORT);
	w->port = info != NULL ? info->port : a->port;
	loop_before_poll(loop, web_before_poll, w);
	w->tick = loop_timer_add(loop, WEB_POLL_MS, web_on_tick, w);
	/* PostgreSQL tells of commits at once; a state file is polled. */
	w->live = engine_live_watch_state(web_view_state(view), loop,
	    web_on_live, w);
	w->pushed_at = w->pinged_at = loop_now();
	w->push_gap = WEB_PUSH_MIN_MS;
	return w;
}

int
web_port(const struct web *w)
{
	return w->port;
}

void
web_stop(struct web *w)
{
	if (w == NULL)
		return;
	web_sse_close_all(w->sse);
	MHD_run(w->d);
	loop_before_poll_remove(w->loop, web_before_poll, w);
	if (w->timer != NULL)
		loop_timer_cancel(w->loop, w->timer);
	loop_timer_cancel(w->loop, w->tick);
	engine_live_stop(w->live);
	loop_io_remove(w->loop, w->io);
	MHD_stop_daemon(w->d);
	web_sse_free(w->sse);
	web_auth_free(&w->auth);
	free(w);
}

/* libmicrohttpd has sockets ready. */
static void
web_on_io(int fd, short revents, void *arg)
{
	struct web *w = arg;

	MHD_run(w->d);
}

/* libmicrohttpd's time has come (a timeout, a resumed stream). */
static void
web_on_timer(void *arg)
{
	struct web *w = arg;

	w->timer = NULL;
	MHD_run(w->d);
}

/* Before the loop sleeps: wake up when libmicrohttpd wants to run. */
static void
web_before_poll(void *arg)
{
	struct web *w = arg;
	MHD_UNSIGNED_LONG_LONG ms;

	if (w->timer != NULL)
		loop_timer_cancel(w->loop, w->timer);
	w->timer = NULL;
	if (MHD_get_timeout(w->d, &ms) == MHD_YES)
		w->timer = loop_timer_add(w->loop, (int64_t)ms, web_on_timer, w);
}

/* Every WEB_POLL_MS: has the store changed? Push to the browsers (at
 * most every WEB_PUSH_MIN_MS), and now and then anyway. */
static void
web_on_tick(void *arg)
{
	struct web *w = arg;
	int64_t now = loop_now();

	w->tick = loop_timer_add(w->loop, WEB_POLL_MS, web_on_tick, w);
	if (web_view_poll(w->view))
		w->dirty = 1;
	if (web_sse_count(w->sse) == 0)
		return;
	if ((w->dirty && now - w->pushed_at >= w->push_gap) ||
	    (web_view_open(w->view) && now - w->pushed_at >= WEB_REFRESH_MS))
		web_push(w);
	else if (now - w->pinged_at >= WEB_PING_MS) {
		web_sse_ping(w->sse);
		w->pinged_at = now;
		MHD_run(w->d);
	}
}

/* The store told of a commit: push now unless one was sent too lately
 * (the tick sends it then). */
static void
web_on_live(void *arg)
{
	struct web *w = arg;

	if (web_view_poll(w->view))
		w->dirty = 1;
	if (w->dirty && web_sse_count(w->sse) > 0 &&
	    loop_now() - w->pushed_at >= w->push_gap)
		web_push(w);
}

/*
 * Send the dashboard as it is now to every stream. Building it takes the
 * loop's time (a quarter of a second for thousands of steps): pushes are
 * spaced by three times that at least, so that answering requests keeps
 * most of the loop while a busy run changes all the time.
 */
static void
web_push(struct web *w)
{
	struct web_page p;
	int64_t start = loop_now();

	web_view_dash(w->view, 1, &p);
	web_sse_send(w->sse, "dash", buf_str(&p.body->b),
	    web_view_gen(w->view));
	w->dirty = 0;
	w->pushed_at = w->pinged_at = loop_now();
	w->push_gap = 3 * (w->pushed_at - start);
	if (w->push_gap < WEB_PUSH_MIN_MS)
		w->push_gap = WEB_PUSH_MIN_MS;
	MHD_run(w->d);
}

/* The route of path, and its argument for a prefix route. */
static const struct web_route *
web_route_find(const char *path, const char **arg)
{
	size_t i, n;

	for (i = 0; i < sizeof web_routes / sizeof web_routes[0]; i++) {
		n = strlen(web_routes[i].path);
		if (web_routes[i].prefix ? strncmp(path, web_routes[i].path, n)
		        == 0 && path[n] != '\0' && strchr(path + n, '/') == NULL
		                         : strcmp(path, web_routes[i].path) == 0) {
			*arg = path + n;
			return &web_routes[i];
		}
	}
	return NULL;
}

/* Every request: the method, the token, then the route. */
static enum MHD_Result
web_handle(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	static int seen;
	struct web *w = cls;
	const struct web_route *r;
	struct web_page p;
	enum web_auth_verdict v;
	const char *arg;

	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return web_refuse(w, c, url, (enum web_auth_verdict)-1);
	/* Answer once the request is read: an answer queued at the first
	 * call would close the connection (no keep-alive). */
	if (*con_cls == NULL || *upload_size != 0) {
		*con_cls = &seen;
		*upload_size = 0; /* a body of a GET is not looked at */
		return MHD_YES;
	}
	if ((v = web_auth_check(&w->auth, c)) != WEB_AUTH_OK)
		return web_refuse(w, c, url, v);
	if (strcmp(url, "/events") == 0)
		return web_events(w, c,
		    strcmp(method, MHD_HTTP_METHOD_HEAD) == 0);
	if ((r = web_route_find(url, &arg)) == NULL)
		return web_text(c, MHD_HTTP_NOT_FOUND, "no such page: try /, "
		    "/api/status, /api/log/STEP, /report.html, /metrics or "
		    "/healthz\n");
	r->page(w, arg, &p);
	return web_send_page(c, &p);
}

/* The answers that serve nothing: 405 (v -1), 403, 401, or the redirect
 * that sets the cookie. */
static enum MHD_Result
web_refuse(struct web *w, struct MHD_Connection *c, const char *url,
    enum web_auth_verdict v)
{
	struct MHD_Response *resp;
	const char *to = url;

	if ((int)v == -1) {
		resp = MHD_create_response_from_buffer(strlen("read-only: GET "
		    "and HEAD only\n"), (void *)"read-only: GET and HEAD only\n",
		    MHD_RESPMEM_PERSISTENT);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
		return web_queue(c, MHD_HTTP_METHOD_NOT_ALLOWED, resp, NULL);
	}
	if (v == WEB_AUTH_BAD_HOST)
		return web_text(c, MHD_HTTP_FORBIDDEN, "this server answers "
		    "requests for a loopback host name only (localhost, "
		    "127.0.0.1, [::1])\n");
	if (v == WEB_AUTH_NEEDED) {
		resp = MHD_create_response_from_buffer(strlen("a token is "
		    "needed\n"), (void *)"a token is needed\n",
		    MHD_RESPMEM_PERSISTENT);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
		    "Bearer realm=\"cutover\"");
		return web_queue(c, MHD_HTTP_UNAUTHORIZED, resp, NULL);
	}
	/* The token in the address goes: the cookie stands for it. */
	if (strspn(url, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789/._-@") != strlen(url))
		to = "/";
	resp = MHD_create_response_from_buffer(0, (void *)"",
	    MHD_RESPMEM_PERSISTENT);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, to);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE,
	    web_auth_set_cookie(&w->auth));
	return web_queue(c, MHD_HTTP_SEE_OTHER, resp, NULL);
}

/* A plain text answer. */
static enum MHD_Result
web_text(struct MHD_Connection *c, int status, const char *text)
{
	return web_send(c, status, "text/plain; charset=utf-8", text,
	    strlen(text), NULL);
}

/* Drop an answer's hold on a page, once libmicrohttpd is done with it. */
static void
web_body_release(void *arg)
{
	web_body_drop(arg);
}

/* A page of the view, sent from where it is (held until sent). */
static enum MHD_Result
web_send_page(struct MHD_Connection *c, struct web_page *p)
{
	struct MHD_Response *resp;

	resp = MHD_create_response_from_buffer_with_free_callback_cls(
	    p->body->b.len, p->body->b.data ? p->body->b.data : "",
	    web_body_release, web_body_hold(p->body));
	if (resp == NULL) {
		web_body_drop(p->body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, p->type);
	return web_queue(c, p->status, resp, p->csp);
}

/* An answer of len bytes of body (copied). */
static enum MHD_Result
web_send(struct MHD_Connection *c, int status, const char *type,
    const char *body, size_t len, const char *csp)
{
	struct MHD_Response *resp;

	resp = MHD_create_response_from_buffer(len, (void *)body,
	    MHD_RESPMEM_MUST_COPY);
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	return web_queue(c, status, resp, csp);
}

/* Queue resp with the headers every answer has; it is released. */
static enum MHD_Result
web_queue(struct MHD_Connection *c, int status, struct MHD_Response *resp,
    const char *csp)
{
	enum MHD_Result rc;

	MHD_add_response_header(resp, "Content-Security-Policy", csp != NULL
	    ? csp : "default-src 'none'; frame-ancestors 'none'");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
	    "no-store");
	rc = MHD_queue_response(c, (unsigned)status, resp);
	MHD_destroy_response(resp);
	return rc;
}

/*
 * /events: a stream of the dashboard's fragments. A browser that has an
 * older page than the view (its ?gen= or Last-Event-ID) gets the current
 * one at once.
 */
static enum MHD_Result
web_events(struct web *w, struct MHD_Connection *c, int head)
{
	struct MHD_Response *resp;
	struct web_page p;
	const char *have;
	const char *first = NULL;
	uint64_t gen;

	if (head) /* the headers of a stream, and no stream */
		return web_send(c, MHD_HTTP_OK, "text/event-stream", "", 0, NULL);
	if (web_view_poll(w->view))
		w->dirty = 1;
	gen = web_view_gen(w->view);
	have = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Last-Event-ID");
	if (have == NULL)
		have = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "gen");
	if (have == NULL || strtoull(have, NULL, 10) != gen) {
		web_view_dash(w->view, 1, &p);
		first = buf_str(&p.body->b);
	}
	if ((resp = web_sse_open(w->sse, c, "dash", first, gen)) == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "text/event-stream; charset=utf-8");
	MHD_add_response_header(resp, "X-Accel-Buffering", "no");
	return web_queue(c, MHD_HTTP_OK, resp, NULL);
}
