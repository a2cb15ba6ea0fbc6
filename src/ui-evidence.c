/*
 * ui-evidence.c - what a go at a checkpoint rests on (SPEC section 8), as
 * the console shows it over the decision prompt: one line per step it
 * needs (or per step of its evidence: list), reconcile counts and failures
 * in it; the instances of a for_each step summed up in one line, with a
 * line for each instance that did not succeed (the first few).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "ui.h"
#include "xmalloc.h"

#define UI_EVIDENCE_OUTLIERS 6 /* instances named per for_each step */

static size_t ui_evidence_lanes(struct ui *, struct engine_step **, size_t,
    size_t, struct buf *);

/* The instances of one for_each step, from v[i] on: a summary line, then
 * those that did not succeed. Returns the index after them. */
static size_t
ui_evidence_lanes(struct ui *ui, struct engine_step **v, size_t n, size_t i,
    struct buf *b)
{
	const struct rb_step *def = v[i]->def;
	size_t j, named = 0, more = 0;
	char *line;

	buf_printf(b, "  %s: ", def->id);
	ui_lanes_counts(ui, def, 0, b);
	buf_addc(b, '\n');
	for (j = i; j < n && v[j]->def == def; j++) {
		if (v[j]->state == ST_SUCCEEDED)
			continue;
		if (named++ >= UI_EVIDENCE_OUTLIERS) {
			more++;
			continue;
		}
		line = engine_evidence_line(ui->e, v[j]);
		buf_printf(b, "    %s\n", line);
		free(line);
	}
	if (more > 0)
		buf_printf(b, "    ... and %zu more\n", more);
	return j;
}

void
ui_evidence_text(struct ui *ui, struct engine_step *cp, struct buf *b)
{
	struct engine_step **v = NULL;
	size_t n = engine_evidence(ui->e, cp, &v), i = 0;
	char *line;

	if (n == 0)
		buf_adds(b, "  nothing: it needs no step\n");
	while (i < n) {
		if (v[i]->entity != NULL && v[i]->entity != cp->entity) {
			i = ui_evidence_lanes(ui, v, n, i, b);
			continue;
		}
		line = engine_evidence_line(ui->e, v[i]);
		buf_printf(b, "  %s\n", line);
		free(line);
		i++;
	}
	free(v);
}

void
ui_evidence_show(struct ui *ui, struct engine_step *cp)
{
	buf_reset(&ui->plan);
	buf_printf(&ui->plan, "a decision at %s rests on %s:\n", cp->id,
	    cp->def->nevidence > 0 ? "its evidence" : "the steps it needs");
	ui_evidence_text(ui, cp, &ui->plan);
	ui->prompt.overlay = 1;
}
