/*
 * rec-hash-pg.h - the PostgreSQL statements of method: checksum
 * (rec-checksum.h), and its probe of unique keys that stream asks too,
 * for a side that is a query on a postgres target (rec-side-pg.c).
 * Nothing here talks to a server.
 *
 * Every statement reads the side's query as
 *   (query) AS q(c1, ..., cN)
 * and makes each value canonical as the merge compares it (reconcile.h:
 * the merge's kind of the column, m->eff, against the side's own kind):
 *
 *   number     trim_scale(value::numeric)::text (integers as they are,
 *              floats through their exact text); a text compared with a
 *              number: by value when it is a number as rec_num_parse
 *              reads one, else as it is
 *   bool       't' or 'f' (a text: true/false, t/f, 1/0, yes/no, on/off)
 *   char       trailing blanks removed
 *   uuid       lower case
 *   timestamp  UTC, ISO, fraction without trailing zeros; a timestamp
 *              without zone read in the side's timezone:
 *   other      the text form (the session is set as for stream)
 *   empty_is_null: '' is NULL
 *
 * and a row's hash is the XOR of hashtextextended(canonical value, its
 * column's place) over its columns (NULL a constant apart from ''; the
 * hash of hash partitioning, internal to PostgreSQL: the probe tells what
 * it gives for fixed strings, and where the two servers differ the
 * driver asks for the first 64 bits of md5('place:' || value) instead),
 * on UTF8 databases only (the bytes hashed must be the same on both
 * sides).
 * Keys compare as the merge orders them: numbers by value, the rest by
 * their canonical text COLLATE "C"; NULLs last.
 *
 * Returned strings are new; the caller frees them.
 */
#ifndef CUTOVER_REC_HASH_PG_H
#define CUTOVER_REC_HASH_PG_H

#include <stdint.h>

#include "reconcile.h"

struct rec_conn;
struct rec_range;

/* A side's query and what the statements need of its server. */
struct rec_pg_src {
	const struct rec_conn *c; /* columns, kinds, timezone */
	const char *query;        /* as written, trimmed */
	int utf8;                 /* server_encoding is UTF8 */
	const unsigned *ftable;   /* per column: the table it is read from
	                             as it is (0: none), or NULL */
	const int *fcol;          /* per column: its number in that table */
};

/* Why a column of this side cannot be made canonical in SQL, or NULL. */
char *rec_pg_cannot(const struct rec_pg_src *, const struct rec_merge *);
char *rec_pg_estimate_sql(const struct rec_pg_src *);
/* The plan of the query, then 't' if its keys are unique for certain:
 * the query reads one table once (one scan in its plan, nothing that
 * joins, unions or multiplies rows) and a unique index of that table
 * (not partial, no expressions) covers key columns that are NOT NULL,
 * read as they are and made canonical one to one (numbers, text, char,
 * uuid, timestamptz). PostgreSQL 11 or later (indnkeyatts). Both methods
 * ask it: stream orders rows of equal keys by their other columns only
 * where it is not proven (rec-side-pg.c). */
char *rec_pg_unique_sql(const struct rec_pg_src *, const struct rec_merge *);
/* Its answer: the keys unique (1) or not; *est the planner's estimate of
 * the query's rows. */
int rec_pg_unique_read(int nrows, int ncols, char *const *cells,
    int64_t *est);
/* rec_pg_unique_sql, then hashtextextended of fixed strings. */
char *rec_pg_probe_sql(const struct rec_pg_src *, const struct rec_merge *);
/* The answer of rec_pg_probe_sql: its keys unique (1) or not; *est the
 * planner's estimate of its rows; *hashid hashtextextended of fixed
 * strings (a new string, or NULL). */
int rec_pg_probe_read(int nrows, int ncols, char *const *cells,
    int64_t *est, char **hashid);
char *rec_pg_stats_sql(const struct rec_pg_src *, const struct rec_merge *,
    const struct rec_range *, char **const *bounds, int nb, int flags);
char *rec_pg_sample_sql(const struct rec_pg_src *, const struct rec_merge *,
    const struct rec_range *, int64_t parts, double fraction);
/* The condition of range r on the columns c1..cN (for stream's COPY). */
char *rec_pg_range_where(const struct rec_pg_src *,
    const struct rec_merge *, const struct rec_range *);

#endif
