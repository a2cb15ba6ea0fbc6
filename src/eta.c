/* eta.c - the critical path through `needs` and the forecast end of a run. */
#include "config.h"

#include <stdlib.h>

#include "eta.h"
#include "xmalloc.h"

enum { V_NEW, V_OPEN, V_DONE };

struct eta_walk {
	struct eta_step *v;
	size_t n;
	unsigned char *seen;
	int64_t start, now;
};

static void eta_estimate(struct eta_step *, int64_t);
static void eta_visit(struct eta_walk *, size_t);
static void eta_mark(struct eta_step *, size_t);
static int64_t eta_plan_visit(const struct eta_step *, const unsigned char *,
    int64_t *, unsigned char *, size_t);

static const char *eta_sources[] = { "none", "actual", "rehearsal",
	"planned" };

const char *
eta_source_name(enum eta_source s)
{
	return eta_sources[s];
}

/* The estimate of one step by the rule, and whether it runs late. */
static void
eta_estimate(struct eta_step *s, int64_t now)
{
	s->elapsed = -1;
	if (s->done) {
		s->estimate = s->actual > 0 ? s->actual : 0;
		s->source = ETA_ACTUAL;
	} else if (s->rehearsal >= 0) {
		s->estimate = s->rehearsal;
		s->source = ETA_REHEARSAL;
	} else if (s->planned >= 0) {
		s->estimate = s->planned;
		s->source = ETA_PLANNED;
	} else {
		s->estimate = 0;
		s->source = ETA_NONE;
	}
	if (s->active && s->start >= 0) {
		s->elapsed = now > s->start ? now - s->start : 0;
		if (s->elapsed > s->estimate)
			s->estimate = s->elapsed;
	}
	s->late = s->planned >= 0 &&
	    ((s->done && s->actual > s->planned) ||
	        (s->active && s->elapsed > s->planned));
}

/* Work out step i after its needs: chain lengths and forecast end. */
static void
eta_visit(struct eta_walk *w, size_t i)
{
	struct eta_step *s = &w->v[i], *d;
	int64_t path = 0, plan = 0, base = w->start;
	size_t k;

	if (w->seen[i] != V_NEW)
		return; /* done, or a cycle: cut it here */
	w->seen[i] = V_OPEN;
	for (k = 0; k < s->ndeps; k++) {
		if (s->deps[k] >= w->n)
			continue;
		eta_visit(w, s->deps[k]);
		d = &w->v[s->deps[k]];
		if (w->seen[s->deps[k]] != V_DONE)
			continue;
		if (d->path > path)
			path = d->path;
		if (d->plan_path > plan)
			plan = d->plan_path;
		if (d->finish > base)
			base = d->finish;
	}
	eta_estimate(s, w->now);
	s->path = path + s->estimate;
	s->plan_path = plan + (s->planned > 0 ? s->planned : 0);
	if (s->done && s->end >= 0)
		s->finish = s->end;
	else if (s->active && s->start >= 0)
		s->finish = s->start + s->estimate;
	else
		s->finish = (base > w->now ? base : w->now) + s->estimate;
	w->seen[i] = V_DONE;
}

/* Mark the chain that ends at step i, following the longest need. */
static void
eta_mark(struct eta_step *v, size_t i)
{
	struct eta_step *s = &v[i];
	size_t k, best;
	int found;

	for (;;) {
		s->critical = 1;
		found = 0;
		best = 0;
		for (k = 0; k < s->ndeps; k++) {
			if (v[s->deps[k]].critical)
				continue;
			if (!found || v[s->deps[k]].path > v[best].path) {
				best = s->deps[k];
				found = 1;
			}
		}
		if (!found || v[best].path + s->estimate != s->path)
			return;
		s = &v[best];
	}
}

void
eta_compute(struct eta_step *v, size_t n, int64_t start, int64_t now,
    struct eta *out)
{
	struct eta_walk w = { v, n, xcalloc(n ? n : 1, 1), start, now };
	size_t i, end = 0;

	out->start = start;
	out->now = now;
	out->path_ms = out->plan_ms = 0;
	out->finish = start > now ? start : now;
	out->planned = 0;
	out->nlate = 0;
	out->complete = 1;
	for (i = 0; i < n; i++)
		v[i].critical = 0;
	for (i = 0; i < n; i++) {
		eta_visit(&w, i);
		if (v[i].path > out->path_ms || i == 0) {
			out->path_ms = v[i].path;
			end = i;
		}
		if (v[i].plan_path > out->plan_ms)
			out->plan_ms = v[i].plan_path;
		if (v[i].finish > out->finish)
			out->finish = v[i].finish;
		out->planned |= v[i].planned >= 0;
		out->nlate += v[i].late;
		out->complete &= v[i].done;
	}
	free(w.seen);
	if (n > 0)
		eta_mark(v, end);
	out->delta_ms = out->path_ms - out->plan_ms;
	out->remaining = out->complete || out->finish < now ? 0
	                                                    : out->finish - now;
}

/* Longest planned chain ending at step i, inside the mask. */
static int64_t
eta_plan_visit(const struct eta_step *v, const unsigned char *mask,
    int64_t *memo, unsigned char *seen, size_t i)
{
	const struct eta_step *s = &v[i];
	int64_t best = 0, p;
	size_t k;

	if (seen[i] == V_DONE)
		return memo[i];
	if (seen[i] == V_OPEN)
		return 0;
	seen[i] = V_OPEN;
	for (k = 0; k < s->ndeps; k++) {
		if (!mask[s->deps[k]])
			continue;
		p = eta_plan_visit(v, mask, memo, seen, s->deps[k]);
		if (p > best)
			best = p;
	}
	memo[i] = best + (s->planned > 0 ? s->planned : 0);
	seen[i] = V_DONE;
	return memo[i];
}

int64_t
eta_plan_within(const struct eta_step *v, size_t n, const unsigned char *mask)
{
	int64_t *memo = xcalloc(n ? n : 1, sizeof *memo), best = 0, p;
	unsigned char *seen = xcalloc(n ? n : 1, 1);
	size_t i;

	for (i = 0; i < n; i++) {
		if (!mask[i])
			continue;
		p = eta_plan_visit(v, mask, memo, seen, i);
		if (p > best)
			best = p;
	}
	free(memo);
	free(seen);
	return best;
}
