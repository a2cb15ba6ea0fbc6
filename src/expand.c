/*
 * expand.c - ${var}, ${env:NAME} and $$ in runbook text fields.
 *
 * A reference is "${" then one or more characters other than '{', '}', '$'
 * and newline, then "}". Anything else after a '$' is kept as written, so
 * "${" without its "}" stays in the text.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "expand.h"
#include "odbc-connstr.h"
#include "runbook.h"
#include "xmalloc.h"

#define EXPAND_MAX_DEPTH 16

struct expand_state {
	const struct runbook *rb;
	const struct rb_entity *entity; /* of the lane, or NULL */
	const char *stack[EXPAND_MAX_DEPTH]; /* vars being expanded */
	size_t depth;
	char *err;
};

/* Where expand_add_env_ref adds the secrets it finds. */
struct expand_refs {
	const struct runbook *rb;
	char ***list;
	size_t *n;
};

static size_t expand_ref_len(const char *, size_t *);
static int expand_rec(struct expand_state *, const char *, struct buf *);
static int expand_var(struct expand_state *, const char *, size_t,
    struct buf *);
static int expand_env(struct expand_state *, const char *, size_t,
    struct buf *);
static int expand_entity(struct expand_state *, const char *, size_t,
    struct buf *);
static const struct rb_var *expand_find_var(const struct runbook *,
    const char *, size_t);
static char *expand_cycle(struct expand_state *, const char *, size_t);
static int expand_compare_len(const void *, const void *);
static void expand_add_env_ref(const char *, size_t, size_t, void *);
static void expand_add_odbc(const struct runbook *, const struct rb_target *,
    char ***, size_t *);
static void expand_add_secret(const struct runbook *, const char *, char ***,
    size_t *);

/*
 * If text starts a reference ("${name}"), return its whole length and set
 * *namelen; else return 0.
 */
static size_t
expand_ref_len(const char *text, size_t *namelen)
{
	size_t i;

	if (text[0] != '$' || text[1] != '{')
		return 0;
	for (i = 2; text[i] != '\0' && text[i] != '}'; i++) {
		if (text[i] == '{' || text[i] == '$' || text[i] == '\n')
			return 0;
	}
	if (text[i] != '}' || i == 2)
		return 0;
	*namelen = i - 2;
	return i + 1;
}

size_t
expand_scan(const char *text,
    void (*fn)(const char *name, size_t namelen, size_t offset, void *arg),
    void *arg)
{
	size_t i = 0, n = 0, len, namelen;

	if (text == NULL)
		return 0;
	while (text[i] != '\0') {
		if (text[i] != '$') {
			const char *dollar = strchr(text + i, '$');

			if (dollar == NULL)
				break;
			i = (size_t)(dollar - text);
		}
		if (text[i + 1] == '$') {
			i += 2;
			continue;
		}
		if ((len = expand_ref_len(text + i, &namelen)) == 0) {
			i++;
			continue;
		}
		if (fn != NULL)
			fn(text + i + 2, namelen, i, arg);
		n++;
		i += len;
	}
	return n;
}

/* A message naming the cycle that expanding var name would close. */
static char *
expand_cycle(struct expand_state *st, const char *name, size_t len)
{
	struct buf b = { 0 };
	size_t i, start = 0;

	for (i = 0; i < st->depth; i++) {
		if (strlen(st->stack[i]) == len &&
		    memcmp(st->stack[i], name, len) == 0) {
			start = i;
			break;
		}
	}
	buf_adds(&b, "cycle in vars: ");
	for (i = start; i < st->depth; i++)
		buf_printf(&b, "%s -> ", st->stack[i]);
	buf_add(&b, name, len);
	return buf_steal(&b);
}

/* The var named name (len bytes), or NULL. */
static const struct rb_var *
expand_find_var(const struct runbook *rb, const char *name, size_t len)
{
	size_t i;

	for (i = 0; rb != NULL && i < rb->nvars; i++) {
		if (strlen(rb->vars[i].name) == len &&
		    memcmp(rb->vars[i].name, name, len) == 0)
			return &rb->vars[i];
	}
	return NULL;
}

/* Append the value of FIELD in ${entity.FIELD} (len bytes), as it is. */
static int
expand_entity(struct expand_state *st, const char *field, size_t len,
    struct buf *out)
{
	const char *value;
	char *copy;

	if (st->entity == NULL) {
		xasprintf(&st->err, "${entity.%.*s} outside a for_each phase",
		    (int)len, field);
		return -1;
	}
	copy = xstrndup(field, len);
	value = runbook_entity_var(st->entity, copy);
	if (value == NULL) {
		xasprintf(&st->err, "entity %s has no var %s", st->entity->id,
		    copy);
		free(copy);
		return -1;
	}
	buf_adds(out, value);
	free(copy);
	return 0;
}

/* Append the expanded value of var name to out. */
static int
expand_var(struct expand_state *st, const char *name, size_t len,
    struct buf *out)
{
	const struct rb_var *v = expand_find_var(st->rb, name, len);
	size_t i;

	if (v == NULL) {
		xasprintf(&st->err, "unknown variable ${%.*s}", (int)len, name);
		return -1;
	}
	for (i = 0; i < st->depth; i++) {
		if (st->stack[i] == v->name) {
			st->err = expand_cycle(st, name, len);
			return -1;
		}
	}
	if (st->depth == EXPAND_MAX_DEPTH) {
		xasprintf(&st->err, "variables nested more than %d deep at "
		    "${%.*s}", EXPAND_MAX_DEPTH, (int)len, name);
		return -1;
	}
	st->stack[st->depth++] = v->name;
	if (expand_rec(st, v->value != NULL ? v->value : "", out) != 0)
		return -1;
	st->depth--;
	return 0;
}

/* Append environment variable name (len bytes) to out. */
static int
expand_env(struct expand_state *st, const char *name, size_t len,
    struct buf *out)
{
	char *copy = xstrndup(name, len);
	const char *value = getenv(copy);

	if (value == NULL) {
		xasprintf(&st->err, "environment variable %s is not set",
		    copy);
		free(copy);
		return -1;
	}
	buf_adds(out, value);
	free(copy);
	return 0;
}

/* Expand text into out. */
static int
expand_rec(struct expand_state *st, const char *text, struct buf *out)
{
	size_t i = 0, len, namelen;
	const char *name;

	while (text[i] != '\0') {
		if (text[i] == '$' && text[i + 1] == '$') {
			buf_addc(out, '$');
			i += 2;
			continue;
		}
		if ((len = expand_ref_len(text + i, &namelen)) == 0) {
			buf_addc(out, text[i++]);
			continue;
		}
		name = text + i + 2;
		if (namelen > 4 && strncmp(name, "env:", 4) == 0) {
			if (expand_env(st, name + 4, namelen - 4, out) != 0)
				return -1;
		} else if (namelen > 7 && strncmp(name, "entity.", 7) == 0 &&
		    (st->entity != NULL ||
		    expand_find_var(st->rb, name, namelen) == NULL)) {
			if (expand_entity(st, name + 7, namelen - 7, out) != 0)
				return -1;
		} else if (expand_var(st, name, namelen, out) != 0)
			return -1;
		i += len;
	}
	return 0;
}

char *
expand_text(const struct runbook *rb, const char *text, char **err)
{
	return expand_text_entity(rb, NULL, text, err);
}

char *
expand_text_entity(const struct runbook *rb, const struct rb_entity *entity,
    const char *text, char **err)
{
	struct expand_state st = { .rb = rb, .entity = entity };
	struct buf out = { 0 };

	*err = NULL;
	if (expand_rec(&st, text != NULL ? text : "", &out) != 0) {
		buf_free(&out);
		*err = st.err;
		return NULL;
	}
	return buf_steal(&out);
}

/* Longest first, so that a secret containing another is redacted whole. */
static int
expand_compare_len(const void *a, const void *b)
{
	size_t x = strlen(*(char *const *)a), y = strlen(*(char *const *)b);

	if (x != y)
		return x > y ? -1 : 1;
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Expand text and add it to the list unless empty, unset or known. */
/* The value of each ${env:NAME} of a webhook is a secret too: a step may
 * print it without what the webhook adds around it. */
static void
expand_add_env_ref(const char *name, size_t len, size_t offset, void *arg)
{
	struct expand_refs *r = arg;
	char *ref;

	if (len <= 4 || strncmp(name, "env:", 4) != 0)
		return;
	xasprintf(&ref, "${%.*s}", (int)len, name);
	expand_add_secret(r->rb, ref, r->list, r->n);
	free(ref);
}

static void
expand_add_secret(const struct runbook *rb, const char *text, char ***list,
    size_t *n)
{
	char *value, *err;
	size_t i;

	if (text == NULL)
		return;
	if ((value = expand_text(rb, text, &err)) == NULL) {
		free(err);
		return;
	}
	for (i = 0; i < *n; i++) {
		if (strcmp((*list)[i], value) == 0)
			break;
	}
	if (*value == '\0' || i != *n) {
		free(value);
		return;
	}
	*list = xreallocarray(*list, *n + 2, sizeof **list);
	(*list)[(*n)++] = value;
	(*list)[*n] = NULL;
}

/* The password of an odbc target's connection string, if set now. */
static void
expand_add_odbc(const struct runbook *rb, const struct rb_target *t,
    char ***list, size_t *n)
{
	char *connstr, *pw, *err = NULL;
	size_t i;

	if ((connstr = odbc_connection_expand(rb, t, &err)) == NULL) {
		free(err);
		return;
	}
	pw = odbc_connection_password(connstr);
	free(connstr);
	for (i = 0; pw != NULL && i < *n; i++) {
		if (strcmp((*list)[i], pw) == 0)
			break;
	}
	if (pw == NULL || *pw == '\0' || i < *n) {
		free(pw);
		return;
	}
	*list = xreallocarray(*list, *n + 2, sizeof **list);
	(*list)[(*n)++] = pw;
	(*list)[*n] = NULL;
}

/*
 * The list has no duplicates and is sorted longest first, the order in
 * which a redactor should replace them.
 */
char **
expand_secret_values(const struct runbook *rb)
{
	char **list = xcalloc(1, sizeof *list);
	struct expand_refs refs;
	size_t n = 0, i;

	for (i = 0; i < rb->nvars; i++) {
		if (rb->vars[i].secret)
			expand_add_secret(rb, rb->vars[i].value, &list, &n);
	}
	for (i = 0; i < rb->ntargets; i++) {
		if (rb->targets[i].type != TARGET_SSH)
			continue;
		expand_add_secret(rb, rb->targets[i].password, &list, &n);
		expand_add_secret(rb, rb->targets[i].passphrase, &list, &n);
	}
	for (i = 0; i < rb->nnotify; i++) { /* a webhook carries a token */
		if (rb->notify[i].webhook == NULL)
			continue;
		expand_add_secret(rb, rb->notify[i].webhook, &list, &n);
		refs.rb = rb;
		refs.list = &list;
		refs.n = &n;
		expand_scan(rb->notify[i].webhook, expand_add_env_ref, &refs);
	}
	for (i = 0; i < rb->ntargets; i++) {
		if (rb->targets[i].type == TARGET_ODBC &&
		    rb->targets[i].connection != NULL)
			expand_add_odbc(rb, &rb->targets[i], &list, &n);
	}
	qsort(list, n, sizeof *list, expand_compare_len);
	return list;
}

void
expand_free_list(char **list)
{
	size_t i;

	if (list == NULL)
		return;
	for (i = 0; list[i] != NULL; i++)
		free(list[i]);
	free(list);
}
