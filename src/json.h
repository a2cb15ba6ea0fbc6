/* json.h - writing JSON text into a struct buf (no parsing). */
#ifndef CUTOVER_JSON_H
#define CUTOVER_JSON_H

#include <stdint.h>

#include "buf.h"

/* Append s as a JSON string (quoted, escaped); NULL appends null. */
void json_str(struct buf *, const char *);
/* Append "key": with the comma that separates it from what came before
 * when *first is 0; sets *first to 0. */
void json_key(struct buf *, int *first, const char *key);
/* Append an integer, or null when absent (v < 0 and nullable). */
void json_int(struct buf *, int64_t v, int nullable);

#endif
