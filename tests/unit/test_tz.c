/*
 * test_tz.c -- civil dates, zone conversions across the 2026 Europe/Paris
 * DST changes, and the ISO-8601 / strptime parsers; the zone tables and
 * the format fast path checked against the C library (localtime_r,
 * strptime) on random and edge inputs.
 */
#define _GNU_SOURCE /* tm_gmtoff */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tz.h"

static void test_civil(void **state) {
  (void)state;
  assert_int_equal(ib_days_from_civil(1970, 1, 1), 0);
  assert_int_equal(
      ib_days_from_civil(2026, 3, 1) - ib_days_from_civil(2026, 2, 28), 1);
  assert_int_equal(
      ib_days_from_civil(2024, 3, 1) - ib_days_from_civil(2024, 2, 28), 2);
  int y, m, d;
  ib_civil_from_days(ib_days_from_civil(2026, 10, 25), &y, &m, &d);
  assert_int_equal(y * 10000 + m * 100 + d, 20261025);
  assert_int_equal(ib_weekday_from_days(ib_days_from_civil(2026, 11, 26)),
                   3); /* Thu */
  assert_int_equal(ib_weekday_from_days(ib_days_from_civil(2026, 3, 29)),
                   6); /* Sun */
}

static void test_paris_dst(void **state) {
  (void)state;
  ib_time t;
  /* Winter: UTC+1. */
  assert_int_equal(ib_tz_local_to_utc("Europe/Paris", 2026, 1, 15, 9, 0, 0, &t),
                   0);
  assert_int_equal(t, ib_days_from_civil(2026, 1, 15) * 86400 + 8 * 3600);
  /* Summer: UTC+2. */
  assert_int_equal(ib_tz_local_to_utc("Europe/Paris", 2026, 7, 15, 9, 0, 0, &t),
                   0);
  assert_int_equal(t, ib_days_from_civil(2026, 7, 15) * 86400 + 7 * 3600);
  /* 29 March 2026: 02:30 does not exist; moved forward to 03:30 CEST = 01:30Z.
   */
  assert_int_equal(
      ib_tz_local_to_utc("Europe/Paris", 2026, 3, 29, 2, 30, 0, &t), 0);
  assert_int_equal(t, ib_days_from_civil(2026, 3, 29) * 86400 + 3600 + 1800);
  /* The local day of 29 March lasts 23 hours. */
  ib_time a, b;
  ib_tz_local_to_utc("Europe/Paris", 2026, 3, 29, 0, 0, 0, &a);
  ib_tz_local_to_utc("Europe/Paris", 2026, 3, 30, 0, 0, 0, &b);
  assert_int_equal(b - a, 23 * 3600);
  /* 25 October 2026: 02:30 happens twice; the earlier (CEST) is taken. */
  assert_int_equal(
      ib_tz_local_to_utc("Europe/Paris", 2026, 10, 25, 2, 30, 0, &t), 0);
  assert_int_equal(t, ib_days_from_civil(2026, 10, 25) * 86400 + 30 * 60);
  ib_tz_local_to_utc("Europe/Paris", 2026, 10, 25, 0, 0, 0, &a);
  ib_tz_local_to_utc("Europe/Paris", 2026, 10, 26, 0, 0, 0, &b);
  assert_int_equal(b - a, 25 * 3600);
  assert_int_equal(
      ib_tz_local_to_utc("Nowhere/Atlantis", 2026, 1, 1, 0, 0, 0, &t), -1);
}

/* Hour by hour across both 2026 changes, in order (so that the module's
 * window of known offset is reused as much as possible): every result
 * must match the rule CET (+1) before 29 March 01:00Z and after
 * 25 October 01:00Z, CEST (+2) between. */
static void test_paris_hour_by_hour(void **state) {
  (void)state;
  const int64_t spring = ib_days_from_civil(2026, 3, 29) * 86400 + 3600;
  const int64_t autumn = ib_days_from_civil(2026, 10, 25) * 86400 + 3600;
  const int starts[2][3] = {{2026, 3, 25}, {2026, 10, 21}};
  for (int k = 0; k < 2; k++) {
    int64_t day0 = ib_days_from_civil(starts[k][0], starts[k][1], starts[k][2]);
    for (int h = 0; h < 8 * 24; h++) {
      int y, m, d;
      ib_civil_from_days(day0 + h / 24, &y, &m, &d);
      int64_t local = (day0 + h / 24) * 86400 + (h % 24) * 3600 + 17 * 60;
      ib_time got;
      assert_int_equal(
          ib_tz_local_to_utc("Europe/Paris", y, m, d, h % 24, 17, 0, &got), 0);
      int64_t winter = local - 3600, summer = local - 7200;
      int64_t want;
      if (k == 0)
        want = winter < spring ? winter : (summer >= spring ? summer : winter);
      else
        want = summer < autumn ? summer : winter;
      if (got != want)
        fail_msg("%04d-%02d-%02d %02d:17 -> %lld, want %lld", y, m, d, h % 24,
                 (long long)got, (long long)want);
    }
  }
}

static void test_iso(void **state) {
  (void)state;
  ib_time t, base = ib_days_from_civil(2026, 10, 5) * 86400;
  assert_int_equal(ib_parse_iso8601("2026-10-05T09:12:33.000+0200", "UTC", &t),
                   0);
  assert_int_equal(t, base + 7 * 3600 + 12 * 60 + 33);
  assert_int_equal(ib_parse_iso8601("2026-10-05T09:12:33Z", "Europe/Paris", &t),
                   0);
  assert_int_equal(t, base + 9 * 3600 + 12 * 60 + 33);
  assert_int_equal(ib_parse_iso8601("2026-10-05 09:12:33", "UTC", &t), 0);
  assert_int_equal(t, base + 9 * 3600 + 12 * 60 + 33);
  assert_int_equal(ib_parse_iso8601("2026-10-05T09:12:33-05:30", "UTC", &t), 0);
  assert_int_equal(t, base + 14 * 3600 + 42 * 60 + 33);
  assert_int_equal(ib_parse_iso8601("2026-10-05", "Europe/Paris", &t), 0);
  assert_int_equal(t, base - 2 * 3600);
  assert_int_equal(ib_parse_iso8601("2026-02-30", "UTC", &t), -1);
  assert_int_equal(ib_parse_iso8601("2026-10-05T25:00", "UTC", &t), -1);
  assert_int_equal(ib_parse_iso8601("yesterday", "UTC", &t), -1);
  assert_int_equal(ib_parse_iso8601("2026-10-05T09:12:33Zjunk", "UTC", &t), -1);
  char buf[IB_ISO_LEN];
  ib_format_iso8601(base + 7 * 3600 + 12 * 60 + 33, buf);
  assert_string_equal(buf, "2026-10-05T07:12:33Z");
}

static void test_format(void **state) {
  (void)state;
  ib_time t;
  assert_int_equal(ib_parse_with_format("05/10/2026 09:12", "%d/%m/%Y %H:%M",
                                        "Europe/Paris", &t),
                   0);
  assert_int_equal(
      t, ib_days_from_civil(2026, 10, 5) * 86400 + 7 * 3600 + 12 * 60);
  assert_int_equal(
      ib_parse_with_format("31/02/2026 09:12", "%d/%m/%Y %H:%M", "UTC", &t),
      -1);
  assert_int_equal(
      ib_parse_with_format("05/10/2026", "%d/%m/%Y %H:%M", "UTC", &t), -1);
}

/* Instants outside years 0000-9999 print as no year (issue 11.6): the
 * parsers refuse them, whatever the offset or zone that carries them out. */
static void test_year_range(void **state) {
  (void)state;
  ib_time t;
  char iso[IB_ISO_LEN];
  assert_int_equal(ib_parse_iso8601("0000-01-01T00:00:00Z", "UTC", &t), 0);
  assert_int_equal(t, IB_TIME_MIN);
  ib_format_iso8601(t, iso);
  assert_string_equal(iso, "0000-01-01T00:00:00Z");
  assert_int_equal(ib_parse_iso8601("9999-12-31T23:59:59Z", "UTC", &t), 0);
  assert_int_equal(t, IB_TIME_MAX);
  ib_format_iso8601(t, iso);
  assert_string_equal(iso, "9999-12-31T23:59:59Z");
  /* Before 0000 and after 9999, by offset, by zone (Paris was 9 min 21 s
   * ahead of UTC then), by 24:00. */
  assert_int_equal(ib_parse_iso8601("0000-01-01T00:00+01:00", "UTC", &t), -1);
  assert_int_equal(ib_parse_iso8601("0000-01-01T00:05", "Europe/Paris", &t),
                   -1);
  assert_int_equal(ib_parse_iso8601("9999-12-31T23:00-05:00", "UTC", &t), -1);
  assert_int_equal(ib_parse_iso8601("9999-12-31T24:00", "UTC", &t), -1);
  assert_int_equal(ib_parse_iso8601("9999-12-31T22:00", "America/New_York", &t),
                   -1);
  assert_int_equal(
      ib_parse_with_format("01/01/10000 00:00", "%d/%m/%Y %H:%M", "UTC", &t),
      -1);
  assert_int_equal(
      ib_parse_with_format("01/01/-5 00:00", "%d/%m/%Y %H:%M", "UTC", &t), -1);
  assert_int_equal(
      ib_parse_with_format("31/12/9999 23:59", "%d/%m/%Y %H:%M", "UTC", &t), 0);
  assert_true(ib_time_in_range(t));
}

/* ---- differential tests: fast paths against the C library ---- */

static uint64_t rng_state;

static uint64_t rng(void) { /* splitmix64: fixed seed, same run each time */
  uint64_t z = (rng_state += UINT64_C(0x9E3779B97F4A7C15));
  z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
  return z ^ (z >> 31);
}

static unsigned long table_hits(void) {
  unsigned long t, f;
  ib_tz_fast_path_hits(&t, &f);
  return t;
}

static unsigned long format_hits(void) {
  unsigned long t, f;
  ib_tz_fast_path_hits(&t, &f);
  return f;
}

/* Converts local second count `local` in zone with the zone table and
 * with the C library alone; fails on any difference. Returns whether the
 * table converted it. */
static int same_local(const char *zone, int64_t local) {
  int y, mo, d;
  int64_t days = local / 86400, rem = local % 86400;
  if (rem < 0) {
    rem += 86400;
    days--;
  }
  ib_civil_from_days(days, &y, &mo, &d);
  int h = (int)(rem / 3600), mi = (int)(rem / 60 % 60), s = (int)(rem % 60);
  ib_time fast = 0, ref = 0;
  unsigned long before = table_hits();
  int rc_fast = ib_tz_local_to_utc(zone, y, mo, d, h, mi, s, &fast);
  int used_table = table_hits() != before;
  ib_tz_use_fast_paths(0);
  int rc_ref = ib_tz_local_to_utc(zone, y, mo, d, h, mi, s, &ref);
  ib_tz_use_fast_paths(1);
  if (rc_fast != rc_ref || (rc_ref == 0 && fast != ref))
    fail_msg("%s %04d-%02d-%02d %02d:%02d:%02d: table %d/%lld, libc %d/%lld",
             zone, y, mo, d, h, mi, s, rc_fast, (long long)fast, rc_ref,
             (long long)ref);
  return used_table;
}

static const char *const diff_zones[] = {
    "Europe/Paris",      "America/New_York", "Australia/Lord_Howe",
    "Asia/Kolkata",      "Pacific/Apia",     "America/Sao_Paulo",
    "Africa/Casablanca", "Europe/Dublin",    "UTC"};
#define N_DIFF_ZONES (sizeof diff_zones / sizeof diff_zones[0])
#define RANDOM_LOCAL_TIMES 200000

/* 200,000 random local times from 1900 to 2100 in each zone: the table
 * must give what localtime_r gives, and must be what answered for most of
 * them (its transitions reach 2037, or forever without a footer rule). */
static void test_table_random(void **state) {
  (void)state;
  rng_state = 20261201;
  const int64_t lo = ib_days_from_civil(1900, 1, 1) * 86400;
  const int64_t hi = ib_days_from_civil(2101, 1, 1) * 86400;
  for (size_t z = 0; z < N_DIFF_ZONES; z++) {
    unsigned long used = 0;
    for (int i = 0; i < RANDOM_LOCAL_TIMES; i++)
      used += same_local(diff_zones[z],
                         lo + (int64_t)(rng() % (uint64_t)(hi - lo)));
    if (strcmp(diff_zones[z], "UTC") != 0 && used < RANDOM_LOCAL_TIMES / 2)
      fail_msg("%s: the zone table converted only %lu of %d local times",
               diff_zones[z], used, RANDOM_LOCAL_TIMES);
  }
}

/* Around every transition of each zone (years 1800-2200): the local times
 * of the instant read with the offsets before and after, +-1 s and +-1 h:
 * the gaps, the folds and their edges. */
static void test_table_transitions(void **state) {
  (void)state;
  const int64_t lo = ib_days_from_civil(1800, 1, 1) * 86400;
  const int64_t hi = ib_days_from_civil(2200, 1, 1) * 86400;
  static const int64_t deltas[] = {-3600, -1, 0, 1, 3600};
  for (size_t z = 0; z < N_DIFF_ZONES; z++) {
    ib_time *trans;
    size_t n;
    int rule_after;
    assert_int_equal(ib_tz_transitions(diff_zones[z], &trans, &n, &rule_after),
                     0);
    unsigned long used = 0, tried = 0;
    for (size_t i = 0; i < n; i++) {
      if (trans[i] < lo || trans[i] > hi) continue;
      struct tm before, after;
      assert_int_equal(ib_tz_utc_to_local(diff_zones[z], trans[i] - 1, &before),
                       0);
      assert_int_equal(ib_tz_utc_to_local(diff_zones[z], trans[i], &after), 0);
      for (size_t k = 0; k < sizeof deltas / sizeof deltas[0]; k++) {
        used +=
            same_local(diff_zones[z], trans[i] + before.tm_gmtoff + deltas[k]);
        used +=
            same_local(diff_zones[z], trans[i] + after.tm_gmtoff + deltas[k]);
        tried += 2;
      }
    }
    free(trans);
    if (strcmp(diff_zones[z], "UTC") != 0 && (tried == 0 || used < tried / 2))
      fail_msg("%s: the zone table converted %lu of %lu local times",
               diff_zones[z], used, tried);
  }
}

/* Known answers the table must give itself: Lord Howe's 30-minute change,
 * Apia's skipped 30 December 2011, Dublin's winter "negative DST". */
static void test_table_known(void **state) {
  (void)state;
  ib_time t;
  unsigned long before = table_hits();
  /* Lord Howe, 2026-04-05 02:00 LHDT (+11) -> 01:30 LHST (+10:30): 01:45
   * happens twice, the earlier is 2026-04-04T14:45Z. */
  assert_int_equal(
      ib_tz_local_to_utc("Australia/Lord_Howe", 2026, 4, 5, 1, 45, 0, &t), 0);
  assert_int_equal(
      t, ib_days_from_civil(2026, 4, 4) * 86400 + 14 * 3600 + 45 * 60);
  /* Apia went from -10 to +14 at the end of 29 December 2011: noon on the
   * 30th does not exist and moves forward by the gap (24 h). */
  assert_int_equal(
      ib_tz_local_to_utc("Pacific/Apia", 2011, 12, 30, 12, 0, 0, &t), 0);
  assert_int_equal(t, ib_days_from_civil(2011, 12, 30) * 86400 + 22 * 3600);
  /* Dublin in January is UTC+0, in July UTC+1. */
  assert_int_equal(
      ib_tz_local_to_utc("Europe/Dublin", 2026, 1, 10, 9, 0, 0, &t), 0);
  assert_int_equal(t, ib_days_from_civil(2026, 1, 10) * 86400 + 9 * 3600);
  assert_int_equal(
      ib_tz_local_to_utc("Europe/Dublin", 2026, 7, 10, 9, 0, 0, &t), 0);
  assert_int_equal(t, ib_days_from_civil(2026, 7, 10) * 86400 + 8 * 3600);
  assert_int_equal(table_hits() - before, 4);
  /* Before the first transition the C library answers (and still right):
   * Paris in 1850 was LMT, +00:09:21. */
  before = table_hits();
  assert_int_equal(ib_tz_local_to_utc("Europe/Paris", 1850, 1, 1, 0, 9, 21, &t),
                   0);
  assert_int_equal(t, ib_days_from_civil(1850, 1, 1) * 86400);
  assert_int_equal(table_hits() - before, 0);
}

/* More zones than the cache keeps, in turn: evicted tables are read again
 * and give the same answers; freeing the cache mid-way changes nothing. */
static void test_table_eviction(void **state) {
  (void)state;
  static const char *const zones[] = {
      "Europe/Paris",      "America/New_York", "Australia/Lord_Howe",
      "Asia/Kolkata",      "Pacific/Apia",     "America/Sao_Paulo",
      "Africa/Casablanca", "Europe/Dublin",    "Asia/Tokyo",
      "America/Chicago",   "Europe/London",    "Nowhere/Atlantis"};
  rng_state = 7;
  const int64_t lo = ib_days_from_civil(1990, 1, 1) * 86400;
  for (int round = 0; round < 40; round++) {
    if (round == 20) ib_tz_cache_free();
    for (size_t z = 0; z < sizeof zones / sizeof zones[0]; z++)
      same_local(zones[z], lo + (int64_t)(rng() % (UINT64_C(40) * 31556952)));
  }
}

/* Damaged zone files (cut short, bytes flipped, huge counts in a header)
 * in a TZDIR of their own: reading them must stay inside the file and
 * give an answer or -1, never a crash (ASan and valgrind watch). */
static void test_table_hostile_files(void **state) {
  (void)state;
  static unsigned char good[64 * 1024], bad[64 * 1024];
  FILE *f = fopen("/usr/share/zoneinfo/Europe/Paris", "rb");
  if (f == NULL) skip();
  size_t len = fread(good, 1, sizeof good, f);
  fclose(f);
  assert_true(len > 44 && len < sizeof good);
  char dir[] = "/tmp/ib-tzdir-XXXXXX", path[128], zone[32];
  assert_non_null(mkdtemp(dir));
  const char *old = getenv("TZDIR");
  char saved[512];
  snprintf(saved, sizeof saved, "%s", old ? old : "/usr/share/zoneinfo");
  setenv("TZDIR", dir, 1);
  rng_state = 3;
  unsigned long hits_before = table_hits();
  for (int k = 0; k < 300; k++) {
    size_t n = len;
    memcpy(bad, good, len);
    if (k % 3 == 0) {
      n = (size_t)(rng() % len);
    } else if (k % 3 == 1) {
      for (int i = 1 + (int)(rng() % 8); i > 0; i--)
        bad[rng() % len] ^= (unsigned char)(1 + rng() % 255);
    } else {
      size_t at = 20 + 4 * (size_t)(rng() % 6); /* a count of a header */
      if (rng() % 2) at += 44 + (size_t)(rng() % (len - 100));
      uint32_t v = rng() % 2 ? 0xFFFFFFFFu : (uint32_t)rng();
      for (int i = 0; i < 4 && at + (size_t)i < len; i++)
        bad[at + (size_t)i] = (unsigned char)(v >> (24 - 8 * i));
    }
    snprintf(zone, sizeof zone, "bad%d", k);
    snprintf(path, sizeof path, "%s/%s", dir, zone);
    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bad, 1, n, f), n);
    fclose(f);
    ib_time t = 0;
    for (int y = 1900; y <= 2100; y += 25) {
      int rc = ib_tz_local_to_utc(zone, y, 3, 29, 2, 30, 0, &t);
      assert_true(rc == 0 || rc == -1);
    }
    ib_time *trans = NULL;
    size_t count = 0;
    int rule_after = 0;
    if (ib_tz_transitions(zone, &trans, &count, &rule_after) != 0)
      assert_true(trans == NULL && count == 0);
    free(trans);
    unlink(path);
  }
  setenv("TZDIR", saved, 1);
  rmdir(dir);
  ib_tz_cache_free();
  /* Some damaged files still read as tables (a flipped name byte): the
   * table reader itself ran on damaged data, not only the refusals. */
  assert_true(table_hits() - hits_before > 0);
}

/* Texts for format fmt: a valid one built from random fields, then
 * mutated: another digit, a wrong separator, a byte dropped or added, a
 * one-digit field, blanks before or after, and the boundary values. */
static void make_text(const char *fmt, int kind, char *buf, size_t cap) {
  size_t n = 0;
  int y = (int)(rng() % 10000), mo = 1 + (int)(rng() % 12),
      d = 1 + (int)(rng() % 31), h = (int)(rng() % 24), mi = (int)(rng() % 60),
      s = (int)(rng() % 62);
  if (kind == 1) { /* boundaries: 24:00, 23:60, :60, :61, 31/02, 00 */
    static const int edge[][6] = {
        {2026, 1, 1, 24, 0, 0},     {2026, 1, 1, 23, 60, 0},
        {2026, 1, 1, 23, 59, 60},   {2026, 1, 1, 23, 59, 61},
        {2026, 2, 31, 0, 0, 0},     {2024, 2, 29, 0, 0, 0},
        {2026, 2, 29, 0, 0, 0},     {2026, 0, 1, 0, 0, 0},
        {2026, 13, 1, 0, 0, 0},     {2026, 1, 0, 0, 0, 0},
        {2026, 1, 32, 0, 0, 0},     {0, 1, 1, 0, 0, 0},
        {9999, 12, 31, 23, 59, 59}, {2026, 3, 29, 2, 30, 0},
        {2026, 10, 25, 2, 30, 0},   {2026, 4, 31, 12, 0, 0},
        {2026, 1, 1, 23, 59, 62},   {2026, 1, 1, 30, 0, 0}};
    const int *e = edge[rng() % (sizeof edge / sizeof edge[0])];
    y = e[0], mo = e[1], d = e[2], h = e[3], mi = e[4], s = e[5];
  }
  int one_digit = kind == 2; /* %d/%m/%H... as one digit when < 10 */
  for (const char *f = fmt; *f && n + 8 < cap; f++) {
    if (*f != '%') {
      buf[n++] = *f;
      continue;
    }
    f++;
    int v = *f == 'd'   ? d
            : *f == 'm' ? mo
            : *f == 'Y' ? y
            : *f == 'H' ? h
            : *f == 'M' ? mi
                        : s;
    if (*f == '%') {
      buf[n++] = '%';
    } else if (*f == 'Y') {
      n += (size_t)snprintf(buf + n, cap - n, "%04d", v);
    } else {
      n += (size_t)snprintf(buf + n, cap - n, one_digit ? "%d" : "%02d", v);
    }
  }
  buf[n] = '\0';
  size_t len = n, pos = len ? (size_t)(rng() % len) : 0;
  static const char junk[] = "0123456789/-:. \tTZx%";
  switch (kind) {
    case 3: /* one byte replaced: another digit or a wrong separator */
      if (len) buf[pos] = junk[rng() % (sizeof junk - 1)];
      break;
    case 4: /* one byte dropped */
      if (len) memmove(buf + pos, buf + pos + 1, len - pos);
      break;
    case 5: /* one byte added */
      if (len + 2 < cap) {
        memmove(buf + pos + 1, buf + pos, len - pos + 1);
        buf[pos] = junk[rng() % (sizeof junk - 1)];
      }
      break;
    case 6: /* trailing blanks, or trailing junk */
      snprintf(
          buf + len, cap - len, "%s",
          (const char *[]){"  ", "\t", " \n", " x", "0", ":00"}[rng() % 6]);
      break;
    case 7: /* leading blanks */
      memmove(buf + 1, buf, len + 1);
      buf[0] = rng() % 2 ? ' ' : '\t';
      break;
    case 8: /* random digits and separators of the same length */
      for (size_t i = 0; i < len; i++)
        buf[i] = rng() % 4 ? (char)('0' + rng() % 10)
                           : junk[rng() % (sizeof junk - 1)];
      break;
    default: break;
  }
}

/* The format fast path against strptime: same accepted texts, same
 * instants, in a DST zone and in UTC; and it must be what read the
 * well-formed texts. */
static void test_format_fast_path(void **state) {
  (void)state;
  static const char *const formats[] = {"%d/%m/%Y %H:%M", "%Y-%m-%d %H:%M:%S",
                                        "%d.%m.%Y",       "%m/%d/%Y %H:%M",
                                        "%Y%m%d%H%M%S",   "%d/%m/%Y%%%H"};
  static const char *const zones[] = {"Europe/Paris", "UTC"};
  rng_state = 42;
  for (size_t f = 0; f < sizeof formats / sizeof formats[0]; f++) {
    unsigned long accepted = 0, valid = 0, fast_before = format_hits();
    for (int i = 0; i < 20000; i++) {
      char text[96];
      int kind = (int)(rng() % 9);
      make_text(formats[f], kind, text, sizeof text);
      const char *zone = zones[rng() % 2];
      ib_time fast = 0, ref = 0;
      int rc_fast = ib_parse_with_format(text, formats[f], zone, &fast);
      ib_tz_use_fast_paths(0);
      int rc_ref = ib_parse_with_format(text, formats[f], zone, &ref);
      ib_tz_use_fast_paths(1);
      if (rc_fast != rc_ref || (rc_ref == 0 && fast != ref))
        fail_msg("'%s' by '%s' in %s: fast %d/%lld, strptime %d/%lld", text,
                 formats[f], zone, rc_fast, (long long)fast, rc_ref,
                 (long long)ref);
      accepted += rc_ref == 0;
      valid += kind == 0;
    }
    /* Every kind-0 text is well formed (31/02 and friends are refused
     * after the fields are read, still by the fast path). */
    if (format_hits() - fast_before < valid)
      fail_msg(
          "'%s': the fast path read %lu texts, fewer than the %lu "
          "well-formed ones",
          formats[f], format_hits() - fast_before, valid);
    if (accepted < 1000)
      fail_msg("'%s': only %lu texts accepted", formats[f], accepted);
  }
  /* Shapes the fast path leaves to strptime, which still decides. */
  ib_time t;
  unsigned long before = format_hits();
  assert_int_equal(
      ib_parse_with_format("5/10/2026 9:12", "%d/%m/%Y %H:%M", "UTC", &t), 0);
  assert_int_equal(t, ib_days_from_civil(2026, 10, 5) * 86400 + 9 * 3600 + 720);
  assert_int_equal(ib_parse_with_format(" 05/10/2026", "%d/%m/%Y", "UTC", &t),
                   0);
  assert_int_equal(ib_parse_with_format("05 Oct 2026", "%d %b %Y", "UTC", &t),
                   0);
  assert_int_equal(t, ib_days_from_civil(2026, 10, 5) * 86400);
  assert_int_equal(
      ib_parse_with_format("05/10/2026 24:00", "%d/%m/%Y %H:%M", "UTC", &t),
      -1);
  assert_int_equal(format_hits() - before, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_civil),
                                     cmocka_unit_test(test_paris_dst),
                                     cmocka_unit_test(test_paris_hour_by_hour),
                                     cmocka_unit_test(test_iso),
                                     cmocka_unit_test(test_format),
                                     cmocka_unit_test(test_year_range),
                                     cmocka_unit_test(test_table_random),
                                     cmocka_unit_test(test_table_transitions),
                                     cmocka_unit_test(test_table_known),
                                     cmocka_unit_test(test_table_eviction),
                                     cmocka_unit_test(test_table_hostile_files),
                                     cmocka_unit_test(test_format_fast_path)};
  int failed = cmocka_run_group_tests(tests, NULL, NULL);
  ib_tz_cache_free();
  return failed;
}
