/*
 * rec-side-file.c - a reconcile side that is a CSV or TSV file
 * (rec-side.h), read in the side's worker: bytes through iconv from the
 * side's encoding to UTF-8 (which also proves UTF-8 input valid), then
 * through the streaming CSV reader (csv.h: RFC 4180 quoting, embedded
 * line breaks, CRLF). Records are queued as the reader hands them over
 * and taken one at a time; the queue holds at most one chunk's records.
 *
 * Every value is text: a file column takes the kind of the other side's
 * column (REC_UNTYPED). Errors name FILE:LINE.
 */
#include "config.h"

#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "csv.h"
#include "expand.h"
#include "rec-side.h"
#include "runbook.h"
#include "xmalloc.h"

#define RS_FILE_CHUNK (64 * 1024)

struct rs_file {
	char *path;      /* as opened */
	char *shown;     /* as written in the runbook, for messages */
	char *encoding;
	char delim;
	int header;
	char **want;     /* columns: */
	size_t nwant;
	FILE *f;
	iconv_t cd;        /* (iconv_t)-1 for UTF-8: checked, not converted */
	int utf8;
	struct csv_stream *csv;
	int eof;
	/* records the reader handed over, not taken yet */
	struct buf q;      /* packed rows */
	size_t qoff;       /* the next one in q */
	size_t qcount;
	unsigned *qlines;  /* their lines */
	size_t qcap;
	/* columns */
	int ncols;
	char **names;
	struct rec_col *cols;
	int *pick;         /* per column, the record's field */
	int nfields;       /* fields per record */
	int described;
	int skip;          /* a header to skip: read again (rewind) */
	int keys;          /* this pass reads the key's columns only (their
			    * count: next_keys) */
	int qcols;         /* columns of the rows queued */
	char *error;       /* from the reader's callback */
	struct rec_field *fields;
	struct rec_field *rec;
	unsigned line;     /* of the record taken last */
	char inbuf[RS_FILE_CHUNK];
	size_t inlen;
	const char *rest; /* of inbuf, not converted yet */
	size_t restlen;
	char outbuf[RS_FILE_CHUNK * 4];
};

static void *rs_file_open(const struct runbook *, const struct rb_entity *,
    const struct rb_query *,
    char **);
static const char *rs_file_none(void *);
static int rs_file_describe(void *, struct odbc_job *, int *, char ***,
    struct rec_col **, char **);
static int rs_file_next(void *, struct rec_field **, char **);
static int rs_file_next_keys(void *, int, struct rec_field **);
static int rs_file_rewind(void *, char **);
static void rs_file_close(void *);
static void rs_file_free(void *);
static int rs_file_fill(struct rs_file *, char **);
static int rs_file_row(const struct csv_field *, size_t, void *);
static int rs_file_header(struct rs_file *, const struct csv_field *,
    size_t);

const struct rec_source_ops rec_source_file_ops = {
	.name = "file",
	.open = rs_file_open,
	.connstr = rs_file_none,
	.secret = rs_file_none,
	.describe = rs_file_describe,
	.rewind = rs_file_rewind,
	.next = rs_file_next,
	.next_keys = rs_file_next_keys,
	.close = rs_file_close,
	.free = rs_file_free,
};

/* The path of a side's file: as written if absolute, else beside the
 * runbook. */
static char *
rs_file_path(const struct runbook *rb, const char *file)
{
	const char *slash;

	if (file[0] == '/' || rb->path == NULL ||
	    (slash = strrchr(rb->path, '/')) == NULL)
		return xstrdup(file);
	return xprintf("%.*s/%s", (int)(slash - rb->path), rb->path, file);
}

static void *
rs_file_open(const struct runbook *rb, const struct rb_entity *entity,
    const struct rb_query *q, char **err)
{
	struct rs_file *s;
	char *file;

	if ((file = expand_text_entity(rb, entity, q->file, err)) == NULL)
		return NULL;
	s = xcalloc(1, sizeof *s);
	s->shown = file;
	s->path = rs_file_path(rb, file);
	s->encoding = xstrdup(q->encoding != NULL ? q->encoding : "UTF-8");
	s->delim = q->delimiter != NULL ? q->delimiter[0] :
	    q->format == RB_FORMAT_TSV ? '\t' : ',';
	s->header = q->header;
	s->want = q->columns;
	s->nwant = q->ncolumns;
	s->cd = (iconv_t)-1;
	return s;
}

static const char *
rs_file_none(void *arg)
{
	(void)arg;
	return NULL;
}

/* Open, set up iconv, read up to the first record (the header). */
static int
rs_file_describe(void *arg, struct odbc_job *job, int *ncols, char ***names,
    struct rec_col **cols, char **err)
{
	struct rs_file *s = arg;

	(void)job;
	if ((s->f = fopen(s->path, "rb")) == NULL) {
		xasprintf(err, "%s: %s", s->shown, strerror(errno));
		return -1;
	}
	s->utf8 = strcasecmp(s->encoding, "UTF-8") == 0 ||
	    strcasecmp(s->encoding, "UTF8") == 0;
	if (!s->utf8 &&
	    (s->cd = iconv_open("UTF-8", s->encoding)) == (iconv_t)-1) {
		xasprintf(err, "%s: unknown encoding '%s' (see iconv -l)",
		    s->shown, s->encoding);
		return -1;
	}
	s->csv = csv_stream_new(s->delim);
	if (!s->header) {
		/* columns: name the fields, in order. */
		rs_file_header(s, NULL, 0);
	}
	while (!s->described && s->error == NULL && !s->eof)
		if (rs_file_fill(s, err) != 0)
			return -1;
	if (s->error != NULL) {
		*err = s->error;
		s->error = NULL;
		return -1;
	}
	if (!s->described) {
		xasprintf(err, "%s: the file is empty (no header)", s->shown);
		return -1;
	}
	*ncols = s->ncols;
	*names = s->names;
	*cols = s->cols;
	return 0;
}

/* The columns: from the header (picked by columns: if given), or from
 * columns: alone. */
static int
rs_file_header(struct rs_file *s, const struct csv_field *f, size_t n)
{
	size_t i, j;

	s->ncols = (int)(s->nwant > 0 ? s->nwant : n);
	s->nfields = (int)(f != NULL ? n : s->nwant);
	s->names = xcalloc((size_t)s->ncols + 1, sizeof *s->names);
	s->cols = xcalloc((size_t)s->ncols + 1, sizeof *s->cols);
	s->pick = xcalloc((size_t)s->ncols + 1, sizeof *s->pick);
	s->fields = xcalloc((size_t)s->ncols + 1, sizeof *s->fields);
	s->rec = xcalloc((size_t)s->nfields + 1, sizeof *s->rec);
	s->qcols = s->ncols;
	for (i = 0; i < (size_t)s->ncols; i++) {
		s->names[i] = xstrdup(s->nwant > 0 ? s->want[i] : f[i].value);
		s->cols[i].kind = REC_UNTYPED;
		s->cols[i].type = xstrdup("text (file)");
		s->pick[i] = (int)i;
		if (f == NULL || s->nwant == 0)
			continue;
		for (j = 0; j < n && strcmp(f[j].value, s->want[i]) != 0; j++)
			;
		if (j == n) {
			xasprintf(&s->error, "%s:%u: the header has no column "
			    "'%s'", s->shown, f[0].line, s->want[i]);
			return 1;
		}
		s->pick[i] = (int)j;
	}
	s->described = 1;
	return 0;
}

/* A record from the reader: the header, or a row for the queue. */
static int
rs_file_row(const struct csv_field *f, size_t n, void *arg)
{
	struct rs_file *s = arg;
	struct rec_field *r;
	size_t i, all;

	if (!s->described)
		return rs_file_header(s, f, n);
	if (s->skip) {
		s->skip = 0;
		return 0;
	}
	if ((int)(all = csv_stream_count(s->csv)) != s->nfields) {
		xasprintf(&s->error, "%s:%u: a record of %zu field%s; the "
		    "header has %d", s->shown, f[0].line, all,
		    all == 1 ? "" : "s", s->nfields);
		return 1;
	}
	r = s->fields;
	for (i = 0; i < (size_t)s->qcols; i++) {
		/* fields past the kept ones (next_keys): not read */
		r[i].p = (size_t)s->pick[i] < n ? f[s->pick[i]].value : "";
		r[i].len = (size_t)s->pick[i] < n ? f[s->pick[i]].len : 0;
		r[i].null = 0;
	}
	if (s->qcount == s->qcap) {
		s->qcap = s->qcap > 0 ? s->qcap * 2 : 256;
		s->qlines = xreallocarray(s->qlines, s->qcap,
		    sizeof *s->qlines);
	}
	s->qlines[s->qcount++] = f[0].line;
	rec_row_pack(&s->q, r, s->qcols);
	return 0;
}

/* Convert (or, from UTF-8, check) what inbuf holds: the text and its
 * length; 0, or -1 with *err. The rest waits in inbuf. */
static int
rs_file_convert(struct rs_file *s, int end, const char **text,
    size_t *len, char **err)
{
	char *in = s->inbuf, *out = s->outbuf;
	size_t inleft = s->inlen, outleft = sizeof s->outbuf;
	int bad = 0, failed;

	if (s->utf8) {
		*len = csv_utf8_prefix(s->inbuf, s->inlen, &bad);
		failed = bad || (end && *len < s->inlen);
		in = s->inbuf + *len;
		inleft = s->inlen - *len;
		*text = s->inbuf;
	} else {
		failed = iconv(s->cd, &in, &inleft, &out, &outleft) ==
		    (size_t)-1 && (errno == EILSEQ || (errno == EINVAL && end));
		*text = s->outbuf;
		*len = sizeof s->outbuf - outleft;
	}
	if (failed) {
		xasprintf(err, "%s:%u: not valid %s text", s->shown,
		    csv_stream_line(s->csv), s->encoding);
		return -1;
	}
	s->rest = in;
	s->restlen = inleft;
	return 0;
}

/* Read a chunk, convert it, feed the reader. 0, or -1 with *err. */
static int
rs_file_fill(struct rs_file *s, char **err)
{
	struct csv_error ce;
	const char *text;
	size_t n, len;
	int rc;

	n = fread(s->inbuf + s->inlen, 1, sizeof s->inbuf - s->inlen, s->f);
	if (n == 0 && ferror(s->f)) {
		xasprintf(err, "%s: %s", s->shown, strerror(errno));
		return -1;
	}
	s->inlen += n;
	if (rs_file_convert(s, n == 0, &text, &len, err) != 0)
		return -1;
	rc = csv_stream_feed(s->csv, text, len, rs_file_row, s, &ce);
	memmove(s->inbuf, s->rest, s->restlen);
	s->inlen = s->restlen;
	if (rc == 0 && n == 0) {
		s->eof = 1;
		rc = csv_stream_end(s->csv, rs_file_row, s, &ce);
	}
	if (rc < 0 && s->error == NULL)
		xasprintf(&s->error, "%s:%u:%u: %s", s->shown, ce.line, ce.col,
		    ce.msg);
	return 0;
}

static int
rs_file_next(void *arg, struct rec_field **row, char **err)
{
	struct rs_file *s = arg;

	while (s->qoff >= s->q.len) {
		buf_reset(&s->q);
		s->qoff = 0;
		s->qcount = 0;
		s->qcols = s->keys > 0 ? s->keys : s->ncols;
		if (s->error != NULL) {
			*err = s->error;
			s->error = NULL;
			return -1;
		}
		if (s->eof)
			return 0;
		if (rs_file_fill(s, err) != 0)
			return -1;
		s->line = 0;
	}
	s->qoff += rec_row_take(s->q.data + s->qoff, s->fields, s->qcols);
	*row = s->fields;
	return 1;
}

/* The next row, its key columns only: the reader keeps the fields up to
 * the last key's and skims the rest. Any error: 2 (the full read after
 * rewind reports it). */
static int
rs_file_next_keys(void *arg, int nkeys, struct rec_field **row)
{
	struct rs_file *s = arg;
	char *err = NULL;
	int i, keep = 0, r;

	if (!s->keys) {
		s->keys = nkeys > 0 && nkeys < s->ncols ? nkeys : s->ncols;
		for (i = 0; i < s->keys; i++)
			if (s->pick[i] + 1 > keep)
				keep = s->pick[i] + 1;
		csv_stream_keep(s->csv, (size_t)keep);
	}
	if ((r = rs_file_next(s, row, &err)) < 0) {
		free(err);
		return 2;
	}
	return r;
}

/* Back to the first record after the header. */
static int
rs_file_rewind(void *arg, char **err)
{
	struct rs_file *s = arg;

	if (fseek(s->f, 0, SEEK_SET) != 0) {
		xasprintf(err, "%s: %s", s->shown, strerror(errno));
		return -1;
	}
	if (s->cd != (iconv_t)-1)
		iconv(s->cd, NULL, NULL, NULL, NULL);
	csv_stream_free(s->csv);
	s->csv = csv_stream_new(s->delim);
	buf_reset(&s->q);
	s->qoff = s->qcount = s->inlen = 0;
	s->eof = 0;
	s->line = 0;
	free(s->error);
	s->error = NULL;
	s->skip = s->header;
	s->keys = 0;
	s->qcols = s->ncols;
	return 0;
}

static void
rs_file_close(void *arg)
{
	struct rs_file *s = arg;

	if (s->f != NULL)
		fclose(s->f);
	s->f = NULL;
	if (s->cd != (iconv_t)-1)
		iconv_close(s->cd);
	s->cd = (iconv_t)-1;
	csv_stream_free(s->csv);
	s->csv = NULL;
}

static void
rs_file_free(void *arg)
{
	struct rs_file *s = arg;
	int i;

	if (s == NULL)
		return;
	rs_file_close(s);
	for (i = 0; s->names != NULL && i < s->ncols; i++) {
		free(s->names[i]);
		free((char *)s->cols[i].type);
	}
	free(s->names);
	free(s->cols);
	free(s->pick);
	free(s->fields);
	free(s->rec);
	free(s->qlines);
	buf_free(&s->q);
	free(s->error);
	free(s->path);
	free(s->shown);
	free(s->encoding);
	free(s);
}
