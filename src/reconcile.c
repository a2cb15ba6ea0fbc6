/*
 * reconcile.c - values compared by meaning, and the merge of two sorted
 * row streams (see reconcile.h). No database here: the executor
 * (exec-reconcile.c) feeds rows as they arrive.
 */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bytes.h"
#include "json.h"
#include "reconcile.h"
#include "xmalloc.h"

#define REC_SUB_MAX_SHIFT 4096 /* digits of alignment rec_num_sub allows */

/* Type OIDs (pg_type.h; stable since forever). */
static const struct {
	unsigned oid;
	enum rec_kind kind;
	const char *name;
} rec_types[] = {
	{ 16, REC_BOOL, "boolean" },
	{ 17, REC_OTHER, "bytea" },
	{ 18, REC_OTHER, "\"char\"" },
	{ 19, REC_TEXT, "name" },
	{ 20, REC_NUMBER, "bigint" },
	{ 21, REC_NUMBER, "smallint" },
	{ 23, REC_NUMBER, "integer" },
	{ 25, REC_TEXT, "text" },
	{ 26, REC_NUMBER, "oid" },
	{ 114, REC_OTHER, "json" },
	{ 700, REC_NUMBER, "real" },
	{ 701, REC_NUMBER, "double precision" },
	{ 790, REC_OTHER, "money" },
	{ 1042, REC_CHAR, "character" },
	{ 1043, REC_TEXT, "character varying" },
	{ 1082, REC_OTHER, "date" },
	{ 1083, REC_OTHER, "time" },
	{ 1114, REC_TIMESTAMP, "timestamp" },
	{ 1184, REC_TIMESTAMPTZ, "timestamp with time zone" },
	{ 1186, REC_OTHER, "interval" },
	{ 1700, REC_NUMBER, "numeric" },
	{ 2950, REC_UUID, "uuid" },
	{ 3802, REC_OTHER, "jsonb" },
};

enum { REC_S_MISSING, REC_S_EXTRA, REC_S_CHANGED };

/* A plain decimal's parts, pointing into its text (rec_dec_split). */
struct rec_dec {
	int neg;
	const char *ip, *fp; /* integer digits, fraction digits */
	size_t ni, nf;       /* without leading, trailing zeros */
};

#ifdef CUTOVER_TEST_HOOKS
int rec_test_slow;
unsigned long rec_test_fast;
#endif

static char *rec_copy_field(char *, char *, char **);
static char *rec_copy_stop(char *, char *);
static int rec_bytes_cmp(const struct rec_field *, const struct rec_field *);
static int rec_num_mag_cmp(const struct rec_num *, const struct rec_num *);
static int rec_num_rank(const struct rec_num *);
static int rec_num_special(const char *, size_t, struct rec_num *);
static int rec_num_exponent(const char *, size_t, int64_t *);
static char *rec_num_text(const struct rec_num *);
static char *rec_num_mantissa(const struct rec_num *, int64_t, int64_t);
static char *rec_dec_add(const char *, const char *);
static char *rec_dec_sub(const char *, const char *);
static int rec_dec_cmp(const char *, const char *);
static int rec_is_int(const struct rec_field *);
static int rec_int_cmp(const struct rec_field *, const struct rec_field *);
static int rec_dec_split(const struct rec_field *, struct rec_dec *);
static int rec_dec_plain_cmp(const struct rec_dec *, const struct rec_dec *);
static int rec_field_numcmp(const struct rec_field *,
    const struct rec_field *, int *);
static int rec_key_cmp(const struct rec_merge *, const struct rec_field *,
    const struct rec_field *);
static void rec_prev_keep(struct rec_merge *, struct rec_prev *,
    const struct rec_field *);
static void rec_sample_add(struct rec_merge *, int,
    const struct rec_field *, const char *);
static int rec_keys_check(int, char *const *, const unsigned *,
    const unsigned *, char **);
static void rec_samples_json(const struct rec_merge *, struct buf *);
static void rec_key_json(const struct rec_merge *, const struct rec_sample *,
    struct buf *);
static char **rec_key_strings(const struct rec_merge *,
    const struct rec_field *);
static void rec_key_strings_free(const struct rec_merge *, char **);
static void rec_key_human(const struct rec_merge *, char **, struct buf *);
static void rec_samples_human(const struct rec_merge *, int, const char *,
    int64_t, struct buf *);
static void rec_value_json(struct buf *, const char *, int);
static int rec_json_number(const char *);
static char *rec_unique_name(char *const *, int);

enum rec_kind
rec_kind_of(unsigned oid)
{
	size_t i;

	for (i = 0; i < sizeof rec_types / sizeof rec_types[0]; i++) {
		if (rec_types[i].oid == oid)
			return rec_types[i].kind;
	}
	return REC_OTHER;
}

const char *
rec_type_name(unsigned oid, char *tmp, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof rec_types / sizeof rec_types[0]; i++) {
		if (rec_types[i].oid == oid)
			return rec_types[i].name;
	}
	snprintf(tmp, len, "type %u", oid);
	return tmp;
}

void
rec_order_by(struct buf *b, const char *name, enum rec_kind kind)
{
	switch (kind) {
	case REC_NUMBER:
	case REC_BOOL:
		buf_printf(b, "%s NULLS LAST", name);
		break;
	case REC_TEXT:
	case REC_CHAR:
		buf_printf(b, "%s COLLATE \"C\" NULLS LAST", name);
		break;
	default:
		buf_printf(b, "%s::text COLLATE \"C\" NULLS LAST", name);
		break;
	}
}

/* Decode the escapes of one COPY text field at r, up to end (a tab or the
 * end of the row), writing at *wp; returns where it stopped. */
static char *
rec_copy_field(char *r, char *end, char **wp)
{
	static const char from[] = "bfnrtv", to[] = "\b\f\n\r\t\v";
	char *w = *wp, *p;
	int v, n;

	while (r < end && *r != '\t') {
		if (*r != '\\' || r + 1 >= end) {
			*w++ = *r++;
			continue;
		}
		r++;
		if (*r >= '0' && *r <= '7') {
			for (v = 0, n = 0; n < 3 && r < end && *r >= '0' &&
			    *r <= '7'; n++)
				v = v * 8 + (*r++ - '0');
			*w++ = (char)v;
		} else if (*r == 'x' && r + 1 < end && isxdigit((unsigned char)
		    r[1])) {
			r++;
			for (v = 0, n = 0; n < 2 && r < end &&
			    isxdigit((unsigned char)*r); n++, r++)
				v = v * 16 + (isdigit((unsigned char)*r) ? *r - '0'
				    : (tolower((unsigned char)*r) - 'a' + 10));
			*w++ = (char)v;
		} else if ((p = strchr(from, *r)) != NULL && *r != '\0') {
			*w++ = to[p - from];
			r++;
		} else
			*w++ = *r++;
	}
	*wp = w;
	return r;
}

/*
 * Split a row at its tabs. A field without a backslash (nearly all) is
 * left where it is; only fields with escapes are decoded, in place.
 */
int
rec_copy_split(char *line, size_t len, struct rec_field *f, int ncols)
{
	char *r = line, *end = line + len, *w, *tab;
	int n = 0;

	if (len > 0 && end[-1] == '\n')
		end--;
	for (;;) {
		tab = rec_copy_stop(r, end);
		w = r;
		if (tab < end && *tab == '\\') { /* escapes, or \N */
			if ((tab = memchr(tab, '\t', (size_t)(end - tab))) == NULL)
				tab = end;
			if (tab - r == 2 && r[0] == '\\' && r[1] == 'N') {
				if (n < ncols)
					f[n] = (struct rec_field){ r, 0, 1 };
			} else {
				rec_copy_field(r, tab, &w);
				if (n < ncols)
					f[n] = (struct rec_field){ r,
					    (size_t)(w - r), 0 };
			}
		} else if (n < ncols)
			f[n] = (struct rec_field){ r, (size_t)(tab - r), 0 };
		n++;
		if (tab >= end)
			return n;
		r = tab + 1;
	}
}

/* The first tab or backslash from r, eight bytes at a time; end if none. */
static char *
rec_copy_stop(char *r, char *end)
{
	uint64_t m;

	for (; end - r >= 8; r += 8) {
		m = bytes_load(r);
		if ((m = bytes_eq(m, '\t') | bytes_eq(m, '\\')) != 0)
			return r + bytes_first(m);
	}
	while (r < end && *r != '\t' && *r != '\\')
		r++;
	return r;
}

/* NaN, Infinity, inf (any case), after the sign. 0 if one of them. */
static int
rec_num_special(const char *s, size_t len, struct rec_num *n)
{
	if (len == 3 && strncasecmp(s, "nan", 3) == 0) {
		n->special = REC_NUM_NAN;
		n->sign = 0;
		return 0;
	}
	if ((len == 8 && strncasecmp(s, "infinity", 8) == 0) ||
	    (len == 3 && strncasecmp(s, "inf", 3) == 0)) {
		n->special = REC_NUM_INF;
		return 0;
	}
	return -1;
}

/* The exponent after e/E: an optional sign and digits, nothing else. */
static int
rec_num_exponent(const char *s, size_t len, int64_t *exp)
{
	size_t i = 0;
	int neg = 0;

	if (i < len && (s[i] == '+' || s[i] == '-'))
		neg = s[i++] == '-';
	if (i == len)
		return -1;
	for (*exp = 0; i < len; i++) {
		if (!REC_DIGIT(s[i]) || *exp > 100000000)
			return -1;
		*exp = *exp * 10 + (s[i] - '0');
	}
	if (neg)
		*exp = -*exp;
	return 0;
}

int
rec_num_parse(const char *s, size_t len, struct rec_num *n)
{
	size_t i = 0;
	int seen_point = 0, any = 0;
	int64_t exp = 0;

	memset(n, 0, sizeof *n);
	n->dig = n->small;
	n->sign = 1;
	if (i < len && (s[i] == '-' || s[i] == '+'))
		n->sign = s[i++] == '-' ? -1 : 1;
	if (rec_num_special(s + i, len - i, n) == 0)
		return 0;
	if (len >= sizeof n->small)
		n->dig = xmalloc(len + 1);
	for (; i < len; i++) {
		if (s[i] == '.' && !seen_point) {
			seen_point = 1;
			continue;
		}
		if (!REC_DIGIT(s[i]))
			break;
		any = 1;
		if (n->ndig == 0 && s[i] == '0') {
			n->point -= seen_point;
			continue;
		}
		n->dig[n->ndig++] = s[i];
		n->point += !seen_point;
	}
	if (!any || (i < len && ((s[i] != 'e' && s[i] != 'E') ||
	    rec_num_exponent(s + i + 1, len - i - 1, &exp) != 0))) {
		rec_num_free(n);
		return -1;
	}
	while (n->ndig > 0 && n->dig[n->ndig - 1] == '0')
		n->ndig--;
	n->point = n->ndig == 0 ? 0 : n->point + exp;
	if (n->ndig == 0)
		n->sign = 0;
	n->dig[n->ndig] = '\0';
	return 0;
}

void
rec_num_free(struct rec_num *n)
{
	if (n->dig != NULL && n->dig != n->small)
		free(n->dig);
	n->dig = NULL;
}

/* -Infinity 0, numbers 1, Infinity 2, NaN 3. */
static int
rec_num_rank(const struct rec_num *n)
{
	if (n->special == REC_NUM_NAN)
		return 3;
	if (n->special == REC_NUM_INF)
		return n->sign < 0 ? 0 : 2;
	return 1;
}

/* Compare absolute values of two finite numbers. */
static int
rec_num_mag_cmp(const struct rec_num *a, const struct rec_num *b)
{
	size_t m = a->ndig < b->ndig ? a->ndig : b->ndig;
	int c;

	if (a->ndig == 0 || b->ndig == 0)
		return (a->ndig != 0) - (b->ndig != 0);
	if (a->point != b->point)
		return a->point < b->point ? -1 : 1;
	if ((c = memcmp(a->dig, b->dig, m)) != 0)
		return c < 0 ? -1 : 1;
	return (a->ndig > m) - (b->ndig > m);
}

int
rec_num_cmp(const struct rec_num *a, const struct rec_num *b)
{
	int ra = rec_num_rank(a), rb = rec_num_rank(b);

	if (ra != rb)
		return ra < rb ? -1 : 1;
	if (ra != 1)
		return 0;
	if (a->sign != b->sign)
		return a->sign < b->sign ? -1 : 1;
	return a->sign * rec_num_mag_cmp(a, b);
}

/* The canonical text of a parsed number. */
static char *
rec_num_text(const struct rec_num *n)
{
	struct buf b = { 0 };
	int64_t i;

	if (n->special == REC_NUM_NAN)
		return xstrdup("NaN");
	if (n->special == REC_NUM_INF)
		return xstrdup(n->sign < 0 ? "-Infinity" : "Infinity");
	if (n->ndig == 0)
		return xstrdup("0");
	if (n->sign < 0)
		buf_addc(&b, '-');
	if (n->point <= 0) {
		buf_adds(&b, "0.");
		for (i = n->point; i < 0; i++)
			buf_addc(&b, '0');
		buf_add(&b, n->dig, n->ndig);
	} else if ((size_t)n->point >= n->ndig) {
		buf_add(&b, n->dig, n->ndig);
		for (i = (int64_t)n->ndig; i < n->point; i++)
			buf_addc(&b, '0');
	} else {
		buf_add(&b, n->dig, (size_t)n->point);
		buf_addc(&b, '.');
		buf_add(&b, n->dig + n->point, n->ndig - (size_t)n->point);
	}
	return buf_steal(&b);
}

char *
rec_num_canon(const char *s)
{
	struct rec_num n;
	char *t;

	if (rec_num_parse(s, strlen(s), &n) != 0)
		return NULL;
	t = rec_num_text(&n);
	rec_num_free(&n);
	return t;
}

/* The digits of |n| as an integer scaled to 10^exp (exp <= its own). */
static char *
rec_num_mantissa(const struct rec_num *n, int64_t own, int64_t exp)
{
	struct buf b = { 0 };
	int64_t i;

	if (n->ndig == 0)
		return xstrdup("0");
	buf_add(&b, n->dig, n->ndig);
	for (i = exp; i < own; i++)
		buf_addc(&b, '0');
	return buf_steal(&b);
}

/* Compare two decimal magnitudes written without leading zeros. */
static int
rec_dec_cmp(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	int c;

	if (la != lb)
		return la < lb ? -1 : 1;
	c = strcmp(a, b);
	return (c > 0) - (c < 0);
}

/* a + b, decimal magnitudes. */
static char *
rec_dec_add(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), n = (la > lb ? la : lb) + 1, k;
	char *r = xmalloc(n + 1);
	int carry = 0, d;

	r[n] = '\0';
	for (k = 0; k < n; k++) {
		d = carry + (k < la ? a[la - 1 - k] - '0' : 0) +
		    (k < lb ? b[lb - 1 - k] - '0' : 0);
		r[n - 1 - k] = (char)('0' + d % 10);
		carry = d / 10;
	}
	return r;
}

/* a - b, decimal magnitudes with a >= b. */
static char *
rec_dec_sub(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), k;
	char *r = xmalloc(la + 1);
	int borrow = 0, d;

	r[la] = '\0';
	for (k = 0; k < la; k++) {
		d = (a[la - 1 - k] - '0') - borrow -
		    (k < lb ? b[lb - 1 - k] - '0' : 0);
		borrow = d < 0;
		r[la - 1 - k] = (char)('0' + (d + 10) % 10);
	}
	return r;
}

char *
rec_num_sub(const char *a, const char *b)
{
	struct rec_num x, y;
	int64_t ex, ey, e;
	char *mx = NULL, *my = NULL, *mag, *text = NULL, *canon;
	int sx, sy, sign;

	if (rec_num_parse(a, strlen(a), &x) != 0)
		return NULL;
	if (rec_num_parse(b, strlen(b), &y) != 0) {
		rec_num_free(&x);
		return NULL;
	}
	ex = x.point - (int64_t)x.ndig;
	ey = y.point - (int64_t)y.ndig;
	e = ex < ey ? ex : ey;
	if (x.special || y.special || ex - e > REC_SUB_MAX_SHIFT ||
	    ey - e > REC_SUB_MAX_SHIFT)
		goto out;
	mx = rec_num_mantissa(&x, x.ndig ? ex : e, e);
	my = rec_num_mantissa(&y, y.ndig ? ey : e, e);
	sx = x.sign >= 0 ? 1 : -1;
	sy = y.sign >= 0 ? -1 : 1; /* of -b */
	if (sx == sy) {
		mag = rec_dec_add(mx, my);
		sign = sx;
	} else if (rec_dec_cmp(mx, my) >= 0) {
		mag = rec_dec_sub(mx, my);
		sign = sx;
	} else {
		mag = rec_dec_sub(my, mx);
		sign = sy;
	}
	xasprintf(&text, "%s%se%lld", sign < 0 ? "-" : "", mag, (long long)e);
	free(mag);
out:
	rec_num_free(&x);
	rec_num_free(&y);
	free(mx);
	free(my);
	canon = text != NULL ? rec_num_canon(text) : NULL;
	free(text);
	return canon;
}

/* Byte order, a shorter prefix first. */
static int
rec_bytes_cmp(const struct rec_field *a, const struct rec_field *b)
{
	size_t m = a->len < b->len ? a->len : b->len;
	int c = m > 0 ? memcmp(a->p, b->p, m) : 0;

	if (c != 0)
		return c < 0 ? -1 : 1;
	return (a->len > m) - (b->len > m);
}

/* Is f an integer as PostgreSQL prints one: 0 or -?[1-9][0-9]*? */
static int
rec_is_int(const struct rec_field *f)
{
	size_t i = f->len > 0 && f->p[0] == '-';

	if (i >= f->len || (f->p[i] == '0' && (i > 0 || f->len > 1)))
		return 0;
	for (; i < f->len; i++) {
		if (f->p[i] < '0' || f->p[i] > '9')
			return 0;
	}
	return 1;
}

/* Compare two different integers that rec_is_int accepted. */
static int
rec_int_cmp(const struct rec_field *a, const struct rec_field *b)
{
	int na = a->p[0] == '-', nb = b->p[0] == '-', c;

	if (na != nb)
		return na ? -1 : 1;
	if (a->len != b->len)
		c = a->len < b->len ? -1 : 1;
	else
		c = memcmp(a->p, b->p, a->len) < 0 ? -1 : 1;
	return na ? -c : c;
}

/*
 * Split f if it is a plain decimal, -?[0-9]+(.[0-9]+)?: its integer
 * digits without leading zeros and its fraction without trailing zeros.
 * 1 if it is one, else 0.
 */
static int
rec_dec_split(const struct rec_field *f, struct rec_dec *d)
{
	const char *p = f->p, *end = f->p + f->len, *q;

	d->neg = p < end && *p == '-';
	p += d->neg;
	for (q = p; q < end && REC_DIGIT(*q); q++)
		;
	if (q == p)
		return 0;
	d->fp = q == end ? end : q + 1;
	if (q < end && (*q != '.' || d->fp == end))
		return 0;
	while (p < q && *p == '0')
		p++;
	d->ip = p;
	d->ni = (size_t)(q - p);
	for (q = d->fp; q < end && REC_DIGIT(*q); q++)
		;
	if (q != end)
		return 0;
	while (q > d->fp && q[-1] == '0')
		q--;
	d->nf = (size_t)(q - d->fp);
	return 1;
}

/* Compare two plain decimals (rec_dec_split) by value: -1, 0, 1. */
static int
rec_dec_plain_cmp(const struct rec_dec *a, const struct rec_dec *b)
{
	int sa = a->ni + a->nf == 0 ? 0 : a->neg ? -1 : 1;
	int sb = b->ni + b->nf == 0 ? 0 : b->neg ? -1 : 1;
	size_t m = a->nf < b->nf ? a->nf : b->nf;
	int c;

	if (sa != sb)
		return sa < sb ? -1 : 1;
	if (a->ni != b->ni)
		c = a->ni < b->ni ? -1 : 1;
	else if ((c = memcmp(a->ip, b->ip, a->ni)) == 0 &&
	    (c = memcmp(a->fp, b->fp, m)) == 0)
		c = (a->nf > m) - (b->nf > m);
	return sa * ((c > 0) - (c < 0));
}

/* Compare two non-NULL fields as numbers; *ok 0 if either is not one. */
static int
rec_field_numcmp(const struct rec_field *a, const struct rec_field *b,
    int *ok)
{
	struct rec_num x, y;
	struct rec_dec da, db;
	int c;

	*ok = 1;
	if (a->len == b->len && memcmp(a->p, b->p, a->len) == 0)
		return 0;
	if (rec_is_int(a) && rec_is_int(b) && REC_FAST())
		return rec_int_cmp(a, b);
	if (rec_dec_split(a, &da) && rec_dec_split(b, &db) && REC_FAST())
		return rec_dec_plain_cmp(&da, &db);
	if (rec_num_parse(a->p, a->len, &x) != 0) {
		*ok = 0;
		return 0;
	}
	if (rec_num_parse(b->p, b->len, &y) != 0) {
		rec_num_free(&x);
		*ok = 0;
		return 0;
	}
	c = rec_num_cmp(&x, &y);
	rec_num_free(&x);
	rec_num_free(&y);
	return c;
}

int
rec_equal(enum rec_kind ka, const struct rec_field *a, enum rec_kind kb,
    const struct rec_field *b)
{
	int c, ok;

	if (a->null || b->null)
		return a->null && b->null;
	if (ka == REC_NUMBER || kb == REC_NUMBER) {
		c = rec_field_numcmp(a, b, &ok);
		if (ok)
			return c == 0;
	}
	return rec_bytes_cmp(a, b) == 0;
}

/* Order of two keys as the servers sorted them: NULLs last. */
static int
rec_key_cmp(const struct rec_merge *m, const struct rec_field *a,
    const struct rec_field *b)
{
	return rec_keys_order(m->numkey, m->nkeys, a, b);
}

int
rec_keys_order(const int *numkey, int nkeys, const struct rec_field *a,
    const struct rec_field *b)
{
	int i, c, ok;

	for (i = 0; i < nkeys; i++) {
		if (a[i].null || b[i].null) {
			if (a[i].null && b[i].null)
				continue;
			return a[i].null ? 1 : -1;
		}
		c = 0;
		ok = 0;
		if (numkey[i])
			c = rec_field_numcmp(&a[i], &b[i], &ok);
		if (!ok)
			c = rec_bytes_cmp(&a[i], &b[i]);
		if (c != 0)
			return c;
	}
	return 0;
}

int
rec_merge_keycmp(const struct rec_merge *m, const struct rec_field *s,
    const struct rec_field *d)
{
	return rec_key_cmp(m, s, d);
}

/* A column name, or name#N when an earlier column has the same one. */
static char *
rec_unique_name(char *const *names, int i)
{
	int j;

	for (j = 0; j < i; j++) {
		if (strcmp(names[j], names[i]) == 0)
			return xprintf("%s#%d", names[i], i + 1);
	}
	return xstrdup(names[i]);
}

/* Key columns must be numbers on both sides or on neither. */
static int
rec_keys_check(int nkeys, char *const *names, const unsigned *soids,
    const unsigned *doids, char **err)
{
	char t1[32], t2[32];
	int i;

	for (i = 0; i < nkeys; i++) {
		if ((rec_kind_of(soids[i]) == REC_NUMBER) ==
		    (rec_kind_of(doids[i]) == REC_NUMBER))
			continue;
		xasprintf(err, "key column %d (%s) is %s in source but %s in "
		    "dest: a number and a non-number cannot be paired; cast "
		    "one side in its query (e.g. ref::int)", i + 1, names[i],
		    rec_type_name(soids[i], t1, sizeof t1),
		    rec_type_name(doids[i], t2, sizeof t2));
		return -1;
	}
	return 0;
}

int
rec_merge_alloc(struct rec_merge *m, int ncols, int nkeys,
    char *const *names, char **err)
{
	int i;

	memset(m, 0, sizeof *m);
	if (nkeys > ncols) {
		xasprintf(err, "key: %d, but the queries return %d column%s",
		    nkeys, ncols, ncols == 1 ? "" : "s");
		return -1;
	}
	m->ncols = ncols;
	m->nkeys = nkeys;
	m->names = xcalloc((size_t)ncols + 1, sizeof *m->names);
	m->kind[0] = xcalloc((size_t)ncols + 1, sizeof *m->kind[0]);
	m->kind[1] = xcalloc((size_t)ncols + 1, sizeof *m->kind[1]);
	m->numkey = xcalloc((size_t)nkeys + 1, sizeof *m->numkey);
	m->changed_cols = xcalloc((size_t)ncols + 1, sizeof *m->changed_cols);
	for (i = 0; i < ncols; i++)
		m->names[i] = rec_unique_name(names, i);
	for (i = 0; i < 2; i++) {
		m->prev[i].off = xcalloc((size_t)nkeys + 1, sizeof(size_t));
		m->prev[i].f = xcalloc((size_t)nkeys + 1,
		    sizeof(struct rec_field));
	}
	return 0;
}

int
rec_merge_init(struct rec_merge *m, int ncols, int nkeys,
    char *const *names, const unsigned *soids, const unsigned *doids,
    char **err)
{
	int i;

	if (rec_merge_alloc(m, ncols, nkeys, names, err) != 0)
		return -1;
	if (rec_keys_check(nkeys, names, soids, doids, err) != 0) {
		rec_merge_free(m);
		return -1;
	}
	for (i = 0; i < ncols; i++) {
		m->kind[0][i] = rec_kind_of(soids[i]);
		m->kind[1][i] = rec_kind_of(doids[i]);
		if (i < nkeys)
			m->numkey[i] = m->kind[0][i] == REC_NUMBER;
	}
	return 0;
}

/* Copy the key of f as the side's previous key. */
static void
rec_prev_keep(struct rec_merge *m, struct rec_prev *p,
    const struct rec_field *f)
{
	int i;

	buf_reset(&p->bytes);
	for (i = 0; i < m->nkeys; i++) {
		p->off[i] = p->bytes.len;
		p->f[i].len = f[i].len;
		p->f[i].null = f[i].null;
		buf_add(&p->bytes, f[i].p, f[i].null ? 0 : f[i].len);
	}
	for (i = 0; i < m->nkeys; i++)
		p->f[i].p = p->bytes.data + p->off[i];
	p->have = 1;
}


/* The key of a row as strings (NULL for SQL NULL), nkeys of them. */
static char **
rec_key_strings(const struct rec_merge *m, const struct rec_field *f)
{
	char **k = xcalloc((size_t)m->nkeys + 1, sizeof *k);
	int i;

	for (i = 0; i < m->nkeys; i++)
		k[i] = f[i].null ? NULL : xstrndup(f[i].p, f[i].len);
	return k;
}

static void
rec_key_strings_free(const struct rec_merge *m, char **k)
{
	int i;

	if (k == NULL)
		return;
	for (i = 0; i < m->nkeys; i++)
		free(k[i]);
	free(k);
}

int
rec_merge_arrive(struct rec_merge *m, enum rec_side side,
    const struct rec_field *f, char **err)
{
	struct rec_prev *p = &m->prev[side];
	struct buf x = { 0 }, y = { 0 };
	char **before, **now;
	int c;

	m->rows[side]++;
	if (!p->have || (c = rec_key_cmp(m, p->f, f)) < 0) {
		rec_prev_keep(m, p, f);
		return 0;
	}
	if (c == 0) {
		m->dups[side]++;
		return 0;
	}
	before = rec_key_strings(m, p->f);
	now = rec_key_strings(m, f);
	rec_key_human(m, now, &x);
	rec_key_human(m, before, &y);
	xasprintf(err, "%s rows are not in key order (%s came after %s), so "
	    "rows cannot be paired", side == REC_SOURCE ? "source" : "dest",
	    buf_str(&x), buf_str(&y));
	rec_key_strings_free(m, before);
	rec_key_strings_free(m, now);
	buf_free(&x);
	buf_free(&y);
	return -1;
}

/* Keep the key of f as a sample of kind what, while there is room. */
static void
rec_sample_add(struct rec_merge *m, int what, const struct rec_field *f,
    const char *detail)
{
	struct rec_sample *s;

	if (m->nsamples[what] >= REC_SAMPLES)
		return;
	s = &m->samples[what][m->nsamples[what]++];
	s->key = rec_key_strings(m, f);
	s->detail = detail != NULL ? xstrdup(detail) : NULL;
}

int
rec_merge_step(struct rec_merge *m, const struct rec_field *s,
    const struct rec_field *d)
{
	int c, i, diff = 0;

	c = d == NULL ? -1 : s == NULL ? 1 : rec_key_cmp(m, s, d);
	if (c < 0) {
		m->missing++;
		rec_sample_add(m, REC_S_MISSING, s, NULL);
		if (m->on_diff != NULL)
			m->on_diff(m->diff_arg, REC_DIFF_MISSING, s, NULL, NULL);
		return REC_TAKE_SOURCE;
	}
	if (c > 0) {
		m->extra++;
		rec_sample_add(m, REC_S_EXTRA, d, NULL);
		if (m->on_diff != NULL)
			m->on_diff(m->diff_arg, REC_DIFF_EXTRA, NULL, d, NULL);
		return REC_TAKE_DEST;
	}
	buf_reset(&m->scratch);
	for (i = m->nkeys; i < m->ncols; i++) {
		if (rec_equal(m->kind[0][i], &s[i], m->kind[1][i], &d[i]))
			continue;
		m->changed_cols[i]++;
		buf_printf(&m->scratch, "%s%s", diff++ ? ", " : "",
		    m->names[i]);
	}
	if (diff == 0)
		m->matched++;
	else {
		m->changed++;
		rec_sample_add(m, REC_S_CHANGED, s, buf_str(&m->scratch));
		if (m->on_diff != NULL)
			m->on_diff(m->diff_arg, REC_DIFF_CHANGED, s, d,
			    buf_str(&m->scratch));
	}
	return REC_TAKE_SOURCE | REC_TAKE_DEST;
}

int64_t
rec_merge_differences(const struct rec_merge *m)
{
	return m->missing + m->extra + m->changed;
}

/* A sample key in JSON: a string (or null), composite keys an array. */
static void
rec_key_json(const struct rec_merge *m, const struct rec_sample *s,
    struct buf *b)
{
	int i;

	if (m->nkeys == 1) {
		json_str(b, s->key[0]);
		return;
	}
	buf_addc(b, '[');
	for (i = 0; i < m->nkeys; i++) {
		if (i > 0)
			buf_addc(b, ',');
		json_str(b, s->key[i]);
	}
	buf_addc(b, ']');
}

/* {"missing": [keys], "extra": [...], "changed": [...]} */
static void
rec_samples_json(const struct rec_merge *m, struct buf *b)
{
	static const char *kinds[] = { "missing", "extra", "changed" };
	int first = 1, i, k;

	buf_addc(b, '{');
	for (k = 0; k < 3; k++) {
		json_key(b, &first, kinds[k]);
		buf_addc(b, '[');
		for (i = 0; i < m->nsamples[k]; i++) {
			if (i > 0)
				buf_addc(b, ',');
			rec_key_json(m, &m->samples[k][i], b);
		}
		buf_addc(b, ']');
	}
	buf_addc(b, '}');
}

void
rec_merge_json(const struct rec_merge *m, struct buf *b)
{
	int first = 1, f2, i;

	buf_addc(b, '{');
	json_key(b, &first, "source_rows");
	json_int(b, m->rows[0], 0);
	json_key(b, &first, "dest_rows");
	json_int(b, m->rows[1], 0);
	json_key(b, &first, "matched");
	json_int(b, m->matched, 0);
	json_key(b, &first, "missing");
	json_int(b, m->missing, 0);
	json_key(b, &first, "extra");
	json_int(b, m->extra, 0);
	json_key(b, &first, "changed");
	json_int(b, m->changed, 0);
	json_key(b, &first, "samples");
	rec_samples_json(m, b);
	json_key(b, &first, "changed_columns");
	buf_addc(b, '{');
	for (f2 = 1, i = 0; i < m->ncols; i++) {
		if (m->changed_cols[i] == 0)
			continue;
		json_key(b, &f2, m->names[i]);
		json_int(b, m->changed_cols[i], 0);
	}
	buf_addc(b, '}');
	json_key(b, &first, "duplicate_keys");
	buf_printf(b, "{\"source\":%lld,\"dest\":%lld}}",
	    (long long)m->dups[0], (long long)m->dups[1]);
}

/* A key for a person: the value, '' when empty, NULL; (a, b) if composite. */
static void
rec_key_human(const struct rec_merge *m, char **key, struct buf *b)
{
	int i;

	if (m->nkeys > 1)
		buf_addc(b, '(');
	for (i = 0; i < m->nkeys; i++) {
		if (i > 0)
			buf_adds(b, ", ");
		if (key[i] == NULL)
			buf_adds(b, "NULL");
		else if (*key[i] == '\0')
			buf_adds(b, "''");
		else
			buf_adds(b, key[i]);
	}
	if (m->nkeys > 1)
		buf_addc(b, ')');
}

/* One line of sample keys, with how many more there are. */
static void
rec_samples_human(const struct rec_merge *m, int what, const char *label,
    int64_t count, struct buf *b)
{
	const struct rec_sample *s;
	int i;

	if (count == 0)
		return;
	buf_printf(b, "%s:", label);
	for (i = 0; i < m->nsamples[what]; i++) {
		s = &m->samples[what][i];
		buf_adds(b, i > 0 ? ", " : " ");
		rec_key_human(m, s->key, b);
		if (s->detail != NULL)
			buf_printf(b, " (%s)", s->detail);
	}
	if (count > m->nsamples[what])
		buf_printf(b, " ... and %lld more",
		    (long long)(count - m->nsamples[what]));
	buf_addc(b, '\n');
}

void
rec_merge_summary(const struct rec_merge *m, double tolerance,
    struct buf *b)
{
	int64_t diffs = rec_merge_differences(m);
	int i, n = 0;

	buf_printf(b, "source rows: %lld, dest rows: %lld\n",
	    (long long)m->rows[0], (long long)m->rows[1]);
	buf_printf(b, "matched: %lld, missing: %lld, extra: %lld, "
	    "changed: %lld\n", (long long)m->matched, (long long)m->missing,
	    (long long)m->extra, (long long)m->changed);
	for (i = 0; i < m->ncols; i++) {
		if (m->changed_cols[i] == 0)
			continue;
		buf_printf(b, "%s%s %lld", n++ ? ", " : "changed columns: ",
		    m->names[i], (long long)m->changed_cols[i]);
	}
	if (n > 0)
		buf_addc(b, '\n');
	rec_samples_human(m, REC_S_MISSING, "missing (in source, not in dest)",
	    m->missing, b);
	rec_samples_human(m, REC_S_EXTRA, "extra (in dest, not in source)",
	    m->extra, b);
	rec_samples_human(m, REC_S_CHANGED, "changed", m->changed, b);
	for (i = 0; i < 2; i++) {
		if (m->dups[i] > 0)
			buf_printf(b, "warning: %lld %s rows repeat the key of "
			    "the row before; such rows were paired in order\n",
			    (long long)m->dups[i], i == 0 ? "source" : "dest");
	}
	buf_printf(b, "differences: %lld, tolerance %g: %s\n",
	    (long long)diffs, tolerance, (double)diffs <= tolerance ?
	    "within tolerance" : "OVER TOLERANCE");
}

void
rec_merge_free(struct rec_merge *m)
{
	int i, k;

	for (k = 0; k < 3; k++) {
		for (i = 0; i < m->nsamples[k]; i++) {
			rec_key_strings_free(m, m->samples[k][i].key);
			free(m->samples[k][i].detail);
		}
	}
	for (i = 0; m->names != NULL && i < m->ncols; i++)
		free(m->names[i]);
	for (i = 0; i < 2; i++) {
		buf_free(&m->prev[i].bytes);
		free(m->prev[i].off);
		free(m->prev[i].f);
		free(m->kind[i]);
	}
	free(m->names);
	free(m->eff);
	free(m->normoff);
	buf_free(&m->norm[0]);
	buf_free(&m->norm[1]);
	free(m->numkey);
	free(m->changed_cols);
	buf_free(&m->scratch);
	memset(m, 0, sizeof *m);
}

/* Is s a JSON number as written (-?int(.frac)?(e[+-]?digits)?)? */
static int
rec_json_number(const char *s)
{
	const char *p = s;

	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if (isdigit((unsigned char)*p))
		while (isdigit((unsigned char)*p))
			p++;
	else
		return 0;
	if (*p == '.') {
		if (!isdigit((unsigned char)*++p))
			return 0;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!isdigit((unsigned char)*p))
			return 0;
		while (isdigit((unsigned char)*p))
			p++;
	}
	return *p == '\0';
}

/* A value in JSON: a number when it is one and may be written as one. */
static void
rec_value_json(struct buf *b, const char *v, int numeric)
{
	if (v != NULL && numeric && rec_json_number(v))
		buf_adds(b, v);
	else
		json_str(b, v);
}

int
rec_value_compare(const char *sv, unsigned soid, const char *dv,
    unsigned doid, double tolerance, struct buf *json, struct buf *human)
{
	struct rec_num x, y;
	char *diff = NULL;
	int numeric = 0, ok = 0, first = 1;

	if (sv != NULL && dv != NULL && (rec_kind_of(soid) == REC_NUMBER ||
	    rec_kind_of(doid) == REC_NUMBER) &&
	    rec_num_parse(sv, strlen(sv), &x) == 0) {
		if (rec_num_parse(dv, strlen(dv), &y) == 0) {
			numeric = 1;
			ok = rec_num_cmp(&x, &y) == 0;
			rec_num_free(&y);
		}
		rec_num_free(&x);
	}
	if (numeric && (diff = rec_num_sub(dv, sv)) != NULL)
		ok = fabs(strtod(diff, NULL)) <= tolerance;
	else if (!numeric)
		ok = sv == NULL || dv == NULL ? sv == dv : strcmp(sv, dv) == 0;
	buf_addc(json, '{');
	json_key(json, &first, "source_value");
	rec_value_json(json, sv, numeric);
	json_key(json, &first, "dest_value");
	rec_value_json(json, dv, numeric);
	json_key(json, &first, "difference");
	rec_value_json(json, diff, 1);
	buf_addc(json, '}');
	buf_printf(human, "source value: %s\ndest value: %s\n",
	    sv != NULL ? sv : "NULL", dv != NULL ? dv : "NULL");
	if (diff != NULL)
		buf_printf(human, "difference (dest - source): %s, tolerance "
		    "%g: %s\n", diff, tolerance, ok ? "within tolerance" :
		    "OVER TOLERANCE");
	else
		buf_printf(human, "%s\n", ok ? "equal" : "NOT EQUAL");
	free(diff);
	return ok;
}
