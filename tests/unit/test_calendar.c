/*
 * test_calendar.c -- business calendar arithmetic with hand-computed
 * expectations: lunch breaks, weekends, holidays, 24:00, both Paris DST
 * changes of 2026, queries outside the precomputed span. Instants are
 * written in UTC with the Paris offset worked out by hand (CET = UTC+1,
 * CEST = UTC+2), so the tests do not lean on the code under test.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "calendar.h"
#include "tz.h"

#define H 3600
#define M 60

static ib_time utc(int y, int mo, int d, int h, int mi) {
  return ib_days_from_civil(y, mo, d) * 86400 + (int64_t)h * H + mi * M;
}

static void set_day(ib_calendar_cfg *c, int wd, int n, const int *mins) {
  c->week[wd].n = n;
  for (int i = 0; i < n; i++) {
    c->week[wd].ranges[i].start_min = mins[2 * i];
    c->week[wd].ranges[i].end_min = mins[2 * i + 1];
  }
}

static int32_t holidays[] = {20261111, 20261225};

/* office-paris of SPEC §4. */
static ib_calendar_cfg office(void) {
  ib_calendar_cfg c;
  memset(&c, 0, sizeof c);
  c.name = "office-paris";
  c.timezone = "Europe/Paris";
  c.has_hours = 1;
  static const int mon[] = {8 * 60, 12 * 60 + 30, 13 * 60 + 30, 18 * 60};
  static const int day[] = {8 * 60, 18 * 60};
  static const int fri[] = {8 * 60, 17 * 60};
  set_day(&c, 0, 2, mon);
  set_day(&c, 1, 1, day);
  set_day(&c, 2, 1, day);
  set_day(&c, 3, 1, day);
  set_day(&c, 4, 1, fri);
  c.holidays = holidays;
  c.n_holidays = 2;
  return c;
}

static ib_calendar *build(const ib_calendar_cfg *c, ib_time lo, ib_time hi) {
  char err[256] = "";
  ib_calendar *cal = ib_calendar_build(c, lo, hi, err, sizeof err);
  if (cal == NULL) fail_msg("build: %s", err);
  return cal;
}

static void test_always_open(void **state) {
  (void)state;
  ib_calendar_cfg c;
  memset(&c, 0, sizeof c);
  c.name = "24x7";
  c.timezone = "UTC";
  ib_calendar *cal = build(&c, utc(2026, 10, 1, 0, 0), utc(2026, 11, 1, 0, 0));
  assert_int_equal(ib_calendar_open(cal, 100, 250), 150);
  assert_int_equal(ib_calendar_open(cal, 250, 100), 0);
  assert_int_equal(ib_calendar_open(cal, 250, 250), 0);
  /* October 2026 has 31 days. */
  assert_int_equal(
      ib_calendar_open(cal, utc(2026, 10, 1, 0, 0), utc(2026, 11, 1, 0, 0)),
      31 * 86400);
  ib_calendar_free(cal);
}

static void test_lunch_break(void **state) {
  (void)state;
  ib_calendar_cfg c = office();
  ib_calendar *cal = build(&c, utc(2026, 10, 1, 0, 0), utc(2026, 11, 1, 0, 0));
  /* Mon 5 Oct 12:00 -> 14:00 CEST: 12:00-12:30 and 13:30-14:00. */
  assert_int_equal(
      ib_calendar_open(cal, utc(2026, 10, 5, 10, 0), utc(2026, 10, 5, 12, 0)),
      H);
  /* Entirely inside the lunch break. */
  assert_int_equal(
      ib_calendar_open(cal, utc(2026, 10, 5, 10, 40), utc(2026, 10, 5, 11, 20)),
      0);
  /* A whole Monday: 4h30 + 4h30. */
  assert_int_equal(
      ib_calendar_open(cal, utc(2026, 10, 4, 22, 0), utc(2026, 10, 5, 22, 0)),
      9 * H);
  /* One second inside hours. */
  ib_time t = utc(2026, 10, 6, 8, 0);
  assert_int_equal(ib_calendar_open(cal, t, t + 1), 1);
  assert_int_equal(ib_calendar_open(cal, t, t), 0);
  assert_int_equal(ib_calendar_open(cal, t + 5, t), 0);
  ib_calendar_free(cal);
}

static void test_weekend_and_week(void **state) {
  (void)state;
  ib_calendar_cfg c = office();
  ib_calendar *cal = build(&c, utc(2026, 10, 1, 0, 0), utc(2026, 11, 1, 0, 0));
  /* Fri 9 Oct 16:30 CEST -> Mon 12 Oct 08:30 CEST: 30 min + 30 min. */
  assert_int_equal(
      ib_calendar_open(cal, utc(2026, 10, 9, 14, 30), utc(2026, 10, 12, 6, 30)),
      H);
  /* Created Saturday, answered Sunday: nothing open. */
  assert_int_equal(
      ib_calendar_open(cal, utc(2026, 10, 10, 9, 0), utc(2026, 10, 11, 15, 0)),
      0);
  /* Mon 12 -> Mon 19 Oct (local midnights): 9 + 10*3 + 9 = 48 h. */
  assert_int_equal(
      ib_calendar_open(cal, utc(2026, 10, 11, 22, 0), utc(2026, 10, 18, 22, 0)),
      48 * H);
  ib_calendar_free(cal);
}

static void test_holiday(void **state) {
  (void)state;
  ib_calendar_cfg c = office();
  ib_calendar *cal = build(&c, utc(2026, 11, 1, 0, 0), utc(2026, 12, 1, 0, 0));
  /* Tue 10 Nov 17:00 CET -> Thu 12 Nov 09:00 CET; Wed 11 Nov is closed. */
  assert_int_equal(
      ib_calendar_open(cal, utc(2026, 11, 10, 16, 0), utc(2026, 11, 12, 8, 0)),
      2 * H);
  ib_calendar_free(cal);
}

static void test_dst_march(void **state) {
  (void)state;
  ib_calendar_cfg c = office();
  ib_calendar *cal = build(&c, utc(2026, 3, 1, 0, 0), utc(2026, 4, 1, 0, 0));
  /* Fri 27 Mar 16:00 CET (15:00Z) -> Mon 30 Mar 09:00 CEST (07:00Z):
   * 1 h on Friday, 1 h on Monday; a fixed offset would say otherwise. */
  assert_int_equal(
      ib_calendar_open(cal, utc(2026, 3, 27, 15, 0), utc(2026, 3, 30, 7, 0)),
      2 * H);
  /* Monday 30 Mar opens at 06:00Z (08:00 CEST), not 07:00Z. */
  assert_int_equal(
      ib_calendar_open(cal, utc(2026, 3, 30, 5, 0), utc(2026, 3, 30, 7, 0)), H);
  ib_calendar_free(cal);

  /* A calendar open every day all day in Paris: Sunday 29 Mar lasts 23 h. */
  ib_calendar_cfg all = office();
  static const int whole[] = {0, 24 * 60};
  for (int wd = 0; wd < 7; wd++) set_day(&all, wd, 1, whole);
  all.n_holidays = 0;
  cal = build(&all, utc(2026, 3, 1, 0, 0), utc(2026, 4, 1, 0, 0));
  /* 29 Mar 00:00 CET = 28 Mar 23:00Z; 30 Mar 00:00 CEST = 29 Mar 22:00Z. */
  assert_int_equal(
      ib_calendar_open(cal, utc(2026, 3, 28, 23, 0), utc(2026, 3, 29, 22, 0)),
      23 * H);
  ib_calendar_free(cal);
}

static void test_dst_october(void **state) {
  (void)state;
  ib_calendar_cfg c = office();
  ib_calendar *cal = build(&c, utc(2026, 10, 1, 0, 0), utc(2026, 11, 1, 0, 0));
  /* Fri 23 Oct 16:00 CEST (14:00Z) -> Mon 26 Oct 10:00 CET (09:00Z):
   * 1 h Friday + 2 h Monday. */
  assert_int_equal(
      ib_calendar_open(cal, utc(2026, 10, 23, 14, 0), utc(2026, 10, 26, 9, 0)),
      3 * H);
  ib_calendar_free(cal);

  ib_calendar_cfg all = office();
  static const int whole[] = {0, 24 * 60};
  for (int wd = 0; wd < 7; wd++) set_day(&all, wd, 1, whole);
  all.n_holidays = 0;
  cal = build(&all, utc(2026, 10, 1, 0, 0), utc(2026, 11, 1, 0, 0));
  /* 25 Oct 00:00 CEST = 24 Oct 22:00Z; 26 Oct 00:00 CET = 25 Oct 23:00Z. */
  assert_int_equal(
      ib_calendar_open(cal, utc(2026, 10, 24, 22, 0), utc(2026, 10, 25, 23, 0)),
      25 * H);
  ib_calendar_free(cal);
}

static void test_midnight_ranges(void **state) {
  (void)state;
  ib_calendar_cfg c;
  memset(&c, 0, sizeof c);
  c.name = "night";
  c.timezone = "UTC";
  c.has_hours = 1;
  static const int sat[] = {20 * 60, 24 * 60};
  static const int sun[] = {0, 2 * 60};
  set_day(&c, 5, 1, sat);
  set_day(&c, 6, 1, sun);
  ib_calendar *cal = build(&c, utc(2026, 10, 1, 0, 0), utc(2026, 11, 1, 0, 0));
  /* Sat 10 Oct 23:00 -> Sun 11 Oct 01:00, across midnight. */
  assert_int_equal(
      ib_calendar_open(cal, utc(2026, 10, 10, 23, 0), utc(2026, 10, 11, 1, 0)),
      2 * H);
  /* The whole weekend: 4 h + 2 h. */
  assert_int_equal(
      ib_calendar_open(cal, utc(2026, 10, 9, 0, 0), utc(2026, 10, 13, 0, 0)),
      6 * H);
  ib_calendar_free(cal);
}

static void test_outside_span(void **state) {
  (void)state;
  ib_calendar_cfg c = office();
  ib_calendar *cal = build(&c, utc(2026, 10, 1, 0, 0), utc(2026, 11, 1, 0, 0));
  /* Thu 24 Dec 17:00 CET -> Mon 28 Dec 09:00 CET, Christmas closed. */
  assert_int_equal(
      ib_calendar_open(cal, utc(2026, 12, 24, 16, 0), utc(2026, 12, 28, 8, 0)),
      2 * H);
  /* Straddling the span's start: Wed 30 Sep 17:00 -> Thu 1 Oct 09:00 CEST. */
  assert_int_equal(
      ib_calendar_open(cal, utc(2026, 9, 30, 15, 0), utc(2026, 10, 1, 7, 0)),
      2 * H);

  /* The precomputed path and the day-walking path agree everywhere. */
  ib_calendar *year = build(&c, utc(2026, 1, 1, 0, 0), utc(2027, 1, 1, 0, 0));
  ib_calendar *tiny = build(&c, utc(2026, 6, 1, 0, 0), utc(2026, 6, 2, 0, 0));
  srand(42);
  for (int i = 0; i < 2000; i++) {
    ib_time a = utc(2026, 1, 1, 0, 0) + (ib_time)(rand() % (364 * 86400));
    ib_time b = a + (ib_time)(rand() % (20 * 86400));
    assert_int_equal(ib_calendar_open(year, a, b),
                     ib_calendar_open(tiny, a, b));
  }
  ib_calendar_free(year);
  ib_calendar_free(tiny);
  ib_calendar_free(cal);
}

static void test_bad_zone(void **state) {
  (void)state;
  ib_calendar_cfg c = office();
  c.timezone = "Mars/Olympus_Mons";
  char err[256] = "";
  assert_null(ib_calendar_build(&c, 0, 86400, err, sizeof err));
  assert_non_null(strstr(err, "Mars/Olympus_Mons"));
}

/* ---- whole weeks outside the precomputed window (issue 11.5) ---- */

static uint64_t rng_state = 0x9E3779B97F4A7C15u;
static uint64_t rng(void) { /* xorshift64: the same spans on every run */
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

/* Holidays far from the window, some in the years of each era. */
static int32_t far_holidays[] = {15000105, 18500704, 19000101,
                                 19000102, 19951225, 20261111,
                                 20261225, 20800101, 21000704};

/* Hours that cross DST changes (night and whole-day ranges), in `zone`. */
static ib_calendar_cfg night_shift(const char *zone) {
  ib_calendar_cfg c = office();
  c.name = "night";
  c.timezone = (char *)zone;
  static const int sat[] = {0, 24 * 60};
  static const int sun[] = {60, 3 * 60 + 30, 22 * 60, 24 * 60};
  static const int wed[] = {0, 2 * 60 + 30, 8 * 60, 18 * 60};
  set_day(&c, 2, 2, wed);
  set_day(&c, 5, 1, sat);
  set_day(&c, 6, 2, sun);
  c.holidays = far_holidays;
  c.n_holidays = sizeof far_holidays / sizeof far_holidays[0];
  return c;
}

static void compare_random_spans(const ib_calendar_cfg *c, int n,
                                 int max_years) {
  ib_calendar *cal = build(c, utc(2026, 10, 1, 0, 0), utc(2026, 11, 1, 0, 0));
  for (int i = 0; i < n; i++) {
    /* Starts from 1700 to 2300; half the spans short, half long. */
    ib_time a = utc(1700, 1, 1, 0, 0) +
                (ib_time)(rng() % (uint64_t)(600LL * 365 * 86400));
    int64_t span =
        i % 2 ? (int64_t)(rng() % (uint64_t)(2LL * 365 * 86400))
              : (int64_t)(rng() % (uint64_t)((int64_t)max_years * 365 * 86400));
    ib_time b = a + span;
    int64_t fast = ib_calendar_open(cal, a, b);
    int64_t slow = ib_calendar_open_by_days(cal, a, b);
    if (fast != slow)
      fail_msg("%s in %s: [%lld, %lld) whole weeks %lld, day walk %lld",
               c->name, c->timezone, (long long)a, (long long)b,
               (long long)fast, (long long)slow);
  }
  ib_calendar_free(cal);
}

static void test_weeks_match_day_walk(void **state) {
  (void)state;
  static const char *const zones[] = {"Europe/Paris", "America/New_York",
                                      "Australia/Lord_Howe", "Asia/Kolkata"};
  for (size_t z = 0; z < sizeof zones / sizeof zones[0]; z++) {
    ib_calendar_cfg c = office();
    c.timezone = (char *)zones[z];
    c.holidays = far_holidays;
    c.n_holidays = sizeof far_holidays / sizeof far_holidays[0];
    compare_random_spans(&c, 24, 40);
    ib_calendar_cfg n = night_shift(zones[z]);
    compare_random_spans(&n, 24, 40);
  }
}

/* Year 0001 to 2026 is arithmetic, not 740 000 days walked, and agrees
 * with the walk over the era before the zone's first change. */
static void test_year_one(void **state) {
  (void)state;
  ib_calendar_cfg c = night_shift("Europe/Paris");
  ib_calendar *cal = build(&c, utc(2026, 10, 1, 0, 0), utc(2026, 11, 1, 0, 0));
  ib_time y1 = utc(1, 1, 1, 0, 0);
  assert_int_equal(ib_calendar_open(cal, y1, utc(300, 3, 1, 0, 0)),
                   ib_calendar_open_by_days(cal, y1, utc(300, 3, 1, 0, 0)));
  /* Arithmetic, not a walk: the days walked one by one are counted by the
   * calendar (no timing, so the check holds on any machine). */
  int64_t walked0 = ib_calendar_days_walked(cal);
  int64_t open = ib_calendar_open(cal, y1, utc(2026, 10, 5, 12, 0));
  int64_t walked = ib_calendar_days_walked(cal) - walked0;
  assert_true(open > 0);
  if (walked > 20000)
    fail_msg("year 0001 -> 2026 walked %lld days one by one (of 739,500)",
             (long long)walked);
  /* A year-0001 instant widening the build does not change other spans. */
  ib_calendar *wide = build(&c, y1, utc(2026, 11, 1, 0, 0));
  for (int i = 0; i < 200; i++) {
    ib_time a = utc(2026, 10, 1, 0, 0) + (ib_time)(rng() % (30 * 86400));
    ib_time b = a + (ib_time)(rng() % (10 * 86400));
    assert_int_equal(ib_calendar_open(wide, a, b), ib_calendar_open(cal, a, b));
  }
  ib_calendar_free(wide);
  ib_calendar_free(cal);
}

/* After the zone's last listed change (DST by rule, far in the future):
 * the rule's changes are found by bisection and whole 400-year cycles
 * counted once; the result equals the day walk, and a 3,700-year span
 * (a pause ending in 5704, found by the fuzzer) walks few days. */
static void test_far_future_rule(void **state) {
  (void)state;
  ib_calendar_cfg c = office(); /* Europe/Paris, holidays in 2026 */
  ib_calendar *cal = build(&c, utc(2026, 10, 1, 0, 0), utc(2026, 11, 1, 0, 0));
  for (int i = 0; i < 12; i++) {
    ib_time a = utc(2040 + (int)(rng() % 400), 1, 1, 0, 0) +
                (ib_time)(rng() % (365 * 86400));
    ib_time b = a + (ib_time)(rng() % (3 * 365 * 86400));
    assert_int_equal(ib_calendar_open(cal, a, b),
                     ib_calendar_open_by_days(cal, a, b));
  }
  /* More than three cycles: the cycle arithmetic against the walk. */
  ib_time a = utc(2031, 3, 4, 10, 17), b = utc(3262, 8, 9, 15, 1);
  assert_int_equal(ib_calendar_open(cal, a, b),
                   ib_calendar_open_by_days(cal, a, b));
  int64_t walked0 = ib_calendar_days_walked(cal);
  int64_t open =
      ib_calendar_open(cal, utc(2026, 10, 6, 9, 0), utc(5704, 10, 6, 0, 0));
  int64_t walked = ib_calendar_days_walked(cal) - walked0;
  assert_true(open > 0);
  if (walked > 100000)
    fail_msg("2026 -> 5704 walked %lld days one by one (of 1,343,000)",
             (long long)walked);
  ib_calendar_free(cal);
}

/* ib_calendar_after: the instant n open seconds after t, hand-computed
 * (Paris: CEST = UTC+2 until 25 Oct 2026 and from 29 Mar 2026, CET = UTC+1
 * otherwise); in the precomputed window and outside it alike. */
static void check_after(const ib_calendar_cfg *c, ib_time t, int64_t n,
                        ib_time want) {
  ib_calendar *in = build(c, utc(2026, 1, 1, 0, 0), utc(2027, 1, 1, 0, 0));
  ib_calendar *out = build(c, utc(2030, 1, 1, 0, 0), utc(2030, 2, 1, 0, 0));
  assert_int_equal(ib_calendar_after(in, t, n), want);
  assert_int_equal(ib_calendar_after(out, t, n), want);
  assert_int_equal(ib_calendar_open(in, t, want), n);
  ib_calendar_free(in);
  ib_calendar_free(out);
}

static void test_after(void **state) {
  (void)state;
  ib_calendar_cfg c = office();
  /* Lunch: Monday 5 Oct 12:00 local + 1 h = 30 min, lunch, 30 min -> 14:00
   * local (12:00Z). */
  check_after(&c, utc(2026, 10, 5, 10, 0), H, utc(2026, 10, 5, 12, 0));
  /* Weekend: Friday 9 Oct 16:30 local + 1 h = 30 min to 17:00, then Monday
   * 12 Oct 08:30 local (06:30Z). */
  check_after(&c, utc(2026, 10, 9, 14, 30), H, utc(2026, 10, 12, 6, 30));
  /* Holiday: Tuesday 10 Nov 17:30 CET + 1 h = 30 min, Wednesday 11 Nov
   * closed, Thursday 12 Nov 08:30 CET (07:30Z). */
  check_after(&c, utc(2026, 11, 10, 16, 30), H, utc(2026, 11, 12, 7, 30));
  /* DST October: Friday 23 Oct 16:00 CEST + 2 h = 1 h, weekend (clocks go
   * back on Sunday), Monday 26 Oct 09:00 CET (08:00Z). */
  check_after(&c, utc(2026, 10, 23, 14, 0), 2 * H, utc(2026, 10, 26, 8, 0));
  /* DST March: Friday 27 Mar 16:30 CET + 1 h = 30 min, Monday 30 Mar 08:30
   * CEST (06:30Z). */
  check_after(&c, utc(2026, 3, 27, 15, 30), H, utc(2026, 3, 30, 6, 30));
  /* Outside hours: Saturday + 10 min = Monday 08:10 local. */
  check_after(&c, utc(2026, 10, 10, 12, 0), 10 * M, utc(2026, 10, 12, 6, 10));
  /* Exactly the rest of a day ends at its close, not the next opening. */
  check_after(&c, utc(2026, 10, 6, 14, 0), 2 * H, utc(2026, 10, 6, 16, 0));
  /* n = 0 is t itself; negative or NONE answers NONE. */
  ib_calendar *cal = build(&c, utc(2026, 1, 1, 0, 0), utc(2027, 1, 1, 0, 0));
  assert_int_equal(ib_calendar_after(cal, utc(2026, 10, 10, 12, 0), 0),
                   utc(2026, 10, 10, 12, 0));
  assert_int_equal(ib_calendar_after(cal, 100, -1), IB_TIME_NONE);
  assert_int_equal(ib_calendar_after(cal, IB_TIME_NONE, 10), IB_TIME_NONE);
  ib_calendar_free(cal);
  /* Always open: t + n. Never open (hours, none of them): NONE, bounded. */
  ib_calendar_cfg always;
  memset(&always, 0, sizeof always);
  always.timezone = "UTC";
  cal = build(&always, 0, 86400);
  assert_int_equal(ib_calendar_after(cal, 1000, 500), 1500);
  ib_calendar_free(cal);
  ib_calendar_cfg never = always;
  never.has_hours = 1;
  cal = build(&never, 0, 86400);
  assert_int_equal(ib_calendar_after(cal, 1000, 500), IB_TIME_NONE);
  ib_calendar_free(cal);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_always_open),
      cmocka_unit_test(test_lunch_break),
      cmocka_unit_test(test_weekend_and_week),
      cmocka_unit_test(test_holiday),
      cmocka_unit_test(test_dst_march),
      cmocka_unit_test(test_dst_october),
      cmocka_unit_test(test_midnight_ranges),
      cmocka_unit_test(test_outside_span),
      cmocka_unit_test(test_bad_zone),
      cmocka_unit_test(test_weeks_match_day_walk),
      cmocka_unit_test(test_year_one),
      cmocka_unit_test(test_far_future_rule),
      cmocka_unit_test(test_after),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
