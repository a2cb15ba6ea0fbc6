/*
 * expand.h - ${var}, ${env:NAME} and $$ in runbook text fields.
 *
 * Expansion is textual. ${name} is replaced by the var's value (itself
 * expanded, to a depth of 16), ${env:NAME} by the environment variable (an
 * unset one is an error), and $$ by a single $. A $ followed by anything else
 * is kept as it is.
 *
 * In the steps of a for_each phase (and their targets), ${entity.id},
 * ${entity.title}, ${entity.wave} and ${entity.VAR} are the fields and vars
 * of the entity the instance runs for, taken as they are (not expanded
 * again). Without an entity they are an error, except that a runbook var
 * named "entity.X" (allowed before entities existed, and only in a runbook
 * without them: lint) is still expanded as a var.
 */
#ifndef CUTOVER_EXPAND_H
#define CUTOVER_EXPAND_H

#include <stddef.h>

struct runbook;
struct rb_entity;

/*
 * Expand text. Returns a new string, or NULL with *err set to a new message
 * such as "environment variable LEGACY_PW is not set" or "unknown variable
 * ${foo}" (the caller frees it).
 */
char *expand_text(const struct runbook *, const char *text, char **err);
/* The same for an instance of a for_each phase: ${entity.*} are entity's
 * (NULL: no entity, as expand_text). An entity without the var named is an
 * error "entity ID has no var NAME". */
char *expand_text_entity(const struct runbook *, const struct rb_entity *,
    const char *text, char **err);

/*
 * Call fn for each ${...} reference in text: name is "var" or "env:NAME",
 * offset is the byte offset of the '$' in text. Used by lint to find unknown
 * variables. Returns the number of references.
 */
size_t expand_scan(const char *text,
    void (*fn)(const char *name, size_t namelen, size_t offset, void *arg),
    void *arg);

/*
 * The values to redact from captured output: the expanded value of every var
 * listed in secrets:, of every ssh target's password and passphrase, and
 * of every notify: webhook address,
 * and of every odbc target's connection string password.
 * Values that cannot be expanded now (unset environment) are left out; empty
 * values are left out. Returns a NULL-terminated array the caller frees with
 * expand_free_list().
 */
char **expand_secret_values(const struct runbook *);
void expand_free_list(char **);

#endif
