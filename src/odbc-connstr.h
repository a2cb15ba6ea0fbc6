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
/* The value of attribute key (case-insensitive) of a connection string,
 * unbraced, new; NULL when it has none. */
char *odbc_connection_get(const char *connstr, const char *key);
/*
 * connstr with the attributes that make the driver in file driver_file
 * (a path, as unixODBC's odbcinst.ini names it; NULL: unknown) stream a
 * forward-only result instead of caching it whole on the client, new.
 * An attribute the string already sets (or one that overrides it, such
 * as MariaDB's OPTION bits) is left as written. Drivers without such
 * options get connstr unchanged. The table in odbc-connstr.c lists them:
 *   MariaDB Connector/ODBC (libmaodbc): NO_CACHE=1 and FORWARDONLY=1
 *   (3.1.17 and later stream; older versions ignore both).
 */
char *odbc_connection_streaming(const char *connstr, const char *driver_file);
/* Lint: is the raw connection string's password, if any, a reference
 * (${env:NAME} or ${var})? 0 if so, else -1 with *why (new). */
int odbc_connection_check(const char *raw, char **why);

#endif
