/*
 * rec-checksum.c - method: checksum of reconcile steps: key ranges
 * counted and hashed in both servers at once, split where they differ,
 * fetched and merged where they are small (see rec-checksum.h).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "rec-checksum.h"
#include "rec-int.h"
#include "xmalloc.h"

enum cs_phase {
	CS_IDLE,
	CS_ESTIMATE, /* auto: both sides estimate their rows */
	CS_PROBE,    /* both sides: estimates, are their keys unique? */
	CS_STATS,    /* both sides count and hash cur's buckets */
	CS_SAMPLE,   /* one side samples cur's keys */
	CS_FETCH,    /* both sides stream cur's rows to the merge */
	CS_DONE,
};

struct rec_checksum {
	struct rec_conn *side[2];
	struct rec_merge *m;
	const struct rec_checksum_cbs *cb;
	void *arg;
	int factor;
	int64_t threshold;
	int grouped[2]; /* a side may repeat keys: count them per range */
	int md5;        /* the servers' hashtextextended differ */
	int64_t est[2]; /* the servers' estimates of their rows */
	double fraction; /* of the rows sampled for the first split */
	enum cs_phase phase;
	struct rec_range cur; /* being split or fetched */
	char ***bounds;       /* where cur is split: nb keys */
	int nb;
	struct rec_range *stack; /* pending, the next in key order last */
	size_t nstack, capstack;
	int want;                /* answers outstanding, a bit per side */
	int nrows[2], ncols[2];
	char **cells[2];
	int64_t checked, differ, fetched[2], before[2];
};

static void cs_ask(struct rec_checksum *, int, char *);
static int cs_over(const struct rec_checksum *);
static void cs_next(struct rec_checksum *);
static int cs_equal(const struct rec_range *);
static void cs_fetch(struct rec_checksum *);
static void cs_sample(struct rec_checksum *);
static void cs_stats(struct rec_checksum *);
static void cs_on_estimate(struct rec_checksum *);
static void cs_on_probe(struct rec_checksum *);
static void cs_on_stats(struct rec_checksum *);
static void cs_on_sample(struct rec_checksum *);
static void cs_child(struct rec_checksum *, int, struct rec_range *);
static void cs_push(struct rec_checksum *, const struct rec_range *);
static char **cs_key_dup(const struct rec_checksum *, char *const *);
static int cs_key_same(const struct rec_checksum *, char *const *,
    char *const *);
static void cs_key_free(const struct rec_checksum *, char **);
static void cs_range_free(const struct rec_checksum *, struct rec_range *);
static void cs_bounds_free(struct rec_checksum *);
static void cs_cells_free(struct rec_checksum *);

char *
rec_checksum_cannot(struct rec_conn *const side[2], const struct rec_merge *m)
{
	char *why;
	int i;

	for (i = 0; i < 2; i++) {
		if (side[i]->ops->hash == NULL) {
			xasprintf(&why, "%s %s is not a postgres target",
			    side[i]->label, side[i]->target);
			return why;
		}
	}
	for (i = 0; i < 2; i++) {
		if ((why = side[i]->ops->hash->cannot(side[i], m)) != NULL)
			return why;
	}
	return NULL;
}

struct rec_checksum *
rec_checksum_new(struct rec_conn *const side[2], struct rec_merge *m,
    int factor, int threshold, const struct rec_checksum_cbs *cb, void *arg)
{
	struct rec_checksum *cs = xcalloc(1, sizeof *cs);

	cs->side[0] = side[0];
	cs->side[1] = side[1];
	cs->m = m;
	cs->cb = cb;
	cs->arg = arg;
	cs->factor = factor > 1 ? factor : REC_CHECKSUM_FACTOR;
	cs->threshold = threshold > 0 ? threshold : REC_CHECKSUM_THRESHOLD;
	return cs;
}

/* Has the attempt ended under us? */
static int
cs_over(const struct rec_checksum *cs)
{
	return rec_side_over(cs->side[0]);
}

/* Send sql (freed here) to side i; its answer is awaited. */
static void
cs_ask(struct rec_checksum *cs, int i, char *sql)
{
	cs->want |= 1 << i;
	if (!cs_over(cs))
		cs->side[i]->ops->hash->ask(cs->side[i], sql);
	free(sql);
}

void
rec_checksum_auto(struct rec_checksum *cs)
{
	int i;

	cs->phase = CS_ESTIMATE;
	for (i = 0; i < 2; i++)
		cs_ask(cs, i, cs->side[i]->ops->hash->estimate_sql(cs->side[i]));
}

/* Both estimates are in: checksum when many bisection_thresholds of rows. */
static void
cs_on_estimate(struct rec_checksum *cs)
{
	int64_t est = 0, n;
	const char *p;
	char *why;
	int i, use;

	for (i = 0; i < 2; i++) {
		p = cs->nrows[i] > 0 && cs->ncols[i] > 0 && cs->cells[i][0] !=
		    NULL ? strstr(cs->cells[i][0], "rows=") : NULL;
		n = p != NULL ? strtoll(p + 5, NULL, 10) : 0;
		if (n > est)
			est = n;
	}
	cs_cells_free(cs);
	cs->phase = CS_IDLE;
	use = est >= cs->threshold * REC_CHECKSUM_AUTO_RANGES;
	if (use)
		xasprintf(&why, "auto: both sides postgres, ~%lld rows",
		    (long long)est);
	else
		xasprintf(&why, "auto: ~%lld rows, fetching them is cheaper",
		    (long long)est);
	cs->cb->chosen(cs->arg, use, why);
	free(why);
}

void
rec_checksum_start(struct rec_checksum *cs)
{
	int i;

	cs->phase = CS_PROBE;
	for (i = 0; i < 2 && !cs_over(cs); i++)
		cs_ask(cs, i, cs->side[i]->ops->hash->probe_sql(cs->side[i],
		    cs->m));
}

/* Both sides probed: the whole key space is the first range (not
 * counted: it is split at once). A side whose keys are not unique for
 * certain counts its repeated keys in every hash pass. */
static void
cs_on_probe(struct rec_checksum *cs)
{
	struct rec_range root;
	const struct rec_hash_ops *h;
	const char *knob = getenv("CUTOVER_TEST_HASH_MISMATCH");
	char *id[2];
	int i;

	for (i = 0; i < 2; i++) {
		h = cs->side[i]->ops->hash;
		cs->grouped[i] = !h->probe_read(cs->side[i], cs->nrows[i],
		    cs->ncols[i], cs->cells[i], &cs->est[i], &id[i]);
	}
	cs_cells_free(cs);
	/* test hook: the servers' hashes taken as unequal */
	cs->md5 = id[0] == NULL || id[1] == NULL || strcmp(id[0], id[1]) != 0 ||
	    (knob != NULL && *knob != '\0');
	if (cs->md5)
		cs->cb->output(cs->arg, "checksum: the servers' row hash "
		    "(hashtextextended) differs for the same text: rows hashed "
		    "with md5 on both\n");
	free(id[0]);
	free(id[1]);
	memset(&root, 0, sizeof root);
	cs_push(cs, &root);
	cs_next(cs);
}

/* Count and hash cur's buckets on both sides at once. */
static void
cs_stats(struct rec_checksum *cs)
{
	const struct rec_hash_ops *h;
	int i;

	cs->phase = CS_STATS;
	for (i = 0; i < 2 && !cs_over(cs); i++) {
		h = cs->side[i]->ops->hash;
		cs_ask(cs, i, h->stats_sql(cs->side[i], cs->m, &cs->cur,
		    cs->bounds, cs->nb, (cs->grouped[i] ? REC_HASH_GROUPED : 0) |
		    (cs->md5 ? REC_HASH_MD5 : 0)));
	}
}

void
rec_checksum_answer(struct rec_checksum *cs, int side, int nrows, int ncols,
    char **cells)
{
	if (cs->cells[side] != NULL) { /* not asked for: drop it */
		int k;

		for (k = 0; k < nrows * ncols; k++)
			free(cells[k]);
		free(cells);
		return;
	}
	cs->nrows[side] = nrows;
	cs->ncols[side] = ncols;
	cs->cells[side] = cells;
	cs->want &= ~(1 << side);
	if (cs->want != 0 || cs_over(cs))
		return;
	switch (cs->phase) {
	case CS_ESTIMATE:
		cs_on_estimate(cs);
		break;
	case CS_PROBE:
		cs_on_probe(cs);
		break;
	case CS_STATS:
		cs_on_stats(cs);
		break;
	case CS_SAMPLE:
		cs_on_sample(cs);
		break;
	default:
		cs_cells_free(cs);
		break;
	}
}

/* Both sides counted cur's buckets: push them, visit the next. */
static void
cs_on_stats(struct rec_checksum *cs)
{
	struct rec_range *kids;
	int k;

	kids = xcalloc((size_t)cs->nb + 1, sizeof *kids);
	for (k = 0; k <= cs->nb; k++)
		cs_child(cs, k, &kids[k]);
	for (k = cs->nb; k >= 0; k--)
		cs_push(cs, &kids[k]);
	free(kids);
	cs_cells_free(cs);
	cs_bounds_free(cs);
	cs_range_free(cs, &cs->cur);
	cs_next(cs);
}

/* Bucket k of cur, with what each side answered for it. */
static void
cs_child(struct rec_checksum *cs, int k, struct rec_range *r)
{
	char **row;
	int i, j;

	memset(r, 0, sizeof *r);
	r->lo = cs_key_dup(cs, k == 0 ? cs->cur.lo : cs->bounds[k - 1]);
	r->hi = cs_key_dup(cs, k == cs->nb ? cs->cur.hi : cs->bounds[k]);
	for (i = 0; i < 2; i++) {
		for (j = 0; j < cs->nrows[i] && cs->ncols[i] >= 4; j++) {
			row = cs->cells[i] + (size_t)j * (size_t)cs->ncols[i];
			if (row[0] == NULL || atoi(row[0]) != k)
				continue;
			r->n[i] = row[1] != NULL ? strtoll(row[1], NULL, 10) : 0;
			r->hash[i] = row[2] != NULL ? xstrdup(row[2]) : NULL;
			r->dups[i] = row[3] != NULL ? strtoll(row[3], NULL, 10) :
			    0;
		}
	}
}

static void
cs_push(struct rec_checksum *cs, const struct rec_range *r)
{
	if (cs->nstack == cs->capstack) {
		cs->capstack = cs->capstack == 0 ? 64 : cs->capstack * 2;
		cs->stack = xreallocarray(cs->stack, cs->capstack,
		    sizeof *cs->stack);
	}
	cs->stack[cs->nstack++] = *r;
}

/* Same rows on both sides for certain: counts and hashes equal, and no
 * key repeats (repeats pair by position: the merge must see them). */
static int
cs_equal(const struct rec_range *r)
{
	if (r->n[0] != r->n[1] || r->dups[0] != 0 || r->dups[1] != 0)
		return 0;
	if (r->n[0] == 0)
		return 1;
	return r->hash[0] != NULL && r->hash[1] != NULL &&
	    strcmp(r->hash[0], r->hash[1]) == 0;
}

/* Visit pending ranges in key order until one needs the servers. */
static void
cs_next(struct rec_checksum *cs)
{
	struct rec_range *r;
	int root;

	while (cs->nstack > 0 && !cs_over(cs)) {
		r = &cs->stack[--cs->nstack];
		root = r->lo == NULL && r->hi == NULL; /* not hashed */
		cs->checked += !root;
		if (!root && cs_equal(r)) {
			cs->m->rows[0] += r->n[0];
			cs->m->rows[1] += r->n[1];
			cs->m->matched += r->n[0];
			cs_range_free(cs, r);
			continue;
		}
		cs->differ += !root;
		cs->cur = *r;
		if (r->single || (!root && r->n[0] <= cs->threshold &&
		    r->n[1] <= cs->threshold))
			cs_fetch(cs);
		else
			cs_sample(cs);
		return;
	}
	if (cs_over(cs))
		return;
	cs->phase = CS_DONE;
	cs->cb->done(cs->arg);
}

/* Both sides stream cur's rows; the merge takes them. */
static void
cs_fetch(struct rec_checksum *cs)
{
	int i;

	cs->phase = CS_FETCH;
	for (i = 0; i < 2; i++)
		cs->before[i] = cs->m->rows[i];
	for (i = 0; i < 2 && !cs_over(cs); i++)
		cs->side[i]->ops->hash->stream_range(cs->side[i], cs->m,
		    &cs->cur);
	if (!cs_over(cs))
		cs->cb->merge(cs->arg);
}

void
rec_checksum_fetched(struct rec_checksum *cs)
{
	int i;

	if (cs->phase != CS_FETCH)
		return;
	for (i = 0; i < 2; i++)
		cs->fetched[i] += cs->m->rows[i] - cs->before[i];
	cs_range_free(cs, &cs->cur);
	cs->phase = CS_IDLE;
	cs_next(cs);
}

/*
 * Keys splitting cur in factor parts, from the side with more rows; the
 * whole key space in factor squared parts (at most REC_CHECKSUM_FIRST):
 * one pass over every row then finds ranges small enough to fetch. The
 * whole key space is split at keys of a random sample of about
 * REC_CHECKSUM_SAMPLE rows per part of the side the server estimates
 * larger (not sorting every row); the ranges do not change the result.
 */
static void
cs_sample(struct rec_checksum *cs)
{
	int s = cs->cur.n[1] > cs->cur.n[0];
	int64_t parts = cs->factor;
	double fraction = 1;

	if (cs->cur.lo == NULL && cs->cur.hi == NULL) {
		parts = parts * parts < REC_CHECKSUM_FIRST ? parts * parts :
		    REC_CHECKSUM_FIRST;
		s = cs->est[1] > cs->est[0];
		if (cs->fraction == 0 && cs->est[s] > 0)
			fraction = (double)(parts * REC_CHECKSUM_SAMPLE) /
			    (double)cs->est[s];
		cs->fraction = fraction < 1 ? fraction : 1;
		fraction = cs->fraction;
	}
	cs->phase = CS_SAMPLE;
	cs_ask(cs, s, cs->side[s]->ops->hash->sample_sql(cs->side[s], cs->m,
	    &cs->cur, parts, fraction));
}

/* The sampled keys, each after the one before and after cur's start, are
 * the bounds; none: cur is one key, fetched whole (the whole key space
 * sampled again from every row first, if a random sample was empty). */
static void
cs_on_sample(struct rec_checksum *cs)
{
	int s = cs->cells[0] == NULL, j, nk = cs->m->nkeys;
	char **prev = cs->cur.lo, **row;

	cs->bounds = xcalloc((size_t)cs->nrows[s] + 1, sizeof *cs->bounds);
	cs->nb = 0;
	for (j = 0; j < cs->nrows[s] && cs->ncols[s] == nk; j++) {
		row = cs->cells[s] + (size_t)j * (size_t)nk;
		if (prev != NULL && cs_key_same(cs, prev, row))
			continue;
		cs->bounds[cs->nb] = cs_key_dup(cs, row);
		prev = cs->bounds[cs->nb++];
	}
	cs_cells_free(cs);
	if (cs->nb == 0 && cs->cur.lo == NULL && cs->cur.hi == NULL &&
	    cs->fraction < 1) {
		cs_bounds_free(cs);
		cs->fraction = 1;
		cs_sample(cs);
		return;
	}
	if (cs->nb == 0) {
		cs_bounds_free(cs);
		cs->cur.single = 1;
		cs_fetch(cs);
		return;
	}
	cs_stats(cs);
}

/* ------------------------------------------------------------ keys */

static char **
cs_key_dup(const struct rec_checksum *cs, char *const *k)
{
	char **d;
	int i;

	if (k == NULL)
		return NULL;
	d = xcalloc((size_t)cs->m->nkeys + 1, sizeof *d);
	for (i = 0; i < cs->m->nkeys; i++)
		d[i] = k[i] != NULL ? xstrdup(k[i]) : NULL;
	return d;
}

static int
cs_key_same(const struct rec_checksum *cs, char *const *a, char *const *b)
{
	int i;

	for (i = 0; i < cs->m->nkeys; i++) {
		if ((a[i] == NULL) != (b[i] == NULL) || (a[i] != NULL &&
		    strcmp(a[i], b[i]) != 0))
			return 0;
	}
	return 1;
}

static void
cs_key_free(const struct rec_checksum *cs, char **k)
{
	int i;

	if (k == NULL)
		return;
	for (i = 0; i < cs->m->nkeys; i++)
		free(k[i]);
	free(k);
}

static void
cs_range_free(const struct rec_checksum *cs, struct rec_range *r)
{
	cs_key_free(cs, r->lo);
	cs_key_free(cs, r->hi);
	free(r->hash[0]);
	free(r->hash[1]);
	memset(r, 0, sizeof *r);
}

static void
cs_bounds_free(struct rec_checksum *cs)
{
	int k;

	for (k = 0; cs->bounds != NULL && k < cs->nb; k++)
		cs_key_free(cs, cs->bounds[k]);
	free(cs->bounds);
	cs->bounds = NULL;
	cs->nb = 0;
}

static void
cs_cells_free(struct rec_checksum *cs)
{
	int i, k;

	for (i = 0; i < 2; i++) {
		for (k = 0; cs->cells[i] != NULL &&
		    k < cs->nrows[i] * cs->ncols[i]; k++)
			free(cs->cells[i][k]);
		free(cs->cells[i]);
		cs->cells[i] = NULL;
		cs->nrows[i] = cs->ncols[i] = 0;
	}
}

/* --------------------------------------------------------- reporting */

void
rec_checksum_progress(const struct rec_checksum *cs, struct buf *b)
{
	int64_t f = cs->fetched[0] + cs->fetched[1];

	if (cs->phase == CS_FETCH)
		f += cs->m->rows[0] - cs->before[0] + cs->m->rows[1] -
		    cs->before[1];
	buf_printf(b, "checksum: %lld ranges checked, %lld differ, %lld rows "
	    "fetched\n", (long long)cs->checked, (long long)cs->differ,
	    (long long)f);
}

void
rec_checksum_json(const struct rec_checksum *cs, struct buf *b)
{
	buf_printf(b, ",\"ranges\":{\"checked\":%lld,\"differ\":%lld},"
	    "\"fetched_rows\":[%lld,%lld]", (long long)cs->checked,
	    (long long)cs->differ, (long long)cs->fetched[0],
	    (long long)cs->fetched[1]);
}

void
rec_checksum_free(struct rec_checksum *cs)
{
	if (cs == NULL)
		return;
	cs_cells_free(cs);
	cs_bounds_free(cs);
	cs_range_free(cs, &cs->cur);
	while (cs->nstack > 0)
		cs_range_free(cs, &cs->stack[--cs->nstack]);
	free(cs->stack);
	free(cs);
}
