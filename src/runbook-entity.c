/*
 * runbook-entity.c - the entities of a runbook: the list they are kept in,
 * and entities: {file: PATH}, a CSV file (csv.h) of one entity a record
 * under a header row. Errors in the file are reported at their place in it
 * (FILE:LINE:COL with the file's own path); an error in reading it at the
 * file: key of the runbook.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "runbook-int.h"
#include "runbook.h"
#include "xmalloc.h"

#define ID_CHARSET "[a-z0-9][a-z0-9._-]*"
#define NAME_CHARSET "[A-Za-z0-9_][A-Za-z0-9_.-]*"

/* The reading of an entities file. */
struct rb_csv {
	struct rb_ctx *ctx;
	char **names;   /* column names of the header, in the pool */
	size_t ncols;
	size_t col_id, col_wave, col_title; /* SIZE_MAX: no such column */
	int header;     /* the header was read */
};

static char *rb_csv_path(const char *, const char *);
static int rb_csv_header(struct rb_csv *, const struct csv_field *, size_t);
static int rb_csv_column(struct rb_csv *, const struct csv_field *, size_t);
static int rb_csv_entity(struct rb_csv *, const struct csv_field *, size_t);
static int rb_csv_row(const struct csv_field *, size_t, void *);
static struct rb_pos rb_csv_pos(const struct csv_field *);

struct rb_entity *
rb_entity_new(struct rb_ctx *ctx, struct rb_pos pos)
{
	struct runbook *rb = ctx->rb;
	struct rb_entity *e;

	if (rb->nentities == RUNBOOK_MAX_ENTITIES) {
		if (!ctx->too_many) {
			rb_error(ctx, pos, "more than %d entities",
			    RUNBOOK_MAX_ENTITIES);
		}
		ctx->too_many = 1;
		return NULL;
	}
	if (rb->nentities == ctx->entitycap) {
		ctx->entitycap = ctx->entitycap ? ctx->entitycap * 2 : 64;
		rb->entities = xreallocarray(rb->entities, ctx->entitycap,
		    sizeof *rb->entities);
		ctx->wave_pos = xreallocarray(ctx->wave_pos, ctx->entitycap,
		    sizeof *ctx->wave_pos);
	}
	e = &rb->entities[rb->nentities];
	memset(e, 0, sizeof *e);
	memset(&ctx->wave_pos[rb->nentities], 0, sizeof *ctx->wave_pos);
	e->index = rb->nentities++;
	e->pos = pos;
	return e;
}

/* The path of file, relative to the directory of the runbook. */
static char *
rb_csv_path(const char *runbook, const char *file)
{
	const char *slash = strrchr(runbook, '/');
	char *path;

	if (file[0] == '/' || slash == NULL)
		return xstrdup(file);
	xasprintf(&path, "%.*s/%s", (int)(slash - runbook), runbook, file);
	return path;
}

static struct rb_pos
rb_csv_pos(const struct csv_field *f)
{
	struct rb_pos pos = { f->line, f->col };

	return pos;
}

/* One column name of the header; -1 if it is not a valid one. */
static int
rb_csv_column(struct rb_csv *c, const struct csv_field *f, size_t i)
{
	struct rb_ctx *ctx = c->ctx;
	size_t j;

	if (f->len == 0) {
		rb_error(ctx, rb_csv_pos(f), "column %zu has no name", i + 1);
		return -1;
	}
	if (!rb_valid_name(f->value)) {
		rb_error(ctx, rb_csv_pos(f), "invalid column name '%s' (use "
		    NAME_CHARSET ")", rb_short(f->value));
		return -1;
	}
	for (j = 0; j < i; j++) {
		if (c->names[j] != NULL && strcmp(c->names[j], f->value) == 0) {
			rb_error(ctx, rb_csv_pos(f), "duplicate column '%s' "
			    "(first in column %zu)", rb_short(f->value), j + 1);
			return -1;
		}
	}
	c->names[i] = rb_pool_strdup(ctx->rb, f->value);
	if (strcmp(f->value, "id") == 0)
		c->col_id = i;
	else if (strcmp(f->value, "wave") == 0)
		c->col_wave = i;
	else if (strcmp(f->value, "title") == 0)
		c->col_title = i;
	return 0;
}

/* The header row; non-zero stops the reading (reported). */
static int
rb_csv_header(struct rb_csv *c, const struct csv_field *f, size_t n)
{
	size_t i;
	int bad = 0;

	c->header = 1;
	c->ncols = n;
	c->names = rb_pool_calloc(c->ctx->rb, n, sizeof *c->names);
	for (i = 0; i < n; i++) {
		if (rb_csv_column(c, &f[i], i) != 0)
			bad = 1;
	}
	if (c->col_id == SIZE_MAX) {
		rb_error(c->ctx, rb_csv_pos(&f[0]), "the header has no 'id' "
		    "column (the first row names the columns)");
		bad = 1;
	}
	return bad;
}

/* One entity from a record of the file; non-zero stops the reading. */
static int
rb_csv_entity(struct rb_csv *c, const struct csv_field *f, size_t n)
{
	struct rb_ctx *ctx = c->ctx;
	const struct csv_field *id = &f[c->col_id];
	struct rb_entity *e;
	size_t i;

	if (n != c->ncols) {
		rb_error(ctx, rb_csv_pos(&f[0]), "a row of %zu fields; the "
		    "header has %zu", n, c->ncols);
		return 0;
	}
	if (id->len == 0) {
		rb_error(ctx, rb_csv_pos(id), "the row has no id");
		return 0;
	}
	if (!rb_valid_id(id->value)) {
		rb_error(ctx, rb_csv_pos(id), "'%s' is not a valid entity id "
		    "(use " ID_CHARSET ")", rb_short(id->value));
		return 0;
	}
	if ((e = rb_entity_new(ctx, rb_csv_pos(id))) == NULL)
		return 1;
	e->id = rb_pool_strdup(ctx->rb, id->value);
	e->vars = rb_pool_calloc(ctx->rb, n, sizeof *e->vars);
	for (i = 0; i < n; i++) {
		if (i == c->col_id)
			continue;
		if (i == c->col_wave && f[i].len > 0) {
			e->wave = rb_pool_strdup(ctx->rb, f[i].value);
			ctx->wave_pos[e->index] = rb_csv_pos(&f[i]);
			if (!rb_valid_id(e->wave)) {
				rb_error(ctx, rb_csv_pos(&f[i]), "'%s' is not "
				    "a valid wave (use " ID_CHARSET ")",
				    rb_short(e->wave));
			}
		} else if (i == c->col_title && f[i].len > 0)
			e->title = rb_pool_strdup(ctx->rb, f[i].value);
		else if (i != c->col_wave && i != c->col_title) {
			e->vars[e->nvars].name = c->names[i];
			e->vars[e->nvars++].value = rb_pool_strdup(ctx->rb,
			    f[i].value);
		}
	}
	return 0;
}

/* csv_parse callback: the header, then the entities. */
static int
rb_csv_row(const struct csv_field *f, size_t n, void *arg)
{
	struct rb_csv *c = arg;

	if (!c->header)
		return rb_csv_header(c, f, n);
	return rb_csv_entity(c, f, n);
}

void
rb_entities_file(struct rb_ctx *ctx, const struct rb_node *n)
{
	struct rb_csv c = { .ctx = ctx, .col_id = SIZE_MAX,
	    .col_wave = SIZE_MAX, .col_title = SIZE_MAX };
	struct rb_pos nopos = { 0, 0 };
	struct csv_error err;
	const char *file = ctx->file;
	char *path, *text;
	size_t len;

	path = rb_csv_path(ctx->rb->path, n->value);
	if (rb_read_file(path, &text, &len) != 0) {
		rb_error(ctx, n->pos, "entities: cannot read '%s': %s",
		    rb_short(n->value), strerror(errno));
		free(path);
		return;
	}
	if (len > RUNBOOK_MAX_SIZE) {
		rb_error(ctx, n->pos, "entities: '%s' is larger than 4 MiB",
		    rb_short(n->value));
		free(path);
		free(text);
		return;
	}
	ctx->rb->entities_file = rb_pool_strdup(ctx->rb, path);
	free(path);
	free(ctx->entities_text);
	ctx->entities_text = text;
	ctx->entities_len = len;
	ctx->file = ctx->rb->entities_file;
	if (csv_parse(text, len, rb_csv_row, &c, &err) == -1) {
		struct rb_pos pos = { err.line, err.col };

		rb_error(ctx, pos, "%s", err.msg);
	} else if (!c.header)
		rb_error(ctx, nopos, "the file is empty (it needs a header "
		    "row with an 'id' column)");
	ctx->file = file;
}

int
runbook_step_in_lanes(const struct runbook *rb, const struct rb_step *d)
{
	return d->phase < rb->nphases && rb->phases[d->phase].for_each;
}

int
runbook_instance_find(const struct runbook *rb, const char *id,
    struct rb_step **step, struct rb_entity **entity)
{
	char *s = NULL, *e = NULL;
	struct rb_step *d;
	struct rb_entity *en = NULL;
	int rc = -1;

	*step = NULL;
	*entity = NULL;
	if (runbook_instance_parse(id, &s, &e) < 0)
		return -1;
	d = runbook_find_step(rb, s);
	if (d != NULL && e == NULL && !runbook_step_in_lanes(rb, d))
		rc = 0;
	else if (d != NULL && e != NULL && runbook_step_in_lanes(rb, d) &&
	    (en = runbook_entity_find(rb, e)) != NULL)
		rc = 0;
	if (rc == 0) {
		*step = d;
		*entity = en;
	}
	free(s);
	free(e);
	return rc;
}
