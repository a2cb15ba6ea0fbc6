/*
 * csv.h - CSV as RFC 4180 writes it, with the position of every field.
 *
 * Fields are separated by commas and records by CRLF or LF. A field may be
 * quoted with '"'; inside quotes, commas, line breaks and "" (one quote) are
 * data. A quote inside an unquoted field, anything but a comma or a line
 * break after a closing quote, an unterminated quoted field and a carriage
 * return not followed by a line feed are errors. The input must be valid
 * UTF-8 without NUL bytes (checked first); a UTF-8 byte order mark at the
 * start is skipped. Empty lines are skipped: a record is never one empty,
 * unquoted field.
 *
 * Positions are 1-based: the line (counting line feeds) and the column (in
 * characters) of the field's first character, its opening quote if quoted.
 */
#ifndef CUTOVER_CSV_H
#define CUTOVER_CSV_H

#include <stddef.h>

#define CSV_MAX_FIELDS 1024 /* in one record */

struct csv_field {
	const char *value; /* NUL-terminated, quotes undone */
	size_t len;
	int quoted;
	unsigned line;
	unsigned col;
};

struct csv_error {
	unsigned line;
	unsigned col;
	const char *msg; /* static */
};

/* Called for each record with its n fields (n >= 1), valid during the
 * call; non-zero stops the parse and is returned by csv_parse. */
typedef int (*csv_row_fn)(const struct csv_field *, size_t n, void *arg);

/*
 * Parse len bytes of data, calling row for each record in order. Returns 0
 * at the end, -1 on an error of the input (in *err, with its position), or
 * what row returned to stop.
 */
int csv_parse(const char *data, size_t len, csv_row_fn row, void *arg,
    struct csv_error *err);

/*
 * The same reader fed in chunks, for files of any size: delim separates
 * fields (',' for CSV, a tab for TSV, or any byte but a quote or a line
 * break). The input must already be valid UTF-8 (convert it with iconv
 * first); a NUL byte is an error. Records are handed to row as they end;
 * csv_stream_end ends the last one. Returns as csv_parse; after an error,
 * every call returns -1.
 */
struct csv_stream;
struct csv_stream *csv_stream_new(char delim);
int csv_stream_feed(struct csv_stream *, const char *data, size_t len,
    csv_row_fn row, void *arg, struct csv_error *err);
int csv_stream_end(struct csv_stream *, csv_row_fn row, void *arg,
    struct csv_error *err);
/*
 * How many bytes from the start of data are whole, valid UTF-8 sequences
 * (NUL bytes included: the reader reports those). *bad is set when the
 * next byte starts an invalid sequence, cleared when data ends inside a
 * sequence that more bytes may complete (or at its end).
 */
size_t csv_utf8_prefix(const char *data, size_t len, int *bad);
/*
 * Hand over only the first n fields of each record (0, the default: all),
 * for a reader that needs no more (a first pass over a file's keys). The
 * rest of a record is skimmed: up to its line feed at once when it holds
 * no quote, carriage return (but that of a CRLF) or NUL byte, else through
 * the full reader, whose errors it still reports (their column may be
 * off past a skimmed part); its fields are only counted.
 */
void csv_stream_keep(struct csv_stream *, size_t n);
/* In the callback: how many fields the record has (n, or more when the
 * rest was skimmed). */
size_t csv_stream_count(const struct csv_stream *);
/* The line the reader is at (for messages). */
unsigned csv_stream_line(const struct csv_stream *);
void csv_stream_free(struct csv_stream *);

#endif
