/*
 * xmalloc.h - allocation that never returns NULL, and fatal errors.
 *
 * Every x* call either succeeds or prints "cutover: out of memory" and exits
 * with status 1 after restoring the terminal (see fatal_set_cleanup).
 * Memory returned is owned by the caller and released with free().
 */
#ifndef CUTOVER_XMALLOC_H
#define CUTOVER_XMALLOC_H

#include <stdarg.h>
#include <stddef.h>

void *xmalloc(size_t) __attribute__((malloc, alloc_size(1)));
void *xcalloc(size_t, size_t) __attribute__((malloc, alloc_size(1, 2)));
void *xrealloc(void *, size_t) __attribute__((alloc_size(2)));
void *xreallocarray(void *, size_t, size_t);
char *xstrdup(const char *) __attribute__((malloc, nonnull));
char *xstrndup(const char *, size_t) __attribute__((malloc, nonnull));
int xasprintf(char **, const char *, ...)
    __attribute__((format(printf, 2, 3), nonnull(1, 2)));
int xvasprintf(char **, const char *, va_list)
    __attribute__((format(printf, 2, 0), nonnull(1, 2)));
/* xasprintf returning the string. */
char *xprintf(const char *, ...) __attribute__((format(printf, 1, 2), nonnull(1)));

/* Print "cutover: MESSAGE" to stderr, run the cleanup hook, exit(status). */
void fatalx(int status, const char *, ...)
    __attribute__((format(printf, 2, 3), noreturn));
/* A hook run before fatalx exits (the console uses it to call endwin). */
void fatal_set_cleanup(void (*)(void));

#endif
