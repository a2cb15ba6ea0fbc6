/*
 * report-table.h - the report's tables, built once and written in any
 * format. A table here says which rows and cells it has; a format (a
 * struct report_table_fmt: Markdown in report-md.c, HTML in report-html.c)
 * says how a heading, a row and a cell look. Adding a format is a new
 * table row of these, not another copy of each table.
 */
#ifndef CUTOVER_REPORT_TABLE_H
#define CUTOVER_REPORT_TABLE_H

#include <stddef.h>

#include "buf.h"
#include "report.h"

/* How a format writes a table. Cells come as text (NULL or empty: the
 * format's "-"); num: a number's cell (right-aligned where the format can). */
struct report_table_fmt {
	void (*head)(struct buf *, const char *const *heads, size_t n);
	void (*row_begin)(struct buf *);
	void (*cell)(struct buf *, const char *s, int num);
	/* A cell marked with cls (HTML: its CSS class; Markdown: plain). */
	void (*mark)(struct buf *, const char *s, const char *cls);
	void (*row_end)(struct buf *);
	void (*end)(struct buf *);
};

extern const struct report_table_fmt report_table_md;
extern const struct report_table_fmt report_table_html;

/* The rollbacks operators asked for (at, by, what, step, details);
 * nothing when none was. Returns how many. */
int report_table_rollback_acts(struct buf *, const struct report_table_fmt *,
    struct report_run *r);
/* The rollback actions that ran (step, attempt, outcome, at, took), or
 * nothing when none ran. */
void report_table_rollback_steps(struct buf *, const struct report_table_fmt *,
    struct report_run *r);
/* The go/no-go decisions (checkpoint, decision, by, at, reason), or
 * nothing when none was made. Returns how many. */
int report_table_gonogo(struct buf *, const struct report_table_fmt *,
    struct report_run *r);
/* The run's entities (entity, wave, title, state, instances, duration,
 * failures, exclusion); nothing without any. */
void report_table_entities(struct buf *, const struct report_table_fmt *,
    struct report_run *r);
/* Each phase planned against actual, and with a run to compare (cmp, or
 * NULL), that run's actual and the difference. */
void report_table_phases(struct buf *, const struct report_table_fmt *,
    struct report_run *r, struct report_run *cmp);
/* Every operator act (at, step, operator, action, outcome, why), or
 * nothing when there is none. */
void report_table_acts(struct buf *, const struct report_table_fmt *,
    struct report_run *r);
/* With a run to compare (cmp), per step of a for_each phase: its median
 * and slowest entity in r and in cmp, and the medians' difference. */
void report_table_lanes_compare(struct buf *,
    const struct report_table_fmt *, struct report_run *r,
    struct report_run *cmp);

#endif
