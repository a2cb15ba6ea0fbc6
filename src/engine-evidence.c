/*
 * engine-evidence.c - what a go/no-go decision rests on (SPEC section 8):
 * the steps listed in the checkpoint's evidence:, else the steps it needs,
 * each as one line (its state, a reconcile's counts, a failure's message,
 * an exclusion's reason). A decision records the SHA-256 of those lines;
 * when they change later (a reconcile run again gives another result),
 * the go decisions taken on the old evidence no longer count: they are
 * set aside as soon as the engine sees the change (after a change of
 * states it makes or reloads), audited, so that counts of go decisions
 * never include them.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "engine-int.h"
#include "report.h"
#include "sha256.h"
#include "step-kind.h"
#include "xmalloc.h"

static void evidence_add(struct engine *, struct engine_step *,
    const struct rb_step *, struct engine_step ***, size_t *);
static void evidence_result(struct engine *, struct engine_step *,
    struct buf *);

/* Add the steps of d that cp's decision rests on: its instance for cp's
 * entity inside the same for_each phase, every instance from outside. */
static void
evidence_add(struct engine *e, struct engine_step *cp, const struct rb_step *d,
    struct engine_step ***v, size_t *n)
{
	struct engine_step *s;
	size_t k;

	if (!runbook_step_in_lanes(e->rb, d)) {
		*v = xreallocarray(*v, *n + 1, sizeof **v);
		(*v)[(*n)++] = &e->steps[e->first[d->index]];
		return;
	}
	if (cp->entity != NULL && d->phase == cp->def->phase) {
		if ((s = engine_instance(e, d, cp->entity)) != NULL) {
			*v = xreallocarray(*v, *n + 1, sizeof **v);
			(*v)[(*n)++] = s;
		}
		return;
	}
	*v = xreallocarray(*v, *n + e->nents + 1, sizeof **v);
	for (k = 0; k < e->nents; k++)
		(*v)[(*n)++] = &e->steps[e->first[d->index] + k];
}

size_t
engine_evidence(struct engine *e, struct engine_step *cp,
    struct engine_step ***out)
{
	struct engine_step **v = NULL;
	struct rb_step *d;
	size_t n = 0, i;

	if (cp->def->nevidence > 0) {
		for (i = 0; i < cp->def->nevidence; i++) {
			if ((d = runbook_find_step(e->rb,
			         cp->def->evidence[i])) != NULL)
				evidence_add(e, cp, d, &v, &n);
		}
	} else {
		for (i = 0; i < cp->ndeps; i++) {
			v = xreallocarray(v, n + 1, sizeof *v);
			v[n++] = &e->steps[cp->deps[i]];
		}
	}
	*out = v;
	return n;
}

/* ": 200 source, 199 dest, ..." of a reconcile result stored with s. */
static void
evidence_result(struct engine *e, struct engine_step *s, struct buf *b)
{
	static const char *const rows[][2] = {
		{ "source_rows", "source" }, { "dest_rows", "dest" },
		{ "missing", "missing" }, { "extra", "extra" },
		{ "changed", "changed" }, { "source_value", "source" },
		{ "dest_value", "dest" }, { "difference", "difference" },
	};
	struct step_row r;
	char v[64];
	size_t i;
	int n = 0;

	if (state_step_get(e->st, e->run.id, s->id, &r) != STATE_OK)
		return;
	for (i = 0; r.result != NULL && i < sizeof rows / sizeof rows[0]; i++) {
		if (report_result_field(r.result, rows[i][0], v, sizeof v) != 0)
			continue;
		buf_printf(b, "%s%s %s", n++ ? ", " : ": ", v, rows[i][1]);
	}
	step_row_free(&r);
}

char *
engine_evidence_line(struct engine *e, struct engine_step *s)
{
	struct buf b = { 0 };
	struct engine_entity *l = engine_lane(e, s);

	buf_printf(&b, "%s %s", s->id, step_state_name(s->state));
	if (s->def->type == STEP_RECONCILE)
		evidence_result(e, s, &b);
	if (s->state == ST_EXCLUDED || (l != NULL && l->excluded &&
	        s->state != ST_SUCCEEDED))
		buf_printf(&b, "%sentity excluded: %s", b.len ? "; " : "",
		    l != NULL && l->reason != NULL ? l->reason : "");
	else if (s->note != NULL && s->state != ST_SUCCEEDED)
		buf_printf(&b, ": %s", s->note);
	return b.data != NULL ? b.data : xstrdup("");
}

void
engine_evidence_sha(struct engine *e, struct engine_step *cp, char out[65])
{
	struct sha256_ctx *c = sha256_begin();
	struct engine_step **v = NULL;
	size_t n = engine_evidence(e, cp, &v), i;
	char *line;

	for (i = 0; i < n; i++) {
		line = engine_evidence_line(e, v[i]);
		sha256_add(c, line, strlen(line));
		sha256_add(c, "\n", 1);
		free(line);
	}
	free(v);
	sha256_end(c, out);
}

int
engine_evidence_void(struct engine *e, struct engine_step *s,
    const char *sha)
{
	char now[SHA256_HEX_LEN + 1];
	struct decision_row *v = NULL;
	size_t nv = 0, i;
	int n = 0;

	if (sha == NULL) {
		engine_evidence_sha(e, s, now);
		sha = now;
	}
	if (state_decision_list(e->st, e->run.id, s->id, &v, &nv) != STATE_OK)
		return -1;
	for (i = 0; i < nv; i++) {
		if (v[i].active && strcmp(v[i].decision, "go") == 0 &&
		    v[i].evidence != NULL && strcmp(v[i].evidence, sha) != 0)
			n++;
	}
	decision_rows_free(v, nv);
	if (n == 0)
		return 0; /* nothing to write: no fsync on every pass */
	if (engine_own(e) != 0 ||
	    engine_commit(e, state_decision_void(e->st, e->run.id, s->id, sha,
	        &n)) != STATE_OK)
		return -1;
	if (n == 0)
		return 0;
	engine_note(e, s, "decisions voided: evidence changed; decide again");
	return 1;
}

void
engine_evidence_sweep(struct engine *e)
{
	char sha[SHA256_HEX_LEN + 1];
	struct engine_step *s;
	size_t i;

	if (!e->evidence_dirty || e->nsteps == 0)
		return;
	e->evidence_dirty = 0;
	if (e->evidence_seen == NULL)
		e->evidence_seen = xcalloc(e->nsteps, sizeof *e->evidence_seen);
	for (i = 0; i < e->nsteps; i++) {
		s = &e->steps[i];
		if (!step_kind_is_gate(s->def->type) ||
		    s->state != ST_AWAITING || s->undo || s->ex != NULL)
			continue;
		engine_evidence_sha(e, s, sha);
		if (strcmp(sha, e->evidence_seen[i]) == 0)
			continue; /* looked at already: no query */
		if (engine_evidence_void(e, s, sha) >= 0)
			memcpy(e->evidence_seen[i], sha, sizeof sha);
	}
}
