/*
 * tz.h -- civil dates, IANA time zones and ISO-8601 instants.
 *
 * Zones are read from the system tzdata: local time -> instant from a
 * per-zone table of the zone's TZif transitions, the rest through the C
 * library. The C library keeps one current zone per process, so this
 * module switches it on demand; that and its caches (zone tables, the last
 * strptime format) are plain statics, so it must be used from one thread
 * only: the main thread (HTTP concurrency is curl multi, not threads; the
 * SQLite store's page writer thread must not call it).
 */
#ifndef IB_TZ_H
#define IB_TZ_H

#include <stdint.h>
#include <time.h>

#include "itsm_bridge/plugin.h"

/* Days since 1970-01-01 of a proleptic Gregorian date, and back. */
int64_t ib_days_from_civil(int y, int m, int d);
void ib_civil_from_days(int64_t days, int *y, int *m, int *d);
/* 0 = Monday ... 6 = Sunday. */
int ib_weekday_from_days(int64_t days);

/* The instants the program handles: years 0000 to 9999 (UTC), the years
 * an ISO-8601 text of four digits can print. Parsers refuse others and the
 * host rejects records that carry them. */
#define IB_TIME_MIN INT64_C(-62167219200) /* 0000-01-01T00:00:00Z */
#define IB_TIME_MAX INT64_C(253402300799) /* 9999-12-31T23:59:59Z */
static inline int ib_time_in_range(ib_time t) {
  return t >= IB_TIME_MIN && t <= IB_TIME_MAX;
}

/* Non-zero when `zone` names a zone the system knows ("UTC" always). */
int ib_tz_valid(const char *zone);
/* The path of the TZif file that holds `zone`'s rules ($TZDIR, else
 * /usr/share/zoneinfo): 0, or -1 for UTC (no file), a name that would
 * leave the directory, or a path that does not fit in len bytes. The file
 * may not exist. */
int ib_tz_file(const char *zone, char *path, size_t len);

/* Local wall-clock time in `zone` -> instant. In a DST gap the time is
 * moved forward by the gap; in a fold the first (earlier) instant is taken.
 * Returns 0, or -1 for an unknown zone. Reads the zone's table (kept for
 * the last 8 zones used) where its transitions reach, localtime_r
 * elsewhere (before the first, after the last when a footer rule follows,
 * a zone file without transitions or that cannot be read): same results. */
int ib_tz_local_to_utc(const char *zone, int y, int mo, int d, int h, int mi,
                       int s, ib_time *out);
/* Instant -> local broken-down time in `zone`. Returns 0 or -1. */
int ib_tz_utc_to_local(const char *zone, ib_time t, struct tm *out);

/* Parses "YYYY-MM-DD", "YYYY-MM-DD[T ]HH:MM[:SS[.frac]][Z|+hh[:]mm|-hh[:]mm]".
 * Text without offset (and a bare date, at midnight) is read in
 * default_zone. Fractions are dropped. Returns 0, or -1 (also for an
 * instant outside IB_TIME_MIN..IB_TIME_MAX). */
int ib_parse_iso8601(const char *text, const char *default_zone, ib_time *out);
/* Parses `text` with strptime-style `format`, read in `zone`, followed by
 * nothing but blanks. 0 or -1 (also outside IB_TIME_MIN..IB_TIME_MAX).
 * A format of only %d %m %Y %H %M %S %%, literal bytes and single blanks
 * reads a text with exactly 2 digits per field (4 for %Y) and one blank
 * per blank without strptime; everything else goes to strptime: same
 * texts accepted, same results. */
int ib_parse_with_format(const char *text, const char *format, const char *zone,
                         ib_time *out);

/* The instants at which `zone` changes its UTC offset, as its TZif file
 * lists them (sorted). *rule_after is non-zero when the file's footer
 * gives recurring changes (DST) after the last one listed; zero means the
 * offset stays as it is. "UTC" has none. Returns 0 with *out owned by the
 * caller (free; NULL when *n is 0), or -1 when the file cannot be read. */
int ib_tz_transitions(const char *zone, ib_time **out, size_t *n,
                      int *rule_after);

/* Frees the zone tables this module keeps (call once at exit; the module
 * still works afterwards, reading the tables again). */
void ib_tz_cache_free(void);

/* For tests and benchmarks: 0 sends every conversion through the C
 * library and every format through strptime, as before the zone tables
 * and the format fast path (1, the default, uses them). */
void ib_tz_use_fast_paths(int on);
/* How many local times the zone tables converted and how many texts the
 * format fast path read, since the start. */
void ib_tz_fast_path_hits(unsigned long *tables, unsigned long *format);

/* "YYYY-MM-DDTHH:MM:SSZ" into buf (at least 21 bytes). */
#define IB_ISO_LEN 21
void ib_format_iso8601(ib_time t, char *buf);

#endif /* IB_TZ_H */
