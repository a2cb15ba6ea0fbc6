/*
 * report-text.c - what every report format says the same way: durations
 * and times for a person, the outcome of a run, the verdict of a reconcile
 * step, what was done about a failure, the tail of an attempt's output,
 * and the entries of a stored reconcile result.
 *
 * A reconcile result is JSON that cutover itself wrote (reconcile.c); it
 * is read here by a small bounded walker that gives up (returns -1) on
 * anything it does not expect, never reading past the terminating NUL.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "duration.h"
#include "report.h"
#include "xmalloc.h"

static const char *js_ws(const char *);
static const char *js_skip_str(const char *);
static const char *js_skip(const char *);
static const char *js_member(const char *, const char *);
static const char *js_decode_str(struct buf *, const char *);
static void js_utf8(struct buf *, unsigned long);
static const char *js_text(struct buf *, const char *);
/* What a reconcile result says, for its verdict. */
struct rec_facts {
	int64_t diffs; /* compare: rows: missing + extra + changed; else -1 */
	double d;      /* compare: value: |difference|, 0 if none */
	double tol;    /* the step's tolerance, -1 if unknown */
	char v[64];    /* the difference as written */
};

static int64_t rec_number(const char *, const char *);
static enum report_rec rec_words(const struct rec_facts *, int, char *,
    size_t);
static int report_act_between(const struct report_act *, const char *,
    int64_t, int64_t);
static void report_acts_on(const struct report_run *, const char *, int64_t,
    int64_t, struct buf *);

void
report_human(int64_t ms, char *out, size_t len)
{
	char d[48], *p, *o = out;

	if (ms < 0) {
		snprintf(out, len, "-");
		return;
	}
	duration_format(ms >= 1000 ? (ms + 500) / 1000 * 1000 : ms, d,
	    sizeof d);
	/* A space between units: "1h5m12s" -> "1h 5m 12s". */
	for (p = d; *p != '\0' && (size_t)(o - out) + 2 < len; p++) {
		if (p > d && *p >= '0' && *p <= '9' &&
		    !(p[-1] >= '0' && p[-1] <= '9'))
			*o++ = ' ';
		*o++ = *p;
	}
	*o = '\0';
}

void
report_human_delta(int64_t ms, char *out, size_t len)
{
	char d[48];

	report_human(ms < 0 ? -ms : ms, d, sizeof d);
	snprintf(out, len, "%s%s", ms > 0 ? "+" : ms < 0 ? "-" : "", d);
}

void
report_human_plan(const struct eta *e, char *out, size_t len)
{
	char d[48];

	report_human(e->delta_ms < 0 ? -e->delta_ms : e->delta_ms, d,
	    sizeof d);
	if (!e->planned)
		snprintf(out, len, "no plan");
	else if (e->delta_ms == 0)
		snprintf(out, len, "on plan");
	else
		snprintf(out, len, "%s %s plan", d,
		    e->delta_ms > 0 ? "behind" : "ahead of");
}

void
report_local_time(int64_t ms, char *out, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char when[64], zone[32];
	long off;

	if (ms < 0 || localtime_r(&t, &tm) == NULL) {
		snprintf(out, len, "-");
		return;
	}
	strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S %Z", &tm);
	off = tm.tm_gmtoff / 60;
	snprintf(zone, sizeof zone, "UTC%c%02ld:%02ld", off < 0 ? '-' : '+',
	    (off < 0 ? -off : off) / 60, (off < 0 ? -off : off) % 60);
	snprintf(out, len, "%s (%s)", when, zone);
}

enum report_outcome
report_outcome(const struct report_run *r)
{
	if (strcmp(r->info.state, "complete") == 0)
		return OUTCOME_COMPLETE;
	if (strcmp(r->info.state, "abandoned") == 0)
		return OUTCOME_ABORTED;
	if (r->rollback_start_ms < 0)
		return OUTCOME_OPEN;
	return r->rollback_done_ms >= r->rollback_start_ms
	    ? OUTCOME_ROLLED_BACK : OUTCOME_ROLLING_BACK;
}

const char *
report_outcome_words(enum report_outcome o)
{
	switch (o) {
	case OUTCOME_COMPLETE:
		return "COMPLETE";
	case OUTCOME_ROLLED_BACK:
		return "ROLLED BACK";
	case OUTCOME_ROLLING_BACK:
		return "ROLLBACK NOT FINISHED";
	case OUTCOME_ABORTED:
		return "ABORTED (abandoned)";
	default:
		return "OPEN (in progress)";
	}
}

static const char *
js_ws(const char *p)
{
	while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
		p++;
	return p;
}

/* After the string that starts at p (a quote), or NULL. */
static const char *
js_skip_str(const char *p)
{
	for (p++; *p != '\0' && *p != '"'; p++)
		if (*p == '\\' && p[1] != '\0')
			p++;
	return *p == '"' ? p + 1 : NULL;
}

/* After the value at p, or NULL when it is cut short. */
static const char *
js_skip(const char *p)
{
	int depth = 0;

	p = js_ws(p);
	do {
		if (*p == '\0')
			return NULL;
		if (*p == '"') {
			if ((p = js_skip_str(p)) == NULL)
				return NULL;
		} else if (*p == '{' || *p == '[') {
			depth++;
			p++;
		} else if (*p == '}' || *p == ']') {
			if (--depth < 0)
				return NULL;
			p++;
		} else if (depth == 0)
			return p + strcspn(p, ",:}] \n\t\r");
		else
			p++;
	} while (depth > 0);
	return p;
}

/* The value of member key of the object at p, or NULL. */
static const char *
js_member(const char *p, const char *key)
{
	size_t klen = strlen(key);
	const char *k, *e;
	int match;

	if (p == NULL || *(p = js_ws(p)) != '{')
		return NULL;
	for (p = js_ws(p + 1); *p == '"'; p = js_ws(p + 1)) {
		k = p + 1;
		if ((e = js_skip_str(p)) == NULL)
			return NULL;
		match = (size_t)(e - 1 - k) == klen && strncmp(k, key, klen) == 0;
		if (*(p = js_ws(e)) != ':')
			return NULL;
		p = js_ws(p + 1);
		if (match)
			return p;
		if ((p = js_skip(p)) == NULL || *(p = js_ws(p)) != ',')
			return NULL;
	}
	return NULL;
}

/* Code point c as UTF-8. */
static void
js_utf8(struct buf *b, unsigned long c)
{
	if (c < 0x80)
		buf_addc(b, (char)c);
	else if (c < 0x800) {
		buf_addc(b, (char)(0xc0 | c >> 6));
		buf_addc(b, (char)(0x80 | (c & 0x3f)));
	} else if (c < 0x10000) {
		buf_addc(b, (char)(0xe0 | c >> 12));
		buf_addc(b, (char)(0x80 | (c >> 6 & 0x3f)));
		buf_addc(b, (char)(0x80 | (c & 0x3f)));
	} else {
		buf_addc(b, (char)(0xf0 | c >> 18));
		buf_addc(b, (char)(0x80 | (c >> 12 & 0x3f)));
		buf_addc(b, (char)(0x80 | (c >> 6 & 0x3f)));
		buf_addc(b, (char)(0x80 | (c & 0x3f)));
	}
}

/* Decode the string at p (a quote) into b; after it, or NULL. */
static const char *
js_decode_str(struct buf *b, const char *p)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	unsigned long c, lo;
	const char *x;

	for (p++; *p != '\0' && *p != '"'; p++) {
		if (*p != '\\') {
			buf_addc(b, *p);
			continue;
		}
		if (*++p == '\0')
			return NULL;
		if ((x = strchr(from, *p)) != NULL && *p != '\0') {
			buf_addc(b, to[x - from]);
			continue;
		}
		if (*p != 'u' || sscanf(p + 1, "%4lx", &c) != 1 ||
		    strspn(p + 1, "0123456789abcdefABCDEF") < 4)
			return NULL;
		p += 4;
		if (c >= 0xd800 && c < 0xdc00 && p[1] == '\\' && p[2] == 'u' &&
		    strspn(p + 3, "0123456789abcdefABCDEF") >= 4 &&
		    sscanf(p + 3, "%4lx", &lo) == 1 && lo >= 0xdc00 &&
		    lo < 0xe000) {
			c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
			p += 6;
		}
		js_utf8(b, c);
	}
	return *p == '"' ? p + 1 : NULL;
}

/* The value at p as text into b (see report_result_each); after it. */
static const char *
js_text(struct buf *b, const char *p)
{
	const char *e;
	int n = 0;

	p = js_ws(p);
	if (*p == '"')
		return js_decode_str(b, p);
	if (*p != '[') {
		if ((e = js_skip(p)) != NULL)
			buf_add(b, p, (size_t)(e - p));
		return e;
	}
	buf_addc(b, '(');
	for (p = js_ws(p + 1); *p != ']'; n++) {
		if (n > 0)
			buf_adds(b, ", ");
		if ((p = js_text(b, p)) == NULL)
			return NULL;
		if (*(p = js_ws(p)) == ',')
			p = js_ws(p + 1);
		else if (*p != ']')
			return NULL;
	}
	buf_addc(b, ')');
	return p + 1;
}

int
report_result_each(const char *json, const char *key, const char *sub,
    void (*fn)(const char *, const char *, void *), void *arg)
{
	const char *p = js_member(json, key), *e;
	struct buf name = { 0 }, val = { 0 };
	int n = 0, obj;

	if (p != NULL && sub != NULL)
		p = js_member(p, sub);
	if (p == NULL || (*p != '[' && *p != '{'))
		return -1;
	obj = *p == '{';
	for (p = js_ws(p + 1); p != NULL && *p != ']' && *p != '}'; n++) {
		buf_reset(&name);
		buf_reset(&val);
		if (obj && ((e = js_decode_str(&name, p)) == NULL ||
		        *(e = js_ws(e)) != ':'))
			break;
		if ((p = js_text(&val, obj ? e + 1 : p)) == NULL)
			break;
		fn(obj ? buf_str(&name) : NULL, buf_str(&val), arg);
		if (*(p = js_ws(p)) == ',')
			p = js_ws(p + 1);
	}
	buf_free(&name);
	buf_free(&val);
	return n;
}

int
report_result_text(const char *json, const char *key, struct buf *out)
{
	const char *p = js_member(json, key);

	if (p == NULL || *p == '{')
		return -1;
	buf_reset(out);
	return js_text(out, p) != NULL ? 0 : -1;
}

const char *
report_result_label(const char *key)
{
	static const char *labels[][2] = { { "source_rows", "Source rows" },
		{ "dest_rows", "Dest rows" }, { "matched", "Matched" },
		{ "missing", "Missing" }, { "extra", "Extra" },
		{ "changed", "Changed" }, { "source_value", "Source value" },
		{ "dest_value", "Dest value" }, { "difference", "Difference" } };
	size_t i;

	for (i = 0; i < sizeof labels / sizeof labels[0]; i++)
		if (strcmp(key, labels[i][0]) == 0)
			return labels[i][1];
	return key;
}

/* A whole-number field of a result, or -1. */
static int64_t
rec_number(const char *json, const char *key)
{
	char v[32], *end;
	long long n;

	if (report_result_field(json, key, v, sizeof v) != 0)
		return -1;
	n = strtoll(v, &end, 10);
	return *end == '\0' && n >= 0 ? n : -1;
}

int64_t
report_rec_differences(const char *json)
{
	int64_t m = rec_number(json, "missing"), e = rec_number(json, "extra"),
		c = rec_number(json, "changed");

	return m < 0 || e < 0 || c < 0 ? -1 : m + e + c;
}

enum report_rec
report_reconcile(const struct report_step *s, char *out, size_t len)
{
	const char *j = s->row.result;
	struct rec_facts f = { -1, 0, s->def != NULL ? s->def->tolerance : -1,
		"" };
	int passed;

	if (j == NULL) {
		snprintf(out, len, "no result");
		return REC_NONE;
	}
	if (rec_number(j, "source_rows") >= 0)
		f.diffs = report_rec_differences(j);
	else if (report_result_field(j, "difference", f.v, sizeof f.v) == 0 &&
	    strcmp(f.v, "null") != 0) {
		f.d = strtod(f.v, NULL);
		f.d = f.d < 0 ? -f.d : f.d;
	}
	passed = s->row.state != ST_FAILED && s->row.state != ST_PENDING;
	if (f.tol >= 0)
		passed = f.diffs >= 0 ? f.diffs <= f.tol : passed && f.d <= f.tol;
	return rec_words(&f, passed, out, len);
}

/* The verdict on what a result says, and its words. */
static enum report_rec
rec_words(const struct rec_facts *f, int passed, char *out, size_t len)
{
	const char *s = f->diffs == 1 ? "" : "s";

	if (!passed && f->diffs >= 0 && f->tol >= 0)
		snprintf(out, len, "failed: %lld difference%s > %g",
		    (long long)f->diffs, s, f->tol);
	else if (!passed)
		snprintf(out, len, "failed: %s", f->diffs >= 0 ? "differences" :
		    "the values differ");
	if (!passed)
		return REC_FAILED;
	if (f->diffs == 0 || (f->diffs < 0 && f->d == 0)) {
		snprintf(out, len, "passed: no differences");
		return REC_CLEAN;
	}
	if (f->tol < 0) /* the step is no longer in the runbook */
		snprintf(out, len, "passed with differences (tolerance "
		    "unknown)");
	else if (f->diffs > 0)
		snprintf(out, len, "passed within tolerance: %lld difference%s "
		    "\xe2\x89\xa4 %g", (long long)f->diffs, s, f->tol);
	else
		snprintf(out, len, "passed within tolerance: difference %s "
		    "\xe2\x89\xa4 %g", f->v, f->tol);
	return REC_TOLERATED;
}

const char *
report_act_words(const struct report_act *a)
{
	if (strcmp(a->action, "rollback-start") == 0)
		return "rollback started";
	if (strcmp(a->action, "rollback-force") == 0)
		return "irreversible step left as it is";
	if (strcmp(a->action, "confirm-undone") == 0)
		return "confirmed undone";
	return NULL;
}

/* Is act a on step, after from and before to (-1: no end)? */
static int
report_act_between(const struct report_act *a, const char *step,
    int64_t from, int64_t to)
{
	return a->step != NULL && strcmp(a->step, step) == 0 &&
	    a->at_ms >= from && (to < 0 || a->at_ms <= to);
}

/* The acts of people on step between from and to, as sentences. */
static void
report_acts_on(const struct report_run *r, const char *step, int64_t from,
    int64_t to, struct buf *b)
{
	static const struct {
		const char *action, *words;
	} says[] = {
		{ "retry", "retry asked by" }, { "skip", "skipped by" },
		{ "confirm", "confirmed done by" },
		{ "confirm-undone", "confirmed undone by" },
		{ "rollback-force", "left as it is (forced rollback) by" },
	};
	const struct report_act *a;
	size_t i, k, start = b->len;
	char t[96];

	for (i = 0; i < r->nacts; i++) {
		a = &r->acts[i];
		if (!report_act_between(a, step, from, to))
			continue;
		for (k = 0; k < sizeof says / sizeof says[0]; k++)
			if (strcmp(a->action, says[k].action) == 0)
				break;
		if (k == sizeof says / sizeof says[0])
			continue;
		report_local_time(a->at_ms, t, sizeof t);
		buf_printf(b, "%s%s %s at %s", b->len > start ? "; " : "",
		    says[k].words, a->operator, t);
		if (a->why != NULL)
			buf_printf(b, ": %s", a->why);
	}
}

void
report_followup(const struct report_run *r, const struct report_step *s,
    size_t k, struct buf *b)
{
	const struct attempt_row *a = &s->att[k], *next = NULL;
	int64_t end = report_parse_time(a->ended_at), to = -1;
	size_t start = b->len, i;

	for (i = k + 1; i < s->natt && next == NULL; i++)
		if (s->att[i].kind == a->kind ||
		    (a->kind != ATT_ROLLBACK && s->att[i].kind != ATT_ROLLBACK))
			next = &s->att[i];
	if (next != NULL)
		to = report_parse_time(next->started_at);
	report_acts_on(r, s->row.id, end < 0 ? 0 : end, to, b);
	if (next != NULL)
		buf_printf(b, "%sretried%s: attempt %d %s", b->len > start ? "; "
		    : "", b->len > start ? "" : " automatically", next->n,
		    next->state);
	else if (b->len == start)
		buf_printf(b, "nothing yet: the step is %s",
		    step_state_name(s->row.state));
}

size_t
report_tail(const struct attempt_row *a, size_t nlines, size_t max)
{
	size_t end = a->output_len, p;
	const char *q;

	if (a->output == NULL || end == 0)
		return end;
	if (a->output[end - 1] == '\n')
		end--;
	for (p = end; p > 0 && a->output_len - p < max; p--)
		if (a->output[p - 1] == '\n' && nlines-- <= 1)
			break;
	if (p > 0 && a->output[p - 1] != '\n') {
		/* Cut by max: from the next whole line, if there is one. */
		q = memchr(a->output + p, '\n', end - p);
		if (q != NULL)
			p = (size_t)(q - a->output) + 1;
	}
	while (p < end && ((unsigned char)a->output[p] & 0xc0) == 0x80)
		p++; /* not in the middle of a character */
	return p;
}
