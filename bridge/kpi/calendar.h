/*
 * calendar.h -- business calendars precomputed as sorted UTC open intervals
 * with prefix sums, so open(c, a, b) (SPEC §6) is two binary searches.
 * Knows calendars and time zones; must not know tickets, SLAs or the store.
 */
#ifndef IB_CALENDAR_H
#define IB_CALENDAR_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

typedef struct ib_calendar ib_calendar;

/* Precomputes `cfg` over [lo, hi) (pass the smallest and largest instants
 * you will query; queries outside still answer correctly, only slower).
 * Returns NULL on ENOMEM or an unknown time zone (err says which).
 * The calendar borrows `cfg`, which must outlive it; the result is owned by
 * the caller (ib_calendar_free). */
ib_calendar *ib_calendar_build(const ib_calendar_cfg *cfg, ib_time lo,
                               ib_time hi, char *err, size_t errlen);
void ib_calendar_free(ib_calendar *cal);

/* Seconds of [a, b) during which the calendar is open; 0 when b <= a or
 * either bound is IB_TIME_NONE. Weekly hours are read in the calendar's own
 * zone (DST applied: real elapsed seconds), holidays are closed all day.
 * cal NULL is the 24x7 reading: plain elapsed seconds. */
int64_t ib_calendar_open(const ib_calendar *cal, ib_time a, ib_time b);

/* Open seconds (ib_calendar_open) of the union of intervals
 * iv[0..n) clipped to [a, b); an interval without an end runs up to b.
 * Intervals without a start, and those ending before they start, count
 * nothing: *reversed (when not NULL) is set to whether there is one of the
 * latter. *running (when not NULL) is set to whether an interval covers b.
 * Intervals out of order are sorted in a copy; -1 on ENOMEM. (A ticket's
 * paused time: kpi.c's measures and alerts.c's time left.) */
int64_t ib_calendar_union_open(const ib_calendar *cal, const ib_interval *iv,
                               size_t n, ib_time a, ib_time b, int *running,
                               int *reversed);

/* The instant at which `n` open seconds have passed since `t`: the
 * smallest x with open(cal, t, x) == n (t itself for n = 0). An
 * always-open calendar gives t + n. IB_TIME_NONE when t is NONE, n < 0, or
 * the calendar does not open that much within IB_CALENDAR_AFTER_MAX_DAYS
 * local days (a calendar that is never open). */
#define IB_CALENDAR_AFTER_MAX_DAYS (366 * 10)
ib_time ib_calendar_after(const ib_calendar *cal, ib_time t, int64_t n);

/* The same figure computed the slow way, by walking every local day (the
 * reference the precomputed window and the whole-week arithmetic outside
 * it must agree with; for tests). */
int64_t ib_calendar_open_by_days(const ib_calendar *cal, ib_time a, ib_time b);

/* The configuration this calendar was built from. */
const ib_calendar_cfg *ib_calendar_cfg_of(const ib_calendar *cal);
/* Local days walked one by one by the queries so far (the rest is
 * arithmetic): how tests see that hostile spans stay cheap. */
int64_t ib_calendar_days_walked(const ib_calendar *cal);

#endif /* IB_CALENDAR_H */
