/*
 * hash64.c -- see hash64.h. Each 8-byte word is scrambled by two odd
 * multiplications around a rotation and folded into the state, which is
 * rotated and multiplied in turn; the tail is padded into one last word and
 * the length is folded in before a final avalanche (every input bit moves
 * about half of the output bits), so that field boundaries and lengths
 * count, not only the bytes.
 */
#include "hash64.h"

#define M1 UINT64_C(0x9e3779b97f4a7c15)
#define M2 UINT64_C(0xbf58476d1ce4e5b9)
#define M3 UINT64_C(0x94d049bb133111eb)

static uint64_t rotl(uint64_t x, unsigned r) {
  return (x << r) | (x >> (64u - r));
}

static uint64_t load_le(const unsigned char *p, size_t n) {
  uint64_t w = 0;
  for (size_t i = 0; i < n; i++) w |= (uint64_t)p[i] << (8u * i);
  return w;
}

static uint64_t scramble(uint64_t w) {
  w *= M2;
  w = rotl(w, 29);
  return w * M1;
}

static uint64_t avalanche(uint64_t h) {
  h ^= h >> 31;
  h *= M2;
  h ^= h >> 29;
  h *= M3;
  h ^= h >> 32;
  return h;
}

uint64_t ib_hash64(uint64_t seed, const void *data, size_t len) {
  const unsigned char *p = data;
  uint64_t h = seed ^ M3;
  size_t left = len;
  while (left >= 8) {
    h ^= scramble(load_le(p, 8));
    h = rotl(h, 27) * M1 + M2;
    p += 8;
    left -= 8;
  }
  if (left > 0) h ^= scramble(load_le(p, left) ^ ((uint64_t)left << 56));
  return avalanche(h ^ ((uint64_t)len * M3));
}
