/* diag.c - runbook diagnostics, collected then printed like a compiler's. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "xmalloc.h"

struct diag_sort {
	struct diag *d;
	size_t file; /* rank of the file in order of first appearance */
	size_t index;
};

static int diags_compare(const void *, const void *);
static void diags_sort(struct diags *);

void
diags_add(struct diags *d, const char *file, unsigned line, unsigned col,
    const char *fmt, ...)
{
	struct diag *e;
	va_list ap;

	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 16;
		d->v = xreallocarray(d->v, d->cap, sizeof *d->v);
	}
	e = &d->v[d->n++];
	e->file = xstrdup(file != NULL ? file : "");
	e->line = line;
	e->col = line != 0 ? col : 0;
	va_start(ap, fmt);
	xvasprintf(&e->msg, fmt, ap);
	va_end(ap);
}

/* Order by file (first appearance), line, column, then insertion order. */
static int
diags_compare(const void *a, const void *b)
{
	const struct diag_sort *x = a, *y = b;

	if (x->file != y->file)
		return x->file < y->file ? -1 : 1;
	if (x->d->line != y->d->line)
		return x->d->line < y->d->line ? -1 : 1;
	if (x->d->col != y->d->col)
		return x->d->col < y->d->col ? -1 : 1;
	if (x->index != y->index)
		return x->index < y->index ? -1 : 1;
	return 0;
}

/* Sort the diagnostics stably; qsort is made stable by the index. */
static void
diags_sort(struct diags *d)
{
	struct diag_sort *s;
	struct diag *v;
	const char **files = NULL;
	size_t nfiles = 0, i, j;

	if (d->n < 2)
		return;
	s = xcalloc(d->n, sizeof *s);
	for (i = 0; i < d->n; i++) {
		for (j = 0; j < nfiles; j++) {
			if (strcmp(files[j], d->v[i].file) == 0)
				break;
		}
		if (j == nfiles) {
			files = xreallocarray(files, nfiles + 1, sizeof *files);
			files[nfiles++] = d->v[i].file;
		}
		s[i].d = &d->v[i];
		s[i].file = j;
		s[i].index = i;
	}
	qsort(s, d->n, sizeof *s, diags_compare);
	v = xcalloc(d->cap, sizeof *v);
	for (i = 0; i < d->n; i++)
		v[i] = *s[i].d;
	free(d->v);
	d->v = v;
	free(s);
	free(files);
}

void
diags_print(struct diags *d, FILE *f)
{
	struct diag *e;
	size_t i;

	diags_sort(d);
	for (i = 0; i < d->n; i++) {
		e = &d->v[i];
		if (e->line == 0)
			fprintf(f, "%s: error: %s\n", e->file, e->msg);
		else {
			fprintf(f, "%s:%u:%u: error: %s\n", e->file, e->line,
			    e->col, e->msg);
		}
	}
}

void
diags_free(struct diags *d)
{
	size_t i;

	for (i = 0; i < d->n; i++) {
		free(d->v[i].file);
		free(d->v[i].msg);
	}
	free(d->v);
	d->v = NULL;
	d->n = d->cap = 0;
}
