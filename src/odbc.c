/*
 * odbc.c - ODBC connections and jobs in worker threads (see odbc.h).
 *
 * The cache (odbc_conn_*) lives in the loop's thread. A connection is lent
 * to one job at a time; while lent, only that job's worker touches its
 * handle. A job is shared by the loop and its worker, and by a canceller
 * thread while one runs: it is reference-counted under its mutex, and
 * whoever drops the last reference frees it (and, if the job was
 * abandoned, the connection it took out of the cache).
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "expand.h"
#include "loop.h"
#include "odbc.h"
#include "runbook.h"
#include "xmalloc.h"

#define ODBC_FRAME_HEAD 5           /* type byte, 4-byte length */
#define ODBC_LOGIN_TIMEOUT_MAX 60   /* seconds */
#define ODBC_DIAG_MAX 4             /* records shown per error */

struct odbc_conn {
	char *name;
	char *connstr; /* may hold a password: never shown */
	SQLHDBC dbc;   /* NULL: not connected */
	int busy;      /* lent to a job */
	int broken;    /* close it when the job ends */
	int own;       /* one job's own, not cached: closed at its end */
	struct odbc_job *queue, *queue_tail;
	struct odbc_conn *next;
};

struct odbc_job {
	pthread_mutex_t mu;
	int refs;
	struct loop *loop;
	struct odbc_conn *conn;
	struct odbc_job_cbs cbs;
	void *arg, *cbarg;
	int64_t timeout_ms;
	int fd[2];           /* [0] the loop reads, [1] the worker writes */
	struct loop_io *io;
	struct buf in;       /* frames read, not yet handled, from inoff */
	size_t inoff;
	SQLHSTMT stmt;       /* the running statement, for SQLCancel */
	int started;         /* the worker runs */
	int finished;        /* the worker returned */
	int cancelled, cancelling, abandoned, ended;
	int paused;          /* msg asked to stop: frames wait in in */
	enum odbc_end end;   /* as sent with ODBC_MSG_DONE */
	struct odbc_job *next; /* in the connection's queue */
};

static SQLHENV odbc_env;
static struct odbc_conn *odbc_conns;

static SQLHENV odbc_env_get(void);
static struct odbc_conn *odbc_conn_find(const char *, const char *);
static void odbc_conn_serve(struct odbc_conn *);
static void odbc_conn_put(struct odbc_conn *);
static void odbc_conn_close(struct odbc_conn *);
static void odbc_conn_free(struct odbc_conn *);
static void odbc_conn_replace(struct odbc_conn *);
static void odbc_job_dequeue(struct odbc_job *);
static void odbc_job_launch(struct odbc_job *);
static void *odbc_job_main(void *);
static void *odbc_job_cancel_main(void *);
static void odbc_cancels_add(int);
static void odbc_cancels_wait(int64_t ms);

/* Cancels in flight (threads of their own): the process waits for them
 * before it ends, so that a statement it stopped does not go on. */
static pthread_mutex_t odbc_cancels_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t odbc_cancels_cv = PTHREAD_COND_INITIALIZER;
static int odbc_cancels;
#define ODBC_CANCEL_WAIT_MS 5000
static void odbc_job_on_input(int, short, void *);
static void odbc_job_frames(struct odbc_job *);
static void odbc_job_finish(struct odbc_job *, enum odbc_end);
static void odbc_job_unref(struct odbc_job *);
static void odbc_job_on_failed(void *);

/* The one environment handle, ODBC 3 (made once, by whichever thread
 * asks first: the loop or a worker). */
static SQLHENV
odbc_env_get(void)
{
	static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	SQLHENV env;

	pthread_mutex_lock(&mu);
	if (odbc_env == NULL) {
		if (SQL_SUCCEEDED(SQLAllocHandle(SQL_HANDLE_ENV,
		        SQL_NULL_HANDLE, &odbc_env)))
			SQLSetEnvAttr(odbc_env, SQL_ATTR_ODBC_VERSION,
			    (SQLPOINTER)SQL_OV_ODBC3, 0);
		else
			odbc_env = NULL;
	}
	env = odbc_env;
	pthread_mutex_unlock(&mu);
	return env;
}

/* ---------------------------------------------------------- drivers */

/* The driver (its name in odbcinst.ini) of data source dsn, new. */
static char *
odbc_dsn_driver(SQLHENV env, const char *dsn)
{
	SQLCHAR name[256], desc[256];
	SQLSMALLINT nlen, dlen;
	SQLUSMALLINT dir = SQL_FETCH_FIRST;

	while (SQL_SUCCEEDED(SQLDataSources(env, dir, name, sizeof name, &nlen,
	    desc, sizeof desc, &dlen))) {
		dir = SQL_FETCH_NEXT;
		if (strcasecmp((char *)name, dsn) == 0)
			return xstrdup((char *)desc);
	}
	return NULL;
}

/* The library file of the driver named driver in odbcinst.ini, new. */
static char *
odbc_driver_library(SQLHENV env, const char *driver)
{
	SQLCHAR desc[256], attrs[2048];
	SQLSMALLINT dlen, alen;
	SQLUSMALLINT dir = SQL_FETCH_FIRST;
	char *found = NULL, *a;

	while (found == NULL && SQL_SUCCEEDED(SQLDrivers(env, dir, desc,
	    sizeof desc, &dlen, attrs, sizeof attrs, &alen))) {
		dir = SQL_FETCH_NEXT;
		if (strcasecmp((char *)desc, driver) != 0)
			continue;
		/* "Key=value\0Key=value\0\0" */
		for (a = (char *)attrs; *a != '\0'; a += strlen(a) + 1)
			if (strncasecmp(a, "Driver=", 7) == 0) {
				found = xstrdup(a + 7);
				break;
			}
	}
	return found;
}

char *
odbc_driver_file(const char *connstr)
{
	SQLHENV env = odbc_env_get();
	char *driver, *dsn, *file = NULL;

	if (env == NULL)
		return NULL;
	if ((driver = odbc_connection_get(connstr, "DRIVER")) == NULL &&
	    (dsn = odbc_connection_get(connstr, "DSN")) != NULL) {
		driver = odbc_dsn_driver(env, dsn);
		free(dsn);
	}
	if (driver == NULL)
		return NULL;
	if (strchr(driver, '/') != NULL)
		return driver;
	file = odbc_driver_library(env, driver);
	free(driver);
	return file;
}

/* ------------------------------------------------------------ the cache */

/* The cached connection of target name; a changed string starts anew. */
static struct odbc_conn *
odbc_conn_find(const char *name, const char *connstr)
{
	struct odbc_conn *c;

	for (c = odbc_conns; c != NULL; c = c->next) {
		if (strcmp(c->name, name) != 0)
			continue;
		if (strcmp(c->connstr, connstr) != 0) {
			free(c->connstr);
			c->connstr = xstrdup(connstr);
			c->broken = 1; /* reconnect when it is next free */
		}
		return c;
	}
	c = xcalloc(1, sizeof *c);
	c->name = xstrdup(name);
	c->connstr = xstrdup(connstr);
	c->next = odbc_conns;
	odbc_conns = c;
	return c;
}

/* Lend the connection to the first job in the queue, if it is free. */
static void
odbc_conn_serve(struct odbc_conn *c)
{
	struct odbc_job *j;

	if (c->busy || (j = c->queue) == NULL)
		return;
	c->queue = j->next;
	if (c->queue == NULL)
		c->queue_tail = NULL;
	j->next = NULL;
	c->busy = 1;
	odbc_job_launch(j);
}

/* A job gave the connection back. */
static void
odbc_conn_put(struct odbc_conn *c)
{
	if (c->own) {
		odbc_conn_free(c); /* its worker closed it */
		return;
	}
	c->busy = 0;
	odbc_conn_serve(c);
}

/* Disconnect: blocks on the driver, so only a worker that holds the
 * connection, or odbc_shutdown at exit, does it. */
static void
odbc_conn_close(struct odbc_conn *c)
{
	if (c->dbc != NULL) {
		SQLDisconnect(c->dbc);
		SQLFreeHandle(SQL_HANDLE_DBC, c->dbc);
		c->dbc = NULL;
	}
	c->broken = 0;
}

static void
odbc_conn_free(struct odbc_conn *c)
{
	odbc_conn_close(c);
	free(c->name);
	if (c->connstr != NULL)
		memset(c->connstr, 0, strlen(c->connstr));
	free(c->connstr);
	free(c);
}

/*
 * Take c out of the cache (an abandoned job's worker keeps it): a new,
 * unconnected one takes its place and its queue.
 */
static void
odbc_conn_replace(struct odbc_conn *c)
{
	struct odbc_conn **pp, *n = xcalloc(1, sizeof *n);
	struct odbc_job *j;

	for (pp = &odbc_conns; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = n;
			break;
		}
	}
	n->next = c->next;
	c->next = NULL;
	n->name = xstrdup(c->name);
	n->connstr = xstrdup(c->connstr);
	n->queue = c->queue;
	n->queue_tail = c->queue_tail;
	c->queue = c->queue_tail = NULL;
	for (j = n->queue; j != NULL; j = j->next)
		j->conn = n;
	odbc_conn_serve(n);
}

void
odbc_shutdown(void)
{
	struct odbc_conn *c;
	int busy = 0;

	odbc_cancels_wait(ODBC_CANCEL_WAIT_MS);
	while ((c = odbc_conns) != NULL) {
		odbc_conns = c->next;
		/* A worker still using one keeps it (and the environment):
		 * the process is ending anyway. */
		if (c->busy) {
			busy = 1;
			continue;
		}
		odbc_conn_free(c);
	}
	if (odbc_env != NULL && !busy) {
		SQLFreeHandle(SQL_HANDLE_ENV, odbc_env);
		odbc_env = NULL;
	}
}

/* ------------------------------------------------------------- jobs */

struct odbc_job *
odbc_job_start(struct loop *loop, const char *name, const char *connstr,
    int own, int64_t timeout_ms, const struct odbc_job_cbs *cbs, void *arg,
    void *cbarg)
{
	struct odbc_job *j = xcalloc(1, sizeof *j);
	struct odbc_conn *c;

	if (own || connstr == NULL) {
		c = xcalloc(1, sizeof *c);
		c->name = xstrdup(name);
		c->connstr = connstr != NULL ? xstrdup(connstr) : NULL;
		c->own = 1;
	} else
		c = odbc_conn_find(name, connstr);

	pthread_mutex_init(&j->mu, NULL);
	j->refs = 1;
	j->loop = loop;
	j->conn = c;
	j->cbs = *cbs;
	j->arg = arg;
	j->cbarg = cbarg;
	j->timeout_ms = timeout_ms;
	j->fd[0] = j->fd[1] = -1;
	if (c->queue_tail != NULL)
		c->queue_tail->next = j;
	else
		c->queue = j;
	c->queue_tail = j;
	odbc_conn_serve(c);
	return j;
}

/* The connection is the job's (started): start its worker. */
static void
odbc_job_launch(struct odbc_job *j)
{
	pthread_t t;
	pthread_attr_t attr;
	int rc;

	j->started = 1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, j->fd) != 0) {
		j->fd[0] = j->fd[1] = -1;
		j->finished = 1; /* no worker */
		loop_defer(j->loop, odbc_job_on_failed, j);
		return;
	}
	j->io = loop_io_add(j->loop, j->fd[0], POLLIN, odbc_job_on_input, j);
	j->refs++;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&t, &attr, odbc_job_main, j);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		j->refs--;
		j->finished = 1;
		loop_defer(j->loop, odbc_job_on_failed, j);
	}
}

/* No worker could be started. */
static void
odbc_job_on_failed(void *arg)
{
	struct odbc_job *j = arg;

	odbc_job_finish(j, ODBC_END_LOST);
}

/* The worker: the caller's work, then the end frame. */
static void *
odbc_job_main(void *arg)
{
	struct odbc_job *j = arg;
	unsigned char end;
	int abandoned;

	j->cbs.work(j, j->arg);
	if (j->conn->own)
		odbc_conn_close(j->conn);
	pthread_mutex_lock(&j->mu);
	end = (unsigned char)j->end;
	abandoned = j->abandoned;
	pthread_mutex_unlock(&j->mu);
	if (!abandoned)
		odbc_job_send(j, ODBC_MSG_DONE, &end, 1);
	pthread_mutex_lock(&j->mu);
	j->finished = 1;
	if (j->fd[1] >= 0)
		close(j->fd[1]);
	j->fd[1] = -1;
	pthread_mutex_unlock(&j->mu);
	odbc_job_unref(j);
	return NULL;
}

SQLHDBC
odbc_job_dbc(struct odbc_job *j, char **err)
{
	struct odbc_conn *c = j->conn;
	SQLHENV env = odbc_env_get();
	SQLUINTEGER dead = SQL_CD_FALSE;
	struct buf b = { 0 };
	char state[6];
	SQLRETURN rc;
	int64_t secs;

	if (c->connstr == NULL) {
		*err = xstrdup("no connection");
		return NULL;
	}
	if (c->broken)
		odbc_conn_close(c);
	if (c->dbc != NULL && SQL_SUCCEEDED(SQLGetConnectAttr(c->dbc,
	        SQL_ATTR_CONNECTION_DEAD, &dead, 0, NULL)) && dead == SQL_CD_TRUE)
		odbc_conn_close(c);
	if (c->dbc != NULL)
		return c->dbc;
	if (env == NULL || !SQL_SUCCEEDED(SQLAllocHandle(SQL_HANDLE_DBC, env,
	        &c->dbc))) {
		c->dbc = NULL;
		*err = xstrdup("could not allocate an ODBC connection handle");
		return NULL;
	}
	secs = j->timeout_ms > 0 ? (j->timeout_ms + 999) / 1000 : 0;
	if (secs == 0 || secs > ODBC_LOGIN_TIMEOUT_MAX)
		secs = ODBC_LOGIN_TIMEOUT_MAX;
	SQLSetConnectAttr(c->dbc, SQL_ATTR_LOGIN_TIMEOUT,
	    (SQLPOINTER)(intptr_t)secs, 0);
	rc = SQLDriverConnect(c->dbc, NULL, (SQLCHAR *)c->connstr, SQL_NTS,
	    NULL, 0, NULL, SQL_DRIVER_NOPROMPT);
	if (SQL_SUCCEEDED(rc))
		return c->dbc;
	odbc_diag(SQL_HANDLE_DBC, c->dbc, &b, state);
	xasprintf(err, "could not connect to %s: %s", c->name,
	    b.len > 0 ? buf_str(&b) : "no reason given");
	buf_free(&b);
	SQLFreeHandle(SQL_HANDLE_DBC, c->dbc);
	c->dbc = NULL;
	return NULL;
}

void
odbc_job_set_stmt(struct odbc_job *j, SQLHSTMT h)
{
	pthread_mutex_lock(&j->mu);
	/* A cancel in flight uses the handle: wait for it before freeing. */
	while (h == NULL && j->cancelling) {
		pthread_mutex_unlock(&j->mu);
		usleep(1000);
		pthread_mutex_lock(&j->mu);
	}
	j->stmt = h;
	pthread_mutex_unlock(&j->mu);
}

int
odbc_job_cancelled(struct odbc_job *j)
{
	int c;

	pthread_mutex_lock(&j->mu);
	c = j->cancelled;
	pthread_mutex_unlock(&j->mu);
	return c;
}

void
odbc_job_broken(struct odbc_job *j)
{
	j->conn->broken = 1;
}

/* Record how the job ends (the worker sets it before returning). */
void
odbc_job_set_end(struct odbc_job *j, enum odbc_end end)
{
	pthread_mutex_lock(&j->mu);
	j->end = end;
	pthread_mutex_unlock(&j->mu);
}

void
odbc_frame(struct buf *b, int type, const void *data, size_t len)
{
	unsigned char head[ODBC_FRAME_HEAD];

	head[0] = (unsigned char)type;
	head[1] = (unsigned char)(len >> 24);
	head[2] = (unsigned char)(len >> 16);
	head[3] = (unsigned char)(len >> 8);
	head[4] = (unsigned char)len;
	buf_add(b, head, sizeof head);
	buf_add(b, data, len);
}

int
odbc_job_send_frames(struct odbc_job *j, const char *data, size_t len)
{
	size_t off = 0;
	ssize_t n;

	while (off < len) {
		n = send(j->fd[1], data + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

int
odbc_job_send(struct odbc_job *j, int type, const void *data, size_t len)
{
	unsigned char head[ODBC_FRAME_HEAD];
	const unsigned char *p;
	size_t off = 0, total = ODBC_FRAME_HEAD + len;
	ssize_t n;

	head[0] = (unsigned char)type;
	head[1] = (unsigned char)(len >> 24);
	head[2] = (unsigned char)(len >> 16);
	head[3] = (unsigned char)(len >> 8);
	head[4] = (unsigned char)len;
	while (off < total) {
		p = off < ODBC_FRAME_HEAD ? head + off : (const unsigned char *)
		    data + (off - ODBC_FRAME_HEAD);
		n = send(j->fd[1], p, off < ODBC_FRAME_HEAD ?
		    ODBC_FRAME_HEAD - off : total - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

/* Frames from the worker. */
static void
odbc_job_on_input(int fd, short revents, void *arg)
{
	struct odbc_job *j = arg;
	char chunk[16384];
	ssize_t n;

	if (j->paused)
		return;
	n = read(fd, chunk, sizeof chunk);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		/* The worker closed its end without the end frame. */
		odbc_job_finish(j, ODBC_END_LOST);
		return;
	}
	buf_add(&j->in, chunk, (size_t)n);
	odbc_job_frames(j);
}

/* Handle every complete frame in j->in; the end frame ends the job. */
static void
odbc_job_frames(struct odbc_job *j)
{
	const unsigned char *p;
	size_t off, len;
	int end = -1;

	/* Frames handled are dropped now, not after a pause: a paused
	 * frame's data stays where msg saw it until the job resumes. */
	if (j->inoff > 0 && (j->inoff == j->in.len || j->inoff >= 65536)) {
		memmove(j->in.data, j->in.data + j->inoff,
		    j->in.len - j->inoff);
		j->in.len -= j->inoff;
		j->inoff = 0;
	}
	off = j->inoff;
	while (j->in.len - off >= ODBC_FRAME_HEAD) {
		p = (const unsigned char *)j->in.data + off;
		len = (size_t)p[1] << 24 | (size_t)p[2] << 16 |
		    (size_t)p[3] << 8 | p[4];
		if (j->in.len - off - ODBC_FRAME_HEAD < len)
			break;
		off += ODBC_FRAME_HEAD + len;
		if (p[0] == ODBC_MSG_DONE) {
			end = len > 0 ? p[5] : ODBC_END_LOST;
			break;
		}
		if (j->cbs.msg(p[0], (const char *)p + ODBC_FRAME_HEAD, len,
		    j->cbarg) != 0) {
			j->paused = 1;
			if (j->io != NULL)
				loop_io_set(j->io, 0);
			break;
		}
	}
	j->inoff = off;
	if (end >= 0)
		odbc_job_finish(j, (enum odbc_end)end);
}

void
odbc_job_resume(struct odbc_job *j)
{
	if (j->ended || !j->paused)
		return;
	j->paused = 0;
	odbc_job_frames(j); /* may end the job, and free it */
}

/* Watch the socket again once nothing waits in the buffer. */
int
odbc_job_resumed(struct odbc_job *j)
{
	if (j->paused)
		return 0;
	if (j->io != NULL)
		loop_io_set(j->io, POLLIN);
	return 1;
}

int
odbc_job_tell(struct odbc_job *j, int type, const void *data, size_t len)
{
	unsigned char head[ODBC_FRAME_HEAD];
	ssize_t n;

	head[0] = (unsigned char)type;
	head[1] = (unsigned char)(len >> 24);
	head[2] = (unsigned char)(len >> 16);
	head[3] = (unsigned char)(len >> 8);
	head[4] = (unsigned char)len;
	if (j->fd[0] < 0)
		return -1;
	do
		n = send(j->fd[0], head, sizeof head, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof head)
		return -1;
	do
		n = send(j->fd[0], data, len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)len ? 0 : -1;
}

/* Read exactly n bytes from the loop's end; -1 if it closed. */
static int
odbc_read_full(int fd, void *p, size_t n)
{
	size_t off = 0;
	ssize_t r;

	while (off < n) {
		r = read(fd, (char *)p + off, n - off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		off += (size_t)r;
	}
	return 0;
}

int
odbc_job_recv(struct odbc_job *j, int *type, struct buf *b)
{
	unsigned char head[ODBC_FRAME_HEAD];
	size_t len;

	buf_reset(b);
	if (odbc_read_full(j->fd[1], head, sizeof head) != 0)
		return -1;
	len = (size_t)head[1] << 24 | (size_t)head[2] << 16 |
	    (size_t)head[3] << 8 | head[4];
	*type = head[0];
	if (len > 0) {
		char *p = xmalloc(len);

		if (odbc_read_full(j->fd[1], p, len) != 0) {
			free(p);
			return -1;
		}
		buf_add(b, p, len);
		free(p);
	}
	return 0;
}

/*
 * The job is over for the loop: give the connection back, tell, and drop
 * the loop's reference (the job may be gone when this returns).
 */
static void
odbc_job_finish(struct odbc_job *j, enum odbc_end end)
{
	if (j->ended)
		return;
	j->ended = 1;
	if (j->io != NULL)
		loop_io_remove(j->loop, j->io);
	j->io = NULL;
	if (end == ODBC_END_LOST)
		j->conn->broken = 1;
	odbc_conn_put(j->conn);
	j->conn = NULL;
	j->cbs.end(end, j->cbarg);
	odbc_job_unref(j);
}

/* Take a job that has not started out of its connection's queue. */
static void
odbc_job_dequeue(struct odbc_job *j)
{
	struct odbc_conn *c = j->conn;
	struct odbc_job **pp;

	for (pp = &c->queue; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == j) {
			*pp = j->next;
			break;
		}
	}
	c->queue_tail = NULL;
	for (pp = &c->queue; *pp != NULL; pp = &(*pp)->next)
		c->queue_tail = *pp;
	j->next = NULL;
}

void
odbc_job_cancel(struct odbc_job *j)
{
	pthread_t t;
	pthread_attr_t attr;

	if (j->ended)
		return;
	if (!j->started) {
		odbc_job_dequeue(j);
		j->ended = 1;
		j->cbs.end(ODBC_END_ERROR, j->cbarg);
		j->conn = NULL;
		odbc_job_unref(j);
		return;
	}
	pthread_mutex_lock(&j->mu);
	j->cancelled = 1;
	if (j->stmt == NULL || j->cancelling || j->finished) {
		pthread_mutex_unlock(&j->mu);
		return;
	}
	j->cancelling = 1;
	j->refs++;
	pthread_mutex_unlock(&j->mu);
	odbc_cancels_add(1);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, odbc_job_cancel_main, j) != 0) {
		pthread_mutex_lock(&j->mu);
		j->cancelling = 0;
		j->refs--;
		pthread_mutex_unlock(&j->mu);
		odbc_cancels_add(-1);
	}
	pthread_attr_destroy(&attr);
}

/* SQLCancel may connect to the server: off the loop, like the work. */
static void *
odbc_job_cancel_main(void *arg)
{
	struct odbc_job *j = arg;
	SQLHSTMT h;

	pthread_mutex_lock(&j->mu);
	h = j->stmt;
	pthread_mutex_unlock(&j->mu);
	if (h != NULL)
		SQLCancel(h);
	pthread_mutex_lock(&j->mu);
	j->cancelling = 0;
	pthread_mutex_unlock(&j->mu);
	odbc_job_unref(j);
	odbc_cancels_add(-1);
	return NULL;
}

/* Count a cancel thread in (1) or out (-1). */
static void
odbc_cancels_add(int n)
{
	pthread_mutex_lock(&odbc_cancels_mu);
	odbc_cancels += n;
	if (odbc_cancels == 0)
		pthread_cond_broadcast(&odbc_cancels_cv);
	pthread_mutex_unlock(&odbc_cancels_mu);
}

/* Wait at most ms for the cancels in flight to have reached their
 * servers. */
static void
odbc_cancels_wait(int64_t ms)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&odbc_cancels_mu);
	while (odbc_cancels > 0 &&
	    pthread_cond_timedwait(&odbc_cancels_cv, &odbc_cancels_mu,
	    &until) == 0)
		;
	pthread_mutex_unlock(&odbc_cancels_mu);
}

void
odbc_job_abandon(struct odbc_job *j)
{
	int running;

	loop_defer_cancel(j->loop, odbc_job_on_failed, j);
	if (j->io != NULL)
		loop_io_remove(j->loop, j->io);
	j->io = NULL;
	pthread_mutex_lock(&j->mu);
	running = j->started && !j->finished;
	j->abandoned = 1;
	j->cancelled = 1; /* a worker that looks stops early */
	/* A worker blocked on a full socket gets EPIPE. */
	if (j->fd[0] >= 0)
		close(j->fd[0]);
	j->fd[0] = -1;
	pthread_mutex_unlock(&j->mu);
	if (!j->ended && !j->started)
		odbc_job_dequeue(j);
	else if (!j->ended && running) {
		/* The worker still has the handle: it leaves with it. */
		if (!j->conn->own)
			odbc_conn_replace(j->conn);
		j->ended = 1;
		odbc_job_unref(j);
		return;
	} else if (!j->ended) {
		if (j->end == ODBC_END_LOST)
			j->conn->broken = 1;
		odbc_conn_put(j->conn);
	}
	j->ended = 1;
	j->conn = NULL;
	odbc_job_unref(j);
}

/* Drop a reference; the last one frees the job (and a detached conn). */
static void
odbc_job_unref(struct odbc_job *j)
{
	int last;

	pthread_mutex_lock(&j->mu);
	last = --j->refs == 0;
	pthread_mutex_unlock(&j->mu);
	if (!last)
		return;
	if (j->abandoned && j->conn != NULL)
		odbc_conn_free(j->conn); /* detached: see odbc_job_abandon */
	if (j->fd[0] >= 0)
		close(j->fd[0]);
	if (j->fd[1] >= 0)
		close(j->fd[1]);
	if (j->cbs.free_arg != NULL)
		j->cbs.free_arg(j->arg);
	buf_free(&j->in);
	pthread_mutex_destroy(&j->mu);
	free(j);
}

/* -------------------------------------------------------- diagnostics */

int
odbc_get_text(SQLHSTMT h, SQLUSMALLINT col, struct buf *v)
{
	char chunk[4096];
	SQLLEN ind;
	SQLRETURN r;

	buf_reset(v);
	for (;;) {
		r = SQLGetData(h, col, SQL_C_CHAR, chunk, sizeof chunk, &ind);
		if (r == SQL_NO_DATA)
			return 1;
		if (!SQL_SUCCEEDED(r))
			return -1;
		if (ind == SQL_NULL_DATA)
			return 0;
		if (r == SQL_SUCCESS) {
			buf_add(v, chunk, ind >= 0 && (size_t)ind < sizeof chunk ?
			    (size_t)ind : strlen(chunk));
			return 1;
		}
		buf_add(v, chunk, strnlen(chunk, sizeof chunk - 1));
	}
}

void
odbc_diag(SQLSMALLINT type, SQLHANDLE h, struct buf *b, char state[6])
{
	SQLCHAR st[6], msg[1024];
	SQLINTEGER native;
	SQLSMALLINT len, i;
	char *nl;

	state[0] = '\0';
	for (i = 1; i <= ODBC_DIAG_MAX; i++) {
		if (!SQL_SUCCEEDED(SQLGetDiagRec(type, h, i, st, &native, msg,
		        sizeof msg, &len)))
			break;
		msg[sizeof msg - 1] = '\0';
		while ((nl = strpbrk((char *)msg, "\r\n")) != NULL)
			*nl = ' ';
		if (i == 1)
			memcpy(state, st, 6);
		buf_printf(b, "%s%s: %s", i > 1 ? "; " : "", (char *)st,
		    (char *)msg);
	}
}

int
odbc_state_lost(const char *state)
{
	return strncmp(state, "08", 2) == 0 || strcmp(state, "HYT01") == 0;
}

