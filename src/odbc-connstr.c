/*
 * odbc-connstr.c - ODBC connection strings of odbc targets: expanded with
 * each ${...} braced when its value could end the attribute, the password
 * found for redaction, a password written out refused by lint. No ODBC
 * calls: the loader and lint use it.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "expand.h"
#include "odbc-connstr.h"
#include "runbook.h"
#include "xmalloc.h"

/* ------------------------------------------------- connection strings */

/* Split the next attribute of s at *at: key [ks,ke), value [vs,ve). */
static int
odbc_attr_next(const char *s, size_t *at, size_t *ks, size_t *ke, size_t *vs,
    size_t *ve)
{
	size_t i = *at;

	while (s[i] == ';' || s[i] == ' ')
		i++;
	if (s[i] == '\0')
		return 0;
	*ks = i;
	while (s[i] != '\0' && s[i] != '=' && s[i] != ';')
		i++;
	*ke = i;
	if (s[i] == '=')
		i++;
	*vs = i;
	if (s[i] == '{') {
		for (i++; s[i] != '\0'; i++) {
			if (s[i] == '}' && s[i + 1] == '}')
				i++;
			else if (s[i] == '}') {
				i++;
				break;
			}
		}
	}
	while (s[i] != '\0' && s[i] != ';')
		i++;
	*ve = i;
	*at = i;
	return 1;
}

/* Is key [ks,ke) of s a password attribute? */
static int
odbc_attr_is_password(const char *s, size_t ks, size_t ke)
{
	while (ke > ks && s[ke - 1] == ' ')
		ke--;
	return (ke - ks == 3 && strncasecmp(s + ks, "PWD", 3) == 0) ||
	    (ke - ks == 8 && strncasecmp(s + ks, "PASSWORD", 8) == 0);
}

/* Is key [ks,ke) of s the attribute key? */
static int
odbc_attr_is(const char *s, size_t ks, size_t ke, const char *key)
{
	while (ke > ks && s[ke - 1] == ' ')
		ke--;
	return ke - ks == strlen(key) && strncasecmp(s + ks, key, ke - ks) == 0;
}

/* Value [vs,ve) of s, unbraced, new. */
static char *
odbc_attr_value(const char *s, size_t vs, size_t ve)
{
	struct buf b = { 0 };
	size_t i;

	if (s[vs] != '{')
		return xstrndup(s + vs, ve - vs);
	for (i = vs + 1; i < ve; i++) {
		if (s[i] == '}' && s[i + 1] == '}')
			buf_addc(&b, s[i++]);
		else if (s[i] == '}')
			break;
		else
			buf_addc(&b, s[i]);
	}
	return buf_steal(&b);
}

char *
odbc_connection_password(const char *connstr)
{
	size_t at = 0, ks, ke, vs, ve;

	while (odbc_attr_next(connstr, &at, &ks, &ke, &vs, &ve)) {
		if (odbc_attr_is_password(connstr, ks, ke) && ve != vs)
			return odbc_attr_value(connstr, vs, ve);
	}
	return NULL;
}

char *
odbc_connection_get(const char *connstr, const char *key)
{
	size_t at = 0, ks, ke, vs, ve;

	while (odbc_attr_next(connstr, &at, &ks, &ke, &vs, &ve)) {
		if (odbc_attr_is(connstr, ks, ke, key))
			return odbc_attr_value(connstr, vs, ve);
	}
	return NULL;
}

/* ------------------------------------------------ streaming by driver */

/*
 * Per driver (the start of its library's file name), an attribute that
 * makes it stream results, and the attributes that mean the connection
 * string already decided.
 */
static const struct odbc_stream_attr {
	const char *library;
	const char *attr;
	const char *decided[4];
} odbc_stream_attrs[] = {
	/* MariaDB Connector/ODBC >= 3.1.17: no client-side result cache... */
	{ "libmaodbc", "NO_CACHE=1", { "NO_CACHE", "STREAMRS", "OPTION" } },
	/* ...which applies to forward-only cursors only. */
	{ "libmaodbc", "FORWARDONLY=1", { "FORWARDONLY", "OPTION" } },
};

/* Does connstr set any of the attributes keys? */
static int
odbc_connection_sets(const char *connstr, const char *const *keys, size_t n)
{
	size_t at = 0, ks, ke, vs, ve, i;

	while (odbc_attr_next(connstr, &at, &ks, &ke, &vs, &ve)) {
		for (i = 0; i < n && keys[i] != NULL; i++)
			if (odbc_attr_is(connstr, ks, ke, keys[i]))
				return 1;
	}
	return 0;
}

char *
odbc_connection_streaming(const char *connstr, const char *driver_file)
{
	const struct odbc_stream_attr *a;
	const char *base;
	struct buf b = { 0 };
	size_t i, n = sizeof odbc_stream_attrs / sizeof odbc_stream_attrs[0];

	buf_adds(&b, connstr);
	base = driver_file != NULL ? strrchr(driver_file, '/') : NULL;
	base = base != NULL ? base + 1 : driver_file;
	for (i = 0; base != NULL && i < n; i++) {
		a = &odbc_stream_attrs[i];
		if (strncmp(base, a->library, strlen(a->library)) != 0 ||
		    odbc_connection_sets(connstr, a->decided, 4))
			continue;
		if (b.len > 0 && b.data[b.len - 1] != ';')
			buf_addc(&b, ';');
		buf_adds(&b, a->attr);
	}
	return buf_steal(&b);
}

int
odbc_connection_check(const char *raw, char **why)
{
	size_t at = 0, ks, ke, vs, ve, n;

	while (odbc_attr_next(raw, &at, &ks, &ke, &vs, &ve)) {
		if (!odbc_attr_is_password(raw, ks, ke) || ve == vs)
			continue;
		n = ve - vs;
		if (n > 3 && strncmp(raw + vs, "${", 2) == 0 &&
		    raw[ve - 1] == '}' && memchr(raw + vs + 2, '}', n - 3) == NULL)
			continue;
		xasprintf(why, "the password in 'connection' must be "
		    "${env:NAME} or a var listed in secrets:, not written out");
		return -1;
	}
	return 0;
}

/* Append value v, braced when it has characters that end a value. */
static void
odbc_add_value(struct buf *b, const char *v)
{
	const char *p;

	if (strpbrk(v, ";{}") == NULL && v[0] != ' ') {
		buf_adds(b, v);
		return;
	}
	buf_addc(b, '{');
	for (p = v; *p != '\0'; p++) {
		if (*p == '}')
			buf_addc(b, '}');
		buf_addc(b, *p);
	}
	buf_addc(b, '}');
}

struct odbc_refs {
	size_t *at, *len, n;
};

static void
odbc_ref(const char *name, size_t namelen, size_t offset, void *arg)
{
	struct odbc_refs *r = arg;

	r->at = xreallocarray(r->at, r->n + 1, sizeof *r->at);
	r->len = xreallocarray(r->len, r->n + 1, sizeof *r->len);
	r->at[r->n] = offset;
	r->len[r->n] = namelen + 3; /* ${ name } */
	r->n++;
}

/*
 * Expand each ${...} on its own, so that a value with ';' or '}' (a
 * password can have any character) is braced and cannot add attributes.
 */
char *
odbc_connection_expand(const struct runbook *rb, const struct rb_target *t,
    char **err)
{
	struct odbc_refs r = { NULL, NULL, 0 };
	struct buf b = { 0 };
	const char *s = t->connection;
	char *ref, *v;
	size_t i, at = 0;

	expand_scan(s, odbc_ref, &r);
	for (i = 0; i < r.n; i++) {
		buf_add(&b, s + at, r.at[i] - at);
		ref = xstrndup(s + r.at[i], r.len[i]);
		v = expand_text(rb, ref, err);
		free(ref);
		if (v == NULL) {
			buf_free(&b);
			b.len = 0;
			break;
		}
		odbc_add_value(&b, v);
		free(v);
		at = r.at[i] + r.len[i];
	}
	free(r.at);
	free(r.len);
	if (i < r.n)
		return NULL;
	/* What is left may still hold $$: expand_text makes it '$'. */
	ref = xstrdup(s + at);
	v = expand_text(rb, ref, err);
	free(ref);
	if (v == NULL) {
		buf_free(&b);
		return NULL;
	}
	buf_adds(&b, v);
	free(v);
	return buf_steal(&b);
}
