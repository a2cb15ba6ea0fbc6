/*
 * web-host-fuzzer.c - libFuzzer target for the Host header check of
 * `cutover serve` (web_host_loopback), which sees whatever a client
 * sends: any input must be answered yes or no, never crash or read out
 * of bounds.
 *
 * Build and run from the top of the tree (after ./configure): `make fuzz`,
 * then
 *
 *	fuzz/web-host-fuzzer -max_total_time=300
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "web-auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char *s = malloc(len + 1);

	if (s == NULL)
		return 0;
	memcpy(s, data, len);
	s[len] = '\0';
	(void)web_host_loopback(s);
	free(s);
	return 0;
}
