/*
 * reconcile.h - the comparison behind reconcile steps, without a database.
 *
 * Values are compared by meaning: numbers by value (1.0 = 1.00 = 1e0, -0 =
 * 0), everything else by the bytes of its text form (the executor sets the
 * sessions so that this text is canonical: UTC, ISO dates, exact floats),
 * and SQL NULL equals only NULL. Keys are ordered the way the executor asks
 * both servers to order them (rec_order_by): numbers by value, everything
 * else byte-wise, NULLs last. The merge walks two streams sorted that way,
 * one row of each side at a time, so memory does not depend on row counts.
 *
 * Nothing here allocates per row except when a sample is kept (at most
 * REC_SAMPLES of each kind). Strings passed in are borrowed; the merge owns
 * what it keeps and rec_merge_free releases it.
 */
#ifndef CUTOVER_RECONCILE_H
#define CUTOVER_RECONCILE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define REC_SAMPLES 20 /* sample keys kept of each kind */

enum rec_side { REC_SOURCE, REC_DEST };

/* How a column compares, from its type. */
enum rec_kind {
	REC_TEXT,   /* text, varchar, name, citext: bytes */
	REC_NUMBER, /* int2/4/8, oid, numeric, float4/8: by value */
	REC_BOOL,   /* t or f */
	REC_OTHER,  /* the bytes of its text form */
	REC_CHAR,   /* CHAR(n): trailing blanks are padding */
	REC_UUID,   /* any case */
	REC_TIMESTAMP,   /* without zone: read in the side's timezone */
	REC_TIMESTAMPTZ, /* an instant */
	REC_UNTYPED,     /* a file's text: takes the other side's kind */
};

/* A column of a side: its kind and its type's name (for messages). */
struct rec_col {
	enum rec_kind kind;
	const char *type;
};

/* Per step: how values compare beyond their kinds. */
struct rec_opts {
	int empty_is_null;  /* '' equals NULL */
	const char *tz[2];  /* per side: zone of timestamps without one;
	                       NULL: UTC */
};

/* One value of a row: bytes (not NUL-terminated), or SQL NULL. */
struct rec_field {
	const char *p;
	size_t len;
	int null;
};

/* A number as 0.DIGITS x 10^point, with sign; or infinite, or NaN. */
struct rec_num {
	int sign; /* -1, 0 (zero), 1 */
	int special; /* 0, REC_NUM_INF (with sign), REC_NUM_NAN */
	int64_t point;
	size_t ndig;
	char *dig; /* significant digits: no leading or trailing zeros */
	char small[40];
};
#define REC_NUM_INF 1
#define REC_NUM_NAN 2

struct rec_sample {
	char **key;   /* nkeys values; NULL is SQL NULL */
	char *detail; /* changed: the differing columns, comma-separated */
};

/* The previous key of one side, to check the order and spot repeats. */
struct rec_prev {
	int have;
	struct buf bytes;
	size_t *off;
	struct rec_field *f;
};

struct rec_merge {
	int ncols;
	int nkeys;
	char **names;           /* of the source's columns, made unique */
	enum rec_kind *kind[2]; /* per side, per column */
	int *numkey;            /* per key column: compared as numbers */
	int64_t rows[2];
	int64_t dups[2]; /* rows whose key repeats the previous row's */
	int64_t matched, missing, extra, changed;
	int64_t *changed_cols;
	struct rec_sample samples[3][REC_SAMPLES]; /* missing, extra, changed */
	int nsamples[3];
	struct rec_prev prev[2];
	struct buf scratch;
	/* by meaning (rec_merge_init_cols) */
	enum rec_kind *eff;     /* per column: how both sides' values are
	                           made canonical */
	struct rec_opts opts;
	struct buf norm[2];     /* canonical values of each side's row */
	size_t *normoff;        /* per column, while normalizing */
	/* Called for every difference, if set: kind REC_DIFF_*, the rows
	 * (s NULL for extra, d NULL for missing), the differing columns
	 * (changed: comma-separated names, else NULL). */
	void (*on_diff)(void *arg, int kind, const struct rec_field *s,
	    const struct rec_field *d, const char *columns);
	void *diff_arg;
};
enum { REC_DIFF_MISSING, REC_DIFF_EXTRA, REC_DIFF_CHANGED };

/* What rec_merge_step consumed. */
#define REC_TAKE_SOURCE 1
#define REC_TAKE_DEST 2

/* The kind of a PostgreSQL type, by OID; a type's name for messages. */
enum rec_kind rec_kind_of(unsigned oid);
const char *rec_type_name(unsigned oid, char *tmp, size_t len);

/*
 * Append the ORDER BY item for column name of this kind: numbers and
 * booleans in their own order, text with COLLATE "C", other types by their
 * text form with COLLATE "C"; NULLs last. The merge expects exactly this.
 */
void rec_order_by(struct buf *, const char *name, enum rec_kind);

/*
 * Split one row of COPY text format (len bytes, a final newline allowed)
 * into ncols fields, decoding backslash escapes in place; \N is NULL.
 * Returns the number of fields found (compare it with ncols).
 */
int rec_copy_split(char *line, size_t len, struct rec_field *, int ncols);

/* Numbers. rec_num_parse returns 0, or -1 if s is not a number. */
int rec_num_parse(const char *s, size_t len, struct rec_num *);
void rec_num_free(struct rec_num *);
/* Order: -Infinity < numbers < Infinity < NaN (PostgreSQL's). */
int rec_num_cmp(const struct rec_num *, const struct rec_num *);
/* Canonical text ("1.00" -> "1", "-0" -> "0", "1e3" -> "1000"); NULL if
 * not a number. The caller frees. */
char *rec_num_canon(const char *s);
/* a - b, exactly, as canonical text; NULL if either is not a finite
 * number (or the exponents are too far apart to subtract exactly). */
char *rec_num_sub(const char *a, const char *b);

/*
 * Shortcuts for the common values (plain decimals, timestamps already in
 * UTC, one-letter booleans) give exactly what the general path gives.
 * Built with CUTOVER_TEST_HOOKS (the test suite's build), rec_test_slow
 * set sends every value the general way, the reference the tests hold
 * the shortcuts to, and rec_test_fast counts the values a shortcut
 * decided. Used as the last term of a shortcut's condition.
 */
#ifdef CUTOVER_TEST_HOOKS
extern int rec_test_slow;
extern unsigned long rec_test_fast;
#define REC_FAST() (!rec_test_slow && \
    (__atomic_fetch_add(&rec_test_fast, 1, __ATOMIC_RELAXED), 1))
#else
#define REC_FAST() 1
#endif
/* A decimal digit, without the locale's tables. */
#define REC_DIGIT(c) ((unsigned)(unsigned char)(c) - '0' < 10u)

/* Equal by meaning, each value compared as its side's kind says. */
int rec_equal(enum rec_kind, const struct rec_field *, enum rec_kind,
    const struct rec_field *);

/*
 * compare: value. sv/dv are the two values' text (NULL: SQL NULL), soid/doid
 * their types. Appends the result object to json and a summary for a person
 * to human. Returns 1 when |difference| <= tolerance (numbers) or the values
 * are equal (anything else).
 */
int rec_value_compare(const char *sv, unsigned soid, const char *dv,
    unsigned doid, double tolerance, struct buf *json, struct buf *human);

/*
 * compare: rows. Set up for ncols columns of which the first nkeys are the
 * key, with the column names and type OIDs of each side (names from the
 * source). Returns 0, or -1 with *err (the caller frees) when the two
 * sides cannot be compared: key columns of different families (number
 * against anything else), or too few columns.
 */
int rec_merge_init(struct rec_merge *, int ncols, int nkeys,
    char *const *names, const unsigned *soids, const unsigned *doids,
    char **err);
/*
 * What both initialisers (rec_merge_init, rec_merge_init_cols) set up
 * before their kinds: the columns, the key's length (at most ncols, else
 * -1 with *err), the names made unique (a repeated name becomes
 * name#N, N its column), the counters and the previous keys.
 */
int rec_merge_alloc(struct rec_merge *, int ncols, int nkeys,
    char *const *names, char **err);
/*
 * A row arrived on a side: count it and check it sorts at or after the
 * previous one. Returns 0, or -1 with *err when the side is out of order
 * (the pairing could not be trusted).
 */
int rec_merge_arrive(struct rec_merge *, enum rec_side,
    const struct rec_field *, char **err);
/*
 * One step of the merge, with the current row of each side (NULL: that
 * side has ended; not both). Counts a match, a change, a missing or an
 * extra row, and returns which rows it consumed (REC_TAKE_*).
 */
int rec_merge_step(struct rec_merge *, const struct rec_field *s,
    const struct rec_field *d);
/* Order of a source key against a dest key (<0, 0, >0). */
int rec_merge_keycmp(const struct rec_merge *, const struct rec_field *s,
    const struct rec_field *d);
/*
 * The same from column kinds (any engine, files), with the by-meaning
 * rules: a column that is boolean on either side compares as booleans
 * (true/false, t/f, 1/0, yes/no, on/off); CHAR on either side ignores
 * trailing blanks; uuid on either side ignores case; timestamps without
 * zone are read in their side's timezone (opts->tz) and compared as
 * instants with timestamps with zone; numbers by value; with
 * opts->empty_is_null, '' is NULL. A REC_UNTYPED column takes the other
 * side's kind. opts may be NULL.
 */
int rec_merge_init_cols(struct rec_merge *, int ncols, int nkeys,
    char *const *names, const struct rec_col *s, const struct rec_col *d,
    const struct rec_opts *, char **err);
/*
 * Make a row of side canonical by meaning, in place: fields may then
 * point into the merge (valid until the next call for that side). Call
 * before rec_merge_arrive. No-op after plain rec_merge_init.
 */
void rec_merge_normalize(struct rec_merge *, enum rec_side,
    struct rec_field *);
/* The same into out (reset first), off room for ncols offsets: for a row
 * made canonical ahead of the merge. */
void rec_canon_row(const struct rec_merge *, enum rec_side,
    struct rec_field *, struct buf *out, size_t *off);
/* The n fields f made canonical in place, each as its kind says
 * (rec_canon_field), the values they need appended to out (reset first);
 * off: room for n offsets. */
void rec_canon_fields(const enum rec_kind *kinds, int n, int empty_is_null,
    const char *tz, int skip_time, struct rec_field *f, struct buf *out,
    size_t *off);
/*
 * One value made canonical as kind says: appended to out (f then points
 * into out: call buf-growing functions only after using it), or, when
 * its text or the beginning of it is canonical already, f keeps pointing
 * there with its length cut to that (out unchanged). tz: the
 * zone of timestamps without one, NULL UTC; skip_time: leave timestamps
 * as they are (thread-safe: named zones need the process's TZ).
 */
void rec_canon_field(enum rec_kind, int empty_is_null, const char *tz,
    int skip_time, struct rec_field *f, struct buf *out);
/* Is tz a zone whose offset never changes (NULL, UTC, Z, +HH:MM)? Its
 * timestamps are made canonical without the C library, in any thread
 * (skip_time 0 is thread-safe for it). *off: the offset in seconds. */
int rec_tz_fixed(const char *tz, long *off);
/* The kind both sides' values of a column are compared as. */
enum rec_kind rec_kind_pair(enum rec_kind, enum rec_kind);
/* Order of two keys of nkeys columns as the merge orders them (numkey:
 * per key column, compared as numbers); NULLs last. */
int rec_keys_order(const int *numkey, int nkeys, const struct rec_field *,
    const struct rec_field *);

/* missing + extra + changed. */
int64_t rec_merge_differences(const struct rec_merge *);
/* The result object (see cutover-runbook(5)), and a summary for a person. */
void rec_merge_json(const struct rec_merge *, struct buf *);
void rec_merge_summary(const struct rec_merge *, double tolerance,
    struct buf *);
void rec_merge_free(struct rec_merge *);

#endif
