/*
 * hash64.h -- a fast 64-bit non-cryptographic digest of bytes, for the raw
 * forms of records (a CSV row, a JSON text) that a sync compares with what
 * it stored last time, and the keys of in-memory maps. Eight bytes per
 * step, read little-endian so that a digest is the same on every machine.
 * Not for evidence: editions use SHA-256 (sha256.h). No I/O, no state.
 */
#ifndef IB_HASH64_H
#define IB_HASH64_H

#include <stddef.h>
#include <stdint.h>

/* The digest of data[0..len), chained through seed (0 to start). */
uint64_t ib_hash64(uint64_t seed, const void *data, size_t len);

#endif /* IB_HASH64_H */
