/*
 * tz_bench.c -- ns per ib_parse_with_format call on random Europe/Paris
 * local times in "%d/%m/%Y %H:%M" (an unsorted CSV export's date cells),
 * through the C library alone (strptime + localtime_r, as before the zone
 * tables) and through the fast paths, rounds interleaved. Prints figures
 * only and checks that both paths give the same instants; asserts nothing
 * about speed. Built only with -DIB_BENCH=ON:
 *
 *   cmake -S . -B build -DIB_BENCH=ON && cmake --build build --target tz_bench
 *   TZDIR=/usr/share/zoneinfo build/tz_bench [N_TEXTS] [ROUNDS]
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "tz.h"

static uint64_t rng_state = 1;

static uint64_t rng(void) { /* splitmix64 */
  uint64_t z = (rng_state += UINT64_C(0x9E3779B97F4A7C15));
  z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
  return z ^ (z >> 31);
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Parses every text; returns the seconds taken, *sum the instants'. */
static double run(char (*texts)[24], size_t n, int fast, int64_t *sum) {
  ib_tz_use_fast_paths(fast);
  int64_t s = 0;
  double t0 = now();
  for (size_t i = 0; i < n; i++) {
    ib_time t = 0;
    if (ib_parse_with_format(texts[i], "%d/%m/%Y %H:%M", "Europe/Paris", &t) ==
        0)
      s += t;
  }
  double dt = now() - t0;
  *sum = s;
  return dt;
}

int main(int argc, char **argv) {
  size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 300000;
  int rounds = argc > 2 ? atoi(argv[2]) : 5;
  if (n == 0 || rounds <= 0) {
    fprintf(stderr, "usage: tz_bench [N_TEXTS > 0] [ROUNDS > 0]\n");
    return 2;
  }
  char(*texts)[24] = malloc(n * sizeof *texts); /* owned here */
  if (texts == NULL) {
    fprintf(stderr, "tz_bench: out of memory for %zu texts\n", n);
    return 1;
  }
  /* Local times from 2015 to 2030 in random order, DST changes included. */
  int64_t lo = ib_days_from_civil(2015, 1, 1), span = 16 * 365;
  for (size_t i = 0; i < n; i++) {
    int y, m, d;
    ib_civil_from_days(lo + (int64_t)(rng() % (uint64_t)span), &y, &m, &d);
    snprintf(texts[i], sizeof texts[i], "%02d/%02d/%04d %02d:%02d", d, m, y,
             (int)(rng() % 24), (int)(rng() % 60));
  }
  double best_old = 1e9, best_new = 1e9;
  int64_t sum_old = 0, sum_new = 0;
  for (int r = 0; r < rounds; r++) {
    double a = run(texts, n, 0, &sum_old), b = run(texts, n, 1, &sum_new);
    if (a < best_old) best_old = a;
    if (b < best_new) best_new = b;
  }
  unsigned long tables, formats;
  ib_tz_fast_path_hits(&tables, &formats);
  printf(
      "%zu texts, best of %d rounds: C library %.1f ns/call, fast paths "
      "%.1f ns/call (%.1fx); zone table %lu, format fast path %lu; "
      "same instants: %s\n",
      n, rounds, best_old * 1e9 / (double)n, best_new * 1e9 / (double)n,
      best_old / best_new, tables, formats, sum_old == sum_new ? "yes" : "NO");
  free(texts);
  ib_tz_cache_free();
  return sum_old == sum_new ? 0 : 1;
}
