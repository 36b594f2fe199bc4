/*
 * tz.c -- civil dates, IANA zones, ISO-8601 and strptime-style parsing.
 * Must not know about calendars, configuration or the store.
 *
 * Local time -> instant is read from a per-zone table of the zone's TZif
 * transitions (a binary search), with the C library's localtime_r as the
 * reference and the fallback wherever the table does not reach. Every
 * cache here (the zone tables, the C library's current zone, the last
 * strptime format) is a plain static: this module is single-threaded, as
 * tz.h says, and ib_tz_cache_free() releases what it holds.
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

int ib_tz_file(const char *zone, char *path, size_t len) {
  if (is_utc(zone) || zone[0] == '/' || strstr(zone, "..") != NULL) return -1;
  const char *dir = getenv("TZDIR");
  int n = snprintf(path, len, "%s/%s", dir ? dir : "/usr/share/zoneinfo", zone);
  return n >= 0 && (size_t)n < len ? 0 : -1;
}

int ib_tz_valid(const char *zone) {
  if (is_utc(zone)) return 1;
  char path[512];
  return ib_tz_file(zone, path, sizeof path) == 0 && access(path, R_OK) == 0;
}

/* ---- local time through the C library ---- */

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

/* Local seconds `secs` in `zone` -> instant, with localtime_r: the
 * reference the zone tables follow, and the path for what they do not
 * cover. 0, or -1 for an unknown zone. */
static int libc_local_to_utc(const char *zone, int64_t secs, ib_time *out) {
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

/* ---- TZif files ---- */

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

/* What a zone's TZif file lists. */
typedef struct tzif {
  ib_time *trans; /* owned: the n transition instants, as listed */
  int32_t *utoff; /* owned, NULL unless asked: UTC offset from trans[i] on */
  size_t n;
  int rule_after; /* the footer gives recurring changes after trans[n-1] */
  int has_leaps;  /* leap-second records (a "right/" zone) */
} tzif;

static void tzif_free(tzif *z) {
  free(z->trans);
  free(z->utoff);
  memset(z, 0, sizeof *z);
}

/* Reads zone's TZif file into *z. With want_offsets, also the offset each
 * transition puts in force, and then a transition naming a type the file
 * does not have fails the read (the C library refuses such a file too).
 * 0, or -1 with *z empty. "UTC" lists nothing. */
static int tzif_read(const char *zone, int want_offsets, tzif *z) {
  memset(z, 0, sizeof *z);
  if (is_utc(zone)) return 0;
  char path[512];
  if (!ib_tz_valid(zone) || ib_tz_file(zone, path, sizeof path) != 0) return -1;
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
  size_t timecnt = be32(buf + hdr + 32), typecnt = be32(buf + hdr + 36);
  size_t data = hdr + 44, end = data + tzif_block(buf + hdr, tsize);
  if (end > len || timecnt > len) goto done;
  if (timecnt > 0) {
    z->trans = malloc(timecnt * sizeof *z->trans);
    if (z->trans == NULL) goto done;
    if (want_offsets) {
      z->utoff = malloc(timecnt * sizeof *z->utoff);
      if (z->utoff == NULL) goto done;
    }
  }
  /* After the instants: one type index per transition, then the types
   * (a 4-byte offset, an isdst byte, a name index). */
  const unsigned char *type_of = buf + data + timecnt * tsize,
                      *types = type_of + timecnt;
  for (size_t i = 0; i < timecnt; i++) {
    const unsigned char *p = buf + data + i * tsize;
    int64_t t = tsize == 8 ? (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4))
                           : (int64_t)(int32_t)be32(p);
    z->trans[i] = t;
    if (z->utoff != NULL) {
      if (type_of[i] >= typecnt) goto done;
      z->utoff[i] = (int32_t)be32(types + 6 * (size_t)type_of[i]);
    }
  }
  z->n = timecnt;
  z->has_leaps = be32(buf + hdr + 28) > 0;
  /* Footer "\nTZ-string\n": a ',' means start and end rules (DST). */
  if (tsize == 8 && end < len && buf[end] == '\n') {
    const unsigned char *nl = memchr(buf + end + 1, '\n', len - end - 1);
    if (nl && memchr(buf + end + 1, ',', (size_t)(nl - buf - end - 1)))
      z->rule_after = 1;
  }
  rc = 0;
done:
  if (rc != 0) tzif_free(z);
  free(buf);
  return rc;
}

int ib_tz_transitions(const char *zone, ib_time **out, size_t *n,
                      int *rule_after) {
  tzif z;
  int rc = tzif_read(zone, 0, &z);
  *out = z.trans; /* returned: owned by the caller */
  *n = z.n;
  *rule_after = z.rule_after;
  return rc;
}

/* ---- zone tables: local time -> instant by binary search ---- */

/* Zones kept at once: a sync reads one or two, a KPI run its calendars'.
 * The least recently used one makes room for a new one. */
#define ZONE_TABLES 8
/* Local second counts farther from 1970 than this (about 300,000 years)
 * are left to the C library, so that no sum below can overflow. */
#define TABLE_MAX_SECS INT64_C(10000000000000)

typedef struct zone_table {
  char name[sizeof current_zone]; /* "" when the slot is free */
  int usable;     /* 0: no table (unreadable file, no transitions, leap
                   * seconds, unsorted instants): the C library decides */
  ib_time *trans; /* owned by the slot: transition instants, ascending */
  int32_t *utoff; /* owned by the slot: offset in force from trans[i] on */
  size_t n;       /* > 0 when usable */
  int rule_after; /* the footer's rule decides from trans[n-1] on */
  uint64_t used;  /* zone_clock at the last use */
} zone_table;

static zone_table zone_tables[ZONE_TABLES];
static zone_table *last_table; /* the one used last, or NULL */
static uint64_t zone_clock;
static int fast_paths_on = 1;
static unsigned long zone_table_hits, format_fast_hits;

static void zone_table_clear(zone_table *zt) {
  free(zt->trans);
  free(zt->utoff);
  memset(zt, 0, sizeof *zt);
}

void ib_tz_cache_free(void) {
  for (size_t i = 0; i < ZONE_TABLES; i++) zone_table_clear(&zone_tables[i]);
  last_table = NULL;
}

void ib_tz_use_fast_paths(int on) {
  fast_paths_on = on != 0;
}

void ib_tz_fast_path_hits(unsigned long *tables, unsigned long *format) {
  *tables = zone_table_hits;
  *format = format_fast_hits;
}

/* Fills slot zt with zone's table, or marks it unusable. */
static void zone_table_load(zone_table *zt, const char *zone) {
  zone_table_clear(zt);
  snprintf(zt->name, sizeof zt->name, "%s", zone);
  tzif z;
  if (tzif_read(zone, 1, &z) != 0) return;
  int ok = z.n > 0 && !z.has_leaps;
  for (size_t i = 1; ok && i < z.n; i++) ok = z.trans[i - 1] < z.trans[i];
  if (!ok) {
    tzif_free(&z);
    return;
  }
  zt->trans = z.trans; /* ownership moves to the slot */
  zt->utoff = z.utoff;
  zt->n = z.n;
  zt->rule_after = z.rule_after;
  zt->usable = 1;
}

/* zone's table, read on first use; NULL for a name too long to be one. */
static const zone_table *zone_table_get(const char *zone) {
  zone_table *zt = last_table;
  if (zt == NULL || strcmp(zt->name, zone) != 0) {
    if (strlen(zone) >= sizeof zone_tables[0].name) return NULL;
    zt = NULL;
    zone_table *oldest = &zone_tables[0];
    for (size_t i = 0; i < ZONE_TABLES && zt == NULL; i++) {
      zone_table *c = &zone_tables[i];
      if (c->name[0] != '\0' && strcmp(c->name, zone) == 0) zt = c;
      if (c->used < oldest->used) oldest = c; /* free slots have used 0 */
    }
    if (zt == NULL) {
      zt = oldest;
      zone_table_load(zt, zone);
    }
    last_table = zt;
  }
  zt->used = ++zone_clock;
  return zt;
}

/* The offset zt puts in force at instant t and the index of the
 * transition that does, by binary search. -1 where the table does not
 * say: before its first transition (the C library then takes the first
 * standard-time type) and, when a footer rule follows, from its last. */
static int table_offset(const zone_table *zt, int64_t t, size_t *at,
                        int64_t *off) {
  if (t < zt->trans[0] || (zt->rule_after && t >= zt->trans[zt->n - 1]))
    return -1;
  size_t lo = 0, hi = zt->n; /* trans[lo] <= t < trans[hi] (or hi == n) */
  while (hi - lo > 1) {
    size_t mid = lo + (hi - lo) / 2;
    if (zt->trans[mid] <= t)
      lo = mid;
    else
      hi = mid;
  }
  *at = lo;
  *off = zt->utoff[lo];
  return 0;
}

/* Local seconds -> instant from the table, with exactly the rules of
 * libc_local_to_utc (offsets a day before and after, fold: the earlier,
 * gap: the offset before). 0, or 1 when the table does not cover every
 * instant those rules look at. */
static int table_local_to_utc(const zone_table *zt, int64_t secs,
                              ib_time *out) {
  size_t at, unused;
  int64_t before, after, off;
  if (table_offset(zt, secs - 86400, &at, &before) != 0) return 1;
  /* The usual case: no transition within a day either side, and an
   * offset under a day, so secs - before falls in the same interval. */
  if ((at + 1 == zt->n || zt->trans[at + 1] > secs + 86400) &&
      before > -86400 && before < 86400) {
    *out = secs - before;
    return 0;
  }
  if (table_offset(zt, secs + 86400, &unused, &after) != 0) return 1;
  int64_t best = INT64_MAX;
  if (table_offset(zt, secs - before, &unused, &off) != 0) return 1;
  if (off == before) best = secs - before;
  if (table_offset(zt, secs - after, &unused, &off) != 0) return 1;
  if (off == after && secs - after < best) best = secs - after;
  *out = best != INT64_MAX ? best : secs - before;
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
  if (fast_paths_on && secs > -TABLE_MAX_SECS && secs < TABLE_MAX_SECS) {
    const zone_table *zt = zone_table_get(zone);
    if (zt != NULL && zt->usable && table_local_to_utc(zt, secs, out) == 0) {
      zone_table_hits++;
      return 0;
    }
  }
  return libc_local_to_utc(zone, secs, out);
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

/* ---- strptime-style formats ---- */

/* A format made only of %d %m %Y %H %M %S %%, literal bytes other than
 * '%' and single blanks is compiled once (the last one is kept) and read
 * field by field, without strptime, when the text has exactly two digits
 * per field (four for %Y), the same literal bytes, and one blank followed
 * by a non-blank where the format has a blank (strptime's blank takes any
 * run of blanks, even none: such texts are its business). Any other text
 * goes to strptime, which therefore decides every case the fast path does
 * not take: the texts accepted and the results are strptime's. */
enum {
  FMT_LIT,
  FMT_BLANK,
  FMT_DAY,
  FMT_MON,
  FMT_YEAR,
  FMT_HOUR,
  FMT_MIN,
  FMT_SEC
};
#define FMT_MAX 64 /* longer formats always go to strptime */

static struct {
  char format[FMT_MAX]; /* the format compiled, "" for none */
  int fast;             /* 0: not of the shape above */
  size_t n;
  unsigned char op[FMT_MAX]; /* FMT_* */
  char lit[FMT_MAX];         /* the byte of a FMT_LIT */
} fmt_cache;

static void fmt_compile(const char *format) {
  memset(&fmt_cache, 0, sizeof fmt_cache);
  snprintf(fmt_cache.format, sizeof fmt_cache.format, "%s", format);
  for (const char *f = format; *f; f++) {
    unsigned char op = FMT_LIT;
    char lit = *f;
    if (isspace((unsigned char)*f)) {
      /* Two blanks in a row would both be the first one's in strptime. */
      if (isspace((unsigned char)f[1])) return;
      op = FMT_BLANK;
    } else if (*f == '%') {
      switch (*++f) {
        case 'd': op = FMT_DAY; break;
        case 'm': op = FMT_MON; break;
        case 'Y': op = FMT_YEAR; break;
        case 'H': op = FMT_HOUR; break;
        case 'M': op = FMT_MIN; break;
        case 'S': op = FMT_SEC; break;
        case '%': break;
        default: return; /* any other directive, or a trailing '%' */
      }
      lit = '%';
    }
    fmt_cache.op[fmt_cache.n] = op;
    fmt_cache.lit[fmt_cache.n++] = lit;
  }
  fmt_cache.fast = fmt_cache.n > 0;
}

/* Reads text by the compiled format into tm: 0 when every field has its
 * exact width of digits within the range strptime's glibc takes (%d 1-31,
 * %m 1-12, %Y 0-9999, %H 0-23, %M 0-59, %S 0-61), every literal byte
 * matches and only blanks follow; -1 otherwise, tm then unspecified. In
 * range, strptime reads exactly those digits too (it stops early only
 * once the value read so far times ten exceeds the range). */
static int fmt_fast_parse(const char *text, struct tm *tm) {
  static const struct {
    int width, min, max;
  } field[] = {[FMT_DAY] = {2, 1, 31},    [FMT_MON] = {2, 1, 12},
               [FMT_YEAR] = {4, 0, 9999}, [FMT_HOUR] = {2, 0, 23},
               [FMT_MIN] = {2, 0, 59},    [FMT_SEC] = {2, 0, 61}};
  const char *p = text;
  for (size_t i = 0; i < fmt_cache.n; i++) {
    unsigned char op = fmt_cache.op[i];
    if (op == FMT_LIT) {
      if (*p++ != fmt_cache.lit[i]) return -1;
      continue;
    }
    if (op == FMT_BLANK) {
      if (!isspace((unsigned char)p[0]) || isspace((unsigned char)p[1]))
        return -1;
      p++;
      continue;
    }
    int v;
    if (digits(&p, field[op].width, &v) != 0 || v < field[op].min ||
        v > field[op].max)
      return -1;
    switch (op) {
      case FMT_DAY: tm->tm_mday = v; break;
      case FMT_MON: tm->tm_mon = v - 1; break;
      case FMT_YEAR: tm->tm_year = v - 1900; break;
      case FMT_HOUR: tm->tm_hour = v; break;
      case FMT_MIN: tm->tm_min = v; break;
      default: tm->tm_sec = v; break;
    }
  }
  while (isspace((unsigned char)*p)) p++;
  return *p == '\0' ? 0 : -1;
}

/* The fields of text read by format (strptime's defaults: 1900-01-01
 * 00:00:00), followed by nothing but blanks. 0 or -1. */
static int read_fields(const char *text, const char *format, struct tm *tm) {
  memset(tm, 0, sizeof *tm);
  tm->tm_mday = 1;
  if (fast_paths_on) {
    int compiled = strcmp(fmt_cache.format, format) == 0;
    if (!compiled && strlen(format) < FMT_MAX) {
      fmt_compile(format);
      compiled = 1;
    }
    if (compiled && fmt_cache.fast) {
      if (fmt_fast_parse(text, tm) == 0) {
        format_fast_hits++;
        return 0;
      }
      memset(tm, 0, sizeof *tm);
      tm->tm_mday = 1;
    }
  }
  const char *end = strptime(text, format, tm);
  if (end == NULL) return -1;
  while (isspace((unsigned char)*end)) end++;
  return *end == '\0' ? 0 : -1;
}

int ib_parse_with_format(const char *text, const char *format, const char *zone,
                         ib_time *out) {
  if (text == NULL || format == NULL) return -1;
  struct tm tm;
  if (read_fields(text, format, &tm) != 0) return -1;
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
