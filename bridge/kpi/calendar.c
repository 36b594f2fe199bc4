/*
 * calendar.c -- business calendars: weekly hours in a zone, holidays,
 * precomputed as sorted UTC open intervals with prefix sums (O(log n) per
 * query). Must not know tickets, SLAs, the store or output formats.
 */
#define _GNU_SOURCE /* tm_gmtoff */
#include "calendar.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tz.h"

#define SECONDS_PER_DAY 86400
#define MINUTES_PER_DAY 1440

/* A technical bound, not a business rule: a span longer than this (bad data
 * such as a ticket created in 1970, or in year 0001) is precomputed only
 * around its end; the rest is answered by whole-week arithmetic between the
 * zone's offset changes (open_outside). */
#define IB_CALENDAR_MAX_BUILD_DAYS (366 * 60)

struct ib_calendar {
  const ib_calendar_cfg *cfg; /* borrowed */
  const char *zone;           /* borrowed from cfg, "UTC" when unset */
  ib_time lo, hi;             /* intervals below are exact on [lo, hi) */
  ib_interval *iv;            /* owned; sorted, disjoint, non-empty */
  size_t n;
  int64_t *prefix;   /* owned; prefix[i] = open seconds of iv[0..i-1] */
  int64_t week_open; /* open seconds of a week without holiday or change */
  ib_time *trans;    /* owned; the zone's offset changes, sorted */
  size_t n_trans;
  int rule_after; /* the zone keeps changing (DST) after trans[n - 1] */
  int trans_ok;   /* trans could be read: arithmetic allowed outside */
  /* Local days walked one by one since the build (a measure of the work
   * queries cost, for tests; the queries are otherwise pure). */
  int64_t days_walked;
};

static int is_holiday(const ib_calendar_cfg *cfg, int32_t ymd) {
  size_t lo = 0, hi = cfg->n_holidays;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (cfg->holidays[mid] == ymd) return 1;
    if (cfg->holidays[mid] < ymd)
      lo = mid + 1;
    else
      hi = mid;
  }
  return 0;
}

static int cmp_interval(const void *a, const void *b) {
  const ib_interval *x = a, *y = b;
  return (x->start > y->start) - (x->start < y->start);
}

/* The open intervals of local day `day` (days since 1970-01-01 in the
 * calendar's zone), sorted and merged into out[]. A range ending at 24:00
 * ends at the next local midnight. Times in a DST gap move forward by the
 * gap and times in a fold take the earlier instant (tz.h), so a range can
 * map to an empty or overlapping interval: those are dropped or merged. */
static int day_intervals(const ib_calendar *cal, int64_t day,
                         ib_interval out[IB_MAX_RANGES_PER_DAY], size_t *n) {
  const ib_calendar_cfg *cfg = cal->cfg;
  int y, m, d;
  *n = 0;
  ib_civil_from_days(day, &y, &m, &d);
  if (is_holiday(cfg, (int32_t)(y * 10000 + m * 100 + d))) return 0;
  const ib_day_hours *hours = &cfg->week[ib_weekday_from_days(day)];
  for (int i = 0; i < hours->n && i < IB_MAX_RANGES_PER_DAY; i++) {
    const ib_time_range *r = &hours->ranges[i];
    ib_time s, e;
    if (ib_tz_local_to_utc(cal->zone, y, m, d, r->start_min / 60,
                           r->start_min % 60, 0, &s) != 0)
      return -1;
    if (r->end_min >= MINUTES_PER_DAY) {
      int ny, nm, nd;
      ib_civil_from_days(day + 1, &ny, &nm, &nd);
      if (ib_tz_local_to_utc(cal->zone, ny, nm, nd, 0, 0, 0, &e) != 0)
        return -1;
    } else if (ib_tz_local_to_utc(cal->zone, y, m, d, r->end_min / 60,
                                  r->end_min % 60, 0, &e) != 0) {
      return -1;
    }
    if (e > s) out[(*n)++] = (ib_interval){s, e};
  }
  if (*n > 1) qsort(out, *n, sizeof *out, cmp_interval);
  size_t w = 0;
  for (size_t i = 0; i < *n; i++) {
    if (w > 0 && out[i].start <= out[w - 1].end) {
      if (out[i].end > out[w - 1].end) out[w - 1].end = out[i].end;
    } else {
      out[w++] = out[i];
    }
  }
  *n = w;
  return 0;
}

/* Local day number of instant t in the calendar's zone. */
static int local_day(const ib_calendar *cal, ib_time t, int64_t *day) {
  struct tm tm;
  if (ib_tz_utc_to_local(cal->zone, t, &tm) != 0) return -1;
  *day = ib_days_from_civil(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
  return 0;
}

static int64_t overlap(ib_time a, ib_time b, ib_time s, ib_time e) {
  ib_time lo = a > s ? a : s, hi = b < e ? b : e;
  return hi > lo ? hi - lo : 0;
}

/* Open seconds of [a, b) by walking local days: used outside [lo, hi). */
static int64_t open_by_days(const ib_calendar *cal, ib_time a, ib_time b) {
  int64_t first, last, total = 0;
  if (b <= a) return 0;
  if (local_day(cal, a, &first) != 0 || local_day(cal, b, &last) != 0)
    return 0; /* the zone was validated at build time */
  ((ib_calendar *)cal)->days_walked += last - first + 3;
  for (int64_t day = first - 1; day <= last + 1; day++) {
    ib_interval iv[IB_MAX_RANGES_PER_DAY];
    size_t n;
    if (day_intervals(cal, day, iv, &n) != 0) return total;
    for (size_t i = 0; i < n; i++)
      total += overlap(a, b, iv[i].start, iv[i].end);
  }
  return total;
}

int64_t ib_calendar_open_by_days(const ib_calendar *cal, ib_time a, ib_time b) {
  if (a == IB_TIME_NONE || b == IB_TIME_NONE || b <= a) return 0;
  if (cal == NULL || !cal->cfg->has_hours) return b - a;
  return open_by_days(cal, a, b);
}

/* Margin kept from an offset change: day_intervals() reads the offsets a
 * day either side of each local time, so days this far from a change are
 * exact with the one offset of their segment. */
#define CHANGE_MARGIN (3 * SECONDS_PER_DAY)

/* Open seconds of [a, b), a stretch with no offset change inside: whole
 * local weeks at least CHANGE_MARGIN from either end count week_open
 * each, except weeks holding a holiday, which are walked; the ends are
 * walked. Gives what open_by_days gives, in O(weeks with holidays). */
static int64_t open_constant(const ib_calendar *cal, ib_time a, ib_time b) {
  if (b - a < 4 * CHANGE_MARGIN + 14 * SECONDS_PER_DAY)
    return open_by_days(cal, a, b);
  struct tm tm;
  int64_t d0;
  if (ib_tz_utc_to_local(cal->zone, a + CHANGE_MARGIN, &tm) != 0 ||
      local_day(cal, a + CHANGE_MARGIN, &d0) != 0)
    return open_by_days(cal, a, b);
  int64_t off = tm.tm_gmtoff, d1;
  if (local_day(cal, b - CHANGE_MARGIN, &d1) != 0)
    return open_by_days(cal, a, b);
  /* Whole weeks [w0, w1) in local day numbers, Monday to Monday. */
  int64_t w0 = d0 + (7 - ib_weekday_from_days(d0)) % 7;
  int64_t w1 = d1 - ib_weekday_from_days(d1);
  if (w1 - w0 < 7) return open_by_days(cal, a, b);
  ib_time x0 = w0 * SECONDS_PER_DAY - off, x1 = w1 * SECONDS_PER_DAY - off;
  int64_t weeks = (w1 - w0) / 7;
  int64_t total = open_by_days(cal, a, x0) + open_by_days(cal, x1, b) +
                  weeks * cal->week_open;
  /* Holidays as they fall: the weeks holding one are walked instead. */
  const ib_calendar_cfg *cfg = cal->cfg;
  int y, m, d;
  ib_civil_from_days(w0, &y, &m, &d);
  int32_t from = (int32_t)(y * 10000 + m * 100 + d);
  size_t lo = 0, hi = cfg->n_holidays;
  while (lo < hi) { /* first holiday on or after w0 */
    size_t mid = lo + (hi - lo) / 2;
    if (cfg->holidays[mid] < from)
      lo = mid + 1;
    else
      hi = mid;
  }
  int64_t done_week = INT64_MIN;
  for (size_t i = lo; i < cfg->n_holidays; i++) {
    int32_t h = cfg->holidays[i];
    int64_t hd = ib_days_from_civil(h / 10000, h / 100 % 100, h % 100);
    if (hd >= w1) break;
    int64_t week = hd - ib_weekday_from_days(hd);
    if (week == done_week) continue;
    done_week = week;
    ib_time ws = week * SECONDS_PER_DAY - off;
    total += open_by_days(cal, ws, ws + 7 * SECONDS_PER_DAY) - cal->week_open;
  }
  return total;
}

/* ---- after the zone's last listed change ----
 * Its offsets then follow a yearly rule (DST): the changes are found by
 * bisection on the offset, and each stretch between two of them counted by
 * weeks. The Gregorian calendar repeats every 400 years (146097 days, a
 * whole number of weeks), and so does such a rule: past the last holiday,
 * each whole cycle of a long span has the open time of one cycle. */
#define GREGORIAN_CYCLE_S (146097LL * SECONDS_PER_DAY)
#define CHANGE_SCAN_STEP \
  (7 * SECONDS_PER_DAY) /* rule changes are months apart */

static long offset_at(const ib_calendar *cal, ib_time t) {
  struct tm tm;
  return ib_tz_utc_to_local(cal->zone, t, &tm) == 0 ? tm.tm_gmtoff : 0;
}

/* The first instant in (t, limit] whose offset differs from t's, or limit. */
static ib_time next_change(const ib_calendar *cal, ib_time t, ib_time limit) {
  long off = offset_at(cal, t);
  ib_time lo = t, hi = t;
  do {
    lo = hi;
    hi = limit - lo > CHANGE_SCAN_STEP ? lo + CHANGE_SCAN_STEP : limit;
  } while (hi < limit && offset_at(cal, hi) == off);
  if (offset_at(cal, hi) == off) return limit;
  while (hi - lo > 1) { /* offset(lo) == off, offset(hi) != off */
    ib_time mid = lo + (hi - lo) / 2;
    if (offset_at(cal, mid) == off)
      lo = mid;
    else
      hi = mid;
  }
  return hi;
}

static int64_t open_rule_walk(const ib_calendar *cal, ib_time a, ib_time b) {
  int64_t total = 0;
  for (ib_time t = a; t < b;) {
    ib_time next = next_change(cal, t, b);
    total += open_constant(cal, t, next);
    t = next;
  }
  return total;
}

/* After the last holiday (its local day, with a day of margin for any
 * offset), or IB_TIME_NONE without holidays. */
static ib_time after_holidays(const ib_calendar *cal) {
  const ib_calendar_cfg *cfg = cal->cfg;
  if (cfg->n_holidays == 0) return INT64_MIN;
  int32_t h = cfg->holidays[cfg->n_holidays - 1];
  return (ib_days_from_civil(h / 10000, h / 100 % 100, h % 100) + 2) *
         SECONDS_PER_DAY;
}

static int64_t open_rule(const ib_calendar *cal, ib_time a, ib_time b) {
  ib_time h = after_holidays(cal);
  ib_time s = a > h ? a : h; /* the cycles start here */
  if (s >= b || b - s < 3 * GREGORIAN_CYCLE_S) return open_rule_walk(cal, a, b);
  int64_t cycles = (b - s) / GREGORIAN_CYCLE_S - 1;
  ib_time e = s + cycles * GREGORIAN_CYCLE_S;
  return open_rule_walk(cal, a, s) +
         cycles * open_rule_walk(cal, s, s + GREGORIAN_CYCLE_S) +
         open_rule_walk(cal, e, b);
}

/* Open seconds of [a, b) outside the precomputed window: split at the
 * zone's offset changes (its TZif file, as the C library reads it), each
 * constant stretch counted by whole weeks; after its last listed change,
 * open_rule. When the zone file could not be read, days are walked. */
static int64_t open_outside(const ib_calendar *cal, ib_time a, ib_time b) {
  if (b <= a) return 0;
  if (!cal->trans_ok) return open_by_days(cal, a, b);
  int64_t total = 0;
  ib_time t = a;
  /* The first change after t. */
  size_t lo = 0, hi = cal->n_trans;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (cal->trans[mid] <= t)
      lo = mid + 1;
    else
      hi = mid;
  }
  for (size_t i = lo; t < b; i++) {
    if (i >= cal->n_trans && cal->rule_after)
      return total + open_rule(cal, t, b);
    ib_time next = i < cal->n_trans ? cal->trans[i] : b;
    ib_time end = next < b ? next : b;
    if (end > t) total += open_constant(cal, t, end);
    t = end;
  }
  return total;
}

ib_calendar *ib_calendar_build(const ib_calendar_cfg *cfg, ib_time lo,
                               ib_time hi, char *err, size_t errlen) {
  ib_calendar *cal = calloc(1, sizeof *cal); /* owned by the caller */
  if (cal == NULL) goto nomem;
  cal->cfg = cfg;
  cal->zone = cfg->timezone != NULL ? cfg->timezone : "UTC";
  if (!ib_tz_valid(cal->zone)) {
    snprintf(err, errlen,
             "calendar '%s': unknown time zone '%s' (install tzdata or fix "
             "the calendar's timezone)",
             cfg->name ? cfg->name : "?", cal->zone);
    goto fail;
  }
  if (hi < lo) hi = lo;
  if ((hi - lo) / SECONDS_PER_DAY > IB_CALENDAR_MAX_BUILD_DAYS)
    lo = hi - (int64_t)IB_CALENDAR_MAX_BUILD_DAYS * SECONDS_PER_DAY;
  cal->lo = lo;
  cal->hi = hi;
  cal->prefix = calloc(1, sizeof *cal->prefix);
  if (cal->prefix == NULL) goto nomem;
  if (!cfg->has_hours) return cal;
  for (int wd = 0; wd < 7; wd++)
    for (int i = 0; i < cfg->week[wd].n && i < IB_MAX_RANGES_PER_DAY; i++)
      cal->week_open += (int64_t)(cfg->week[wd].ranges[i].end_min -
                                  cfg->week[wd].ranges[i].start_min) *
                        60;
  cal->trans_ok = ib_tz_transitions(cal->zone, &cal->trans, &cal->n_trans,
                                    &cal->rule_after) == 0;

  int64_t first, last;
  if (local_day(cal, lo, &first) != 0 || local_day(cal, hi, &last) != 0) {
    snprintf(err, errlen, "calendar '%s': cannot convert instants to zone '%s'",
             cfg->name ? cfg->name : "?", cal->zone);
    goto fail;
  }
  size_t cap = (size_t)(last - first + 3) * IB_MAX_RANGES_PER_DAY;
  cal->iv = malloc(cap * sizeof *cal->iv);
  if (cal->iv == NULL) goto nomem;
  for (int64_t day = first - 1; day <= last + 1; day++) {
    ib_interval iv[IB_MAX_RANGES_PER_DAY];
    size_t n;
    if (day_intervals(cal, day, iv, &n) != 0) {
      snprintf(err, errlen, "calendar '%s': cannot read zone '%s'",
               cfg->name ? cfg->name : "?", cal->zone);
      goto fail;
    }
    for (size_t i = 0; i < n; i++) {
      /* 24:00 of one day meets 00:00 of the next: one interval. */
      if (cal->n > 0 && iv[i].start <= cal->iv[cal->n - 1].end) {
        if (iv[i].end > cal->iv[cal->n - 1].end)
          cal->iv[cal->n - 1].end = iv[i].end;
      } else {
        cal->iv[cal->n++] = iv[i];
      }
    }
  }
  free(cal->prefix);
  cal->prefix = malloc((cal->n + 1) * sizeof *cal->prefix);
  if (cal->prefix == NULL) goto nomem;
  cal->prefix[0] = 0;
  for (size_t i = 0; i < cal->n; i++)
    cal->prefix[i + 1] = cal->prefix[i] + (cal->iv[i].end - cal->iv[i].start);
  return cal;

nomem:
  snprintf(err, errlen, "out of memory building a calendar");
fail:
  ib_calendar_free(cal);
  return NULL;
}

void ib_calendar_free(ib_calendar *cal) {
  if (cal == NULL) return;
  free(cal->iv);
  free(cal->prefix);
  free(cal->trans);
  free(cal);
}

const ib_calendar_cfg *ib_calendar_cfg_of(const ib_calendar *cal) {
  return cal->cfg;
}

int64_t ib_calendar_days_walked(const ib_calendar *cal) {
  return cal->days_walked;
}

/* Open seconds from the first interval's start up to t. */
static int64_t cumulative(const ib_calendar *cal, ib_time t) {
  size_t lo = 0, hi = cal->n; /* count of intervals starting <= t */
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (cal->iv[mid].start <= t)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo == 0) return 0;
  const ib_interval *last = &cal->iv[lo - 1];
  return cal->prefix[lo - 1] + (t < last->end ? t : last->end) - last->start;
}

int64_t ib_calendar_open(const ib_calendar *cal, ib_time a, ib_time b) {
  if (a == IB_TIME_NONE || b == IB_TIME_NONE || b <= a) return 0;
  if (cal == NULL || !cal->cfg->has_hours) return b - a;
  int64_t total = 0;
  if (a < cal->lo) total += open_outside(cal, a, b < cal->lo ? b : cal->lo);
  if (b > cal->hi) total += open_outside(cal, a > cal->hi ? a : cal->hi, b);
  ib_time in_a = a > cal->lo ? a : cal->lo, in_b = b < cal->hi ? b : cal->hi;
  if (in_b > in_a) total += cumulative(cal, in_b) - cumulative(cal, in_a);
  return total;
}

static int cmp_start(const void *x, const void *y) {
  const ib_interval *p = x, *q = y;
  return (p->start > q->start) - (p->start < q->start);
}

int64_t ib_calendar_union_open(const ib_calendar *cal, const ib_interval *iv,
                               size_t n, ib_time a, ib_time b, int *running,
                               int *reversed) {
  if (running) *running = 0;
  if (reversed) *reversed = 0;
  if (n == 0) return 0;
  const ib_interval *p = iv;
  ib_interval *copy = NULL; /* owned here when iv needs sorting */
  for (size_t k = 1; k < n && p == iv; k++)
    if (iv[k].start < iv[k - 1].start) {
      if ((copy = malloc(n * sizeof *copy)) == NULL) return -1;
      memcpy(copy, iv, n * sizeof *copy);
      qsort(copy, n, sizeof *copy, cmp_start);
      p = copy;
    }
  int64_t total = 0;
  ib_time cur_s = 0, cur_e = 0;
  int have = 0;
  for (size_t k = 0; k < n; k++) {
    ib_time s = p[k].start, e = p[k].end == IB_TIME_NONE ? b : p[k].end;
    if (s == IB_TIME_NONE) continue;
    if (p[k].end != IB_TIME_NONE && p[k].end < s) {
      if (reversed) *reversed = 1;
      continue;
    }
    if (running && s <= b && (p[k].end == IB_TIME_NONE || p[k].end > b))
      *running = 1;
    if (s < a) s = a;
    if (e > b) e = b;
    if (e <= s) continue;
    if (have && s <= cur_e) {
      if (e > cur_e) cur_e = e;
      continue;
    }
    if (have) total += ib_calendar_open(cal, cur_s, cur_e);
    cur_s = s;
    cur_e = e;
    have = 1;
  }
  if (have) total += ib_calendar_open(cal, cur_s, cur_e);
  free(copy);
  return total;
}

/* Walks local days from t, consuming `n` open seconds; see
 * ib_calendar_after. The intervals of one day may overlap the previous
 * day's (a DST fold): `cursor` never moves backwards. */
static ib_time after_by_days(const ib_calendar *cal, ib_time t, int64_t n) {
  int64_t day;
  if (local_day(cal, t, &day) != 0) return IB_TIME_NONE;
  ib_time cursor = t;
  for (int64_t k = -1; k <= IB_CALENDAR_AFTER_MAX_DAYS; k++) {
    ib_interval iv[IB_MAX_RANGES_PER_DAY];
    size_t cnt;
    ((ib_calendar *)cal)->days_walked++;
    if (day_intervals(cal, day + k, iv, &cnt) != 0) return IB_TIME_NONE;
    for (size_t i = 0; i < cnt; i++) {
      ib_time s = iv[i].start > cursor ? iv[i].start : cursor;
      if (iv[i].end <= s) continue;
      if (iv[i].end - s >= n) return s + n;
      n -= iv[i].end - s;
      cursor = iv[i].end;
    }
  }
  return IB_TIME_NONE;
}

ib_time ib_calendar_after(const ib_calendar *cal, ib_time t, int64_t n) {
  if (t == IB_TIME_NONE || n < 0) return IB_TIME_NONE;
  if (!cal->cfg->has_hours) return t + n;
  if (n == 0) return t;
  if (cal->week_open == 0) return IB_TIME_NONE; /* never open */
  /* In the precomputed window: the first interval whose prefix sum reaches
   * open-so-far + n (every day of the window is computed whole, so an
   * answer found there is exact). */
  if (cal->n > 0 && t >= cal->lo && t < cal->hi) {
    int64_t goal = cumulative(cal, t) + n;
    if (goal <= cal->prefix[cal->n]) {
      size_t lo = 0, hi = cal->n; /* first i with prefix[i + 1] >= goal */
      while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cal->prefix[mid + 1] >= goal)
          hi = mid;
        else
          lo = mid + 1;
      }
      return cal->iv[lo].start + (goal - cal->prefix[lo]);
    }
  }
  return after_by_days(cal, t, n);
}
