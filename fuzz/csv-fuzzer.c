/*
 * csv-fuzzer.c - libFuzzer target for entities files and reconcile file
 * sides: the input is read by the CSV reader, by the streaming reader
 * (which must give the same records, byte for byte, on valid UTF-8), by
 * the streaming reader in chunks (their size and the delimiter taken from
 * the input's first bytes; any chunking must give the same records), by
 * the streaming reader keeping only a record's first fields (the same
 * records, cut, and the same failures), then
 * loaded as the entities file of a runbook that uses ${entity.*}. Any
 * input must load or fail with diagnostics, never crash, leak or hang.
 *
 * Build and run from the top of the tree (after ./configure): `make fuzz`,
 * then
 *
 *	cp -r fuzz/csv-corpus /tmp/csv-corpus
 *	fuzz/csv-fuzzer -dict=fuzz/csv.dict -max_total_time=600 \
 *	    /tmp/csv-corpus
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "diag.h"
#include "runbook.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char runbook_text[] =
	"cutover: 1\n"
	"name: fuzz\n"
	"entities: {file: fuzz.csv}\n"
	"waves: [pilot, wave-2]\n"
	"targets:\n"
	"  pos: {type: ssh, host: \"${entity.a}\"}\n"
	"phases:\n"
	"  - id: p\n"
	"    for_each: entity\n"
	"    steps:\n"
	"      - {id: s, type: ssh, target: pos,\n"
	"         run: \"echo ${entity.id} ${entity.title} ${entity.b}\"}\n";

static char dir[] = "/tmp/csv-fuzzer.XXXXXX";
static char csv_path[64], rb_path[64];

/* Count fields; the reader hands out NUL-terminated values. */
static int
csv_count(const struct csv_field *f, size_t n, void *arg)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (strlen(f[i].value) > f[i].len)
			abort();
	}
	*(size_t *)arg += n;
	return 0;
}

/* A digest of every record: fields, values, quoting and positions. */
static int
csv_digest(const struct csv_field *f, size_t n, void *arg)
{
	uint64_t *h = arg;
	size_t i, j;

	for (i = 0; i < n; i++) {
		for (j = 0; j < f[i].len; j++)
			*h = (*h ^ (unsigned char)f[i].value[j]) * 1099511628211u;
		*h = (*h ^ f[i].len ^ (uint64_t)f[i].quoted << 32 ^
		    (uint64_t)f[i].line << 40 ^ f[i].col) * 1099511628211u;
	}
	*h = (*h ^ n ^ 0xabcdef) * 1099511628211u;
	return 0;
}

/* On valid UTF-8 without NUL, the stream reader (which scans plain and
 * quoted runs at once) gives what csv_parse gives, byte by byte. */
static void
csv_same_as_parse(const char *data, size_t size)
{
	struct csv_stream *s;
	struct csv_error e1, e2;
	uint64_t h1 = 14695981039346656037u, h2 = h1;
	int rc1, rc2, bad;

	if (memchr(data, 0, size) != NULL ||
	    csv_utf8_prefix(data, size, &bad) != size)
		return;
	rc1 = csv_parse(data, size, csv_digest, &h1, &e1);
	s = csv_stream_new(',');
	rc2 = csv_stream_feed(s, data, size, csv_digest, &h2, &e2);
	if (rc2 == 0)
		rc2 = csv_stream_end(s, csv_digest, &h2, &e2);
	csv_stream_free(s);
	if (rc1 != rc2 || h1 != h2 || (rc1 < 0 && (e1.line != e2.line ||
	    e1.col != e2.col)))
		abort();
}

/* The stream reader, in chunks of step bytes, with delimiter delim:
 * the same records as in one chunk. */
static void
csv_stream_check(const char *data, size_t size, size_t step, char delim)
{
	struct csv_stream *s;
	struct csv_error err;
	size_t i, one = 0, many = 0;
	int rc1, rc2 = 0;

	s = csv_stream_new(delim);
	rc1 = csv_stream_feed(s, data, size, csv_count, &one, &err);
	if (rc1 == 0)
		rc1 = csv_stream_end(s, csv_count, &one, &err);
	csv_stream_free(s);
	s = csv_stream_new(delim);
	for (i = 0; i < size && rc2 == 0; i += step)
		rc2 = csv_stream_feed(s, data + i, size - i < step ? size - i :
		    step, csv_count, &many, &err);
	if (rc2 == 0)
		rc2 = csv_stream_end(s, csv_count, &many, &err);
	csv_stream_free(s);
	if (rc1 != rc2 || one != many)
		abort();
}

/* A record's first keep fields and its count, for csv_keep_check. */
struct csv_kept {
	const struct csv_stream *s; /* NULL: the full reader */
	size_t keep;
	uint64_t h;
};

static int
csv_kept_digest(const struct csv_field *f, size_t n, void *arg)
{
	struct csv_kept *k = arg;
	size_t count = k->s != NULL ? csv_stream_count(k->s) : n;

	if (k->s != NULL && (n > k->keep || (count != n && n != k->keep)))
		abort();
	csv_digest(f, n < k->keep ? n : k->keep, &k->h);
	k->h = (k->h ^ count) * 1099511628211u;
	return 0;
}

/* The reader keeping keep fields (csv_stream_keep), in chunks of step,
 * finds the same records (their first keep fields and their count) and
 * fails where the full reader fails. */
static void
csv_keep_check(const char *data, size_t size, size_t step, char delim,
    size_t keep)
{
	struct csv_kept one = { NULL, keep, 1 }, many = { NULL, keep, 1 };
	struct csv_stream *s;
	struct csv_error err;
	size_t i;
	int rc1, rc2 = 0;

	s = csv_stream_new(delim);
	rc1 = csv_stream_feed(s, data, size, csv_kept_digest, &one, &err);
	if (rc1 == 0)
		rc1 = csv_stream_end(s, csv_kept_digest, &one, &err);
	csv_stream_free(s);
	s = csv_stream_new(delim);
	csv_stream_keep(s, keep);
	many.s = s;
	for (i = 0; i < size && rc2 == 0; i += step)
		rc2 = csv_stream_feed(s, data + i, size - i < step ? size - i :
		    step, csv_kept_digest, &many, &err);
	if (rc2 == 0)
		rc2 = csv_stream_end(s, csv_kept_digest, &many, &err);
	csv_stream_free(s);
	if (rc1 != rc2 || (rc1 == 0 && one.h != many.h))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diags d = { 0 };
	struct runbook *rb = NULL;
	struct csv_error err;
	size_t fields = 0;
	FILE *f;

	if (csv_path[0] == '\0') {
		if (mkdtemp(dir) == NULL)
			abort();
		snprintf(csv_path, sizeof csv_path, "%s/fuzz.csv", dir);
		snprintf(rb_path, sizeof rb_path, "%s/fuzz.yaml", dir);
	}
	if (size > RUNBOOK_MAX_SIZE + 1)
		return 0;
	csv_parse((const char *)data, size, csv_count, &fields, &err);
	csv_same_as_parse((const char *)data, size);
	if (size > 2)
		csv_stream_check((const char *)data + 2, size - 2,
		    (size_t)data[0] % 64 + 1, (char)data[1]);
	if (size > 2)
		csv_keep_check((const char *)data + 2, size - 2,
		    (size_t)data[0] % 64 + 1, (char)data[1],
		    (size_t)data[0] / 64 + 1);
	if ((f = fopen(csv_path, "wb")) == NULL)
		abort();
	if (size > 0 && fwrite(data, 1, size, f) != size)
		abort();
	fclose(f);
	runbook_load_buffer(rb_path, runbook_text, sizeof runbook_text - 1,
	    &rb, &d);
	runbook_free(rb);
	diags_free(&d);
	return 0;
}
