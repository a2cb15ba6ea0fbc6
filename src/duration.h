/*
 * duration.h - durations as written in runbooks: "250ms", "90s", "5m", "1h30m".
 *
 * Units are ms, s, m, h (and d for days); several may follow one another in
 * decreasing order ("1h30m", "2m30s"). Values are whole numbers. The total is
 * in milliseconds and must fit in 31 days.
 */
#ifndef CUTOVER_DURATION_H
#define CUTOVER_DURATION_H

#include <stddef.h>
#include <stdint.h>

/* Parse s into *ms. Returns 0, or -1 with *why set to a static message
 * (valid until the next call). */
int duration_parse(const char *s, int64_t *ms, const char **why);
/* "timed out after DURATION", the message of every executor's timeout
 * (a new string). */
char *duration_timed_out(int64_t ms);
/* Format ms the way a person writes it ("1h30m", "2m5s", "250ms", "0s"). */
void duration_format(int64_t ms, char *out, size_t len);

#endif
