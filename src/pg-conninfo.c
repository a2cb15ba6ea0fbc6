/*
 * pg-conninfo.c - conninfo text without libpq: expansion (values quoted
 * one by one, libpq's rules) and the TLS rule of live runs, on the options
 * pg_conninfo_resolve finds (libpq linked, pg.c; or loaded when first
 * needed, pg-resolve-dl.c, in the front that lints).
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "expand.h"
#include "pg.h"
#include "xmalloc.h"

/* Where a keyword=value conninfo is, as its text is read. */
enum pg_ci_state { PG_CI_KEY, PG_CI_VALUE_START, PG_CI_VALUE, PG_CI_QVALUE };
struct pg_ci {
	enum pg_ci_state state;
	int esc; /* the previous character was a backslash */
};

/* A ${...} reference in a conninfo template. */
struct pg_refs {
	size_t *at, *len;
	size_t n;
};

static void pg_ci_feed(struct pg_ci *, const char *, size_t);
static void pg_ci_ref(const char *, size_t, size_t, void *);
static int pg_ci_literal(const struct runbook *, const struct rb_entity *,
    const char *, size_t, struct pg_ci *, struct buf *, char **);
static int pg_ci_value(const struct runbook *, const struct rb_entity *,
    const char *, size_t, struct pg_ci *, struct buf *, char **);
static int pg_host_local(const char *, size_t);
static const char *pg_nth(const char *, size_t, size_t *);

/* One character of conninfo text moves the reader (libpq's rules). */
static void
pg_ci_feed(struct pg_ci *ci, const char *s, size_t n)
{
	size_t i;
	char c;

	for (i = 0; i < n; i++) {
		c = s[i];
		if (ci->esc) {
			ci->esc = 0;
			if (ci->state == PG_CI_VALUE_START)
				ci->state = PG_CI_VALUE;
			continue;
		}
		switch (ci->state) {
		case PG_CI_KEY:
			if (c == '=')
				ci->state = PG_CI_VALUE_START;
			break;
		case PG_CI_VALUE_START:
			if (c == '\'')
				ci->state = PG_CI_QVALUE;
			else if (c == '\\')
				ci->esc = 1;
			else if (!isspace((unsigned char)c))
				ci->state = PG_CI_VALUE;
			break;
		case PG_CI_VALUE:
		case PG_CI_QVALUE:
			if (c == '\\')
				ci->esc = 1;
			else if (ci->state == PG_CI_VALUE ?
			    isspace((unsigned char)c) != 0 : c == '\'')
				ci->state = PG_CI_KEY;
			break;
		}
	}
}

static void
pg_ci_ref(const char *name, size_t namelen, size_t offset, void *arg)
{
	struct pg_refs *r = arg;

	(void)name;
	r->at = xreallocarray(r->at, r->n + 1, sizeof *r->at);
	r->len = xreallocarray(r->len, r->n + 1, sizeof *r->len);
	r->at[r->n] = offset;
	r->len[r->n++] = namelen + 3; /* "${" name "}" */
}

/* Text without references ($$ aside): expanded, read, kept as it is. */
static int
pg_ci_literal(const struct runbook *rb, const struct rb_entity *en,
    const char *s, size_t n, struct pg_ci *ci, struct buf *b, char **err)
{
	char *part = xstrndup(s, n), *v = expand_text_entity(rb, en, part, err);

	free(part);
	if (v == NULL)
		return -1;
	pg_ci_feed(ci, v, strlen(v));
	buf_adds(b, v);
	free(v);
	return 0;
}

/*
 * One reference: in a value, its value with every blank, quote and
 * backslash escaped, so that it stays that one value; elsewhere (a whole
 * conninfo in a variable) as it is.
 */
static int
pg_ci_value(const struct runbook *rb, const struct rb_entity *en,
    const char *ref, size_t n, struct pg_ci *ci, struct buf *b, char **err)
{
	char *part, *v, *p;

	if (ci->state == PG_CI_KEY)
		return pg_ci_literal(rb, en, ref, n, ci, b, err);
	part = xstrndup(ref, n);
	v = expand_text_entity(rb, en, part, err);
	free(part);
	if (v == NULL)
		return -1;
	for (p = v; *p != '\0'; p++) {
		if (isspace((unsigned char)*p) || *p == '\'' || *p == '\\')
			buf_addc(b, '\\');
		buf_addc(b, *p);
	}
	if (ci->state == PG_CI_VALUE_START && *v != '\0')
		ci->state = PG_CI_VALUE;
	free(v);
	return 0;
}

char *
pg_conninfo_expand(const struct runbook *rb, const char *tmpl, char **err)
{
	return pg_conninfo_expand_entity(rb, NULL, tmpl, err);
}

char *
pg_conninfo_expand_entity(const struct runbook *rb, const struct rb_entity *en,
    const char *tmpl, char **err)
{
	struct pg_refs r = { NULL, NULL, 0 };
	struct pg_ci ci = { PG_CI_KEY, 0 };
	struct buf b = { 0 };
	size_t i, at = 0;
	int rc = 0;

	tmpl += strspn(tmpl, " \t\n\r\f\v");
	if (strncmp(tmpl, "postgresql://", 13) == 0 ||
	    strncmp(tmpl, "postgres://", 11) == 0)
		return expand_text_entity(rb, en, tmpl, err);
	expand_scan(tmpl, pg_ci_ref, &r);
	for (i = 0; i < r.n && rc == 0; i++) {
		rc = pg_ci_literal(rb, en, tmpl + at, r.at[i] - at, &ci, &b,
		    err);
		if (rc == 0)
			rc = pg_ci_value(rb, en, tmpl + r.at[i], r.len[i], &ci,
			    &b, err);
		at = r.at[i] + r.len[i];
	}
	if (rc == 0)
		rc = pg_ci_literal(rb, en, tmpl + at, strlen(tmpl + at), &ci,
		    &b, err);
	free(r.at);
	free(r.len);
	if (rc != 0) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b);
}

/* Is a host of a conninfo a Unix socket or a loopback address? */
static int
pg_host_local(const char *h, size_t n)
{
	unsigned char a[16];
	char name[256];

	if (n == 0 || h[0] == '/' || h[0] == '@')
		return 1;
	if (n >= sizeof name)
		return 0;
	memcpy(name, h, n);
	name[n] = '\0';
	if (strcmp(name, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, name, a) == 1)
		return a[0] == 127;
	if (inet_pton(AF_INET6, name, a) == 1)
		return memcmp(a, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16) == 0;
	return 0;
}

int
pg_conninfo_tls(const char *conninfo, char **why)
{
	char *host, *addr, *mode;
	const char *h, *a;
	size_t hn, an, i;
	int rc = 0;

	*why = NULL;
	if ((rc = pg_conninfo_resolve(conninfo, &host, &addr, &mode, why)) != 0)
		return rc;
	if (strcmp(mode, "verify-full") == 0 || strcmp(mode, "verify-ca") == 0)
		i = SIZE_MAX;
	else
		i = 0;
	/* The i-th host goes to the i-th hostaddr when there is one. */
	for (; i != SIZE_MAX && rc == 0; i++) {
		hn = an = 0;
		h = pg_nth(host, i, &hn);
		a = pg_nth(addr, i, &an);
		if (h == NULL && a == NULL)
			break;
		if (a == NULL || an == 0) {
			a = h;
			an = hn;
		}
		if (!pg_host_local(a, an)) {
			xasprintf(why, "host %.*s is neither a Unix socket nor "
			    "loopback, and sslmode is %s, not verify-full or "
			    "verify-ca", (int)an, a, *mode != '\0' ? mode :
			    "prefer");
			rc = -1;
		}
	}
	free(host);
	free(addr);
	free(mode);
	return rc;
}

/* The i-th element of a comma-separated list (one of "" is ""), or NULL. */
static const char *
pg_nth(const char *list, size_t i, size_t *n)
{
	for (; i > 0; i--) {
		list += strcspn(list, ",");
		if (*list == '\0')
			return NULL;
		list++;
	}
	*n = strcspn(list, ",");
	return list;
}
