/*
 * bytes.h - looking at eight bytes at a time (SWAR), for the readers that
 * scan long text for a few byte values (csv.c, COPY rows in reconcile.c).
 */
#ifndef CUTOVER_BYTES_H
#define CUTOVER_BYTES_H

#include <stdint.h>
#include <string.h>

#define BYTES_ONES 0x0101010101010101ull

/* Eight bytes at p (unaligned), the first in the low byte on every host,
 * so that the lowest bit a mask sets is the first byte in memory. */
static inline uint64_t
bytes_load(const void *p)
{
	uint64_t w;

	memcpy(&w, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	w = __builtin_bswap64(w);
#endif
	return w;
}

/* The bytes of w equal to c: their high bit set, every other bit 0 (exact:
 * no false matches, unlike the usual has-zero trick). */
static inline uint64_t
bytes_eq(uint64_t w, unsigned char c)
{
	const uint64_t lo = 0x7f7f7f7f7f7f7f7full;
	uint64_t x = w ^ (c * BYTES_ONES);

	return ~(((x & lo) + lo) | x | lo);
}

/* The index in memory of the first byte a bytes_eq mask of a bytes_load
 * word marks (m != 0); m & (m - 1) drops it. */
static inline unsigned
bytes_first(uint64_t m)
{
	return (unsigned)__builtin_ctzll(m) / 8;
}

#endif
