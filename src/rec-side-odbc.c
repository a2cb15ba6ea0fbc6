/*
 * rec-side-odbc.c - a reconcile side that is a query on an odbc target
 * (rec-side.h). It runs on a connection of its own, in the side's worker:
 * the two sides of a step stream at once, so they cannot share one.
 * Column kinds come from the ODBC SQL types (SQLDescribeCol); values are
 * read as text (SQL_C_CHAR). The cursor is forward-only, and drivers that
 * can stream a result instead of caching it whole are asked to
 * (odbc_connection_streaming: MariaDB Connector/ODBC from 3.1.17).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "expand.h"
#include "odbc.h"
#include "rec-side.h"
#include "runbook.h"
#include "xmalloc.h"

struct rs_odbc {
	char *connstr;
	char *password;
	char *query;
	struct odbc_job *job;
	SQLHSTMT stmt;
	int ncols;
	char **names;
	struct rec_col *cols;
	struct buf *vals;
	struct rec_field *fields;
};

static void *rs_odbc_open(const struct runbook *, const struct rb_entity *,
    const struct rb_query *,
    char **);
static char *rs_odbc_streaming(char *);
static const char *rs_odbc_connstr(void *);
static const char *rs_odbc_secret(void *);
static int rs_odbc_describe(void *, struct odbc_job *, int *, char ***,
    struct rec_col **, char **);
static int rs_odbc_next(void *, struct rec_field **, char **);
static void rs_odbc_close(void *);
static void rs_odbc_free(void *);
static char *rs_odbc_error(SQLSMALLINT, SQLHANDLE);

const struct rec_source_ops rec_source_odbc_ops = {
	.name = "odbc",
	.open = rs_odbc_open,
	.connstr = rs_odbc_connstr,
	.secret = rs_odbc_secret,
	.describe = rs_odbc_describe,
	.next = rs_odbc_next,
	.close = rs_odbc_close,
	.free = rs_odbc_free,
};

/* The kind of an ODBC SQL type. */
static enum rec_kind
rs_odbc_kind(SQLSMALLINT t)
{
	switch (t) {
	case SQL_DECIMAL: case SQL_NUMERIC: case SQL_SMALLINT:
	case SQL_INTEGER: case SQL_BIGINT: case SQL_TINYINT: case SQL_REAL:
	case SQL_FLOAT: case SQL_DOUBLE:
		return REC_NUMBER;
	case SQL_BIT:
		return REC_BOOL;
	case SQL_CHAR: case SQL_WCHAR:
		return REC_CHAR;
	case SQL_VARCHAR: case SQL_LONGVARCHAR: case SQL_WVARCHAR:
	case SQL_WLONGVARCHAR:
		return REC_TEXT;
	case SQL_TYPE_TIMESTAMP: case SQL_TIMESTAMP:
		return REC_TIMESTAMP;
	case SQL_GUID:
		return REC_UUID;
	default:
		return REC_OTHER;
	}
}

/* connstr (freed) with the driver's streaming attributes, new. */
static char *
rs_odbc_streaming(char *connstr)
{
	char *file = odbc_driver_file(connstr);
	char *s = odbc_connection_streaming(connstr, file);

	free(file);
	memset(connstr, 0, strlen(connstr));
	free(connstr);
	return s;
}

static void *
rs_odbc_open(const struct runbook *rb, const struct rb_entity *entity,
    const struct rb_query *q, char **err)
{
	struct rs_odbc *s;
	char *connstr, *query;

	if (q->target == NULL || q->target->connection == NULL ||
	    q->query == NULL) {
		*err = xstrdup("needs an odbc target and a query");
		return NULL;
	}
	if ((connstr = odbc_connection_expand(rb, q->target, err)) == NULL)
		return NULL;
	connstr = rs_odbc_streaming(connstr);
	if ((query = expand_text_entity(rb, entity, q->query, err)) == NULL) {
		free(connstr);
		return NULL;
	}
	s = xcalloc(1, sizeof *s);
	s->connstr = connstr;
	s->password = odbc_connection_password(connstr);
	s->query = query;
	return s;
}

static const char *
rs_odbc_connstr(void *arg)
{
	return ((struct rs_odbc *)arg)->connstr;
}

static const char *
rs_odbc_secret(void *arg)
{
	return ((struct rs_odbc *)arg)->password;
}

/* "SQLSTATE: message" of a failed call, new. */
static char *
rs_odbc_error(SQLSMALLINT type, SQLHANDLE h)
{
	struct buf b = { 0 };
	char state[6];

	buf_adds(&b, "ERROR ");
	odbc_diag(type, h, &b, state);
	if (state[0] == '\0')
		buf_adds(&b, "the driver gave no reason");
	return buf_steal(&b);
}

/* Run the query; its columns. */
static int
rs_odbc_describe(void *arg, struct odbc_job *job, int *ncols, char ***names,
    struct rec_col **cols, char **err)
{
	struct rs_odbc *s = arg;
	SQLCHAR name[256], tname[128];
	SQLSMALLINT n = 0, len, type, dec, nullable;
	SQLULEN size;
	SQLHDBC dbc;
	int i;

	s->job = job;
	if ((dbc = odbc_job_dbc(job, err)) == NULL)
		return -1;
	if (!SQL_SUCCEEDED(SQLAllocHandle(SQL_HANDLE_STMT, dbc, &s->stmt))) {
		s->stmt = NULL;
		*err = rs_odbc_error(SQL_HANDLE_DBC, dbc);
		return -1;
	}
	odbc_job_set_stmt(job, s->stmt);
	SQLSetStmtAttr(s->stmt, SQL_ATTR_CURSOR_TYPE,
	    (SQLPOINTER)SQL_CURSOR_FORWARD_ONLY, 0);
	if (!SQL_SUCCEEDED(SQLExecDirect(s->stmt, (SQLCHAR *)s->query,
	        SQL_NTS)) || !SQL_SUCCEEDED(SQLNumResultCols(s->stmt, &n))) {
		*err = rs_odbc_error(SQL_HANDLE_STMT, s->stmt);
		return -1;
	}
	if (n <= 0) {
		*err = xstrdup("the query returned no rows (is it a SELECT?)");
		return -1;
	}
	s->ncols = n;
	s->names = xcalloc((size_t)n + 1, sizeof *s->names);
	s->cols = xcalloc((size_t)n + 1, sizeof *s->cols);
	s->vals = xcalloc((size_t)n + 1, sizeof *s->vals);
	s->fields = xcalloc((size_t)n + 1, sizeof *s->fields);
	for (i = 0; i < n; i++) {
		if (!SQL_SUCCEEDED(SQLDescribeCol(s->stmt, (SQLUSMALLINT)(i + 1),
		        name, sizeof name, &len, &type, &size, &dec, &nullable))) {
			name[0] = '\0';
			type = SQL_VARCHAR;
		}
		if (!SQL_SUCCEEDED(SQLColAttribute(s->stmt, (SQLUSMALLINT)(i + 1),
		        SQL_DESC_TYPE_NAME, tname, sizeof tname, &len, NULL)))
			strcpy((char *)tname, "?");
		s->names[i] = xstrdup((char *)name);
		s->cols[i].kind = rs_odbc_kind(type);
		s->cols[i].type = xstrdup((char *)tname);
	}
	*ncols = n;
	*names = s->names;
	*cols = s->cols;
	return 0;
}

static int
rs_odbc_next(void *arg, struct rec_field **row, char **err)
{
	struct rs_odbc *s = arg;
	SQLRETURN r = SQLFetch(s->stmt);
	int i, got;

	if (r == SQL_NO_DATA)
		return 0;
	if (!SQL_SUCCEEDED(r)) {
		*err = rs_odbc_error(SQL_HANDLE_STMT, s->stmt);
		return -1;
	}
	for (i = 0; i < s->ncols; i++) {
		got = odbc_get_text(s->stmt, (SQLUSMALLINT)(i + 1), &s->vals[i]);
		if (got < 0) {
			*err = rs_odbc_error(SQL_HANDLE_STMT, s->stmt);
			return -1;
		}
		s->fields[i].null = got == 0;
		s->fields[i].p = s->vals[i].data != NULL ? s->vals[i].data : "";
		s->fields[i].len = s->vals[i].len;
	}
	*row = s->fields;
	return 1;
}

static void
rs_odbc_close(void *arg)
{
	struct rs_odbc *s = arg;

	if (s->stmt != NULL) {
		odbc_job_set_stmt(s->job, NULL);
		SQLFreeHandle(SQL_HANDLE_STMT, s->stmt);
		s->stmt = NULL;
	}
}

static void
rs_odbc_free(void *arg)
{
	struct rs_odbc *s = arg;
	int i;

	if (s == NULL)
		return;
	for (i = 0; i < s->ncols; i++) {
		free(s->names[i]);
		free((char *)s->cols[i].type);
		buf_free(&s->vals[i]);
	}
	free(s->names);
	free(s->cols);
	free(s->vals);
	free(s->fields);
	if (s->password != NULL)
		memset(s->password, 0, strlen(s->password));
	if (s->connstr != NULL)
		memset(s->connstr, 0, strlen(s->connstr));
	free(s->password);
	free(s->connstr);
	free(s->query);
	free(s);
}
