/*
 * rec-side-odbc.c - a reconcile side that is a query on an odbc target
 * (rec-side.h). It runs on a connection of its own, in the side's worker:
 * the two sides of a step stream at once, so they cannot share one.
 * Column kinds come from the ODBC SQL types (SQLDescribeCol); values are
 * read as text (SQL_C_CHAR). The cursor is forward-only, and drivers that
 * can stream a result instead of caching it whole are asked to
 * (odbc_connection_streaming: MariaDB Connector/ODBC from 3.1.17).
 *
 * Key-ordered chunks. Drivers with a row of rs_odbc_pagings (MariaDB
 * Connector/ODBC, which before 3.1.17 caches every result whole in
 * SQLExecDirect) read a side whose key columns are all integers declared
 * NOT NULL, compared as numbers on both sides, in chunks that the server
 * orders:
 *
 *   SELECT * FROM (QUERY) AS cutover_q [WHERE (k1, k2) > (v1, v2)]
 *     ORDER BY k1, k2 LIMIT n
 *
 * Integers ordered by value are the merge's order (reconcile.h), so the
 * rows go to the merge as they come, unsorted by the tool, and the driver
 * never holds more than one chunk. Rows repeating a key are never split
 * across chunks: a full chunk's trailing rows of one key are read again
 * with the next chunk (a chunk of one key only is read again twice as
 * long). The chunks are read in one transaction at REPEATABLE READ, so
 * that they see one snapshot, as one query would. A thread of the side's
 * (rs_odbc_ahead) runs each chunk's query and reads it whole into a
 * buffer while the rows of the chunk before go out, so that the server's
 * and the driver's work overlap the tool's. Every other side is read by
 * the query as written and sorted by the tool.
 */
#include "config.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "expand.h"
#include "odbc.h"
#include "rec-side.h"
#include "runbook.h"
#include "xmalloc.h"

#define RS_ODBC_CHUNK_FIRST 10000   /* rows of the first chunk */
#define RS_ODBC_CHUNK_MIN 1000
#define RS_ODBC_CHUNK_MAX 200000
#define RS_ODBC_CHUNK_BYTES (4u * 1024 * 1024) /* of values, per chunk */

#define RS_ODBC_ARRAY_BYTES (256u * 1024) /* of bound column arrays */
#define RS_ODBC_WIDTH_MAX 8192 /* bytes of a bound value, NUL included */

/* A driver whose server can order and page a wrapped query, and whose
 * values never exceed their declared size (so they can be fetched into
 * bound column arrays, many rows a call). */
struct rs_odbc_paging {
	const char *library; /* the start of its file name */
	char quote;          /* of identifiers */
};

static const struct rs_odbc_paging rs_odbc_pagings[] = {
	{ "libmaodbc", '`' },
};

/* Bound column arrays: column-wise, rows a fetch. */
struct rs_odbc_arrays {
	SQLULEN rows, fetched, at;
	SQLLEN *width;  /* per column */
	SQLSMALLINT *ctype; /* per column: SQL_C_CHAR, or an integer as such */
	char (*text)[24];   /* per column: the integer fetched, as text */
	char **data;    /* per column: rows * width */
	SQLLEN **ind;   /* per column: rows */
	SQLUSMALLINT *status;
};

struct rs_odbc {
	char *connstr;
	char *password;
	char *query;
	const struct rs_odbc_paging *paging; /* NULL: read as written */
	struct odbc_job *job;
	SQLHSTMT stmt;
	int ncols;
	char **names;
	struct rec_col *cols;
	SQLSMALLINT *sqltypes;
	SQLSMALLINT *nullable;
	SQLULEN *sizes;
	char *unsig;                 /* per column: an unsigned integer */
	int arrays;                  /* 1 bound, -1 not, 0 not decided */
	struct rs_odbc_arrays a;
	struct buf *vals;
	struct rec_field *fields;
	struct rec_field *keyf; /* scratch */
	int wrapped; /* the statement is the wrapped LIMIT 0 */
	/* key-ordered chunks */
	int chunked, nkeys, done;
	size_t chunk, got;   /* rows: asked for, read */
	size_t bytes;        /* of values read in this chunk */
	char **lastkey;      /* of the rows let out last, or NULL */
	struct buf rows;     /* the chunk read, packed (rec_row_pack) */
	size_t off, end;     /* the next row to let out; where they stop */
	size_t grpoff;       /* where the rows of the last key start */
	size_t beforeoff;    /* the row before those, or (size_t)-1 */
	struct rec_field *outf; /* the row let out */
	SQLHDBC dbc;         /* in a transaction: one snapshot for all */
	/* the next chunk, run and read ahead in a thread (rs_odbc_ahead) */
	struct buf ahead_rows;
	pthread_t ahead;
	int aheading;        /* the thread runs (join it) */
	char *aheadsql;
	char *aheaderr;
	int aheadr;
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
static int rs_odbc_order(void *, const enum rec_kind *, int, char **);
static int rs_odbc_exec(struct rs_odbc *, const char *, char **);
static void *rs_odbc_ahead_main(void *);
static int rs_odbc_chunk_drain(struct rs_odbc *, char **);
static int rs_odbc_chunk_start(struct rs_odbc *, char **);
static int rs_odbc_chunk_next(struct rs_odbc *, struct rec_field **,
    char **);
static int rs_odbc_read(struct rs_odbc *, char **);
static char rs_odbc_unsigned(SQLHSTMT, int);
static int rs_odbc_width_text(const struct rs_odbc *, int);
static const struct rs_odbc_paging *rs_odbc_paging_of(const char *);
static int rs_odbc_int_key(const struct rs_odbc *, int, enum rec_kind);
static void rs_odbc_quote(struct buf *, const char *, char);
static char *rs_odbc_chunk_sql(const struct rs_odbc *);
static int rs_odbc_chunk_wait(struct rs_odbc *, char **);
static size_t rs_odbc_itoa(char[24], const char *, int);
static SQLLEN rs_odbc_width(const struct rs_odbc *, int);
static int rs_odbc_bind_stmt(struct rs_odbc *, SQLHSTMT);
static void rs_odbc_unbind_stmt(SQLHSTMT);
static void rs_odbc_bind(struct rs_odbc *);
static int rs_odbc_read_arrays(struct rs_odbc *, char **);
static int rs_odbc_same_key(struct rs_odbc *, const char *);
static int rs_odbc_chunk_bound(struct rs_odbc *, size_t, char **);
static int rs_odbc_chunk_next_query(struct rs_odbc *, char **);
static int rs_odbc_snapshot(struct rs_odbc *, char **);

const struct rec_source_ops rec_source_odbc_ops = {
	.name = "odbc",
	.open = rs_odbc_open,
	.connstr = rs_odbc_connstr,
	.secret = rs_odbc_secret,
	.describe = rs_odbc_describe,
	.order = rs_odbc_order,
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

/* The paging row of the driver of connstr, or NULL. */
static const struct rs_odbc_paging *
rs_odbc_paging_of(const char *connstr)
{
	char *file = odbc_driver_file(connstr);
	const char *base = file != NULL ? strrchr(file, '/') : NULL;
	const struct rs_odbc_paging *p = NULL;
	size_t i;

	base = base != NULL ? base + 1 : file;
	for (i = 0; base != NULL && i < sizeof rs_odbc_pagings /
	    sizeof rs_odbc_pagings[0]; i++)
		if (strncmp(base, rs_odbc_pagings[i].library,
		    strlen(rs_odbc_pagings[i].library)) == 0)
			p = &rs_odbc_pagings[i];
	free(file);
	return p;
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
	s->paging = rs_odbc_paging_of(connstr);
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

/* Is column i of the result unsigned? */
static char
rs_odbc_unsigned(SQLHSTMT h, int i)
{
	SQLLEN u = SQL_FALSE;

	if (!SQL_SUCCEEDED(SQLColAttribute(h, (SQLUSMALLINT)(i + 1),
	        SQL_DESC_UNSIGNED, NULL, 0, NULL, &u)))
		return 0;
	return u == SQL_TRUE;
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
	/* Where chunks may be read, describe without reading a row. */
	if (s->paging != NULL) {
		char *q = xprintf("SELECT * FROM (%s) AS cutover_q LIMIT 0",
		    s->query);

		s->wrapped = SQL_SUCCEEDED(SQLExecDirect(s->stmt, (SQLCHAR *)q,
		    SQL_NTS));
		free(q);
		if (!s->wrapped)
			SQLFreeStmt(s->stmt, SQL_CLOSE);
	}
	if ((!s->wrapped && rs_odbc_exec(s, s->query, err) != 0))
		return -1;
	if (!SQL_SUCCEEDED(SQLNumResultCols(s->stmt, &n))) {
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
	s->sqltypes = xcalloc((size_t)n + 1, sizeof *s->sqltypes);
	s->nullable = xcalloc((size_t)n + 1, sizeof *s->nullable);
	s->sizes = xcalloc((size_t)n + 1, sizeof *s->sizes);
	s->unsig = xcalloc((size_t)n + 1, sizeof *s->unsig);
	s->keyf = xcalloc((size_t)n + 1, sizeof *s->keyf);
	for (i = 0; i < n; i++) {
		if (!SQL_SUCCEEDED(SQLDescribeCol(s->stmt, (SQLUSMALLINT)(i + 1),
		        name, sizeof name, &len, &type, &size, &dec, &nullable))) {
			name[0] = '\0';
			type = SQL_VARCHAR;
			nullable = SQL_NULLABLE_UNKNOWN;
		}
		s->sqltypes[i] = type;
		s->nullable[i] = nullable;
		s->sizes[i] = size;
		s->unsig[i] = rs_odbc_unsigned(s->stmt, i);
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

/* Run sql on the statement; 0, or -1 with *err. */
static int
rs_odbc_exec(struct rs_odbc *s, const char *sql, char **err)
{
	if (!SQL_SUCCEEDED(SQLExecDirect(s->stmt, (SQLCHAR *)sql, SQL_NTS))) {
		*err = rs_odbc_error(SQL_HANDLE_STMT, s->stmt);
		return -1;
	}
	return 0;
}

/* Is key column i an integer that is never NULL, compared as a number? */
static int
rs_odbc_int_key(const struct rs_odbc *s, int i, enum rec_kind kind)
{
	switch (s->sqltypes[i]) {
	case SQL_TINYINT: case SQL_SMALLINT: case SQL_INTEGER: case SQL_BIGINT:
		return kind == REC_NUMBER && s->nullable[i] == SQL_NO_NULLS &&
		    s->names[i][0] != '\0';
	default:
		return 0;
	}
}

/* The thread: run the next chunk's query and read it whole. */
static void *
rs_odbc_ahead_main(void *arg)
{
	struct rs_odbc *s = arg;

	SQLFreeStmt(s->stmt, SQL_CLOSE);
	s->a.fetched = s->a.at = 0;
	s->aheadr = rs_odbc_exec(s, s->aheadsql, &s->aheaderr);
	if (s->aheadr == 0)
		s->aheadr = rs_odbc_chunk_drain(s, &s->aheaderr);
	return NULL;
}

/*
 * Chunks read one snapshot, as one query would: a transaction at
 * REPEATABLE READ (InnoDB's consistent read is taken at the first chunk
 * and kept until the end), rolled back when the side closes.
 */
static int
rs_odbc_snapshot(struct rs_odbc *s, char **err)
{
	if ((s->dbc = odbc_job_dbc(s->job, err)) == NULL)
		return -1;
	if (!SQL_SUCCEEDED(SQLSetConnectAttr(s->dbc, SQL_ATTR_TXN_ISOLATION,
	        (SQLPOINTER)SQL_TXN_REPEATABLE_READ, 0)) ||
	    !SQL_SUCCEEDED(SQLSetConnectAttr(s->dbc, SQL_ATTR_AUTOCOMMIT,
	        (SQLPOINTER)SQL_AUTOCOMMIT_OFF, 0))) {
		*err = rs_odbc_error(SQL_HANDLE_DBC, s->dbc);
		s->dbc = NULL;
		return -1;
	}
	return 0;
}

/* Read in key-ordered chunks (1) if the key allows, else as written (0). */
static int
rs_odbc_order(void *arg, const enum rec_kind *kinds, int nkeys, char **err)
{
	struct rs_odbc *s = arg;
	int i, ok = s->wrapped && nkeys > 0 && nkeys <= s->ncols;

	for (i = 0; ok && i < nkeys; i++)
		ok = rs_odbc_int_key(s, i, kinds[i]);
	if (s->wrapped)
		SQLFreeStmt(s->stmt, SQL_CLOSE);
	if (!ok) {
		if (s->wrapped && rs_odbc_exec(s, s->query, err) != 0)
			return -1;
		s->wrapped = 0;
		return 0;
	}
	s->chunked = 1;
	s->nkeys = nkeys;
	s->chunk = RS_ODBC_CHUNK_FIRST;
	if (rs_odbc_snapshot(s, err) != 0)
		return -1;
	s->outf = xcalloc((size_t)s->ncols + 1, sizeof *s->outf);
	return rs_odbc_chunk_start(s, err) == 0 ? 1 : -1;
}

/* An identifier quoted for the driver's server. */
static void
rs_odbc_quote(struct buf *b, const char *name, char q)
{
	buf_addc(b, q);
	for (; *name != '\0'; name++) {
		if (*name == q)
			buf_addc(b, q);
		buf_addc(b, *name);
	}
	buf_addc(b, q);
}

/* The next chunk's query: keys after lastkey (if any), chunk rows. */
static char *
rs_odbc_chunk_sql(const struct rs_odbc *s)
{
	struct buf q = { 0 }, keys = { 0 };
	int i;

	for (i = 0; i < s->nkeys; i++) {
		if (i > 0)
			buf_adds(&keys, ", ");
		rs_odbc_quote(&keys, s->names[i], s->paging->quote);
	}
	buf_printf(&q, "SELECT * FROM (%s) AS cutover_q", s->query);
	if (s->lastkey != NULL) {
		buf_printf(&q, " WHERE (%s) > (", buf_str(&keys));
		for (i = 0; i < s->nkeys; i++)
			buf_printf(&q, "%s%s", i > 0 ? ", " : "", s->lastkey[i]);
		buf_addc(&q, ')');
	}
	buf_printf(&q, " ORDER BY %s LIMIT %zu", buf_str(&keys), s->chunk);
	buf_free(&keys);
	return buf_steal(&q);
}

/* Run and read the next chunk in the thread (or now, without one). */
static int
rs_odbc_chunk_start(struct rs_odbc *s, char **err)
{
	(void)err;
	free(s->aheadsql);
	s->aheadsql = rs_odbc_chunk_sql(s);
	if (pthread_create(&s->ahead, NULL, rs_odbc_ahead_main, s) == 0)
		s->aheading = 1;
	else
		rs_odbc_ahead_main(s);
	return 0;
}

/* Wait for the chunk read ahead; it becomes the current one. */
static int
rs_odbc_chunk_wait(struct rs_odbc *s, char **err)
{
	struct buf t;

	if (s->aheading)
		pthread_join(s->ahead, NULL);
	s->aheading = 0;
	if (s->aheadr != 0) {
		*err = s->aheaderr;
		s->aheaderr = NULL;
		return -1;
	}
	t = s->rows;
	s->rows = s->ahead_rows;
	s->ahead_rows = t;
	return 0;
}

/* Is column i fetched as text (not an integer type)? */
static int
rs_odbc_width_text(const struct rs_odbc *s, int i)
{
	switch (s->sqltypes[i]) {
	case SQL_TINYINT: case SQL_SMALLINT: case SQL_INTEGER: case SQL_BIGINT:
		return 0;
	default:
		return 1;
	}
}

/* An integer fetched as such, as the driver would write it; its length. */
static size_t
rs_odbc_itoa(char out[24], const char *p, int unsig)
{
	char t[24];
	uint64_t u;
	int64_t v;
	size_t n = 0, len = 0;

	if (unsig)
		memcpy(&u, p, sizeof u);
	else {
		memcpy(&v, p, sizeof v);
		u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
		if (v < 0)
			out[len++] = '-';
	}
	do
		t[n++] = (char)('0' + u % 10);
	while ((u /= 10) > 0);
	while (n > 0)
		out[len++] = t[--n];
	out[len] = '\0';
	return len;
}

/* The bytes a bound value of column i needs (NUL included), or 0 if it
 * cannot be bound. */
static SQLLEN
rs_odbc_width(const struct rs_odbc *s, int i)
{
	SQLULEN size = s->sizes[i], w;

	switch (s->sqltypes[i]) { /* fetched as integers, written here */
	case SQL_TINYINT: case SQL_SMALLINT: case SQL_INTEGER: case SQL_BIGINT:
		return (SQLLEN)sizeof(SQLBIGINT);
	default:
		break;
	}
	if (size == 0 || size >= RS_ODBC_WIDTH_MAX)
		return 0;
	switch (s->sqltypes[i]) {
	case SQL_CHAR: case SQL_VARCHAR: case SQL_WCHAR: case SQL_WVARCHAR:
		w = size * 4 + 1; /* UTF-8 */
		break;
	default:
		w = size + 8 > 64 ? size + 8 : 64;
	}
	return w < RS_ODBC_WIDTH_MAX ? (SQLLEN)w : 0;
}

/* Bind stmt's columns to the arrays; 1, or 0 if the driver refuses. */
static int
rs_odbc_bind_stmt(struct rs_odbc *s, SQLHSTMT h)
{
	struct rs_odbc_arrays *a = &s->a;
	int i, ok;

	ok = SQL_SUCCEEDED(SQLSetStmtAttr(h, SQL_ATTR_ROW_BIND_TYPE,
	    (SQLPOINTER)SQL_BIND_BY_COLUMN, 0)) &&
	    SQL_SUCCEEDED(SQLSetStmtAttr(h, SQL_ATTR_ROW_ARRAY_SIZE,
	    (SQLPOINTER)a->rows, 0)) &&
	    SQL_SUCCEEDED(SQLSetStmtAttr(h, SQL_ATTR_ROWS_FETCHED_PTR,
	    &a->fetched, 0)) &&
	    SQL_SUCCEEDED(SQLSetStmtAttr(h, SQL_ATTR_ROW_STATUS_PTR,
	    a->status, 0));
	for (i = 0; ok && i < s->ncols; i++)
		ok = SQL_SUCCEEDED(SQLBindCol(h, (SQLUSMALLINT)(i + 1),
		    a->ctype[i], a->data[i], a->width[i], a->ind[i]));
	return ok;
}

/* Undo rs_odbc_bind_stmt. */
static void
rs_odbc_unbind_stmt(SQLHSTMT h)
{
	if (h == NULL)
		return;
	SQLFreeStmt(h, SQL_UNBIND);
	SQLSetStmtAttr(h, SQL_ATTR_ROW_ARRAY_SIZE, (SQLPOINTER)1, 0);
	SQLSetStmtAttr(h, SQL_ATTR_ROWS_FETCHED_PTR, NULL, 0);
	SQLSetStmtAttr(h, SQL_ATTR_ROW_STATUS_PTR, NULL, 0);
}

/* Bind every column to arrays if the driver and the columns allow. */
static void
rs_odbc_bind(struct rs_odbc *s)
{
	struct rs_odbc_arrays *a = &s->a;
	SQLLEN sum = 0;
	int i, ok = s->paging != NULL;

	s->arrays = -1;
	a->width = xcalloc((size_t)s->ncols + 1, sizeof *a->width);
	for (i = 0; ok && i < s->ncols; i++)
		sum += a->width[i] = rs_odbc_width(s, i);
	for (i = 0; ok && i < s->ncols; i++)
		ok = a->width[i] > 0;
	if (!ok)
		return;
	a->rows = RS_ODBC_ARRAY_BYTES / (SQLULEN)sum;
	a->rows = a->rows < 16 ? 16 : a->rows > 1024 ? 1024 : a->rows;
	a->data = xcalloc((size_t)s->ncols + 1, sizeof *a->data);
	a->ind = xcalloc((size_t)s->ncols + 1, sizeof *a->ind);
	a->status = xcalloc(a->rows, sizeof *a->status);
	a->ctype = xcalloc((size_t)s->ncols + 1, sizeof *a->ctype);
	a->text = xcalloc((size_t)s->ncols + 1, sizeof *a->text);
	for (i = 0; i < s->ncols; i++) {
		a->ctype[i] = a->width[i] != (SQLLEN)sizeof(SQLBIGINT) ||
		    rs_odbc_width_text(s, i) ? SQL_C_CHAR : s->unsig[i] ?
		    SQL_C_UBIGINT : SQL_C_SBIGINT;
		a->data[i] = xmalloc(a->rows * (size_t)a->width[i]);
		a->ind[i] = xcalloc(a->rows, sizeof *a->ind[i]);
	}
	if (rs_odbc_bind_stmt(s, s->stmt)) {
		s->arrays = 1;
		return;
	}
	rs_odbc_unbind_stmt(s->stmt);
}

/* The next row from the bound arrays into fields: 1, 0, -1 with *err. */
static int
rs_odbc_read_arrays(struct rs_odbc *s, char **err)
{
	struct rs_odbc_arrays *a = &s->a;
	SQLRETURN r;
	SQLLEN ind;
	int i;

	while (a->at >= a->fetched) {
		a->at = a->fetched = 0;
		r = SQLFetch(s->stmt);
		if (r == SQL_NO_DATA)
			return 0;
		if (!SQL_SUCCEEDED(r)) {
			*err = rs_odbc_error(SQL_HANDLE_STMT, s->stmt);
			return -1;
		}
	}
	if (a->status[a->at] == SQL_ROW_ERROR) {
		*err = rs_odbc_error(SQL_HANDLE_STMT, s->stmt);
		return -1;
	}
	for (i = 0; i < s->ncols; i++) {
		ind = a->ind[i][a->at];
		s->fields[i].null = ind == SQL_NULL_DATA;
		s->fields[i].p = a->data[i] + a->at * (SQLULEN)a->width[i];
		s->fields[i].len = ind >= 0 ? (size_t)ind : 0;
		if (a->ctype[i] != SQL_C_CHAR) {
			if (ind != SQL_NULL_DATA)
				s->fields[i].len = rs_odbc_itoa(a->text[i],
				    s->fields[i].p, s->unsig[i]);
			s->fields[i].p = a->text[i];
			continue;
		}
		if (ind == SQL_NO_TOTAL || ind >= a->width[i]) {
			xasprintf(err, "column %s: a value longer than its "
			    "declared size", s->names[i]);
			return -1;
		}
	}
	a->at++;
	return 1;
}

/* Fetch a row into vals/fields: 1, 0 at the end, -1 with *err. */
static int
rs_odbc_read(struct rs_odbc *s, char **err)
{
	SQLRETURN r;
	int i, got;

	if (s->arrays == 0)
		rs_odbc_bind(s);
	if (s->arrays > 0)
		return rs_odbc_read_arrays(s, err);
	if ((r = SQLFetch(s->stmt)) == SQL_NO_DATA)
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
	return 1;
}

static int
rs_odbc_next(void *arg, struct rec_field **row, char **err)
{
	struct rs_odbc *s = arg;
	int r;

	if (s->chunked)
		return rs_odbc_chunk_next(s, row, err);
	if ((r = rs_odbc_read(s, err)) == 1)
		*row = s->fields;
	return r;
}

/* Does the fetched row have the key of the row packed at p? */
static int
rs_odbc_same_key(struct rs_odbc *s, const char *p)
{
	struct rec_field *k = s->keyf;
	int i, same;

	rec_row_take(p, k, s->ncols);
	for (i = 0, same = 1; same && i < s->nkeys; i++)
		same = k[i].len == s->fields[i].len &&
		    memcmp(k[i].p, s->fields[i].p, k[i].len) == 0;
	return same;
}

/* Read the chunk whole into ahead_rows, noting where its last key's rows
 * start. 0, or -1 with *err. */
static int
rs_odbc_chunk_drain(struct rs_odbc *s, char **err)
{
	struct buf *b = &s->ahead_rows;
	size_t prev = (size_t)-1;
	int i, r;

	buf_reset(b);
	s->got = s->bytes = s->grpoff = 0;
	s->beforeoff = (size_t)-1;
	while ((r = rs_odbc_read(s, err)) == 1) {
		if (prev != (size_t)-1 && !rs_odbc_same_key(s, b->data + prev)) {
			s->beforeoff = prev;
			s->grpoff = b->len;
		}
		prev = b->len;
		rec_row_pack(b, s->fields, s->ncols);
		s->got++;
		for (i = 0; i < s->ncols; i++)
			s->bytes += s->fields[i].len;
	}
	return r;
}

/* The key of the row at off becomes the lower bound of the next chunk. */
static int
rs_odbc_chunk_bound(struct rs_odbc *s, size_t off, char **err)
{
	struct rec_field *k = s->keyf;
	size_t j;
	int i;

	rec_row_take(s->rows.data + off, k, s->ncols);
	if (s->lastkey == NULL)
		s->lastkey = xcalloc((size_t)s->nkeys + 1, sizeof *s->lastkey);
	for (i = 0; i < s->nkeys; i++) {
		free(s->lastkey[i]);
		s->lastkey[i] = xstrndup(k[i].p, k[i].len);
		for (j = 0; j < k[i].len; j++)
			if (!((k[i].p[j] >= '0' && k[i].p[j] <= '9') ||
			    (j == 0 && k[i].p[j] == '-' && k[i].len > 1)))
				break;
		if (k[i].null || k[i].len == 0 || j < k[i].len) {
			xasprintf(err, "key column %s: '%s' is not an integer",
			    s->names[i], s->lastkey[i]);
			return -1;
		}
	}
	return 0;
}

/* A chunk was read: which of its rows go out, and the next chunk. */
static int
rs_odbc_chunk_next_query(struct rs_odbc *s, char **err)
{
	size_t per;

	s->off = 0;
	if (s->got < s->chunk) { /* the last chunk */
		s->end = s->rows.len;
		s->done = 1;
		return 0;
	}
	if (s->beforeoff == (size_t)-1) { /* one key only: again, longer */
		s->end = 0;
		s->chunk *= 2;
		return rs_odbc_chunk_start(s, err);
	}
	s->end = s->grpoff; /* the last key's rows come with the next */
	if (rs_odbc_chunk_bound(s, s->beforeoff, err) != 0)
		return -1;
	per = s->bytes / s->got + 16 * (size_t)s->ncols + 64;
	s->chunk = RS_ODBC_CHUNK_BYTES / per;
	if (s->chunk < RS_ODBC_CHUNK_MIN)
		s->chunk = RS_ODBC_CHUNK_MIN;
	if (s->chunk > RS_ODBC_CHUNK_MAX)
		s->chunk = RS_ODBC_CHUNK_MAX;
	return rs_odbc_chunk_start(s, err);
}

/* The next row in key order, from chunks. */
static int
rs_odbc_chunk_next(struct rs_odbc *s, struct rec_field **row, char **err)
{
	for (;;) {
		if (s->off < s->end) {
			s->off += rec_row_take(s->rows.data + s->off,
			    s->outf, s->ncols);
			*row = s->outf;
			return 1;
		}
		if (s->done)
			return 0;
		if (rs_odbc_chunk_wait(s, err) != 0 ||
		    rs_odbc_chunk_next_query(s, err) != 0)
			return -1;
	}
}

static void
rs_odbc_close(void *arg)
{
	struct rs_odbc *s = arg;

	if (s->aheading) { /* stop the chunk read ahead */
		SQLCancel(s->stmt);
		pthread_join(s->ahead, NULL);
		s->aheading = 0;
	}
	if (s->stmt != NULL) {
		odbc_job_set_stmt(s->job, NULL);
		SQLFreeHandle(SQL_HANDLE_STMT, s->stmt);
		s->stmt = NULL;
	}
	if (s->dbc != NULL) { /* end the snapshot's transaction */
		SQLEndTran(SQL_HANDLE_DBC, s->dbc, SQL_ROLLBACK);
		SQLSetConnectAttr(s->dbc, SQL_ATTR_AUTOCOMMIT,
		    (SQLPOINTER)SQL_AUTOCOMMIT_ON, 0);
		s->dbc = NULL;
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
	for (i = 0; s->lastkey != NULL && i < s->nkeys; i++)
		free(s->lastkey[i]);
	free(s->lastkey);
	buf_free(&s->rows);
	buf_free(&s->ahead_rows);
	free(s->aheadsql);
	free(s->aheaderr);
	free(s->outf);
	free(s->sqltypes);
	free(s->sizes);
	free(s->keyf);
	for (i = 0; s->a.data != NULL && i < s->ncols; i++) {
		free(s->a.data[i]);
		free(s->a.ind[i]);
	}
	free(s->a.data);
	free(s->a.ind);
	free(s->a.width);
	free(s->a.ctype);
	free(s->a.text);
	free(s->unsig);
	free(s->a.status);
	free(s->nullable);
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
