/* json.c - JSON text output. */
#include "config.h"

#include <stdio.h>

#include "json.h"

void
json_str(struct buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (s == NULL) {
		buf_adds(b, "null");
		return;
	}
	buf_addc(b, '"');
	for (; *p != '\0'; p++) {
		switch (*p) {
		case '"':
			buf_adds(b, "\\\"");
			break;
		case '\\':
			buf_adds(b, "\\\\");
			break;
		case '\n':
			buf_adds(b, "\\n");
			break;
		case '\r':
			buf_adds(b, "\\r");
			break;
		case '\t':
			buf_adds(b, "\\t");
			break;
		default:
			if (*p < 0x20)
				buf_printf(b, "\\u%04x", *p);
			else
				buf_addc(b, (char)*p);
		}
	}
	buf_addc(b, '"');
}

void
json_key(struct buf *b, int *first, const char *key)
{
	if (!*first)
		buf_addc(b, ',');
	*first = 0;
	json_str(b, key);
	buf_addc(b, ':');
}

void
json_int(struct buf *b, int64_t v, int nullable)
{
	if (nullable && v < 0)
		buf_adds(b, "null");
	else
		buf_printf(b, "%lld", (long long)v);
}
