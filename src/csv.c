/*
 * csv.c - an RFC 4180 CSV reader driven by one table: the state the reader
 * is in (at a field's start, in a plain field, in a quoted one, just after a
 * quote inside one, just after a carriage return) and the class of the next
 * byte give what to do with it and the next state.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "bytes.h"
#include "csv.h"
#include "xmalloc.h"

enum csv_class { C_QUOTE, C_COMMA, C_CR, C_LF, C_OTHER, C_END, C_NCLASS };
enum csv_state { S_START, S_PLAIN, S_QUOTED, S_QUOTE, S_CR, S_NSTATE };

/* What a byte does, in this order: add it, end the field, end the record. */
#define A_ADD 0x1
#define A_FIELD 0x2
#define A_ROW 0x4

enum csv_err {
	E_NONE,
	E_QUOTE,
	E_AFTER,
	E_OPEN,
	E_CR,
};

static const char *csv_messages[] = {
	NULL,
	"a quote inside an unquoted field (quote the whole field and "
	"double the quote)",
	"a character after a closing quote (expected a comma or the end of "
	"the line)",
	"a quoted field is not closed",
	"a carriage return not followed by a line feed",
};

struct csv_move {
	unsigned char next;   /* enum csv_state */
	unsigned char action; /* A_* */
	unsigned char err;    /* enum csv_err, E_NONE to go on */
};

#define FR (A_FIELD | A_ROW)
static const struct csv_move csv_table[S_NSTATE][C_NCLASS] = {
	[S_START] = {
	    [C_QUOTE] = { S_QUOTED, 0, E_NONE },
	    [C_COMMA] = { S_START, A_FIELD, E_NONE },
	    [C_CR] = { S_CR, 0, E_NONE },
	    [C_LF] = { S_START, FR, E_NONE },
	    [C_OTHER] = { S_PLAIN, A_ADD, E_NONE },
	    [C_END] = { S_START, FR, E_NONE },
	},
	[S_PLAIN] = {
	    [C_QUOTE] = { S_PLAIN, 0, E_QUOTE },
	    [C_COMMA] = { S_START, A_FIELD, E_NONE },
	    [C_CR] = { S_CR, 0, E_NONE },
	    [C_LF] = { S_START, FR, E_NONE },
	    [C_OTHER] = { S_PLAIN, A_ADD, E_NONE },
	    [C_END] = { S_START, FR, E_NONE },
	},
	[S_QUOTED] = {
	    [C_QUOTE] = { S_QUOTE, 0, E_NONE },
	    [C_COMMA] = { S_QUOTED, A_ADD, E_NONE },
	    [C_CR] = { S_QUOTED, A_ADD, E_NONE },
	    [C_LF] = { S_QUOTED, A_ADD, E_NONE },
	    [C_OTHER] = { S_QUOTED, A_ADD, E_NONE },
	    [C_END] = { S_QUOTED, 0, E_OPEN },
	},
	[S_QUOTE] = {
	    [C_QUOTE] = { S_QUOTED, A_ADD, E_NONE },
	    [C_COMMA] = { S_START, A_FIELD, E_NONE },
	    [C_CR] = { S_CR, 0, E_NONE },
	    [C_LF] = { S_START, FR, E_NONE },
	    [C_OTHER] = { S_QUOTE, 0, E_AFTER },
	    [C_END] = { S_START, FR, E_NONE },
	},
	[S_CR] = {
	    [C_QUOTE] = { S_CR, 0, E_CR },
	    [C_COMMA] = { S_CR, 0, E_CR },
	    [C_CR] = { S_CR, 0, E_CR },
	    [C_LF] = { S_START, FR, E_NONE },
	    [C_OTHER] = { S_CR, 0, E_CR },
	    [C_END] = { S_CR, 0, E_CR },
	},
};
#undef FR

/* The record being read. */
struct csv_reader {
	struct buf values;      /* the fields' values, each NUL-terminated */
	struct csv_field *fields;
	size_t *offsets;        /* of each field's value in values */
	size_t nfields;
	size_t cap;
	size_t start;           /* offset of the open field's value */
	int quoted;             /* the open field is quoted */
	unsigned line, col;     /* of the next byte */
	unsigned fline, fcol;   /* of the open field */
	unsigned crline, crcol; /* of the last carriage return */
	size_t keep;            /* fields kept per record (0: all) */
	int skipping;           /* in a record's rest: 1 at once, 2 by byte */
	size_t nmore;           /* fields of the rest ended so far */
	size_t count;           /* the record's fields (in the callback) */
};

/* A reader fed in chunks (csv_stream_*): the reader and its state. */
struct csv_stream {
	struct csv_reader r;
	enum csv_state st;
	char delim;
	unsigned char plain[256]; /* bytes that only add, in a plain field */
	unsigned char stop[256];  /* bytes a record's rest is not skimmed over */
	int bom;     /* bytes of a byte order mark matched so far; 3: done */
	int fast;    /* plain records may skip the table (csv_stream_fast) */
	int failed;
};

static enum csv_class csv_class_of(const char *, size_t, size_t);
static void csv_plain_init(unsigned char *, char);
static size_t csv_run(struct csv_reader *, const unsigned char *,
    enum csv_state, const char *, size_t, size_t);
static enum csv_class csv_class_delim(const char *, size_t, size_t, char);
static int csv_check_utf8(const char *, size_t, struct csv_error *);
static size_t csv_utf8_len(const unsigned char *, size_t);
static int csv_end_field(struct csv_reader *, struct csv_error *);
static int csv_end_row(struct csv_reader *, csv_row_fn, void *);
static int csv_end_cut(struct csv_reader *, csv_row_fn, void *,
    struct csv_error *);
static size_t csv_skim_words(const unsigned char *, size_t, unsigned char,
    size_t *, unsigned char *);
static size_t csv_stream_fast(struct csv_stream *, const char *, size_t,
    size_t, csv_row_fn, void *, int *);
static int csv_fast_split(struct csv_reader *, const unsigned char *, size_t,
    unsigned char, size_t *, int *);
static int csv_fast_grow(struct csv_reader *);
static void csv_fast_cols(struct csv_reader *, const unsigned char *,
    size_t, int);
static size_t csv_stream_skim(struct csv_stream *, const char *, size_t,
    size_t, csv_row_fn, void *, struct csv_error *, int *);
static void csv_error_at(struct csv_error *, unsigned, unsigned,
    enum csv_err);
static int csv_move_error(const struct csv_reader *, const struct csv_move *,
    struct csv_error *);
static int csv_move_apply(struct csv_reader *, const struct csv_move *, char,
    csv_row_fn, void *, struct csv_error *);

static enum csv_class
csv_class_of(const char *data, size_t len, size_t i)
{
	return csv_class_delim(data, len, i, ',');
}

/* The class of data[i] with delim as the field separator. */
static enum csv_class
csv_class_delim(const char *data, size_t len, size_t i, char delim)
{
	if (i == len)
		return C_END;
	if (data[i] == delim && delim != '"' && delim != '\r' && delim != '\n')
		return C_COMMA;
	switch (data[i]) {
	case '"':
		return C_QUOTE;
	case '\r':
		return C_CR;
	case '\n':
		return C_LF;
	default:
		return C_OTHER;
	}
}

/* Bytes of the valid UTF-8 sequence at s (n bytes left), or 0. */
static size_t
csv_utf8_len(const unsigned char *s, size_t n)
{
	size_t need, i;
	uint32_t c;

	if (s[0] < 0x80)
		return s[0] != 0;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		need = 2, c = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		need = 3, c = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		need = 4, c = s[0] & 0x07;
	else
		return 0;
	if (n < need)
		return 0;
	for (i = 1; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if ((need == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) ||
	    (need == 4 && (c < 0x10000 || c > 0x10ffff)))
		return 0; /* overlong, a surrogate or beyond Unicode */
	return need;
}

size_t
csv_utf8_prefix(const char *data, size_t len, int *bad)
{
	const unsigned char *s = (const unsigned char *)data;
	size_t i = 0, n, need;
	uint64_t w;

	*bad = 0;
	while (i < len) {
		if (len - i >= 8) { /* eight ASCII bytes at a time */
			memcpy(&w, s + i, 8);
			if ((w & 0x8080808080808080ull) == 0) {
				i += 8;
				continue;
			}
		}
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		need = s[i] >= 0xf0 ? 4 : s[i] >= 0xe0 ? 3 : 2;
		if (len - i < need && s[i] >= 0xc2 && s[i] <= 0xf4) {
			for (n = 1; i + n < len && (s[i + n] & 0xc0) == 0x80; n++)
				;
			if (i + n == len)
				return i; /* cut short: more may come */
		}
		if ((n = csv_utf8_len(s + i, len - i)) == 0) {
			*bad = 1;
			return i;
		}
		i += n;
	}
	return i;
}

/* Check that data is UTF-8 without NUL; -1 with the place in *err if not. */
static int
csv_check_utf8(const char *data, size_t len, struct csv_error *err)
{
	const unsigned char *s = (const unsigned char *)data;
	unsigned line = 1, col = 1;
	size_t i = 0, n;

	while (i < len) {
		if ((n = csv_utf8_len(s + i, len - i)) == 0) {
			err->line = line;
			err->col = col;
			err->msg = s[i] == 0 ? "a NUL byte" :
			    "invalid UTF-8 (save the file as UTF-8)";
			return -1;
		}
		if (s[i] == '\n') {
			line++;
			col = 1;
		} else
			col++;
		i += n;
	}
	return 0;
}

static void
csv_error_at(struct csv_error *err, unsigned line, unsigned col,
    enum csv_err e)
{
	err->line = line;
	err->col = col;
	err->msg = csv_messages[e];
}

/* Close the open field; -1 past CSV_MAX_FIELDS. */
static int
csv_end_field(struct csv_reader *r, struct csv_error *err)
{
	struct csv_field *f;

	if (r->nfields == CSV_MAX_FIELDS) {
		err->line = r->fline;
		err->col = r->fcol;
		err->msg = "more than 1024 fields in a record";
		return -1;
	}
	if (r->nfields == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 16;
		r->fields = xreallocarray(r->fields, r->cap, sizeof *r->fields);
		r->offsets = xreallocarray(r->offsets, r->cap,
		    sizeof *r->offsets);
	}
	f = &r->fields[r->nfields];
	f->len = r->values.len - r->start;
	f->line = r->fline;
	f->col = r->fcol;
	f->quoted = r->quoted;
	r->offsets[r->nfields++] = r->start;
	buf_addc(&r->values, '\0');
	r->start = r->values.len;
	r->quoted = 0;
	return 0;
}

/* Hand the record to row unless it is an empty line; reset the reader. */
static int
csv_end_row(struct csv_reader *r, csv_row_fn row, void *arg)
{
	size_t i;
	int rc = 0;

	r->count = r->nfields + r->nmore;
	if (r->nfields > 1 || r->nmore > 0 || r->fields[0].len > 0 ||
	    r->fields[0].quoted) {
		for (i = 0; i < r->nfields; i++)
			r->fields[i].value = r->values.data + r->offsets[i];
		rc = row(r->fields, r->nfields, arg);
	}
	r->nfields = 0;
	r->nmore = 0;
	buf_reset(&r->values);
	r->start = 0;
	return rc;
}

/* End a record whose rest was skipped (csv_stream_keep). */
static int
csv_end_cut(struct csv_reader *r, csv_row_fn row, void *arg,
    struct csv_error *err)
{
	r->skipping = 0;
	if (r->nfields + r->nmore > CSV_MAX_FIELDS) {
		err->line = r->fline;
		err->col = r->fcol;
		err->msg = "more than 1024 fields in a record";
		return -1;
	}
	return csv_end_row(r, row, arg);
}

/* Report the error of move m, met at the next byte; -1. */
static int
csv_move_error(const struct csv_reader *r, const struct csv_move *m,
    struct csv_error *err)
{
	if (m->err == E_OPEN)
		csv_error_at(err, r->fline, r->fcol, E_OPEN);
	else if (m->err == E_CR)
		csv_error_at(err, r->crline, r->crcol, E_CR);
	else
		csv_error_at(err, r->line, r->col, (enum csv_err)m->err);
	return -1;
}

/* Take byte c through move m; 0 to go on, else what stops the parse. */
static int
csv_move_apply(struct csv_reader *r, const struct csv_move *m, char c,
    csv_row_fn row, void *arg, struct csv_error *err)
{
	if (r->skipping) { /* the rest of a record: fields counted only */
		r->nmore += (m->action & A_FIELD) != 0;
		return m->action & A_ROW ? csv_end_cut(r, row, arg, err) : 0;
	}
	if (m->action & A_ADD)
		buf_addc(&r->values, c);
	if ((m->action & A_FIELD) && csv_end_field(r, err) != 0)
		return -1;
	if (m->action & A_ROW)
		return csv_end_row(r, row, arg);
	if ((m->action & A_FIELD) && r->keep > 0 && r->nfields == r->keep)
		r->skipping = 1; /* a field after the kept ones: skip */
	return 0;
}

int
csv_parse(const char *data, size_t len, csv_row_fn row, void *arg,
    struct csv_error *err)
{
	struct csv_reader r = { .line = 1, .col = 1 };
	const struct csv_move *m;
	enum csv_state st = S_START;
	enum csv_class c;
	unsigned char plain[256];
	size_t i = 0;
	int rc = 0;

	csv_plain_init(plain, ',');
	if (csv_check_utf8(data, len, err) != 0)
		return -1;
	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	for (; rc == 0; i++) {
		if (st == S_PLAIN || st == S_QUOTED)
			i = csv_run(&r, plain, st, data, len, i);
		c = csv_class_of(data, len, i);
		if (st == S_START) {
			r.fline = r.line;
			r.fcol = r.col;
			r.quoted = c == C_QUOTE;
		}
		if (c == C_CR) {
			r.crline = r.line;
			r.crcol = r.col;
		}
		m = &csv_table[st][c];
		if (m->err != E_NONE) {
			rc = csv_move_error(&r, m, err);
			break;
		}
		rc = csv_move_apply(&r, m, c == C_END ? '\0' : data[i], row,
		    arg, err);
		st = (enum csv_state)m->next;
		if (c == C_END)
			break;
		if (c == C_LF) {
			r.line++;
			r.col = 1;
		} else if (((unsigned char)data[i] & 0xc0) != 0x80)
			r.col++;
	}
	buf_free(&r.values);
	free(r.fields);
	free(r.offsets);
	return rc;
}

/* ------------------------------------------------------------ streams */

struct csv_stream *
csv_stream_new(char delim)
{
	struct csv_stream *s = xcalloc(1, sizeof *s);

	s->r.line = 1;
	s->r.col = 1;
	s->st = S_START;
	s->delim = delim;
	csv_plain_init(s->plain, delim);
	s->stop['"'] = s->stop['\r'] = s->stop[0] = 1;
	s->fast = delim != '"' && delim != '\r' && delim != '\n' && delim != 0;
	return s;
}

void
csv_stream_keep(struct csv_stream *s, size_t n)
{
	s->r.keep = n;
}

size_t
csv_stream_count(const struct csv_stream *s)
{
	return s->r.count;
}

/*
 * Over whole words of u (eight bytes at a time): add the delimiters to *n
 * and set *bad at a quote, carriage return or NUL byte. The bytes done.
 */
static size_t
csv_skim_words(const unsigned char *u, size_t len, unsigned char delim,
    size_t *n, unsigned char *bad)
{
	uint64_t w, stop = 0;
	size_t j;

	for (j = 0; j + 8 <= len; j += 8) {
		w = bytes_load(u + j);
		/* the high bits, one per byte, summed by a multiplication */
		*n += (size_t)(((bytes_eq(w, delim) >> 7) * BYTES_ONES) >>
		    56);
		stop |= bytes_eq(w, '"') | bytes_eq(w, '\r') | bytes_eq(w, 0);
	}
	*bad |= stop != 0;
	return j;
}

/*
 * In the rest of a record (csv_stream_keep), from data[i]: up to the line
 * feed that ends it at once, when no quote, carriage return (but that of
 * a CRLF) or NUL byte is in the way; else on byte by byte through the
 * table. The index after what was skimmed; *rc as csv_stream_byte.
 */
static size_t
csv_stream_skim(struct csv_stream *s, const char *data, size_t len,
    size_t i, csv_row_fn row, void *arg, struct csv_error *err, int *rc)
{
	const unsigned char *u = (const unsigned char *)data;
	const char *nl = memchr(data + i, '\n', len - i);
	size_t end = nl != NULL ? (size_t)(nl - data) : len, e = end, j;
	size_t n = 0;
	unsigned char bad = 0, delim = (unsigned char)s->delim;

	if (nl != NULL && e > i && u[e - 1] == '\r')
		e--;
	j = csv_skim_words(u + i, e - i, delim, &n, &bad) + i;
	for (; j < e; j++) {
		n += u[j] == delim;
		bad |= s->stop[u[j]];
	}
	if (bad) {
		s->r.skipping = 2;
		return i;
	}
	s->r.nmore += n;
	if (nl == NULL) {
		if (end > i)
			s->st = u[end - 1] == delim ? S_START : S_PLAIN;
		return end;
	}
	s->r.nmore++;
	s->st = S_START;
	*rc = csv_end_cut(&s->r, row, arg, err);
	s->r.line++;
	s->r.col = 1;
	return end + 1;
}

/*
 * A whole record at data[i], at a record's start, read without the table
 * when it is plain: on one line of data, without a quote, a carriage
 * return (but that of a CRLF) or a NUL byte, of at most CSV_MAX_FIELDS
 * fields. Its delimiters are found eight bytes at a time, the kept
 * fields copied at once. The index after its line feed (*rc as
 * csv_stream_byte), or i when it is not plain: then the table reads it,
 * and reports what is wrong with it where it is.
 */
static size_t
csv_stream_fast(struct csv_stream *s, const char *data, size_t len,
    size_t i, csv_row_fn row, void *arg, int *rc)
{
	struct csv_reader *r = &s->r;
	const unsigned char *u = (const unsigned char *)data + i;
	const char *nl = memchr(data + i, '\n', len - i);
	size_t n, all, k, keep, upto;
	int ascii;

	if (nl == NULL || (r->cap == 0 && csv_fast_grow(r) != 0))
		return i;
	n = (size_t)(nl - (data + i));
	if (n > 0 && u[n - 1] == '\r')
		n--;
	if (csv_fast_split(r, u, n, (unsigned char)s->delim, &all, &ascii) != 0)
		return i;
	/* r->offsets holds every field's start; the kept fields are
	 * copied, each followed by a NUL where its delimiter was */
	keep = r->keep > 0 && r->keep < all ? r->keep : all;
	upto = keep < all ? r->offsets[keep] : n + 1;
	buf_add(&r->values, u, upto - 1);
	buf_addc(&r->values, '\0');
	for (k = 0; k < keep; k++) {
		r->fields[k].len = (k + 1 < all ? r->offsets[k + 1] - 1 : n) -
		    r->offsets[k];
		r->values.data[r->offsets[k] + r->fields[k].len] = '\0';
		r->fields[k].quoted = 0;
		r->fields[k].line = r->line;
	}
	csv_fast_cols(r, u, keep, ascii);
	r->nfields = keep;
	r->nmore = all - keep;
	*rc = csv_end_row(r, row, arg);
	r->line++;
	r->col = 1;
	s->st = S_START;
	return (size_t)(nl - data) + 1;
}

/* The start of each field of the n bytes at u into r->offsets, their count
 * in *all, *ascii whether every byte is; -1 at a quote, a carriage return
 * or a NUL byte, or too many. */
static int
csv_fast_split(struct csv_reader *r, const unsigned char *u, size_t n,
    unsigned char delim, size_t *all, int *ascii)
{
	uint64_t w, d, stop = 0, high = 0;
	size_t j = 0, nf = 1;

	r->offsets[0] = 0;
	for (; j + 8 <= n && stop == 0; j += 8) {
		w = bytes_load(u + j);
		high |= w;
		stop = bytes_eq(w, '"') | bytes_eq(w, '\r') | bytes_eq(w, 0);
		for (d = bytes_eq(w, delim); d != 0; d &= d - 1) {
			if (nf == r->cap && csv_fast_grow(r) != 0)
				return -1;
			r->offsets[nf++] = j + bytes_first(d) + 1;
		}
	}
	for (; j < n && stop == 0; j++) {
		high |= (uint64_t)u[j] << 56;
		stop = u[j] == '"' || u[j] == '\r' || u[j] == 0;
		if (u[j] == delim) {
			if (nf == r->cap && csv_fast_grow(r) != 0)
				return -1;
			r->offsets[nf++] = j + 1;
		}
	}
	*all = nf;
	*ascii = (high & 0x8080808080808080ull) == 0;
	return stop != 0 || nf > CSV_MAX_FIELDS ? -1 : 0;
}

/* Room for more fields; -1 past CSV_MAX_FIELDS (the table says so). */
static int
csv_fast_grow(struct csv_reader *r)
{
	if (r->cap > CSV_MAX_FIELDS)
		return -1;
	r->cap = r->cap < 16 ? 16 : r->cap * 2;
	r->fields = xreallocarray(r->fields, r->cap, sizeof *r->fields);
	r->offsets = xreallocarray(r->offsets, r->cap, sizeof *r->offsets);
	return 0;
}

/* The column of each of the first nf fields of the record at u: bytes
 * but UTF-8 continuation bytes, from 1. */
static void
csv_fast_cols(struct csv_reader *r, const unsigned char *u, size_t nf,
    int ascii)
{
	size_t k, j = 0;
	unsigned col = 1;

	for (k = 0; k < nf && ascii; k++)
		r->fields[k].col = (unsigned)r->offsets[k] + 1;
	for (k = 0; k < nf && !ascii; k++) {
		for (; j < r->offsets[k]; j++)
			col += (u[j] & 0xc0) != 0x80;
		r->fields[k].col = col;
	}
}

/* The bytes that only add to a plain field with delimiter delim. */
static void
csv_plain_init(unsigned char *plain, char delim)
{
	memset(plain, 1, 256);
	plain[(unsigned char)delim] = 0;
	plain['"'] = plain['\r'] = plain['\n'] = plain[0] = 0;
}

/*
 * The bytes from data[i] that the table would only add to the open field
 * without changing the state (inside a plain field, the bytes plain marks;
 * inside a quoted one, all but a quote, a line feed, which counts a line,
 * and a NUL), added at once: the index after them.
 */
static size_t
csv_run(struct csv_reader *r, const unsigned char *plain, enum csv_state st,
    const char *data, size_t len, size_t i)
{
	const unsigned char *u = (const unsigned char *)data;
	size_t j = i, n = 0;

	if (st == S_PLAIN)
		while (j < len && plain[u[j]])
			j++;
	else if (st == S_QUOTED)
		while (j < len && u[j] != '"' && u[j] != '\n' && u[j] != 0)
			j++;
	if (j == i)
		return i;
	if (!r->skipping)
		buf_add(&r->values, data + i, j - i);
	for (; i < j; i++)
		n += (u[i] & 0xc0) != 0x80;
	r->col += (unsigned)n;
	return j;
}

void
csv_stream_free(struct csv_stream *s)
{
	if (s == NULL)
		return;
	buf_free(&s->r.values);
	free(s->r.fields);
	free(s->r.offsets);
	free(s);
}

/* One byte (or the end, c == C_END) through the table. */
static int
csv_stream_byte(struct csv_stream *s, const char *data, size_t len,
    size_t i, csv_row_fn row, void *arg, struct csv_error *err)
{
	struct csv_reader *r = &s->r;
	enum csv_class c = csv_class_delim(data, len, i, s->delim);
	const struct csv_move *m;
	int rc;

	if (c != C_END && data[i] == '\0') {
		err->line = r->line;
		err->col = r->col;
		err->msg = "a NUL byte";
		return -1;
	}
	if (s->st == S_START) {
		r->fline = r->line;
		r->fcol = r->col;
		r->quoted = c == C_QUOTE;
	}
	if (c == C_CR) {
		r->crline = r->line;
		r->crcol = r->col;
	}
	m = &csv_table[s->st][c];
	if (m->err != E_NONE)
		return csv_move_error(r, m, err);
	rc = csv_move_apply(r, m, c == C_END ? '\0' : data[i], row, arg, err);
	s->st = (enum csv_state)m->next;
	if (c == C_LF) {
		r->line++;
		r->col = 1;
	} else if (c != C_END && ((unsigned char)data[i] & 0xc0) != 0x80)
		r->col++;
	return rc;
}

/* The start of a byte order mark that was not one: data after all. */
static int
csv_stream_bom_back(struct csv_stream *s, csv_row_fn row, void *arg,
    struct csv_error *err)
{
	int i, n = s->bom, rc = 0;

	s->bom = 3;
	for (i = 0; rc == 0 && i < n; i++)
		rc = csv_stream_byte(s, "\xef\xbb\xbf", 3, (size_t)i, row,
		    arg, err);
	if (rc != 0)
		s->failed = 1;
	return rc;
}

int
csv_stream_feed(struct csv_stream *s, const char *data, size_t len,
    csv_row_fn row, void *arg, struct csv_error *err)
{
	size_t i = 0, n;
	int rc = 0;

	if (s->failed)
		return -1;
	/* A byte order mark at the start is skipped, even across chunks. */
	while (s->bom < 3 && i < len && data[i] == "\xef\xbb\xbf"[s->bom]) {
		s->bom++;
		i++;
	}
	if (s->bom < 3 && i < len) {
		rc = csv_stream_bom_back(s, row, arg, err);
		s->bom = 3;
	}
	while (rc == 0 && i < len) {
		if (s->st == S_START && s->r.nfields == 0 && !s->r.skipping &&
		    s->r.values.len == 0 && s->fast &&
		    (n = csv_stream_fast(s, data, len, i, row, arg, &rc)) != i) {
			i = n;
			continue;
		}
		if (s->r.skipping == 1) {
			i = csv_stream_skim(s, data, len, i, row, arg, err,
			    &rc);
			continue;
		}
		if ((i = csv_run(&s->r, s->plain, s->st, data, len, i)) == len)
			break;
		rc = csv_stream_byte(s, data, len, i++, row, arg, err);
	}
	if (rc != 0)
		s->failed = 1;
	return rc;
}

int
csv_stream_end(struct csv_stream *s, csv_row_fn row, void *arg,
    struct csv_error *err)
{
	int rc = 0;

	if (s->failed)
		return -1;
	if (s->bom < 3)
		rc = csv_stream_bom_back(s, row, arg, err);
	s->bom = 3;
	if (rc != 0)
		return rc;
	if (s->r.skipping)
		s->r.skipping = 2; /* the end ends the rest through the table */
	return csv_stream_byte(s, "", 0, 0, row, arg, err);
}

unsigned
csv_stream_line(const struct csv_stream *s)
{
	return s->r.line;
}
