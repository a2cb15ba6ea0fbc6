/*
 * pg-resolve-dl.c - pg_conninfo_resolve, for both programs: libpq is
 * loaded on first use. The front (which lints) does not link libpq, whose
 * start-up is what `cutover lint` would cost, and loads it only when a
 * postgres target's TLS rule needs it; in the engine, which links libpq,
 * loading it finds the library already there.
 */
#include "config.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "pg.h"
#include "xmalloc.h"

/* libpq's soname (its ABI has been 5 since PostgreSQL 8.1). */
#define PG_DL_SONAME "libpq.so.5"

/* The libpq functions used, looked up once. */
struct pg_dl {
	int tried;
	PQconninfoOption *(*parse)(const char *, char **);
	void (*freemem)(void *);
	void (*free_opts)(PQconninfoOption *);
	PGconn *(*start)(const char *const *, const char *const *, int);
	ConnStatusType (*status)(const PGconn *);
	char *(*error)(const PGconn *);
	PQconninfoOption *(*conninfo)(PGconn *);
	void (*finish)(PGconn *);
};

static int pg_dl_load(void);
static char *pg_dl_opt(const PQconninfoOption *, const char *);
static PQconninfoOption *pg_dl_resolved(const char *);

static struct pg_dl pg_dl;

/* Load libpq and its functions, once; 0 or -1. */
static int
pg_dl_load(void)
{
	void *h;

	if (pg_dl.tried)
		return pg_dl.finish != NULL ? 0 : -1;
	pg_dl.tried = 1;
	if ((h = dlopen(PG_DL_SONAME, RTLD_NOW | RTLD_LOCAL)) == NULL)
		return -1;
	*(void **)&pg_dl.parse = dlsym(h, "PQconninfoParse");
	*(void **)&pg_dl.freemem = dlsym(h, "PQfreemem");
	*(void **)&pg_dl.free_opts = dlsym(h, "PQconninfoFree");
	*(void **)&pg_dl.start = dlsym(h, "PQconnectStartParams");
	*(void **)&pg_dl.status = dlsym(h, "PQstatus");
	*(void **)&pg_dl.error = dlsym(h, "PQerrorMessage");
	*(void **)&pg_dl.conninfo = dlsym(h, "PQconninfo");
	*(void **)&pg_dl.finish = dlsym(h, "PQfinish");
	if (pg_dl.parse == NULL || pg_dl.freemem == NULL ||
	    pg_dl.free_opts == NULL || pg_dl.start == NULL ||
	    pg_dl.status == NULL || pg_dl.error == NULL ||
	    pg_dl.conninfo == NULL || pg_dl.finish == NULL) {
		pg_dl.finish = NULL;
		return -1;
	}
	return 0;
}

/* A conninfo option's value ("" if unset), a new string. */
static char *
pg_dl_opt(const PQconninfoOption *opts, const char *key)
{
	const PQconninfoOption *o;
	const char *v = NULL;

	for (o = opts; o->keyword != NULL; o++) {
		if (strcmp(o->keyword, key) == 0 && o->val != NULL)
			v = o->val;
	}
	return xstrdup(v != NULL ? v : "");
}

/* As pg.c's pg_resolved: the options libpq resolves before it checks
 * target_session_attrs, which stops it before it connects. */
static PQconninfoOption *
pg_dl_resolved(const char *conninfo)
{
	const char *keys[] = { "dbname", "target_session_attrs", NULL };
	const char *values[] = { conninfo, "cutover-resolve-only", NULL };
	PQconninfoOption *opts = NULL;
	PGconn *pg = pg_dl.start(keys, values, 1);

	if (pg != NULL && pg_dl.status(pg) == CONNECTION_BAD &&
	    strstr(pg_dl.error(pg), "target_session_attrs") != NULL)
		opts = pg_dl.conninfo(pg);
	pg_dl.finish(pg);
	return opts;
}

int
pg_conninfo_resolve(const char *conninfo, char **host, char **addr,
    char **mode, char **why)
{
	PQconninfoOption *opts;
	char *perr = NULL;

	if (pg_dl_load() != 0) {
		*why = xstrdup("libpq (" PG_DL_SONAME ") cannot be loaded");
		return 1;
	}
	if ((opts = pg_dl.parse(conninfo, &perr)) == NULL) {
		pg_dl.freemem(perr);
		*why = xstrdup("libpq cannot parse its conninfo");
		return 1;
	}
	pg_dl.free_opts(opts);
	if ((opts = pg_dl_resolved(conninfo)) == NULL) {
		*why = xstrdup("libpq cannot resolve its conninfo (is its "
		    "service defined?)");
		return 1;
	}
	*host = pg_dl_opt(opts, "host");
	*addr = pg_dl_opt(opts, "hostaddr");
	*mode = pg_dl_opt(opts, "sslmode");
	pg_dl.free_opts(opts);
	return 0;
}
