/*
 * odbc-connstr.h - the connection strings of odbc targets.
 *
 * A connection string is ATTR=value pairs separated by ';', a value in
 * braces ({...}, '}}' for '}') when it holds ';' or braces. Its password
 * (PWD= or PASSWORD=) may only be written as ${env:NAME} or a ${var}
 * listed in secrets: (odbc_connection_check, for lint); the expanded
 * value is a secret for redaction (odbc_connection_password).
 */
#ifndef CUTOVER_ODBC_CONNSTR_H
#define CUTOVER_ODBC_CONNSTR_H

struct runbook;
struct rb_target;

/* The target's connection string, expanded (each ${...} value braced if
 * need be); NULL with *err if it cannot be (unset environment). */
char *odbc_connection_expand(const struct runbook *, const struct rb_target *,
    char **err);
/* The value of the PWD or PASSWORD attribute of a connection string, new,
 * or NULL when it has none. */
char *odbc_connection_password(const char *connstr);
/* Lint: is the raw connection string's password, if any, a reference
 * (${env:NAME} or ${var})? 0 if so, else -1 with *why (new). */
int odbc_connection_check(const char *raw, char **why);

#endif
