/*
 * test_tz.c -- civil dates, zone conversions across the 2026 Europe/Paris
 * DST changes, and the ISO-8601 / strptime parsers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

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

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_civil),
                                     cmocka_unit_test(test_paris_dst),
                                     cmocka_unit_test(test_paris_hour_by_hour),
                                     cmocka_unit_test(test_iso),
                                     cmocka_unit_test(test_format),
                                     cmocka_unit_test(test_year_range)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
