/*
 * diag.h - runbook diagnostics, printed like a compiler's.
 *
 * A struct diags collects every error found in a runbook so that lint can
 * report all of them, not only the first. Lines and columns are 1-based;
 * a diagnostic with line 0 has no position and prints as "FILE: error: MSG".
 */
#ifndef CUTOVER_DIAG_H
#define CUTOVER_DIAG_H

#include <stdio.h>

struct diag {
	char *file;
	unsigned line;
	unsigned col;
	char *msg;
};

struct diags {
	struct diag *v;
	size_t n;
	size_t cap;
};

void diags_add(struct diags *, const char *file, unsigned line, unsigned col,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Sort by line and column (stable), then print "FILE:LINE:COL: error: MSG\n". */
void diags_print(struct diags *, FILE *);
void diags_free(struct diags *);

#endif
