/*
 * export_openslo.c -- `export --format openslo`: the configured objectives
 * as OpenSLO v1 documents (one YAML stream, "---" between documents) for
 * SLO tools that read that format. A Service per availability service and
 * per SLA; an SLO per availability entry (share of service time up) and
 * per ticket SLA target (priority x first response/resolution: share of
 * tickets met), each calendar-month aligned in the configuration's
 * timezone, with a ratioMetric indicator whose queries read the gauges of
 * `export --format openmetrics`. What OpenSLO cannot express (the target
 * duration, the business calendar, holidays, pauses) goes into
 * metadata.annotations under the "itsm-bridge/" prefix. Every configuration
 * string goes through export_yaml.h's quoting. Must not compute KPIs nor
 * read the store.
 */
#define _GNU_SOURCE
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "export.h"
#include "export_file.h"
#include "export_rows.h"
#include "export_yaml.h"
#include "tz.h"

#define API_VERSION "openslo/v1"
#define ANN "itsm-bridge/"
#define NAME_MAX_LEN 63 /* RFC 1123 label, OpenSLO's minimum support */
#define SLUG_MAX_LEN 36 /* + "-p1-first-response-999-sli" <= 63 */

/* ---- object names ------------------------------------------------------- */

/* The names already used in the stream: OpenSLO names are unique per kind
 * and we derive them from free-form configuration strings. */
typedef struct names {
  char (*v)[NAME_MAX_LEN + 1]; /* owned */
  size_t n, cap;
} names;

static int names_has(const names *ns, const char *s) {
  for (size_t k = 0; k < ns->n; k++)
    if (!strcmp(ns->v[k], s)) return 1;
  return 0;
}

/* Lowercase ASCII letters and digits of s, everything else one '-', no
 * '-' at either end, at most SLUG_MAX_LEN; `fallback` when nothing is
 * left. */
static void slug(const char *s, const char *fallback, char *out) {
  size_t n = 0;
  for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
    if (n == SLUG_MAX_LEN) break;
    unsigned char c = *p;
    if (c >= 'A' && c <= 'Z') c = (unsigned char)(c - 'A' + 'a');
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
      out[n++] = (char)c;
    else if (n > 0 && out[n - 1] != '-')
      out[n++] = '-';
  }
  while (n > 0 && out[n - 1] == '-') n--;
  out[n] = '\0';
  if (n == 0) snprintf(out, SLUG_MAX_LEN + 1, "%s", fallback);
}

/* A unique name "<slug(base)><suffix>" ("-2", "-3", ... appended when
 * taken) into out (NAME_MAX_LEN + 1 bytes). -1 on ENOMEM. */
static int unique_name(names *ns, const char *base, const char *fallback,
                       const char *suffix, char *out) {
  char s[SLUG_MAX_LEN + 1];
  slug(base, fallback, s);
  snprintf(out, NAME_MAX_LEN + 1, "%s%s", s, suffix);
  for (int k = 2; names_has(ns, out) && k < 1000; k++)
    snprintf(out, NAME_MAX_LEN + 1, "%s%s-%d", s, suffix, k);
  if (ns->n == ns->cap) {
    size_t cap = ns->cap ? ns->cap * 2 : 16;
    void *v = realloc(ns->v, cap * sizeof *ns->v);
    if (v == NULL) return -1;
    ns->v = v;
    ns->cap = cap;
  }
  snprintf(ns->v[ns->n++], NAME_MAX_LEN + 1, "%s", out);
  return 0;
}

/* ---- text built in memory, then quoted ---------------------------------- */

typedef struct text {
  char *buf; /* owned */
  size_t len;
  FILE *m;
} text;

static int text_open(text *t) {
  memset(t, 0, sizeof *t);
  t->m = open_memstream(&t->buf, &t->len);
  return t->m ? 0 : -1;
}

/* Closes the stream and writes the text as a YAML string; frees it. */
static int text_put(FILE *out, text *t) {
  int rc = fclose(t->m) == 0 ? 0 : -1;
  t->m = NULL;
  if (rc == 0) ib_yaml_put_string(out, t->buf);
  free(t->buf);
  t->buf = NULL;
  return rc;
}

/* ---- what OpenSLO cannot say: annotations ------------------------------- */

static void ann_string(FILE *out, const char *key, const char *value) {
  fprintf(out, "    " ANN "%s: ", key);
  ib_yaml_put_string(out, value);
  fputc('\n', out);
}

static int ann_calendar(FILE *out, const ib_calendar_cfg *cal) {
  static const char *const days[] = {"mon", "tue", "wed", "thu",
                                     "fri", "sat", "sun"};
  ann_string(out, "calendar", cal->name);
  ann_string(out, "calendar-timezone", cal->timezone ? cal->timezone : "UTC");
  text t;
  if (text_open(&t) != 0) return -1;
  if (!cal->has_hours) fputs("always open", t.m);
  for (int d = 0; cal->has_hours && d < 7; d++) {
    const ib_day_hours *h = &cal->week[d];
    fprintf(t.m, "%s%s ", d ? "; " : "", days[d]);
    if (h->n == 0) fputs("closed", t.m);
    for (int k = 0; k < h->n; k++)
      fprintf(t.m, "%s%02d:%02d-%02d:%02d", k ? "," : "",
              h->ranges[k].start_min / 60, h->ranges[k].start_min % 60,
              h->ranges[k].end_min / 60, h->ranges[k].end_min % 60);
  }
  fputs("    " ANN "business-hours: ", out);
  if (text_put(out, &t) != 0) return -1;
  fputc('\n', out);
  if (text_open(&t) != 0) return -1;
  for (size_t k = 0; k < cal->n_holidays; k++) {
    int32_t v = cal->holidays[k];
    fprintf(t.m, "%s%04d-%02d-%02d", k ? "," : "", v / 10000, v / 100 % 100,
            v % 100);
  }
  fputs("    " ANN "holidays: ", out);
  if (text_put(out, &t) != 0) return -1;
  fputc('\n', out);
  return 0;
}

static int sla_has_source(const ib_sla_cfg *s, const char *name) {
  if (s->n_sources == 0) return 1;
  for (size_t k = 0; k < s->n_sources; k++)
    if (!strcmp(s->sources[k], name)) return 1;
  return 0;
}

/* "source: status|status; ..." for the SLA's sources that declare the
 * statuses their plugin reads as pauses (option pause_statuses). */
static int ann_pause_statuses(FILE *out, const ib_config *cfg,
                              const ib_sla_cfg *s) {
  text t;
  if (text_open(&t) != 0) return -1;
  int first = 1;
  for (size_t k = 0; k < cfg->n_sources; k++) {
    const ib_source_cfg *src = &cfg->sources[k];
    if (!sla_has_source(s, src->name) || src->setting == NULL) continue;
    config_setting_t *ps = config_setting_get_member(
        (config_setting_t *)src->setting, "pause_statuses");
    if (ps == NULL || !config_setting_is_aggregate(ps)) continue;
    fprintf(t.m, "%s%s:", first ? "" : "; ", src->name);
    first = 0;
    for (int i = 0; i < config_setting_length(ps); i++) {
      const char *v = config_setting_get_string_elem(ps, i);
      fprintf(t.m, "%s%s", i ? "|" : " ", v ? v : "");
    }
  }
  fputs("    " ANN "pause-statuses: ", out);
  if (text_put(out, &t) != 0) return -1;
  fputc('\n', out);
  return 0;
}

/* ---- documents ---------------------------------------------------------- */

static void put_service(FILE *out, const char *name, const char *display,
                        const char *what, const char *description) {
  fputs("---\napiVersion: " API_VERSION "\nkind: Service\nmetadata:\n  name: ",
        out);
  fputs(name, out);
  fputs("\n  displayName: ", out);
  ib_yaml_put_string(out, display);
  fprintf(out, "\n  annotations:\n    " ANN "kind: %s\nspec:\n  description: ",
          what);
  ib_yaml_put_string(out, description);
  fputc('\n', out);
}

typedef void (*query_fn)(FILE *out, const void *arg, int total);

static int put_query(FILE *out, const char *which, query_fn fn, const void *arg,
                     int total) {
  text t;
  if (text_open(&t) != 0) return -1;
  fn(t.m, arg, total);
  fprintf(out,
          "        %s:\n          metricSource:\n            type: "
          "Prometheus\n            spec:\n              query: ",
          which);
  if (text_put(out, &t) != 0) return -1;
  fputc('\n', out);
  return 0;
}

/* The SLO's spec after its metadata: indicator, window, objective. */
static int put_slo_spec(FILE *out, const char *service, const char *sli_name,
                        query_fn fn, const void *arg, const char *start,
                        const char *zone, double target,
                        const char *objective_name, const char *description) {
  fputs("spec:\n  description: ", out);
  ib_yaml_put_string(out, description);
  fprintf(out,
          "\n  service: %s\n  indicator:\n    metadata:\n      name: %s\n"
          "    spec:\n      ratioMetric:\n        counter: false\n",
          service, sli_name);
  if (put_query(out, "good", fn, arg, 0) != 0 ||
      put_query(out, "total", fn, arg, 1) != 0)
    return -1;
  char n[32];
  ib_export_format_num(target, 6, n, sizeof n);
  fprintf(out,
          "  timeWindow:\n    - duration: 1M\n      isRolling: false\n"
          "      calendar:\n        startTime: \"%s\"\n        timeZone: ",
          start);
  ib_yaml_put_string(out, zone);
  fputs("\n  budgetingMethod: Occurrences\n  objectives:\n    - displayName: ",
        out);
  ib_yaml_put_string(out, objective_name);
  fprintf(out, "\n      target: %s\n", n);
  return 0;
}

static void selector(FILE *out, const char *metric, const char *label,
                     const char *value, const char *extra) {
  fprintf(out, "itsm_bridge_%s{%s=", metric, label);
  ib_promql_put_string(out, value);
  if (extra != NULL) fprintf(out, ",%s", extra);
  fputc('}', out);
}

/* Availability: good = service time up, total = service time so far. */
static void query_availability(FILE *out, const void *arg, int total) {
  const char *svc = arg;
  selector(out, "availability_service_seconds", "service", svc, NULL);
  if (total) return;
  fputs(" - ", out);
  selector(out, "availability_downtime_seconds", "service", svc, NULL);
}

typedef struct ticket_slo {
  const char *sla;
  char extra[64]; /* priority="P1",kpi="resolution" */
} ticket_slo;

/* Tickets: good = met, total = met + breached. */
static void query_tickets(FILE *out, const void *arg, int total) {
  const ticket_slo *t = arg;
  selector(out, "sla_met_tickets", "sla", t->sla, t->extra);
  if (!total) return;
  fputs(" + ", out);
  selector(out, "sla_breached_tickets", "sla", t->sla, t->extra);
}

/* Seconds as "4h", "1h30m": the configuration's words. */
static void duration_words(int64_t s, char *buf, size_t len) {
  static const struct {
    int64_t unit;
    char c;
  } units[] = {{86400, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}};
  size_t n = 0;
  buf[0] = '\0';
  for (size_t k = 0; k < 4; k++)
    if (s >= units[k].unit && n + 24 < len) {
      n += (size_t)snprintf(buf + n, len - n, "%lld%c",
                            (long long)(s / units[k].unit), units[k].c);
      s %= units[k].unit;
    }
  if (n == 0) snprintf(buf, len, "0s");
}

static const ib_export_threshold *compliance_threshold(const ib_export_data *d,
                                                       const char *sla,
                                                       int resolution) {
  for (size_t k = 0; k < d->n_thresholds; k++) {
    const ib_export_threshold *t = &d->thresholds[k];
    if (t->kind == IB_THRESHOLD_COMPLIANCE_BELOW &&
        t->resolution == resolution && t->target != NULL &&
        !strcmp(t->target, sla))
      return t;
  }
  return NULL;
}

typedef struct writer {
  FILE *out;
  const ib_export_data *d;
  const char *zone;
  char start[48]; /* the period's month, local "YYYY-MM-01 00:00:00" */
  names services, slos;
} writer;

static int write_availability(writer *w) {
  const ib_config *cfg = w->d->cfg;
  FILE *out = w->out;
  for (size_t k = 0; k < cfg->n_availability; k++) {
    const ib_availability_cfg *a = &cfg->availability[k];
    char svc[NAME_MAX_LEN + 1], slo[NAME_MAX_LEN + 1], sli[NAME_MAX_LEN + 8];
    /* one Service per distinct service: the services are named first, in
     * entry order, so entry j's Service is services.v[j's rank] */
    size_t rank = 0, seen = (size_t)-1;
    for (size_t j = 0; j < k && seen == (size_t)-1; j++) {
      int first = 1;
      for (size_t i = 0; i < j; i++)
        if (!strcmp(cfg->availability[i].service, cfg->availability[j].service))
          first = 0;
      if (!strcmp(cfg->availability[j].service, a->service)) seen = rank;
      rank += (size_t)first;
    }
    if (seen == (size_t)-1) {
      if (unique_name(&w->services, a->service, "service", "", svc) != 0)
        return -1;
      put_service(out, svc, a->service, "service",
                  "A service whose availability the contract commits to.");
    } else {
      snprintf(svc, sizeof svc, "%s", w->services.v[seen]);
    }
    if (unique_name(&w->slos, a->service, "service", "-availability", slo) != 0)
      return -1;
    snprintf(sli, sizeof sli, "%s-sli", slo);
    text t;
    if (text_open(&t) != 0) return -1;
    fprintf(t.m, "%s availability", a->service);
    fprintf(out,
            "---\napiVersion: " API_VERSION
            "\nkind: SLO\nmetadata:\n  name: %s\n  displayName: ",
            slo);
    if (text_put(out, &t) != 0) return -1;
    fputs("\n  annotations:\n", out);
    char pct[32];
    ib_export_format_num(a->target_pct, 6, pct, sizeof pct);
    ann_string(out, "service", a->service);
    ann_string(out, "target-pct", pct);
    if (ann_calendar(out, &cfg->calendars[a->calendar]) != 0) return -1;
    ann_string(out, "degradations-count", a->count_degradation ? "yes" : "no");
    ann_string(out, "downtime-from-tickets", a->from_tickets ? "yes" : "no");
    char objective[64];
    snprintf(objective, sizeof objective, "%s %% of service time up", pct);
    if (put_slo_spec(out, svc, sli, query_availability, a->service, w->start,
                     w->zone, a->target_pct / 100.0, objective,
                     "Share of the service's open calendar time (its "
                     "calendar's hours) not inside a counted outage, "
                     "over the calendar month.") != 0)
      return -1;
  }
  return 0;
}

static int write_sla(writer *w, const ib_sla_cfg *s) {
  const ib_config *cfg = w->d->cfg;
  FILE *out = w->out;
  char svc[NAME_MAX_LEN + 1];
  if (unique_name(&w->services, s->name, "sla", "-sla", svc) != 0) return -1;
  put_service(out, svc, s->name, "sla",
              "A ticket SLA: first-response and resolution targets per "
              "priority, in business time.");
  static const char *const kpi_names[] = {"first_response", "resolution"};
  static const char *const kpi_slugs[] = {"first-response", "resolution"};
  for (int p = 1; p <= IB_PRIORITY_MAX; p++) {
    if (!s->targets[p].present) continue;
    for (int res = 0; res < 2; res++) {
      int64_t target =
          res ? s->targets[p].resolution_s : s->targets[p].first_response_s;
      if (target == IB_DURATION_NONE) continue;
      char suffix[32], slo[NAME_MAX_LEN + 1], sli[NAME_MAX_LEN + 8];
      char words[32], secs[32];
      snprintf(suffix, sizeof suffix, "-p%d-%s", p, kpi_slugs[res]);
      if (unique_name(&w->slos, s->name, "sla", suffix, slo) != 0) return -1;
      snprintf(sli, sizeof sli, "%s-sli", slo);
      duration_words(target, words, sizeof words);
      snprintf(secs, sizeof secs, "%lld", (long long)target);
      text t;
      if (text_open(&t) != 0) return -1;
      fprintf(t.m, "%s P%d %s within %s", s->name, p,
              res ? "resolution" : "first response", words);
      fprintf(out,
              "---\napiVersion: " API_VERSION
              "\nkind: SLO\nmetadata:\n  name: %s\n  displayName: ",
              slo);
      if (text_put(out, &t) != 0) return -1;
      fputs("\n  annotations:\n", out);
      char prio[8];
      snprintf(prio, sizeof prio, "P%d", p);
      ann_string(out, "sla", s->name);
      ann_string(out, "priority", prio);
      ann_string(out, "kpi", kpi_names[res]);
      ann_string(out, "target-duration", words);
      ann_string(out, "target-seconds", secs);
      if (ann_calendar(out, &cfg->calendars[s->calendar]) != 0) return -1;
      ann_string(out, "pauses", res ? "deducted" : "not deducted");
      if (res && ann_pause_statuses(out, cfg, s) != 0) return -1;
      const ib_export_threshold *th = compliance_threshold(w->d, s->name, res);
      double objective = th ? th->pct / 100.0 : 1.0;
      char pct[32], oname[96];
      ib_export_format_num(objective * 100.0, 6, pct, sizeof pct);
      snprintf(oname, sizeof oname, "%s %% of tickets within %s", pct, words);
      if (th != NULL) {
        text r;
        if (text_open(&r) != 0) return -1;
        fprintf(r.m, "alert rule %s (compliance_below)", th->rule);
        fputs("    " ANN "objective-source: ", out);
        if (text_put(out, &r) != 0) return -1;
        fputc('\n', out);
      } else {
        ann_string(out, "objective-source",
                   "none configured: every ticket (each breach counts "
                   "against the contract)");
      }
      ticket_slo q = {s->name, ""};
      snprintf(q.extra, sizeof q.extra, "priority=\"P%d\",kpi=\"%s\"", p,
               kpi_names[res]);
      if (put_slo_spec(out, svc, sli, query_tickets, &q, w->start, w->zone,
                       objective, oname,
                       res ? "Share of the tickets resolved in the month whose "
                             "resolution time (business time, pauses "
                             "deducted) is within the target."
                           : "Share of the tickets created in the month whose "
                             "first response (business time) is within the "
                             "target.") != 0)
        return -1;
    }
  }
  return 0;
}

int ib_export_openslo(const ib_export_data *d, const char *file, char *err,
                      size_t errlen) {
  writer w;
  memset(&w, 0, sizeof w);
  w.d = d;
  w.zone = d->cfg->timezone ? d->cfg->timezone : "UTC";
  struct tm lt;
  if (ib_tz_utc_to_local(w.zone, d->kpi->from, &lt) != 0) {
    snprintf(err, errlen,
             "cannot read the period's start in timezone %s; check the "
             "configuration's timezone",
             w.zone);
    return -1;
  }
  snprintf(w.start, sizeof w.start, "%04d-%02d-01 00:00:00", lt.tm_year + 1900,
           lt.tm_mon + 1);
  ib_atomic_file f = {0};
  if (ib_atomic_open(&f, file, err, errlen) != 0) return -1;
  w.out = f.fp;
  fputs(
      "# OpenSLO v1 documents generated by itsm-bridge export --format "
      "openslo.\n# Indicators read the gauges of export --format "
      "openmetrics.\n",
      f.fp);
  if (write_availability(&w) != 0) goto fail;
  for (size_t k = 0; k < d->cfg->n_slas; k++)
    if (write_sla(&w, &d->cfg->slas[k]) != 0) goto fail;
  free(w.services.v);
  free(w.slos.v);
  return ib_atomic_commit(&f, err, errlen);
fail:
  snprintf(err, errlen, "%s: out of memory while writing the documents", file);
  ib_atomic_abort(&f);
  free(w.services.v);
  free(w.slos.v);
  return -1;
}
