/*
 * tz.c -- civil dates, IANA zones through the C library, ISO-8601.
 * Must not know about calendars, configuration or the store.
 */
#define _GNU_SOURCE
#include "tz.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Howard Hinnant's days_from_civil / civil_from_days. */
int64_t ib_days_from_civil(int y, int m, int d) {
  int64_t yy = (int64_t)y - (m <= 2);
  int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
  int64_t yoe = yy - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void ib_civil_from_days(int64_t z, int *y, int *m, int *d) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t yy = yoe + era * 400;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int dd = (int)(doy - (153 * mp + 2) / 5 + 1);
  int mm = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = (int)(yy + (mm <= 2));
  *m = mm;
  *d = dd;
}

int ib_weekday_from_days(int64_t days) {
  /* 1970-01-01 was a Thursday (3 when Monday = 0). */
  int64_t w = (days + 3) % 7;
  return (int)(w < 0 ? w + 7 : w);
}

static int is_utc(const char *zone) {
  return zone == NULL || zone[0] == '\0' || strcmp(zone, "UTC") == 0 ||
         strcmp(zone, "Etc/UTC") == 0 || strcmp(zone, "Z") == 0;
}

/* The zone currently installed in the C library; switched lazily (and
 * validated only when it changes: conversions are per CSV cell). */
static char current_zone[128];

static int use_zone(const char *zone) {
  if (strcmp(current_zone, zone) == 0) return 0;
  if (!ib_tz_valid(zone)) return -1;
  if (strlen(zone) >= sizeof current_zone) return -1;
  char tzval[sizeof current_zone + 1];
  snprintf(tzval, sizeof tzval, ":%s", zone);
  if (setenv("TZ", tzval, 1) != 0) return -1;
  tzset();
  snprintf(current_zone, sizeof current_zone, "%s", zone);
  return 0;
}

int ib_tz_valid(const char *zone) {
  if (is_utc(zone)) return 1;
  if (zone[0] == '/' || strstr(zone, "..") != NULL) return 0;
  const char *dir = getenv("TZDIR");
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir ? dir : "/usr/share/zoneinfo", zone);
  return access(path, R_OK) == 0;
}

/* The last local-time window known to have one UTC offset. */
static struct {
  int valid;
  int64_t lo, hi; /* local seconds, exclusive */
  int64_t offset;
  char zone[sizeof current_zone];
} fixed_window;

static int gmtoff_at(int64_t t, int64_t *off) {
  struct tm tm;
  time_t tt = (time_t)t;
  if (localtime_r(&tt, &tm) == NULL) return -1;
  *off = tm.tm_gmtoff;
  return 0;
}

int ib_tz_local_to_utc(const char *zone, int y, int mo, int d, int h, int mi,
                       int s, ib_time *out) {
  int64_t secs = ib_days_from_civil(y, mo, d) * 86400 + (int64_t)h * 3600 +
                 (int64_t)mi * 60 + s;
  if (is_utc(zone)) {
    *out = secs;
    return 0;
  }
  if (use_zone(zone) != 0) return -1;
  /* Local times cluster (a CSV file, a calendar's days): reuse the offset
   * of a recent two-day window with no transition. */
  if (fixed_window.valid && secs > fixed_window.lo && secs < fixed_window.hi &&
      strcmp(fixed_window.zone, current_zone) == 0) {
    *out = secs - fixed_window.offset;
    return 0;
  }
  /* The offsets in force a day before and a day after (zones change at
   * most once in two days). A candidate instant is valid when its own
   * offset is the one used to find it: two valid ones are a fold (take the
   * earlier), none is a gap (read with the offset before it, which moves
   * the time forward by the gap). */
  int64_t before, after;
  if (gmtoff_at(secs - 86400, &before) || gmtoff_at(secs + 86400, &after))
    return -1;
  int64_t best = INT64_MAX, off;
  if (gmtoff_at(secs - before, &off) == 0 && off == before)
    best = secs - before;
  if (gmtoff_at(secs - after, &off) == 0 && off == after && secs - after < best)
    best = secs - after;
  *out = best != INT64_MAX ? best : secs - before;
  if (before == after) {
    /* Same offset at the instants secs - 1 day and secs + 1 day (zones
     * change at most once in two days): the offset holds for every
     * instant between, i.e. for local times L with L - offset in it. */
    fixed_window.valid = 1;
    fixed_window.lo = secs - 86400 + before;
    fixed_window.hi = secs + 86400 + before;
    fixed_window.offset = before;
    snprintf(fixed_window.zone, sizeof fixed_window.zone, "%s", current_zone);
  }
  return 0;
}

int ib_tz_utc_to_local(const char *zone, ib_time t, struct tm *out) {
  time_t tt = (time_t)t;
  if (is_utc(zone)) return gmtime_r(&tt, out) ? 0 : -1;
  if (use_zone(zone) != 0) return -1;
  return localtime_r(&tt, out) ? 0 : -1;
}

/* ---- TZif transitions ---- */

static uint32_t be32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
         p[3];
}

/* Bytes of a TZif data block after its 44-byte header, for 4- or 8-byte
 * times; the counts are read from the header at h. */
static size_t tzif_block(const unsigned char *h, size_t tsize) {
  size_t isut = be32(h + 20), isstd = be32(h + 24), leap = be32(h + 28),
         timecnt = be32(h + 32), type = be32(h + 36), chars = be32(h + 40);
  return timecnt * tsize + timecnt + type * 6 + chars + leap * (tsize + 4) +
         isstd + isut;
}

/* A zone file is a few kilobytes; anything larger is not one. */
#define TZIF_MAX_BYTES (256u * 1024u)

int ib_tz_transitions(const char *zone, ib_time **out, size_t *n,
                      int *rule_after) {
  *out = NULL;
  *n = 0;
  *rule_after = 0;
  if (is_utc(zone)) return 0;
  if (!ib_tz_valid(zone)) return -1;
  const char *dir = getenv("TZDIR");
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir ? dir : "/usr/share/zoneinfo", zone);
  FILE *f = fopen(path, "rb");
  if (f == NULL) return -1;
  unsigned char *buf = malloc(TZIF_MAX_BYTES); /* owned here */
  size_t len = buf ? fread(buf, 1, TZIF_MAX_BYTES, f) : 0;
  fclose(f);
  int rc = -1;
  if (buf == NULL || len < 44 || memcmp(buf, "TZif", 4) != 0) goto done;
  size_t tsize = 4, hdr = 0, v1 = 44 + tzif_block(buf, 4);
  if (buf[4] >= '2') { /* the 64-bit block follows the 32-bit one */
    if (v1 + 44 > len || memcmp(buf + v1, "TZif", 4) != 0) goto done;
    hdr = v1;
    tsize = 8;
  }
  size_t timecnt = be32(buf + hdr + 32);
  size_t data = hdr + 44, end = data + tzif_block(buf + hdr, tsize);
  if (end > len || timecnt > len) goto done;
  if (timecnt > 0) {
    *out = malloc(timecnt * sizeof **out); /* returned: owned by caller */
    if (*out == NULL) goto done;
  }
  for (size_t i = 0; i < timecnt; i++) {
    const unsigned char *p = buf + data + i * tsize;
    int64_t t = tsize == 8 ? (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4))
                           : (int64_t)(int32_t)be32(p);
    (*out)[i] = t;
  }
  *n = timecnt;
  /* Footer "\nTZ-string\n": a ',' means start and end rules (DST). */
  if (tsize == 8 && end < len && buf[end] == '\n') {
    const unsigned char *nl = memchr(buf + end + 1, '\n', len - end - 1);
    if (nl && memchr(buf + end + 1, ',', (size_t)(nl - buf - end - 1)))
      *rule_after = 1;
  }
  rc = 0;
done:
  if (rc != 0) {
    free(*out);
    *out = NULL;
    *n = 0;
  }
  free(buf);
  return rc;
}

static int digits(const char **p, int n, int *out) {
  int v = 0;
  for (int i = 0; i < n; i++) {
    if (!isdigit((unsigned char)(*p)[i])) return -1;
    v = v * 10 + ((*p)[i] - '0');
  }
  *p += n;
  *out = v;
  return 0;
}

static int days_in_month(int y, int m) {
  static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return 29;
  return dm[m - 1];
}

int ib_parse_iso8601(const char *text, const char *default_zone, ib_time *out) {
  if (text == NULL) return -1;
  const char *p = text;
  while (isspace((unsigned char)*p)) p++;
  int y, mo, d, h = 0, mi = 0, s = 0;
  if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' ||
      digits(&p, 2, &d))
    return -1;
  if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo)) return -1;
  int has_offset = 0;
  int64_t offset = 0;
  if (*p == 'T' || *p == 't' || *p == ' ') {
    p++;
    if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi)) return -1;
    if (*p == ':') {
      p++;
      if (digits(&p, 2, &s)) return -1;
      if (*p == '.' || *p == ',') {
        p++;
        if (!isdigit((unsigned char)*p)) return -1;
        while (isdigit((unsigned char)*p)) p++;
      }
    }
    if (h > 24 || mi > 59 || s > 60 || (h == 24 && (mi || s))) return -1;
    if (s == 60) s = 59; /* leap second: keep it inside its minute */
    if (*p == 'Z' || *p == 'z') {
      has_offset = 1;
      p++;
    } else if (*p == '+' || *p == '-') {
      int sign = *p == '-' ? -1 : 1, oh, om = 0;
      p++;
      if (digits(&p, 2, &oh)) return -1;
      if (*p == ':') p++;
      if (isdigit((unsigned char)*p) && digits(&p, 2, &om)) return -1;
      if (oh > 18 || om > 59) return -1;
      has_offset = 1;
      offset = sign * ((int64_t)oh * 3600 + (int64_t)om * 60);
    }
  }
  while (isspace((unsigned char)*p)) p++;
  if (*p != '\0') return -1;
  ib_time t;
  if (has_offset)
    t = ib_days_from_civil(y, mo, d) * 86400 + (int64_t)h * 3600 +
        (int64_t)mi * 60 + s - offset;
  else if (ib_tz_local_to_utc(default_zone, y, mo, d, h, mi, s, &t) != 0)
    return -1;
  /* An offset or a zone can carry year 0000 or 9999 across the range
   * ("0000-01-01T00:00+01:00"): such an instant prints as no year. */
  if (!ib_time_in_range(t)) return -1;
  *out = t;
  return 0;
}

int ib_parse_with_format(const char *text, const char *format, const char *zone,
                         ib_time *out) {
  if (text == NULL || format == NULL) return -1;
  struct tm tm;
  memset(&tm, 0, sizeof tm);
  tm.tm_mday = 1;
  const char *end = strptime(text, format, &tm);
  if (end == NULL) return -1;
  while (isspace((unsigned char)*end)) end++;
  if (*end != '\0') return -1;
  int y = tm.tm_year + 1900, mo = tm.tm_mon + 1;
  if (mo < 1 || mo > 12 || tm.tm_mday < 1 || tm.tm_mday > days_in_month(y, mo))
    return -1;
  /* strptime's %Y takes any number of digits and a sign. */
  if (y < 0 || y > 9999) return -1;
  ib_time t;
  if (ib_tz_local_to_utc(zone, y, mo, tm.tm_mday, tm.tm_hour, tm.tm_min,
                         tm.tm_sec > 59 ? 59 : tm.tm_sec, &t) != 0 ||
      !ib_time_in_range(t))
    return -1;
  *out = t;
  return 0;
}

void ib_format_iso8601(ib_time t, char *buf) {
  int64_t days = t / 86400, rem = t % 86400;
  if (rem < 0) {
    rem += 86400;
    days--;
  }
  int y, m, d;
  ib_civil_from_days(days, &y, &m, &d);
  char tmp[64];
  snprintf(tmp, sizeof tmp, "%04d-%02d-%02dT%02d:%02d:%02dZ", y % 10000, m, d,
           (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60));
  memcpy(buf, tmp, IB_ISO_LEN - 1);
  buf[IB_ISO_LEN - 1] = '\0';
}
