/*
 * runbook-fuzzer.c - libFuzzer target for the runbook loader: any input must
 * load or fail with diagnostics, never crash, leak or hang.
 *
 * Build and run from the top of the tree (after ./configure, for config.h):
 *
 *	clang -g -O1 -fsanitize=fuzzer,address,undefined -I. -Isrc \
 *	    fuzz/runbook-fuzzer.c src/runbook.c src/runbook-lint.c \
 *	    src/runbook-entity.c src/csv.c src/diag.c src/duration.c \
 *	    src/expand.c src/buf.c src/xmalloc.c \
 *	    src/sha256.c $(pkg-config --cflags --libs yaml-0.1 libcrypto) \
 *	    -o fuzz/runbook-fuzzer
 *	cp -r fuzz/corpus /tmp/corpus
 *	fuzz/runbook-fuzzer -dict=fuzz/runbook.dict -max_total_time=600 \
 *	    /tmp/corpus
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "runbook.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diags d = { 0 };
	struct runbook *rb = NULL;

	if (size > RUNBOOK_MAX_SIZE + 1)
		return 0;
	runbook_load_buffer("fuzz", (const char *)data, size, &rb, &d);
	runbook_free(rb);
	diags_free(&d);
	return 0;
}
