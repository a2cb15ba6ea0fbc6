/*
 * report-html.h - what the parts of the HTML report share (report-html.c,
 * report-html-lanes.c): text escaped for a terminal (escape.h) then for
 * XML, table cells, and the sections on entities, waves, checkpoint
 * evidence and lanes compared.
 */
#ifndef CUTOVER_REPORT_HTML_H
#define CUTOVER_REPORT_HTML_H

#include "buf.h"
#include "report.h"

/* s escaped (NULL appends nothing). */
void report_html_text(struct buf *, const char *s);
/* <td>s</td>, "-" when empty; report_html_ncell right-aligns a number. */
void report_html_cell(struct buf *, const char *s);
void report_html_ncell(struct buf *, const char *s);

/* Sections, each whole (<section>...</section>) or nothing when the run
 * has no lanes. */
void report_html_evidence(struct buf *, struct report_run *);
void report_html_waves(struct buf *, struct report_run *);
void report_html_entities(struct buf *, struct report_run *);
void report_html_lanes_compare(struct buf *, struct report_run *,
    struct report_run *);

#endif
