/*
 * fuzz_main.c -- a self-contained driver for the fuzz targets, so that they
 * run under ctest (and AddressSanitizer in CI) without libFuzzer: every
 * seed file given on the command line, then FUZZ_RUNS deterministic
 * mutations of them (bit flips, byte insertions and deletions, splices).
 * With clang, the same targets build for libFuzzer instead:
 *   clang -g -fsanitize=fuzzer,address ... fuzz_csv.c (without this file)
 * Must not contain any target logic.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t next_rand(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

typedef struct seed {
  uint8_t *data;
  size_t size;
} seed;

static int read_file(const char *path, seed *out) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) return -1;
  size_t cap = 4096, n = 0;
  uint8_t *buf = malloc(cap);
  size_t got;
  while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
    n += got;
    if (n == cap) {
      uint8_t *nb = realloc(buf, cap *= 2);
      if (nb == NULL) {
        free(buf);
        buf = NULL;
      } else {
        buf = nb;
      }
    }
  }
  fclose(f);
  if (buf == NULL) return -1;
  out->data = buf;
  out->size = n;
  return 0;
}

/* One mutation of a (copy of a) seed, possibly spliced with another. */
static size_t mutate(const seed *seeds, size_t n_seeds, uint8_t *out,
                     size_t cap) {
  const seed *a = &seeds[next_rand() % n_seeds];
  size_t n = a->size < cap ? a->size : cap;
  memcpy(out, a->data, n);
  int steps = 1 + (int)(next_rand() % 8);
  for (int s = 0; s < steps; s++) {
    size_t pos = n ? next_rand() % n : 0;
    switch (next_rand() % 5) {
      case 0: /* flip a bit */
        if (n) out[pos] ^= (uint8_t)(1u << (next_rand() % 8));
        break;
      case 1: /* interesting byte */
        if (n) {
          static const uint8_t bytes[] = {0,   '"', ';', ',', '\n', '\r', ':',
                                          '-', '+', 'T', 'Z', 0xff, 0xc3, '{'};
          out[pos] = bytes[next_rand() % sizeof bytes];
        }
        break;
      case 2: /* delete a run */
        if (n) {
          size_t len = 1 + next_rand() % 16;
          if (pos + len > n) len = n - pos;
          memmove(out + pos, out + pos + len, n - pos - len);
          n -= len;
        }
        break;
      case 3: /* duplicate a run */
        if (n && n < cap) {
          size_t len = 1 + next_rand() % 32;
          if (pos + len > n) len = n - pos;
          if (n + len > cap) len = cap - n;
          memmove(out + pos + len, out + pos, n - pos);
          n += len;
        }
        break;
      default: { /* splice the tail of another seed */
        const seed *b = &seeds[next_rand() % n_seeds];
        if (b->size) {
          size_t from = next_rand() % b->size;
          size_t len = b->size - from;
          if (pos + len > cap) len = cap - pos;
          memcpy(out + pos, b->data + from, len);
          n = pos + len;
        }
      }
    }
  }
  return n;
}

int main(int argc, char **argv) {
  const char *runs_env = getenv("FUZZ_RUNS");
  long runs = runs_env ? strtol(runs_env, NULL, 10) : 3000;
  seed *seeds = calloc((size_t)argc, sizeof *seeds);
  size_t n_seeds = 0, cap = 1 << 16;
  if (seeds == NULL) return 1;
  for (int i = 1; i < argc; i++) {
    if (read_file(argv[i], &seeds[n_seeds]) != 0) {
      fprintf(stderr, "fuzz: cannot read seed %s\n", argv[i]);
      return 1;
    }
    LLVMFuzzerTestOneInput(seeds[n_seeds].data, seeds[n_seeds].size);
    if (seeds[n_seeds].size > cap / 2) cap = seeds[n_seeds].size * 2;
    n_seeds++;
  }
  if (n_seeds == 0) {
    fprintf(stderr, "usage: %s SEED...\n", argv[0]);
    return 1;
  }
  uint8_t *buf = malloc(cap);
  if (buf == NULL) return 1;
  for (long r = 0; r < runs; r++) {
    size_t n = mutate(seeds, n_seeds, buf, cap);
    LLVMFuzzerTestOneInput(buf, n);
  }
  printf("%zu seeds and %ld mutations ran clean\n", n_seeds, runs);
  printf("%ld passed, 0 failed\n", (long)n_seeds + runs);
  for (size_t i = 0; i < n_seeds; i++) free(seeds[i].data);
  free(seeds);
  free(buf);
  return 0;
}
