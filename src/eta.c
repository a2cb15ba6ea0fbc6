/* eta.c - the critical path through `needs`, lanes list-scheduled, and the
 * forecast end of a run. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "eta.h"
#include "xmalloc.h"

enum { V_NEW, V_OPEN, V_DONE };

/* The three walks of a group's lanes: by estimates, by plan, by clock. */
enum { PASS_PATH, PASS_PLAN, PASS_CLOCK, PASS_N };

struct eta_walk {
	struct eta_step *v;
	size_t n;
	unsigned char *seen;
	int64_t start, now;
};

/* The instances of one group, lane by lane. */
struct eta_group {
	size_t *idx;     /* members, runbook order */
	size_t n;
	size_t *lane_of; /* per member: its lane, 0-based in first-seen order */
	size_t *order;   /* lanes in the order they take slots */
	size_t *first;   /* lane k's members: by[first[k]] .. by[first[k+1]] */
	size_t *by;      /* members (positions in idx) grouped by lane */
	size_t nlanes;
	int64_t *lane_start; /* earliest start of a lane's members, -1 */
	unsigned char *lseen; /* per member, during one lane's walk */
	int64_t *val;         /* per member: this pass's value */
	int parallel;
};

static void eta_estimate(struct eta_step *, int64_t);
static void eta_visit(struct eta_walk *, size_t);
static void eta_mark(struct eta_step *, size_t);
static void eta_group_run(struct eta_walk *, size_t);
static void eta_group_collect(struct eta_walk *, size_t, struct eta_group *);
static void eta_group_order(struct eta_walk *, struct eta_group *);
static void eta_group_pass(struct eta_walk *, struct eta_group *, int);
static int64_t eta_lane_visit(struct eta_walk *, struct eta_group *, size_t,
    int, int64_t);
static int64_t eta_member_dur(const struct eta_step *, int);
static int64_t eta_ext_val(const struct eta_step *, int);
static size_t eta_member_at(const struct eta_group *, size_t);
static void eta_group_free(struct eta_group *);

static const char *eta_sources[] = { "none", "actual", "rehearsal",
	"planned", "median" };

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
	} else if (s->group != 0 && s->median >= 0) {
		s->estimate = s->median;
		s->source = ETA_MEDIAN;
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
	if (s->group != 0) {
		eta_group_run(w, s->group);
		return;
	}
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
	s->after = 0;
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

/*
 * Work out every instance of group g at once: its needs outside the group
 * first, then the lanes scheduled on `parallel` slots, by estimates, by
 * plan and by clock.
 */
static void
eta_group_run(struct eta_walk *w, size_t g)
{
	struct eta_group gr;
	size_t k, j, m;
	struct eta_step *s;

	eta_group_collect(w, g, &gr);
	for (k = 0; k < gr.n; k++)
		w->seen[gr.idx[k]] = V_OPEN;
	for (k = 0; k < gr.n; k++) {
		s = &w->v[gr.idx[k]];
		for (j = 0; j < s->ndeps; j++) {
			m = s->deps[j];
			if (m < w->n && w->v[m].group != g)
				eta_visit(w, m);
		}
		eta_estimate(s, w->now);
		s->after = 0;
	}
	eta_group_order(w, &gr);
	eta_group_pass(w, &gr, PASS_PATH);
	eta_group_pass(w, &gr, PASS_PLAN);
	eta_group_pass(w, &gr, PASS_CLOCK);
	for (k = 0; k < gr.n; k++)
		w->seen[gr.idx[k]] = V_DONE;
	eta_group_free(&gr);
}

/* The members of group g and their lanes, in first-seen order. */
static void
eta_group_collect(struct eta_walk *w, size_t g, struct eta_group *gr)
{
	size_t i, k, *lanes;

	memset(gr, 0, sizeof *gr);
	gr->idx = xcalloc(w->n, sizeof *gr->idx);
	for (i = 0; i < w->n; i++)
		if (w->v[i].group == g)
			gr->idx[gr->n++] = i;
	gr->lane_of = xcalloc(gr->n, sizeof *gr->lane_of);
	lanes = xcalloc(gr->n, sizeof *lanes); /* lane keys */
	for (i = 0; i < gr->n; i++) {
		for (k = 0; k < gr->nlanes; k++)
			if (lanes[k] == w->v[gr->idx[i]].lane)
				break;
		if (k == gr->nlanes)
			lanes[gr->nlanes++] = w->v[gr->idx[i]].lane;
		gr->lane_of[i] = k;
	}
	free(lanes);
	gr->parallel = w->v[gr->idx[0]].parallel;
	if (gr->parallel < 1)
		gr->parallel = 1;
	gr->first = xcalloc(gr->nlanes + 1, sizeof *gr->first);
	gr->by = xcalloc(gr->n, sizeof *gr->by);
	for (i = 0; i < gr->n; i++)
		gr->first[gr->lane_of[i] + 1]++;
	for (k = 0; k < gr->nlanes; k++)
		gr->first[k + 1] += gr->first[k];
	for (i = 0; i < gr->n; i++)
		gr->by[gr->first[gr->lane_of[i]]++] = i;
	for (k = gr->nlanes; k > 0; k--) /* back to the starts */
		gr->first[k] = gr->first[k - 1];
	gr->first[0] = 0;
	gr->order = xcalloc(gr->nlanes, sizeof *gr->order);
	gr->lane_start = xcalloc(gr->nlanes, sizeof *gr->lane_start);
	gr->lseen = xcalloc(gr->n, 1);
	gr->val = xcalloc(gr->n, sizeof *gr->val);
}

/* Lanes begun first, in the order they began; then the rest in entity
 * order. */
static void
eta_group_order(struct eta_walk *w, struct eta_group *gr)
{
	const struct eta_step *s;
	size_t i, k, t, no = 0;
	int64_t st;

	for (k = 0; k < gr->nlanes; k++)
		gr->lane_start[k] = -1;
	for (i = 0; i < gr->n; i++) {
		s = &w->v[gr->idx[i]];
		st = s->start;
		k = gr->lane_of[i];
		if (st >= 0 && (gr->lane_start[k] < 0 || st < gr->lane_start[k]))
			gr->lane_start[k] = st;
	}
	for (k = 0; k < gr->nlanes; k++) {
		if (gr->lane_start[k] < 0)
			continue;
		/* insertion by start time, stable */
		for (t = no; t > 0 &&
		     gr->lane_start[gr->order[t - 1]] > gr->lane_start[k]; t--)
			gr->order[t] = gr->order[t - 1];
		gr->order[t] = k;
		no++;
	}
	for (k = 0; k < gr->nlanes; k++)
		if (gr->lane_start[k] < 0)
			gr->order[no++] = k;
}

/*
 * One list-scheduling pass over a group's lanes: each lane takes the slot
 * that frees first and its members are worked out from there; the slot is
 * busy until the lane's last member ends.
 */
static void
eta_group_pass(struct eta_walk *w, struct eta_group *gr, int pass)
{
	size_t nslots = (size_t)gr->parallel, k, t, best, lane, i, j, endm;
	int64_t *slots = xcalloc(nslots, sizeof *slots), from, end, e;
	size_t *last = xcalloc(nslots, sizeof *last); /* 1 + member, 0 */

	for (k = 0; k < nslots; k++)
		slots[k] = pass == PASS_CLOCK ? w->start : 0;
	for (t = 0; t < gr->nlanes; t++) {
		lane = gr->order[t];
		for (best = 0, k = 1; k < nslots; k++)
			if (slots[k] < slots[best])
				best = k;
		from = slots[best];
		if (pass == PASS_CLOCK)
			from = gr->lane_start[lane] >= 0 ? gr->lane_start[lane]
			    : from > w->now ? from : w->now;
		for (j = gr->first[lane]; j < gr->first[lane + 1]; j++)
			gr->lseen[gr->by[j]] = V_NEW;
		end = from;
		endm = gr->by[gr->first[lane]];
		for (j = gr->first[lane]; j < gr->first[lane + 1]; j++) {
			i = gr->by[j];
			e = eta_lane_visit(w, gr, i, pass, from);
			if (pass == PASS_PATH && last[best] != 0 && from > 0 &&
			    gr->val[i] - w->v[gr->idx[i]].estimate == from)
				w->v[gr->idx[i]].after = last[best];
			if (e >= end) {
				end = e;
				endm = i;
			}
		}
		if (end >= slots[best]) {
			slots[best] = end;
			last[best] = 1 + gr->idx[endm];
		}
	}
	free(slots);
	free(last);
}

/* The value of member i of a lane in a pass (its path, plan path or
 * finish), after its needs in the lane, starting no sooner than from. */
static int64_t
eta_lane_visit(struct eta_walk *w, struct eta_group *gr, size_t i, int pass,
    int64_t from)
{
	struct eta_step *s = &w->v[gr->idx[i]], *d;
	int64_t base = from, x;
	size_t k, m, j;

	if (gr->lseen[i] == V_DONE || gr->lseen[i] == V_OPEN)
		return gr->lseen[i] == V_DONE ? gr->val[i] : from;
	gr->lseen[i] = V_OPEN;
	for (k = 0; k < s->ndeps; k++) {
		if ((m = s->deps[k]) >= w->n)
			continue;
		d = &w->v[m];
		if (d->group == s->group && (j = eta_member_at(gr, m)) < gr->n)
			x = gr->lane_of[j] == gr->lane_of[i]
			    ? eta_lane_visit(w, gr, j, pass, from)
			    : eta_ext_val(d, pass);
		else if (w->seen[m] == V_DONE)
			x = eta_ext_val(d, pass);
		else
			continue;
		if (x > base)
			base = x;
	}
	if (pass == PASS_CLOCK) {
		if (s->done && s->end >= 0)
			x = s->end;
		else if (s->active && s->start >= 0)
			x = s->start + s->estimate;
		else
			x = (base > w->now ? base : w->now) + s->estimate;
		s->finish = x;
	} else {
		x = base + eta_member_dur(s, pass);
		if (pass == PASS_PATH)
			s->path = x;
		else
			s->plan_path = x;
	}
	gr->val[i] = x;
	gr->lseen[i] = V_DONE;
	return x;
}

/* A member's duration in a pass. */
static int64_t
eta_member_dur(const struct eta_step *s, int pass)
{
	if (pass == PASS_PLAN)
		return s->planned > 0 ? s->planned : 0;
	return s->estimate;
}

/* The value of a step already worked out, in a pass. */
static int64_t
eta_ext_val(const struct eta_step *d, int pass)
{
	return pass == PASS_PATH ? d->path
	    : pass == PASS_PLAN  ? d->plan_path : d->finish;
}

/* The place of step m among the group's members (they are sorted), or
 * gr->n. */
static size_t
eta_member_at(const struct eta_group *gr, size_t m)
{
	size_t lo = 0, hi = gr->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (gr->idx[mid] < m)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < gr->n && gr->idx[lo] == m ? lo : gr->n;
}

static void
eta_group_free(struct eta_group *gr)
{
	free(gr->idx);
	free(gr->lane_of);
	free(gr->order);
	free(gr->first);
	free(gr->by);
	free(gr->lane_start);
	free(gr->lseen);
	free(gr->val);
}

/* Mark the chain that ends at step i, following the longest need (or the
 * lane that held the slot its lane waited for). */
static void
eta_mark(struct eta_step *v, size_t i)
{
	struct eta_step *s = &v[i];
	size_t k, best, c;
	int found;

	for (;;) {
		s->critical = 1;
		found = 0;
		best = 0;
		for (k = 0; k <= s->ndeps; k++) {
			if (k == s->ndeps && s->after == 0)
				break;
			c = k < s->ndeps ? s->deps[k] : s->after - 1;
			if (v[c].critical)
				continue;
			if (!found || v[c].path > v[best].path) {
				best = c;
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

int64_t
eta_plan_within(const struct eta_step *v, size_t n, const unsigned char *mask)
{
	size_t *map = xcalloc(n ? n : 1, sizeof *map), m = 0, i, k;
	struct eta_step *sub;
	size_t *deps;
	struct eta e;

	for (i = 0; i < n; i++)
		map[i] = mask[i] ? m++ : n;
	sub = xcalloc(m ? m : 1, sizeof *sub);
	for (i = 0; i < n; i++) {
		if (!mask[i])
			continue;
		sub[map[i]] = v[i];
		deps = xcalloc(v[i].ndeps ? v[i].ndeps : 1, sizeof *deps);
		sub[map[i]].ndeps = 0;
		for (k = 0; k < v[i].ndeps; k++)
			if (v[i].deps[k] < n && map[v[i].deps[k]] < n)
				deps[sub[map[i]].ndeps++] = map[v[i].deps[k]];
		sub[map[i]].deps = deps;
	}
	eta_compute(sub, m, 0, 0, &e);
	for (i = 0; i < m; i++)
		free((size_t *)sub[i].deps);
	free(sub);
	free(map);
	return m > 0 ? e.plan_ms : 0;
}
