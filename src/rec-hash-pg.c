/*
 * rec-hash-pg.c - the PostgreSQL statements of method: checksum (see
 * rec-hash-pg.h): canonical values, row hashes, key ranges.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "rec-checksum.h"
#include "rec-hash-pg.h"
#include "rec-int.h"
#include "xmalloc.h"

/* A text that rec_num_parse reads as a number (exponents kept short
 * enough for numeric), and its special values. */
#define HP_NUM_RE "'^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]{1,3})?$'"
#define HP_SPECIAL_RE "'^([+-]?(inf|infinity)|nan)$'"
#define HP_TRUE "('t','true','1','y','yes','on')"
#define HP_FALSE "('f','false','0','n','no','off')"
/* What the row hash gives for fixed strings (UTF-8, as the session's). */
#define HP_HASHID "SELECT concat_ws(' ', hashtextextended('cutover', 0), " \
    "hashtextextended('', 1), hashtextextended('Grüße, 世界 é', 7))"

static int hp_canon(struct buf *, const struct rec_pg_src *,
    const struct rec_merge *, int);
static int hp_canon_kind(struct buf *, const char *, const struct rec_col *,
    enum rec_kind, const char *);
static void hp_canon_number(struct buf *, const char *,
    const struct rec_col *);
static void hp_canon_bool(struct buf *, const char *, enum rec_kind);
static void hp_time(struct buf *, const char *, const char *);
static void hp_literal(struct buf *, const char *);
static void hp_from(struct buf *, const struct rec_pg_src *);
static void hp_key(struct buf *, const struct rec_pg_src *,
    const struct rec_merge *, int);
static void hp_key_text(struct buf *, const struct rec_pg_src *,
    const struct rec_merge *, int);
static void hp_bound(struct buf *, const struct rec_merge *, int,
    const char *);
static void hp_cmp(struct buf *, const struct rec_pg_src *,
    const struct rec_merge *, int, const char *, const char *);
static void hp_less(struct buf *, const struct rec_pg_src *,
    const struct rec_merge *, char *const *, int);
static void hp_at_or_after(struct buf *, const struct rec_pg_src *,
    const struct rec_merge *, char *const *, int, int);
static void hp_where(struct buf *, const struct rec_pg_src *,
    const struct rec_merge *, const struct rec_range *);
static void hp_hash(struct buf *, const struct rec_pg_src *,
    const struct rec_merge *, int);
static void hp_order(struct buf *, const struct rec_pg_src *,
    const struct rec_merge *);
static void hp_bucket(struct buf *, const struct rec_pg_src *,
    const struct rec_merge *, char **const *, int);
static void hp_bucket_tree(struct buf *, const struct rec_pg_src *,
    const struct rec_merge *, char **const *, int, int);

/* Column i's canonical text, as the merge compares it; -1 if SQL cannot
 * make it so. */
static int
hp_canon(struct buf *b, const struct rec_pg_src *s, const struct rec_merge *m,
    int i)
{
	char name[16];
	size_t at = b->len;

	snprintf(name, sizeof name, "c%d", i + 1);
	if (m->opts.empty_is_null)
		buf_adds(b, "NULLIF(");
	if (hp_canon_kind(b, name, &s->c->cols[i], m->eff[i], s->c->tz) != 0) {
		b->len = at;
		return -1;
	}
	if (m->opts.empty_is_null)
		buf_adds(b, ", '')");
	return 0;
}

/* The canonical text of column name of this side's col as kind eff. */
static int
hp_canon_kind(struct buf *b, const char *n, const struct rec_col *col,
    enum rec_kind eff, const char *tz)
{
	enum rec_kind k = col->kind;

	if (k == REC_CHAR && eff != REC_CHAR)
		return -1; /* its padding reaches stream, not ::text */
	switch (eff) {
	case REC_NUMBER:
		hp_canon_number(b, n, col);
		return 0;
	case REC_BOOL:
		hp_canon_bool(b, n, k);
		return 0;
	case REC_CHAR:
		buf_printf(b, "rtrim(%s::text, ' ')", n);
		return 0;
	case REC_UUID:
		buf_printf(b, "lower(%s::text)", n);
		return 0;
	case REC_TIMESTAMP:
	case REC_TIMESTAMPTZ:
		if (k == REC_TIMESTAMPTZ)
			buf_printf(b, "(%s AT TIME ZONE 'UTC')::text", n);
		else if (k == REC_TIMESTAMP)
			hp_time(b, n, tz);
		else
			return -1; /* a text read as a timestamp: C parses it */
		return 0;
	case REC_TEXT:
	case REC_OTHER:
		buf_printf(b, "%s::text", n);
		return 0;
	default:
		return -1;
	}
}

/* A number by value; a text compared with numbers by value if it is one. */
static void
hp_canon_number(struct buf *b, const char *n, const struct rec_col *col)
{
	int fl = strcmp(col->type, "real") == 0 ||
	    strcmp(col->type, "double precision") == 0;
	int whole = strcmp(col->type, "integer") == 0 ||
	    strcmp(col->type, "bigint") == 0 ||
	    strcmp(col->type, "smallint") == 0 || strcmp(col->type, "oid") == 0;

	if (col->kind == REC_NUMBER && whole)
		buf_printf(b, "%s::text", n); /* canonical already */
	else if (col->kind == REC_NUMBER)
		buf_printf(b, "trim_scale(%s%s::numeric)::text", n,
		    fl ? "::text" : "");
	else
		buf_printf(b, "CASE WHEN %s::text ~ " HP_NUM_RE " THEN "
		    "trim_scale(%s::text::numeric)::text WHEN %s::text ~* "
		    HP_SPECIAL_RE " THEN %s::text::numeric::text ELSE %s::text "
		    "END", n, n, n, n, n);
}

/* 't' or 'f'; a value of another type as the merge reads booleans. */
static void
hp_canon_bool(struct buf *b, const char *n, enum rec_kind k)
{
	if (k == REC_BOOL)
		buf_printf(b, "CASE WHEN %s THEN 't' WHEN NOT %s THEN 'f' END", n,
		    n);
	else
		buf_printf(b, "CASE WHEN lower(%s::text COLLATE \"C\") IN "
		    HP_TRUE " THEN 't' WHEN lower(%s::text COLLATE \"C\") IN "
		    HP_FALSE " THEN 'f' ELSE %s::text END", n, n, n);
}

/* A timestamp without zone, read in zone tz, as UTC text. */
static void
hp_time(struct buf *b, const char *n, const char *tz)
{
	long h, mi;
	char sign;

	if (tz == NULL || strcasecmp(tz, "UTC") == 0 || strcmp(tz, "Z") == 0)
		buf_printf(b, "%s::text", n);
	else if (sscanf(tz, "%c%2ld:%2ld", &sign, &h, &mi) == 3 &&
	    (sign == '+' || sign == '-'))
		buf_printf(b, "(%s - interval '%c%02ld:%02ld')::text", n, sign,
		    h, mi);
	else {
		buf_printf(b, "((%s AT TIME ZONE ", n);
		hp_literal(b, tz);
		buf_adds(b, ") AT TIME ZONE 'UTC')::text");
	}
}

/* A string literal (standard_conforming_strings is on in the session). */
static void
hp_literal(struct buf *b, const char *v)
{
	buf_addc(b, '\'');
	for (; *v != '\0'; v++) {
		if (*v == '\'')
			buf_addc(b, '\'');
		buf_addc(b, *v);
	}
	buf_addc(b, '\'');
}

char *
rec_pg_cannot(const struct rec_pg_src *s, const struct rec_merge *m)
{
	struct buf b = { 0 };
	char *why = NULL;
	int i;

	if (!s->utf8) {
		xasprintf(&why, "%s %s: the database's encoding is not UTF8 "
		    "(rows are hashed as UTF-8 text)", s->c->label, s->c->target);
		return why;
	}
	for (i = 0; i < m->ncols && why == NULL; i++) {
		buf_reset(&b);
		if (hp_canon(&b, s, m, i) == 0)
			continue;
		xasprintf(&why, "%s column %s is %s, compared as %s: SQL cannot "
		    "make it canonical as stream does", s->c->label, m->names[i],
		    s->c->cols[i].type, m->eff[i] == REC_TIMESTAMP ?
		    "a timestamp" : "another type");
	}
	buf_free(&b);
	return why;
}

/* (query) AS q(c1, ..., cN) */
static void
hp_from(struct buf *b, const struct rec_pg_src *s)
{
	int i;

	buf_printf(b, "(\n%s\n) AS q(", s->query);
	for (i = 0; i < s->c->ncols; i++)
		buf_printf(b, "%sc%d", i > 0 ? ", " : "", i + 1);
	buf_addc(b, ')');
}

/* Key column i as ranges compare it: a number, or canonical text "C". */
static void
hp_key(struct buf *b, const struct rec_pg_src *s, const struct rec_merge *m,
    int i)
{
	if (m->numkey[i]) {
		buf_printf(b, "c%d", i + 1);
		return;
	}
	buf_addc(b, '(');
	hp_canon(b, s, m, i);
	buf_adds(b, ") COLLATE \"C\"");
}

/* Key column i as text that hp_bound reads back on either side. */
static void
hp_key_text(struct buf *b, const struct rec_pg_src *s,
    const struct rec_merge *m, int i)
{
	if (m->numkey[i])
		buf_printf(b, "c%d::text", i + 1);
	else
		hp_canon(b, s, m, i);
}

/* A bound's value v of key column i as a literal. */
static void
hp_bound(struct buf *b, const struct rec_merge *m, int i, const char *v)
{
	size_t k = v[0] == '-';

	if (!m->numkey[i]) {
		hp_literal(b, v);
		return;
	}
	while (v[k] >= '0' && v[k] <= '9')
		k++;
	if (v[k] == '\0' && k > (size_t)(v[0] == '-') && k <= 18) {
		buf_printf(b, "(%s)", v); /* an integer: an index can serve */
		return;
	}
	hp_literal(b, v);
	buf_adds(b, "::numeric");
}

/* Key column i against a bound's value: key OP value. */
static void
hp_cmp(struct buf *b, const struct rec_pg_src *s, const struct rec_merge *m,
    int i, const char *op, const char *v)
{
	hp_key(b, s, m, i);
	buf_printf(b, " %s ", op);
	hp_bound(b, m, i, v);
}

/*
 * key < bound in the merge's order (NULLs last): true or false for a key
 * before the bound, NULL or false after it (fit for WHERE and CASE, not
 * for NOT). Plain comparisons, so that an index on the key can serve.
 */
static void
hp_less(struct buf *b, const struct rec_pg_src *s, const struct rec_merge *m,
    char *const *bound, int i)
{
	int last = i + 1 == m->nkeys;

	buf_addc(b, '(');
	if (bound[i] == NULL) {
		hp_key(b, s, m, i);
		buf_adds(b, " IS NOT NULL");
		if (!last) {
			buf_adds(b, " OR (");
			hp_key(b, s, m, i);
			buf_adds(b, " IS NULL AND ");
			hp_less(b, s, m, bound, i + 1);
			buf_addc(b, ')');
		}
	} else {
		hp_cmp(b, s, m, i, "<", bound[i]);
		if (!last) {
			buf_adds(b, " OR (");
			hp_cmp(b, s, m, i, "=", bound[i]);
			buf_adds(b, " AND ");
			hp_less(b, s, m, bound, i + 1);
			buf_addc(b, ')');
		}
	}
	buf_addc(b, ')');
}

/* key >= bound in the merge's order, true only when it is (as hp_less);
 * nonull: a NULL in key column i is ruled out already (by the range's
 * end), so that the condition is a plain one an index can serve. */
static void
hp_at_or_after(struct buf *b, const struct rec_pg_src *s,
    const struct rec_merge *m, char *const *bound, int i, int nonull)
{
	int last = i + 1 == m->nkeys;

	buf_addc(b, '(');
	if (bound[i] == NULL) {
		hp_key(b, s, m, i);
		buf_adds(b, " IS NULL");
		if (!last) {
			buf_adds(b, " AND ");
			hp_at_or_after(b, s, m, bound, i + 1, 0);
		}
	} else {
		hp_cmp(b, s, m, i, last ? ">=" : ">", bound[i]);
		if (!nonull) {
			buf_adds(b, " OR ");
			hp_key(b, s, m, i);
			buf_adds(b, " IS NULL");
		}
		if (!last) {
			buf_adds(b, " OR (");
			hp_cmp(b, s, m, i, "=", bound[i]);
			buf_adds(b, " AND ");
			hp_at_or_after(b, s, m, bound, i + 1, 0);
			buf_addc(b, ')');
		}
	}
	buf_addc(b, ')');
}

/* lo <= key < hi */
static void
hp_where(struct buf *b, const struct rec_pg_src *s, const struct rec_merge *m,
    const struct rec_range *r)
{
	buf_adds(b, "true");
	if (r->lo != NULL) {
		buf_adds(b, " AND ");
		hp_at_or_after(b, s, m, r->lo, 0, r->hi != NULL &&
		    r->hi[0] != NULL);
	}
	if (r->hi != NULL) {
		buf_adds(b, " AND ");
		hp_less(b, s, m, r->hi, 0);
	}
	if (m->nkeys == 1 || r->hi == NULL || r->hi[0] == NULL)
		return;
	/* The same, implied, on the first key column alone: a range an index
	 * on the key can serve (the conditions above are not one). */
	buf_adds(b, " AND ");
	hp_cmp(b, s, m, 0, "<=", r->hi[0]);
	if (r->lo != NULL && r->lo[0] != NULL) {
		buf_adds(b, " AND ");
		hp_cmp(b, s, m, 0, ">=", r->lo[0]);
	}
}

char *
rec_pg_range_where(const struct rec_pg_src *s, const struct rec_merge *m,
    const struct rec_range *r)
{
	struct buf b = { 0 };

	hp_where(&b, s, m, r);
	return buf_steal(&b);
}

/*
 * A row's hash: the XOR of each column's 64-bit hash of its canonical
 * text (hashtextextended, the hash of hash partitioning: the same on every
 * server and platform), seeded by the column's place, so that equal values
 * in two columns or values swapped between columns do not cancel; a NULL
 * hashes to a constant of its own. Values swapped between rows change the
 * range's sum: each row's other columns (its key at least) differ.
 * Cheaper than the text of the whole row (ROW(...)::text), which costs
 * more than every column's own text.
 */
static void
hp_hash(struct buf *b, const struct rec_pg_src *s, const struct rec_merge *m,
    int md5)
{
	int i;

	buf_addc(b, '(');
	for (i = 0; i < m->ncols; i++) {
		buf_adds(b, i > 0 ? " # COALESCE(" : "COALESCE(");
		if (md5)
			buf_printf(b, "('x' || left(md5('%d:' || ", i + 1);
		else
			buf_adds(b, "hashtextextended(");
		hp_canon(b, s, m, i);
		if (md5)
			buf_printf(b, "), 16))::bit(64)::bigint, %d)", i + 1);
		else
			buf_printf(b, ", %d), %d)", i + 1, i + 1);
	}
	buf_addc(b, ')');
}

/* The bucket of a row among nb bounds: 0 before the first. */
static void
hp_bucket(struct buf *b, const struct rec_pg_src *s,
    const struct rec_merge *m, char **const *bounds, int nb)
{
	int k;

	if (nb == 0) {
		buf_adds(b, "0");
		return;
	}
	if (m->nkeys == 1 && bounds[nb - 1][0] != NULL) {
		/* a binary search; NULL keys sort after every bound */
		buf_adds(b, "COALESCE(width_bucket(");
		hp_key(b, s, m, 0);
		buf_adds(b, ", ARRAY[");
		for (k = 0; k < nb; k++) {
			if (k > 0)
				buf_adds(b, ", ");
			hp_bound(b, m, 0, bounds[k][0]);
		}
		buf_printf(b, "]), %d)", nb);
		return;
	}
	hp_bucket_tree(b, s, m, bounds, 0, nb);
}

/* The bucket among lo..hi of a row known to be in one of them: a binary
 * search written as nested CASEs (bucket k: bounds[k-1] <= key <
 * bounds[k]). */
static void
hp_bucket_tree(struct buf *b, const struct rec_pg_src *s,
    const struct rec_merge *m, char **const *bounds, int lo, int hi)
{
	int mid = lo + (hi - lo + 1) / 2;

	if (lo == hi) {
		buf_printf(b, "%d", lo);
		return;
	}
	buf_adds(b, "CASE WHEN ");
	hp_less(b, s, m, bounds[mid - 1], 0);
	buf_adds(b, " THEN ");
	hp_bucket_tree(b, s, m, bounds, lo, mid - 1);
	buf_adds(b, " ELSE ");
	hp_bucket_tree(b, s, m, bounds, mid, hi);
	buf_adds(b, " END");
}

char *
rec_pg_stats_sql(const struct rec_pg_src *s, const struct rec_merge *m,
    const struct rec_range *r, char **const *bounds, int nb, int flags)
{
	struct buf b = { 0 };
	int i, grouped = (flags & REC_HASH_GROUPED) != 0;

	if (grouped)
		buf_adds(&b, "SELECT b, sum(n), sum(hs)::text, sum(n) - count(*) "
		    "FROM (SELECT b, count(*) AS n, sum(h) AS hs FROM (");
	else
		buf_adds(&b, "SELECT b, count(*), sum(h)::text, 0 FROM (");
	buf_adds(&b, "SELECT ");
	hp_bucket(&b, s, m, bounds, nb);
	buf_adds(&b, " AS b, ");
	hp_hash(&b, s, m, (flags & REC_HASH_MD5) != 0);
	buf_adds(&b, " AS h");
	for (i = 0; grouped && i < m->nkeys; i++) {
		buf_adds(&b, ", ");
		hp_key(&b, s, m, i);
		buf_printf(&b, " AS k%d", i + 1);
	}
	buf_adds(&b, " FROM ");
	hp_from(&b, s);
	buf_adds(&b, " WHERE ");
	hp_where(&b, s, m, r);
	buf_adds(&b, ") AS s GROUP BY b");
	for (i = 0; grouped && i < m->nkeys; i++)
		buf_printf(&b, ", k%d", i + 1);
	if (grouped)
		buf_adds(&b, ") AS g GROUP BY b");
	return buf_steal(&b);
}

char *
rec_pg_sample_sql(const struct rec_pg_src *s, const struct rec_merge *m,
    const struct rec_range *r, int64_t parts, double fraction)
{
	struct buf b = { 0 };
	int i;

	buf_adds(&b, "SELECT ");
	for (i = 0; i < m->nkeys; i++)
		buf_printf(&b, "%sk%d", i > 0 ? ", " : "", i + 1);
	buf_adds(&b, " FROM (SELECT ");
	for (i = 0; i < m->nkeys; i++) {
		hp_key_text(&b, s, m, i);
		buf_printf(&b, " AS k%d, ", i + 1);
	}
	buf_adds(&b, "row_number() OVER (ORDER BY ");
	hp_order(&b, s, m);
	buf_adds(&b, ") AS rn, count(*) OVER () AS n FROM ");
	hp_from(&b, s);
	buf_adds(&b, " WHERE ");
	hp_where(&b, s, m, r);
	if (fraction < 1)
		buf_printf(&b, " AND random() < %.9f", fraction);
	/* the first row of each part but the first */
	buf_printf(&b, ") AS s WHERE rn < n AND rn * %lld / n > (rn - 1) * "
	    "%lld / n ORDER BY rn", (long long)parts, (long long)parts);
	return buf_steal(&b);
}

/* Can key column i's canonical text be the same for two values that are
 * not equal to the server (so that a unique index proves nothing)? */
static int
hp_key_one_to_one(const struct rec_pg_src *s, const struct rec_merge *m,
    int i)
{
	enum rec_kind k = s->c->cols[i].kind;

	if (m->eff[i] != k)
		return 0;
	return k == REC_NUMBER || k == REC_TEXT || k == REC_CHAR ||
	    k == REC_UUID || k == REC_TIMESTAMPTZ;
}

/*
 * The plan of the query (read by rec_pg_unique_read), then whether a
 * unique index of the table every key column is read from covers key
 * columns, all NOT NULL (a unique index lets NULLs repeat).
 */
char *
rec_pg_unique_sql(const struct rec_pg_src *s, const struct rec_merge *m)
{
	struct buf b = { 0 };
	unsigned t = s->ftable != NULL ? s->ftable[0] : 0;
	int i;

	buf_printf(&b, "EXPLAIN SELECT * FROM (\n%s\n) AS q; ", s->query);
	for (i = 0; i < m->nkeys && t != 0; i++) {
		if (s->ftable[i] != t || s->fcol[i] <= 0 ||
		    !hp_key_one_to_one(s, m, i))
			t = 0;
	}
	if (t == 0) {
		buf_adds(&b, "SELECT 'f'");
		return buf_steal(&b);
	}
	buf_adds(&b, "SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_index i WHERE "
	    "i.indisunique AND i.indisvalid AND i.indpred IS NULL AND "
	    "i.indexprs IS NULL AND ");
	buf_printf(&b, "i.indrelid = %u AND (i.indkey::int2[])[0:i.indnkeyatts "
	    "- 1] <@ ARRAY[", t);
	for (i = 0; i < m->nkeys; i++)
		buf_printf(&b, "%s%d", i > 0 ? ", " : "", s->fcol[i]);
	buf_printf(&b, "]::int2[]) AND (SELECT bool_and(a.attnotnull) FROM "
	    "pg_attribute a WHERE a.attrelid = %u AND a.attnum IN (", t);
	for (i = 0; i < m->nkeys; i++)
		buf_printf(&b, "%s%d", i > 0 ? ", " : "", s->fcol[i]);
	buf_adds(&b, ")) THEN 't' ELSE 'f' END");
	return buf_steal(&b);
}

/* rec_pg_unique_sql, then what the server's row hash gives for fixed
 * strings. */
char *
rec_pg_probe_sql(const struct rec_pg_src *s, const struct rec_merge *m)
{
	char *u = rec_pg_unique_sql(s, m), *sql;

	xasprintf(&sql, "%s; %s", u, HP_HASHID);
	free(u);
	return sql;
}

/* Does a line of a plan (EXPLAIN, text) read a table, or keep every row
 * of the node below it at most once? */
static int
hp_plan_node(const char *line, int *scans)
{
	static const char *const scan[] = { "Seq Scan on ", "Index Scan ",
		"Index Only Scan ", "Bitmap Heap Scan on ",
		"Parallel Seq Scan on ", "Parallel Index Scan ",
		"Parallel Index Only Scan ", "Parallel Bitmap Heap Scan on " };
	static const char *const keep[] = { "Limit ", "Sort ",
		"Incremental Sort ", "Gather ", "Gather Merge ",
		"Bitmap Index Scan ", "BitmapAnd ", "BitmapOr " };
	size_t k;

	while (*line == ' ')
		line++;
	if (strncmp(line, "->", 2) == 0)
		line += 2;
	while (*line == ' ')
		line++;
	for (k = 0; k < sizeof scan / sizeof scan[0]; k++) {
		if (strncmp(line, scan[k], strlen(scan[k])) == 0) {
			(*scans)++;
			return 1;
		}
	}
	for (k = 0; k < sizeof keep / sizeof keep[0]; k++) {
		if (strncmp(line, keep[k], strlen(keep[k])) == 0)
			return 1;
	}
	return 0;
}

int
rec_pg_unique_read(int nrows, int ncols, char *const *cells, int64_t *est)
{
	const char *p, *line;
	int j, scans = 0, ok = 1;

	*est = 0;
	if (ncols != 1 || nrows < 2 || cells[0] == NULL)
		return 0;
	if ((p = strstr(cells[0], "rows=")) != NULL)
		*est = strtoll(p + 5, NULL, 10);
	for (j = 0; j < nrows - 1 && ok; j++) {
		line = cells[j] != NULL ? cells[j] : "";
		/* a node: the first line, or "->"; the rest are its details */
		if (j == 0 || strstr(line, "->") != NULL)
			ok = hp_plan_node(line, &scans);
		else if (strstr(line, "Plan") != NULL) /* InitPlan, SubPlan */
			ok = 0;
	}
	return ok && scans == 1 && cells[nrows - 1] != NULL &&
	    strcmp(cells[nrows - 1], "t") == 0;
}

int
rec_pg_probe_read(int nrows, int ncols, char *const *cells, int64_t *est,
    char **hashid)
{
	*est = 0;
	*hashid = NULL;
	if (ncols != 1 || nrows < 3)
		return 0;
	if (cells[nrows - 1] != NULL)
		*hashid = xstrdup(cells[nrows - 1]);
	return rec_pg_unique_read(nrows - 1, ncols, cells, est);
}

/* The keys in the merge's order. */
static void
hp_order(struct buf *b, const struct rec_pg_src *s, const struct rec_merge *m)
{
	int i;

	for (i = 0; i < m->nkeys; i++) {
		if (i > 0)
			buf_adds(b, ", ");
		hp_key(b, s, m, i);
		buf_adds(b, " NULLS LAST");
	}
}

char *
rec_pg_estimate_sql(const struct rec_pg_src *s)
{
	struct buf b = { 0 };

	buf_printf(&b, "EXPLAIN SELECT * FROM (\n%s\n) AS q", s->query);
	return buf_steal(&b);
}
