/* eta.c - the critical path through `needs`, the lanes of a for_each
 * phase scheduled on its places, and the forecast end of a run. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eta.h"
#include "xmalloc.h"

enum { V_NEW, V_OPEN, V_DONE };

/* The three walks of a group's instances: by estimates, by plan, by
 * clock. */
enum { PASS_PATH, PASS_PLAN, PASS_CLOCK };

struct eta_walk {
	struct eta_step *v;
	size_t n;
	unsigned char *seen;
	int64_t start, now;
};

/* A heap entry: ordered by key, then by member. */
struct eta_ev {
	int64_t key;
	size_t m;
};

struct eta_heap {
	struct eta_ev *v;
	size_t n;
};

/* One group's instances and the state of one pass of the simulation. */
struct eta_group {
	size_t *idx;   /* members: indexes into v, runbook order */
	size_t n;
	size_t *rfirst; /* member m's dependents in the group: */
	size_t *rdeps;  /* rdeps[rfirst[m]] .. rdeps[rfirst[m + 1]] */
	size_t *lane;   /* member m's lane: 0 .. nlanes - 1, entity order */
	size_t nlanes;
	size_t *size;   /* lane l's members */
	int parallel;
	/* one pass */
	int64_t *ready; /* no sooner than: the needs ended so far */
	size_t *left;   /* needs in the group not ended */
	int64_t *val;   /* the pass's value: path, plan path or finish */
	unsigned char *fixed; /* CLOCK: done or under way, not simulated */
	unsigned char *begun; /* started (or fixed) in this pass */
	size_t *open;   /* lane l's members not ended */
	unsigned char *holds; /* lane l holds one of the places */
	size_t *wait;   /* lane l's members ready, waiting for a place: */
	size_t *next;   /* a list through next[], SIZE_MAX-terminated */
	struct eta_heap future, lanes, events;
	size_t busy;    /* places held */
	size_t freed;   /* 1 + the member that last freed a place, 0 */
	int64_t freed_at;
};

static void eta_estimate(struct eta_step *, int64_t);
static void eta_visit(struct eta_walk *, size_t);
static void eta_mark(struct eta_step *, size_t);
static void eta_group_run(struct eta_walk *, size_t);
static void eta_group_collect(struct eta_walk *, size_t, struct eta_group *);
static void eta_group_pass(struct eta_walk *, struct eta_group *, int);
static void eta_pass_init(struct eta_walk *, struct eta_group *, int);
static void eta_pass_events(struct eta_walk *, struct eta_group *, int64_t);
static void eta_pass_start(struct eta_walk *, struct eta_group *, int,
    int64_t);
static void eta_pass_begin(struct eta_walk *, struct eta_group *, size_t,
    int, int64_t);
static void eta_pass_ready(struct eta_walk *, struct eta_group *, size_t,
    int, int64_t);
static void eta_group_lanes(struct eta_walk *, struct eta_group *);
static int eta_size_cmp(const void *, const void *);
static int64_t eta_member_dur(const struct eta_step *, int);
static int64_t eta_ext_val(const struct eta_step *, int);
static size_t eta_member_at(const struct eta_group *, size_t);
static void eta_group_free(struct eta_group *);
static void eta_heap_push(struct eta_heap *, int64_t, size_t);
static struct eta_ev eta_heap_pop(struct eta_heap *);
static int eta_ev_less(const struct eta_ev *, const struct eta_ev *);

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
 * first, then the instances simulated on `parallel` places, by estimates,
 * by plan and by clock.
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
	eta_group_pass(w, &gr, PASS_PATH);
	eta_group_pass(w, &gr, PASS_PLAN);
	eta_group_pass(w, &gr, PASS_CLOCK);
	for (k = 0; k < gr.n; k++)
		w->seen[gr.idx[k]] = V_DONE;
	eta_group_free(&gr);
}

/* The members of group g and who needs whom among them. */
static void
eta_group_collect(struct eta_walk *w, size_t g, struct eta_group *gr)
{
	const struct eta_step *s;
	size_t i, k, j;

	memset(gr, 0, sizeof *gr);
	gr->idx = xcalloc(w->n, sizeof *gr->idx);
	for (i = 0; i < w->n; i++)
		if (w->v[i].group == g)
			gr->idx[gr->n++] = i;
	gr->parallel = w->v[gr->idx[0]].parallel < 1 ? 1
	    : w->v[gr->idx[0]].parallel;
	gr->rfirst = xcalloc(gr->n + 1, sizeof *gr->rfirst);
	for (i = 0; i < gr->n; i++) { /* count, then place (counting sort) */
		s = &w->v[gr->idx[i]];
		for (k = 0; k < s->ndeps; k++)
			if ((j = eta_member_at(gr, s->deps[k])) < gr->n)
				gr->rfirst[j + 1]++;
	}
	for (i = 0; i < gr->n; i++)
		gr->rfirst[i + 1] += gr->rfirst[i];
	gr->rdeps = xcalloc(gr->rfirst[gr->n] + 1, sizeof *gr->rdeps);
	gr->left = xcalloc(gr->n, sizeof *gr->left); /* next free place */
	for (i = 0; i < gr->n; i++) {
		s = &w->v[gr->idx[i]];
		for (k = 0; k < s->ndeps; k++)
			if ((j = eta_member_at(gr, s->deps[k])) < gr->n)
				gr->rdeps[gr->rfirst[j] + gr->left[j]++] = i;
	}
	gr->ready = xcalloc(gr->n, sizeof *gr->ready);
	gr->val = xcalloc(gr->n, sizeof *gr->val);
	gr->fixed = xcalloc(gr->n, 1);
	gr->begun = xcalloc(gr->n, 1);
	gr->next = xcalloc(gr->n, sizeof *gr->next);
	eta_group_lanes(w, gr);
}

static int
eta_size_cmp(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

/* Number the group's lanes 0 .. nlanes - 1 in the order of their `lane`
 * values (the order of entities) and count their members. */
static void
eta_group_lanes(struct eta_walk *w, struct eta_group *gr)
{
	size_t *keys = xcalloc(gr->n, sizeof *keys), i, *at;

	for (i = 0; i < gr->n; i++)
		keys[i] = w->v[gr->idx[i]].lane;
	qsort(keys, gr->n, sizeof *keys, eta_size_cmp);
	for (i = 0; i < gr->n; i++)
		if (gr->nlanes == 0 || keys[gr->nlanes - 1] != keys[i])
			keys[gr->nlanes++] = keys[i];
	gr->lane = xcalloc(gr->n, sizeof *gr->lane);
	gr->size = xcalloc(gr->nlanes, sizeof *gr->size);
	for (i = 0; i < gr->n; i++) {
		at = bsearch(&w->v[gr->idx[i]].lane, keys, gr->nlanes,
		    sizeof *keys, eta_size_cmp);
		gr->lane[i] = (size_t)(at - keys);
		gr->size[gr->lane[i]]++;
	}
	gr->open = xcalloc(gr->nlanes, sizeof *gr->open);
	gr->holds = xcalloc(gr->nlanes, 1);
	gr->wait = xcalloc(gr->nlanes, sizeof *gr->wait);
	free(keys);
}

/*
 * One pass of the simulation, as the engine runs instances: a lane (an
 * entity) takes one of the `parallel` places when its first instance may
 * start and keeps it until all its instances have ended, waiting for a
 * person included; free places go to the lanes that wait, in the order of
 * entities; a lane holding a place starts each instance as soon as its
 * needs have ended.
 */
static void
eta_group_pass(struct eta_walk *w, struct eta_group *gr, int pass)
{
	int64_t t = pass == PASS_CLOCK ? w->now : 0, nt;
	size_t i;

	eta_pass_init(w, gr, pass);
	for (;;) {
		eta_pass_events(w, gr, t);
		while (gr->future.n > 0 && gr->future.v[0].key <= t)
			eta_pass_ready(w, gr, eta_heap_pop(&gr->future).m, pass,
			    t);
		eta_pass_start(w, gr, pass, t);
		if (gr->events.n == 0 && gr->future.n == 0)
			break;
		nt = gr->events.n > 0 ? gr->events.v[0].key : INT64_MAX;
		if (gr->future.n > 0 && gr->future.v[0].key < nt)
			nt = gr->future.v[0].key;
		t = nt > t ? nt : t;
	}
	for (i = 0; i < gr->n; i++) {
		if (!gr->begun[i]) /* a cycle in the group: cut it */
			gr->val[i] = gr->ready[i] + eta_member_dur(
			    &w->v[gr->idx[i]], pass);
		if (pass == PASS_PATH)
			w->v[gr->idx[i]].path = gr->val[i];
		else if (pass == PASS_PLAN)
			w->v[gr->idx[i]].plan_path = gr->val[i];
		else
			w->v[gr->idx[i]].finish = gr->val[i];
	}
	free(gr->future.v);
	free(gr->lanes.v);
	free(gr->events.v);
	gr->future = gr->lanes = gr->events = (struct eta_heap){ NULL, 0 };
}

/* Each member's needs outside the group, the needs left inside it; by
 * clock, what is done or under way is placed as it is, and a lane with an
 * instance done or under way but not all done holds its place. */
static void
eta_pass_init(struct eta_walk *w, struct eta_group *gr, int pass)
{
	const struct eta_step *s, *d;
	size_t i, k, *ndone = xcalloc(gr->nlanes, sizeof *ndone);
	int64_t x;

	gr->busy = gr->freed = 0;
	for (k = 0; k < gr->nlanes; k++) {
		gr->open[k] = gr->size[k];
		gr->holds[k] = 0;
		gr->wait[k] = SIZE_MAX;
	}
	for (i = 0; i < gr->n; i++) {
		s = &w->v[gr->idx[i]];
		gr->left[i] = 0;
		gr->ready[i] = pass == PASS_CLOCK ? w->now : 0;
		gr->fixed[i] = gr->begun[i] =
		    pass == PASS_CLOCK && (s->done || s->active);
		for (k = 0; k < s->ndeps; k++) {
			if (s->deps[k] >= w->n)
				continue;
			d = &w->v[s->deps[k]];
			if (eta_member_at(gr, s->deps[k]) < gr->n)
				gr->left[i]++;
			else if (w->seen[s->deps[k]] == V_DONE &&
			    (x = eta_ext_val(d, pass)) > gr->ready[i])
				gr->ready[i] = x;
		}
		if (!gr->fixed[i])
			continue;
		gr->val[i] = s->done ? (s->end >= 0 ? s->end : w->now)
		    : s->start >= 0 ? s->start + s->estimate
		                    : w->now + s->estimate;
		ndone[gr->lane[i]] += s->done;
		if (!gr->holds[gr->lane[i]]) {
			gr->holds[gr->lane[i]] = 1;
			gr->busy++;
		}
		eta_heap_push(&gr->events, gr->val[i], i);
	}
	for (k = 0; k < gr->nlanes; k++)
		if (gr->holds[k] && ndone[k] == gr->size[k]) {
			gr->holds[k] = 0; /* finished: no place */
			gr->busy--;
		}
	free(ndone);
	for (i = 0; i < gr->n; i++)
		if (!gr->fixed[i] && gr->left[i] == 0)
			eta_heap_push(&gr->future, gr->ready[i], i);
}

/* End what ends by t: a lane whose last instance ended frees its place;
 * release what needs it. */
static void
eta_pass_events(struct eta_walk *w, struct eta_group *gr, int64_t t)
{
	struct eta_ev ev;
	size_t k, d, l;

	(void)w;
	while (gr->events.n > 0 && gr->events.v[0].key <= t) {
		ev = eta_heap_pop(&gr->events);
		l = gr->lane[ev.m];
		if (--gr->open[l] == 0 && gr->holds[l]) {
			gr->holds[l] = 0;
			gr->busy--;
			gr->freed = 1 + gr->idx[ev.m];
			gr->freed_at = ev.key;
		}
		for (k = gr->rfirst[ev.m]; k < gr->rfirst[ev.m + 1]; k++) {
			d = gr->rdeps[k];
			if (gr->val[ev.m] > gr->ready[d])
				gr->ready[d] = gr->val[ev.m];
			if (--gr->left[d] == 0 && !gr->fixed[d])
				eta_heap_push(&gr->future, gr->ready[d], d);
		}
	}
}

/* Member i may start at t: at once if its lane holds a place, else it
 * waits with its lane for one. */
static void
eta_pass_ready(struct eta_walk *w, struct eta_group *gr, size_t i, int pass,
    int64_t t)
{
	size_t l = gr->lane[i];

	if (gr->holds[l]) {
		eta_pass_begin(w, gr, i, pass, t);
		return;
	}
	if (gr->wait[l] == SIZE_MAX)
		eta_heap_push(&gr->lanes, (int64_t)l, l);
	gr->next[i] = gr->wait[l];
	gr->wait[l] = i;
}

/* Give the free places at t to the lanes that wait, in the order of
 * entities, and start what waited in them. */
static void
eta_pass_start(struct eta_walk *w, struct eta_group *gr, int pass, int64_t t)
{
	size_t l, i;

	while (gr->lanes.n > 0 && gr->busy < (size_t)gr->parallel) {
		l = eta_heap_pop(&gr->lanes).m;
		gr->holds[l] = 1;
		gr->busy++;
		for (i = gr->wait[l]; i != SIZE_MAX; i = gr->next[i]) {
			if (pass == PASS_PATH && gr->ready[i] < t &&
			    gr->freed != 0 && gr->freed_at == t)
				w->v[gr->idx[i]].after = gr->freed;
			eta_pass_begin(w, gr, i, pass, t);
		}
		gr->wait[l] = SIZE_MAX;
	}
}

/* Member i starts at t. */
static void
eta_pass_begin(struct eta_walk *w, struct eta_group *gr, size_t i, int pass,
    int64_t t)
{
	gr->val[i] = t + eta_member_dur(&w->v[gr->idx[i]], pass);
	gr->begun[i] = 1;
	eta_heap_push(&gr->events, gr->val[i], i);
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
	free(gr->rfirst);
	free(gr->rdeps);
	free(gr->ready);
	free(gr->left);
	free(gr->val);
	free(gr->fixed);
	free(gr->begun);
	free(gr->next);
	free(gr->lane);
	free(gr->size);
	free(gr->open);
	free(gr->holds);
	free(gr->wait);
}

static int
eta_ev_less(const struct eta_ev *a, const struct eta_ev *b)
{
	return a->key < b->key || (a->key == b->key && a->m < b->m);
}

static void
eta_heap_push(struct eta_heap *h, int64_t key, size_t m)
{
	struct eta_ev x = { key, m }, t;
	size_t i = h->n++, p;

	h->v = xreallocarray(h->v, h->n, sizeof *h->v);
	h->v[i] = x;
	while (i > 0 && eta_ev_less(&h->v[i], &h->v[p = (i - 1) / 2])) {
		t = h->v[p];
		h->v[p] = h->v[i];
		h->v[i] = t;
		i = p;
	}
}

/* The least entry, removed (the heap must not be empty). */
static struct eta_ev
eta_heap_pop(struct eta_heap *h)
{
	struct eta_ev top = h->v[0], t;
	size_t i = 0, c;

	h->v[0] = h->v[--h->n];
	for (;;) {
		c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && eta_ev_less(&h->v[c + 1], &h->v[c]))
			c++;
		if (!eta_ev_less(&h->v[c], &h->v[i]))
			break;
		t = h->v[c];
		h->v[c] = h->v[i];
		h->v[i] = t;
		i = c;
	}
	return top;
}

/* Mark the chain that ends at step i, following the longest need (or the
 * instance that finished the lane that freed the place its lane waited
 * for). */
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
