/*
 * config.c -- reads and validates the libconfig file (SPEC §4).
 *
 * Validates everything that does not need a plugin: the top-level keys,
 * calendars, SLAs, availability entries, the host-owned keys of each source,
 * the alerts (webhooks and rules, SPEC §10; a webhook URL obeys the one
 * URL rule of http.h, checked here without any traffic) and the references
 * between them. Plugin options are validated later
 * against the plugin's declaration (source.c), with the same file:line
 * messages. Must not load plugins, open stores or talk HTTP.
 */
#define _GNU_SOURCE
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http.h"
#include "model.h"
#include "tz.h"

typedef struct ctx {
  ib_config *cfg;
  char *err;
  size_t errlen;
} ctx;

static int fail_at(ctx *c, const config_setting_t *s, const char *fmt, ...)
    IB_PRINTF(3, 4);

static int vfail_at(const config_setting_t *s, const char *fallback, char *err,
                    size_t errlen, const char *fmt, va_list ap) IB_PRINTF(5, 0);
static int vfail_at(const config_setting_t *s, const char *fallback, char *err,
                    size_t errlen, const char *fmt, va_list ap) {
  char msg[400];
  vsnprintf(msg, sizeof msg, fmt, ap);
  /* Values quoted from the file may hold control characters: the error
   * stays one printable line. */
  for (char *p = msg; *p; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f) *p = '?';
  const char *file = s ? config_setting_source_file(s) : NULL;
  snprintf(err, errlen, "%s:%d: %s", file ? file : fallback,
           s ? (int)config_setting_source_line(s) : 0, msg);
  return -1;
}

int ib_config_error_at(const void *setting, const char *file, char *err,
                       size_t errlen, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vfail_at(setting, file ? file : "?", err, errlen, fmt, ap);
  va_end(ap);
  return -1;
}

static int fail_at(ctx *c, const config_setting_t *s, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vfail_at(s, c->cfg->file, c->err, c->errlen, fmt, ap);
  va_end(ap);
  return -1;
}

int64_t ib_parse_duration(const char *text) {
  if (text == NULL || *text == '\0') return -1;
  int64_t total = 0;
  const char *p = text;
  int units = 0;
  while (*p) {
    if (!isdigit((unsigned char)*p)) return -1;
    int64_t v = 0;
    while (isdigit((unsigned char)*p)) {
      v = v * 10 + (*p++ - '0');
      if (v > 100000000) return -1;
    }
    int64_t mult;
    switch (*p++) {
      case 'd': mult = 86400; break;
      case 'h': mult = 3600; break;
      case 'm': mult = 60; break;
      case 's': mult = 1; break;
      default: return -1;
    }
    total += v * mult;
    units++;
  }
  return units ? total : -1;
}

/*
 * libconfig 1.5 stores an integer written without the L suffix in 32 bits
 * and wraps it silently (4294967297 reads as 1), and reads a 64-bit one
 * that overflows as -1. A value that changed on the way in would be
 * obeyed as if it were meant, so the file's text is scanned for number
 * literals that libconfig cannot hold, before anything reads them.
 */
static int number_out_of_range(const char *tok, size_t len) {
  char buf[80];
  if (len >= sizeof buf) return 1;
  memcpy(buf, tok, len);
  buf[len] = '\0';
  int is_long = len > 1 && (buf[len - 1] == 'L' || buf[len - 1] == 'l');
  if (is_long) buf[--len] = '\0';
  int hex = strchr(buf, 'x') || strchr(buf, 'X');
  if (!hex && strpbrk(buf, ".eE")) {
    errno = 0;
    double d = strtod(buf, NULL);
    return errno == ERANGE && (d > 1 || d < -1); /* overflow, not underflow */
  }
  errno = 0;
  char *end;
  long long v =
      hex ? (long long)strtoull(buf, &end, 16) : strtoll(buf, &end, 10);
  if (errno == ERANGE || *end != '\0') return 1;
  if (hex && strtoull(buf, NULL, 16) > (unsigned long long)LLONG_MAX) return 1;
  if (is_long) return 0;
  return hex ? (unsigned long long)v > 0x7fffffffULL
             : (v > INT32_MAX || v < INT32_MIN);
}

static int check_number_literals(ctx *c, const char *path) {
  FILE *f = fopen(path, "r");
  if (f == NULL) return 0; /* libconfig has just read it; nothing to add */
  int line = 1, rc = 0, ch, prev = '\n';
  char tok[80];
  while (rc == 0 && (ch = fgetc(f)) != EOF) {
    if (ch == '/') {
      int next = fgetc(f);
      if (next == '/') {
        ch = '#';
      } else if (next == '*') { /* a block comment */
        int last = 0;
        while ((ch = fgetc(f)) != EOF && !(last == '*' && ch == '/')) {
          if (ch == '\n') line++;
          last = ch;
        }
        prev = ' ';
        continue;
      } else if (next != EOF) {
        ungetc(next, f);
      }
    }
    if (ch == '\n') {
      line++;
    } else if (ch == '"') { /* a string: skip it, escapes included */
      while ((ch = fgetc(f)) != EOF && ch != '"') {
        if (ch == '\\') ch = fgetc(f);
        if (ch == '\n') line++;
      }
    } else if (ch == '#') { /* a line comment */
      while ((ch = fgetc(f)) != EOF && ch != '\n') {
      }
      line++;
      ch = '\n';
    } else if ((isdigit(ch) || ch == '-' || ch == '+') && !isalnum(prev) &&
               prev != '_' && prev != '.') {
      size_t n = 0;
      do {
        if (n < sizeof tok) tok[n++] = (char)ch;
        ch = fgetc(f);
      } while (ch != EOF && (isalnum(ch) || ch == '.' || ch == '_' ||
                             ((ch == '+' || ch == '-') &&
                              (tok[n - 1] == 'e' || tok[n - 1] == 'E'))));
      if (ch != EOF) ungetc(ch, f);
      if ((n > 1 || isdigit((unsigned char)tok[0])) &&
          (n == sizeof tok || number_out_of_range(tok, n))) {
        snprintf(c->err, c->errlen,
                 "%s:%d: the number %.*s%s is out of range (integers: "
                 "-2147483648 to 2147483647, or up to 19 digits with an L "
                 "suffix, e.g. 4294967297L)",
                 path, line, (int)(n < 40 ? n : 40), tok, n < 40 ? "" : "...");
        rc = -1;
      }
      ch = (unsigned char)tok[n - 1];
    }
    prev = ch;
  }
  fclose(f);
  return rc;
}

/* Checks that every member of group `s` is in the NULL-terminated list. */
static int check_keys(ctx *c, const config_setting_t *s, const char *what,
                      const char *const *allowed) {
  int n = config_setting_length(s);
  for (int i = 0; i < n; i++) {
    config_setting_t *m = config_setting_get_elem(s, (unsigned)i);
    const char *name = config_setting_name(m);
    int ok = 0;
    for (const char *const *a = allowed; *a; a++)
      if (strcmp(*a, name) == 0) ok = 1;
    if (!ok) return fail_at(c, m, "unknown key '%s' in %s", name, what);
  }
  return 0;
}

static int get_string(ctx *c, const config_setting_t *grp, const char *key,
                      int required, const char *what, char **out) {
  config_setting_t *m = config_setting_get_member(grp, key);
  if (m == NULL) {
    if (required)
      return fail_at(c, grp, "%s: missing required key '%s'", what, key);
    return 0;
  }
  if (config_setting_type(m) != CONFIG_TYPE_STRING)
    return fail_at(c, m, "%s: '%s' must be a string", what, key);
  *out = strdup(config_setting_get_string(m));
  return *out ? 0 : fail_at(c, m, "out of memory");
}

static int get_number(ctx *c, const config_setting_t *grp, const char *key,
                      int required, const char *what, double *out) {
  config_setting_t *m = config_setting_get_member(grp, key);
  if (m == NULL) {
    if (required)
      return fail_at(c, grp, "%s: missing required key '%s'", what, key);
    return 0;
  }
  switch (config_setting_type(m)) {
    case CONFIG_TYPE_INT: *out = config_setting_get_int(m); return 0;
    case CONFIG_TYPE_INT64:
      *out = (double)config_setting_get_int64(m);
      return 0;
    case CONFIG_TYPE_FLOAT: *out = config_setting_get_float(m); return 0;
    default: return fail_at(c, m, "%s: '%s' must be a number", what, key);
  }
}

static int get_bool(ctx *c, const config_setting_t *grp, const char *key,
                    const char *what, int *out) {
  config_setting_t *m = config_setting_get_member(grp, key);
  if (m == NULL) return 0;
  if (config_setting_type(m) != CONFIG_TYPE_BOOL)
    return fail_at(c, m, "%s: '%s' must be true or false", what, key);
  *out = config_setting_get_bool(m);
  return 0;
}

static int get_duration(ctx *c, const config_setting_t *grp, const char *key,
                        const char *what, int64_t *out) {
  config_setting_t *m = config_setting_get_member(grp, key);
  if (m == NULL) return 0;
  const char *t = config_setting_type(m) == CONFIG_TYPE_STRING
                      ? config_setting_get_string(m)
                      : NULL;
  int64_t v = ib_parse_duration(t);
  if (v < 0)
    return fail_at(c, m,
                   "%s: '%s' must be a duration like \"90s\", \"30m\", "
                   "\"4h\" or \"1h30m\"",
                   what, key);
  *out = v;
  return 0;
}

/* An array or list of strings: calls fn(c, element, text, arg) for each. */
typedef int (*string_fn)(ctx *c, const config_setting_t *e, const char *text,
                         void *arg);
static int each_string(ctx *c, const config_setting_t *grp, const char *key,
                       const char *what, string_fn fn, void *arg) {
  config_setting_t *m = config_setting_get_member(grp, key);
  if (m == NULL) return 0;
  if (!config_setting_is_aggregate(m) || config_setting_is_group(m))
    return fail_at(c, m, "%s: '%s' must be a list like [ \"a\", \"b\" ]", what,
                   key);
  int n = config_setting_length(m);
  for (int i = 0; i < n; i++) {
    config_setting_t *e = config_setting_get_elem(m, (unsigned)i);
    if (config_setting_type(e) != CONFIG_TYPE_STRING)
      return fail_at(c, e, "%s: '%s' must hold strings", what, key);
    if (fn(c, e, config_setting_get_string(e), arg) != 0) return -1;
  }
  return 0;
}

static int add_kind(ctx *c, const config_setting_t *e, const char *t,
                    void *arg) {
  int k = ib_kind_parse(t);
  if (k < 0)
    return fail_at(c, e,
                   "unknown kind '%s' (use incident, request, problem, "
                   "change or other)",
                   t);
  *(unsigned *)arg |= 1u << k;
  return 0;
}

static int add_priority(ctx *c, const config_setting_t *e, const char *t,
                        void *arg) {
  int p = ib_priority_parse(t);
  if (p < 0) return fail_at(c, e, "unknown priority '%s' (use P1..P5)", t);
  *(unsigned *)arg |= 1u << p;
  return 0;
}

/* ---- calendars ---- */

static int parse_hhmm(const char **p, int *minutes) {
  const char *s = *p;
  if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) ||
      s[2] != ':' || !isdigit((unsigned char)s[3]) ||
      !isdigit((unsigned char)s[4]))
    return -1;
  int h = (s[0] - '0') * 10 + (s[1] - '0');
  int m = (s[3] - '0') * 10 + (s[4] - '0');
  if (m > 59 || h > 24 || (h == 24 && m != 0)) return -1;
  *minutes = h * 60 + m;
  *p = s + 5;
  return 0;
}

static int cmp_range(const void *a, const void *b) {
  return ((const ib_time_range *)a)->start_min -
         ((const ib_time_range *)b)->start_min;
}

static int parse_day_hours(ctx *c, const config_setting_t *m,
                           ib_day_hours *day) {
  const char *text = config_setting_type(m) == CONFIG_TYPE_STRING
                         ? config_setting_get_string(m)
                         : NULL;
  if (text == NULL)
    return fail_at(
        c, m, "hours: '%s' must be a string like \"08:00-12:30,13:30-18:00\"",
        config_setting_name(m));
  const char *p = text;
  day->n = 0;
  while (*p) {
    while (*p == ' ') p++;
    int a, b;
    if (day->n == IB_MAX_RANGES_PER_DAY)
      return fail_at(c, m, "hours: at most %d ranges a day",
                     IB_MAX_RANGES_PER_DAY);
    if (parse_hhmm(&p, &a) || *p++ != '-' || parse_hhmm(&p, &b) || a >= b)
      return fail_at(c, m,
                     "hours: '%s' is not a list of HH:MM-HH:MM ranges "
                     "(start before end, 24:00 allowed)",
                     text);
    day->ranges[day->n].start_min = a;
    day->ranges[day->n].end_min = b;
    day->n++;
    while (*p == ' ') p++;
    if (*p == ',')
      p++;
    else if (*p)
      return fail_at(c, m, "hours: unexpected text in '%s'", text);
  }
  qsort(day->ranges, (size_t)day->n, sizeof day->ranges[0], cmp_range);
  for (int i = 1; i < day->n; i++)
    if (day->ranges[i].start_min < day->ranges[i - 1].end_min)
      return fail_at(c, m, "hours: ranges overlap in '%s'", text);
  return 0;
}

static int add_holiday(ctx *c, const config_setting_t *e, const char *t,
                       void *arg) {
  ib_calendar_cfg *cal = arg;
  int y, mo, d;
  char tail;
  if (sscanf(t, "%4d-%2d-%2d%c", &y, &mo, &d, &tail) != 3 || mo < 1 ||
      mo > 12 || d < 1 || d > 31)
    return fail_at(c, e, "holidays: '%s' is not a date YYYY-MM-DD", t);
  int32_t *h = realloc(cal->holidays, (cal->n_holidays + 1) * sizeof *h);
  if (h == NULL) return fail_at(c, e, "out of memory");
  cal->holidays = h;
  h[cal->n_holidays++] = y * 10000 + mo * 100 + d;
  return 0;
}

static int cmp_i32(const void *a, const void *b) {
  int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
  return (x > y) - (x < y);
}

static int load_calendar(ctx *c, const config_setting_t *s,
                         ib_calendar_cfg *cal) {
  static const char *const keys[] = {"name", "timezone", "hours", "holidays",
                                     NULL};
  static const char *const days[] = {"mon", "tue", "wed", "thu",
                                     "fri", "sat", "sun", NULL};
  cal->line = config_setting_source_line(s);
  if (!config_setting_is_group(s))
    return fail_at(c, s, "calendars: each calendar must be a { ... } group");
  if (check_keys(c, s, "calendar", keys) ||
      get_string(c, s, "name", 1, "calendar", &cal->name) ||
      get_string(c, s, "timezone", 0, "calendar", &cal->timezone))
    return -1;
  if (cal->timezone == NULL && (cal->timezone = strdup("UTC")) == NULL)
    return fail_at(c, s, "out of memory");
  if (!ib_tz_valid(cal->timezone))
    return fail_at(c, config_setting_get_member(s, "timezone"),
                   "calendar '%s': unknown time zone '%s' (an IANA name such "
                   "as Europe/Paris)",
                   cal->name, cal->timezone);
  config_setting_t *hours = config_setting_get_member(s, "hours");
  if (hours) {
    if (!config_setting_is_group(hours))
      return fail_at(
          c, hours,
          "calendar '%s': hours must be a group { mon = \"08:00-18:00\"; ... }",
          cal->name);
    if (check_keys(c, hours, "hours (use mon..sun)", days)) return -1;
    cal->has_hours = 1;
    for (int d = 0; d < 7; d++) {
      config_setting_t *m = config_setting_get_member(hours, days[d]);
      if (m && parse_day_hours(c, m, &cal->week[d])) return -1;
    }
  }
  if (each_string(c, s, "holidays", "calendar", add_holiday, cal)) return -1;
  if (cal->n_holidays)
    qsort(cal->holidays, cal->n_holidays, sizeof *cal->holidays, cmp_i32);
  return 0;
}

/* ---- sources (host-owned keys only) ---- */

static int load_source(ctx *c, config_setting_t *s, ib_source_cfg *src) {
  src->line = config_setting_source_line(s);
  src->setting = s;
  src->overlap_s = 300;
  src->initial_since = IB_TIME_NONE;
  if (!config_setting_is_group(s))
    return fail_at(c, s, "sources: each source must be a { ... } group");
  if (get_string(c, s, "name", 1, "source", &src->name) ||
      get_string(c, s, "plugin", 1, "source", &src->plugin) ||
      get_string(c, s, "timezone", 0, "source", &src->timezone))
    return -1;
  if (src->name[0] == '\0')
    return fail_at(c, s, "source: 'name' must not be empty");
  for (const char *p = src->name; *p; p++)
    if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.')
      return fail_at(
          c, config_setting_get_member(s, "name"),
          "source '%s': use letters, digits, '-', '_' or '.' in names",
          src->name);
  for (const char *p = src->plugin; *p; p++)
    if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
      return fail_at(c, config_setting_get_member(s, "plugin"),
                     "source '%s': '%s' is not a plugin name", src->name,
                     src->plugin);
  if (src->timezone == NULL && (src->timezone = strdup("UTC")) == NULL)
    return fail_at(c, s, "out of memory");
  if (!ib_tz_valid(src->timezone))
    return fail_at(c, config_setting_get_member(s, "timezone"),
                   "source '%s': unknown time zone '%s'", src->name,
                   src->timezone);
  if (get_duration(c, s, "overlap", "source", &src->overlap_s)) return -1;
  char *since = NULL;
  if (get_string(c, s, "initial_since", 0, "source", &since)) return -1;
  if (since) {
    int bad = ib_parse_iso8601(since, src->timezone, &src->initial_since);
    free(since);
    if (bad)
      return fail_at(c, config_setting_get_member(s, "initial_since"),
                     "source '%s': initial_since must be a date or an "
                     "ISO-8601 instant",
                     src->name);
  }
  return 0;
}

/* ---- SLAs ---- */

static int add_sla_source(ctx *c, const config_setting_t *e, const char *t,
                          void *arg) {
  ib_sla_cfg *sla = arg;
  if (ib_config_find_source(c->cfg, t) < 0)
    return fail_at(c, e, "sla '%s': unknown source '%s'", sla->name, t);
  char **v = realloc(sla->sources, (sla->n_sources + 1) * sizeof *v);
  if (v == NULL) return fail_at(c, e, "out of memory");
  sla->sources = v;
  if ((v[sla->n_sources] = strdup(t)) == NULL)
    return fail_at(c, e, "out of memory");
  sla->n_sources++;
  return 0;
}

static int find_calendar_key(ctx *c, const config_setting_t *s,
                             const char *owner, size_t *out) {
  char *name = NULL;
  if (get_string(c, s, "calendar", 1, owner, &name)) return -1;
  int idx = ib_config_find_calendar(c->cfg, name);
  if (idx < 0) {
    fail_at(c, config_setting_get_member(s, "calendar"),
            "%s: unknown calendar '%s'", owner, name);
    free(name);
    return -1;
  }
  free(name);
  *out = (size_t)idx;
  return 0;
}

static int load_target(ctx *c, const config_setting_t *t, ib_sla_cfg *sla) {
  static const char *const keys[] = {"priority", "first_response", "resolution",
                                     NULL};
  if (!config_setting_is_group(t))
    return fail_at(c, t, "sla '%s': each target must be a { ... } group",
                   sla->name);
  char *prio = NULL;
  if (check_keys(c, t, "target", keys) ||
      get_string(c, t, "priority", 1, "target", &prio))
    return -1;
  int p = ib_priority_parse(prio);
  free(prio);
  if (p < 0)
    return fail_at(c, config_setting_get_member(t, "priority"),
                   "sla '%s': priority must be P1..P5", sla->name);
  ib_target_cfg *tg = &sla->targets[p];
  if (tg->present)
    return fail_at(c, t, "sla '%s': P%d has two targets", sla->name, p);
  tg->present = 1;
  tg->first_response_s = tg->resolution_s = IB_DURATION_NONE;
  if (get_duration(c, t, "first_response", "target", &tg->first_response_s) ||
      get_duration(c, t, "resolution", "target", &tg->resolution_s))
    return -1;
  if (tg->first_response_s == IB_DURATION_NONE &&
      tg->resolution_s == IB_DURATION_NONE)
    return fail_at(
        c, t, "sla '%s': target P%d needs first_response and/or resolution",
        sla->name, p);
  return 0;
}

static int load_sla(ctx *c, const config_setting_t *s, ib_sla_cfg *sla) {
  static const char *const keys[] = {"name",    "sources", "kinds", "calendar",
                                     "targets", "penalty", NULL};
  static const char *const pkeys[] = {"monthly_fee",
                                      "currency",
                                      "per_response_breach_pct",
                                      "per_resolution_breach_pct",
                                      "cap_pct",
                                      NULL};
  sla->line = config_setting_source_line(s);
  if (!config_setting_is_group(s))
    return fail_at(c, s, "slas: each SLA must be a { ... } group");
  if (check_keys(c, s, "sla", keys) ||
      get_string(c, s, "name", 1, "sla", &sla->name) ||
      each_string(c, s, "sources", "sla", add_sla_source, sla) ||
      each_string(c, s, "kinds", "sla", add_kind, &sla->kinds_mask) ||
      find_calendar_key(c, s, "sla", &sla->calendar))
    return -1;
  if (config_setting_get_member(s, "kinds") == NULL)
    sla->kinds_mask = (1u << IB_KIND_COUNT) - 1;
  config_setting_t *targets = config_setting_get_member(s, "targets");
  if (targets == NULL || !config_setting_is_aggregate(targets) ||
      config_setting_length(targets) == 0)
    return fail_at(c, targets ? targets : s,
                   "sla '%s': 'targets' must list at least one { priority = "
                   "\"P1\"; first_response = \"30m\"; resolution = \"4h\"; }",
                   sla->name);
  for (int i = 0; i < config_setting_length(targets); i++)
    if (load_target(c, config_setting_get_elem(targets, (unsigned)i), sla))
      return -1;
  config_setting_t *pen = config_setting_get_member(s, "penalty");
  if (pen) {
    ib_penalty_cfg *p = &sla->penalty;
    if (!config_setting_is_group(pen))
      return fail_at(c, pen, "sla '%s': penalty must be a group", sla->name);
    p->present = 1;
    p->cap_pct = 100.0;
    if (check_keys(c, pen, "penalty", pkeys) ||
        get_number(c, pen, "monthly_fee", 1, "penalty", &p->monthly_fee) ||
        get_string(c, pen, "currency", 0, "penalty", &p->currency) ||
        get_number(c, pen, "per_response_breach_pct", 0, "penalty",
                   &p->per_response_breach_pct) ||
        get_number(c, pen, "per_resolution_breach_pct", 0, "penalty",
                   &p->per_resolution_breach_pct) ||
        get_number(c, pen, "cap_pct", 0, "penalty", &p->cap_pct))
      return -1;
    if (p->currency == NULL && (p->currency = strdup("EUR")) == NULL)
      return fail_at(c, pen, "out of memory");
  }
  return 0;
}

/* ---- availability ---- */

static int load_availability(ctx *c, const config_setting_t *s,
                             ib_availability_cfg *a) {
  static const char *const keys[] = {
      "service", "target_pct",        "calendar",     "monthly_fee", "currency",
      "credit",  "count_degradation", "from_tickets", NULL};
  static const char *const ftkeys[] = {"kinds", "priorities", NULL};
  a->line = config_setting_source_line(s);
  if (!config_setting_is_group(s))
    return fail_at(c, s, "availability: each entry must be a { ... } group");
  char *credit = NULL;
  if (check_keys(c, s, "availability", keys) ||
      get_string(c, s, "service", 1, "availability", &a->service) ||
      get_number(c, s, "target_pct", 1, "availability", &a->target_pct) ||
      find_calendar_key(c, s, "availability", &a->calendar) ||
      get_number(c, s, "monthly_fee", 0, "availability", &a->monthly_fee) ||
      get_string(c, s, "currency", 0, "availability", &a->currency) ||
      get_bool(c, s, "count_degradation", "availability",
               &a->count_degradation) ||
      get_string(c, s, "credit", 0, "availability", &credit))
    return -1;
  if (a->target_pct < 0 || a->target_pct > 100)
    return fail_at(c, config_setting_get_member(s, "target_pct"),
                   "availability '%s': target_pct must be between 0 and 100",
                   a->service);
  if (credit) {
    int ok = strcmp(credit, "proportional") == 0 || strcmp(credit, "none") == 0;
    a->has_credit = strcmp(credit, "proportional") == 0;
    free(credit);
    if (!ok)
      return fail_at(c, config_setting_get_member(s, "credit"),
                     "availability '%s': credit must be \"proportional\" or "
                     "\"none\"",
                     a->service);
  }
  if (a->currency == NULL && (a->currency = strdup("EUR")) == NULL)
    return fail_at(c, s, "out of memory");
  config_setting_t *ft = config_setting_get_member(s, "from_tickets");
  if (ft) {
    if (!config_setting_is_group(ft))
      return fail_at(c, ft, "availability '%s': from_tickets must be a group",
                     a->service);
    a->from_tickets = 1;
    if (check_keys(c, ft, "from_tickets", ftkeys) ||
        each_string(c, ft, "kinds", "from_tickets", add_kind,
                    &a->ft_kinds_mask) ||
        each_string(c, ft, "priorities", "from_tickets", add_priority,
                    &a->ft_priorities_mask))
      return -1;
    if (config_setting_get_member(ft, "kinds") == NULL)
      a->ft_kinds_mask = (1u << IB_KIND_COUNT) - 1;
    if (config_setting_get_member(ft, "priorities") == NULL)
      a->ft_priorities_mask = 0x3eu; /* P1..P5 */
  }
  return 0;
}

/* ---- alerts (SPEC §10) ---- */

/* The keys a rule type takes besides name, type and notify. */
enum {
  K_SLA = 1u << 0,
  K_KPI = 1u << 1,
  K_WITHIN = 1u << 2,
  K_BELOW_PCT = 1u << 3,
  K_SERVICE = 1u << 4,
  K_CONSUMED_PCT = 1u << 5,
  K_AFTER = 1u << 6,
  K_SOURCES = 1u << 7,
  K_COUNT = 8
};
static const char *const rule_keys[K_COUNT] = {
    "sla",     "kpi",          "within", "below_pct",
    "service", "consumed_pct", "after",  "sources"};

typedef struct rule_type {
  const char *name;
  unsigned required, optional; /* K_* masks */
} rule_type;

/* One row per ib_alert_type; alerts.c evaluates them in the same order. */
static const rule_type rule_types[IB_ALERT_TYPE_COUNT] = {
    [IB_ALERT_TICKET_AT_RISK] = {"ticket_at_risk", K_SLA | K_WITHIN, 0},
    [IB_ALERT_COMPLIANCE_BELOW] = {"compliance_below",
                                   K_SLA | K_KPI | K_BELOW_PCT, 0},
    [IB_ALERT_AVAILABILITY_BUDGET] = {"availability_budget",
                                      K_SERVICE | K_CONSUMED_PCT, 0},
    [IB_ALERT_SOURCE_STALE] = {"source_stale", K_AFTER, K_SOURCES},
    [IB_ALERT_LATE_CHANGES] = {"late_changes", 0, 0},
};

const char *ib_alert_type_name(ib_alert_type t) {
  return (unsigned)t < IB_ALERT_TYPE_COUNT ? rule_types[t].name : "";
}

static int valid_env_name(const char *t) {
  if (!isalpha((unsigned char)*t) && *t != '_') return 0;
  for (; *t; t++)
    if (!isalnum((unsigned char)*t) && *t != '_') return 0;
  return 1;
}

static int load_webhook(ctx *c, const config_setting_t *s, ib_webhook_cfg *w,
                        const ib_webhook_cfg *earlier, size_t n_earlier) {
  static const char *const keys[] = {"name", "url", "format", "token_env",
                                     NULL};
  w->line = config_setting_source_line(s);
  if (!config_setting_is_group(s))
    return fail_at(c, s,
                   "alerts.webhooks: each webhook must be a { name = ...; "
                   "url = ...; } group");
  char *format = NULL;
  if (check_keys(c, s, "webhook", keys) ||
      get_string(c, s, "name", 1, "webhook", &w->name) ||
      get_string(c, s, "url", 1, "webhook", &w->url) ||
      get_string(c, s, "format", 0, "webhook", &format) ||
      get_string(c, s, "token_env", 0, "webhook", &w->token_env))
    goto fail;
  if (w->name[0] == '\0') {
    fail_at(c, s, "webhook: 'name' must not be empty");
    goto fail;
  }
  for (size_t i = 0; i < n_earlier; i++)
    if (strcmp(earlier[i].name, w->name) == 0) {
      fail_at(c, s, "webhook '%s' is defined twice (first at line %d)", w->name,
              earlier[i].line);
      goto fail;
    }
  char why[256];
  if (ib_http_check_url(w->url, why, sizeof why) != 0) {
    fail_at(c, config_setting_get_member(s, "url"), "webhook '%s': url %s",
            w->name, why);
    goto fail;
  }
  w->format = IB_WEBHOOK_JSON;
  if (format != NULL) {
    if (strcmp(format, "slack") == 0)
      w->format = IB_WEBHOOK_SLACK;
    else if (strcmp(format, "teams") == 0)
      w->format = IB_WEBHOOK_TEAMS;
    else if (strcmp(format, "json") != 0) {
      fail_at(c, config_setting_get_member(s, "format"),
              "webhook '%s': format must be \"json\", \"slack\" or \"teams\"",
              w->name);
      goto fail;
    }
  }
  if (w->token_env != NULL && !valid_env_name(w->token_env)) {
    fail_at(c, config_setting_get_member(s, "token_env"),
            "webhook '%s': token_env names an environment variable (letters, "
            "digits, '_'), e.g. \"OPS_HOOK_TOKEN\"; never write the token "
            "itself here",
            w->name);
    goto fail;
  }
  free(format);
  return 0;
fail:
  free(format);
  return -1;
}

static int required_duration(ctx *c, const config_setting_t *s, const char *key,
                             const char *rule, int64_t *out) {
  if (config_setting_get_member(s, key) == NULL)
    return fail_at(c, s, "rule '%s': missing required key '%s'", rule, key);
  char what[200];
  snprintf(what, sizeof what, "rule '%s'", rule);
  return get_duration(c, s, key, what, out);
}

static int rule_pct(ctx *c, const config_setting_t *s, const char *key,
                    const char *rule, double *out) {
  char what[200];
  snprintf(what, sizeof what, "rule '%s'", rule);
  if (get_number(c, s, key, 1, what, out)) return -1;
  if (!(*out >= 0 && *out <= 100))
    return fail_at(c, config_setting_get_member(s, key),
                   "rule '%s': %s must be between 0 and 100", rule, key);
  return 0;
}

/* Appends index idx to (*v, *n); -1 on ENOMEM. */
static int push_index(size_t **v, size_t *n, size_t idx) {
  size_t *grown = realloc(*v, (*n + 1) * sizeof *grown);
  if (grown == NULL) return -1;
  *v = grown;
  grown[(*n)++] = idx;
  return 0;
}

typedef struct rule_ctx {
  ib_alert_rule_cfg *rule;
  const ib_alerts_cfg *alerts;
} rule_ctx;

static int add_rule_source(ctx *c, const config_setting_t *e, const char *t,
                           void *arg) {
  ib_alert_rule_cfg *r = ((rule_ctx *)arg)->rule;
  int idx = ib_config_find_source(c->cfg, t);
  if (idx < 0)
    return fail_at(c, e, "rule '%s': unknown source '%s'", r->name, t);
  return push_index(&r->sources, &r->n_sources, (size_t)idx)
             ? fail_at(c, e, "out of memory")
             : 0;
}

static int add_rule_notify(ctx *c, const config_setting_t *e, const char *t,
                           void *arg) {
  rule_ctx *rc = arg;
  for (size_t i = 0; i < rc->alerts->n_webhooks; i++)
    if (strcmp(rc->alerts->webhooks[i].name, t) == 0) {
      for (size_t k = 0; k < rc->rule->n_notify; k++)
        if (rc->rule->notify[k] == i)
          return fail_at(c, e, "rule '%s': webhook '%s' is listed twice",
                         rc->rule->name, t);
      return push_index(&rc->rule->notify, &rc->rule->n_notify, i)
                 ? fail_at(c, e, "out of memory")
                 : 0;
    }
  return fail_at(c, e,
                 "rule '%s': notify names webhook '%s', which alerts.webhooks "
                 "does not define",
                 rc->rule->name, t);
}

static int load_rule(ctx *c, const config_setting_t *s, ib_alert_rule_cfg *r,
                     const ib_alerts_cfg *alerts) {
  const char *keys[K_COUNT + 4] = {"name", "type", "notify"};
  r->line = config_setting_source_line(s);
  if (!config_setting_is_group(s))
    return fail_at(c, s,
                   "alerts.rules: each rule must be a { name = ...; type = "
                   "...; } group");
  char *type = NULL, *text = NULL;
  if (get_string(c, s, "name", 1, "rule", &r->name) ||
      get_string(c, s, "type", 1, "rule", &type))
    goto fail;
  if (r->name[0] == '\0') {
    fail_at(c, s, "rule: 'name' must not be empty");
    goto fail;
  }
  for (size_t i = 0; alerts->rules + i != r; i++)
    if (strcmp(alerts->rules[i].name, r->name) == 0) {
      fail_at(c, s, "rule '%s' is defined twice (first at line %d)", r->name,
              alerts->rules[i].line);
      goto fail;
    }
  int t;
  for (t = 0; t < IB_ALERT_TYPE_COUNT; t++)
    if (strcmp(rule_types[t].name, type) == 0) break;
  if (t == IB_ALERT_TYPE_COUNT) {
    fail_at(c, config_setting_get_member(s, "type"),
            "rule '%s': unknown rule type '%s' (use ticket_at_risk, "
            "compliance_below, availability_budget, source_stale or "
            "late_changes)",
            r->name, type);
    goto fail;
  }
  r->type = (ib_alert_type)t;
  unsigned want = rule_types[t].required,
           allowed = want | rule_types[t].optional;
  size_t nk = 3;
  for (int k = 0; k < K_COUNT; k++)
    if (allowed & (1u << k)) keys[nk++] = rule_keys[k];
  keys[nk] = NULL;
  char what[200];
  snprintf(what, sizeof what, "rule '%.80s' (type %s)", r->name,
           rule_types[t].name);
  if (check_keys(c, s, what, keys)) goto fail;
  if (want & K_SLA) {
    if (get_string(c, s, "sla", 1, "rule", &text)) goto fail;
    size_t k;
    for (k = 0; k < c->cfg->n_slas; k++)
      if (strcmp(c->cfg->slas[k].name, text) == 0) break;
    if (k == c->cfg->n_slas) {
      fail_at(c, config_setting_get_member(s, "sla"),
              "rule '%s': unknown sla '%s' (see slas = ( ... ))", r->name,
              text);
      goto fail;
    }
    r->sla = k;
    free(text);
    text = NULL;
  }
  if (want & K_KPI) {
    if (get_string(c, s, "kpi", 1, "rule", &text)) goto fail;
    if (strcmp(text, "first_response") == 0)
      r->kpi = IB_ALERT_KPI_FIRST_RESPONSE;
    else if (strcmp(text, "resolution") == 0)
      r->kpi = IB_ALERT_KPI_RESOLUTION;
    else {
      fail_at(c, config_setting_get_member(s, "kpi"),
              "rule '%s': kpi must be \"first_response\" or \"resolution\"",
              r->name);
      goto fail;
    }
    free(text);
    text = NULL;
  }
  if (want & K_SERVICE) {
    if (get_string(c, s, "service", 1, "rule", &text)) goto fail;
    size_t k;
    for (k = 0; k < c->cfg->n_availability; k++)
      if (strcmp(c->cfg->availability[k].service, text) == 0) break;
    if (k == c->cfg->n_availability) {
      fail_at(c, config_setting_get_member(s, "service"),
              "rule '%s': unknown service '%s' (see availability = ( ... ))",
              r->name, text);
      goto fail;
    }
    r->service = k;
    free(text);
    text = NULL;
  }
  if (((want & K_WITHIN) &&
       required_duration(c, s, "within", r->name, &r->duration_s)) ||
      ((want & K_AFTER) &&
       required_duration(c, s, "after", r->name, &r->duration_s)) ||
      ((want & K_BELOW_PCT) && rule_pct(c, s, "below_pct", r->name, &r->pct)) ||
      ((want & K_CONSUMED_PCT) &&
       rule_pct(c, s, "consumed_pct", r->name, &r->pct)))
    goto fail;
  rule_ctx rc = {r, alerts};
  if ((allowed & K_SOURCES) &&
      each_string(c, s, "sources", "rule", add_rule_source, &rc))
    goto fail;
  if (each_string(c, s, "notify", "rule", add_rule_notify, &rc)) goto fail;
  free(type);
  return 0;
fail:
  free(type);
  free(text);
  return -1;
}

static int load_alerts(ctx *c, config_setting_t *a) {
  static const char *const keys[] = {"webhooks", "repeat", "rules", NULL};
  ib_alerts_cfg *al = &c->cfg->alerts;
  al->repeat_s = IB_ALERT_DEFAULT_REPEAT_S;
  if (!config_setting_is_group(a))
    return fail_at(c, a,
                   "alerts must be a group: alerts = { webhooks = ( ... ); "
                   "rules = ( ... ); };");
  if (check_keys(c, a, "alerts", keys) ||
      get_duration(c, a, "repeat", "alerts", &al->repeat_s))
    return -1;
  static const char *const lists[] = {"webhooks", "rules"};
  for (int which = 0; which < 2; which++) {
    config_setting_t *list = config_setting_get_member(a, lists[which]);
    if (list == NULL) continue;
    if (!config_setting_is_list(list) && !config_setting_is_array(list))
      return fail_at(c, list, "alerts.%s must be a list: %s = ( { ... } );",
                     lists[which], lists[which]);
    int len = config_setting_length(list);
    if (len == 0) continue;
    if (which == 0) {
      al->webhooks = calloc((size_t)len, sizeof *al->webhooks);
      if (al->webhooks == NULL) return fail_at(c, list, "out of memory");
    } else {
      al->rules = calloc((size_t)len, sizeof *al->rules);
      if (al->rules == NULL) return fail_at(c, list, "out of memory");
    }
    for (int i = 0; i < len; i++) {
      config_setting_t *e = config_setting_get_elem(list, (unsigned)i);
      if (which == 0) {
        al->n_webhooks = (size_t)i + 1;
        if (load_webhook(c, e, &al->webhooks[i], al->webhooks, (size_t)i))
          return -1;
      } else {
        al->n_rules = (size_t)i + 1;
        if (load_rule(c, e, &al->rules[i], al)) return -1;
      }
    }
  }
  return 0;
}

/* ---- top level ---- */

typedef int (*load_fn)(ctx *c, config_setting_t *s, void *item);

static int load_list(ctx *c, const char *key, void **items, size_t *n,
                     size_t size, load_fn fn) {
  config_setting_t *list = config_lookup(c->cfg->lc, key);
  if (list == NULL) return 0;
  if (!config_setting_is_list(list) && !config_setting_is_array(list))
    return fail_at(c, list, "'%s' must be a list: %s = ( { ... }, { ... } );",
                   key, key);
  int len = config_setting_length(list);
  if (len == 0) return 0;
  *items = calloc((size_t)len, size);
  if (*items == NULL) return fail_at(c, list, "out of memory");
  for (int i = 0; i < len; i++) {
    *n = (size_t)i + 1;
    if (fn(c, config_setting_get_elem(list, (unsigned)i),
           (char *)*items + (size_t)i * size))
      return -1;
  }
  return 0;
}

static int load_cal_fn(ctx *c, config_setting_t *s, void *item) {
  if (load_calendar(c, s, item)) return -1;
  const ib_calendar_cfg *cal = item;
  for (size_t i = 0; c->cfg->calendars + i != cal; i++)
    if (strcmp(c->cfg->calendars[i].name, cal->name) == 0)
      return fail_at(c, s, "calendar '%s' is defined twice (first at line %d)",
                     cal->name, c->cfg->calendars[i].line);
  return 0;
}
static int load_src_fn(ctx *c, config_setting_t *s, void *item) {
  if (load_source(c, s, item)) return -1;
  const ib_source_cfg *src = item;
  for (size_t i = 0; c->cfg->sources + i != src; i++)
    if (strcmp(c->cfg->sources[i].name, src->name) == 0)
      return fail_at(c, s, "source '%s' is defined twice (first at line %d)",
                     src->name, c->cfg->sources[i].line);
  return 0;
}
static int load_sla_fn(ctx *c, config_setting_t *s, void *item) {
  if (load_sla(c, s, item)) return -1;
  const ib_sla_cfg *sla = item;
  for (size_t i = 0; c->cfg->slas + i != sla; i++)
    if (strcmp(c->cfg->slas[i].name, sla->name) == 0)
      return fail_at(c, s, "sla '%s' is defined twice (first at line %d)",
                     sla->name, c->cfg->slas[i].line);
  return 0;
}
static int load_av_fn(ctx *c, config_setting_t *s, void *item) {
  return load_availability(c, s, item);
}

/* A relative path written in the configuration names a place beside the
 * configuration file, not in whatever folder the command runs from:
 * *value (owned) is replaced by <folder of file>/<value>. -1 on ENOMEM. */
static int resolve_beside(const char *file, char **value) {
  if ((*value)[0] == '/' || (*value)[0] == '\0') return 0;
  const char *slash = strrchr(file, '/');
  if (slash == NULL) return 0; /* the file is in the working folder */
  int dirlen = (int)(slash - file) + (slash == file);
  char *joined = NULL;
  if (asprintf(&joined, "%.*s/%s", dirlen, file, *value) < 0) return -1;
  free(*value);
  *value = joined;
  return 0;
}

ib_config *ib_config_load(const char *path, char *err, size_t errlen) {
  static const char *const keys[] = {"store",        "timezone", "plugin_dir",
                                     "calendars",    "sources",  "slas",
                                     "availability", "alerts",   NULL};
  ib_config *cfg = calloc(1, sizeof *cfg);
  config_t *lc = calloc(1, sizeof *lc);
  if (cfg == NULL || lc == NULL) {
    snprintf(err, errlen, "%s: out of memory", path);
    free(cfg);
    free(lc);
    return NULL;
  }
  config_init(lc);
  cfg->lc = lc;
  ctx c = {cfg, err, errlen};
  if ((cfg->file = strdup(path)) == NULL) goto nomem;
  /* Checked before libconfig reads the file: a FIFO would block forever
   * and a multi-megabyte file takes minutes to parse. O_NONBLOCK keeps the
   * open of a FIFO from blocking. libconfig then reads the path itself
   * (config_read_file), which is what names the file in its settings for
   * "file:line" messages; the configuration is the operator's own file, so
   * the short window between this check and that read is not a trust
   * boundary, only a guard against mistakes. */
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  struct stat sb;
  if (fd < 0) {
    snprintf(err, errlen,
             "%s: cannot read the configuration (%m); give one with -c FILE "
             "or ITSM_BRIDGE_CONFIG",
             path);
    goto fail;
  }
  int stat_ok = fstat(fd, &sb) == 0;
  close(fd);
  if (!stat_ok || !S_ISREG(sb.st_mode)) {
    snprintf(err, errlen,
             "%s: the configuration is not a regular file (a FIFO, device or "
             "folder); give a regular file with -c FILE",
             path);
    goto fail;
  }
  if (sb.st_size > IB_CONFIG_MAX_BYTES) {
    snprintf(err, errlen,
             "%s: the configuration is %lld bytes, more than the %d bytes "
             "(1 MiB) allowed; is it the right file?",
             path, (long long)sb.st_size, IB_CONFIG_MAX_BYTES);
    goto fail;
  }
  int read_ok = config_read_file(lc, path);
  if (read_ok != CONFIG_TRUE) {
    snprintf(err, errlen, "%s:%d: %s",
             config_error_file(lc) ? config_error_file(lc) : path,
             config_error_line(lc), config_error_text(lc));
    goto fail;
  }
  if (check_number_literals(&c, path)) goto fail;
  config_setting_t *root = config_root_setting(lc);
  if (config_setting_length(root) == 0) {
    snprintf(err, errlen,
             "%s: the configuration is empty; start from "
             "config/examples/providers.cfg (sources, slas, calendars)",
             path);
    goto fail;
  }
  if (check_keys(&c, root, "the configuration", keys)) goto fail;
  if (config_lookup(lc, "timezone") &&
      get_string(&c, root, "timezone", 0, "configuration", &cfg->timezone))
    goto fail;
  if (cfg->timezone == NULL && (cfg->timezone = strdup("UTC")) == NULL)
    goto nomem;
  if (!ib_tz_valid(cfg->timezone)) {
    fail_at(&c, config_lookup(lc, "timezone"), "unknown time zone '%s'",
            cfg->timezone);
    goto fail;
  }
  if (get_string(&c, root, "plugin_dir", 0, "configuration", &cfg->plugin_dir))
    goto fail;
  if (cfg->plugin_dir && resolve_beside(path, &cfg->plugin_dir)) goto nomem;
  config_setting_t *store = config_lookup(lc, "store");
  if (store) {
    static const char *const skeys[] = {"path", "url", NULL};
    if (!config_setting_is_group(store)) {
      fail_at(&c, store,
              "store must be a group: store = { path = \"var/bridge.db\"; };");
      goto fail;
    }
    if (check_keys(&c, store, "store", skeys) ||
        get_string(&c, store, "path", 0, "store", &cfg->store.path) ||
        get_string(&c, store, "url", 0, "store", &cfg->store.url))
      goto fail;
    if (cfg->store.path && cfg->store.url) {
      fail_at(&c, store,
              "store: give either path (SQLite) or url (PostgreSQL), not both");
      goto fail;
    }
  }
  if (cfg->store.path == NULL && cfg->store.url == NULL &&
      (cfg->store.path = strdup("var/bridge.db")) == NULL)
    goto nomem;
  if (load_list(&c, "calendars", (void **)&cfg->calendars, &cfg->n_calendars,
                sizeof *cfg->calendars, load_cal_fn) ||
      load_list(&c, "sources", (void **)&cfg->sources, &cfg->n_sources,
                sizeof *cfg->sources, load_src_fn) ||
      load_list(&c, "slas", (void **)&cfg->slas, &cfg->n_slas,
                sizeof *cfg->slas, load_sla_fn) ||
      load_list(&c, "availability", (void **)&cfg->availability,
                &cfg->n_availability, sizeof *cfg->availability, load_av_fn))
    goto fail;
  cfg->alerts.repeat_s = IB_ALERT_DEFAULT_REPEAT_S;
  config_setting_t *alerts = config_lookup(lc, "alerts");
  if (alerts && load_alerts(&c, alerts)) goto fail;
  return cfg;
nomem:
  snprintf(err, errlen, "%s: out of memory", path);
fail:
  ib_config_free(cfg);
  return NULL;
}

void ib_config_free(ib_config *cfg) {
  if (cfg == NULL) return;
  for (size_t i = 0; i < cfg->n_calendars; i++) {
    free(cfg->calendars[i].name);
    free(cfg->calendars[i].timezone);
    free(cfg->calendars[i].holidays);
  }
  free(cfg->calendars);
  for (size_t i = 0; i < cfg->n_sources; i++) {
    free(cfg->sources[i].name);
    free(cfg->sources[i].plugin);
    free(cfg->sources[i].timezone);
  }
  free(cfg->sources);
  for (size_t i = 0; i < cfg->n_slas; i++) {
    ib_sla_cfg *s = &cfg->slas[i];
    free(s->name);
    for (size_t j = 0; j < s->n_sources; j++) free(s->sources[j]);
    free(s->sources);
    free(s->penalty.currency);
  }
  free(cfg->slas);
  for (size_t i = 0; i < cfg->n_availability; i++) {
    free(cfg->availability[i].service);
    free(cfg->availability[i].currency);
  }
  free(cfg->availability);
  for (size_t i = 0; i < cfg->alerts.n_webhooks; i++) {
    free(cfg->alerts.webhooks[i].name);
    free(cfg->alerts.webhooks[i].url);
    free(cfg->alerts.webhooks[i].token_env);
  }
  free(cfg->alerts.webhooks);
  for (size_t i = 0; i < cfg->alerts.n_rules; i++) {
    free(cfg->alerts.rules[i].name);
    free(cfg->alerts.rules[i].sources);
    free(cfg->alerts.rules[i].notify);
  }
  free(cfg->alerts.rules);
  free(cfg->file);
  free(cfg->timezone);
  free(cfg->plugin_dir);
  free(cfg->store.path);
  free(cfg->store.url);
  if (cfg->lc) {
    config_destroy(cfg->lc);
    free(cfg->lc);
  }
  free(cfg);
}

int ib_config_find_calendar(const ib_config *cfg, const char *name) {
  for (size_t i = 0; i < cfg->n_calendars; i++)
    if (cfg->calendars[i].name && strcmp(cfg->calendars[i].name, name) == 0)
      return (int)i;
  return -1;
}

int ib_config_find_source(const ib_config *cfg, const char *name) {
  for (size_t i = 0; i < cfg->n_sources; i++)
    if (cfg->sources[i].name && strcmp(cfg->sources[i].name, name) == 0)
      return (int)i;
  return -1;
}
