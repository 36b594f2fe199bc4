/*
 * sha256.h -- SHA-256 (FIPS 180-4) for the evidence chain: hashes of closed
 * editions and digests of their inputs and definitions. Written from the
 * standard; no I/O, no allocation, no other use intended (it is not a
 * general crypto library: nothing here is constant-time).
 */
#ifndef IB_SHA256_H
#define IB_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define IB_SHA256_LEN 32
#define IB_SHA256_HEX_LEN 65 /* 64 hex digits and a NUL */

typedef struct ib_sha256 {
  uint32_t h[8];
  uint64_t bytes;        /* total fed so far */
  unsigned char buf[64]; /* the block being filled */
  size_t used;
} ib_sha256;

void ib_sha256_init(ib_sha256 *s);
void ib_sha256_update(ib_sha256 *s, const void *data, size_t len);
void ib_sha256_final(ib_sha256 *s, unsigned char out[IB_SHA256_LEN]);
/* Finishes into lowercase hex (what sha256sum prints). */
void ib_sha256_final_hex(ib_sha256 *s, char out[IB_SHA256_HEX_LEN]);
/* One call: the hex digest of len bytes. */
void ib_sha256_hex(const void *data, size_t len, char out[IB_SHA256_HEX_LEN]);

#endif /* IB_SHA256_H */
