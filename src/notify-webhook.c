/*
 * notify-webhook.c - webhook sinks: an HTTP(S) POST of the event's
 * payload through the libcurl multi interface, driven by the one event
 * loop (curl's sockets become loop_io watches, its timeout a loop timer),
 * so that no call here ever waits on the network.
 *
 * The address is expanded from the runbook's text (${env:NAME}) for each
 * try and kept only by curl while it sends; errors name what went wrong
 * (curl_easy_strerror, or the HTTP status), never the address.
 */
#include "config.h"

#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "buf.h"
#include "expand.h"
#include "loop.h"
#include "notify.h"
#include "notify-int.h"
#include "runbook.h"
#include "xmalloc.h"

/* One POST under way. */
struct web_try {
	CURL *easy;
	struct curl_slist *headers;
	char *body;
	struct notify_try *t;
};

/* What every try shares: one multi handle on one loop. */
static struct {
	CURLM *multi;
	struct loop *loop;
	struct loop_timer *timer;
	int inited;
} web;

static int web_send(struct notify_try *, char **);
static void web_cancel(struct notify_try *);
static void web_shutdown(void);
static int web_init(struct loop *, char **);
static CURL *web_easy(struct web_try *, const char *);
static int web_on_socket(CURL *, curl_socket_t, int, void *, void *);
static int web_on_timer_set(CURLM *, long, void *);
static void web_on_io(int, short, void *);
static void web_on_timer(void *);
static void web_on_timeout(void *);
static void web_check(void);
static void web_free(struct web_try *);
static size_t web_discard(char *, size_t, size_t, void *);

const struct notify_sink_ops notify_webhook_ops = {
	.name = "webhook",
	.send = web_send,
	.cancel = web_cancel,
	.shutdown = web_shutdown,
};

/* Set up the multi handle on loop, once. */
static int
web_init(struct loop *loop, char **err)
{
	if (web.multi != NULL && web.loop == loop)
		return 0;
	if (web.multi != NULL)
		web_shutdown();
	if (!web.inited && curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		*err = xstrdup("libcurl could not be initialised");
		return -1;
	}
	web.inited = 1;
	if ((web.multi = curl_multi_init()) == NULL) {
		*err = xstrdup("libcurl could not be initialised");
		return -1;
	}
	web.loop = loop;
	curl_multi_setopt(web.multi, CURLMOPT_SOCKETFUNCTION, web_on_socket);
	curl_multi_setopt(web.multi, CURLMOPT_TIMERFUNCTION, web_on_timer_set);
	return 0;
}

static int
web_send(struct notify_try *t, char **err)
{
	struct web_try *w;
	struct buf b = { 0 };
	char *url;

	if (web_init(t->loop, err) != 0)
		return -1;
	if ((url = expand_text(t->rb, t->sink->webhook, err)) == NULL)
		return -1;
	w = xcalloc(1, sizeof *w);
	w->t = t;
	notify_format_body((enum notify_format)t->sink->format, &t->row, &b);
	w->body = buf_steal(&b);
	w->easy = web_easy(w, url);
	explicit_bzero(url, strlen(url));
	free(url);
	if (w->easy == NULL ||
	    curl_multi_add_handle(web.multi, w->easy) != CURLM_OK) {
		web_free(w);
		*err = xstrdup("libcurl could not start the request");
		return -1;
	}
	t->priv = w;
	return 0;
}

/* The POST of w's body to url: JSON, bounded in time, no redirects, only
 * http and https. */
static CURL *
web_easy(struct web_try *w, const char *url)
{
	CURL *c = curl_easy_init();
	char *id;

	if (c == NULL)
		return NULL;
	xasprintf(&id, "X-Cutover-Event: %s", w->t->row.event);
	w->headers = curl_slist_append(NULL,
	    "Content-Type: application/json; charset=utf-8");
	w->headers = curl_slist_append(w->headers, id);
	free(id);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, w->headers);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, w->body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(w->body));
	curl_easy_setopt(c, CURLOPT_USERAGENT, PACKAGE_NAME "/"
	    PACKAGE_VERSION);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)NOTIFY_TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, web_discard);
	curl_easy_setopt(c, CURLOPT_PRIVATE, w);
	return c;
}

static size_t
web_discard(char *p, size_t size, size_t n, void *arg)
{
	return size * n;
}

/* curl wants socket s watched for what (or no more). */
static int
web_on_socket(CURL *easy, curl_socket_t s, int what, void *userp,
    void *socketp)
{
	struct loop_io *io = socketp;
	short ev = (short)(((what & CURL_POLL_IN) ? POLLIN : 0) |
	    ((what & CURL_POLL_OUT) ? POLLOUT : 0));

	if (what == CURL_POLL_REMOVE) {
		if (io != NULL)
			loop_io_remove(web.loop, io);
		curl_multi_assign(web.multi, s, NULL);
		return 0;
	}
	if (io == NULL) {
		io = loop_io_add(web.loop, s, ev, web_on_io, NULL);
		curl_multi_assign(web.multi, s, io);
	} else
		loop_io_set(io, ev);
	return 0;
}

/* curl wants to be called after ms (0: as soon as it can; -1: never). */
static int
web_on_timer_set(CURLM *m, long ms, void *userp)
{
	if (web.timer != NULL) {
		loop_timer_cancel(web.loop, web.timer);
		web.timer = NULL;
	}
	loop_defer_cancel(web.loop, web_on_timeout, NULL);
	if (ms == 0)
		loop_defer(web.loop, web_on_timeout, NULL);
	else if (ms > 0)
		web.timer = loop_timer_add(web.loop, ms, web_on_timer, NULL);
	return 0;
}

static void
web_on_io(int fd, short revents, void *arg)
{
	int flags = 0, running;

	if (revents & (POLLIN | POLLHUP))
		flags |= CURL_CSELECT_IN;
	if (revents & POLLOUT)
		flags |= CURL_CSELECT_OUT;
	if (revents & POLLERR)
		flags |= CURL_CSELECT_ERR;
	curl_multi_socket_action(web.multi, fd, flags, &running);
	web_check();
}

static void
web_on_timer(void *arg)
{
	web.timer = NULL;
	web_on_timeout(arg);
}

static void
web_on_timeout(void *arg)
{
	int running;

	if (web.multi == NULL)
		return;
	curl_multi_socket_action(web.multi, CURL_SOCKET_TIMEOUT, 0, &running);
	web_check();
}

/* Report every finished POST: a 2xx answer delivered it. */
static void
web_check(void)
{
	struct notify_try *t;
	struct web_try *w;
	char err[96];
	CURLcode res;
	CURLMsg *m;
	long status = 0;
	int left;

	while (web.multi != NULL &&
	    (m = curl_multi_info_read(web.multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&w);
		curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE,
		    &status);
		res = m->data.result; /* m is gone with the handle */
		if (res != CURLE_OK)
			snprintf(err, sizeof err, "%s", curl_easy_strerror(res));
		else
			snprintf(err, sizeof err, "HTTP %ld", status);
		t = w->t;
		t->priv = NULL;
		web_free(w);
		notify_try_done(t, res == CURLE_OK && status >= 200 &&
		    status < 300, err);
	}
}

static void
web_free(struct web_try *w)
{
	if (w->easy != NULL) {
		curl_multi_remove_handle(web.multi, w->easy);
		curl_easy_cleanup(w->easy);
	}
	curl_slist_free_all(w->headers);
	free(w->body);
	free(w);
}

static void
web_cancel(struct notify_try *t)
{
	if (t->priv != NULL)
		web_free(t->priv);
	t->priv = NULL;
}

static void
web_shutdown(void)
{
	if (web.multi == NULL)
		return;
	if (web.timer != NULL)
		loop_timer_cancel(web.loop, web.timer);
	loop_defer_cancel(web.loop, web_on_timeout, NULL);
	curl_multi_cleanup(web.multi);
	web.multi = NULL;
	web.timer = NULL;
	web.loop = NULL;
}
