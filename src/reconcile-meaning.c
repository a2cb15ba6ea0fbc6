/*
 * reconcile-meaning.c - values compared by meaning across engines and
 * files (see rec_merge_init_cols in reconcile.h).
 *
 * Each value is rewritten to one canonical text per kind before it is
 * ordered or compared: booleans "t"/"f", CHAR without trailing blanks,
 * uuids in lower case, timestamps as UTC "YYYY-MM-DD HH:MM:SS[.frac]"
 * (fraction without trailing zeros), '' as NULL when the step says so.
 * Numbers keep their text: the merge compares them by value. Every
 * rewrite keeps the order of a side's values (a server's ORDER BY stays
 * valid), except uuid case and '' as NULL, which tool-sorted sides apply
 * before sorting and database sides do not need (PostgreSQL prints uuids
 * in lower case; its ORDER BY puts NULLs last, '' first: the order check
 * catches the rare step that mixes them on a key).
 */
#include "config.h"

#include <ctype.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "reconcile.h"
#include "xmalloc.h"

/* A timestamp's text, parsed (rec_parse_time). */
struct rec_time {
	int64_t y;
	long mo, d, h, mi, s;
	char frac[9]; /* digits, no trailing zeros */
	size_t nfrac;
	int zoned;
	long off; /* of the zone given, seconds east of UTC */
	size_t plain; /* length of "YYYY-MM-DD HH:MM:SS[.frac]" written as
	                 canonical text (frac without trailing zeros), or 0 */
};

static pthread_mutex_t rec_tz_mu = PTHREAD_MUTEX_INITIALIZER;

static int rec_bool_char(char);
static int rec_canon_bool(const char *, size_t);
static int rec_cols_keys_check(int, char *const *, const struct rec_col *,
    const struct rec_col *, char **);
static int rec_canon_time(const char *, size_t, const char *, struct buf *);
static int rec_parse_time(const char *, size_t, struct rec_time *);
static int rec_parse_zone(const char *, size_t, struct rec_time *);
static int rec_time_plain(const struct rec_time *, const char *);
static void rec_time_put(struct buf *, int64_t, int, int, int,
    const struct rec_time *);
static int rec_tz_is_utc(const char *);
static int64_t rec_days(int64_t, int, int);
static void rec_civil(int64_t, int64_t *, int *, int *);
static int rec_tz_offset(const char *, int64_t, long *);

enum rec_kind
rec_kind_pair(enum rec_kind a, enum rec_kind b)
{
	if (a == REC_UNTYPED)
		return b == REC_UNTYPED ? REC_TEXT : b;
	if (b == REC_UNTYPED)
		return a;
	if (a == REC_BOOL || b == REC_BOOL)
		return REC_BOOL;
	if (a == REC_TIMESTAMP || a == REC_TIMESTAMPTZ || b == REC_TIMESTAMP ||
	    b == REC_TIMESTAMPTZ)
		return REC_TIMESTAMP;
	if (a == REC_UUID || b == REC_UUID)
		return REC_UUID;
	if (a == REC_CHAR || b == REC_CHAR)
		return REC_CHAR;
	if (a == REC_NUMBER || b == REC_NUMBER)
		return REC_NUMBER;
	return a == REC_OTHER || b == REC_OTHER ? REC_OTHER : REC_TEXT;
}

/* 1 true, 0 false, -1 neither: one character (t f 1 0 y n, any case). */
static int
rec_bool_char(char c)
{
	switch (c) {
	case 't': case 'T': case '1': case 'y': case 'Y':
		return 1;
	case 'f': case 'F': case '0': case 'n': case 'N':
		return 0;
	default:
		return -1;
	}
}

/* 1 true, 0 false, -1 neither. */
static int
rec_canon_bool(const char *p, size_t n)
{
	static const char *const yes[] = { "t", "true", "1", "y", "yes", "on" };
	static const char *const no[] = { "f", "false", "0", "n", "no", "off" };
	size_t i;

	if (n == 1 && REC_FAST())
		return rec_bool_char(p[0]);
	for (i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		if (strlen(yes[i]) == n && strncasecmp(p, yes[i], n) == 0)
			return 1;
		if (strlen(no[i]) == n && strncasecmp(p, no[i], n) == 0)
			return 0;
	}
	return -1;
}

void
rec_canon_field(enum rec_kind kind, int empty_is_null, const char *tz,
    int skip_time, struct rec_field *f, struct buf *out)
{
	size_t at = out->len, n = f->len, i;
	int b;

	if (f->null)
		return;
	if (kind == REC_CHAR)
		while (n > 0 && f->p[n - 1] == ' ')
			n--;
	f->len = n;
	if (n == 0) {
		if (empty_is_null)
			f->null = 1;
		return;
	}
	switch (kind) {
	case REC_BOOL:
		if ((b = rec_canon_bool(f->p, n)) < 0 ||
		    (n == 1 && f->p[0] == (b ? 't' : 'f')))
			return;
		buf_addc(out, b ? 't' : 'f');
		break;
	case REC_UUID:
		for (i = 0; i < n; i++)
			buf_addc(out, (char)tolower((unsigned char)f->p[i]));
		break;
	case REC_TIMESTAMP:
	case REC_TIMESTAMPTZ:
		if (skip_time || (b = rec_canon_time(f->p, n, tz, out)) < 0)
			return;
		if (b > 0) {
			f->len = (size_t)b;
			return;
		}
		break;
	default:
		return;
	}
	f->p = out->data + at;
	f->len = out->len - at;
}

/*
 * The merge's side buffer may move while a row's values are appended:
 * offsets first, pointers at the end.
 */
void
rec_merge_normalize(struct rec_merge *m, enum rec_side side,
    struct rec_field *f)
{
	rec_canon_row(m, side, f, &m->norm[side], m->normoff);
}

void
rec_canon_row(const struct rec_merge *m, enum rec_side side,
    struct rec_field *f, struct buf *out, size_t *off)
{
	if (m->eff != NULL)
		rec_canon_fields(m->eff, m->ncols, m->opts.empty_is_null,
		    m->opts.tz[side], 0, f, out, off);
}

void
rec_canon_fields(const enum rec_kind *kinds, int n, int empty_is_null,
    const char *tz, int skip_time, struct rec_field *f, struct buf *out,
    size_t *off)
{
	int i;

	buf_reset(out);
	for (i = 0; i < n; i++) {
		const char *before = f[i].p;
		size_t at = out->len;

		rec_canon_field(kinds[i], empty_is_null, tz, skip_time, &f[i],
		    out);
		off[i] = f[i].p != before && !f[i].null ? at + 1 : 0;
	}
	for (i = 0; i < n; i++) {
		if (off[i] > 0)
			f[i].p = out->data + off[i] - 1;
	}
}

int
rec_merge_init_cols(struct rec_merge *m, int ncols, int nkeys,
    char *const *names, const struct rec_col *s, const struct rec_col *d,
    const struct rec_opts *opts, char **err)
{
	int i;

	if (rec_merge_alloc(m, ncols, nkeys, names, err) != 0)
		return -1;
	if (rec_cols_keys_check(nkeys, names, s, d, err) != 0) {
		rec_merge_free(m);
		return -1;
	}
	m->eff = xcalloc((size_t)ncols + 1, sizeof *m->eff);
	m->normoff = xcalloc((size_t)ncols + 1, sizeof *m->normoff);
	for (i = 0; i < ncols; i++) {
		m->eff[i] = rec_kind_pair(s[i].kind, d[i].kind);
		m->kind[0][i] = m->kind[1][i] = m->eff[i];
		if (i < nkeys)
			m->numkey[i] = m->eff[i] == REC_NUMBER;
	}
	if (opts != NULL)
		m->opts = *opts;
	return 0;
}

/* Key columns must pair: numbers on both sides or on neither (a file's
 * untyped column and booleans written as 1/0 pair with either). */
static int
rec_cols_keys_check(int nkeys, char *const *names, const struct rec_col *s,
    const struct rec_col *d, char **err)
{
	enum rec_kind ks, kd;
	int i;

	for (i = 0; i < nkeys; i++) {
		ks = rec_kind_pair(s[i].kind, d[i].kind == REC_UNTYPED ?
		    s[i].kind : d[i].kind);
		kd = rec_kind_pair(d[i].kind, s[i].kind == REC_UNTYPED ?
		    d[i].kind : s[i].kind);
		if ((s[i].kind == REC_NUMBER) == (d[i].kind == REC_NUMBER) ||
		    s[i].kind == REC_UNTYPED || d[i].kind == REC_UNTYPED ||
		    (ks == REC_BOOL && kd == REC_BOOL))
			continue;
		xasprintf(err, "key column %d (%s) is %s in source but %s in "
		    "dest: a number and a non-number cannot be paired; cast "
		    "one side in its query (e.g. ref::int)", i + 1, names[i],
		    s[i].type, d[i].type);
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------- timestamps */

/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
static int64_t
rec_days(int64_t y, int mo, int d)
{
	int64_t era, yoe, doy, doe;

	y -= mo <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
rec_civil(int64_t z, int64_t *y, int *mo, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*mo = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*mo <= 2);
}

/* Digits at p[*i], exactly n of them; -1 if not. */
static long
rec_digits(const char *p, size_t len, size_t *i, int n)
{
	long v = 0;
	int k;

	for (k = 0; k < n; k++, (*i)++) {
		if (*i >= len || !REC_DIGIT(p[*i]))
			return -1;
		v = v * 10 + (p[*i] - '0');
	}
	return v;
}

/*
 * Parse "YYYY-MM-DD[ T]HH:MM[:SS[.frac]][zone]" (zone: Z, +HH, +HH:MM,
 * +HHMM) into its fields, the fraction's digits without trailing zeros,
 * and whether a zone was given with its offset in seconds. The fields are
 * only checked against their widest ranges (day 31, hour 24, second 60):
 * the conversion through days carries the rest over. 0, or -1.
 */
static int
rec_parse_time(const char *p, size_t len, struct rec_time *t)
{
	size_t i = 0;

	memset(t, 0, sizeof *t);
	if ((t->y = rec_digits(p, len, &i, 4)) < 0 || i >= len ||
	    p[i++] != '-' || (t->mo = rec_digits(p, len, &i, 2)) < 1 ||
	    t->mo > 12 || i >= len || p[i++] != '-' ||
	    (t->d = rec_digits(p, len, &i, 2)) < 1 || t->d > 31)
		return -1;
	if (i == len)
		return 0;
	if ((p[i] != ' ' && p[i] != 'T') || (i++, (t->h = rec_digits(p, len,
	    &i, 2)) < 0) || t->h > 24 || i >= len || p[i++] != ':' ||
	    (t->mi = rec_digits(p, len, &i, 2)) < 0 || t->mi > 59)
		return -1;
	if (i < len && p[i] == ':') {
		i++;
		if ((t->s = rec_digits(p, len, &i, 2)) < 0 || t->s > 60)
			return -1;
		if (i < len && p[i] == '.') {
			for (i++; i < len && REC_DIGIT(p[i]); i++)
				if (t->nfrac < 9)
					t->frac[t->nfrac++] = p[i];
		}
	}
	while (t->nfrac > 0 && t->frac[t->nfrac - 1] == '0')
		t->nfrac--;
	if (p[10] == ' ' && i == 19 + (t->nfrac > 0 ? t->nfrac + 1 : 0))
		t->plain = i;
	return rec_parse_zone(p + i, len - i, t);
}

/* The zone after a timestamp's time: nothing, Z, +HH, +HH:MM, +HHMM. */
static int
rec_parse_zone(const char *p, size_t len, struct rec_time *t)
{
	size_t i = 0;
	long oh, om = 0;
	int sign;

	if (i < len && (p[i] == 'Z' || p[i] == 'z')) {
		t->zoned = 1;
		i++;
	} else if (i < len && (p[i] == '+' || p[i] == '-')) {
		sign = p[i++] == '-' ? -1 : 1;
		if ((oh = rec_digits(p, len, &i, 2)) < 0)
			return -1;
		if (i < len && p[i] == ':')
			i++;
		if (i < len && (om = rec_digits(p, len, &i, 2)) < 0)
			return -1;
		t->zoned = 1;
		t->off = sign * (oh * 3600 + om * 60);
	}
	return i == len ? 0 : -1;
}

/* Is a side's zone UTC (NULL, "UTC" in any case, "Z")? */
static int
rec_tz_is_utc(const char *tz)
{
	return tz == NULL || strcasecmp(tz, "UTC") == 0 || strcmp(tz, "Z") == 0;
}

int
rec_tz_fixed(const char *tz, long *off)
{
	long h, m;
	char sign;

	*off = 0;
	if (rec_tz_is_utc(tz))
		return 1;
	if ((tz[0] == '+' || tz[0] == '-') &&
	    sscanf(tz, "%c%2ld:%2ld", &sign, &h, &m) == 3) {
		*off = (sign == '-' ? -1 : 1) * (h * 3600 + m * 60);
		return 1;
	}
	return 0;
}

/* Offsets found, by zone and local hour: the C library is asked once an
 * hour of local time, not once a value. */
#define REC_TZ_CACHE 4096
static struct {
	char tz[64]; /* the zone's name */
	int64_t hour;
	long off;
	int set;
} rec_tz_cache[REC_TZ_CACHE];

/*
 * The UTC offset of zone tz at local time local (seconds as if UTC): a
 * fixed "+HH:MM", "UTC", or a zone name through the C library, under a
 * lock, with TZ set for the call and put back. TZ is never removed from
 * the environment (an absent TZ comes back as ":/etc/localtime", which
 * means the same), so that the environment is not reallocated under a
 * thread that reads it.
 */
static int
rec_tz_offset(const char *tz, int64_t local, long *off)
{
	struct tm tm;
	char *saved, *old;
	time_t t;
	int64_t y, hour = local >= 0 ? local / 3600 : -((-local + 3599) / 3600);
	size_t slot;
	int mo, d, ok;

	if (rec_tz_fixed(tz, off))
		return 0;
	slot = (size_t)((uint64_t)hour * 2654435761u + strlen(tz)) %
	    REC_TZ_CACHE;
	pthread_mutex_lock(&rec_tz_mu);
	if (rec_tz_cache[slot].set && strcmp(rec_tz_cache[slot].tz, tz) == 0 &&
	    rec_tz_cache[slot].hour == hour) {
		*off = rec_tz_cache[slot].off;
		pthread_mutex_unlock(&rec_tz_mu);
		return 0;
	}
	memset(&tm, 0, sizeof tm);
	rec_civil(hour >= 0 ? hour / 24 : -((-hour + 23) / 24), &y, &mo, &d);
	tm.tm_year = (int)(y - 1900);
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = (int)(hour - rec_days(y, mo, d) * 24);
	tm.tm_isdst = -1;
	old = getenv("TZ");
	saved = xstrdup(old != NULL ? old : ":/etc/localtime");
	setenv("TZ", tz, 1);
	tzset();
	t = mktime(&tm);
	ok = t != (time_t)-1;
	*off = ok ? tm.tm_gmtoff : 0;
	setenv("TZ", saved, 1);
	tzset();
	if (ok && strlen(tz) < sizeof rec_tz_cache[slot].tz) {
		strcpy(rec_tz_cache[slot].tz, tz);
		rec_tz_cache[slot].hour = hour;
		rec_tz_cache[slot].off = *off;
		rec_tz_cache[slot].set = 1;
	}
	pthread_mutex_unlock(&rec_tz_mu);
	free(saved);
	return ok ? 0 : -1;
}

/*
 * Are t's fields already UTC and a real instant (day within its month,
 * hour < 24, second < 60)? Then they are their own canonical text.
 */
static int
rec_time_plain(const struct rec_time *t, const char *tz)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
		30, 31 };

	if (t->zoned ? t->off != 0 : !rec_tz_is_utc(tz))
		return 0;
	if (t->h > 23 || t->s > 59 || t->d > mdays[t->mo - 1])
		return 0;
	return t->mo != 2 || t->d < 29 ||
	    (t->y % 4 == 0 && (t->y % 100 != 0 || t->y % 400 == 0));
}

/* "YYYY-MM-DD HH:MM:SS[.frac]" of a day and the second in it. */
static void
rec_time_put(struct buf *out, int64_t y, int mo, int d, int sod,
    const struct rec_time *t)
{
	if (y < 0 || y > 9999) {
		buf_printf(out, "%04lld-%02d-%02d %02d:%02d:%02d", (long long)y,
		    mo, d, sod / 3600, sod / 60 % 60, sod % 60);
	} else {
		/* by hand: printf is most of the time of a big compare */
		char c[19] = { (char)('0' + y / 1000), (char)('0' + y / 100 % 10),
			(char)('0' + y / 10 % 10), (char)('0' + y % 10), '-',
			(char)('0' + mo / 10), (char)('0' + mo % 10), '-',
			(char)('0' + d / 10), (char)('0' + d % 10), ' ',
			(char)('0' + sod / 36000), (char)('0' + sod / 3600 % 10),
			':', (char)('0' + sod / 60 % 60 / 10),
			(char)('0' + sod / 60 % 10), ':',
			(char)('0' + sod % 60 / 10), (char)('0' + sod % 10) };

		buf_add(out, c, sizeof c);
	}
	if (t->nfrac > 0) {
		buf_addc(out, '.');
		buf_add(out, t->frac, t->nfrac);
	}
}

/*
 * A timestamp as UTC canonical text: appended to out (0), or the length
 * of p's beginning that is that text already (nothing appended); -1 if
 * not a timestamp. Most values need no arithmetic (rec_time_plain); the
 * others go through days since the epoch, which carries over hour 24,
 * second 60, day 31 of a short month and any offset.
 */
static int
rec_canon_time(const char *p, size_t len, const char *tz, struct buf *out)
{
	struct rec_time t;
	int64_t secs, y;
	long off;
	int mo, d;

	if (rec_parse_time(p, len, &t) != 0)
		return -1;
	if (rec_time_plain(&t, tz) && REC_FAST()) {
		if (t.plain > 0)
			return (int)t.plain;
		rec_time_put(out, t.y, (int)t.mo, (int)t.d,
		    (int)(t.h * 3600 + t.mi * 60 + t.s), &t);
		return 0;
	}
	secs = rec_days(t.y, (int)t.mo, (int)t.d) * 86400 + t.h * 3600 +
	    t.mi * 60 + t.s;
	off = t.off;
	if (!t.zoned && rec_tz_offset(tz, secs, &off) != 0)
		return -1;
	secs -= off;
	rec_civil(secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400), &y,
	    &mo, &d);
	rec_time_put(out, y, mo, d, (int)(secs - rec_days(y, mo, d) * 86400),
	    &t);
	return 0;
}
