/*
 * escape.h - text from outside cutover (step output, database rows and
 * errors, operator notes) shown so that a terminal displays it and does
 * nothing else: no window title set, screen cleared, line hidden behind a
 * carriage return, clipboard written, or text reordered.
 *
 * Kept as they are: printable ASCII, valid UTF-8 of printable characters,
 * and with ESCAPE_BLOCK newline and tab. Shown escaped, as printable ASCII:
 *   ESC \e, CR \r, and (ESCAPE_LINE) newline \n and tab \t;
 *   other C0 bytes, DEL and bytes that are not UTF-8: \xNN;
 *   C1 controls and the characters that reorder or hide text (bidi
 *   embeddings, overrides and isolates, zero-width marks, line and
 *   paragraph separators, tag characters): \uNNNN (\UNNNNNNNN).
 * Backslashes are kept: escaped text is printable, so escaping it again
 * changes nothing.
 *
 * Where they are terminals, escape_streams puts escaping streams in place
 * of stdout and stderr, so that whatever any module prints is safe; a
 * non-terminal (a file, a pipe) gets the bytes as stored. One-line records
 * escape their fields with escape_field, so that a newline in a field shows
 * as \n and the record stays on one line.
 */
#ifndef CUTOVER_ESCAPE_H
#define CUTOVER_ESCAPE_H

#include <stddef.h>
#include <stdio.h>

#include "buf.h"

enum escape_flags {
	ESCAPE_LINE = 0,  /* one line: newline and tab escaped too */
	ESCAPE_BLOCK = 1, /* several lines: newline and tab kept */
};

/* Append len bytes of s to b, escaped. */
void escape_buf(struct buf *, const char *s, size_t len, int flags);
/* s escaped, as a new string. */
char *escape_str(const char *s, int flags);
/* How many bytes at the start of s (len bytes) escaping keeps as they
 * are: len when s needs no escaping. */
size_t escape_span(const char *s, size_t len, int flags);

/* Replace stdout (if out) and stderr (if err) by escaping streams, each
 * only where it is a terminal. */
void escape_streams(int out, int err);
/* Does f show text escaped (one of the streams escape_streams set)? */
int escape_on(FILE *);

/* Fields of a record printed on f: escape_field returns s (NULL stays
 * NULL) when f does not escape, or its ESCAPE_LINE form kept in the list
 * until escape_list_free. */
struct escape_list {
	char **v;
	size_t n;
};
const char *escape_field(struct escape_list *, FILE *, const char *s);
void escape_list_free(struct escape_list *);

#endif
